"""The served model and ADMET-AI side by side on one labelled file: issue 12's table, as measured on the
Tox21 challenge's final evaluation set, for whoever holds that set (or any file laid out like tox21.csv).

    python -m benchmarks.toxicity.external LABELLED.csv --admet-python /tmp/admet/bin/python \
        [--labels LABELS.txt [--id-column ID]] [--model models/toxicity/2.13.1] [--json OUT]

Both models score the same compounds: those Hygeia scores and RDKit parses for ADMET-AI. An endpoint's
ROC-AUC and PR-AUC are over its tested compounds among them, and the mean over endpoints is the
challenge's measure. "novel" leaves out compounds with a training look-alike (nearest similarity 1.0):
both models learnt Tox21's 7,831 compounds (ADMET-AI through TDC's copy). The mean difference comes
with a paired bootstrap over compounds (95 % interval).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from rdkit import Chem, rdBase
from sklearn.metrics import average_precision_score, roc_auc_score

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.external_validation import (
    bootstrap_roc_aucs,
    draw_means,
    join_labels,
    read_labels,
    score_records,
)
from hygeia.toxicity.io import read_records
from hygeia.toxicity.loading import bundled_folder, load_folder

REPO = Path(__file__).resolve().parents[2]
ADMET_SCRIPT = """
import sys, json
from admet_ai import ADMETModel
smiles = [line.strip() for line in open(sys.argv[1]) if line.strip()]
predictions = ADMETModel(num_workers=0).predict(smiles=smiles)
endpoints = sys.argv[2].split(",")
print(json.dumps({"rows": len(predictions), "probabilities": predictions[endpoints].to_numpy().tolist()}))
"""


def admet_probabilities(python: Path, smiles: list[str]) -> np.ndarray:
    """(n, 12) ADMET-AI probabilities in ENDPOINTS order; NaN rows where RDKit cannot parse the SMILES."""
    out = np.full((len(smiles), len(ENDPOINTS)), np.nan)
    with rdBase.BlockLogs():
        valid = [i for i, s in enumerate(smiles) if s and Chem.MolFromSmiles(s) is not None]
    with tempfile.TemporaryDirectory() as tmp:
        source, script = Path(tmp) / "in.smi", Path(tmp) / "run.py"
        source.write_text("\n".join(smiles[i] for i in valid) + "\n")
        script.write_text(ADMET_SCRIPT)
        done = subprocess.run(
            [str(python), str(script), str(source), ",".join(ENDPOINTS)],
            capture_output=True, text=True, timeout=7200, check=True,
        )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["rows"] != len(valid):
        raise RuntimeError(f"ADMET-AI returned {result['rows']} rows for {len(valid)} molecules")
    out[valid] = np.asarray(result["probabilities"], dtype=float)
    return out


def _scores(y: np.ndarray, p: np.ndarray) -> tuple[float, float] | None:
    if not 0 < y.sum() < len(y):
        return None
    return float(roc_auc_score(y, p)), float(average_precision_score(y, p))


def _rounded(scores: tuple[float, float] | None) -> dict[str, float] | None:
    return None if scores is None else {"roc_auc": round(scores[0], 4), "pr_auc": round(scores[1], 4)}


def side_by_side(
    labels: np.ndarray, ours: np.ndarray, theirs: np.ndarray, rows: np.ndarray
) -> dict[str, Any]:
    """Per endpoint and mean ROC-AUC / PR-AUC of both on `rows` where both scored, with a paired
    bootstrap of the mean ROC-AUC difference (ours - theirs) over compounds."""
    common = rows & ~np.isnan(ours).any(axis=1) & ~np.isnan(theirs).any(axis=1)
    endpoints, roc_aucs = {}, {}
    for j, endpoint in enumerate(ENDPOINTS):
        tested = common & ~np.isnan(labels[:, j])
        pair = _scores(labels[tested, j], ours[tested, j]), _scores(labels[tested, j], theirs[tested, j])
        endpoints[endpoint] = {
            "tested": int(tested.sum()),
            "actives": int(np.nansum(labels[tested, j])),
            "hygeia": _rounded(pair[0]),
            "admet_ai": _rounded(pair[1]),
        }
        if pair[0] is not None and pair[1] is not None:
            roc_aucs[j] = pair[0][0], pair[1][0]
    report: dict[str, Any] = {"compounds": int(common.sum()), "endpoints": endpoints}
    ranked = [e for e in endpoints.values() if e["hygeia"] is not None]
    if ranked:
        for model in ("hygeia", "admet_ai"):
            report[f"{model}_mean"] = {
                m: round(float(np.mean([e[model][m] for e in ranked])), 4) for m in ("roc_auc", "pr_auc")
            }
        report["mean_roc_auc_difference"] = _difference(labels, ours, theirs, common, roc_aucs)
    return report


def _difference(
    labels: np.ndarray,
    ours: np.ndarray,
    theirs: np.ndarray,
    rows: np.ndarray,
    roc_aucs: dict[int, tuple[float, float]],
) -> dict[str, float]:
    """The mean ROC-AUC difference over the endpoints ranked, with its 95 % interval from paired
    resamples of the compounds (a draw leaving an endpoint one class leaves it out of that draw)."""
    columns = sorted(roc_aucs)
    point = float(np.mean([roc_aucs[j][0] - roc_aucs[j][1] for j in columns]))
    a, b = bootstrap_roc_aucs(labels, [ours, theirs], rows)
    low, high = np.nanpercentile(draw_means((a - b)[:, columns]), [2.5, 97.5])
    return {"point": round(point, 4), "low": round(float(low), 4), "high": round(float(high), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("labelled", type=Path)
    parser.add_argument("--admet-python", type=Path, required=True, help="python of a venv with admet-ai")
    parser.add_argument("--labels", type=Path, default=None, help="labels in their own file, matched by ID")
    parser.add_argument("--id-column", default=None, help="the ID column of --labels (default: its first)")
    parser.add_argument("--model", type=Path, default=None, help="default: the newest bundled version")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    folder = args.model or bundled_folder(REPO / "models")
    model = load_folder(folder)
    records = read_records(args.labelled)
    if args.labels:
        records, join = join_labels(records, args.labels, args.id_column)
        print(f"labels matched to {join.matched} of {len(records)} structures", file=sys.stderr)
    labels, _ = read_labels(records)
    scored = score_records(model, records)
    theirs = admet_probabilities(args.admet_python, [r.smiles for r in records])
    valid, seen = scored.valid, scored.seen
    report = {
        "file": str(args.labelled),
        "model": f"{model.card['name']} {model.card['version']}",
        "records": len(records),
        "novel": side_by_side(labels, scored.probabilities, theirs, valid & ~seen),
        "all": side_by_side(labels, scored.probabilities, theirs, valid),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
