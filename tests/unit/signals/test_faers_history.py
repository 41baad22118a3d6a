"""The quarter-by-quarter FAERS history gives the in-memory ingest's numbers exactly.

The history is generated here (seeded), labelled as such: four quarters in which cases get new
versions in later quarters (ties on version broken by date), some cases are deleted, drugs come in
all four roles with salt forms and blank names, reactions repeat and are sometimes blank.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hygeia.signals.errors import SignalDataError
from hygeia.signals.faers import ingest_faers
from hygeia.signals.faers_history import count_faers_history
from hygeia.signals.priority import prioritise
from hygeia.signals.scoring import ScoringOptions, score_cases, score_counts

QUARTERS = ("22Q1", "22Q2", "22Q3", "22Q4")
DRUGS = [
    ("LIPITOR", "ATORVASTATIN CALCIUM"),
    ("ZOCOR 20MG", "SIMVASTATIN"),
    ("CRESTOR", "ROSUVASTATIN CALCIUM"),
    ("ASPIRIN", ""),
    ("Metformin hcl", "METFORMIN HYDROCHLORIDE"),
    ("VICODIN", "HYDROCODONE BITARTRATE\\ACETAMINOPHEN"),
    ("", ""),
    ("WARFARIN", "WARFARIN SODIUM"),
]
EVENTS = ["Myalgia", "Rhabdomyolysis", "Rash", "Nausea", "Hepatitis", "Haemorrhage", " ", "DEATH"]
ROLES = ["PS", "PS", "SS", "C", "I"]
OUTCOMES = ["HO", "DE", "OT", "RI"]


def _generated_history(folder: Path, cases: int = 600, seed: int = 7) -> Path:
    rng = np.random.default_rng(seed)
    version = {}
    for qi, quarter in enumerate(QUARTERS):
        demo, drug, reac, outc = [], [], [], []
        # new cases each quarter, and follow-ups (a higher version) of earlier ones
        fresh = range(qi * cases, (qi + 1) * cases)
        followed = rng.choice(qi * cases, size=min(qi * cases, cases // 3), replace=False) if qi else []
        for case in [*fresh, *followed]:
            version[case] = version.get(case, 0) + int(rng.integers(1, 3))
            pid = case * 100 + version[case]
            sex = rng.choice(["F", "M", "", "UNK"])
            age, unit = rng.choice(["34", "71", "6", "", "80"]), rng.choice(["YR", "MON", "DEC", ""])
            fda_dt = f"2022{3 * qi + 1:02d}{int(rng.integers(1, 28)):02d}"
            demo.append(f"{pid}${case}${version[case]}${fda_dt}${age}${unit}${sex}")
            for seq in range(int(rng.integers(1, 4))):
                name, ai = DRUGS[int(rng.integers(len(DRUGS)))]
                drug.append(f"{pid}${case}${seq + 1}${rng.choice(ROLES)}${name}${ai}")
            for _ in range(int(rng.integers(1, 4))):
                reac.append(f"{pid}${case}${EVENTS[int(rng.integers(len(EVENTS)))]}$")
            if qi == 3 and case < qi * cases + 12:  # an emerging signal: new in the latest quarter
                drug.append(f"{pid}${case}$9$PS$NOVELUMAB$NOVELUMAB")
                reac.append(f"{pid}${case}$Pancreatitis$")
            if rng.random() < 0.3:
                outc.append(f"{pid}${case}${rng.choice(OUTCOMES)}")
        # a version-1 row resent in a later quarter with an older date loses the tie on version
        if qi == 3:
            demo.append(f"{1 * 100 + version[1]}9$1${version[1]}$20200101$50$YR$F")
        tables = {
            "DEMO": ("primaryid$caseid$caseversion$fda_dt$age$age_cod$sex", demo),
            "DRUG": ("primaryid$caseid$drug_seq$role_cod$drugname$prod_ai", drug),
            "REAC": ("primaryid$caseid$pt$drug_rec_act", reac),
            "OUTC": ("primaryid$caseid$outc_cod", outc),
        }
        quarter_dir = folder / quarter
        quarter_dir.mkdir(parents=True)
        for table, (header, rows) in tables.items():
            (quarter_dir / f"{table}{quarter}.txt").write_text("\n".join([header, *rows]) + "\n")
    deleted = rng.choice(len(QUARTERS) * cases, size=min(25, cases), replace=False)
    (folder / "DELETE22Q4.txt").write_text("\n".join(str(c) for c in deleted) + "\n")
    return folder


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generated_history(tmp_path_factory.mktemp("faers") / "history")


@pytest.mark.parametrize("strata", [(), ("sex", "age_group", "quarter")])
def test_history_counts_scores_and_priorities_equal_the_in_memory_ingest(history: Path, strata) -> None:
    options = ScoringOptions(strata=strata)
    known = {("ATORVASTATIN", "MYALGIA")}
    cases, ingest_report = ingest_faers(history)
    in_memory = score_cases(cases, options)
    expected = prioritise(in_memory.table, cases, known)

    streamed = count_faers_history(str(history), strata=strata)
    run = score_counts(streamed.counts, options)
    ranked = prioritise(run.table, known=known, context=streamed.context)

    assert run.n_total == in_memory.n_total > 1000
    assert run.hyperparameters == in_memory.hyperparameters
    pd.testing.assert_frame_equal(ranked, expected, check_exact=True)
    assert ranked["burst"].any() and (ranked["ic025_change"] != 0).any()  # the trend is exercised
    assert streamed.periods == ["2022Q1", "2022Q2", "2022Q3", "2022Q4"]
    same = [
        "demo_rows",
        "cases",
        "superseded_versions",
        "deleted_cases",
        "drug_rows_not_current",
        "drug_rows_other_roles",
        "drug_rows_unnamed",
        "reac_rows_not_current",
        "reports_without_drug",
        "reports_without_event",
        "pairs",
    ]
    assert {k: getattr(streamed.report, k) for k in same} == {k: getattr(ingest_report, k) for k in same}
    assert streamed.report.superseded_versions > 100 and streamed.report.deleted_cases > 0


def test_progress_reaches_one_and_names_the_files(history: Path) -> None:
    seen: list[tuple[float, str]] = []
    count_faers_history(str(history), progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("DRUG22Q3.txt" in m for _, m in seen)


def test_non_numeric_primaryid_is_an_error_naming_file_and_line(tmp_path: Path) -> None:
    folder = _generated_history(tmp_path / "h", cases=5)
    demo = folder / "22Q2" / "DEMO22Q2.txt"
    lines = demo.read_text().splitlines()
    lines[3] = "X12" + lines[3][lines[3].index("$") :]
    demo.write_text("\n".join(lines) + "\n")
    with pytest.raises(SignalDataError) as error:
        count_faers_history(str(folder))
    assert "DEMO22Q2.txt, line 4: primaryid 'X12' is not a number" in str(error.value)


def test_strata_beyond_the_report_fields_are_refused(history: Path) -> None:
    with pytest.raises(SignalDataError, match="serious"):
        count_faers_history(str(history), strata=("serious",))


def test_malformed_lines_and_undecodable_bytes_as_in_the_in_memory_ingest(tmp_path: Path) -> None:
    folder = _generated_history(tmp_path / "h", cases=40)
    drug = folder / "22Q3" / "DRUG22Q3.txt"
    lines = drug.read_bytes().splitlines()
    lines[5] = lines[5] + b"$one field too many"
    drug.write_bytes(b"\n".join(lines) + b"\n")
    clean = folder / "22Q2" / "DRUG22Q2.txt"  # read by the fast path, with a Latin-1 byte in it
    clean.write_bytes(clean.read_bytes().replace(b"$ASPIRIN$", b"$ASP\xd6RIN$"))
    with pytest.raises(SignalDataError, match=r"DRUG22Q3.txt, line 6: expected 6"):
        count_faers_history(str(folder))

    cases, expected = ingest_faers(folder, on_bad_lines="skip")
    streamed = count_faers_history(str(folder), on_bad_lines="skip")
    assert streamed.report.skipped_bad_lines == expected.skipped_bad_lines == {str(drug): [6]}
    run, in_memory = score_counts(streamed.counts), score_cases(cases)
    pd.testing.assert_frame_equal(run.table, in_memory.table, check_exact=True)
    assert {d for d in run.table["drug"] if d.startswith("ASP") and d != "ASPIRIN"}  # decoded alike


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_score_faers_writes_what_the_in_memory_rank_writes(
    history: Path, tmp_path: Path, suffix: str
) -> None:
    """The CLI writes explanations chunk by chunk; the file is the one the in-memory path writes."""
    from typer.testing import CliRunner

    from hygeia.signals.cli import app
    from hygeia.signals.columnar import write_table

    streamed, summary = tmp_path / f"streamed{suffix}", tmp_path / "summary.json"
    result = CliRunner().invoke(
        app, ["score-faers", str(history), "-o", str(streamed), "--summary", str(summary)]
    )
    assert result.exit_code == 0, result.output
    cases, _ = ingest_faers(history)
    expected = tmp_path / f"expected{suffix}"
    write_table(prioritise(score_cases(cases).table, cases), expected)
    assert streamed.read_bytes() == expected.read_bytes()
    assert json.loads(summary.read_text())["ingest"]["superseded_versions"] > 100
