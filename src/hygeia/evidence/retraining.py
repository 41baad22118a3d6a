"""Retraining the graph model with accepted clinical results (`hygeia train evidence --with-outcomes`,
or the scheduled `evidence.retrain` job), registered as a staging candidate and never promoted.

Accepted outcomes (a trial positive or negative for `drug_id|disease_id`) set the label of their
compound-disease pair, beside PharmacotherapyDB's disease-modifying indications, with provenance
(outcome ids' sha256, tenants, counts). Outcome pairs are labels only, never graph edges: the served
graph stays Hetionet, so no path can route through a reported result. The card compares the candidate
with production on the same compound-grouped folds and on held-out outcome compounds
(retraining_eval.py). The recipe is production's own (metapaths, L2 strength, document features);
`quick` is 2.0.0's 22 metapaths without document features, to prove the pipeline in about a minute,
not a model to ship. A platform admin runs the candidate as a shadow or promotes it from the console.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hygeia.core.db import utcnow
from hygeia.core.errors import InputError
from hygeia.core.jobs import JobContext, register_job_handler
from hygeia.core.registry import LoadedModel, get_registry, write_card
from hygeia.core.retraining import (
    Retrainer,
    candidate_version,
    nothing_to_train,
    register_retrainer,
    run_staged,
    training_outcomes,
)
from hygeia.evidence.lifecycle import CAPABILITY, LABEL
from hygeia.evidence.runtime import MODEL_NAME, data_root
from hygeia.settings import get_settings

if TYPE_CHECKING:  # the numeric stack is imported when a retraining runs, not when evidence registers
    from hygeia.evidence.graph_model import GraphModel
    from hygeia.evidence.outcome_pairs import PairSplit

RETRAIN_JOB = "evidence.retrain"
DEFAULT_HOLDOUT = 0.3
DEFAULT_SEED = 2026
QUICK_C = 0.1  # 2.0.0's L2 strength for its 22 metapaths
Log = Callable[[str], None]


@dataclass(frozen=True)
class RetrainRecipe:
    tenants: tuple[str, ...]
    data: Path  # DATA_DIR/evidence
    holdout: float = DEFAULT_HOLDOUT
    seed: int = DEFAULT_SEED
    quick: bool = False

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
    """Refuse early, fit, compare, register in staging; returns the candidate's card."""
    from hygeia.evidence.graph_model import GraphModel
    from hygeia.evidence.graph_scoring import has_graph_model
    from hygeia.evidence.hetnet import COMPOUND, DISEASE, load_hetionet
    from hygeia.evidence.outcome_pairs import split_pairs

    if not recipe.tenants:
        raise InputError("name the tenant(s) whose accepted outcomes may train the candidate")
    production = get_registry().load(MODEL_NAME)  # hash-verified
    if not has_graph_model(production.path):
        raise InputError(f"production evidence {production.version} has no graph model to retrain")
    nodes = load_hetionet(recipe.data / "hetionet", only=()).nodes  # node lists only: seconds
    outcomes = training_outcomes(recipe.tenants, CAPABILITY)
    split = split_pairs(outcomes, nodes[COMPOUND], nodes[DISEASE], recipe.holdout, recipe.seed)
    if not len(split.training):
        raise nothing_to_train(
            "accepted outcome", recipe.tenants, split.provenance, len(split.held_out), "pairs",
            "retraining would reproduce production",
        )  # fmt: skip
    fitted = _fit(recipe, production, GraphModel.load(production.path), split, log)
    version = version or candidate_version(production.version, utcnow())
    out = out or get_settings().var_dir / "registry" / MODEL_NAME / version
    card = _publish(out, production, version, fitted, reasons, recipe)
    log(f"registered {MODEL_NAME} {version} in staging: {headline(card)}")
    return card


