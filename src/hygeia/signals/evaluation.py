"""Checking the signals against reference sets of known positive and negative drug-outcome pairs.

Reference sets: OMOP (Ryan et al. 2013) and EU-ADR (Coloma et al. 2013), from OHDSI MethodEvaluation.
Their outcomes are health outcomes of interest (HOIs), not MedDRA preferred terms, so an HOI is
matched to the PTs below — a narrow, hand-written mapping made for this evaluation (no official
HOI -> PT map ships with the data). A reference pair is evaluable when its drug is a column of one
of the real FAERS count tables (MDDC) and at least one mapped PT is a row of that table; the pair's
score is the strongest of its mapped PTs. Separately, pvda's simulated report data has six injected
drug-event associations (Drug_U/V/Z x Event_1/2): a ground truth known by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hygeia.settings import get_settings
from hygeia.signals.priority import criteria
from hygeia.signals.reports import read_cases, read_counts
from hygeia.signals.scoring import ScoringOptions, score_cases, score_count_table

HOI_TO_PTS = {
    "Rhabdomyolysis #1": ["RHABDOMYOLYSIS"],
    "OMOP Acute Renal Failure 1": [
        "ACUTE KIDNEY INJURY",
        "RENAL FAILURE ACUTE",
        "RENAL FAILURE",
        "RENAL TUBULAR NECROSIS",
    ],
    "OMOP Acute Liver Failure 1": [
        "ACUTE HEPATIC FAILURE",
        "HEPATIC FAILURE",
        "LIVER INJURY",
        "DRUG-INDUCED LIVER INJURY",
        "HEPATOTOXICITY",
    ],
    "OMOP Acute myocardial Infarction  1": ["MYOCARDIAL INFARCTION", "ACUTE MYOCARDIAL INFARCTION"],
    "HOI Upper GI #3": [
        "UPPER GASTROINTESTINAL HAEMORRHAGE",
        "GASTRIC ULCER HAEMORRHAGE",
        "DUODENAL ULCER HAEMORRHAGE",
        "HAEMATEMESIS",
        "GASTROINTESTINAL HAEMORRHAGE",
    ],
    "OMOP Aplastic Anemia 1": ["APLASTIC ANAEMIA"],
    "Leukopenia Including Neutropenia and Agranulocytosis": ["LEUKOPENIA", "NEUTROPENIA", "AGRANULOCYTOSIS"],
    "Stevens-Johnson Syndrome #1": ["STEVENS-JOHNSON SYNDROME", "TOXIC EPIDERMAL NECROLYSIS"],
    "Anaphylaxis #1": ["ANAPHYLACTIC REACTION", "ANAPHYLACTIC SHOCK"],
    "Cardiac Valve Fibrosis #1": [
        "CARDIAC VALVE DISEASE",
        "MITRAL VALVE INCOMPETENCE",
        "AORTIC VALVE INCOMPETENCE",
    ],
}
MDDC_TABLES = ("statin49", "statin101", "betablocker500", "sedative1000")
INJECTED = {(d, e) for d in ("Drug_U", "Drug_V", "Drug_Z") for e in ("Event_1", "Event_2")}


@dataclass
class Evaluation:
    reference_pairs: dict[str, int] = field(default_factory=dict)
    evaluable: pd.DataFrame = field(default_factory=pd.DataFrame)
    fits: dict[str, dict[str, Any]] = field(default_factory=dict)
    injected: dict[str, Any] = field(default_factory=dict)


def _data_dir(data_dir: Path | None) -> Path:
    return Path(data_dir) if data_dir is not None else Path(get_settings().data_dir)


def _reference(data_dir: Path) -> pd.DataFrame:
    frames = []
    for name, label in (("omopReferenceSet.csv", "OMOP"), ("euadrReferenceSet.csv", "EU-ADR")):
        frame = pd.read_csv(data_dir / "pv" / "refset" / name)
        frames.append(frame.assign(refset=label))
    return pd.concat(frames, ignore_index=True)


def _score_tables(data_dir: Path, evaluation: Evaluation) -> dict[str, pd.DataFrame]:
    scored = {}
    for table in MDDC_TABLES:
        run = score_count_table(
            read_counts(data_dir / "pv" / "mddc" / f"{table}.csv"), ScoringOptions(), source=table
        )
        frame = run.table.assign(
            drug_key=run.table["drug"].str.upper(), event_key=run.table["event"].str.upper()
        )
        scored[table] = pd.concat([frame, criteria(run.table)], axis=1)
        fit = run.fit
        evaluation.fits[table] = {
            "consistent": bool(fit and fit.consistent),
            "method": fit.method if fit else "",
            "hyperparameters": run.summary()["hyperparameters"],
            "fit": run.summary()["fit"]["statement"],
        }
    return scored


def evaluate_reference_sets(data_dir: Path | None = None) -> Evaluation:
    data_dir = _data_dir(data_dir)
    evaluation = Evaluation()
    reference = _reference(data_dir)
    evaluation.reference_pairs = reference.groupby("refset").size().to_dict()
    scored = _score_tables(data_dir, evaluation)
    rows = []
    for ref in reference.itertuples():
        pts = HOI_TO_PTS.get(ref.outcomeName, [])
        for table, frame in scored.items():
            hits = frame[(frame["drug_key"] == str(ref.exposureName).upper()) & frame["event_key"].isin(pts)]
            if hits.empty:
                continue
            best = hits.sort_values("eb05", ascending=False).iloc[0]
            rows.append(
                {
                    "refset": ref.refset,
                    "table": table,
                    "drug": best["drug"],
                    "outcome": ref.outcomeName,
                    "matched_pt": best["event"],
                    "truth": int(ref.groundTruth),
                    "n": int(best["n"]),
                    "eb05": best["eb05"],
                    "ic025": best["ic025"],
                    "prr": best["prr"],
                    "mgps": bool(best["mgps"]),
                    "bcpnn": bool(best["bcpnn"]),
                    "evans": bool(best["evans"]),
                }
            )
    evaluation.evaluable = pd.DataFrame(rows)
    evaluation.injected = _injected_ground_truth(data_dir)
    return evaluation


def _auc(scores: np.ndarray, truth: np.ndarray) -> float | None:
    positives, negatives = scores[truth == 1], scores[truth == 0]
    if positives.size == 0 or negatives.size == 0:
        return None
    greater = (positives[:, None] > negatives[None, :]).sum() + 0.5 * (
        positives[:, None] == negatives[None, :]
    ).sum()
    return float(greater / (positives.size * negatives.size))


def _injected_ground_truth(data_dir: Path) -> dict[str, Any]:
    cases = read_cases(data_dir / "pv" / "pvda" / "drug_event_df.csv")
    table = score_cases(cases).table
    truth = np.array(
        [(d, e) in INJECTED for d, e in zip(table["drug"], table["event"], strict=True)], dtype=int
    )
    met = criteria(table)
    out: dict[str, Any] = {"pairs": len(table), "injected": int(truth.sum())}
    for score in ("ic025", "eb05", "prr"):
        out[f"auc_{score}"] = _auc(table[score].to_numpy(float), truth)
    for name in met.columns:
        flagged = met[name].to_numpy()
        out[f"{name}_sensitivity"] = float(flagged[truth == 1].mean())
        out[f"{name}_false_positives"] = int(flagged[truth == 0].sum())
    return out


def render_report(evaluation: Evaluation) -> str:
    ev = evaluation.evaluable
    lines = [
        "# Signal detection against reference sets",
        "",
        f"Reference pairs: {evaluation.reference_pairs}. HOI -> PT mapping: hand-written, narrow "
        "(see hygeia.signals.evaluation.HOI_TO_PTS).",
        "",
    ]
    lines.append(
        f"Evaluable pairs (drug in an MDDC FAERS table and a mapped PT present): {len(ev)} "
        f"({int(ev['truth'].sum()) if len(ev) else 0} positive, "
        f"{int((ev['truth'] == 0).sum()) if len(ev) else 0} negative)."
    )
    if len(ev):
        lines += [
            "",
            ev.to_markdown(index=False, floatfmt=".3g") if _has_tabulate() else ev.to_string(index=False),
        ]
        for name in ("mgps", "bcpnn", "evans"):
            pos, neg = ev[ev["truth"] == 1][name], ev[ev["truth"] == 0][name]
            lines.append(
                f"- {name}: flags {int(pos.sum())}/{len(pos)} positives, "
                f"{int(neg.sum())}/{len(neg)} negatives"
            )
        auc = _auc(ev["eb05"].to_numpy(float), ev["truth"].to_numpy())
        lines.append(f"- AUC of EB05 on the evaluable pairs: {'n/a' if auc is None else f'{auc:.3f}'}")
    lines += ["", "MGPS fits on the MDDC tables:"]
    lines += [f"- {t}: consistent={f['consistent']} ({f['method']})" for t, f in evaluation.fits.items()]
    lines += [
        "",
        "pvda simulated data, 6 injected associations (ground truth by construction):",
        *[f"- {k}: {v}" for k, v in evaluation.injected.items()],
    ]
    return "\n".join(lines) + "\n"


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True
