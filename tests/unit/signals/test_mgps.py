"""MGPS against openEBGM: its vignette's posterior scores, quantBisect, likelihood and squashing."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from hygeia.signals.autohyper import StartResult, accept, fit_hyperparameters
from hygeia.signals.mgps import (
    DEFAULT_STARTS,
    Hyperparameters,
    LikelihoodPoints,
    negative_log_likelihood,
    objective,
    to_theta,
    to_x,
)
from hygeia.signals.posterior import ebgm, posterior_quantile, posterior_weight
from hygeia.signals.squashing import SquashError, WeightedPoints, auto_squash, squash_count

# openEBGM 0.9.1 vignette "Empirical Bayes Metrics with openEBGM" (caers data): the hyperparameters
# autoHyper returned and the printed rows (N, E, Qn, EBGM, QUANT_05, QUANT_95).
VIGNETTE_THETA = Hyperparameters(3.25379356, 0.39988854, 2.02612692, 1.90807970, 0.06534557)
VIGNETTE_ROWS = [
    (1, 0.0360548272, 0.2819737, 2.23, 0.49, 13.85),
    (1, 0.0038736591, 0.3409653, 2.58, 0.52, 15.78),
    (1, 0.0002979738, 0.3482317, 2.63, 0.52, 16.02),
    (1, 0.0765792610, 0.2226356, 1.92, 0.47, 11.77),
    (1, 0.0527413588, 0.2556670, 2.09, 0.48, 12.95),
    (16, 0.40643623, None, 23.26, 15.68, 33.48),
    (19, 0.89690107, None, 16.78, 11.65, 23.55),
    (6, 0.07866508, None, 18.28, 10.16, 30.83),
    (8, 0.30482718, None, 15.25, 9.00, 24.52),
    (11, 0.56317044, None, 14.28, 8.98, 21.78),
]


def _vignette_arrays():
    n = np.array([r[0] for r in VIGNETTE_ROWS], dtype=float)
    e = np.array([r[1] for r in VIGNETTE_ROWS])
    return n, e


def test_posterior_scores_match_the_openebgm_vignette():
    n, e = _vignette_arrays()
    qn = posterior_weight(VIGNETTE_THETA, n, e)
    for row, q in zip(VIGNETTE_ROWS, qn, strict=True):
        if row[2] is not None:
            assert q == pytest.approx(row[2], abs=5e-8)
    assert ebgm(VIGNETTE_THETA, n, e, qn).tolist() == [r[3] for r in VIGNETTE_ROWS]
    assert posterior_quantile(VIGNETTE_THETA, n, e, qn, 5).tolist() == [r[4] for r in VIGNETTE_ROWS]
    assert posterior_quantile(VIGNETTE_THETA, n, e, qn, 95).tolist() == [r[5] for r in VIGNETTE_ROWS]


def _quant_bisect(h, n, e, qn, percent, digits=2):
    """A literal transcription of the quantBisect algorithm (slow, vectorised bisection)."""

    def error(x):
        x = np.maximum(x, 0)
        c1 = special.gammainc(h.alpha1 + n, (h.beta1 + e) * x)
        c2 = special.gammainc(h.alpha2 + n, (h.beta2 + e) * x)
        return qn * c1 + (1 - qn) * c2 - percent / 100

    too_big = error(np.ones_like(n)) > 0
    left, right = np.where(too_big, -1e5, 1.0), np.where(too_big, 1.0, 1e5)
    while True:
        mid = (left + right) / 2
        if np.max((right - left) / 2) < 0.5 * 10.0**-digits:
            return np.round(mid, digits)
        same = np.sign(error(left)) == np.sign(error(mid))
        left, right = np.where(same, mid, left), np.where(same, right, mid)


@pytest.mark.parametrize("percent", [5, 95, 50])
def test_quantiles_equal_quantbisect_on_random_pairs(percent):
    rng = np.random.default_rng(percent)
    n = rng.integers(1, 80, 3000).astype(float)
    e = rng.lognormal(-1.0, 2.0, 3000)
    qn = posterior_weight(VIGNETTE_THETA, n, e)
    ours = posterior_quantile(VIGNETTE_THETA, n, e, qn, percent)
    assert np.array_equal(ours, _quant_bisect(VIGNETTE_THETA, n, e, qn, percent))


@pytest.mark.parametrize("digits", [0, 1, 3, 4])
def test_quantiles_equal_quantbisect_at_other_roundings(digits):
    """The root is found only to a fraction of quantBisect's cell; the cell must still be its cell."""
    rng = np.random.default_rng(digits)
    n = rng.integers(1, 6, 4000).astype(float)
    e = rng.lognormal(-1.0, 2.5, 4000)
    qn = posterior_weight(VIGNETTE_THETA, n, e)
    for percent in (5, 95):
        ours = posterior_quantile(VIGNETTE_THETA, n, e, qn, percent, digits)
        assert np.array_equal(ours, _quant_bisect(VIGNETTE_THETA, n, e, qn, percent, digits))


