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
METRIC = re.compile(r"\bhygeia_[a-z_]+")
EXPORTED_SUFFIXES = ("_bucket", "_count", "_sum")


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
    names: set[str] = set()
    for source in (ROOT / "src" / "hygeia").rglob("*.py"):
        names |= set(re.findall(r'["\'](hygeia_[a-z_]+)["\']', source.read_text()))
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
    assert {"hygeia_jobs_oldest_queued_seconds", "hygeia_readiness_ok"} <= exported
