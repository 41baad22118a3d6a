"""One error path for every `hygeia` command (chemprop's cli/utils/command.py does the same).

A command raises ProblemError like any service call; the root group turns it into one red line on
stderr and exit status 2, so no command repeats try/except blocks and no user sees a traceback.
"""

from __future__ import annotations

from typing import Any, NoReturn

import typer
from typer.core import TyperGroup

from hygeia.core.errors import ProblemError, without_server_paths

USAGE_ERROR = 2


def fail(message: str) -> NoReturn:
    """Stop the command with a clear message and exit status 2."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(USAGE_ERROR)


class ProblemExits(TyperGroup):
    """Root command group: a ProblemError from any subcommand ends as `fail(detail)`."""

    def invoke(self, ctx: Any) -> Any:  # typer's own (vendored) click Context
        try:
            return super().invoke(ctx)
        except ProblemError as exc:
            fail(without_server_paths(exc.detail or exc.title))
