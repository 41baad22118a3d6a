"""Evaluating the served model on a labelled file: labels read exactly, refusals counted, compounds the
model has seen kept apart, metrics equal to scikit-learn's on the serving path's probabilities."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from typer.testing import CliRunner

from hygeia.cli import app
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.external_validation import (
    LabelError,
    ScoredRecords,
    bootstrap_roc_aucs,
    endpoint_report,
    rank_roc_auc,
    read_labels,
    score_records,
    similarity_report,
    validate,
)
from hygeia.toxicity.io import InputRecord, read_records
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.predictor import predict_smiles

NOVEL = [  # drug-like structures whose nearest Tox21 neighbour is at similarity 0.33-0.55
    "CC(C)Cc1ccc(cc1)C(C)C(=O)NCc1ccncc1",
    "O=C(Nc1ccc(F)cc1)c1cc2ccccc2o1",
    "CCN(CC)C(=O)c1ccc2[nH]c3ccccc3c2c1",
    "Cc1nc2ccccc2n1CC(=O)N1CCOCC1",
    "COc1ccc(cc1)S(=O)(=O)N1CCC(CC1)C(N)=O",
    "CCOC(=O)c1ccc(NC(=O)C2CC2)cc1",
]
SEEN = ["CCOc1ccc2nc(S(N)(=O)=O)sc2c1", "CCN1C(=O)NC(c2ccccc2)C1=O"]  # Tox21 rows TOX3021, TOX3020
REFUSED = ["CCCC[Sn](CCCC)(CCCC)Cl", "C1CC"]
SR_ARE = [1, 0, 1, 0, 0, 1, 1, 0, 1, 0]  # made-up outcomes of the ten structures, refused ones included
NR_AR = ["0", "", "0.0", "0", "x", "NA", "1.0", "0", "nan", ""]  # blank, x, NA, nan: untested


def _records(sr_are: list[int] | None = None, nr_ar: list[str] | None = None) -> list[InputRecord]:
    smiles = NOVEL + SEEN + REFUSED
    sr_are, nr_ar = sr_are or SR_ARE, nr_ar or NR_AR
    return [
        InputRecord(s, s, {"id": f"c{i}", "SR-ARE": str(y), "NR-AR": nr_ar[i] if i < len(nr_ar) else ""})
        for i, (s, y) in enumerate(zip(smiles, sr_are, strict=True))
    ]


def test_labels_read_as_one_zero_or_untested():
    labels, given = read_labels(_records())
    assert given == ["NR-AR", "SR-ARE"]
    assert labels.shape == (10, len(ENDPOINTS))
    assert np.isnan(labels[:, ENDPOINTS.index("SR-p53")]).all()  # no column: untested everywhere
    nr_ar = labels[:, ENDPOINTS.index("NR-AR")]
    assert nr_ar[[0, 2, 3, 6]].tolist() == [0.0, 0.0, 0.0, 1.0] and np.isnan(nr_ar[[1, 4, 5, 8, 9]]).all()


def test_a_bad_label_cell_is_named_and_stops_the_run():
    records = _records(nr_ar=["0", "active", "", "0.5", "inf"])
    with pytest.raises(
        LabelError, match=r"3 label cells.*record 2 NR-AR='active'; record 4 NR-AR='0.5'; rec"
    ):
        read_labels(records)
    with pytest.raises(LabelError, match="no label columns"):
        read_labels([InputRecord("C", "C", {"activity": "1"})])
    with pytest.raises(LabelError, match="no records"):
        read_labels([])


def test_endpoint_report_matches_scikit_learn_and_splits_the_domain():
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0], dtype=float)
    p = np.array([0.9, 0.2, 0.4, 0.5, 0.1, 0.7, 0.3, 0.6])
    inside = np.array([True, True, True, True, False, False, False, False])
    sets = np.array([[0, 1], [1, 0], [1, 1], [0, 1], [1, 0], [0, 0], [1, 0], [1, 1]], dtype=bool)
    report = endpoint_report(y, p, inside, sets)
    assert report["roc_auc"] == round(roc_auc_score(y, p), 4)
    assert report["pr_auc"] == round(average_precision_score(y, p), 4)
    assert report["brier"] == round(float(np.mean((p - y) ** 2)), 4)
    assert report["in_domain"] == {"tested": 4, "roc_auc": round(roc_auc_score(y[:4], p[:4]), 4)}
    assert report["out_of_domain"]["roc_auc"] == round(roc_auc_score(y[4:], p[4:]), 4)
    # actives 0, 2, 5: the empty set of 5 misses; inactives 1, 3, 4, 6, 7: the {active} set of 3 misses
    assert report["conformal"]["error_active"] == round(1 / 3, 4)
    assert report["conformal"]["error_inactive"] == 0.2
    one_class = endpoint_report(np.zeros(3), np.array([0.1, 0.2, 0.3]), np.ones(3, bool), None)
    assert one_class["roc_auc"] is None and one_class["pr_auc"] is None and "conformal" not in one_class


def test_probabilities_are_the_serving_paths_unrounded(shipped_model: ToxicityModel):
    records = _records()
    scored = score_records(shipped_model, records)
    served = predict_smiles(shipped_model, [r.smiles for r in records])
    for row, result in zip(scored.probabilities, served, strict=True):
        if result.probabilities is None:
            assert np.isnan(row).all()
        else:
            assert np.allclose(row, [result.probabilities[e] for e in ENDPOINTS], atol=5e-5)
    assert scored.refused == {"disallowed_element": 1, "unparseable": 1}


def test_validate_counts_refusals_and_keeps_seen_compounds_apart(shipped_model: ToxicityModel):
    records = _records()
    report = validate(shipped_model, records)
    assert (report["records"], report["scored"], report["likely_in_training"]) == (10, 8, 2)
    assert report["refused"] == {"disallowed_element": 1, "unparseable": 1}
    assert report["refused_with_labels"] == 2
    assert report["novel"]["records"] == 6 and report["all"]["records"] == 8
    sr_are = report["novel"]["endpoints"]["SR-ARE"]
    scored = score_records(shipped_model, records).probabilities[:6, ENDPOINTS.index("SR-ARE")]
    assert sr_are["tested"] == 6 and sr_are["actives"] == 3
    assert sr_are["roc_auc"] == round(roc_auc_score(SR_ARE[:6], scored), 4)
    # NR-AR: the novel compounds tested (0, 2, 3) are all inactive, so no AUC and no mean entry
    assert report["novel"]["endpoints"]["NR-AR"]["roc_auc"] is None
    assert report["novel"]["endpoints"]["NR-AR"]["roc_auc_ci"] is None
    assert report["novel"]["endpoints_in_mean"] == 1
    assert report["novel"]["mean_roc_auc"] == sr_are["roc_auc"]
    assert sr_are["roc_auc_ci"] is None and report["novel"]["mean_roc_auc_ci"] is None  # 3 actives: too few
    bands = report["all"]["by_similarity"]  # every scored compound in one band of the card's table
    card_bands = shipped_model.card["applicability_domain"]["bands"]
    assert [b["cv_roc_auc"] for b in bands] == [b["roc_auc"] for b in card_bands]
    assert sum(b["compounds"] for b in bands) == 8
    assert sum(b["labels"] for b in bands) == 8 + 5  # SR-ARE on every scored compound, NR-AR on 5
    assert sum(b["compounds"] for b in report["novel"]["by_similarity"]) == 6
    nearest = report["all"]["by_similarity"][-1], report["novel"]["by_similarity"][-1]
    assert nearest[0]["compounds"] - nearest[1]["compounds"] == 2  # the two seen: similarity 1.0
    assert report["all"]["endpoints"]["NR-AR"]["tested"] == 5  # rows 0, 2, 3 novel; 6, 7 seen
    assert report["all"]["endpoints"]["NR-AR"]["roc_auc"] is not None


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_cli_prints_the_table_and_writes_the_report(tmp_path: Path, shipped_folder: Path):
    rows = [{"smiles": r.smiles, **r.passthrough} for r in _records()]
    labelled = _write(tmp_path / "labelled.csv", rows)
    assert len(read_records(labelled)) == 10
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app, ["toxicity", "evaluate", str(labelled), "--model", str(shipped_folder), "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["likely_in_training"] == 2 and report["novel"]["endpoints_in_mean"] == 1
    lines = result.output.splitlines()
    assert "10 records, 8 scored, refused: disallowed_element 1, unparseable 1 (2 of them" in lines[0]
    assert lines.index("novel compounds: 6") < lines.index(
        "all scored compounds, training look-alikes included: 8"
    )
    sr_are = next(line for line in lines if line.startswith("SR-ARE"))
    assert f"{report['novel']['endpoints']['SR-ARE']['roc_auc']:.3f}" in sr_are


def test_cli_refuses_a_bad_label_with_its_cell(tmp_path: Path, shipped_folder: Path):
    labelled = _write(tmp_path / "bad.csv", [{"smiles": "CCO", "NR-AR": "inactive"}])
    result = CliRunner().invoke(app, ["toxicity", "evaluate", str(labelled), "--model", str(shipped_folder)])
    assert result.exit_code != 0
    assert "record 1 NR-AR='inactive'" in result.output


def _challenge_files(tmp_path: Path, label_ids: list[str]) -> tuple[Path, Path]:
    """The Tox21 challenge's layout: a .smiles file (`#SMILES`, Sample ID) and a tab-separated .txt of
    results by Sample ID, `x` for untested."""
    structures = tmp_path / "score.smiles"
    structures.write_text(
        "#SMILES\tSample ID\n" + "".join(f"{s}\tNCGC-{i}\n" for i, s in enumerate([*NOVEL[:3], SEEN[0]]))
    )
    results = tmp_path / "score.txt"
    header = "Sample ID\t" + "\t".join(ENDPOINTS)
    rows = [
        f"{sample}\t" + "\t".join(["1" if k % 2 else "0"] + ["x"] * 11) for k, sample in enumerate(label_ids)
    ]
    results.write_text("\n".join([header, *rows]) + "\n")
    return structures, results


def test_the_challenges_two_files_are_joined_by_sample_id(tmp_path: Path, shipped_folder: Path):
    structures, results = _challenge_files(tmp_path, ["NCGC-0", "NCGC-1", "NCGC-3", "NCGC-9"])
    assert [r.passthrough["name"] for r in read_records(structures)] == [f"NCGC-{i}" for i in range(4)]
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app,
        ["toxicity", "evaluate", str(structures), "--labels", str(results), "--model", str(shipped_folder),
         "--json", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["label_join"] == {
        "matched": 3,
        "structures_without_labels": 1,
        "labels_without_structure": 1,
    }
    assert "labels matched to 3 structures; 1 structures without labels, 1 label rows" in result.output
    nr_ar = report["all"]["endpoints"]["NR-AR"]  # the first label column, the others all x
    assert (nr_ar["tested"], nr_ar["actives"]) == (3, 1)  # NCGC-0 0, NCGC-1 1, NCGC-3 0; NCGC-2 has none
    assert report["all"]["endpoints"]["SR-p53"]["tested"] == 0
    assert set(report["all"]["endpoints"]) == set(ENDPOINTS)  # every column given, if all untested


def test_an_id_given_twice_stops_the_join(tmp_path: Path, shipped_folder: Path):
    structures, results = _challenge_files(tmp_path, ["NCGC-0", "NCGC-1", "NCGC-0"])
    arguments = [
        "toxicity",
        "evaluate",
        str(structures),
        "--labels",
        str(results),
        "--model",
        str(shipped_folder),
    ]
    result = CliRunner().invoke(app, arguments)
    assert result.exit_code != 0 and "1 IDs appear twice in score.txt, e.g. 'NCGC-0'" in result.output
    missing = CliRunner().invoke(app, [*arguments[:3], "--labels", str(tmp_path / "none.txt")])
    assert missing.exit_code != 0 and "does not exist" in missing.output and "Traceback" not in missing.output


def test_the_bootstraps_rank_auc_is_scikit_learns_with_ties():
    rng = np.random.default_rng(8)
    y = rng.random(300) < 0.15
    p = np.round(rng.random(300) + 0.3 * y, 1)  # one decimal: many ties
    assert rank_roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)


def test_intervals_narrow_with_more_compounds():
    rng = np.random.default_rng(4)

    def width(n: int) -> float:
        labels = np.full((n, len(ENDPOINTS)), np.nan)
        labels[:, 0] = rng.random(n) < 0.3
        scores = np.where(labels == 1, 0.3, 0.0) + rng.random((n, len(ENDPOINTS)))
        draws = bootstrap_roc_aucs(labels, [scores], np.ones(n, dtype=bool))[0]
        assert np.isnan(draws[:, 1:]).all()  # untested endpoints have no AUC in any draw
        low, high = np.percentile(draws[:, 0], [2.5, 97.5])
        return float(high - low)

    assert width(1_000) < width(100) / 2  # about 1 / sqrt(n)


def test_similarity_bands_pool_brier_and_set_error_over_labels():
    labels = np.full((4, len(ENDPOINTS)), np.nan)
    labels[:, 0] = [1, 0, 1, 0]
    labels[3, 1] = 1
    probabilities = np.full((4, len(ENDPOINTS)), 0.5)
    probabilities[:, 0] = [0.9, 0.2, 0.4, 0.6]
    sets = np.ones((4, len(ENDPOINTS), 2), dtype=bool)
    sets[2, 0] = [True, False]  # an active whose set says inactive: the one error
    scored = ScoredRecords(probabilities, np.array([0.3, 0.35, 0.7, 1.0]), np.ones(4, bool), sets, Counter())
    bands = [{"band": [0.0, 0.5], "roc_auc": 0.8}, {"band": [0.5, 1.0], "roc_auc": 0.9}]
    low, high = similarity_report(labels, scored, np.ones(4, dtype=bool), bands)
    assert (low["compounds"], low["labels"], low["cv_roc_auc"]) == (2, 2, 0.8)
    assert low["roc_auc"] == 1.0 and low["brier"] == round((0.1**2 + 0.2**2) / 2, 4)
    assert low["conformal_error"] == 0.0
    assert (high["compounds"], high["labels"]) == (2, 3)  # similarity 1.0 falls in the last band
    assert high["conformal_error"] == round(1 / 3, 4)
    assert high["roc_auc"] == 0.0  # endpoint 0's active (0.4) under its inactive (0.6); endpoint 1 one class
    assert high["brier"] == round((0.6**2 + 0.6**2 + 0.5**2) / 3, 4)
