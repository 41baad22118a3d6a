"""The paired card comparison reproduces a difference the README states, and refuses unpaired cards
(other folds or another chemistry scope)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from benchmarks.toxicity.card_diff import paired_difference

from .conftest import REPO_ROOT

MODELS = REPO_ROOT / "models" / "toxicity"


def test_2_4_0_against_2_3_0_is_the_stated_paired_gain() -> None:
    result = paired_difference(MODELS / "2.3.0", MODELS / "2.4.0")
    roc = result["roc_auc"]
    assert (roc["reference"], roc["candidate"]) == (0.8466, 0.8484)
    assert (roc["diff"], roc["diff_se"]) == (0.0018, 0.0009)
    assert all(d > 0 for d in roc["fold_diffs"]) and len(roc["fold_diffs"]) == 5
    assert result["pr_auc"]["diff"] == -0.0004 and len(roc["endpoint_diffs"]) == 12


def test_cards_from_other_folds_are_not_compared(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    card = json.loads((MODELS / "2.4.0" / "card.json").read_text())
    card["metrics"]["evaluation"] = card["metrics"]["evaluation"].replace("seed 2026", "seed 7")
    (other / "card.json").write_text(json.dumps(card))
    with pytest.raises(SystemExit, match="same data, scope, folds"):
        paired_difference(MODELS / "2.3.0", other)


def test_cards_of_another_chemistry_scope_are_not_compared(tmp_path: Path) -> None:
    """Same file, folds and seed, but organic-v2 keeps other compounds, so its folds hold others."""
    other = tmp_path / "other"
    other.mkdir()
    card = json.loads((MODELS / "2.4.0" / "card.json").read_text())
    card["training_data"]["chemistry_scope"] = "organic-v2"
    (other / "card.json").write_text(json.dumps(card))
    with pytest.raises(SystemExit, match="same data, scope, folds"):
        paired_difference(MODELS / "2.3.0", other)
