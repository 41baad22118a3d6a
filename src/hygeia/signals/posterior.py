"""Posterior scores of the gamma-Poisson shrinker: Qn, EBGM and EB05 / EB95, openEBGM-compatible.

Given N = n, lambda | n ~ Qn Gamma(a1 + n, b1 + E) + (1 - Qn) Gamma(a2 + n, b2 + E), where Qn is the
posterior weight of component 1 computed from the *untruncated* negative-binomial densities
(openEBGM's Qn(), DuMouchel 1999 eq. 6). EBGM = exp(E[log lambda]) (openEBGM's ebgm(), eq. 9-11).

Quantiles: openEBGM's quantBisect() bisects the mixture CDF on [-1e5, 1] or [1, 1e5] (chosen by the
CDF at 1) until the half-width is below 0.5 * 10^-digits, then returns the rounded midpoint. Running
~25 vectorised bisections over 10^7 pairs is slow, so we find the root to ~1e-12 with a bracketed
Newton iteration and then return the midpoint of the bisection cell that contains it: the same
number quantBisect returns, at a fraction of the cost. With digits=None the exact root is returned.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from hygeia.signals.disproportionality import gamma_quantile
from hygeia.signals.mgps import Hyperparameters

BISECT_LIMITS = (-100_000.0, 100_000.0)  # quantBisect's default search interval
_RTOL = 1e-10  # relative accuracy of exact quantiles (quantBisect's cells are ~1e-7 of the interval)


def _log_nb(alpha: float, beta: float, n: np.ndarray, e: np.ndarray) -> np.ndarray:
    return (
        special.gammaln(alpha + n)
        - special.gammaln(alpha)
        - special.gammaln(n + 1.0)
        + alpha * (np.log(beta) - np.log(beta + e))
        + n * (np.log(e) - np.log(beta + e))
    )


def posterior_weight(h: Hyperparameters, n: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Qn, computed in log space so large N cannot turn it into 0/0 (where openEBGM gives NaN)."""
    n = np.asarray(n, np.float64)
    e = np.asarray(e, np.float64)
    with np.errstate(divide="ignore"):  # P = 0 or 1 (a degenerate fit): log 0 = -inf is exact here
        log1 = np.log(h.p) + _log_nb(h.alpha1, h.beta1, n, e)
        log2 = np.log1p(-h.p) + _log_nb(h.alpha2, h.beta2, n, e)
    return np.exp(log1 - np.logaddexp(log1, log2))


def round_half_even(values: np.ndarray, digits: int | None) -> np.ndarray:
    """R's round(x, digits) for the values that occur here (IEC 60559 half-to-even)."""
    return values if digits is None else np.round(values, digits)


def ebgm(
    h: Hyperparameters, n: np.ndarray, e: np.ndarray, qn: np.ndarray, digits: int | None = 2
) -> np.ndarray:
    """Empirical Bayes geometric mean, 2^(E[log2 lambda]) as openEBGM writes it."""
    n = np.asarray(n, np.float64)
    e = np.asarray(e, np.float64)
    expectation1 = special.digamma(h.alpha1 + n) - np.log(h.beta1 + e)
    expectation2 = special.digamma(h.alpha2 + n) - np.log(h.beta2 + e)
    log_lambda = qn * expectation1 + (1.0 - qn) * expectation2
    return round_half_even(2.0 ** (log_lambda / np.log(2.0)), digits)


