"""A retrained candidate's comparison in a real browser: a platform admin reads the card's numbers on
the models page (accessible, no horizontal overflow at phone width) and promotes it from there. The
candidate is real: the quick evidence recipe retrained with the simulated repoDB outcome stream of
tests/unit/evidence/test_retraining.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hygeia.core.registry import get_registry
from hygeia.evidence.lifecycle import LABEL
from hygeia.evidence.runtime import MODEL_NAME
from tests.browser.conftest import assert_accessible, assert_no_horizontal_overflow, login, screenshot
from tests.conftest import Platform
from tests.unit.evidence.test_retraining import quick_candidate, quick_production  # noqa: F401

pytestmark = pytest.mark.browser


def test_a_candidates_comparison_is_read_and_promoted(  # type: ignore[no-untyped-def]
    page: Any,
    platform: Platform,
    make_key,
    quick_production: Path,  # noqa: F811
) -> None:
    registry = get_registry()
    result = quick_candidate(quick_production, make_key, [])
    version, info = result["model"]["version"], result["retraining"]

    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before promoting
    login(page, platform.admin_key, "/models")
    article = page.locator(f'#candidates article[data-version="{version}"]')
    article.wait_for()
    auroc = info["held_out_split"]["auroc"]["pharmacotherapydb_dm"]
    row = article.locator('tr[data-metric="auroc · pharmacotherapydb_dm"]').inner_text()
    assert f"{auroc['production']:.4f}" in row and f"{auroc['candidate']:.4f}" in row
    text = article.inner_text()
    for name in ("production", "candidate"):
        assert f"roc auc {info['outcome_set'][name][LABEL]['metrics']['roc_auc']['value']:.4f}" in text
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    screenshot(page, "models-candidate")

    page.get_by_role("button", name=f"Promote {version} ({MODEL_NAME}) from this comparison").click()
    page.locator("#candidates .notice").get_by_text(f"{MODEL_NAME} {version} is now in production").wait_for()
    assert registry.current(MODEL_NAME)[0] == version  # type: ignore[index]
