"""Molecule featurizers, one small class per representation, each with a spec the model card stores.

A model is only valid for the exact features it was trained on: the spec (name, version, dimension,
parameters) is written into the card and compared at load time, so a changed radius, fingerprint
size or descriptor list is refused with a clear error instead of producing silently wrong numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np
from rdkit import Chem, DataStructs, rdBase
from rdkit.Chem import rdFingerprintGenerator, rdMolDescriptors, rdReducedGraphs
from rdkit.Chem.FilterCatalog import FilterCatalog, FilterCatalogParams

from hygeia.toxicity.descriptor_names import TOXICITY_DESCRIPTORS
from hygeia.toxicity.descriptors import Terms, descriptor_functions
from hygeia.toxicity.substructure_screen import SubstructureScreen, filter_entry_query

# Descriptors such as Ipc reach 1e30 on large molecules; beyond this they carry no usable signal and
# would overflow float32, so they are clipped instead of becoming inf.
DESCRIPTOR_CLIP = 1e12


class FeatureSpecMismatch(ValueError):
    """The stored model expects different features from those this code would compute."""


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    version: str
    dimension: int
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Featurizer(Protocol):
    spec: FeatureSpec

    def __call__(self, mol: Chem.Mol) -> np.ndarray: ...

    def feature_names(self) -> list[str]: ...


class MorganFeaturizerMixin:
    """What the circular-fingerprint featurizers (ECFP counts, ECFP bits, FCFP counts) share: radius,
    size, one RDKit generator and the spec's params, as chemprop's MorganFeaturizerMixin does. The
    spec name and column prefix say which one it is; the exact bits are pinned by a test."""

    SPEC_NAME: str
    PREFIX: str

    def __init__(self, radius: int = 2, size: int = 2048) -> None:
        self.radius, self.size = radius, size
        self._generator = rdFingerprintGenerator.GetMorganGenerator(
            radius=radius, fpSize=size, **self._generator_options()
        )
        self.spec = FeatureSpec(self.SPEC_NAME, "1", size, {"radius": radius, "size": size})

    def _generator_options(self) -> dict[str, Any]:
        return {}

    def _counts(self, mol: Chem.Mol) -> np.ndarray:
        """Counts capped at 255: a larger count says nothing more and keeps the matrix compact."""
        return np.minimum(self._generator.GetCountFingerprintAsNumPy(mol), 255).astype(np.float32)

    def feature_names(self) -> list[str]:
        return [f"{self.PREFIX}_r{self.radius}_{i}" for i in range(self.size)]


class MorganCountFeaturizer(MorganFeaturizerMixin):
    """Hashed ECFP-style substructure counts: how many times each circular environment occurs."""

    SPEC_NAME, PREFIX = "morgan_count", "morgan"

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        return self._counts(mol)

    def bit_atoms(self, mol: Chem.Mol) -> dict[int, list[tuple[int, int]]]:
        """Which (centre atom, radius) environments set each bit: the link from features to atoms."""
        info = rdFingerprintGenerator.AdditionalOutput()
        info.AllocateBitInfoMap()
        self._generator.GetCountFingerprintAsNumPy(mol, additionalOutput=info)
        return {int(bit): [tuple(env) for env in envs] for bit, envs in info.GetBitInfoMap().items()}


class MorganBitFeaturizer(MorganFeaturizerMixin):
    """Binary ECFP4: the plain baseline representation and the applicability-domain fingerprint."""

    SPEC_NAME, PREFIX = "morgan_bits", "ecfp"

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        return self._generator.GetFingerprintAsNumPy(mol).astype(np.float32)

    def bit_vector(self, mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
        return self._generator.GetFingerprint(mol)


class AtomPairCountFeaturizer:
    """Hashed atom-pair counts: pairs of atom types at a topological distance, i.e. molecular shape
    and spacing that circular fingerprints miss. Diversity for the ensemble."""

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self._generator = rdFingerprintGenerator.GetAtomPairGenerator(fpSize=size)
        self.spec = FeatureSpec("atompair_count", "1", size, {"size": size})

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        return np.minimum(self._generator.GetCountFingerprintAsNumPy(mol), 255).astype(np.float32)

    def feature_names(self) -> list[str]:
        return [f"atompair_{i}" for i in range(self.size)]


class MACCSFeaturizer:
    """The 166 MACCS structural keys: coarse, human-readable substructure flags."""

    def __init__(self) -> None:
        self.spec = FeatureSpec("maccs", "1", 167, {})

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        keys = rdMolDescriptors.GetMACCSKeysFingerprint(mol)
        out = np.zeros(167, dtype=np.float32)
        DataStructs.ConvertToNumpyArray(keys, out)
        return out

    def feature_names(self) -> list[str]:
        return [f"maccs_{i}" for i in range(167)]


class RDKitDescriptorFeaturizer:
    """Whole-molecule physchem descriptors in a fixed order; NaN marks a descriptor RDKit could not compute.

    The list is fixed in code (not taken from the installed RDKit) so a model stays valid across RDKit
    releases that add descriptors; a missing one is an error at construction. Costly inner terms are
    shared between descriptors (see `descriptors.py`); the values are RDKit's own.
    """

    def __init__(self, names: Sequence[str] = TOXICITY_DESCRIPTORS) -> None:
        self.names = list(names)
        self._functions, missing = descriptor_functions(self.names)
        if missing:
            raise FeatureSpecMismatch(f"this RDKit lacks descriptors {missing}")
        self.spec = FeatureSpec("rdkit_2d", "1", len(self.names), {"names": self.names})

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        values = np.full(len(self._functions), np.nan, dtype=np.float64)
        terms: Terms = {}
        with rdBase.BlockLogs():
            for i, function in enumerate(self._functions):
                try:
                    values[i] = float(function(mol, terms))
                except Exception:  # one failing descriptor must not lose the molecule
                    continue
        values[~np.isfinite(values)] = np.nan
        return np.clip(values, -DESCRIPTOR_CLIP, DESCRIPTOR_CLIP).astype(np.float32)

    def feature_names(self) -> list[str]:
        return list(self.names)


class FeatureMorganCountFeaturizer(MorganFeaturizerMixin):
    """FCFP-style counts: circular environments over pharmacophoric atom roles (donor, acceptor,
    aromatic, halogen, acidic, basic) instead of exact atoms. Receptor assays respond to such roles,
    and DeepTox-style networks gain from having both ECFP and FCFP views."""

    SPEC_NAME, PREFIX = "fcfp_count", "fcfp"

    def __init__(self, radius: int = 2, size: int = 1024) -> None:
        super().__init__(radius, size)

    def _generator_options(self) -> dict[str, Any]:
        return {"atomInvariantsGenerator": rdFingerprintGenerator.GetMorganFeatureAtomInvGen()}

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        """The atom roles come from SMARTS matching, a third of an FCFP's cost: they are found once
        per molecule and given to every radius (RDKit then skips its own, identical, invariants)."""
        counts = self._generator.GetCountFingerprintAsNumPy(mol, customAtomInvariants=feature_invariants(mol))
        return np.minimum(counts, 255).astype(np.float32)


def feature_invariants(mol: Chem.Mol) -> list[int]:
    """Pharmacophoric atom invariants (what GetMorganFeatureAtomInvGen computes), cached on the molecule."""
    try:
        return mol._hygeiaFeatureInvariants
    except AttributeError:
        mol._hygeiaFeatureInvariants = list(rdMolDescriptors.GetFeatureInvariants(mol))
        return mol._hygeiaFeatureInvariants


ALERT_CATALOGS = ("BRENK", "NIH")
_ALERT_COLUMN = "hygeia_column"


class StructuralAlertFeaturizer:
    """One flag per published structural alert (RDKit's Brenk and NIH catalogues: reactive,
    toxicophoric and assay-interfering groups). The toxicophore view DeepTox found useful, with names a
    chemist can read; the catalogue entry order is fixed by RDKit and pinned by the entry count."""

    def __init__(self, catalogs: Sequence[str] = ALERT_CATALOGS) -> None:
        params = FilterCatalogParams()
        for name in catalogs:
            params.AddCatalog(getattr(FilterCatalogParams.FilterCatalogs, name))
        self._catalog = FilterCatalog(params)
        self.catalogs = list(catalogs)
        entries = [self._catalog.GetEntryWithIdx(i) for i in range(self._catalog.GetNumEntries())]
        for i, entry in enumerate(entries):  # descriptions repeat, so each entry carries its column
            entry.SetProp(_ALERT_COLUMN, str(i))
        self.names = [entry.GetDescription() for entry in entries]
        self.spec = FeatureSpec("structural_alerts", "1", len(self.names), {"catalogs": self.catalogs})
        self._entries = entries
        self._screen = SubstructureScreen([filter_entry_query(entry) for entry in entries])

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        """Only the entries the atom-type screen leaves possible are searched (about a third of them
        on Tox21); the others cannot match, so the flags equal the whole catalogue's `GetMatches`."""
        out = np.zeros(len(self.names), dtype=np.float32)
        for column in np.flatnonzero(self._screen.possible(mol)):
            if self._entries[column].HasFilterMatch(mol):
                out[column] = 1.0
        return out

    def catalog_matches(self, mol: Chem.Mol) -> np.ndarray:
        """The same flags from one unscreened catalogue call: the reference the screen is held to."""
        out = np.zeros(len(self.names), dtype=np.float32)
        for entry in self._catalog.GetMatches(mol):
            out[int(entry.GetProp(_ALERT_COLUMN))] = 1.0
        return out

    def feature_names(self) -> list[str]:
        return [f"alert_{i}_{name}" for i, name in enumerate(self.names)]


