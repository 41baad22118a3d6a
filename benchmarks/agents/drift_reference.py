"""Drift reference of the agents' retrieval scores, written into the bundled agents model's card.

The values the live answers feed the drift monitor (agents/drift.py: relevance, support, calibrated
P(evidence answers)) computed on the 500 PubMedQA test questions exactly as the confidence was
calibrated: retrieval over the questions' abstracts, a random half with the own abstract removed
(seed 2, as `pubmedqa_offline` scores the calibration). card.json is not an artifact: the sha256 stays.

    python -m benchmarks.agents.drift_reference
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.agents.pubmedqa import load_items
from benchmarks.agents.pubmedqa_offline import encode_items, retrieval_cases
from hygeia.agents import confidence, drift, verdict
from hygeia.core.registry import CARD_FILE
from hygeia.settings import get_settings


def main() -> None:
    folder = verdict.verdict_folder()
    calibration = confidence.load()
    if folder is None or calibration is None:
        raise SystemExit("no bundled agents model with confidence.json under MODELS_DIR/agents")
    items, _dev, test = load_items(get_settings().data_dir / "evidence" / "pubmedqa")
    encoded = encode_items(items, print)
    rows, _answered = retrieval_cases(items, encoded, test, seed=2)
    named = [dict(zip(confidence.COMPONENTS, row, strict=True)) for row in rows]
    values = {
        "relevance": [v["relevance"] for v in named],
        "support": [v["support"] for v in named],
        "evidence_answers_question": [calibration.probability(v) for v in named],
    }
    histograms = drift.reference(values)
    card_path = Path(folder) / CARD_FILE
    card = json.loads(card_path.read_text())
    card["drift_reference"] = histograms
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps({"questions": len(named), **histograms}))


if __name__ == "__main__":
    main()
