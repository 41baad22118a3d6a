"""Signals over time: cumulative IC by period and a burst test for the latest period.

Cumulative IC (Norén et al. 2011 show IC over time as the standard BCPNN view): for every period t,
N, the margins and E are accumulated over periods <= t and IC / IC025 recomputed, so a signal's
history shows when its lower bound crossed 0.

Burst test: the pair's count in the latest period is compared with what its own history predicts,
N_prev * (reports in the latest period / reports before it); P(X >= N_last) under a Poisson with
that mean below `alpha` (default 0.01) with N_last >= 3 is a burst. A pair with no history and at
least 3 reports in the latest period is an emerging pair and also flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from hygeia.signals.counts import distinct_count, reports_per_code
from hygeia.signals.disproportionality import information_component

BURST_ALPHA = 0.01
BURST_MIN_COUNT = 3


@dataclass(frozen=True)
class PeriodTable:
    """Per pair and period: new reports and cumulative IC; periods sorted ascending."""

    periods: list[str]
    frame: pd.DataFrame  # drug, event, period, n, cum_n, cum_expected, ic, ic025


def _unique(cases: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return cases[columns].drop_duplicates()


def period_table(cases: pd.DataFrame, period: str = "quarter") -> PeriodTable:
    """Cumulative IC per pair and period from case rows with id, drug, event and a period column."""
    periods = sorted(cases[period].astype(str).unique())
    cases = cases.assign(_t=pd.Categorical(cases[period].astype(str), categories=periods).codes)
    pair_t = _unique(cases, ["id", "drug", "event", "_t"]).groupby(["drug", "event", "_t"]).size()
    grid = pair_t.unstack("_t", fill_value=0).reindex(columns=range(len(periods)), fill_value=0)
    cum_n = grid.cumsum(axis=1)
    drug_t = _cumulative_margin(cases, "drug", len(periods))
    event_t = _cumulative_margin(cases, "event", len(periods))
    total_t = np.cumsum(np.bincount(_unique(cases, ["id", "_t"])["_t"], minlength=len(periods)))
    drugs, events = grid.index.get_level_values(0), grid.index.get_level_values(1)
    cum_e = drug_t.loc[drugs].to_numpy() * event_t.loc[events].to_numpy() / np.maximum(total_t, 1)
    long = pd.DataFrame(
        {
            "drug": np.repeat(drugs.to_numpy(), len(periods)),
            "event": np.repeat(events.to_numpy(), len(periods)),
            "period": np.tile(periods, len(grid)),
            "n": grid.to_numpy().ravel(),
            "cum_n": cum_n.to_numpy().ravel(),
            "cum_expected": cum_e.ravel(),
        }
    )
    long["ic"], long["ic025"], _ = information_component(
        long["cum_n"].to_numpy(), long["cum_expected"].to_numpy()
    )
    return PeriodTable(periods, long)


def _cumulative_margin(cases: pd.DataFrame, column: str, n_periods: int) -> pd.DataFrame:
    counts = _unique(cases, ["id", column, "_t"]).groupby([column, "_t"]).size().unstack("_t", fill_value=0)
    return counts.reindex(columns=range(n_periods), fill_value=0).cumsum(axis=1)


def burst_flags(table: PeriodTable, alpha: float = BURST_ALPHA) -> pd.DataFrame:
    """Per pair: latest-period count, its expectation from history, Poisson p-value, burst flag."""
    frame = table.frame
    if len(table.periods) < 1:
        return pd.DataFrame(columns=["drug", "event", "n_last", "expected_last", "p_burst", "burst"])
    last = frame[frame["period"] == table.periods[-1]].set_index(["drug", "event"])
    before = last["cum_n"] - last["n"]
    totals = frame.groupby("period")["n"].sum()  # pair-report volume per period as the exposure proxy
    volume_last = float(totals.get(table.periods[-1], 0))
    volume_before = float(totals.sum() - volume_last)
    expected = before * (volume_last / volume_before) if volume_before > 0 else before * 0.0
    p_value = np.where(expected > 0, stats.poisson.sf(last["n"] - 1, np.maximum(expected, 1e-300)), 0.0)
    emerging = (before == 0) & (last["n"] >= BURST_MIN_COUNT)
    burst = ((p_value < alpha) & (last["n"] >= BURST_MIN_COUNT)) | emerging
    return pd.DataFrame(
        {"n_last": last["n"], "expected_last": expected, "p_burst": p_value, "burst": burst}
    ).reset_index()


def ic025_change(table: PeriodTable) -> pd.DataFrame:
    """IC025 now minus IC025 one period earlier: a rising lower bound is a strengthening signal."""
    if len(table.periods) < 2:
        return pd.DataFrame(columns=["drug", "event", "ic025_change"])
    frame = table.frame
    now = frame[frame["period"] == table.periods[-1]].set_index(["drug", "event"])["ic025"]
    prev = frame[frame["period"] == table.periods[-2]].set_index(["drug", "event"])["ic025"]
    return (now - prev).rename("ic025_change").reset_index()


def latest_period_trend(
    report: np.ndarray,
    drug: np.ndarray,
    event: np.ndarray,
    pair: np.ndarray,
    period: np.ndarray,
    n_periods: int,
    alpha: float = BURST_ALPHA,
) -> tuple[np.ndarray, np.ndarray]:
    """Burst flag and IC025 change per pair from coded rows: the numbers `burst_flags` and
    `ic025_change` give over a `period_table`, without its pairs x periods grid.

    Rows are distinct (report, drug, event) codes; `pair` numbers their pairs 0..P-1 and `period` is
    the report's period (0..n_periods-1 in sorted order). Only the latest period and the one before
    matter, and sums up to the one before are the totals minus the latest period, so a 10^8-row
    history needs a few arrays of P, not a P x periods grid.
    """
    n_pairs = int(pair.max()) + 1 if pair.size else 0
    latest = period == n_periods - 1
    n_all = np.bincount(pair, minlength=n_pairs)
    n_last = np.bincount(pair[latest], minlength=n_pairs)
    before = n_all - n_last
    volume_last = float(np.count_nonzero(latest))
    volume_before = float(pair.size) - volume_last
    expected = before * (volume_last / volume_before) if volume_before > 0 else before * 0.0
    p_value = np.where(expected > 0, stats.poisson.sf(n_last - 1, np.maximum(expected, 1e-300)), 0.0)
    emerging = (before == 0) & (n_last >= BURST_MIN_COUNT)
    burst = ((p_value < alpha) & (n_last >= BURST_MIN_COUNT)) | emerging
    if n_periods < 2:
        return burst, np.zeros(n_pairs)
    pair_drug, pair_event = np.zeros(n_pairs, np.int64), np.zeros(n_pairs, np.int64)
    pair_drug[pair], pair_event[pair] = drug, event
    coded = (report, drug, event, pair_drug, pair_event)
    now = _cumulative_ic025(n_all, *coded, np.ones(pair.size, bool))
    return burst, now - _cumulative_ic025(before, *coded, ~latest)


def _cumulative_ic025(
    n: np.ndarray,
    report: np.ndarray,
    drug: np.ndarray,
    event: np.ndarray,
    pair_drug: np.ndarray,
    pair_event: np.ndarray,
    rows: np.ndarray,
) -> np.ndarray:
    """IC025 of every pair over the selected rows' reports, margins as distinct reports."""
    kept = report[rows]
    drug_reports = reports_per_code(kept, drug[rows], int(pair_drug.max()) + 1, already_sorted=False)
    event_reports = reports_per_code(kept, event[rows], int(pair_event.max()) + 1, already_sorted=False)
    total = distinct_count(kept)  # rows come sorted by report
    expected = drug_reports[pair_drug] * event_reports[pair_event] / max(total, 1)
    return information_component(n, expected)[1]
