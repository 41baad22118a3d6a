"""Load test on loopback: a real `hygeia serve` process, Locust users, bounded time.

Reports req/s, p50/p99 latency and error rate for /health, an authenticated whoami, and the toxicity
prediction endpoint with and without cache hits, each as a ratio of the anchor: a plain FastAPI
hello-JSON app served by the same uvicorn, started in the same run. Each scenario also records the
server process's CPU time per request (user + system, all its threads): on a machine shared with
other work, req/s follows whatever else runs, while CPU per request stays a property of the code.

`HYGEIA_BENCH_WORKERS=N` serves both apps with N uvicorn worker processes (default 1); server CPU is
then summed over the worker processes. Results go to a file named for the count (results-2-workers.json).

`--production` runs Hygeia on its production adapters instead of the embedded ones: PostgreSQL
(HYGEIA_TEST_POSTGRES_URL, default the local `test` database) and Redis (HYGEIA_TEST_REDIS_URL) for
cache and rate limits. Results go to results.json or results-production.json.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[2]
DURATION = os.environ.get("HYGEIA_BENCH_DURATION", "15s")
USERS = os.environ.get("HYGEIA_BENCH_USERS", "16")
WORKERS = int(os.environ.get("HYGEIA_BENCH_WORKERS", "1"))
SCENARIOS = ["Health", "Whoami", "ToxicityCached", "ToxicityUncached"]
POSTGRES = os.environ.get("HYGEIA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("HYGEIA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(env: dict[str, str], port: int) -> tuple[subprocess.Popen[bytes], str]:
    bootstrap = subprocess.run(
        [sys.executable, "-m", "hygeia.cli", "bootstrap"], env=env, capture_output=True, text=True, check=True
    )
    key = next(line for line in bootstrap.stdout.splitlines() if line.startswith("hyg_"))
    server = subprocess.Popen(
        [sys.executable, "-m", "hygeia.cli", "serve", "--port", str(port), "--workers", str(WORKERS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_until_up(server, f"http://127.0.0.1:{port}/health")
    return server, key


def _start_hello(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "benchmarks.load.hello_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(WORKERS),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_until_up(server, f"http://127.0.0.1:{port}/hello")
    return server


def _wait_until_up(server: subprocess.Popen[bytes], url: str) -> None:
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(f"server did not start: {url}")


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    server.wait(timeout=30)


def _production_env(env: dict[str, str]) -> dict[str, str]:
    """A clean schema in the local PostgreSQL `test` database and a flushed Redis db for this run."""
    import redis
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    redis.Redis.from_url(REDIS).flushdb()
    return env | {"HYGEIA_DATABASE_URL": POSTGRES, "HYGEIA_REDIS_URL": REDIS}


def _tox21_smiles(data_dir: Path, n: int = 2000) -> list[str]:
    with (data_dir / "tox21" / "tox21.csv").open() as handle:
        return [row["smiles"] for _, row in zip(range(n), csv.DictReader(handle), strict=False)]


def _first_prediction_s(port: int, key: str, smiles: str) -> float:
    """The first prediction loads the model; timed on its own so the scenarios measure steady state."""
    started = time.perf_counter()
    response = httpx.post(
        f"http://127.0.0.1:{port}/api/v1/toxicity/predict",
        json={"smiles": smiles},
        headers={"X-API-Key": key},
        timeout=120,
    )
    response.raise_for_status()
    return time.perf_counter() - started


def _warm_every_worker(port: int, key: str, smiles: list[str]) -> None:
    """Each worker process loads the model on its first prediction; rounds of concurrent requests
    reach every worker (the kernel spreads connections) before the timed scenarios start."""
    concurrent = 8 * WORKERS

    def predict(text: str) -> None:  # a refused molecule (422) warms the worker too
        httpx.post(
            f"http://127.0.0.1:{port}/api/v1/toxicity/predict",
            json={"smiles": text},
            headers={"X-API-Key": key},
            timeout=120,
        )

    with ThreadPoolExecutor(concurrent) as pool:
        for _ in range(3):
            list(pool.map(predict, smiles[:concurrent]))


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a server and its worker processes, all their threads."""
    server = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [server, *server.children(recursive=True)])


