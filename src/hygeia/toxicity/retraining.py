"""Retraining with accepted outcomes (`hygeia train toxicity --with-outcomes`, or the scheduled
`toxicity.retrain` job): the shipped recipe on Tox21 plus the tenant's assay outcomes, registered as a
staging candidate whose card compares it with production twice:

1. on the same held-out scaffold folds of the Tox21 compounds: the candidate's cross-validation,
   scored on the Tox21 labels of those compounds, beside what production's card measured on the same
   folds (only where data file, rows, fold count and seed match; otherwise the card says why not);
2. on the held-out outcomes (whole scaffolds never trained on): both models scored on the same
   cases like live performance. Production's answers are computed by the same code here; the models
   are deterministic, so they are what production served for those molecules.

Nothing is promoted: a platform admin runs the candidate as a shadow or canary and promotes from the
release report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.db import utcnow
from hygeia.core.errors import InputError
from hygeia.core.jobs import JobContext, register_job_handler
from hygeia.core.live_metrics import binary_performance
from hygeia.core.outcomes import LifecycleSettings
from hygeia.core.registry import get_registry, write_card
from hygeia.core.retraining import (
    Retrainer,
    candidate_version,
    nothing_to_train,
    register_retrainer,
    run_staged,
    training_outcomes,
)
from hygeia.settings import get_settings
from hygeia.toxicity import ENDPOINTS, MODEL_NAME
from hygeia.toxicity.card_markdown import render_markdown
from hygeia.toxicity.members import SHIPPED_MEMBERS, TUNED_PARAMS, Log, MemberConfig
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.outcome_rows import OutcomeMolecules, split_outcomes
from hygeia.toxicity.predictor import predict_smiles
from hygeia.toxicity.training import DEFAULT_FOLDS, DEFAULT_SEED

RETRAIN_JOB = "toxicity.retrain"
DEFAULT_HOLDOUT = 0.3
SAME_SPLIT_KEYS = (("training_data", "sha256"), ("training_data", "rows"), ("metrics", "evaluation"))
# one 30-round member: proves the pipeline end to end in seconds; not a model to ship
SMOKE_MEMBERS = (
    MemberConfig("morgan_maccs_desc", ("morgan_count", "maccs", "rdkit_2d"), TUNED_PARAMS, rounds=30),
)


@dataclass(frozen=True)
class RetrainRecipe:
    tenants: tuple[str, ...]
    data: Path
    n_folds: int = DEFAULT_FOLDS
    seed: int = DEFAULT_SEED
    limit: int | None = None
    holdout: float = DEFAULT_HOLDOUT
    smoke: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "data": str(self.data), "tenants": list(self.tenants)}


def retrain(
    recipe: RetrainRecipe,
    *,
    out: Path | None = None,
    version: str | None = None,
    reasons: Sequence[str] = (),
    log: Log = print,
) -> dict[str, Any]:
    """Train, compare, register in staging; returns the candidate's card."""
    from hygeia.toxicity.artifact import write_artifact
    from hygeia.toxicity.loading import get_model, load_folder
    from hygeia.toxicity.training import run_training

    if not recipe.tenants:
        raise InputError("name the tenant(s) whose accepted outcomes may train the candidate")
    split = split_outcomes(training_outcomes(recipe.tenants, MODEL_NAME), recipe.holdout, recipe.seed)
    if not len(split.training):
        raise nothing_to_train(
            "accepted outcome", recipe.tenants, split.provenance, len(split.held_out), "molecules",
            "retraining would reproduce production",
        )  # fmt: skip
    production = get_model()
    version = version or candidate_version(production.version, utcnow())
    out = out or get_settings().var_dir / "registry" / MODEL_NAME / version
    members = SMOKE_MEMBERS if recipe.smoke else SHIPPED_MEMBERS
    run = run_training(
        recipe.data,
        members=members,
        n_folds=recipe.n_folds,
        seed=recipe.seed,
        limit=recipe.limit,
        log=log,
        outcomes=split.training,
    )
    card = write_artifact(run, out, version, recipe.data)
    candidate = load_folder(out)
    card["retraining"] = {
        "status": "candidate (registered in staging); never promoted automatically",
        "requested_because": list(reasons),
        "recipe": {**recipe.as_dict(), "members": [m.name for m in members]},
        "production": production.reference(),
        "accepted_outcomes": split.provenance,
        "held_out_split": held_out_split(production.card, card),
        "outcome_set": outcome_set(production, candidate, split.held_out),
    }
    card = write_card(out, card)  # the same artifacts, so the same sha256; the card gains the comparison
    (out / "MODEL_CARD.md").write_text(render_markdown(card))  # now with the comparison
    get_registry().register(out)  # staging
    log(f"registered {MODEL_NAME} {version} in staging: {headline(card)}")
    return card


