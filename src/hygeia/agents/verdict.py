"""Yes / no / maybe for a yes-no question, from the question and the sentences that answer it.

A multinomial logistic regression over three kinds of inputs, all cheap and inspectable:
  * MiniLM geometry: how closely the best sentences match the question (which sentences are "top");
  * lexical cues counted in the sentences closest to the question and in the last sentences (where
    structured abstracts put results): null findings ("no significant", "did not"), positive findings
    ("significantly", "associated with"), hedges ("may", "trend", "however"), the question's form, and
    reported statistics (significant vs non-significant p-values, 95% CIs of ratios crossing 1);
  * the log-probabilities of a lexical model: TF-IDF words and word pairs of the question and the last
    sentences, its own logistic regression (stacked: fitted out-of-fold, so the outer model learns
    how far to trust it). It added ~0.02 dev-CV accuracy; the hand-made cues alone plateau at 0.59.
Fitted by `benchmarks.agents.pubmedqa` on the 500 PubMedQA questions outside the official test split;
the weights are JSON (no pickle) in `models/agents/<version>/`, hash-checked by the core registry.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from hygeia.core.registry import newest_version_folder, verify_folder, write_card
from hygeia.settings import get_settings

CLASSES = ("yes", "no", "maybe")
TOP_SENTENCES, LAST_SENTENCES, LEXICAL_SENTENCES = 3, 3, 4
WEIGHTS_FILE = "verdict.json"
MODEL_NAME, VERSION = "agents-verdict", "1.2.0"
CUES: dict[str, tuple[str, ...]] = {
    "null": (
        r"\bno (?:statistically )?significant",
        r"\bnot (?:statistically )?significant",
        r"\bdid not\b",
        r"\bdoes not\b",
        r"\bwas not\b",
        r"\bwere not\b",
        r"\bno differences?\b",
        r"\bsimilar\b",
        r"\bcomparable\b",
        r"\bno (?:association|correlation|relationship|effect|benefit|improvement)",
        r"\bunchanged\b",
        r"\bfailed to\b",
        r"\bneither\b",
        r"\bnot associated\b",
        r"\bindependent of\b",
    ),
    "positive": (
        r"\bsignificant(?:ly)?\b",
        r"\bassociated with\b",
        r"\bincreased?\b",
        r"\breduced?\b",
        r"\bimprove[ds]?\b",
        r"\bhigher\b",
        r"\blower\b",
        r"\bp\s*[<≤]\s*0?\.0",
        r"\bpredict(?:s|ed|ive|or)",
        r"\beffective\b",
        r"\bcorrelated\b",
        r"\brisk factor",
        r"\bodds ratio\b|\bOR\b|\bHR\b",
    ),
    "hedge": (
        r"\bmay\b",
        r"\bmight\b",
        r"\bpossibl[ey]\b",
        r"\btrend\b",
        r"\bhowever\b",
        r"\balthough\b",
        r"\bunclear\b",
        r"\bmarginal(?:ly)?\b",
        r"\blimited\b",
        r"\bsuggest",
        r"\bfurther stud",
        r"\bnot reach",
        r"\bborderline\b",
        r"\bcontrovers",
        r"\bwhether\b",
    ),
    "negation": (r"\bno\b", r"\bnot\b", r"\bwithout\b", r"\bnever\b", r"\babsence\b", r"\black of\b"),
}
QUESTION_CUES = (
    r"^(?:is|are|was|were)\b",
    r"^(?:does|do|did)\b",
    r"^(?:can|could|should|will|would)\b",
    r"\bnot\b|\bno\b|n't\b",
    r"\breally\b|\bstill\b|\btruly\b",
    r"\bnecessary\b|\bneeded\b|\brequired\b",
    r"\bbetter\b|\bsuperior\b|\bmore effective\b",
    r"\bpredict",
    r"\bassociat|\brelat|\bcorrelat",
    r"\bsafe\b|\bsafety\b",
    r"\bworth\b|\bjustified\b|\bvalue\b",
    r"\bdiffer|\bcompar",
)
P_VALUE = re.compile(r"\bp\s*(?:value\s*)?([<>=≤≥])\s*(0?\.\d+|1(?:\.0+)?)\b", re.IGNORECASE)
CI_95 = re.compile(
    r"95\s*%\s*(?:CI|confidence interval)[^0-9]{0,12}(\d+(?:\.\d+)?)\s*(?:-|\u2013|to|,)\s*(\d+(?:\.\d+)?)",
    re.IGNORECASE,
)
NOT_SIGNIFICANT = re.compile(r"\bNS\b|non-?significant|not (?:statistically )?significant", re.IGNORECASE)
TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's TfidfVectorizer default, which fits it
_COMPILED = {k: [re.compile(p, re.IGNORECASE) for p in v] for k, v in CUES.items()}
_QUESTION = [re.compile(p, re.IGNORECASE) for p in QUESTION_CUES]


def cue_counts(sentences: list[str]) -> np.ndarray:
    """Mean count per sentence of each cue family (zeros for no sentence)."""
    if not sentences:
        return np.zeros(len(CUES), dtype=np.float32)
    totals = [sum(len(p.findall(s)) for s in sentences for p in patterns) for patterns in _COMPILED.values()]
    return np.asarray(totals, dtype=np.float32) / len(sentences)


def significance(text: str) -> np.ndarray:
    """Reported results: significant vs non-significant p-values, and 95% CIs of ratios crossing 1."""
    significant = not_significant = 0
    for operator, value in P_VALUE.findall(text):
        p = float(value)
        if operator in "<≤":
            significant += p <= 0.05
        elif operator in ">≥":
            not_significant += p >= 0.05
        else:
            significant, not_significant = significant + (p < 0.05), not_significant + (p >= 0.05)
    not_significant += len(NOT_SIGNIFICANT.findall(text))
    intervals = CI_95.findall(text)
    crossing = sum(float(lo) < 1 < float(hi) for lo, hi in intervals)
    share = (significant + 1) / (significant + not_significant + 2)
    return np.asarray([significant, not_significant, share, crossing, len(intervals) - crossing], np.float32)


def question_cues(question: str) -> np.ndarray:
    text = question.strip()
    flags = [1.0 if p.search(text) else 0.0 for p in _QUESTION]
    return np.asarray([*flags, min(len(text.split()), 40) / 40], dtype=np.float32)


def features(question: str, q_vec: np.ndarray, sentences: list[str], s_vecs: np.ndarray) -> np.ndarray:
    """The classifier's input; `s_vecs` rows are the sentences' unit embeddings, in text order.

    Raw embedding dimensions were tried and dropped: with 500 training questions they lowered
    5-fold CV accuracy (0.55 vs 0.60); only similarity summaries of the geometry are kept.
    """
    sims = s_vecs @ q_vec if sentences else np.zeros(0, dtype=np.float32)
    top = [sentences[i] for i in np.argsort(-sims)[:TOP_SENTENCES]]
    last = sentences[-LAST_SENTENCES:]
    best = np.sort(sims)[::-1]
    similarity = np.asarray(
        [best[0] if best.size else 0.0, best[:TOP_SENTENCES].mean() if best.size else 0.0,
         sims.mean() if sims.size else 0.0, min(len(sentences), 30) / 30],
        dtype=np.float32,
    )  # fmt: skip
    cues = [cue_counts(top), cue_counts(last), cue_counts(sentences), question_cues(question)]
    results = [significance(" ".join(sentences)), significance(" ".join(sentences[-4:]))]
    return np.concatenate([similarity, *cues, *results]).astype(np.float32)


def lexical_text(question: str, sentences: list[str]) -> str:
    """What the lexical model reads: the question and the last sentences (where results are)."""
    return " ".join([question, *sentences[-LEXICAL_SENTENCES:]])


@dataclass(frozen=True)
class LexicalModel:
    """TF-IDF (lower-cased words and word pairs, 1 + log tf, L2-normalised), then softmax(W t + b)."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    coef: np.ndarray  # classes x terms
    intercept: np.ndarray

    def tfidf(self, text: str) -> np.ndarray:
        words = TOKEN.findall(text.lower())
        terms = [*words, *(f"{a} {b}" for a, b in pairwise(words))]
        counts: dict[int, int] = {}
        for term in terms:
            if (k := self.vocabulary.get(term)) is not None:
                counts[k] = counts.get(k, 0) + 1
        vector = np.zeros(len(self.idf))
        for k, n in counts.items():
            vector[k] = (1 + np.log(n)) * self.idf[k]
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def log_probabilities(self, text: str) -> np.ndarray:
        z = self.coef @ self.tfidf(text) + self.intercept
        return z - z.max() - np.log(np.exp(z - z.max()).sum())

    def to_json(self) -> dict[str, Any]:
        terms = sorted(self.vocabulary, key=lambda t: self.vocabulary[t])
        return {"terms": terms, "idf": self.idf.round(6).tolist(), "coef": self.coef.round(6).tolist(),
                "intercept": self.intercept.round(6).tolist()}  # fmt: skip

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LexicalModel:
        vocabulary = {term: k for k, term in enumerate(data["terms"])}
        idf, coef, intercept = (np.asarray(data[k], dtype=np.float64) for k in ("idf", "coef", "intercept"))
        return cls(vocabulary, idf, coef, intercept)


