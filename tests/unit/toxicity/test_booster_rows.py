"""LightGBM's single-row path gives `Booster.predict`'s values bit for bit, and is the path a lone
molecule takes."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from hygeia.toxicity import ENDPOINTS
from hygeia.toxicity.booster_rows import MAX_ROWS, RowPredictor, fast_rows
from hygeia.toxicity.model import ToxicityModel


def _booster(rng: np.random.Generator) -> tuple[lgb.Booster, np.ndarray]:
    x = rng.normal(size=(300, 20)).astype(np.float32)
    x[:, 5] = np.round(x[:, 5])  # repeated values land exactly on split thresholds
    y = (x[:, 0] + x[:, 5] * x[:, 1] > 0).astype(float)
    params = {"objective": "binary", "verbosity": -1, "num_threads": 1, "num_leaves": 7}
    return lgb.train(params, lgb.Dataset(x, y), num_boost_round=30), x


def test_single_rows_equal_predict_bit_for_bit() -> None:
    booster, x = _booster(np.random.default_rng(0))
    rows = RowPredictor.open(booster)
    assert rows is not None, "the installed LightGBM lacks the single-row entry points"
    probes = np.vstack([x[:40], np.zeros((1, 20), np.float32), np.full((1, 20), np.nan, np.float32)])
    added = np.full(len(probes), 0.25)
    rows.predict_into(np.ascontiguousarray(probes), added)
    assert np.array_equal(added, 0.25 + booster.predict(probes, num_threads=1))


def test_only_a_few_float32_rows_of_the_right_width_take_the_path() -> None:
    x = np.zeros((MAX_ROWS, 20), np.float32)
    assert fast_rows(x, 20) is not None and fast_rows(x[:1], 20) is not None
    assert fast_rows(np.zeros((MAX_ROWS + 1, 20), np.float32), 20) is None
    assert fast_rows(x.astype(np.float64), 20) is None  # `predict` would read float64 differently
    assert fast_rows(x, 21) is None
    strided = np.zeros((2, 40), np.float32)[:, ::2]
    assert np.array_equal(fast_rows(strided, 20), strided)  # copied to contiguous rows


def test_the_shipped_members_score_a_lone_molecule_as_predict_does(shipped_model: ToxicityModel) -> None:
    from hygeia.toxicity.molecules import prepare

    smiles = ["CCOc1ccccc1N", "Oc1ccc(cc1)C(C)(C)c1ccc(O)cc1", "ClC(Cl)(Cl)Cl", "CC(=O)Nc1ccc(O)cc1"]
    features = shipped_model.featurize([prepare(s).mol for s in smiles])  # type: ignore[union-attr]
    for member in shipped_model.members:
        assert member._rows is not None
        x = shipped_model.member_matrix(member, features)
        expected = np.column_stack([member.boosters[e].predict(x, num_threads=1) for e in ENDPOINTS])
        for n in (1, len(smiles)):
            total = np.zeros((n, len(ENDPOINTS)))
            member.add_probabilities(x[:n], total)
            assert np.array_equal(total, expected[:n])
