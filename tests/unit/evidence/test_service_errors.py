"""Evidence's service raises the core's named errors, which the API turns into problem+json."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from hygeia.core.errors import Conflict, NotFound
from hygeia.evidence import service


def _job(kind: str, status: str, error: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(id="j1", kind=kind, status=status, result=None, error=error)


def test_a_job_of_another_kind_is_not_found(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "get_job", lambda tenant, job_id: _job("toxicity.batch", "succeeded"))
    with pytest.raises(NotFound) as caught:
        service.report("acme", "j1")
    assert caught.value.status == 404 and "not a repurposing job" in caught.value.detail


def test_an_unfinished_report_is_a_conflict_that_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        service, "get_job", lambda tenant, job_id: _job(service.JOB_KIND, "failed", "no index")
    )
    with pytest.raises(Conflict) as caught:
        service.report("acme", "j1")
    assert caught.value.status == 409 and caught.value.title == "Report not ready"
    assert caught.value.detail == "job j1 is failed: no index"
