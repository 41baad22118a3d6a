"""The CLI contract other tools rely on: one output row per input record, in order, exact columns."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hygeia.cli import app
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.io import OUTPUT_COLUMNS
from hygeia.toxicity.loading import clear_cache

from .conftest import REPO_ROOT

INPUT = [
    "CC(=O)Oc1ccccc1C(=O)O",  # aspirin
    "C1CC",  # unclosed ring: the bad row in the middle
    "[Na+].CC(=O)[O-]",  # a salt
    "",  # empty
    "CCCC[Sn](CCCC)(CCCC)Cl",  # organotin: refused element
    "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1",  # bisphenol A
]


@pytest.fixture
def no_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh var/ with no database: the CLI must fall back to the bundled, hash-verified folder."""
    monkeypatch.setenv("HYGEIA_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HYGEIA_MODELS_DIR", str(REPO_ROOT / "models"))
    get_settings.cache_clear()
    clear_cache()
    yield
    get_settings.cache_clear()
    clear_cache()


def _run(*args: str) -> None:
    result = CliRunner().invoke(app, ["toxicity", *args])
    assert result.exit_code == 0, result.output


def _read(path: Path, passthrough: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The caller's columns first, then exactly the documented output columns."""
    with path.open() as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == (*passthrough, *OUTPUT_COLUMNS)
        return list(reader)


def _check(rows: list[dict[str, str]], given: list[str]) -> None:
    assert [r["smiles"] for r in rows] == given
    assert rows[2]["standardised_smiles"] == "CC(=O)O"  # the salt's parent is what the model scored
    bad = {1: "unparseable", 3: "empty", 4: "disallowed_element"}
    for index, row in enumerate(rows):
        if index in bad:
            assert row["error"].startswith(bad[index])
            assert (
                all(row[e] == "" for e in ENDPOINTS) and row["in_domain"] == row["standardised_smiles"] == ""
            )
        else:
            assert row["error"] == "" and row["standardised_smiles"]
            assert all(0.0 <= float(row[e]) <= 1.0 for e in ENDPOINTS)
            assert row["in_domain"] in ("true", "false")
            active = [a for a in row["active_assays"].split(";") if a]
            assert int(row["n_active_assays"]) == len(active)
            assert all(float(row[a]) >= 0.5 for a in active)
            assert max(ENDPOINTS, key=lambda e: float(row[e])) == row["highest_risk_assay"]


def _numbered_csv(tmp_path: Path) -> Path:
    """INPUT as a CSV with an id column (the row number)."""
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "smiles"])
        writer.writerows([[i, s] for i, s in enumerate(INPUT)])
    return source


def test_csv_input_keeps_order_and_errors(no_registry: None, tmp_path: Path) -> None:
    source = _numbered_csv(tmp_path)
    out = tmp_path / "out.csv"
    _run("predict", str(source), "-o", str(out))
    rows = _read(out, ("id",))
    _check(rows, INPUT)
    assert [r["id"] for r in rows] == [str(i) for i in range(len(INPUT))]


def test_each_row_carries_its_applicability_domain(no_registry: None, tmp_path: Path) -> None:
    """Similarity, the in/out flag and the card's scaffold-CV ROC-AUC for that similarity reach the file;
    a molecule farther than any band the card measures leaves the AUC empty, not invented."""
    from hygeia.toxicity.loading import get_model

    source = tmp_path / "in.smi"
    source.write_text(
        "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1 training\n"  # bisphenol A: similarity 1.0
        "N#CC1(C#N)C2CC3CC(C2)CC1C3 far\n"  # an adamantane dinitrile, ~0.27 from the training set
        "FC(F)(F)C1(C(F)(F)F)OOC1(F)F farthest\n"  # a perfluorodioxetane, under 0.2
    )
    out = tmp_path / "out.csv"
    _run("predict", str(source), "-o", str(out))
    rows = _read(out, ("name",))
    domain = get_model().domain
    similarity = [float(r["nearest_similarity"]) for r in rows]
    assert similarity[0] == 1.0 and similarity[2] < 0.2 < similarity[1] < domain.threshold
    assert [r["in_domain"] for r in rows] == ["true", "false", "false"]
    expected = [domain.band_roc_auc(1.0), domain.band_roc_auc(similarity[1])]
    assert [float(r["domain_cv_roc_auc"]) for r in rows[:2]] == pytest.approx(expected, abs=5e-4)
    assert expected[0] > expected[1] and rows[2]["domain_cv_roc_auc"] == ""


