"""Drift monitoring: compare live model outputs (or inputs) with the distribution seen at training time.

A model card may carry `drift_reference`: {signal: {"edges": [...], "counts": [...]}} — histograms of,
say, out-of-fold probabilities per endpoint or nearest-neighbour similarity. Live values are binned on
the same edges and compared by the population stability index (PSI); PSI > 0.25 is the usual
"significant shift" rule of thumb, 0.1-0.25 "moderate".
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from prometheus_client import Gauge

from hygeia.core.registry import LoadedModel

DRIFT_PSI = Gauge(
    "hygeia_drift_psi", "Population stability index of live vs training values", ["model", "signal"]
)
PSI_MODERATE, PSI_SIGNIFICANT = 0.1, 0.25
MIN_OBSERVATIONS = 50


def population_stability_index(reference: np.ndarray, live: np.ndarray, floor: float = 1e-4) -> float:
    """PSI = sum((live% - ref%) * ln(live% / ref%)); empty bins are floored so the sum stays finite."""
    ref = np.maximum(reference / max(reference.sum(), 1), floor)
    cur = np.maximum(live / max(live.sum(), 1), floor)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


@dataclass
class _Track:
    edges: np.ndarray
    reference: np.ndarray
    live: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.live = np.zeros_like(self.reference, dtype=float)


class DriftMonitor:
    """Process-local live histograms per (model version, signal); exported as Prometheus gauges."""

    def __init__(self) -> None:
        self._tracks: dict[tuple[str, str, str], _Track] = {}
        self._lock = threading.Lock()

    def observe(self, model: LoadedModel, signal: str, values: Iterable[float]) -> None:
        reference = (model.card.get("drift_reference") or {}).get(signal)
        if not reference:
            return
        key = (model.name, model.version, signal)
        data = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
        with self._lock:
            track = self._tracks.get(key)
            if track is None:
                edges = np.asarray(reference["edges"], dtype=float)
                track = self._tracks[key] = _Track(edges, np.asarray(reference["counts"], dtype=float))
            inner = np.clip(data, track.edges[0], track.edges[-1])
            track.live += np.histogram(inner, bins=track.edges)[0]
            if track.live.sum() >= MIN_OBSERVATIONS:
                DRIFT_PSI.labels(model.name, signal).set(
                    population_stability_index(track.reference, track.live)
                )

    def report(self) -> list[dict[str, Any]]:
        rows = []
        with self._lock:
            for (name, version, signal), track in sorted(self._tracks.items()):
                n = int(track.live.sum())
                psi = (
                    population_stability_index(track.reference, track.live) if n >= MIN_OBSERVATIONS else None
                )
                rows.append(
                    {
                        "model": name,
                        "version": version,
                        "signal": signal,
                        "observations": n,
                        "psi": psi,
                        "status": _status(psi),
                    }
                )
        return rows


def _status(psi: float | None) -> str:
    if psi is None:
        return f"collecting (< {MIN_OBSERVATIONS} observations)"
    if psi >= PSI_SIGNIFICANT:
        return "significant shift"
    return "moderate shift" if psi >= PSI_MODERATE else "stable"


def reference_histogram(
    values: Iterable[float], bins: int = 10, value_range: tuple[float, float] = (0.0, 1.0)
) -> dict:
    """What a training script stores in the card for a signal."""
    counts, edges = np.histogram(np.asarray(list(values), dtype=float), bins=bins, range=value_range)
    return {"edges": edges.round(6).tolist(), "counts": counts.tolist()}


drift_monitor = DriftMonitor()
