"""Featurizer specs: fixed dimensions, round-trip through the card, and refusal on any mismatch."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors, rdReducedGraphs

from hygeia.toxicity.descriptor_names import RDKIT_2D_DESCRIPTORS, SLOW_REDUNDANT
from hygeia.toxicity.descriptors import SHARED
from hygeia.toxicity.featurize import (
    DESCRIPTOR_CLIP,
    ConcatFeaturizer,
    FeatureMorganCountFeaturizer,
    FeatureSpecMismatch,
    MACCSFeaturizer,
    MorganBitFeaturizer,
    MorganCountFeaturizer,
    MorganFeaturizerMixin,
    RDKitDescriptorFeaturizer,
    ReducedGraphFeaturizer,
    StructuralAlertFeaturizer,
    featurizer_from_spec,
)
from hygeia.toxicity.members import SHIPPED_MEMBERS

ASPIRIN = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")


def test_dimensions_match_specs() -> None:
    featurizers = (
        MorganCountFeaturizer(),
        MACCSFeaturizer(),
        RDKitDescriptorFeaturizer(),
        ReducedGraphFeaturizer(),
    )
    for featurizer in (*featurizers, ReducedGraphFeaturizer(min_path=2, max_path=6)):
        vector = featurizer(ASPIRIN)
        assert vector.shape == (featurizer.spec.dimension,)
        assert vector.dtype == np.float32
        assert len(featurizer.feature_names()) == featurizer.spec.dimension


def test_descriptors_are_finite_or_nan() -> None:
    vector = RDKitDescriptorFeaturizer()(Chem.MolFromSmiles("C" * 60))
    assert not np.isinf(vector).any()


@pytest.mark.parametrize("member", SHIPPED_MEMBERS, ids=lambda m: m.name)
def test_member_spec_round_trips(member) -> None:  # type: ignore[no-untyped-def]
    featurizer = member.featurizer()
    rebuilt = featurizer_from_spec(featurizer.spec.as_dict())
    assert rebuilt.spec == featurizer.spec
    assert np.array_equal(rebuilt(ASPIRIN), featurizer(ASPIRIN), equal_nan=True)


def test_changed_radius_is_refused() -> None:
    spec = MorganCountFeaturizer().spec.as_dict()
    spec["dimension"] = 1024  # the model says 1024 columns, the params say 2048
    with pytest.raises(FeatureSpecMismatch, match="dimension"):
        featurizer_from_spec(spec)


def test_changed_featurizer_version_is_refused() -> None:
    spec = ConcatFeaturizer([MorganCountFeaturizer(), RDKitDescriptorFeaturizer()]).spec.as_dict()
    spec["params"]["parts"][0]["version"] = "2"  # a model trained by a newer featurizer implementation
    with pytest.raises(FeatureSpecMismatch, match="version"):
        featurizer_from_spec(spec)


def test_descriptor_order_comes_from_the_card() -> None:
    """Columns are rebuilt in the stored order, so a model keeps its meaning if the code's list changes."""
    spec = RDKitDescriptorFeaturizer().spec.as_dict()
    spec["params"]["names"] = ["MolLogP", "MolWt"]
    spec["dimension"] = 2
    rebuilt = featurizer_from_spec(spec)
    assert rebuilt.feature_names() == ["MolLogP", "MolWt"]
    assert rebuilt(ASPIRIN)[1] == pytest.approx(180.159, abs=0.01)


def test_unknown_featurizer_is_refused() -> None:
    with pytest.raises(FeatureSpecMismatch, match="unknown featurizer"):
        featurizer_from_spec({"name": "magic", "version": "1", "dimension": 3, "params": {}})


def test_unavailable_descriptor_is_refused() -> None:
    with pytest.raises(FeatureSpecMismatch, match="lacks descriptors"):
        RDKitDescriptorFeaturizer(["MolWt", "NoSuchDescriptor"])


