"""One client for any OpenAI-compatible chat-completions endpoint (Ollama, vLLM, llama.cpp, hosted).

httpx with separate connect/read timeouts, retries with jittered exponential backoff on transient
failures (connect errors, timeouts, 408/429/5xx, honouring Retry-After), a circuit breaker so a dead
endpoint fails fast, and token accounting from the endpoint's `usage` block (estimated, and flagged
as such, when the endpoint sends none). Callers treat every `LLMError` as "no language model now"
and fall back to an extractive answer; nothing here ever makes text up.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

import httpx

from hygeia.core.llm_breaker import LLM_REQUESTS, CircuitBreaker, TokenMeter, estimate_tokens
from hygeia.settings import LLMSettings, get_llm_settings

ChatMessage = dict[str, str]
RETRYABLE_STATUS = {408, 429, 500, 502, 503, 504}
CALLER_FAULT_STATUS = {400, 413, 422}  # the endpoint is healthy; the request was refused


class LLMError(Exception):
    """The language model could not answer this request."""


class LLMUnavailable(LLMError):
    """No request was sent: not configured, not installed, or the circuit is open."""


class _Transient(LLMError):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class Completion:
    text: str
    model: str
    backend: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    estimated_usage: bool = False
    finish_reason: str | None = None


class ChatModel(Protocol):
    backend: str
    model: str

    def complete(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None, temperature: float | None = None
    ) -> Completion: ...

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None, temperature: float | None = None
    ) -> Iterator[str | Completion]:
        """Yields text deltas, then exactly one final `Completion`."""
        ...


class OpenAICompatibleClient:
    backend = "openai"

    def __init__(
        self,
        settings: LLMSettings,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not settings.base_url or not settings.model:
            raise LLMUnavailable(
                "HYGEIA_LLM_BASE_URL and HYGEIA_LLM_MODEL must be set for the openai backend"
            )
        self.settings, self.model = settings, settings.model
        headers = {"Accept": "application/json"}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        timeout = httpx.Timeout(settings.timeout_seconds, connect=settings.connect_timeout_seconds)
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/"), timeout=timeout, headers=headers, transport=transport
        )
        self.breaker = CircuitBreaker(settings.breaker_failures, settings.breaker_cooldown_seconds)
        self.meter = TokenMeter(self.backend)
        self._sleep = sleep

    def complete(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None, temperature: float | None = None
    ) -> Completion:
        body = self._body(messages, max_tokens, temperature, stream=False)
        started = time.perf_counter()
        data = self._call(lambda: self._post_once(body))
        choice = (data.get("choices") or [{}])[0]
        text = str((choice.get("message") or {}).get("content") or "")
        return self._account(messages, text, data.get("usage"), started, choice.get("finish_reason"))

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None, temperature: float | None = None
    ) -> Iterator[str | Completion]:
        body = self._body(messages, max_tokens, temperature, stream=True)
        self._admit()
        started, parts, usage = time.perf_counter(), [], None
        for attempt in range(self.settings.max_retries + 1):
            try:
                for kind, value in self._stream_once(body):
                    if kind == "delta":
                        parts.append(value)
                        yield value
                    else:
                        usage = value
                break
            except GeneratorExit:
                self.breaker.record_success()  # the caller stopped reading; the endpoint was fine
                raise
            except _Transient as exc:
                if parts or attempt == self.settings.max_retries:
                    self._failed(exc)
                self._sleep(self._backoff(attempt, exc.retry_after))
            except LLMError as exc:
                self._failed(exc)
        self.breaker.record_success()
        LLM_REQUESTS.labels(self.backend, "ok").inc()
        yield self._account(messages, "".join(parts), usage, started, None)

    def _body(
        self, messages: list[ChatMessage], max_tokens: int | None, temperature: float | None, stream: bool
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens or self.settings.max_tokens,
            "temperature": self.settings.temperature if temperature is None else temperature,
            "stream": stream,
        }
        if stream:
            body["stream_options"] = {"include_usage": True}
        return body

    def _admit(self) -> None:
        if not self.breaker.allow():
            LLM_REQUESTS.labels(self.backend, "refused_open_circuit").inc()
            raise LLMUnavailable(
                f"language model circuit is open after repeated failures; "
                f"next trial in {self.breaker.retry_after():.0f}s"
            )

    def _call(self, once: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        self._admit()
        for attempt in range(self.settings.max_retries + 1):
            try:
                data = once()
            except _Transient as exc:
                if attempt == self.settings.max_retries:
                    self._failed(exc)
                self._sleep(self._backoff(attempt, exc.retry_after))
            except LLMError as exc:
                self._failed(exc)
            else:
                self.breaker.record_success()
                LLM_REQUESTS.labels(self.backend, "ok").inc()
                return data
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _failed(self, exc: LLMError) -> None:
        if isinstance(exc, _CallerFault):
            self.breaker.record_success()
        else:
            self.breaker.record_failure()
        LLM_REQUESTS.labels(self.backend, "error").inc()
        raise LLMError(str(exc)) from exc

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.settings.backoff_max_seconds)
        delay = min(self.settings.backoff_max_seconds, self.settings.backoff_seconds * 2**attempt)
        return delay * (0.5 + random.random() / 2)

    def _post_once(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post("/chat/completions", json=body)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc
        _raise_for_status(response.status_code, response.headers, response.text)
        try:
            data = response.json()
        except json.JSONDecodeError as exc:
            raise _Transient(f"endpoint returned invalid JSON: {exc}") from exc
        if not isinstance(data, dict) or not data.get("choices"):
            raise LLMError("endpoint returned no choices")
        return data

    def _stream_once(self, body: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        try:
            with self._http.stream("POST", "/chat/completions", json=body) as response:
                if response.status_code >= 400:
                    response.read()
                    _raise_for_status(response.status_code, response.headers, response.text)
                for line in response.iter_lines():
                    yield from _parse_sse_line(line)
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            raise _Transient(f"{type(exc).__name__}: {exc}") from exc

    def _account(
        self,
        messages: list[ChatMessage],
        text: str,
        usage: dict[str, Any] | None,
        started: float,
        finish_reason: str | None,
    ) -> Completion:
        estimated = not usage
        prompt = int(usage["prompt_tokens"]) if usage else estimate_tokens(_joined(messages))
        completion = int(usage.get("completion_tokens", 0)) if usage else estimate_tokens(text)
        return metered(self.meter, self.model, text, (prompt, completion), started, estimated, finish_reason)


def metered(
    meter: TokenMeter,
    model: str,
    text: str,
    tokens: tuple[int, int],
    started: float,
    estimated: bool,
    finish_reason: str | None,
) -> Completion:
    """Every completion, from any backend, passes the meter on its way out."""
    meter.add(tokens[0], tokens[1], estimated)
    elapsed = time.perf_counter() - started
    return Completion(text, model, meter.backend, *tokens, elapsed, estimated, finish_reason)


class _CallerFault(LLMError):
    pass


def _raise_for_status(status: int, headers: httpx.Headers, text: str) -> None:
    if status < 400:
        return
    detail = f"HTTP {status} from language model endpoint: {text[:300]}"
    if status in RETRYABLE_STATUS:
        raise _Transient(detail, _retry_after(headers))
    if status in CALLER_FAULT_STATUS:
        raise _CallerFault(detail)
    raise LLMError(detail)


def _retry_after(headers: httpx.Headers) -> float | None:
    try:
        return max(0.0, float(headers.get("retry-after", "")))
    except ValueError:
        return None


def _parse_sse_line(line: str) -> Iterator[tuple[str, Any]]:
    if not line.startswith("data:"):
        return
    payload = line[5:].strip()
    if not payload or payload == "[DONE]":
        return
    try:
        chunk = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise LLMError(f"malformed stream chunk: {payload[:120]}") from exc
    if chunk.get("usage"):
        yield "usage", chunk["usage"]
    for choice in chunk.get("choices") or []:
        delta = (choice.get("delta") or {}).get("content")
        if delta:
            yield "delta", str(delta)


def _joined(messages: list[ChatMessage]) -> str:
    return "\n".join(m.get("content", "") for m in messages)


@lru_cache(maxsize=1)
def get_chat_model() -> ChatModel | None:
    """The configured model, built once per process so its circuit breaker and meter persist.

    Returns None for HYGEIA_LLM_BACKEND=none; raises LLMUnavailable when a backend is chosen but
    cannot run (missing URL, llama-cpp-python not installed, GGUF not found).
    """
    settings = get_llm_settings()
    if settings.backend == "none":
        return None
    if settings.backend == "openai":
        return OpenAICompatibleClient(settings)
    from hygeia.core.llm_local import LocalChatModel

    return LocalChatModel(settings)


def reset_model() -> None:
    """Forget the built model (and its breaker); settings changes take effect on the next question."""
    get_chat_model.cache_clear()
