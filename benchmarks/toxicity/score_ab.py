"""CPU time of the score phase of two model versions on the same features, alternating
(`python -m benchmarks.toxicity.score_ab models/toxicity/2.3.0 models/toxicity/2.4.0`).

For versions whose feature parts are the same: the molecules are standardised and featurised once,
then each model scores them alone and in batches of 16, in alternating order over 4 rounds, so the
machine's drift falls on both. Tox21 rows 2000-2399, as `benchmarks.load.toxicity_service_time`.
`FOLDER:whole-seeds` is the same model with each network seed run whole, i.e. without the shared
input transform (`network_member.SharedInputs`): `score_ab models/toxicity/2.6.0:whole-seeds
models/toxicity/2.6.0` times what sharing it saves.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from pathlib import Path

from hygeia.toxicity.loading import load_folder
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import MoleculeRejection, prepare
from hygeia.toxicity.parallel import featurize_prepared

ROOT = Path(__file__).resolve().parents[2]
ROUNDS, BATCH_SIZES = 4, (1, 16)


def main(argv: list[str]) -> None:
    models = dict(_load(arg) for arg in argv)
    data = Path(os.environ.get("HYGEIA_DATA_DIR", ROOT.parent / "shared" / "data"))
    with (data / "tox21" / "tox21.csv").open() as handle:
        smiles = [row["smiles"] for row in csv.DictReader(handle)][2000:2400]
    prepared = [p for p in map(prepare, smiles) if not isinstance(p, MoleculeRejection)]
    parts = next(iter(models.values())).feature_parts
    print(f"{len(prepared)} molecules, ms CPU per molecule in the score phase, one value per round")
    for size in BATCH_SIZES:
        batches = [
            featurize_prepared(parts, prepared[i : i + size])
            for i in range(0, len(prepared) - size + 1, size)
        ]
        spent: dict[str, list[float]] = {name: [] for name in models}
        for round_ in range(ROUNDS):
            order = list(models.items()) if round_ % 2 == 0 else list(reversed(models.items()))
            for name, model in order:
                began = time.process_time()
                for batch in batches:
                    model.score(batch)
                spent[name].append(round(1000 * (time.process_time() - began) / (len(batches) * size), 2))
        print(f"batch {size}: " + "; ".join(f"{name} {values}" for name, values in spent.items()))


def _load(arg: str) -> tuple[str, ToxicityModel]:
    folder, _, variant = arg.partition(":")
    model = load_folder(Path(folder))
    if variant == "whole-seeds":
        for network in model.networks:
            network.shared = None
    elif variant:
        raise SystemExit(f"unknown variant {variant!r}: FOLDER or FOLDER:whole-seeds")
    return f"{Path(folder).name} {variant}".strip(), model


if __name__ == "__main__":
    main(sys.argv[1:])
