"""Dermatology in the lifecycle over HTTP: a canary answers its share (sticky per tenant), every
classified image carries its sha256 and a prediction id, and histopathology outcomes score it."""

from __future__ import annotations

import hashlib

from tests.api.dermatology.test_dermatology_api import real_lesion_jpeg
from tests.conftest import auth_header


def _predict(client, headers, image: bytes) -> dict:  # type: ignore[no-untyped-def, type-arg]
    response = client.post(
        "/api/v1/dermatology/predict?heatmap=false",
        files={"image": ("lesion.jpg", image, "image/jpeg")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_canary_answers_its_share_and_outcomes_score_the_version_that_answered(  # type: ignore[no-untyped-def]
    client, admin_headers, make_key, monkeypatch
) -> None:
    images = [real_lesion_jpeg(i) for i in range(3)]
    analyst = auth_header(make_key("clinic", "analyst"))
    production = _predict(client, analyst, images[0])["model"]["version"]
    canary = {"candidate_version": "1.1.0", "mode": "canary", "canary_percent": 100}
    assert (
        client.put("/api/v1/admin/releases/dermatology", json=canary, headers=admin_headers).status_code
        == 200
    )
    answers = [_predict(client, analyst, image) for image in images]
    assert {a["model"]["version"] for a in answers} == {"1.1.0"} != {production}

    rows = []
    for image, answer, truth in zip(images, answers, ("nv", "bkl", "mel"), strict=True):
        result = answer["result"]
        assert result["image_sha256"] == hashlib.sha256(image).hexdigest() and result["prediction_id"]
        rows.append({"input": result["image_sha256"], "observed": truth, "source": "histopathology (test)"})
    rows.append({"input": "not-a-hash", "observed": "nv", "source": "histopathology (test)"})
    rows.append({"input": rows[0]["input"], "observed": "melanoma", "source": "histopathology (test)"})
    body = client.post("/api/v1/dermatology/outcomes", json=rows, headers=analyst).json()
    assert [r["status"] for r in body["rows"]] == ["accepted"] * 3 + ["error"] * 2

    report = client.get("/api/v1/dermatology/outcomes/performance", headers=analyst).json()
    by_version = {v["version"]: v["labels"][0] for v in report["versions"]}
    assert by_version["1.1.0"]["status"] == "not enough outcomes yet (3 of 30)"
    assert by_version[production]["n"] == 1  # the first image was also answered by production

    monkeypatch.setenv("HYGEIA_LIFECYCLE_MIN_OUTCOMES", "3")
    report = client.get("/api/v1/dermatology/outcomes/performance", headers=analyst).json()
    scored = {v["version"]: v["labels"][0] for v in report["versions"]}["1.1.0"]
    assert scored["status"] == "ok" and 0 <= scored["metrics"]["balanced_accuracy"]["value"] <= 1
    assert scored["counts"] == {"bkl": 1, "mel": 1, "nv": 1}


def test_tenant_stickiness_keeps_one_tenant_on_one_version(client, admin_headers, make_key) -> None:  # type: ignore[no-untyped-def]
    canary = {"candidate_version": "1.1.0", "mode": "canary", "canary_percent": 50, "sticky_by": "tenant"}
    assert (
        client.put("/api/v1/admin/releases/dermatology", json=canary, headers=admin_headers).status_code
        == 200
    )
    analyst = auth_header(make_key("clinic", "analyst"))
    versions = {_predict(client, analyst, real_lesion_jpeg(i))["model"]["version"] for i in range(3)}
    assert len(versions) == 1
    client.delete("/api/v1/admin/releases/dermatology", headers=admin_headers)
    models = client.get("/api/v1/admin/models", headers=admin_headers).json()
    production = next(
        m["version"] for m in models if m["name"] == "dermatology" and m["stage"] == "production"
    )
    assert _predict(client, analyst, real_lesion_jpeg(0))["model"]["version"] == production


def test_answers_feed_dermatology_drift_for_the_callers_tenant(client, make_key) -> None:  # type: ignore[no-untyped-def]
    analyst = auth_header(make_key("clinic", "analyst"))
    version = _predict(client, analyst, real_lesion_jpeg(0))["model"]["version"]
    rows = client.get("/api/v1/admin/drift", headers=analyst).json()
    mine = {row["signal"]: row for row in rows if row["model"] == "dermatology" and row["version"] == version}
    assert set(mine) == {"top_probability", "entropy", "ood_distance", "rejected"}
    assert all(row["observations"] == 1 and row["psi"] is None for row in mine.values())  # still collecting
    other = client.get("/api/v1/admin/drift", headers=auth_header(make_key("acme", "viewer"))).json()
    assert not [row for row in other if row["model"] == "dermatology"]


def test_a_dermatology_shadow_classifies_beside_production_and_is_reported(  # type: ignore[no-untyped-def]
    client, admin_headers, make_key
) -> None:
    from hygeia.core import releases

    shadow = {"candidate_version": "1.1.0", "mode": "shadow", "shadow_rate": 1.0}
    assert (
        client.put("/api/v1/admin/releases/dermatology", json=shadow, headers=admin_headers).status_code
        == 200
    )
    analyst = auth_header(make_key("clinic", "analyst"))
    answer = _predict(client, analyst, real_lesion_jpeg(1))
    assert answer["model"]["version"] != "1.1.0"
    releases.flush()
    report = client.get("/api/v1/admin/releases/dermatology/report", headers=admin_headers).json()
    assert report["paired_cases"] == 1 and report["answered"]["1.1.0"] == 1
    assert report["agreement"]["answered_class_agreement"] in (0.0, 1.0)
    assert sum(report["score_distributions"]["1.1.0"].values()) == 1
