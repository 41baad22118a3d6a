"""`hygeia evidence card-variants` adds a benchmark run to a card without touching the artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import reset_caches

REPO_ROOT = Path(__file__).resolve().parents[3]

VARIANTS = {
    "protocol": "test run",
    "seconds": 1.0,
    "results": {
        "pharmacotherapydb_dm": {"logistic": {"auroc": 0.9, "auprc": 0.3, "positives": 1, "negatives": 9}}
    },
}


def test_variants_are_rendered_and_the_manifest_still_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hygeia.core.registry import verify_folder, write_card
    from hygeia.evidence.cli import app

    folder = tmp_path / "models" / "evidence" / "2.1.0"
    folder.mkdir(parents=True)
    (folder / "graph_model.json").write_text("{}")
    shipped = json.loads((REPO_ROOT / "models" / "evidence" / "2.1.0" / "card.json").read_text())
    card = {k: v for k, v in shipped.items() if k not in ("artifacts", "sha256")}
    before = write_card(folder, card)
    out = tmp_path / "variants.json"
    out.write_text(json.dumps(VARIANTS))
    monkeypatch.setenv("HYGEIA_MODELS_DIR", str(tmp_path / "models"))
    reset_caches()
    try:
        result = CliRunner().invoke(app, ["card-variants", str(out)])
    finally:
        monkeypatch.undo()
        reset_caches()
    assert result.exit_code == 0, result.output
    card = verify_folder(folder)
    assert card["sha256"] == before["sha256"]
    assert card["metrics"]["graph_repurposing"]["variants"]["protocol"] == "test run"
    assert (
        "| logistic regression, 191 enumerated metapaths, chosen C (shipped 2.1.0) | 0.9000 / 0.3000 |"
        in (folder / "MODEL_CARD.md").read_text()
    )