def test_exact_quantiles_solve_the_mixture_cdf():
    n, e = _vignette_arrays()
    qn = posterior_weight(VIGNETTE_THETA, n, e)
    h = VIGNETTE_THETA
    q05 = posterior_quantile(h, n, e, qn, 5, digits=None)
    cdf = qn * stats.gamma.cdf(q05, h.alpha1 + n, scale=1 / (h.beta1 + e)) + (1 - qn) * stats.gamma.cdf(
        q05, h.alpha2 + n, scale=1 / (h.beta2 + e)
    )
    assert np.allclose(cdf, 0.05, atol=1e-10)


def test_truncated_likelihood_equals_direct_negative_binomial_formula():
    theta = np.array([0.7, 0.3, 3.0, 2.0, 0.3])
    n = np.array([1, 2, 5, 1, 30])
    e = np.array([0.1, 0.5, 2.0, 0.01, 10.0])
    w = np.array([3, 1, 1, 2, 1])
    f = []
    for a, b in ((theta[0], theta[1]), (theta[2], theta[3])):
        p = b / (b + e)
        f.append(stats.nbinom.pmf(n, a, p) / (1 - stats.nbinom.pmf(0, a, p)))
    direct = -np.sum(w * np.log(theta[4] * f[0] + (1 - theta[4]) * f[1]))
    assert negative_log_likelihood(theta, WeightedPoints(n, e, w)) == pytest.approx(direct, rel=1e-12)


def test_analytic_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    e = rng.lognormal(-2, 1.5, 400)
    n = rng.poisson(rng.gamma(2.0, 1.0, 400) * e) + 1
    points = WeightedPoints.unsquashed(n, e)
    x = to_x(np.array([0.7, 0.3, 3.0, 2.0, 0.3]))
    points = LikelihoodPoints.of(points)
    analytic = objective(to_theta(x), points, 1)[1]
    step = 1e-6
    numeric = [
        (
            objective(to_theta(x + step * unit), points, 1, False)[0]
            - objective(to_theta(x - step * unit), points, 1, False)[0]
        )
        / (2 * step)
        for unit in np.eye(5)
    ]
    assert np.allclose(analytic, numeric, rtol=1e-5, atol=1e-5)


