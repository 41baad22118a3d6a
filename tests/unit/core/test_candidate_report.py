"""The console reads any domain's retraining comparison: each production/candidate number pair of the
card's held-out split is one row named by its path, whatever the nesting (toxicity's mean over assays
and per-assay values, evidence's metric per answer key); text and unpaired values are not rows."""

from __future__ import annotations

from hygeia.core.candidate_report import comparison_rows


def test_toxicity_and_evidence_shaped_comparisons_become_rows() -> None:
    toxicity = {
        "same_split": True,
        "split": {"folds": 5, "seed": 2026},
        "mean_roc_auc": {"production": 0.7241, "candidate": 0.7321, "difference": 0.008},
        "roc_auc_by_endpoint": {"NR-AR": {"production": 0.70, "candidate": 0.65}},
    }
    rows = comparison_rows(toxicity)
    assert [r["metric"] for r in rows] == ["mean_roc_auc", "roc_auc_by_endpoint · NR-AR"]
    assert rows[0]["difference"] == 0.008 and rows[1]["difference"] == -0.05

    evidence = {
        "split": "5 folds grouped by compound",
        "keys": {"a": {"production": {"auroc": 0.98}, "candidate": {"auroc": 0.97}, "hidden": []}},
        "auroc": {"a": {"production": 0.9812, "candidate": 0.9778, "difference": -0.0034}},
    }
    # per-key score blocks hold no production/candidate number pair; the flat metric blocks do
    assert comparison_rows(evidence) == [
        {"metric": "auroc · a", "production": 0.9812, "candidate": 0.9778, "difference": -0.0034}
    ]
