"""POST /api/v1/toxicity/evaluate: a labelled upload measured over HTTP, with the CLI's report; bad
labels, files and roles are problems, and the records are charged like a batch."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from hygeia.toxicity.external_validation import validate
from hygeia.toxicity.io import InputRecord
from hygeia.toxicity.loading import get_model
from tests.conftest import auth_header, reset_caches

ROWS = [  # smiles, SR-ARE, NR-AR: six novel structures, one Tox21 compound, one refused metal compound
    ("CC(C)Cc1ccc(cc1)C(C)C(=O)NCc1ccncc1", "1", "0"),
    ("O=C(Nc1ccc(F)cc1)c1cc2ccccc2o1", "0", ""),
    ("CCN(CC)C(=O)c1ccc2[nH]c3ccccc3c2c1", "1", "0"),
    ("Cc1nc2ccccc2n1CC(=O)N1CCOCC1", "0", "1"),
    ("COc1ccc(cc1)S(=O)(=O)N1CCC(CC1)C(N)=O", "0", "0"),
    ("CCOC(=O)c1ccc(NC(=O)C2CC2)cc1", "1", ""),
    ("CCOc1ccc2nc(S(N)(=O)=O)sc2c1", "1", "0"),
    ("CCCC[Sn](CCCC)(CCCC)Cl", "0", "1"),
]


def _upload(rows: list[tuple[str, str, str]]) -> dict[str, tuple[str, bytes, str]]:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["smiles", "SR-ARE", "NR-AR"])
    writer.writerows(rows)
    return {"file": ("labelled.csv", out.getvalue().encode(), "text/csv")}


@pytest.fixture
def analyst(client, make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return auth_header(make_key("acme", "analyst"))


def test_the_report_over_http_is_the_clis(client, analyst) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/toxicity/evaluate", files=_upload(ROWS), headers=analyst)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["records"], body["scored"], body["likely_in_training"]) == (8, 7, 1)
    assert body["refused"] == {"disallowed_element": 1} and body["refused_with_labels"] == 1
    records = [InputRecord(s, s, {"SR-ARE": a, "NR-AR": b}) for s, a, b in ROWS]
    expected = validate(get_model(), records)
    assert body["novel"] == expected["novel"] and body["all"] == expected["all"]
    assert body["model"]["version"] == expected["model"]["version"]
    sr_are = body["novel"]["endpoints"]["SR-ARE"]
    assert sr_are["tested"] == 6 and sr_are["roc_auc"] == expected["novel"]["endpoints"]["SR-ARE"]["roc_auc"]
    assert 0 <= sr_are["roc_auc"] <= 1 and set(body["novel"]["endpoints"]) == {"NR-AR", "SR-ARE"}


def test_bad_labels_files_and_roles_are_problems(client, analyst, make_key) -> None:  # type: ignore[no-untyped-def]
    bad = client.post("/api/v1/toxicity/evaluate", files=_upload([("CCO", "active", "0")]), headers=analyst)
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert "record 1 SR-ARE='active'" in bad.json()["detail"]
    smi = {"file": ("m.smi", b"CCO ethanol\n", "text/plain")}
    assert client.post("/api/v1/toxicity/evaluate", files=smi, headers=analyst).status_code == 422
    unlabelled = {"file": ("m.csv", b"smiles,name\nCCO,ethanol\n", "text/csv")}
    response = client.post("/api/v1/toxicity/evaluate", files=unlabelled, headers=analyst)
    assert response.status_code == 422 and "no label columns" in response.json()["detail"]
    viewer = auth_header(make_key("acme", "viewer"))
    assert client.post("/api/v1/toxicity/evaluate", files=_upload(ROWS), headers=viewer).status_code == 403


def test_records_are_charged_like_a_batch(platform, make_key, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hygeia.app import create_app

    monkeypatch.setenv("HYGEIA_RATE_LIMIT_TIERS", '{"standard": "20/minute"}')
    monkeypatch.setenv("HYGEIA_KEY_RATE_LIMIT", "")
    reset_caches()
    limited = TestClient(create_app(), raise_server_exceptions=False)
    key = auth_header(make_key("acme", "analyst"))
    first = limited.post("/api/v1/toxicity/evaluate", files=_upload(ROWS), headers=key)
    assert first.status_code == 200, first.text
    assert first.headers["RateLimit-Remaining"] == "12"  # 8 records of 20
    second = limited.post("/api/v1/toxicity/evaluate", files=_upload(ROWS * 2), headers=key)
    assert second.status_code == 429  # 16 more do not fit in the 12 left
