"""Tool and capability registries: how domains expose themselves without importing each other.

Domains register callable tools (agents call them by name) and a capability check (the console and
/ready show which capabilities are usable and, if not, why).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog

log = structlog.get_logger("hygeia.tools")


@dataclass(frozen=True)
class Caller:
    """Who a tool acts for. Passed explicitly, never read from a context variable, because tools run
    on a thread pool where the request's context is not guaranteed to arrive."""

    tenant_id: str
    role: str
    subject: str = ""


class CallerRequired(PermissionError):
    """A tenant-scoped tool was called without a caller: refused rather than run unscoped."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    function: Callable[..., dict[str, Any]]
    input_schema: dict[str, Any] = field(default_factory=dict)
    tenant_scoped: bool = False  # the function's first argument is the Caller; it reads tenant data

    def call(self, caller: Caller | None, inputs: dict[str, Any]) -> dict[str, Any]:
        """The one way to invoke a tool: tenant-scoped tools get the caller, the others never see it."""
        if not self.tenant_scoped:
            return self.function(**inputs)
        if caller is None:
            raise CallerRequired(f"{self.name} reads a tenant's data and needs the caller's tenant")
        return self.function(caller, **inputs)


_TOOLS: dict[str, Tool] = {}
_CAPABILITIES: dict[str, Callable[[], str | None]] = {}
_domain_loader: Callable[[], list[str]] | None = None
_STARTUP: dict[str, Callable[[], None]] = {}


def set_domain_loader(loader: Callable[[], list[str]]) -> None:
    """The composition root says how to wire the chosen domains (it imports them; core cannot)."""
    global _domain_loader
    _domain_loader = loader


def load_domains() -> list[str]:
    """Wire the chosen domains so their tools exist (agents, CLI); the names wired, [] without a root."""
    return _domain_loader() if _domain_loader is not None else []


def register_tool(
    name: str,
    description: str,
    function: Callable[..., dict[str, Any]],
    input_schema: dict[str, Any] | None = None,
    *,
    tenant_scoped: bool = False,
) -> None:
    """`tenant_scoped=True`: `function(caller, **inputs)` must scope every read to `caller.tenant_id`."""
    _TOOLS[name] = Tool(name, description, function, input_schema or {}, tenant_scoped)


def get_tool(name: str) -> Tool:
    if name not in _TOOLS:
        raise KeyError(f"no tool {name!r}; available: {sorted(_TOOLS)}")
    return _TOOLS[name]


def list_tools() -> list[Tool]:
    return [_TOOLS[name] for name in sorted(_TOOLS)]


def register_startup(name: str, task: Callable[[], None]) -> None:
    """Work a domain does once the server is up (e.g. build what a first start lacks), off the request."""
    _STARTUP[name] = task


def run_startup_tasks() -> list[threading.Thread]:
    """Each registered task in its own daemon thread; a failing task is logged, never fatal."""

    def guarded(name: str, task: Callable[[], None]) -> None:
        try:
            task()
        except Exception as exc:
            log.warning("startup_task_failed", task=name, error=f"{type(exc).__name__}: {exc}")

    threads = [
        threading.Thread(target=guarded, args=item, name=f"startup-{item[0]}", daemon=True)
        for item in _STARTUP.items()
    ]
    for thread in threads:
        thread.start()
    return threads


def register_capability(name: str, unavailable_reason: Callable[[], str | None]) -> None:
    """`unavailable_reason()` returns None when the capability works, else why it does not."""
    _CAPABILITIES[name] = unavailable_reason


def has_capability(name: str) -> bool:
    return name in _CAPABILITIES


def capability_status() -> dict[str, dict[str, Any]]:
    status: dict[str, dict[str, Any]] = {}
    for name, check in sorted(_CAPABILITIES.items()):
        try:
            reason = check()
        except Exception as exc:  # a broken check must not take /ready down with it
            reason = f"check failed: {type(exc).__name__}: {exc}"
        status[name] = {"available": reason is None, "reason": reason}
    return status


def last_named(text: str, names: Iterable[str]) -> str | None:
    """The name (3 characters or more, whole words, case and punctuation aside) that the text mentions
    last, the longest of those ending there. Tools reading a question use it: a follow-up's combined
    query ends with the follow-up ("...simvastatin and rhabdomyolysis? What about myopathy?")."""
    words = _words(text)
    found = []
    for name in names:
        key = _words(name)
        at = words.rfind(key) if len(key) > 4 else -1
        if at >= 0:
            found.append((at + len(key), len(key), name))
    return max(found)[2] if found else None


def _words(text: str) -> str:
    return f" {re.sub(r'[^a-z0-9]+', ' ', text.lower()).strip()} "
