"""Featurizer specs: fixed dimensions, round-trip through the card, and refusal on any mismatch."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem

from hygeia.toxicity.featurize import (
    ConcatFeaturizer,
    FeatureSpecMismatch,
    MACCSFeaturizer,
    MorganCountFeaturizer,
    RDKitDescriptorFeaturizer,
    featurizer_from_spec,
)
from hygeia.toxicity.members import SHIPPED_MEMBERS

ASPIRIN = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")


def test_dimensions_match_specs() -> None:
    for featurizer in (MorganCountFeaturizer(), MACCSFeaturizer(), RDKitDescriptorFeaturizer()):
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
