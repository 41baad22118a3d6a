"""The toxicity API over HTTP: single and batch prediction, background jobs, explanation, card, roles."""

from __future__ import annotations

import time

import pytest
from prometheus_client import REGISTRY

from hygeia.toxicity import ENDPOINTS, service
from tests.conftest import auth_header

BPA = "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"


@pytest.fixture
def analyst(client, make_key) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return auth_header(make_key("acme", "analyst"))


def _check_model(body: dict) -> None:  # type: ignore[type-arg]
    assert body["model"]["name"] == "toxicity"
    assert len(body["model"]["sha256"]) == 12


def test_single_prediction(client, analyst) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/toxicity/predict", json={"smiles": BPA}, headers=analyst)
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"]
    body = response.json()
    _check_model(body)
    result = body["result"]
    assert list(result["probabilities"]) == list(ENDPOINTS)
    assert all(0.0 <= p <= 1.0 for p in result["probabilities"].values())
    domain = result["applicability_domain"]
    assert domain["nearest_similarity"] == 1.0 and domain["in_domain"] is True
    card = client.get("/api/v1/toxicity/model", headers=analyst).json()["card"]["applicability_domain"]
    assert domain["cv_roc_auc"] == card["bands"][-1]["roc_auc"]  # a training compound: the closest band
    assert domain["cv_roc_auc_overall"] == card["pooled_oof_roc_auc"]
    assert result["explanation"] is None
    again = client.post("/api/v1/toxicity/predict", json={"smiles": BPA}, headers=analyst).json()
    assert again["result"] == result  # served from the cache, same answer


def test_single_prediction_with_explanation(client, analyst) -> None:  # type: ignore[no-untyped-def]
    body = {"smiles": BPA, "explain_endpoint": "NR-ER"}
    result = client.post("/api/v1/toxicity/predict", json=body, headers=analyst).json()["result"]
    explanation = result["explanation"]
    assert explanation["endpoint"] == "NR-ER" and "<svg" in explanation["svg"]
    assert len(explanation["atom_contributions"]) == 17  # heavy atoms of bisphenol A


def test_invalid_smiles_is_a_problem_json_422(client, analyst) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/api/v1/toxicity/predict", json={"smiles": "C1CC"}, headers=analyst)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["error_code"] == "unparseable"
    unknown = client.post(
        "/api/v1/toxicity/predict", json={"smiles": BPA, "explain_endpoint": "X"}, headers=analyst
    )
    assert unknown.status_code == 422


def test_a_metal_complex_tox21_tested_is_refused_with_what_tox21_measured(client, analyst) -> None:  # type: ignore[no-untyped-def]
    """The model does not score cisplatin, but Tox21 tested it as such (TOX4983): the 422 says so."""
    response = client.post("/api/v1/toxicity/predict", json={"smiles": "Cl[Pt](Cl)(N)N"}, headers=analyst)
    assert response.status_code == 422 and response.json()["error_code"] == "disallowed_element"
    record = response.json()["tox21_record"]
    assert record["tox21_ids"] == ["TOX4983"] and record["measured"]["SR-ARE"] == "active"
    assert (
        "Tox21 tested it as such: measured in Tox21 (TOX4983): active in SR-ARE" in response.json()["detail"]
    )
    iodide = client.post("/api/v1/toxicity/predict", json={"smiles": "[K+].[I-]"}, headers=analyst).json()
    assert iodide["error_code"] == "inorganic" and "tox21_record" in iodide  # Tox21 tested KI too
    untested = client.post(
        "/api/v1/toxicity/predict", json={"smiles": "C[Sn](C)(C)C"}, headers=analyst
    ).json()
    assert untested["error_code"] == "disallowed_element" and "tox21_record" not in untested


def _scored(model: dict, endpoint: str) -> float:  # type: ignore[type-arg]
    labels = {"model": model["name"], "version": model["version"], "label": endpoint}
    return REGISTRY.get_sample_value("hygeia_prediction_score_count", labels) or 0.0


