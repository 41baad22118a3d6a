"""Build `models/agents/<version>/signal_reference.json`: MGPS/PRR/IC statistics for the drug-event pairs
of the MDDC FAERS count tables, so "is there a signal for atorvastatin and rhabdomyolysis?" has an
answer before a tenant has run anything. `python -m benchmarks.agents.signal_reference`.

A build step, not serving code: it uses the signals package's own scoring (MGPS fitted per table) and
writes only the derived statistics with their provenance; the MDDC files are not copied. The agents read
the JSON at answer time without importing the signals domain.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from hygeia.agents.verdict import VERSION
from hygeia.core.registry import write_card
from hygeia.settings import get_settings

TABLES = {  # file -> FAERS period, from MDDC's SOURCE.txt
    "statin49.csv": "FAERS 2014Q3-2020Q4",
    "statin101.csv": "FAERS 2021Q1-2023Q4",
    "betablocker500.csv": "FAERS 2021Q1-2023Q4",
}
FIELDS = ("n", "expected", "ebgm", "eb05", "ic025", "prr", "alert_level", "criteria_met", "priority")
OUT = Path(__file__).resolve().parents[2] / "models" / "agents" / VERSION / "signal_reference.json"


def long_table(path: Path) -> pd.DataFrame:
    wide = pd.read_csv(path, index_col=0)
    wide.index = wide.index.astype(str)
    long = wide.reset_index(names="event").melt(id_vars="event", var_name="drug", value_name="n")
    return long[["drug", "event", "n"]]


def score(path: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from hygeia.signals.priority import prioritise
    from hygeia.signals.scoring import score_count_table

    table = long_table(path)
    run = score_count_table(table, source=path.name)
    ranked = prioritise(run.table)
    keep = ranked[(ranked["drug"] != "Other") & (ranked["event"] != "Other")]
    rows = []
    for record in keep.to_dict("records"):
        row = {"drug": str(record["drug"]).lower(), "event": str(record["event"]).lower()}
        for field in FIELDS:
            value = record.get(field)
            row[field] = _number(value) if isinstance(value, int | float) else value
        rows.append(row)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return rows, {"file": path.name, "sha256": digest, "hyperparameters": run.summary()["hyperparameters"]}


def _number(value: float) -> float | None:
    """NaN (no MGPS fit for that table) is not JSON: it becomes null, and the answer says so."""
    return None if math.isnan(float(value)) else round(float(value), 3)


def main() -> None:
    folder = get_settings().data_dir / "pv" / "mddc"
    pairs: list[dict[str, Any]] = []
    sources = []
    for name, period in TABLES.items():
        rows, provenance = score(folder / name)
        pairs.extend({**row, "table": name} for row in rows)
        sources.append({**provenance, "period": period})
        print(f"{name}: {len(rows)} pairs", flush=True)
    document = {
        "source": "MDDC 1.1.0 FAERS drug x adverse-event count tables (github.com/rmj3197/MDDC, GPL-3.0)",
        "method": "hygeia signals scoring (MGPS fitted per table, PRR, IC) and prioritise; 'Other' cells "
        "kept in the margins, not reported",
        "tables": sources,
        "pairs": pairs,
    }
    OUT.write_text(json.dumps(document, separators=(",", ":"), allow_nan=False) + "\n")
    card = json.loads((OUT.parent / "card.json").read_text())
    write_card(OUT.parent, {k: v for k, v in card.items() if k not in ("artifacts", "sha256")})
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KiB, {len(pairs)} pairs)")


if __name__ == "__main__":
    main()
