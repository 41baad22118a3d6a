"""Alert rules and dashboards: valid for Prometheus, unit-tested, and only about metrics we export."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MONITORING = ROOT / "deploy" / "monitoring"
METRIC = re.compile(r"\bhygeia_[a-z0-9_]+")
EXPORTED_SUFFIXES = ("_bucket", "_count", "_sum")
DEFINED = re.compile(  # a name given to a metric constructor, not any string that looks like one
    r"\b(?:Counter|Gauge|Histogram|Summary|\w+MetricFamily)\(\s*[\"'](hygeia_[a-z0-9_]+)[\"']"
)
CAPABILITIES = ("toxicity", "signals", "dermatology", "evidence", "agents")


def _promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("HYGEIA_REQUIRE_PROMTOOL") == "1":
            pytest.fail("promtool is required (apt-get install prometheus)")
        pytest.skip("promtool not installed (apt-get install prometheus)")
    return found


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=MONITORING, capture_output=True, text=True, timeout=120)


def test_alert_rules_are_valid_prometheus_rules():
    result = _run(_promtool(), "check", "rules", "alerts.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout


def test_alert_rules_pass_their_unit_tests():
    result = _run(_promtool(), "test", "rules", "alerts-test.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_runbook_section_in_the_operations_guide():
    operations = (ROOT / "docs" / "operations.md").read_text()
    anchors = {line[4:].strip().lower() for line in operations.splitlines() if line.startswith("### ")}
    rules = [
        r for g in yaml.safe_load((MONITORING / "alerts.yaml").read_text())["groups"] for r in g["rules"]
    ]
    for rule in rules:
        assert rule["annotations"]["runbook_url"] == f"docs/operations.md#{rule['alert'].lower()}"
        assert rule["alert"].lower() in anchors, f"no runbook section for {rule['alert']}"


def _exported_metric_names() -> set[str]:
    """Names given to a metric constructor (or a scrape-time metric family) somewhere in src/hygeia."""
    names: set[str] = set()
    for source in (ROOT / "src" / "hygeia").rglob("*.py"):
        names |= set(DEFINED.findall(source.read_text()))
    return names


def _referenced(text: str) -> set[str]:
    referenced = set()
    for name in METRIC.findall(text):
        for suffix in EXPORTED_SUFFIXES:
            name = name.removesuffix(suffix)
        referenced.add(name)
    return referenced


def test_alerts_and_dashboards_only_use_metrics_hygeia_exports():
    exported = _exported_metric_names()
    texts = [(MONITORING / "alerts.yaml").read_text()]
    for board in sorted((MONITORING / "dashboards").glob("*.json")):
        dashboard = json.loads(board.read_text())
        assert dashboard["uid"].startswith("hygeia-") and dashboard["panels"]
        texts += [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    unknown = set().union(*(_referenced(text) for text in texts)) - exported
    assert not unknown, f"metrics nobody exports: {sorted(unknown)}"
    assert {
        "hygeia_jobs_oldest_queued_seconds",
        "hygeia_readiness_ok",
        "hygeia_agent_tool_calls_total",
    } <= exported


def _panels(name: str) -> dict[str, set[str]]:
    """Panel title -> the metrics its queries read."""
    dashboard = json.loads((MONITORING / "dashboards" / f"{name}.json").read_text())
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), f"{name}: duplicate panel ids"
    return {
        panel["title"]: set().union(*(_referenced(target["expr"]) for target in panel["targets"]))
        for panel in dashboard["panels"]
    }


def test_platform_jobs_and_one_dashboard_per_capability():
    boards = {path.stem for path in (MONITORING / "dashboards").glob("*.json")}
    assert boards == {"platform", "jobs", *CAPABILITIES}
    for capability in CAPABILITIES:
        panels = _panels(capability)
        assert all(panels.values()), f"{capability}: a panel without a hygeia metric"


def test_capability_dashboards_plot_what_the_issue_asks_for():
    """Score distributions, signal alert levels, derm rejections, agent latency and tool failures."""
    wanted = {
        "toxicity": {"hygeia_predictions_total", "hygeia_prediction_score"},
        "dermatology": {
            "hygeia_predictions_total",
            "hygeia_prediction_score",
            "hygeia_capability_decisions_total",
        },
        "evidence": {"hygeia_prediction_score"},
        "signals": {
            "hygeia_signal_runs_total",
            "hygeia_signal_run_seconds",
            "hygeia_capability_decisions_total",
            "hygeia_signal_pairs_by_ic025_total",
        },
        "agents": {
            "hygeia_capability_decisions_total",
            "hygeia_http_request_duration_seconds",
            "hygeia_agent_tool_calls_total",
        },
    }
    for capability, metrics in wanted.items():
        plotted = set().union(*_panels(capability).values())
        assert metrics <= plotted, f"{capability} lacks {sorted(metrics - plotted)}"
