"""Read-across on a five-row Tox21-format file: the table is the model's training compounds in the
model's order, or it is refused; neighbours come most similar first with what Tox21 measured."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from rdkit import Chem

from hygeia.core.registry import file_sha256
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS, read_across
from hygeia.toxicity.applicability import ApplicabilityDomain, packed_fingerprints
from hygeia.toxicity.featurize import MorganBitFeaturizer

ROWS = [  # mol_id, SMILES, labels by endpoint (blank: not tested)
    ("TOXa", "CCO", {"NR-AR": 1}),
    ("TOXb", "CCO.Cl", {"NR-AR": 0, "NR-AR-LBD": 0}),  # the same parent: merged, NR-AR tie -> active
    ("TOXc", "Oc1ccccc1", dict.fromkeys(ENDPOINTS, 0)),
    ("TOXd", "Nc1ccccc1", {"SR-p53": 1}),
    ("TOXe", "CCCCCCO", {"SR-MMP": 0}),
]
TRAINING_ORDER = ["CCO", "Oc1ccccc1", "Nc1ccccc1", "CCCCCCO"]


def _write_tox21(path: Path, rows: list[tuple[str, str, dict[str, int]]] = ROWS) -> None:
    lines = [",".join([*ENDPOINTS, "mol_id", "smiles"])]
    for mol_id, smiles, labels in rows:
        lines.append(",".join([*(str(labels.get(e, "")) for e in ENDPOINTS), mol_id, smiles]))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _domain(smiles: list[str]) -> ApplicabilityDomain:
    featurizer = MorganBitFeaturizer()
    packed = packed_fingerprints([Chem.MolFromSmiles(s) for s in smiles], featurizer)
    return ApplicabilityDomain.from_packed(packed, featurizer, {"threshold": 0.4})


@pytest.fixture
def data_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data" / "tox21" / "tox21.csv"
    _write_tox21(data)
    monkeypatch.setenv("HYGEIA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HYGEIA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HYGEIA_TOXICITY_READ_ACROSS", "true")
    get_settings.cache_clear()
    read_across.clear()
    yield data
    read_across.clear()
    get_settings.cache_clear()


def _model(
    data: Path, training_order: list[str] = TRAINING_ORDER, sha256: str | None = None
) -> SimpleNamespace:
    card = {"training_data": {"sha256": sha256 or file_sha256(data)}}
    return SimpleNamespace(sha256="fixture-model", card=card, domain=_domain(training_order))


def test_a_training_compound_leads_with_what_tox21_measured(data_file: Path) -> None:
    found = read_across.lookup(_model(data_file), "CCO", wait=None)
    assert found.status == "ready" and found.in_training_set is True
    itself = found.neighbours[0]
    assert itself["smiles"] == "CCO" and itself["similarity"] == 1.0
    assert itself["tox21_ids"] == ["TOXa", "TOXb"]  # both rows of the merged compound
    assert itself["measured"]["NR-AR"] == "active"  # one active, one inactive: ties go to active
    assert itself["measured"]["NR-AR-LBD"] == "inactive"
    assert itself["measured"]["SR-p53"] == "not tested"
    assert len(found.neighbours) == read_across.NEIGHBOURS


def test_other_molecules_get_the_most_similar_tested_compounds_first(data_file: Path) -> None:
    found = read_across.lookup(_model(data_file), "COc1ccccc1", wait=None)
    assert found.status == "ready" and found.in_training_set is False
    similarities = [n["similarity"] for n in found.neighbours]
    assert similarities == sorted(similarities, reverse=True) and similarities[0] < 1.0
    assert found.neighbours[0]["smiles"] == "Oc1ccccc1"
    assert found.neighbours[0]["measured"] == dict.fromkeys(ENDPOINTS, "inactive")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ("other data", "not the file this model was trained on"),
        ("other order", "standardise differently"),
        ("other count", "the model was trained on 3"),
        ("no file", "is not on this server"),
    ],
)
def test_a_table_that_is_not_the_models_training_set_is_refused(
    data_file: Path, change: str, reason: str
) -> None:
    model = _model(data_file)
    if change == "other data":
        model = _model(data_file, sha256="0" * 64)
    elif change == "other order":
        model = _model(data_file, list(reversed(TRAINING_ORDER)))
    elif change == "other count":
        model = _model(data_file, TRAINING_ORDER[:3])
    else:
        data_file.unlink()
    found = read_across.lookup(model, "CCO", wait=None)
    assert found.status == "unavailable" and reason in str(found.reason)
    assert found.neighbours == ()


def test_the_built_table_is_kept_for_the_next_start(data_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert read_across.lookup(_model(data_file), "CCO", wait=None).status == "ready"
    read_across.clear()  # a new process: only the file under var/cache remains

    def no_build(_: Path) -> None:
        raise AssertionError("built again instead of reading var/cache")

    monkeypatch.setattr(read_across, "build", no_build)
    found = read_across.lookup(_model(data_file), "CCO", wait=None)
    assert found.status == "ready" and found.neighbours[0]["tox21_ids"] == ["TOXa", "TOXb"]


def test_switched_off_says_so(data_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYGEIA_TOXICITY_READ_ACROSS", "false")
    get_settings.cache_clear()
    found = read_across.lookup(_model(data_file), "CCO", wait=None)
    assert found.status == "unavailable" and "HYGEIA_TOXICITY_READ_ACROSS" in str(found.reason)


def test_a_cache_that_cannot_be_written_only_costs_the_next_start(
    data_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unwritable(*_: object) -> None:
        raise PermissionError("var/cache is read-only")

    monkeypatch.setattr(read_across, "_write_cached", unwritable)
    assert read_across.lookup(_model(data_file), "CCO", wait=None).status == "ready"


def test_a_model_trained_on_metal_salts_as_their_ligands_reports_only_what_was_measured_in_scope(
    data_file: Path,
) -> None:
    """2.11.0, 2.10.0, 2.6.0 and older learned cadmium acetate as acetic acid and potassium iodide as hydrogen
    iodide: the table keeps them for the alignment, but never reports their outcomes as those compounds'."""
    rows = [
        ("TOXg", "CC(=O)O", {"SR-HSE": 0}),
        ("TOXcd", "CC(=O)[O-].CC(=O)[O-].[Cd+2]", {"SR-HSE": 1}),  # alone it would tie to active
        ("TOXki", "[K+].[I-]", {"SR-MMP": 1}),
        ("TOXc", "Oc1ccccc1", dict.fromkeys(ENDPOINTS, 0)),
    ]
    _write_tox21(data_file, rows)
    model = _model(data_file, ["CC(=O)O", "I", "Oc1ccccc1"])  # the card names no scope: the old rule
    found = read_across.lookup(model, "CC(=O)O", wait=None)
    assert found.status == "ready" and found.in_training_set is True
    itself = found.neighbours[0]
    assert itself["tox21_ids"] == ["TOXg"] and itself["measured"]["SR-HSE"] == "inactive"
    assert "I" not in [n["smiles"] for n in found.neighbours]  # no row of it is in scope: never named
    assert read_across.lookup(model, "I", wait=None).in_training_set is False


