"""Drift: PSI is ~0 for the training distribution and large for a shifted one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hygeia.core.drift import DriftMonitor, population_stability_index, reference_histogram
from hygeia.core.registry import LoadedModel


def _model(reference: dict) -> LoadedModel:
    return LoadedModel(
        "tox", "1.0.0", "f" * 64, "production", Path("."), {"drift_reference": {"NR-AR": reference}}
    )


def test_psi_known_values():
    same = np.array([10, 20, 30, 40], dtype=float)
    assert population_stability_index(same, same * 3) == 0.0
    shifted = population_stability_index(np.array([50, 50.0]), np.array([90, 10.0]))
    assert abs(shifted - ((0.9 - 0.5) * np.log(0.9 / 0.5) + (0.1 - 0.5) * np.log(0.1 / 0.5))) < 1e-12


def test_monitor_flags_shift_only_when_distribution_moves():
    rng = np.random.default_rng(7)
    reference = reference_histogram(rng.beta(1, 8, 5000))
    stable, shifted = DriftMonitor(), DriftMonitor()
    stable.observe(_model(reference), "NR-AR", rng.beta(1, 8, 500))
    shifted.observe(_model(reference), "NR-AR", rng.beta(5, 2, 500))
    [calm], [moved] = stable.report(), shifted.report()
    assert calm["status"] == "stable" and calm["observations"] == 500
    assert moved["status"] == "significant shift" and moved["psi"] > 1.0


def test_monitor_ignores_models_without_reference_and_waits_for_enough_data():
    monitor = DriftMonitor()
    monitor.observe(LoadedModel("m", "1", "0" * 64, "production", Path("."), {}), "x", [0.1, 0.2])
    assert monitor.report() == []
    monitor.observe(_model(reference_histogram([0.1, 0.5, 0.9])), "NR-AR", [0.2] * 10)
    assert monitor.report()[0]["psi"] is None
