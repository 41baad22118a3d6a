"""The gamma-Poisson shrinker's likelihood, exactly as openEBGM writes it, and the points it sums over.

Model (DuMouchel 1999): N ~ Poisson(lambda * E), lambda ~ P Gamma(a1, b1) + (1 - P) Gamma(a2, b2), so
N is marginally a two-component negative-binomial mixture. Like openEBGM with its defaults
(zeroes = FALSE, N_star = 1) the fit uses pairs with N >= 1 only, with each component truncated at
zero: f*(n) = f(n) / (1 - f(0)) — the likelihood of negLL / negLLsquash. Zero cells never enter.

The search for the maximum (autoHyper's acceptance rule, or the global optimum) is in autohyper.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import special

from hygeia.signals.squashing import SquashError, WeightedPoints, auto_squash

# openEBGM's posterior-calculation vignette starting points (five rows, columns a1 b1 a2 b2 P).
DEFAULT_STARTS = np.array(
    [
        [0.2, 0.1, 2.0, 4.0, 1 / 3],
        [0.1, 0.1, 10.0, 10.0, 0.2],
        [0.3, 0.5, 6.0, 6.0, 0.5],
        [0.5, 0.3, 12.0, 12.0, 0.8],
        [0.2, 0.2, 5.0, 5.0, 0.4],
    ]
)
DEFAULT_TOL = (0.05, 0.05, 0.2, 0.2, 0.025)  # autoHyper's closeness tolerances
PARAM_LIMIT = 100.0  # autoHyper's param_limit
MAX_UNSQUASHED = 20_000  # autoHyper's max_pts: above it openEBGM requires squashed data
SEARCH_LOW, SEARCH_HIGH = 1e-6, 1e5  # box of the bounded search on alpha and beta
_LOG_LOW, _LOG_HIGH = np.log(SEARCH_LOW), np.log(SEARCH_HIGH)
SquashMode = Literal["auto", "none", "autosquash"]


@dataclass(frozen=True)
class Hyperparameters:
    alpha1: float
    beta1: float
    alpha2: float
    beta2: float
    p: float

    def as_array(self) -> np.ndarray:
        return np.array([self.alpha1, self.beta1, self.alpha2, self.beta2, self.p])

    @classmethod
    def of(cls, theta: np.ndarray) -> Hyperparameters:
        return cls(*(float(v) for v in theta))


@dataclass(frozen=True)
class LikelihoodPoints:
    """Weighted points with what every likelihood evaluation reuses precomputed.

    N takes few distinct values, so gammaln/digamma of (alpha + N) are computed once per distinct N
    and gathered, instead of once per point. Points with the same (N, E) have the same likelihood
    term, so they are merged into one point carrying their summed weight — exact, not squashing: on
    CAERS 17,189 pairs are 1,865 distinct (N, E), and every evaluation of the fit is 9x cheaper.
    """

    n: np.ndarray  # float64
    e: np.ndarray
    weight: np.ndarray  # float64
    levels: np.ndarray  # distinct N values (float64)
    level_of: np.ndarray  # index into levels per point
    constant: np.ndarray  # N log E - log N!: the part of log f that no parameter touches
    recent: dict[bytes, tuple[float, np.ndarray]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, points: WeightedPoints) -> LikelihoodPoints:
        n, e, weight = _merged(points)
        levels, level_of = np.unique(n, return_inverse=True)
        constant = n * np.log(e) - special.gammaln(n + 1.0)
        return cls(n, e, weight, levels, level_of, constant)


def _merged(points: WeightedPoints) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(N, E, summed weight) per distinct (N, E), ordered by N then E."""
    n = np.asarray(points.n, np.float64)
    e = np.asarray(points.e, np.float64)
    weight = np.asarray(points.weight, np.float64)
    order = np.lexsort((e, n))
    n, e, weight = n[order], e[order], weight[order]
    new = np.ones(n.size, bool)
    new[1:] = (n[1:] != n[:-1]) | (e[1:] != e[:-1])
    starts = np.flatnonzero(new)
    return n[starts], e[starts], np.add.reduceat(weight, starts) if starts.size else weight


def negative_log_likelihood(theta: np.ndarray, points: WeightedPoints, n_star: int = 1) -> float:
    """-sum w log(P f1*(n) + (1-P) f2*(n)), f* truncated below n_star (openEBGM negLL/negLLsquash)."""
    return float(objective(np.asarray(theta, float), LikelihoodPoints.of(points), n_star, False)[0])


