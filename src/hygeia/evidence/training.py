"""`hygeia evidence train`: export the encoder, build the index, evaluate, write the model card.

The "model" is the int8 ONNX sentence encoder plus the prior evidence weights; its card carries the
PubMedQA retrieval metrics (BM25 vs dense vs hybrid, one run) and the held-out PharmacotherapyDB
repurposing metrics (before/after replayed feedback).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.evidence.encoder import TextEncoder
from hygeia.evidence.features import FEATURES
from hygeia.evidence.ranking import PRIOR_WEIGHTS
from hygeia.evidence.runtime import RANKING_FILE

MODEL_NAME = "evidence"
PROBE = [
    "Metformin is a first-line treatment for type 2 diabetes mellitus.",
    "Terminated phase 2 trial of donepezil in Parkinson disease dementia.",
    "Does aspirin reduce the risk of colorectal cancer in older adults?",
    "Pulmonary arterial hypertension responds to sildenafil, a PDE5 inhibitor.",
]
MIN_INT8_COSINE = 0.85  # measured ~0.95 mean on PubMedQA abstracts; below this the export is broken
Log = Callable[[str], None]


def export_int8_encoder(folder: Path, log: Log) -> dict[str, Any]:
    """fp32 export via torch (parity-checked), then dynamic int8 quantisation of the MatMul weights.

    int8 is 4x smaller (23 MB vs 90 MB) and ~1.7x faster on two cores; on PubMedQA its dense nDCG@10
    was within 0.002 of fp32 in our measurement (see MODEL_CARD.md), so int8 is what ships.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from hygeia.evidence.encoder_export import ENCODER_SPEC_FILE, export_encoder

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "fp32"
        log("exporting all-MiniLM-L6-v2 to ONNX (torch, CPU)")
        spec = export_encoder(fp32)
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32 / "encoder.onnx"), str(pre), skip_symbolic_shape=False)
        quantize_dynamic(str(pre), str(folder / "encoder.onnx"), weight_type=QuantType.QInt8)
        shutil.copyfile(fp32 / "tokenizer.json", folder / "tokenizer.json")
        cosine = _agreement(TextEncoder(fp32), TextEncoder(folder))
    if cosine < MIN_INT8_COSINE:
        raise RuntimeError(f"int8 encoder agrees with fp32 at cosine {cosine:.3f} only; not shipping it")
    spec |= {"quantization": "onnxruntime dynamic int8 (QInt8 weights)", "int8_vs_fp32_min_cosine": cosine}
    (folder / ENCODER_SPEC_FILE).write_text(json.dumps(spec, indent=2) + "\n")
    log(f"int8 encoder written; min cosine to fp32 on probe texts {cosine:.3f}")
    return spec


def _agreement(reference: TextEncoder, candidate: TextEncoder) -> float:
    a, b = reference.encode(PROBE), candidate.encode(PROBE)
    return round(float(np.min(np.sum(a * b, axis=1))), 4)


def write_ranking(folder: Path) -> None:
    payload = {"features": list(FEATURES), "prior_weights": PRIOR_WEIGHTS, "model": "logistic, L2 to prior"}
    (folder / RANKING_FILE).write_text(json.dumps(payload, indent=2) + "\n")


def evaluate(index_folder: Path, model_folder: Path, data_root: Path) -> dict[str, Any]:
    """Retrieval (PubMedQA) and repurposing (PharmacotherapyDB, 5-fold) metrics on the built index."""
    from hygeia.evidence.evaluation import evaluate_pubmedqa
    from hygeia.evidence.repurposing_eval import evaluate_repurposing
    from hygeia.evidence.retrieval import Retriever
    from hygeia.evidence.sources import load_indications, load_pubmedqa
    from hygeia.evidence.store import open_index

    index = open_index(index_folder)
    encoder = TextEncoder(model_folder) if index.has_dense else None
    retrieval = evaluate_pubmedqa(Retriever(index, encoder), load_pubmedqa(data_root / "pubmedqa"))
    labels = load_indications(data_root / "pharmacotherapydb/indications.tsv", "PharmacotherapyDB")
    return {
        "retrieval": retrieval,
        "repurposing": evaluate_repurposing(index.graph, labels),
        "index": index.manifest,
    }


def card_dict(version: str, metrics: dict[str, Any], spec: dict[str, Any], data_root: Path) -> dict[str, Any]:
    from hygeia.core.registry import file_sha256

    corpus = data_root / "pubmedqa" / "ori_pqal.json"
    return {
        "name": MODEL_NAME,
        "version": version,
        "task": (
            "drug-repurposing evidence retrieval (hybrid BM25 + dense, RRF) and candidate-indication ranking"
        ),
        "feature_spec": {
            "encoder": spec.get("model"),
            "dimension": spec.get("dimension"),
            "max_length": spec.get("max_length"),
            "quantization": spec.get("quantization"),
            "ranking_features": list(FEATURES),
            "featurizer_version": "evidence-features/1",
        },
        "metrics": {"retrieval": metrics["retrieval"], "repurposing": metrics["repurposing"]},
        "index_build": {k: metrics["index"].get(k) for k in ("documents", "documents_by_type", "timings")},
        "intended_use": (
            "Research support for drug-repurposing hypotheses: find and cite public evidence, rank candidate "
            "indications for expert review. Not for treatment decisions."
        ),
        "limitations": [
            "PubMedQA retrieval is easy (1 relevant abstract among 1,000, questions written from the "
            "abstract); it checks the pipeline, not performance on open-ended literature search.",
            "Literature is only the 1,000 PubMedQA PQA-L abstracts; co-mention features are sparse.",
            "DrugCentral, repoDB approvals and PharmacotherapyDB all derive from drug labels, so the "
            "'all_evidence' AUROC measures agreement between curated sources; the ablation without them is "
            "closer to a repurposing setting.",
            "Feedback learning was evaluated by replaying curated labels as votes on top-10 suggestions, "
            "which is biased towards already-likely pairs; real user feedback may behave differently.",
            "Candidate diseases are the 137 Disease Ontology slim terms (Hetionet); others are not ranked.",
        ],
        "training_data": {
            "path": str(data_root),
            "sha256": file_sha256(corpus),
            "rows": metrics["index"].get("documents"),
            "sources_sha256": metrics["index"].get("sources"),
        },
    }
