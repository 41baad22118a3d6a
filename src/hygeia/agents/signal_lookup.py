"""Drug-event signal lookup for plain questions ("is there a signal for atorvastatin and
rhabdomyolysis?", "top signals for metoprolol"): the asker's own latest run first, else a reference.

The caller's latest finished run is read through the signals domain's tenant-scoped tool
(`signals.latest_run`, via `core.tools` with the caller passed on), so only the asker's tenant is ever
consulted. When that tenant has no finished run, or the run lacks the drug or pair, the bundled table
(`models/agents/<version>/signal_reference.json`, hash-checked; statistics the signals scoring computed
on the MDDC FAERS count tables, `benchmarks.agents.signal_reference`) answers, and the answer says so.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from hygeia.agents.drug_classes import DrugClass, drug_class, members
from hygeia.agents.side_effects import asked_stems, word_stems
from hygeia.agents.verdict import artifact
from hygeia.core.errors import InputError, ProblemError
from hygeia.core.tools import Caller, get_tool, last_named, register_tool

REFERENCE_FILE = "signal_reference.json"
SIGNAL_CUE = re.compile(
    r"\bsignals?\b|disproportional|\bfaers\b|\bebgm\b|\beb05\b|\bprr\b|\bror\b|spontaneous reports?",
    re.IGNORECASE,
)
TOP = 5


@lru_cache(maxsize=1)
def reference() -> dict[str, Any]:
    data = artifact(REFERENCE_FILE)
    if data is None:
        raise InputError(
            "no signal reference table is bundled (python -m benchmarks.agents.signal_reference)"
        )
    return data


def _vocabulary(field: str) -> list[str]:
    return sorted({str(p[field]) for p in reference()["pairs"]}, key=len, reverse=True)


def _mentioned(text: str, field: str) -> str | None:
    return last_named(text, _vocabulary(field))


def _known(value: str | None, field: str) -> str | None:
    """A bound input only counts if the table knows it (the question parser may bind loosely)."""
    key = (value or "").strip().lower()
    return key if key and key in _vocabulary(field) else None


def signal_lookup(
    caller: Caller, query: str, drug: str | None = None, event: str | None = None
) -> dict[str, Any]:
    """Agent tool: the pair (or the drug's top signals) in the caller's latest run, else the reference.
    A drug class ("statins") is looked up drug by drug in either."""
    group = drug_class(drug) if drug and not _known(drug, "drug") else None
    of_class = [d.name for d in members(group)] if group else None
    own, why_not = tenant_run_lookup(caller, query, None if group else drug, event, of_class)
    if own is not None:
        source = f"this tenant's latest finished signal run {own['run_id']}"
        if group:
            verdict = class_verdict(group, own.get("event"), own.get("signals") or [])
            named = {"drug": group.name, "drug_class": group.name}
            return own | named | {"source": source, "answered_from": "tenant_run", **verdict}
        levels = {f"run {own['run_id'][:8]}": s.get("alert_level") for s in own.get("signals") or []}
        verdict = pair_verdict(own.get("drug"), own.get("event"), levels)
        return own | {"source": source, "answered_from": "tenant_run", **verdict}
    try:
        found = class_lookup(group, query, event) if group else reference_lookup(query, drug, event)
    except InputError as exc:  # no statistics to give is an answer to state, not a failed step
        fact = f"no signal statistics: {exc.detail} [{why_not}]"
        return {"drug": drug, "event": event, "answered_from": None, "tenant_run": why_not, "fact": fact,
                "answers": False}  # fmt: skip
    found["fact"] = f"{found['fact']} [{why_not}]"
    levels = {p["table"]: p.get("alert_level") for p in found["pairs"]}
    if group:
        verdict = class_verdict(group, found["event"], found["pairs"])
    else:
        verdict = pair_verdict(found["drug"], found["event"], levels)
    return found | {"answered_from": "reference_table", "tenant_run": why_not, **verdict}


def pair_verdict(drug: str | None, event: str | None, levels: dict[str, Any]) -> dict[str, Any]:
    """For one named pair, "is there a signal?" answered by the alert levels (where → level): yes when
    any source meets a criterion. No verdict for a drug's top signals (no pair was asked about)."""
    if not drug or not event or not levels:
        return {}
    alerting = {where: level for where, level in levels.items() if level not in (None, "none")}
    where = ", ".join(f"{level} in {w}" for w, level in alerting.items())
    alerted = f"{drug}-{event} ({where})" if alerting else None
    return _alert_verdict(alerted, f"{drug}-{event} in {', '.join(levels)}")


def _alert_verdict(alerted: str | None, quiet: str) -> dict[str, Any]:
    """ "yes" naming what alerted, else "no" naming what was looked at, each with what it does not mean."""
    if alerted:
        basis = (
            f"disproportionality alert for {alerted}: a statistical association in spontaneous reports, "
            "not proof of causation"
        )
        return {"verdict": {"label": "yes", "basis": basis}}
    basis = (
        f"no disproportionality criterion (MGPS EB05, BCPNN IC025, Evans PRR) met for {quiet}: no signal in "
        "these reports, which is not evidence of safety"
    )
    return {"verdict": {"label": "no", "basis": basis}}


def tenant_run_lookup(
    caller: Caller, query: str, drug: str | None, event: str | None, drugs: list[str] | None = None
) -> tuple[dict[str, Any] | None, str]:
    """The signals domain's answer from the caller's own run (for `drugs`, a class's, each of them),
    or None and why it gave none."""
    try:
        tool = get_tool("signals.latest_run")
    except KeyError:
        return None, "the signals capability is not installed, so no tenant run was consulted"
    inputs: dict[str, Any] = {
        "query": query,
        **({"drug": drug} if drug else {}),
        **({"event": event} if event else {}),
    }
    inputs |= {"drugs": drugs} if drugs else {}
    try:
        found = tool.call(caller, inputs)
    except ProblemError as exc:
        return None, f"this tenant's latest run could not be read ({exc.detail or exc.title})"
    if not found.get("found"):
        return None, str(found.get("reason") or f"no such pair in this tenant's run {found.get('run_id')}")
    return found, ""


def reference_lookup(query: str, drug: str | None = None, event: str | None = None) -> dict[str, Any]:
    """The pair's statistics per reference table, the drug's top signals, or the event's top drugs."""
    asked_event = _known(event, "event")  # the event the question's cue names ("a signal for X?")
    drug = _known(drug, "drug") or _mentioned(query, "drug")
    event = asked_event or _mentioned(query, "event")
    if not drug and asked_event:  # not when the cue named a drug the table lacks ("for zorblaxine and rash")
        return _event_lookup(asked_event)
    if not drug:
        covered = ", ".join(_vocabulary("drug")[:12])
        raise InputError(f"no drug of the signal reference table is named (it covers e.g. {covered})")
    of_drug = [p for p in reference()["pairs"] if p["drug"] == drug]
    rows = [p for p in of_drug if p["event"] == event] if event else of_drug
    related: list[str] = []
    if event and not rows:  # the table may hold the term meant under another name ("autoimmune hepatitis")
        asked = asked_stems(event, ())
        rows = [p for p in of_drug if word_stems(p["event"].lower()) & asked]
        related = sorted({p["event"] for p in rows})
    rows = sorted(rows, key=lambda p: -(p.get("priority") or 0))[: TOP if not event or related else None]
    if not rows:
        raise InputError(f"no reference counts for {drug}" + (f" and {event}" if event else ""))
    scope = f"{drug}-{event}" if event else f"the {_ranked(rows)} for {drug}"
    if related:
        scope = f"no {scope} term in the table; related terms of {drug}"
    periods = {t["file"]: t["period"] for t in reference()["tables"]}
    lines = [_line(p, periods) for p in rows]
    found = {
        "drug": drug,
        "event": None if related else event,
        "source": "bundled reference table: " + reference()["source"],
        "pairs": rows,
        "fact": f"{scope} (bundled MDDC FAERS reference table, not this tenant's runs): " + "; ".join(lines),
    }
    return found | ({"asked_event": event, "related_events": related, "answers": False} if related else {})


def class_lookup(group: DrugClass, query: str, event: str | None) -> dict[str, Any]:
    """A drug class's pairs for the event ("statins and rhabdomyolysis"), or its top signals, over the
    class's drugs the reference table covers, each row headed by its drug."""
    covered = sorted({d.name.lower() for d in members(group)} & set(_vocabulary("drug")))
    if not covered:
        raise InputError(f"the signal reference table covers none of the {group.phrase()}")
    event = _known(event, "event") or _mentioned(query, "event")
    rows = [p for p in reference()["pairs"] if p["drug"] in covered and (not event or p["event"] == event)]
    rows = sorted(rows, key=lambda p: -(p.get("priority") or 0))[: None if event else 2 * TOP]
    if not rows:
        raise InputError(
            f"no reference counts for {event} with any of the {group.name} it covers ({', '.join(covered)})"
        )
    periods = {t["file"]: t["period"] for t in reference()["tables"]}
    scope = f"{event} with" if event else f"the {_ranked(rows)} of"
    fact = (
        f"{scope} the {len(covered)} {group.phrase()} the bundled MDDC FAERS reference table covers "
        f"({', '.join(covered)}; not this tenant's runs): "
        + "; ".join(_line(p, periods, "drug") for p in rows)
    )
    source = "bundled reference table: " + reference()["source"]
    return {"drug": group.name, "drug_class": group.name, "event": event, "source": source, "pairs": rows,
            "fact": fact}  # fmt: skip


def class_verdict(group: DrugClass, event: str | None, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """ "Is there a signal for statins and rhabdomyolysis?": yes when the pair alerts for any of the class's
    drugs in the rows (a reference table's or the tenant's run's), said as how many of those with counts
    for the event do. No verdict for a class's top signals (no pair was asked about)."""
    if not event or not rows:
        return {}
    counted = sorted({p["drug"] for p in rows})
    alerting = sorted({p["drug"] for p in rows if p.get("alert_level") not in (None, "none")})
    of = f"{len(counted)} {group.name} with {event} counts"
    alerted = f"{len(alerting)} of the {of} ({', '.join(alerting)})" if alerting else None
    return _alert_verdict(alerted, f"any of the {of}")


def _event_lookup(event: str) -> dict[str, Any]:
    """The drugs with the most prioritised signals for one event ("which statins have a signal for
    pancreatitis?"), within the drugs the reference table covers, which the answer names."""
    rows = [p for p in reference()["pairs"] if p["event"] == event]
    rows = sorted(rows, key=lambda p: -(p.get("priority") or 0))[: 2 * TOP]
    periods = {t["file"]: t["period"] for t in reference()["tables"]}
    covered = ", ".join(sorted(set(_vocabulary("drug"))))
    lines = [_line(p, periods, "drug") for p in rows]
    fact = (
        f"the {_ranked(rows)} for {event} (bundled MDDC FAERS reference table, which covers only "
        f"{covered}; not this tenant's runs): " + "; ".join(lines)
    )
    source = "bundled reference table: " + reference()["source"]
    return {"drug": None, "event": event, "source": source, "pairs": rows, "fact": fact}


def _ranked(rows: list[dict[str, Any]]) -> str:
    """A ranked pair is a signal only when it meets an alert criterion: say how many of the listed do."""
    alerting = sum(1 for p in rows if p.get("alert_level") not in (None, "none"))
    return f"{len(rows)} highest-priority pairs ({alerting} with an alert)"


def _line(pair: dict[str, Any], periods: dict[str, str], named: str = "event") -> str:
    """One pair in one table, headed by its event (a drug's signals) or its drug (an event's)."""

    def num(key: str) -> str:
        value = pair.get(key)
        return "n/a (no MGPS fit for this table)" if value is None else f"{value:.3g}"

    head = f"{pair[named]}" if pair.get(named) else ""
    return (
        f"{head} in {pair['table']} ({periods.get(pair['table'], '?')}): N {pair['n']:.0f}, expected "
        f"{num('expected')}, EB05 {num('eb05')}, IC025 {num('ic025')}, PRR {num('prr')}, alert "
        f"{pair.get('alert_level')} ({pair.get('criteria_met') or 'no criterion met'}), "
        f"priority {num('priority')}"
    )


def register() -> None:
    register_tool(
        "agents.signal_lookup",
        "Safety signal statistics (N, expected, EB05, IC025, PRR, alert, priority) for a drug and adverse "
        "event named in the question, the top signals of a drug, or the drugs with the top signals for "
        "an event: this tenant's latest signal run, else FAERS reference counts",
        signal_lookup,
        input_schema={
            "type": "object",
            "properties": {
                "query": {"type": "string"},
                "drug": {"type": "string", "maxLength": 200},
                "event": {"type": "string", "maxLength": 200},
            },
            "required": ["query"],
            "additionalProperties": False,
        },
        tenant_scoped=True,
    )
