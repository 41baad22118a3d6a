"""What toxicity offers the agents beyond predictions: the caller's own finished batch prediction by
its id, and Tox21's own record of a compound by InChIKey (`tested_records.py`).

The batch tool is tenant-scoped (registered with `tenant_scoped=True`): the job is read with
`caller.tenant_id`, so another tenant's job id is "not found" exactly as it is over HTTP. Agents
reach both only through `core.tools`, naming the job id in the question ("what did toxicity job
3f2a… find?").
"""

from __future__ import annotations

from typing import Any

from hygeia.core.errors import NotFound
from hygeia.core.jobs import SUCCEEDED, get_job
from hygeia.core.tools import Caller, register_tool
from hygeia.toxicity.service import BATCH_JOB
from hygeia.toxicity.tested_records import tox21_record

SHOWN = 5  # molecules summarised in the answer; the job endpoint has them all


def batch_prediction(caller: Caller, job_id: str, molecule_id: str | None = None) -> dict[str, Any]:
    """Agent tool: the molecules of one of the caller's toxicity batch jobs, or one molecule by its ID."""
    job = get_job(caller.tenant_id, job_id)  # NotFound for another tenant's job
    if job.kind != BATCH_JOB:
        raise NotFound(f"job {job_id!r} is not a toxicity batch prediction")
    if job.status != SUCCEEDED:
        fact = f"toxicity batch {job_id[:8]} is {job.status}; results exist once it succeeds"
        return {"job_id": job.id, "status": job.status, "results": [], "fact": fact}
    results: list[dict[str, Any]] = list((job.result or {}).get("results") or [])
    if molecule_id:
        results = [r for r in results if molecule_id in (r.get("id"), r.get("smiles"))]
        if not results:
            raise NotFound(f"no molecule {molecule_id!r} in toxicity batch {job_id!r}")
    total = len(results)
    shown = results[:SHOWN]
    lines = "; ".join(_line(r) for r in shown)
    more = f" (and {total - len(shown)} more at /api/v1/jobs/{job.id})" if total > len(shown) else ""
    return {
        "job_id": job.id,
        "status": job.status,
        "model": (job.result or {}).get("model"),
        "molecules": total,
        "results": shown,
        "fact": f"toxicity batch {job.id[:8]} of this tenant, {total} molecule(s): {lines}{more}",
    }


def _line(result: dict[str, Any]) -> str:
    name = result.get("id") or result.get("smiles")
    if result.get("error"):
        return f"{name}: not scored ({result['error']})"
    top = sorted((result.get("probabilities") or {}).items(), key=lambda kv: -kv[1])[:3]
    return (
        f"{name}: " + ", ".join(f"{k} {v:.2f}" for k, v in top) + _where(result.get("applicability_domain"))
    )


def _where(domain: dict[str, Any] | None) -> str:
    """The domain flag and, since the line is soft (benchmarks README §26), how well CV ranked
    compounds this far from their training folds."""
    if not domain:
        return ""
    where = "inside" if domain["in_domain"] else "outside"
    auc = domain.get("cv_roc_auc")
    ranked = f", CV ROC-AUC {auc:.2f} at this similarity" if auc is not None else ""
    return f" ({where} the model's applicability domain{ranked})"


def register() -> None:
    register_tool(
        "toxicity.batch_prediction",
        "Results of one of this tenant's earlier toxicity batch predictions, by its job id (optionally one "
        "molecule by its ID or SMILES): Tox21 probabilities and applicability domain",
        batch_prediction,
        input_schema={
            "type": "object",
            "properties": {
                "job_id": {"type": "string", "maxLength": 64},
                "molecule_id": {"type": "string", "maxLength": 1000},
            },
            "required": ["job_id"],
            "additionalProperties": False,
        },
        tenant_scoped=True,
    )
    register_tool(
        "toxicity.tox21_record",
        "What Tox21 measured for one compound exactly as it was tested, by InChIKey or SMILES (also metal "
        "complexes and inorganics the model does not score), with the record's Tox21 IDs and SMILES",
        tox21_record,
        input_schema={
            "type": "object",
            "properties": {
                "inchikey": {"type": "string", "maxLength": 40},
                "smiles": {"type": "string", "maxLength": 1000},
            },
            "additionalProperties": False,
        },
    )
