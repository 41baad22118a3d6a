"""Toxicity in the browser: pasted and uploaded molecules, probabilities table with in-domain badges
and per-row errors, highlighted structures, CSV download; or, without a model, the banner and why."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from tests.api.web.helpers import toxicity_unavailable_reason
from tests.browser.conftest import (
    assert_accessible,
    assert_no_horizontal_overflow,
    login,
    screenshot,
)
from tests.conftest import Platform, reset_caches

pytestmark = pytest.mark.browser
BISPHENOL_A = "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"


@pytest.fixture
def without_toxicity_model(platform: Platform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's platform with no toxicity model registered and none bundled."""
    from sqlalchemy import delete

    from hygeia.core.db import system_session
    from hygeia.core.tables import ModelVersion

    with system_session() as session:
        session.execute(delete(ModelVersion).where(ModelVersion.name == "toxicity"))
    monkeypatch.setenv("HYGEIA_MODELS_DIR", str(tmp_path / "no-models"))
    reset_caches()


def _downloaded_csv(page: Any, control: Any, folder: Path) -> list[dict[str, str]]:
    """Click the control that downloads a CSV; the rows of the file the browser saved."""
    with page.expect_download() as download_info:
        control.click()
    saved = folder / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    with saved.open() as handle:
        return list(csv.DictReader(handle))


def test_unavailable_toxicity_says_why(page: Any, platform: Platform, without_toxicity_model: None) -> None:
    reason = toxicity_unavailable_reason()
    assert reason is not None and "hygeia toxicity train" in reason
    login(page, platform.admin_key, "/toxicity")
    assert reason in page.locator(".banner-unavailable").inner_text()
    assert page.get_by_role("button", name="Predict").is_disabled()
    assert_accessible(page)
    screenshot(page, "toxicity-unavailable")


def test_predict_table_structures_and_csv(page: Any, platform: Platform, tmp_path: Path) -> None:
    reason = toxicity_unavailable_reason()
    if reason is not None:
        pytest.skip(f"no toxicity model: {reason}")
    login(page, platform.admin_key, "/toxicity")
    page.get_by_label("SMILES, one molecule per line").fill(f"{BISPHENOL_A}\nnot-a-smiles")
    upload = tmp_path / "more.csv"
    upload.write_text(f"name,smiles\naspirin,{ASPIRIN}\n")
    page.get_by_label("…or a file").set_input_files(str(upload))
    page.get_by_role("button", name="Predict").click()

    table = page.locator(".tox-table")
    table.wait_for(timeout=60_000)
    rows = table.locator("tbody tr")
    assert rows.count() == 3  # one row per input, in order: pasted first, then the file
    assert BISPHENOL_A in rows.nth(0).inner_text() and ASPIRIN in rows.nth(2).inner_text()
    assert rows.nth(2).locator("td").first.inner_text() == "aspirin"  # the file's name column leads
    badge = rows.nth(0).locator(".badge")
    assert badge.inner_text() in ("in domain", "out of domain")
    assert "scaffold-CV ROC-AUC at this similarity 0." in (badge.get_attribute("title") or "")
    assert rows.nth(1).locator(".status-failed").inner_text().strip()  # the bad SMILES keeps its row
    assert rows.nth(0).locator("td.num").count() == 12
    structures = page.locator(".structure img")
    assert structures.count() == 2
    assert structures.first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "sha256" in page.locator("#tox-results .model-ref").inner_text()

    table_rows = _downloaded_csv(page, page.get_by_role("button", name="Download CSV"), tmp_path)
    assert [r["smiles"] for r in table_rows] == [BISPHENOL_A, "not-a-smiles", ASPIRIN]
    assert [r["name"] for r in table_rows] == ["", "", "aspirin"]  # the file's column comes back
    assert table_rows[1]["error"] and not table_rows[0]["error"]
    assert 0.0 <= float(table_rows[0]["NR-ER"]) <= 1.0
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "toxicity")


def test_read_across_shows_what_tox21_measured(page: Any, platform: Platform, read_across_on: None) -> None:
    """A training compound is marked as measured, with its Tox21 outcomes; a new molecule gets the
    tested compounds nearest to it, most similar first."""
    login(page, platform.admin_key, "/toxicity")
    page.get_by_label("SMILES, one molecule per line").fill("CC(=O)Nc1ccc(O)cc1.Cl\nCC(=O)Nc1ccc(OCC)cc1C")
    page.get_by_role("button", name="Predict").click()
    tables = page.locator("table.read-across")
    tables.first.wait_for(timeout=60_000)
    assert tables.count() == 2
    headings = page.locator("#tox-results h4")
    assert "a training compound: measured, not predicted" in headings.nth(0).inner_text()
    assert "training compound" not in headings.nth(1).inner_text()
    itself = tables.nth(0).locator("tbody tr").first
    assert "CC(=O)Nc1ccc(O)cc1" in itself.inner_text() and "TOX" in itself.inner_text()
    assert itself.locator("td.measured-inactive").count() == 12  # inactive in every Tox21 assay
    similarities = [float(t) for t in tables.nth(1).locator("tbody td.num").all_inner_texts()]
    assert len(similarities) == 3 and similarities == sorted(similarities, reverse=True)
    assert_no_horizontal_overflow(page)
    assert_accessible(page)
    screenshot(page, "toxicity-read-across")


