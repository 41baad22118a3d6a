"""Load test on loopback: a real `hygeia serve` process, Locust users, bounded time.

Reports req/s, p50/p99 latency and error rate for /health (baseline) and the toxicity prediction
endpoint with and without cache hits, plus each scenario's throughput as a ratio of the baseline.
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
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
DURATION = os.environ.get("HYGEIA_BENCH_DURATION", "15s")
USERS = os.environ.get("HYGEIA_BENCH_USERS", "16")
SCENARIOS = ["Health", "ToxicityCached", "ToxicityUncached"]
RESULTS = Path(__file__).with_name("results.json")  # the last run, quoted in the README


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
        [sys.executable, "-m", "hygeia.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return server, key
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("server did not start")


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


def _run_locust(scenario: str, port: int, env: dict[str, str], out: Path) -> dict[str, float]:
    prefix = out / scenario
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
    with open(f"{prefix}_stats.csv") as handle:
        total = next(row for row in csv.DictReader(handle) if row["Name"] == "Aggregated")
    requests = float(total["Request Count"])
    return {
        "requests": requests,
        "rps": float(total["Requests/s"]),
        "p50_ms": float(total["50%"]),
        "p99_ms": float(total["99%"]),
        "error_rate": float(total["Failure Count"]) / max(requests, 1),
    }


def main() -> int:
    data_dir = Path(os.environ.get("HYGEIA_DATA_DIR", ROOT.parent / "shared" / "data"))
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        env = {
            **os.environ,
            "HYGEIA_VAR_DIR": f"{tmp}/var",
            "HYGEIA_LOG_LEVEL": "WARNING",
            "HYGEIA_RATE_LIMIT_TIERS": '{"enterprise": "1000000/minute"}',
        }
        server, key = _start_server(env, port)
        try:
            smiles = _tox21_smiles(data_dir)
            cold_start_s = _first_prediction_s(port, key, smiles[-1])
            env |= {"HYGEIA_BENCH_KEY": key, "HYGEIA_BENCH_SMILES": json.dumps(smiles)}
            results = {name: _run_locust(name, port, env, Path(tmp)) for name in SCENARIOS}
        finally:
            server.terminate()
            server.wait(timeout=30)
    baseline = results["Health"]["rps"] or 1.0
    print(f"{'scenario':18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} {'vs /health':>10}")
    for name, r in results.items():
        print(
            f"{name:18} {r['rps']:8.1f} {r['p50_ms']:8.0f} {r['p99_ms']:8.0f} {r['error_rate']:7.1%} "
            f"{r['rps'] / baseline:10.3f}"
        )
    print(f"({USERS} users, {DURATION} each, one uvicorn worker, loopback)")
    print(f"first prediction (model load, before the scenarios): {cold_start_s:.2f} s")
    record = {
        "users": int(USERS),
        "duration": DURATION,
        "cpus": os.cpu_count(),
        "first_prediction_s": round(cold_start_s, 3),
        "scenarios": results,
    }
    RESULTS.write_text(json.dumps(record, indent=2) + "\n")
    return 0 if all(r["requests"] > 0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
