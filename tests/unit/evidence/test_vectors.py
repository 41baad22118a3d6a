"""Exact vector search, masking, SQLite round trip and the embedding cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hygeia.evidence.vectors import EmbeddingCache, VectorIndex


def _unit(rows: list[list[float]]) -> np.ndarray:
    m = np.array(rows, dtype=np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def test_exact_search_orders_by_cosine_and_respects_the_mask(tmp_path: Path) -> None:
    index = VectorIndex(["a", "b", "c"], _unit([[1, 0], [0.7, 0.7], [0, 1]]), "sha")
    query = _unit([[1, 0.1]])[0]
    assert [row for row, _ in index.search(query, 3)] == [0, 1, 2]
    assert [row for row, _ in index.search(query, 3, np.array([False, True, True]))] == [1, 2]
    index.save(tmp_path / "v.sqlite")
    loaded = VectorIndex.load(tmp_path / "v.sqlite")
    assert loaded.doc_ids == ["a", "b", "c"] and loaded.encoder_sha256 == "sha"
    np.testing.assert_array_equal(loaded.matrix, index.matrix)


def test_embedding_cache_is_keyed_by_encoder_and_text(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "cache.sqlite", "enc1")
    vectors = np.arange(2 * 384, dtype=np.float32).reshape(2, 384)
    cache.store(["x", "y"], vectors)
    matrix, missing = cache.lookup(["y", "z", "x"])
    assert missing == [1]
    np.testing.assert_array_equal(matrix[0], vectors[1])
    np.testing.assert_array_equal(matrix[2], vectors[0])
    assert EmbeddingCache(tmp_path / "cache.sqlite", "enc2").lookup(["x"])[1] == [0]
