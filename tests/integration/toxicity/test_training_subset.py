"""End to end on real Tox21 rows: train on a small subset, write the artifact, reload it, predict.

No PostgreSQL/Redis needed, so it runs with the normal suite; small enough for well under a minute.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hygeia.core.registry import SERVED_SETTINGS, SETTINGS_ENTRY, ModelIntegrityError, verify_folder
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.artifact import write_artifact
from hygeia.toxicity.environment_check import ReferenceAnswers, answer, differences
from hygeia.toxicity.loading import load_folder
from hygeia.toxicity.members import TUNED_PARAMS, MemberConfig
from hygeia.toxicity.predictor import predict_smiles
from hygeia.toxicity.training import run_training

TOX21 = Path(__file__).resolve().parents[4] / "shared" / "data" / "tox21" / "tox21.csv"
SMALL_MEMBERS = (
    MemberConfig("morgan_maccs_desc", ("morgan_count", "maccs", "rdkit_2d"), TUNED_PARAMS, rounds=30),
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:  # type: ignore[type-arg]
    assert TOX21.is_file(), f"real Tox21 data expected at {TOX21}"
    run = run_training(TOX21, members=SMALL_MEMBERS, n_folds=3, seed=7, limit=400, log=lambda _: None)
    folder = tmp_path_factory.mktemp("toxicity") / "0.0.1"
    card = write_artifact(run, folder, "0.0.1", TOX21)
    return folder, card


def test_artifact_is_complete_and_verifiable(trained: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    folder, card = trained
    assert verify_folder(folder)["sha256"] == card["sha256"]
    assert (folder / "MODEL_CARD.md").is_file()
    assert not list(folder.rglob("*.pkl"))
    assert set(card["artifacts"]) >= {"calibration.json", "training_fingerprints.npy"}
    assert len([f for f in card["artifacts"] if f.startswith("members/")]) == len(ENDPOINTS)
    packed = np.load(folder / "training_fingerprints.npy", allow_pickle=False)
    assert packed.dtype == np.uint8 and packed.shape == (card["training_data"]["compounds_after_dedup"], 256)
    # scores, labels and each compound's out-of-fold similarity: the sets are Mondrian by domain side
    conformal = np.load(folder / card["conformal"]["file"], allow_pickle=False)
    assert conformal.shape == (3, len(packed), len(ENDPOINTS))
    assert ((conformal[2] >= 0) & (conformal[2] <= 1)).all()
    assert "max_abs_deviation_by_domain" in card["conformal"]["validity_cross_fitted"]["0.2"]


def test_a_trained_model_records_its_answers_and_reproduces_them(trained: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    """Every newly trained folder carries the environment check, hashed like its files, and passes it."""
    folder, card = trained
    entry = card["environment_check"]
    assert entry["compounds"] == 48 and entry["file"] in card["artifacts"]
    assert "environment_check" in card[SERVED_SETTINGS]
    model = load_folder(folder)  # runs the check: raises EnvironmentMismatch if the answers differ
    recorded = ReferenceAnswers.load(folder / entry["file"])
    assert recorded.probabilities.shape == (48, len(ENDPOINTS))
    assert differences(recorded, answer(model, recorded.smiles), entry["tolerance"]) == []


def test_the_card_s_served_settings_belong_to_the_model_s_identity(
    trained: tuple[Path, dict],  # type: ignore[type-arg]
    tmp_path: Path,
) -> None:
    """The domain threshold, blend weights and conformal settings live in card.json, not in a file:
    they are hashed like one, so an edited threshold is refused."""
    folder, card = trained
    assert SETTINGS_ENTRY in card["artifacts"]
    assert {"applicability_domain.threshold", "ensemble.blend", "conformal.p_values"} <= set(
        card[SERVED_SETTINGS]
    )
    edited = tmp_path / "0.0.1"
    shutil.copytree(folder, edited)
    card_file = edited / "card.json"
    tampered = json.loads(card_file.read_text())
    tampered["applicability_domain"]["threshold"] = 0.05
    card_file.write_text(json.dumps(tampered))
    with pytest.raises(ModelIntegrityError, match="served settings"):
        load_folder(edited)


def test_card_reports_cv_and_rejections(trained: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    _, card = trained
    data = card["training_data"]
    assert data["rows"] == 400
    assert data["compounds_after_dedup"] + len(data["rejected_rows"]) + data["merged_duplicate_rows"] == 400
    cv = card["metrics"]["scaffold_cv"]
    assert 0.0 < cv["shipped"]["mean_over_endpoints"]["roc_auc"]["mean"] <= 1.0
    assert 0.0 < cv["baseline"]["mean_over_endpoints"]["roc_auc"]["mean"] <= 1.0
    assert 0.0 < card["applicability_domain"]["threshold"] < 1.0
    json.dumps(card, allow_nan=False)  # strict JSON: no NaN slipped into the card


def test_reloaded_model_predicts(trained: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    folder, _ = trained
    model = load_folder(folder)
    rows = predict_smiles(model, ["CCOc1ccc2nc(S(N)(=O)=O)sc2c1", "not smiles", "CCO"])
    assert rows[1].error_code == "unparseable"
    for row in (rows[0], rows[2]):
        assert row.probabilities is not None
        assert all(0.0 <= p <= 1.0 for p in row.probabilities.values())
    assert rows[0].nearest_similarity == 1.0  # the first Tox21 row is in this training subset


def test_every_network_kind_is_stored_and_reported(trained: tuple[Path, dict]) -> None:  # type: ignore[type-arg]
    """With torch (the `train` extra), the ReLU and the self-normalising network are both written, each
    with its own settings, and the card reports their mean, which is what the blend takes."""
    pytest.importorskip("torch")
    from hygeia.toxicity.network_training import NETWORK_CONFIGS, NETWORK_SEEDS, NETWORKS_MEAN

    folder, card = trained
    networks = card["ensemble"]["networks"]
    assert [n["name"] for n in networks] == list(NETWORK_CONFIGS)
    assert [n["config"]["activation"] for n in networks] == ["relu", "selu"]
    for network in networks:
        assert len(network["files"]) == len(NETWORK_SEEDS)
        assert all((folder / f).is_file() for f in network["files"])
    assert NETWORKS_MEAN in card["metrics"]["scaffold_cv"]["members"]
    assert len(load_folder(folder).networks) == len(NETWORK_CONFIGS)
