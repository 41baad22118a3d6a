"""Counting exactly as openEBGM's processRaw: its own hand-computed test fixture, with and without strata."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hygeia.signals.counts import count_cases, count_table
from hygeia.signals.errors import SignalDataError

# openEBGM tests/testthat/testA_Counts.R, "dat2" and its hand-computed expectations
DAT2 = pd.DataFrame(
    {
        "drug": [
            "product_A",
            *["product_B"] * 3,
            "product_C",
            *["product_A"] * 2,
            *["product_B"] * 2,
            "product_C",
        ],
        "event": ["event_1", *["event_2"] * 2, *["event_3"] * 2, "event_2", *["event_3"] * 3, "event_1"],
        "strat1": [*["Male"] * 5, *["Female"] * 3, *["Male"] * 2],
        "strat2": [*["age_cat1"] * 5, *["age_cat1"] * 3, *["age_cat2"] * 2],
    }
)
DAT2["id"] = [str(i) for i in range(1, 11)]
HAND = {  # (drug, event): (N, E unstratified, E stratified, RR unstratified, PRR)
    ("product_A", "event_1"): (1, 0.6, 0.2, 1.6667, 2.3333),
    ("product_A", "event_2"): (1, 0.9, 0.4 + 2 / 3, 1.1111, 1.1667),
    ("product_A", "event_3"): (1, 1.5, 0.4 + 4 / 3, 0.6667, 0.5833),
    ("product_B", "event_2"): (2, 1.5, 1.2 + 1 / 3, 1.3333, 2.0),
    ("product_B", "event_3"): (3, 2.5, 1.7 + 2 / 3, 1.2, 1.5),
    ("product_C", "event_1"): (1, 0.4, 0.7, 2.5, 4.0),
    ("product_C", "event_3"): (1, 1.0, 0.9, 1.0, 1.0),
}


def _by_pair(counts):
    frame = counts.frame()
    return {(r.drug, r.event): r for r in frame.itertuples()}


def test_processraw_hand_calculation_unstratified():
    pairs = _by_pair(count_cases(DAT2))
    assert set(pairs) == set(HAND)  # zero cells are not pairs
    for key, (n, e, _, rr, _prr) in HAND.items():
        assert pairs[key].n == n
        assert pairs[key].expected == pytest.approx(e, rel=1e-12)
        assert round(n / pairs[key].expected, 4) == pytest.approx(rr)


def test_processraw_hand_calculation_stratified():
    pairs = _by_pair(count_cases(DAT2, strata=["strat1", "strat2"]))
    for key, (n, _, e_strat, _, _) in HAND.items():
        assert pairs[key].n == n
        assert pairs[key].expected == pytest.approx(e_strat, rel=1e-12)


def test_processraw_hand_calculation_prr():
    from hygeia.signals import disproportionality as dp

    counts = count_cases(DAT2)
    t = dp.TwoByTwo.from_margins(counts.n, counts.n_drug, counts.n_event, counts.n_total)
    prr = dict(zip(_by_pair(counts), dp.prr(t), strict=True))
    for key, (*_, expected) in HAND.items():
        assert round(prr[key], 4) == pytest.approx(expected)


def test_a_report_counts_once_per_pair_and_margin():
    cases = pd.DataFrame(
        {"id": ["1", "1", "1", "2"], "drug": ["X", "X", "Y", "X"], "event": ["E", "E", "E", "F"]}
    )
    counts = count_cases(cases)
    pairs = _by_pair(counts)
    assert pairs[("X", "E")].n == 1 and pairs[("X", "E")].n_drug == 2 and counts.n_total == 2
    assert counts.notes["duplicate_rows"] == 1


def test_blank_values_are_rejected_with_their_line():
    cases = pd.DataFrame({"id": ["1", "2"], "drug": ["X", " "], "event": ["E", "F"]})
    with pytest.raises(SignalDataError, match=r"cases, line 3: .*'drug'"):
        count_cases(cases)


def test_count_table_uses_table_margins():
    table = pd.DataFrame({"drug": ["X", "X", "Y", "Y"], "event": ["E", "F", "E", "F"], "n": [10, 0, 5, 85]})
    counts = count_table(table)
    pairs = _by_pair(counts)
    assert ("X", "F") not in pairs  # n = 0 is in the margins, not scored
    assert counts.n_total == 100
    assert pairs[("X", "E")].expected == pytest.approx(10 * 15 / 100)
    assert counts.notes["zero_cells"] == 1


def test_count_table_rejects_non_counts():
    with pytest.raises(SignalDataError, match="line 3"):
        count_table(pd.DataFrame({"drug": ["X", "Y"], "event": ["E", "E"], "n": ["1", "2.5"]}))


def test_stratified_expected_sums_within_strata():
    # two strata with opposite drug-event structure: stratification changes E, not N
    cases = pd.DataFrame(
        {
            "id": [str(i) for i in range(8)],
            "drug": list("XXYYXYYY"),
            "event": list("EEFFFEEE"),
            "sex": list("MMMMFFFF"),
        }
    )
    plain, strat = _by_pair(count_cases(cases)), _by_pair(count_cases(cases, ["sex"]))
    assert plain[("X", "E")].n == strat[("X", "E")].n == 2
    # stratum M: X in 2 of 4, E in 2 of 4 -> 1.0; stratum F: X in 1 of 4, E in 3 of 4 -> 0.75
    assert strat[("X", "E")].expected == pytest.approx(1.75)
    assert plain[("X", "E")].expected == pytest.approx(3 * 5 / 8)
    assert np.all(np.isfinite(count_cases(cases, ["sex"]).expected))
