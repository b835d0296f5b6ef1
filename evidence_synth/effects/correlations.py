"""Correlation measures: raw, bias-corrected, Fisher-z, partial and semi-partial.

Formulas follow metafor's ``escalc`` (version 4.x).
"""

from __future__ import annotations

import numpy as np

from .means import hyp2f1_or_nan

CORRELATION_MEASURES = ("COR", "UCOR", "ZCOR")
PARTIAL_MEASURES = ("PCOR", "ZPCOR", "SPCOR", "ZSPCOR")

VTYPES = {
    "COR": ("LS", "AV"),
    "UCOR": ("LS", "UB", "AV"),
    "PCOR": ("LS", "AV"),
    "SPCOR": ("LS", "AV"),
    "ZSPCOR": ("LS", "AV"),
}


def _weighted_mean(yi: np.ndarray, ni: np.ndarray) -> float:
    ok = ~(np.isnan(yi) | np.isnan(ni))
    return float(np.sum(ni[ok] * yi[ok]) / np.sum(ni[ok])) if ok.any() else np.nan


def correlation_measure(
    measure: str, ri: np.ndarray, ni: np.ndarray, vtype: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """COR, UCOR (Olkin & Pratt 1958 unbiased r) and ZCOR (Fisher 1921)."""
    if measure == "ZCOR":
        with np.errstate(divide="ignore"):
            yi = np.arctanh(ri)
            vi = 1 / (ni - 3)
        return yi, np.where(ni <= 3, np.nan, vi)
    if measure == "UCOR":
        yi = ri * hyp2f1_or_nan(0.5, 0.5, (ni - 2) / 2, 1 - ri**2)
    else:
        yi = ri.copy()
    mean = _weighted_mean(yi, ni)
    ls = (1 - yi**2) ** 2 / (ni - 1)
    avg = (1 - mean**2) ** 2 / (ni - 1)
    ub = yi**2 - (1 - (ni - 3) / (ni - 2) * (1 - ri**2) * hyp2f1_or_nan(1, 1, ni / 2, 1 - ri**2))
    vi = np.select([vtype == "UB", vtype == "AV"], [ub, avg], ls)
    return yi, np.where(ni <= 3, np.nan, vi)


def partial_measure(
    measure: str,
    ri: np.ndarray,
    ni: np.ndarray,
    mi: np.ndarray,
    r2i: np.ndarray | None,
    vtype: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Partial (PCOR, ZPCOR) and semi-partial (SPCOR, ZSPCOR) correlations.

    ``mi`` is the number of predictors in the regression besides the focal one, so the
    residual df of the t-test is ``ni - mi - 1``. PCOR: vi = (1 - r^2)^2 / (ni - mi)
    (metafor >= 4.0; earlier versions divided by ni - mi - 1). ZPCOR: vi = 1 / (ni - mi - 2).
    SPCOR (Aloe & Becker 2012): vi = (R^4 - 2R^2 + (R^2 - sr^2) + 1 - (R^2 - sr^2)^2) / ni
    with R^2 of the full model. ZSPCOR: Fisher z of SPCOR with delta-method variance.
    """
    if measure == "ZPCOR":
        return np.arctanh(ri), 1 / (ni - mi - 2)
    yi = ri.copy()
    mean = _weighted_mean(yi, ni)
    if measure == "PCOR":
        ls = (1 - yi**2) ** 2 / (ni - mi)
        avg = (1 - mean**2) ** 2 / (ni - mi)
        return yi, np.where(vtype == "AV", avg, ls)

    def _sp(r: np.ndarray | float) -> np.ndarray:
        return (r2i**2 - 2 * r2i + (r2i - r**2) + 1 - (r2i - r**2) ** 2) / ni

    vi = np.where(vtype == "AV", _sp(mean), _sp(yi))
    if measure == "ZSPCOR":
        vi = vi / (1 - np.minimum(yi**2, 1)) ** 2
        yi = np.arctanh(yi)
    return yi, vi