class ReducedGraphFeaturizer:
    """The extended reduced graph (ErG; Stiefl et al. 2006): the molecule contracted to pharmacophoric
    nodes (donor, acceptor, charged, hydrophobic and aromatic ring centres), binned by node-type pair
    and topological distance, with fuzzy counts. A binding-site view no substructure key or bulk
    descriptor gives; it raised the boosters' scaffold-CV ranking (benchmarks/toxicity/README.md §23).

    RDKit 2026.09's ErG reads a distance matrix another featurizer cached on the molecule (RDKit
    descriptors, atom pairs) for its reduced graph, where it is stale: pentachlorophenol and uric acid
    got other counts after the descriptors ran than before, so values depended on the parts' order
    and differed between worker processes and the main one. It therefore reads a copy without
    computed properties (spec version 2)."""

    def __init__(self, fuzz_increment: float = 0.3, min_path: int = 1, max_path: int = 15) -> None:
        self.fuzz_increment, self.min_path, self.max_path = fuzz_increment, min_path, max_path
        self.size = 21 * (max_path - min_path + 1)  # 21 unordered pairs of the 6 node types
        params = {"fuzz_increment": fuzz_increment, "min_path": min_path, "max_path": max_path}
        self.spec = FeatureSpec("erg", "2", self.size, params)

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        uncached = Chem.Mol(mol)
        uncached.ClearComputedProps(includeRings=False)
        values = rdReducedGraphs.GetErGFingerprint(
            uncached, fuzzIncrement=self.fuzz_increment, minPath=self.min_path, maxPath=self.max_path
        )
        return np.asarray(values, dtype=np.float32)

    def feature_names(self) -> list[str]:
        return [f"erg_{i}" for i in range(self.size)]


