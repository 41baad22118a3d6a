"""Property-based fuzzing of the whole OpenAPI with schemathesis: no 5xx, every error is problem+json.

Runs as the platform admin so authorised code paths are reached, not just the 401 gate. Operations
are enumerated from the live schema, so every route a domain adds is fuzzed without editing this file.
"""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from tests.conftest import REPO_ROOT, auth_header, reset_caches
from tests.unit.evidence.corpus_fixture import write_corpus

EXAMPLES_PER_OPERATION = 12


def _fuzz(operation, headers: dict[str, str], failures: list[str], calls: list[int]) -> None:
    @given(case=operation.as_strategy())
    # derandomize: the same cases every run, so a CI failure reproduces (and cannot come and go)
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case) -> None:
        response = case.call(headers=headers)
        calls.append(response.status_code)
        label = f"{case.method} {case.formatted_path} -> {response.status_code}"
        if response.status_code >= 500:
            failures.append(f"{label}: {response.text[:200]}")
        elif response.status_code >= 400:
            content_type = (response.headers.get("content-type") or [""])[0]
            if not content_type.startswith("application/problem+json"):
                failures.append(f"{label}: not problem+json")

    run()


def _build_evidence_index(data_dir, monkeypatch) -> None:
    """A full (BM25 + dense) evidence index of the fixture corpus, so evidence routes are fuzzed past
    their "index not built" 503; DATA_DIR points at that corpus, so fuzzed rebuilds stay small."""
    from hygeia.evidence.runtime import index_dir
    from hygeia.evidence.store import build_index

    monkeypatch.setenv("HYGEIA_DATA_DIR", str(data_dir))
    reset_caches()
    corpus = write_corpus(data_dir / "evidence")
    build_index(corpus, index_dir(), encoder_dir=REPO_ROOT / "models/evidence/1.0.0")


def test_no_server_errors_and_problem_json(platform, tmp_path, monkeypatch):
    from hygeia.app import create_app

    _build_evidence_index(tmp_path / "data", monkeypatch)
    app = create_app()
    headers = auth_header(platform.admin_key)
    failures: list[str] = []
    calls: list[int] = []
    with TestClient(app):
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 15
        for operation in operations:
            _fuzz(operation, headers, failures, calls)
    assert len(calls) >= 3 * len(operations)
    assert any(code < 400 for code in calls), "fuzzing never got past validation/auth"
    assert not failures, "\n".join(sorted(set(failures))[:30])
