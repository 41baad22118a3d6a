"""Evidence retrieval benchmark: `python -m benchmarks.evidence [--queries 300] [--full-build]`.

Measured in one run, on the same PubMedQA questions against the built index (VAR_DIR/evidence/index):
  * BM25 alone vs hybrid (BM25 + query embedding + exact vector search + RRF): queries/second and
    latency p50/p99, single-threaded, and their ratio;
  * dense parts on their own: query embedding, and the exact vector search (one matrix product),
    which is what justifies exact search over an ANN index at this corpus size;
  * index build time: a BM25-only build of the whole corpus (real, timed), the embedding throughput
    of the shipped encoder on abstracts and on one-line records, and with --full-build a complete
    dense build with an empty embedding cache (minutes on two cores).
Needs the real data under DATA_DIR/evidence and, for hybrid numbers, a dense index built by
`hygeia evidence build`; without one it says so and reports BM25 only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def _latencies(fn: Callable[[str], Any], queries: list[str]) -> dict[str, float]:
    fn(queries[0])  # warm caches and lazy loads outside the timing
    times = []
    started = time.perf_counter()
    for query in queries:
        tick = time.perf_counter()
        fn(query)
        times.append(time.perf_counter() - tick)
    total = time.perf_counter() - started
    ms = np.array(times) * 1000
    return {
        "queries_per_second": round(len(queries) / total, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
    }


def _embedding_throughput(encoder: Any, texts: list[str]) -> float:
    started = time.perf_counter()
    encoder.encode(texts)
    return round(len(texts) / (time.perf_counter() - started), 1)


def bench_queries(index_folder: Path, model_folder: Path | None, n_queries: int) -> dict[str, Any]:
    from hygeia.evidence.encoder import TextEncoder
    from hygeia.evidence.retrieval import Retriever
    from hygeia.evidence.runtime import data_root
    from hygeia.evidence.sources import load_pubmedqa
    from hygeia.evidence.store import open_index

    index = open_index(index_folder)
    encoder = TextEncoder(model_folder) if (model_folder and index.has_dense) else None
    retriever = Retriever(index, encoder)
    queries = [a.question for a in load_pubmedqa(data_root() / "pubmedqa")][:n_queries]
    out: dict[str, Any] = {"documents": len(index.documents), "queries": len(queries)}
    out["bm25"] = _latencies(lambda q: retriever.search(q, 10, "bm25"), queries)
    if not retriever.dense_available:
        out["hybrid"] = "unavailable: index built without dense vectors or no encoder"
        return out
    out["hybrid"] = _latencies(lambda q: retriever.search(q, 10, "hybrid"), queries)
    out["dense"] = _latencies(lambda q: retriever.search(q, 10, "dense"), queries)
    vectors = retriever.embed(queries)
    assert index.vectors is not None
    rows = itertools.cycle(range(len(queries)))  # warm-up call + one per query
    vector_index = index.vectors
    out["exact_vector_search_only"] = _latencies(
        lambda _q: vector_index.search(vectors[next(rows)], 100), queries
    )
    out["vectors"] = {
        "rows": int(index.vectors.matrix.shape[0]),
        "dimension": index.vectors.dimension,
        "megabytes": round(index.vectors.matrix.nbytes / 2**20, 1),
    }
    out["ratio_hybrid_over_bm25_p50"] = round(out["hybrid"]["p50_ms"] / out["bm25"]["p50_ms"], 2)
    out["ratio_bm25_over_hybrid_qps"] = round(
        out["bm25"]["queries_per_second"] / out["hybrid"]["queries_per_second"], 2
    )
    return out


def bench_build(model_folder: Path | None, full: bool) -> dict[str, Any]:
    from hygeia.evidence.corpus import build_documents, build_linker
    from hygeia.evidence.encoder import TextEncoder
    from hygeia.evidence.runtime import data_root
    from hygeia.evidence.sources import load_sources
    from hygeia.evidence.store import build_index

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        manifest = build_index(data_root(), Path(tmp) / "index", None)
        out["bm25_only_build_s"] = round(time.perf_counter() - started, 2)
        out["bm25_only_timings"] = manifest["timings"]
        if model_folder is None:
            return out
        sources = load_sources(data_root())
        docs = build_documents(sources, build_linker(sources))
        encoder = TextEncoder(model_folder)
        abstracts = [d.searchable for d in docs if d.doc_type == "literature"][:200]
        records = [d.searchable for d in docs if d.doc_type != "literature"][:2000]
        out["embed_abstracts_per_s"] = _embedding_throughput(encoder, abstracts)
        out["embed_records_per_s"] = _embedding_throughput(encoder, records)
        n_lit = sum(1 for d in docs if d.doc_type == "literature")
        out["estimated_dense_build_s_from_throughput"] = round(
            n_lit / out["embed_abstracts_per_s"] + (len(docs) - n_lit) / out["embed_records_per_s"], 1
        )
        if full:
            started = time.perf_counter()
            build_index(data_root(), Path(tmp) / "full", model_folder)
            out["full_dense_build_s"] = round(time.perf_counter() - started, 1)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--full-build", action="store_true")
    args = parser.parse_args()
    from hygeia.evidence.runtime import index_dir, newest_model_folder

    model_folder = newest_model_folder()
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "load_average_1m_at_start": round(os.getloadavg()[0], 2)},
        "model_folder": str(model_folder) if model_folder else None,
    }
    if (index_dir() / "manifest.json").is_file():
        report["queries"] = bench_queries(index_dir(), model_folder, args.queries)
    else:
        report["queries"] = f"no index at {index_dir()}: run `hygeia evidence build` first"
    report["build"] = bench_build(model_folder, args.full_build)
    report["machine"]["load_average_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
