"""Errors for signal inputs: every message names the file and, where there is one, the line."""

from __future__ import annotations

from hygeia.core.errors import InputError


class SignalDataError(InputError):
    """Bad adverse-event data. A 422 through the API; the CLI prints the message and exits non-zero.

    The location is part of the message so a user with a 2 GB FAERS file can jump straight to it.
    """

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        where = ""
        if source is not None:
            where = f"{source}, line {line}: " if line is not None else f"{source}: "
        super().__init__(where + message)
        self.source, self.line = source, line
