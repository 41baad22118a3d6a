"""Drug-safety signal detection: score drug-event pairs (PRR, ROR, IC, MGPS/EBGM), ingest FAERS."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from hygeia.core.cli import ProblemExits, fail

# ProblemExits: a SignalDataError (a ProblemError) from any command ends as one line and exit 2, also
# when this group runs on its own (tests, `python -m`), not only under the root `hygeia` group.
app = typer.Typer(cls=ProblemExits, help=__doc__, no_args_is_help=True)


def _hyperparameter_json(run: object) -> str:
    from hygeia.signals.scoring import ScoredRun

    assert isinstance(run, ScoredRun)
    summary = run.summary()
    body = {
        **(summary["hyperparameters"] or {}),
        "fit": summary["fit"],
        "pairs": summary["pairs"],
        "reports": summary["reports"],
        "notes": summary["notes"],
    }
    return json.dumps(body, default=float)


def _write_fit_summary(run: object, path: Path) -> None:
    """The fit summary CSV: which rule chose the prior, agreement, every start and optimum."""
    from hygeia.core.exports import write_safe_csv
    from hygeia.signals.scoring import ScoredRun

    assert isinstance(run, ScoredRun)
    rows = run.fit_rows()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="") as handle:
        write_safe_csv(handle, fields, rows)


@app.command(context_settings={"allow_extra_args": True})
def score(
    ctx: typer.Context,
    input_csv: Path = typer.Argument(..., metavar="INPUT.csv", help="case-level rows: id, drug, event"),
    output: Path = typer.Option(..., "-o", "--output", help="scored pairs, one row per pair with N > 0"),
    strata: list[str] = typer.Option(
        None, "--strata", help="stratification columns for E (repeat the option or list them after it)"
    ),
    counts: bool = typer.Option(False, "--counts", help="INPUT is a count table (drug,event,n or MDDC wide)"),
    digits: int = typer.Option(2, min=0, max=12, help="EBGM/EB05/EB95 rounding (openEBGM's default 2)"),
    exact: bool = typer.Option(False, help="unrounded EBGM and exact quantiles instead of openEBGM's"),
    squash: str = typer.Option("auto", help="auto | none | autosquash (data squashing for the fit)"),
    fit: str = typer.Option(
        "consistent",
        help="consistent: openEBGM's autoHyper rule (default); global: best single-start likelihood",
    ),
    fit_summary: Path = typer.Option(
        None, help="fit summary CSV (rule, agreeing starts, alternatives); default OUTPUT with .fit.csv"
    ),
) -> None:
    """Score every drug-event pair; the fit summary goes to a CSV beside the output and to stderr (JSON).

    Without a consistent MGPS optimum the EBGM/EB05/EB95 columns are empty and the summary says why.
    """
    from hygeia.signals.reports import read_case_table, read_counts
    from hygeia.signals.scoring import ScoringOptions, score_cases, score_count_table, write_output

    strata = [*(strata or []), *(ctx.args if strata else [])]
    if ctx.args and not strata:
        fail(f"unexpected extra arguments {ctx.args}")
    if squash not in ("auto", "none", "autosquash"):
        fail("--squash must be auto, none or autosquash")
    if fit not in ("consistent", "global"):
        fail("--fit must be consistent or global")
    options = ScoringOptions(
        strata=tuple(strata),
        digits=None if exact else digits,
        squash=squash,  # type: ignore[arg-type]
        fit_rule=fit,  # type: ignore[arg-type]
    )
    try:
        if counts:
            run = score_count_table(read_counts(input_csv), options, source=str(input_csv))
        else:
            run = score_cases(read_case_table(input_csv, strata), options, source=str(input_csv))
    except ValueError as exc:  # not a ProblemError: e.g. a table with no pair to fit
        fail(str(exc))
    write_output(run, str(output))
    _write_fit_summary(run, fit_summary or output.with_suffix(".fit.csv"))
    sys.stderr.write(_hyperparameter_json(run) + "\n")


@app.command("score-pair")
def score_pair(
    drug: str = typer.Option(..., help="drug name"),
    event: str = typer.Option(..., help="event (reaction) term"),
    n: int = typer.Option(..., help="reports naming both"),
    n_drug: int = typer.Option(..., help="reports naming the drug"),
    n_event: int = typer.Option(..., help="reports naming the event"),
    n_total: int = typer.Option(..., help="reports in the database"),
    prior: str = typer.Option(
        "", help="MGPS prior 'alpha1,beta1,alpha2,beta2,P' (e.g. from a run's summary); none: no EBGM"
    ),
    labelled: bool = typer.Option(False, help="a known (labelled) reaction"),
) -> None:
    """Scores of one drug-event pair from its counts and margins, as one JSON object."""
    from hygeia.signals.mgps import Hyperparameters
    from hygeia.signals.pair_scores import PairCount, pair_response, score_pairs

    hyper = None
    if prior:
        try:
            hyper = Hyperparameters(*(float(v) for v in prior.split(",")))
        except (TypeError, ValueError):
            fail("--prior must be five numbers: alpha1,beta1,alpha2,beta2,P")
    pair = PairCount(drug, event, n, n_drug, n_event, n_total, labelled)
    result = score_pairs([pair], hyper)[0]
    if result.get("error"):
        fail(result["error"])
    typer.echo(json.dumps(pair_response(result)))


@app.command("ingest-faers")
def ingest_faers_command(
    path: Path = typer.Argument(
        ...,
        help="FAERS quarterly ASCII zip or extracted folder (several quarters ok), "
        "or FAERS XML (E2B) files or a folder of them",
    ),
    output: Path = typer.Option(None, "-o", "--output", help="case-level CSV (default: standard output)"),
    roles: str = typer.Option("PS,SS", help="drug roles to keep: any of PS,SS,C,I"),
    keep_salts: bool = typer.Option(False, help="keep salt words (e.g. HYDROCHLORIDE) in drug names"),
    skip_bad_lines: bool = typer.Option(False, help="skip malformed lines (they are listed in the report)"),
) -> None:
    """FAERS tables (ASCII or XML) to case-level rows (id, drug, event, ...); the report goes to stderr."""
    from hygeia.signals.e2b import ingest_e2b, is_e2b
    from hygeia.signals.faers import ingest_faers

    wanted = [r.strip().upper() for r in roles.split(",") if r.strip()]
    if is_e2b(path):
        cases, report = ingest_e2b(path, wanted, strip_salts=not keep_salts)
    else:
        cases, report = ingest_faers(
            path, wanted, strip_salts=not keep_salts, on_bad_lines="skip" if skip_bad_lines else "error"
        )
    cases.to_csv(output if output is not None else sys.stdout, index=False)
    sys.stderr.write(json.dumps(report.as_dict()) + "\n")


@app.command("score-faers")
def score_faers(
    path: Path = typer.Argument(
        ..., help="folder (or zip) of FAERS quarterly ASCII extracts; the whole history is fine"
    ),
    output: Path = typer.Option(..., "-o", "--output", help="ranked pairs: .parquet, .csv or .csv.gz"),
    roles: str = typer.Option("PS,SS", help="drug roles to keep: any of PS,SS,C,I"),
    keep_salts: bool = typer.Option(False, help="keep salt words (e.g. HYDROCHLORIDE) in drug names"),
    skip_bad_lines: bool = typer.Option(False, help="skip malformed lines (they are listed in the report)"),
    strata: str = typer.Option("", help="stratify E by any of quarter,sex,age_group (comma-separated)"),
    known: Path = typer.Option(None, "--known", help="CSV of labelled drug,event pairs (not novel)"),
    fit: str = typer.Option("consistent", help="consistent (openEBGM's rule) or global"),
    summary: Path = typer.Option(None, help="run summary JSON (ingest report, fit, counts); default stderr"),
) -> None:
    """Count, score and rank a FAERS history one table file at a time, with a progress bar.

    Same rules and numbers as `ingest-faers` + `score` + `rank`, but only integer codes stay in memory,
    so the full history (~10^8 report-drug-event rows) fits on one machine (benchmarks/signals).
    """
    from hygeia.signals.columnar import write_table
    from hygeia.signals.faers_history import count_faers_history
    from hygeia.signals.priority import explanations, load_known_pairs, prioritise, priority_order
    from hygeia.signals.scoring import ScoringOptions, score_counts

    if fit not in ("consistent", "global"):
        fail("--fit must be consistent or global")
    with typer.progressbar(length=1000, label="FAERS history", file=sys.stderr) as bar:

        def progress(fraction: float, message: str) -> None:
            bar.label = message[:70]
            bar.update(int(fraction * 1000) - bar.pos)

        history = count_faers_history(
            str(path),
            [r.strip().upper() for r in roles.split(",") if r.strip()],
            strip_salts=not keep_salts,
            strata=[s.strip() for s in strata.split(",") if s.strip()],
            on_bad_lines="skip" if skip_bad_lines else "error",
            progress=progress,
        )
    run = score_counts(history.counts, ScoringOptions(fit_rule=fit))  # type: ignore[arg-type]
    context, ingest, periods = history.context, history.report, history.periods
    del history  # the counts: scored now
    labelled = load_known_pairs(known) if known else None
    ranked = prioritise(run.table, known=labelled, context=context, explain=False, ordered=False)
    body = json.dumps({**run.summary(), "periods": periods, "ingest": ingest.as_dict()})
    del run, context  # only the ranked table is written: in priority order, a chunk at a time
    write_table(
        ranked,
        output,
        extra=lambda chunk: {"explanation": explanations(chunk)},
        chunk_rows=250_000,
        order=priority_order(ranked),
    )
    if summary is None:
        sys.stderr.write(body + "\n")
    else:
        summary.write_text(body)


@app.command()
def rank(
    scored_csv: Path = typer.Argument(..., help="output of `hygeia signals score`"),
    output: Path = typer.Option(..., "-o", "--output"),
    cases_csv: Path = typer.Option(None, "--cases", help="case-level CSV with serious/death/quarter columns"),
    known: Path = typer.Option(None, "--known", help="CSV of labelled drug,event pairs (not novel)"),
) -> None:
    """Alert levels and an explained priority score for every scored pair, highest first."""
    import pandas as pd

    from hygeia.signals.columnar import csv_delimiter
    from hygeia.signals.priority import load_known_pairs, prioritise

    scored = pd.read_csv(scored_csv, keep_default_na=False, na_values=[""])
    cases = None
    if cases_csv:
        cases = pd.read_csv(cases_csv, sep=csv_delimiter(cases_csv), dtype=str, keep_default_na=False)
    ranked = prioritise(scored, cases, load_known_pairs(known) if known else None)
    from hygeia.signals.columnar import write_table

    write_table(ranked, output)  # spreadsheet-safe CSV, or Parquet for a .parquet path


@app.command("evaluate-refset")
def evaluate_refset_command(
    output: Path = typer.Option(None, "-o", "--output", help="markdown report (default: standard output)"),
    data_dir: Path = typer.Option(None, help="default: HYGEIA_DATA_DIR"),
) -> None:
    """Score the MDDC FAERS tables and check the signals against the OMOP / EU-ADR reference sets."""
    from hygeia.signals.evaluation import evaluate_reference_sets, render_report

    report = render_report(evaluate_reference_sets(data_dir))
    if output is None:
        typer.echo(report)
    else:
        output.write_text(report)
