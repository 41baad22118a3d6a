"""Generated answers are cached per tenant, model and prompt; a different source text is a new key."""

from __future__ import annotations

from hygeia.agents import engine
from hygeia.core.auth import Principal
from hygeia.core.llm import Completion


class CountingModel:
    """A stand-in model that counts how often it is really asked (the cache must spare it)."""

    backend, model = "stub", "counting-1"

    def __init__(self) -> None:
        self.calls = 0

    def stream(self, messages, **_):
        self.calls += 1
        text = f"Answer {self.calls} from the sources [1]."
        yield text
        yield Completion(text, self.model, self.backend, 10, 5, 0.1)


def test_same_prompt_is_served_from_cache_and_changes_miss(agent_env, monkeypatch):
    from hygeia.core.cache import get_cache

    get_cache().clear_memory()
    model = CountingModel()
    monkeypatch.setattr(engine, "chat_model_or_reason", lambda: (model, ""))
    principal = Principal("k1", "analyst", "hospital-a", "enterprise")
    question = engine.Question(
        "Do statins reduce mortality in patients with heart failure?", "manual", "medical"
    )
    first = engine.ask(principal, question)
    again = engine.ask(principal, question)
    assert model.calls == 1 and again["answer"].startswith("Answer 1 from the sources [1].")
    assert "served from the answer cache" in again["label"] and "cache" not in first["label"]

    other_tenant = Principal("k2", "analyst", "hospital-b", "enterprise")
    engine.ask(other_tenant, question)
    assert model.calls == 2  # tenants never share cached answers

    monkeypatch.setattr(CountingModel, "model", "counting-2")
    engine.ask(principal, question)
    assert model.calls == 3  # a new model is a new key