def held_out_split(production: dict[str, Any], candidate: dict[str, Any]) -> dict[str, Any]:
    """Production's scaffold-CV numbers beside the candidate's on the same Tox21 compounds and folds."""
    differ = [
        f"{section}.{key}: production {production.get(section, {}).get(key)!r}, "
        f"candidate {candidate[section][key]!r}"
        for section, key in SAME_SPLIT_KEYS
        if production.get(section, {}).get(key) != candidate[section][key]
    ]
    if differ:
        return {"same_split": False, "why_not": differ}
    theirs = production["metrics"]["scaffold_cv"]["shipped"]
    ours = candidate["metrics"]["scaffold_cv"]["tox21_compounds_only"]
    comparison: dict[str, Any] = {"same_split": True, "split": candidate["metrics"]["evaluation"]}
    for metric in ("roc_auc", "pr_auc"):
        before = theirs["mean_over_endpoints"][metric]["mean"]
        after = ours["mean_over_endpoints"][metric]["mean"]
        comparison[f"mean_{metric}"] = {
            "production": before,
            "candidate": after,
            "difference": round(after - before, 4),
        }
        comparison[f"{metric}_by_endpoint"] = {
            e: {
                "production": theirs["endpoints"][e][metric]["mean"],
                "candidate": ours["endpoints"][e][metric]["mean"],
            }
            for e in ENDPOINTS
        }
    return comparison


def outcome_set(
    production: ToxicityModel, candidate: ToxicityModel, held_out: OutcomeMolecules
) -> dict[str, Any]:
    """Both models on the held-out outcomes; a molecule whose fingerprint equals a training compound of
    either model (it was trained on, by Tox21 or by outcome) is left out, since it is not unseen."""
    theirs = predict_smiles(production, held_out.smiles)
    ours = predict_smiles(candidate, held_out.smiles)
    unseen = [
        i
        for i, (a, b) in enumerate(zip(theirs, ours, strict=True))
        if a.probabilities
        and b.probabilities
        and max(a.nearest_similarity or 0, b.nearest_similarity or 0) < 1.0
    ]
    settings = LifecycleSettings()
    scored: dict[str, dict[str, Any]] = {"production": {}, "candidate": {}}
    for j, endpoint in enumerate(ENDPOINTS):
        cases = [i for i in unseen if not np.isnan(held_out.labels[i, j])]
        observed = [int(held_out.labels[i, j]) for i in cases]
        for name, rows in (("production", theirs), ("candidate", ours)):
            scores = [rows[i].probabilities[endpoint] for i in cases]  # type: ignore[index]
            performance = binary_performance(
                endpoint, observed, scores, settings.min_outcomes, settings.bootstrap_resamples
            )
            scored[name][endpoint] = asdict(performance)
    return {
        "molecules": len(held_out),
        "scored_molecules": len(unseen),
        "left_out_as_trained_on": len(held_out) - len(unseen),
        "minimum_outcomes_per_assay": settings.min_outcomes,
        **scored,
    }


def headline(card: dict[str, Any]) -> str:
    """One line for the log, the job result and the CLI."""
    info = card["retraining"]
    split = info["held_out_split"]
    if split["same_split"]:
        roc = split["mean_roc_auc"]
        first = (
            f"same scaffold folds mean ROC-AUC production {roc['production']} vs candidate {roc['candidate']}"
        )
    else:
        first = "not the same scaffold folds as production (" + "; ".join(split["why_not"]) + ")"
    scored = [
        f"{e} {info['outcome_set']['production'][e]['metrics']['roc_auc']['value']} vs "
        f"{info['outcome_set']['candidate'][e]['metrics']['roc_auc']['value']}"
        for e in ENDPOINTS
        if info["outcome_set"]["candidate"][e]["status"] == "ok"
    ]
    second = "held-out outcomes ROC-AUC " + (
        ", ".join(scored) if scored else "not enough outcomes on any assay"
    )
    return f"{first}; {second}"


def run_retrain_job(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """The scheduled job: the tenant's own outcomes, the shipped recipe unless told `smoke`."""
    limit = payload.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 50):
        raise InputError("limit must be a whole number of at least 50 rows")
    recipe = RetrainRecipe(
        tenants=(ctx.tenant_id,),
        data=get_settings().data_dir / "tox21" / "tox21.csv",
        limit=limit,
        smoke=bool(payload.get("smoke", False)),
    )
    return run_staged(payload, ctx, partial(retrain, recipe), headline)


def register() -> None:
    register_job_handler(RETRAIN_JOB, run_retrain_job, scheduled_only=True)
    register_retrainer(Retrainer(model_name=MODEL_NAME, capability=MODEL_NAME, job_kind=RETRAIN_JOB))
