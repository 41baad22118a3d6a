"""Exact screening of SMARTS queries by atom types: skip substructure searches that cannot succeed.

Searching a few hundred SMARTS per molecule (the Brenk/NIH structural alerts, RDKit's fr_ fragment
counts) is a third of featurisation, and most queries cannot match most molecules: a sulfonyl alert
needs a sulfur, a dinitro alert two nitrogens. A match maps each query atom to a different molecule
atom, so where a query atom's SMARTS fixes its element (and aromaticity) to a few choices, the
molecule must hold at least as many atoms of those types as the query has atoms demanding them. That
is a necessary condition, not a heuristic: a query that passes is searched exactly as before, one
that fails has no match, so feature values cannot change (checked on every Tox21 row by
`python -m benchmarks.toxicity.fast_paths`). Whatever the reading below does not understand
(negations, wildcards, ring, charge or hydrogen conditions) demands nothing.

Atom types use RDKit's own SMARTS encoding (`AtomType`): atomic number + 1000 if aromatic.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem.FilterCatalog import FilterCatalogEntry

AROMATIC = 1000
_MAX_TYPE = 2 * AROMATIC  # above any atomic number + AROMATIC
_ELEMENT_TEST = re.compile(r"(AtomType|AtomAtomicNum) (\d+) = val")  # "!= val" is a negation
_RECURSIVE, _NEGATED_RECURSIVE = "RecursiveStructure val in ()", "RecursiveStructure val not in )"
_AROMATICITY_TESTS = {  # `a` and `A`: any aromatic or any aliphatic atom
    "AtomIsAromatic 1 = val": frozenset(range(AROMATIC, AROMATIC + 119)),
    "AtomIsAliphatic 1 = val": frozenset(range(119)),
}

AllowedTypes = frozenset[int] | None  # None: the query atom may be of any type
Requirement = dict[frozenset[int], int]  # allowed types -> how many query atoms demand one of them


@dataclass(frozen=True)
class _QueryNode:
    """One line of RDKit's `DescribeQuery` tree: a test and its operands."""

    test: str
    children: tuple[_QueryNode, ...]


def atom_types(mol: Chem.Mol) -> np.ndarray:
    """Each atom's type, cached on the molecule so the alert and fragment screens read it once."""
    try:
        return mol._hygeiaAtomTypes
    except AttributeError:
        keys = [atom.GetAtomicNum() + AROMATIC * atom.GetIsAromatic() for atom in mol.GetAtoms()]
        mol._hygeiaAtomTypes = np.array(keys, dtype=np.intp)
        return mol._hygeiaAtomTypes


def query_requirement(query: Chem.Mol) -> Requirement:
    """The atom types a molecule must contain for `query` to match it (empty: it demands nothing):
    one of the allowed types per query atom, and what the recursive patterns every match needs
    demand in turn (those counted apart: their atoms may be the query's own)."""
    demanded: Counter[frozenset[int]] = Counter()
    requirement: Requirement = {}
    for atom in query.GetAtoms():
        allowed, inner = atom_requirement(atom)
        if allowed is not None:
            demanded[allowed] += 1
        requirement = _all_of(requirement, inner)
    return _all_of(requirement, dict(demanded))


def atom_requirement(atom: Chem.Atom) -> tuple[AllowedTypes, Requirement]:
    """The types a molecule atom may have to match this query atom, and what the molecule must
    contain for the atom's recursive patterns to hold, read from the atom's query tree."""
    if not atom.HasQuery():
        return frozenset({atom.GetAtomicNum() + AROMATIC * atom.GetIsAromatic()}), {}
    tree = _parse_tree(atom.DescribeQuery().rstrip("\n").split("\n"))
    recursive = _recursive_smarts(atom.GetSmarts())
    return _read(tree, iter(recursive) if len(recursive) == _count_recursive(tree) else None)


def _all_of(first: Requirement, second: Requirement) -> Requirement:
    """Both hold: the larger count of each condition (they may be met by the same atoms)."""
    return {key: max(first.get(key, 0), second.get(key, 0)) for key in first.keys() | second.keys()}


def _one_of(first: Requirement, second: Requirement) -> Requirement:
    """Either holds: what both demand, at the smaller count."""
    return {key: min(first[key], second[key]) for key in first.keys() & second.keys()}


def _parse_tree(lines: list[str]) -> _QueryNode:
    """DescribeQuery prints a node per line, its operands below it indented by two more spaces."""

    def node(start: int) -> tuple[_QueryNode, int]:
        depth = len(lines[start]) - len(lines[start].lstrip())
        children, position = [], start + 1
        while position < len(lines) and len(lines[position]) - len(lines[position].lstrip()) > depth:
            child, position = node(position)
            children.append(child)
        return _QueryNode(lines[start].strip(), tuple(children)), position

    return node(0)[0]


def _count_recursive(tree: _QueryNode) -> int:
    own = tree.test in (_RECURSIVE, _NEGATED_RECURSIVE)
    return own + sum(_count_recursive(child) for child in tree.children)


