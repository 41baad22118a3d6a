"""Ways to combine the ensemble's out-of-fold predictions, compared by nested scaffold CV.

`python -m benchmarks.toxicity.blending OOF.npz [--json OUT]`

OOF.npz holds `labels`, `folds` and the out-of-fold probabilities of one `hygeia toxicity train` run:
`member_<name>` per booster member (the ECFP4 baseline, if present, is left out) and
`network_seed<k>` per network seed (the 2.1.0 numbers in README.md came from a wrapper that saved what
`cross_validate_member` and `cross_validate_network` returned). For each outer fold k, anything tuned
(a blend weight, a stacker) is fitted on the other four folds' rows only and applied to fold k; the
report is the mean over endpoints of per-fold ROC-AUC and PR-AUC, as in the model card.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.linear_model import LogisticRegression

from hygeia.toxicity.evaluation import fold_metrics, summarise

GRID = np.round(np.arange(0, 1.0001, 0.05), 2)
NETWORK_WEIGHT, GRAPH_WEIGHT = 0.25, 0.25  # the fixed weights every version since 2.3.0 serves
SHIPPED_NETWORKS = ("shipped", "selu_alpha_dropout_0.2")  # network_selection's ReLU network and SNN


def shipped_network_side(oof_folder: Path) -> np.ndarray:
    """The network side as 2.10.0 averages it, from `network_selection cv --oof` files."""
    return np.mean([np.load(oof_folder / f"{name}.npy") for name in SHIPPED_NETWORKS], axis=0)


def shipped_blend(
    trees: np.ndarray,
    network: np.ndarray,
    graph: np.ndarray | None = None,
    network_weight: float = NETWORK_WEIGHT,
    graph_weight: float = GRAPH_WEIGHT,
) -> np.ndarray:
    """The served combination: trees and networks at the network weight, then the graph member (if
    given) at its weight."""
    inner = (1 - network_weight) * trees + network_weight * network
    return inner if graph is None else (1 - graph_weight) * inner + graph_weight * graph


def headline(oof: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> dict[str, float]:
    overall = summarise(fold_metrics(oof, labels, folds))["mean_over_endpoints"]
    return {
        "roc_auc": overall["roc_auc"]["mean"],
        "pr_auc": overall["pr_auc"]["mean"],
        "roc_auc_fold_std": overall["roc_auc"]["std_of_fold_means"],
    }


def nested_weight(
    trees: np.ndarray, net: np.ndarray, labels: np.ndarray, folds: np.ndarray, per_endpoint: bool
) -> np.ndarray:
    """Network weight chosen on the inner folds (one for all endpoints, or one per endpoint)."""
    return nested_weights(trees, net, labels, folds, per_endpoint)[0]


def nested_weights(
    base: np.ndarray, added: np.ndarray, labels: np.ndarray, folds: np.ndarray, per_endpoint: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(1 - w) * base + w * added with w chosen on each outer fold's inner folds by mean ROC-AUC (one w
    for all endpoints, or one per endpoint), and the weights chosen (outer fold x endpoint)."""
    out = np.full(labels.shape, np.nan)
    chosen = []
    for k in np.unique(folds):
        inner, outer = folds != k, folds == k
        table = []
        for w in GRID:
            per_fold = fold_metrics(((1 - w) * base + w * added)[inner], labels[inner], folds[inner])
            table.append([np.mean(v["roc_auc"]) for v in per_fold.values()])
        scores = np.array(table)
        if per_endpoint:
            w = GRID[np.argmax(scores, axis=0)]
        else:
            w = np.full(labels.shape[1], GRID[int(np.argmax(scores.mean(axis=1)))])
        out[outer] = (1 - w) * base[outer] + w * added[outer]
        chosen.append(w)
    return out, np.array(chosen)


