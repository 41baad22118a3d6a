"""Do the fast standardisation and featurisation paths give exactly the reference answers on real data?

`python -m benchmarks.toxicity.fast_paths [--data tox21.csv] [--every K]`

The shipped models are only valid for the inputs they were trained on, so a speed-up may not change a
single bit. For every Tox21 row this runs the production path and a reference path built from RDKit's
own calls (rdMolStandardize.Cleanup; each descriptor function from `Descriptors._descList` in the
model's order, every fr_ count searched; the FCFP generator computing its own atom invariants; one
unscreened FilterCatalog call for the structural alerts) and compares the standardised
SMILES (or rejection) and every feature part of every bundled model, bit for bit. Exit status 1 on any
difference. The unit tests (tests/unit/toxicity/test_fast_paths.py) do the same on a small fixture.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors
from rdkit.Chem.MolStandardize import rdMolStandardize

from hygeia.toxicity import molecules
from hygeia.toxicity.dataset import read_tox21
from hygeia.toxicity.featurize import (
    DESCRIPTOR_CLIP,
    FeatureMorganCountFeaturizer,
    Featurizer,
    RDKitDescriptorFeaturizer,
    StructuralAlertFeaturizer,
)
from hygeia.toxicity.loading import load_folder
from hygeia.toxicity.molecules import StandardisedMolecule, prepare

REPO = Path(__file__).resolve().parents[2]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "tox21" / "tox21.csv"


def outcome(smiles: str) -> tuple[str, Chem.Mol | None]:
    result = prepare(smiles)
    if isinstance(result, StandardisedMolecule):
        return result.smiles, result.mol
    return f"rejected {result.code}", None


def reference_outcomes(smiles: list[str]) -> list[tuple[str, Chem.Mol | None]]:
    """Standardisation with RDKit's own Cleanup in place of the one on prebuilt objects."""
    tools = molecules._standardiser()
    fast_cleanup = tools.cleanup
    tools.cleanup = rdMolStandardize.Cleanup  # type: ignore[method-assign]
    try:
        return [outcome(s) for s in smiles]
    finally:
        tools.cleanup = fast_cleanup  # type: ignore[method-assign]


def reference_vector(featurizer: Featurizer, mol: Chem.Mol) -> np.ndarray:
    """What the part computes, by the plain RDKit route (parts without a fast path: themselves)."""
    if isinstance(featurizer, RDKitDescriptorFeaturizer):
        functions = dict(Descriptors._descList)
        values = np.full(len(featurizer.names), np.nan)
        with rdBase.BlockLogs():
            for i, name in enumerate(featurizer.names):
                try:
                    values[i] = float(functions[name](mol))
                except Exception:  # as the featurizer: one failing descriptor is NaN
                    continue
        values[~np.isfinite(values)] = np.nan
        return np.clip(values, -DESCRIPTOR_CLIP, DESCRIPTOR_CLIP).astype(np.float32)
    if isinstance(featurizer, FeatureMorganCountFeaturizer):
        counts = featurizer._generator.GetCountFingerprintAsNumPy(mol)
        return np.minimum(counts, 255).astype(np.float32)
    if isinstance(featurizer, StructuralAlertFeaturizer):
        return featurizer.catalog_matches(mol)
    return featurizer(mol)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--every", type=int, default=1, help="check every k-th row only")
    args = parser.parse_args(argv)
    smiles = read_tox21(args.data)["smiles"].tolist()[:: args.every]
    parts: dict[str, Featurizer] = {}
    for folder in sorted((REPO / "models" / "toxicity").glob("*/card.json")):
        parts.update(load_folder(folder.parent).feature_parts)
    started = time.perf_counter()
    fast = [outcome(s) for s in smiles]
    reference = reference_outcomes(smiles)
    differing = Counter[str]()
    differing["standardised SMILES"] = sum(f[0] != r[0] for f, r in zip(fast, reference, strict=True))
    valid = [(f[1], r[0]) for f, r in zip(fast, reference, strict=True) if f[1] is not None]
    for featurizer in parts.values():
        spec = featurizer.spec
        if spec.name == "molecule_graph":  # reads RDKit's atoms and bonds directly: no fast path
            continue
        name = f"{spec.name} r{spec.params['radius']}" if "radius" in spec.params else spec.name
        name = f"{name} ({spec.dimension})"
        differing[name] += 0
        for mol, reference_smiles in valid:
            ours = featurizer(mol)
            expected = reference_vector(featurizer, Chem.MolFromSmiles(reference_smiles))
            differing[name] += ours.tobytes() != expected.tobytes()
    for name, count in differing.items():
        total = len(smiles) if name == "standardised SMILES" else len(valid)
        print(f"{name:24s} {count:5d} differing of {total}")
    print(
        f"{len(smiles)} rows, {len(valid)} standardised, {len(parts)} feature parts, "
        f"{time.perf_counter() - started:.0f} s"
    )
    return 1 if sum(differing.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
