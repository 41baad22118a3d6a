"""Dermatology in the browser: upload a real HAM10000 image, read probabilities, Grad-CAM, notice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_overflow,
    login,
    screenshot,
)
from tests.conftest import REPO_ROOT, Platform

pytestmark = pytest.mark.browser
IMAGES = REPO_ROOT.parent / "shared" / "data" / "derm" / "images"


def _capability_reason() -> str | None:
    from hygeia.web.render import domain_state

    return domain_state("dermatology")[1]


def test_upload_shows_probabilities_overlay_and_disclaimer(
    page: Any, platform: Platform, tmp_path: Path
) -> None:
    login(page, platform.admin_key, "/dermatology")
    assert "Not a diagnostic device" in page.get_by_role("note").first.inner_text()
    reason = _capability_reason()
    if reason is not None:  # no model here: the page must say why, and offer nothing to run
        assert reason in page.locator(".banner-unavailable").inner_text()
        assert page.get_by_role("button", name="Analyse").is_disabled()
        screenshot(page, "dermatology-unavailable")
        return
    images = sorted(IMAGES.glob("*.jpg"))
    if not images:
        pytest.skip(f"no dermatoscopic images under {IMAGES}")

    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("this is not a PNG")
    page.get_by_label("Dermatoscopic image").set_input_files(str(not_an_image))
    page.get_by_role("button", name="Analyse").click()
    problem = page.locator("#derm-result .problem")
    problem.wait_for()
    assert "422" in problem.inner_text()  # the service's refusal, shown in the page

    page.get_by_label("Dermatoscopic image").set_input_files(str(images[0]))
    page.get_by_role("button", name="Analyse").click()
    card = page.locator("#derm-card")
    card.wait_for(timeout=60_000)
    assert images[0].name in card.get_by_role("heading", level=2).inner_text()
    assert card.locator("#derm-prediction").inner_text().strip()
    assert card.locator("svg.chart rect").count() == 7  # one bar per class
    overlay = card.locator("#derm-overlay")
    assert overlay.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "Grad-CAM" in overlay.get_attribute("alt")
    assert "Normalised entropy" in card.inner_text()
    assert "Not a diagnostic device" in card.locator(".disclaimer").inner_text()
    assert "sha256" in card.locator(".model-ref").inner_text()
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "dermatology")
