"""Signals in the browser, behind a ranked pair: open it and read the reports (case series) and time
to onset that the run's upload holds; the run shows its alert history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import assert_accessible, assert_no_horizontal_overflow, login, screenshot
from tests.browser.test_console_signals import write_cases
from tests.conftest import Platform

pytestmark = pytest.mark.browser


def write_dated_cases(path: Path) -> Path:
    """The planted atorvastatin-rhabdomyolysis file, with start and event dates on every report."""
    lines = write_cases(path).read_text().splitlines()
    dated = [lines[0] + ",start_dt,event_dt"]
    for number, line in enumerate(lines[1:]):
        dated.append(f"{line},20210104,202101{5 + number % 20:02d}")  # onset 1 to 20 days
    path.write_text("\n".join(dated) + "\n")
    return path


def test_open_a_pair_and_read_its_cases(page: Any, platform: Platform, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    login(page, platform.admin_key, "/signals")
    page.get_by_label("Report CSV").set_input_files(str(write_dated_cases(tmp_path / "cases.csv")))
    page.get_by_label("Source name (optional)").fill("pharmacy-db")
    page.get_by_role("button", name="Score").click()
    page.locator('#run-status[data-run-status="succeeded"]').wait_for(timeout=60_000)
    changes = page.locator("#changes-body")
    expect(changes).to_contain_text("pharmacy-db")
    expect(changes).to_contain_text("every alert is new")

    page.locator(".signals-table tbody tr").first.wait_for()
    page.get_by_role("link", name="ATORVASTATIN").first.click()
    detail = page.locator("#pair-detail")
    detail.get_by_role("heading", name="ATORVASTATIN · RHABDOMYOLYSIS").wait_for()
    count = detail.locator("#cases-count")
    expect(count).to_contain_text("report(s) name both ATORVASTATIN and RHABDOMYOLYSIS")
    reports = int(count.inner_text().split(" ", 1)[0])
    rows = detail.locator(".cases-table tbody tr")
    expect(rows).to_have_count(min(reports, 25))
    assert all(row.startswith("r") for row in rows.all_inner_texts())  # report ids of the upload
    assert detail.get_by_role("link", name="Download the whole case series (CSV)").is_visible()
    if reports > 25:
        detail.get_by_role("button", name="Next cases").click()
        expect(detail.locator("#cases-count")).to_contain_text("showing 26")
    onset = detail.locator("#onset-body")
    expect(onset).to_contain_text("Median [quartiles], days")
    expect(onset.locator(".onset-table")).to_be_visible()
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "signals-cases")
