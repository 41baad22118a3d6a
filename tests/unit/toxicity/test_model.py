"""The shipped artifact: integrity and feature-spec checks on load, calibrated predictions, explanations."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from rdkit import Chem

from hygeia.core.registry import ModelIntegrityError, write_card
from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.conformal import SMOOTHED, MondrianConformal, similarity_categories, smoothing_draws
from hygeia.toxicity.explain import explain
from hygeia.toxicity.loading import load_folder
from hygeia.toxicity.model import ToxicityModel
from hygeia.toxicity.molecules import StandardisedMolecule, prepare
from hygeia.toxicity.predictor import predict_smiles
from hygeia.toxicity.service import _prediction_key

PROBE_SMILES = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "Clc1ccc(Cl)cc1", "CCCCCCCCCCCCO", "O=C(O)c1ccccc1"]


def _writable_copy(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "model" / folder.name
    shutil.copytree(folder, target)
    return target


def _rewrite_card(folder: Path, edit) -> None:  # type: ignore[no-untyped-def]
    card = json.loads((folder / "card.json").read_text())
    edit(card)
    for key in ("artifacts", "sha256"):
        card.pop(key)
    write_card(folder, card)  # hashes valid again: only the feature spec is wrong


def test_card_holds_measured_metrics(shipped_model: ToxicityModel) -> None:
    cv = shipped_model.card["metrics"]["scaffold_cv"]
    for model in ("baseline", "shipped"):
        for endpoint in ENDPOINTS:
            roc = cv[model]["endpoints"][endpoint]["roc_auc"]
            assert 0.5 < roc["mean"] <= 1.0 and len(roc["folds"]) == 5
    assert (
        cv["shipped"]["mean_over_endpoints"]["roc_auc"]["mean"]
        > cv["baseline"]["mean_over_endpoints"]["roc_auc"]["mean"]
    )
    for endpoint in ENDPOINTS:
        assert (
            len(shipped_model.card["metrics"]["calibration"][endpoint]["reliability_calibrated_cross_fitted"])
            == 10
        )


def test_tampered_file_is_refused(shipped_folder: Path, tmp_path: Path) -> None:
    folder = _writable_copy(shipped_folder, tmp_path)
    (folder / "calibration.json").write_text("{}")
    with pytest.raises(ModelIntegrityError, match="modified"):
        load_folder(folder)


def test_feature_spec_mismatch_is_refused(shipped_folder: Path, tmp_path: Path) -> None:
    folder = _writable_copy(shipped_folder, tmp_path)

    def shrink_fingerprint(card: dict) -> None:  # type: ignore[type-arg]
        part = card["feature_spec"]["members"]["morgan_maccs_desc"]["params"]["parts"][0]
        part["params"]["size"] = part["dimension"] = 1024

    _rewrite_card(folder, shrink_fingerprint)
    with pytest.raises(ModelIntegrityError, match=r"feature spec mismatch.*dimension"):
        load_folder(folder)


def test_spec_that_disagrees_with_the_trees_is_refused(shipped_folder: Path, tmp_path: Path) -> None:
    """A self-consistent but wrong spec (smaller fingerprint) still fails: the trees expect more columns."""
    folder = _writable_copy(shipped_folder, tmp_path)
    trained: list[int] = []

    def shrink_consistently(card: dict) -> None:  # type: ignore[type-arg]
        spec = card["feature_spec"]["members"]["morgan_maccs_desc"]
        trained.append(spec["dimension"])  # 2,048 Morgan + 167 MACCS + the card's descriptor count
        spec["params"]["parts"][0]["params"]["size"] = spec["params"]["parts"][0]["dimension"] = 1024
        spec["dimension"] -= 1024

    _rewrite_card(folder, shrink_consistently)
    with pytest.raises(ModelIntegrityError, match=f"LightGBM model has {trained[0]} features"):
        load_folder(folder)


def test_featurizer_version_mismatch_is_refused(shipped_folder: Path, tmp_path: Path) -> None:
    folder = _writable_copy(shipped_folder, tmp_path)

    def bump(card: dict) -> None:  # type: ignore[type-arg]
        card["feature_spec"]["applicability_domain"]["version"] = "99"

    _rewrite_card(folder, bump)
    with pytest.raises(ModelIntegrityError, match="feature spec mismatch"):
        load_folder(folder)


def test_predictions_are_probabilities_in_input_order(shipped_model: ToxicityModel) -> None:
    given = ["CC(=O)Oc1ccccc1C(=O)O", "C1CC", "[Na+].CC(=O)[O-]", "CCCC[Sn](CCCC)(CCCC)Cl", "c1ccccc1"]
    rows = predict_smiles(shipped_model, given)
    assert [r.smiles for r in rows] == given
    assert [r.error_code for r in rows] == [None, "unparseable", None, "disallowed_element", None]
    for row in (rows[0], rows[2], rows[4]):
        assert row.probabilities is not None and list(row.probabilities) == list(ENDPOINTS)
        assert all(0.0 <= p <= 1.0 for p in row.probabilities.values())
        assert row.nearest_similarity is not None and 0.0 <= row.nearest_similarity <= 1.0
    assert rows[4].nearest_similarity == 1.0 and rows[4].in_domain  # benzene is in Tox21


def test_salt_and_parent_score_the_same(shipped_model: ToxicityModel) -> None:
    salt, parent = predict_smiles(shipped_model, ["Cc1ccccc1N.Cl", "Cc1ccccc1N"])
    assert salt.probabilities == parent.probabilities


def test_known_training_actives_rank_above_base_rate(shipped_model: ToxicityModel) -> None:
    """Sanity on compounds Tox21 reports active; they are training data, so not a generalisation test."""
    cases = {
        "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1": "NR-ER",  # bisphenol A
        "C[C@]12CC[C@H]3[C@@H](CCC4=CC(=O)CC[C@@]43C)[C@@H]1CC[C@@H]2C(=O)CO": "NR-AR",  # deoxycorticosterone
        "Nc1ccc(/N=N/c2ccccc2)cc1": "NR-AhR",  # 4-aminoazobenzene
    }
    stats = shipped_model.card["training_data"]["per_endpoint"]
    rows = predict_smiles(shipped_model, list(cases))
    for row, endpoint in zip(rows, cases.values(), strict=True):
        base_rate = stats[endpoint]["active"] / stats[endpoint]["tested"]
        assert row.probabilities is not None
        assert row.probabilities[endpoint] > 2 * base_rate, (row.smiles, endpoint)


def test_explanation_maps_contributions_to_atoms(shipped_model: ToxicityModel) -> None:
    prepared = prepare("CC(C)(c1ccc(O)cc1)c1ccc(O)cc1")
    assert isinstance(prepared, StandardisedMolecule)
    result = explain(shipped_model, prepared.mol, "NR-ER")
    assert len(result.atom_contributions) == prepared.mol.GetNumAtoms()
    assert sum(result.atom_contributions) == pytest.approx(result.substructure_total, abs=1e-3)
    assert result.svg.startswith("<?xml") and "<svg" in result.svg
    with pytest.raises(ValueError, match="unknown endpoint"):
        explain(shipped_model, prepared.mol, "NR-XYZ")


def test_explanation_total_matches_member_log_odds(shipped_model: ToxicityModel) -> None:
    """TreeSHAP is exact: base value + atom part + descriptor part = the member's raw log-odds."""
    mol = Chem.MolFromSmiles("Oc1ccc(Cl)cc1Cl")
    result = explain(shipped_model, mol, "SR-ARE")
    member, _, _ = shipped_model.explain_member()
    x = shipped_model.member_matrix(member, shipped_model.featurize([mol]))
    raw = member.boosters["SR-ARE"].predict(x, raw_score=True)[0]
    total = (
        result.expected_value
        + result.substructure_total
        + result.absent_substructure_total
        + result.whole_molecule_total
    )
    assert total == pytest.approx(raw, abs=1e-4)


