"""Dermatoscopic lesion triage: train, predict, write model cards (research use, not a diagnosis).

Imports stay inside the commands: `train` must start on a GPU machine that has torch but not the
serving stack, and `predict` must never import torch.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer

from hygeia.core.exports import write_safe_csv

app = typer.Typer(help=__doc__, no_args_is_help=True)

CSV_COLUMNS = [
    "image", "status", "prediction", "akiec", "bcc", "bkl", "df", "mel", "nv", "vasc",
    "uncertain", "risk_group", "action", "rejection", "error",
]  # fmt: skip


def _default_data_dir() -> Path:
    from hygeia.settings import get_settings

    return get_settings().data_dir / "derm"


def _default_model_root() -> Path:
    from hygeia.settings import get_settings

    return get_settings().models_dir / "dermatology"


@app.command()
def train(
    data_dir: Path = typer.Option(None, help="folder with labels.csv and images/ (default: DATA_DIR/derm)"),
    out: Path = typer.Option(None, help="model folder to write (default: MODELS_DIR/dermatology/VERSION)"),
    version: str = typer.Option("1.0.0"),
    epochs: int = typer.Option(60, min=1),
    batch_size: int = typer.Option(64, min=2),
    lr: float = typer.Option(6e-4),
    max_minutes: float = typer.Option(60.0, help="stop training after this long, keeping the best epoch"),
    freeze_backbone: bool = typer.Option(False, help="train only the head (CPU fallback)"),
    limit_per_split: int = typer.Option(0, help="smoke test on the first N images of each split; 0 = all"),
    device: str = typer.Option("auto", help="auto (cuda if available), cuda or cpu"),
    holdout_source: str = typer.Option(
        None, help="leave-one-source-out: this HAM10000 `dataset` (e.g. rosendahl) becomes the test split"
    ),
    card: bool = typer.Option(True, help="also write card.json/MODEL_CARD.md (needs the serving stack)"),
    with_outcomes: bool = typer.Option(
        False,
        "--with-outcomes",
        help="fine-tune production on its own split plus the named tenants' consented outcome images and "
        "register a staging candidate compared with production (never promoted); default --out "
        "<var_dir>/registry/dermatology/<version>, default --version <production>+outcomes.<time>",
    ),
    tenant: list[str] = typer.Option(None, "--tenant", help="with --with-outcomes: whose outcomes (repeat)"),
    outcome_holdout: float = typer.Option(
        0.3, min=0.0, max=0.9, help="with --with-outcomes: share of outcome images held out for scoring"
    ),
    tiny: bool = typer.Option(
        False, help="with --with-outcomes: 5 images a class per split, 2 epochs: checks the pipeline on a CPU"
    ),
) -> None:
    """Fine-tune EfficientNet-Lite0 on the lesion-level split, calibrate, evaluate, export ONNX."""
    if with_outcomes:  # refusals come before torch is imported, so they read the same without it
        _retrain(data_dir, out, None if version == "1.0.0" else version, tenant or [], outcome_holdout, tiny)
        return
    from hygeia.dermatology.training import TrainConfig, run_training

    config = TrainConfig(
        data_dir=data_dir or _default_data_dir(),
        out_dir=out or _default_model_root() / version,
        version=version,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        max_minutes=max_minutes,
        freeze_backbone=freeze_backbone,
        limit_per_split=limit_per_split or None,
        device=device,
        holdout_source=holdout_source,
    )
    folder = run_training(config, log=lambda line: typer.echo(line, err=True))
    if card:
        write_model_card(folder)


def _retrain(
    data_dir: Path | None,
    out: Path | None,
    version: str | None,
    tenants: list[str],
    holdout: float,
    tiny: bool,
) -> None:
    from hygeia.core.cli import fail
    from hygeia.dermatology.retraining import RetrainRecipe, headline, retrain

    if not tenants:
        fail("--with-outcomes needs --tenant: name each tenant whose outcome images may train the candidate")
    recipe = RetrainRecipe(tuple(tenants), data_dir or _default_data_dir(), holdout, tiny=tiny)
    card = retrain(recipe, out=out, version=version, log=lambda line: typer.echo(line, err=True))
    typer.echo(f"candidate {card['name']} {card['version']} registered in staging: {headline(card)}")


@app.command("card")
def write_model_card(folder: Path = typer.Argument(..., help="a model folder written by `train`")) -> None:
    """(Re)write card.json with artifact hashes and MODEL_CARD.md from the folder's training report."""
    from hygeia.dermatology.card import publish_card

    card = publish_card(folder)
    typer.echo(f"card written: {card['name']} {card['version']} sha256 {card['sha256'][:12]}")


@app.command()
def evaluate(
    folder: Path = typer.Argument(..., help="a model folder with split.csv"),
    data_dir: Path = typer.Option(None, help="default: DATA_DIR/derm (the original images)"),
    card: bool = typer.Option(True, help="rewrite card.json/MODEL_CARD.md to include the result"),
    logits_dir: Path = typer.Option(None, help="also save the per-view logits here (.npy)"),
) -> None:
    """Re-score val/test through the serving path (ONNX Runtime, original images), as a check."""
    from hygeia.dermatology.served_evaluation import evaluate_folder

    report = evaluate_folder(
        folder,
        data_dir or _default_data_dir(),
        log=lambda line: typer.echo(line, err=True),
        logits_dir=logits_dir,
    )
    test = report["metrics"]["test"]
    typer.echo(f"test balanced accuracy {test['balanced_accuracy']:.4f}, macro AUC {test['macro_auc']:.4f}")
    if card:
        write_model_card(folder)