def test_extra_columns_travel_and_formulas_are_neutralised(no_registry: None, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "smiles", "NR-AR", "batch"])  # NR-AR clashes with an output column
        writer.writerow(["=HYPERLINK(1)", "CCO", "1", "b1"])
        writer.writerow(["+cmd", "[Fe]", "", "b2"])
    out = tmp_path / "out.csv"
    _run("predict", str(source), "-o", str(out))
    rows = _read(out, ("name", "input_NR-AR", "batch"))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(1)", "'+cmd"]
    assert [r["batch"] for r in rows] == ["b1", "b2"] and rows[0]["input_NR-AR"] == "1"
    assert rows[1]["error"].startswith("disallowed_element: outside the model's chemistry")


def test_smi_input(no_registry: None, tmp_path: Path) -> None:
    given = [s for s in INPUT if s]  # a .smi file has no empty records
    source = tmp_path / "in.smi"
    source.write_text("".join(f"{s} mol{i}\n" for i, s in enumerate(given)))
    out = tmp_path / "out.csv"
    _run("predict", str(source), "-o", str(out))
    rows = _read(out, ("name",))
    assert [r["smiles"] for r in rows] == given
    assert [r["name"] for r in rows] == [f"mol{i}" for i in range(len(given))]
    assert [bool(r["error"]) for r in rows] == [False, True, False, True, False]


def test_sdf_input_with_a_broken_record(no_registry: None, tmp_path: Path) -> None:
    from rdkit import Chem

    good = [Chem.MolFromSmiles("CCO"), Chem.MolFromSmiles("c1ccccc1O")]
    good[0].SetProp("_Name", "ethanol")
    good[1].SetProp("_Name", "phenol")
    blocks = [Chem.MolToMolBlock(good[0]), "garbage\nnot a mol block\n", Chem.MolToMolBlock(good[1])]
    blocks[2] += ">  <CAS>\n108-95-2\n"
    source = tmp_path / "in.sdf"
    source.write_text("".join(block + "\n$$$$\n" for block in blocks))
    out = tmp_path / "out.csv"
    _run("predict", str(source), "-o", str(out))
    rows = _read(out, ("name", "CAS"))
    assert [r["name"] for r in rows] == ["ethanol", "garbage", "phenol"]
    assert [r["CAS"] for r in rows] == ["", "", "108-95-2"]
    assert [r["smiles"] for r in rows] == ["CCO", "", "Oc1ccccc1"]
    assert rows[1]["error"].startswith("unparseable: SDF record 2")
    assert rows[0]["error"] == rows[2]["error"] == ""


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_or_tab_separated_csv(no_registry: None, tmp_path: Path, delimiter: str) -> None:
    """Spreadsheets in many locales save CSV with semicolons; the header tells which delimiter it is."""
    from hygeia.toxicity.io import read_records

    source = tmp_path / "in.csv"
    source.write_text(
        f"id{delimiter}smiles{delimiter}note\ne1{delimiter}CCO{delimiter}a, b\ne2{delimiter}C1CC{delimiter}\n"
    )
    assert [(r.smiles, r.passthrough) for r in read_records(source)] == [
        ("CCO", {"id": "e1", "note": "a, b"}),
        ("C1CC", {"id": "e2", "note": ""}),
    ]
    out = tmp_path / "out.csv"
    _run("predict", str(source), "-o", str(out))
    rows = _read(out, ("id", "note"))
    assert [(r["id"], r["smiles"], r["note"]) for r in rows] == [("e1", "CCO", "a, b"), ("e2", "C1CC", "")]
    assert rows[0]["error"] == "" and rows[1]["error"].startswith("unparseable")


