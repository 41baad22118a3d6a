"""Tox21 toxicity: train the model, predict CSV/SMILES/SDF files, explain one molecule, evaluate on labels."""

from __future__ import annotations

from pathlib import Path

import typer

from hygeia.core.cli import fail
from hygeia.settings import get_settings
from hygeia.toxicity import CHEMISTRY_SCOPES, ORGANIC_SCOPE

app = typer.Typer(no_args_is_help=True)
DEFAULT_VERSION = "2.13.0"


def _log(message: str) -> None:
    typer.echo(message, err=True)


def train(
    data: Path = typer.Option(None, help="Tox21 CSV; default <data_dir>/tox21/tox21.csv"),
    out: Path = typer.Option(None, help="artifact folder; default <models_dir>/toxicity/<version>"),
    version: str = typer.Option(DEFAULT_VERSION, help="model version written into the card"),
    folds: int = typer.Option(5, min=2, max=10, help="scaffold CV folds"),
    seed: int = typer.Option(2026, help="fold-assignment and LightGBM seed"),
    limit: int = typer.Option(None, min=50, help="train on the first N rows only (smoke tests)"),
    scope: str = typer.Option(
        ORGANIC_SCOPE,
        help=f"chemistry scope the rows are standardised under: {' or '.join(CHEMISTRY_SCOPES)} (the "
        "latter: the compounds, and so the scaffold folds, of models up to 2.6.0 and of 2.10.0-2.13.0)",
    ),
    force: bool = typer.Option(False, help="overwrite an existing artifact folder"),
    with_outcomes: bool = typer.Option(
        False,
        "--with-outcomes",
        help="add the named tenants' accepted assay outcomes as training rows and register the result "
        "as a staging candidate compared with production (never promoted); default --out "
        "<var_dir>/registry/toxicity/<version>, default --version <production>+outcomes.<time>",
    ),
    tenant: list[str] = typer.Option(None, "--tenant", help="with --with-outcomes: whose outcomes (repeat)"),
    outcome_holdout: float = typer.Option(
        0.3, min=0.0, max=0.9, help="with --with-outcomes: share of outcome scaffolds held out for scoring"
    ),
    smoke: bool = typer.Option(
        False, help="with --with-outcomes: one 30-round member, to check the pipeline (not a model to ship)"
    ),
) -> None:
    """Scaffold-CV the baseline and the ensemble, calibrate, fit on all data, write the model folder."""
    from hygeia.toxicity.artifact import write_artifact
    from hygeia.toxicity.training import run_training

    if scope not in CHEMISTRY_SCOPES:
        fail(f"unknown chemistry scope {scope!r}; choose one of {', '.join(CHEMISTRY_SCOPES)}")

    settings = get_settings()
    data = data or settings.data_dir / "tox21" / "tox21.csv"
    if not data.is_file():
        fail(f"training data {data} not found (set --data or HYGEIA_DATA_DIR)")
    if with_outcomes:
        explicit = version if version != DEFAULT_VERSION else None
        _retrain(data, out, explicit, tenant or [], folds, seed, limit, outcome_holdout, smoke)
        return
    out = out or settings.models_dir / "toxicity" / version
    if out.exists() and any(out.iterdir()) and not force:
        fail(f"{out} already holds a model; pick another --version or pass --force")
    run = run_training(data, n_folds=folds, seed=seed, limit=limit, log=_log, scope=scope)
    card = write_artifact(run, out, version, data, force=force)
    shipped = card["metrics"]["scaffold_cv"]["shipped"]["mean_over_endpoints"]
    typer.echo(
        f"wrote {out} (sha256 {card['sha256'][:12]}); scaffold-CV mean ROC-AUC "
        f"{shipped['roc_auc']['mean']:.4f}, PR-AUC {shipped['pr_auc']['mean']:.4f}"
    )


app.command("train")(train)


def _retrain(
    data: Path,
    out: Path | None,
    version: str | None,
    tenants: list[str],
    folds: int,
    seed: int,
    limit: int | None,
    holdout: float,
    smoke: bool,
) -> None:
    from hygeia.toxicity.retraining import RetrainRecipe, headline, retrain

    if not tenants:
        fail("--with-outcomes needs --tenant: name each tenant whose outcomes may train the candidate")
    if out is not None and out.exists() and any(out.iterdir()):
        fail(f"{out} already holds a model; pick another --out")
    recipe = RetrainRecipe(tuple(tenants), data, folds, seed, limit, holdout, smoke)
    card = retrain(recipe, out=out, version=version, log=_log)
    typer.echo(f"candidate {card['name']} {card['version']} registered in staging: {headline(card)}")


