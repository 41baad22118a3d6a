"""The offline (no language model) side of the PubMedQA benchmark: verdict model and confidence.

Both are fitted on the 500 non-test questions only. The verdict is stacked: the lexical model's
log-probabilities enter the outer regression out-of-fold (5 folds) on the dev questions, and from the
lexical model refitted on all of them for the test questions. The configuration (TF-IDF of the question
and last 4 sentences, C = 3; the other variants tried) was chosen by repeated 5-fold CV on the dev
questions, logged in the model card. Sentence embeddings are cached under /tmp, keyed
by the encoder's folder and the data file's size, so a rerun does not re-encode 10k sentences.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from hygeia.agents import confidence, verdict
from hygeia.agents.encoder import get_encoder, split_sentences
from hygeia.agents.extract import Ranked, Sentence, select

C_GRID = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3)
LEXICAL_C, LEXICAL_FOLDS = 3.0, 5
TOP_ABSTRACTS = 3


@dataclass
class Encoded:
    question: np.ndarray  # items x 384
    sentences: dict[str, list[str]]
    vectors: dict[str, np.ndarray]
    index: dict[str, int]


def encode_items(items: dict[str, dict[str, Any]], log: Any) -> Encoded:
    encoder = get_encoder()
    if encoder is None:
        raise SystemExit("the MiniLM encoder (models/evidence/*/encoder.onnx) is not installed")
    ids = sorted(items)
    cache = Path(tempfile.gettempdir()) / f"hygeia-agents-pubmedqa-{encoder.folder.name}-{len(ids)}.npz"
    sentences = {i: [s for c in items[i]["CONTEXTS"] for s in split_sentences(c)] for i in ids}
    flat = [s for i in ids for s in sentences[i]]
    if cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        q_vecs, s_vecs = stored["questions"], stored["sentences"]
    else:
        log(f"encoding {len(ids)} questions and {len(flat)} sentences (cached in {cache})")
        q_vecs = encoder.encode([items[i]["QUESTION"] for i in ids])
        s_vecs = encoder.encode(flat)
        np.savez(cache, questions=q_vecs, sentences=s_vecs)
    vectors, start = {}, 0
    for i in ids:
        vectors[i] = s_vecs[start : start + len(sentences[i])]
        start += len(sentences[i])
    return Encoded(q_vecs, sentences, vectors, {i: k for k, i in enumerate(ids)})


def design(items: dict[str, Any], enc: Encoded, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    rows = [
        verdict.features(items[i]["QUESTION"], enc.question[enc.index[i]], enc.sentences[i], enc.vectors[i])
        for i in ids
    ]
    labels = np.asarray([verdict.CLASSES.index(items[i]["final_decision"]) for i in ids])
    return np.asarray(rows), labels


def lexical_texts(items: dict[str, Any], enc: Encoded, ids: list[str]) -> list[str]:
    return [verdict.lexical_text(items[i]["QUESTION"], enc.sentences[i]) for i in ids]


def fit_lexical(texts: list[str], y: np.ndarray) -> verdict.LexicalModel:
    """scikit-learn's TF-IDF + logistic regression, exported to the JSON model (checked identical)."""
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    t = vectorizer.fit_transform(texts)
    fitted = LogisticRegression(C=LEXICAL_C, max_iter=5000).fit(t, y)
    vocabulary = {str(term): int(k) for term, k in vectorizer.vocabulary_.items()}
    model = verdict.LexicalModel(vocabulary, vectorizer.idf_, fitted.coef_, fitted.intercept_)
    mine = np.stack([model.log_probabilities(text) for text in texts[:50]])
    if not np.allclose(mine, fitted.predict_log_proba(t[:50]), atol=1e-6):
        raise AssertionError("the exported lexical model differs from scikit-learn's")
    return model


