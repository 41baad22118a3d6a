"""A simulated stream of predictions and outcomes, generated from the real Tox21 data set.

The molecules and their measured assay results are real (MoleculeNet Tox21, the training data of the
bundled models); the *stream* is simulated: the tests post those results as if a lab had reported
them after the predictions, and sometimes post them inverted to simulate a model that stopped
matching what is measured. Every outcome says so in its `source`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

TOX21 = REPO_ROOT.parent / "shared" / "data" / "tox21" / "tox21.csv"
SOURCE = "simulated stream: measured Tox21 result (MoleculeNet), replayed by a test"


def tox21_measured(endpoint: str, positives: int, negatives: int) -> list[tuple[str, int]]:
    """The first `positives` actives and `negatives` inactives measured on `endpoint`, in file order."""
    if not Path(TOX21).is_file():
        pytest.skip(f"no Tox21 data at {TOX21}")
    chosen: list[tuple[str, int]] = []
    wanted = {1: positives, 0: negatives}
    with TOX21.open() as handle:
        for row in csv.DictReader(handle):
            value = row[endpoint]
            if value == "" or wanted[int(float(value))] == 0:
                continue
            wanted[int(float(value))] -= 1
            chosen.append((row["smiles"], int(float(value))))
            if not any(wanted.values()):
                break
    return chosen


def outcome_rows(
    ids: list[str], measured: list[tuple[str, int]], endpoint: str, invert: bool = False
) -> list:
    return [
        {"prediction_id": pid, "label": endpoint, "observed": (1 - y) if invert else y, "source": SOURCE}
        for pid, (_, y) in zip(ids, measured, strict=True)
    ]
