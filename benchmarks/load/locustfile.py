"""Locust scenarios for `python -m benchmarks.load`; the runner picks one class per run."""

from __future__ import annotations

import itertools
import json
import os

from locust import HttpUser, constant, task

HEADERS = {"X-API-Key": os.environ.get("HYGEIA_BENCH_KEY", ""), "content-type": "application/json"}
SMILES = json.loads(os.environ.get("HYGEIA_BENCH_SMILES", "[]"))
_unique = itertools.count()


class Hello(HttpUser):
    """The anchor: a plain FastAPI hello-JSON app (benchmarks/load/hello_app.py) on the same machine."""

    wait_time = constant(0)

    @task
    def hello(self) -> None:
        self.client.get("/hello")


class Whoami(HttpUser):
    """Authentication alone: key verification, rate limit, one small JSON answer."""

    wait_time = constant(0)

    @task
    def whoami(self) -> None:
        self.client.get("/api/v1/auth/whoami", headers=HEADERS)


class Health(HttpUser):
    """Baseline: the cheapest route, measuring the server and the load generator themselves."""

    wait_time = constant(0)

    @task
    def health(self) -> None:
        self.client.get("/health")


class ToxicityCached(HttpUser):
    """The same molecule again and again: answered from the response cache after the first call."""

    wait_time = constant(0)

    @task
    def predict(self) -> None:
        self.client.post(
            "/api/v1/toxicity/predict", json={"smiles": SMILES[0]}, headers=HEADERS, name="cached"
        )


class ToxicityUncached(HttpUser):
    """A different real Tox21 molecule each call: featurisation + model every time.

    About 1.4% of Tox21 rows are rejected by design (disallowed elements such as metals, unparseable
    SMILES); their 422 problem+json naming the reason is the correct answer, counted as a success.
    """

    wait_time = constant(0)

    @task
    def predict(self) -> None:
        smiles = SMILES[next(_unique) % len(SMILES)]
        with self.client.post(
            "/api/v1/toxicity/predict",
            json={"smiles": smiles},
            headers=HEADERS,
            name="uncached",
            catch_response=True,
        ) as response:
            rejected = response.status_code == 422 and response.json().get("error_code")
            if response.status_code == 200 or rejected:
                response.success()
            else:
                response.failure(f"HTTP {response.status_code}")
