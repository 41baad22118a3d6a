"""PRR, chi-square, ROR and IC against hand-computed tables, scipy, and pvda's documented outputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hygeia.signals import disproportionality as dp


def table(a: float, b: float, c: float, d: float) -> dp.TwoByTwo:
    return dp.TwoByTwo(*(np.array([v], dtype=float) for v in (a, b, c, d)))


def test_two_by_two_from_report_margins():
    # 1,000 reports: 10 with drug+event, 50 with the drug, 40 with the event
    t = dp.TwoByTwo.from_margins(np.array([10]), np.array([50]), np.array([40]), 1000)
    assert (t.a[0], t.b[0], t.c[0], t.d[0]) == (10, 40, 30, 920)


def test_prr_and_ror_by_hand():
    t = table(10, 40, 30, 920)
    assert dp.prr(t)[0] == pytest.approx((10 / 50) / (30 / 950))  # 6.3333...
    ror, lower, upper = dp.ror_with_ci(t)
    assert ror[0] == pytest.approx(10 * 920 / (40 * 30))
    se = np.sqrt(1 / 10 + 1 / 40 + 1 / 30 + 1 / 920)
    assert lower[0] == pytest.approx(ror[0] * np.exp(-1.959963984540054 * se))
    assert upper[0] == pytest.approx(ror[0] * np.exp(1.959963984540054 * se))


def test_pvda_documented_ror_example():
    # pvda vignette: ror(a = 10, b = 20, c = 200, d = 10000) -> 11.6, 25, 54.1
    ror, lower, upper = dp.ror_with_ci(table(10, 20, 200, 10000))
    assert ror[0] == 25
    assert round(lower[0], 1) == 11.6 and round(upper[0], 1) == 54.1
    # pvda unit test: ror(1:2, 2:3, 3:4, 4:5) point estimates
    assert dp.ror_with_ci(table(1, 2, 3, 4))[0][0] == pytest.approx(1 * 4 / (2 * 3))


def test_pvda_documented_ic_examples():
    # pvda vignette: ic(obs = 10, exp = 5) -> -0.0973, 0.933, 1.69
    ic, lower, upper = dp.information_component(np.array([10]), np.array([5.0]))
    assert round(ic[0], 3) == 0.933 and round(lower[0], 4) == -0.0973 and round(upper[0], 2) == 1.69
    # pvda unit test: ic(1, 1) == (log2(qgamma(.025, 1.5, 1.5)), 0, log2(qgamma(.975, 1.5, 1.5)))
    ic, lower, upper = dp.information_component(np.array([1]), np.array([1.0]))
    assert ic[0] == 0
    assert lower[0] == pytest.approx(np.log2(stats.gamma.ppf(0.025, 1.5, scale=1 / 1.5)), rel=1e-12)
    assert upper[0] == pytest.approx(np.log2(stats.gamma.ppf(0.975, 1.5, scale=1 / 1.5)), rel=1e-12)


def test_gamma_quantile_shares_work_across_equal_shapes():
    shape = np.array([3.5, 3.5, 7.5, 3.5])
    rate = np.array([1.0, 2.0, 0.5, 4.0])
    expected = stats.gamma.ppf(0.05, shape, scale=1 / rate)
    assert np.allclose(dp.gamma_quantile(shape, rate, 0.05), expected, rtol=1e-12)


def test_yates_chi_square_equals_scipy_on_random_tables():
    rng = np.random.default_rng(7)
    cells = rng.integers(0, 40, size=(500, 4)) + np.array([1, 1, 1, 1])
    ours = dp.chi_square_yates(dp.TwoByTwo(*(cells[:, i].astype(float) for i in range(4))))
    for row, value in zip(cells, ours, strict=True):
        expected = stats.chi2_contingency(row.reshape(2, 2), correction=True)[0]
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_zero_cells_give_inf_or_nan_not_errors():
    t = table(3, 0, 0, 100)  # every event report has the drug: PRR and ROR undefined/infinite
    assert np.isinf(dp.prr(t)[0])
    ror, _lower, _upper = dp.ror_with_ci(t)
    assert not np.isfinite(ror[0])
