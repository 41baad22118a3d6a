"""Research for issue #12: does a Tanimoto-kernel SVM (DeepTox's other model family) add to the blend?

    python -m benchmarks.toxicity.graph_member features --out var/graph-members.npz
    python -m benchmarks.toxicity.kernel_member cv [--c 1.0] --out var/kernel-svm-c1.npy
    python -m benchmarks.toxicity.kernel_member report --features var/graph-members.npz \
        --kernel var/kernel-svm-c1.npy [--graph var/graph-s0.npy] --json OUT.json

Why this family: the shipped blend has boosters, a multitask network and a D-MPNN; DeepTox's winning
ensemble also held support vector machines on Tanimoto kernels, whose errors differ from trees'.
At serving it would be nearly free: the applicability domain already computes the query's
Tanimoto similarity (ECFP4, 2048 bits) to every training compound, and an SVM's decision is that row
times the dual coefficients. Scored on the selection folds (fold seed 0), never on the card's folds.
Probabilities: a Platt sigmoid per endpoint fitted on inner 3-fold decision values of the outer
training part only, so the outer fold never shapes its own scaling.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC

from benchmarks.toxicity.blending import nested_weight
from benchmarks.toxicity.model_selection import SELECTION_SEED


def tanimoto_kernel(smiles: np.ndarray) -> np.ndarray:
    """All-pairs Tanimoto on ECFP4 2048-bit fingerprints (the domain search's fingerprint)."""
    generator = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    rows, cols = [], []
    for i, s in enumerate(smiles):
        on = list(generator.GetFingerprint(Chem.MolFromSmiles(str(s))).GetOnBits())
        rows += [i] * len(on)
        cols += on
    bits = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(len(smiles), 2048))
    shared = (bits @ bits.T).toarray()
    counts = np.asarray(bits.sum(axis=1)).ravel()
    union = counts[:, None] + counts[None, :] - shared
    return np.divide(shared, union, out=np.zeros_like(shared), where=union > 0).astype(np.float64)


def _svm_decision(
    kernel: np.ndarray, fit: np.ndarray, score: np.ndarray, y: np.ndarray, c: float
) -> np.ndarray:
    model = SVC(C=c, kernel="precomputed", class_weight="balanced")
    model.fit(kernel[np.ix_(fit, fit)], y)
    return model.decision_function(kernel[np.ix_(score, fit)])