def _component(
    alpha: float, beta: float, pts: LikelihoodPoints, n_star: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log truncated NB pmf and its derivatives in log(alpha) and log(beta)."""
    beta_e = beta + pts.e
    log_beta_e = np.log(beta_e)
    log_r = np.log(beta) - log_beta_e  # log(beta / (beta + E))
    ratio = special.gammaln(alpha + pts.levels) - special.gammaln(alpha)
    log_f = ratio[pts.level_of] + pts.constant + alpha * log_r - pts.n * log_beta_e
    d_ratio = special.digamma(alpha + pts.levels) - special.digamma(alpha)
    d_alpha = d_ratio[pts.level_of] + log_r
    d_beta = alpha / beta - (alpha + pts.n) / beta_e
    if n_star == 1:
        not_zero = -np.expm1(alpha * log_r)  # 1 - f(0), accurate when f(0) is near 1
        log_f -= np.log(not_zero)
        # f(0) / (1 - f(0)); f(0) = 1 - (1 - f(0)) loses only digits that f(0) < 1e-16 never needs
        odds = (1.0 - not_zero) / not_zero
        d_alpha += odds * log_r
        d_beta += odds * alpha * pts.e / (beta * beta_e)
    elif n_star != 0:
        raise ValueError("n_star must be 1 (pairs with N >= 1) or 0 (zeroes included)")
    return log_f, d_alpha * alpha, d_beta * beta


def objective(
    theta: np.ndarray, points: LikelihoodPoints, n_star: int = 1, gradient: bool = True
) -> tuple[float, np.ndarray]:
    """Negative log-likelihood and its gradient in (log a1, log b1, log a2, log b2, logit P).

    The last few results are remembered per point set: an optimiser's start, its final point and the
    convergence check ask for the same theta, and each evaluation is a pass over every point.
    """
    if not gradient or n_star != 1:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return _objective_terms(theta, points, n_star, gradient)
    key = np.asarray(theta, np.float64).tobytes()
    if key not in points.recent:
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            value, grad = _objective_terms(theta, points, n_star, gradient)
        if len(points.recent) >= _RECENT:
            points.recent.pop(next(iter(points.recent)))
        points.recent[key] = (value, grad)
    value, grad = points.recent[key]
    return value, grad.copy()


_RECENT = 4


def _objective_terms(
    theta: np.ndarray, points: LikelihoodPoints, n_star: int, gradient: bool
) -> tuple[float, np.ndarray]:
    a1, b1, a2, b2, p = theta
    w = points.weight
    l1, g_a1, g_b1 = _component(a1, b1, points, n_star)
    l2, g_a2, g_b2 = _component(a2, b2, points, n_star)
    log_mix, r1 = _log_mixture(np.log(p) + l1, np.log1p(-p) + l2)
    value = -_weighted_sum(w, log_mix)
    if not gradient:
        return value, np.empty(0)
    r2 = 1.0 - r1
    terms = (r1 * g_a1, r1 * g_b1, r2 * g_a2, r2 * g_b2, r1 - p)
    return value, -np.array([_weighted_sum(w, t) for t in terms])


def _log_mixture(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """log(e^first + e^second) and the first term's share, from one exp and one log1p per point
    (np.logaddexp and a separate exp for the share cost three times as much on the fit's hot path)."""
    difference = first - second
    tail = np.exp(-np.abs(difference))
    log_mix = np.maximum(first, second) + np.log1p(tail)
    share = np.where(difference >= 0, 1.0, tail) / (1.0 + tail)
    return log_mix, share


def _weighted_sum(w: np.ndarray, values: np.ndarray) -> float:
    """sum(w * values) without BLAS: a threaded ddot on a busy machine costs 100x its work."""
    return float(np.add.reduce(w * values))


def to_theta(x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.exp(x[:4]), [special.expit(x[4])]])


def to_x(theta: np.ndarray) -> np.ndarray:
    return np.concatenate([np.log(theta[:4]), [special.logit(theta[4])]])


def prepare_points(
    n: np.ndarray, e: np.ndarray, squash: SquashMode = "auto", max_unsquashed: int = MAX_UNSQUASHED
) -> tuple[WeightedPoints, str]:
    """The likelihood points: pairs with N >= 1, squashed when there are too many to fit directly.

    "auto" fits the exact (unsquashed) likelihood up to openEBGM's max_pts of 20,000 points and uses
    autoSquash above it, because squashing only ever approximates the exact likelihood.
    """
    n, e = np.asarray(n, np.int64), np.asarray(e, np.float64)
    keep = n >= 1
    points = WeightedPoints.unsquashed(n[keep], e[keep])
    if squash == "none" or (squash == "auto" and points.size <= max_unsquashed):
        return points, "none"
    try:
        return auto_squash(points), "autoSquash"
    except SquashError as exc:
        return points, f"none ({exc})"
