"""Hybrid retrieval: BM25 and dense cosine each return their top `depth`, fused with RRF.

BM25 wins on exact drug names, ids and rare terms; the encoder wins on paraphrase ("heart attack"
vs "myocardial infarction"). RRF needs no score calibration between the two, which is why it is
the fusion here rather than a weighted sum of scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hygeia.evidence.corpus import Document
from hygeia.evidence.encoder import TextEncoder
from hygeia.evidence.fusion import RRF_K, reciprocal_rank_fusion
from hygeia.evidence.store import EvidenceIndex

Mode = Literal["bm25", "dense", "hybrid"]
FUSION_DEPTH = 100


@dataclass(frozen=True)
class Hit:
    document: Document
    rank: int
    score: float
    bm25_rank: int | None
    dense_rank: int | None


class DenseUnavailable(RuntimeError):
    """Dense or hybrid search asked of an index built without embeddings or without an encoder."""


class Retriever:
    def __init__(self, index: EvidenceIndex, encoder: TextEncoder | None) -> None:
        self.index = index
        self.encoder = encoder if index.has_dense else None
        vectors = index.vectors
        # the vector index may hold a subset of documents (dense_types); map its rows to document rows
        self._doc_row = (
            np.array([index.row_of[doc_id] for doc_id in vectors.doc_ids], dtype=np.int64)
            if vectors is not None
            else np.zeros(0, dtype=np.int64)
        )

    @property
    def dense_available(self) -> bool:
        return self.encoder is not None and self.index.vectors is not None

    def type_mask(self, doc_types: Sequence[str] | None) -> np.ndarray | None:
        if not doc_types:
            return None
        return np.isin(self.index.doc_types, list(doc_types))

    def bm25_rows(self, query: str, depth: int, mask: np.ndarray | None = None) -> list[int]:
        return [row for row, _ in self.index.lexical.search(query, depth, mask)]

    def dense_rows(self, query: str, depth: int, mask: np.ndarray | None = None) -> list[int]:
        return self.dense_rows_for(self.embed([query])[0], depth, mask)

    def dense_rows_for(self, vector: np.ndarray, depth: int, mask: np.ndarray | None = None) -> list[int]:
        if self.index.vectors is None:
            raise DenseUnavailable("this index was built without dense vectors")
        vector_mask = mask[self._doc_row] if mask is not None else None
        hits = self.index.vectors.search(vector, depth, vector_mask)
        return [int(self._doc_row[row]) for row, _ in hits]

    def embed(self, texts: list[str]) -> np.ndarray:
        if self.encoder is None:
            raise DenseUnavailable("no sentence encoder loaded: run `hygeia evidence train`, then rebuild")
        return self.encoder.encode(texts)

    def search(
        self,
        query: str,
        k: int = 10,
        mode: Mode = "hybrid",
        doc_types: Sequence[str] | None = None,
        depth: int = FUSION_DEPTH,
    ) -> list[Hit]:
        mask = self.type_mask(doc_types)
        bm25 = self.bm25_rows(query, max(depth, k), mask) if mode in ("bm25", "hybrid") else []
        dense = self.dense_rows(query, max(depth, k), mask) if mode in ("dense", "hybrid") else []
        return self.fuse(bm25, dense, k, mode)

    def fuse(self, bm25: list[int], dense: list[int], k: int, mode: Mode) -> list[Hit]:
        """Turn per-method rankings into hits; single-method modes keep that method's order."""
        if mode == "bm25":
            ranked = [(row, 1.0 / (RRF_K + n)) for n, row in enumerate(bm25, start=1)]
        elif mode == "dense":
            ranked = [(row, 1.0 / (RRF_K + n)) for n, row in enumerate(dense, start=1)]
        else:
            ranked = reciprocal_rank_fusion([bm25, dense])
        bm25_rank = {row: n for n, row in enumerate(bm25, start=1)}
        dense_rank = {row: n for n, row in enumerate(dense, start=1)}
        return [
            Hit(self.index.documents[row], n, score, bm25_rank.get(row), dense_rank.get(row))
            for n, (row, score) in enumerate(ranked[:k], start=1)
        ]
