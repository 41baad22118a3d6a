"""CPU time of one toxicity prediction, alone and in batches: the service time behind the uncached
load scenario (`python -m benchmarks.load.toxicity_service_time`).

Little's law for the load test: 16 closed-loop users with no think time on one worker wait about
16 times this service time, so it says what an uncached p99 target needs before any server is involved.
Molecules are Tox21 rows 2000-2399 (the load test uses rows 0-1999); CPU time of this process only.
"""

from __future__ import annotations

import csv
import os
import resource
import sys
from pathlib import Path

from hygeia.toxicity.lifecycle import inchikey
from hygeia.toxicity.loading import bundled_folder, load_folder
from hygeia.toxicity.molecules import MoleculeRejection, prepare
from hygeia.toxicity.parallel import featurize_prepared

ROOT = Path(__file__).resolve().parents[2]
BATCH_SIZES = (1, 4, 8, 16)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _molecules(data_dir: Path) -> list[str]:
    with (data_dir / "tox21" / "tox21.csv").open() as handle:
        rows = [row["smiles"] for row in csv.DictReader(handle)][2000:2400]
    return [s for s in rows if not isinstance(prepare(s), MoleculeRejection)]


def main() -> int:
    data_dir = Path(os.environ.get("HYGEIA_DATA_DIR", ROOT.parent / "shared" / "data"))
    model = load_folder(bundled_folder())
    smiles = _molecules(data_dir)
    model.score(featurize_prepared(model.feature_parts, [prepare(s) for s in smiles[:8]]))  # warm up
    print(f"toxicity {model.version}, {len(smiles)} Tox21 molecules, load average {os.getloadavg()[0]:.1f}")
    print(
        f"{'batch':>5} {'standardise':>12} {'featurise':>10} {'score':>8} {'total ms CPU per molecule':>27}"
    )
    for size in BATCH_SIZES:
        spent = {"standardise": 0.0, "featurise": 0.0, "score": 0.0}
        n = len(smiles) // size * size
        for start in range(0, n, size):
            began = _cpu()
            prepared = [prepare(s) for s in smiles[start : start + size]]
            standardised = _cpu()
            features = featurize_prepared(model.feature_parts, prepared)
            featurised = _cpu()
            model.score(features)
            spent["standardise"] += standardised - began
            spent["featurise"] += featurised - standardised
            spent["score"] += _cpu() - featurised
        per = {part: 1000 * seconds / n for part, seconds in spent.items()}
        print(
            f"{size:5} {per['standardise']:12.2f} {per['featurise']:10.2f} {per['score']:8.2f} "
            f"{sum(per.values()):20.2f}"
        )
    standardised = [prepare(s).smiles for s in smiles]  # type: ignore[union-attr]
    began = _cpu()
    for parent in standardised:
        inchikey.__wrapped__(parent)  # uncached: what a new molecule's prediction id costs
    print(f"InChIKey of the parent (prediction id): {1000 * (_cpu() - began) / len(smiles):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
