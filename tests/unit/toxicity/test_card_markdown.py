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


def test_card_says_how_the_network_settings_were_chosen() -> None:
    """A card whose network records its selection run cites it; an older card keeps its own words."""
    card = json.loads((REPO_ROOT / "models/toxicity/2.1.0/card.json").read_text())
    assert "were fixed for a two-core CPU budget, not tuned" in render_markdown(card)
    card["ensemble"]["networks"][0]["selection"] = {"fold_seed": 0, "results": "benchmarks/x.json"}
    chosen = render_markdown(card)
    assert "were chosen by network-only scaffold CV on separate folds (seed 0;" in chosen
    assert "`benchmarks/x.json`" in chosen and "not tuned" not in chosen
    snn = {
        **card["ensemble"]["networks"][0],
        "name": "self_normalising_network",
        "config": {"activation": "selu"},
    }
    card["ensemble"]["networks"].append(snn)
    both = render_markdown(card)
    assert "mean of `multitask_network` and `self_normalising_network`" in both
    assert "`self_normalising_network`: settings (activation selu) chosen by" in both


def test_network_settings_read_the_same_after_the_card_is_stored() -> None:
    """The card is rendered from memory at training time and from card.json later: both must agree."""
    from hygeia.toxicity.network_inputs import NetworkConfig

    settings = NetworkConfig().as_dict()
    assert json.loads(json.dumps(settings)) == settings and settings["hidden"] == [256, 128]


def test_card_says_which_members_learn_from_imputed_labels() -> None:
    card = json.loads((REPO_ROOT / "models/toxicity/2.3.0/card.json").read_text())
    assert "Untested labels" not in render_markdown(card)  # 2.3.0 trained on tested labels only
    card["ensemble"]["members"][2]["impute_untested"] = True
    text = render_markdown(card)
    assert "Untested labels (atompair_desc): a compound not tested in an endpoint but tested in" in text


def test_card_states_the_boosters_rate_and_the_graph_depth_it_was_trained_with() -> None:
    """Read from the stored configs, so the line follows the recipe; cards before 2.6.0 have none."""
    card = json.loads((REPO_ROOT / "models/toxicity/2.5.0/card.json").read_text())
    assert "Boosters:" not in render_markdown(card)
    card["ensemble"]["recipe_selection"] = {"fold_seed": 0, "results": "benchmarks/y.json", "comparison": "z"}
    text = render_markdown(card)
    assert "Boosters: morgan_maccs_desc 200 rounds at rate 0.05; morgan_maccs_desc_extratrees 300" in text
    assert "Graph member: 3 message-passing steps. Chosen on the selection folds (seed 0; `bench" in text
    assert text.count("against z.") == 1
    card["ensemble"]["graphs"][0]["seeds"] = [0, 1]
    two_seeds = "Graph member: 3 message-passing steps, averaged over seeds 0, 1 (`benchmarks/toxicity/graph_"
    assert two_seeds in render_markdown(card)
