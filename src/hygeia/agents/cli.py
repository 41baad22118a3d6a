"""`hygeia agents …`: ask an expert, run a panel, list experts and conversations.

Runs in-process (same service code as the API) as a CLI principal of the chosen tenant, so answers
and their tool calls land in the same tables the API reads.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

from hygeia.core.cli import fail

app = typer.Typer(help=__doc__, no_args_is_help=True)
TENANT = typer.Option(
    None, "--tenant", help="tenant the conversation belongs to (default: the platform tenant)"
)


def _principal(tenant: str | None) -> Any:
    from hygeia.core import migrate
    from hygeia.core.auth import Principal
    from hygeia.settings import get_settings

    migrate.upgrade()  # the conversation tables must exist; a no-op when already at head
    return Principal(tenant or get_settings().platform_tenant, "analyst", "cli", "enterprise")


@app.command()
def ask(
    question: str = typer.Argument(..., help="the question"),
    expert: str = typer.Option(None, "--expert", "-e", help="regulatory | medical | clinical_research"),
    mode: str = typer.Option(
        "automatic",
        "--mode",
        "-m",
        help="manual | automatic | autonomous-automatic | autonomous-manual (or 1-4)",
    ),
    conversation: str = typer.Option(None, "--conversation", "-c", help="continue this conversation"),
    as_json: bool = typer.Option(False, "--json", help="print the full answer as JSON"),
    tenant: str = TENANT,
) -> None:
    """Ask one expert; tokens stream to the terminal as the model writes them."""
    from hygeia.agents.schemas import AskRequest
    from hygeia.agents.service import answer_stream

    try:  # a ProblemError (unknown expert, bad mode) ends at the root group's one error path
        body = AskRequest(question=question, mode=mode, expert=expert, conversation_id=conversation)
    except ValueError as exc:
        fail(str(exc))
    final = _consume(answer_stream(_principal(tenant), body), show_progress=not as_json)
    if as_json:
        typer.echo(json.dumps(final, indent=2, default=str))
    else:
        _print_answer(final)


def _consume(events: Any, show_progress: bool) -> dict[str, Any]:
    final: dict[str, Any] = {}
    streamed = False
    for kind, payload in events:
        if kind == "meta" and show_progress:
            routing = payload.get("routing")
            typer.secho(f"{payload['expert']['title']} ({payload['mode']})", bold=True, err=True)
            if routing:
                typer.echo(f"routing: {routing['reason']}", err=True)
        elif kind == "tool" and show_progress:
            typer.echo(
                f"tool {payload['step']}: {payload['tool']} -> {payload['status']}"
                + (f" ({payload['error']})" if payload.get("error") else ""),
                err=True,
            )
        elif kind == "token" and show_progress:
            streamed = True
            sys.stdout.write(payload["text"])
            sys.stdout.flush()
        elif kind == "answer":
            final = payload
    final["_streamed"] = streamed
    return final


def _print_answer(answer: dict[str, Any]) -> None:
    streamed = answer.pop("_streamed", False)
    if streamed and answer["generation"] == "llm":
        typer.echo("\n\nSources:\n" + answer["answer"].split("\n\nSources:\n", 1)[-1])
    else:
        if streamed:
            typer.echo("\n(the streamed text above was discarded; this is the answer)")
        typer.echo(answer["answer"])
    conf = answer["confidence"]
    typer.echo(
        f"\nmodel: {answer['model']} | confidence {conf['value']:.2f} ({conf['label']}) | "
        f"conversation {answer['conversation_id']} | message {answer['message_id']}"
    )
    for note in answer.get("notes", []):
        typer.echo(f"note: {note}")


@app.command()
def panel(
    question: str = typer.Argument(...),
    experts: list[str] = typer.Option(None, "--expert", "-e", help="repeat; default all experts"),
    mode: str = typer.Option("manual", "--mode", "-m", help="manual | autonomous-manual"),
    as_json: bool = typer.Option(False, "--json"),
    tenant: str = TENANT,
) -> None:
    """Several experts answer; then the consensus, with the disagreements."""
    from hygeia.agents.schemas import PanelRequest
    from hygeia.agents.service import panel as run_panel

    try:  # a ProblemError ends at the root group's one error path
        body = PanelRequest.model_validate({"question": question, "experts": experts or None, "mode": mode})
    except ValueError as exc:
        fail(str(exc))
    result = run_panel(_principal(tenant), body)
    if as_json:
        typer.echo(json.dumps(result, indent=2, default=str))
        return
    for answer in result["answers"]:
        typer.secho(f"\n== {answer['expert']['title']} ==", bold=True)
        typer.echo(answer["answer"])
    consensus = result["consensus"]
    typer.secho(f"\n== Consensus (agreement {consensus['agreement']:.2f}) ==", bold=True)
    typer.echo(consensus["text"])


@app.command()
def experts() -> None:
    """The experts, what they cover and the tools each may call now."""
    from hygeia.agents.service import experts as list_experts

    for expert in list_experts():
        typer.secho(f"{expert['name']} ({expert['title']})", bold=True)
        typer.echo(f"  {expert['description']}")
        typer.echo(f"  tools: {', '.join(expert['available_tools']) or 'none registered'}")


@app.command()
def conversations(limit: int = typer.Option(20, min=1, max=500), tenant: str = TENANT) -> None:
    """Recent conversations of the tenant."""
    from hygeia.agents.service import conversations as list_conversations

    for row in list_conversations(_principal(tenant).tenant_id, limit):
        typer.echo(
            f"{row['id']}  {row['updated_at']:%Y-%m-%d %H:%M}  {row['messages']:>3} msgs  {row['title']}"
        )


@app.command("delete-conversation")
def delete_conversation(conversation_id: str = typer.Argument(...), tenant: str = TENANT) -> None:
    """Delete a conversation with its messages, tool calls and feedback; audited. The operator at the
    console of the server acts as the tenant's admin."""
    from dataclasses import replace

    from hygeia.agents.service import delete_conversation as delete

    removed = delete(replace(_principal(tenant), role="admin"), conversation_id)
    typer.echo(", ".join(f"{count} {kind}" for kind, count in removed.items()) + " deleted")
