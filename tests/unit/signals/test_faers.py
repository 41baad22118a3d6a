"""FAERS ingestion on small hand-made quarters: versions, deletions, roles, names, bad lines, zips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from hygeia.signals.drug_names import normalise_drug_name
from hygeia.signals.errors import SignalDataError
from hygeia.signals.faers import ingest_faers
from hygeia.signals.faers_source import FaersLimits

DEMO = """primaryid$caseid$caseversion$fda_dt$age$age_cod$sex
1001$100$1$20220101$70$YR$F
1002$100$2$20220301$70$YR$F
2001$200$1$20220105$30$YR$M
3001$300$1$20220110$6$MON$M
"""
DRUG = """primaryid$caseid$drug_seq$role_cod$drugname$prod_ai
1001$100$1$PS$LIPITOR$ATORVASTATIN CALCIUM
1002$100$1$PS$LIPITOR 20MG$ATORVASTATIN CALCIUM
1002$100$2$C$ASPIRIN$ASPIRIN
2001$200$1$SS$ZOCOR$SIMVASTATIN
3001$300$1$PS$ZOCOR$SIMVASTATIN
"""
REAC = """primaryid$caseid$pt$drug_rec_act
1001$100$Myalgia$
1002$100$Rhabdomyolysis$
1002$100$Myalgia$
2001$200$Myalgia$
3001$300$Rash$
"""
OUTC = """primaryid$caseid$outc_cod
1002$100$HO
2001$200$DE
"""
DELETE = "300\n"


def write_quarter(folder: Path, **overrides: str) -> Path:
    files = {
        "DEMO22Q1.txt": DEMO,
        "DRUG22Q1.txt": DRUG,
        "REAC22Q1.txt": REAC,
        "OUTC22Q1.txt": OUTC,
        "DELETE22Q1.txt": DELETE,
    }
    files.update({f"{k}22Q1.txt": v for k, v in overrides.items()})
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_latest_version_deletions_roles_and_flags(tmp_path):
    cases, report = ingest_faers(write_quarter(tmp_path / "q"))
    rows = {(r.id, r.drug, r.event) for r in cases.itertuples()}
    # case 100: only version 2 (1002) counts; aspirin is concomitant; case 300 is on the DELETE list
    assert rows == {
        ("1002", "ATORVASTATIN", "MYALGIA"),
        ("1002", "ATORVASTATIN", "RHABDOMYOLYSIS"),
        ("2001", "SIMVASTATIN", "MYALGIA"),
    }
    assert report.superseded_versions == 1 and report.deleted_cases == 1 and report.cases == 2
    assert report.drug_rows_not_current == 2 and report.drug_rows_other_roles == 1
    by_id = cases.set_index("id")
    assert bool(by_id.loc["2001", "death"]) and bool(by_id.loc["2001", "serious"])
    assert bool(by_id.loc["1002", "hospitalisation"].iloc[0])
    assert by_id.loc["2001", "age_group"] == "18-44" and by_id.loc["2001", "quarter"] == "2022Q1"


def test_concomitant_role_can_be_included(tmp_path):
    cases, _ = ingest_faers(write_quarter(tmp_path / "q"), roles=["PS", "SS", "C"])
    assert "ASPIRIN" in set(cases["drug"])


def test_malformed_line_names_file_and_line(tmp_path):
    bad = REAC.replace("2001$200$Myalgia$", "2001$200$Myalgia$$extra")
    folder = write_quarter(tmp_path / "q", REAC=bad)
    with pytest.raises(SignalDataError, match=r"REAC22Q1\.txt, line 5: expected 4"):
        ingest_faers(folder)
    cases, report = ingest_faers(folder, on_bad_lines="skip")
    assert list(report.skipped_bad_lines.values()) == [[5]]
    assert ("2001", "SIMVASTATIN", "MYALGIA") not in {(r.id, r.drug, r.event) for r in cases.itertuples()}


def test_missing_required_column_and_legacy_files(tmp_path):
    folder = write_quarter(tmp_path / "q", DEMO="isr$case$i_f_cod\n1$2$I\n")
    with pytest.raises(SignalDataError, match=r"DEMO22Q1\.txt, line 1: header lacks .*legacy LAERS"):
        ingest_faers(folder)


def test_missing_tables_are_named(tmp_path):
    (tmp_path / "DEMO22Q1.txt").write_text(DEMO)
    with pytest.raises(SignalDataError, match="no DRUG, REAC file"):
        ingest_faers(tmp_path)


def test_zip_input_equals_folder_input(tmp_path):
    folder = write_quarter(tmp_path / "q")
    archive = tmp_path / "faers_ascii_2022q1.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in folder.iterdir():
            zf.write(file, f"ASCII/{file.name}")
    from_zip, _ = ingest_faers(archive)
    from_folder, _ = ingest_faers(folder)
    assert from_zip[["id", "drug", "event"]].equals(from_folder[["id", "drug", "event"]])


def test_zip_slip_member_is_refused(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ASCII/DEMO22Q1.txt", DEMO)
        zf.writestr("../../etc/DRUG22Q1.txt", DRUG)
    with pytest.raises(SignalDataError, match="zip-slip"):
        ingest_faers(archive)


def test_zip_bomb_and_size_limits(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("DEMO22Q1.txt", DEMO + "9$9$1$20220101$1$YR$F\n" * 20 + " " * 5_000_000)
        zf.writestr("DRUG22Q1.txt", DRUG)
        zf.writestr("REAC22Q1.txt", REAC)
    with pytest.raises(SignalDataError, match="zip bomb"):
        ingest_faers(archive)
    with pytest.raises(SignalDataError, match="above the configured limit"):
        ingest_faers(write_quarter(tmp_path / "q"), limits=FaersLimits(max_member_bytes=50))


def test_not_a_zip(tmp_path):
    fake = tmp_path / "faers.zip"
    fake.write_text("hello")
    with pytest.raises(SignalDataError, match="not a readable zip"):
        ingest_faers(fake)


@pytest.mark.parametrize(
    ("drugname", "prod_ai", "expected"),
    [
        ("LIPITOR 20MG TABLETS", "", "LIPITOR"),
        ("lipitor", "ATORVASTATIN CALCIUM", "ATORVASTATIN"),
        ("VICODIN", "ACETAMINOPHEN\\HYDROCODONE BITARTRATE", "ACETAMINOPHEN\\HYDROCODONE"),
        ("NORCO", "HYDROCODONE BITARTRATE\\ACETAMINOPHEN", "ACETAMINOPHEN\\HYDROCODONE"),
        ("SALINE", "SODIUM CHLORIDE", "SODIUM CHLORIDE"),
        ("ASPIRIN (ACETYLSALICYLIC ACID) 81 mg.", "", "ASPIRIN"),
        ("", "", ""),
    ],
)
def test_drug_name_normalisation(drugname, prod_ai, expected):
    assert normalise_drug_name(drugname, prod_ai) == expected


def test_unknown_role_is_rejected(tmp_path):
    with pytest.raises(SignalDataError, match="unknown drug role"):
        ingest_faers(write_quarter(tmp_path / "q"), roles=["XX"])
