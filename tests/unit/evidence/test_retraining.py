"""Retraining the evidence graph model with accepted outcomes, on the real Hetionet graph with the quick
recipe (2.0.0's 22 metapaths, no document features): a candidate is registered in staging, never
promoted, and its card compares it with production on the same compound-grouped folds and on held-out
outcome compounds.

The outcome stream is simulated: repoDB's drug-indication pairs (mapped to DO-slim diseases through
the Disease Ontology's UMLS cross-references) are posted as if a tenant had reported the trial results
of candidates it followed up: Approved as positive, Terminated as negative. Each outcome says so in
its source.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from hygeia.core import retraining as core_retraining
from hygeia.core.auth import Principal
from hygeia.core.jobs import JobContext
from hygeia.core.outcomes import add_outcomes
from hygeia.core.registry import PRODUCTION, STAGING, get_registry, verify_folder, write_card
from hygeia.core.retraining import RetrainRefused, TrainingOutcome, outcome_ids_sha256, training_outcomes
from hygeia.evidence.lifecycle import CAPABILITY, LABEL
from hygeia.evidence.outcome_pairs import split_pairs
from hygeia.evidence.retraining import QUICK_C, RETRAIN_JOB, run_retrain_job
from hygeia.evidence.runtime import MODEL_NAME
from tests.conftest import REPO_ROOT

EVIDENCE = REPO_ROOT.parent / "shared" / "data" / "evidence"
SOURCE = "simulated stream: repoDB trial status (Approved/Terminated), replayed by a test"
SHIPPED = REPO_ROOT / "models" / "evidence" / "2.1.0"


def repodb_results() -> dict[str, int]:
    """'drug|DOID' -> 1 for pairs repoDB lists only as Approved, 0 only as Terminated."""
    from hygeia.evidence.sources import load_diseases, load_repodb

    doids: dict[str, set[str]] = defaultdict(set)
    for disease in load_diseases(EVIDENCE / "disease-ontology"):
        for cui in disease.umls_ids:
            doids[cui].add(disease.doid)
    statuses: dict[str, set[str]] = defaultdict(set)
    for row in load_repodb(EVIDENCE / "repodb"):
        for doid in doids.get(row.umls_id, ()):
            statuses[f"{row.drugbank_id}|{doid}"].add(row.status)
    chosen = {"Approved": 1, "Terminated": 0}
    return {
        pair: chosen[next(iter(s))]
        for pair, s in sorted(statuses.items())
        if len(s) == 1 and s <= set(chosen)
    }


def _rows(results: dict[str, int], invert: bool = False) -> list[dict[str, object]]:
    return [
        {
            "input": pair,
            "label": LABEL,
            "observed": "negative" if y != invert else "positive",
            "source": SOURCE,
        }
        for pair, y in results.items()
    ]


@pytest.fixture(scope="module")
def quick_production(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Production for these tests: the quick recipe without outcomes, beside the shipped encoder."""
    from hygeia.evidence.graph_card import write_artifacts
    from hygeia.evidence.graph_features import METAPATHS_2_0, graph_features
    from hygeia.evidence.graph_labels import load_labels
    from hygeia.evidence.graph_training import fit_final
    from hygeia.evidence.hetnet import COMPOUND, DISEASE, load_hetionet

    assert (EVIDENCE / "hetionet").is_dir(), f"real Hetionet edge tables expected under {EVIDENCE}"
    graph = load_hetionet(EVIDENCE / "hetionet")
    labels = load_labels(EVIDENCE, graph.nodes[COMPOUND], graph.nodes[DISEASE])
    model = fit_final(graph_features(graph, METAPATHS_2_0), labels.treats, None, list(METAPATHS_2_0), QUICK_C)
    folder = tmp_path_factory.mktemp("production") / "0.0.1"
    write_artifacts(folder, SHIPPED, model)
    shipped = json.loads((SHIPPED / "card.json").read_text())
    card = {k: v for k, v in shipped.items() if k not in ("artifacts", "sha256", "drift_reference")}
    card["version"] = "0.0.1"
    card["feature_spec"] = card["feature_spec"] | {"metapaths": model.metapaths, "regularisation_c": QUICK_C}
    card["metrics"] = {"retrieval": shipped["metrics"]["retrieval"]}
    write_card(folder, card)
    return folder


