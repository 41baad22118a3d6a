"""The optional narrative: written by the configured language model from the prediction alone, and
never in the way of the numbers (no model, a failing model and a slow model all still answer 200).

The endpoint is a real HTTP server speaking the OpenAI protocol with scripted replies: this checks
the wiring and the degradation, not the prose."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hygeia.core.llm import reset_model
from hygeia.settings import reset_settings
from tests.conftest import auth_header
from tests.openai_server import Reply, ServerState, openai_server

BPA = "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"
PREDICT = "/api/v1/toxicity/predict"


@pytest.fixture
def analyst(client, make_key) -> dict[str, str]:
    return auth_header(make_key("acme", "analyst"))


@pytest.fixture
def language_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ServerState]]:
    """Start a scripted OpenAI-compatible endpoint and point HYGEIA_LLM_* at it."""
    servers = []

    def start(*replies: Reply, timeout: float = 20.0) -> ServerState:
        state = ServerState(script=list(replies))
        server = openai_server(state)
        monkeypatch.setenv("HYGEIA_LLM_BACKEND", "openai")
        monkeypatch.setenv("HYGEIA_LLM_BASE_URL", server.__enter__())
        monkeypatch.setenv("HYGEIA_LLM_MODEL", "protocol-test")
        monkeypatch.setenv("HYGEIA_LLM_MAX_RETRIES", "0")
        monkeypatch.setenv("HYGEIA_LLM_NARRATIVE_TIMEOUT_SECONDS", str(timeout))
        reset_settings()
        reset_model()
        servers.append(server)
        return state

    yield start
    for server in servers:
        server.__exit__(None, None, None)
    reset_settings()
    reset_model()


def _predict(client, headers: dict[str, str], **extra: object) -> dict:
    response = client.post(PREDICT, json={"smiles": BPA, **extra}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert len(body["result"]["probabilities"]) == 12  # the numbers are always there
    return body


def test_no_narrative_unless_asked(client, analyst, language_model) -> None:
    state = language_model()
    assert _predict(client, analyst)["narrative"] is None
    assert state.requests == []


def test_without_a_language_model_the_narrative_says_why(client, analyst) -> None:
    narrative = _predict(client, analyst, narrative=True)["narrative"]
    assert narrative["status"] == "unavailable" and narrative["text"] is None
    assert "HYGEIA_LLM_BACKEND" in narrative["detail"]


def test_narrative_is_written_from_the_prediction_only(client, analyst, language_model) -> None:
    state = language_model(Reply(text="Predicted activity is highest for NR-ER."))
    body = _predict(client, analyst, narrative=True)
    narrative = body["narrative"]
    assert narrative["status"] == "ok" and narrative["model"] == "protocol-test"
    assert narrative["text"] == "Predicted activity is highest for NR-ER."
    assert "language model" in narrative["label"]
    prompt = state.requests[0]["messages"][-1]["content"]
    probabilities = body["result"]["probabilities"]
    assert all(f"{endpoint}: {p:.2f}" in prompt for endpoint, p in probabilities.items())
    assert "applicability domain: inside" in prompt
    domain = body["result"]["applicability_domain"]
    assert (
        f"this similar to the training set: {domain['cv_roc_auc']:.2f} "
        f"(all compounds {domain['cv_roc_auc_overall']:.2f})"
    ) in prompt


def test_failing_model_degrades_to_numbers_only(client, analyst, language_model) -> None:
    language_model(Reply(status=500))
    narrative = _predict(client, analyst, narrative=True)["narrative"]
    assert narrative["status"] == "failed" and "HTTP 500" in narrative["detail"]


def test_slow_model_is_not_waited_for(client, analyst, language_model) -> None:
    language_model(Reply(delay=3.0), timeout=0.3)
    narrative = _predict(client, analyst, narrative=True)["narrative"]
    assert narrative["status"] == "timeout" and narrative["text"] is None


def test_same_molecule_and_model_reuse_the_written_narrative(
    client, analyst, language_model, monkeypatch
) -> None:
    state = language_model(Reply(text="First and only call."), Reply(text="A second call happened."))
    monkeypatch.setenv("HYGEIA_LLM_MODEL", "cache-test")  # a prompt no other test has cached
    reset_settings()
    reset_model()
    first = _predict(client, analyst, narrative=True)["narrative"]
    second = _predict(client, analyst, narrative=True)["narrative"]
    assert first["text"] == second["text"] == "First and only call."
    assert len(state.requests) == 1


def test_a_training_compound_narrative_is_given_its_measurements(
    client, analyst, language_model, read_across_on
) -> None:
    """BPA is a Tox21 training compound: the model is told what was measured and to lead with it."""
    state = language_model(Reply(text="Tox21 measured BPA active in NR-ER."))
    body = _predict(client, analyst, narrative=True)
    measured = body["result"]["read_across"]["measured"]
    assert measured.startswith("measured in Tox21 (") and "NR-ER" in measured
    system, user = (m["content"] for m in state.requests[0]["messages"])
    assert measured in user and "state them first" in system
