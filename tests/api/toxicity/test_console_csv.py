"""The console's toxicity CSV over HTTP: spreadsheet-safe cells and the overall call per molecule."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from hygeia.toxicity import ENDPOINTS
from tests.api.web.helpers import SAME_ORIGIN, sign_in, toxicity_unavailable_reason


def test_console_csv_neutralises_formulas_and_has_the_overall_call(client: TestClient, make_key) -> None:  # type: ignore[no-untyped-def]
    reason = toxicity_unavailable_reason()
    if reason is not None:
        pytest.skip(f"no toxicity model: {reason}")
    sign_in(client, make_key("acme", "analyst"))
    text = "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1\n=HYPERLINK(1)\n[Fe]\nCl[Pt](Cl)(N)N"
    response = client.post("/ui/toxicity/predict.csv", data={"smiles": text}, headers=SAME_ORIGIN)
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["smiles"] for r in rows] == [
        "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1",
        "'=HYPERLINK(1)",
        "[Fe]",
        "Cl[Pt](Cl)(N)N",
    ]
    top = max(ENDPOINTS, key=lambda e: float(rows[0][e]))
    assert rows[0]["highest_risk_assay"] == top
    assert int(rows[0]["n_active_assays"]) == sum(float(rows[0][e]) >= 0.5 for e in ENDPOINTS)
    assert rows[2]["error"].startswith("disallowed_element: outside the model's chemistry")
    assert "Tox21 tested it as such" not in rows[2]["error"]
    assert "Tox21 tested it as such: measured in Tox21 (TOX4983)" in rows[3]["error"]  # cisplatin
