"""CPU time of the featurize and score phases of two model versions, alternating
(`python -m benchmarks.toxicity.score_ab models/toxicity/2.3.0 models/toxicity/2.4.0`).

The molecules are standardised once; each model then featurises them with its own feature parts
(RDKit's per-molecule caches cleared first, so neither profits from the other's work) and scores
them alone and in batches of 16, in alternating order over 4 rounds, so the machine's drift falls on
both. Versions that read different inputs (2.10.0 adds the reduced graph) are thereby compared on
what each costs end to end after standardisation. Tox21 rows 2000-2399, as
`benchmarks.load.toxicity_service_time`.
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
from hygeia.toxicity.parallel import featurize_prepared, without_caches

ROOT = Path(__file__).resolve().parents[2]
ROUNDS, BATCH_SIZES = 4, (1, 16)


def main(argv: list[str]) -> None:
    models = dict(_load(arg) for arg in argv)
    data = Path(os.environ.get("HYGEIA_DATA_DIR", ROOT.parent / "shared" / "data"))
    with (data / "tox21" / "tox21.csv").open() as handle:
        smiles = [row["smiles"] for row in csv.DictReader(handle)][2000:2400]
    prepared = [p for p in map(prepare, smiles) if not isinstance(p, MoleculeRejection)]
    print(f"{len(prepared)} molecules, ms CPU per molecule, one value per round")
    featurize: dict[str, list[float]] = {name: [] for name in models}
    for round_ in range(ROUNDS):
        for name, model in _alternating(models, round_):
            for row in prepared:
                without_caches(row)
            began = time.process_time()
            featurize_prepared(model.feature_parts, prepared)
            featurize[name].append(_ms_per_molecule(began, len(prepared)))
    print("featurize: " + "; ".join(f"{name} {values}" for name, values in featurize.items()))
    for size in BATCH_SIZES:
        chunks = [prepared[i : i + size] for i in range(0, len(prepared) - size + 1, size)]
        batches = {
            name: [featurize_prepared(model.feature_parts, chunk) for chunk in chunks]
            for name, model in models.items()
        }
        spent: dict[str, list[float]] = {name: [] for name in models}
        for round_ in range(ROUNDS):
            for name, model in _alternating(models, round_):
                began = time.process_time()
                for batch in batches[name]:
                    model.score(batch)
                spent[name].append(_ms_per_molecule(began, len(chunks) * size))
        print(f"score, batch {size}: " + "; ".join(f"{name} {values}" for name, values in spent.items()))


def _alternating(models: dict[str, ToxicityModel], round_: int) -> list[tuple[str, ToxicityModel]]:
    order = list(models.items())
    return order if round_ % 2 == 0 else order[::-1]


def _ms_per_molecule(began: float, molecules: int) -> float:
    return round(1000 * (time.process_time() - began) / molecules, 2)


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
