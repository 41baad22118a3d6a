"""Retraining with accepted outcomes, on real Tox21 rows with a tiny recipe (one 30-round member, the
first 300 rows, 5 scaffold folds): a candidate is registered in staging, never promoted, and its card
compares it with production on the same scaffold folds and on held-out outcomes.

The outcome stream is simulated: Tox21 rows after the first 300 (which neither model trains on) are
posted as if a lab had reported their measured results; each outcome says so in its source.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from hygeia.core.auth import Principal
from hygeia.core.jobs import JobContext
from hygeia.core.outcomes import add_outcomes
from hygeia.core.registry import PRODUCTION, STAGING, get_registry, verify_folder
from hygeia.core.retraining import RetrainRefused, outcome_ids_sha256, training_outcomes
from hygeia.toxicity import ENDPOINTS, MODEL_NAME, ORGANIC_SCOPE
from hygeia.toxicity.environment_check import ReferenceAnswers
from hygeia.toxicity.lifecycle import inchikey
from hygeia.toxicity.loading import clear_cache
from hygeia.toxicity.molecules import MoleculeRejection, prepare
from hygeia.toxicity.outcome_rows import split_outcomes
from hygeia.toxicity.retraining import SMOKE_MEMBERS, held_out_split, run_retrain_job
from hygeia.toxicity.splits import scaffold_key

from .conftest import REPO_ROOT

TOX21 = REPO_ROOT.parent / "shared" / "data" / "tox21" / "tox21.csv"
SOURCE = "simulated stream: measured Tox21 result (MoleculeNet), replayed by a test"
LIMIT = 300
ASSAYS = ("SR-MMP", "NR-AhR", "SR-ARE")


@pytest.fixture(scope="module")
def tiny_production(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Production for these tests: the candidate's recipe without outcomes, on the same rows and folds."""
    from hygeia.toxicity.artifact import write_artifact
    from hygeia.toxicity.training import run_training

    assert TOX21.is_file(), f"real Tox21 data expected at {TOX21}"
    run = run_training(TOX21, members=SMOKE_MEMBERS, limit=LIMIT, log=lambda _: None)
    folder = tmp_path_factory.mktemp("production") / "0.0.1"
    write_artifact(run, folder, "0.0.1", TOX21)
    return folder


def _later_rows(count: int) -> list[dict[str, str]]:
    with TOX21.open() as handle:
        rows = list(csv.DictReader(handle))[LIMIT : LIMIT + count]
    return [r for r in rows if not isinstance(prepare(r["smiles"]), MoleculeRejection)]


def _outcomes(rows: list[dict[str, str]]) -> list[dict[str, object]]:
    return [
        {"input": r["smiles"], "label": assay, "observed": int(float(r[assay])), "source": SOURCE}
        for r in rows
        for assay in ASSAYS
        if r[assay] != ""
    ]


@pytest.mark.slow  # two tiny trainings (production and candidate): ~1 min quiet, 2.5 min on a busy 2-core box
def test_a_candidate_trained_with_outcomes_is_compared_and_never_promoted(  # type: ignore[no-untyped-def]
    platform, make_key, tiny_production: Path, monkeypatch
) -> None:
    registry = get_registry()
    registry.register(tiny_production)
    registry.promote(MODEL_NAME, "0.0.1")
    clear_cache()
    make_key("lab", "analyst")
    lab = Principal("lab", "analyst", "test", "standard")
    later = _later_rows(260)
    rows = _outcomes(later)
    # one more real result, named by InChIKey only, for a molecule whose other results came as SMILES
    named = next(r for r in later if r["NR-AR"] != "" and r["SR-MMP"] != "")
    key = inchikey(prepare(named["smiles"]).smiles)  # type: ignore[union-attr]
    by_key = {"input": key, "label": "NR-AR", "observed": int(float(named["NR-AR"])), "source": SOURCE}
    results = add_outcomes(lab, MODEL_NAME, [*rows, by_key])
    assert all(r.status == "accepted" for r in results)
    monkeypatch.setenv("HYGEIA_LIFECYCLE_MIN_OUTCOMES", "15")

    result = run_retrain_job(
        {"smoke": True, "limit": LIMIT, "reasons": ["a test asked"]}, JobContext("-", "lab")
    )

    version = result["model"]["version"]
    assert version.startswith("0.0.1+outcomes.") and result["stage"] == STAGING
    stages = {row.version: row.stage for row in registry.versions(MODEL_NAME)}
    assert stages[version] == STAGING and stages["0.0.1"] == PRODUCTION  # nothing promoted
    [row] = [r for r in registry.versions(MODEL_NAME) if r.version == version]
    card = verify_folder(Path(row.path))  # the comparison is inside the hashed card
    info = card["retraining"]
    assert info["requested_because"] == ["a test asked"] and info["production"]["version"] == "0.0.1"

    given = info["accepted_outcomes"]
    stored = training_outcomes(["lab"], MODEL_NAME)
    assert given["outcomes"] == len(rows) + 1 == len(stored) and given["tenants"] == {"lab": len(rows) + 1}
    assert given["outcome_ids_sha256"] == outcome_ids_sha256(stored)
    # the NR-AR outcome named its molecule by InChIKey, but the same molecule came with SMILES too
    assert given["not_usable"] == {"without_structure": 0, "unreadable_structure": 0, "unknown_assay": 0}
    trained = sum(c["training"]["tested"] for c in given["per_endpoint"].values())
    held = sum(c["held_out"]["tested"] for c in given["per_endpoint"].values())
    assert trained + held == len(rows) + 1 and held > 0 and trained > held
    added = card["training_data"]["accepted_outcomes_added"]
    assert added["new_compounds"] == given["molecules"]["training"] > 0
    # the Tox21 part, as production's: zinc octanoate and 3 inorganics (4 rows) are out of scope
    assert card["training_data"]["compounds_after_dedup"] == 290
    assert card["training_data"]["chemistry_scope"] == ORGANIC_SCOPE
    # the environment check's reference compounds come from Tox21's rows, never from the tenant's outcomes
    reference = ReferenceAnswers.load(Path(row.path) / card["environment_check"]["file"])
    outcome_parents = {prepare(r["smiles"]).smiles for r in later}  # type: ignore[union-attr]
    assert len(reference.smiles) == 48 and not outcome_parents & set(reference.standardised)

    split = info["held_out_split"]
    assert split["same_split"] is True
    production_card = json.loads((tiny_production / "card.json").read_text())
    theirs = production_card["metrics"]["scaffold_cv"]["shipped"]["mean_over_endpoints"]
    assert split["mean_roc_auc"]["production"] == theirs["roc_auc"]["mean"]
    ours = card["metrics"]["scaffold_cv"]["tox21_compounds_only"]["mean_over_endpoints"]
    assert split["mean_roc_auc"]["candidate"] == ours["roc_auc"]["mean"]

    scored = info["outcome_set"]
    assert scored["molecules"] == given["molecules"]["held_out"] >= scored["scored_molecules"] > 0
    assert scored["production"]["SR-MMP"]["status"] == scored["candidate"]["SR-MMP"]["status"] == "ok"
    both = (scored["production"]["SR-MMP"]["metrics"], scored["candidate"]["SR-MMP"]["metrics"])
    assert all(0.0 <= m["roc_auc"]["value"] <= 1.0 for m in both) and both[0] != both[1]
    markdown = (Path(row.path) / "MODEL_CARD.md").read_text()
    assert "## Retrained with accepted outcomes (candidate)" in markdown and "Held-out outcomes:" in markdown
    print("measured:", result["summary"], given["outcomes"], given["molecules"], scored["scored_molecules"])
    for assay in ASSAYS:  # the numbers a report may quote (pytest -s)
        print(
            assay,
            {
                name: {k: scored[name][assay][k] for k in ("n", "counts", "metrics")}
                for name in ("production", "candidate")
            },
        )


