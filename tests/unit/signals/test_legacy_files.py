"""Signal runs kept under var/signals/ by releases before the blob store move into it on start."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest

from hygeia.core.blobs import get_blob_store
from hygeia.settings import reset_settings
from hygeia.signals import storage


@pytest.fixture
def var_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("HYGEIA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("HYGEIA_BLOB_BACKEND", raising=False)
    monkeypatch.delenv("HYGEIA_BLOB_DIR", raising=False)
    reset_settings()
    yield tmp_path / "var"
    reset_settings()


def _legacy(var_dir: Path, relative: str, content: bytes) -> Path:
    path = var_dir / "signals" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_old_uploads_and_ranked_tables_move_into_the_store_and_open_again(var_dir: Path):
    ranked = gzip.compress(b"drug,event,n\nASPIRIN,NAUSEA,3\n")
    moved = [
        _legacy(var_dir, "acme/uploads/u1.csv", b"id,drug,event\n1,ASPIRIN,NAUSEA\n"),
        _legacy(var_dir, "acme/uploads/u2.zip", b"PK\x03\x04"),
        _legacy(var_dir, "acme/runs/r1.csv.gz", ranked),
    ]
    kept = [
        _legacy(var_dir, "acme/runs/r2.partial", b"half"),  # an interrupted write: not a run
        _legacy(var_dir, "acme/notes/todo.txt", b"not ours"),
        _legacy(var_dir, "acme/uploads/u3.exe", b"MZ"),
    ]

    storage.adopt_legacy_files()

    assert not any(path.exists() for path in moved)
    assert all(path.exists() for path in kept)
    with storage.upload_file("acme", "u1") as path:
        assert path.read_bytes() == b"id,drug,event\n1,ASPIRIN,NAUSEA\n"
    with storage.upload_file("acme", "u2", ".zip") as path:
        assert path.read_bytes() == b"PK\x03\x04"
    assert storage.load_ranked("acme", "r1").to_dict("records") == [
        {"drug": "ASPIRIN", "event": "NAUSEA", "n": 3}
    ]
    assert len(list(get_blob_store().list("tenants/acme/"))) == 3

    storage.adopt_legacy_files()  # the next start finds nothing left to move
    assert len(list(get_blob_store().list("tenants/acme/"))) == 3


def test_a_first_install_has_nothing_to_move(var_dir: Path):
    storage.adopt_legacy_files()
    assert not (var_dir / "signals").exists()
    assert list(get_blob_store().list("tenants/")) == []