def test_batch_keeps_order_and_per_row_errors(client, analyst) -> None:  # type: ignore[no-untyped-def]
    smiles = ["CCO", "C1CC", "[Na+].CC(=O)[O-]", "CCCC[Sn](CCCC)(CCCC)Cl", BPA, "Cl[Pt](Cl)(N)N", "[K+].[I-]"]
    served = client.get("/api/v1/toxicity/model", headers=analyst).json()["model"]
    before = _scored(served, "NR-AR")
    response = client.post("/api/v1/toxicity/predict/batch", json={"smiles": smiles}, headers=analyst)
    assert response.status_code == 200, response.text
    body = response.json()
    _check_model(body)
    assert _scored(body["model"], "NR-AR") - before == 3  # the dashboard sees the scored rows only
    assert [r["smiles"] for r in body["results"]] == smiles
    assert [r["error_code"] for r in body["results"]] == [
        None,
        "unparseable",
        None,
        "disallowed_element",
        None,
        "disallowed_element",  # cisplatin is not scored as its ammonia ligands
        "inorganic",  # potassium iodide is not scored as hydrogen iodide
    ]
    assert body["n_errors"] == 4
    assert body["results"][2]["standardised_smiles"] == "CC(=O)O"
    cisplatin = body["results"][5]  # refused, yet Tox21 tested it as such: the row says what it measured
    assert cisplatin["tox21_record"]["tox21_ids"] == ["TOX4983"]
    assert "Tox21 tested it as such: measured in Tox21 (TOX4983)" in cisplatin["error"]
    assert body["results"][1]["tox21_record"] is None and body["results"][0]["tox21_record"] is None


def test_batch_carries_ids_and_an_overall_call(client, analyst) -> None:  # type: ignore[no-untyped-def]
    body = {"smiles": [BPA, "[Fe]", "CCO"], "ids": ["BPA-1", "iron", "EtOH"]}
    response = client.post("/api/v1/toxicity/predict/batch", json=body, headers=analyst)
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == body["ids"]
    assert results[1]["error"].startswith("outside the model's chemistry") and results[1]["overall"] is None
    overall = results[0]["overall"]
    probabilities = results[0]["probabilities"]
    assert overall["highest_risk_assay"] == max(probabilities, key=probabilities.get)
    assert overall["active_assays"] == [e for e in ENDPOINTS if probabilities[e] >= 0.5]
    assert overall["n_active"] == len(overall["active_assays"]) and "0.5" in overall["rule"]
    sets = results[0]["prediction_sets"]
    if sets is not None:  # models with a conformal calibration set (2.0.0 on)
        assert set(sets) == set(ENDPOINTS) and results[0]["conformal_significance"] == 0.2
        assert set(sets.values()) <= {"active", "inactive", "uncertain", "empty"}
    mismatched = {"smiles": [BPA, "CCO"], "ids": ["only-one"]}
    assert client.post("/api/v1/toxicity/predict/batch", json=mismatched, headers=analyst).status_code == 422


