"""The `hygeia signals` command line contract."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from hygeia.signals.cli import app
from hygeia.signals.scoring import SCORED_COLUMNS

runner = CliRunner()


def _cases(tmp_path):
    rows = ["id,drug,event,sex"]
    for i in range(300):
        drug = ["A", "B", "C", "D"][i % 4]
        event = ["E1", "E2", "E3", "E4", "E5"][(i * 7) % 5] if i % 10 else "E1"
        rows.append(f"{i},{drug},{event},{'MF'[i % 2]}")
    path = tmp_path / "cases.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_score_writes_the_contract_columns_and_json_hyperparameters(tmp_path):
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["score", str(_cases(tmp_path)), "-o", str(out), "--strata", "sex"])
    assert result.exit_code == 0, result.output
    scored = pd.read_csv(out)
    assert tuple(scored.columns) == SCORED_COLUMNS
    assert (scored["n"] > 0).all() and len(scored) == len(scored[["drug", "event"]].drop_duplicates())
    fitted = json.loads(result.stderr.strip().splitlines()[-1])
    # four drugs spread evenly over five events: no heterogeneity, so no consistent MGPS optimum;
    # the run says so and falls back to the IC/PRR criteria instead of a best-effort prior
    assert fitted["fit"]["outcome"] == "no consistent optimum"
    assert "consistent convergence failed" in fitted["fit"]["reason"]
    assert scored["ebgm"].isna().all() and scored["ic025"].notna().all()
    summary = pd.read_csv(out.with_suffix(".fit.csv"))
    assert summary.loc[0, "row"] == "chosen" and summary.loc[0, "outcome"] == "no consistent optimum"
    assert (summary["row"] == "start").sum() == 15  # five starts x three optimisers, all shown


@pytest.mark.parametrize("sep", [",", ";"])  # a semicolon: what spreadsheets save in many locales
def test_rank_reads_what_score_writes(tmp_path, sep):
    # the README's pipeline: score the cases, then rank the scored file with the cases and a label list
    cases, scored, ranked = tmp_path / "cases.csv", tmp_path / "scored.csv", tmp_path / "ranked.csv"
    rows = ["id,drug,event,serious,death,quarter"]
    rows += [f"{i},{'AB'[i % 2]},{'EF'[i % 3 == 0]},{i % 5 == 0},False,2022Q{1 + i % 4}" for i in range(120)]
    cases.write_text("\n".join(rows).replace(",", sep) + "\n")
    (known := tmp_path / "known.csv").write_text(f"drug{sep}event\nA{sep}E\n")
    assert runner.invoke(app, ["score", str(cases), "-o", str(scored)]).exit_code == 0
    result = runner.invoke(
        app, ["rank", str(scored), "-o", str(ranked), "--cases", str(cases), "--known", str(known)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(ranked)
    assert len(table) == len(pd.read_csv(scored)) == 4
    assert table["priority"].is_monotonic_decreasing
    pair = table.set_index(["drug", "event"]).loc[("A", "E")]
    assert pair["c_novelty"] == 0.25 and "serious" in pair["explanation"]


def test_strata_may_follow_the_option(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("id,drug,event,sex,age\n1,A,E,F,old\n2,B,E,M,young\n3,A,F,F,young\n")
    out = tmp_path / "o.csv"
    result = runner.invoke(app, ["score", str(path), "-o", str(out), "--strata", "sex", "age"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["score", str(path), "-o", str(out), "stray"])
    assert result.exit_code == 2 and "unexpected extra arguments" in result.output


def test_bad_input_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,drug,event\n1,A,\n")
    result = runner.invoke(app, ["score", str(path), "-o", str(tmp_path / "o.csv")])
    assert result.exit_code == 2
    assert "bad.csv, line 2: empty 'event'" in result.output


def test_ingest_faers_to_csv(tmp_path):
    from tests.unit.signals.test_faers import write_quarter

    out = tmp_path / "cases.csv"
    result = runner.invoke(app, ["ingest-faers", str(write_quarter(tmp_path / "q")), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert list(pd.read_csv(out, dtype=str).columns[:3]) == ["id", "drug", "event"]
    assert json.loads(result.stderr.strip())["cases"] == 2


def test_score_pair_prints_scores_or_the_row_error():
    args = ["score-pair", "--drug", "A", "--event", "B", "--n", "40", "--n-drug", "900", "--n-event", "120"]
    result = runner.invoke(app, [*args, "--n-total", "250000", "--prior", "3.256,0.4,2.0238,1.9061,0.0653"])
    assert result.exit_code == 0, result.output
    scored = json.loads(result.stdout)
    assert scored["prr"] == (40 / 900) / (80 / 249_100) and scored["alert_level"] == "high"
    assert scored["ebgm"] > scored["eb05"] > 2
    unprior = json.loads(runner.invoke(app, [*args, "--n-total", "250000"]).stdout)
    assert unprior["ebgm"] is None and unprior["alert_level"] == "medium"
    bad = runner.invoke(app, [*args, "--n-total", "500"])
    assert bad.exit_code == 2 and "exceed n_total = 500" in bad.output
