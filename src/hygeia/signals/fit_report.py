"""How the MGPS prior of a run was chosen, in words and numbers, for the summary, the CSV and the console.

A reviewer validating against openEBGM needs four things next to the hyperparameters: the rule that
chose them ("consistent" = autoHyper's, "global" = best single start, "stated" = given by the user),
how many other starts agreed, every other optimum the starts reached with its negative
log-likelihood, and — when no consistent optimum exists — what the run did instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from hygeia.signals.autohyper import FitResult, NoConsistentFit
from hygeia.signals.mgps import Hyperparameters

NO_MGPS_FALLBACK = (
    "MGPS (EBGM, EB05, EB95) not reported; alert levels use the BCPNN (IC025 > 0) and Evans "
    "(PRR >= 2, chi2 >= 4, N >= 3) criteria only, and priority's disproportionality is IC025 alone"
)
PARAMETERS = ("alpha1", "beta1", "alpha2", "beta2", "p")


def accepted_fit(fit: FitResult) -> dict[str, Any]:
    """The fit section of a run summary when the prior was estimated."""
    body = {k: v for k, v in fit.to_dict().items() if k not in ("hyperparameters", "starts")}
    chosen = fit.minimum
    body["outcome"] = "accepted"
    body["starts_total"] = len(fit.starts)
    body["starts"] = [asdict(s) for s in fit.starts]
    for alternative in body["alternatives"]:
        alternative["nll_minus_chosen"] = alternative["minimum"] - chosen
    body["statement"] = _statement(fit)
    return body


def _statement(fit: FitResult) -> str:
    better = [a for a in fit.alternatives if not a.chosen and a.minimum < fit.minimum - 1e-6]
    rule = (
        "openEBGM autoHyper rule (smallest-NLL estimate that another start agrees with)"
        if fit.rule == "consistent"
        else "global rule (best single-start likelihood)"
    )
    text = f"{rule}: {fit.method}, {fit.num_close} of {len(fit.starts) - 1} other starts agree"
    if better:
        best = min(better, key=lambda a: a.minimum)
        text += (
            f"; a better-likelihood optimum (NLL {fit.minimum - best.minimum:.3f} lower, reached by "
            f"{best.starts} start(s)) was not chosen — use fit rule 'global' for it"
        )
    return text


def refused_fit(error: NoConsistentFit, rule: str) -> dict[str, Any]:
    """The fit section when no consistent optimum exists: the refusal, its reason and the fallback."""
    return {
        "outcome": "no consistent optimum",
        "rule": rule,
        "reason": error.detail,
        "fallback": NO_MGPS_FALLBACK,
        "starts_total": len(error.starts),
        "starts": [asdict(s) for s in error.starts],
        "statement": f"no consistent optimum: {NO_MGPS_FALLBACK}",
    }


def stated_fit(hyperparameters: Hyperparameters, source: str) -> dict[str, Any]:
    """The fit section when the prior was given, not estimated."""
    return {
        "outcome": "stated",
        "rule": "stated",
        "source": source,
        "statement": f"stated prior ({source}): {hyperparameters}",
    }


def summary_rows(
    fit_section: dict[str, Any], hyperparameters: dict[str, float] | None
) -> list[dict[str, Any]]:
    """The fit as CSV rows: one 'chosen' row, then one per start and one per alternative optimum."""
    common = {"outcome": fit_section["outcome"], "rule": fit_section["rule"]}
    rows = [
        {
            **common,
            "row": "chosen",
            "optimiser": fit_section.get("method", ""),
            "num_close": fit_section.get("num_close", ""),
            "nll": fit_section.get("minimum", ""),
            **_parameters(None if hyperparameters is None else list(hyperparameters.values())),
            "note": fit_section["statement"],
        }
    ]
    for start in fit_section.get("starts", []):
        rows.append(
            {
                **common,
                "row": "start",
                "optimiser": start["optimiser"],
                "nll": start["minimum"],
                "converged": start["converged"],
                "in_bounds": start["in_bounds"],
                **_parameters(start["estimate"]),
                "note": "from " + ", ".join(f"{v:.4g}" for v in start["start"]),
            }
        )
    for alternative in fit_section.get("alternatives", []):
        rows.append(
            {
                **common,
                "row": "optimum",
                "optimiser": alternative["optimiser"],
                "nll": alternative["minimum"],
                "starts_reaching": alternative["starts"],
                "chosen": alternative["chosen"],
                **_parameters(alternative["estimate"]),
                "note": f"NLL minus chosen {alternative['nll_minus_chosen']:+.4f}",
            }
        )
    return rows


def _parameters(values: Sequence[float] | None) -> dict[str, Any]:
    if values is None:
        return dict.fromkeys(PARAMETERS, "")
    return dict(zip(PARAMETERS, values, strict=True))
