"""A model is served only where it reproduces its recorded answers: the shipped 2.13.1 does here and
gives 2.13.0's answers bit for bit; answers recorded otherwise (a changed probability, feature part or
standardisation) and cards naming another RDKit release are refused with what differs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hygeia.core.registry import verify_folder
from hygeia.toxicity import environment_check
from hygeia.toxicity.environment_check import (
    CARD_ENTRY,
    CHECK_FILE,
    EnvironmentMismatch,
    ReferenceAnswers,
    answer,
    differences,
    reference_smiles,
    verify,
)
from hygeia.toxicity.loading import load_folder
from hygeia.toxicity.model import ToxicityModel

from .conftest import REPO_ROOT

SERVED = REPO_ROOT / "models" / "toxicity" / "2.13.1"
TRAINED = REPO_ROOT / "models" / "toxicity" / "2.13.0"


@pytest.fixture(scope="module")
def served() -> tuple[ToxicityModel, dict[str, Any], ReferenceAnswers]:
    card = verify_folder(SERVED)
    return load_folder(SERVED), card, ReferenceAnswers.load(SERVED / CHECK_FILE)


def _check_with(
    tmp_path: Path, model: ToxicityModel, card: dict[str, Any], recorded: ReferenceAnswers, tag: str
) -> None:
    """verify() against `recorded` written to a folder of its own, under a sha of its own."""
    np.savez_compressed(tmp_path / CHECK_FILE, **recorded.arrays())  # type: ignore[arg-type]
    verify(model, tmp_path, {**card, "sha256": f"test-{tag}"})


def _copy(recorded: ReferenceAnswers) -> ReferenceAnswers:
    parts = {key: values.copy() for key, values in recorded.parts.items()}
    return ReferenceAnswers(
        list(recorded.smiles), list(recorded.standardised), recorded.probabilities.copy(), parts
    )


def test_the_served_model_reproduces_its_recorded_answers_here(served) -> None:  # type: ignore[no-untyped-def]
    model, card, recorded = served
    assert card[CARD_ENTRY]["compounds"] == len(recorded.smiles) == 48
    assert "" not in recorded.standardised
    assert len(recorded.parts) >= 5  # every array feature part, for the diagnosis
    assert differences(recorded, answer(model, recorded.smiles), card[CARD_ENTRY]["tolerance"]) == []


def test_2_13_1_is_2_13_0_plus_the_check(served) -> None:  # type: ignore[no-untyped-def]
    _, card, recorded = served
    trained = verify_folder(TRAINED)
    added = {k: v for k, v in card["artifacts"].items() if trained["artifacts"].get(k) != v}
    assert set(added) == {CHECK_FILE, "card.json#served_settings"}  # every trained file the same bytes
    assert card["derived_from"]["sha256"] == trained["sha256"]
    before = answer(load_folder(TRAINED), recorded.smiles)
    assert np.array_equal(before.probabilities, recorded.probabilities)


def test_a_probability_moved_beyond_the_tolerance_is_refused(served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, card, recorded = served
    moved = _copy(recorded)
    moved.probabilities[3, 5] += 0.01
    with pytest.raises(EnvironmentMismatch) as refused:
        _check_with(tmp_path, model, card, moved, "moved")
    assert "1 of 48 reference compounds' probabilities differ, by up to 0.01" in refused.value.detail
    assert refused.value.status == 503 and refused.value.type == "urn:hygeia:model-environment"
    assert environment_check.known_refusal("test-moved") == refused.value.detail
    with pytest.raises(EnvironmentMismatch):  # remembered: not recomputed, still refused
        verify(model, tmp_path, {**card, "sha256": "test-moved"})


def test_float_rounding_within_the_tolerance_passes(served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, card, recorded = served
    rounded = _copy(recorded)
    rounded.probabilities += 1e-7
    _check_with(tmp_path, model, card, rounded, "rounded")
    assert environment_check.known_refusal("test-rounded") is None


def test_a_changed_feature_part_is_named(served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, card, recorded = served
    changed = _copy(recorded)
    maccs = next(key for key in changed.parts if json.loads(key)["name"] == "maccs")
    changed.parts[maccs][0, 10] += 1.0
    with pytest.raises(EnvironmentMismatch, match=r"features differ in maccs\. "):
        _check_with(tmp_path, model, card, changed, "maccs")


def test_another_standardisation_is_refused_before_comparing_rows(served, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model, card, recorded = served
    changed = _copy(recorded)
    changed.standardised[7] = "C"
    with pytest.raises(EnvironmentMismatch, match="1 of 48 reference compounds standardise differently"):
        _check_with(tmp_path, model, card, changed, "standardised")


def test_cards_without_answers_fall_back_to_the_rdkit_release(served, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    model, card, _ = served
    legacy = {k: v for k, v in card.items() if k != CARD_ENTRY}
    here = environment_check.installed_versions()["rdkit"]
    assert environment_check._refusal(model, SERVED, {**legacy, "environment": {"rdkit": here}}) is None
    assert (
        environment_check._refusal(model, SERVED, {k: v for k, v in legacy.items() if k != "environment"})
        is None
    )
    older = environment_check._refusal(model, SERVED, {**legacy, "environment": {"rdkit": "2024.9.6"}})
    assert older is not None and f"rdkit {here} (trained with 2024.9.6)" in older
    assert "Install rdkit==2024.9.6" in older


def test_rdkit_spells_its_releases_two_ways() -> None:
    assert environment_check._same_release("2026.9.1", "2026.09.1")
    assert not environment_check._same_release("2026.9.1", "2024.09.6")


def test_reference_compounds_do_not_depend_on_file_order() -> None:
    candidates = ["CCO", "c1ccccc1O", "CC(=O)O", "not a smiles", "[Na+].[Cl-]", "CCN", "CCCl"]
    chosen = reference_smiles(candidates, count=4)
    assert chosen == reference_smiles(list(reversed(candidates)), count=4)
    assert len(chosen) == 4 and "not a smiles" not in chosen and "[Na+].[Cl-]" not in chosen


def test_the_cli_checks_a_folder_and_refuses_to_add_a_second_check(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hygeia.cli import app

    checked = CliRunner().invoke(app, ["toxicity", "check-environment", "--model", str(SERVED)])
    assert checked.exit_code == 0, checked.output
    assert "toxicity 2.13.1 reproduces its 48 recorded answers here" in checked.output
    legacy = CliRunner().invoke(app, ["toxicity", "check-environment", "--model", str(TRAINED)])
    assert legacy.exit_code == 0 and "2.13.0 records no answers" in legacy.output
    again = CliRunner().invoke(
        app,
        [
            "toxicity",
            "add-environment-check",
            str(SERVED),
            "--version",
            "2.13.2",
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert again.exit_code != 0 and "already records its answers" in again.output
    assert not (tmp_path / "x").exists()
