"""Where a tenant's signal runs live: the blob store (core.blobs), keyed by validated ids only.

A run is the uploaded case file plus the ranked table (gzip CSV). The job row (core.jobs) holds the
run's summary — hyperparameters, fit diagnostics, counts — so the summary is in the database and
tenant-filtered like every job; the tables are blobs because a 10^6-pair table does not belong in
a JSON column. Uploads live under `tenants/<tenant>/signals/uploads/`, the ranked table under the
run's job prefix (so deleting the job deletes it). With the S3 backend an upload received by one API
pod is scored by any worker and served by any pod.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import structlog

from hygeia.core.blobs import BlobNotFound, get_blob_store, tenant_key
from hygeia.core.errors import NotFound
from hygeia.core.jobs import job_files_prefix
from hygeia.settings import get_settings

log = structlog.get_logger("hygeia.signals.storage")
_SAFE_ID = re.compile(r"[A-Za-z0-9_\-]{1,64}")
_SUFFIXES = (".csv", ".zip", ".xml")
RANKED_FILE = "ranked.csv.gz"
_TABLE_CACHE: OrderedDict[tuple[str, str], pd.DataFrame] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _checked(value: str, what: str) -> str:
    if not _SAFE_ID.fullmatch(value):
        raise NotFound(f"no {what} {value!r}")
    return value


def unavailable_reason() -> str | None:
    """Signals needs no trained model, only a writable place for each tenant's runs."""
    problem = get_blob_store().check()
    return f"cannot create the signal run store or write to it: {problem}" if problem else None


def _uploads_prefix(tenant_id: str) -> str:
    return tenant_key(_checked(tenant_id, "tenant"), "signals", "uploads") + "/"


def upload_key(tenant_id: str, upload_id: str, suffix: str = ".csv") -> str:
    if suffix not in _SUFFIXES:
        raise NotFound(f"no upload of type {suffix!r}")
    return _uploads_prefix(tenant_id) + _checked(upload_id, "upload") + suffix


def ranked_key(tenant_id: str, run_id: str) -> str:
    return job_files_prefix(_checked(tenant_id, "tenant"), _checked(run_id, "run")) + RANKED_FILE


def save_upload(tenant_id: str, upload_id: str, suffix: str, content: bytes | BinaryIO | Path) -> int:
    """Store an upload (bytes, a stream or a local file); readers never see half of it."""
    return get_blob_store().put(upload_key(tenant_id, upload_id, suffix), content)


@contextmanager
def upload_file(tenant_id: str, upload_id: str, suffix: str = ".csv") -> Iterator[Path]:
    """The upload as a local file for the readers that need a path (a copy when it lives in S3)."""
    try:
        with get_blob_store().local_copy(upload_key(tenant_id, upload_id, suffix)) as path:
            yield path
    except BlobNotFound as exc:
        raise NotFound(f"upload {upload_id!r} is no longer kept (retention) or was deleted") from exc


def save_ranked(tenant_id: str, run_id: str, table: pd.DataFrame) -> str:
    key = ranked_key(tenant_id, run_id)
    with get_blob_store().open_write(key) as handle:  # committed whole when the block ends
        table.to_csv(handle, index=False, compression="gzip")
    return key


def load_ranked(tenant_id: str, run_id: str) -> pd.DataFrame:
    """The ranked table of a run; the last few are kept in memory for repeated queries."""
    store, key = get_blob_store(), ranked_key(tenant_id, run_id)
    info = store.stat(key)
    if info is None:
        raise NotFound(f"run {run_id!r} has no results yet")
    cache_id = (key, info.version)
    with _CACHE_LOCK:
        if cache_id in _TABLE_CACHE:
            _TABLE_CACHE.move_to_end(cache_id)
            return _TABLE_CACHE[cache_id]
    try:
        with store.open_read(key) as handle:
            table = pd.read_csv(
                handle,
                compression="gzip",
                keep_default_na=False,
                na_values=[""],
                dtype={"drug": str, "event": str},
            )
    except BlobNotFound as exc:  # deleted between the stat and the read
        raise NotFound(f"run {run_id!r} has no results") from exc
    with _CACHE_LOCK:
        _TABLE_CACHE[cache_id] = table
        while len(_TABLE_CACHE) > _CACHE_SIZE:
            _TABLE_CACHE.popitem(last=False)
    return table


def remove_run_files(tenant_id: str, run_id: str, payload: dict) -> None:
    """A deleted run takes its upload with it (core deletes the job's own prefix, the ranked table)."""
    upload_id = payload.get("upload_id")
    if isinstance(upload_id, str):
        store = get_blob_store()
        for suffix in _SUFFIXES:  # a FAERS run keeps its zip/xml and the case CSV read from it
            store.delete(upload_key(tenant_id, upload_id, suffix))


def purge_uploads(tenant_id: str, cutoff: datetime) -> int:
    """Uploads older than the tenant's retention go; the runs' ranked results stay with their jobs."""
    return get_blob_store().delete_older_than(_uploads_prefix(tenant_id), cutoff)


def adopt_legacy_files() -> None:
    """Runs kept by releases before the blob store (`var/signals/<tenant>/{uploads,runs}/`) move into
    it once, so they still open after an upgrade; a file leaves var/ only after the store has it.
    Retention counts a moved upload's age from the move."""
    legacy = get_settings().var_dir / "signals"
    if not legacy.is_dir():
        return
    store, moved = get_blob_store(), 0
    for path in sorted(legacy.glob("*/*/*")):
        key = _legacy_key(path.parent.parent.name, path.parent.name, path.name)
        if key is None:
            continue  # not a file this module ever wrote: left where it is
        try:
            store.put(key, path)
            path.unlink()
        except FileNotFoundError:
            continue  # another process starting at the same time moved it first
        moved += 1
    log.info("signals_legacy_files_moved", files=moved, backend=store.backend)


def _legacy_key(tenant_id: str, folder: str, name: str) -> str | None:
    stem, _, suffix = name.partition(".")
    if not (_SAFE_ID.fullmatch(tenant_id) and _SAFE_ID.fullmatch(stem)):
        return None
    if folder == "uploads" and f".{suffix}" in _SUFFIXES:
        return upload_key(tenant_id, stem, f".{suffix}")
    if folder == "runs" and suffix == "csv.gz":
        return ranked_key(tenant_id, stem)
    return None
