"""The two comparisons in a retrained evidence candidate's card, and the features they need.

1. The same held-out split production is judged on: 5 folds grouped by compound (graph_eval), the
   held-out compounds' treats and palliates edges removed before their features are computed. Both
   columns are fitted in this run on the same fold features: production's labels (PharmacotherapyDB
   DM) and the candidate's (the same, with the training outcomes' results set on their pairs). A fold
   never trains on an outcome of a compound it scores. Where the recipe is production's own, the
   production column must reproduce the numbers in production's card, which are shown beside it.
2. The held-out outcome pairs (compounds whose outcomes were never trained on): both served models
   score them on the full graph, as they would answer. Pairs PharmacotherapyDB lists are left out:
   both models are told them (the curated label, served as known_indication), so they are not unseen.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.live_metrics import binary_performance
from hygeia.core.outcomes import LifecycleSettings
from hygeia.evidence.features import EvidenceGraph
from hygeia.evidence.graph_eval import (
    FOLDS,
    HIDDEN_FOR_KEY,
    EvidenceMatrix,
    fold_features,
    out_of_fold,
    score_key,
)
from hygeia.evidence.graph_features import FeatureMatrix, graph_features
from hygeia.evidence.graph_labels import Labels
from hygeia.evidence.graph_model import GraphModel
from hygeia.evidence.graph_scoring import is_graph_feature
from hygeia.evidence.hetnet import COMPOUND, DISEASE, HetGraph
from hygeia.evidence.lifecycle import LABEL
from hygeia.evidence.outcome_pairs import OutcomePairs
from hygeia.evidence.repurposing_eval import fold_of

Log = Callable[[str], None]
SPLIT = (
    f"{FOLDS} folds grouped by compound (sha256 of the DrugBank id), each fold's held-out compounds' "
    "treats and palliates edges removed before its features are computed"
)


@dataclass(frozen=True)
class GraphRecipe:
    """What a fit reads: metapaths, L2 strength, DWPC damping, and whether document features join."""

    metapaths: tuple[str, ...]
    c: float
    damping: float
    documents: bool

    @property
    def variant(self) -> str:
        return "graph+evidence" if self.documents else "graph"


def with_outcomes(
    treats: np.ndarray, training: OutcomePairs, graph: HetGraph
) -> tuple[np.ndarray, dict[str, int]]:
    """The training label with each training outcome's result set on its pair, and what changed."""
    rows, cols = graph.position(COMPOUND), graph.position(DISEASE)
    labels = treats.astype(bool).copy()
    changes = {"set_positive": 0, "set_negative": 0, "agreed_with_curated_label": 0}
    for (compound, disease), label in zip(training.pairs, training.labels, strict=True):
        i, j = rows[compound], cols[disease]
        if bool(labels[i, j]) == bool(label):
            changes["agreed_with_curated_label"] += 1
        else:
            changes["set_positive" if label else "set_negative"] += 1
        labels[i, j] = bool(label)
    return labels, changes


def held_out_split(
    graph: HetGraph,
    labels: Labels,
    candidate_treats: np.ndarray,
    evidence: EvidenceMatrix | None,
    recipe: GraphRecipe,
    log: Log,
) -> dict[str, Any]:
    """Production's and the candidate's labels, fitted and scored on the same grouped folds."""
    fold = np.array([fold_of(c, FOLDS) for c in graph.nodes[COMPOUND]])
    scored: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="hygeia-retrain-cv-") as spill:
        arrays, names, seconds = fold_features(graph, fold, recipe.metapaths, Path(spill), log)
        popularity = np.zeros(labels.treats.shape)
        for k, stored in enumerate(arrays):
            popularity[fold == k] = stored[fold == k][:, :, names.index("degree_disease_CtD")]
        oof: dict[tuple[str, ...] | None, tuple[np.ndarray, np.ndarray]] = {}
        for key in labels.keys:
            hidden = tuple(HIDDEN_FOR_KEY.get(key.name, ())) if recipe.documents else None
            if hidden not in oof:
                setting = None if evidence is None or hidden is None else (evidence, hidden)
                oof[hidden] = tuple(  # type: ignore[assignment]
                    out_of_fold(arrays, names, fold, y, recipe.metapaths, recipe.c, setting)
                    for y in (labels.treats, candidate_treats)
                )
                log(f"folds fitted for production and candidate (hidden: {hidden or 'none'})")
            production, candidate = oof[hidden]
            scored[key.name] = {
                "popularity": score_key(popularity, key),
                "production": score_key(production, key),
                "candidate": score_key(candidate, key),
                "hidden": list(hidden or ()),
            }
        del arrays
    return {
        "same_split": True,
        "split": SPLIT,
        "folds": FOLDS,
        "variant": recipe.variant,
        "production_column": "production's training label (PharmacotherapyDB DM) under the same recipe, "
        "fitted on the same folds in this run",
        "feature_seconds_per_fold": [round(t, 2) for t in seconds],
        "keys": scored,
        **{metric: _differences(scored, metric) for metric in ("auroc", "auprc")},
    }


