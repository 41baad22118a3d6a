"""Screen throughput with 1 and 2 Celery workers (issue #12).

    python -m benchmarks.toxicity.screen_workers [--molecules 16000] [--chunk 2000] [--json OUT]

Each run starts from an empty var directory (SQLite, local blob store), uses Redis database 15 on
127.0.0.1 as the broker (flushed first), starts N `hygeia worker --concurrency 1` processes, warms
each one (a small screen of one-molecule chunks, so every worker loads the model), then submits one
screen of the Tox21 SMILES repeated to `--molecules` rows through the API and times it from the upload
to the merged CSV. The runs alternate 1 and 2 workers so that the machine's drift hits both alike; the
workers' CPU per molecule (pool processes included) tells a slow machine from idle workers.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "tox21" / "tox21.csv"
REDIS = "redis://127.0.0.1:6379/15"


def library(n: int) -> bytes:
    with DATA.open() as handle:
        smiles = [row["smiles"] for row in csv.DictReader(handle)]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["compound_id", "smiles"])
    writer.writerows((f"m{i}", smiles[i % len(smiles)]) for i in range(n))
    return out.getvalue().encode()


def _run(workers: int, body: bytes, molecules: int, chunk: int) -> dict[str, Any]:
    """One timed screen in a child interpreter, so every run gets fresh settings and caches."""
    with tempfile.TemporaryDirectory() as var:
        env = {
            **os.environ,
            "HYGEIA_VAR_DIR": var,
            "HYGEIA_REDIS_URL": REDIS,
            "HYGEIA_JOBS_BACKEND": "celery",
        }
        library_path = Path(var) / "library.csv"
        library_path.write_bytes(body)
        args = [sys.executable, "-m", "benchmarks.toxicity.screen_workers", "--one", str(workers)]
        args += ["--library", str(library_path), "--chunk", str(chunk)]
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False, cwd=REPO)
        if done.returncode != 0:
            raise RuntimeError(done.stdout[-2000:] + done.stderr[-4000:])
        return json.loads(done.stdout.strip().splitlines()[-1])


def _one(workers: int, library_path: Path, chunk: int) -> dict[str, Any]:
    import redis
    from fastapi.testclient import TestClient

    from hygeia.app import create_app
    from hygeia.core import auth
    from hygeia.core.bootstrap import bootstrap

    redis.Redis.from_url(REDIS).flushdb()
    bootstrap()  # tables and the bundled models, before any worker looks for them
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "hygeia.cli", "worker", "--concurrency", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its pool children go with it
        )
        for _ in range(workers)
    ]
    try:
        with TestClient(create_app()) as client:
            auth.create_tenant("bench", "Bench", "enterprise")
            headers = {"X-API-Key": auth.create_api_key("bench", "analyst", "screen benchmark")[1]}
            warm = "smiles\n" + "CCO\n" * (4 * workers)
            _screen(client, headers, warm.encode(), "warm.smi", 1)
            started = time.perf_counter()
            job = _screen(client, headers, library_path.read_bytes(), "library.csv", chunk)
            seconds = time.perf_counter() - started
            merged = client.get(job["result"]["download"], headers=headers).text
            rows = list(csv.DictReader(io.StringIO(merged)))
            worker_cpu = sum(_tree_cpu(proc.pid) for proc in procs)
            peak_mb = max(_tree_peak_mb(proc.pid) for proc in procs)
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGKILL)  # nothing of theirs is left to finish
            proc.wait()
    n = job["result"]["n_rows"]
    assert len(rows) == n and [r["compound_id"] for r in rows[:3]] == ["m0", "m1", "m2"]
    return {
        "workers": workers,
        "molecules": n,
        "errors": job["result"]["n_errors"],
        "chunks": job["result"]["chunks"],
        "seconds": round(seconds, 1),
        "molecules_per_second": round(n / seconds, 1),
        "worker_cpu_ms_per_molecule": round(1000 * worker_cpu / n, 2),  # warm-up included: a few molecules
        "worker_peak_rss_mb": round(peak_mb),  # the largest process of any worker (VmHWM)
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a worker and its pool processes (alive, so not in the parent's children times)."""
    import psutil

    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [root, *root.children(recursive=True)])


def _tree_peak_mb(pid: int) -> float:
    import psutil

    root = psutil.Process(pid)
    peaks = []
    for process in [root, *root.children(recursive=True)]:
        status = Path(f"/proc/{process.pid}/status").read_text()
        peaks.append(int(status.split("VmHWM:")[1].split()[0]) / 1024)
    return max(peaks)


def _screen(client: Any, headers: dict[str, str], body: bytes, name: str, chunk: int) -> dict[str, Any]:
    accepted = client.post(
        "/api/v1/toxicity/screens",
        params={"chunk_size": chunk},
        files={"file": (name, body, "text/csv")},
        headers=headers,
    ).json()
    while True:
        job = client.get(accepted["poll"], headers=headers).json()
        if job["status"] in ("succeeded", "failed"):
            if job["status"] == "failed":
                raise RuntimeError(job["error"])
            return job
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", type=int, default=16_000)
    parser.add_argument("--chunk", type=int, default=2_000)
    parser.add_argument("--pairs", type=int, default=2, help="1-worker / 2-worker runs, alternating")
    parser.add_argument("--workers", type=int, default=None, help="one run with this many workers instead")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--library", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(_one(args.one, args.library, args.chunk)))
        return
    body = library(args.molecules)
    if args.workers is not None:
        print(json.dumps(_run(args.workers, body, args.molecules, args.chunk)))
        return
    runs = []
    for workers in (1, 2) * args.pairs:
        runs.append(_run(workers, body, args.molecules, args.chunk))
        print(json.dumps(runs[-1]), flush=True)
    by_workers = {w: [r["molecules_per_second"] for r in runs if r["workers"] == w] for w in (1, 2)}
    result = {
        "question": "toxicity screen throughput, 1 and 2 Celery workers (concurrency 1 each), one machine",
        "cores": os.cpu_count(),
        "runs": runs,
        "speedup_2_over_1": [round(b / a, 2) for a, b in zip(by_workers[1], by_workers[2], strict=True)],
    }
    print(json.dumps(result["speedup_2_over_1"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
