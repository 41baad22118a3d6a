"""LightGBM's single-row prediction path, for requests of a few molecules.

`Booster.predict` builds a predictor and parses its parameters on every call (~0.1 ms of library and
Python time per call on this machine), and a molecule asked alone makes one call per member and
endpoint (36 for 2.3.0). LightGBM's C API has a path for this case: set up once per booster
(`LGBM_BoosterPredictForMatSingleRowFastInit`), then one call per row
(`LGBM_BoosterPredictForMatSingleRowFast`, ~0.04 ms for a 2.3.0 booster here, mostly its trees). The
Python package does not wrap it, so it is called through the package's own loaded library. It runs
the same predictor on the same float32 row (the feature parts are float32, which `predict` also
passes as is), so the values equal `Booster.predict`'s bit for bit (tested on the shipped model).
Where the library lacks the entry points, `RowPredictor.open` returns None and callers keep
`Booster.predict`.
"""

from __future__ import annotations

import ctypes
import weakref

import lightgbm as lgb
import numpy as np
from lightgbm import basic

_PREDICT_NORMAL = 0  # C_API_PREDICT_NORMAL: probabilities for a binary objective, as `predict`
_FLOAT32 = 0  # C_API_DTYPE_FLOAT32
# Up to this many rows, per-row calls beat one `Booster.predict` call per endpoint (2.3.0's first
# member, 12 boosters, on this slow 2-core machine: 1 row 0.45 vs 1.42 ms, 4 rows 2.2 vs 3.2 ms,
# 8 rows 4.7 vs 4.4 ms).
MAX_ROWS = 4


def _free(handle: ctypes.c_void_p) -> None:
    basic._LIB.LGBM_FastConfigFree(handle)


class RowPredictor:
    """One booster's fast single-row configuration (parameters parsed once). Not thread-safe: the
    model calls it under its native lock, like every other LightGBM call."""

    def __init__(self, booster: lgb.Booster, handle: ctypes.c_void_p, n_features: int) -> None:
        self._booster = booster  # the configuration points into it: keep it alive as long
        self._handle = handle
        self.n_features = n_features
        self._out_len = ctypes.c_int64()
        weakref.finalize(self, _free, handle)

    @classmethod
    def open(cls, booster: lgb.Booster) -> RowPredictor | None:
        init = getattr(getattr(basic, "_LIB", None), "LGBM_BoosterPredictForMatSingleRowFastInit", None)
        booster_handle = getattr(booster, "_handle", None)
        if init is None or booster_handle is None:
            return None
        n_features = booster.num_feature()
        handle = ctypes.c_void_p()
        basic._safe_call(
            init(
                booster_handle,
                ctypes.c_int(_PREDICT_NORMAL),
                ctypes.c_int(0),  # start iteration, as `predict`
                ctypes.c_int(booster.best_iteration),  # 0 = every iteration, as `predict`
                ctypes.c_int(_FLOAT32),
                ctypes.c_int32(n_features),
                basic._c_str("num_threads=1"),
                ctypes.byref(handle),
            )
        )
        return cls(booster, handle, n_features)

    def predict_into(self, rows: np.ndarray, out: np.ndarray) -> None:
        """Adds each row's probability to `out` (float64, one value per row)."""
        result = ctypes.c_double()
        for i in range(rows.shape[0]):
            basic._safe_call(
                basic._LIB.LGBM_BoosterPredictForMatSingleRowFast(
                    self._handle,
                    rows[i].ctypes.data_as(ctypes.c_void_p),
                    ctypes.byref(self._out_len),
                    ctypes.byref(result),
                )
            )
            out[i] += result.value


def fast_rows(x: np.ndarray, n_features: int) -> np.ndarray | None:
    """`x` as C-contiguous float32 rows when the single-row path applies, else None."""
    if x.ndim != 2 or x.shape[0] > MAX_ROWS or x.shape[1] != n_features or x.dtype != np.float32:
        return None
    return np.ascontiguousarray(x)