@app.command("predict")
def predict(
    input_path: Path = typer.Argument(..., metavar="INPUT", help="CSV with a smiles column, .smi or .sdf"),
    output: Path = typer.Option(
        ..., "-o", "--output", help="predictions: .csv, .parquet, or .sdf (fields as data items)"
    ),
    model: Path = typer.Option(None, help="use this model folder instead of the registry's production model"),
    chunk_size: int = typer.Option(
        20_000, min=1, help="records in memory at once for .csv / .parquet output (any file length)"
    ),
) -> None:
    """One output row per input record, in order: your own columns (IDs, names, SDF title and fields),
    smiles, the standardised parent scored, 12 endpoint probabilities, the applicability domain
    (nearest_similarity, in_domain, domain_cv_roc_auc), the overall call, conformal sets, error."""
    from hygeia.toxicity import screen
    from hygeia.toxicity.io import InputFileError, read_records, write_predictions
    from hygeia.toxicity.loading import get_model, load_folder
    from hygeia.toxicity.predictor import predict_items

    kind = output.suffix.lower()
    if kind not in (".csv", ".parquet", ".sdf", ".sd"):
        fail(f"unsupported output {output.name}: use .csv, .parquet or .sdf")
    streamed = kind in (".csv", ".parquet") and input_path.suffix.lower() in screen.INPUT_SUFFIXES
    if kind == ".parquet" and not streamed:
        fail(f"Parquet output needs a {', '.join(screen.INPUT_SUFFIXES)} input")
    if streamed and not input_path.is_file():
        fail(f"input file {input_path} does not exist")
    try:
        records = [] if streamed else read_records(input_path)
    except InputFileError as exc:
        fail(str(exc))
    loaded = load_folder(model) if model else get_model()  # ProblemError: the root group's one error path
    if streamed:  # chunk by chunk, like a screen: a library of any length in bounded memory
        try:
            rows, failed = screen.screen_file(loaded, input_path, output, chunk_size, _log)
        except InputFileError as exc:
            fail(str(exc))
    else:
        results = predict_items(loaded, [r.smiles for r in records], [r.molecule for r in records])
        write_predictions(output, records, results)
        rows, failed = len(results), sum(r.error is not None for r in results)
    _log(f"{rows} rows -> {output} ({failed} with errors); model {loaded.name} {loaded.version}")


@app.command("explain")
def explain(
    smiles: str = typer.Argument(..., help="one SMILES"),
    endpoint: str = typer.Option(..., help="e.g. SR-MMP"),
    output: Path = typer.Option(..., "-o", "--output", help="SVG file to write"),
) -> None:
    """Atom-level explanation of one endpoint's prediction, as a highlighted SVG drawing."""
    from hygeia.toxicity.explain import explain as explain_molecule
    from hygeia.toxicity.loading import get_model
    from hygeia.toxicity.molecules import MoleculeRejection, prepare

    prepared = prepare(smiles)
    if isinstance(prepared, MoleculeRejection):
        fail(str(prepared))
    try:
        result = explain_molecule(get_model(), prepared.mol, endpoint)
    except ValueError as exc:
        fail(str(exc))
    output.write_text(result.svg)
    _log(
        f"wrote {output}: substructure {result.substructure_total:+.3f}, "
        f"descriptors {result.whole_molecule_total:+.3f} log-odds"
    )


@app.command("check-environment")
def check_environment(
    model: Path = typer.Option(None, help="check this model folder instead of the served model"),
) -> None:
    """Does this installation reproduce the model's recorded answers? Exit 0 if so; else the
    difference (standardisation, feature parts, probabilities) and the library versions behind it."""
    from hygeia.toxicity.environment_check import CARD_ENTRY
    from hygeia.toxicity.loading import get_model, load_folder

    loaded = load_folder(model) if model else get_model()  # EnvironmentMismatch: the root's error path
    entry = loaded.card.get(CARD_ENTRY)
    if entry:
        _log(f"{loaded.name} {loaded.version} reproduces its {entry['compounds']} recorded answers here")
    else:
        _log(f"{loaded.name} {loaded.version} records no answers; RDKit is the release its card names")


@app.command("add-environment-check")
def add_environment_check(
    source: Path = typer.Argument(..., help="a trained model folder without the check (2.13.0 and older)"),
    version: str = typer.Option(..., help="the patch version to write, e.g. 2.13.1"),
    out: Path = typer.Option(None, help="default <models_dir>/toxicity/<version>"),
    data: Path = typer.Option(None, help="Tox21 CSV the reference compounds come from"),
) -> None:
    """Write SOURCE's files unchanged as VERSION, plus its answers for reference compounds recorded here;
    refused unless this environment has the library versions SOURCE was trained with."""
    from hygeia.toxicity.dataset import read_tox21
    from hygeia.toxicity.environment_check import add_check

    settings = get_settings()
    data = data or settings.data_dir / "tox21" / "tox21.csv"
    if not data.is_file():
        fail(f"Tox21 data {data} not found (set --data or HYGEIA_DATA_DIR)")
    out = out or settings.models_dir / "toxicity" / version
    try:
        card = add_check(source, out, version, read_tox21(data)["smiles"].tolist())
    except (ValueError, FileExistsError) as exc:
        fail(str(exc))
    _log(f"wrote {out}: {card['name']} {version}, {card['environment_check']['compounds']} reference answers")


