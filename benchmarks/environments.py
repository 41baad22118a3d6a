"""The command line the environment-drift scripts share: `score` once in each library environment (a
venv with other releases and this checkout installed), then `compare` the two files it wrote."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Score = Callable[[Path, Path, Path], None]  # (model folder, data, output file)
Compare = Callable[[Path, Path], dict[str, Any]]


def drift_main(doc: str, score: Score, compare: Compare, data: Path, model: Path | None = None) -> None:
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    steps = parser.add_subparsers(dest="step", required=True)
    run = steps.add_parser("score")
    run.add_argument("--model", type=Path, default=model, required=model is None)
    run.add_argument("--data", type=Path, default=data)
    run.add_argument("--out", type=Path, required=True)
    both = steps.add_parser("compare")
    both.add_argument("here", type=Path)
    both.add_argument("there", type=Path)
    both.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.step == "score":
        score(args.model, args.data, args.out)
        return
    text = json.dumps(compare(args.here, args.there), indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
