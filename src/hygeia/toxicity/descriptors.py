"""RDKit 2D descriptors, computed with RDKit's own functions but sharing their costly inner terms.

RDKit's four EState-index descriptors each recompute the whole EState vector, and Ipc and AvgIpc each
rebuild the characteristic polynomial of the molecular graph (O(atoms^4) in numpy). Those two terms
were about 10 of the ~20 ms per molecule that the full list costs (benchmarks/toxicity/README.md).
Here each is computed once per molecule and the descriptors are read off it with RDKit's formulas, so
the values are exactly RDKit's (pinned by a test against `Descriptors._descList` on real molecules).
The 85 fr_ fragment counts skip the SMARTS searches an exact atom-type screen rules out
(`substructure_screen.py`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors, Graphs
from rdkit.Chem.EState import EState
from rdkit.ML.InfoTheory.rdInfoTheory import InfoEntropy

from hygeia.toxicity.substructure_screen import SubstructureScreen

Terms = dict[str, Any]  # per-molecule intermediate results shared between descriptors
DescriptorFunction = Callable[[Chem.Mol, Terms], float]


def _estate(mol: Chem.Mol, terms: Terms) -> Any:
    if "estate" not in terms:
        terms["estate"] = estate_indices(mol)
    return terms["estate"]


def estate_indices(mol: Chem.Mol) -> np.ndarray:
    """`EState.EStateIndices` with its O(atoms^2) Python double loop done in numpy, bit for bit.

    RDKit adds each atom's pair terms one at a time in ascending partner order (the term of a pair
    (i, j), i < j, is added to i and subtracted from j, and -(a - b) / c is exactly (b - a) / c). A
    row-wise `cumsum` adds in the same order; a plain `sum` would not (pairwise summation). Like
    RDKit it caches the result on the molecule, where the EState-VSA descriptors look for it.
    """
    table = Chem.GetPeriodicTable()
    n = mol.GetNumAtoms()
    intrinsic = np.zeros(n, dtype=np.float64)
    for i in range(n):  # by index: RDKit's Python atom sequence costs twice as much per atom
        atom = mol.GetAtomWithIdx(i)
        degree = atom.GetDegree()
        if degree > 0:
            number = atom.GetAtomicNum()
            valence = table.GetNOuterElecs(number) - atom.GetTotalNumHs()
            quantum = EState.GetPrincipleQuantumNumber(number)
            intrinsic[i] = (4.0 / (quantum * quantum) * valence + 1) / degree
    paths = Chem.GetDistanceMatrix(mol, useBO=False, useAtomWts=False) + 1
    paths = np.triu(paths) + np.triu(paths, 1).T  # RDKit reads the upper triangle for both atoms
    with np.errstate(divide="ignore", invalid="ignore"):
        pair_terms = (intrinsic[:, None] - intrinsic[None, :]) / (paths * paths)
    pair_terms[paths >= 1e6] = 0.0  # atoms in different fragments do not interact
    np.fill_diagonal(pair_terms, 0.0)
    accumulated = np.cumsum(pair_terms, axis=1)[:, -1] if n else np.zeros(0)
    result = accumulated + intrinsic
    mol._eStateIndices = result
    return result


def _polynomial(mol: Chem.Mol, terms: Terms) -> Any:
    """|coefficients| of the characteristic polynomial of the hydrogen-suppressed adjacency matrix,
    as GraphDescriptors.Ipc computes them. Like Ipc it reads and fills the molecule's cached `_adjMat`
    (a distance or adjacency matrix: both equal 1 exactly at bonds), because BalabanJ and BertzCT
    read that cache too and must see it in the state RDKit's own order of calls leaves it in."""
    if "polynomial" not in terms:
        try:
            distances = mol._adjMat
        except AttributeError:
            distances = mol._adjMat = Chem.GetDistanceMatrix(mol, False)
        terms["polynomial"] = abs(Graphs.CharacteristicPolynomial(mol, np.equal(distances, 1)))
    return terms["polynomial"]


def _ipc(mol: Chem.Mol, terms: Terms) -> float:
    polynomial = _polynomial(mol, terms)
    return float(sum(polynomial) * InfoEntropy(polynomial))


SHARED: dict[str, DescriptorFunction] = {
    "MaxEStateIndex": lambda mol, terms: float(max(_estate(mol, terms))),
    "MinEStateIndex": lambda mol, terms: float(min(_estate(mol, terms))),
    "MaxAbsEStateIndex": lambda mol, terms: float(max(abs(x) for x in _estate(mol, terms))),
    "MinAbsEStateIndex": lambda mol, terms: float(min(abs(x) for x in _estate(mol, terms))),
    "Ipc": _ipc,
    "AvgIpc": lambda mol, terms: float(InfoEntropy(_polynomial(mol, terms))),
}


def _plain(function: Callable[[Chem.Mol], float]) -> DescriptorFunction:
    return lambda mol, _terms: function(mol)


def fragment_pattern(function: Callable[..., Any]) -> Chem.Mol | None:
    """The SMARTS query an `fr_` function counts matches of (RDKit binds it as the `pattern`
    default argument); None for any other function."""
    try:
        pattern = inspect.signature(function).parameters["pattern"].default
    except (KeyError, TypeError, ValueError):
        return None
    return pattern if isinstance(pattern, Chem.Mol) else None


def _screened_fragment_counts(functions: dict[str, Callable[..., Any]]) -> dict[str, DescriptorFunction]:
    """fr_ counts that skip RDKit's substructure search where the atom-type screen shows the
    fragment absent (count 0): about half of the 85 searches on a typical molecule. The screen's
    verdict is computed once per molecule and kept in the terms."""
    patterns = {name: fragment_pattern(function) for name, function in functions.items()}
    screened = [name for name, pattern in patterns.items() if pattern is not None]
    screen = SubstructureScreen([patterns[name] for name in screened])

    def possible(mol: Chem.Mol, terms: Terms) -> Any:
        if "fragments" not in terms:
            terms["fragments"] = screen.possible(mol)
        return terms["fragments"]

    def count(name: str, index: int) -> DescriptorFunction:
        function = functions[name]
        return lambda mol, terms: function(mol) if possible(mol, terms)[index] else 0

    return {name: count(name, index) for index, name in enumerate(screened)}


def descriptor_functions(names: list[str]) -> tuple[list[DescriptorFunction], list[str]]:
    """One function per name (shared-term versions where they exist) and the names RDKit lacks."""
    available = dict(Descriptors._descList)
    missing = [name for name in names if name not in available]
    fragments = {name: available[name] for name in names if name.startswith("fr_") and name in available}
    shared = {**SHARED, **_screened_fragment_counts(fragments)}
    functions = [shared.get(name) or _plain(available[name]) for name in names if name in available]
    return functions, missing
