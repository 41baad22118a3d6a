"""Frequentist and BCPNN disproportionality measures on the report-level 2x2 table.

For a drug-event pair, with reports as the unit:  a = N (drug and event), b = drug without event,
c = event without drug, d = neither. Conventions, each from a cited source:

* PRR = [a / (a + b)] / [c / (c + d)] (Evans, Waller & Davis 2001; openEBGM's processRaw; pvda).
* chi-square: Pearson's 1-df statistic *with* Yates' continuity correction, as used with the Evans
  criteria (PRR >= 2, chi2 >= 4, N >= 3) by the MHRA. The correction is capped at |O - E| exactly as
  R's chisq.test(correct = TRUE) and scipy's chi2_contingency(correction=True) do, so it never flips
  sign for near-independent tables.
* ROR = ad / bc with the Woolf (delta-method) 95% CI exp(log ROR +/- z * sqrt(1/a+1/b+1/c+1/d))
  (pvda's ror(); Rothman 2004). No Haldane 0.5 correction: a zero cell gives inf/NaN, shown as such.
* IC = log2((N + 0.5) / (E + 0.5)) with the gamma credibility interval: quantiles of
  Gamma(shape = N + 0.5, rate = E + 0.5), log2-transformed (pvda's ic(); Norén et al. 2011).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

Z_95 = 1.959963984540054  # qnorm(0.975)


@dataclass(frozen=True)
class TwoByTwo:
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    d: np.ndarray

    @classmethod
    def from_margins(
        cls, n: np.ndarray, n_drug: np.ndarray, n_event: np.ndarray, n_total: float | np.ndarray
    ) -> TwoByTwo:
        """Floats on purpose: products of FAERS-sized counts overflow int64 in a*d*(a+b)*(c+d)."""
        a = np.asarray(n, dtype=np.float64)
        b = np.asarray(n_drug, dtype=np.float64) - a
        c = np.asarray(n_event, dtype=np.float64) - a
        d = np.asarray(n_total, dtype=np.float64) - a - b - c
        return cls(a, b, c, d)


def prr(t: TwoByTwo) -> np.ndarray:
    """Proportional reporting ratio; inf when no other report has the event (openEBGM's choice)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (t.a / (t.a + t.b)) / (t.c / (t.c + t.d))


def chi_square_yates(t: TwoByTwo) -> np.ndarray:
    """Yates-corrected Pearson chi-square (1 df), identical to R's chisq.test(correct = TRUE)."""
    n = t.a + t.b + t.c + t.d
    margins = (t.a + t.b) * (t.c + t.d) * (t.a + t.c) * (t.b + t.d)
    deviation = np.abs(t.a * t.d - t.b * t.c) / n  # |O - E|, the same in all four cells
    corrected = deviation - np.minimum(0.5, deviation)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(margins > 0, corrected**2 * n**3 / margins, np.nan)


def ror_with_ci(t: TwoByTwo, z: float = Z_95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reporting odds ratio and its Woolf confidence limits."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ror = (t.a * t.d) / (t.b * t.c)
        se = np.sqrt(1.0 / t.a + 1.0 / t.b + 1.0 / t.c + 1.0 / t.d)
        log_ror = np.log(ror)
        return ror, np.exp(log_ror - z * se), np.exp(log_ror + z * se)


def gamma_quantile(shape: np.ndarray, rate: np.ndarray, probability: float) -> np.ndarray:
    """Quantile of Gamma(shape, rate), computing the expensive inverse once per distinct shape.

    Shapes are N + constant and N takes few distinct values even among 10^7 pairs, while the rate
    only rescales: Q(p; shape, rate) = Q(p; shape, 1) / rate.
    """
    unique_shape, inverse = np.unique(np.asarray(shape, dtype=np.float64), return_inverse=True)
    standard = special.gammaincinv(unique_shape, probability)
    return standard[inverse] / np.asarray(rate, dtype=np.float64)


def information_component(
    n: np.ndarray, expected: np.ndarray, shrinkage: float = 0.5, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BCPNN IC with its equal-tailed gamma credibility interval (IC025, IC975 at level 0.95)."""
    shape = np.asarray(n, dtype=np.float64) + shrinkage
    rate = np.asarray(expected, dtype=np.float64) + shrinkage
    tail = (1.0 - level) / 2.0
    ic = np.log2(shape / rate)
    lower = np.log2(gamma_quantile(shape, rate, tail))
    upper = np.log2(gamma_quantile(shape, rate, 1.0 - tail))
    return ic, lower, upper
