"""Soft labels for a training compound's untested endpoints, read off the endpoints it was tested in.

Tox21 compounds were not run in every assay (7-26 % of each endpoint's labels are blank), and a
per-endpoint booster learns from the tested compounds only. The assays are related (the AR and ER
full-length and ligand-binding-domain pairs, the stress responses, cytotoxic promiscuity), so a
compound's other outcomes predict an untested one well: ROC-AUC 0.79-0.97 per endpoint from a
logistic model of the other 11 labels. For each endpoint such a model is fitted on the training
compounds tested in it; a training compound untested there but tested in at least
`MIN_OTHER_TESTED` other endpoints joins that endpoint's training set with the model's probability
as its (soft) label. Only the rows a caller trains on are read or labelled: in scaffold CV each
training fold imputes from its own labels, so a held-out label is never seen.
Measured on the selection folds: benchmarks/toxicity/README.md §10.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

MIN_OTHER_TESTED = 6  # fewer other outcomes say little more than the base rate


def outcome_design(labels: np.ndarray) -> np.ndarray:
    """Each other endpoint as two columns: active (1/0, 0 if untested) and untested (1/0)."""
    return np.hstack([np.nan_to_num(labels, nan=0.0), np.isnan(labels).astype(np.float64)])


def endpoint_targets(labels: np.ndarray, rows: np.ndarray, endpoint: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows to train `endpoint`'s booster on and their targets: the tested rows among `rows` with
    their 0/1 labels, then the untested rows that qualify with soft labels in (0, 1)."""
    column = labels[rows, endpoint]
    tested, untested = rows[~np.isnan(column)], rows[np.isnan(column)]
    others = np.delete(labels, endpoint, axis=1)
    untested = untested[(~np.isnan(others[untested])).sum(axis=1) >= MIN_OTHER_TESTED]
    outcomes = labels[tested, endpoint]
    targets = outcomes.astype(np.float64)
    if len(untested) == 0 or np.unique(outcomes).size < 2:
        return tested, targets
    teacher = LogisticRegression(max_iter=2000).fit(outcome_design(others[tested]), outcomes)
    soft = teacher.predict_proba(outcome_design(others[untested]))[:, 1]
    return np.concatenate([tested, untested]), np.concatenate([targets, soft])
