"""Dermatology outcomes that bring their image for retraining, over HTTP and without torch: stored only
with consent, checked like a prediction upload, tied to the prediction's image by hash, kept in the
tenant's blob store (never the database), and covered by retention, tenant export and deletion; the
scheduled check says why it cannot retrain until a consented image exists.

Images are real HAM10000 test-split photographs; the diagnoses posted are simulated (a test replays
them), and each outcome's source says so.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hygeia.core import audit, jobs, retention, retraining, tenants
from hygeia.core.blobs import get_blob_store, tenant_key
from hygeia.core.db import system_session, utcnow
from hygeia.core.retraining import Retrainer, RetrainRefused, held_out_group
from hygeia.core.tables import Outcome
from hygeia.dermatology import outcome_images
from hygeia.dermatology.retraining import DEFAULT_HOLDOUT, DEFAULT_SEED, cannot_retrain, tenant_outcome_images
from hygeia.dermatology.service import MODEL_NAME
from tests.api.dermatology.test_dermatology_api import real_lesion_jpeg
from tests.conftest import auth_header

SOURCE = "simulated: HAM10000 label replayed by a test as a histopathology result"
TEST_JOB = "test.dermatology.retrain"


def _predict(client, headers, image: bytes) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/dermatology/predict?heatmap=false",
        files={"image": ("lesion.jpg", image, "image/jpeg")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["result"]


def _post_images(client, headers, images, observed, ids=None, consent=True):  # type: ignore[no-untyped-def]
    data: dict[str, Any] = {
        "observed": observed,
        "source": SOURCE,
        "consent_for_training": str(consent).lower(),
    }
    if ids is not None:
        data["prediction_id"] = ids
    files = [("images", (f"lesion{i}.jpg", image, "image/jpeg")) for i, image in enumerate(images)]
    return client.post("/api/v1/dermatology/outcomes/images", data=data, files=files, headers=headers)


def _stored(tenant: str) -> dict[str, bytes]:
    store = get_blob_store()
    return {key.rsplit("/", 1)[-1]: store.read_bytes(key) for key in outcome_images.stored_images(tenant)}


def test_consented_images_are_checked_stored_in_the_tenants_blob_store_and_never_in_the_database(  # type: ignore[no-untyped-def]
    client, make_key
) -> None:
    analyst = auth_header(make_key("clinic", "analyst"))
    images = [real_lesion_jpeg(i) for i in range(3)]
    ids = [_predict(client, analyst, image)["prediction_id"] for image in images[:2]]

    body = _post_images(
        client,
        analyst,
        [images[0], images[1], images[2], b"%PDF-1.4 not an image"],
        ["nv", "bkl", "mel", "nv"],
        [ids[0], ids[0], "", ""],  # the second image names the first image's prediction
    ).json()

    assert [r["status"] for r in body["rows"]] == ["accepted", "error", "accepted", "error"]
    assert [r["row"] for r in body["rows"]] == [1, 2, 3, 4]
    assert "is not the image prediction" in body["rows"][1]["error"] and ids[0] in body["rows"][1]["error"]
    assert "not a JPEG or PNG" in body["rows"][3]["error"]
    digests = [hashlib.sha256(image).hexdigest() for image in images]
    assert _stored("clinic") == {f"{digests[0]}.jpg": images[0], f"{digests[2]}.jpg": images[2]}
    with system_session() as session:
        rows = list(session.scalars(select(Outcome).where(Outcome.tenant_id == "clinic")))
    assert sorted(r.input_text for r in rows) == sorted(  # the database keeps where, never the bytes
        f"dermatology/outcome-images/{digests[i]}.jpg" for i in (0, 2)
    )
    assert {r.input_key for r in rows} == {digests[0], digests[2]}
    make_key("other", "analyst")
    assert not _stored("other")  # under the tenant's own prefix only


def test_without_consent_or_with_mismatched_fields_nothing_is_stored(client, make_key) -> None:  # type: ignore[no-untyped-def]
    analyst = auth_header(make_key("clinic", "analyst"))
    image = real_lesion_jpeg(0)
    refused = _post_images(client, analyst, [image], ["nv"], consent=False)
    assert refused.status_code == 422 and "consent_for_training" in refused.json()["detail"]
    assert refused.headers["content-type"].startswith("application/problem+json")
    mismatched = _post_images(client, analyst, [image, image], ["nv"])
    assert mismatched.status_code == 422 and "as many observed values" in mismatched.json()["detail"]
    truncated = _post_images(client, analyst, [image[:300]], ["nv"]).json()  # checked as uploads are
    assert truncated["accepted"] == 0 and "corrupt" in truncated["rows"][0]["error"]
    viewer = auth_header(make_key("clinic", "viewer"))
    assert _post_images(client, viewer, [image], ["nv"]).status_code == 403
    assert not _stored("clinic")
    with system_session() as session:
        assert not list(session.scalars(select(Outcome)))


def test_retention_export_and_tenant_deletion_cover_the_images(client, make_key, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    analyst = auth_header(make_key("clinic", "analyst"))
    image = real_lesion_jpeg(1)
    digest = hashlib.sha256(image).hexdigest()
    assert _post_images(client, analyst, [image], ["bkl"]).json()["accepted"] == 1

    manifest = tenants.export_tenant("clinic", tmp_path / "clinic.zip")
    path = f"files/dermatology/outcome-images/{digest}.jpg"
    assert {"path": path, "size": len(image), "sha256": digest} in manifest["files"]
    with zipfile.ZipFile(tmp_path / "clinic.zip") as archive:
        assert archive.read(path) == image
        outcomes = [json.loads(line) for line in archive.read("outcomes.jsonl").splitlines()]
    assert [o["input_text"] for o in outcomes] == [f"dermatology/outcome-images/{digest}.jpg"]

    report = retention.purge_expired(utcnow() + timedelta(days=1))  # within every retention period
    assert report["clinic"]["uploads"] == 0 and _stored("clinic")
    report = retention.purge_expired(utcnow() + timedelta(days=3660))
    assert report["clinic"]["uploads"] >= 1 and not _stored("clinic")

    assert _post_images(client, analyst, [image], ["bkl"]).json()["accepted"] == 1
    assert _stored("clinic")
    tenants.delete_tenant("clinic")
    assert (
        get_blob_store().stat(tenant_key("clinic", "dermatology", "outcome-images", f"{digest}.jpg")) is None
    )


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    """Dermatology's retrainer with its real precheck, its job replaced by one that records the call."""
    calls: list[tuple[str, dict[str, Any]]] = []

    def record(payload: dict[str, Any], ctx: jobs.JobContext) -> dict[str, Any]:
        calls.append((ctx.tenant_id, payload))
        return {"recorded": True}

    jobs.register_job_handler(TEST_JOB, record, scheduled_only=True)
    retrainer = Retrainer(MODEL_NAME, MODEL_NAME, TEST_JOB, unable=cannot_retrain)
    monkeypatch.setattr(retraining, "_retrainers", {MODEL_NAME: retrainer})
    return calls


