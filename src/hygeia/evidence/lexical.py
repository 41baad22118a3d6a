"""BM25 over the evidence documents (bm25s: sparse-matrix BM25, saved as .npy + JSON, no pickle).

Tokens are lower-cased alphanumerics with English stop words removed and a Snowball stem, so
"treats"/"treated"/"treatment" meet; numbers are kept because "type 2" and "phase 3" matter here.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN

TOKEN = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(STOPWORDS_EN)


@lru_cache(maxsize=1)
def _stemmer():
    try:
        import Stemmer
    except ModuleNotFoundError:  # stemming improves recall a little; BM25 still works without it
        return None
    return Stemmer.Stemmer("english")


def analyze(text: str) -> list[str]:
    """Text -> index terms; the same function for documents and queries, or BM25 silently degrades."""
    words = [w for w in TOKEN.findall(text.lower()) if w not in STOPWORDS]
    stemmer = _stemmer()
    return stemmer.stemWords(words) if stemmer is not None else words


class LexicalIndex:
    """BM25 (Lucene variant, k1=1.2, b=0.75) over documents in index order."""

    def __init__(self, model: bm25s.BM25, size: int) -> None:
        self._model = model
        self.size = size

    @classmethod
    def build(cls, texts: list[str], *, k1: float = 1.2, b: float = 0.75) -> LexicalIndex:
        model = bm25s.BM25(k1=k1, b=b, method="lucene")
        # an empty document would break bm25s' vocabulary; a placeholder term never matches a query
        model.index([analyze(t) or ["\u2205"] for t in texts], show_progress=False)
        return cls(model, len(texts))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self._model.save(str(folder), allow_pickle=False, show_progress=False)
        (folder / "size.txt").write_text(str(self.size))

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        model = bm25s.BM25.load(str(folder), allow_pickle=False, load_corpus=False, show_progress=False)
        return cls(model, int((folder / "size.txt").read_text()))

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(document row, BM25 score) best first; only rows with a positive score (a term matched)."""
        terms = [t for t in analyze(query) if t in self._model.vocab_dict]
        if not terms or self.size == 0:
            return []
        k = min(k, self.size)
        kwargs = {"weight_mask": mask.astype(np.float32)} if mask is not None else {}
        rows, scores = self._model.retrieve([terms], k=k, show_progress=False, n_threads=1, **kwargs)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if s > 0]
