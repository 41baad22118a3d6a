"""Alert levels, the explained priority score, cumulative IC by period and burst detection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.signals.priority import alert_levels, prioritise
from hygeia.signals.trend import burst_flags, period_table


def scored(**overrides: list) -> pd.DataFrame:
    base = {
        "drug": ["A", "B", "C", "D"],
        "event": ["E", "E", "E", "E"],
        "n": [10, 5, 2, 40],
        "eb05": [4.0, 2.5, 1.0, 0.9],
        "ic025": [1.5, -0.2, 0.4, -1.0],
        "prr": [5.0, 3.0, 1.5, 2.5],
        "chi2": [30.0, 2.0, 0.5, 8.0],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_alert_levels_follow_the_published_thresholds():
    # A: all three; B: EB05 only (chi2 < 4); C: IC025 only; D: Evans only
    assert alert_levels(scored()).tolist() == ["high", "low", "low", "low"]
    assert alert_levels(scored(chi2=[30.0, 5.0, 0.5, 8.0])).tolist()[1] == "medium"
    assert alert_levels(scored(n=[10, 5, 2, 2])).tolist()[3] == "none"  # Evans needs N >= 3


def test_priority_is_the_product_of_its_components():
    ranked = prioritise(scored(), known={("A", "E")})
    row = ranked.set_index("drug").loc["A"]
    assert row["c_disproportionality"] == pytest.approx((np.log2(4.0) + 1.5) / 2)
    assert row["c_novelty"] == 0.25 and "known/labelled" in row["explanation"]
    product = (
        ranked["c_disproportionality"] * ranked["c_seriousness"] * ranked["c_trend"] * ranked["c_novelty"]
    )
    assert np.allclose(ranked["priority"], product)
    assert ranked.set_index("drug").loc["D", "priority"] == 0  # no disproportionality, no priority


def _cases() -> pd.DataFrame:
    rows = []
    for i in range(200):  # background reports, even over four quarters
        rows.append((str(i), "X", "E", f"2022Q{1 + i % 4}", "False", "False"))
    for i in range(200, 212):  # pair A/E: 2 reports early, 10 in the last quarter
        quarter = "2022Q1" if i < 202 else "2022Q4"
        rows.append((str(i), "A", "E", quarter, "True", str(i % 4 == 0)))
    return pd.DataFrame(rows, columns=["id", "drug", "event", "quarter", "serious", "death"])


def test_cumulative_ic_by_period():
    table = period_table(_cases())
    assert table.periods == ["2022Q1", "2022Q2", "2022Q3", "2022Q4"]
    pair = table.frame[(table.frame.drug == "A") & (table.frame.event == "E")]
    assert pair["cum_n"].tolist() == [2, 2, 2, 12]
    # Q1: 52 reports, A in 2, E in all 52 -> E = 2; cumulative through Q4: 212 reports, 12 with A
    assert pair["cum_expected"].iloc[0] == pytest.approx(2 * 52 / 52)
    assert pair["ic"].iloc[-1] == pytest.approx(np.log2(12.5 / (12 * 212 / 212 + 0.5)))


def test_burst_in_the_latest_period():
    flags = burst_flags(period_table(_cases())).set_index(["drug", "event"])
    assert bool(flags.loc[("A", "E"), "burst"]) and not bool(flags.loc[("X", "E"), "burst"])
    assert flags.loc[("A", "E"), "p_burst"] < 0.01


def test_seriousness_and_trend_enter_the_score():
    cases = _cases()
    ranked = prioritise(scored(drug=["A", "X", "C", "D"]), cases).set_index("drug")
    assert ranked.loc["A", "share_serious"] == 1.0 and ranked.loc["A", "share_death"] == pytest.approx(3 / 12)
    assert bool(ranked.loc["A", "burst"]) and ranked.loc["A", "c_trend"] >= 1.5
    assert "serious 100%, deaths 25%" in ranked.loc["A", "explanation"]
    assert "burst, IC025 change" in ranked.loc["A", "explanation"]


def test_outcomes_and_periods_the_data_lack_are_stated_not_read_as_zero():
    # counts alone (a count table, one pair from its margins) say nothing about seriousness or trend
    ranked = prioritise(scored()).set_index("drug")
    row = ranked.loc["A"]
    assert np.isnan(row["share_serious"]) and np.isnan(row["ic025_change"])
    assert row["c_seriousness"] == 1.0 and row["c_trend"] == 1.0
    assert "outcomes not in the data x1.00" in row["explanation"]
    assert "no periods in the data x1.00" in row["explanation"]
    assert "serious 0%" not in row["explanation"] and "change +0.00" not in row["explanation"]
