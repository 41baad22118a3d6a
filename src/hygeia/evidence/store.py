"""The built evidence index on disk (`var/evidence/index/`): build once, open read-only per process.

Layout: `evidence.sqlite` (documents, entities, aliases, InChIKeys, vectors), `bm25/` (bm25s arrays
and vocabulary) and `manifest.json` (source hashes, counts, timings, encoder hash). A build writes a
new sibling folder, then swaps the `index` symlink to it: readers never see half an index, or none.
With a shared blob store the build is also uploaded for the other machines (shared_index.py).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.evidence.corpus import Document, build_documents, build_linker
from hygeia.evidence.encoder import TextEncoder
from hygeia.evidence.features import EvidenceGraph
from hygeia.evidence.graph_documents import graph_fact_documents
from hygeia.evidence.lexical import LexicalIndex
from hygeia.evidence.linking import Entity, EntityLinker
from hygeia.evidence.sources import REQUIRED_FILES, load_sources
from hygeia.evidence.vectors import EmbeddingCache, VectorIndex

DB_FILE, BM25_DIR, MANIFEST_FILE = "evidence.sqlite", "bm25", "manifest.json"
CACHE_FILE = "embedding-cache.sqlite"
INDEX_FORMAT = 1
Progress = Callable[[float, str], None]

SCHEMA = """
CREATE TABLE documents (row INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, doc_type TEXT NOT NULL,
  source TEXT NOT NULL, title TEXT NOT NULL, text TEXT NOT NULL, url TEXT NOT NULL,
  drug_ids TEXT NOT NULL, disease_ids TEXT NOT NULL, meta TEXT NOT NULL);
CREATE TABLE entities (id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, xrefs TEXT NOT NULL);
CREATE TABLE aliases (alias TEXT NOT NULL, entity_id TEXT NOT NULL, mentionable INTEGER NOT NULL);
CREATE TABLE inchikeys (inchikey TEXT NOT NULL, entity_id TEXT NOT NULL);
"""


@dataclass
class EvidenceIndex:
    folder: Path
    documents: list[Document]
    linker: EntityLinker
    lexical: LexicalIndex
    vectors: VectorIndex | None
    graph: EvidenceGraph
    manifest: dict[str, Any]

    def __post_init__(self) -> None:
        self.row_of = {doc.id: n for n, doc in enumerate(self.documents)}
        self.doc_types = np.array([doc.doc_type for doc in self.documents])

    @property
    def has_dense(self) -> bool:
        return self.vectors is not None

    def document(self, doc_id: str) -> Document:
        return self.documents[self.row_of[doc_id]]


def _no_progress(_fraction: float, _message: str) -> None:
    return None


def build_index(
    data_root: Path,
    target: Path,
    encoder_dir: Path | None,
    progress: Progress = _no_progress,
    dense_types: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Load sources under `data_root`, build every part, write to `target`; returns the manifest.

    `encoder_dir` None builds a BM25-only index (the service then reports dense search unavailable).
    `dense_types` limits embedding to some evidence types (BM25 still covers all): embedding all
    ~14k documents takes minutes on two cores, the 1,000 abstracts well under one.
    Embeddings are cached by (encoder hash, text hash) beside the index, so rebuilds re-embed only
    documents whose text changed.
    """
    timings: dict[str, float] = {"load_average_1m_at_start": os.getloadavg()[0]}
    started = time.perf_counter()
    progress(0.02, "loading sources")
    sources = load_sources(data_root)
    linker = build_linker(sources)
    documents = build_documents(sources, linker) + graph_fact_documents(data_root / "hetionet")
    timings["load_and_link_s"] = time.perf_counter() - started
    progress(0.15, f"{len(documents)} documents; indexing BM25")
    tick = time.perf_counter()
    lexical = LexicalIndex.build([d.searchable for d in documents])
    timings["bm25_s"] = time.perf_counter() - tick
    vectors, encoder_sha = None, ""
    if encoder_dir is not None:
        tick = time.perf_counter()
        chosen = [d for d in documents if dense_types is None or d.doc_type in dense_types]
        vectors, encoder_sha = _embed(chosen, encoder_dir, target.parent / CACHE_FILE, progress)
        timings["dense_s"] = time.perf_counter() - tick
    tmp = target.with_name(f"{target.name}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}")
    tmp.mkdir(parents=True)
    _write_db(tmp / DB_FILE, documents, linker)
    lexical.save(tmp / BM25_DIR)
    if vectors is not None:
        vectors.save(tmp / DB_FILE)
    timings["total_s"] = time.perf_counter() - started
    timings["load_average_1m_at_end"] = os.getloadavg()[0]  # build times on a shared machine need this
    manifest = _manifest(data_root, documents, encoder_sha, timings, dense_types)
    (tmp / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    publish(tmp, target)
    _share(tmp, progress)
    progress(1.0, "index built")
    return manifest


def _share(build: Path, progress: Progress) -> None:
    """With a blob store other machines read, they get this build too (shared_index.py)."""
    from hygeia.evidence import shared_index  # it publishes through this module: import when used

    if shared_index.enabled():
        progress(0.98, "uploading the index to the shared blob store")
        shared_index.upload(build)


def publish(build: Path, target: Path) -> None:
    """Point `target` (a symlink) at `build` in one atomic rename: a reader sees the old index or the
    new one, never none. The previous build stays on disk for requests still reading it; older
    complete builds are removed (an unfinished one, without a manifest, may be another build's)."""
    previous = os.readlink(target) if target.is_symlink() else None
    if target.exists() and not target.is_symlink():  # an index from before builds were versioned
        previous = f"{target.name}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}-legacy"
        target.rename(target.with_name(previous))
    link = target.with_name(f"{target.name}.{os.getpid()}.link")
    link.unlink(missing_ok=True)
    link.symlink_to(build.name)
    os.replace(link, target)
    keep = {build.name, previous}
    for old in target.parent.glob(f"{target.name}-*"):
        if old.name not in keep and old.is_dir() and (old / MANIFEST_FILE).is_file():
            shutil.rmtree(old, ignore_errors=True)


def _embed(
    documents: list[Document], encoder_dir: Path, cache_path: Path, progress: Progress
) -> tuple[VectorIndex, str]:
    from hygeia.core.registry import file_sha256

    sha = file_sha256(encoder_dir / "encoder.onnx")
    cache = EmbeddingCache(cache_path, sha)
    texts = [d.searchable for d in documents]
    matrix, missing = cache.lookup(texts)
    encoder = TextEncoder(encoder_dir) if missing else None
    step = 512
    for start in range(0, len(missing), step):
        rows = missing[start : start + step]
        assert encoder is not None
        vectors = encoder.encode([texts[i] for i in rows])
        matrix[rows] = vectors
        cache.store([texts[i] for i in rows], vectors)
        done = min(start + step, len(missing))
        progress(0.15 + 0.8 * done / len(missing), f"embedded {done}/{len(missing)} new documents")
    progress(0.96, f"{len(texts) - len(missing)} embeddings reused from cache")
    return VectorIndex([d.id for d in documents], matrix, sha), sha


def _write_db(path: Path, documents: list[Document], linker: EntityLinker) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
        conn.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                (
                    n,
                    d.id,
                    d.doc_type,
                    d.source,
                    d.title,
                    d.text,
                    d.url,
                    json.dumps(d.drug_ids),
                    json.dumps(d.disease_ids),
                    json.dumps(d.meta),
                )
                for n, d in enumerate(documents)
            ),
        )
        conn.executemany(
            "INSERT INTO entities VALUES (?,?,?,?)",
            ((e.id, e.kind, e.name, json.dumps(e.xrefs)) for e in linker.entities.values()),
        )
        conn.executemany("INSERT INTO aliases VALUES (?,?,?)", linker.alias_items())
        conn.executemany("INSERT INTO inchikeys VALUES (?,?)", linker.inchikey_items())


