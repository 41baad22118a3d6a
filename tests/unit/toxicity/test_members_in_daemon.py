"""A retraining job in a Celery prefork worker runs in a daemonic process, which may not start worker
processes: member fits then run one after another in that process instead of failing."""

from __future__ import annotations

import multiprocessing

import numpy as np

from hygeia.toxicity.dataset import load_tox21
from hygeia.toxicity.featurize import FEATURIZERS, featurize_many
from hygeia.toxicity.members import BASELINE, fit_member

from .test_retraining import TOX21


def test_member_fits_run_inside_a_daemonic_process() -> None:
    dataset = load_tox21(TOX21, limit=120)
    features = featurize_many(FEATURIZERS["morgan_bits"](), dataset.mols)
    labels = np.nan_to_num(dataset.labels, nan=0.0)  # every row tested: the mechanism, not a model
    config = type(BASELINE)(BASELINE.name, BASELINE.features, BASELINE.params, rounds=3)
    child = multiprocessing.get_context("spawn").Process(
        target=fit_member, args=(config, features, labels, 0), daemon=True
    )
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0