class ConcatFeaturizer:
    """Several featurizers side by side; the spec lists its parts so each is checked on load."""

    def __init__(self, parts: Sequence[Featurizer]) -> None:
        self.parts = list(parts)
        name = "+".join(part.spec.name for part in self.parts)
        dimension = sum(part.spec.dimension for part in self.parts)
        self.spec = FeatureSpec(name, "1", dimension, {"parts": [p.spec.as_dict() for p in self.parts]})

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        return np.concatenate([part(mol) for part in self.parts])

    def feature_names(self) -> list[str]:
        return [name for part in self.parts for name in part.feature_names()]


FEATURIZERS: dict[str, type] = {
    "morgan_count": MorganCountFeaturizer,
    "morgan_bits": MorganBitFeaturizer,
    "atompair_count": AtomPairCountFeaturizer,
    "maccs": MACCSFeaturizer,
    "rdkit_2d": RDKitDescriptorFeaturizer,
    "fcfp_count": FeatureMorganCountFeaturizer,
    "structural_alerts": StructuralAlertFeaturizer,
    "erg": ReducedGraphFeaturizer,
}


def featurizer_from_spec(spec: dict[str, Any]) -> Featurizer:
    """Rebuild the featurizer a card describes, then prove it matches before any prediction."""
    name, params = spec.get("name", ""), dict(spec.get("params") or {})
    if name == "molecule_graph":  # imported here: graph_inputs builds on this module's FeatureSpec
        from hygeia.toxicity.graph_inputs import MoleculeGraphFeaturizer

        featurizer: Featurizer = MoleculeGraphFeaturizer()
    elif "parts" in params:
        featurizer = ConcatFeaturizer([featurizer_from_spec(p) for p in params["parts"]])
    elif name in FEATURIZERS:
        featurizer = FEATURIZERS[name](**params)
    else:
        raise FeatureSpecMismatch(f"unknown featurizer {name!r} in the model card")
    check_spec(spec, featurizer.spec)
    return featurizer


def check_spec(expected: dict[str, Any], actual: FeatureSpec) -> None:
    """Refuse a model whose stored feature spec differs in any field from what the code computes."""
    current = actual.as_dict()
    differing = [
        key for key in ("name", "version", "dimension", "params") if expected.get(key) != current[key]
    ]
    if differing:
        details = ", ".join(
            f"{key}: model {expected.get(key)!r} vs code {current[key]!r}" for key in differing
        )
        raise FeatureSpecMismatch(f"feature spec mismatch for {actual.name!r} ({_clip(details)})")


def featurize_many(featurizer: Featurizer, mols: Sequence[Chem.Mol]) -> np.ndarray:
    """Stack per-molecule vectors into the float32 matrix LightGBM takes. A part without fixed-width
    rows (the molecule graph) featurises the whole batch itself and returns its own batch object."""
    whole_batch = getattr(featurizer, "featurize_many", None)
    if whole_batch is not None:
        return whole_batch(mols)
    matrix = np.zeros((len(mols), featurizer.spec.dimension), dtype=np.float32)
    for i, mol in enumerate(mols):
        matrix[i] = featurizer(mol)
    return matrix


def _clip(text: str, limit: int = 600) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