def test_shipped_calibration_keeps_hundreds_of_scores_distinct(shipped_model: ToxicityModel) -> None:
    """Issue 12: isotonic steps mapped ~550 molecules onto ~21 values. Every endpoint of the served
    model must map 400 distinct raw scores over the range real scores take onto 400 increasing values."""
    probe = np.sort(np.random.default_rng(0).uniform(0.001, 0.6, size=400))
    for endpoint, calibrator in shipped_model.calibrators.items():
        out = calibrator(probe)
        assert np.unique(out).size == probe.size, endpoint
        assert (np.diff(out) > 0).all(), endpoint


def test_shipped_model_blends_network_and_gives_conformal_sets(shipped_model: ToxicityModel) -> None:
    assert shipped_model.networks, "2.0 ships the multitask network member"
    assert shipped_model.graphs, "2.3 ships the graph network member"
    assert 0.0 < shipped_model.network_weight < 1.0
    assert len(shipped_model.conformal) == len(ENDPOINTS)
    # per class, measured on scaffold CV in the training run: within the larger of 0.03 and two binomial
    # standard errors of the class (165 NR-PPAR-gamma actives: 0.188 in 2.12.0, 0.176 in 2.11.0,
    # 0.164 (1.2 SE) in 2.10.0)
    validity = shipped_model.card["conformal"]["validity_cross_fitted"]["0.2"]["endpoints"]
    for endpoint, calibration in zip(ENDPOINTS, shipped_model.conformal, strict=True):
        for name in ("inactive", "active"):
            count = sum(len(getattr(cell, name)) for cell in calibration.categories)
            gap = abs(validity[endpoint][f"error_{name}"] - 0.2)
            assert gap <= _tolerance(0.2, count, 0.03), (endpoint, name)
    rows = predict_smiles(shipped_model, ["Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1", "CCO"])
    for row in rows:
        assert row.prediction_sets is not None
        assert set(row.prediction_sets.values()) <= {"active", "inactive", "uncertain", "empty"}
    assert rows[1].prediction_sets is not None and rows[1].prediction_sets["SR-MMP"] != "active"


