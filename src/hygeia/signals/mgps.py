"""Gamma-Poisson shrinker hyperparameters by maximum likelihood, the way openEBGM's autoHyper finds them.

Model (DuMouchel 1999): N ~ Poisson(lambda * E), lambda ~ P Gamma(a1, b1) + (1 - P) Gamma(a2, b2), so
N is marginally a two-component negative-binomial mixture. Like openEBGM with its defaults
(zeroes = FALSE, N_star = 1) the fit uses pairs with N >= 1 only, with each component truncated at
zero: f*(n) = f(n) / (1 - f(0)) — the likelihood of negLL / negLLsquash. Zero cells never enter.

Search, after autoHyper: one local optimisation from each starting point; keep the converged ones
that are inside the parameter space (0 < alpha, beta < param_limit, 0 < P < 1); the candidate with
the smallest negative log-likelihood is accepted when at least `min_conv` other starts landed within
`tol` of it. openEBGM tries nlminb, then nlm, then BFGS; we try bounded L-BFGS-B on a log/logit
scale with an analytic gradient, then Nelder-Mead polishing — a different optimiser for the same
likelihood and the same acceptance rule, so the same optimum when the optimum is well defined.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import optimize, special

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
class StartResult:
    start: list[float]
    estimate: list[float]
    minimum: float
    converged: bool
    in_bounds: bool


@dataclass(frozen=True)
class FitResult:
    hyperparameters: Hyperparameters
    minimum: float  # negative log-likelihood at the estimate (same constant terms as openEBGM)
    method: str
    num_close: int
    consistent: bool  # autoHyper's acceptance rule held; False means "best effort, look at `starts`"
    points_used: int  # likelihood points after squashing
    pairs_used: int  # pairs with N >= 1 that the points stand for
    squashing: str
    starts: list[StartResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def negative_log_likelihood(theta: np.ndarray, points: WeightedPoints, n_star: int = 1) -> float:
    """-sum w log(P f1*(n) + (1-P) f2*(n)), f* truncated below n_star (openEBGM negLL/negLLsquash)."""
    return float(_objective(theta, points, n_star, gradient=False)[0])


def _component(
    alpha: float, beta: float, n: np.ndarray, e: np.ndarray, n_star: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Log truncated NB pmf and its derivatives in log(alpha) and log(beta)."""
    log_r = np.log(beta) - np.log(beta + e)  # log(beta / (beta + E))
    log_f = (
        special.gammaln(alpha + n)
        - special.gammaln(alpha)
        - special.gammaln(n + 1.0)
        + alpha * log_r
        + n * (np.log(e) - np.log(beta + e))
    )
    d_alpha = special.digamma(alpha + n) - special.digamma(alpha) + log_r
    d_beta = alpha / beta - (alpha + n) / (beta + e)
    if n_star == 1:
        log_p0 = alpha * log_r
        log_f = log_f - np.log(-np.expm1(log_p0))
        odds = 1.0 / np.expm1(-log_p0)  # p0 / (1 - p0); 0 once p0 underflows
        d_alpha = d_alpha + odds * log_r
        d_beta = d_beta + odds * alpha * e / (beta * (beta + e))
    elif n_star != 0:
        raise ValueError("n_star must be 1 (pairs with N >= 1) or 0 (zeroes included)")
    return log_f, d_alpha * alpha, d_beta * beta


def _objective(
    theta: np.ndarray, points: WeightedPoints, n_star: int, gradient: bool = True
) -> tuple[float, np.ndarray]:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _objective_terms(theta, points, n_star, gradient)


def _objective_terms(
    theta: np.ndarray, points: WeightedPoints, n_star: int, gradient: bool
) -> tuple[float, np.ndarray]:
    a1, b1, a2, b2, p = theta
    n, e, w = points.n.astype(np.float64), points.e, points.weight
    l1, g_a1, g_b1 = _component(a1, b1, n, e, n_star)
    l2, g_a2, g_b2 = _component(a2, b2, n, e, n_star)
    log_mix = np.logaddexp(np.log(p) + l1, np.log1p(-p) + l2)
    value = -float(np.dot(w, log_mix))
    if not gradient:
        return value, np.empty(0)
    r1 = np.exp(np.log(p) + l1 - log_mix)
    r2 = 1.0 - r1
    grad = -np.array(
        [
            np.dot(w, r1 * g_a1),
            np.dot(w, r1 * g_b1),
            np.dot(w, r2 * g_a2),
            np.dot(w, r2 * g_b2),
            np.dot(w, r1 - p),
        ]
    )
    return value, grad  # gradient with respect to (log a1, log b1, log a2, log b2, logit P)


def _to_theta(x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.exp(x[:4]), [special.expit(x[4])]])


def _to_x(theta: np.ndarray) -> np.ndarray:
    return np.concatenate([np.log(theta[:4]), [special.logit(theta[4])]])


