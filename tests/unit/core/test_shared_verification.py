"""Concurrent requests with one credential share one verification (auth._verify_once)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from hygeia.core import auth
from hygeia.core.auth import Principal, Unauthorized

PRINCIPAL = Principal("t1", "analyst", "key:k1", "standard", "k1")


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Each verification that really runs, by (address, credential); it takes 50 ms, like a slow database."""
    seen: list[tuple[str, str]] = []
    lock = threading.Lock()

    def authenticate_from(address: str, credential: str) -> Principal:
        with lock:
            seen.append((address, credential))
        time.sleep(0.05)
        if credential == "hyg_bad":
            raise Unauthorized("unknown API key")
        return PRINCIPAL

    monkeypatch.setattr(auth, "authenticate_from", authenticate_from)
    return seen


def _run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """In a thread of its own: earlier tests in the same session (the browser suite) leave an event
    loop set on the main thread, where asyncio.run refuses to start another."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _many(calls: list[tuple[str, str]]) -> list[Principal | BaseException]:
    return await asyncio.gather(*(auth._verify_once(a, c) for a, c in calls), return_exceptions=True)


def test_concurrent_requests_share_one_lookup(lookups: list[tuple[str, str]]) -> None:
    results = _run(_many([("10.0.0.1", "hyg_good")] * 12))
    assert results == [PRINCIPAL] * 12
    assert lookups == [("10.0.0.1", "hyg_good")]
    assert not auth._verifying  # nothing kept once settled


def test_each_address_is_verified_on_its_own(lookups: list[tuple[str, str]]) -> None:
    _run(_many([("10.0.0.1", "hyg_good"), ("10.0.0.2", "hyg_good"), ("10.0.0.1", "hyg_good")]))
    assert sorted(lookups) == [("10.0.0.1", "hyg_good"), ("10.0.0.2", "hyg_good")]


def test_a_failure_reaches_every_waiter_and_is_not_remembered(lookups: list[tuple[str, str]]) -> None:
    results = _run(_many([("10.0.0.1", "hyg_bad")] * 3))
    assert all(isinstance(r, Unauthorized) for r in results)
    _run(_many([("10.0.0.1", "hyg_bad")]))
    assert len(lookups) == 2  # the next request verifies again


def test_a_caller_that_goes_away_does_not_cancel_the_others(lookups: list[tuple[str, str]]) -> None:
    async def scenario() -> Principal:
        first = asyncio.ensure_future(auth._verify_once("10.0.0.1", "hyg_good"))
        second = asyncio.ensure_future(auth._verify_once("10.0.0.1", "hyg_good"))
        await asyncio.sleep(0.01)
        first.cancel()
        return await second

    assert _run(scenario()) == PRINCIPAL
    assert len(lookups) == 1
