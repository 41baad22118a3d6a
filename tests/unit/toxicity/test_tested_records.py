"""Tox21's own records by InChIKey, on a Tox21-format file this test writes: rows of one InChIKey
merge by the training rule, only the whole key matches, a SMILES is looked up by its own InChIKey,
and what is neither is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.core.errors import InputError
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.molecules import MoleculeRejection, prepare
from hygeia.toxicity.predictor import RowPrediction
from hygeia.toxicity.tested_records import tox21_record

ROWS = [  # mol_id, SMILES, labels by endpoint (blank: not tested)
    ("TOX182", "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1", {"NR-ER": 1, "SR-p53": 0}),
    ("TOX183", "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1", {"NR-ER": 0}),  # the same record again: a tie, active
    ("TOX4983", "N[Pt](N)(Cl)Cl", {"SR-ARE": 1, "SR-p53": 0}),  # outside the model's chemistry
    ("TOX9", "C[C@H](N)C(=O)O", {"SR-MMP": 0}),
    ("TOXbad", "C1CC", {"SR-MMP": 1}),
]
BISPHENOL_A, CISPLATIN = "IISBACLAFKSPIT-UHFFFAOYSA-N", "DQLATGHUWYMOKM-UHFFFAOYSA-L"
ALANINE_NO_STEREO = "QNAYBMKLOCPYGJ-UHFFFAOYSA-N"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data" / "tox21" / "tox21.csv"
    data.parent.mkdir(parents=True)
    lines = [",".join([*ENDPOINTS, "mol_id", "smiles"])]
    lines += [",".join([*(str(labels.get(e, "")) for e in ENDPOINTS), i, s]) for i, s, labels in ROWS]
    data.write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    yield tmp_path / "data"
    get_settings.cache_clear()


def test_rows_of_one_inchikey_merge_by_the_training_rule(data_dir: Path) -> None:
    found = tox21_record(f"InChIKey={BISPHENOL_A}")
    assert found["found"] and found["tox21_ids"] == ["TOX182", "TOX183"]
    assert found["smiles"] == "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1"
    assert (found["measured"]["NR-ER"], found["measured"]["SR-p53"]) == ("active", "inactive")
    assert found["measured"]["SR-MMP"] == "not tested"
    assert found["fact"].startswith("measured in Tox21 (TOX182, TOX183): active in NR-ER (inactive 1")


def test_a_metal_complex_the_model_refuses_has_its_record(data_dir: Path) -> None:
    found = tox21_record(CISPLATIN.lower())
    assert found["tox21_ids"] == ["TOX4983"] and found["measured"]["SR-ARE"] == "active"


def test_only_the_whole_key_matches(data_dir: Path) -> None:
    assert tox21_record(ALANINE_NO_STEREO)["found"] is False  # alanine without stereo; Tox21 tested L
    assert tox21_record("AAAAAAAAAAAAAA-UHFFFAOYSA-N") == {
        "inchikey": "AAAAAAAAAAAAAA-UHFFFAOYSA-N",
        "found": False,
    }


def test_what_is_not_an_inchikey_is_refused_and_a_missing_file_finds_nothing(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InputError, match="is neither an InChIKey"):
        tox21_record("bisphenol A")
    assert tox21_record(smiles="NC(Cl)(Cl)[Pt]N")["found"] is False  # a SMILES is keyed as it is
    assert tox21_record(smiles="Cl[Pt](Cl)(N)N")["tox21_ids"] == ["TOX4983"]
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(data_dir.parent / "elsewhere"))
    get_settings.cache_clear()
    assert tox21_record(BISPHENOL_A)["found"] is False


def test_a_batch_row_outside_the_models_chemistry_carries_tox21s_record(data_dir: Path) -> None:
    """A screen's cisplatin row keeps its refusal and says what Tox21 measured; a molecule refused for
    another reason, or a metal complex Tox21 did not test, gets no record."""
    cisplatin, tin, broken = (_refused(s) for s in ("Cl[Pt](Cl)(N)N", "C[Sn](C)(C)C", "C1CC"))
    assert (cisplatin.error_code, cisplatin.tox21_record["tox21_ids"]) == ("disallowed_element", ["TOX4983"])
    assert cisplatin.error.endswith("; Tox21 tested it as such: " + cisplatin.tox21_record["fact"])
    assert cisplatin.error.startswith("outside the model's chemistry: ")
    assert tin.tox21_record is None and tin.error.startswith("outside the model's chemistry: contains Sn")
    assert broken.error_code == "unparseable" and broken.tox21_record is None


def _refused(smiles: str) -> RowPrediction:
    rejection = prepare(smiles)
    assert isinstance(rejection, MoleculeRejection)
    return RowPrediction.rejected(smiles, rejection)