def test_the_scheduled_check_says_why_it_cannot_retrain_until_a_consented_image_exists(  # type: ignore[no-untyped-def]
    client, make_key, asked, monkeypatch
) -> None:
    monkeypatch.setenv("HYGEIA_RETRAIN_DRIFT_PSI", "1000")  # live performance only
    monkeypatch.setenv("HYGEIA_LIFECYCLE_MIN_OUTCOMES", "3")
    monkeypatch.setenv("HYGEIA_RETRAIN_LIVE_BALANCED_ACCURACY_BELOW", "1.0")  # any wrong answer crosses
    analyst = auth_header(make_key("clinic", "analyst"))
    images = [real_lesion_jpeg(i) for i in range(3)]
    answers = [_predict(client, analyst, image) for image in images]
    wrong = ["vasc" if a["prediction"] != "vasc" else "df" for a in answers]  # the lab disagrees
    rows = [
        {"prediction_id": a["prediction_id"], "observed": w, "source": SOURCE}
        for a, w in zip(answers, wrong, strict=True)
    ]
    assert client.post("/api/v1/dermatology/outcomes", json=rows, headers=analyst).json()["accepted"] == 3

    [decision] = [d for d in retraining.check() if d.tenant_id == "clinic"]
    assert decision.reasons and decision.job_id is None
    assert decision.held_back and decision.held_back.startswith("cannot retrain: no consented outcome image")
    [event] = audit.list_events("clinic", action="retrain.not_possible")
    assert event.detail["reasons"] == decision.reasons and "3 dermatology outcomes" in event.detail["why"]
    with pytest.raises(RetrainRefused, match="no consented outcome image"):
        tenant_outcome_images(("clinic",), DEFAULT_HOLDOUT, DEFAULT_SEED)

    ids = [a["prediction_id"] for a in answers]
    assert _post_images(client, analyst, images, wrong, ids).json()["accepted"] == 3
    trainable = [
        d
        for d in map(lambda i: hashlib.sha256(i).hexdigest(), images)
        if not held_out_group(d, DEFAULT_HOLDOUT, DEFAULT_SEED)
    ]
    assert trainable, "the fixed images must leave one on the training side"
    assert cannot_retrain("clinic") is None
    [decision] = [d for d in retraining.check() if d.tenant_id == "clinic"]
    assert decision.job_id is not None and not decision.held_back
    split = tenant_outcome_images(("clinic",), DEFAULT_HOLDOUT, DEFAULT_SEED)
    assert len(split.training) == len(trainable) and split.provenance["outcomes"] == 3


def test_the_cli_refuses_before_training_without_a_tenant_or_a_consented_image(client, make_key) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from hygeia.cli import app

    make_key("clinic", "analyst")
    runner = CliRunner()
    no_tenant = runner.invoke(app, ["train", "dermatology", "--with-outcomes", "--tiny"])
    assert no_tenant.exit_code != 0 and "--with-outcomes needs --tenant" in no_tenant.output
    nothing = runner.invoke(app, ["train", "dermatology", "--with-outcomes", "--tenant", "clinic", "--tiny"])
    assert nothing.exit_code != 0 and "no consented outcome image of clinic" in nothing.output
    assert "Traceback" not in nothing.output


def test_a_failing_file_store_stores_no_outcome(client, make_key, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from hygeia.core.blobs import BlobStoreError

    class FullDisk:
        def put(self, key: str, source: bytes) -> int:
            raise BlobStoreError("blob store write failed: No space left on device")

    monkeypatch.setattr(outcome_images, "get_blob_store", FullDisk)
    analyst = auth_header(make_key("clinic", "analyst"))
    response = _post_images(client, analyst, [real_lesion_jpeg(0)], ["nv"])
    assert response.status_code == 503 and "no outcome was stored" in response.json()["detail"]
    with system_session() as session:
        assert not list(session.scalars(select(Outcome)))