def test_spreadsheet_csv_with_a_byte_order_mark(no_registry: None, tmp_path: Path) -> None:
    """Excel's 'CSV UTF-8' starts with a BOM; the smiles column must still be found."""
    source = tmp_path / "in.csv"
    source.write_bytes("\ufeffsmiles,id\r\nCCO,e1\r\n".encode())
    out = tmp_path / "out.csv"
    _run("predict", str(source), "-o", str(out))
    rows = _read(out, ("id",))
    assert [(r["id"], r["smiles"], r["error"]) for r in rows] == [("e1", "CCO", "")]


def test_csv_without_smiles_column_fails_clearly(no_registry: None, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("name\naspirin\n")
    result = CliRunner().invoke(app, ["toxicity", "predict", str(source), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "no 'smiles' column" in result.output


def test_a_run_that_finds_no_model_says_where_it_looked(
    no_registry: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative settings make a CLI run from another folder look in that folder's models/: say so."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYGEIA_MODELS_DIR")
    get_settings.cache_clear()
    source = tmp_path / "in.csv"
    source.write_text("smiles\nCCO\n")
    result = CliRunner().invoke(app, ["toxicity", "predict", str(source), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code != 0 and not (tmp_path / "o.csv").exists()
    said = " ".join(result.output.split())
    assert "set HYGEIA_MODELS_DIR to the folder holding toxicity/ (now: models)" in said


def test_sdf_output_keeps_one_record_per_input(no_registry: None, tmp_path: Path) -> None:
    from rdkit import Chem

    source = tmp_path / "in.smi"
    source.write_text("CCO ethanol\nC1CC broken\nOc1ccc(cc1)C(C)(C)c1ccc(O)cc1 BPA\n")
    out = tmp_path / "out.sdf"
    _run("predict", str(source), "-o", str(out))
    records = list(Chem.SDMolSupplier(str(out)))
    assert len(records) == 3 and all(r is not None for r in records)
    assert [r.GetProp("_Name") for r in records] == ["ethanol", "broken", "BPA"]
    assert records[1].GetProp("error").startswith("unparseable") and records[1].GetNumAtoms() == 0
    assert 0.0 <= float(records[2].GetProp("NR-ER")) <= 1.0 and records[2].HasProp("highest_risk_assay")


def test_chunked_csv_and_parquet_equal_the_whole_file(no_registry: None, tmp_path: Path) -> None:
    """A library read two records at a time (as one of millions would be) gives the same file."""
    import pyarrow.parquet as pq

    source = _numbered_csv(tmp_path)
    whole, chunked, table = tmp_path / "whole.csv", tmp_path / "chunked.csv", tmp_path / "out.parquet"
    _run("predict", str(source), "-o", str(whole))
    _run("predict", str(source), "-o", str(chunked), "--chunk-size", "2")
    _run("predict", str(source), "-o", str(table), "--chunk-size", "4")
    assert chunked.read_text() == whole.read_text()
    as_parquet = [{k: v or "" for k, v in row.items()} for row in pq.read_table(table).to_pylist()]
    assert as_parquet == _read(whole, ("id",))


def test_train_refuses_an_unknown_chemistry_scope(tmp_path: Path) -> None:
    data = tmp_path / "tox21.csv"
    data.write_text("smiles\nCCO\n")
    result = CliRunner().invoke(app, ["toxicity", "train", "--data", str(data), "--scope", "inorganic"])
    assert result.exit_code != 0
    assert "unknown chemistry scope 'inorganic'" in result.output


def test_train_standardises_under_the_named_scope(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scope reaches training, so a recipe can be trained on an older model's compounds and folds."""
    import hygeia.toxicity.training as training

    asked: dict[str, object] = {}

    def stop(*args: object, **kwargs: object) -> None:
        asked.update(kwargs)
        raise SystemExit(3)

    monkeypatch.setattr(training, "run_training", stop)
    data = tmp_path / "tox21.csv"
    data.write_text("smiles\nCCO\n")
    out = str(tmp_path / "m")
    result = CliRunner().invoke(
        app, ["toxicity", "train", "--data", str(data), "--out", out, "--scope", "largest-fragment-v1"]
    )
    assert result.exit_code == 3
    assert asked["scope"] == "largest-fragment-v1"
