"""A canary's share of requests is what was configured, and each tenant or input keeps its arm."""

from __future__ import annotations

import pytest

from hygeia.core import releases
from hygeia.core.auth import CURRENT_TENANT, Principal
from hygeia.core.registry import get_registry

ADMIN = Principal("platform", "admin", "test:admin", "standard")


@pytest.fixture
def canary(platform):  # type: ignore[no-untyped-def]
    releases.forget_all()
    yield next(r.version for r in get_registry().versions("toxicity") if r.stage != "production")
    releases.forget_all()


def _share(model: str, inputs: list[str]) -> float:
    return sum(releases.canary_version(model, key) is not None for key in inputs) / len(inputs)


def test_canary_share_is_within_tolerance_over_many_requests(canary) -> None:  # type: ignore[no-untyped-def]
    releases.set_release(ADMIN, "toxicity", canary, "canary", canary_percent=20, sticky_by="input")
    token = CURRENT_TENANT.set("acme")
    try:
        inputs = [f"molecule-{i}" for i in range(20_000)]
        share = _share("toxicity", inputs)
        assert abs(share - 0.20) < 0.015  # binomial sd at n=20,000 is 0.0028
        assert [releases.canary_version("toxicity", k) for k in inputs[:50]] == [
            releases.canary_version("toxicity", k) for k in inputs[:50]
        ]  # sticky: the same input gets the same arm again
    finally:
        CURRENT_TENANT.reset(token)


def test_tenant_stickiness_puts_a_whole_tenant_on_one_arm(canary) -> None:  # type: ignore[no-untyped-def]
    releases.set_release(ADMIN, "toxicity", canary, "canary", canary_percent=30, sticky_by="tenant")
    arms = []
    for tenant in (f"tenant-{i}" for i in range(5_000)):
        token = CURRENT_TENANT.set(tenant)
        try:
            chosen = {releases.canary_version("toxicity", f"input-{j}") for j in range(3)}
        finally:
            CURRENT_TENANT.reset(token)
        assert len(chosen) == 1
        arms.append(chosen.pop() is not None)
    assert abs(sum(arms) / len(arms) - 0.30) < 0.03  # binomial sd at n=5,000 is 0.0065


def test_threads_that_find_the_release_stale_share_one_read(canary, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import threading
    import time

    releases.set_release(ADMIN, "toxicity", canary, "canary", canary_percent=20, sticky_by="input")
    releases.forget_all()
    real_session, reads = releases.system_session, []

    def slow_session():  # type: ignore[no-untyped-def]
        reads.append(1)
        time.sleep(0.05)
        return real_session()

    monkeypatch.setattr(releases, "system_session", slow_session)
    assert releases.remembered_release("toxicity") == (False, None)  # stale: asks nothing, says so
    seen: list[str | None] = []
    threads = [
        threading.Thread(target=lambda: seen.append(releases.current_release("toxicity").candidate_version))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [canary] * 8
    assert len(reads) == 1
    assert releases.remembered_release("toxicity")[1].mode == "canary"
