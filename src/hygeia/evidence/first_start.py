"""Evidence works right after the first `make run`: no one has to know about `hygeia evidence build`.

When the server starts with the data present but no index, a BM25-only index is built as a platform
job (55 s on 2 shared cores), so search, repurposing and the agents' retrieval work soon after; then
the dense vectors are built as a second job (minutes on 2 cores), whose progress the console and
/ready show, and hybrid search switches on when it finishes (the index folder is swapped atomically).
Until the first finishes, the capability's 503 names the job and how far it is.
"""

from __future__ import annotations

import time

import structlog

from hygeia.core.auth import Principal
from hygeia.core.errors import ProblemError
from hygeia.core.jobs import FAILED, SUCCEEDED, JobInfo, get_job
from hygeia.evidence import shared_index
from hygeia.evidence.runtime import data_root, index_dir
from hygeia.evidence.schemas import IndexBuildRequest
from hygeia.evidence.store import MANIFEST_FILE
from hygeia.settings import get_settings

log = structlog.get_logger("hygeia.evidence.first_start")
POLL_SECONDS = 1.0
LEXICAL_DEADLINE_SECONDS = 900.0


def _platform() -> Principal:
    return Principal(get_settings().platform_tenant, "admin", "system:first-start", "enterprise")


def _wait(job: JobInfo) -> JobInfo:
    deadline = time.monotonic() + LEXICAL_DEADLINE_SECONDS
    while job.status not in (SUCCEEDED, FAILED) and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        job = get_job(_platform().tenant_id, job.id)
    return job


def build_index_on_first_start() -> None:
    """Lexical index now, dense vectors next; nothing when switched off, built, or without data."""
    from hygeia.evidence.service import submit_index_build

    plan = get_settings().evidence_index_on_start
    if plan == "off":
        return
    shared_index.sync(index_dir(), force=True)  # another machine may have built and shared it
    if (index_dir() / MANIFEST_FILE).is_file():
        return
    if not data_root().is_dir():
        return  # the capability says why it is unavailable; nothing to build from
    try:
        lexical = _wait(submit_index_build(_platform(), IndexBuildRequest(lexical_only=True)))
        if lexical.status != SUCCEEDED:
            log.warning("first_start_index_failed", job=lexical.id, error=lexical.error)
            return
        if plan == "hybrid":
            dense = submit_index_build(_platform(), IndexBuildRequest())
            log.info("first_start_dense_vectors_queued", job=dense.id)
    except ProblemError as exc:  # another process is building it, or the encoder is missing
        log.info("first_start_index_skipped", reason=exc.detail or exc.title)