def test_large_batch_runs_as_a_job(client, analyst, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(service, "MAX_SYNC_BATCH", 3)  # the real limit is 10,000 rows
    smiles = ["CCO", "C1CC", BPA, "c1ccccc1", "CCN"]
    response = client.post("/api/v1/toxicity/predict/batch", json={"smiles": smiles}, headers=analyst)
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["n_items"] == 5
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job = client.get(accepted["poll"], headers=analyst).json()
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1.0
    results = job["result"]["results"]
    assert [r["smiles"] for r in results] == smiles
    assert results[1]["error_code"] == "unparseable" and results[2]["probabilities"] is not None


def test_explain_returns_svg(client, analyst) -> None:  # type: ignore[no-untyped-def]
    response = client.get(
        "/api/v1/toxicity/explain", params={"smiles": BPA, "endpoint": "SR-MMP"}, headers=analyst
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert response.headers["x-model"].startswith("toxicity ")
    assert "<svg" in response.text


def test_model_card(client, make_key) -> None:  # type: ignore[no-untyped-def]
    viewer = auth_header(make_key("acme", "viewer"))
    response = client.get("/api/v1/toxicity/model", headers=viewer)
    assert response.status_code == 200
    body = response.json()
    _check_model(body)
    assert body["card"]["metrics"]["scaffold_cv"]["shipped"]["mean_over_endpoints"]["roc_auc"]["mean"] > 0.5
    assert "Scaffold cross-validation" in body["markdown"]


def test_roles_and_auth(client, make_key) -> None:  # type: ignore[no-untyped-def]
    assert client.post("/api/v1/toxicity/predict", json={"smiles": BPA}).status_code == 401
    viewer = auth_header(make_key("acme", "viewer"))
    assert client.post("/api/v1/toxicity/predict", json={"smiles": BPA}, headers=viewer).status_code == 403


def test_tool_is_registered_for_agents(client) -> None:  # type: ignore[no-untyped-def]
    from hygeia.core.tools import get_tool

    output = get_tool("toxicity.predict").function(["CCO", "C1CC"])
    assert output["model"]["name"] == "toxicity"
    assert output["results"][1]["error_code"] == "unparseable"


def test_every_prediction_route_is_audited_by_the_service(client, make_key) -> None:  # type: ignore[no-untyped-def]
    """Auditing lives in the service functions, so each route leaves one record with the input's hash."""
    from hygeia.core.audit import list_events

    headers = auth_header(make_key("auditco", "analyst"))
    client.post("/api/v1/toxicity/predict", json={"smiles": BPA}, headers=headers).raise_for_status()
    batch = {"smiles": [BPA, "CCO", "C1CC"], "ids": ["a", "b", "c"]}
    client.post("/api/v1/toxicity/predict/batch", json=batch, headers=headers).raise_for_status()
    params = {"smiles": BPA, "endpoint": "NR-ER"}
    client.get("/api/v1/toxicity/explain", params=params, headers=headers).raise_for_status()
    events = list(reversed(list_events("auditco", action="predict:toxicity")))
    assert [e.n_items for e in events] == [1, 3, 1]
    assert events[2].detail == {"endpoint": "NR-ER", "kind": "explain"}
    assert all(len(e.input_sha256 or "") == 64 and e.model_version for e in events)
    assert events[0].input_sha256 != events[1].input_sha256


def test_a_cached_molecule_is_answered_from_the_event_loop(client, analyst, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cached path skips the thread pool and the model; it still audits and carries the same id."""
    from cachetools import TTLCache

    from hygeia.core import releases

    # The shortcut steps aside once the release was read over a second ago (tested in test_canary); a
    # first prediction that loads the model can take that long on a busy machine, so keep it remembered.
    monkeypatch.setattr(releases, "_releases", TTLCache(maxsize=256, ttl=3600))
    computed = []
    original = service.predict_one

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        computed.append(args[1])
        return original(*args, **kwargs)

    monkeypatch.setattr(service, "predict_one", counting)
    body = {"smiles": "CCCCCCO"}
    first = client.post("/api/v1/toxicity/predict", json=body, headers=analyst).json()
    again = client.post("/api/v1/toxicity/predict", json=body, headers=analyst).json()
    assert computed == ["CCCCCCO"]  # only the first call went to the model
    assert again["result"] == first["result"] and again["result"]["prediction_id"]
    narrated = client.post("/api/v1/toxicity/predict", json={**body, "narrative": True}, headers=analyst)
    assert narrated.status_code == 200 and narrated.json()["narrative"]
    assert computed == ["CCCCCCO", "CCCCCCO"]  # a narrative is written off the event loop


def test_a_cached_answer_is_the_fresh_body_with_each_tenants_own_prediction_id(client, make_key) -> None:  # type: ignore[no-untyped-def]
    """The cached body is serialised once, but every tenant still gets its own id and its own audit row."""
    from hygeia.core.audit import list_events
    from hygeia.core.outcomes import prediction_id
    from hygeia.toxicity.lifecycle import inchikey

    acme, globex = auth_header(make_key("acme", "analyst")), auth_header(make_key("globex", "analyst"))
    body = {"smiles": "CCCCCCCO"}
    fresh = client.post("/api/v1/toxicity/predict", json=body, headers=acme)
    cached = client.post("/api/v1/toxicity/predict", json=body, headers=acme)
    theirs = client.post("/api/v1/toxicity/predict", json=body, headers=globex).json()
    assert cached.json() == fresh.json()
    assert cached.headers["content-type"] == "application/json"
    result = fresh.json()["result"]
    version = fresh.json()["model"]["version"]
    key = inchikey(result["standardised_smiles"])
    assert theirs["result"]["prediction_id"] == prediction_id("globex", "toxicity", version, key, True)
    assert result["prediction_id"] == prediction_id("acme", "toxicity", version, key, True)
    assert {**theirs["result"], "prediction_id": None} == {**result, "prediction_id": None}
    assert len(list_events("acme", action="predict:toxicity")) == 2
    assert len(list_events("globex", action="predict:toxicity")) == 1


ACETAMINOPHEN_HCL = "CC(=O)Nc1ccc(O)cc1.Cl"


def _tox21_rows(smiles: str) -> list[dict[str, str]]:
    """The real Tox21 file's rows for one SMILES, read here without the service's code."""
    import csv

    from hygeia.settings import get_settings

    with (get_settings().data_dir / "tox21" / "tox21.csv").open() as handle:
        return [row for row in csv.DictReader(handle) if row["smiles"] == smiles]


def test_a_training_compound_comes_back_with_what_tox21_measured(client, analyst, read_across_on) -> None:  # type: ignore[no-untyped-def]
    """Acetaminophen as its hydrochloride: the parent is a training compound, so the answer says so
    and leads its tested neighbours with the compound itself and the file's own labels."""
    (row,) = _tox21_rows("CC(=O)Nc1ccc(O)cc1")
    body = client.post("/api/v1/toxicity/predict", json={"smiles": ACETAMINOPHEN_HCL}, headers=analyst).json()
    read_across = body["result"]["read_across"]
    assert read_across["status"] == "ready" and read_across["in_training_set"] is True
    itself, *others = read_across["neighbours"]
    assert itself["tox21_ids"] == [row["mol_id"]] and itself["similarity"] == 1.0
    words = {"1.0": "active", "0.0": "inactive", "": "not tested", "1": "active", "0": "inactive"}
    assert itself["measured"] == {e: words[row[e]] for e in ENDPOINTS}
    outcomes = list(itself["measured"].values())
    active = ", ".join(e for e in ENDPOINTS if itself["measured"][e] == "active") or "none"
    assert read_across["measured"] == (
        f"measured in Tox21 ({row['mol_id']}): active in {active} "
        f"(inactive {outcomes.count('inactive')}, not tested {outcomes.count('not tested')})"
    )
    assert len(others) == 2 and others[0]["similarity"] >= others[1]["similarity"]
    assert "not an independent prediction" in read_across["note"]


def test_a_single_enantiomer_of_a_racemate_tox21_tested_is_measured_as_that_form(
    client, analyst, read_across_on
) -> None:  # type: ignore[no-untyped-def]
    """Esomeprazole is the S enantiomer; Tox21 tested omeprazole with its stereocentre left open."""
    (row,) = _tox21_rows("COc1ccc2[nH]c(S(=O)Cc3ncc(C)c(OC)c3C)nc2c1")
    esomeprazole = "COc1ccc2[nH]c([S@@](=O)Cc3ncc(C)c(OC)c3C)nc2c1"
    body = client.post("/api/v1/toxicity/predict", json={"smiles": esomeprazole}, headers=analyst).json()
    read_across = body["result"]["read_across"]
    assert read_across["in_training_set"] is True and read_across["tested_as"] == "stereo-unspecified"
    assert read_across["neighbours"][0]["tox21_ids"] == [row["mol_id"]]
    assert read_across["measured"].startswith(f"measured in Tox21 ({row['mol_id']}, the same constitution, ")
    # a record of this very structure says so
    exact = client.post(
        "/api/v1/toxicity/predict", json={"smiles": ACETAMINOPHEN_HCL}, headers=analyst
    ).json()
    assert exact["result"]["read_across"]["tested_as"] == "identical"


def test_a_new_molecule_gets_its_nearest_tested_compounds(client, analyst, read_across_on) -> None:  # type: ignore[no-untyped-def]
    analogue = "CC(=O)Nc1ccc(OCC)cc1C"  # not in Tox21
    assert not _tox21_rows(analogue)
    body = client.post("/api/v1/toxicity/predict", json={"smiles": analogue}, headers=analyst).json()
    result = body["result"]
    read_across = result["read_across"]
    assert read_across["in_training_set"] is False and read_across["measured"] is None
    similarities = [n["similarity"] for n in read_across["neighbours"]]
    assert similarities == sorted(similarities, reverse=True)
    assert similarities[0] == result["applicability_domain"]["nearest_similarity"]  # the same search


def test_read_across_switched_off_says_why(client, analyst) -> None:  # type: ignore[no-untyped-def]
    body = client.post("/api/v1/toxicity/predict", json={"smiles": BPA}, headers=analyst).json()
    read_across = body["result"]["read_across"]
    assert read_across["status"] == "unavailable" and "HYGEIA_TOXICITY_READ_ACROSS" in read_across["reason"]


def test_a_prediction_made_while_the_table_loads_is_not_cached(client, analyst, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hygeia.toxicity import read_across

    molecule = "CCCCCCCCCCCO"  # asked nowhere else, so no earlier test's answer is cached
    with monkeypatch.context() as building:
        building.setattr(read_across, "lookup", lambda *_, **__: read_across.Lookup("loading", "building"))
        first = client.post("/api/v1/toxicity/predict", json={"smiles": molecule}, headers=analyst).json()
    assert first["result"]["read_across"]["status"] == "loading"
    again = client.post("/api/v1/toxicity/predict", json={"smiles": molecule}, headers=analyst).json()
    assert again["result"]["read_across"]["status"] == "unavailable"  # computed anew, not the cached one