@app.command("refit-decision")
def refit_decision(
    source: Path = typer.Argument(..., help="model folder whose network is kept (models/dermatology/X)"),
    version: str = typer.Option(..., help="the new version, written beside the source"),
    data_dir: Path = typer.Option(None, help="default: DATA_DIR/derm (the original images)"),
) -> None:
    """Refit the decision rule and referral thresholds on validation, as a new version (no training)."""
    from hygeia.dermatology.revision import refit_decision as refit

    log = lambda line: typer.echo(line, err=True)  # noqa: E731
    folder = refit(source, version, data_dir or _default_data_dir(), log=log)
    card = json.loads((folder / "card.json").read_text())
    typer.echo(json.dumps({"folder": str(folder), "metrics": card["metrics"]}, indent=2))


@app.command("drift-reference")
def drift_reference(
    folder: Path = typer.Argument(..., help="model folder with split.csv (models/dermatology/X)"),
    data_dir: Path = typer.Option(None, help="default: DATA_DIR/derm (the original images)"),
    limit: int = typer.Option(0, help="first N validation images; 0 = all"),
) -> None:
    """Store the served model's output histograms on the validation split in card.json (for drift)."""
    from hygeia.dermatology.drift import write_reference

    histograms = write_reference(
        folder, data_dir or _default_data_dir(), limit, log=lambda line: typer.echo(line, err=True)
    )
    typer.echo(json.dumps(histograms))


@app.command("add-gate")
def add_gate(
    source: Path = typer.Argument(..., help="model folder whose network is kept (models/dermatology/X)"),
    version: str = typer.Option(..., help="the new version, written beside the source"),
    data_dir: Path = typer.Option(None, help="default: DATA_DIR/derm (the original images)"),
    cache_dir: Path = typer.Option(None, help="reuse/save embeddings and logits here (.npy)"),
) -> None:
    """Fit the input gate (quality limits + feature-space OOD detector) as a new version (no training)."""
    from hygeia.dermatology.gate_fit import add_gate as fit

    log = lambda line: typer.echo(line, err=True)  # noqa: E731
    folder = fit(source, version, data_dir or _default_data_dir(), cache_dir, log=log)
    gate = json.loads((folder / "gate.json").read_text())
    typer.echo(json.dumps({"folder": str(folder), "threshold": gate["threshold"], **gate["real_images"]}))


@app.command()
def quantize(
    source: Path = typer.Argument(..., help="model folder whose float graph is quantised"),
    version: str = typer.Option(..., help="the new version, written beside the source"),
    data_dir: Path = typer.Option(None, help="default: DATA_DIR/derm (training images for calibration)"),
) -> None:
    """int8 static quantisation (an option; benchmarks/dermatology/int8.py measures its cost). The new
    folder has no gate, evaluation or card: it is not servable as it is."""
    from hygeia.dermatology.quantize import quantize_folder

    folder = quantize_folder(source, version, data_dir or _default_data_dir())
    typer.echo(f"{folder}: int8 graph written (no gate or card: for measurement, not yet servable)")


@app.command()
def pack(
    out: Path = typer.Argument(..., help="git-ignored folder to write, e.g. .derm_pack"),
    data_dir: Path = typer.Option(None, help="default: DATA_DIR/derm"),
    quality: int = typer.Option(80, min=50, max=100),
) -> None:
    """Re-encode the training images compactly for a remote GPU trainer (never commit the output)."""
    from hygeia.dermatology.pack import pack_images

    total = pack_images(data_dir or _default_data_dir(), out, quality)
    typer.echo(f"{out}: {total / 2**20:.1f} MiB")


def _skipped_note(skipped: list[Path]) -> str:
    """Files in the folders that are not .jpg/.jpeg/.png, counted by suffix: a folder of .tif or .heic
    photographs must not read as an empty or complete run."""
    if not skipped:
        return ""
    suffixes = Counter(p.suffix.lower() or "no suffix" for p in skipped)
    listed = ", ".join(f"{n} {suffix}" for suffix, n in suffixes.most_common())
    return f"; skipped {len(skipped)} file(s) in the folders that are not .jpg/.jpeg/.png ({listed})"


@app.command()
def predict(
    paths: list[Path] = typer.Argument(..., help="image files or folders (searched recursively)"),
    output: Path = typer.Option(..., "-o", "--output", help="CSV to write, one row per image"),
    model: Path = typer.Option(None, help="model folder (default: newest under MODELS_DIR/dermatology)"),
    heatmaps: Path = typer.Option(None, help="folder for Grad-CAM overlay PNGs (none if omitted)"),
) -> None:
    """Classify images into the 7 classes; unreadable images get a row with the error, not a crash."""
    from hygeia.core.cli import fail
    from hygeia.dermatology import service

    # a ProblemError (no model, a broken one) ends in the root group's one-line exit, like every command's
    classifier = service.classifier_from_folder(model or service.newest_bundled_folder())
    found = service.collect_image_paths(paths)
    skipped = _skipped_note(found.skipped)
    if not found.images:
        fail(f"no .jpg/.jpeg/.png files found{skipped}")
    if heatmaps:
        heatmaps.mkdir(parents=True, exist_ok=True)
    rows = service.predict_paths(classifier, found.images, heatmap_dir=heatmaps)
    with output.open("w", newline="") as handle:
        write_safe_csv(handle, CSV_COLUMNS, rows)  # an image named "=..." stays text in a spreadsheet
    failed = sum(1 for row in rows if row["status"] == "error")
    refused = sum(1 for row in rows if row["status"] == "rejected")
    typer.echo(
        f"{len(rows)} images -> {output} ({refused} rejected by the input gate, {failed} errors){skipped}"
    )
    typer.echo(service.NOT_A_DIAGNOSIS, err=True)
