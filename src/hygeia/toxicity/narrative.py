"""Optional plain-language summary of one prediction, written by the configured language model.

The numbers are the product; the narrative is a courtesy. It runs in its own thread with a deadline,
so a slow or dead endpoint costs at most `narrative_timeout_seconds` and never an error: the response
then carries the numbers and says why there is no summary. The core client's retries and circuit
breaker apply underneath. The prompt holds only the prediction itself, and the model is told to add
nothing to it. A written summary is cached by (prompt version, language model, prompt): the same
molecule scored by the same toxicity model gives the same prompt, so it gets the same text and costs
no second call. Failures and timeouts are not cached; the next request tries again.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from hygeia.core.cache import cache_key, get_cache
from hygeia.core.llm import ChatMessage, LLMError, get_chat_model
from hygeia.settings import get_llm_settings
from hygeia.toxicity.schemas import Narrative, Prediction

_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="toxicity-narrative")
PROMPT_VERSION = "3"  # bump when SYSTEM or _prompt changes, so cached texts are not reused

SYSTEM = (
    "You summarise toxicity model outputs for a toxicologist. Use only the numbers given. "
    "Do not add mechanisms, compounds, studies or advice that are not in the input. "
    "Three sentences at most. Say that these are in-vitro assay predictions, not evidence of human harm. "
    "If Tox21 measurements of the molecule itself are given, state them first: they outweigh predictions "
    "fitted on them."
)


def _prompt(prediction: Prediction) -> list[ChatMessage]:
    probabilities = prediction.probabilities or {}
    ranked = sorted(probabilities.items(), key=lambda item: item[1], reverse=True)
    lines = [f"{endpoint}: {p:.2f}" for endpoint, p in ranked]
    domain = prediction.applicability_domain
    if domain is not None:
        where = "inside" if domain.in_domain else "outside"
        lines.append(
            f"applicability domain: {where} (nearest training similarity {domain.nearest_similarity:.2f},"
            f" threshold {domain.threshold:.2f})"
        )
        if domain.cv_roc_auc is not None and domain.cv_roc_auc_overall is not None:
            lines.append(
                f"cross-validated ROC-AUC for compounds this similar to the training set:"
                f" {domain.cv_roc_auc:.2f} (all compounds {domain.cv_roc_auc_overall:.2f})"
            )
    if prediction.read_across is not None and prediction.read_across.measured:
        lines.append(f"{prediction.read_across.measured} (a training compound of the model)")
    facts = "\n".join([f"molecule: {prediction.standardised_smiles or prediction.smiles}", *lines])
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": facts}]


def narrate(prediction: Prediction) -> Narrative:
    """A Narrative whatever happens: ok with text, or the reason there is none."""
    if prediction.probabilities is None:
        return Narrative(status="unavailable", detail="the molecule was not scored")
    try:
        model = get_chat_model()
    except LLMError as exc:
        return Narrative(status="unavailable", detail=str(exc))
    if model is None:
        return Narrative(
            status="unavailable", detail="no language model is configured (HYGEIA_LLM_BACKEND=none)"
        )
    messages = _prompt(prediction)
    key = cache_key("toxicity-narrative", PROMPT_VERSION, model.model, json.dumps(messages, sort_keys=True))
    cached = get_cache().get_json(key)
    if cached is not None:
        return Narrative.model_validate(cached)
    future = _pool.submit(model.complete, messages, max_tokens=160, temperature=0.0)
    try:
        completion = future.result(timeout=get_llm_settings().narrative_timeout_seconds)
    except FutureTimeout:
        future.cancel()
        return Narrative(status="timeout", model=model.model, detail="no answer in time")
    except LLMError as exc:
        return Narrative(status="failed", model=model.model, detail=str(exc))
    text = completion.text.strip()
    if not text:
        return Narrative(status="failed", model=completion.model, detail="the model returned no text")
    narrative = Narrative(status="ok", text=text, model=completion.model)
    get_cache().set_json(key, narrative.model_dump())
    return narrative
