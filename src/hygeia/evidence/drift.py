"""Evidence drift: what tenants ask and what the ranker answers, against the model's benchmark.

Signals, fed to the platform's persistent drift monitor (core.drift, per tenant and day):
- `query_entities`: which entities a search query links to (0 none, 1 drug, 2 disease, 3 both), the
  query mix; its reference is the retrieval benchmark's 1,000 PubMedQA questions, linked the same way.
- `candidate_confidence`: the confidence of every candidate a repurposing job returns; its reference
  is the model's prior-weight ranking (top REFERENCE_K) for each Disease Ontology disease of the index.
`hygeia evidence drift-reference` computes both and writes them into the model's card.json as
`drift_reference` (the card is not an artifact, so the model's sha256 is unchanged). A version whose
card has no reference adds no drift rows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from hygeia.core.drift import drift_monitor, reference_histogram
from hygeia.core.errors import CapabilityUnavailable
from hygeia.core.registry import CARD_FILE, LoadedModel
from hygeia.evidence.features import is_do_disease
from hygeia.evidence.linking import Link
from hygeia.evidence.runtime import MODEL_NAME, ReadyEvidence, link_query, production_model
from hygeia.evidence.schemas import CandidateOut, LinkedEntity

QUERY_ENTITIES, CANDIDATE_CONFIDENCE = "query_entities", "candidate_confidence"
NO_ENTITY, DRUG, DISEASE, BOTH = 0, 1, 2, 3
REFERENCE_K = 20  # the API's default number of candidates


def entity_mix(kinds: Sequence[str]) -> int:
    """A query's place in the mix, from the kinds of the entities it linked to."""
    has_drug, has_disease = "drug" in kinds, "disease" in kinds
    return BOTH if has_drug and has_disease else DRUG if has_drug else DISEASE if has_disease else NO_ENTITY


@lru_cache(maxsize=4)
def _model(version: str, sha256: str, folder: str) -> LoadedModel:
    """The registered model with its card as written now (read once per process and version)."""
    card = json.loads((Path(folder) / CARD_FILE).read_text())
    return LoadedModel(MODEL_NAME, version, sha256, "production", Path(folder), card)


def production() -> LoadedModel | None:
    try:
        version, sha256, folder = production_model()
    except CapabilityUnavailable:
        return None
    return _model(version, sha256, str(folder))


def observe_search(entities: Sequence[LinkedEntity]) -> None:
    """One search's query mix (observed for cached answers too: the mix is the traffic)."""
    model = production()
    if model is not None:
        drift_monitor.observe(model, {QUERY_ENTITIES: [entity_mix([e.kind for e in entities])]})


def observe_candidates(r: ReadyEvidence, candidates: Sequence[CandidateOut]) -> None:
    if r.model_folder is not None:
        model = _model(r.model.version, r.model.sha256, str(r.model_folder))
        drift_monitor.observe(model, {CANDIDATE_CONFIDENCE: [c.confidence for c in candidates]})


def reference(query_mix: Sequence[int], confidences: Sequence[float]) -> dict[str, Any]:
    return {
        QUERY_ENTITIES: reference_histogram(query_mix, bins=4, value_range=(0.0, 4.0)),
        CANDIDATE_CONFIDENCE: reference_histogram(confidences),
    }


def benchmark_query_mix(r: ReadyEvidence, questions: Sequence[str]) -> list[int]:
    return [entity_mix([lk.entity.kind for lk in link_query(r, q)]) for q in questions]


def reference_confidences(
    r: ReadyEvidence, rank: Callable[[ReadyEvidence, Link, str, int], list[float]], log: Callable[[str], None]
) -> list[float]:
    """Top REFERENCE_K confidences under the prior weights for every DO disease of the index."""
    diseases = sorted(
        e.id for e in r.index.linker.entities.values() if e.kind == "disease" and is_do_disease(e.id)
    )
    values: list[float] = []
    for n, disease in enumerate(diseases, start=1):
        link = Link(r.index.linker.entities[disease], disease, "id", 1.0)
        values.extend(rank(r, link, disease, REFERENCE_K))
        if n % 20 == 0 or n == len(diseases):
            log(f"drift reference: {n} of {len(diseases)} diseases ranked")
    return values


def write_reference(folder: Path, histograms: dict[str, Any]) -> None:
    card_path = folder / CARD_FILE
    card = json.loads(card_path.read_text())
    card["drift_reference"] = histograms
    card_path.write_text(json.dumps(card, indent=2) + "\n")