def out_of_fold_lexical(texts: list[str], y: np.ndarray) -> np.ndarray:
    """Each dev question's lexical log-probabilities from a lexical model that never saw it."""
    out = np.zeros((len(texts), len(verdict.CLASSES)))
    folds = StratifiedKFold(LEXICAL_FOLDS, shuffle=True, random_state=1)
    for train, held in folds.split(np.zeros(len(y)), y):
        model = fit_lexical([texts[k] for k in train], y[train])
        out[held] = [model.log_probabilities(texts[k]) for k in held]
    return out


def fit_verdict(
    x: np.ndarray, y: np.ndarray, texts: list[str]
) -> tuple[verdict.VerdictModel, dict[str, Any]]:
    """Stack the out-of-fold lexical log-probabilities on the features, standardise, choose C by
    5-fold CV accuracy on the dev questions, refit on all of them (the lexical model too)."""
    x = np.hstack([x, out_of_fold_lexical(texts, y)])
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    cv = {}
    for c in C_GRID:
        predicted = cross_val_predict(LogisticRegression(C=c, max_iter=5000), z, y, cv=folds)
        cv[c] = float(np.mean(predicted == y))
    best = max(cv, key=lambda c: cv[c])
    fitted = LogisticRegression(C=best, max_iter=5000).fit(z, y)
    info = {"C": best, "cv_accuracy_by_C": {str(k): round(v, 4) for k, v in cv.items()}}
    lexical = fit_lexical(texts, y)
    info["lexical"] = (
        f"TF-IDF 1-2 grams of the question + last {verdict.LEXICAL_SENTENCES} sentences, min_df 2, "
        f"{len(lexical.vocabulary)} terms; logistic C = {LEXICAL_C}; stacked out-of-fold ({LEXICAL_FOLDS})"
    )
    model = verdict.VerdictModel(
        mean, scale, fitted.coef_, fitted.intercept_, lexical, {"version": verdict.VERSION, **info}
    )
    return model, info


def predict_verdicts(model: verdict.VerdictModel, x: np.ndarray, texts: list[str]) -> list[str]:
    out = []
    for row, text in zip(x, texts, strict=True):
        p = model.probabilities(model.stacked(row, text))
        out.append(max(p, key=lambda c: p[c]))
    return out


