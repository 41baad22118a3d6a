"""Deployment files are checked against real schemas (Kubernetes 1.37 OpenAPI, compose-spec)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_kubernetes_manifests_validate_strictly():
    manifests = sorted(str(p) for p in (DEPLOY / "k8s").glob("*.yaml"))
    result = _run(str(BIN / "kubernetes-validate"), "--strict", *manifests)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == 12


def test_kubernetes_validation_catches_a_broken_manifest(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        (DEPLOY / "k8s" / "api.yaml").read_text().replace("containerPort: 8000", "containerPort: x")
    )
    assert _run(str(BIN / "kubernetes-validate"), "--strict", str(broken)).returncode != 0


def test_api_probes_use_health_and_ready():
    documents = list(yaml.safe_load_all((DEPLOY / "k8s" / "api.yaml").read_text()))
    container = documents[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert {"HorizontalPodAutoscaler", "Service", "Deployment"} == {d["kind"] for d in documents}


def test_compose_file_matches_compose_spec():
    result = _run(
        str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(DEPLOY / "compose.yaml")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
    assert set(services) == {"api", "worker", "beat", "postgres", "redis"}


def _documents(name: str) -> list[dict]:
    return list(yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()))


def test_api_pods_never_bootstrap_and_the_first_key_comes_from_a_secret():
    api = _documents("api.yaml")[0]["spec"]["template"]["spec"]["containers"][0]
    assert "--no-bootstrap" in api["args"]
    [job] = _documents("bootstrap.yaml")
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert job["kind"] == "Job" and container["args"] == ["hygeia", "bootstrap"]
    assert {"secretRef": {"name": "hygeia-bootstrap"}} in container["envFrom"]


def test_one_beat_tls_ingress_and_a_persistent_redis():
    [beat] = _documents("beat.yaml")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    [ingress] = _documents("ingress.yaml")
    assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"]
    assert ingress["spec"]["tls"][0]["secretName"] == "hygeia-tls"
    redis = _documents("redis.yaml")[0]
    assert "--appendonly" in redis["spec"]["template"]["spec"]["containers"][0]["args"]