def _safe_objective(x: np.ndarray, points: WeightedPoints, n_star: int) -> tuple[float, np.ndarray]:
    value, grad = _objective(_to_theta(x), points, n_star)
    if not np.isfinite(value) or not np.all(np.isfinite(grad)):
        return 1e300, np.zeros_like(x)
    return value, grad


def _run_start(
    start: np.ndarray, points: WeightedPoints, n_star: int, method: str, from_theta: np.ndarray | None = None
) -> StartResult:
    bounds = [(_LOG_LOW, _LOG_HIGH)] * 4 + [(-30.0, 30.0)]
    origin = start if from_theta is None else from_theta
    x0 = np.clip(_to_x(origin), [b[0] for b in bounds], [b[1] for b in bounds])
    if method == "lbfgsb":
        res = optimize.minimize(
            _safe_objective,
            x0,
            args=(points, n_star),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "maxfun": 5000, "ftol": 1e-15, "gtol": 1e-9},
        )
    else:
        res = optimize.minimize(
            lambda x: _safe_objective(x, points, n_star)[0],
            x0,
            method="Nelder-Mead",
            options={"maxiter": 2000, "maxfev": 2000, "xatol": 1e-10, "fatol": 1e-12},
        )
    theta = _to_theta(res.x)
    value, grad = _safe_objective(res.x, points, n_star)
    # L-BFGS-B reports a failed line search when it already sits on the optimum to machine precision;
    # a vanishing gradient is the convergence that matters (nlminb's relative convergence, likewise).
    converged = bool(res.success) or float(np.max(np.abs(grad))) <= 1e-6 * max(1.0, abs(value))
    # openEBGM asks for 0 < alpha, beta < param_limit; a bounded search can also stop *on* its lower
    # bound, which means the likelihood wants alpha or beta -> 0: outside the space, not an estimate.
    off_floor = np.all(theta[:4] > 2 * SEARCH_LOW)
    in_bounds = bool(off_floor and np.all(theta[:4] < PARAM_LIMIT) and 1e-12 < theta[4] < 1 - 1e-12)
    minimum = negative_log_likelihood(theta, points, n_star)
    return StartResult(start.tolist(), theta.tolist(), minimum, converged, in_bounds)


def _accept(results: list[StartResult], tol: tuple[float, ...], min_conv: int) -> tuple[int, int] | None:
    """autoHyper's rule: best converged in-bounds start, close to >= min_conv of the *other* starts."""
    usable = [i for i, r in enumerate(results) if r.converged and r.in_bounds]
    if len(usable) < min_conv + 1:
        return None
    best = min(usable, key=lambda i: results[i].minimum)
    chosen = np.asarray(results[best].estimate)
    close = sum(
        bool(np.all(np.abs(np.asarray(r.estimate) - chosen) < np.asarray(tol)))
        for i, r in enumerate(results)
        if i != best
    )
    return (best, close) if close >= min_conv else None


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


def fit_hyperparameters(
    n: np.ndarray,
    e: np.ndarray,
    *,
    starts: np.ndarray = DEFAULT_STARTS,
    squash: SquashMode = "auto",
    tol: tuple[float, ...] = DEFAULT_TOL,
    min_conv: int = 1,
) -> FitResult:
    """Estimate (alpha1, beta1, alpha2, beta2, P) from the observed pairs (N >= 1) and their E."""
    points, squashing = prepare_points(n, e, squash)
    if points.size == 0:
        raise ValueError("no drug-event pair with N >= 1: nothing to fit")
    results = [_run_start(np.asarray(s, float), points, 1, "lbfgsb") for s in starts]
    accepted = _accept(results, tol, min_conv)
    if accepted is not None:
        return _fit_result(results, *accepted, True, "lbfgsb", points, squashing)
    # Like autoHyper's switch to another optimiser: polish only the starts that did not converge
    # (an in-bounds failure is a property of the likelihood, not of the optimiser).
    results = [
        r
        if r.converged
        else _run_start(np.asarray(r.start), points, 1, "nelder-mead", np.asarray(r.estimate))
        for r in results
    ]
    accepted = _accept(results, tol, min_conv)
    if accepted is not None:
        return _fit_result(results, *accepted, True, "lbfgsb+nelder-mead", points, squashing)
    best = min(range(len(results)), key=lambda i: (not results[i].in_bounds, results[i].minimum))
    return _fit_result(results, best, 0, False, "best-effort", points, squashing)


def _fit_result(
    results: list[StartResult],
    best: int,
    close: int,
    consistent: bool,
    method: str,
    points: WeightedPoints,
    squashing: str,
) -> FitResult:
    return FitResult(
        Hyperparameters.of(np.asarray(results[best].estimate)),
        results[best].minimum,
        method,
        close,
        consistent,
        points.size,
        int(points.weight.sum()),
        squashing,
        results,
    )
