"""The models page in a real browser: live performance loads by itself, an analyst's outcome CSV
changes it, and a platform admin opens a release's report and promotes from it."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hygeia.core import releases
from tests.api.lifecycle.simulated import SOURCE, tox21_measured
from tests.api.web.helpers import toxicity_unavailable_reason
from tests.browser.conftest import assert_accessible, assert_no_horizontal_overflow, login, screenshot
from tests.conftest import Platform

pytestmark = pytest.mark.browser
ENDPOINT = "SR-MMP"


@pytest.fixture
def api(live_server: str, platform: Platform) -> Iterator[httpx.Client]:
    releases.forget_all()
    with httpx.Client(base_url=live_server, headers={"X-API-Key": platform.admin_key}, timeout=120) as client:
        yield client
    releases.flush()
    releases.forget_all()


def test_live_performance_outcome_upload_report_and_promote(
    page: Any, api: httpx.Client, tmp_path: Path
) -> None:
    if reason := toxicity_unavailable_reason():
        pytest.skip(reason)
    models = api.get("/api/v1/admin/models").json()
    candidate = next(m["version"] for m in models if m["name"] == "toxicity" and m["stage"] != "production")
    shadow = {"candidate_version": candidate, "mode": "shadow", "shadow_rate": 1.0}
    assert api.put("/api/v1/admin/releases/toxicity", json=shadow).status_code == 200
    measured = tox21_measured(ENDPOINT, positives=15, negatives=25)
    batch = api.post("/api/v1/toxicity/predict/batch", json={"smiles": [s for s, _ in measured]})
    assert batch.status_code == 200, batch.text
    releases.flush()
    upload = tmp_path / "outcomes.csv"
    with upload.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["prediction_id", "input", "label", "observed", "source"])
        for result, (_, y) in zip(batch.json()["results"], measured, strict=True):
            writer.writerow([result["prediction_id"], "", ENDPOINT, y, SOURCE])

    page.on("dialog", lambda dialog: dialog.accept())  # the confirm() before promoting
    login(page, api.headers["X-API-Key"], "/models")
    page.locator("#live-toxicity").get_by_text("No outcome of tenant").wait_for()
    page.get_by_label("Domain").select_option("toxicity")
    page.get_by_label("Outcomes CSV").set_input_files(str(upload))
    page.get_by_role("button", name="Upload").click()
    page.locator("#outcomes-result .notice").get_by_text("40 outcomes accepted, 0 rejected").wait_for()

    page.reload()
    row = page.locator('#live-toxicity tr[data-label="SR-MMP"]')
    row.wait_for()
    assert "ok" in row.inner_text() and "roc auc" in row.inner_text()
    page.get_by_role("button", name="Comparison report of toxicity").click()
    page.locator("#release-report").get_by_text("40 inputs answered by both versions").wait_for()
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "models")

    page.get_by_role("button", name=f"Promote {candidate} from this report").click()
    page.locator("#releases .notice").get_by_text(f"toxicity {candidate} is now in production").wait_for()
