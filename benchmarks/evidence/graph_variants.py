"""Evidence graph model variants on the same compound-grouped folds (held-out edges removed).

`python -m benchmarks.evidence.graph_variants [--out file.json]` (about 5 minutes on 2 cores).
Answers questions the card's main table leaves open, each measured in this one run:
- does gradient boosting beat the shipped logistic regression on the same features?
- does the result depend on Rephetio's published metapath selection (which saw every label)?
  `unselected`: every length-2/3 compound-disease metapath the 20 metaedges allow (97), no selection;
- does the tenant feedback reranker help on top of 2.0.0? Curated labels are replayed as votes on
  the training compounds' top-10 diseases (PharmacotherapyDB DM/SYM = up, else down; NOT rows down),
  weights refitted towards the fold's prior, then the held-out compounds scored before and after.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from benchmarks.evidence.graph_feedback import replay_fold

from hygeia.evidence.dwpc import parse_metapath
from hygeia.evidence.graph_eval import FOLDS, held_out_graph, score_key
from hygeia.evidence.graph_features import METAPATHS, graph_features
from hygeia.evidence.graph_labels import load_labels
from hygeia.evidence.graph_model import dwpc_means, fit_graph_model, transform
from hygeia.evidence.graph_training import evidence_graph, evidence_matrix
from hygeia.evidence.hetnet import HetGraph, load_hetionet
from hygeia.evidence.repurposing_eval import fold_of
from hygeia.evidence.sources import load_indications

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "evidence"


def all_metapaths(graph: HetGraph) -> list[str]:
    """Every compound-disease metapath of length 2-3 that parses, except ones starting CtD/CpD."""
    kinds = graph.kind_abbreviation
    steps = []
    for name, edge in graph.metaedges.items():
        s, t = kinds[edge.source], kinds[edge.target]
        verb = name[len(s) : len(name) - len(t)]
        if edge.directed:
            steps += [(s, verb, t), (t, "<" + verb.rstrip(">"), s)]
        else:
            steps += [(s, verb, t)] + ([(t, verb, s)] if s != t else [])
    level, found = [("C", "C")], []
    for length in (1, 2, 3):
        level = [(p + v + t, t) for p, last in level for s, v, t in steps if s == last]
        found += [p for p, last in level if last == "D" and length >= 2]
    keep = []
    for path in found:
        if path.startswith(("CtD", "CpD")):
            continue
        try:
            parse_metapath(graph, path)
        except ValueError:
            continue
        keep.append(path)
    return keep


def _boosted(train_x: np.ndarray, train_y: np.ndarray, test_x: np.ndarray) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier

    clf = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0)
    clf.fit(train_x, train_y)
    return clf.predict_proba(test_x)[:, 1]


def run(root: Path) -> dict[str, Any]:
    started = time.perf_counter()
    graph = load_hetionet(root / "hetionet")
    compounds, diseases = graph.nodes["Compound"], graph.nodes["Disease"]
    labels = load_labels(root, compounds, diseases)
    evidence = evidence_matrix(evidence_graph(root), compounds, diseases)
    rows = load_indications(root / "pharmacotherapydb/indications.tsv", "PharmacotherapyDB")
    unselected = all_metapaths(graph)
    fold = np.array([fold_of(c, FOLDS) for c in compounds])
    names = ["logistic", "boosting", "unselected_logistic", "feedback_before", "feedback_after"]
    oof = {n: np.zeros(labels.treats.shape) for n in names}
    for k in range(FOLDS):
        test = fold == k
        held = held_out_graph(graph, {c for c, t in zip(compounds, test, strict=True) if t})
        fm = graph_features(held, METAPATHS)
        means = dwpc_means(fm)
        x, y = fm.values, labels.treats
        model = fit_graph_model(
            x[~test].reshape(-1, x.shape[2]), y[~test].ravel(), fm.names, means, METAPATHS, 0.4
        )
        oof["logistic"][test] = model.logit(x[test])
        z = transform(x, fm.names, means)
        oof["boosting"][test] = _boosted(
            z[~test].reshape(-1, z.shape[2]), y[~test].ravel(), z[test].reshape(-1, z.shape[2])
        ).reshape(int(test.sum()), -1)
        wide = graph_features(held, unselected)
        wide_model = fit_graph_model(
            wide.values[~test].reshape(-1, wide.values.shape[2]),
            y[~test].ravel(),
            wide.names,
            dwpc_means(wide),
            unselected,
            0.4,
        )
        oof["unselected_logistic"][test] = wide_model.logit(wide.values[test])
        before, after = replay_fold(fm, evidence, labels.treats, rows, compounds, diseases, test)
        oof["feedback_before"][test], oof["feedback_after"][test] = before, after
        print(f"fold {k + 1}/{FOLDS} done at {time.perf_counter() - started:.0f}s", flush=True)
    results = {key.name: {n: score_key(oof[n], key) for n in names} for key in labels.keys}
    return {
        "protocol": __doc__.strip().splitlines()[0] if __doc__ else "",
        "unselected_metapaths": len(unselected),
        "results": results,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    report = run(args.data)
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