@app.command("evaluate")
def evaluate(
    labelled: Path = typer.Argument(
        ...,
        metavar="LABELLED",
        help="CSV or SDF: structures, and 1/0/untested columns named like the endpoints",
    ),
    labels: Path = typer.Option(
        None, help="labels in a file of their own (CSV or tab-separated), matched to LABELLED by ID"
    ),
    id_column: str = typer.Option(None, help="the ID column of --labels (default: its first column)"),
    model: Path = typer.Option(None, help="evaluate this model folder instead of the served model"),
    json_out: Path = typer.Option(None, "--json", help="write the full report here"),
) -> None:
    """Score labelled compounds and report, per endpoint and as the mean over endpoints, ROC-AUC,
    PR-AUC, Brier score, ROC-AUC inside and outside the applicability domain, and the conformal sets'
    error per class; once over every scored compound, once without those likely in the training data.
    The Tox21 challenge's own files: `evaluate tox21_10k_challenge_score.smiles --labels
    tox21_10k_challenge_score.txt`."""
    import json
    from dataclasses import asdict

    from hygeia.toxicity.external_validation import LabelError, join_labels, validate
    from hygeia.toxicity.io import InputFileError, read_records
    from hygeia.toxicity.loading import get_model, load_folder

    try:
        records = read_records(labelled)
    except InputFileError as exc:
        fail(str(exc))
    loaded = load_folder(model) if model else get_model()
    try:
        joined = join_labels(records, labels, id_column) if labels else None
        report = validate(loaded, joined[0] if joined else records)
    except LabelError as exc:
        fail(str(exc))
    if joined:
        report["label_join"] = asdict(joined[1])
    if json_out:
        json_out.write_text(json.dumps(report, indent=2) + "\n")
    typer.echo(_evaluation_table(report))


def _evaluation_table(report: dict) -> str:
    """Novel compounds first: those likely in the training data make every figure optimistic."""
    refused = ", ".join(f"{code} {count}" for code, count in report["refused"].items()) or "none"
    lines = [
        f"{report['model']['name']} {report['model']['version']}: {report['records']} records, "
        f"{report['scored']} scored, refused: {refused} ({report['refused_with_labels']} of them labelled); "
        f"{report['likely_in_training']} likely in the training data (nearest similarity 1.0)",
    ]
    if "label_join" in report:
        join = report["label_join"]
        lines.append(
            f"labels matched to {join['matched']} structures; {join['structures_without_labels']} structures "
            f"without labels, {join['labels_without_structure']} label rows without a structure"
        )
    titles = {"novel": "novel compounds", "all": "all scored compounds, training look-alikes included"}
    for subset, title in titles.items():
        part = report[subset]
        lines += ["", f"{title}: {part['records']}"]
        if not part["records"]:
            continue
        lines.append(
            f"{'endpoint':<14}{'tested':>7}{'actives':>8}  {'ROC-AUC (95 % CI)':<20}{'PR-AUC':>6}{'Brier':>6}"
            f"  ROC-AUC in / out of domain (n)  set error inactive / active at {report['significance']}"
        )
        for endpoint, row in part["endpoints"].items():
            inside, outside = row["in_domain"], row["out_of_domain"]
            sets = row.get("conformal") or {}
            lines.append(
                f"{endpoint:<14}{row['tested']:>7}{row['actives']:>8}  "
                f"{_with_interval(row['roc_auc'], row['roc_auc_ci']):<20}"
                f"{_number(row['pr_auc']):>6}{_number(row['brier']):>6}  "
                f"{_number(inside['roc_auc'])} ({inside['tested']}) / {_number(outside['roc_auc'])} "
                f"({outside['tested']})  {_number(sets.get('error_inactive'))} / "
                f"{_number(sets.get('error_active'))}"
            )
        lines.append(
            f"mean over {part['endpoints_in_mean']} endpoints: ROC-AUC "
            f"{_with_interval(part['mean_roc_auc'], part['mean_roc_auc_ci'])}, "
            f"PR-AUC {_number(part['mean_pr_auc'])}"
        )
        lines += _similarity_lines(part["by_similarity"])
    return "\n".join(lines)


def _similarity_lines(bands: list[dict]) -> list[str]:
    """The card's similarity bands that hold compounds here: this data's ranking beside the card's CV."""
    lines = ["by nearest training similarity: band  compounds  labels  ROC-AUC (card's CV)  Brier  set error"]
    for band in (b for b in bands if b["compounds"]):
        low, high = band["band"]
        lines.append(
            f"  {low:.2f}-{high:.2f}{band['compounds']:>11}{band['labels']:>8}  "
            f"{_number(band['roc_auc'])} ({_number(band['cv_roc_auc'])}){_number(band['brier']):>12}"
            f"{_number(band['conformal_error']):>11}"
        )
    return lines


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _with_interval(value: float | None, interval: list[float] | None) -> str:
    return _number(value) if interval is None else f"{value:.3f} ({interval[0]:.3f}-{interval[1]:.3f})"
