"""Row-preserving prediction: every input gets exactly one result, in input order, either with
probabilities or with the reason it could not be scored. Valid rows are never lost to a bad neighbour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rdkit import Chem

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import MoleculeRejection, StandardisedMolecule, prepare, standardise_mol

CHUNK = 1_000  # molecules per model call: bounds memory and gives progress ticks for long batches
Progress = Callable[[int, int], None]


@dataclass
class RowPrediction:
    smiles: str  # as given by the caller
    standardised_smiles: str | None = None
    probabilities: dict[str, float] | None = None
    nearest_similarity: float | None = None
    in_domain: bool | None = None
    error_code: str | None = None
    error: str | None = None

    @classmethod
    def rejected(cls, smiles: str, rejection: MoleculeRejection) -> RowPrediction:
        return cls(smiles, error_code=rejection.code, error=rejection.message)


def prepare_all(
    items: Sequence[str | Chem.Mol | MoleculeRejection],
) -> list[StandardisedMolecule | MoleculeRejection]:
    """SMILES text, parsed molecules (SDF records) or upstream read errors, standardised in order."""
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
        if progress is not None:
            progress(min(start + CHUNK, len(valid)), len(valid))
    return results


def predict_smiles(
    model: ToxicityModel, smiles: Sequence[str], progress: Progress | None = None
) -> list[RowPrediction]:
    return predict_prepared(model, list(smiles), prepare_all(list(smiles)), progress)
