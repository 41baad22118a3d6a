"""Signals in the model lifecycle: a drug-event pair a user gets back from a run gets a prediction id;
outcomes say whether the signal was later confirmed (a label change, an assessment) or refuted.

The "model version" of a pair's scores is the run that produced them: a run fits its own MGPS prior
on its own reports, so each run is a model of its data. Ids are recorded only for the pairs a user
actually gets back (a page of ranked signals, one pair's detail), not for the hundreds of thousands
a run scores, so a run is not slowed; an outcome given by the pair's names is stored all the same
and pairs with a run's record as soon as that pair has been looked at. Answers of POST /signals/score
are computed from counts the caller states (a what-if), not from the tenant's reports, and get none.

EB05 and IC025 are not probabilities: live performance ranks confirmed against refuted signals by
each (ROC-AUC, PR-AUC with CIs), with no Brier score or calibration.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hygeia.core.outcomes import OutcomeKind, OutcomeRejected, Served, record_served, register_outcome_kind
from hygeia.signals.schemas import Signal

CAPABILITY = MODEL_NAME = "signals"
LABEL = "signal"
RANKED_BY = ("eb05", "ic025")
KEY_CHARS = 100  # the records' input key column
SEPARATOR = "|"
CONFIRMED = {"confirmed", "confirm", "1", "true", "yes", "positive"}
REFUTED = {"refuted", "refute", "0", "false", "no", "negative"}


def _name(text: str) -> str:
    return " ".join(text.split()).upper()


def pair_key(drug: str, event: str) -> str:
    """The pair as its records and outcomes know it: `DRUG|EVENT`, case and spacing as the run's own
    lookup ignores them; a pair longer than the key column keeps its start and a hash of the rest."""
    text = f"{_name(drug)}{SEPARATOR}{_name(event)}"
    if len(text) <= KEY_CHARS:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: KEY_CHARS - len(digest) - 1]}~{digest}"


def input_key(given: str) -> str:
    """An outcome's pair, given as `drug|event` (one `|`)."""
    parts = given.split(SEPARATOR)
    if len(parts) != 2 or not parts[0].strip() or not parts[1].strip():
        raise OutcomeRejected(
            "input must be the drug-event pair as 'drug|event', e.g. 'ATORVASTATIN|MYALGIA'"
        )
    return pair_key(parts[0], parts[1])


@dataclass(frozen=True)
class SignalOutcomes(OutcomeKind):
    """Outcomes are said as a pharmacovigilance team says them: confirmed or refuted."""

    def observed(self, value: Any) -> str:
        text = str(value).strip().lower()
        if text in CONFIRMED:
            return "1"
        if text in REFUTED:
            return "0"
        raise OutcomeRejected(f"observed must be confirmed or refuted (or 1/0), not {text[:40]!r}")


OUTCOMES = SignalOutcomes(
    capability=CAPABILITY,
    model_name=MODEL_NAME,
    family="binary",
    labels=(LABEL,),
    input_key=input_key,
    input_help="the pair as 'drug|event'",
    rank_by=RANKED_BY,
)


def _answer(signal: Signal) -> Served:
    scores = {name: float(value) for name in RANKED_BY if (value := getattr(signal, name)) is not None}
    return Served(pair_key(signal.drug, signal.event), scores, signal.alert_level)


def follow(run_id: str, signals: Sequence[Signal]) -> list[Signal]:
    """Each signal a user gets back with its prediction id (stable per tenant, run and pair)."""
    ids = record_served(CAPABILITY, MODEL_NAME, run_id, [_answer(s) for s in signals])
    for signal, prediction_id in zip(signals, ids, strict=True):
        signal.prediction_id = prediction_id
    return list(signals)


def register() -> None:
    register_outcome_kind(OUTCOMES)