def test_a_failed_build_is_unavailable_not_an_error(data_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreadable(_: Path, _scope: str) -> None:
        raise PermissionError("the data file is not readable")

    monkeypatch.setattr(read_across, "build", unreadable)
    found = read_across.lookup(_model(data_file), "CCO", wait=None)
    assert found.status == "unavailable" and "PermissionError" in str(found.reason)


def test_a_constitution_match_needs_one_record_and_stereo_left_open_on_one_side() -> None:
    import numpy as np

    records = ["C[C@H](N)C(=O)O", "CC(O)CC", "C[C@@H](O)c1ccccc1", "C[C@H](O)c1ccccc1"]
    table = read_across.TestedCompounds(records, [[f"TOX{i}"] for i in range(4)], np.zeros((4, 12)))
    assert table.row_of_constitution("CC(N)C(=O)O") == 0  # typed without stereo: the tested L form
    assert table.row_of_constitution("C[C@@H](N)C(=O)O") is None  # D-alanine: the other enantiomer
    assert table.row_of_constitution("C[C@@H](O)CC") == 1  # one enantiomer of a record left open
    assert table.row_of_constitution("CC(O)c1ccccc1") is None  # both enantiomers tested: which one?
    neighbour = {"tox21_ids": ["TOX1"], "measured": dict.fromkeys(ENDPOINTS, "inactive")}
    summary = read_across.measured_summary(neighbour, read_across.STEREO_OPEN)
    assert summary.startswith("measured in Tox21 (TOX1, the same constitution, stereochemistry left open")