def test_nothing_to_train_on_is_refused_before_training(platform, make_key) -> None:  # type: ignore[no-untyped-def]
    make_key("quiet", "analyst")
    with pytest.raises(RetrainRefused, match="no accepted outcome of quiet can be trained on"):
        run_retrain_job({"smoke": True, "limit": LIMIT}, JobContext("-", "quiet"))
    with pytest.raises(Exception, match="limit must be"):
        run_retrain_job({"limit": 3}, JobContext("-", "quiet"))


def test_held_out_outcomes_never_share_a_scaffold_with_trained_ones() -> None:
    from hygeia.core.retraining import TrainingOutcome

    later = _later_rows(200)
    outcomes = [
        TrainingOutcome(i, "lab", "key", prepare(r["smiles"]).smiles, "SR-MMP", str(int(float(r["SR-MMP"]))))  # type: ignore[union-attr]
        for i, r in enumerate(later)
        if r["SR-MMP"] != ""
    ]
    outcomes.append(TrainingOutcome(999, "lab", "key", None, "SR-MMP", "1"))
    split = split_outcomes(outcomes, holdout=0.3, seed=7)
    trained = {scaffold_key(m) for m in split.training.mols}
    held = {scaffold_key(m) for m in split.held_out.mols}
    assert trained and held and not trained & held
    assert split.provenance["not_usable"]["without_structure"] == 1
    assert 0.15 < len(split.held_out) / (len(split.held_out) + len(split.training)) < 0.45
    again = split_outcomes(outcomes, holdout=0.3, seed=7)
    assert again.held_out.smiles == split.held_out.smiles  # the same scaffolds on the same side
    assert np.array_equal(again.training.labels, split.training.labels, equal_nan=True)


def test_a_different_split_is_not_compared() -> None:
    card = json.loads((REPO_ROOT / "models/toxicity/2.1.0/card.json").read_text())
    candidate = {**card, "training_data": {**card["training_data"], "rows": 300}}
    result = held_out_split(card, candidate)
    assert result["same_split"] is False
    assert result["why_not"] == ["training_data.rows: production 7831, candidate 300"]
    same = held_out_split(card, {**card, "metrics": {**card["metrics"], "scaffold_cv": _only(card)}})
    assert same["same_split"] is True and same["mean_roc_auc"]["difference"] == 0.0
    assert set(same["roc_auc_by_endpoint"]) == set(ENDPOINTS)


def _only(card: dict) -> dict:  # type: ignore[type-arg]
    """A candidate whose Tox21-only CV equals production's: the comparison must say no difference."""
    cv = card["metrics"]["scaffold_cv"]
    return {**cv, "tox21_compounds_only": cv["shipped"]}


def test_the_cli_names_whose_outcomes_may_train(platform) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from hygeia.cli import app

    result = CliRunner().invoke(app, ["train", "toxicity", "--with-outcomes"])
    assert result.exit_code != 0 and "--with-outcomes needs --tenant" in result.output
    result = CliRunner().invoke(
        app, ["train", "toxicity", "--with-outcomes", "--tenant", "nobody", "--smoke"]
    )
    assert result.exit_code != 0 and "no accepted outcome of nobody can be trained on" in result.output