def per_fold(oof: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> dict[str, np.ndarray]:
    """Mean over endpoints within each fold (every endpoint has both classes in every fold here)."""
    table = fold_metrics(oof, labels, folds)
    return {m: np.mean([v[m] for v in table.values()], axis=0) for m in ("roc_auc", "pr_auc")}


def paired_row(
    oof: np.ndarray, reference: dict[str, np.ndarray], labels: np.ndarray, folds: np.ndarray
) -> dict[str, Any]:
    """Headline means plus the paired per-fold difference from the reference blend and its SE."""
    scores = per_fold(oof, labels, folds)
    row: dict[str, Any] = {}
    for metric, values in scores.items():
        diff = values - reference[metric]
        row[metric] = round(float(values.mean()), 4)
        row[f"{metric}_folds"] = [round(float(v), 4) for v in values]
        row[f"{metric}_diff"] = round(float(diff.mean()), 4)
        row[f"{metric}_diff_se"] = round(float(diff.std(ddof=1) / np.sqrt(len(diff))), 4)
    return row


def print_rows(rows: dict[str, dict[str, Any]]) -> None:
    for name, row in rows.items():
        roc = f"ROC {row['roc_auc']:.4f} ({row['roc_auc_diff']:+.4f} ± {row['roc_auc_diff_se']:.4f})"
        pr = f"PR {row['pr_auc']:.4f} ({row['pr_auc_diff']:+.4f} ± {row['pr_auc_diff_se']:.4f})"
        print(f"{name:50s} {roc}  {pr}")


def fold_ranks(x: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Ranks within each fold: AUC is computed per fold, so this transform is monotone where it counts."""
    out = np.empty_like(x)
    for k in np.unique(folds):
        rows = folds == k
        out[rows] = np.column_stack([rankdata(x[rows, j]) / rows.sum() for j in range(x.shape[1])])
    return out


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def stacked(
    base: list[np.ndarray], labels: np.ndarray, folds: np.ndarray, multitask: bool, c: float
) -> np.ndarray:
    """Logistic regression per endpoint on the members' logits (multitask: every endpoint's logits)."""
    every = np.concatenate([logit(b) for b in base], axis=1)
    out = np.full(labels.shape, np.nan)
    for k in np.unique(folds):
        for j in range(labels.shape[1]):
            x = every if multitask else np.column_stack([logit(b[:, j]) for b in base])
            fit = (folds != k) & ~np.isnan(labels[:, j])
            model = LogisticRegression(C=c, max_iter=2000).fit(x[fit], labels[fit, j])
            out[folds == k, j] = model.predict_proba(x[folds == k])[:, 1]
    return out


def compare(path: Path) -> dict[str, dict[str, float]]:
    data = np.load(path)
    labels, folds = data["labels"], data["folds"]
    members = [data[k] for k in data.files if k.startswith("member_") and "baseline" not in k]
    seeds = [data[k] for k in data.files if k.startswith("network_seed")]
    trees, net = np.mean(members, axis=0), np.mean(seeds, axis=0)
    base = [trees, net, *members]
    candidates = {
        "trees only": trees,
        "network only": net,
        "blend, network weight 0.25 (shipped; chosen on all folds)": 0.75 * trees + 0.25 * net,
        "nested: one network weight (grid 0.05)": nested_weight(trees, net, labels, folds, False),
        "nested: one network weight per endpoint": nested_weight(trees, net, labels, folds, True),
        "rank average 3:1": 0.75 * fold_ranks(trees, folds) + 0.25 * fold_ranks(net, folds),
        "equal mean of all boosters and network seeds": np.mean(members + seeds, axis=0),
        "stacking: logistic on the endpoint's logits": stacked(base, labels, folds, False, 0.1),
        "stacking: logistic on all endpoints' logits, C=0.1": stacked(base, labels, folds, True, 0.1),
        "stacking: logistic on all endpoints' logits, C=0.01": stacked(base, labels, folds, True, 0.01),
    }
    return {name: headline(oof, labels, folds) for name, oof in candidates.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("oof", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = compare(args.oof)
    for name, row in result.items():
        scores = f"ROC-AUC {row['roc_auc']:.4f}  PR-AUC {row['pr_auc']:.4f}"
        print(f"{name:60s} {scores}  fold std {row['roc_auc_fold_std']:.4f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
