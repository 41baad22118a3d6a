"""Batch prediction throughput of the shipped toxicity models vs the plain baseline and ADMET-AI, in one run.

`python -m benchmarks.toxicity [--molecules N] [--model FOLDER ...] [--admet-python PATH] [--json OUT]`

Every pipeline scores the same real Tox21 SMILES in the same run. The baseline is what one would
deploy first: RDKit parse, ECFP4 bits, 12 LightGBM models with library defaults (fitted here, on the
same data, so that its cost is measured rather than assumed). Each shipped model (repeat --model to
compare versions) adds standardisation, its feature sets, the ensemble, calibration, conformal sets
and the applicability-domain search; it is timed per phase, end to end in one process, end to end over
the worker pool (the path large batches take; its answers must equal the one-process ones), and one
molecule at a time (the API's single-SMILES path). Results are molecules/second and ratios, so they do
not depend on this machine's absolute speed; peak memory is this process's maximum resident set size
(pool workers and ADMET-AI's interpreter are separate processes, not included).
If an ADMET-AI environment is given (a separate venv), it is timed on the same molecules too, then
once more step by step (its physicochemical properties, its Chemprop ensembles) to show where its CPU goes.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from rdkit import Chem, rdBase

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.dataset import read_tox21
from hygeia.toxicity.featurize import MorganBitFeaturizer, featurize_many
from hygeia.toxicity.loading import bundled_folder, load_folder
from hygeia.toxicity.members import BASELINE, fit_endpoint
from hygeia.toxicity.molecules import StandardisedMolecule, prepare
from hygeia.toxicity.parallel import PARALLEL_MIN, worker_count
from hygeia.toxicity.predictor import predict_items, predict_prepared, prepare_all

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "tox21" / "tox21.csv"
ADMET_SCRIPT = """
import sys, time, json
import pandas as pd
from admet_ai import ADMETModel
smiles = [line.strip() for line in open(sys.argv[1]) if line.strip()]
started = time.perf_counter(); model = ADMETModel(num_workers=0); loaded = time.perf_counter()
cpu = time.process_time(); predictions = model.predict(smiles=smiles); cpu = time.process_time() - cpu
done = time.perf_counter()
report = {"load_s": loaded - started, "predict_s": done - loaded, "predict_cpu_s": cpu}
try:  # where its CPU goes, by its own (private) steps; a later release may rename them
    from admet_ai.physchem import compute_physicochemical_properties
    phases = {}
    mols, valid = model._filter_valid_molecules(smiles=smiles)
    for name, step in (
        ("physchem", lambda: compute_physicochemical_properties(all_smiles=valid, mols=mols)),
        ("chemprop_ensembles", lambda: model._make_ensemble_predictions(model._build_dataloader(mols=mols))),
    ):
        cpu = time.process_time(); step(); phases[name] = 1000 * (time.process_time() - cpu) / len(mols)
    report["phase_cpu_ms_per_molecule"] = phases
except (AttributeError, ImportError, TypeError):
    pass
