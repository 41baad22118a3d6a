"""The OpenAI-compatible client against a real HTTP server on 127.0.0.1: retries with backoff,
Retry-After, the circuit breaker opening and recovering, timeouts, streaming and token accounting.
The server's scripted replies make these protocol tests, not answer-quality tests."""

from __future__ import annotations

import pytest

from hygeia.core.llm import Completion, LLMError, LLMUnavailable, OpenAICompatibleClient
from hygeia.core.llm_breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from hygeia.settings import LLMSettings
from tests.openai_server import Reply, ServerState, openai_server

MESSAGES = [{"role": "user", "content": "say something"}]


def client_for(base_url: str, **overrides) -> tuple[OpenAICompatibleClient, list[float]]:
    sleeps: list[float] = []
    options = {
        "backend": "openai",
        "base_url": base_url,
        "model": "test-model",
        "api_key": "secret-key",
        "max_retries": 2,
        "backoff_seconds": 0.01,
        "breaker_failures": 2,
        "breaker_cooldown_seconds": 60,
        "timeout_seconds": 2,
    } | overrides
    client = OpenAICompatibleClient(LLMSettings(**options), sleep=sleeps.append)
    return client, sleeps


def test_completion_carries_text_usage_and_auth():
    state = ServerState(script=[Reply(text="hello there")])
    with openai_server(state) as url:
        client, _ = client_for(url)
        completion = client.complete(MESSAGES, max_tokens=12)
    assert completion.text == "hello there" and completion.model == "test-model"
    assert (completion.prompt_tokens, completion.completion_tokens, completion.estimated_usage) == (
        2,
        2,
        False,
    )
    assert state.requests[0]["max_tokens"] == 12 and state.requests[0]["stream"] is False
    assert client.meter.totals.completion == 2 and client.meter.totals.requests == 1


def test_missing_usage_is_estimated_and_flagged():
    with openai_server(ServerState(script=[Reply(text="x" * 40, usage=False)])) as url:
        completion = client_for(url)[0].complete(MESSAGES)
    assert completion.estimated_usage and completion.completion_tokens == 10


def test_transient_errors_are_retried_with_backoff_and_retry_after():
    state = ServerState(script=[Reply(status=503), Reply(status=429, retry_after="0.05"), Reply(text="ok")])
    with openai_server(state) as url:
        client, sleeps = client_for(url)
        assert client.complete(MESSAGES).text == "ok"
    assert len(state.requests) == 3
    assert 0.005 <= sleeps[0] <= 0.01 and sleeps[1] == pytest.approx(0.05)
    assert client.breaker.state == CLOSED


def test_breaker_opens_after_repeated_failures_and_then_refuses_without_a_request():
    state = ServerState(script=[Reply(status=500)] * 6)
    with openai_server(state) as url:
        client, _ = client_for(url)
        for _ in range(2):  # two requests x three attempts each
            with pytest.raises(LLMError):
                client.complete(MESSAGES)
        assert client.breaker.state == OPEN and len(state.requests) == 6
        with pytest.raises(LLMUnavailable, match="circuit is open"):
            client.complete(MESSAGES)
        assert len(state.requests) == 6  # refused locally


def test_caller_errors_are_not_retried_and_do_not_open_the_breaker():
    state = ServerState(script=[Reply(status=400)] * 3)
    with openai_server(state) as url:
        client, _ = client_for(url)
        for _ in range(3):
            with pytest.raises(LLMError, match="HTTP 400"):
                client.complete(MESSAGES)
    assert len(state.requests) == 3 and client.breaker.state == CLOSED


def test_read_timeout_is_a_transient_failure():
    state = ServerState(script=[Reply(delay=1.0)] * 2)
    with openai_server(state) as url:
        client, sleeps = client_for(url, timeout_seconds=0.2, max_retries=1)
        with pytest.raises(LLMError, match="ReadTimeout"):
            client.complete(MESSAGES)
    assert len(sleeps) == 1


def test_unreachable_endpoint_fails_fast_after_retries():
    client, sleeps = client_for("http://127.0.0.1:9/v1", max_retries=1, connect_timeout_seconds=0.5)
    with pytest.raises(LLMError, match="ConnectError"):
        client.complete(MESSAGES)
    assert len(sleeps) == 1


def test_stream_yields_deltas_then_one_completion_with_usage():
    with openai_server(ServerState(script=[Reply(text="one two three")])) as url:
        items = list(client_for(url)[0].stream(MESSAGES))
    assert items[:3] == ["one", " two", " three"]
    final = items[-1]
    assert isinstance(final, Completion) and final.text == "one two three" and final.completion_tokens == 3


def test_stream_retries_before_the_first_token():
    state = ServerState(script=[Reply(status=502), Reply(text="recovered")])
    with openai_server(state) as url:
        items = list(client_for(url)[0].stream(MESSAGES))
    assert items[0] == "recovered" and len(state.requests) == 2


def test_breaker_half_open_allows_one_trial_and_closes_on_success():
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown_seconds=10, clock=lambda: now[0])
    breaker.record_failure()
    assert breaker.state == CLOSED
    breaker.record_failure()
    assert breaker.state == OPEN and not breaker.allow() and breaker.retry_after() == 10
    now[0] = 10.0
    assert breaker.state == HALF_OPEN
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.record_failure()  # a failed trial re-opens at once
    assert breaker.state == OPEN
    now[0] = 25.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == CLOSED and breaker.allow()


def test_openai_backend_needs_url_and_model():
    with pytest.raises(LLMUnavailable, match="HYGEIA_LLM_BASE_URL"):
        OpenAICompatibleClient(LLMSettings(backend="openai"))
