"""Drug-event signal lookup for plain questions ("is there a signal for atorvastatin and
rhabdomyolysis?", "top signals for metoprolol"), from the bundled reference table.

The table (`models/agents/<version>/signal_reference.json`, hash-checked) holds statistics the signals
scoring computed on the MDDC FAERS count tables (statins, beta-blockers; `benchmarks.agents.
signal_reference`). A tenant's own latest run is not consulted: tools receive no tenant today, so the
answer names the reference table as its source rather than implying it looked at the tenant's data.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from hygeia.agents.verdict import artifact
from hygeia.core.errors import InputError
from hygeia.core.tools import register_tool

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
    lowered = f" {re.sub(r'[^a-z0-9 ]+', ' ', text.lower())} "
    return next((name for name in _vocabulary(field) if f" {name} " in lowered), None)


def _known(value: str | None, field: str) -> str | None:
    """A bound input only counts if the table knows it (the question parser may bind loosely)."""
    key = (value or "").strip().lower()
    return key if key and key in _vocabulary(field) else None


def signal_lookup(query: str, drug: str | None = None, event: str | None = None) -> dict[str, Any]:
    """Agent tool: the pair's statistics per reference table, or the drug's top signals."""
    drug = _known(drug, "drug") or _mentioned(query, "drug")
    event = _known(event, "event") or _mentioned(query, "event")
    if not drug:
        covered = ", ".join(_vocabulary("drug")[:12])
        raise InputError(f"no drug of the signal reference table is named (it covers e.g. {covered})")
    rows = [p for p in reference()["pairs"] if p["drug"] == drug]
    if event:
        rows = [p for p in rows if p["event"] == event]
    rows = sorted(rows, key=lambda p: -(p.get("priority") or 0))[: TOP if not event else None]
    if not rows:
        raise InputError(f"no reference counts for {drug}" + (f" and {event}" if event else ""))
    periods = {t["file"]: t["period"] for t in reference()["tables"]}
    lines = [_line(p, periods) for p in rows]
    scope = f"{drug}-{event}" if event else f"top {len(rows)} signals for {drug}"
    return {
        "drug": drug,
        "event": event,
        "source": "bundled reference table: " + reference()["source"],
        "tenant_runs_consulted": False,
        "pairs": rows,
        "fact": f"{scope} (bundled MDDC FAERS reference table, not this tenant's runs): " + "; ".join(lines),
    }


def _line(pair: dict[str, Any], periods: dict[str, str]) -> str:
    def num(key: str) -> str:
        value = pair.get(key)
        return "n/a (no MGPS fit for this table)" if value is None else f"{value:.3g}"

    head = f"{pair['event']}" if pair.get("event") else ""
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
        "event named in the question, or the top signals of a drug, from FAERS reference counts",
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
    )
