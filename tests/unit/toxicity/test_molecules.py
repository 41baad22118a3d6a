"""Parsing and standardisation: every rejection has a code and a reason; salts and charges normalise."""

from __future__ import annotations

import numpy as np
import pytest

from hygeia.toxicity import LARGEST_FRAGMENT_SCOPE
from hygeia.toxicity.dataset import merge_labels
from hygeia.toxicity.molecules import (
    DISALLOWED_ELEMENT,
    EMPTY,
    INORGANIC,
    MAX_HEAVY_ATOMS,
    RADICAL,
    TOO_LONG,
    TOO_MANY_ATOMS,
    UNPARSEABLE,
    MoleculeRejection,
    StandardisedMolecule,
    prepare,
)


@pytest.mark.parametrize(
    ("given", "parent"),
    [
        ("[Na+].CC(=O)[O-]", "CC(=O)O"),  # ionic salt: counter-ion removed, acid neutralised
        ("CC(=O)O[Na]", "CC(=O)O"),  # the same salt drawn with a covalent Na-O bond
        ("Cc1ccccc1N.Cl", "Cc1ccccc1N"),  # hydrochloride
        ("C[NH3+]", "CN"),  # protonated amine neutralised
        ("O=C1CC=CC=N1", "O=c1cccc[nH]1"),  # canonical tautomer
        # a listed counter-ion (ChEMBL's salts) outweighing the active compound is passed over ...
        ("OC(=O)CC(O)(CC(=O)O)C(=O)O.Oc1cccc2cccnc12", "Oc1cccc2cccnc12"),
        ("OC(=O)CC(O)(CC(=O)O)C(=O)O.[K+].[K+].[K+]", "O=C(O)CC(O)(CC(=O)O)C(=O)O"),  # ... not when alone
    ],
)
def test_standardisation_yields_the_parent(given: str, parent: str) -> None:
    result = prepare(given)
    assert isinstance(result, StandardisedMolecule)
    assert result.smiles == parent


def test_quaternary_ammonium_keeps_its_permanent_charge() -> None:
    result = prepare("C[N+](C)(C)C.[Cl-]")
    assert isinstance(result, StandardisedMolecule)
    assert result.smiles == "C[N+](C)(C)C"


@pytest.mark.parametrize(
    ("given", "code", "fragment"),
    [
        ("", EMPTY, "empty"),
        ("   ", EMPTY, "empty"),
        ("C1CC", UNPARSEABLE, "cannot parse"),
        ("CC(=O)O[AlH3](O)O", UNPARSEABLE, "valence"),
        ("C" * 1001, TOO_LONG, "1001 characters"),
        ("CCCC[Sn](CCCC)(CCCC)Cl", DISALLOWED_ELEMENT, "Sn"),
        ("C[Hg]Cl", DISALLOWED_ELEMENT, "Hg"),
        # a metal's salt or complex is not its organic part: cisplatin is not ammonia, ziram not
        # dimethyldithiocarbamic acid, cadmium acetate not acetic acid, ferrocene not cyclopentadiene
        ("N.N.Cl[Pt]Cl", DISALLOWED_ELEMENT, "contains Pt"),
        ("CN(C)C(=S)[S-].CN(C)C(=S)[S-].[Zn+2]", DISALLOWED_ELEMENT, "contains Zn"),
        ("CC(=O)[O-].CC(=O)[O-].[Cd+2]", DISALLOWED_ELEMENT, "contains Cd"),
        ("[Fe+2].c1cc[cH-]c1.c1cc[cH-]c1", DISALLOWED_ELEMENT, "contains Fe"),
        ("OC(=O)c1ccccc1O.[Zn]", DISALLOWED_ELEMENT, "contains Zn"),
        # no carbon left once the counter-ions are gone: inorganic chemistry
        ("[K+].[I-]", INORGANIC, "has no carbon"),
        ("O=[N+]([O-])[O-].[NH4+]", INORGANIC, "has no carbon"),
        ("O=[Se]=O", INORGANIC, "has no carbon"),
        ("C" * (MAX_HEAVY_ATOMS + 1), TOO_MANY_ATOMS, str(MAX_HEAVY_ATOMS + 1)),
        # a bracket atom without its hydrogens is a radical, not the molecule meant: refused, not scored
        ("C[CH2]", RADICAL, "unpaired electrons on 1 atom(s) (C)"),
        ("[C]", RADICAL, "write [CH3] or C"),
        ("c1ccccc1[N]C", RADICAL, "(N)"),
    ],
)
def test_rejections_carry_code_and_reason(given: str, code: str, fragment: str) -> None:
    result = prepare(given)
    assert isinstance(result, MoleculeRejection)
    assert result.code == code
    assert fragment in result.message


def test_models_trained_before_the_organic_scope_rebuild_their_training_set_with_the_old_rule() -> None:
    given = ("N.N.Cl[Pt]Cl", "[K+].[I-]", "OC(=O)CC(O)(CC(=O)O)C(=O)O.Oc1cccc2cccnc12")
    old = [prepare(text, LARGEST_FRAGMENT_SCOPE) for text in given]
    assert [getattr(result, "smiles", None) for result in old] == ["N", "I", "O=C(O)CC(O)(CC(=O)O)C(=O)O"]
    assert isinstance(prepare("CC(=O)[O-].[Na+]"), StandardisedMolecule)  # a sodium salt stays in scope


def test_a_nitroxide_radical_tox21_tested_is_scored() -> None:
    tempone = prepare("CC1(C)CC(=O)CC(C)(C)N1[O]")  # TOX24905, 4-oxo-TEMPO
    assert isinstance(tempone, StandardisedMolecule) and tempone.smiles == "CC1(C)CC(=O)CC(C)(C)N1[O]"
    assert isinstance(prepare("[CH3]C"), StandardisedMolecule)  # the hydrogens written: ethane


def test_large_counter_ion_does_not_reject_the_drug() -> None:
    big_anion = "[O-]S(=O)(=O)" + "C" * 160
    result = prepare(f"C[NH3+].{big_anion}")
    # the largest fragment here is the anion itself, which is over the limit: the check is on the parent
    assert isinstance(result, MoleculeRejection) and result.code == TOO_MANY_ATOMS


def test_duplicates_merge_by_majority_with_ties_to_active() -> None:
    raw = np.array(
        [[1, 0, np.nan], [0, 0, np.nan], [np.nan, 1, 0], [0, 0, 0]],
        dtype=np.float32,
    )
    labels, conflicts = merge_labels(raw, [[0, 1], [2], [3]])
    assert labels[0].tolist()[:2] == [1.0, 0.0]  # 1 vs 0 tie -> active; 0,0 -> inactive
    assert np.isnan(labels[0, 2])  # never tested stays untested
    assert labels[1].tolist() == [0.0, 1.0, 0.0] or np.isnan(labels[1, 0])
    assert conflicts == 1
