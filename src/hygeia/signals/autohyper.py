"""Choosing the MGPS hyperparameters from several starts: openEBGM's autoHyper rule, or the global optimum.

Rule "consistent" (the default, openEBGM's autoHyper exactly): run one local optimisation from each
starting point; among the converged starts inside the parameter space (0 < alpha, beta < param_limit,
0 < P < 1) take the one with the smallest negative log-likelihood; accept it only when at least
`min_conv` of the *other* starts (converged or not) landed within `tol` of it, element by element.
Otherwise try the next optimiser; when every optimiser fails there is no consistent optimum and the
fit is refused (NoConsistentFit) rather than silently replaced by a best effort.

openEBGM's optimisers are R's nlminb, nlm and optim(BFGS), all on the raw parameters from the raw
starting values. Python has none of the first two, so the sequence here is quasi-Newton BFGS,
L-BFGS-B and Nelder-Mead, each on the raw parameters too: the scale decides which local optimum a
start falls into, and on the raw scale the starts land where openEBGM's do (CAERS: all five on
alpha1 3.256; see tests/fixtures/openebgm).

Rule "global": the better-likelihood single-start optimum (bounded L-BFGS-B on a log/logit scale
from each start), whether or not another start agrees. On CAERS it is 0.27 log-likelihood units
better than openEBGM's answer but reached by 1 start of 5 — a valid choice that must be asked for.

Whatever the rule, the result names it, says how many starts agreed, and lists every distinct optimum
either search reached with its negative log-likelihood, so the alternative is never hidden.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import optimize
from threadpoolctl import threadpool_limits

from hygeia.signals.errors import SignalDataError
from hygeia.signals.mgps import (
    _LOG_HIGH,
    _LOG_LOW,
    DEFAULT_STARTS,
    DEFAULT_TOL,
    PARAM_LIMIT,
    SEARCH_LOW,
    Hyperparameters,
    LikelihoodPoints,
    SquashMode,
    WeightedPoints,
    objective,
    prepare_points,
    to_theta,
    to_x,
)

FitRule = Literal["consistent", "global"]
FIT_RULES: tuple[str, ...] = ("consistent", "global")
CONSISTENT_OPTIMISERS = ("bfgs", "l-bfgs-b", "nelder-mead")  # in place of nlminb, nlm, optim(BFGS)
GLOBAL_OPTIMISER = "log-l-bfgs-b"
_GRADIENT_TOLERANCE = 1e-5  # converged when |d NLL / d log(theta)| <= this x max(1, NLL)


@dataclass(frozen=True)
class StartResult:
    start: list[float]
    estimate: list[float]
    minimum: float
    converged: bool
    in_bounds: bool
    optimiser: str = GLOBAL_OPTIMISER


@dataclass(frozen=True)
class Optimum:
    """A distinct optimum the starts reached: how good it is and how many starts found it."""

    estimate: list[float]
    minimum: float
    starts: int
    optimiser: str
    chosen: bool


@dataclass(frozen=True)
class FitResult:
    hyperparameters: Hyperparameters
    minimum: float  # negative log-likelihood at the estimate (same constant terms as openEBGM)
    rule: str  # "consistent" (autoHyper's acceptance rule) or "global" (best single start)
    method: str  # the optimiser whose starts gave the estimate
    num_close: int  # other starts within `tol` of the estimate (autoHyper's num_close)
    consistent: bool  # num_close >= min_conv: autoHyper would accept this estimate
    points_used: int  # likelihood points after squashing
    pairs_used: int  # pairs with N >= 1 that the points stand for
    squashing: str
    starts: list[StartResult] = field(default_factory=list)
    alternatives: list[Optimum] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class NoConsistentFit(SignalDataError):
    """autoHyper's "consistent convergence failed": no optimum that two starts agree on."""

    def __init__(self, message: str, starts: list[StartResult]) -> None:
        super().__init__(message)
        self.starts = starts