def retrieval_cases(
    items: dict[str, Any], enc: Encoded, ids: list[str], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Confidence components and labels: retrieval over these questions' abstracts, and for a random
    half the question's own abstract removed; label = the best selected sentence is from its own abstract."""
    abstracts = np.stack([_unit(enc.vectors[i].mean(axis=0)) for i in ids])
    removed = np.random.default_rng(seed).random(len(ids)) < 0.5
    rows, labels = [], []
    for k, pmid in enumerate(ids):
        q_vec = enc.question[enc.index[pmid]]
        order = [j for j in np.argsort(-(abstracts @ q_vec)) if not (removed[k] and j == k)][:TOP_ABSTRACTS]
        ranked = _ranked(q_vec, [ids[j] for j in order], enc)
        chosen = select(ranked)
        values = confidence.components(items[pmid]["QUESTION"], chosen)
        rows.append([values[c] for c in confidence.COMPONENTS])
        labels.append(int(bool(chosen) and order[chosen[0].source - 1] == k))
    return np.asarray(rows), np.asarray(labels)


def _ranked(q_vec: np.ndarray, pmids: list[str], enc: Encoded) -> Ranked:
    sentences = [
        Sentence(text, n, i, float(enc.vectors[p][i] @ q_vec))
        for n, p in enumerate(pmids, start=1)
        for i, text in enumerate(enc.sentences[p])
    ]
    return Ranked(sorted(sentences, key=lambda s: -s.relevance), "MiniLM cosine", q_vec, {})


def _unit(v: np.ndarray) -> np.ndarray:
    return v / (np.linalg.norm(v) + 1e-9)


def fit_confidence(x: np.ndarray, y: np.ndarray) -> confidence.Calibration:
    fitted = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    return confidence.Calibration(
        fitted.coef_[0], float(fitted.intercept_[0]), {"fitted_on": "PubMedQA dev 500"}
    )


def calibration_report(
    probabilities: np.ndarray, labels: np.ndarray, removed_own: np.ndarray | None = None
) -> dict[str, Any]:
    """Brier score, expected calibration error (10 equal-width bins), and a reliability table."""
    bins = np.clip((probabilities * 10).astype(int), 0, 9)
    ece = sum(
        abs(probabilities[bins == b].mean() - labels[bins == b].mean()) * np.mean(bins == b)
        for b in range(10)
        if np.any(bins == b)
    )
    table = []
    for lo, hi in ((0, 0.3), (0.3, 0.5), (0.5, 0.75), (0.75, 1.01)):
        mask = (probabilities >= lo) & (probabilities < hi)
        if mask.any():
            table.append({"confidence": f"[{lo}, {min(hi, 1.0)})", "n": int(mask.sum()),
                          "mean_confidence": round(float(probabilities[mask].mean()), 3),
                          "answered_rate": round(float(labels[mask].mean()), 3)})  # fmt: skip
    return {
        "n": len(labels),
        "base_rate_answered": round(float(labels.mean()), 3),
        "brier": round(float(np.mean((probabilities - labels) ** 2)), 4),
        "ece": round(float(ece), 4),
        "reliability": table,
    }


def run_offline(
    items: dict[str, Any], dev: list[str], test: list[str], out_dir: Path | None, log: Any
) -> dict[str, Any]:
    from benchmarks.agents.pubmedqa import scores

    enc = encode_items(items, log)
    x_dev, y_dev = design(items, enc, dev)
    model, info = fit_verdict(x_dev, y_dev, lexical_texts(items, enc, dev))
    x_test, _ = design(items, enc, test)
    gold = [items[i]["final_decision"] for i in test]
    majority = verdict.CLASSES[int(np.bincount(y_dev).argmax())]
    predicted = predict_verdicts(model, x_test, lexical_texts(items, enc, test))
    result: dict[str, Any] = {
        "majority_class_measured": scores(gold, [majority] * len(test)),
        "offline_verdict": scores(gold, predicted) | {"fit": info},
        "_offline_predictions": dict(zip(test, predicted, strict=True)),
    }
    measured = result["offline_verdict"]
    model.info["measured"] = (
        f"PubMedQA test accuracy {measured['accuracy']:.3f} (95% CI {measured['accuracy_ci95'][0]:.3f}-"
        f"{measured['accuracy_ci95'][1]:.3f}); "
        f"majority class {result['majority_class_measured']['accuracy']:.3f}"
    )
    c_dev, l_dev = retrieval_cases(items, enc, dev, seed=1)
    calibration = fit_confidence(c_dev, l_dev)
    c_test, l_test = retrieval_cases(items, enc, test, seed=2)
    p_test = np.asarray(
        [calibration.probability(dict(zip(confidence.COMPONENTS, r, strict=True))) for r in c_test]
    )
    result["confidence_on_test"] = calibration_report(p_test, l_test) | {
        "not_answered_rate_when_answered": round(
            float(np.mean(p_test[l_test == 1] < confidence.NOT_ANSWERED)), 3
        ),
        "not_answered_rate_when_not_answered": round(
            float(np.mean(p_test[l_test == 0] < confidence.NOT_ANSWERED)), 3
        ),
        "previous_heuristic": calibration_report(np.ones_like(p_test), l_test),
    }
    if out_dir is not None:
        card = {
            "name": verdict.MODEL_NAME,
            "version": verdict.VERSION,
            "trained_on": "PubMedQA PQA-L, the 500 non-test ids",
            "features": "MiniLM (models/evidence encoder) question/sentence geometry + lexical cues + "
            "stacked TF-IDF (question + last 4 sentences) logistic log-probabilities",
            "test_scores": result["offline_verdict"],
            "confidence_calibration_test": result["confidence_on_test"],
        }
        calibration_json = calibration.to_json()
        result["card_sha256"] = verdict.save(
            model, out_dir, card, {confidence.CALIBRATION_FILE: calibration_json}
        )["sha256"]
    return result
