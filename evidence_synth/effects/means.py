"""Effect sizes from means and SDs: two independent groups and change (pre-post) designs.

Formulas follow metafor's ``escalc`` (version 4.x); the comment next to each names the
published equation metafor cites.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

TWO_GROUP_MEASURES = ("MD", "SMD", "SMDH", "ROM", "D2OR", "D2ORL", "D2ORN")
CHANGE_MEASURES = ("MC", "SMCC", "SMCR", "SMCRH")

VTYPES = {
    "MD": ("LS", "UB", "HO"),
    "SMD": ("LS", "LS2", "UB", "AV"),
    "SMDH": ("LS", "LS2"),
    "ROM": ("LS", "HO"),
    "SMCC": ("LS", "LS2", "UB"),
    "SMCR": ("LS", "LS2", "UB"),
    "SMCRH": ("LS", "LS2"),
}


def cmi(mi: np.ndarray, correct: bool = True) -> np.ndarray:
    """Exact small-sample bias correction c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)).

    Hedges (1981, eq. 6e); computed on the log scale as metafor does. ``NaN`` for m <= 1.
    With ``correct=False`` returns ones (Cohen's d instead of Hedges' g).
    """
    mi = np.asarray(mi, dtype=float)
    if not correct:
        return np.ones_like(mi)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.exp(
            special.gammaln(mi / 2) - np.log(np.sqrt(mi / 2)) - special.gammaln((mi - 1) / 2)
        )
    return np.where(mi > 1, value, np.nan)


def p_to_t(pi: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Signed two-sided p-value to t (metafor's ``.convp2t``): sign(p) * qt(|p|/2, df, upper)."""
    return np.sign(pi) * stats.t.isf(np.abs(pi) / 2, df)


