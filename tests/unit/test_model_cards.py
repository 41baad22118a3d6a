"""Every domain renders MODEL_CARD.md through one signature, and the shipped cards are what it writes.

The newest version of each model is re-rendered from what its folder holds and compared byte for
byte with the committed MODEL_CARD.md, so a change to the shared Markdown pieces (or a renderer)
that alters a published card cannot pass unnoticed. Older versions keep the cards their own
releases wrote.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from hygeia.dermatology import card_markdown as dermatology
from hygeia.dermatology.card import card_sources
from hygeia.evidence import card_markdown as evidence
from hygeia.toxicity import card_markdown as toxicity

MODELS = Path(__file__).resolve().parents[2] / "models"
RENDERERS = {"toxicity": toxicity, "dermatology": dermatology, "evidence": evidence}


def _card_json(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "card.json").read_text())


SHIPPED: list[tuple[str, Callable[[Path], Mapping[str, Any]]]] = [
    ("toxicity/2.2.0", _card_json),
    ("toxicity/2.3.0", _card_json),
    ("toxicity/2.4.0", _card_json),
    ("toxicity/2.5.0", _card_json),
    ("toxicity/2.6.0", _card_json),
    ("toxicity/2.10.0", _card_json),
    ("toxicity/2.11.0", _card_json),
    ("toxicity/2.12.0", _card_json),
    ("toxicity/2.13.0", _card_json),
    ("toxicity/2.13.1", _card_json),
    ("dermatology/1.2.0", card_sources),
    ("evidence/1.0.0", _card_json),
    ("evidence/2.1.0", _card_json),
]


def test_one_rendering_signature_in_every_domain() -> None:
    signatures = {name: inspect.signature(module.render_markdown) for name, module in RENDERERS.items()}
    assert {str(s) for s in signatures.values()} == {"(card: 'Mapping[str, Any]') -> 'str'"}, signatures


@pytest.mark.parametrize(("version", "read"), SHIPPED, ids=[version for version, _ in SHIPPED])
def test_shipped_card_is_rendered_byte_for_byte(
    version: str, read: Callable[[Path], Mapping[str, Any]]
) -> None:
    folder = MODELS / version
    renderer = RENDERERS[version.split("/")[0]]
    assert renderer.render_markdown(read(folder)) == (folder / "MODEL_CARD.md").read_text()
