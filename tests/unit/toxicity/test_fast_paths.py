"""The faster standardisation and featurisation paths give exactly what the reference RDKit calls give.

A shipped model is only valid for the inputs it was trained on, so every shortcut (standardisation
objects built once, terms shared between descriptors, numpy instead of Python loops) must be invisible
in its output: the same standardised SMILES and bit-identical feature rows. The fixture covers what
the shortcuts could disturb: salts, charges, zwitterions, tautomers, stereo, isotopes, explicit
hydrogens, metals, a metallocene ligand, mesoionic and unparseable input. (The same comparison on all
7,831 Tox21 rows is `python -m benchmarks.toxicity.fast_paths`.)
"""

from __future__ import annotations

import pytest
from benchmarks.toxicity.fast_paths import reference_vector
from rdkit import Chem
from rdkit.Chem.EState import EState
from rdkit.Chem.MolStandardize import rdMolStandardize

from hygeia.toxicity import molecules
from hygeia.toxicity.descriptor_names import RDKIT_2D_DESCRIPTORS
from hygeia.toxicity.descriptors import estate_indices
from hygeia.toxicity.featurize import FeatureMorganCountFeaturizer, RDKitDescriptorFeaturizer
from hygeia.toxicity.molecules import StandardisedMolecule, prepare

FIXTURE = [
    *("CC(=O)Oc1ccccc1C(=O)O", "[Na+].CC(=O)[O-]", "CC(=O)O[Na]", "Cc1ccccc1N.Cl", "C[NH3+]"),
    *("C[N+](C)(C)C.[Cl-]", "OC(=O)c1ccccc1O.[Zn]", "O=C1CC=CC=N1", "Oc1ncccc1", "CC(=O)CC(C)=O"),
    *("CC(O)=CC(=O)C", "OC1=CC(=O)C=CC1=O", "NC(=N)N", "O=C1NC(=O)C(=O)N1", "Cc1[nH]nc(C)c1"),
    *("S=c1[nH]cccc1", "O=c1[nH]c(=O)c2[nH]cnc2[nH]1", "O=C1C=C(O)C(=O)c2ccccc12", "c1ccc2[nH]ccc2c1"),
    *("[O-][N+](=O)c1ccc(cc1)N=Nc1ccc(N)cc1", "C[n+]1ccccc1.[I-]", "[O-]c1ccccc1.[K+]", "[NH3+]CC(=O)[O-]"),
    *("C[N+](C)(C)CC(=O)[O-]", "c1cc[n+]([O-])cc1", "OS(=O)(=O)c1ccccc1.OS(=O)(=O)c1ccccc1"),
    *("CN1CCC[C@H]1c1cccnc1", "C/C=C/C(=O)O", "F/C=C\\F", "C[C@H]1CC[C@@H](C)CC1", "[2H]C([2H])([2H])O"),
    *("[13CH3]C(=O)O", "[H]C([H])([H])C(=O)O", "CCCC[Sn](CCCC)(CCCC)Cl", "C[Hg]Cl", "[Cl-].[Cl-].[Ca+2]"),
    *("[Fe+2].c1cc[cH-]c1.c1cc[cH-]c1", "CCOC(=O)[N-]c1c[n+](N2CCOCC2)no1", "OB(O)c1ccccc1"),
    *("C[Si](C)(C)Oc1ccccc1", "[Se]=C=[Se]", "O=P(O)(O)OC[C@H]1O[C@@H](n2cnc3c(N)ncnc32)[C@H](O)[C@@H]1O"),
    *("Clc1ccc(cc1)C(c1ccc(Cl)cc1)C(Cl)(Cl)Cl", "CC12CCC3c4ccc(O)cc4CCC3C1CCC2O", "C" * 40, "c1ccccc1.O"),
    *("O=C([O-])C(F)(F)F.CCN", "N#N", "C1CC", "", "CC(=O)O[AlH3](O)O", "O=C(Cl)c1ccccc1N=[N+]=[N-]"),
    *("C=CC(=O)OCC1CO1", "O=S(=O)(N)c1ccc(N)cc1", "CC(C)NCC(O)c1ccc(O)c(O)c1.Cl", "Oc1c(I)cc(I)cc1I"),
    *("C[N+](C)(C)c1ccc(cc1C(=O)O)[O-]", "[H]/C(F)=C(/[H])F"),  # need reionisation / explicit-H removal
]


def _outcome(result: object) -> str:
    return result.smiles if isinstance(result, StandardisedMolecule) else f"rejected: {result}"


def test_cleanup_equals_rdkits_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cleanup on standardisation objects built once: the same parent molecules as RDKit's Cleanup."""
    fast = [_outcome(prepare(smiles)) for smiles in FIXTURE]
    monkeypatch.setattr(molecules._standardiser(), "cleanup", rdMolStandardize.Cleanup)
    reference = [_outcome(prepare(smiles)) for smiles in FIXTURE]
    assert fast == reference
    assert sum(outcome.startswith("rejected") for outcome in fast) >= 6  # rejections are compared too
    assert len(set(fast)) > 45  # and the molecules are not all one


@pytest.mark.parametrize("missing", ["RemoveHs", "normalize", "reionize"])
def test_the_fixture_notices_a_missing_cleanup_step(missing: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparison above has teeth: leaving out any one of these steps changes some outcome."""
    tools = molecules._standardiser()
    reference = [_outcome(prepare(smiles)) for smiles in FIXTURE]

    def incomplete(parent: Chem.Mol) -> Chem.Mol:
        cleaned = Chem.Mol(parent) if missing == "RemoveHs" else Chem.RemoveHs(parent)
        tools.metal_disconnector.DisconnectInPlace(cleaned)
        if missing != "normalize":
            tools.normalizer.normalizeInPlace(cleaned)
        if missing != "reionize":
            tools.reionizer.reionizeInPlace(cleaned)
        Chem.AssignStereochemistry(cleaned, cleanIt=True, force=True)
        return cleaned

    monkeypatch.setattr(tools, "cleanup", incomplete)
    assert [_outcome(prepare(smiles)) for smiles in FIXTURE] != reference


def test_estate_indices_equal_rdkits_bit_for_bit() -> None:
    checked = 0
    for smiles in [*FIXTURE, "C", "C.CC", "[Na+].[Cl-]"]:
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            continue
        expected = EState.EStateIndices(Chem.Mol(mol))
        ours = estate_indices(mol)
        assert ours.tobytes() == expected.tobytes(), smiles
        assert mol._eStateIndices is ours  # cached where the EState-VSA descriptors read it
        checked += 1
    assert checked > 50


@pytest.mark.parametrize(
    "featurizer",
    [
        RDKitDescriptorFeaturizer(),
        RDKitDescriptorFeaturizer(RDKIT_2D_DESCRIPTORS),
        FeatureMorganCountFeaturizer(2, 1024),
        FeatureMorganCountFeaturizer(3, 1024),
    ],
    ids=["descriptors_213", "descriptors_217", "fcfp_r2", "fcfp_r3"],
)
def test_features_equal_the_plain_rdkit_route(featurizer) -> None:  # type: ignore[no-untyped-def]
    """Shared terms and shared FCFP atom roles: the same bits as each RDKit function on its own."""
    standardised = [prepare(smiles) for smiles in FIXTURE]
    mols = [result.mol for result in standardised if isinstance(result, StandardisedMolecule)]
    for mol in mols:
        expected = reference_vector(featurizer, Chem.MolFromSmiles(Chem.MolToSmiles(mol)))
        assert featurizer(mol).tobytes() == expected.tobytes(), Chem.MolToSmiles(mol)
    assert len(mols) > 45
