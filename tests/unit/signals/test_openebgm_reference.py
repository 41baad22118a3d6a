"""Hygeia against openEBGM 0.9.1 on its own CAERS data (fixtures made by R; see PROVENANCE.md).

Default rule ("consistent", autoHyper's) must reproduce openEBGM: counts exactly, hyperparameters
to well within the spread of openEBGM's own starts, EBGM/EB05/EB95 identical at its rounding.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hygeia.signals.autohyper import FitResult, NoConsistentFit, fit_points
from hygeia.signals.counts import PairCounts, count_cases
from hygeia.signals.mgps import Hyperparameters
from hygeia.signals.posterior import ebgm, posterior_quantile, posterior_weight
from hygeia.signals.squashing import WeightedPoints, squash_count

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "openebgm"
CASES = ("unstratified_unsquashed", "unstratified_squashed", "stratified_unsquashed", "stratified_squashed")
PARAMETERS = ["alpha1", "beta1", "alpha2", "beta2", "P"]


@lru_cache
def caers() -> pd.DataFrame:
    frame = pd.read_csv(FIXTURES / "caers.csv.gz", dtype=str, keep_default_na=False)
    return frame.rename(columns={"var1": "drug", "var2": "event"})


@lru_cache
def reference_hyperparameters() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "hyperparameters.csv").set_index("case")


@lru_cache
def counts_for(case: str) -> PairCounts:
    return count_cases(caers(), ["strat1"] if case.startswith("stratified") else [])


def points_for(case: str) -> WeightedPoints:
    """The likelihood points the vignette fits: all pairs, or squashData() twice."""
    counts = counts_for(case)
    points = WeightedPoints.unsquashed(counts.n, counts.expected)
    if case.endswith("_squashed"):
        points = squash_count(points)
        points = squash_count(points, count=2, bin_size=10, keep_pts=50)
    return points


def scores_for(case: str) -> pd.DataFrame:
    reference = pd.read_csv(FIXTURES / f"scores_{case}.csv.gz", keep_default_na=False)
    ours = counts_for(case).frame().rename(columns={"drug": "var1", "event": "var2"})
    return reference.merge(ours, on=["var1", "var2"], how="outer", validate="1:1", indicator=True)


@lru_cache
def fitted(case: str, rule: str = "consistent") -> FitResult:
    return fit_points(points_for(case), rule=rule)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", CASES)
def test_counts_equal_processraw(case):
    merged = scores_for(case)
    assert (merged["_merge"] == "both").all() and len(merged) == 17_189
    assert (merged["N"] == merged["n"]).all()
    assert np.allclose(merged["expected"], merged["E"], rtol=1e-12, atol=0)


@pytest.mark.parametrize("case", CASES)
def test_consistent_rule_reproduces_autohyper(case):
    reference = reference_hyperparameters().loc[case]
    points = points_for(case)
    assert points.size == reference["points"]  # same squashing layout as squashData
    fit = fitted(case)
    assert fit.rule == "consistent" and fit.consistent and fit.num_close >= 1
    ours = fit.hyperparameters.as_array()
    theirs = reference[PARAMETERS].to_numpy(float)
    # nlminb stops early: its five starts spread ~1e-2 in alpha1 on stratified data; we sit closer, but
    # where our optimiser stops moves with SciPy's release (3e-5 relative on stratified_squashed with
    # SciPy 1.17 against < 1e-5 before), so the bound is 1e-4: still 100x inside openEBGM's own spread
    assert np.allclose(ours, theirs, rtol=1e-4, atol=1e-6), (ours, theirs)
    if case == "unstratified_unsquashed":  # the values quoted in issue 13, at openEBGM's 4 digits
        assert np.round(ours, 4).tolist() == [3.2560, 0.4000, 2.0238, 1.9061, 0.0653]


@pytest.mark.parametrize("case", CASES)
def test_posterior_scores_equal_openebgm_given_its_hyperparameters(case):
    merged = scores_for(case)
    theta = reference_hyperparameters().loc[case, PARAMETERS].to_numpy(float)
    h, n, e = Hyperparameters.of(theta), merged["n"].to_numpy(float), merged["expected"].to_numpy(float)
    qn = posterior_weight(h, n, e)
    assert np.array_equal(ebgm(h, n, e, qn), merged["EBGM"].to_numpy())
    assert np.array_equal(posterior_quantile(h, n, e, qn, 5), merged["QUANT_05"].to_numpy())
    assert np.array_equal(posterior_quantile(h, n, e, qn, 95), merged["QUANT_95"].to_numpy())


@pytest.mark.parametrize("case", CASES)
def test_ebgm_and_quantiles_from_our_fit_agree_to_openebgms_rounding(case):
    """Both optimisers stop within ~1e-5 of the optimum, so a score sitting on a rounding boundary
    may round the other way: at most one unit of the last digit, on at most 0.1% of pairs."""
    fit = fitted(case)
    merged = scores_for(case)
    n, e, h = merged["n"].to_numpy(float), merged["expected"].to_numpy(float), fit.hyperparameters
    qn = posterior_weight(h, n, e)
    ours = {
        "EBGM": ebgm(h, n, e, qn),
        "QUANT_05": posterior_quantile(h, n, e, qn, 5),
        "QUANT_95": posterior_quantile(h, n, e, qn, 95),
    }
    for column, values in ours.items():
        difference = np.abs(values - merged[column].to_numpy())
        assert difference.max() <= 0.01 + 1e-9, column
        assert (difference > 1e-9).sum() <= 17, column


def test_global_rule_finds_the_better_lonely_optimum_and_says_so():
    consistent = fitted("unstratified_unsquashed")
    best = fitted("unstratified_unsquashed", "global")
    assert best.rule == "global" and best.minimum < consistent.minimum - 0.2
    assert best.hyperparameters.alpha1 > 15 and best.num_close == 0 and not best.consistent
    # the consistent fit lists the better optimum it did not choose, with its likelihood
    lonely = [a for a in consistent.alternatives if not a.chosen]
    assert lonely and lonely[0].minimum == pytest.approx(best.minimum, abs=1e-6) and lonely[0].starts == 1


def test_a_table_without_heterogeneity_has_no_consistent_optimum():
    rng = np.random.default_rng(3)
    e = rng.lognormal(0.0, 0.5, 3000)
    n = rng.poisson(e)  # every pair at RR 1: the gamma components run off towards infinite alpha/beta
    points = WeightedPoints.unsquashed(n[n >= 1], e[n >= 1])
    with pytest.raises(NoConsistentFit, match="consistent convergence failed") as refused:
        fit_points(points)
    assert len(refused.value.starts) == 15  # five starts under each of the three optimisers
