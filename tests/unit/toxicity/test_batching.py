"""Concurrent single-molecule predictions are scored together, and each caller gets its own row."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from hygeia.toxicity import batching
from hygeia.toxicity.predictor import RowPrediction


class _Scorer:
    """Stands in for predict_prepared: records each call's molecules; the first call waits until told."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.first_started, self.release_first = threading.Event(), threading.Event()

    def __call__(self, model: Any, smiles: list[str], prepared: list[Any]) -> list[RowPrediction]:
        self.calls.append(list(smiles))
        if len(self.calls) == 1:
            self.first_started.set()
            self.release_first.wait(10)
        if "boom" in smiles:
            raise RuntimeError("model failed")
        return [RowPrediction(s, standardised_smiles=f"{model}:{s}") for s in smiles]


def _ask(batcher: batching.ScoringBatcher, model: str, smiles: str, answers: dict[str, Any]) -> None:
    try:
        answers[smiles] = batcher.score(model, smiles, object()).standardised_smiles  # type: ignore[arg-type]
    except RuntimeError as exc:
        answers[smiles] = exc


def _waiting(batcher: batching.ScoringBatcher, n: int) -> None:
    while True:
        with batcher._lock:
            if len(batcher._queue) == n:
                return


@pytest.fixture
def scorer(monkeypatch: pytest.MonkeyPatch) -> _Scorer:
    fake = _Scorer()
    monkeypatch.setattr(batching, "predict_prepared", fake)
    return fake


def test_molecules_arriving_during_a_call_are_scored_together_in_the_next(scorer: _Scorer) -> None:
    batcher, answers = batching.ScoringBatcher(), {}
    first = threading.Thread(target=_ask, args=(batcher, "prod", "C", answers))
    first.start()
    scorer.first_started.wait(10)
    later = [threading.Thread(target=_ask, args=(batcher, "prod", s, answers)) for s in ("CC", "CCC", "CCO")]
    for thread in later:
        thread.start()
    _waiting(batcher, 3)
    scorer.release_first.set()
    for thread in [first, *later]:
        thread.join(10)
    assert scorer.calls[0] == ["C"] and sorted(scorer.calls[1]) == ["CC", "CCC", "CCO"]
    assert answers == {s: f"prod:{s}" for s in ("C", "CC", "CCC", "CCO")}  # each its own row
    assert not batcher._scoring  # the last leader stood down: the next request leads at once


def test_each_model_is_scored_on_its_own_and_an_error_reaches_only_its_group(scorer: _Scorer) -> None:
    batcher, answers = batching.ScoringBatcher(), {}
    first = threading.Thread(target=_ask, args=(batcher, "prod", "C", answers))
    first.start()
    scorer.first_started.wait(10)
    later = [
        threading.Thread(target=_ask, args=(batcher, model, s, answers))
        for model, s in (("canary", "boom"), ("canary", "CCN"), ("prod", "CCO"))
    ]
    for thread in later:
        thread.start()
    _waiting(batcher, 3)
    scorer.release_first.set()
    for thread in [first, *later]:
        thread.join(10)
    assert sorted(map(sorted, scorer.calls[1:])) == [["CCN", "boom"], ["CCO"]]
    assert isinstance(answers["boom"], RuntimeError) and isinstance(answers["CCN"], RuntimeError)
    assert answers["CCO"] == "prod:CCO" and answers["C"] == "prod:C"
