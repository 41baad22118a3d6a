"""RDKit 2D descriptors, computed with RDKit's own functions but sharing their costly inner terms.

RDKit's four EState-index descriptors each recompute the whole EState vector, and Ipc and AvgIpc each
rebuild the characteristic polynomial of the molecular graph (O(atoms^4) in numpy). Those two terms
were about 10 of the ~20 ms per molecule that the full list costs (benchmarks/toxicity/README.md).
Here each is computed once per molecule and the descriptors are read off it with RDKit's formulas, so
the values are exactly RDKit's (pinned by a test against `Descriptors._descList` on real molecules).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors, Graphs
from rdkit.Chem.EState import EState
from rdkit.ML.InfoTheory.rdInfoTheory import InfoEntropy

Terms = dict[str, Any]  # per-molecule intermediate results shared between descriptors
DescriptorFunction = Callable[[Chem.Mol, Terms], float]


def _estate(mol: Chem.Mol, terms: Terms) -> Any:
    if "estate" not in terms:
        terms["estate"] = EState.EStateIndices(mol)
    return terms["estate"]


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


def descriptor_functions(names: list[str]) -> tuple[list[DescriptorFunction], list[str]]:
    """One function per name (shared-term versions where they exist) and the names RDKit lacks."""
    available = dict(Descriptors._descList)
    missing = [name for name in names if name not in available]
    functions = [SHARED.get(name) or _plain(available[name]) for name in names if name in available]
    return functions, missing