def _simulate(size: int, theta: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs from the model the (openEBGM) likelihood describes: a component per pair, then N from
    that component's negative binomial given N >= 1 (rejection sampling)."""
    rng = np.random.default_rng(seed)
    e = rng.lognormal(-0.7, 1.1, size)
    first = rng.random(size) < theta[4]
    n = np.zeros(size, dtype=np.int64)
    todo = np.arange(size)
    while todo.size:
        shape = np.where(first[todo], theta[0], theta[2])
        rate = np.where(first[todo], theta[1], theta[3])
        n[todo] = rng.poisson(rng.gamma(shape, 1 / rate) * e[todo])
        todo = todo[n[todo] == 0]
    return n, e


def test_fit_recovers_simulated_hyperparameters():
    truth = np.array([0.4, 0.2, 5.0, 5.0, 0.1])  # 10% of pairs with mean RR 2 (heavy tail), 90% near 1
    n, e = _simulate(200_000, truth, seed=12)
    fit = fit_hyperparameters(n, e)
    assert fit.consistent and fit.squashing == "autoSquash"
    est = fit.hyperparameters.as_array()
    assert est == pytest.approx(truth, rel=0.15)
    # a maximum-likelihood estimate must beat the truth on the exact (unsquashed) likelihood
    exact = WeightedPoints.unsquashed(n, e)
    assert negative_log_likelihood(est, exact) <= negative_log_likelihood(truth, exact)


def test_autohyper_acceptance_rule():
    def start(estimate, minimum, converged=True, in_bounds=True):
        return StartResult([0.0] * 5, estimate, minimum, converged, in_bounds)

    near = [1.0, 0.5, 2.0, 2.0, 0.1]
    results = [start(near, 10.0), start([1.01, 0.5, 2.0, 2.0, 0.1], 10.1), start([9, 9, 9, 9, 0.9], 50)]
    assert accept(results, (0.05, 0.05, 0.2, 0.2, 0.025), 1) == (0, 1)
    lonely = [start(near, 10.0), start([3.0, 0.5, 2.0, 2.0, 0.1], 10.1)]
    assert accept(lonely, (0.05, 0.05, 0.2, 0.2, 0.025), 1) is None
    out_of_bounds = [start(near, 10.0, in_bounds=False), start(near, 10.0)]
    assert accept(out_of_bounds, (0.05, 0.05, 0.2, 0.2, 0.025), 1) is None


def test_squash_data_bins_sorted_e_and_keeps_the_largest():
    points = WeightedPoints.unsquashed(np.array([1] * 7 + [2]), np.array([7, 1, 2, 3, 4, 5, 6, 9.0]))
    squashed = squash_count(points, count=1, bin_size=2, keep_pts=2, min_bin=1, min_pts=1)
    ones = squashed.n == 1
    assert squashed.e[ones].tolist() == [1.5, 3.5, 5.0, 6.0, 7.0]
    assert squashed.weight[ones].tolist() == [2, 2, 1, 1, 1]
    assert squashed.weight.sum() == points.size
    with pytest.raises(SquashError):
        squash_count(points, count=1)  # fewer than min_pts = 500 points, as openEBGM refuses


def test_auto_squash_reproduces_the_vignette_layout():
    # openEBGM vignette ftable(autoSquash(processed)): N=1 -> 100 x w1, 1 x w6, 514 x w31;
    # N=2 -> 75 x w1, 1 x w3, 79 x w8; N=3 -> 51 x w1, 71 x w2; N=4 (80 points) untouched.
    rng = np.random.default_rng(1)
    sizes = {1: 16040, 2: 710, 3: 193, 4: 80}
    n = np.concatenate([np.full(k, v) for v, k in sizes.items()])
    points = auto_squash(WeightedPoints.unsquashed(n, rng.random(n.size)))
    layout = {
        (int(v), int(w)): int(np.sum((points.n == v) & (points.weight == w)))
        for v, w in set(zip(points.n.tolist(), points.weight.tolist(), strict=True))
    }
    assert layout == {
        (1, 1): 100,
        (1, 6): 1,
        (1, 31): 514,
        (2, 1): 75,
        (2, 3): 1,
        (2, 8): 79,
        (3, 1): 51,
        (3, 2): 71,
        (4, 1): 80,
    }


def test_default_starts_are_the_vignette_grid():
    assert DEFAULT_STARTS.shape == (5, 5)
    assert DEFAULT_STARTS[0].tolist() == pytest.approx([0.2, 0.1, 2, 4, 1 / 3])