def quick_candidate(production: Path, make_key: Any, reasons: list[str]) -> dict[str, Any]:
    """For the console tests: `production` promoted, tenant lab's simulated stream, one quick job."""
    registry = get_registry()
    registry.register(production)
    registry.promote(MODEL_NAME, "0.0.1")
    make_key("lab", "analyst")
    add_outcomes(Principal("lab", "analyst", "test", "standard"), CAPABILITY, _rows(repodb_results()))
    return run_retrain_job({"quick": True, "reasons": reasons}, JobContext("-", "lab"))


@pytest.mark.slow  # two quick fits on the real graph and five folds of each label: ~1-2 min on 2 cores
def test_a_candidate_trained_with_outcomes_is_compared_and_never_promoted(  # type: ignore[no-untyped-def]
    platform, make_key, quick_production: Path, monkeypatch
) -> None:
    registry = get_registry()
    registry.register(quick_production)
    registry.promote(MODEL_NAME, "0.0.1")
    make_key("lab", "analyst")
    make_key("rival", "analyst")
    results = repodb_results()
    lab = add_outcomes(Principal("lab", "analyst", "test", "standard"), CAPABILITY, _rows(results))
    assert all(r.status == "accepted" for r in lab)
    # another tenant reports the opposite of every result: none of it may reach lab's candidate
    rival = add_outcomes(Principal("rival", "analyst", "test", "standard"), CAPABILITY, _rows(results, True))
    assert all(r.status == "accepted" for r in rival)
    monkeypatch.setenv("HYGEIA_LIFECYCLE_BOOTSTRAP_RESAMPLES", "100")

    result = run_retrain_job({"quick": True, "reasons": ["a test asked"]}, JobContext("-", "lab"))

    version = result["model"]["version"]
    assert version.startswith("0.0.1+outcomes.") and result["stage"] == STAGING
    stages = {row.version: row.stage for row in registry.versions(MODEL_NAME)}
    assert stages[version] == STAGING and stages["0.0.1"] == PRODUCTION  # nothing promoted
    [row] = [r for r in registry.versions(MODEL_NAME) if r.version == version]
    card = verify_folder(Path(row.path))  # the comparison is inside the hashed card
    info = card["retraining"]
    assert info["requested_because"] == ["a test asked"] and info["production"]["version"] == "0.0.1"

    given = info["accepted_outcomes"]
    stored = training_outcomes(["lab"], CAPABILITY)
    assert given["tenants"] == {"lab": len(results)} == {"lab": len(stored)}  # rival's never read
    assert given["outcome_ids_sha256"] == outcome_ids_sha256(stored)
    assert given["not_usable"]["outside_graph"] > 0  # repoDB drugs that are no Hetionet compound
    trained, held = given["pairs"]["training"], given["pairs"]["held_out"]
    assert trained["pairs"] + held["pairs"] + given["not_usable"]["outside_graph"] == len(results)
    assert held["pairs"] > 0 and trained["pairs"] > held["pairs"]
    assert given["labels_changed"]["set_positive"] > 0  # approved pairs PharmacotherapyDB does not list

    split = info["held_out_split"]
    assert split["same_split"] is True and split["variant"] == "graph"
    dm = split["keys"]["pharmacotherapydb_dm"]
    assert dm["production"]["positives"] == dm["candidate"]["positives"] == 755  # same answer key
    assert dm["production"] != dm["candidate"]  # the outcomes changed what the folds learned
    assert split["auroc"]["pharmacotherapydb_dm"]["difference"] == round(
        dm["candidate"]["auroc"] - dm["production"]["auroc"], 4
    )
    assert (
        card["metrics"]["graph_repurposing"]["results"]["pharmacotherapydb_dm"]["graph"]["auroc"]
        == (dm["candidate"]["auroc"])
    )

    scored = info["outcome_set"]
    assert scored["pairs"] == held["pairs"] == scored["scored_pairs"] + scored["left_out_as_curated"]
    theirs, ours = scored["production"][LABEL], scored["candidate"][LABEL]
    assert theirs["status"] == ours["status"] == "ok" and theirs["n"] == ours["n"] == scored["scored_pairs"]
    assert theirs["metrics"]["roc_auc"]["value"] != ours["metrics"]["roc_auc"]["value"]
    markdown = (Path(row.path) / "MODEL_CARD.md").read_text()
    assert "## Retrained with accepted outcomes (candidate)" in markdown and "Held-out outcomes:" in markdown
    print("measured:", result["summary"])
    print("held-out split:", json.dumps({k: split[k] for k in ("auroc", "auprc")}))
    print("outcome set:", json.dumps({n: scored[n][LABEL] for n in ("production", "candidate")}))


