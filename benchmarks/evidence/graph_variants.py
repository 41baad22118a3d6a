"""Evidence graph model variants on the same compound-grouped folds (held-out edges removed).

`python -m benchmarks.evidence.graph_variants [--c 0.003] [--out file.json]` (about 10 minutes on
2 cores). Answers questions the card's main table leaves open, each measured in this one run:
- where does 2.1.0's gain come from? Rephetio's 22 selected metapaths at 2.0.0's C = 0.1 and at
  2.1.0's C, next to the 191 enumerated metapaths at 2.1.0's C (`--c`, as chosen by graph_eval);
- does gradient boosting (LightGBM) beat the logistic regression on the same 191 features?
- does the tenant feedback reranker help on top? Curated labels are replayed as votes on the
  training compounds' top-10 diseases (PharmacotherapyDB DM/SYM = up, else down; NOT rows down),
  weights refitted towards the fold's prior, then the held-out compounds scored before and after.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from benchmarks.evidence.graph_feedback import replay_fold

from hygeia.evidence.graph_eval import FOLDS, fold_features, out_of_fold, score_key
from hygeia.evidence.graph_features import METAPATHS_2_0, FeatureMatrix
from hygeia.evidence.graph_labels import load_labels
from hygeia.evidence.graph_model import REGULARISATION_C, dwpc_means, transform
from hygeia.evidence.graph_training import evidence_graph, evidence_matrix
from hygeia.evidence.hetnet import load_hetionet
from hygeia.evidence.metapaths import candidate_metapaths
from hygeia.evidence.repurposing_eval import fold_of
from hygeia.evidence.sources import load_indications

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "evidence"


def _boosted(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray) -> np.ndarray:
    """LightGBM with settings fixed before the run (shallow trees, large leaves: ~750 positives)."""
    import lightgbm

    clf = lightgbm.LGBMClassifier(
        n_estimators=400,
        learning_rate=0.03,
        num_leaves=15,
        min_child_samples=200,
        subsample=0.8,
        subsample_freq=1,
        colsample_bytree=0.5,
        reg_lambda=10.0,
        n_jobs=1,
        verbose=-1,
    )
    clf.fit(train_x, train_y)
    return np.asarray(clf.predict_proba(test_x, raw_score=True))


def run(root: Path, c: float) -> dict[str, Any]:
    started = time.perf_counter()
    graph = load_hetionet(root / "hetionet")
    compounds, diseases = graph.nodes["Compound"], graph.nodes["Disease"]
    labels = load_labels(root, compounds, diseases)
    evidence = evidence_matrix(evidence_graph(root), compounds, diseases)
    rows = load_indications(root / "pharmacotherapydb/indications.tsv", "PharmacotherapyDB")
    metapaths = candidate_metapaths(graph)
    fold = np.array([fold_of(c, FOLDS) for c in compounds])
    y = labels.treats
    oof: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="hygeia-graph-variants-") as spill:
        arrays, names, _ = fold_features(graph, fold, metapaths, Path(spill), print)
        keep = [k for k, n in enumerate(names) if not n.startswith("dwpc_") or n[5:] in METAPATHS_2_0]
        selected = [np.asarray(a[:, :, keep]) for a in arrays]
        selected_names = [names[k] for k in keep]
        for name, strength in (("rephetio_selection", REGULARISATION_C), ("rephetio_selection_chosen_c", c)):
            oof[name] = out_of_fold(selected, selected_names, fold, y, METAPATHS_2_0, strength)
        oof["logistic"] = out_of_fold(arrays, names, fold, y, metapaths, c)
        print(f"logistic variants done at {time.perf_counter() - started:.0f}s", flush=True)
        for name in ("boosting", "feedback_before", "feedback_after"):
            oof[name] = np.zeros(y.shape)
        for k, stored in enumerate(arrays):
            test = fold == k
            fm = FeatureMatrix(compounds, diseases, names, np.asarray(stored, dtype=np.float64))
            z = transform(fm.values, names, dwpc_means(fm))
            flat = z.reshape(-1, len(names))
            test_rows = np.repeat(test, len(diseases))
            boosted = _boosted(flat[~test_rows], y[~test].ravel(), flat[test_rows])
            oof["boosting"][test] = boosted.reshape(int(test.sum()), -1)
            before, after = replay_fold(fm, evidence, y, rows, compounds, diseases, test, c)
            oof["feedback_before"][test], oof["feedback_after"][test] = before, after
            print(f"fold {k + 1}/{FOLDS} done at {time.perf_counter() - started:.0f}s", flush=True)
        del arrays
    results = {key.name: {n: score_key(oof[n], key) for n in oof} for key in labels.keys}
    return {
        "protocol": __doc__.strip().splitlines()[0] if __doc__ else "",
        "metapaths": len(metapaths),
        "regularisation_c": c,
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--c", type=float, required=True, help="the L2 strength graph_eval chose (card)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = run(args.data, args.c)
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
