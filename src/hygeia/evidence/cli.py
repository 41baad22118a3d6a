"""Drug-repurposing evidence: build the index, search it, rank candidate indications.

`train` needs torch==2.13.0 (CPU) and onnx for the one-off encoder export; everything else runs on
onnxruntime + tokenizers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from hygeia.core.cli import fail

app = typer.Typer(help=__doc__, no_args_is_help=True)


def _data_root(data: Path | None) -> Path:
    from hygeia.evidence.runtime import data_root

    return data or data_root()


def _model_folder(version: str | None = None) -> Path:
    """The newest bundled model folder (or `version`), hash-verified; no database needed."""
    from hygeia.evidence.runtime import newest_model_folder

    folder = newest_model_folder(version)
    if folder is None:
        fail("no evidence model under MODELS_DIR/evidence: run `hygeia evidence train`")
    return folder


def _publish(folder: Path, card: dict[str, Any]) -> dict[str, Any]:
    """card.json (with every artifact's sha256), then MODEL_CARD.md from it."""
    from hygeia.core.registry import write_card
    from hygeia.evidence.card_markdown import render_markdown

    card = write_card(folder, card)
    (folder / "MODEL_CARD.md").write_text(render_markdown(card))
    return card


def _echo_progress(fraction: float, message: str) -> None:
    typer.echo(f"[{fraction:5.0%}] {message}", err=True)


@app.command()
def build(
    data: Path = typer.Option(None, help="evidence data folder (default: DATA_DIR/evidence)"),
    lexical_only: bool = typer.Option(False, help="BM25 only: no dense vectors (hybrid/dense disabled)"),
    version: str = typer.Option(None, help="model version whose encoder embeds the documents"),
    dense_types: str = typer.Option(
        "", help="comma-separated evidence types to embed, e.g. literature (default: all)"
    ),
) -> None:
    """Build the evidence index into VAR_DIR/evidence/index (BM25 + dense vectors + entities)."""
    from hygeia.evidence.runtime import index_dir
    from hygeia.evidence.store import build_index

    encoder = None if lexical_only else _model_folder(version)
    types = [t.strip() for t in dense_types.split(",") if t.strip()] or None
    manifest = build_index(_data_root(data), index_dir(), encoder, _echo_progress, types)
    typer.echo(json.dumps({k: manifest[k] for k in ("documents", "documents_by_type", "dense", "timings")}))


@app.command()
def train(
    data: Path = typer.Option(None, help="evidence data folder (default: DATA_DIR/evidence)"),
    version: str = typer.Option("1.0.0"),
    reuse_encoder: bool = typer.Option(False, help="keep an existing encoder.onnx instead of re-exporting"),
    with_outcomes: bool = typer.Option(
        False,
        "--with-outcomes",
        help="retrain production's graph model with the named tenants' accepted clinical results and "
        "register it as a staging candidate compared with production (never promoted); folder "
        "<var_dir>/registry/evidence/<production>+outcomes.<time> unless --out",
    ),
    tenant: list[str] = typer.Option(None, "--tenant", help="with --with-outcomes: whose outcomes (repeat)"),
    outcome_holdout: float = typer.Option(
        0.3, min=0.0, max=0.9, help="with --with-outcomes: share of outcome compounds held out for scoring"
    ),
    quick: bool = typer.Option(
        False, help="with --with-outcomes: 2.0.0's 22 metapaths, no document features (a pipeline check)"
    ),
    out: Path = typer.Option(None, help="with --with-outcomes: the candidate's folder"),
) -> None:
    """Export the int8 ONNX encoder, build the index, evaluate, write card.json + MODEL_CARD.md; or,
    with --with-outcomes, retrain the graph model with accepted outcomes as a staging candidate."""
    from hygeia.evidence import training
    from hygeia.evidence.runtime import index_dir
    from hygeia.evidence.store import build_index
    from hygeia.settings import get_settings

    root = _data_root(data)
    if with_outcomes:
        _retrain(root, tenant or [], outcome_holdout, quick, out)
        return
    folder = get_settings().models_dir / "evidence" / version
    if reuse_encoder and (folder / "encoder.json").is_file():
        spec = json.loads((folder / "encoder.json").read_text())
    else:
        spec = training.export_int8_encoder(folder, lambda line: typer.echo(line, err=True))
    training.write_ranking(folder)
    build_index(root, index_dir(), folder, _echo_progress)
    metrics = training.evaluate(index_dir(), folder, root)
    card = _publish(folder, training.card_dict(version, metrics, spec, root))
    typer.echo(json.dumps(card["metrics"]["retrieval"]["metrics"], indent=2))


def _retrain(root: Path, tenants: list[str], holdout: float, quick: bool, out: Path | None) -> None:
    from hygeia.evidence.retraining import RetrainRecipe, headline, retrain

    if not tenants:
        fail("--with-outcomes needs --tenant: name each tenant whose outcomes may train the candidate")
    if out is not None and out.exists() and any(out.iterdir()):
        fail(f"{out} already holds a model; pick another --out")
    recipe = RetrainRecipe(tuple(tenants), root, holdout=holdout, quick=quick)
    card = retrain(recipe, out=out, log=lambda line: typer.echo(line, err=True))
    typer.echo(f"candidate {card['name']} {card['version']} registered in staging: {headline(card)}")


@app.command("train-graph")
def train_graph(
    data: Path = typer.Option(None, help="evidence data folder (default: DATA_DIR/evidence)"),
    version: str = typer.Option("2.1.0"),
    base: str = typer.Option("1.0.0", help="model version whose encoder is reused (no re-export)"),
    variants: Path = typer.Option(
        None, help="JSON written by `python -m benchmarks.evidence.graph_variants --out`, shown in the card"
    ),
) -> None:
    """Hetionet DWPC model: compound-grouped CV on three answer keys, then the served model + card."""
    from hygeia.evidence.graph_card import card_dict, published_rephetio, write_artifacts
    from hygeia.evidence.graph_training import train_graph_model
    from hygeia.settings import get_settings

    root = _data_root(data)
    base_folder = _model_folder(base)
    model, report = train_graph_model(root, lambda line: typer.echo(line, err=True))
    report["published_rephetio"] = published_rephetio(root / "hetionet")
    if variants:
        report["variants"] = json.loads(variants.read_text())
    folder = get_settings().models_dir / "evidence" / version
    write_artifacts(folder, base_folder, model)
    base_card = json.loads((base_folder / "card.json").read_text())
    _publish(folder, card_dict(version, base_card, report, model))
    typer.echo(json.dumps(report["results"], indent=2))


@app.command("card-variants")
def card_variants(
    variants: Path = typer.Argument(
        ..., help="JSON from `python -m benchmarks.evidence.graph_variants --out`"
    ),
    version: str = typer.Option("2.1.0"),
) -> None:
    """Add a benchmark run of graph-model variants to a model card (artifacts and their hashes unchanged)."""
    from hygeia.core.registry import verify_folder

    folder = _model_folder(version)
    card = verify_folder(folder)
    card["metrics"]["graph_repurposing"]["variants"] = json.loads(variants.read_text())
    _publish(folder, card)


@app.command()
def refit(
    tenant: str = typer.Argument(..., help="tenant id whose feedback votes are replayed"),
    version: str = typer.Option(None, help="model version whose prior weights are the starting point"),
    export: Path = typer.Option(None, help="also write the weights as JSON to this file"),
) -> None:
    """Refit a tenant's evidence weights from its votes; prints prior, weights and their shift."""
    from hygeia.evidence import feedback
    from hygeia.evidence.runtime import load_prior

    folder = _model_folder(version)
    prior = load_prior(folder)
    weights, n_votes = feedback.refit(tenant, prior)
    payload = {
        "tenant": tenant,
        "model_version": folder.name,
        "feedback_count": n_votes,
        **feedback.weight_shift(prior, weights),
    }
    text = json.dumps(payload, indent=2)
    if export:
        export.write_text(text + "\n")
    typer.echo(text)


@app.command()
def evaluate(data: Path = typer.Option(None), version: str = typer.Option(None)) -> None:
    """Re-run the retrieval and repurposing evaluation on the built index; prints JSON."""
    from hygeia.evidence import training
    from hygeia.evidence.runtime import index_dir

    metrics = training.evaluate(index_dir(), _model_folder(version), _data_root(data))
    typer.echo(json.dumps({k: metrics[k] for k in ("retrieval", "repurposing")}, indent=2))


@app.command()
def search(
    query: str,
    k: int = typer.Option(10, min=1, max=100),
    mode: str = typer.Option("hybrid", help="hybrid, bm25 or dense"),
) -> None:
    """Search the evidence index; prints the same JSON as POST /api/v1/evidence/search."""
    from hygeia.evidence.runtime import cli_ready, search_with
    from hygeia.evidence.schemas import SearchRequest

    response = search_with(cli_ready(_model_folder()), SearchRequest(query=query, k=k, mode=mode))
    typer.echo(response.model_dump_json(indent=2))


@app.command()
def repurpose(
    query: str,
    kind: str = typer.Option("auto", help="auto, drug or disease"),
    k: int = typer.Option(20, min=1, max=200),
    exclude_known: bool = typer.Option(False),
) -> None:
    """Rank candidate indications (prior weights; tenants' feedback applies through the API)."""
    from hygeia.evidence.runtime import cli_ready
    from hygeia.evidence.schemas import RepurposeRequest
    from hygeia.evidence.service import repurpose as run

    request = RepurposeRequest(query=query, kind=kind, k=k, exclude_known=exclude_known)
    result = run(request, None, _echo_progress, cli_ready(_model_folder()))
    typer.echo(result.model_dump_json(indent=2))


@app.command("drift-reference")
def drift_reference(
    data: Path = typer.Option(None, help="evidence data folder (default: DATA_DIR/evidence)"),
    version: str = typer.Option(None, help="model version whose card gets the reference (default newest)"),
) -> None:
    """Store the query-mix and candidate-confidence histograms the drift monitor compares live
    traffic with in the model's card.json (needs the built index; the model's sha256 is unchanged)."""
    from hygeia.evidence import drift
    from hygeia.evidence.runtime import cli_ready
    from hygeia.evidence.service import prior_confidences
    from hygeia.evidence.sources import load_pubmedqa

    folder = _model_folder(version)
    r = cli_ready(folder)
    questions = [a.question for a in load_pubmedqa(_data_root(data) / "pubmedqa")]
    mix = drift.benchmark_query_mix(r, questions)
    confidences = drift.reference_confidences(r, prior_confidences, lambda m: typer.echo(m, err=True))
    histograms = drift.reference(mix, confidences)
    drift.write_reference(folder, histograms)
    typer.echo(json.dumps({"questions": len(mix), "candidates": len(confidences), **histograms}))
