"""A job-handler plugin for the worker fault test: it takes long enough to be killed mid-run and
records each attempt in a file, so the test can tell how many times it started."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hygeia.core.jobs import JobContext, register_job_handler


def slow_sum(payload: dict, ctx: JobContext) -> dict:
    attempts = Path(os.environ["HYGEIA_TEST_ATTEMPTS_FILE"])
    with attempts.open("a") as handle:
        handle.write(f"{os.getpid()}\n")
    for step in range(int(payload["steps"])):
        ctx.progress(step / payload["steps"], f"step {step}")
        time.sleep(0.1)
    return {"sum": sum(payload["values"])}


register_job_handler("test.slow_sum", slow_sum)
