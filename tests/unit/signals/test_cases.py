"""The case series behind a pair and its time to onset: counted dates, never guessed ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.signals.cases import case_rows, pair_reports, time_to_onset
from hygeia.signals.faers import ingest_faers
from tests.unit.signals.test_faers import write_quarter


def _cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": ["10", "10", "10", "2", "2", "3", "4", "5"],
            "drug": [
                "ASPIRIN",
                "WARFARIN",
                "aspirin ",
                "ASPIRIN",
                "OMEPRAZOLE",
                "ASPIRIN",
                "ASPIRIN",
                "WARFARIN",
            ],
            "event": ["BLEEDING", "BLEEDING", "NAUSEA", "BLEEDING", "RASH", "BLEEDING", "RASH", "BLEEDING"],
            "sex": ["F", "F", "F", "M", "M", "", "F", "M"],
            "start_dt": ["20200101", "20190101", "20200101", "20200110", "", "2020", "20200101", "20200101"],
            "event_dt": [
                "20200111",
                "20200111",
                "20200111",
                "20200105",
                "20200105",
                "20200301",
                "20200102",
                "20200102",
            ],
        }
    )


def test_the_reports_of_a_pair_in_id_order_with_what_else_they_name():
    reports = pair_reports(_cases(), "aspirin", "Bleeding")
    assert reports.tolist() == ["2", "3", "10"]  # numbers in number order; names compared case-blind
    rows = case_rows(_cases(), "ASPIRIN", "BLEEDING", reports)
    assert [r.id for r in rows] == ["2", "3", "10"]
    ten = rows[2]
    assert ten.co_drugs == ["WARFARIN"] and ten.co_events == ["NAUSEA"] and ten.fields == {"sex": "F"}
    assert rows[0].co_drugs == ["OMEPRAZOLE"] and rows[0].co_events == ["RASH"]
    assert case_rows(_cases(), "ASPIRIN", "HEADACHE", pair_reports(_cases(), "ASPIRIN", "HEADACHE")) == []


def test_onset_counts_every_report_and_excludes_what_has_no_day_count():
    onset = time_to_onset(_cases(), "ASPIRIN", "BLEEDING")
    assert onset is not None and onset.reports == 3
    # 10: 10 days (its aspirin rows agree); 2: event before the start; 3: a partial start date
    assert (onset.with_days, onset.event_before_start, onset.partial_dates, onset.missing_dates) == (
        1,
        1,
        1,
        0,
    )
    assert onset.median == 10 and onset.windows["8-30 days"] == 1 and onset.weibull_shape is None
    assert "at least 5" in onset.note


def test_no_dates_no_onset():
    assert time_to_onset(_cases().drop(columns=["start_dt"]), "ASPIRIN", "BLEEDING") is None


def test_weibull_shape_recovers_early_and_late_onset():
    rng = np.random.default_rng(4)
    for true_shape in (0.5, 2.0):
        days = np.ceil(rng.weibull(true_shape, 600) * 40).astype(int)
        start = pd.Timestamp("2021-01-01")
        cases = pd.DataFrame(
            {
                "id": [str(i) for i in range(days.size)],
                "drug": "X",
                "event": "Y",
                "start_date": start.strftime("%Y-%m-%d"),
                "event_date": [(start + pd.Timedelta(days=int(d))).strftime("%Y-%m-%d") for d in days],
            }
        )
        onset = time_to_onset(cases, "X", "Y")
        assert onset is not None and onset.with_days == days.size
        assert onset.weibull_shape == pytest.approx(true_shape, rel=0.15)
        assert sum(onset.windows.values()) == days.size


THER = """primaryid$caseid$dsg_drug_seq$start_dt$end_dt
1002$100$1$20220110$
1002$100$1$202201$
2001$200$1$2022$
"""
DEMO_WITH_EVENT_DATES = """primaryid$caseid$caseversion$fda_dt$age$age_cod$sex$event_dt
1001$100$1$20220101$70$YR$F$
1002$100$2$20220301$70$YR$F$20220124
2001$200$1$20220105$30$YR$M$20220103
3001$300$1$20220110$6$MON$M$
"""


def test_faers_ingest_carries_therapy_start_and_event_dates(tmp_path):
    folder = write_quarter(tmp_path / "q", THER=THER, DEMO=DEMO_WITH_EVENT_DATES)
    cases, _ = ingest_faers(folder)
    by_pair = cases.set_index(["id", "event"])
    # the full date wins over the partial one of the same therapy; SIMVASTATIN has only a year
    assert by_pair.loc[("1002", "MYALGIA"), "start_dt"] == "20220110"
    assert by_pair.loc[("1002", "MYALGIA"), "event_dt"] == "20220124"
    assert by_pair.loc[("2001", "MYALGIA"), "start_dt"] == "2022"
    onset = time_to_onset(cases, "ATORVASTATIN", "MYALGIA")
    assert onset is not None and onset.with_days == 1 and onset.median == 14
    simvastatin = time_to_onset(cases, "SIMVASTATIN", "MYALGIA")
    assert simvastatin is not None and simvastatin.partial_dates == 1 and simvastatin.with_days == 0


def test_faers_without_ther_still_ingests_with_empty_dates(tmp_path):
    cases, _ = ingest_faers(write_quarter(tmp_path / "q"))
    assert (cases["start_dt"] == "").all() and (cases["event_dt"] == "").all()


def test_alert_changes_between_two_runs_are_named_by_level():
    from hygeia.signals.case_service import _compared

    def run(rows):
        return pd.DataFrame(rows, columns=["drug", "event", "alert_level", "n", "eb05", "ic025", "priority"])

    before = run(
        [
            ("A", "X", "low", 3, 1.1, 0.2, 1.0),  # -> high: escalated
            ("A", "Y", "high", 9, 3.0, 1.5, 5.0),  # -> medium: de-escalated
            ("B", "X", "medium", 4, 2.0, 0.5, 2.0),  # gone from the new run: ended
            ("B", "Y", "none", 1, 0.5, -1.0, 0.1),  # -> low: new
            ("C", "X", "medium", 5, 2.1, 0.6, 2.0),  # same level: not a change
        ]
    )
    now = run(
        [
            ("A", "X", "high", 8, 2.5, 1.2, 4.0),
            ("A", "Y", "medium", 9, 1.9, 1.0, 3.0),
            ("B", "Y", "low", 3, 1.0, 0.1, 0.5),
            ("C", "X", "medium", 6, 2.2, 0.7, 2.5),
            ("D", "Z", "none", 1, 0.4, -2.0, 0.05),  # new pair without an alert: not a change
        ]
    )
    table = _compared(before, now).set_index(["drug", "event"])
    assert (
        table.loc[("A", "X"), "change"] == "escalated" and table.loc[("A", "Y"), "change"] == "de-escalated"
    )
    assert table.loc[("B", "X"), "change"] == "ended" and pd.isna(table.loc[("B", "X"), "level_now"])
    assert table.loc[("B", "Y"), "change"] == "new" and table.loc[("B", "Y"), "n_before"] == 1
    assert table.loc[("C", "X"), "change"] == "same" and table.loc[("D", "Z"), "change"] == "same"
    assert list(_compared(before, now)["drug"])[:2] == ["A", "A"]  # ranked by this run's priority
