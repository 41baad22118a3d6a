"""`hygeia toxicity evaluate` on real Tox21 rows, the served model's own training compounds: each is
recognised as seen, refusals match the serving path's, and labels stay aligned with their structures
(an in-sample ranking near perfect; one row of misalignment would pull it towards 0.5).

No PostgreSQL/Redis needed, so it runs with the normal suite (~10 s).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.external_validation import validate
from hygeia.toxicity.io import read_records
from hygeia.toxicity.loading import bundled_folder, load_folder
from hygeia.toxicity.predictor import predict_smiles

REPO_ROOT = Path(__file__).resolve().parents[3]
TOX21 = REPO_ROOT.parent / "shared" / "data" / "tox21" / "tox21.csv"
ROWS = 300


def test_tox21_rows_are_seen_counted_and_aligned(tmp_path: Path) -> None:
    assert TOX21.is_file(), f"real Tox21 data expected at {TOX21}"
    shipped_model = load_folder(bundled_folder(REPO_ROOT / "models"))
    frame = pd.read_csv(TOX21, dtype=str, keep_default_na=False).head(ROWS)
    labelled = tmp_path / "tox21_head.csv"
    frame.to_csv(labelled, index=False)
    report = validate(shipped_model, read_records(labelled))

    served = predict_smiles(shipped_model, frame["smiles"].tolist())
    refused = [r for r in served if r.error_code is not None]
    assert report["records"] == ROWS and report["scored"] == ROWS - len(refused) > 280
    assert sum(report["refused"].values()) == len(refused)
    assert report["likely_in_training"] == report["scored"] and report["novel"]["records"] == 0

    scored = np.array([r.error_code is None for r in served])
    for endpoint in ENDPOINTS:
        tested = scored & (frame[endpoint] != "").to_numpy()
        assert report["all"]["endpoints"][endpoint]["tested"] == tested.sum()
        assert report["all"]["endpoints"][endpoint]["actives"] == (frame[endpoint][tested] == "1.0").sum()
    assert report["all"]["endpoints_in_mean"] == 12 and report["all"]["mean_roc_auc"] > 0.9
    for row in report["all"]["endpoints"].values():  # an interval exactly where both classes have 5
        enough = min(row["actives"], row["tested"] - row["actives"]) >= 5
        assert (row["roc_auc_ci"] is not None) == enough
        assert not enough or row["roc_auc_ci"][0] <= row["roc_auc"] <= row["roc_auc_ci"][1]
    mean_ci = report["all"]["mean_roc_auc_ci"]
    assert mean_ci is None or mean_ci[0] <= report["all"]["mean_roc_auc"] <= mean_ci[1]
