"""FAERS history at scale: `python -m benchmarks.signals.faers_history --rows 1000000 10000000`.

Full quarterly FAERS files are not available here (only the head of 2022Q4), so the history is
SYNTHETIC, in the official '$'-delimited layout: quarters of reports whose cases get follow-up
versions in later quarters, a DELETE list, drugs in all four roles with label variants that the
name normalisation folds ("AGENTBCDE 20MG" -> "AGENTBCDE"), and Zipf-distributed drugs and
reactions over vocabularies the size of FAERS's (20,000 ingredients, 12,000 preferred terms).

Each size is scored twice, each in its own process with its peak resident memory from wait4:
  * baseline: the in-memory path (`ingest_faers` -> `score_cases` -> `prioritise`), up to
    --in-memory-up-to rows (beyond it the baseline would need more memory than the machine has);
  * streamed: `hygeia signals score-faers` (faers_history.py).
Both write the ranked table; where both ran, the two tables are checked to be identical.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

QUARTERS = 8
DRUGS, EVENTS = 20_000, 12_000
ROWS_PER_REPORT = 2.0  # kept report-drug-event rows per report version written (roles, versions, repeats)
ROLES = np.array(["PS", "SS", "C", "I"])
ROLE_SHARE = [0.55, 0.15, 0.27, 0.03]
_DOLLARS = pa_csv.WriteOptions(include_header=False, delimiter="$", quoting_style="none")
BASELINE = """
import sys
from hygeia.signals.faers import ingest_faers
from hygeia.signals.priority import prioritise
from hygeia.signals.scoring import score_cases
from hygeia.signals.columnar import write_table
cases, _ = ingest_faers(sys.argv[1])
run = score_cases(cases)
write_table(prioritise(run.table, cases), sys.argv[2])
"""


def _zipf(rng: np.random.Generator, size: int, vocabulary: int) -> np.ndarray:
    return (rng.zipf(1.1, size) - 1) % vocabulary


def _letters(index: np.ndarray) -> np.ndarray:
    """AGENT + four letters per ingredient: digits would be read as a dose and dropped by the
    drug-name normalisation, folding every ingredient into one."""
    out = np.full(index.size, "AGENT", dtype="<U9")
    for power in (17576, 676, 26, 1):
        out = np.char.add(out, np.array(list(string.ascii_uppercase))[(index // power) % 26])
    return out


def write_history(folder: Path, rows: int, seed: int = 11) -> dict[str, int]:
    """Synthetic quarters whose kept report-drug-event rows number about `rows`."""
    rng = np.random.default_rng(seed)
    reports = int(rows / ROWS_PER_REPORT / QUARTERS)
    version = np.zeros(reports * QUARTERS, np.int64)
    written = {"demo": 0, "drug": 0, "reac": 0}
    for q in range(QUARTERS):
        quarter = f"{20 + q // 4}Q{q % 4 + 1}"
        fresh = np.arange(q * reports, (q + 1) * reports)
        follow = (
            rng.choice(q * reports, size=min(q * reports, reports // 5), replace=False) if q else fresh[:0]
        )
        case = np.concatenate([fresh, follow])
        version[case] += 1
        pid = case * 100 + version[case]
        demo = pd.DataFrame(
            {
                "primaryid": pid,
                "caseid": case,
                "caseversion": version[case],
                "fda_dt": 20200101 + 300 * q,
                "age": rng.integers(1, 95, case.size),
                "age_cod": "YR",
                "sex": rng.choice(["F", "M", ""], case.size),
            }
        )
        n_drugs = 1 + rng.poisson(1.6, case.size)
        drug_pid = np.repeat(pid, n_drugs)
        ingredient = _letters(_zipf(rng, drug_pid.size, DRUGS))
        label = np.char.add(ingredient, rng.choice(["", " 20MG", " TABLETS"], drug_pid.size))
        drug = pd.DataFrame(
            {
                "primaryid": drug_pid,
                "caseid": drug_pid // 100,
                "drug_seq": 1,
                "role_cod": rng.choice(ROLES, drug_pid.size, p=ROLE_SHARE),
                "drugname": label,
                "prod_ai": "",
            }
        )
        n_events = 1 + rng.poisson(1.8, case.size)
        reac_pid = np.repeat(pid, n_events)
        reac = pd.DataFrame(
            {
                "primaryid": reac_pid,
                "caseid": reac_pid // 100,
                "pt": np.char.add("EVENT_", np.char.zfill(_zipf(rng, reac_pid.size, EVENTS).astype(str), 5)),
                "drug_rec_act": "",
            }
        )
        outcome = rng.random(case.size) < 0.35
        outc = pd.DataFrame({"primaryid": pid[outcome], "caseid": case[outcome], "outc_cod": "HO"})
        for table, frame in (("DEMO", demo), ("DRUG", drug), ("REAC", reac), ("OUTC", outc)):
            with (folder / f"{table}{quarter}.txt").open("wb") as out:
                out.write(("$".join(frame.columns) + "\n").encode())
                pa_csv.write_csv(pa.Table.from_pandas(frame, preserve_index=False), out, _DOLLARS)
        written["demo"] += len(demo)
        written["drug"] += len(drug)
        written["reac"] += len(reac)
    deleted = rng.choice(reports * QUARTERS, size=reports // 100, replace=False)
    (folder / "DELETE21Q4.txt").write_text("\n".join(map(str, deleted)) + "\n")
    return written


def run_measured(command: list[str], limit_gib: float | None = None) -> tuple[float, float]:
    """(seconds, peak resident MiB) of a child process, from wait4's rusage; with `limit_gib` the child
    gets that address-space cap, so a baseline that cannot fit fails instead of swapping the host."""
    started = time.perf_counter()
    limit = None if limit_gib is None else int(limit_gib * 2**30)

    def cap() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=cap)
    assert child.stderr is not None
    error = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status:
        raise RuntimeError(f"{command[:3]} failed: {error.decode()[-2000:]}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def _baseline(
    folder: Path, out: Path, streamed_out: Path, streamed_s: float, streamed_peak: float, limit_gib: float
) -> dict[str, object]:
    """The in-memory path on the same history, or how it failed (e.g. past its memory cap)."""
    try:
        seconds, peak = run_measured([sys.executable, "-c", BASELINE, str(folder), str(out)], limit_gib)
    except RuntimeError as failure:
        return {"baseline": f"failed under a {limit_gib:g} GiB address-space cap: {str(failure)[-300:]}"}
    return {
        "baseline_s": round(seconds, 1),
        "baseline_peak_mib": round(peak),
        "identical": pd.read_parquet(streamed_out).equals(pd.read_parquet(out)),
        "memory_ratio": round(peak / streamed_peak, 2),
        "speed_ratio": round(seconds / streamed_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=float, nargs="+", default=[1e6, 1e7])
    parser.add_argument("--in-memory-up-to", type=float, default=1e7)
    parser.add_argument("--baseline-limit-gib", type=float, default=12.0, help="the baseline's memory cap")
    parser.add_argument("--workdir", type=Path, default=None, help="scratch folder (default: a temp dir)")
    args = parser.parse_args()
    hygeia = str(Path(sys.executable).with_name("hygeia"))
    results = []
    for rows in args.rows:
        with tempfile.TemporaryDirectory(dir=args.workdir) as scratch:
            folder = Path(scratch) / "history"
            folder.mkdir()
            written = write_history(folder, int(rows))
            streamed_out, baseline_out = (
                Path(scratch) / "streamed.parquet",
                Path(scratch) / "baseline.parquet",
            )
            seconds, peak = run_measured(
                [hygeia, "signals", "score-faers", str(folder), "-o", str(streamed_out)]
            )
            kept = pd.read_parquet(streamed_out, columns=["n"])["n"].sum()  # distinct report-drug-event rows
            row = {
                "target_rows": int(rows),
                **written,
                "pairs": len(pd.read_parquet(streamed_out, columns=["n"])),
                "report_drug_event_rows": int(kept),
                "streamed_s": round(seconds, 1),
                "streamed_peak_mib": round(peak),
            }
            if rows <= args.in_memory_up_to:
                row.update(
                    _baseline(folder, baseline_out, streamed_out, seconds, peak, args.baseline_limit_gib)
                )
            results.append(row)
            print(json.dumps(row), flush=True)
    (Path(__file__).with_name("results_faers_history.json")).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