def _recursive_smarts(smarts: str) -> list[str]:
    """The outermost `$(...)` patterns of an atom's SMARTS, left to right: the order in which the
    query tree lists its recursive tests (a count mismatch makes every recursive test demand nothing)."""
    found, position = [], smarts.find("$(")
    while position >= 0:
        depth, end = 0, position + 1
        for end in range(position + 1, len(smarts)):
            depth += {"(": 1, ")": -1}.get(smarts[end], 0)
            if depth == 0:
                break
        found.append(smarts[position + 2 : end])
        position = smarts.find("$(", end)
    return found


def _read(tree: _QueryNode, recursive: Iterator[str] | None) -> tuple[AllowedTypes, Requirement]:
    """Positive element and aromaticity tests fix the types; OR unites its operands' types, AND
    intersects those of the operands that fix any. A recursive `$(X)` holds only at atoms that
    match X's first atom, and only in molecules that contain X."""
    element = _ELEMENT_TEST.fullmatch(tree.test)
    if element:
        value = int(element.group(2))
        return frozenset({value} if element.group(1) == "AtomType" else {value, value + AROMATIC}), {}
    if tree.test in _AROMATICITY_TESTS:
        return _AROMATICITY_TESTS[tree.test], {}
    operands = [_read(child, recursive) for child in tree.children]  # in order: consumes the `$(X)`s
    if tree.test == "AtomOr":
        types = [allowed for allowed, _ in operands]
        union = None if any(t is None for t in types) else frozenset().union(*types)  # type: ignore[arg-type]
        return union, functools.reduce(_one_of, [inner for _, inner in operands])
    if tree.test == "AtomAnd":
        fixed = [allowed for allowed, _ in operands if allowed is not None]
        intersection = frozenset.intersection(*fixed) if fixed else None
        return intersection, functools.reduce(_all_of, [inner for _, inner in operands])
    if tree.test in (_RECURSIVE, _NEGATED_RECURSIVE) and recursive is not None:
        pattern = next(recursive)
        inner = Chem.MolFromSmarts(pattern) if tree.test == _RECURSIVE else None
        if inner is not None and inner.GetNumAtoms():
            return atom_requirement(inner.GetAtomWithIdx(0))[0], query_requirement(inner)
    return None, {}


class SubstructureScreen:
    """Which of a fixed list of queries could match a molecule, for all of them in two matrix
    products. A query that is None (unreadable) or demands nothing is always searched."""

    def __init__(self, queries: Sequence[Chem.Mol | None]) -> None:
        requirements = [query_requirement(q) if q is not None else {} for q in queries]
        groups = sorted({item for r in requirements for item in r.items()}, key=repr)
        types = sorted({t for allowed, _ in groups for t in allowed})
        self._column = np.full(_MAX_TYPE, len(types), dtype=np.intp)  # other types: a spare column
        self._column[types] = np.arange(len(types))
        self._group_types = np.zeros((len(groups), len(types) + 1), dtype=np.intp)
        for g, (allowed, _) in enumerate(groups):
            self._group_types[g, [types.index(t) for t in allowed]] = 1
        self._group_need = np.array([count for _, count in groups], dtype=np.intp)
        self._query_groups = np.zeros((len(queries), len(groups)), dtype=np.intp)
        for i, requirement in enumerate(requirements):
            for item in requirement.items():
                self._query_groups[i, groups.index(item)] = 1
        self.screened = int(sum(bool(r) for r in requirements))  # queries that demand something

    def possible(self, mol: Chem.Mol) -> np.ndarray:
        """True where the molecule holds enough atoms of each demanded type; False means no match."""
        present = np.bincount(self._column[atom_types(mol)], minlength=self._group_types.shape[1])
        unmet = (self._group_types @ present < self._group_need).astype(np.intp)
        return self._query_groups @ unmet == 0


def filter_entry_query(entry: FilterCatalogEntry) -> Chem.Mol | None:
    """The SMARTS query of a FilterCatalog entry that matches on one occurrence of it (what RDKit's
    Brenk and NIH entries are), or None. Python cannot reach an entry's matcher, but its serialised
    form holds the query as an RDKit pickle; anything else there returns None (never screened)."""
    data = entry.Serialize()
    header = _SMARTS_ENTRY.match(data)
    if header is None:
        return None
    start = header.end() + int(header.group(1)) + 1  # skip the entry's name
    length = re.match(rb"(\d+) ", data[start:])
    if length is None:
        return None
    start += length.end()
    pickle, rest = data[start : start + int(length.group(1))], data[start + int(length.group(1)) :]
    if not rest.startswith(_ONE_OR_MORE):  # a minimum count above one: screened no further
        return None
    try:
        return Chem.Mol(pickle)
    except Exception:  # not a molecule pickle: a matcher of another kind
        return None


# boost archive of a FilterCatalogEntry holding a SmartsMatcher: its name, its pattern, then the
# minimum and maximum counts (1 and "no limit" for a plain alert)
_SMARTS_ENTRY = re.compile(rb"22 serialization::archive \d+ 1 1\n0 0 1 4 1 1\n1 0 0 (\d+) ")
_ONE_OR_MORE = b" 1 4294967295 "
