"""Time and concurrency bounds for image analysis: a deadline per image and a bounded pool of slots.

A slow request must end with a clear error, and must not leave a worker computing for nobody:
ONNX Runtime's `RunOptions.terminate`, set from a timer thread, stops a running graph between
kernels, so the thread is free again within milliseconds of the deadline. The slots bound how many
images are decoded and classified at once across all requests (each holds at most one decoded
image), which is what bounds the process's memory under concurrent uploads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from hygeia.core.errors import ProblemError

DEFAULT_DEADLINE_S = 20.0  # per image: decode, gate, 8-view inference and Grad-CAM (~0.3 s typical)
ANALYSIS_SLOTS = 2  # images analysed at once in this process (the CPU threads ONNX Runtime uses)
_slots = threading.BoundedSemaphore(ANALYSIS_SLOTS)


class AnalysisTimeout(ProblemError):
    def __init__(self, seconds: float, step: str) -> None:
        super().__init__(
            504,
            "Analysis timed out",
            f"{step} did not finish within the {seconds:g} s limit; the computation was stopped. "
            "Retry later or with a smaller image.",
            type_="urn:hygeia:dermatology-timeout",
        )


class AnalysisBusy(ProblemError):
    def __init__(self, seconds: float) -> None:
        super().__init__(
            503,
            "Dermatology analysis is busy",
            f"no analysis slot became free within {seconds:g} s; retry shortly",
            headers={"Retry-After": "5"},
        )


class Deadline:
    """A point in monotonic time by which one image's analysis must finish."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def check(self, step: str) -> None:
        if self.remaining() <= 0:
            raise AnalysisTimeout(self.seconds, step)


@contextmanager
def analysis_slot(deadline: Deadline) -> Iterator[None]:
    """Wait for a free slot until the deadline, then hold it for the whole analysis of one image."""
    if not _slots.acquire(timeout=max(deadline.remaining(), 0.0)):
        raise AnalysisBusy(deadline.seconds)
    try:
        yield
    finally:
        _slots.release()


def run_before(
    session: Any, outputs: Sequence[str], feeds: dict[str, np.ndarray], deadline: Deadline | None
) -> list[np.ndarray]:
    """`session.run` that is terminated (not abandoned) when the deadline passes."""
    if deadline is None:
        return session.run(list(outputs), feeds)
    import onnxruntime as ort

    deadline.check("inference")
    options = ort.RunOptions()
    timer = threading.Timer(max(deadline.remaining(), 0.0), lambda: setattr(options, "terminate", True))
    timer.start()
    try:
        return session.run(list(outputs), feeds, options)
    except Exception as exc:
        if options.terminate:
            raise AnalysisTimeout(deadline.seconds, "inference") from exc
        raise
    finally:
        timer.cancel()
