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


STATIN49 = REPO_ROOT.parent / "shared" / "data" / "pv" / "mddc" / "statin49.csv"
SIGNAL_SOURCE = "simulated stream: assessment replayed by a test from the real FAERS statin counts"


def statin_counts() -> bytes:
    """MDDC's statin49: real FAERS 2014Q3-2020Q4 counts of 49 adverse events x 6 statins (+ Other)."""
    if not Path(STATIN49).is_file():
        pytest.skip(f"no MDDC statin data at {STATIN49}")
    return STATIN49.read_bytes()


def simulated_assessment() -> dict[tuple[str, str], int]:
    """A simulated assessor's verdict per (statin, event), from the same real table: confirmed (1)
    when the pair's reports are over twice what independence of drug and event predicts, refuted
    (0) otherwise. The counts are real; treating this rule as later assessments is the simulation."""
    rows = list(csv.reader(statin_counts().decode().splitlines()))
    drugs, table = rows[0][1:], {r[0]: [int(v) for v in r[1:]] for r in rows[1:]}
    total = sum(sum(v) for v in table.values())
    by_drug = [sum(v[i] for v in table.values()) for i in range(len(drugs))]
    verdicts = {}
    for event, counts in table.items():
        for i, drug in enumerate(drugs):
            expected = sum(counts) * by_drug[i] / total
            if drug != "Other" and event != "Other" and counts[i] > 0:
                verdicts[(drug.upper(), event.upper())] = int(counts[i] > 2 * expected)
    return verdicts
