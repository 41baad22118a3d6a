"""The served model on someone else's labelled compounds: what the Tox21 challenge's final set, or a
laboratory's own assay results, say of the ranking, calibration, domain and conformal sets that scaffold
CV promised.

Labels sit beside the structures in columns named like the endpoints (`NR-AR` … `SR-p53`, as in
`tox21.csv`): 1 or 0 (also written 1.0, 0.0), and blank, `x` (the challenge's own files), NA or NaN for not
tested. Any other label cell stops the run and is named, since a metric over silently skipped labels
would mislead. A compound the model refuses is counted by reason, never dropped unseen. A compound whose
fingerprint equals a training compound's (nearest similarity 1.0) is most likely in Tox21 already, so
every figure is also given without those ("novel").

Labels may also come in a file of their own, matched by an ID: the challenge ships its final set as a
`.smiles` file (SMILES and Sample ID) and a tab-separated `.txt` of results keyed by Sample ID.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.conformal import class_errors
from hygeia.toxicity.evaluation import masked_auc
from hygeia.toxicity.io import InputRecord
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import MoleculeRejection
from hygeia.toxicity.predictor import score_chunks

BOOTSTRAP_DRAWS, BOOTSTRAP_SEED = 1000, 2026  # resamples of the compounds for 95 % intervals
# An endpoint's interval needs this many of each class: with fewer, most resamples repeat the same few
# actives and the percentile interval collapses onto the point (1 active: "1.000-1.000").
INTERVAL_MIN_CLASS = 5
UNTESTED = frozenset({"", "x", "na", "nan", "n/a"})  # compared lower-cased
SAME_AS_TRAINING = 1.0 - 1e-9  # nearest Tanimoto similarity from which a compound counts as seen
SHOWN_LABEL_ERRORS = 10


class LabelError(ValueError):
    """The labels cannot be read as given; the message names the cells."""


def endpoint_columns(columns: Iterable[str]) -> dict[str, str]:
    """Endpoint -> the column holding it, matched without regard to case (`nr-ahr` is NR-AhR)."""
    wanted = {e.lower(): e for e in ENDPOINTS}
    return {wanted[c.strip().lower()]: c for c in columns if c.strip().lower() in wanted}


def read_labels(records: Sequence[InputRecord]) -> tuple[np.ndarray, list[str]]:
    """(records, 12) labels with NaN where untested or the endpoint has no column; the endpoints given."""
    if not records:
        raise LabelError("the file holds no records")
    columns = endpoint_columns(c for r in records for c in r.passthrough)
    given = [e for e in ENDPOINTS if e in columns]
    if not given:
        raise LabelError(f"no label columns: name them like the endpoints ({', '.join(ENDPOINTS)})")
    labels = np.full((len(records), len(ENDPOINTS)), np.nan)
    bad = []
    for i, record in enumerate(records):
        for endpoint in given:
            cell = record.passthrough.get(columns[endpoint], "").strip()
            label = _label(cell)
            if label is None:
                bad.append(f"record {i + 1} {endpoint}={cell!r}")
            else:
                labels[i, ENDPOINTS.index(endpoint)] = label
    if bad:
        shown = "; ".join(bad[:SHOWN_LABEL_ERRORS]) + ("; …" if len(bad) > SHOWN_LABEL_ERRORS else "")
        raise LabelError(f"{len(bad)} label cells are not 1, 0 or untested (blank, x, NA): {shown}")
    return labels, given


@dataclass(frozen=True)
class LabelJoin:
    matched: int  # structures that found their labels
    structures_without_labels: int
    labels_without_structure: int


def join_labels(
    records: Sequence[InputRecord], labels_path: Path, id_column: str | None = None
) -> tuple[list[InputRecord], LabelJoin]:
    """Each structure gets the endpoint columns of the label row with its ID: the label file's
    `id_column` (default its first column) against the structure's column of that name, or its `name`
    (a .smi line's second field, an SDF title). Nothing unmatched is dropped unseen: both sides' leftovers
    are counted, and an ID given twice in the label file stops the run."""
    if not labels_path.is_file():
        raise LabelError(f"label file {labels_path} does not exist")
    with labels_path.open(encoding="utf-8-sig") as handle:
        delimiter = "\t" if "\t" in handle.readline() else ","
    try:
        table = pd.read_csv(labels_path, dtype=str, keep_default_na=False, sep=delimiter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise LabelError(f"cannot read {labels_path.name}: {exc}") from exc
    column = id_column or str(table.columns[0])
    if column not in table.columns:
        raise LabelError(f"{labels_path.name} has no column {column!r} (columns: {list(table.columns)})")
    repeated = table[column][table[column].duplicated()].unique().tolist()
    if repeated:
        raise LabelError(f"{len(repeated)} IDs appear twice in {labels_path.name}, e.g. {repeated[0]!r}")
    endpoints = endpoint_columns(str(c) for c in table.columns)
    by_id = {row[column]: {e: row[c] for e, c in endpoints.items()} for row in table.to_dict("records")}
    joined, used, matched = [], set(), 0
    for record in records:
        key = record.passthrough.get(column, record.passthrough.get("name", ""))
        if key in by_id:
            used.add(key)
            matched += 1
        joined.append(replace(record, passthrough={**record.passthrough, **by_id.get(key, {})}))
    return joined, LabelJoin(matched, len(records) - matched, len(by_id) - len(used))


def _label(cell: str) -> float | None:
    """1.0, 0.0, NaN for untested, or None for a cell that is none of these."""
    if cell.lower() in UNTESTED:
        return np.nan
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if value in (0.0, 1.0) else None


@dataclass
class ScoredRecords:
    probabilities: np.ndarray  # (n, 12) unrounded; NaN rows were refused
    similarity: np.ndarray  # (n,) nearest training Tanimoto; NaN if refused
    in_domain: np.ndarray  # (n,) bool
    sets: np.ndarray | None  # (n, 12, 2) bool conformal sets, None for models without them
    refused: Counter[str]  # error code -> records

    @property
    def valid(self) -> np.ndarray:
        return ~np.isnan(self.similarity)

    @property
    def seen(self) -> np.ndarray:
        """Scored records with a training look-alike: most likely in the training data already."""
        return self.valid & (np.nan_to_num(self.similarity) >= SAME_AS_TRAINING)


def score_records(model: ToxicityModel, records: Sequence[InputRecord]) -> ScoredRecords:
    """The serving path (standardise, featurise, score) with unrounded outputs kept in input order."""
    n = len(records)
    result = ScoredRecords(
        np.full((n, len(ENDPOINTS)), np.nan), np.full(n, np.nan), np.zeros(n, bool), None, Counter()
    )
    for start, prepared, scored in score_chunks(model, [r.molecule for r in records]):
        rows = [start + k for k, item in enumerate(prepared) if not isinstance(item, MoleculeRejection)]
        result.refused.update(item.code for item in prepared if isinstance(item, MoleculeRejection))
        if not rows:
            continue
        result.probabilities[rows] = scored.probabilities
        result.similarity[rows] = scored.nearest_similarity
        result.in_domain[rows] = scored.in_domain
        if scored.prediction_sets is not None:
            if result.sets is None:
                result.sets = np.zeros((n, len(ENDPOINTS), 2), dtype=bool)
            result.sets[rows] = scored.prediction_sets
    return result


def rank_roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """ROC-AUC as the Mann-Whitney U over ranks (ties averaged, as scikit-learn counts them; y boolean
    with both classes): the same value at a fraction of `roc_auc_score`'s per-call cost, which a
    thousand bootstrap draws multiply."""
    positives = int(y.sum())
    negatives = len(y) - positives
    return float((rankdata(p)[y].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def bootstrap_roc_aucs(
    labels: np.ndarray, scores: Sequence[np.ndarray], rows: np.ndarray
) -> list[np.ndarray]:
    """Per score matrix, (draws, endpoints) ROC-AUCs over the same resamples of `rows` (with replacement;
    NaN where a draw leaves an endpoint one class): paired, so differences between models are too."""
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    index = np.flatnonzero(rows)
    out = [np.full((BOOTSTRAP_DRAWS, labels.shape[1]), np.nan) for _ in scores]
    for draw in range(BOOTSTRAP_DRAWS):
        sample = rng.choice(index, len(index))
        for j in range(labels.shape[1]):
            tested = sample[~np.isnan(labels[sample, j])]
            y = labels[tested, j] == 1
            if 0 < y.sum() < len(y):
                for matrix, result in zip(scores, out, strict=True):
                    result[draw, j] = rank_roc_auc(y, matrix[tested, j])
    return out


def draw_means(values: np.ndarray) -> np.ndarray:
    """Each draw's mean over the endpoints it could rank; NaN for a draw that ranked none."""
    counts = (~np.isnan(values)).sum(axis=1)
    return np.where(counts > 0, np.nansum(values, axis=1) / np.maximum(counts, 1), np.nan)


def _interval(draws: np.ndarray) -> list[float] | None:
    if np.isnan(draws).all():
        return None
    return [round(float(v), 4) for v in np.nanpercentile(draws, [2.5, 97.5])]


def _roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    return round(float(roc_auc_score(y, p)), 4) if 0 < y.sum() < len(y) else None


def _side(y: np.ndarray, p: np.ndarray, rows: np.ndarray) -> dict[str, Any]:
    return {"tested": int(rows.sum()), "roc_auc": _roc_auc(y[rows], p[rows])}


def endpoint_report(
    y: np.ndarray, p: np.ndarray, in_domain: np.ndarray, sets: np.ndarray | None
) -> dict[str, Any]:
    """One endpoint over the rows given (all scored and tested): ranking, calibration, domain, sets."""
    both = 0 < y.sum() < len(y)
    report: dict[str, Any] = {
        "tested": len(y),
        "actives": int(y.sum()),
        "roc_auc": _roc_auc(y, p),
        "roc_auc_ci": None,  # filled in over the subset's bootstrap draws
        "pr_auc": round(float(average_precision_score(y, p)), 4) if both else None,
        "brier": round(float(brier_score_loss(y, p)), 4) if len(y) else None,
        "in_domain": _side(y, p, in_domain),
        "out_of_domain": _side(y, p, ~in_domain),
    }
    if sets is not None:
        report["conformal"] = class_errors(sets, y.astype(int))
    return report


def similarity_report(
    labels: np.ndarray, scored: ScoredRecords, rows: np.ndarray, bands: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Per band of the card's nearest-neighbour similarity table: the compounds here, their mean ROC-AUC
    beside the card's scaffold-CV value for the band, and the Brier score and conformal error pooled
    over their labels. Does distance from the training set predict error on this data, as the card says?"""
    out = []
    for band in bands:
        low, high = band["band"]
        inside = rows & (scored.similarity >= low) & ((scored.similarity < high) | (high >= 1.0))
        tested = inside[:, None] & ~np.isnan(labels)
        y = np.nan_to_num(labels).astype(int)
        brier = float(((scored.probabilities - y)[tested] ** 2).mean()) if tested.any() else None
        error = None
        if scored.sets is not None and tested.any():
            covered = np.take_along_axis(scored.sets, y[..., None], axis=2)[..., 0]
            error = round(float(1 - covered[tested].mean()), 4)
        roc_auc = masked_auc(np.nan_to_num(scored.probabilities), labels, inside)
        out.append(
            {
                "band": [low, high],
                "compounds": int(inside.sum()),
                "labels": int(tested.sum()),
                "roc_auc": None if roc_auc is None else round(roc_auc, 4),
                "cv_roc_auc": band.get("roc_auc"),
                "brier": None if brier is None else round(brier, 4),
                "conformal_error": error,
            }
        )
    return out


def subset_report(
    labels: np.ndarray,
    scored: ScoredRecords,
    rows: np.ndarray,
    given: Sequence[str],
    bands: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Every given endpoint on `rows` (scored records), and the means over endpoints with both classes;
    ROC-AUCs with 95 % bootstrap intervals over compounds."""
    endpoints = {}
    for endpoint in given:
        j = ENDPOINTS.index(endpoint)
        tested = rows & ~np.isnan(labels[:, j])
        sets = None if scored.sets is None else scored.sets[tested, j]
        endpoints[endpoint] = endpoint_report(
            labels[tested, j], scored.probabilities[tested, j], scored.in_domain[tested], sets
        )
    ranked = [e for e, r in endpoints.items() if r["roc_auc"] is not None]
    wide = [e for e in ranked if _smaller_class(endpoints[e]) >= INTERVAL_MIN_CLASS]
    mean_ci = None
    if wide:
        draws = bootstrap_roc_aucs(labels, [scored.probabilities], rows)[0]
        for endpoint in wide:
            endpoints[endpoint]["roc_auc_ci"] = _interval(draws[:, ENDPOINTS.index(endpoint)])
        if wide == ranked:  # the mean's interval only where every endpoint in it has its own
            mean_ci = _interval(draw_means(draws[:, [ENDPOINTS.index(e) for e in ranked]]))
    return {
        "records": int(rows.sum()),
        "endpoints": endpoints,
        "mean_roc_auc": _mean(endpoints, ranked, "roc_auc"),
        "mean_roc_auc_ci": mean_ci,
        "mean_pr_auc": _mean(endpoints, ranked, "pr_auc"),
        "endpoints_in_mean": len(ranked),
        "by_similarity": similarity_report(labels, scored, rows, bands),
    }


def _smaller_class(row: dict[str, Any]) -> int:
    return min(row["actives"], row["tested"] - row["actives"])


def _mean(endpoints: dict[str, dict[str, Any]], ranked: list[str], metric: str) -> float | None:
    return round(float(np.mean([endpoints[e][metric] for e in ranked])), 4) if ranked else None


def validate(model: ToxicityModel, records: Sequence[InputRecord]) -> dict[str, Any]:
    """The whole report: what was scored and refused, then the novel records and all scored ones."""
    labels, given = read_labels(records)
    scored = score_records(model, records)
    valid, seen = scored.valid, scored.seen
    labelled = ~np.isnan(labels).all(axis=1)
    bands = model.card.get("applicability_domain", {}).get("bands", [])  # cards before 2.0.0 have none
    return {
        "model": {"name": model.card["name"], "version": model.card["version"]},
        "records": len(records),
        "scored": int(valid.sum()),
        "refused": dict(scored.refused.most_common()),
        "refused_with_labels": int((labelled & ~valid).sum()),
        "likely_in_training": int(seen.sum()),
        "significance": model.significance,
        "novel": subset_report(labels, scored, valid & ~seen, given, bands),
        "all": subset_report(labels, scored, valid, given, bands),
    }