# Exact on-bits (ECFP4, 2,048) and counts (ECFP4 / FCFP4) as RDKit 2026.09 hashes them. The feature
# spec only records radius and size, so a change in RDKit's hashing would keep the spec "valid" while
# every stored model silently read different columns; these pins make such a change fail loudly.
PINNED = {
    "CCO": {
        "bits": [80, 222, 294, 807, 1057, 1410],
        "fcfp": {0: 2, 3: 1, 61: 1, 805: 1, 1017: 1},
    },
    "c1ccccc1O": {
        "bits": [65, 389, 745, 807, 1088, 1199, 1380, 1602, 1750, 1778, 1873],
        "counts": {65: 2, 389: 1, 1088: 3, 1199: 2, 1750: 2, 1873: 5},
        "fcfp": {3: 1, 4: 6, 308: 1, 598: 3, 808: 1, 901: 1, 993: 5, 1011: 2},
    },
    "CC(=O)Oc1ccccc1C(=O)O": {
        "bits": [
            *(389, 456, 650, 695, 807, 909, 1017, 1035, 1047, 1057, 1088, 1199),
            *(1380, 1410, 1447, 1468, 1616, 1729, 1750, 1775, 1873, 1917, 1970, 1991),
        ],
        "counts": {650: 2, 807: 3, 1088: 2, 1873: 4, 1917: 2, 1991: 1},
    },
}


@pytest.mark.parametrize("smiles", list(PINNED))
def test_fingerprint_bits_are_pinned(smiles: str) -> None:
    mol, pinned = Chem.MolFromSmiles(smiles), PINNED[smiles]
    assert np.flatnonzero(MorganBitFeaturizer()(mol)).tolist() == pinned["bits"]
    counts = MorganCountFeaturizer()(mol)
    assert np.flatnonzero(counts).tolist() == pinned["bits"]  # same generator: bits are the non-zero counts
    for bit, count in pinned.get("counts", {}).items():
        assert counts[bit] == count
    if "fcfp" in pinned:
        fcfp = FeatureMorganCountFeaturizer()(mol)
        assert {int(i): int(fcfp[i]) for i in np.flatnonzero(fcfp)} == pinned["fcfp"]


def test_circular_featurizers_share_one_setup() -> None:
    """One mixin: radius and size in the spec, the column prefix names the representation."""
    for featurizer, name, prefix in (
        (MorganCountFeaturizer(3, 1024), "morgan_count", "morgan_r3_"),
        (MorganBitFeaturizer(3, 1024), "morgan_bits", "ecfp_r3_"),
        (FeatureMorganCountFeaturizer(3, 1024), "fcfp_count", "fcfp_r3_"),
    ):
        assert isinstance(featurizer, MorganFeaturizerMixin)
        assert featurizer.spec.as_dict() == {
            "name": name,
            "version": "1",
            "dimension": 1024,
            "params": {"radius": 3, "size": 1024},
        }
        assert featurizer.feature_names()[5] == f"{prefix}5"


REAL_MOLECULES = [
    "CC(=O)Oc1ccccc1C(=O)O",
    "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1",
    "CN1CCC[C@H]1c1cccnc1",
    "O=C(O)CC(O)(CC(=O)O)C(=O)O",
    "Clc1ccc(cc1)C(c1ccc(Cl)cc1)C(Cl)(Cl)Cl",
    "CC12CCC3c4ccc(O)cc4CCC3C1CCC2O",
    "C" * 40,
    "[O-][N+](=O)c1ccc(cc1)N=Nc1ccc(N)cc1",
]


