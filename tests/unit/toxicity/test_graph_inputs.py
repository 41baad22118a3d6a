"""The graph member's numpy inputs: atom and bond descriptions, directed-bond pairing, batching and the
descriptor CDF scaling (no torch needed)."""

from __future__ import annotations

import numpy as np
from rdkit import Chem

from hygeia.toxicity.featurize import featurize_many, featurizer_from_spec
from hygeia.toxicity.graph_inputs import (
    ATOM_DIM,
    BOND_DIM,
    ELEMENTS,
    QUANTILE_LEVELS,
    MoleculeGraphFeaturizer,
    MoleculeGraphs,
    fit_descriptor_quantiles,
    scale_descriptors,
)

SMILES = ["CCO", "c1ccccc1O", "C", "CC(=O)[O-]"]


def _mols(smiles: list[str]) -> list[Chem.Mol]:
    return [Chem.MolFromSmiles(s) for s in smiles]


def test_atoms_and_bonds_are_described_one_hot() -> None:
    graphs = MoleculeGraphs.from_mols(_mols(["CCO"]))
    assert graphs.atoms.shape == (3, ATOM_DIM) and graphs.bonds.shape == (4, BOND_DIM)
    oxygen = graphs.atoms[2]
    assert oxygen[ELEMENTS.index("O")] == 1 and oxygen[: len(ELEMENTS) + 1].sum() == 1
    assert np.isclose(oxygen[-1], 15.999 / 100, atol=1e-3)  # mass / 100
    assert oxygen[-2] == 0  # not aromatic
    # every block is one-hot: 6 blocks + aromatic flag (0) + mass
    assert np.isclose(oxygen[:-2].sum(), 6)
    assert np.isclose(graphs.bonds[:, :-2].sum(axis=1), 2).all()  # bond type + stereo blocks


def test_directed_bonds_come_in_reverse_pairs() -> None:
    graphs = MoleculeGraphs.from_mols(_mols(["c1ccccc1O"]))
    assert len(graphs.source) == 2 * 7
    assert (graphs.source[0::2] == graphs.target[1::2]).all()
    assert (graphs.target[0::2] == graphs.source[1::2]).all()
    assert (graphs.bonds[0::2] == graphs.bonds[1::2]).all()
    aromatic = graphs.atoms[:6, -2]
    assert (aromatic == 1).all()


def test_unlisted_values_go_to_the_other_slot() -> None:
    tellurium = MoleculeGraphs.from_mols(_mols(["[Te]"])).atoms[0]
    assert tellurium[len(ELEMENTS)] == 1 and tellurium[: len(ELEMENTS)].sum() == 0


def test_batch_makes_atom_indices_global_and_subset_matches_fresh_graphs() -> None:
    graphs = MoleculeGraphs.from_mols(_mols(SMILES))
    atoms, _, source, _, molecule, counts = graphs.batch(np.array([1, 0]))
    assert counts.tolist() == [7, 3]
    assert molecule.tolist() == [0] * 7 + [1] * 3
    assert source[-4:].min() >= 7 and source[:14].max() < 7  # ethanol's bonds point at its own atoms
    assert np.array_equal(atoms, np.vstack([graphs.atoms[3:10], graphs.atoms[:3]]))
    picked = graphs.subset(np.array([3, 1]))
    fresh = MoleculeGraphs.from_mols(_mols([SMILES[3], SMILES[1]]))
    for name in ("atoms", "bonds", "source", "target", "atom_start", "bond_start"):
        assert np.array_equal(getattr(picked, name), getattr(fresh, name)), name


def test_a_molecule_without_bonds_has_an_empty_bond_block() -> None:
    graphs = MoleculeGraphs.from_mols(_mols(["C"]))
    assert len(graphs) == 1 and graphs.bonds.shape == (0, BOND_DIM)
    _, bonds, source, _, _, counts = graphs.batch(np.array([0]))
    assert bonds.shape == (0, BOND_DIM) and source.dtype == np.int64 and counts.tolist() == [1.0]


def test_graph_featurizer_is_a_feature_part_rebuilt_from_its_spec() -> None:
    featurizer = MoleculeGraphFeaturizer()
    rebuilt = featurizer_from_spec(featurizer.spec.as_dict())
    assert isinstance(rebuilt, MoleculeGraphFeaturizer)
    graphs = featurize_many(rebuilt, _mols(SMILES))
    assert isinstance(graphs, MoleculeGraphs) and len(graphs) == len(SMILES)


def test_descriptor_scaling_is_monotone_bounded_and_fills_missing_with_the_median() -> None:
    rng = np.random.default_rng(0)
    train = np.column_stack([rng.lognormal(0, 3, 500), rng.normal(0, 1, 500)]).astype(np.float32)
    train[:10, 1] = np.nan
    quantiles = fit_descriptor_quantiles(train)
    assert quantiles.shape == (101, 2)
    probe = np.array([[-1.0, -5.0], [1.0, 0.0], [1e9, 5.0], [np.nan, np.nan]], dtype=np.float32)
    scaled = scale_descriptors(probe, quantiles)
    assert scaled.dtype == np.float32 and ((scaled >= 0) & (scaled <= 1)).all()
    assert (np.diff(scaled[:3], axis=0) > 0).all()
    assert (scaled[3] == 0.5).all()


def _interp_per_column(descriptors: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    x = descriptors.astype(np.float64)
    out = np.column_stack([np.interp(x[:, j], quantiles[:, j], QUANTILE_LEVELS) for j in range(x.shape[1])])
    return np.where(np.isnan(out), 0.5, out).astype(np.float32)


def test_a_few_rows_scaled_all_columns_at_once_equal_np_interp_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    # tied percentiles (count descriptors), a heavy tail, and a constant column
    train = np.column_stack(
        [rng.integers(0, 4, 400), rng.lognormal(0, 3, 400), rng.normal(0, 1, 400), np.full(400, 2.0)]
    ).astype(np.float32)
    quantiles = fit_descriptor_quantiles(train)
    probes = np.vstack(
        [
            quantiles,  # exactly on every percentile, ties included
            (quantiles[1:] + quantiles[:-1]) / 2,
            quantiles - 1e-7,
            np.full((1, 4), np.nan),
            np.full((1, 4), np.inf),
            np.full((1, 4), -np.inf),
            rng.normal(0, 3, (200, 4)),
        ]
    )
    expected = _interp_per_column(probes, quantiles)
    for start in range(0, len(probes), 16):  # blocks of up to 16 rows take the all-columns path
        scaled = scale_descriptors(probes[start : start + 16], quantiles)
        assert np.array_equal(scaled.view(np.uint32), expected[start : start + 16].view(np.uint32))
    assert np.array_equal(scale_descriptors(probes, quantiles), expected)  # the per-column path
