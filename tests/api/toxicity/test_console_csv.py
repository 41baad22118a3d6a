"""The console's toxicity CSV over HTTP: spreadsheet-safe cells and the overall call per molecule."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from fastapi.testclient import TestClient

from hygeia.toxicity import ENDPOINTS
from tests.api.web.helpers import HTMX, SAME_ORIGIN, sign_in, toxicity_unavailable_reason


@pytest.fixture
def analyst(client: TestClient, make_key) -> TestClient:  # type: ignore[no-untyped-def]
    """The console signed in as an acme analyst, with a toxicity model to answer."""
    reason = toxicity_unavailable_reason()
    if reason is not None:
        pytest.skip(f"no toxicity model: {reason}")
    sign_in(client, make_key("acme", "analyst"))
    return client


def test_console_csv_neutralises_formulas_and_has_the_overall_call(analyst: TestClient) -> None:
    text = "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1\n=HYPERLINK(1)\n[Fe]\nCl[Pt](Cl)(N)N"
    response = analyst.post("/ui/toxicity/predict.csv", data={"smiles": text}, headers=SAME_ORIGIN)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["smiles"] for r in rows] == [
        "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1",
        "'=HYPERLINK(1)",
        "[Fe]",
        "Cl[Pt](Cl)(N)N",
    ]
    assert float(rows[0]["nearest_similarity"]) == 1.0 and rows[0]["in_domain"] == "true"
    assert float(rows[0]["domain_cv_roc_auc"]) > 0.5 and rows[2]["domain_cv_roc_auc"] == ""
    top = max(ENDPOINTS, key=lambda e: float(rows[0][e]))
    assert rows[0]["highest_risk_assay"] == top
    assert int(rows[0]["n_active_assays"]) == sum(float(rows[0][e]) >= 0.5 for e in ENDPOINTS)
    assert rows[2]["error"].startswith("disallowed_element: outside the model's chemistry")
    assert "Tox21 tested it as such" not in rows[2]["error"]
    assert "Tox21 tested it as such: measured in Tox21 (TOX4983)" in rows[3]["error"]  # cisplatin


def test_console_keeps_the_callers_identifiers_in_the_table_and_its_csv(analyst: TestClient) -> None:
    upload = "compound_id,smiles,error\nC-1,Oc1ccccc1,lab note\nC-2,not-a-smiles,\nC-3,,\n"
    files = {"file": ("library.csv", upload.encode(), "text/csv")}
    page = analyst.post(
        "/ui/toxicity/predict",
        data={"smiles": "CCO ethanol absolute"},
        files=files,
        headers=HTMX | SAME_ORIGIN,
    )
    assert page.status_code == 200, page.text
    assert "<td>ethanol absolute</td>" in page.text and "<td>C-2</td>" in page.text
    table = html.unescape(re.search(r'name="table" value="([^"]*)"', page.text).group(1))  # type: ignore[union-attr]
    response = analyst.post("/ui/toxicity/predict.csv", data={"table": table}, headers=SAME_ORIGIN)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # one row per record, pasted first; the file's own 'error' column is kept beside the prediction's
    assert [(r["name"], r["compound_id"], r["smiles"]) for r in rows] == [
        ("ethanol absolute", "", "CCO"),
        ("", "C-1", "Oc1ccccc1"),
        ("", "C-2", "not-a-smiles"),
        ("", "C-3", ""),
    ]
    assert rows[1]["input_error"] == "lab note" and rows[1]["error"] == ""
    assert rows[2]["error"].startswith("unparseable") and rows[3]["error"].startswith("empty")
    forged = analyst.post(
        "/ui/toxicity/predict.csv", data={"table": '{"smiles": ["CCO"]}'}, headers=SAME_ORIGIN
    )
    assert forged.status_code == 422 and "is not the page" in forged.text


def test_console_reads_an_sdf_with_its_titles_fields_and_broken_record(analyst: TestClient) -> None:
    from rdkit import Chem

    ethanol, phenol = Chem.MolFromSmiles("CCO"), Chem.MolFromSmiles("c1ccccc1O")
    ethanol.SetProp("_Name", "ethanol")
    phenol.SetProp("_Name", "phenol")
    blocks = [Chem.MolToMolBlock(ethanol), "garbage\nnot a mol block\n", Chem.MolToMolBlock(phenol)]
    blocks[2] += ">  <CAS>\n108-95-2\n"
    files = {
        "file": ("library.sdf", "".join(b + "\n$$$$\n" for b in blocks).encode(), "chemical/x-mdl-sdfile")
    }
    page = analyst.post("/ui/toxicity/predict", data={"smiles": ""}, files=files, headers=HTMX | SAME_ORIGIN)
    assert page.status_code == 200, page.text
    assert "<td>phenol</td>" in page.text and "<td>108-95-2</td>" in page.text
    assert "SDF record 2: RDKit cannot read this molecule block" in page.text  # its own reason, not "empty"
    table = html.unescape(re.search(r'name="table" value="([^"]*)"', page.text).group(1))  # type: ignore[union-attr]
    rows = list(
        csv.DictReader(
            io.StringIO(
                analyst.post("/ui/toxicity/predict.csv", data={"table": table}, headers=SAME_ORIGIN).text
            )
        )
    )
    assert [(r["name"], r["CAS"], r["smiles"]) for r in rows] == [
        ("ethanol", "", "CCO"),
        ("garbage", "", ""),
        ("phenol", "108-95-2", "Oc1ccccc1"),
    ]
    assert (
        rows[1]["error"].startswith("unparseable: SDF record 2")
        and rows[0]["error"] == rows[2]["error"] == ""
    )
