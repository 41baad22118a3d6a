"""Where a tenant's signal runs live: files under var/signals/<tenant>/, keyed by the run's job id.

A run is the uploaded case file plus the ranked table (gzip CSV). The job row (core.jobs) holds the
run's summary — hyperparameters, fit diagnostics, counts — so the summary is in the database and
tenant-filtered like every job; the tables are files because a 10^6-pair table does not belong in
a JSON column. Paths are built from validated ids only, never from user text. With Celery workers
on other machines, var/ must be a shared volume (see deploy/).
"""

from __future__ import annotations

import os
import re
import threading
from collections import OrderedDict
from datetime import datetime
from pathlib import Path

import pandas as pd

from hygeia.core.errors import NotFound
from hygeia.settings import get_settings

_SAFE_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
_TABLE_CACHE: OrderedDict[tuple[str, float], pd.DataFrame] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _checked(value: str, what: str) -> str:
    if not _SAFE_ID.match(value):
        raise NotFound(f"no {what} {value!r}")
    return value


def unavailable_reason() -> str | None:
    """Signals needs no trained model, only a writable place for each tenant's runs."""
    root = get_settings().var_dir / "signals"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"cannot create the signal run store {root}: {exc.strerror}"
    return None if os.access(root, os.W_OK) else f"the signal run store {root} is not writable"


def tenant_dir(tenant_id: str) -> Path:
    folder = get_settings().var_dir / "signals" / _checked(tenant_id, "tenant")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def upload_path(tenant_id: str, upload_id: str) -> Path:
    return tenant_dir(tenant_id) / "uploads" / f"{_checked(upload_id, 'upload')}.csv"


def ranked_path(tenant_id: str, run_id: str) -> Path:
    return tenant_dir(tenant_id) / "runs" / f"{_checked(run_id, 'run')}.csv.gz"


def save_ranked(tenant_id: str, run_id: str, table: pd.DataFrame) -> Path:
    path = ranked_path(tenant_id, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    table.to_csv(partial, index=False, compression="gzip")
    partial.replace(path)  # readers never see half a file
    return path


def load_ranked(tenant_id: str, run_id: str) -> pd.DataFrame:
    """The ranked table of a run; the last few are kept in memory for repeated queries."""
    path = ranked_path(tenant_id, run_id)
    if not path.exists():
        raise NotFound(f"run {run_id!r} has no results yet")
    key = (str(path), path.stat().st_mtime)
    with _CACHE_LOCK:
        if key in _TABLE_CACHE:
            _TABLE_CACHE.move_to_end(key)
            return _TABLE_CACHE[key]
    table = pd.read_csv(path, keep_default_na=False, na_values=[""], dtype={"drug": str, "event": str})
    with _CACHE_LOCK:
        _TABLE_CACHE[key] = table
        while len(_TABLE_CACHE) > _CACHE_SIZE:
            _TABLE_CACHE.popitem(last=False)
    return table


def remove_run_files(tenant_id: str, run_id: str, payload: dict) -> None:
    """A deleted run takes its upload and its ranked table with it (retention, tenant deletion)."""
    ranked_path(tenant_id, run_id).unlink(missing_ok=True)
    upload_id = payload.get("upload_id")
    if isinstance(upload_id, str):
        for upload in (tenant_dir(tenant_id) / "uploads").glob(f"{_checked(upload_id, 'upload')}.*"):
            upload.unlink(missing_ok=True)


def purge_uploads(tenant_id: str, cutoff: datetime) -> int:
    """Uploads older than the tenant's retention go; the runs' ranked results stay with their jobs."""
    folder = get_settings().var_dir / "signals" / _checked(tenant_id, "tenant") / "uploads"
    if not folder.is_dir():
        return 0
    stale = [f for f in folder.iterdir() if f.is_file() and f.stat().st_mtime < cutoff.timestamp()]
    for upload in stale:
        upload.unlink(missing_ok=True)
    return len(stale)
