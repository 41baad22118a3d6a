"""In-memory moving windows: counted as the `limits` library counts them, charged all or nothing."""

from __future__ import annotations

from hygeia.core.memory_windows import SWEEP_SECONDS, MemoryWindows

BURST, SUSTAINED = ("tenant/5/second", 5, 1), ("tenant/8/minute", 8, 60)


def test_a_charge_takes_every_window_or_none() -> None:
    windows = MemoryWindows()
    assert windows.charge([BURST, SUSTAINED], 4, now=100.0) == [0, 0, 100.0, 0, 100.0]
    assert windows.charge([BURST, SUSTAINED], 2, now=100.5) == [1, 4, 100.0, 4, 100.0]  # burst full
    assert windows.stand("tenant/8/minute", 60, now=100.5) == (4, 100.0)  # the refusal took nothing
    assert windows.charge([BURST, SUSTAINED], 4, now=101.5) == [0, 0, 101.5, 4, 100.0]  # burst slid on
    assert windows.charge([BURST, SUSTAINED], 1, now=102.0) == [2, 4, 101.5, 8, 100.0]  # sustained full


def test_units_leave_the_window_when_they_are_older_than_it() -> None:
    windows = MemoryWindows()
    windows.charge([SUSTAINED], 3, now=0.0)
    windows.charge([SUSTAINED], 2, now=30.0)
    assert windows.stand("tenant/8/minute", 60, now=60.0) == (5, 0.0)  # exactly `expiry` old: still in
    assert windows.stand("tenant/8/minute", 60, now=60.1) == (2, 30.0)
    assert windows.stand("tenant/8/minute", 60, now=90.1) == (0, 90.1)


def test_windows_nobody_touches_are_swept() -> None:
    windows = MemoryWindows()
    windows.charge([BURST], 1, now=SWEEP_SECONDS)
    windows.charge([SUSTAINED], 1, now=3 * SWEEP_SECONDS)  # sweeps: the burst window is long past
    assert list(windows._hits) == ["tenant/8/minute"]
