"""How much another ONNX Runtime or tokenizers release moves the evidence encoder's vectors.

Run `score` once in each environment (a venv with other onnxruntime / tokenizers versions and this
checkout on its path), then `compare` the two files: token ids, vector differences, and PubMedQA
question → abstract retrieval (the README's dense row) with both sides in one environment and mixed, as
an index built before an upgrade is searched by queries encoded after it.

    python -m benchmarks.evidence.encoder_drift score --out here.npz
    /tmp/old/bin/python -m benchmarks.evidence.encoder_drift score --out there.npz
    python -m benchmarks.evidence.encoder_drift compare here.npz there.npz
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import version
from pathlib import Path

import numpy as np
from benchmarks.environments import drift_main

from hygeia.evidence.encoder import MAX_LENGTH, TOKENIZER_FILE, TextEncoder, tokenize_batch
from hygeia.evidence.sources import load_pubmedqa

MODEL = Path("models/evidence/2.1.0")


def encode(model: Path, data: Path, out: Path) -> None:
    """Every PubMedQA question and abstract, one thread (the same kernels on every run)."""
    abstracts = load_pubmedqa(data / "evidence" / "pubmedqa")
    questions = [a.question for a in abstracts]
    documents = [a.text for a in abstracts]
    ids, _, _ = tokenize_batch(model / TOKENIZER_FILE, questions + documents, MAX_LENGTH)
    encoder = TextEncoder(model, threads=1)
    np.savez(
        out,
        questions=encoder.encode(questions),
        documents=encoder.encode(documents),
        token_digest=hashlib.sha256(ids.tobytes()).hexdigest(),
        versions=json.dumps({p: version(p) for p in ("onnxruntime", "tokenizers", "numpy")}),
    )


def retrieval(questions: np.ndarray, documents: np.ndarray) -> dict[str, float]:
    """Question i's relevant document is abstract i; ties count against it."""
    scores = questions @ documents.T
    rank = (scores >= scores.diagonal()[:, None]).sum(axis=1) - 1
    return {"recall@1": float(np.mean(rank == 0)), "recall@10": float(np.mean(rank < 10)),
            "mrr": float(np.mean(1.0 / (rank + 1)))}  # fmt: skip


def compare(first: Path, second: Path) -> dict[str, object]:
    a, b = np.load(first), np.load(second)
    vectors = np.vstack([a["questions"], a["documents"]]), np.vstack([b["questions"], b["documents"]])
    return {
        "environments": [json.loads(str(a["versions"])), json.loads(str(b["versions"]))],
        "token_ids_identical": str(a["token_digest"]) == str(b["token_digest"]),
        "vectors_identical": int(np.all(vectors[0] == vectors[1], axis=1).sum()),
        "vectors": len(vectors[0]),
        "max_abs_difference": float(np.abs(vectors[0] - vectors[1]).max()),
        "min_cosine": float(np.min(np.sum(vectors[0] * vectors[1], axis=1))),
        "retrieval": {
            "first": retrieval(a["questions"], a["documents"]),
            "second": retrieval(b["questions"], b["documents"]),
            "first_documents_second_questions": retrieval(b["questions"], a["documents"]),
        },
    }


def main() -> None:
    drift_main(__doc__ or "", encode, compare, Path("../shared/data"), MODEL)


if __name__ == "__main__":
    main()