def _fit(
    recipe: RetrainRecipe, production: LoadedModel, served: GraphModel, split: PairSplit, log: Log
) -> dict[str, Any]:
    """Features, both comparisons and the candidate model (imports the numeric stack only here)."""
    from hygeia.evidence.graph_features import METAPATHS_2_0, graph_features
    from hygeia.evidence.graph_labels import load_labels
    from hygeia.evidence.graph_scoring import is_graph_feature
    from hygeia.evidence.graph_training import evidence_graph, evidence_matrix, fit_final
    from hygeia.evidence.hetnet import COMPOUND, DISEASE, load_hetionet
    from hygeia.evidence.retraining_eval import (
        GraphRecipe,
        PairFeatures,
        card_numbers,
        held_out_split,
        outcome_set,
        with_outcomes,
    )
    from hygeia.evidence.sources import load_indications

    graph_recipe = (
        GraphRecipe(tuple(METAPATHS_2_0), QUICK_C, served.damping, documents=False)
        if recipe.quick
        else GraphRecipe(
            tuple(served.metapaths),
            served.regularisation_c,
            served.damping,
            documents=any(not is_graph_feature(n) for n in served.features),
        )
    )
    graph = load_hetionet(recipe.data / "hetionet")
    compounds, diseases = graph.nodes[COMPOUND], graph.nodes[DISEASE]
    full = graph_features(graph, graph_recipe.metapaths, graph_recipe.damping)
    labels = load_labels(recipe.data, compounds, diseases)
    cache: dict[str, Any] = {}

    def documents() -> Any:  # built once, only when a model reads document features (minutes)
        if "graph" not in cache:
            log("building document features")
            cache["graph"] = evidence_graph(recipe.data)
        return cache["graph"]

    evidence = evidence_matrix(documents(), compounds, diseases) if graph_recipe.documents else None
    treats, changes = with_outcomes(labels.treats, split.training, graph)
    comparison = held_out_split(graph, labels, treats, evidence, graph_recipe, log)
    comparison["production_card"] = card_numbers(production.card, graph_recipe)
    model = fit_final(
        full, treats, evidence, list(graph_recipe.metapaths), graph_recipe.c, graph_recipe.damping
    )
    pharmacotherapy = load_indications(recipe.data / "pharmacotherapydb/indications.tsv", "PharmacotherapyDB")
    curated = {(r.drugbank_id, r.doid) for r in pharmacotherapy}
    scored = outcome_set(served, model, split.held_out, PairFeatures(graph, full, documents), curated)
    return {
        "model": model,
        "recipe": {**asdict(graph_recipe), "metapaths": len(graph_recipe.metapaths)},
        "provenance": {**split.provenance, "labels_changed": changes},
        "held_out_split": comparison,
        "outcome_set": scored,
    }


def _publish(
    out: Path,
    production: LoadedModel,
    version: str,
    fitted: dict[str, Any],
    reasons: Sequence[str],
    recipe: RetrainRecipe,
) -> dict[str, Any]:
    """Production's encoder and card, the candidate's graph model and numbers; registered in staging."""
    from hygeia.evidence.card_markdown import render_markdown
    from hygeia.evidence.graph_card import write_artifacts

    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out} already holds a model; pick another folder")
    model = fitted["model"]
    write_artifacts(out, production.path, model)
    skipped = ("artifacts", "sha256", "version", "drift_reference")
    card = {k: v for k, v in production.card.items() if k not in skipped}
    split = fitted["held_out_split"]
    card["version"] = version
    card["feature_spec"] = dict(card["feature_spec"]) | {
        "graph_features": model.features,
        "metapaths": model.metapaths,
        "dwpc_damping": model.damping,
        "regularisation_c": model.regularisation_c,
    }
    card["metrics"] = {
        "retrieval": production.card["metrics"]["retrieval"],
        "graph_repurposing": {
            "folds": split["folds"],
            "metapaths": len(model.metapaths),
            "feature_seconds_per_fold": split["feature_seconds_per_fold"],
            "results": {
                key: {
                    "popularity": row["popularity"],
                    split["variant"]: row["candidate"] | {"hidden": row["hidden"]},
                }
                for key, row in split["keys"].items()
            },
        },
    }
    card["training_data"] = dict(card["training_data"]) | {"accepted_outcomes_added": fitted["provenance"]}
    card["retraining"] = {
        "status": "candidate (registered in staging); never promoted automatically",
        "requested_because": list(reasons),
        "recipe": {**recipe.as_dict(), "graph": fitted["recipe"]},
        "production": production.reference(),
        "accepted_outcomes": fitted["provenance"],
        "held_out_split": split,
        "outcome_set": fitted["outcome_set"],
        "drift_reference": "not carried over: run `hygeia evidence drift-reference` for this version "
        "before relying on its drift statistics",
    }
    card = write_card(out, card)
    (out / "MODEL_CARD.md").write_text(render_markdown(card))
    get_registry().register(out)  # staging
    return card


def headline(card: dict[str, Any]) -> str:
    """One line for the log, the job result and the CLI."""
    info = card["retraining"]
    key = info["held_out_split"]["auroc"]["pharmacotherapydb_dm"]
    first = (
        f"same compound-grouped folds, PharmacotherapyDB AUROC production {key['production']} "
        f"vs candidate {key['candidate']}"
    )
    scored = info["outcome_set"]
    theirs, ours = scored["production"][LABEL], scored["candidate"][LABEL]
    if ours["status"] == "ok":
        second = (
            f"held-out outcomes ({scored['scored_pairs']} pairs) ROC-AUC "
            f"{theirs['metrics']['roc_auc']['value']} vs {ours['metrics']['roc_auc']['value']}"
        )
    else:
        second = f"held-out outcomes: {ours['status']}"
    return f"{first}; {second}"


def run_retrain_job(payload: dict[str, Any], ctx: JobContext) -> dict[str, Any]:
    """The scheduled job: the tenant's own outcomes, production's recipe unless told `quick`."""
    recipe = RetrainRecipe(
        tenants=(ctx.tenant_id,), data=data_root(), quick=bool(payload.get("quick", False))
    )
    return run_staged(payload, ctx, partial(retrain, recipe), headline)


def register() -> None:
    register_job_handler(RETRAIN_JOB, run_retrain_job, scheduled_only=True)
    register_retrainer(Retrainer(model_name=MODEL_NAME, capability=CAPABILITY, job_kind=RETRAIN_JOB))
