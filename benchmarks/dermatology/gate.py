"""Rejection rate of the input gate on non-dermatoscopic images, through the served path.

`python -m benchmarks.dermatology.gate [--model FOLDER] [--write]`. Each negative goes through
`service.analyse` exactly as an upload would (decode, quality checks, network, feature gate).
`--write` stores the result as gate_negatives.json in the model folder and republishes its card,
so the card's numbers are this run's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.dermatology.negatives import negative_sets
from hygeia.dermatology import service

REPO = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO / "models" / "dermatology" / "1.2.0"
REPORT = "gate_negatives.json"


def score_kind(ready: service.ReadyClassifier, images: list[tuple[str, bytes]]) -> dict[str, Any]:
    results = service.analyse(ready, images, heatmaps=False)
    outcome = {r.image: (r.rejection.check if r.rejection else r.status) for r in results}
    rejected = [r for r in results if r.status == "rejected"]
    ood = sum(1 for r in rejected if r.rejection and r.rejection.check == "out_of_distribution")
    return {
        "n": len(results),
        "rejected": len(rejected),
        "quality": len(rejected) - ood,
        "ood": ood,
        "rejection_rate": len(rejected) / len(results),
        "accepted_as": {r.image: r.prediction for r in results if r.status == "ok"},
        "outcome": outcome,
    }


def evaluate(model: Path) -> dict[str, Any]:
    ready = service.classifier_from_folder(model)
    kinds = {kind: score_kind(ready, images) for kind, images in negative_sets().items()}
    total = sum(k["n"] for k in kinds.values())
    rejected = sum(k["rejected"] for k in kinds.values())
    return {
        "what": f"{total} negatives built by benchmarks/dermatology/negatives.py (generated images and "
        f"scikit-image sample images); overall rejection {rejected}/{total} = {rejected / total:.1%}.",
        "model": {"version": ready.version, "sha256": ready.sha256[:12]},
        "kinds": kinds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--write", action="store_true", help="store in the model folder, republish card")
    args = parser.parse_args()
    report = evaluate(args.model)
    for kind, m in report["kinds"].items():
        print(f"{kind:42} {m['rejected']:3d}/{m['n']:3d} rejected ({m['rejection_rate']:.0%}); "
              f"accepted: {m['accepted_as'] or '-'}")  # fmt: skip
    print(report["what"])
    if args.write:
        from hygeia.dermatology.card import publish_card

        (args.model / REPORT).write_text(json.dumps(report, indent=2) + "\n")
        card = publish_card(args.model)
        print(f"card republished: sha256 {card['sha256'][:12]}")


if __name__ == "__main__":
    main()