print(json.dumps({**report, "rows": len(predictions)}))
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def timed(function: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (pool workers, ADMET-AI's interpreter)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cpu_timed(function: Callable[[], Any]) -> tuple[Any, float, float]:
    """Result, wall seconds and CPU seconds. On a machine shared with other jobs wall time depends on
    their load from minute to minute; CPU time per molecule (the work done) does much less."""
    started = cpu_seconds()
    result, wall = timed(function)
    return result, wall, cpu_seconds() - started


def benchmark_smiles(data: Path, n: int) -> list[str]:
    """Every k-th Tox21 SMILES (deterministic), so all chemotypes and the invalid rows are represented."""
    smiles = read_tox21(data)["smiles"].tolist()
    step = max(1, len(smiles) // n)
    return smiles[::step][:n]


def baseline_models(data: Path) -> dict[str, lgb.Booster]:
    """The plain baseline fitted on all parseable Tox21 rows (RDKit parse only, no standardisation)."""
    frame = read_tox21(data)
    with rdBase.BlockLogs():
        mols = [Chem.MolFromSmiles(s) for s in frame["smiles"]]
    keep = [i for i, m in enumerate(mols) if m is not None]
    x = featurize_many(MorganBitFeaturizer(), [mols[i] for i in keep])
    labels = frame[list(ENDPOINTS)].to_numpy(dtype=np.float32)[keep]
    boosters = {}
    for j, endpoint in enumerate(ENDPOINTS):
        tested = ~np.isnan(labels[:, j])
        boosters[endpoint] = fit_endpoint(BASELINE, x[tested], labels[tested, j], seed=0)
    return boosters


def run_baseline(boosters: dict[str, lgb.Booster], smiles: list[str]) -> dict[str, float]:
    featurizer = MorganBitFeaturizer()

    def featurise() -> np.ndarray:
        with rdBase.BlockLogs():
            mols = [m for m in (Chem.MolFromSmiles(s) for s in smiles) if m is not None]
        return featurize_many(featurizer, mols)

    x, featurise_s, featurise_cpu = cpu_timed(featurise)
    _, model_s, model_cpu = cpu_timed(lambda: np.column_stack([boosters[e].predict(x) for e in ENDPOINTS]))
    total = featurise_s + model_s
    return {
        "parse_and_featurise_s": featurise_s,
        "model_s": model_s,
        "total_s": total,
        "per_s": len(smiles) / total,
        "cpu_ms_per_molecule": 1000 * (featurise_cpu + model_cpu) / len(smiles),
    }


def run_shipped(folder: Path, smiles: list[str], latency_molecules: int) -> dict[str, Any]:
    """Phase timings, then the whole batch path in one process and over the worker pool, then
    single-molecule latency (the API's one-SMILES path) on the first `latency_molecules` inputs."""
    model, load_s = timed(lambda: load_folder(folder))
    prepared, standardise_s = timed(lambda: prepare_all(smiles))
    mols = [p.mol for p in prepared if isinstance(p, StandardisedMolecule)]
    features, featurise_s = timed(lambda: model.featurize(mols))
    scores, model_s = timed(lambda: model.calibrate(model.raw_scores(features)))
    _, domain_s = timed(lambda: model.domain.nearest_similarity(mols))
    one, one_process_s, one_process_cpu = cpu_timed(lambda: predict_items(model, smiles, smiles, workers=0))
    workers = max(2, worker_count(PARALLEL_MIN))
    fanned, pool_s, pool_cpu = cpu_timed(lambda: predict_items(model, smiles, smiles, workers=workers))
    if fanned != one:
        raise AssertionError("worker-pool predictions differ from the one-process ones")
    single = smiles[:latency_molecules]
    _, single_s, single_cpu = cpu_timed(lambda: [predict_prepared(model, [s], [prepare(s)]) for s in single])
    return {
        "version": model.version,
        "load_s": load_s,
        "standardise_s": standardise_s,
        "featurise_s": featurise_s,
        "model_s": model_s,
        "applicability_domain_s": domain_s,
        "one_process_s": one_process_s,
        "one_process_per_s": len(smiles) / one_process_s,
        "one_process_cpu_ms_per_molecule": 1000 * one_process_cpu / len(smiles),
        "workers": workers,
        "worker_pool_s": pool_s,
        "per_s": len(smiles) / pool_s,
        "worker_pool_cpu_ms_per_molecule": 1000 * pool_cpu / len(smiles),  # workers' start-up included
        "single_molecule_ms": 1000 * single_s / len(single),
        "single_molecule_cpu_ms": 1000 * single_cpu / len(single),
        "scored": len(mols),
        "rows_with_error": len(smiles) - len(mols),
        "mean_probability": float(np.mean(scores)),
    }


def run_admet(python: Path, smiles: list[str]) -> dict[str, Any]:
    """ADMET-AI in its own interpreter (its torch/chemprop stack stays out of this venv)."""
    with rdBase.BlockLogs():
        valid = [s for s in smiles if s and Chem.MolFromSmiles(s) is not None]
    with tempfile.TemporaryDirectory() as tmp:
        source, script = Path(tmp) / "in.smi", Path(tmp) / "run.py"
        source.write_text("\n".join(valid) + "\n")
        script.write_text(ADMET_SCRIPT)
        started = time.perf_counter()
        done = subprocess.run(
            [str(python), str(script), str(source)], capture_output=True, text=True, timeout=3600, check=False
        )
        wall = time.perf_counter() - started
    if done.returncode != 0:
        return {
            "error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed",
            "wall_s": wall,
        }
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        **result,
        "molecules": len(valid),
        "per_s": len(valid) / result["predict_s"],
        "cpu_ms_per_molecule": 1000 * result["predict_cpu_s"] / len(valid),
        "wall_s": wall,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--molecules", type=int, default=2000)
    parser.add_argument("--latency-molecules", type=int, default=100)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument(
        "--model", type=Path, action="append", help="model folder (repeatable); default: newest bundled"
    )
    parser.add_argument("--admet-python", type=Path, default=None, help="python of a venv with admet-ai")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    folders = args.model or [bundled_folder(REPO / "models")]
    if None in folders:
        sys.exit("no models/toxicity/<version>: run `hygeia toxicity train` first")
    smiles = benchmark_smiles(args.data, args.molecules)
    rss_start = peak_rss_mb()
    boosters, fit_s = timed(lambda: baseline_models(args.data))
    baseline = {**run_baseline(boosters, smiles), "fit_s": fit_s}
    report: dict[str, Any] = {"molecules": len(smiles), "baseline": baseline, "shipped": {}}
    for folder in folders:
        shipped = run_shipped(folder, smiles, args.latency_molecules)
        shipped["vs_baseline_throughput"] = shipped["per_s"] / baseline["per_s"]
        report["shipped"][shipped["version"]] = shipped
    report["peak_rss_mb"] = {"at_start": rss_start, "after_all": peak_rss_mb()}
    if args.admet_python:
        admet = report["admet_ai"] = run_admet(args.admet_python, smiles)
        if "per_s" in admet:
            for shipped in report["shipped"].values():
                shipped["vs_admet_ai_throughput"] = shipped["per_s"] / admet["per_s"]
                shipped["vs_admet_ai_one_process"] = shipped["one_process_per_s"] / admet["per_s"]
                # ADMET-AI's CPU per molecule over ours: how much less work a molecule costs here
                shipped["vs_admet_ai_cpu_per_molecule"] = (
                    admet["cpu_ms_per_molecule"] / shipped["one_process_cpu_ms_per_molecule"]
                )
    print(pd.json_normalize(report, sep=".").T.to_string(header=False))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
