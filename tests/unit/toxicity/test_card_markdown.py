"""The card says which RDKit descriptors a model uses, read from its own feature spec."""

from __future__ import annotations

import json

from hygeia.toxicity.card_markdown import render_markdown
from hygeia.toxicity.descriptor_names import RDKIT_2D_DESCRIPTORS, TOXICITY_DESCRIPTORS

from .conftest import REPO_ROOT


def _card_with(names: list[str]) -> dict:  # type: ignore[type-arg]
    card = json.loads((REPO_ROOT / "models/toxicity/2.0.0/card.json").read_text())
    for spec in card["feature_spec"]["members"].values():
        for part in spec["params"].get("parts", [spec]):
            if part["name"] == "rdkit_2d":
                part["params"]["names"], part["dimension"] = names, len(names)
    return card


def test_card_lists_the_descriptors_left_out() -> None:
    full = render_markdown(_card_with(list(RDKIT_2D_DESCRIPTORS)))
    assert "RDKit 2D descriptors: 217 of the 217 frozen names." in full
    slim = render_markdown(_card_with(list(TOXICITY_DESCRIPTORS)))
    assert "RDKit 2D descriptors: 213 of the 217 frozen names; left out: qed, SPS, AvgIpc, Ipc (" in slim
