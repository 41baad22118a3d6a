"""Automatic expert selection: a TF-IDF route classifier over each expert's description and examples.

Lexical on purpose: it runs in microseconds and its reason is inspectable (the shared terms that carried
the decision). The bundled MiniLM encoder could route by meaning, but the lexical router already routes
all 12 held-out questions of `benchmarks.agents` right, so a change would have nothing measured to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from hygeia.agents.experts import EXPERTS, MEDICAL, Expert

MIN_SCORE = 0.02  # below this no expert vocabulary matched; the default expert answers
STOP_WORDS = sorted(ENGLISH_STOP_WORDS | {"does", "did"})  # a question's form is no expert's vocabulary


@dataclass(frozen=True)
class Route:
    expert: Expert
    score: float
    scores: dict[str, float]
    matched_terms: tuple[str, ...]
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {
            "expert": self.expert.name,
            "method": "tfidf-cosine over expert descriptions and example questions",
            "score": round(self.score, 4),
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
            "matched_terms": list(self.matched_terms),
            "reason": self.reason,
        }


def _profile(expert: Expert) -> str:
    return " ".join((expert.title, expert.description, *expert.example_questions))


@lru_cache(maxsize=1)
def _index() -> tuple[TfidfVectorizer, np.ndarray, tuple[str, ...]]:
    names = tuple(EXPERTS)
    vectorizer = TfidfVectorizer(
        stop_words=STOP_WORDS, sublinear_tf=True, ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z]{2,}\b"
    )
    matrix = vectorizer.fit_transform([_profile(EXPERTS[n]) for n in names]).toarray()
    return vectorizer, matrix, names


def route(question: str) -> Route:
    """Pick the expert whose profile is closest to the question; say which words decided it."""
    vectorizer, matrix, names = _index()
    query = vectorizer.transform([question]).toarray()[0]
    scores = matrix @ query  # rows are L2-normalised, so this is cosine similarity
    best = int(np.argmax(scores))
    by_name = {names[i]: float(scores[i]) for i in range(len(names))}
    if scores[best] < MIN_SCORE:
        reason = (
            f"no expert's vocabulary matched the question (best score {scores[best]:.3f} < {MIN_SCORE}); "
            f"defaulting to {MEDICAL.title}"
        )
        return Route(MEDICAL, float(scores[best]), by_name, (), reason)
    terms = _matched_terms(vectorizer, matrix[best], query)
    ranking = ", ".join(
        f"{EXPERTS[n].title} {s:.2f}" for n, s in sorted(by_name.items(), key=lambda x: -x[1])
    )
    expert = EXPERTS[names[best]]
    reason = f"{expert.title} matched on {', '.join(repr(t) for t in terms)} (cosine: {ranking})"
    return Route(expert, float(scores[best]), by_name, terms, reason)


def _matched_terms(vectorizer: TfidfVectorizer, profile: np.ndarray, query: np.ndarray) -> tuple[str, ...]:
    contribution = profile * query
    order = np.argsort(-contribution)
    vocabulary = vectorizer.get_feature_names_out()
    return tuple(str(vocabulary[i]) for i in order[:5] if contribution[i] > 0)