def test_shared_term_descriptors_equal_rdkits_own() -> None:
    """EState indices and Ipc / AvgIpc read off one computation per molecule: exactly RDKit's values."""
    reference = dict(Descriptors._descList)
    featurizer = RDKitDescriptorFeaturizer(RDKIT_2D_DESCRIPTORS)
    for smiles in REAL_MOLECULES:
        fresh, ours = Chem.MolFromSmiles(smiles), featurizer(Chem.MolFromSmiles(smiles))
        expected = np.array([reference[name](fresh) for name in RDKIT_2D_DESCRIPTORS], dtype=np.float64)
        expected[~np.isfinite(expected)] = np.nan
        expected = np.clip(expected, -DESCRIPTOR_CLIP, DESCRIPTOR_CLIP).astype(np.float32)
        assert np.array_equal(ours, expected, equal_nan=True), smiles
    assert set(SHARED) <= set(RDKIT_2D_DESCRIPTORS)


def test_default_descriptors_drop_only_the_slow_redundant_ones() -> None:
    names = RDKitDescriptorFeaturizer().feature_names()
    assert names == [n for n in RDKIT_2D_DESCRIPTORS if n not in SLOW_REDUNDANT]
    assert {"qed", "Ipc", "AvgIpc", "SPS"} == set(SLOW_REDUNDANT)


def test_alerts_from_one_catalogue_call_equal_entry_by_entry_matching() -> None:
    featurizer = StructuralAlertFeaturizer()
    entries = [featurizer._catalog.GetEntryWithIdx(i) for i in range(featurizer.spec.dimension)]
    for smiles in [*REAL_MOLECULES, "O=C(Cl)c1ccccc1N=[N+]=[N-]", "C=CC(=O)OCC1CO1"]:
        mol = Chem.MolFromSmiles(smiles)
        expected = np.array([entry.HasFilterMatch(mol) for entry in entries], dtype=np.float32)
        assert np.array_equal(featurizer(mol), expected), smiles
    assert featurizer(Chem.MolFromSmiles("O=C(Cl)c1ccccc1N=[N+]=[N-]")).sum() >= 4  # the check has teeth


def test_reduced_graph_bins_pharmacophore_pairs_by_distance() -> None:
    """Phenol's hydroxyl is a donor and an acceptor node two bonds from the ring's aromatic node: 1 in
    each of those two pairs' distance-2 bins and the fuzz (0.3) in the bins either side. Ethanol has a
    single pharmacophoric node, so no pair at all."""
    featurizer = ReducedGraphFeaturizer()
    phenol = featurizer(Chem.MolFromSmiles("c1ccccc1O"))
    bins = {int(i): round(float(phenol[i]), 4) for i in np.flatnonzero(phenol)}
    assert bins == {75: 0.3, 76: 1.0, 77: 0.3, 150: 0.3, 151: 1.0, 152: 0.3}  # pair * 15 + distance - 1
    assert not featurizer(Chem.MolFromSmiles("CCO")).any()
    spec = featurizer.spec.as_dict()
    spec["params"]["max_path"] = 10  # the card's bins must be the code's bins
    with pytest.raises(FeatureSpecMismatch, match="dimension"):
        featurizer_from_spec(spec)


@pytest.mark.parametrize("smiles", ["Oc1c(Cl)c(Cl)c(Cl)c(Cl)c1Cl", "O=c1[nH]c(=O)c2[nH]c(=O)[nH]c2[nH]1"])
def test_reduced_graph_does_not_depend_on_what_ran_before(smiles: str) -> None:
    """RDKit's ErG reuses a distance matrix the descriptors cached on the molecule: on these two the raw
    call gives other counts once they ran. The featurizer must give a fresh molecule's values whatever
    ran first, or a worker process and the main one (which run the parts in other orders) disagree."""
    featurizer = ReducedGraphFeaturizer()
    fresh = featurizer(Chem.MolFromSmiles(smiles))
    used = Chem.MolFromSmiles(smiles)
    RDKitDescriptorFeaturizer()(used)
    stale = np.asarray(rdReducedGraphs.GetErGFingerprint(used), dtype=np.float32)
    assert not np.array_equal(stale, fresh), "RDKit no longer reuses the cached matrix: drop the copy"
    assert np.array_equal(featurizer(used), fresh)