def test_shipped_conformal_sets_are_calibrated_per_similarity_category(
    shipped_model: ToxicityModel, shipped_folder: Path
) -> None:
    """2.5.0 on: a query is judged against the calibration compounds that were as far from their
    training folds as it is from the training set (the two domain sides up to 2.12.0, similarity bands
    from 2.13.0), and on CV no class errs above ε in any category by more than the larger of 0.02 and
    two binomial standard errors of its cell (class-only sets missed 36 % of 42 remote NR-AR-LBD
    actives at ε = 0.2, where this bound is 0.32; 2.6.0 misses 22.2 % of 239 in-domain NR-AR actives)."""
    stored = np.load(shipped_folder / shipped_model.card["conformal"]["file"], allow_pickle=False)
    category = similarity_categories(stored[2][:, 0], shipped_model.category_edges)
    for j, calibration in enumerate(shipped_model.conformal):
        sizes = [len(c.inactive) + len(c.active) for c in calibration.categories]
        tested = category[~np.isnan(stored[1][:, j])]
        assert sizes == np.bincount(tested, minlength=len(shipped_model.category_edges) + 1).tolist()
        assert min(sizes) > 0
    for level, validity in shipped_model.card["conformal"]["validity_cross_fitted"].items():
        eps = float(level)
        for endpoint, calibration in zip(ENDPOINTS, shipped_model.conformal, strict=True):
            row = validity["endpoints"][endpoint]
            cells = row.get("by_category", [row["out_of_domain"], row["in_domain"]])
            for errors, cell in zip(cells, calibration.categories, strict=True):
                for name, scores in (("inactive", cell.inactive), ("active", cell.active)):
                    bound = eps + _tolerance(eps, len(scores), 0.02)
                    assert errors[f"error_{name}"] <= bound, (level, endpoint, name)


def test_the_card_s_category_edges_set_the_served_categories(shipped_folder: Path, tmp_path: Path) -> None:
    """2.13.0 on: a query is calibrated against the compounds of its own similarity band, the bands the
    card names, and the stored calibration set is split the same way at load."""
    folder = _writable_copy(shipped_folder, tmp_path)
    threshold = json.loads((folder / "card.json").read_text())["applicability_domain"]["threshold"]
    edges = (threshold, 0.45, 0.6)
    _rewrite_card(folder, lambda card: card["conformal"].update(category_edges=list(edges)))
    banded = load_folder(folder)
    assert banded.category_edges == edges
    stored = np.load(folder / banded.card["conformal"]["file"], allow_pickle=False)
    category = similarity_categories(stored[2][:, 0], edges)
    features = banded.featurize([prepare(s).mol for s in PROBE_SMILES])  # type: ignore[union-attr]
    predictions = banded.score(features)
    served = predictions.prediction_sets
    assert served is not None
    query = similarity_categories(predictions.nearest_similarity, edges)
    draws = smoothing_draws(features[banded._domain_key], len(ENDPOINTS))
    scores = banded.raw_scores(features)
    for j, calibration in enumerate(banded.conformal):
        tested = ~np.isnan(stored[1][:, j])
        expected = MondrianConformal.fit(
            stored[0][tested, j].astype(float), stored[1][tested, j], category[tested], 4
        )
        assert [len(c.active) for c in calibration.categories] == [len(c.active) for c in expected.categories]
        assert np.array_equal(
            served[:, j], expected.prediction_sets(scores[:, j], query, banded.significance, draws[:, j])
        )


