"""An index built on one machine reaches another through the shared blob store, whole or not at all.

Two var dirs stand for two machines; the store is a shared volume (`HYGEIA_BLOB_DIR`) or S3 (moto's
real HTTP server). The embedded default (blobs inside the var dir) must not copy anything.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from hygeia.core.blobs import get_blob_store
from hygeia.evidence import shared_index
from hygeia.evidence.store import MANIFEST_FILE, build_index, open_index
from tests.conftest import reset_caches
from tests.s3_server import S3Endpoint, running_s3
from tests.unit.evidence.corpus_fixture import write_corpus


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("ev-data"))


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Endpoint]:
    with running_s3() as endpoint:
        yield endpoint


@pytest.fixture(params=["volume", "s3"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "volume":
        monkeypatch.setenv("HYGEIA_BLOB_DIR", str(tmp_path / "shared-volume"))
    else:
        endpoint: S3Endpoint = request.getfixturevalue("s3")
        bucket = endpoint.new_bucket(f"index-{secrets.token_hex(4)}")
        for name, value in endpoint.environment(bucket, "it").items():
            monkeypatch.setenv(name, value)
    reset_caches()
    yield request.param
    reset_caches()


def _link(machine: Path) -> Path:
    return machine / "evidence" / "index"


def _build(corpus: Path, machine: Path) -> Path:
    build_index(corpus, _link(machine), encoder_dir=None)
    return _link(machine).resolve()


def test_a_build_on_one_machine_is_fetched_whole_by_another(shared_store: str, corpus: Path, tmp_path: Path):
    builder, reader = tmp_path / "worker", tmp_path / "api"
    built = _build(corpus, builder)
    assert shared_index.sync(_link(reader), force=True)
    fetched = _link(reader).resolve()
    assert fetched.name == built.name and fetched.parent == reader / "evidence"
    original, copy = open_index(built), open_index(fetched)
    assert [d.id for d in copy.documents] == [d.id for d in original.documents]
    assert copy.manifest == original.manifest
    assert copy.lexical.search("sildenafil heart failure", 3) == original.lexical.search(
        "sildenafil heart failure", 3
    )
    assert not shared_index.sync(_link(reader), force=True), "the same build is not fetched twice"


def test_the_reader_follows_rebuilds_and_the_store_keeps_two_builds(
    shared_store: str, corpus: Path, tmp_path: Path
):
    builder, reader = tmp_path / "worker", tmp_path / "api"
    builds = [_build(corpus, builder).name]
    shared_index.sync(_link(reader), force=True)
    for _ in range(2):
        builds.append(_build(corpus, builder).name)
        assert shared_index.sync(_link(reader), force=True)
        assert os.readlink(_link(reader)) == builds[-1]
    stored = {info.key.split("/")[4] for info in get_blob_store().list(shared_index.BUILDS)}
    assert stored == set(builds[-2:]), "older builds are pruned; the previous stays for slow readers"


def test_pointer_checks_are_throttled(
    shared_store: str, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    builder, reader = tmp_path / "worker", tmp_path / "api"
    _build(corpus, builder)
    assert shared_index.sync(_link(reader), force=True)
    newer = _build(corpus, builder).name
    assert not shared_index.sync(_link(reader)), "checked a moment ago: no request pays for another look"
    monkeypatch.setattr(shared_index, "CHECK_SECONDS", 0.0)
    assert shared_index.sync(_link(reader)) and os.readlink(_link(reader)) == newer


def test_a_file_that_does_not_match_its_hash_is_refused(shared_store: str, corpus: Path, tmp_path: Path):
    builder, reader = tmp_path / "worker", tmp_path / "api"
    built = _build(corpus, builder)
    get_blob_store().put(f"{shared_index.BUILDS}{built.name}/bm25/size.txt", b"999")
    assert not shared_index.sync(_link(reader), force=True)
    assert not _link(reader).exists()
    leftovers = list((reader / "evidence").iterdir()) if (reader / "evidence").exists() else []
    assert leftovers == [], "the partial download is removed"


def test_the_embedded_default_copies_nothing(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HYGEIA_VAR_DIR", str(tmp_path / "var"))
    reset_caches()
    built = _build(corpus, tmp_path / "var")
    assert (built / MANIFEST_FILE).is_file()
    assert not shared_index.enabled()
    assert not (tmp_path / "var" / "blobs").exists()
    assert not shared_index.sync(_link(tmp_path / "other"), force=True)


def test_a_builder_does_not_step_back_to_the_pointer_while_its_newer_build_uploads(
    shared_store: str, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    machine = tmp_path / "worker"
    shared = _build(corpus, machine).name
    monkeypatch.setattr(shared_index, "upload", lambda build: {})  # the next build is not shared yet
    monkeypatch.setattr(shared_index, "enabled", lambda: True)
    from hygeia.evidence import store

    newer = tmp_path / "worker" / "evidence" / "index"
    store.build_index(corpus, newer, encoder_dir=None)
    assert os.readlink(newer) > shared
    assert not shared_index.sync(newer, force=True)
    assert os.readlink(newer) != shared