def _converged(success: bool, x_gradient: np.ndarray, value: float) -> bool:
    """The optimiser's own verdict, or a vanishing gradient (a line search that stops *at* the optimum
    reports failure; nlminb's "relative convergence" is likewise a success)."""
    flat = float(np.max(np.abs(x_gradient))) <= _GRADIENT_TOLERANCE * max(1.0, abs(value))
    return bool(success) or (np.isfinite(value) and flat)


def _inside(theta: np.ndarray, param_limit: float) -> bool:
    """exploreHypers' in_bounds: 0 < alpha, beta < param_limit and 0 < P < 1."""
    return bool(np.all(theta[:4] > 0) and np.all(theta[:4] < param_limit) and 0 < theta[4] < 1)


def _raw_objective(theta: np.ndarray, points: LikelihoodPoints) -> tuple[float, np.ndarray]:
    """NLL and gradient on the raw parameters; outside the space a wall the line search backs off."""
    if np.any(theta[:4] <= 0) or not 0 < theta[4] < 1:
        return 1e300, np.zeros(5)
    value, x_grad = objective(theta, points)
    if not np.isfinite(value) or not np.all(np.isfinite(x_grad)):
        return 1e300, np.zeros(5)
    return value, x_grad / np.concatenate([theta[:4], [theta[4] * (1 - theta[4])]])


def _first_step_scale(start: np.ndarray, points: LikelihoodPoints) -> tuple[np.ndarray, float]:
    """BFGS's initial inverse Hessian, scaled so the first step changes each parameter by at most
    ~half its size (nlminb scales its steps likewise). With the identity, the first step on a
    10^5-NLL table jumps far outside the parameter space and the line search gives up at the start.
    Also returns the NLL's size at the start, which sets the stopping gradient.
    """
    scale = np.concatenate([start[:4], [start[4] * (1 - start[4])]])
    value, x_gradient = objective(start, points)
    largest = float(np.max(np.abs(x_gradient))) if np.all(np.isfinite(x_gradient)) else 1.0
    size = abs(value) if np.isfinite(value) else 1.0
    return np.diag(scale**2) * (0.5 / max(1.0, largest)), max(1.0, size)


def _raw_start(start: np.ndarray, points: LikelihoodPoints, method: str, limit: float) -> StartResult:
    """One local optimisation on the raw parameters, like exploreHypers does with nlminb/nlm/BFGS."""
    if method == "bfgs":
        scale, size = _first_step_scale(start, points)
        # gradients grow with the table, so the stopping gradient does too (2.5e-7 per NLL unit:
        # on CAERS the same estimate to 1e-5 as scipy's absolute 1e-5, in 45% fewer evaluations)
        options = {"maxiter": 500, "hess_inv0": scale, "gtol": max(1e-5, 2.5e-7 * size)}
        res = optimize.minimize(_raw_objective, start, (points,), "BFGS", jac=True, options=options)
    elif method == "l-bfgs-b":
        bounds = [(1e-12, None)] * 4 + [(1e-12, 1 - 1e-12)]
        res = optimize.minimize(_raw_objective, start, (points,), "L-BFGS-B", jac=True, bounds=bounds)
    else:
        res = optimize.minimize(
            lambda t: _raw_objective(t, points)[0],
            start,
            method="Nelder-Mead",
            options={"maxiter": 2000, "maxfev": 4000, "xatol": 1e-8, "fatol": 1e-10},
        )
    theta = np.asarray(res.x, float)
    value, _ = _raw_objective(theta, points)
    if value >= 1e300:
        return StartResult(start.tolist(), theta.tolist(), float("inf"), False, False, method)
    x_grad = objective(theta, points)[1]
    converged = _converged(res.success, x_grad, value)
    return StartResult(start.tolist(), theta.tolist(), value, converged, _inside(theta, limit), method)


