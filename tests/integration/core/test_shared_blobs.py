"""Three processes on three var dirs share one PostgreSQL, one Redis and one S3 endpoint.

API node A takes a signals upload, a separate `hygeia worker` scores it, API node B serves the
results and the CSV download, and deleting the run on B removes its objects from the bucket. No node
reads another's disk: each has its own HYGEIA_VAR_DIR, and none of them holds a blob afterwards.
The same for the evidence index (the worker builds it from the real corpus, both API nodes fetch it
from the bucket and answer the same) and a toxicity batch job (the worker's scores equal what an API
node computes itself).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.conftest import auth_header
from tests.s3_server import S3Endpoint, free_port, running_s3

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUCKET = "hygeia-shared"
PREFIX = "it"


def _cases_csv() -> str:
    """A small but real case file: DRUGA-NAUSEA is reported far more often than independence predicts."""
    rows = ["id,drug,event,quarter"]
    for case in range(400):
        drug = "DRUGA" if case % 4 == 0 else f"DRUG{case % 7}"
        event = "NAUSEA" if (drug == "DRUGA" and case % 3) else f"EVENT{case % 5}"
        rows.append(f"c{case},{drug},{event},2024Q{1 + case % 4}")
    return "\n".join(rows) + "\n"


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "hygeia.cli", *command], env=env, stdout=handle, stderr=handle
    )


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{url} exited with {process.returncode}: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not healthy after {timeout} s: {log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def s3() -> Iterator[S3Endpoint]:
    with running_s3() as endpoint:
        endpoint.new_bucket(BUCKET)
        yield endpoint


@pytest.fixture
def nodes(pg_platform, redis_url, s3: S3Endpoint, tmp_path: Path) -> Iterator[dict[str, str]]:
    """API nodes a and b and a worker, each with its own var dir; returns the API base URLs."""
    shared = {
        **os.environ,  # pg_platform's database and test settings
        **s3.environment(BUCKET, PREFIX),
        "HYGEIA_REDIS_URL": redis_url,
        "HYGEIA_JOBS_BACKEND": "celery",
        "HYGEIA_DOMAINS": '["signals", "evidence", "toxicity"]',
    }
    urls: dict[str, str] = {}
    with ExitStack() as stack:
        worker_log = tmp_path / "worker.log"
        worker_env = {**shared, "HYGEIA_VAR_DIR": str(tmp_path / "var-worker")}
        worker = _start(["worker", "--concurrency", "1"], worker_env, worker_log)
        stack.callback(_stop, worker)
        for name in ("a", "b"):
            port, log = free_port(), tmp_path / f"api-{name}.log"
            env = {**shared, "HYGEIA_VAR_DIR": str(tmp_path / f"var-{name}")}
            process = _start(["serve", "--no-bootstrap", "--port", str(port)], env, log)
            stack.callback(_stop, process)
            urls[name] = f"http://127.0.0.1:{port}"
            _wait_healthy(urls[name], process, log)
        yield urls


def _wait_succeeded(url: str, headers: dict[str, str], timeout: float = 600) -> dict:
    """Poll a run or job URL until it has finished; a timeout says where it stood."""
    deadline, status = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        status = httpx.get(url, headers=headers, timeout=30).json()
        if status["status"] in ("succeeded", "failed"):
            assert status["status"] == "succeeded", status
            return status
        time.sleep(1)
    where = {k: status.get(k) for k in ("status", "progress", "message")}
    raise AssertionError(f"{url} not finished after {timeout} s: {where}")


def test_a_run_uploaded_to_one_node_is_scored_by_a_worker_and_served_by_another(
    nodes: dict[str, str], pg_platform, s3: S3Endpoint, tmp_path: Path
):
    headers = auth_header(pg_platform.admin_key)
    a, b = nodes["a"], nodes["b"]
    for url in (a, b):
        ready = httpx.get(f"{url}/ready", timeout=10).json()
        assert ready["checks"]["blobs"] == {"ok": True, "backend": "s3", "error": None}

    submitted = httpx.post(
        f"{a}/api/v1/signals/runs",
        files={"file": ("cases.csv", _cases_csv(), "text/csv")},
        headers=headers,
        timeout=30,
    )
    assert submitted.status_code == 202, submitted.text
    run_id = submitted.json()["run_id"]
    summary = _wait_succeeded(f"{b}/api/v1/signals/runs/{run_id}", headers)["summary"]
    assert summary["top"], summary

    tenant = "platform"
    keys = s3.keys(BUCKET)
    ranked = f"{PREFIX}/tenants/{tenant}/jobs/{run_id}/ranked.csv.gz"
    assert ranked in keys
    uploads = [k for k in keys if k.startswith(f"{PREFIX}/tenants/{tenant}/signals/uploads/")]
    assert len(uploads) == 1 and uploads[0].endswith(".csv") and len(keys) == 2, keys

    pages = {
        url: httpx.get(f"{url}/api/v1/signals/runs/{run_id}/signals", headers=headers, timeout=30)
        for url in (a, b)
    }
    assert pages[b].status_code == 200, pages[b].text
    assert pages[b].json() == pages[a].json() and pages[b].json()["total"] > 0
    top = pages[b].json()["items"][0]

    exports = {
        url: httpx.get(f"{url}/api/v1/signals/runs/{run_id}/signals.csv", headers=headers, timeout=30)
        for url in (a, b)
    }
    assert exports[b].status_code == 200 and exports[b].content == exports[a].content
    assert exports[b].text.splitlines()[0].startswith('"drug","event"')
    assert len(exports[b].text.splitlines()) == pages[b].json()["total"] + 1

    detail = httpx.get(
        f"{b}/api/v1/signals/runs/{run_id}/pair",
        params={"drug": top["drug"], "event": top["event"]},
        headers=headers,
        timeout=30,
    )
    assert detail.status_code == 200, detail.text
    assert detail.json()["trend"], "the trend is read from the upload, which node B only has through S3"

    exported = httpx.get(f"{b}/api/v1/admin/tenants/{tenant}/export", headers=headers, timeout=60)
    assert exported.status_code == 200, exported.text
    with zipfile.ZipFile(io.BytesIO(exported.content)) as archive:  # the files, read from the bucket
        names = archive.namelist()
        [upload] = [name for name in names if name.startswith("files/signals/uploads/")]
        assert archive.read(upload) == _cases_csv().encode()
        assert f"files/jobs/{run_id}/ranked.csv.gz" in names

    for node in ("a", "b", "worker"):  # nothing was kept on any node's own disk
        assert not list((tmp_path / f"var-{node}").rglob("*.csv*")), node

    deleted = httpx.delete(f"{b}/api/v1/jobs/{run_id}", headers=headers, timeout=30)
    assert deleted.status_code == 204, deleted.text
    assert s3.keys(BUCKET) == []
    gone = httpx.get(f"{a}/api/v1/signals/runs/{run_id}", headers=headers, timeout=10)
    assert gone.status_code == 404


def _search(url: str, headers: dict[str, str], timeout: float = 60) -> httpx.Response:
    """A node looks at the shared pointer every few seconds (shared_index.CHECK_SECONDS)."""
    deadline = time.monotonic() + timeout
    body = {"query": "sildenafil pulmonary arterial hypertension", "k": 5, "mode": "bm25"}
    while True:
        answer = httpx.post(f"{url}/api/v1/evidence/search", json=body, headers=headers, timeout=60)
        if answer.status_code != 503 or time.monotonic() > deadline:
            return answer
        time.sleep(1)


def test_an_evidence_index_built_by_the_worker_is_searched_on_both_api_nodes(
    nodes: dict[str, str], pg_platform, s3: S3Endpoint, tmp_path: Path
):
    """The smallest real build the code offers: BM25 over the whole real corpus (`lexical_only`);
    embedding it is minutes of CPU that prove nothing more about sharing."""
    headers = auth_header(pg_platform.admin_key)
    a, b = nodes["a"], nodes["b"]
    before = httpx.post(
        f"{b}/api/v1/evidence/search", json={"query": "sildenafil"}, headers=headers, timeout=30
    )
    assert before.status_code == 503 and "not built" in before.json()["detail"]

    queued = httpx.post(
        f"{a}/api/v1/evidence/index", json={"lexical_only": True}, headers=headers, timeout=30
    )
    assert queued.status_code == 202, queued.text
    built = _wait_succeeded(f"{b}/api/v1/jobs/{queued.json()['id']}", headers)["result"]
    assert built["documents"] > 10_000 and not built["dense"], built

    keys = s3.keys(BUCKET)
    assert f"{PREFIX}/shared/evidence/index/current.json" in keys
    builds = {k.split("/")[5] for k in keys if k.startswith(f"{PREFIX}/shared/evidence/index/builds/")}
    assert len(builds) == 1, keys
    [build] = builds
    answers = {url: _search(url, headers) for url in (b, a)}
    assert answers[b].status_code == 200, answers[b].text
    hits = answers[b].json()["hits"]
    assert hits and "sildenafil" in (hits[0]["title"] + hits[0]["snippet"]).lower(), hits[0]
    assert [h["id"] for h in answers[a].json()["hits"]] == [h["id"] for h in hits]
    assert answers[a].json()["index"] == answers[b].json()["index"]
    assert answers[b].json()["index"]["documents"] == built["documents"]
    for node in ("a", "b", "worker"):  # each node searches its own copy of the one shared build
        link = tmp_path / f"var-{node}" / "evidence" / "index"
        assert link.is_symlink() and os.readlink(link) == build, node


def _tox21_smiles() -> list[str]:
    import csv

    from tests.conftest import REPO_ROOT

    with (REPO_ROOT.parent / "shared" / "data" / "tox21" / "tox21.csv").open() as handle:
        return [row["smiles"] for row in csv.DictReader(handle)]


def test_a_toxicity_batch_job_is_scored_by_the_worker_and_read_through_either_node(
    nodes: dict[str, str], pg_platform
):
    """Over 10,000 rows the API queues the batch (202): all 7,831 Tox21 molecules, 2,169 of them
    again, and one invalid row; 40 of them scored by API node A itself must match the worker's."""
    headers = auth_header(pg_platform.admin_key)
    a, b = nodes["a"], nodes["b"]
    tox21 = _tox21_smiles()
    smiles = [*tox21, *tox21[: 10_000 - len(tox21)], "not a molecule"]
    ids = [f"cmp-{n}" for n in range(len(smiles))]
    body = {"smiles": smiles, "ids": ids}
    submitted = httpx.post(f"{a}/api/v1/toxicity/predict/batch", json=body, headers=headers, timeout=120)
    assert submitted.status_code == 202, submitted.text
    job = _wait_succeeded(f"{b}/api/v1/jobs/{submitted.json()['job_id']}", headers, timeout=900)
    results = job["result"]["results"]
    assert [r["id"] for r in results] == ids
    assert results[-1]["error"] and not results[-1]["probabilities"]
    assert job["result"]["n_errors"] == sum(r["error"] is not None for r in results) >= 1
    repeat = len(tox21)
    assert results[repeat]["probabilities"] == results[0]["probabilities"]

    sample = {"smiles": smiles[:40], "ids": ids[:40]}
    direct = httpx.post(f"{a}/api/v1/toxicity/predict/batch", json=sample, headers=headers, timeout=120)
    assert direct.status_code == 200, direct.text
    assert job["result"]["model"] == direct.json()["model"]
    for worker_row, api_row in zip(results[:40], direct.json()["results"], strict=True):
        assert (worker_row["error"] is None) == (api_row["error"] is None)
        if api_row["probabilities"]:
            assert worker_row["probabilities"] == pytest.approx(api_row["probabilities"], abs=1e-9)
    again = httpx.get(f"{a}/api/v1/jobs/{job['id']}", headers=headers, timeout=60).json()
    assert again["result"]["results"][:40] == results[:40]
