"""Dense vector index: float32 rows in a SQLite table, searched exactly with one matrix product.

Why not HNSW/faiss: the evidence corpus is ~14k documents x 384 dims = 21 MB. An exact inner product
over all of it is one BLAS call (about a millisecond or two on two cores, measured by
`python -m benchmarks.evidence`), has recall 1.0 by construction, needs no build parameters and adds
no native dependency. An approximate index starts paying off around 10^6 vectors; swapping it in
means replacing `search` only. SQLite keeps vectors, ids and the model that made them in one file
that is copied atomically and needs no pickle.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import numpy as np

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
  row INTEGER PRIMARY KEY, doc_id TEXT NOT NULL UNIQUE, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS vector_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class VectorIndex:
    def __init__(self, doc_ids: list[str], matrix: np.ndarray, encoder_sha256: str = "") -> None:
        if matrix.ndim != 2 or matrix.shape[0] != len(doc_ids):
            raise ValueError(f"matrix {matrix.shape} does not match {len(doc_ids)} ids")
        self.doc_ids = doc_ids
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.encoder_sha256 = encoder_sha256

    @property
    def dimension(self) -> int:
        return int(self.matrix.shape[1])

    def save(self, path: Path) -> None:
        with sqlite3.connect(path) as conn:
            conn.executescript(SCHEMA)
            conn.execute("DELETE FROM vectors")
            conn.executemany(
                "INSERT INTO vectors (row, doc_id, vector) VALUES (?, ?, ?)",
                ((i, doc_id, self.matrix[i].tobytes()) for i, doc_id in enumerate(self.doc_ids)),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO vector_meta VALUES (?, ?)",
                [("dimension", str(self.dimension)), ("encoder_sha256", self.encoder_sha256)],
            )

    @classmethod
    def load(cls, path: Path) -> VectorIndex:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            meta = dict(conn.execute("SELECT key, value FROM vector_meta").fetchall())
            rows = conn.execute("SELECT doc_id, vector FROM vectors ORDER BY row").fetchall()
        dim = int(meta["dimension"])
        matrix = np.frombuffer(b"".join(blob for _, blob in rows), dtype=np.float32).reshape(len(rows), dim)
        return cls([doc_id for doc_id, _ in rows], matrix.copy(), meta.get("encoder_sha256", ""))

    def search(self, query: np.ndarray, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine) best first; vectors are unit length so the inner product is the cosine."""
        if not self.doc_ids:
            return []
        scores = self.matrix @ np.asarray(query, dtype=np.float32).ravel()
        if mask is not None:
            scores = np.where(mask.astype(bool), scores, -np.inf)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if np.isfinite(scores[i])]


class EmbeddingCache:
    """(encoder sha256, text sha256) -> vector, so a rebuild only embeds new or changed documents."""

    def __init__(self, path: Path, encoder_sha256: str) -> None:
        self.path, self.encoder = path, encoder_sha256
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS embeddings (encoder TEXT NOT NULL, text_sha256 TEXT NOT NULL, "
                "vector BLOB NOT NULL, PRIMARY KEY (encoder, text_sha256))"
            )

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def lookup(self, texts: list[str], dimension: int = 384) -> tuple[np.ndarray, list[int]]:
        """(matrix with cached rows filled, indexes of texts still to embed)."""
        matrix = np.zeros((len(texts), dimension), dtype=np.float32)
        with sqlite3.connect(self.path) as conn:
            found = dict(
                conn.execute("SELECT text_sha256, vector FROM embeddings WHERE encoder = ?", (self.encoder,))
            )
        missing = []
        for i, text in enumerate(texts):
            blob = found.get(self._key(text))
            if blob is None or len(blob) != dimension * 4:
                missing.append(i)
            else:
                matrix[i] = np.frombuffer(blob, dtype=np.float32)
        return matrix, missing

    def store(self, texts: list[str], vectors: np.ndarray) -> None:
        with sqlite3.connect(self.path) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                (
                    (self.encoder, self._key(t), np.asarray(v, dtype=np.float32).tobytes())
                    for t, v in zip(texts, vectors, strict=True)
                ),
            )