def _differences(scored: dict[str, dict[str, Any]], metric: str) -> dict[str, dict[str, float]]:
    return {
        key: {
            "production": row["production"][metric],
            "candidate": row["candidate"][metric],
            "difference": round(row["candidate"][metric] - row["production"][metric], 4),
        }
        for key, row in scored.items()
    }


def card_numbers(production_card: dict[str, Any], recipe: GraphRecipe) -> dict[str, Any] | None:
    """Production's own card numbers for the same variant, when its recipe is the one re-run here."""
    spec = production_card.get("feature_spec", {})
    same = (
        list(spec.get("metapaths", [])) == list(recipe.metapaths)
        and spec.get("regularisation_c") == recipe.c
        and production_card.get("metrics", {}).get("graph_repurposing", {}).get("folds") == FOLDS
    )
    if not same:
        return None
    results = production_card["metrics"]["graph_repurposing"]["results"]
    return {key: row.get(recipe.variant) for key, row in results.items()}


class PairFeatures:
    """Raw feature rows of any graph model for chosen pairs on the served (full) graph."""

    def __init__(self, graph: HetGraph, full: FeatureMatrix, documents: Callable[[], EvidenceGraph]):
        self.graph, self._documents = graph, documents
        self._matrices = {(tuple(full.names)): full}
        self._rows, self._cols = graph.position(COMPOUND), graph.position(DISEASE)

    def _matrix(self, model: GraphModel) -> FeatureMatrix:
        names = tuple(n for n in model.features if is_graph_feature(n))
        if names not in self._matrices:
            self._matrices[names] = graph_features(self.graph, model.metapaths, model.damping)
        return self._matrices[names]

    def rows(self, model: GraphModel, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        matrix = self._matrix(model)
        i = [self._rows[c] for c, _ in pairs]
        j = [self._cols[d] for _, d in pairs]
        out = np.zeros((len(pairs), len(model.features)))
        documents = None
        for k, name in enumerate(model.features):
            if is_graph_feature(name):
                out[:, k] = matrix.values[i, j, matrix.names.index(name)]
            else:
                documents = documents or self._documents()
                out[:, k] = [documents.features(c, d)[name] for c, d in pairs]
        return out


def outcome_set(
    production: GraphModel,
    candidate: GraphModel,
    held_out: OutcomePairs,
    features: PairFeatures,
    curated: set[tuple[str, str]],
) -> dict[str, Any]:
    """Both models' confidence on the held-out outcome pairs, as live performance scores them."""
    cases = [k for k, pair in enumerate(held_out.pairs) if pair not in curated]
    pairs = [held_out.pairs[k] for k in cases]
    observed = [held_out.labels[k] for k in cases]
    settings = LifecycleSettings()
    scored: dict[str, dict[str, Any]] = {}
    for name, model in (("production", production), ("candidate", candidate)):
        logits = model.logit(features.rows(model, pairs)) if pairs else np.zeros(0)
        confidence = [float(v) for v in 1.0 / (1.0 + np.exp(-logits))]
        performance = binary_performance(
            LABEL, observed, confidence, settings.min_outcomes, settings.bootstrap_resamples
        )
        scored[name] = {LABEL: asdict(performance)}
    return {
        "pairs": len(held_out),
        "scored_pairs": len(pairs),
        "left_out_as_curated": len(held_out) - len(pairs),
        "compounds": len({c for c, _ in pairs}),
        "minimum_outcomes": settings.min_outcomes,
        **scored,
    }