def test_large_uploaded_file_runs_as_a_screen(page: Any, platform: Platform, tmp_path: Path) -> None:
    """Over the page's 1,000 molecules, an uploaded file runs as a screen the page follows to its end;
    the download is the file's own rows, ids first, with the predictions."""
    reason = toxicity_unavailable_reason()
    if reason is not None:
        pytest.skip(f"no toxicity model: {reason}")
    smiles = [ASPIRIN, BISPHENOL_A, "not-a-smiles"] * 334  # 1,002
    upload = tmp_path / "library.csv"
    upload.write_text("compound_id,smiles\n" + "".join(f"c{i},{s}\n" for i, s in enumerate(smiles)))
    login(page, platform.admin_key, "/toxicity")
    page.get_by_label("…or a file").set_input_files(str(upload))
    page.get_by_role("button", name="Predict").click()
    page.locator('#tox-job[data-job-status="succeeded"]').wait_for(timeout=180_000)
    assert "334 row(s) could not be scored" in page.locator("#tox-job").inner_text()
    rows = _downloaded_csv(page, page.get_by_role("link", name="Download the predictions (CSV)"), tmp_path)
    assert [r["compound_id"] for r in rows] == [f"c{i}" for i in range(len(smiles))]
    assert rows[2]["error"].startswith("unparseable") and not rows[1]["error"]
    assert_accessible(page)
    screenshot(page, "toxicity-screen")


def test_evaluate_on_labelled_compounds(page: Any, platform: Platform, tmp_path: Path) -> None:
    reason = toxicity_unavailable_reason()
    if reason is not None:
        pytest.skip(f"no toxicity model: {reason}")
    labelled = tmp_path / "assay.csv"
    labelled.write_text(
        "smiles,SR-ARE\n"
        "CC(C)Cc1ccc(cc1)C(C)C(=O)NCc1ccncc1,1\n"
        "O=C(Nc1ccc(F)cc1)c1cc2ccccc2o1,0\n"
        "CCN(CC)C(=O)c1ccc2[nH]c3ccccc3c2c1,1\n"
        "Cc1nc2ccccc2n1CC(=O)N1CCOCC1,0\n"
        "CCOc1ccc2nc(S(N)(=O)=O)sc2c1,1\n"  # a Tox21 compound: reported apart
        "CCCC[Sn](CCCC)(CCCC)Cl,0\n"  # refused, and counted
    )
    login(page, platform.admin_key, "/toxicity")
    page.get_by_label("Labelled file").set_input_files(str(labelled))
    page.get_by_role("button", name="Evaluate").click()

    novel = page.locator("table[data-subset='novel']")
    novel.wait_for(timeout=60_000)
    summary = page.locator("#tox-evaluation").inner_text()
    assert "6 labelled compound(s) from assay.csv" in summary
    assert "5 scored; not scored: disallowed_element 1 (1 of them labelled)" in summary
    assert "1 most likely in the training data" in summary
    assert "Novel compounds: 4" in summary and "training look-alikes included: 5" in summary
    row = novel.locator("tbody tr")
    assert row.count() == 1 and row.first.locator("th").inner_text() == "SR-ARE"
    cells = row.first.locator("td")
    assert (cells.nth(0).inner_text(), cells.nth(1).inner_text()) == ("4", "2")
    assert 0.0 <= float(cells.nth(2).inner_text()) <= 1.0  # the ROC-AUC of 2 actives vs 2 inactives
    bands = page.locator("table[data-bands='novel'] tbody tr")  # the card's similarity bands holding them
    assert sum(int(bands.nth(i).locator("td").first.inner_text()) for i in range(bands.count())) == 4
    assert_accessible(page)
    assert_no_horizontal_overflow(page)
    screenshot(page, "toxicity-evaluation")

    labelled.write_text("smiles,SR-ARE\nCCO,maybe\n")
    page.get_by_label("Labelled file").set_input_files(str(labelled))
    page.get_by_role("button", name="Evaluate").click()
    page.get_by_text("record 1 SR-ARE='maybe'").wait_for(timeout=30_000)