@dataclass(frozen=True)
class VerdictModel:
    """Standardise, then softmax(W x + b); everything a reader needs is in the JSON.

    x = `features(...)` followed by the lexical model's three log-probabilities (`inputs`)."""

    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray  # classes x inputs
    intercept: np.ndarray
    lexical: LexicalModel | None  # None in 1.0.0, which had no stacked lexical model
    info: dict[str, Any]

    def inputs(
        self, question: str, q_vec: np.ndarray, sentences: list[str], s_vecs: np.ndarray
    ) -> np.ndarray:
        return self.stacked(features(question, q_vec, sentences, s_vecs), lexical_text(question, sentences))

    def stacked(self, own: np.ndarray, text: str) -> np.ndarray:
        """`features(...)` followed by the lexical model's log-probabilities of `lexical_text(...)`."""
        return own if self.lexical is None else np.concatenate([own, self.lexical.log_probabilities(text)])

    def predict(
        self, question: str, q_vec: np.ndarray, sentences: list[str], s_vecs: np.ndarray
    ) -> dict[str, float]:
        return self.probabilities(self.inputs(question, q_vec, sentences, s_vecs))

    def probabilities(self, x: np.ndarray) -> dict[str, float]:
        z = self.coef @ ((x - self.mean) / self.scale) + self.intercept
        p = np.exp(z - z.max())
        p /= p.sum()
        return {c: float(v) for c, v in zip(CLASSES, p, strict=True)}

    def to_json(self) -> dict[str, Any]:
        arrays = {k: getattr(self, k).round(7).tolist() for k in ("mean", "scale", "coef", "intercept")}
        lexical = {} if self.lexical is None else {"lexical": self.lexical.to_json()}
        return {"classes": list(CLASSES), **arrays, **lexical, "info": self.info}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VerdictModel:
        if tuple(data["classes"]) != CLASSES:
            raise ValueError(f"verdict classes {data['classes']} != {list(CLASSES)}")
        mean, scale, coef, intercept = (
            np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef", "intercept")
        )
        lexical = LexicalModel.from_json(data["lexical"]) if "lexical" in data else None
        return cls(mean, scale, coef, intercept, lexical, dict(data.get("info", {})))


def verdict_folder() -> Path | None:
    """The newest bundled `models/agents/<version>/` (a registry folder: card with sha256 per file)."""
    return newest_version_folder(Path(get_settings().models_dir) / "agents")


def save(model: VerdictModel, folder: Path, card: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Writes the weights and extra JSON artifacts, then the registry card that hashes them all."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in {WEIGHTS_FILE: model.to_json(), **extra}.items():
        (folder / name).write_text(json.dumps(data, separators=(",", ":")))
    return write_card(folder, card)


@lru_cache(maxsize=2)
def _verified(folder: str) -> dict[str, Any]:
    return verify_folder(Path(folder))


def artifact(name: str) -> dict[str, Any] | None:
    """A bundled JSON artifact after the whole folder's hashes are checked; None if not bundled.

    A mismatch raises ModelIntegrityError: a modified file is refused, never silently used."""
    folder = verdict_folder()
    if folder is None or not (folder / name).is_file():
        return None
    _verified(str(folder))
    data: dict[str, Any] = json.loads((folder / name).read_text())
    return data


@lru_cache(maxsize=1)
def load() -> VerdictModel | None:
    data = artifact(WEIGHTS_FILE)
    return VerdictModel.from_json(data) if data is not None else None
