"""What the model lifecycle costs a toxicity prediction, as ratios measured in one run.

`python -m benchmarks.lifecycle [--calls N] [--molecules N]`

A throw-away platform (its own var/ and SQLite database, the bundled models) answers the same
requests with the lifecycle on (stable id, InChIKey, queued prediction record, release lookup) and
off (`lifecycle.follow` replaced by the identity), alternating call by call so both arms see the same
machine load: a cached single molecule (the API's hot path) and a batch of real Tox21 SMILES (batches
are not cached; InChIKeys are recomputed for every call). Records and audit rows are written in
batches by background threads, as in the server, so their cost falls on both arms alike. It prints
medians and the on/off ratio; a ratio near 1 means the lifecycle is cheap.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TOX21 = REPO.parent / "shared" / "data" / "tox21" / "tox21.csv"
BPA = "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1"


def _platform() -> None:
    """Point settings at a fresh var/ and bootstrap it (registry, first admin key)."""
    os.environ.update(
        HYGEIA_VAR_DIR=str(Path(tempfile.mkdtemp()) / "var"),
        HYGEIA_MODELS_DIR=str(REPO / "models"),
        HYGEIA_LOG_LEVEL="WARNING",
        HYGEIA_EVIDENCE_INDEX_ON_START="off",
    )
    from hygeia.app import wire_domains
    from hygeia.core import audit
    from hygeia.core.bootstrap import bootstrap

    bootstrap()
    wire_domains()
    audit.writer.start()  # as the server runs: audit rows and prediction records both written in batches


def _alternate(on: Callable[[], object], off: Callable[[], object], calls: int) -> tuple[float, float]:
    from hygeia.toxicity import lifecycle

    follow = lifecycle.follow
    timings: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(calls):
        for enabled, call in ((True, on), (False, off)):
            lifecycle.follow = follow if enabled else (lambda _model, results: results)  # type: ignore[assignment]
            started = time.perf_counter()
            call()
            timings[enabled].append(time.perf_counter() - started)
    lifecycle.follow = follow  # type: ignore[assignment]
    return statistics.median(timings[True]), statistics.median(timings[False])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=400, help="alternating calls per arm (cached path)")
    parser.add_argument("--molecules", type=int, default=50, help="Tox21 molecules per uncached batch")
    args = parser.parse_args()
    if not TOX21.is_file():
        print(f"no Tox21 data at {TOX21}", file=sys.stderr)
        return 2
    _platform()
    from hygeia.core.auth import CURRENT_TENANT, Principal
    from hygeia.toxicity import lifecycle, service

    CURRENT_TENANT.set("benchmark")
    principal = Principal("benchmark", "analyst", "benchmark", "standard")
    with TOX21.open() as handle:
        smiles = [
            row["smiles"] for row, _ in zip(csv.DictReader(handle), range(args.molecules), strict=False)
        ]

    def single() -> object:
        return service.predict_one(principal, BPA)

    single()  # the answer is cached from here on
    on, off = _alternate(single, single, args.calls)
    print(
        f"cached single molecule: lifecycle on {on * 1e3:.3f} ms, off {off * 1e3:.3f} ms, "
        f"ratio {on / off:.3f}"
    )

    batch = smiles[: args.molecules]

    def fresh_batch() -> object:
        lifecycle.inchikey.cache_clear()  # every molecule's key computed again, as for new molecules
        return service.predict_batch(principal, batch)

    on, off = _alternate(fresh_batch, fresh_batch, 3)
    print(
        f"batch of {args.molecules} Tox21 molecules: lifecycle on {on:.2f} s, off {off:.2f} s, "
        f"ratio {on / off:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
