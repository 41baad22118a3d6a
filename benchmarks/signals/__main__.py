"""Signal-detection benchmark: `python -m benchmarks.signals [--sizes 1000000 10000000]`.

Simulated drug-event tables with *known* gamma-Poisson-shrinker hyperparameters (so the fit can be
checked for parameter recovery), at 10^6 and 10^7 pairs with N >= 1:
  * hyperparameter fit (autoSquash + multi-start L-BFGS-B): seconds, recovered vs true parameters;
  * scoring throughput (PRR, chi2, ROR+CI, IC+CI, Qn, EBGM, EB05, EB95), pairs per second;
  * peak traced memory per step (tracemalloc).
`--openebgm`: Hygeia against openEBGM (R), whole process, on CAERS and a 2M-row table
(openebgm.py; R run when installed, else the recorded timing, labelled).
Baselines measured in the same run, on the same data:
  * counting case rows with a straightforward pandas groupby/nunique vs hygeia's count_cases;
  * EB05 by a literal vectorised transcription of openEBGM's quantBisect vs hygeia's bracketed Newton
    (identical output, checked);
  * EB05 by a per-pair scipy brentq loop (what a naive implementation does), on a subsample;
  * the fit on the unsquashed likelihood (one start) vs the squashed multi-start fit, at 10^6.
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from hygeia.signals import disproportionality as dp
from hygeia.signals.autohyper import _raw_start, fit_hyperparameters
from hygeia.signals.counts import PairCounts, count_cases
from hygeia.signals.mgps import Hyperparameters, LikelihoodPoints, negative_log_likelihood
from hygeia.signals.posterior import ebgm, posterior_quantile, posterior_weight
from hygeia.signals.scoring import score_counts
from hygeia.signals.squashing import WeightedPoints

TRUE_THETA = np.array([0.4, 0.2, 5.0, 5.0, 0.1])  # 10% of pairs around RR 2 (heavy tail), 90% near 1


def measure(step: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, seconds, peak MiB traced while it ran)."""
    tracemalloc.start()
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def zero_truncated_counts(expected: np.ndarray, first: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """N from the model openEBGM's likelihood describes: per pair, component k (P), then N drawn
    from component k's negative binomial given N >= 1 (lambda ~ Gamma_k, N ~ Poisson(lambda E),
    redrawn while N = 0 — exact rejection sampling of the zero-truncated negative binomial)."""
    n = np.zeros(expected.size, dtype=np.int64)
    todo = np.arange(expected.size)
    while todo.size:
        shape = np.where(first[todo], TRUE_THETA[0], TRUE_THETA[2])
        rate = np.where(first[todo], TRUE_THETA[1], TRUE_THETA[3])
        draw = rng.poisson(rng.gamma(shape, 1 / rate) * expected[todo])
        n[todo] = draw
        todo = todo[draw == 0]
    return n


def simulate_table(pairs: int, seed: int) -> PairCounts:
    """A pair table with consistent margins, E = n_drug * n_event / n_total, and known hyperparameters.

    Report counts per drug and per event are log-normal and n_total is set so the median E is 0.5 (a
    sparse table, like FAERS); distinct drug-event cells are drawn at random, and N follows the
    truncated two-component model of `zero_truncated_counts`, so the fit can be checked for recovery.
    """
    rng = np.random.default_rng(seed)
    n_events = 20_000
    n_drugs = max(int(pairs * 1.2) // n_events * 4, 50)
    drug_reports = np.ceil(rng.lognormal(4.0, 0.8, n_drugs)).astype(np.int64)
    event_reports = np.ceil(rng.lognormal(4.0, 0.8, n_events)).astype(np.int64)
    n_total = int(
        max(np.median(drug_reports) * np.median(event_reports) / 0.5, drug_reports.max(), event_reports.max())
    )
    code = np.unique(rng.integers(0, n_drugs * n_events, int(pairs * 1.3)))
    code = rng.permutation(code)[:pairs]
    drug, event = code // n_events, code % n_events
    expected = drug_reports[drug] * (event_reports[event] / n_total)
    n = zero_truncated_counts(expected, rng.random(code.size) < TRUE_THETA[4], rng)
    names_d = np.array([f"D{i}" for i in range(n_drugs)], dtype=object)
    names_e = np.array([f"E{i}" for i in range(n_events)], dtype=object)
    return PairCounts(
        names_d,
        names_e,
        drug,
        event,
        n,
        np.maximum(drug_reports[drug], n),
        np.maximum(event_reports[event], n),
        n_total,
        expected,
    )


def naive_counts(cases: pd.DataFrame) -> pd.DataFrame:
    """The textbook pandas version: nunique per group, merges, then E."""
    n = cases.groupby(["drug", "event"])["id"].nunique().rename("n").reset_index()
    n = n.merge(cases.groupby("drug")["id"].nunique().rename("n_drug"), on="drug")
    n = n.merge(cases.groupby("event")["id"].nunique().rename("n_event"), on="event")
    n["expected"] = n["n_drug"] * n["n_event"] / cases["id"].nunique()
    return n


def quant_bisect(
    h: Hyperparameters, n: np.ndarray, e: np.ndarray, qn: np.ndarray, percent: float
) -> np.ndarray:
    """openEBGM's quantBisect, transcribed literally (vectorised bisection over all pairs)."""

    def error(x: np.ndarray) -> np.ndarray:
        x = np.maximum(x, 0)
        c1 = special.gammainc(h.alpha1 + n, (h.beta1 + e) * x)
        c2 = special.gammainc(h.alpha2 + n, (h.beta2 + e) * x)
        return qn * c1 + (1 - qn) * c2 - percent / 100

    big = error(np.ones_like(e)) > 0
    left, right = np.where(big, -1e5, 1.0), np.where(big, 1.0, 1e5)
    while True:
        mid = (left + right) / 2
        if np.max((right - left) / 2) < 0.005:
            return np.round(mid, 2)
        same = np.sign(error(left)) == np.sign(error(mid))
        left, right = np.where(same, mid, left), np.where(same, right, mid)


def brentq_quantiles(
    h: Hyperparameters, n: np.ndarray, e: np.ndarray, qn: np.ndarray, p: float
) -> np.ndarray:
    out = np.empty(n.size)
    for i in range(n.size):

        def f(x: float, i: int = i) -> float:
            c1 = special.gammainc(h.alpha1 + n[i], (h.beta1 + e[i]) * x)
            c2 = special.gammainc(h.alpha2 + n[i], (h.beta2 + e[i]) * x)
            return qn[i] * c1 + (1 - qn[i]) * c2 - p

        out[i] = optimize.brentq(f, 1e-12, 1e6, xtol=1e-10)
    return out


def bench_counting(rows: int) -> None:
    rng = np.random.default_rng(5)
    cases = pd.DataFrame(
        {
            "id": rng.integers(0, rows // 3, rows).astype(str),
            "drug": pd.Series(rng.zipf(1.6, rows) % 3000).astype(str),
            "event": pd.Series(rng.zipf(1.4, rows) % 8000).astype(str),
        }
    )
    ours, t_ours, m_ours = measure(lambda: count_cases(cases))
    naive, t_naive, m_naive = measure(lambda: naive_counts(cases))
    merged = ours.frame().merge(naive, on=["drug", "event"], suffixes=("", "_naive"))
    same = len(merged) == ours.size and np.allclose(merged["expected"], merged["expected_naive"])
    print(
        f"counting {rows:,} case rows -> {ours.size:,} pairs: hygeia {t_ours:.2f} s ({m_ours:.0f} MiB), "
        f"pandas groupby/nunique {t_naive:.2f} s ({m_naive:.0f} MiB), speed-up x{t_naive / t_ours:.1f}, "
        f"identical N/E: {same}"
    )


def bench_size(pairs: int, baselines: bool) -> None:
    table, t_sim, _ = measure(lambda: simulate_table(pairs, seed=pairs % 97))
    print(f"\n== {table.size:,} pairs (simulated in {t_sim:.1f} s; true theta {TRUE_THETA.tolist()})")
    fit, t_fit, m_fit = measure(lambda: fit_hyperparameters(table.n, table.expected))
    est = fit.hyperparameters.as_array()
    print(
        f"fit: {t_fit:.2f} s, peak {m_fit:.0f} MiB, {fit.points_used:,} squashed points for "
        f"{fit.pairs_used:,} "
        f"pairs, consistent={fit.consistent}, estimate {np.round(est, 4).tolist()}"
    )
    print(
        f"  recovery: P {est[4]:.4f} vs {TRUE_THETA[4]}; component means {est[0] / est[1]:.3f} vs "
        f"{TRUE_THETA[0] / TRUE_THETA[1]:.3f} and {est[2] / est[3]:.4f} "
        f"vs {TRUE_THETA[2] / TRUE_THETA[3]:.4f}"
    )
    exact = WeightedPoints.unsquashed(table.n, table.expected)
    nll_est, nll_true = negative_log_likelihood(est, exact), negative_log_likelihood(TRUE_THETA, exact)
    print(
        f"  exact log-likelihood: estimate {-nll_est:,.2f} vs true parameters {-nll_true:,.2f} "
        f"(an MLE must not be worse; a gap in a parameter with a better likelihood is sampling error)"
    )
    from hygeia.signals.scoring import ScoringOptions

    options = ScoringOptions(hyperparameters=fit.hyperparameters)
    run, t_score, m_score = measure(lambda: score_counts(table, options))
    print(
        f"scoring (all 14 output columns + chi2): {t_score:.2f} s, {table.size / t_score:,.0f} pairs/s, "
        f"peak {m_score:.0f} MiB"
    )
    if baselines:
        _quantile_baselines(table, fit.hyperparameters, run.table)
        _fit_baseline(table, t_fit)


def _quantile_baselines(table: PairCounts, h: Hyperparameters, scored: pd.DataFrame) -> None:
    n, e = table.n.astype(float), table.expected
    qn = posterior_weight(h, n, e)
    ours, t_ours, _ = measure(lambda: posterior_quantile(h, n, e, qn, 5))
    literal, t_lit, m_lit = measure(lambda: quant_bisect(h, n, e, qn, 5))
    print(
        f"EB05, all pairs: hygeia {t_ours:.2f} s vs literal quantBisect {t_lit:.2f} s ({m_lit:.0f} MiB), "
        f"speed-up x{t_lit / t_ours:.1f}, identical: {np.array_equal(ours, literal)}"
    )
    sub = np.random.default_rng(0).choice(n.size, 5_000, replace=False)
    exact = posterior_quantile(h, n[sub], e[sub], qn[sub], 5, digits=None)
    naive, t_naive, _ = measure(lambda: brentq_quantiles(h, n[sub], e[sub], qn[sub], 0.05))
    per_pair_naive = t_naive / sub.size
    print(
        f"EB05 per-pair brentq loop: {1 / per_pair_naive:,.0f} pairs/s vs hygeia {n.size / t_ours:,.0f} "
        f"pairs/s (x{per_pair_naive * n.size / t_ours:.0f}); "
        f"max |difference| {np.max(np.abs(exact - naive)):.1e}"
    )
    _ = ebgm  # EBGM is part of the scoring timing above


def _fit_baseline(table: PairCounts, t_fit: float) -> None:
    if table.size > 2_000_000:
        return
    points = WeightedPoints.unsquashed(table.n, table.expected)
    start = np.array([0.2, 0.1, 2.0, 4.0, 1 / 3])
    likelihood = LikelihoodPoints.of(points)
    result, t_full, m_full = measure(lambda: _raw_start(start, likelihood, "bfgs", 100.0))
    print(
        f"fit baseline: one start on the unsquashed likelihood {t_full:.1f} s ({m_full:.0f} MiB) vs five "
        f"squashed starts {t_fit:.1f} s (x{t_full / t_fit:.1f}); unsquashed estimate "
        f"{np.round(result.estimate, 4).tolist()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--count-rows", type=int, default=3_000_000)
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument(
        "--openebgm",
        action="store_true",
        help="only the whole-process comparison with openEBGM (R) on CAERS and a 2M-row table",
    )
    parser.add_argument("--workdir", type=Path, default=Path("var/bench/signals"))
    args = parser.parse_args()
    if args.openebgm:
        from benchmarks.signals import openebgm

        openebgm.main(args.workdir)
        return
    bench_counting(args.count_rows)
    for size in args.sizes:
        bench_size(size, baselines=not args.no_baselines)
    _ = dp  # the disproportionality measures are timed inside score_counts


if __name__ == "__main__":
    main()
