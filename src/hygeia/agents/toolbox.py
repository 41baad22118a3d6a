"""Calling other domains' tools: permission, input check, per-tool timeout, and an honest outcome.

Every call ends in a `ToolOutcome` whose status says what happened (ok, error, timeout, missing,
forbidden, invalid_input); the answer reports failures as failures. A timed-out tool's thread cannot
be killed in Python, so tools run on a bounded pool: a hung tool costs one worker, not the server.
The caller (tenant, role) travels as an explicit argument; the pool thread also runs in a copy of the
asker's context with CURRENT_TENANT bound, so platform code inside a tool (drift) attributes correctly.
"""

from __future__ import annotations

import contextvars
import json
import math
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import structlog
from prometheus_client import Counter

from hygeia.agents.experts import Expert
from hygeia.core.auth import CURRENT_TENANT, Principal
from hygeia.core.db import new_id
from hygeia.core.errors import ProblemError
from hygeia.core.tools import Caller, CallerRequired, Tool, get_tool
from hygeia.settings import get_agent_settings

log = structlog.get_logger("hygeia.agents.tools")
OK, ERROR, TIMEOUT, MISSING, FORBIDDEN, INVALID = (
    "ok", "error", "timeout", "missing", "forbidden", "invalid_input"
)  # fmt: skip
JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
}
UNREGISTERED = "unregistered"  # a name no domain registered (a model's plan may invent any)
TOOL_CALLS = Counter(
    "hygeia_agent_tool_calls_total",
    "Agent tool calls by tool and outcome (ok, error, timeout, missing, forbidden, invalid_input)",
    ["tool", "outcome"],
)


@dataclass
class ToolOutcome:
    step: int
    tool: str
    inputs: dict[str, Any]
    status: str
    reason: str = ""
    output: dict[str, Any] | None = None
    error: str | None = None
    duration_ms: float = 0.0
    record_id: str = field(default_factory=new_id, compare=False)  # the stored ToolCall's id

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def source_id(self) -> str:
        return f"tool:{self.step}:{self.tool}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "tool": self.tool,
            "status": self.status,
            "inputs": self.inputs,
            "output": self.output,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 1),
            "reason": self.reason,
            "record_id": self.record_id,
        }


_domain_tools_lock = threading.Lock()
_domain_tools_error: list[str] = []


@lru_cache(maxsize=1)
def ensure_domain_tools() -> tuple[str, ...]:
    """Have the composition root wire every chosen domain so its tools are registered (CLI, workers).

    Returns the import problems, if any, so answers can say why a tool is missing.
    """
    from hygeia.core.tools import load_domains

    with _domain_tools_lock:
        try:
            load_domains()
        except Exception as exc:  # one broken domain must not take the agents down
            log.warning("domain_tools_import_failed", error=f"{type(exc).__name__}: {exc}")
            return (f"loading domain tools failed: {type(exc).__name__}: {exc}",)
    return ()


@lru_cache(maxsize=1)
def _pool(workers: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hygeia-agent-tool")


def check_inputs(tool: Tool, inputs: dict[str, Any]) -> str | None:
    """The subset of JSON Schema tools declare here: required keys, property types, enums."""
    schema = tool.input_schema or {}
    properties: dict[str, Any] = schema.get("properties") or {}
    missing = [name for name in schema.get("required", []) if name not in inputs]
    if missing:
        return f"missing required input(s) {missing}"
    if properties and schema.get("additionalProperties") is False:
        unknown = sorted(set(inputs) - set(properties))
        if unknown:
            return f"unknown input(s) {unknown}"
    for name, value in inputs.items():
        spec = properties.get(name) or {}
        expected = JSON_TYPES.get(str(spec.get("type", "")))
        if expected and (
            not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected)
        ):
            return f"input {name!r} must be of type {spec['type']}"
        if "enum" in spec and value not in spec["enum"]:
            return f"input {name!r} must be one of {spec['enum']}"
    return None


def caller_of(principal: Principal) -> Caller:
    return Caller(principal.tenant_id, principal.role, principal.subject)