class _Mixture:
    """The posterior mixture CDF and density for every pair at once."""

    def __init__(self, h: Hyperparameters, n: np.ndarray, e: np.ndarray, qn: np.ndarray) -> None:
        self.qn = qn
        self.shape1, self.rate1 = h.alpha1 + n, h.beta1 + e
        self.shape2, self.rate2 = h.alpha2 + n, h.beta2 + e
        self.log_norm1 = self.shape1 * np.log(self.rate1) - special.gammaln(self.shape1)
        self.log_norm2 = self.shape2 * np.log(self.rate2) - special.gammaln(self.shape2)

    def cdf(self, x: np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
        x = np.maximum(x, 0.0)
        c1 = special.gammainc(self.shape1[idx], self.rate1[idx] * x)
        c2 = special.gammainc(self.shape2[idx], self.rate2[idx] * x)
        return self.qn[idx] * c1 + (1.0 - self.qn[idx]) * c2

    def pdf(self, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        log_x = np.log(x)
        d1 = np.exp(self.log_norm1[idx] + (self.shape1[idx] - 1) * log_x - self.rate1[idx] * x)
        d2 = np.exp(self.log_norm2[idx] + (self.shape2[idx] - 1) * log_x - self.rate2[idx] * x)
        return self.qn[idx] * d1 + (1.0 - self.qn[idx]) * d2


def _root(mix: _Mixture, p: float, rtol: float, atol: float = 0.0) -> np.ndarray:
    """Root of F(x) = p: bracketed by the two component quantiles, then safeguarded Newton.

    Starts from the geometric interpolation of the component quantiles (closer than the arithmetic
    one on these right-skewed posteriors) and stops once a step is below rtol * x + atol.
    """
    q1 = gamma_quantile(mix.shape1, mix.rate1, p)
    q2 = gamma_quantile(mix.shape2, mix.rate2, p)
    lo, hi = np.minimum(q1, q2), np.maximum(q1, q2)
    with np.errstate(divide="ignore", invalid="ignore"):
        start = np.exp(mix.qn * np.log(q1) + (1.0 - mix.qn) * np.log(q2))
    x = np.where(np.isfinite(start), np.clip(start, lo, hi), 0.5 * (lo + hi))
    active = np.flatnonzero(hi - lo > rtol * np.maximum(hi, 1e-300) + atol)
    for _ in range(100):
        if active.size == 0:
            break
        xa = x[active]
        f = mix.cdf(xa, active) - p
        hi[active] = np.where(f > 0, xa, hi[active])
        lo[active] = np.where(f <= 0, xa, lo[active])
        with np.errstate(divide="ignore", invalid="ignore"):
            step = xa - f / mix.pdf(xa, active)
        inside = (step > lo[active]) & (step < hi[active]) & np.isfinite(step)
        exact = np.abs(f) <= 4e-16  # F(x) already equals p to machine precision: x is the root
        new = np.where(exact, xa, np.where(inside, step, 0.5 * (lo[active] + hi[active])))
        x[active] = new
        # stop on a tiny step, a tiny bracket, or a CDF already equal to p to machine precision
        small = rtol * np.abs(new) + atol
        done = (np.abs(new - xa) <= small) | (hi[active] - lo[active] <= small) | exact
        active = active[~done]
    return x


def _bisection_cell_midpoint(mix: _Mixture, p: float, root: np.ndarray, digits: int) -> np.ndarray:
    """The midpoint quantBisect(percent, ..., digits) stops at, given the root to within `margin`.

    quantBisect keeps F(left) < p <= F(right): it searches [-1e5, 1] when F(1) > p, else [1, 1e5],
    and halves until the half-width is below 0.5 * 10^-digits. Its cells form a fixed grid, so the
    answer is the grid cell holding the root. Where the root is within `margin` of a cell edge (or of
    1, which picks the grid) F is evaluated there and decides, exactly as quantBisect's comparison.
    """
    tol = 0.5 * 10.0 ** (-digits)
    margin = _cell_width(tol) * _MARGIN
    too_big = root < 1.0
    near_one = np.flatnonzero(np.abs(root - 1.0) <= margin)
    if near_one.size:
        too_big[near_one] = mix.cdf(np.ones(near_one.size), near_one) - p > 0
    left = np.where(too_big, BISECT_LIMITS[0], 1.0)
    width = np.where(too_big, 1.0 - BISECT_LIMITS[0], BISECT_LIMITS[1] - 1.0)
    halvings = 0
    while float(width.max()) / 2.0 ** (halvings + 1) >= tol:
        halvings += 1
    cell = width / 2.0**halvings
    offset = (root - left) / cell
    edge = np.round(offset)
    # a root on an edge belongs to the cell on its left (quantBisect moves left only while F < p)
    index = np.ceil(offset) - 1.0
    near = np.flatnonzero(np.abs(offset - edge) * cell <= margin)
    if near.size:
        below = mix.cdf(left[near] + edge[near] * cell[near], near) < p
        index[near] = np.where(below, edge[near], edge[near] - 1.0)
    index = np.clip(index, 0.0, 2.0**halvings - 1.0)
    return left + (index + 0.5) * cell


def _cell_width(tol: float) -> float:
    """The smallest width of quantBisect's final cells for this tolerance."""
    width = BISECT_LIMITS[1] - 1.0
    while width / 2.0 >= tol:
        width /= 2.0
    return width


_MARGIN = 1e-2  # roots this close (in cells) to an edge are decided by F at the edge
_CELL_ATOL = 1e-4  # the root is found to this fraction of a cell, far inside the margin


def posterior_quantile(
    h: Hyperparameters,
    n: np.ndarray,
    e: np.ndarray,
    qn: np.ndarray,
    percent: float,
    digits: int | None = 2,
) -> np.ndarray:
    """Posterior percentile of lambda (EB05 for percent=5), as quantBisect when digits is set.

    For quantBisect's answer the root is needed only to a small fraction of its cell (F at a cell
    edge settles the few roots next to one), which saves Newton steps and the F(1) of every pair.
    """
    if not 1 <= percent <= 99:
        raise ValueError("percent must be between 1 and 99 (inclusive), as in openEBGM")
    n = np.asarray(n, np.float64)
    e = np.asarray(e, np.float64)
    mix = _Mixture(h, n, e, np.asarray(qn, np.float64))
    p = percent / 100.0
    if digits is None:
        return _root(mix, p, _RTOL)
    root = _root(mix, p, 0.0, _cell_width(0.5 * 10.0 ** (-digits)) * _CELL_ATOL)
    return round_half_even(_bisection_cell_midpoint(mix, p, root, digits), digits)