def _run_locust(
    scenario: str, port: int, env: dict[str, str], out: Path, server_pid: int
) -> dict[str, float]:
    prefix = out / scenario
    cpu_before = _cpu_seconds(server_pid)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(Path(__file__).with_name("locustfile.py")),
            scenario,
            "--headless",
            "-u",
            USERS,
            "-r",
            USERS,
            "-t",
            DURATION,
            "--host",
            f"http://127.0.0.1:{port}",
            "--csv",
            str(prefix),
            "--only-summary",
        ],
        env=env,
        check=False,
        capture_output=True,
    )
    cpu_seconds = _cpu_seconds(server_pid) - cpu_before
    with open(f"{prefix}_stats.csv") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    requests = float(total["Request Count"])
    return {
        "requests": requests,
        "rps": float(total["Requests/s"]),
        "p50_ms": float(total["50%"]),
        "p99_ms": float(total["99%"]),
        "error_rate": float(total["Failure Count"]) / max(requests, 1),
        "server_cpu_ms_per_request": round(1000 * cpu_seconds / max(requests, 1), 3),
    }


def _measure_hello(env: dict[str, str], out: Path) -> dict[str, float]:
    port = _free_port()
    server = _start_hello(env, port)
    try:
        return _run_locust("Hello", port, env, out, server.pid)
    finally:
        _stop(server)


def _measure_hygeia(env: dict[str, str], smiles: list[str], out: Path) -> tuple[float, dict[str, dict]]:
    port = _free_port()
    server, key = _start_server(env, port)
    try:
        cold_start_s = _first_prediction_s(port, key, smiles[-1])
        if WORKERS > 1:
            _warm_every_worker(port, key, smiles[-200:])
        env = env | {"HYGEIA_BENCH_KEY": key, "HYGEIA_BENCH_SMILES": json.dumps(smiles)}
        return cold_start_s, {name: _run_locust(name, port, env, out, server.pid) for name in SCENARIOS}
    finally:
        _stop(server)


def _print_table(results: dict[str, dict], adapters: str) -> None:
    anchor = results["Hello"]["rps"] or 1.0
    print(
        f"{'scenario':18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs hello':>9} "
        f"{'server CPU ms/req':>18}"
    )
    for name, r in results.items():
        print(
            f"{name:18} {r['rps']:8.1f} {r['p50_ms']:8.0f} {r['p99_ms']:8.0f} {r['error_rate']:7.1%} "
            f"{r['rps'] / anchor:9.3f} {r['server_cpu_ms_per_request']:18.3f}"
        )
    print(f"({USERS} users, {DURATION} each, {WORKERS} uvicorn worker(s), loopback, {adapters})")


def main() -> int:
    production = "--production" in sys.argv[1:]
    load_at_start = round(os.getloadavg()[0], 2)  # what else this machine was doing, for the record
    data_dir = Path(os.environ.get("HYGEIA_DATA_DIR", ROOT.parent / "shared" / "data"))
    smiles = _tox21_smiles(data_dir)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "HYGEIA_VAR_DIR": f"{tmp}/var",
            "HYGEIA_LOG_LEVEL": "WARNING",
            "HYGEIA_RATE_LIMIT_TIERS": '{"enterprise": "1000000/minute"}',
            "HYGEIA_KEY_RATE_LIMIT": "",
            # steady-state serving, not the first start's background index build competing for CPU
            "HYGEIA_EVIDENCE_INDEX_ON_START": "off",
        }
        if production:
            env = _production_env(env)
        results = {"Hello": _measure_hello(env, Path(tmp))}
        cold_start_s, scenarios = _measure_hygeia(env, smiles, Path(tmp))
        results |= scenarios
    adapters = "PostgreSQL + Redis" if production else "SQLite + in-process cache"
    _print_table(results, adapters)
    print(f"first prediction (model load, before the scenarios): {cold_start_s:.2f} s")
    print(f"load average (1 min): {load_at_start} at the start, {os.getloadavg()[0]:.2f} at the end")
    record = {
        "users": int(USERS),
        "duration": DURATION,
        "uvicorn_workers": WORKERS,
        "cpus": os.cpu_count(),
        "load_average_1min": {"start": load_at_start, "end": round(os.getloadavg()[0], 2)},
        "adapters": adapters,
        "first_prediction_s": round(cold_start_s, 3),
        "anchor": "Hello (plain FastAPI hello-JSON app, same uvicorn, same run)",
        "ratios_to_anchor": {
            name: round(r["rps"] / (results["Hello"]["rps"] or 1.0), 3) for name, r in results.items()
        },
        "scenarios": results,
    }
    name = "results-production" if production else "results"
    out = Path(__file__).with_name(f"{name}.json" if WORKERS == 1 else f"{name}-{WORKERS}-workers.json")
    out.write_text(json.dumps(record, indent=2) + "\n")
    return 0 if all(r["requests"] > 0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
