"""Replayed-feedback evaluation of the tenant reranker on top of the graph model (>= 2.0.0), for one fold.

The fold's graph+evidence model gives the prior weights (graph_card.ranking_prior, as served);
curated labels of the training compounds are replayed as votes on their top-10 diseases
(DM/SYM up, others down) plus their curated non-indications (down), the weights are refitted with
the served `fit_weights`, and the held-out compounds are scored before and after.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hygeia.evidence.features import FEATURES, GRAPH_SCORE, PHARMACOTHERAPY_FEATURES
from hygeia.evidence.graph_card import ranking_prior
from hygeia.evidence.graph_eval import EvidenceMatrix
from hygeia.evidence.graph_features import FeatureMatrix
from hygeia.evidence.graph_model import dwpc_means, fit_graph_model
from hygeia.evidence.graph_scoring import is_graph_feature
from hygeia.evidence.ranking import FeedbackExample, as_vector, fit_weights
from hygeia.evidence.sources import Indication

TOP = 10


def _design(fm: FeatureMatrix, evidence: EvidenceMatrix, graph_score: np.ndarray) -> np.ndarray:
    """(compounds, diseases, 1 + len(FEATURES)) in ranking.design_row's column order."""
    out = np.zeros((*graph_score.shape, 1 + len(FEATURES)))
    out[:, :, 0] = 1.0
    for k, name in enumerate(FEATURES, start=1):
        if name == GRAPH_SCORE:
            out[:, :, k] = graph_score
        elif name in evidence.names:
            out[:, :, k] = evidence.values[:, :, evidence.names.index(name)]
    return out


def replay_fold(
    fm: FeatureMatrix,
    evidence: EvidenceMatrix,
    treats: np.ndarray,
    rows: Sequence[Indication],
    compounds: list[str],
    diseases: list[str],
    test: np.ndarray,
    c: float,
) -> tuple[np.ndarray, np.ndarray]:
    values = np.concatenate([fm.values, evidence.values], axis=2)
    names = list(fm.names) + evidence.names
    model = fit_graph_model(
        values[~test].reshape(-1, len(names)), treats[~test].ravel(), names, dwpc_means(fm), [], 0.4, c
    )
    graph_cols = np.array([is_graph_feature(n) for n in names])
    z = model.transform(values)
    graph_score = z[:, :, graph_cols] @ np.array(model.coefficients)[graph_cols]
    x = _design(fm, evidence, graph_score)
    prior = ranking_prior(model)
    before = x @ as_vector(prior)
    votes = _replayed_votes(x, before, rows, compounds, diseases, test)
    weights = fit_weights(votes, prior, frozen=PHARMACOTHERAPY_FEATURES)
    after = x @ as_vector(weights)
    return before[test], after[test]


def _replayed_votes(
    x: np.ndarray,
    scores: np.ndarray,
    rows: Sequence[Indication],
    compounds: list[str],
    diseases: list[str],
    test: np.ndarray,
) -> list[FeedbackExample]:
    row_of = {c: i for i, c in enumerate(compounds)}
    col_of = {d: j for j, d in enumerate(diseases)}
    up: dict[int, set[int]] = {}
    down: dict[int, set[int]] = {}
    for r in rows:
        i, j = row_of.get(r.drugbank_id), col_of.get(r.doid)
        if i is None or j is None or test[i]:
            continue
        (up if r.category in ("DM", "SYM") else down).setdefault(i, set()).add(j)
    names = ("bias", *FEATURES)
    examples = []
    for i in sorted(set(up) | set(down)):
        top = [int(j) for j in np.argsort(-scores[i])[:TOP]]
        judged = {j: ("up" if j in up.get(i, set()) else "down") for j in top}
        judged |= {j: "down" for j in down.get(i, set()) if j not in judged}
        for j, vote in judged.items():
            features = {n: float(v) for n, v in zip(names[1:], x[i, j, 1:], strict=True)}
            examples.append(FeedbackExample(features, vote))
    return examples
