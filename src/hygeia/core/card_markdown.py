"""Markdown pieces every domain's MODEL_CARD.md is built from.

Each domain has `card_markdown.render_markdown(card) -> str`, laying out its own measured numbers;
the tables, lists and number cells they share are written here once, so the three cards read alike
and a change to the layout happens in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def _row(cells: Iterable[object]) -> str:
    """One table line; an empty cell is a single space wide, as the committed cards write it."""
    return "|" + "|".join(f" {cell} " if cell != "" else " " for cell in cells) + "|"


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    """A GitHub-flavoured Markdown table: header, `|---|` rule, one line per row (cells as given)."""
    return [_row(headers), "|" + "---|" * len(headers), *(_row(row) for row in rows)]


def number(value: float | None, digits: int = 3, missing: str = "-") -> str:
    """A measured number to `digits` places; `missing` where nothing could be measured."""
    return missing if value is None else f"{value:.{digits}f}"


def bullets(items: Iterable[object]) -> list[str]:
    """A Markdown list, one item a line."""
    return [f"- {item}" for item in items]
