"""Retrieval evaluation on PubMedQA: each question must find its own abstract among the 1,000.

One relevant document per query, so recall@10 is "found in the top 10", nDCG@10 is 1/log2(1+rank)
and MRR is 1/rank (0 past the fusion depth). BM25, dense and hybrid are measured in the same call on
the same queries, so their ratios are comparable. The question text is never indexed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

from hygeia.evidence.corpus import LITERATURE
from hygeia.evidence.fusion import reciprocal_rank_fusion
from hygeia.evidence.retrieval import FUSION_DEPTH, Mode, Retriever
from hygeia.evidence.sources import Abstract


def rank_metrics(ranks: Sequence[int | None], cutoff: int = 10) -> dict[str, float]:
    """ranks: 1-based rank of the single relevant document per query, None when not retrieved."""
    n = max(len(ranks), 1)
    found = [r for r in ranks if r is not None]
    return {
        f"recall@{cutoff}": sum(1 for r in found if r <= cutoff) / n,
        f"ndcg@{cutoff}": sum(1 / math.log2(1 + r) for r in found if r <= cutoff) / n,
        "mrr": sum(1 / r for r in found) / n,
        "recall@1": sum(1 for r in found if r == 1) / n,
        f"recall@{FUSION_DEPTH}": sum(1 for r in found if r <= FUSION_DEPTH) / n,
    }


def evaluate_pubmedqa(
    retriever: Retriever, abstracts: Sequence[Abstract], cutoff: int = 10
) -> dict[str, Any]:
    """BM25 vs dense vs hybrid on question -> own abstract, literature documents only."""
    index = retriever.index
    mask = retriever.type_mask([LITERATURE])
    queries = [
        (a.question, index.row_of[f"pmid:{a.pmid}"]) for a in abstracts if f"pmid:{a.pmid}" in index.row_of
    ]
    started = time.perf_counter()
    bm25 = [retriever.bm25_rows(q, FUSION_DEPTH, mask) for q, _ in queries]
    timings = {"bm25_s": time.perf_counter() - started}
    runs: dict[Mode, list[list[int]]] = {"bm25": bm25}
    if retriever.dense_available:
        started = time.perf_counter()
        vectors = retriever.embed([q for q, _ in queries])
        dense = [retriever.dense_rows_for(v, FUSION_DEPTH, mask) for v in vectors]
        timings["dense_s"] = time.perf_counter() - started
        runs["dense"] = dense
        runs["hybrid"] = [
            [row for row, _ in reciprocal_rank_fusion([b, d])] for b, d in zip(bm25, dense, strict=True)
        ]
    results = {}
    for mode, rankings in runs.items():
        ranks = [_rank_of(row, ranking) for (_, row), ranking in zip(queries, rankings, strict=True)]
        results[mode] = {k: round(v, 4) for k, v in rank_metrics(ranks, cutoff).items()}
    return {
        "benchmark": "PubMedQA PQA-L: question -> its own abstract among 1,000 (1 relevant per query)",
        "queries": len(queries),
        "documents": int(mask.sum()) if mask is not None else len(index.documents),
        "fusion": f"reciprocal rank fusion, k=60, depth {FUSION_DEPTH} per method",
        "metrics": results,
        "timings_s": {k: round(v, 2) for k, v in timings.items()},
    }


def _rank_of(row: int, ranking: list[int]) -> int | None:
    try:
        return ranking.index(row) + 1
    except ValueError:
        return None