def run_tool(
    step: int,
    name: str,
    inputs: dict[str, Any],
    expert: Expert,
    reason: str = "",
    caller: Caller | None = None,
) -> ToolOutcome:
    """Run one tool for an expert on behalf of `caller`; never raises for tool failures, returns what
    happened instead. Without a caller, tenant-scoped tools are refused (forbidden), never run unscoped."""
    outcome = _run(ToolOutcome(step, name, dict(inputs), OK, reason), expert, caller)
    TOOL_CALLS.labels(name if _registered(name) else UNREGISTERED, outcome.status).inc()
    return outcome


def _registered(name: str) -> bool:
    """Only registered names become metric labels, so invented ones cannot grow the series without bound."""
    try:
        get_tool(name)
    except KeyError:
        return False
    return True


def _run(outcome: ToolOutcome, expert: Expert, caller: Caller | None) -> ToolOutcome:
    name = outcome.tool
    settings = get_agent_settings()
    if not expert.may_call(name, settings.patterns_for(expert.name)):
        return _fail(outcome, FORBIDDEN, f"{expert.title} is not permitted to call {name}")
    try:
        tool = get_tool(name)
    except KeyError:
        return _fail(outcome, MISSING, f"no tool named {name!r} is registered (its domain is not installed)")
    if tool.tenant_scoped and caller is None:
        return _fail(outcome, FORBIDDEN, f"{name} reads a tenant's data and no caller was given")
    problem = check_inputs(tool, outcome.inputs)
    if problem:
        return _fail(outcome, INVALID, problem)
    started = time.perf_counter()
    context = contextvars.copy_context()  # the asker's context, into the pool thread
    future = _pool(settings.tool_workers).submit(context.run, _call_as, tool, caller, outcome.inputs)
    try:
        result = future.result(timeout=settings.tool_timeout_seconds)
    except FutureTimeout:
        future.cancel()
        _fail(outcome, TIMEOUT, f"{name} did not finish within {settings.tool_timeout_seconds:g}s")
    except CallerRequired as exc:  # a tool chaining to a tenant-scoped one without passing the caller on
        _fail(outcome, FORBIDDEN, str(exc))
    except ProblemError as exc:
        _fail(outcome, ERROR, f"{exc.title}: {exc.detail}" if exc.detail else exc.title)
    except Exception as exc:  # a tool's bug is reported in the answer, never hidden or faked
        log.warning("tool_failed", tool=name, trace=traceback.format_exc(limit=5))
        _fail(outcome, ERROR, f"{type(exc).__name__}: {exc}")
    else:
        _accept(outcome, result)
    outcome.duration_ms = (time.perf_counter() - started) * 1000
    return outcome


def _call_as(tool: Tool, caller: Caller | None, inputs: dict[str, Any]) -> dict[str, Any]:
    """Runs inside a copy of the asker's context, so binding the tenant here leaks to no other call."""
    if caller is not None:
        CURRENT_TENANT.set(caller.tenant_id)
    return tool.call(caller, inputs)


def _accept(outcome: ToolOutcome, result: Any) -> None:
    if not isinstance(result, dict):
        _fail(outcome, ERROR, f"tool returned {type(result).__name__}, not a JSON object")
        return
    try:
        outcome.output = _json_safe(json.loads(json.dumps(result, default=str)))
    except (TypeError, ValueError) as exc:
        _fail(outcome, ERROR, f"tool output is not JSON-serialisable: {exc}")


def _json_safe(value: Any) -> Any:
    """NaN and infinity are not JSON (PostgreSQL refuses them); they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def _fail(outcome: ToolOutcome, status: str, error: str) -> ToolOutcome:
    outcome.status, outcome.error = status, error
    return outcome


def stored_output(output: dict[str, Any] | None) -> dict[str, Any] | None:
    """Outputs are stored whole unless huge; then a marked preview, so the row stays readable."""
    if output is None:
        return None
    limit = get_agent_settings().stored_output_chars
    text = json.dumps(output, separators=(",", ":"))
    if len(text) <= limit:
        return output
    return {"truncated": True, "chars": len(text), "preview": text[:limit]}
