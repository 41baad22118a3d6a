"""One call from counts to the scored pair table: disproportionality, hyperparameter fit, EB scores.

Used by the CLI, the service's background job and the benchmarks, so all three compute the same
numbers. EBGM / EB05 / EB95 follow openEBGM's ebScores() defaults (digits = 2, quantBisect); pass
digits=None for unrounded values and exact quantiles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from hygeia.signals import disproportionality as dp
from hygeia.signals import fit_report
from hygeia.signals.autohyper import FitResult, FitRule, NoConsistentFit, fit_hyperparameters
from hygeia.signals.columnar import write_table
from hygeia.signals.counts import CaseTable, PairCounts, count_cases, count_table
from hygeia.signals.mgps import DEFAULT_STARTS, Hyperparameters, SquashMode
from hygeia.signals.posterior import ebgm, posterior_quantile, posterior_weight

OUTPUT_COLUMNS = (
    "drug",
    "event",
    "n",
    "expected",
    "prr",
    "ror",
    "ror_lower",
    "ror_upper",
    "ic",
    "ic025",
    "ic975",
    "ebgm",
    "eb05",
    "eb95",
)
# What `hygeia signals score` writes: the statistics above plus the Yates chi-square that `rank`'s
# Evans criterion (PRR >= 2 and chi2 >= 4 and N >= 3) needs, so score -> rank works on the file.
SCORED_COLUMNS = (*OUTPUT_COLUMNS, "chi2")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ScoringOptions:
    strata: tuple[str, ...] = ()
    digits: int | None = 2  # openEBGM's default rounding of EBGM and its quantiles
    squash: SquashMode = "auto"
    fit_rule: FitRule = "consistent"  # openEBGM's autoHyper acceptance rule; "global": best single start
    starts: np.ndarray = field(default_factory=lambda: DEFAULT_STARTS.copy())
    hyperparameters: Hyperparameters | None = None  # reuse a fit instead of estimating one
    hyperparameters_source: str = "given by the caller"


@dataclass
class ScoredRun:
    table: pd.DataFrame  # OUTPUT_COLUMNS plus chi2, n_drug, n_event
    hyperparameters: Hyperparameters | None  # None: no consistent optimum, MGPS not reported
    fit: FitResult | None
    n_total: int
    notes: dict[str, Any]
    fit_section: dict[str, Any] = field(default_factory=dict)  # fit_report: rule, agreement, alternatives

    def summary(self) -> dict[str, Any]:
        """What a person (or the job record) needs to trust the run: the fit and the counts."""
        return {
            "hyperparameters": None if self.hyperparameters is None else self.hyperparameters.__dict__,
            "fit": self.fit_section,
            "pairs": len(self.table),
            "reports": self.n_total,
            "notes": self.notes,
        }

    def fit_rows(self) -> list[dict[str, Any]]:
        """The fit summary as CSV rows (chosen estimate, each start, each distinct optimum)."""
        return fit_report.summary_rows(self.fit_section, self.summary()["hyperparameters"])


def _silent(_fraction: float, _message: str) -> None:
    return None


def score_counts(
    counts: PairCounts, options: ScoringOptions | None = None, progress: Progress = _silent
) -> ScoredRun:
    options = options or ScoringOptions()
    table = counts.frame()
    t = dp.TwoByTwo.from_margins(counts.n, counts.n_drug, counts.n_event, counts.n_total)
    table["prr"] = dp.prr(t)
    table["chi2"] = dp.chi_square_yates(t)
    table["ror"], table["ror_lower"], table["ror_upper"] = dp.ror_with_ci(t)
    table["ic"], table["ic025"], table["ic975"] = dp.information_component(counts.n, counts.expected)
    progress(0.3, f"disproportionality for {counts.size:,} pairs")
    fit, hyper, section = _prior(counts, options)
    progress(0.6, "hyperparameters fitted" if hyper is not None else "no consistent MGPS optimum")
    if hyper is None:
        for column in ("ebgm", "eb05", "eb95"):
            table[column] = np.nan
    else:
        qn = posterior_weight(hyper, counts.n, counts.expected)
        table["ebgm"] = ebgm(hyper, counts.n, counts.expected, qn, options.digits)
        table["eb05"] = posterior_quantile(hyper, counts.n, counts.expected, qn, 5, options.digits)
        progress(0.8, "EB05 computed")
        table["eb95"] = posterior_quantile(hyper, counts.n, counts.expected, qn, 95, options.digits)
    table = table[[*OUTPUT_COLUMNS, "chi2", "n_drug", "n_event"]]
    if not _in_name_order(counts):
        table = table.sort_values(["drug", "event"], kind="stable").reset_index(drop=True)
    progress(1.0, "scored")
    return ScoredRun(table, hyper, fit, counts.n_total, dict(counts.notes), section)


def _in_name_order(counts: PairCounts) -> bool:
    """Counting numbers drugs and events in name order and returns pairs sorted by code, so the
    table is usually in (drug, event) order already and needs no sort of 10^6 strings."""
    pair = counts.drug * max(counts.event_names.size, 1) + counts.event
    names_sorted = all(
        bool(np.all(names[:-1] < names[1:])) for names in (counts.drug_names, counts.event_names)
    )
    return names_sorted and bool(np.all(pair[1:] > pair[:-1]))


def _prior(
    counts: PairCounts, options: ScoringOptions
) -> tuple[FitResult | None, Hyperparameters | None, dict[str, Any]]:
    """The stated prior, or the fitted one, or — no consistent optimum — none, said so in the summary."""
    if options.hyperparameters is not None:
        stated = fit_report.stated_fit(options.hyperparameters, options.hyperparameters_source)
        return None, options.hyperparameters, stated
    try:
        fit = fit_hyperparameters(
            counts.n, counts.expected, rule=options.fit_rule, starts=options.starts, squash=options.squash
        )
    except NoConsistentFit as refusal:
        return None, None, fit_report.refused_fit(refusal, options.fit_rule)
    return fit, fit.hyperparameters, fit_report.accepted_fit(fit)


def score_cases(
    cases: CaseTable,
    options: ScoringOptions | None = None,
    progress: Progress = _silent,
    source: str = "cases",
) -> ScoredRun:
    options = options or ScoringOptions()
    counts = count_cases(cases, options.strata, source=source)
    progress(0.1, f"counted {counts.size:,} drug-event pairs in {counts.n_total:,} reports")
    return score_counts(counts, options, progress)


def score_count_table(
    table: pd.DataFrame, options: ScoringOptions | None = None, source: str = "counts"
) -> ScoredRun:
    return score_counts(count_table(table, source=source), options)


def write_output(run: ScoredRun, path: str, columns: Sequence[str] = SCORED_COLUMNS) -> None:
    """The CLI contract: exactly these columns, one row per pair with N > 0; NaN as an empty cell.

    CSV (spreadsheet-safe), gzip CSV or Parquet by the path's suffix (columnar.py).
    """
    write_table(run.table, path, columns)
