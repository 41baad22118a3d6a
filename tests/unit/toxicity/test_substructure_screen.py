"""The atom-type screen may only skip searches that cannot match: it must never change a feature.

A screen that wrongly rules out a query would silently zero an alert flag or a fragment count that the
shipped models were trained with. The decisive tests take 48 molecules that between them match 140
of the 198 Brenk/NIH alerts and 81 of the 83 fr_ fragments that occur in Tox21 (greedy picks) and
check, query by query, that every real match is left possible and that the features equal the
unscreened RDKit route. (All 7,831 Tox21 rows: `python -m benchmarks.toxicity.fast_paths`.)
"""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

from hygeia.toxicity.descriptors import fragment_pattern
from hygeia.toxicity.featurize import RDKitDescriptorFeaturizer, StructuralAlertFeaturizer
from hygeia.toxicity.substructure_screen import (
    SubstructureScreen,
    atom_types,
    filter_entry_query,
    query_requirement,
)

MATCHING_MOLECULES = [  # greedy picks from Tox21: each adds alerts or fragments the others lack
    "CC(C)CC(NC(=O)C(COC(C)(C)C)NC(=O)C(Cc1ccc(O)cc1)NC(=O)C(CO)NC(=O)C(Cc1c[nH]c2ccccc12)NC(=O)C(Cc1c[nH]cn1)NC(=O)C1CCC(=O)N1)C(=O)NC(CCCN=C(N)N)C(=O)N1CCCC1C(=O)NNC(N)=O",
    "C/C=C/C(=O)Oc1c(CCCCCC(C)C)cc([N+](=O)[O-])cc1[N+](=O)[O-]",
    "CON=C(C(=O)NC1C(=O)N2C(C(=O)O)=C(C[N+]3(C)CCCC3)CS[C@H]12)c1csc(N)n1",
    "CO[C@@H]1[C@H](OC(=O)NC(=O)CCl)CC[C@]2(CO2)[C@H]1[C@]1(C)O[C@@H]1CC=C(C)C",
    "O=CC(=O)c1ccccc1",
    "O=C(O)c1c(Cl)c(Cl)c(Cl)c(Cl)c1-c1c2cc(I)c(=O)c(I)c-2oc2c(I)c(O)c(I)cc12",
    "Nc1c(N=Nc2ccc(-c3ccc(N=Nc4cc(S(=O)(=O)O)c5ccccc5c4N)cc3)cc2)cc(S(=O)(=O)O)c2ccccc12",
    "CCN(CC)N(O)N=O",
    "C=C(C)C(=O)OCCC[Si](Cl)(Cl)Cl",
    "S=C(SSSSSSC(=S)N1CCCCC1)N1CCCCC1",
    "CCOP(=O)(OCC)Oc1nc(Cl)c(Cl)cc1Cl",
    "N#CS",
    "CCCCCCCCCCC[C@@H](C[C@@H]1OC(=O)C1CCCCCC)OC(=O)C(CC(C)C)NC=O",
    "CCSC(=O)Cl",
    "O=C1c2ccccc2C(=O)N1CCl",
    "Cc1ccc(S(=O)(=O)N=C=O)cc1",
    "CSc1nc(N=[N+]=[N-])nc(NC(C)C)n1",
    "CCCCN(CCCC)SN(C)C(=O)Oc1cccc2c1OC(C)(C)C2",
    "CN=C1C[N+]([O-])=C(c2ccccc2)c2cc(Cl)ccc2N1",
    "CC(O)CN1CCN(CC(=O)O)CCN(CC(=O)O)CCN(CC(=O)O)CC1",
    "C=c1c(N)c(O)c2c(c1O)N1C[C@@H]3N[C@@H]3[C@]1(OC)C=2COC(N)=O",
    "C#C[C@]1(O)CC[C@H]2[C@@H]3CCC4=CC(=NO)CC[C@@H]4[C@H]3CC[C@@]21CC",
    "CO[C@@]1(NC(=O)C(C(=O)O)c2ccc(O)cc2)C(=O)N2C(C(=O)O)=C(CSc3nnnn3C)CO[C@@H]21",
    "O=C1C=CC(=O)C=C1",
    "COS(=O)(=O)C(F)(F)F",
    "O=P1(N(CCCl)CCCl)NC(OO)CCO1",
    "Cc1cccc2c1cc1ccc3cccc4ccc2c1c34",
    "CC1CS(=O)(=O)CCN1N=Cc1ccc([N+](=O)[O-])o1",
    "ClC1=C(Cl)C2(Cl)C3C(Cl)C=CC3C1(Cl)C2(Cl)Cl",
    "Oc1c(Cl)cc(Cl)c(Cl)c1Cc1c(O)c(Cl)cc(Cl)c1Cl",
    "CC(/C=C/C=C(\\C)C(=O)O[C@@H]1O[C@H](CO[C@@H]2O[C@H](CO)[C@@H](O)[C@H](O)[C@H]2O)[C@@H](O)[C@H](O)[C@H]1O)=C\\C=C\\C=C(C)\\C=C\\C=C(/C)C(=O)O[C@@H]1O[C@H](CO[C@@H]2O[C@H](CO)[C@@H](O)[C@H](O)[C@H]2O)[C@@H](O)[C@H](O)[C@H]1O",
    "NNC(N)=O",
    "N#CCNCC#N",
    "CC[S+](C)CC",
    "O=C1C=CC(=O)O1",
    "CCCCCC#CC(=O)OC",
    "CCOP(=S)(OCC)SCSCC",
    "N#CC(C#N)=C(C#N)C#N",
    "[O-][N+](O)=C(Br)Br",
    "Nc1c[n+](N2CCOCC2)no1",
    "COC(=O)c1sccc1S(N)(=O)=O",
    "CC1(C)C(=O)N(Cl)C(=O)N1Br",
    "CCOC(=O)CC(=O)c1cc(F)c(Cl)nc1Cl",
    "O=C(c1cc(O)c(O)c(O)c1)c1ccc(O)c(O)c1O",
    "CCC1(c2ccccc2)C(=O)NC(=O)N(C(=O)c2ccccc2)C1=O",
    "CC/C(=C(/CC)c1ccc(OP(=O)(O)O)cc1)c1ccc(OP(=O)(O)O)cc1",
    "O=[N+]([O-])C([N+](=O)[O-])([N+](=O)[O-])[N+](=O)[O-]",
    "CCOC(=O)Oc1c(OC)cc(C(=O)O[C@@H]2C[C@@H]3CN4CCc5c([nH]c6cc(OC)ccc56)[C@H]4C[C@@H]3C(C(=O)OC)[C@H]2OC)cc1OC",
]


