"""Row-preserving prediction: every input gets exactly one result, in input order, either with
probabilities or with the reason it could not be scored. Valid rows are never lost to a bad neighbour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rdkit import Chem

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.conformal import set_label
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import MoleculeRejection, StandardisedMolecule, prepare, standardise_mol
from hygeia.toxicity.parallel import prepare_parallel, worker_count

CHUNK = 1_000  # molecules per model call: bounds memory and gives progress ticks for long batches
Progress = Callable[[int, int], None]
# An assay is called active when its calibrated probability is at least this: the model then thinks
# activity more likely than not. Tox21 hit rates are 2-16 %, so such calls are few and meaningful.
ACTIVE_THRESHOLD = 0.5
OVERALL_RULE = f"assays with calibrated probability >= {ACTIVE_THRESHOLD}"


@dataclass
class OverallCall:
    """Per-molecule summary across the 12 assays."""

    active_assays: list[str]
    n_active: int
    highest_risk_assay: str
    highest_probability: float
    rule: str = OVERALL_RULE


def overall_call(probabilities: dict[str, float]) -> OverallCall:
    active = [e for e in ENDPOINTS if probabilities[e] >= ACTIVE_THRESHOLD]
    top = max(ENDPOINTS, key=lambda e: probabilities[e])
    return OverallCall(active, len(active), top, probabilities[top])


@dataclass
class RowPrediction:
    smiles: str  # as given by the caller
    standardised_smiles: str | None = None
    probabilities: dict[str, float] | None = None
    nearest_similarity: float | None = None
    in_domain: bool | None = None
    prediction_sets: dict[str, str] | None = None  # endpoint -> active / inactive / uncertain / empty
    overall: OverallCall | None = None
    error_code: str | None = None
    error: str | None = None

    @classmethod
    def rejected(cls, smiles: str, rejection: MoleculeRejection) -> RowPrediction:
        return cls(smiles, error_code=rejection.code, error=rejection.message)


def prepare_all(
    items: Sequence[str | Chem.Mol | MoleculeRejection],
) -> list[StandardisedMolecule | MoleculeRejection]:
    """SMILES text, parsed molecules (SDF records) or upstream read errors, standardised in order;
    large batches in worker processes (see `parallel.py`)."""
    workers = worker_count(len(items))
    if workers:
        return prepare_parallel(items, workers)
    out: list[StandardisedMolecule | MoleculeRejection] = []
    for item in items:
        if isinstance(item, MoleculeRejection):
            out.append(item)
        elif isinstance(item, str):
            out.append(prepare(item))
        else:
            out.append(standardise_mol(item))
    return out


def predict_prepared(
    model: ToxicityModel,
    given: Sequence[str],
    prepared: Sequence[StandardisedMolecule | MoleculeRejection],
    progress: Progress | None = None,
) -> list[RowPrediction]:
    """Score the valid molecules in chunks and put each result back at its input position."""
    results = [
        RowPrediction.rejected(text, item) if isinstance(item, MoleculeRejection) else RowPrediction(text)
        for text, item in zip(given, prepared, strict=True)
    ]
    valid = [i for i, item in enumerate(prepared) if isinstance(item, StandardisedMolecule)]
    for start in range(0, len(valid), CHUNK):
        chunk = valid[start : start + CHUNK]
        molecules = [prepared[i] for i in chunk]
        scored = model.predict([m.mol for m in molecules])  # type: ignore[union-attr]
        for k, i in enumerate(chunk):
            row = results[i]
            row.standardised_smiles = molecules[k].smiles  # type: ignore[union-attr]
            row.probabilities = {
                e: round(float(scored.probabilities[k, j]), 4) for j, e in enumerate(ENDPOINTS)
            }
            row.nearest_similarity = round(float(scored.nearest_similarity[k]), 4)
            row.in_domain = bool(scored.in_domain[k])
            row.overall = overall_call(row.probabilities)
            if scored.prediction_sets is not None:
                row.prediction_sets = {
                    e: set_label(scored.prediction_sets[k, j]) for j, e in enumerate(ENDPOINTS)
                }
        if progress is not None:
            progress(min(start + CHUNK, len(valid)), len(valid))
    return results


def predict_smiles(
    model: ToxicityModel, smiles: Sequence[str], progress: Progress | None = None
) -> list[RowPrediction]:
    return predict_prepared(model, list(smiles), prepare_all(list(smiles)), progress)