def test_shipped_sets_use_smoothed_p_values_drawn_per_molecule(
    shipped_model: ToxicityModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2.12.0 on: each query's τ is a hash of its own domain fingerprint. The probe scores tie with the
    calibration active just below the ε quantile of each molecule's own category, where plain
    p-values always keep 'active' in the set and smoothed ones drop it for about half the draws."""
    assert shipped_model.card["conformal"]["p_values"] == SMOOTHED and shipped_model.smoothed
    level = shipped_model.significance
    features = shipped_model.featurize([prepare(s).mol for s in PROBE_SMILES])  # type: ignore[union-attr]
    fingerprints = features[shipped_model._domain_key]
    similarity = shipped_model.domain.index.nearest(fingerprints)
    category = similarity_categories(similarity, shipped_model.category_edges)

    def near_epsilon(active: np.ndarray) -> float:
        return float(active[int(level * (len(active) + 1)) - 1])

    probe = np.array(
        [[near_epsilon(c.categories[k].active) for c in shipped_model.conformal] for k in category]
    )
    monkeypatch.setattr(shipped_model, "raw_scores", lambda _: probe)
    served = shipped_model.score(features).prediction_sets
    assert served is not None
    draws = smoothing_draws(fingerprints, len(ENDPOINTS))
    for j, calibration in enumerate(shipped_model.conformal):
        expected = calibration.prediction_sets(probe[:, j], category, level, draws[:, j])
        assert np.array_equal(served[:, j], expected)
        assert calibration.prediction_sets(probe[:, j], category, level)[:, 1].all()  # plain: active kept
    assert 0.05 < served[:, :, 1].mean() < 0.95  # smoothing dropped some actives, not all


def test_versions_that_share_their_files_keep_their_own_cached_answers(shipped_folder: Path) -> None:
    """2.12.0's files are 2.11.0's byte for byte (one sha256) but its sets differ: a cached 2.11.0
    answer must not be served as 2.12.0's."""
    newer = load_folder(shipped_folder.parent / "2.12.0")
    older = json.loads((shipped_folder.parent / "2.11.0" / "card.json").read_text())
    assert older["sha256"] == newer.sha256
    as_older = copy.copy(newer)
    as_older.version = older["version"]
    assert _prediction_key(as_older, "CCO", None) != _prediction_key(newer, "CCO", None)


def _tolerance(eps: float, count: int, floor: float) -> float:
    """How far a conformal error rate measured on `count` compounds may stray from ε: the larger of
    `floor` and two binomial standard errors."""
    return max(floor, 2 * np.sqrt(eps * (1 - eps) / count))


@pytest.mark.parametrize("weight_attribute", ["network_weight", "graph_weight"])
def test_network_members_change_the_score(shipped_model: ToxicityModel, weight_attribute: str) -> None:
    """The blend really uses each ONNX member (multitask network, graph network): dropping one changes
    the raw scores."""
    mols = [Chem.MolFromSmiles(s) for s in ("Oc1ccc(Cl)cc1Cl", "CCCCCCCCCCCCO")]
    features = shipped_model.featurize(mols)
    blended = shipped_model.raw_scores(features)
    weight = getattr(shipped_model, weight_attribute)
    setattr(shipped_model, weight_attribute, 0.0)
    try:
        without = shipped_model.raw_scores(features)
    finally:
        setattr(shipped_model, weight_attribute, weight)
    assert not np.allclose(blended, without)


def test_shipped_graph_member_has_its_fixed_weight_and_card_rows(shipped_model: ToxicityModel) -> None:
    assert len(shipped_model.graphs) == 1 and shipped_model.graph_weight == 0.25
    cv = shipped_model.card["metrics"]["scaffold_cv"]
    assert {"graph_network", "trees_and_network"} <= set(cv["members"])
    assert cv["blend"]["graph_weight"] == 0.25


def test_graph_member_with_other_descriptor_percentiles_is_refused(
    shipped_folder: Path, tmp_path: Path
) -> None:
    folder = _writable_copy(shipped_folder, tmp_path)
    card = json.loads((folder / "card.json").read_text())
    stored = folder / card["ensemble"]["graphs"][0]["descriptor_quantiles"]
    np.save(stored, np.load(stored)[:, :10], allow_pickle=False)
    _rewrite_card(folder, lambda _: None)  # hashes valid again: only the shape is wrong
    with pytest.raises(ModelIntegrityError, match="percentiles have shape"):
        load_folder(folder)
