"""Signals in the browser: upload a case file, follow the job, filter ranked signals, open a pair."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_overflow,
    login,
    screenshot,
)
from tests.conftest import Platform

pytestmark = pytest.mark.browser

DRUGS = ["ATORVASTATIN", "METFORMIN", "LISINOPRIL", "AMLODIPINE", "OMEPRAZOLE", "SERTRALINE"]
EVENTS = ["RHABDOMYOLYSIS", "NAUSEA", "HEADACHE", "DIZZINESS", "COUGH", "RASH", "FATIGUE"]
QUARTERS = ["2021Q1", "2021Q2", "2021Q3", "2021Q4", "2022Q1", "2022Q2"]


def write_cases(path: Path) -> Path:
    """Reports in the case format; atorvastatin-rhabdomyolysis is reported far more than chance."""
    rng = random.Random(7)
    lines = ["id,drug,event,serious,death,quarter"]
    for report in range(1, 901):
        quarter = QUARTERS[(report - 1) * len(QUARTERS) // 900]
        drug = rng.choice(DRUGS)
        event = "RHABDOMYOLYSIS" if drug == "ATORVASTATIN" and rng.random() < 0.6 else rng.choice(EVENTS[1:])
        serious = int(event == "RHABDOMYOLYSIS")
        lines.append(f"r{report},{drug},{event},{serious},0,{quarter}")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_upload_rank_filter_and_pair_trend(page: Any, platform: Platform, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    login(page, platform.admin_key, "/signals")
    page.get_by_label("Report CSV").set_input_files(str(write_cases(tmp_path / "cases.csv")))
    page.get_by_role("button", name="Score").click()
    page.locator('#run-status[data-run-status="succeeded"]').wait_for(timeout=60_000)
    rows = page.locator(".signals-table tbody tr")
    rows.first.wait_for()
    first = rows.first.inner_text()
    assert "ATORVASTATIN" in first and "RHABDOMYOLYSIS" in first  # the planted signal ranks first
    # 42 pairs of six drugs: no consistent MGPS prior, so the run says so and ranks by IC025/PRR
    assert "medium" in page.locator(".run-summary").inner_text()
    fit = page.locator("#fit-summary")
    assert fit.get_attribute("data-fit-outcome") == "no consistent optimum"
    assert "consistent convergence failed" in fit.inner_text()

    page.get_by_label("Drug").fill("metformin")
    page.get_by_role("button", name="Filter").click()
    expect(rows.filter(has_text="ATORVASTATIN")).to_have_count(0)
    filtered = rows.all_inner_texts()
    assert filtered and all("METFORMIN" in row for row in filtered)
    assert "signal(s) match" in page.locator("#signals-count").inner_text()

    page.get_by_label("Drug").fill("")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="ATORVASTATIN").first.click()
    detail = page.locator("#pair-detail")
    detail.get_by_role("heading", name="ATORVASTATIN · RHABDOMYOLYSIS").wait_for()
    chart = detail.get_by_role("img")
    assert "Cumulative information component" in chart.get_attribute("aria-labelledby") or chart.count() == 1
    assert detail.locator("svg polyline.line-ic").count() == 1
    assert detail.locator("details tbody tr").count() == len(QUARTERS)
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "signals")

    page.locator("#signal-runs a").first.click()  # the finished run was listed, and reopens by link
    page.locator('#run-status[data-run-status="succeeded"]').wait_for()
