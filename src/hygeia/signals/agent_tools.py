"""What signals offers the agents about the caller's own data: the tenant's latest finished run.

Tenant-scoped (registered with `tenant_scoped=True`): the caller arrives as the first argument and
every read goes through the tenant-filtered job and storage functions with `caller.tenant_id`, so
a question can never reach another tenant's run. Agents reach this only through `core.tools`.
"""

from __future__ import annotations

from typing import Any

from hygeia.core.jobs import SUCCEEDED, list_job_summaries
from hygeia.core.tools import Caller, last_named, register_tool
from hygeia.signals import storage
from hygeia.signals.service import RUN_KIND, list_signals

TOP = 5
RUNS_SCANNED = 50  # the latest finished run is among the tenant's newest runs


def latest_finished_run(tenant_id: str) -> tuple[str, Any] | None:
    """(run id, finished at) of the tenant's newest succeeded signal run, or None."""
    for run in list_job_summaries(tenant_id, limit=RUNS_SCANNED, kind=RUN_KIND):
        if run.status == SUCCEEDED:
            return run.id, run.finished_at
    return None


def _named(query: str, given: str | None, names: list[str]) -> str | None:
    """The given name if the run knows it, else the run's name the question mentions last."""
    return (last_named(given, names) if given else None) or last_named(query, names)


def latest_run_signals(
    caller: Caller,
    query: str = "",
    drug: str | None = None,
    event: str | None = None,
    top: int = TOP,
    drugs: list[str] | None = None,
) -> dict[str, Any]:
    """Agent tool: a drug-event pair, a drug's top signals or an event's top drugs, in the caller's
    latest finished run; with `drugs` (a drug class's members), the pairs of each that the run holds."""
    latest = latest_finished_run(caller.tenant_id)
    if latest is None:
        return {"run_id": None, "found": False, "reason": "this tenant has no finished signal run"}
    run_id, finished_at = latest
    table = storage.load_ranked(caller.tenant_id, run_id)
    events = table["event"].astype(str).unique().tolist()
    if drugs:
        return _drugs_signals(
            caller, (run_id, finished_at), table, drugs, last_named(event or query, events), top
        )
    drug = _named(query, drug, table["drug"].astype(str).unique().tolist())
    # without a drug, only the event the question asks about ("which drugs have a signal for rash?"), never
    # one that follows a drug the run lacks ("a signal for zorblaxine and rash?")
    event = _named(query, event, events) if drug else last_named(event or "", events)
    base = {"run_id": run_id, "finished_at": finished_at, "drug": drug, "event": event}
    if drug is None and event is None:
        return base | {"found": False, "reason": f"no drug of run {run_id} is named in the question"}
    page = list_signals(caller.tenant_id, run_id, drug=drug, event=event, limit=max(1, min(top, 50)))
    items = [signal.model_dump() for signal in page.items]
    alerting = sum(1 for s in items if s.get("alert_level") not in (None, "none"))
    # a ranked pair is a signal only when it meets an alert criterion: say how many of the listed do
    scope = (
        f"{drug}-{event}"
        if drug and event
        else f"the {len(items)} highest-priority pairs for {drug or event} ({alerting} with an alert)"
    )
    lines = "; ".join(_line(s, "event" if drug else "drug") for s in items)
    fact = f"{scope} in this tenant's signal run {run_id[:8]}: {lines}"
    return base | {"found": bool(items), "signals": items, "fact": fact}


def _drugs_signals(
    caller: Caller, run: tuple[str, Any], table: Any, drugs: list[str], event: str | None, top: int
) -> dict[str, Any]:
    """Each listed drug's pair with the event (or its top signals), those the run names the drug as."""
    run_id, finished_at = run
    in_run = {str(name).upper(): str(name) for name in table["drug"].unique()}
    held = [in_run[name.upper()] for name in drugs if name.upper() in in_run]
    base = {"run_id": run_id, "finished_at": finished_at, "drug": None, "drugs": held, "event": event}
    if not held:
        return base | {"found": False, "reason": f"none of the drugs asked about is in run {run_id}"}
    limit = 1 if event else max(1, min(top, 50))
    items = [
        signal.model_dump()
        for name in held
        for signal in list_signals(caller.tenant_id, run_id, drug=name, event=event, limit=limit).items
    ]
    items = sorted(items, key=lambda s: -(s.get("priority") or 0))[: None if event else 2 * top]
    alerting = sum(1 for s in items if s.get("alert_level") not in (None, "none"))
    scope = (
        f"{event} with" if event else f"the {len(items)} highest-priority pairs ({alerting} with an alert) of"
    )
    lines = "; ".join(f"{s['drug']}-{_line(s, 'event')}" for s in items)
    fact = f"{scope} {len(held)} of the drugs asked about in this tenant's signal run {run_id[:8]}: {lines}"
    return base | {"found": bool(items), "signals": items, "fact": fact}


def _line(signal: dict[str, Any], named: str) -> str:
    """One signal, headed by its event for a drug's signals and by its drug for an event's."""

    def num(key: str) -> str:
        value = signal.get(key)
        return "n/a" if value is None else f"{value:.3g}"

    parts = ", ".join(f"{k} {v:.2f}" for k, v in (signal.get("components") or {}).items())
    return (
        f"{signal[named]}: N {signal['n']:.0f}, expected {num('expected')}, EB05 {num('eb05')}, "
        f"IC025 {num('ic025')}, alert {signal.get('alert_level')}, priority {num('priority')} ({parts})"
    )


def register() -> None:
    register_tool(
        "signals.latest_run",
        "Safety signal statistics (N, expected, EB05, IC025, alert, priority) for a drug and adverse event, "
        "a drug's top signals, or the drugs with the top signals for an event, from this tenant's own "
        "latest finished signal run",
        latest_run_signals,
        input_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "drug": {"type": "string", "maxLength": 200},
                "event": {"type": "string", "maxLength": 200},
                "top": {"type": "integer", "minimum": 1, "maximum": 50},
                "drugs": {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 100},
            },
            "additionalProperties": False,
        },
        tenant_scoped=True,
    )
