"""A candidate's top Hetionet paths drawn as one small graph: drug on the left, disease on the right.

Server-rendered SVG (no script), every label escaped; a node shared by several paths is drawn once,
so the view shows where the mechanisms converge (e.g. two targets in one pathway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

COLUMN, ROW, MARGIN, LABEL_CHARS = 150, 26, 12, 20
KIND_CLASS = {"Compound": "node-drug", "Disease": "node-disease", "Gene": "node-gene"}


def _field(obj: Any, name: str) -> Any:
    return obj[name] if isinstance(obj, Mapping) else getattr(obj, name)


def _layout(paths: Sequence[Any]) -> tuple[dict[tuple[int, str], tuple[float, float]], int, int]:
    """(column, node id) -> (x, y); the last node of every path shares the rightmost column."""
    columns = max(len(_field(p, "nodes")) for p in paths)
    rows: dict[int, list[str]] = {}
    for p in paths:
        nodes = _field(p, "nodes")
        for i, node in enumerate(nodes):
            col = columns - 1 if i == len(nodes) - 1 else i
            key = f"{_field(node, 'kind')}:{_field(node, 'id')}"
            if key not in rows.setdefault(col, []):
                rows[col].append(key)
    height = max(len(v) for v in rows.values())
    where: dict[tuple[int, str], tuple[float, float]] = {}
    for col, keys in rows.items():
        offset = (height - len(keys)) * ROW / 2
        for r, key in enumerate(keys):
            where[(col, key)] = (float(MARGIN + col * COLUMN), MARGIN + offset + r * ROW + ROW / 2)
    return where, columns, height


def path_graph(paths: Sequence[Any], title: str) -> Markup:
    """SVG of the given paths (dicts or GraphPathOut); empty markup when there are none."""
    if not paths:
        return Markup("")
    where, columns, height = _layout(paths)
    width, total_h = MARGIN * 2 + (columns - 1) * COLUMN + 110, height * ROW + MARGIN * 2
    parts = [
        f'<svg class="path-graph" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {total_h}" '
        f'width="{width}" height="{total_h}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    labels: dict[tuple[int, str], str] = {}
    for p in paths:
        nodes, verbs = _field(p, "nodes"), _field(p, "verbs")
        points = []
        for i, node in enumerate(nodes):
            col = columns - 1 if i == len(nodes) - 1 else i
            key = (col, f"{_field(node, 'kind')}:{_field(node, 'id')}")
            points.append(where[key])
            labels[key] = f"{_field(node, 'kind')}|{_field(node, 'name')}"
        for (x1, y1), (x2, y2), verb in zip(points, points[1:], verbs, strict=False):
            parts.append(
                f'<line x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" class="path-edge">'
                f"<title>{escape(verb)}</title></line>"
            )
    for key, label in labels.items():
        x, y = where[key]
        kind, name = label.split("|", 1)
        short = name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1] + "…"
        parts.append(
            f'<circle cx="{x:.0f}" cy="{y:.0f}" r="5" class="{KIND_CLASS.get(kind, "node-other")}">'
            f"<title>{escape(kind)}: {escape(name)}</title></circle>"
            f'<text x="{x + 8:.0f}" y="{y - 6:.0f}" font-size="11">{escape(short)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
