"""Atom-level explanations: which atoms push an endpoint's prediction up or down.

LightGBM's exact TreeSHAP (`pred_contrib`) splits one member's log-odds into per-feature parts. The
Morgan-count columns correspond to circular atom environments, so each bit's contribution is shared
out over the atoms of the environments that set it (equally per occurrence, then equally per atom).
Descriptor columns describe the whole molecule and cannot be put on atoms, and neither can bits the
molecule lacks (TreeSHAP also credits "this group is absent"); both sums are reported separately
instead of being smeared over the drawing. The explanation is of the ensemble
member that uses Morgan counts; calibration is monotone, so directions carry over to the probability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem.Draw import rdMolDraw2D

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.featurize import MorganCountFeaturizer
from hygeia.toxicity.model import ToxicityModel

POSITIVE_RGB = (0.86, 0.15, 0.15)  # pushes towards active
NEGATIVE_RGB = (0.15, 0.35, 0.86)  # pushes towards inactive


@dataclass
class AtomExplanation:
    endpoint: str
    member: str
    atom_contributions: list[float]  # log-odds per atom, in the standardised molecule's atom order
    substructure_total: float  # contributions of Morgan bits present in the molecule (= sum over atoms)
    absent_substructure_total: float  # bits the molecule lacks: "no such group here" has an effect too
    whole_molecule_total: float  # descriptor / other columns: not attributable to atoms
    expected_value: float  # the member's average log-odds over training data
    svg: str


def environment_atoms(mol: Chem.Mol, centre: int, radius: int) -> set[int]:
    """The atoms of the circular environment behind one Morgan bit occurrence."""
    if radius == 0:
        return {centre}
    atoms = {centre}
    for bond_index in Chem.FindAtomEnvironmentOfRadiusN(mol, radius, centre):
        bond = mol.GetBondWithIdx(bond_index)
        atoms.update((bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()))
    return atoms


def atom_weights(
    mol: Chem.Mol, featurizer: MorganCountFeaturizer, bit_contributions: np.ndarray
) -> np.ndarray:
    """Spread each bit's contribution over the atoms of the environments that produced it."""
    weights = np.zeros(mol.GetNumAtoms())
    for bit, occurrences in featurizer.bit_atoms(mol).items():
        value = float(bit_contributions[bit])
        if value == 0.0:
            continue
        for centre, radius in occurrences:
            atoms = environment_atoms(mol, centre, radius)
            share = value / len(occurrences) / len(atoms)
            for atom in atoms:
                weights[atom] += share
    return weights


def explain(
    model: ToxicityModel, mol: Chem.Mol, endpoint: str, size: tuple[int, int] = (420, 320)
) -> AtomExplanation:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; choose from {list(ENDPOINTS)}")
    member, morgan, offset = model.explain_member()
    x = model.member_matrix(member, model.featurize([mol]))
    with model.native_lock:
        contributions = member.boosters[endpoint].predict(x, pred_contrib=True, num_threads=1)[0]
    bits = contributions[offset : offset + morgan.size]
    present = x[0, offset : offset + morgan.size] > 0
    weights = atom_weights(mol, morgan, np.where(present, bits, 0.0))
    other = float(contributions[:-1].sum() - bits.sum())
    svg = render_svg(mol, weights, f"{endpoint}: red raises, blue lowers the predicted activity", size)
    return AtomExplanation(
        endpoint,
        member.name,
        [round(float(w), 5) for w in weights],
        float(bits[present].sum()),
        float(bits[~present].sum()),
        other,
        float(contributions[-1]),
        svg,
    )


def render_svg(mol: Chem.Mol, weights: np.ndarray, legend: str, size: tuple[int, int]) -> str:
    """Atoms tinted by sign and strength of their contribution (scaled to the strongest atom)."""
    scale = float(np.abs(weights).max()) if len(weights) else 0.0
    colours: dict[int, tuple[float, float, float]] = {}
    radii: dict[int, float] = {}
    for atom, weight in enumerate(weights):
        strength = abs(weight) / scale if scale > 0 else 0.0
        if strength < 0.05:
            continue
        base = POSITIVE_RGB if weight > 0 else NEGATIVE_RGB
        colours[atom] = tuple(1.0 - strength * (1.0 - c) for c in base)  # type: ignore[assignment]
        radii[atom] = 0.3 + 0.25 * strength
    drawer = rdMolDraw2D.MolDraw2DSVG(*size)
    drawer.drawOptions().legendFontSize = 14  # type: ignore[assignment]  # RDKit stubs mis-type it
    rdMolDraw2D.PrepareAndDrawMolecule(
        drawer,
        Chem.Mol(mol),
        legend=legend,
        highlightAtoms=list(colours),
        highlightAtomColors=colours,
        highlightAtomRadii=radii,
        highlightBonds=[],
    )
    drawer.FinishDrawing()
    return drawer.GetDrawingText()
