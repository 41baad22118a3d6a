"""The bundled MiniLM sentence encoder, reused by the agents to rank sentences and route questions.

The agents never import the evidence domain: they open the same ONNX artifact the evidence model
ships (`models/evidence/<version>/encoder.onnx`, all-MiniLM-L6-v2, int8) with onnxruntime, after
checking its sha256 against that model's card. When it is absent the callers fall back to lexical
ranking and say so, so a fresh install without the evidence model still answers.
"""

from __future__ import annotations

import os
import re
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from hygeia.core.registry import newest_version_folder, verify_folder
from hygeia.settings import get_settings

ENCODER_FILE, TOKENIZER_FILE = "encoder.onnx", "tokenizer.json"
MAX_LENGTH, DIMENSION = 256, 384
SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


def split_sentences(text: str) -> list[str]:
    """Abstract sentences: split after . ! ? followed by a capital or digit (keeps "e.g. x", "p<0.05")."""
    parts = SENTENCE_END.split(" ".join(text.split()))
    return [p.strip() for p in parts if len(p.strip()) > 2]


def encoder_folder(models_dir: Path | None = None) -> Path | None:
    """The newest bundled evidence model, if it ships the encoder."""
    folder = newest_version_folder(Path(models_dir or get_settings().models_dir) / "evidence")
    if folder is None or not (folder / ENCODER_FILE).is_file() or not (folder / TOKENIZER_FILE).is_file():
        return None
    return folder


class SentenceEncoder:
    """MiniLM as ONNX: `encode` returns float32, L2-normalised rows in input order."""

    def __init__(self, folder: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        verify_folder(folder)  # every file's sha256 against the card; a modified file is refused
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        self.folder = folder
        self._session = ort.InferenceSession(
            str(folder / ENCODER_FILE), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        self._tokenizer.enable_truncation(max_length=MAX_LENGTH)
        self._tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths pad less
        for start in range(0, len(texts), batch_size):
            chosen = order[start : start + batch_size]
            out[chosen] = self._run([texts[i] for i in chosen])
        return out

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            (embedding,) = self._session.run(
                ["sentence_embedding"], {k: v for k, v in feeds.items() if k in self._inputs}
            )
        return np.asarray(embedding, dtype=np.float32)


@lru_cache(maxsize=2)
def _load(folder: str) -> SentenceEncoder:
    return SentenceEncoder(Path(folder))


def get_encoder() -> SentenceEncoder | None:
    """The shared encoder, or None when no evidence model with an encoder is installed."""
    folder = encoder_folder()
    return _load(str(folder)) if folder else None
