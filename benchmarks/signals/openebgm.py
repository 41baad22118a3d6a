"""Hygeia against openEBGM, whole process against whole process, on the same case CSV.

`python -m benchmarks.signals --openebgm` runs, for each input:
  * `hygeia signals score INPUT -o OUT.csv` (and `-o OUT.parquet`) as a child process;
  * `Rscript openebgm_pipeline.R INPUT OUT.csv` (openEBGM 0.9.1: processRaw, autoHyper, Qn, ebgm,
    quantBisect, fwrite) when R with openEBGM is installed (library folder: HYGEIA_BENCH_RLIB,
    default /tmp/Rlib); otherwise the timing recorded in openebgm_recorded.json, labelled as such.
Each is timed by wall clock *and* by the CPU seconds (user + system) of the child process: on a
shared machine the wall clock measures the neighbours too, CPU seconds measure the work.
Inputs: openEBGM's CAERS (tests/fixtures/openebgm) and a simulated 2.56M-row, 329k-pair table.
"""

from __future__ import annotations

import gzip
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
CAERS = HERE.parents[1] / "tests" / "fixtures" / "openebgm" / "caers.csv.gz"
R_PIPELINE = HERE / "openebgm_pipeline.R"
RECORDED = HERE / "openebgm_recorded.json"


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # user + system seconds of the child process (and its children)
    stdout: str


def timed(command: list[str]) -> Timing:
    """Run a command to completion; wall seconds and the CPU seconds it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command[:3]} failed: {done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, done.stdout)


def write_caers(folder: Path) -> Path:
    """openEBGM's CAERS cases as id,drug,event (the product is var1, the event var2)."""
    text = gzip.decompress(CAERS.read_bytes()).decode()
    header, _, body = text.partition("\n")
    path = folder / "caers.csv"
    path.write_text('"id","drug","event","strat1"\n' + body)
    assert header.startswith('"id","var1","var2"')
    return path


def write_large(folder: Path, cells: int = 950_000, seed: int = 19) -> Path:
    """2.56M case rows over 329k pairs (issue 13 quotes 1.9M / 306k), with real heterogeneity.

    Drug and event reporting rates are log-normal; each sampled drug-event cell gets E = rate x rate
    and a relative risk from a two-gamma prior shaped like openEBGM's CAERS fit (6.5% Gamma(3.26,
    0.40), mean RR 8; 93.5% Gamma(2.02, 1.91), near 1), N ~ Poisson(RR x E); each report then
    carries three of the rows.
    """
    rng = np.random.default_rng(seed)
    drug_rate, event_rate = rng.lognormal(0, 1.4, 4000), rng.lognormal(0, 1.4, 6000)
    code = np.unique(rng.integers(0, 4000 * 6000, cells))
    drug, event = code // 6000, code % 6000
    risky = rng.random(code.size) < 0.065
    risk = np.where(risky, rng.gamma(3.26, 1 / 0.40, code.size), rng.gamma(2.02, 1 / 1.91, code.size))
    n = rng.poisson(risk * 0.25 * drug_rate[drug] * event_rate[event])
    rows = np.repeat(np.arange(code.size), n)
    rows = rows[rng.permutation(rows.size)]
    frame = pd.DataFrame(
        {
            "id": np.arange(rows.size) // 3,
            "drug": np.char.add("D", drug[rows].astype(str)),
            "event": np.char.add("E", event[rows].astype(str)),
        }
    )
    path = folder / "large.csv"
    frame.to_csv(path, index=False)
    return path


def r_library() -> str | None:
    """The R library folder holding openEBGM, or None when R or openEBGM is missing."""
    if shutil.which("Rscript") is None:
        return None
    library = os.environ.get("HYGEIA_BENCH_RLIB", "/tmp/Rlib")
    probe = subprocess.run(
        ["Rscript", "-e", f'.libPaths(c("{library}", .libPaths())); library(openEBGM)'],
        capture_output=True,
        check=False,
    )
    return library if probe.returncode == 0 else None


