"""Releases are remembered for a second per process: each test starts and ends without one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hygeia.core import releases


@pytest.fixture(autouse=True)
def no_remembered_release() -> Iterator[None]:
    releases.forget_all()
    yield
    releases.flush()
    releases.forget_all()