def test_the_scheduled_check_knows_the_evidence_retrainer() -> None:
    retrainer = {r.model_name: r for r in core_retraining.retrainers()}[MODEL_NAME]
    assert retrainer.job_kind == RETRAIN_JOB and retrainer.capability == CAPABILITY


def test_nothing_usable_is_refused_before_training(platform, make_key) -> None:  # type: ignore[no-untyped-def]
    make_key("quiet", "analyst")
    with pytest.raises(RetrainRefused, match="no accepted outcome of quiet can be trained on"):
        run_retrain_job({"quick": True}, JobContext("-", "quiet"))
    make_key("offgraph", "analyst")
    row = {"input": "DB99999|DOID:9352", "label": LABEL, "observed": "positive", "source": SOURCE}
    add_outcomes(Principal("offgraph", "analyst", "test", "standard"), CAPABILITY, [row])
    with pytest.raises(RetrainRefused, match="'outside_graph': 1"):
        run_retrain_job({"quick": True}, JobContext("-", "offgraph"))
    with pytest.raises(Exception, match="reasons must be"):
        run_retrain_job({"reasons": "because"}, JobContext("-", "quiet"))


def test_held_out_outcomes_never_share_a_compound_with_trained_ones() -> None:
    results = repodb_results()
    outcomes = [
        TrainingOutcome(i, "lab", pair, None, LABEL, str(y)) for i, (pair, y) in enumerate(results.items())
    ]
    assert "DB00945|DOID:1324" not in results  # two tenants disagree on a pair repoDB does not have
    outcomes.append(TrainingOutcome(10_000, "lab", "DB00945|DOID:1324", None, LABEL, "1"))
    outcomes.append(TrainingOutcome(10_001, "lab2", "DB00945|DOID:1324", None, LABEL, "0"))
    compounds = {o.input_key.split("|")[0] for o in outcomes}
    diseases = {o.input_key.split("|")[1] for o in outcomes}
    split = split_pairs(outcomes, compounds, diseases, holdout=0.3, seed=7)
    trained = {c for c, _ in split.training.pairs}
    held = {c for c, _ in split.held_out.pairs}
    assert trained and held and not trained & held
    assert ("DB00945", "DOID:1324") not in split.training.pairs + split.held_out.pairs  # a tie: left out
    assert split.provenance["not_usable"]["conflicting"] == 2
    assert 0.15 < len(held) / (len(held) + len(trained)) < 0.45
    again = split_pairs(outcomes, compounds, diseases, holdout=0.3, seed=7)
    assert again.held_out.pairs == split.held_out.pairs  # the same compounds on the same side


def test_the_cli_names_whose_outcomes_may_train(platform) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from hygeia.cli import app

    result = CliRunner().invoke(app, ["train", "evidence", "--with-outcomes"])
    assert result.exit_code != 0 and "--with-outcomes needs --tenant" in result.output
    result = CliRunner().invoke(
        app, ["train", "evidence", "--with-outcomes", "--tenant", "nobody", "--quick"]
    )
    assert result.exit_code != 0 and "no accepted outcome of nobody can be trained on" in result.output