def selection_dataset(data: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Standardised SMILES, labels and selection folds, as `graph_member features` stores them."""
    from hygeia.toxicity.dataset import load_tox21
    from hygeia.toxicity.splits import balanced_scaffold_folds, scaffold_groups

    dataset = load_tox21(data)
    folds = balanced_scaffold_folds(scaffold_groups(dataset.mols), 5, SELECTION_SEED)
    return np.array(dataset.smiles), dataset.labels, folds


def descriptor_kernel(descriptors: np.ndarray, fit: np.ndarray) -> np.ndarray:
    """RBF on the CDF-scaled RDKit 2D descriptors (percentiles from the training rows `fit` only);
    gamma by scikit-learn's 'scale' rule on those rows."""
    from hygeia.toxicity.graph_inputs import fit_descriptor_quantiles, scale_descriptors

    x = scale_descriptors(descriptors, fit_descriptor_quantiles(descriptors[fit])).astype(np.float64)
    gamma = 1.0 / (x.shape[1] * x[fit].var())
    squared = (x**2).sum(axis=1)
    distance = np.maximum(squared[:, None] + squared[None, :] - 2.0 * (x @ x.T), 0.0)
    return np.exp(-gamma * distance)


def cross_validate_kernel(data: Path, c: float, descriptors: Path | None = None) -> np.ndarray:
    """`descriptors`: an npz with `rdkit_2d` in the same row order (`graph_member features`); the
    kernel is then the mean of the Tanimoto kernel and the descriptor RBF."""
    started = time.perf_counter()
    smiles, labels, folds = selection_dataset(data)
    tanimoto = tanimoto_kernel(smiles)
    print(f"kernel {tanimoto.shape} in {time.perf_counter() - started:.0f} s", flush=True)
    rdkit_2d = None
    if descriptors is not None:
        stored = np.load(descriptors)
        if not np.array_equal(stored["smiles"], smiles):
            raise SystemExit(f"{descriptors}: rows are not the selection dataset's")
        rdkit_2d = stored["rdkit_2d"]
    oof = np.full(labels.shape, np.nan)
    for k in np.unique(folds):
        kernel = tanimoto
        if rdkit_2d is not None:
            kernel = 0.5 * (tanimoto + descriptor_kernel(rdkit_2d, folds != k))
        for j in range(labels.shape[1]):
            fit = np.flatnonzero((folds != k) & ~np.isnan(labels[:, j]))
            test = np.flatnonzero(folds == k)
            y = labels[fit, j].astype(int)
            inner = np.empty(len(fit))
            for a, b in StratifiedKFold(3, shuffle=True, random_state=0).split(fit, y):
                inner[b] = _svm_decision(kernel, fit[a], fit[b], y[a], c)
            platt = LogisticRegression(C=1e6).fit(inner[:, None], y)
            decision = _svm_decision(kernel, fit, test, y, c)
            oof[test, j] = platt.predict_proba(decision[:, None])[:, 1]
        print(f"fold {k} done ({time.perf_counter() - started:.0f} s)", flush=True)
    return oof


def report(features: Path, kernel_runs: dict[str, Path], graph: Path | None) -> dict[str, Any]:
    from benchmarks.toxicity.blending import paired_row, per_fold, shipped_blend

    stored = np.load(features)
    labels, folds = stored["labels"], stored["folds"]
    trees = np.mean([stored[k] for k in stored.files if k.startswith("member_")], axis=0)
    network = np.mean([stored[k] for k in stored.files if k.startswith("network_seed")], axis=0)
    blend = shipped_blend(trees, network, None if graph is None else np.load(graph))
    name = "blend 2.2.0 (network 0.25)" if graph is None else "blend 2.3.0 (graph 0.25)"
    reference = per_fold(blend, labels, folds)
    rows = {name: paired_row(blend, reference, labels, folds)}
    for run, path in kernel_runs.items():
        svm = np.load(path)
        rows[f"{run} alone"] = paired_row(svm, reference, labels, folds)
        for weight in (0.1, 0.15, 0.2, 0.3):
            mixed = (1 - weight) * blend + weight * svm
            rows[f"blend + {run} at {weight}"] = paired_row(mixed, reference, labels, folds)
        nested = nested_weight(blend, svm, labels, folds, per_endpoint=False)
        rows[f"blend + {run}, weight nested (grid 0.05)"] = paired_row(nested, reference, labels, folds)
    return {"fold_seed": 0, "reference": name, "rows": rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    cv = sub.add_parser("cv")
    cv.add_argument("--data", type=Path, default=Path("../shared/data/tox21/tox21.csv"))
    cv.add_argument("--c", type=float, default=1.0)
    cv.add_argument("--descriptors", type=Path, default=None, help="npz with rdkit_2d: sum kernel")
    cv.add_argument("--out", type=Path, required=True)
    rep = sub.add_parser("report")
    rep.add_argument("--features", type=Path, required=True)
    rep.add_argument("--kernel", nargs="+", required=True, help="NAME=OOF.npy or OOF.npy")
    rep.add_argument("--graph", type=Path, default=None)
    rep.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.step == "cv":
        np.save(args.out, cross_validate_kernel(args.data, args.c, args.descriptors))
        return
    runs = dict(r.split("=", 1) if "=" in r else (Path(r).stem, r) for r in args.kernel)
    result = report(args.features, {k: Path(v) for k, v in runs.items()}, args.graph)
    for name, row in result["rows"].items():
        print(
            f"{name:52s} ROC {row['roc_auc']:.4f} ({row['roc_auc_diff']:+.4f} ± {row['roc_auc_diff_se']:.4f})"
            f"  PR {row['pr_auc']:.4f} ({row['pr_auc_diff']:+.4f} ± {row['pr_auc_diff_se']:.4f})"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
