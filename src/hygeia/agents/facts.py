"""One line per tool result, so a computed number reads as a fact next to the cited sentences.

A tool may return its own `fact` (the agents' lookup tools do); otherwise the line names the few
headline numbers of the known shapes (toxicity probabilities, ranked signals) or the first scalar
fields. The full output stays in the answer's tool calls.
"""

from __future__ import annotations

from typing import Any

from hygeia.agents.drugs import domain_phrase, measured_note

MAX_FIELDS, MAX_ENDPOINTS = 6, 3


def fact_line(tool: str, output: dict[str, Any]) -> str:
    if isinstance(output.get("fact"), str):
        return str(output["fact"])
    results = output.get("results")
    if (
        isinstance(results, list)
        and results
        and isinstance(results[0], dict)
        and "probabilities" in results[0]
    ):
        return _toxicity_line(results[0])
    signals = output.get("signals")
    if isinstance(signals, list) and signals and isinstance(signals[0], dict):
        return _signal_line(signals[0], len(signals))
    scalars = [(k, v) for k, v in output.items() if isinstance(v, str | int | float | bool) and k != "model"]
    shown = ", ".join(f"{k} {_number(v)}" for k, v in scalars[:MAX_FIELDS])
    return f"{tool}: {shown or 'answered (see the tool call for its output)'}"


def _number(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _toxicity_line(result: dict[str, Any]) -> str:
    if result.get("error"):
        return f"toxicity model: {result['error']}"
    probabilities = result.get("probabilities") or {}
    top = sorted(probabilities.items(), key=lambda kv: -kv[1])[:MAX_ENDPOINTS]
    phrase = domain_phrase(result)
    where = "" if phrase is None else f" ({phrase})"
    listed = ", ".join(f"{name} {p:.2f}" for name, p in top)
    overall = result.get("overall")
    call = ""
    if isinstance(overall, dict) and isinstance(overall.get("active_assays"), list):
        active = ", ".join(overall["active_assays"]) or "none"
        call = f"; predicted active ({overall.get('rule', 'the model card threshold')}): {active}"
    return f"toxicity model, {measured_note(result)}highest Tox21 probabilities: {listed}{where}{call}"


def _signal_line(signal: dict[str, Any], count: int) -> str:
    pair = f"{signal.get('drug', '?')}-{signal.get('event', '?')}"
    numbers = ", ".join(
        f"{k} {_number(signal[k])}"
        for k in ("n", "eb05", "ebgm", "prr", "ic025")
        if signal.get(k) is not None
    )
    return f"signal scoring: top of {count} is {pair} ({numbers})"
