"""The prediction-record writer: a reader's flush returns only after rows the background thread
has already taken are committed (the race behind 'no toxicity prediction ... in your tenant')."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from hygeia.core import outcomes


def test_flush_waits_for_rows_the_writer_thread_is_committing(monkeypatch: pytest.MonkeyPatch) -> None:
    writer = outcomes._RecordWriter()
    committing, release = threading.Event(), threading.Event()
    committed: list[list[dict[str, Any]]] = []

    def slow_commit(pending: dict[str, list[dict[str, Any]]]) -> None:
        committing.set()
        release.wait(5)
        committed.extend(pending.values())

    monkeypatch.setattr(writer, "_commit", slow_commit)
    monkeypatch.setattr(outcomes, "WRITE_SECONDS", 0.0)
    writer.add([{"id": "a"}])
    assert committing.wait(5), "the background thread never took the rows"

    reader = threading.Thread(target=writer.flush)
    reader.start()
    reader.join(0.2)
    assert reader.is_alive(), "flush returned while taken rows were still uncommitted"
    release.set()
    reader.join(5)
    assert not reader.is_alive() and committed == [[{"id": "a"}]]