@pytest.fixture(scope="module")
def alerts() -> StructuralAlertFeaturizer:
    return StructuralAlertFeaturizer()


def _fragments() -> list[tuple[str, object]]:
    return [(name, function) for name, function in Descriptors._descList if name.startswith("fr_")]


@pytest.mark.parametrize(
    ("smarts", "expected"),
    [
        ("[N+](=O)[O-]", {frozenset({7}): 1, frozenset({8}): 2}),
        ("c1ccccc1", {frozenset({1006}): 6}),
        ("[#7]", {frozenset({7, 1007}): 1}),
        ("[Cl,Br,I]", {frozenset({17, 35, 53}): 1}),
        ("[C,c;H1]", {frozenset({6, 1006}): 1}),
        ("[!#6]", {}),  # negations demand nothing
        ("[!$(C=O)]", {}),
        ("*", {}),
        ("[R2]", {}),
        ("[$(C=O),$(C=S)]", {frozenset({6}): 1}),  # only what both options need
        ("[$(S(=O)=O)]N", {frozenset({16}): 1, frozenset({8}): 2, frozenset({7}): 1}),
    ],
)
def test_query_requirements_are_read_from_the_smarts(smarts: str, expected: dict) -> None:  # type: ignore[type-arg]
    assert query_requirement(Chem.MolFromSmarts(smarts)) == expected


def test_aromatic_wildcard_demands_aromatic_atoms() -> None:
    requirement = query_requirement(Chem.MolFromSmarts("aa"))
    ((allowed, count),) = requirement.items()
    assert count == 2 and 1006 in allowed and 1007 in allowed and 6 not in allowed


def test_screen_needs_enough_atoms_of_each_type() -> None:
    screen = SubstructureScreen([Chem.MolFromSmarts(s) for s in ("NN", "N", "S", "[!#6]")] + [None])
    assert screen.possible(Chem.MolFromSmiles("CNC")).tolist() == [False, True, False, True, True]
    assert screen.possible(Chem.MolFromSmiles("NCN")).tolist() == [True, True, False, True, True]


def test_every_alert_query_is_read_and_nearly_all_are_screened(alerts: StructuralAlertFeaturizer) -> None:
    queries = [filter_entry_query(entry) for entry in alerts._entries]
    assert all(query is not None for query in queries)
    assert alerts._screen.screened >= 280


def test_screen_rules_out_most_alerts_on_a_plain_molecule(alerts: StructuralAlertFeaturizer) -> None:
    """The screen has teeth: for toluene nearly every alert search is skipped."""
    assert alerts._screen.possible(Chem.MolFromSmiles("Cc1ccccc1")).sum() < 10


def test_screen_keeps_every_alert_that_matches(alerts: StructuralAlertFeaturizer) -> None:
    matched = set()
    for smiles in MATCHING_MOLECULES:
        mol = Chem.MolFromSmiles(smiles)
        expected = alerts.catalog_matches(mol)
        possible = alerts._screen.possible(mol)
        assert not (expected.astype(bool) & ~possible).any(), smiles
        assert np.array_equal(alerts(mol), expected), smiles
        matched |= set(np.flatnonzero(expected).tolist())
    assert len(matched) >= 140  # distinct alerts the molecules match (198 of 285 occur in Tox21)


def test_screen_keeps_every_fragment_that_occurs() -> None:
    fragments = _fragments()
    screen = SubstructureScreen([fragment_pattern(function) for _, function in fragments])
    featurizer = RDKitDescriptorFeaturizer([name for name, _ in fragments])
    occurring = set()
    for smiles in MATCHING_MOLECULES:
        mol = Chem.MolFromSmiles(smiles)
        counts = np.array([function(mol) for _, function in fragments], dtype=np.float32)
        assert not ((counts > 0) & ~screen.possible(mol)).any(), smiles
        assert np.array_equal(featurizer(Chem.MolFromSmiles(smiles)), counts), smiles
        occurring |= set(np.flatnonzero(counts).tolist())
    assert len(occurring) >= 81 and screen.screened >= 84  # 83 of the 85 occur in Tox21


def test_atom_types_are_cached_on_the_molecule() -> None:
    mol = Chem.MolFromSmiles("c1ccncc1O")
    assert sorted(atom_types(mol).tolist()) == [8, 1006, 1006, 1006, 1006, 1006, 1007]
    assert atom_types(mol) is mol._hygeiaAtomTypes