def _manifest(
    root: Path,
    documents: list[Document],
    encoder_sha: str,
    timings: dict[str, float],
    dense_types: Sequence[str] | None,
) -> dict[str, Any]:
    from hygeia.core.registry import file_sha256

    counts: dict[str, int] = {}
    for doc in documents:
        counts[doc.doc_type] = counts.get(doc.doc_type, 0) + 1
    return {
        "format": INDEX_FORMAT,
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_root": str(root.resolve()),
        "sources": {rel: file_sha256(root / rel) for rel in REQUIRED_FILES},
        "documents": len(documents),
        "documents_by_type": counts,
        "dense": bool(encoder_sha),
        "dense_types": list(dense_types) if dense_types else "all",
        "encoder_sha256": encoder_sha,
        "timings": {k: round(v, 2) for k, v in timings.items()},
    }


def open_index(folder: Path) -> EvidenceIndex:
    """Read a built index; raises FileNotFoundError naming what is missing."""
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise FileNotFoundError(f"no evidence index at {folder}: run `hygeia evidence build`")
    manifest = json.loads(manifest_path.read_text())
    with sqlite3.connect(f"file:{folder / DB_FILE}?mode=ro", uri=True) as conn:
        documents = [_document(row) for row in conn.execute("SELECT * FROM documents ORDER BY row")]
        entities = [
            Entity(kind, eid, name, json.loads(xrefs))
            for eid, kind, name, xrefs in conn.execute("SELECT id, kind, name, xrefs FROM entities")
        ]
        aliases = [(a, e, bool(m)) for a, e, m in conn.execute("SELECT * FROM aliases")]
        inchikeys = [(k, e) for k, e in conn.execute("SELECT * FROM inchikeys")]
    vectors = VectorIndex.load(folder / DB_FILE) if manifest.get("dense") else None
    return EvidenceIndex(
        folder=folder,
        documents=documents,
        linker=EntityLinker.from_rows(entities, aliases, inchikeys),
        lexical=LexicalIndex.load(folder / BM25_DIR),
        vectors=vectors,
        graph=EvidenceGraph(documents),
        manifest=manifest,
    )


def _document(row: tuple[Any, ...]) -> Document:
    _, doc_id, doc_type, source, title, text, url, drugs, diseases, meta = row
    return Document(
        doc_id, doc_type, source, title, text, url, json.loads(drugs), json.loads(diseases), json.loads(meta)
    )


def document_dict(doc: Document) -> dict[str, Any]:
    return asdict(doc)
