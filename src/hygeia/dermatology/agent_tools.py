"""What dermatology offers the agents about the caller's own data: an earlier lesion triage by its
prediction id.

Questions carry no images: a user (or the console, for an image attached to a question) first asks
dermatology for a prediction, which is recorded per tenant with its image's sha256 (never the image),
and the question names that id ("what did dermatology prediction 3f2a… say?"). Tenant-scoped: the
record is read with `caller.tenant_id`, so another tenant's id is "not found" as it is over HTTP.
"""

from __future__ import annotations

from typing import Any

from hygeia.core.outcomes import followed_prediction
from hygeia.core.tools import Caller, register_tool
from hygeia.dermatology.card import NOT_A_DIAGNOSIS
from hygeia.dermatology.service import MODEL_NAME

SHOWN = 3  # classes named in the fact; the tool output has all seven


def prediction_by_id(caller: Caller, prediction_id: str) -> dict[str, Any]:
    """Agent tool: one of the caller's recorded lesion triages, with any histopathology reported since."""
    record = followed_prediction(caller.tenant_id, MODEL_NAME, prediction_id)
    ranked = sorted(record.scores.items(), key=lambda kv: -kv[1])
    top = ", ".join(f"{label} {p:.2f}" for label, p in ranked[:SHOWN])
    answered = record.predicted or "no class"
    reported = "; ".join(f"{o['observed']} ({o['source']})" for o in record.outcomes)
    outcome = f"; reported since: {reported}" if reported else "; no histopathology reported yet"
    fact = (
        f"dermatology prediction {record.id[:8]} of this tenant (model {record.model_version}, "
        f"{record.created_at:%Y-%m-%d}): {answered}; {top}{outcome}"
    )
    return {
        "prediction_id": record.id,
        "model_version": record.model_version,
        "image_sha256": record.input_key,
        "predicted": record.predicted,
        "probabilities": dict(ranked),
        "outcomes": [{**o, "created_at": o["created_at"].isoformat()} for o in record.outcomes],
        "fact": fact,
        "notice": NOT_A_DIAGNOSIS,
    }


def register() -> None:
    register_tool(
        "dermatology.prediction",
        "An earlier dermatoscopic lesion triage of this tenant, by its prediction id: the 7 class "
        "probabilities, the class answered, and any histopathology outcome reported since",
        prediction_by_id,
        input_schema={
            "type": "object",
            "properties": {"prediction_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}},
            "required": ["prediction_id"],
            "additionalProperties": False,
        },
        tenant_scoped=True,
    )
