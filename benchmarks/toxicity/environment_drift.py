"""How much another library environment changes a model's answers on all of Tox21 (§36).

Run `score` once in each environment (a venv with other RDKit, LightGBM... versions and this checkout
installed), then `compare` the two files: per compound, whether the standardised SMILES and each feature
part are the same, and how far the 12 probabilities moved.

    python -m benchmarks.toxicity.environment_drift score --model models/toxicity/2.13.1 --out here.npz
    /tmp/oldrdk/bin/python -m benchmarks.toxicity.environment_drift score --model ... --out there.npz
    python -m benchmarks.toxicity.environment_drift compare here.npz there.npz --json OUT.json
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.environments import drift_main
from hygeia.core.registry import verify_folder
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.dataset import read_tox21
from hygeia.toxicity.environment_check import answer, installed_versions
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.parallel import CHUNK


def _row_digests(values: np.ndarray) -> np.ndarray:
    """One sha256 per row, so two environments' parts compare without storing every feature."""
    rows = np.ascontiguousarray(values, dtype=np.float64)
    return np.array([hashlib.sha256(row.tobytes()).hexdigest()[:16] for row in rows])


def score(model_folder: Path, data: Path, out: Path) -> None:
    """Every Tox21 row through the serving path; refused rows keep their place (empty SMILES, NaN)."""
    model = ToxicityModel.from_folder(model_folder, verify_folder(model_folder))  # no environment check
    smiles = read_tox21(data)["smiles"].tolist()
    standardised = []
    probabilities = np.full((len(smiles), len(ENDPOINTS)), np.nan)
    digests: dict[str, np.ndarray] = {}
    for start in range(0, len(smiles), CHUNK):
        answered = answer(model, smiles[start : start + CHUNK])  # the environment check's serving path
        rows = start + np.flatnonzero([parent != "" for parent in answered.standardised])
        standardised += answered.standardised
        probabilities[rows] = answered.probabilities
        for key, values in answered.parts.items():
            name = json.loads(key)["name"]
            digests.setdefault(name, np.full(len(smiles), "", dtype="<U16"))[rows] = _row_digests(values)
    np.savez_compressed(
        out,
        standardised=np.array(standardised),
        probabilities=probabilities,
        part_names=np.array(list(digests)),
        **{f"part_{i}": rows for i, rows in enumerate(digests.values())},
        versions=np.array(json.dumps(installed_versions())),
    )


def compare(here: Path, there: Path) -> dict[str, Any]:
    a, b = np.load(here, allow_pickle=False), np.load(there, allow_pickle=False)
    both = (a["standardised"] != "") & (b["standardised"] != "")
    same = both & (a["standardised"] == b["standardised"])
    shift = np.abs(a["probabilities"][same] - b["probabilities"][same]).max(axis=1)
    names = [str(n) for n in a["part_names"]]
    parts = {name: int(np.sum((a[f"part_{i}"] != b[f"part_{i}"])[same])) for i, name in enumerate(names)}
    return {
        "here": json.loads(str(a["versions"])),
        "there": json.loads(str(b["versions"])),
        "rows": len(both),
        "scored_in_both": int(both.sum()),
        "scored_in_one_only": int(np.sum((a["standardised"] != "") != (b["standardised"] != ""))),
        "standardised_differently": int(both.sum() - same.sum()),
        "compared": int(same.sum()),
        "compounds_with_a_changed_part": parts,
        "probability_shift": {
            "any_above_1e-9": int(np.sum(shift > 1e-9)),
            "above_1e-4": int(np.sum(shift > 1e-4)),
            "above_0.01": int(np.sum(shift > 0.01)),
            "above_0.05": int(np.sum(shift > 0.05)),
            "largest": float(shift.max()),
        },
    }


def main() -> None:
    drift_main(__doc__ or "", score, compare, Path("../shared/data/tox21/tox21.csv"))


if __name__ == "__main__":
    main()