def two_group_measure(
    measure: str,
    m1i: np.ndarray,
    m2i: np.ndarray,
    sd1i: np.ndarray,
    sd2i: np.ndarray,
    n1i: np.ndarray,
    n2i: np.ndarray,
    vtype: np.ndarray,
    correct: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """yi and vi for two independent groups (``m1i`` etc. refer to group 1 vs group 2)."""
    ni = n1i + n2i
    mi = ni - 2
    sdpi = np.sqrt(((n1i - 1) * sd1i**2 + (n2i - 1) * sd2i**2) / mi)
    di = (m1i - m2i) / sdpi
    if measure == "MD":
        yi = m1i - m2i
        vi = np.where(vtype == "HO", sdpi**2 * (1 / n1i + 1 / n2i), sd1i**2 / n1i + sd2i**2 / n2i)
        return yi, vi
    if measure == "SMD":
        c = cmi(mi, correct)
        yi = c * di
        weighted = np.nansum(ni * yi) / np.nansum(np.where(np.isnan(yi), np.nan, ni))
        ls = 1 / n1i + 1 / n2i + yi**2 / (2 * ni)  # Hedges (1982c, eq. 8); Hedges & Olkin (1985)
        ls2 = c**2 * (1 / n1i + 1 / n2i + di**2 / (2 * ni))  # Borenstein (2009, eq. 12.17)
        ub = 1 / n1i + 1 / n2i + (1 - (mi - 2) / (mi * c**2)) * yi**2  # Hedges (1983b, eq. 9)
        avg = 1 / n1i + 1 / n2i + weighted**2 / (2 * ni)
        vi = np.select([vtype == "LS2", vtype == "UB", vtype == "AV"], [ls2, ub, avg], ls)
        return yi, vi
    if measure == "SMDH":  # Bonett (2008a, eq. 8; 2009, eq. 5)
        c = cmi(mi, correct)
        sdh = np.sqrt((sd1i**2 + sd2i**2) / 2)
        yi = c * (m1i - m2i) / sdh
        # metafor (<= 4.8 and its test suite) multiplies the LS variance by c(m)^2; the 2025
        # development source drops that factor. We follow the released, tested behaviour.
        ls = c**2 * (
            yi**2 * (sd1i**4 / (n1i - 1) + sd2i**4 / (n2i - 1)) / (8 * sdh**4)
            + (sd1i**2 / (n1i - 1) + sd2i**2 / (n2i - 1)) / sdh**2
        )
        ls2 = (
            sd1i**2 / (n1i * sdh**2)
            + sd2i**2 / (n2i * sdh**2)
            + yi**2 / (8 * sdh**4) * (sd1i**4 / n1i + sd2i**4 / n2i)
        )
        return yi, np.where(vtype == "LS2", ls2, ls)
    if measure == "ROM":
        with np.errstate(invalid="ignore", divide="ignore"):
            yi = np.log(m1i / m2i)
        ls = sd1i**2 / (n1i * m1i**2) + sd2i**2 / (n2i * m2i**2)
        ho = sdpi**2 / (n1i * m1i**2) + sdpi**2 / (n2i * m2i**2)
        return yi, np.where(vtype == "HO", ho, ls)
    vd = 1 / n1i + 1 / n2i + di**2 / (2 * ni)
    if measure in ("D2OR", "D2ORL"):  # logistic distribution: Hasselblad & Hedges (1995)
        return np.pi / np.sqrt(3) * di, np.pi**2 / 3 * vd
    # D2ORN: normal distribution, Cox & Snell (1989) factor 1.65
    return 1.65 * di, 1.65**2 * vd


def change_measure(
    measure: str,
    m1i: np.ndarray,
    m2i: np.ndarray,
    sd1i: np.ndarray,
    sd2i: np.ndarray,
    ni: np.ndarray,
    ri: np.ndarray,
    vtype: np.ndarray,
    correct: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """yi and vi for one group measured twice (m1i = post/time 2, m2i = pre/time 1 in metafor's
    convention the change is ``m1i - m2i``); ``ri`` is the pre-post correlation."""
    mi = ni - 1
    sddiff = np.sqrt(sd1i**2 + sd2i**2 - 2 * ri * sd1i * sd2i)
    if measure == "MC":
        return m1i - m2i, sddiff**2 / ni
    c = cmi(mi, correct)
    if measure == "SMCC":  # Gibbons et al. (1993, eq. 21) with ni; Viechtbauer (2007d, eq. 26)
        di = (m1i - m2i) / sddiff
        yi = c * di
        ls = 1 / ni + yi**2 / (2 * ni)
        ls2 = c**2 * (1 / ni + di**2 / (2 * ni))
        ub = 1 / ni + (1 - (mi - 2) / (mi * c**2)) * yi**2
        return yi, np.select([vtype == "LS2", vtype == "UB"], [ls2, ub], ls)
    di = (m1i - m2i) / sd1i
    yi = c * di
    if measure == "SMCR":  # Becker (1988a, eq. 13); Viechtbauer (2007d, eq. 37)
        ls = 2 * (1 - ri) / ni + yi**2 / (2 * ni)
        ls2 = c**2 * (2 * (1 - ri) / ni + di**2 / (2 * ni))
        with np.errstate(invalid="ignore"):
            rui = ri * hyp2f1_or_nan(0.5, 0.5, (ni - 2) / 2, 1 - ri**2)
        ub = 2 * (1 - rui) / ni + (1 - (mi - 2) / (mi * c**2)) * yi**2
        return yi, np.select([vtype == "LS2", vtype == "UB"], [ls2, ub], ls)
    # SMCRH: Bonett (2008a, eq. 13), times c(m)^2 as in released metafor (see SMDH)
    ls = c**2 * (sddiff**2 / (sd1i**2 * (ni - 1)) + yi**2 / (2 * (ni - 1)))
    ls2 = sddiff**2 / (sd1i**2 * ni) + yi**2 / (2 * ni)
    return yi, np.where(vtype == "LS2", ls2, ls)


def hyp2f1_or_nan(a: float, b: float, g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gauss hypergeometric 2F1(a, b; g; x), NaN where g <= a + b (metafor's ``.Fcalc``)."""
    g = np.asarray(g, dtype=float)
    x = np.asarray(x, dtype=float)
    value = special.hyp2f1(a, b, np.where(g > a + b, g, a + b + 1), x)
    return np.where(g > a + b, value, np.nan)
