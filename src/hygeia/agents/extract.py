"""The answer without a language model: the few sentences that answer the question, not whole abstracts.

Every sentence of every retrieved passage is ranked against the question by MiniLM cosine (lexical
key-term overlap when the encoder is not installed) and the best 3-5 are kept with their citation
numbers. A yes/no question also gets a verdict from `verdict.py`, computed on the sentences of the
study that matches the question best (the setting the verdict model was measured in; one-line records
are not read).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from hygeia.agents import verdict
from hygeia.agents.encoder import get_encoder, split_sentences

MAX_SENTENCES, MIN_SENTENCES = 5, 3
MIN_SENTENCE_RELEVANCE = 0.25  # MiniLM cosine below which a sentence is not shown as an answer
YES_NO = re.compile(
    r"^\s*(?:is|are|was|were|does|do|did|can|could|should|will|would|has|have|had|may|might|must)\b",
    re.IGNORECASE,
)
STOP_WORDS = (
    "what which who whom whose when where why how does did do is are was were can could should would "
    "will the a an and or of in on for to with by from at as this that these those there their its "
    "it be been being have has had may might must any some than then into about between among after "
    "before during patients patient study studies effect effects use used using "
)
STOP = frozenset(STOP_WORDS.split())
WORD = re.compile(r"[a-z0-9][a-z0-9\-]+")


@dataclass(frozen=True)
class Sentence:
    text: str
    source: int  # the citation number of its passage
    position: int
    relevance: float  # cosine to the question (or key-term coverage without the encoder)


@dataclass(frozen=True)
class Ranked:
    sentences: list[Sentence]  # every sentence, best first
    method: str
    question_vector: np.ndarray | None
    vectors: dict[tuple[int, int], np.ndarray]  # (source, position) → unit embedding


def key_terms(question: str) -> set[str]:
    """Content words of the question (3+ letters, not question words or filler)."""
    return {w for w in WORD.findall(question.lower()) if len(w) >= 3 and w not in STOP}


def coverage(terms: set[str], text: str) -> float:
    """Share of the key terms found in the text, allowing a shared 5-letter stem (statin/statins)."""
    if not terms:
        return 0.0
    words = set(WORD.findall(text.lower()))
    stems = {w[:5] for w in words if len(w) >= 5}
    return sum(t in words or (len(t) >= 5 and t[:5] in stems) for t in terms) / len(terms)


def is_yes_no(question: str) -> bool:
    return bool(YES_NO.match(question)) and " or " not in question.lower()


def rank_sentences(question: str, passages: list[tuple[int, str]]) -> Ranked:
    """`passages` are (citation number, full text); returns every sentence ranked against the question."""
    pieces = [(n, i, s) for n, text in passages for i, s in enumerate(split_sentences(text))]
    encoder = get_encoder() if pieces else None
    if encoder is None:
        terms = key_terms(question)
        ranked = [Sentence(s, n, i, coverage(terms, s)) for n, i, s in pieces]
        return Ranked(sorted(ranked, key=lambda x: -x.relevance), "key-term coverage", None, {})
    matrix = encoder.encode([question, *(s for _, _, s in pieces)])
    q_vec, vectors = matrix[0], matrix[1:]
    ranked = [Sentence(s, n, i, float(v @ q_vec)) for (n, i, s), v in zip(pieces, vectors, strict=True)]
    by_key = {(n, i): v for (n, i, _), v in zip(pieces, vectors, strict=True)}
    return Ranked(sorted(ranked, key=lambda x: -x.relevance), "MiniLM cosine", q_vec, by_key)


def select(ranked: Ranked) -> list[Sentence]:
    """The best 3-5 sentences: at least three when there are any, more only while they stay relevant."""
    chosen = [s for s in ranked.sentences[:MAX_SENTENCES] if s.relevance >= MIN_SENTENCE_RELEVANCE]
    if len(chosen) < MIN_SENTENCES:
        chosen = ranked.sentences[:MIN_SENTENCES]
    return chosen


def stated_verdict(question: str, ranked: Ranked, readable: set[int] | None = None) -> dict[str, Any] | None:
    """Yes/no/maybe with its probabilities, from the best-matching passage that `readable` allows (a
    study's text; all passages when None); None when not applicable."""
    model = verdict.load()
    eligible = [s for s in ranked.sentences if readable is None or s.source in readable]
    if model is None or ranked.question_vector is None or not eligible or not is_yes_no(question):
        return None
    best = eligible[0].source
    mine = sorted((s for s in ranked.sentences if s.source == best), key=lambda s: s.position)
    vectors = np.stack([ranked.vectors[(best, s.position)] for s in mine])
    probabilities = model.predict(question, ranked.question_vector, [s.text for s in mine], vectors)
    label = max(probabilities, key=lambda c: probabilities[c])
    return {
        "label": label,
        "probabilities": {k: round(v, 3) for k, v in probabilities.items()},
        "source": best,
        "model": f"agents-verdict {model.info.get('version', '?')}",
        "measured": str(model.info.get("measured", "not measured")),
        "basis": None,
        "stated": False,  # the answer states it only when the passages address the question
    }
