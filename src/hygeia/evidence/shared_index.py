"""The evidence index shared between machines through the blob store (core.blobs).

Searching needs local files (SQLite, bm25 arrays), so every node reads its own copy under
`var/evidence/`. When the blob store is shared (S3, or a `HYGEIA_BLOB_DIR` volume), the node that
built an index uploads its files under `shared/evidence/index/builds/<build>/` and only then commits
`shared/evidence/index/current.json`, naming the build and each file's size and sha256. The pointer is
one object written whole, and written last, so a reader never follows it into a half-uploaded build.

Readers look at the pointer at most every CHECK_SECONDS (on a search, /ready, a job): a build they do
not have is downloaded into a hidden folder, every file checked against its hash, renamed into place
and published with the same atomic link swap as a local rebuild (`store.publish`). Requests that are
already reading the previous build keep it. With the embedded default (blobs inside the var dir)
nothing is copied: the index folder stays the only copy, as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import structlog

from hygeia.core.blobs import (
    COPY_CHUNK,
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    InvalidBlobKey,
    check_key,
    check_prefix,
    get_blob_store,
    shared_between_nodes,
    shared_key,
)
from hygeia.core.registry import file_sha256
from hygeia.evidence.store import MANIFEST_FILE, publish
from hygeia.settings import get_settings

log = structlog.get_logger("hygeia.evidence.shared_index")
POINTER = shared_key("evidence", "index", "current.json")
BUILDS = check_prefix(shared_key("evidence", "index", "builds") + "/")
CHECK_SECONDS = 10.0  # how stale a node's view of the pointer may be; one small GET per interval

_lock = threading.Lock()
_checked_at: dict[str, float] = {}


def enabled() -> bool:
    return shared_between_nodes(get_settings())


def upload(build: Path) -> dict[str, Any]:
    """Copy a finished local build to the store, then point every node at it; returns the pointer."""
    store = get_blob_store()
    files = _describe(build)
    for relative in files:
        store.put(_file_key(build.name, relative), build / relative)
    previous = _read_pointer(store)
    manifest = json.loads((build / MANIFEST_FILE).read_text())
    pointer = {"build": build.name, "built_at": manifest["built_at"], "files": files}
    store.put(POINTER, json.dumps(pointer, indent=1).encode())  # the commit: readers follow it now
    _prune(store, keep={build.name, previous["build"] if previous else ""})
    log.info("evidence_index_shared", build=build.name, files=len(files))
    return pointer


def sync(target: Path, force: bool = False) -> bool:
    """Make `target` (the local `index` link) point at the shared build; True when it changed.

    A store that cannot be read is logged and the local copy, if any, keeps serving.
    """
    if not enabled():
        return False
    with _lock:
        now = time.monotonic()
        if not force and now - _checked_at.get(str(target), -CHECK_SECONDS) < CHECK_SECONDS:
            return False
        _checked_at[str(target)] = now
        try:
            return _follow(get_blob_store(), target)
        except (BlobStoreError, InvalidBlobKey, ValueError, OSError) as exc:
            log.warning("evidence_index_sync_failed", error=str(exc)[:300])
            return False


def _follow(store: BlobStore, target: Path) -> bool:
    pointer = _read_pointer(store)
    if pointer is None:
        return False
    build = pointer["build"]
    if not build.startswith(f"{target.name}-"):  # the name store.publish manages and cleans up
        raise ValueError(f"shared evidence build {build[:80]!r} is not an {target.name} build")
    local = os.readlink(target) if target.is_symlink() else ""
    if local >= build:  # names start with the build time: the same build, or a newer one this node
        return False  # has built and is still uploading (or built before the store was shared)
    folder = target.with_name(build)
    if not (folder / MANIFEST_FILE).is_file():
        _download(store, pointer, folder)
    publish(folder, target)
    log.info("evidence_index_fetched", build=build, built_at=pointer["built_at"])
    return True


def _download(store: BlobStore, pointer: dict[str, Any], folder: Path) -> None:
    """Into a hidden sibling first (never a `index-*` name a reader or cleanup would take for a
    build), hash-checked, then renamed whole into place."""
    partial = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.partial")
    try:
        for relative, expected in pointer["files"].items():
            path = partial.joinpath(*relative.split("/"))
            path.parent.mkdir(parents=True, exist_ok=True)
            size, digest = _fetch(store, _file_key(pointer["build"], relative), path)
            if (size, digest) != (expected["size"], expected["sha256"]):
                raise ValueError(f"{relative} of build {pointer['build']} does not match its hash")
        try:
            partial.rename(folder)
        except OSError:
            if not (folder / MANIFEST_FILE).is_file():  # another process on this node won the race
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _fetch(store: BlobStore, key: str, path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with store.open_read(key) as source, path.open("wb") as target:
        while chunk := source.read(COPY_CHUNK):
            target.write(chunk)
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _describe(build: Path) -> dict[str, dict[str, Any]]:
    """Every file of the build by relative path, manifest last (its presence marks a complete copy)."""
    paths = sorted(p for p in build.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)
    paths.append(build / MANIFEST_FILE)
    return {
        p.relative_to(build).as_posix(): {"size": p.stat().st_size, "sha256": file_sha256(p)} for p in paths
    }


def _file_key(build: str, relative: str) -> str:
    return check_key(BUILDS + f"{build}/{relative}")


def _read_pointer(store: BlobStore) -> dict[str, Any] | None:
    """The committed pointer, checked: a build name and file paths are used as local paths."""
    try:
        pointer = json.loads(store.read_bytes(POINTER))
    except BlobNotFound:
        return None
    build, files = pointer.get("build"), pointer.get("files")
    if not isinstance(build, str) or not isinstance(files, dict):
        raise ValueError("the shared evidence index pointer is malformed")
    check_key(build)
    for relative, entry in files.items():
        check_key(relative)
        if not isinstance(entry, dict) or not {"size", "sha256"} <= entry.keys():
            raise ValueError(f"the shared evidence index pointer lists {relative!r} without size and hash")
    if MANIFEST_FILE not in files:
        raise ValueError("the shared evidence index pointer lists no manifest")
    return dict(pointer)


def _prune(store: BlobStore, keep: set[str]) -> None:
    """Builds older than the previous one: a node may still be downloading the previous one."""
    builds = {info.key[len(BUILDS) :].split("/", 1)[0] for info in store.list(BUILDS)}
    for build in builds - keep:
        store.delete_prefix(check_prefix(BUILDS + build + "/"))