def run_hygeia(source: Path, output: Path) -> Timing:
    return timed([sys.executable, "-m", "hygeia.cli", "signals", "score", str(source), "-o", str(output)])


def run_openebgm(source: Path, output: Path, library: str) -> Timing:
    return timed(["Rscript", str(R_PIPELINE), str(source), str(output), library])


def compare(ours: Path, theirs: Path) -> str:
    """Agreement of the two outputs: pairs, N, E and EBGM / EB05 / EB95 at openEBGM's rounding."""
    a = pd.read_csv(ours, keep_default_na=False, na_values=[""])
    b = pd.read_csv(theirs, keep_default_na=False, na_values=[""])
    merged = a.merge(b, left_on=["drug", "event"], right_on=["var1", "var2"], how="inner")
    parts = [f"pairs {len(a):,} vs {len(b):,}, matched {len(merged):,}"]
    parts.append(f"N equal {bool((merged['n'] == merged['N']).all())}")
    parts.append(f"E max rel diff {float(np.max(np.abs(merged['expected'] / merged['E'] - 1))):.1e}")
    for ours_column, their_column in (("ebgm", "EBGM"), ("eb05", "QUANT_05"), ("eb95", "QUANT_95")):
        difference = np.abs(merged[ours_column] - merged[their_column])
        parts.append(
            f"{ours_column} max |diff| {difference.max():.2f} on {int((difference > 1e-9).sum())} pair(s)"
        )
    return "; ".join(parts)


def bench_input(name: str, source: Path, folder: Path, library: str | None, recorded: dict) -> None:
    ours_csv, ours_parquet = folder / f"{name}.hygeia.csv", folder / f"{name}.hygeia.parquet"
    hygeia = run_hygeia(source, ours_csv)
    parquet = timed(
        [sys.executable, "-m", "hygeia.cli", "signals", "score", str(source), "-o", str(ours_parquet)]
    )
    print(f"\n== {name}: {source.stat().st_size / 2**20:.1f} MiB of case rows")
    print(f"hygeia (CSV out):     wall {hygeia.wall:6.2f} s, CPU {hygeia.cpu:6.2f} s")
    print(f"hygeia (Parquet out): wall {parquet.wall:6.2f} s, CPU {parquet.cpu:6.2f} s")
    if library is not None:
        theirs_csv = folder / f"{name}.openebgm.csv"
        openebgm = run_openebgm(source, theirs_csv, library)
        label = "openEBGM 0.9.1, measured now"
        print(f"openEBGM:             wall {openebgm.wall:6.2f} s, CPU {openebgm.cpu:6.2f} s  ({label})")
        print(f"  openEBGM hyperparameters, method, num_close, squashed: {openebgm.stdout.strip()}")
        print(f"  agreement: {compare(ours_csv, theirs_csv)}")
        wall, cpu = openebgm.wall, openebgm.cpu
    else:
        entry = recorded[name]
        wall, cpu, label = entry["wall"], entry["cpu"], f"RECORDED {entry['when']} ({entry['machine']})"
        print(f"openEBGM:             wall {wall:6.2f} s, CPU {cpu:6.2f} s  ({label}; R not available)")
    print(
        f"speed-up (openEBGM / hygeia): CPU x{cpu / hygeia.cpu:.1f}, wall x{wall / hygeia.wall:.1f} "
        f"(Parquet out: CPU x{cpu / parquet.cpu:.1f})"
    )


def main(folder: Path) -> None:
    library = r_library()
    recorded = json.loads(RECORDED.read_text()) if RECORDED.exists() else {}
    print("openEBGM comparison:", "R + openEBGM found" if library else "R/openEBGM missing: recorded timings")
    folder.mkdir(parents=True, exist_ok=True)
    bench_input("caers", write_caers(folder), folder, library, recorded)
    bench_input("large", write_large(folder), folder, library, recorded)
