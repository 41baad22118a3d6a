"""Drift: PSI is ~0 for the training distribution and large for a shifted one."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hygeia.core.drift import DriftMonitor, bin_counts, population_stability_index, reference_histogram
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
    stable.observe(_model(reference), {"NR-AR": rng.beta(1, 8, 500)})
    shifted.observe(_model(reference), {"NR-AR": rng.beta(5, 2, 500)})
    [calm], [moved] = stable.report(), shifted.report()
    assert calm["status"] == "stable" and calm["observations"] == 500
    assert moved["status"] == "significant shift" and moved["psi"] > 1.0


def test_monitor_ignores_models_without_reference_and_waits_for_enough_data():
    monitor = DriftMonitor()
    monitor.observe(LoadedModel("m", "1", "0" * 64, "production", Path("."), {}), {"x": [0.1, 0.2]})
    assert monitor.report() == []
    monitor.observe(_model(reference_histogram([0.1, 0.5, 0.9])), {"NR-AR": [0.2] * 10})
    assert monitor.report()[0]["psi"] is None


def _registered() -> LoadedModel:
    rng = np.random.default_rng(3)
    return LoadedModel(
        "tox",
        "2.0.0",
        "e" * 64,
        "production",
        Path("."),
        {"drift_reference": {"NR-AR": reference_histogram(rng.beta(1, 8, 5000))}},
    )


def test_counts_persist_per_tenant_and_add_up_across_processes(platform):
    from hygeia.core.auth import CURRENT_TENANT
    from hygeia.core.drift import DriftStore

    rng = np.random.default_rng(11)
    model = _registered()
    api_process, worker_process = DriftMonitor(DriftStore()), DriftMonitor(DriftStore())
    token = CURRENT_TENANT.set("acme")
    api_process.observe(model, {"NR-AR": rng.beta(5, 2, 300)})  # acme's library is unlike Tox21
    worker_process.observe(model, {"NR-AR": rng.beta(5, 2, 200)})
    CURRENT_TENANT.set("globex")
    api_process.observe(model, {"NR-AR": rng.beta(1, 8, 400)})
    CURRENT_TENANT.reset(token)
    api_process.flush(), worker_process.flush()

    restarted = DriftMonitor(DriftStore())  # a fresh process after a restart reads the same counts
    [acme] = restarted.report("acme")
    [globex] = restarted.report("globex")
    [everyone] = restarted.report()
    assert (acme["observations"], globex["observations"], everyone["observations"]) == (500, 400, 900)
    assert acme["status"] == "significant shift" and globex["status"] == "stable"
    assert restarted.report("initech") == []


def test_drift_api_shows_a_tenant_only_its_own_traffic(client, admin_headers, make_key):
    from hygeia.core.auth import CURRENT_TENANT
    from hygeia.core.drift import drift_monitor

    rng = np.random.default_rng(5)
    token = CURRENT_TENANT.set("globex")
    drift_monitor.observe(_registered(), {"NR-AR": rng.beta(1, 8, 120)})
    CURRENT_TENANT.reset(token)
    acme_viewer = {"X-API-Key": make_key("acme", "viewer")}
    assert client.get("/api/v1/admin/drift", headers=acme_viewer).json() == []
    [row] = client.get("/api/v1/admin/drift", headers=admin_headers).json()
    assert row["observations"] == 120 and row["version"] == "2.0.0"


def test_a_failing_store_never_fails_the_prediction_and_keeps_the_counts(platform):
    from hygeia.core.drift import DriftStore

    class BrokenOnce(DriftStore):
        calls = 0

        def add(self, tracks, day):
            BrokenOnce.calls += 1
            if BrokenOnce.calls == 1:
                raise RuntimeError("database unavailable")
            super().add(tracks, day)

    monitor = DriftMonitor(BrokenOnce())
    monitor.observe(_registered(), {"NR-AR": [0.1] * 60})
    monitor.flush()  # fails inside, keeps the 60 observations
    monitor.observe(_registered(), {"NR-AR": [0.2] * 40})
    [row] = monitor.report()
    assert row["observations"] == 100


def test_bin_counts_equal_numpy_histogram_with_out_of_range_values_in_the_end_bins():
    edges = np.array([0.0, 0.1, 0.25, 0.5, 0.9, 1.0])
    rng = np.random.default_rng(2)
    values = np.concatenate([rng.uniform(-0.5, 1.5, 400), edges, [-3.0, 7.0]])  # every edge exactly
    expected = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)[0]
    assert bin_counts(edges, values).tolist() == expected.tolist()
    assert bin_counts(edges, np.array([1.0])).tolist() == [0, 0, 0, 0, 1]  # the last bin is closed
    assert bin_counts(edges, np.array([])).tolist() == [0] * 5


def test_one_call_observes_every_signal_with_a_reference_and_drops_non_finite_values():
    reference = reference_histogram(np.linspace(0, 1, 100))
    card = {"drift_reference": {"a": reference, "b": reference}}
    model = LoadedModel("tox", "1.0.0", "f" * 64, "production", Path("."), card)
    monitor = DriftMonitor()
    monitor.observe(model, {"a": [0.1, float("nan"), 0.2], "b": [0.3, None, float("inf")], "c": [0.5]})
    rows = {row["signal"]: row["observations"] for row in monitor.report()}
    assert rows == {"a": 2, "b": 1}
