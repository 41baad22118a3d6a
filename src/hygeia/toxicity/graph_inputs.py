"""The graph member's inputs, in numpy (no torch): molecule graphs and CDF-scaled descriptors.

Atoms and bonds are described as Chemprop does (element, degree, formal charge, chirality, attached
hydrogens, hybridisation, aromaticity, mass; bond type, conjugation, ring membership, stereo), with the
element list cut to what `molecules.prepare` admits. Each description is a few integer codes per atom
read from RDKit, one-hot encoded by numpy for the whole batch at once: the per-atom Python work is the
RDKit calls alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from rdkit import Chem

from hygeia.toxicity.featurize import FeatureSpec

ELEMENTS = ("C", "N", "O", "S", "F", "Cl", "Br", "I", "P", "Si", "B", "Se", "H")
DEGREES = (0, 1, 2, 3, 4, 5)
CHARGES = (-2, -1, 0, 1, 2)
CHIRAL_TAGS = (0, 1, 2, 3)
HYDROGENS = (0, 1, 2, 3, 4)
HYBRIDISATIONS = tuple(int(Chem.HybridizationType.values[k]) for k in (1, 2, 3, 4, 5, 6))  # S .. SP3D2
BOND_TYPES = tuple(
    int(t) for t in (Chem.BondType.SINGLE, Chem.BondType.DOUBLE, Chem.BondType.TRIPLE, Chem.BondType.AROMATIC)
)
BOND_STEREO = (0, 1, 2, 3, 4, 5)
# one slot per choice plus an "other" slot, so an unseen value is still a valid input
ATOM_BLOCKS = (ELEMENTS, DEGREES, CHARGES, CHIRAL_TAGS, HYDROGENS, HYBRIDISATIONS)
BOND_BLOCKS = (BOND_TYPES, BOND_STEREO)
ATOM_DIM = sum(len(b) + 1 for b in ATOM_BLOCKS) + 2  # + aromatic flag, mass / 100
BOND_DIM = sum(len(b) + 1 for b in BOND_BLOCKS) + 2  # + conjugated, in ring
GRAPH_INPUTS = ("atoms", "bonds", "source", "target", "atom_molecule", "atom_counts", "descriptors")


@dataclass(frozen=True)
class GraphConfig:
    """Chemprop's defaults (hidden 300, mean readout, 30 epochs, batch 50, dropout as its Tox21
    examples use) but 5 message-passing steps instead of 3 since 2.6.0: on the selection folds the
    deeper member ranks rare actives better (PR-AUC +0.008 alone, +0.005 in the blend; benchmarks
    README §13). Not tuned further (each CV costs ~35-50 min of CPU)."""

    hidden: int = 300
    depth: int = 5
    ffn_hidden: int = 300
    dropout: float = 0.1
    epochs: int = 30
    batch_size: int = 50
    learning_rate: float = 1e-3

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _slot_lookup(blocks: Sequence[Sequence[object]]) -> list[dict[object, int]]:
    """Per block: value -> column; values not listed map to the block's "other" column."""
    lookups, offset = [], 0
    for choices in blocks:
        lookups.append({value: offset + k for k, value in enumerate(choices)} | {None: offset + len(choices)})
        offset += len(choices) + 1
    return lookups


_ATOM_SLOTS = _slot_lookup(ATOM_BLOCKS)
_BOND_SLOTS = _slot_lookup(BOND_BLOCKS)


def _slot(lookup: dict[object, int], value: object) -> int:
    return lookup.get(value, lookup[None])


def _one_hot(codes: np.ndarray, scalars: np.ndarray, width: int) -> np.ndarray:
    """Rows with a 1 at each code column, then the scalar columns at the end."""
    out = np.zeros((len(codes), width), dtype=np.float32)
    if len(codes):
        np.put_along_axis(out, codes, 1.0, axis=1)
        out[:, width - scalars.shape[1] :] = scalars
    return out