def _log_start(start: np.ndarray, points: LikelihoodPoints, limit: float) -> StartResult:
    """Bounded L-BFGS-B on (log alpha, log beta, logit P): finds the better optimum more often."""

    def safe(x: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = objective(to_theta(x), points)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros_like(x)
        return value, grad

    bounds = [(_LOG_LOW, _LOG_HIGH)] * 4 + [(-30.0, 30.0)]
    x0 = np.clip(to_x(start), [b[0] for b in bounds], [b[1] for b in bounds])
    # ftol/gtol: the same optimum as 1e-15/1e-9 to 4 decimals on CAERS, in half the evaluations
    options = {"maxiter": 2000, "maxfun": 5000, "ftol": 1e-12, "gtol": 1e-7}
    res = optimize.minimize(safe, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=options)
    theta = to_theta(res.x)
    value, grad = safe(res.x)
    # stopping *on* the box floor means the likelihood wants alpha or beta -> 0: not an estimate
    in_bounds = bool(np.all(theta[:4] > 2 * SEARCH_LOW) and _inside(theta, limit) and theta[4] > 1e-12)
    return StartResult(start.tolist(), theta.tolist(), value, _converged(res.success, grad, value), in_bounds)


def num_close(results: list[StartResult], chosen: int, tol: tuple[float, ...]) -> int:
    """autoHyper's count: other starts (any, NaN excluded) within tol of the chosen estimate."""
    target = np.asarray(results[chosen].estimate)
    return sum(
        bool(np.all(np.abs(np.asarray(r.estimate) - target) < np.asarray(tol)))
        for i, r in enumerate(results)
        if i != chosen
    )


def _best_usable(results: list[StartResult]) -> int | None:
    usable = [i for i, r in enumerate(results) if r.converged and r.in_bounds]
    return min(usable, key=lambda i: results[i].minimum) if usable else None


def accept(results: list[StartResult], tol: tuple[float, ...], min_conv: int) -> tuple[int, int] | None:
    """autoHyper's rule: the best converged in-bounds start, close to >= min_conv of the others."""
    if sum(r.converged and r.in_bounds for r in results) < min_conv + 1:
        return None
    best = _best_usable(results)
    assert best is not None
    close = num_close(results, best, tol)
    return (best, close) if close >= min_conv else None


def distinct_optima(
    results: list[StartResult], tol: tuple[float, ...], chosen: list[float] | None
) -> list[Optimum]:
    """Group usable starts whose estimates lie within tol of each other, best likelihood first."""
    usable = sorted((r for r in results if r.converged and r.in_bounds), key=lambda r: r.minimum)
    groups: list[list[StartResult]] = []
    for result in usable:
        home = next((g for g in groups if _close(g[0].estimate, result.estimate, tol)), None)
        groups.append([result]) if home is None else home.append(result)
    return [
        Optimum(
            g[0].estimate,
            g[0].minimum,
            len(g),
            g[0].optimiser,
            chosen is not None and _close(g[0].estimate, chosen, tol),
        )
        for g in groups
    ]


def _close(a: list[float], b: list[float], tol: tuple[float, ...]) -> bool:
    return bool(np.all(np.abs(np.asarray(a) - np.asarray(b)) < np.asarray(tol)))


Search = Callable[[np.ndarray], StartResult]


def fit_hyperparameters(
    n: np.ndarray,
    e: np.ndarray,
    *,
    rule: FitRule = "consistent",
    starts: np.ndarray = DEFAULT_STARTS,
    squash: SquashMode = "auto",
    tol: tuple[float, ...] = DEFAULT_TOL,
    min_conv: int = 1,
    param_limit: float = PARAM_LIMIT,
) -> FitResult:
    """Estimate (alpha1, beta1, alpha2, beta2, P) from the observed pairs (N >= 1) and their E.

    BLAS is held to one thread: the optimisers' 5-vector algebra gains nothing from threads, and on a
    busy machine OpenBLAS's spinning threads made the fit 3-4x slower.
    """
    points, squashing = prepare_points(n, e, squash)
    return fit_points(
        points, squashing, rule=rule, starts=starts, tol=tol, min_conv=min_conv, param_limit=param_limit
    )


def fit_points(
    points: WeightedPoints,
    squashing: str = "none",
    *,
    rule: FitRule = "consistent",
    starts: np.ndarray = DEFAULT_STARTS,
    tol: tuple[float, ...] = DEFAULT_TOL,
    min_conv: int = 1,
    param_limit: float = PARAM_LIMIT,
) -> FitResult:
    """The fit on likelihood points already prepared (squashed by the caller, e.g. like a vignette)."""
    starts = np.asarray(starts, float)
    if rule not in FIT_RULES:
        raise ValueError(f"fit rule must be one of {FIT_RULES}, got {rule!r}")
    if not 1 <= min_conv <= len(starts) - 1:
        raise ValueError("min_conv must be at least 1 and at most one less than the number of starts")
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit(points, squashing, rule, starts, tol, min_conv, param_limit)


def _fit(
    points: WeightedPoints,
    squashing: str,
    rule: FitRule,
    starts: np.ndarray,
    tol: tuple[float, ...],
    min_conv: int,
    param_limit: float,
) -> FitResult:
    if points.size == 0:
        raise ValueError("no drug-event pair with N >= 1: nothing to fit")
    likelihood = LikelihoodPoints.of(points)
    global_results = [_log_start(s, likelihood, param_limit) for s in starts]
    if rule == "global":
        return _global_fit(global_results, tol, min_conv, points, squashing)
    tried: list[StartResult] = []
    for method in CONSISTENT_OPTIMISERS:
        results = [_raw_start(s, likelihood, method, param_limit) for s in starts]
        tried.extend(results)
        accepted = accept(results, tol, min_conv)
        if accepted is not None:
            best, close = accepted
            alternatives = distinct_optima(results + global_results, tol, results[best].estimate)
            return _result(
                results[best], "consistent", close, min_conv, points, squashing, results, alternatives
            )
    raise NoConsistentFit(_no_consistent_message(tried + global_results, tol, len(starts)), tried)


def _global_fit(
    results: list[StartResult],
    tol: tuple[float, ...],
    min_conv: int,
    points: WeightedPoints,
    squashing: str,
) -> FitResult:
    best = _best_usable(results)
    if best is None:
        raise NoConsistentFit(
            "no start converged inside the parameter space (0 < alpha, beta < param_limit, 0 < P < 1): "
            "the table shows no heterogeneity a two-component prior can describe; MGPS is not reported",
            results,
        )
    close = num_close(results, best, tol)
    alternatives = distinct_optima(results, tol, results[best].estimate)
    return _result(results[best], "global", close, min_conv, points, squashing, results, alternatives)


def _result(
    chosen: StartResult,
    rule: str,
    close: int,
    min_conv: int,
    points: WeightedPoints,
    squashing: str,
    starts: list[StartResult],
    alternatives: list[Optimum],
) -> FitResult:
    return FitResult(
        Hyperparameters.of(np.asarray(chosen.estimate)),
        chosen.minimum,
        rule,
        chosen.optimiser,
        close,
        close >= min_conv,
        points.size,
        int(points.weight.sum()),
        squashing,
        starts,
        alternatives,
    )


def _no_consistent_message(results: list[StartResult], tol: tuple[float, ...], n_starts: int) -> str:
    optima = distinct_optima(results, tol, None)
    found = "; ".join(
        f"{o.optimiser} x{o.starts}: NLL {o.minimum:.4f} at " + ", ".join(f"{v:.4g}" for v in o.estimate)
        for o in optima[:4]
    )
    return (
        "no consistent MGPS optimum (openEBGM autoHyper: 'consistent convergence failed'): from "
        f"{n_starts} starts, none of {', '.join(CONSISTENT_OPTIMISERS)} gave a best estimate inside "
        "the parameter space (0 < alpha, beta < 100, 0 < P < 1) that another start agrees with. "
        f"Optima reached: {found or 'none inside the parameter space'}. EBGM/EB05/EB95 are not reported; "
        "rerun with fit rule 'global' to accept the best single-start optimum, or squash differently."
    )
