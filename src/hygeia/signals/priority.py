"""Alert levels and a priority score that says where it came from.

Alert criteria (each a published threshold):
  MGPS   EB05 >= 2                       (Szarfman, Machado & O'Neill 2002, FDA)
  BCPNN  IC025 > 0                       (Bate et al. 1998; Norén et al. 2011, WHO-UMC)
  Evans  PRR >= 2 and chi2 >= 4 and N >= 3 (Evans, Waller & Davis 2001, MHRA; chi2 Yates-corrected)
Level: "high" = all three met, "medium" = two, "low" = one, "none" = none.

Priority = disproportionality x seriousness x trend x novelty, every factor reported:
  disproportionality D = max(0, (log2 EB05 + IC025) / 2): the two lower bounds, in bits of RR above 1
                     (IC025 alone when the run has no consistent MGPS prior and reports no EB05)
  seriousness        1 + share of the pair's reports with a serious outcome + share with death
                     (1, stated as "outcomes not in the data", for rows without outcome columns)
  trend              1 + 0.5 if the latest period is a burst + 0.5 * clip(IC025 change, 0, 1)
                     (1, stated as "no periods in the data", for rows without a period column)
  novelty            1 if the pair is not in the known/labelled list, 0.25 if it is
A pair without disproportionality (D = 0) has priority 0 whatever else is true: the score ranks
signals, it does not create them.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from hygeia.signals.columnar import line_delimiter
from hygeia.signals.errors import SignalDataError
from hygeia.signals.trend import burst_flags, ic025_change, period_table

THRESHOLDS = {"eb05": 2.0, "ic025": 0.0, "prr": 2.0, "chi2": 4.0, "n": 3}
KNOWN_WEIGHT = 0.25
LEVELS = ("none", "low", "medium", "high")


def criteria(table: pd.DataFrame) -> pd.DataFrame:
    t = THRESHOLDS
    return pd.DataFrame(
        {
            "mgps": table["eb05"] >= t["eb05"],
            "bcpnn": table["ic025"] > t["ic025"],
            "evans": (table["prr"] >= t["prr"]) & (table["chi2"] >= t["chi2"]) & (table["n"] >= t["n"]),
        },
        index=table.index,
    )


def alert_levels(table: pd.DataFrame) -> pd.Series:
    met = criteria(table).sum(axis=1)
    return met.map(dict(enumerate(LEVELS))).rename("alert_level")


def load_known_pairs(path: Path | str | IO[bytes], source: str | None = None) -> set[tuple[str, str]]:
    """A CSV with drug,event columns: reactions already labelled or known (case-insensitive)."""
    source = source or str(path)
    text = path.read() if hasattr(path, "read") else Path(path).read_bytes()
    try:
        header = text.split(b"\n", 1)[0].decode("utf-8-sig")
        frame = pd.read_csv(io.BytesIO(text), sep=line_delimiter(header), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SignalDataError(f"not a readable CSV of drug,event pairs ({exc})", source=source) from exc
    lower = {c.lower(): c for c in frame.columns}
    if not {"drug", "event"} <= set(lower):
        raise SignalDataError(
            f"need drug and event columns, have {list(frame.columns)}", source=source, line=1
        )
    return {
        (d.strip().upper(), e.strip().upper())
        for d, e in zip(frame[lower["drug"]], frame[lower["event"]], strict=True)
    }


def _seriousness(cases: pd.DataFrame | None, index: pd.MultiIndex) -> pd.DataFrame:
    """Shares of each pair's reports with a serious outcome and with death; NaN when the rows carry no
    outcomes (a count table, a single pair), so no one reads an unknown as "0 % serious"."""
    out = pd.DataFrame({"share_serious": np.nan, "share_death": np.nan}, index=index)
    if cases is None or not {"serious", "death"} <= set(cases.columns):
        return out
    flags = cases[["id", "drug", "event", "serious", "death"]].drop_duplicates(["id", "drug", "event"])
    for column in ("serious", "death"):
        flags[column] = flags[column].astype(str).str.lower().isin(("true", "1", "yes", "y"))
    shares = flags.groupby(["drug", "event"])[["serious", "death"]].mean()
    shares.columns = ["share_serious", "share_death"]
    return shares.reindex(index).fillna(0.0)


def _trend(cases: pd.DataFrame | None, index: pd.MultiIndex, period: str) -> pd.DataFrame:
    """Burst flag and IC025 change to the latest period; the change is NaN when the rows carry no
    period, which the explanation states instead of a change of +0.00."""
    out = pd.DataFrame({"burst": False, "ic025_change": np.nan}, index=index)
    if cases is None or period not in cases.columns:
        return out
    out["ic025_change"] = 0.0
    table = period_table(cases, period)
    bursts = burst_flags(table).set_index(["drug", "event"])["burst"]
    change = ic025_change(table)
    if len(change):
        out["ic025_change"] = change.set_index(["drug", "event"])["ic025_change"].reindex(index).fillna(0.0)
    out["burst"] = bursts.reindex(index).fillna(False).astype(bool)
    return out


def prioritise(
    scored: pd.DataFrame,
    cases: pd.DataFrame | None = None,
    known: set[tuple[str, str]] | None = None,
    period: str = "quarter",
    context: pd.DataFrame | None = None,
    explain: bool = True,
    ordered: bool = True,
) -> pd.DataFrame:
    """Scored pairs with alert level, priority and its components, highest priority first.

    Seriousness and trend come from the case rows, or, for a history too large to hold as rows, from
    `context`: share_serious, share_death, burst and ic025_change already computed per pair, in the
    scored table's row order (faers_history.py). Without `explain` the `explanation` text is left
    for `explanations` to write chunk by chunk (10^7 pairs' sentences are gigabytes); without
    `ordered` the rows stay in pair order and `priority_order` gives the ranking to write them in.
    """
    missing = {"drug", "event", "n", "eb05", "ic025", "prr", "chi2"} - set(scored.columns)
    if missing:
        raise SignalDataError(f"scored table lacks {sorted(missing)} (use the full scoring output)")
    table = scored.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    table["drug"], table["event"] = table["drug"].astype(str), table["event"].astype(str)
    met = criteria(table)
    mask = sum(met[c].to_numpy(int) << bit for bit, c in enumerate(met.columns))
    if context is not None:
        serious = trend = _aligned(context, table)
    else:
        index = pd.MultiIndex.from_frame(table[["drug", "event"]])
        serious, trend = _seriousness(cases, index), _trend(cases, index, period)
    known_keys = known or set()
    added = pd.DataFrame(
        {
            "alert_level": np.asarray(LEVELS, dtype=object)[met.sum(axis=1).to_numpy()],
            "criteria_met": np.asarray(_CRITERIA_NAMES, dtype=object)[mask],
            "c_disproportionality": disproportionality_bits(table["eb05"], table["ic025"]),
            "share_serious": serious["share_serious"].to_numpy(),
            "share_death": serious["share_death"].to_numpy(),
            "burst": trend["burst"].to_numpy(),
            "ic025_change": trend["ic025_change"].to_numpy(),
            "novel": [
                (d.upper(), e.upper()) not in known_keys
                for d, e in zip(table["drug"], table["event"], strict=True)
            ]
            if known_keys
            else np.ones(len(table), bool),
        },
        index=table.index,
    )
    # an outcome or period the data do not carry weighs 1 (no effect), as a measured 0 does
    added["c_seriousness"] = 1.0 + added["share_serious"].fillna(0.0) + added["share_death"].fillna(0.0)
    added["c_trend"] = 1.0 + 0.5 * added["burst"] + 0.5 * np.clip(added["ic025_change"].fillna(0.0), 0, 1)
    added["c_novelty"] = np.where(added["novel"], 1.0, KNOWN_WEIGHT)
    added["priority"] = (
        added["c_disproportionality"] * added["c_seriousness"] * added["c_trend"] * added["c_novelty"]
    )
    table = pd.concat([table.drop(columns=[c for c in added.columns if c in table.columns]), added], axis=1)
    if explain:
        table["explanation"] = explanations(table)
    return table.take(priority_order(table)).reset_index(drop=True) if ordered else table


def priority_order(table: pd.DataFrame) -> np.ndarray:
    """Row positions from the highest priority down (ties: higher EB05, then pair order), found by
    sorting only these two columns, not the whole table."""
    keys = pd.DataFrame({"priority": table["priority"].to_numpy(), "eb05": table["eb05"].to_numpy()})
    return keys.sort_values(["priority", "eb05"], ascending=False, kind="stable").index.to_numpy()


def explanations(ranked: pd.DataFrame) -> list[str]:
    """One sentence per pair naming every factor of its priority."""
    columns = ["eb05", "ic025", "alert_level", "criteria_met", "share_serious", "share_death", "burst"]
    columns += ["ic025_change", "novel", "c_disproportionality", "c_seriousness", "c_trend", "c_novelty"]
    return [_explain(r) for r in ranked[columns].itertuples(index=False)]


def _aligned(context: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    same_rows = len(context) == len(table) and all(
        np.array_equal(context[c].to_numpy(), table[c].to_numpy()) for c in ("drug", "event")
    )
    if not same_rows:
        raise ValueError("per-pair context must list the scored pairs in the same order")
    return context.set_index(table.index)


# "mgps,bcpnn,evans" for every combination of the three criteria (bit 0 mgps, 1 bcpnn, 2 evans)
_CRITERIA_NAMES = [
    ",".join(name for bit, name in enumerate(("mgps", "bcpnn", "evans")) if mask >> bit & 1)
    for mask in range(8)
]


def disproportionality_bits(eb05: pd.Series, ic025: pd.Series) -> np.ndarray:
    """max(0, (log2 EB05 + IC025) / 2); IC025 alone where MGPS is not reported (no consistent prior)."""
    eb = eb05.to_numpy(float)
    ic = ic025.to_numpy(float)
    log_eb05 = np.log2(np.maximum(eb, 1e-300))
    return np.maximum(0.0, np.where(np.isnan(eb), ic, (log_eb05 + ic) / 2))


def _explain(r: object) -> str:
    get = r.__getattribute__
    eb05 = "EB05 not reported" if np.isnan(get("eb05")) else f"EB05 {get('eb05'):.2f}"
    serious = (
        "outcomes not in the data"
        if np.isnan(get("share_serious"))
        else f"serious {get('share_serious'):.0%}, deaths {get('share_death'):.0%}"
    )
    change = (
        "no periods in the data"
        if np.isnan(get("ic025_change"))
        else f"IC025 change {get('ic025_change'):+.2f}"
    )
    parts = [
        f"{eb05}, IC025 {get('ic025'):.2f} -> {get('c_disproportionality'):.2f} bits",
        f"{serious} x{get('c_seriousness'):.2f}",
        f"{'burst, ' if get('burst') else ''}{change} x{get('c_trend'):.2f}",
        f"{'novel' if get('novel') else 'known/labelled'} x{get('c_novelty'):.2f}",
        f"alert {get('alert_level')} ({get('criteria_met') or 'no criterion met'})",
    ]
    return "; ".join(parts)
