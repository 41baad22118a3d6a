"""Service helpers that need no model: file discovery, CSV rows, missing-model errors."""

from __future__ import annotations

import pytest

from hygeia.core.errors import CapabilityUnavailable
from hygeia.dermatology import service
from hygeia.dermatology.cli import CSV_COLUMNS
from hygeia.dermatology.dataset import CLASSES
from hygeia.dermatology.schemas import LesionResult


def test_collect_image_paths_walks_folders_and_keeps_named_files(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.jpg", "b.JPEG", "sub/c.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"x")
    named = tmp_path / "odd.bin"
    named.write_bytes(b"x")
    found = service.collect_image_paths([tmp_path, named])
    assert [p.name for p in found.images] == ["a.jpg", "b.JPEG", "c.png", "odd.bin"]
    assert [p.name for p in found.skipped] == ["notes.txt"]  # named to the user, not passed over


def test_predict_names_what_a_folder_held_besides_images(tmp_path):
    from typer.testing import CliRunner

    from hygeia.dermatology.cli import app

    (tmp_path / "scans").mkdir()
    for name in ("a.tif", "b.tif", "c.heic"):
        (tmp_path / "scans" / name).write_bytes(b"x")
    result = CliRunner().invoke(app, ["predict", str(tmp_path / "scans"), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code != 0
    assert "skipped 3 file(s) in the folders that are not .jpg/.jpeg/.png (2 .tif, 1 .heic)" in result.output


def test_csv_row_matches_the_contract():
    probabilities = {c: 1 / 7 for c in CLASSES}
    ok = service._csv_row(
        LesionResult(image="x.jpg", prediction="nv", probabilities=probabilities, uncertain=True), CLASSES
    )
    failed = service._csv_row(LesionResult(image="y.jpg", error="corrupt"), CLASSES)
    assert list(ok) == CSV_COLUMNS and list(failed) == CSV_COLUMNS
    assert ok["uncertain"] == "true" and ok["mel"] == "0.142857" and ok["error"] == ""
    assert failed["prediction"] == "" and failed["nv"] == "" and failed["error"] == "corrupt"


def test_missing_model_folder_is_capability_unavailable(tmp_path):
    with pytest.raises(CapabilityUnavailable) as caught:
        service.newest_bundled_folder(tmp_path)
    assert "hygeia dermatology train" in caught.value.detail and caught.value.status == 503
    with pytest.raises(CapabilityUnavailable):
        service.classifier_from_folder(tmp_path)


def test_newest_bundled_folder_orders_versions_numerically(tmp_path):
    for version in ("1.2.0", "1.10.0", "1.9.3"):
        (tmp_path / "dermatology" / version).mkdir(parents=True)
        (tmp_path / "dermatology" / version / "card.json").write_text("{}")
    assert service.newest_bundled_folder(tmp_path).name == "1.10.0"


def test_audit_keeps_hashes_not_images():
    fingerprint = service.audit_fingerprint([("a.jpg", b"secret pixels"), ("b.jpg", b"more")])
    assert len(fingerprint) == 64 and b"secret" not in fingerprint
