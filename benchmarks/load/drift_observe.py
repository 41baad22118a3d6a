"""CPU cost of the drift monitor per toxicity answer: 12 endpoint probabilities and the nearest-neighbour
similarity of one molecule, observed 2,000 times, best of 3.

`python -m benchmarks.load.drift_observe`; to compare with an older checkout, run it again with
`PYTHONPATH=<that checkout>/src` (code before 2026-12-04 took one `observe` call per signal, which this
script detects). "store" is the served app's path (counts buffered for the database; the database
write itself is left out), "no store" the path without a database (every answer re-exports the gauges).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

import hygeia.core.drift as drift
from hygeia.core.registry import LoadedModel

ANSWERS = 2000
SIGNALS = [f"probability:endpoint{i}" for i in range(12)] + ["nearest_similarity"]


class NullStore:
    """Stands in for the database, so the flush every 1,000 observations costs nothing here."""

    def add(self, pending: Any, day: str) -> None:
        pass

    def totals(self, tenant_id: str | None, since: Any) -> dict[Any, Any]:
        return {}


Answer = dict[str, list[float]]


def ms_per_answer(monitor: drift.DriftMonitor, model: LoadedModel, answers: list[Answer]) -> float:
    one_call = "values_by_signal" in drift.DriftMonitor.observe.__code__.co_varnames
    started = time.perf_counter()
    for answer in answers:
        if one_call:
            monitor.observe(model, answer)
        else:
            for signal, values in answer.items():
                monitor.observe(model, signal, values)  # type: ignore[call-arg, arg-type]
    return (time.perf_counter() - started) / len(answers) * 1e3


def main() -> None:
    reference = drift.reference_histogram(np.random.default_rng(0).beta(1, 8, 5000))
    card = {"drift_reference": {signal: reference for signal in SIGNALS}}
    model = LoadedModel("toxicity", "bench", "f" * 64, "production", Path("."), card)
    rng = np.random.default_rng(1)
    values = rng.random((ANSWERS, len(SIGNALS), 1)).tolist()  # one value per signal and answer
    answers = [dict(zip(SIGNALS, answer, strict=True)) for answer in values]
    for label, store in (("store", NullStore()), ("no store", None)):
        runs = [ms_per_answer(drift.DriftMonitor(store), model, answers) for _ in range(3)]  # type: ignore[arg-type]
        print(f"{label:9} {min(runs):.3f} ms per answer (runs: {', '.join(f'{r:.3f}' for r in runs)})")


if __name__ == "__main__":
    main()
