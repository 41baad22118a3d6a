"""Evidence in the browser: the unavailable banner before the index exists, then search, votes and
drug repurposing against a real index of a small corpus (see `build_evidence_index`)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_overflow,
    build_evidence_index,
    login,
    screenshot,
)
from tests.conftest import Platform, reset_caches
from tests.unit.evidence.corpus_fixture import write_corpus

pytestmark = pytest.mark.browser


def test_banner_then_search_with_citations_and_feedback(
    page: Any, platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("hygeia.evidence.service", reason="the evidence domain is not in this build")
    login(page, platform.admin_key, "/evidence")
    banner = page.locator(".banner-unavailable")
    assert "hygeia evidence build" in banner.inner_text()  # not built yet: the reason and the fix
    assert page.get_by_role("button", name="Search").is_disabled()
    assert_accessible(page)
    screenshot(page, "evidence-unavailable")

    # the platform admin builds the index from the banner, as a job on the fixture corpus
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(tmp_path / "data"))
    reset_caches()  # the running server reads settings afresh
    write_corpus(tmp_path / "data" / "evidence")
    page.get_by_label("BM25 only (seconds; hybrid and dense search stay off)").check()
    page.get_by_role("button", name="Build the index now").click()
    page.locator('#ev-build-job[data-job-status="succeeded"]').wait_for()
    assert "Index built" in page.locator("#evidence-build").inner_text()
    page.get_by_role("link", name="Reload the page").click()
    assert page.locator(".banner-unavailable").count() == 0
    page.get_by_label("Question or terms").fill("Revatio heart failure")
    page.get_by_label("Method").select_option("bm25")
    page.get_by_role("button", name="Search").click()
    hits = page.locator("#evidence-hits > li")
    hits.first.wait_for()
    assert "Sildenafil" in page.locator("#ev-results-title + p").inner_text()  # linked entity
    link = hits.first.get_by_role("link").first
    assert link.get_attribute("href").startswith("https://")
    assert "Index built" in page.locator("#evidence-results").inner_text()

    hits.first.get_by_role("button", name="Relevant").first.click()
    hits.first.locator(".feedback-status .notice").wait_for()
    assert "Recorded as relevant" in hits.first.locator(".feedback-status").inner_text()
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "evidence")


def test_viewer_searches_but_gets_no_vote_buttons(page: Any, make_key, tmp_path: Path) -> None:
    pytest.importorskip("hygeia.evidence.service", reason="the evidence domain is not in this build")
    build_evidence_index(tmp_path)
    login(page, make_key("acme", "viewer"), "/evidence")
    page.get_by_label("Question or terms").fill("metformin")
    page.get_by_label("Method").select_option("bm25")
    page.get_by_role("button", name="Search").click()
    page.locator("#evidence-hits > li").first.wait_for()
    assert page.get_by_role("button", name="Relevant").count() == 0
    assert page.get_by_role("button", name="Rank candidates").is_disabled()
    assert page.get_by_label("Drug or disease").is_disabled()


def test_admin_ranks_candidate_indications_and_exports_the_report(
    page: Any, platform: Platform, tmp_path: Path
) -> None:
    pytest.importorskip("hygeia.evidence.service", reason="the evidence domain is not in this build")
    build_evidence_index(tmp_path)
    login(page, platform.admin_key, "/evidence")
    page.get_by_label("Candidates").fill("4")
    page.get_by_label("Drug or disease").fill("Glucophage")
    page.get_by_label("Drug or disease").press("Enter")  # the keyboard submits the form
    page.locator('#ev-repurpose-job[data-job-status="succeeded"]').wait_for()
    assert "for Metformin (DB00331)" in page.locator("#rp-title").inner_text()

    rows = page.locator("#evidence-candidates tbody tr")
    assert rows.count() == 4
    top = rows.first
    assert top.get_attribute("data-disease") == "DOID:9352"
    assert "type 2 diabetes mellitus" in top.inner_text() and "D003924" in top.inner_text()
    assert "known indication" in top.inner_text()
    citation = top.get_by_role("link").first
    assert citation.get_attribute("href").startswith("https://")
    assert citation.get_attribute("target") == "_blank"

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report (JSON)").click()
    report = json.loads(Path(download.value.path()).read_text())
    assert report["candidates"][0]["mesh_ids"] == ["D003924"]
    with page.context.expect_page() as opened:
        page.get_by_role("link", name="Open the readable report").click()
    readable = opened.value
    readable.wait_for_load_state()
    assert "Repurposing report: Metformin" in readable.locator("h1").inner_text()
    assert readable.locator("tbody tr").count() == 4
    readable.close()

    top.get_by_role("button", name=re.compile("^Plausible")).click()
    top.locator(".feedback-status .notice").wait_for()
    assert "Recorded as plausible" in top.locator(".feedback-status").inner_text()
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "evidence-repurpose")