@dataclass
class MoleculeGraphs:
    """Every molecule's graph in flat arrays, so a mini-batch is a few slices and one offset add.

    Molecule i owns atoms atom_start[i]:atom_start[i+1] and directed bonds bond_start[i]:bond_start[i+1];
    directed bonds come in pairs (2k: u->v, 2k+1: v->u), so the network finds the reverse of every
    message by swapping neighbours, with no index to carry into the ONNX graph.
    """

    atoms: np.ndarray  # (atoms, ATOM_DIM) float32
    bonds: np.ndarray  # (directed bonds, BOND_DIM) float32
    source: np.ndarray  # int64 atom index within its molecule
    target: np.ndarray
    atom_start: np.ndarray  # (molecules + 1,) int64
    bond_start: np.ndarray

    def __len__(self) -> int:
        return len(self.atom_start) - 1

    @classmethod
    def from_mols(cls, mols: Sequence[Chem.Mol]) -> MoleculeGraphs:
        atom_codes: list[tuple[int, ...]] = []
        atom_scalars: list[tuple[float, float]] = []
        bond_codes: list[tuple[int, int]] = []
        bond_scalars: list[tuple[float, float]] = []
        ends: list[tuple[int, int]] = []
        n_atoms, n_bonds = [0], [0]
        element, degree, charge, chiral, hydrogens, hybrid = _ATOM_SLOTS
        bond_type, stereo = _BOND_SLOTS
        for mol in mols:
            for a in mol.GetAtoms():
                atom_codes.append(
                    (
                        _slot(element, a.GetSymbol()),
                        _slot(degree, a.GetTotalDegree()),
                        _slot(charge, a.GetFormalCharge()),
                        _slot(chiral, int(a.GetChiralTag())),
                        _slot(hydrogens, a.GetTotalNumHs()),
                        _slot(hybrid, int(a.GetHybridization())),
                    )
                )
                atom_scalars.append((float(a.GetIsAromatic()), a.GetMass() / 100))
            for b in mol.GetBonds():
                codes = (_slot(bond_type, int(b.GetBondType())), _slot(stereo, int(b.GetStereo())))
                scalars = (float(b.GetIsConjugated()), float(b.IsInRing()))
                u, v = b.GetBeginAtomIdx(), b.GetEndAtomIdx()
                bond_codes.extend((codes, codes))
                bond_scalars.extend((scalars, scalars))
                ends.extend(((u, v), (v, u)))
            n_atoms.append(mol.GetNumAtoms())
            n_bonds.append(2 * mol.GetNumBonds())
        pairs = np.asarray(ends, dtype=np.int64).reshape(-1, 2)
        return cls(
            _one_hot(np.asarray(atom_codes, np.int64).reshape(-1, 6), np.asarray(atom_scalars), ATOM_DIM),
            _one_hot(np.asarray(bond_codes, np.int64).reshape(-1, 2), np.asarray(bond_scalars), BOND_DIM),
            pairs[:, 0].copy(),
            pairs[:, 1].copy(),
            np.cumsum(n_atoms),
            np.cumsum(n_bonds),
        )

    def subset(self, rows: np.ndarray) -> MoleculeGraphs:
        """The graphs of `rows`, in that order, as a graph set of their own (a training fold)."""
        atom_rows, bond_rows, atom_counts, bond_counts = self._rows(rows)
        return MoleculeGraphs(
            self.atoms[atom_rows],
            self.bonds[bond_rows],
            self.source[bond_rows],
            self.target[bond_rows],
            np.concatenate([[0], np.cumsum(atom_counts)]),
            np.concatenate([[0], np.cumsum(bond_counts)]),
        )

    def batch(self, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        """(atoms, bonds, source, target, atom_molecule, atom_counts): the network's graph inputs,
        with atom indices made global to the batch."""
        atom_rows, bond_rows, atom_counts, bond_counts = self._rows(rows)
        offsets = np.repeat(np.cumsum(atom_counts) - atom_counts, bond_counts)
        return (
            self.atoms[atom_rows],
            self.bonds[bond_rows],
            self.source[bond_rows] + offsets,
            self.target[bond_rows] + offsets,
            np.repeat(np.arange(len(rows), dtype=np.int64), atom_counts),
            atom_counts.astype(np.float32),
        )

    def _rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        atom_counts = self.atom_start[rows + 1] - self.atom_start[rows]
        bond_counts = self.bond_start[rows + 1] - self.bond_start[rows]
        atom_rows = _ranges(self.atom_start[rows], atom_counts)
        return atom_rows, _ranges(self.bond_start[rows], bond_counts), atom_counts, bond_counts


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated arange(start, start + count) for each pair, without a Python loop."""
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    shifts = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return np.arange(total, dtype=np.int64) + shifts


class MoleculeGraphFeaturizer:
    """A feature part like the fingerprints, so batches, worker processes and the model card treat it
    the same way; its value for a batch is a `MoleculeGraphs`, not a matrix (graphs differ in size)."""

    def __init__(self) -> None:
        params = {"atom_dim": ATOM_DIM, "bond_dim": BOND_DIM, "elements": list(ELEMENTS)}
        self.spec = FeatureSpec("molecule_graph", "1", ATOM_DIM + BOND_DIM, params)

    def featurize_many(self, mols: Sequence[Chem.Mol]) -> MoleculeGraphs:
        return MoleculeGraphs.from_mols(mols)

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        raise TypeError("a molecule graph has no fixed-width row: use featurize_many")

    def feature_names(self) -> list[str]:
        return []


QUANTILE_LEVELS = np.linspace(0.0, 1.0, 101)


def fit_descriptor_quantiles(descriptors: np.ndarray) -> np.ndarray:
    """(101, columns) percentiles of each descriptor over the training rows (NaN ignored)."""
    quantiles = np.nanquantile(descriptors.astype(np.float64), QUANTILE_LEVELS, axis=0)
    return np.nan_to_num(quantiles, nan=0.0)


def scale_descriptors(descriptors: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Each descriptor through its training empirical CDF (Chemprop's rdkit_2d_normalized idea), so
    heavy-tailed descriptors land in [0, 1]; a missing value goes to the median, 0.5."""
    x = descriptors.astype(np.float64)
    if len(x) <= _FEW_ROWS:
        out = _interpolate_columns(x, quantiles)
    else:
        out = np.column_stack(
            [np.interp(x[:, j], quantiles[:, j], QUANTILE_LEVELS) for j in range(x.shape[1])]
        ).reshape(x.shape)
    return np.where(np.isnan(out), 0.5, out).astype(np.float32)


# One `np.interp` per column (213) cost a lone molecule 0.55-0.9 ms of Python calls on this 2-core
# machine; all columns at once take 0.15-0.2 ms for 1 row and 0.8 vs 1.1 ms for 16, but lose on
# large batches (2,000 rows: 25-97 vs 18-25 ms).
_FEW_ROWS = 16


def _interpolate_columns(x: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """`np.interp(x[:, j], quantiles[:, j], QUANTILE_LEVELS)` for every column j at once, equal bit
    for bit (tested): the same segment (the last percentile <= x, so tied percentiles take the
    highest level), the same formula and the same fallbacks, element-wise."""
    last = len(QUANTILE_LEVELS) - 1
    at = (quantiles[None, :, :] <= x[:, None, :]).sum(axis=1) - 1  # -1 below the first percentile
    low = np.clip(at, 0, last - 1)
    columns = np.arange(x.shape[1])
    x0, x1 = quantiles[low, columns], quantiles[low + 1, columns]
    y0, y1 = QUANTILE_LEVELS[low], QUANTILE_LEVELS[low + 1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope = (y1 - y0) / (x1 - x0)
        inside = slope * (x - x0) + y0
        retried = slope * (x - x1) + y1  # np.interp's second try when the first gives NaN
    inside = np.where(np.isnan(inside), np.where(np.isnan(retried) & (y0 == y1), y0, retried), inside)
    below = np.clip(at, 0, last)  # the percentile at or below x (the last one when x is past it)
    on_percentile = (x == quantiles[below, columns]) | (at >= last)
    out = np.where(on_percentile, QUANTILE_LEVELS[below], inside)
    return np.where(np.isnan(x), np.nan, np.where(at < 0, QUANTILE_LEVELS[0], out))
