"""Effect sizes of one group measured twice, or of matched pairs (metafor's ``MC``,
``SMCC``, ``SMCR``, ``ROMC``, ``VRC``, ... measures): means ``m1i``, ``m2i`` and SDs
``sd1i``, ``sd2i`` at the two occasions, the sample size ``ni`` and the correlation ``ri``
between the occasions. The change is ``m1i - m2i``.

Formulas follow metafor 5.x's ``escalc``; each docstring names the published equation.
"""

from __future__ import annotations

import numpy as np

from .inputs import Problems, below, check_rows, not_correlation, not_p, not_positive
from .means import cmi, hyp2f1_or_nan, nan_array, statistics_to_d
from .measure import Arrays, Family, Measure, Options, Result

_ARGS = ("m1i", "m2i", "sd1i", "sd2i", "ri")
_STATISTICS = ("di", "ti", "pi")


def _prepare_change(
    problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
) -> Arrays:
    """Check the inputs; for ``SMCC`` turn d, t or a signed p (paired t-test, df = ni - 1)
    into a standardised change (d vs 0, unit SDs, r = 0.5) where the means are missing."""
    from_stats = measure.from_statistics and any(n in a for n in _STATISTICS)
    if measure.from_statistics and not from_stats:
        for name in _ARGS:
            if name not in a:
                problems.add(None, name, None, "a value (or di, ti or pi)")
    check_rows(
        problems,
        a,
        {
            "ni": (below(2), ">= 2 (sample size)"),
            "sd1i": (not_positive, "> 0 (a standard deviation)"),
            "sd2i": (not_positive, "> 0 (a standard deviation)"),
            "ri": (not_correlation, "a correlation in [-1, 1]"),
            "pi": (not_p, "a two-sided p-value with 0 < |p| <= 1 (sign = direction)"),
        },
    )
    problems.raise_if_any()
    ni = a["ni"]
    out = {n: a.get(n, nan_array(k)).copy() for n in _ARGS}
    if from_stats:
        d = statistics_to_d(a, k, ni - 1, np.sqrt(1 / ni))
        use = ~np.isnan(d)
        for name, value in zip(_ARGS, (d, 0.0, 1.0, 1.0, 0.5), strict=True):
            out[name][use] = value[use] if isinstance(value, np.ndarray) else value
    return {**out, "ni": ni}


CHANGE = Family(
    "change",
    arguments="ni",
    provides=("m1i", "m2i", "sd1i", "sd2i", "ni", "ri"),
    prepare=_prepare_change,
    requires=("ni",),
    alternative=_ARGS,
)


def _change_sd(sd1i: np.ndarray, sd2i: np.ndarray, ri: np.ndarray) -> np.ndarray:
    return np.sqrt(sd1i**2 + sd2i**2 - 2 * ri * sd1i * sd2i)


def _mean_change(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                 ni: np.ndarray, ri: np.ndarray) -> Result:
    return m1i - m2i, _change_sd(sd1i, sd2i, ri) ** 2 / ni


def _smcc(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
          ni: np.ndarray, ri: np.ndarray, vtype: np.ndarray, correct: bool) -> Result:
    """Change standardised by the SD of the change: Gibbons et al. (1993, eq. 21) with ni;
    Viechtbauer (2007d, eq. 26)."""
    mi = ni - 1
    c = cmi(mi, correct)
    di = (m1i - m2i) / _change_sd(sd1i, sd2i, ri)
    yi = c * di
    ls = 1 / ni + yi**2 / (2 * ni)
    ls2 = c**2 * (1 / ni + di**2 / (2 * ni))
    ub = 1 / ni + (1 - (mi - 2) / (mi * c**2)) * yi**2
    return yi, np.select([vtype == "LS2", vtype == "UB"], [ls2, ub], ls)


def _smcr(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, ni: np.ndarray, ri: np.ndarray,
          vtype: np.ndarray, correct: bool) -> Result:
    """Change standardised by the raw (time 1) SD: Becker (1988a, eq. 13); Viechtbauer
    (2007d, eq. 37) for UB."""
    mi = ni - 1
    c = cmi(mi, correct)
    di = (m1i - m2i) / sd1i
    yi = c * di
    ls = 2 * (1 - ri) / ni + yi**2 / (2 * ni)
    ls2 = c**2 * (2 * (1 - ri) / ni + di**2 / (2 * ni))
    rui = ri * hyp2f1_or_nan(0.5, 0.5, (ni - 2) / 2, 1 - ri**2)
    ub = 2 * (1 - rui) / ni + (1 - (mi - 2) / (mi * c**2)) * yi**2
    return yi, np.select([vtype == "LS2", vtype == "UB"], [ls2, ub], ls)


def _smcr_heteroscedastic(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray,
                          sd2i: np.ndarray, ni: np.ndarray, ri: np.ndarray,
                          vtype: np.ndarray, correct: bool) -> Result:
    """Bonett (2008a, eq. 13) with the bias-corrected yi, as metafor >= 4.6 (3.8 also
    multiplied the LS variance by c(m)^2)."""
    yi = cmi(ni - 1, correct) * ((m1i - m2i) / sd1i)
    sddiff2 = _change_sd(sd1i, sd2i, ri) ** 2
    ls = sddiff2 / (sd1i**2 * (ni - 1)) + yi**2 / (2 * (ni - 1))
    ls2 = sddiff2 / (sd1i**2 * ni) + yi**2 / (2 * ni)
    return yi, np.where(vtype == "LS2", ls2, ls)


def _pooled_change(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                   ni: np.ndarray, ri: np.ndarray, correct: bool) -> tuple[np.ndarray, ...]:
    """yi standardised by the SD pooled over both occasions, with c(m) at
    m = 2 (ni - 1) / (1 + ri^2) (Cousineau 2020); returns yi and the pooled SD."""
    sdpi = np.sqrt((sd1i**2 + sd2i**2) / 2)
    return cmi(2 * (ni - 1) / (1 + ri**2), correct) * (m1i - m2i) / sdpi, sdpi


def _smcrp(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
           ni: np.ndarray, ri: np.ndarray, correct: bool) -> Result:
    """Raw-score standardisation with the pooled SD (Cousineau 2020, eq. 2)."""
    yi, _ = _pooled_change(m1i, m2i, sd1i, sd2i, ni, ri, correct)
    return yi, 2 * (1 - ri) / ni + yi**2 * (1 + ri**2) / (4 * ni)


def _smcrph(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
            ni: np.ndarray, ri: np.ndarray, vtype: np.ndarray, correct: bool) -> Result:
    """Pooled-SD standardisation allowing unequal variances (Bonett 2008a, eq. 10); LS2
    replaces ni - 1 by ni."""
    yi, sdpi = _pooled_change(m1i, m2i, sd1i, sd2i, ni, ri, correct)
    sddiff2 = _change_sd(sd1i, sd2i, ri) ** 2
    quartic = sd1i**4 + sd2i**4 + 2 * ri**2 * sd1i**2 * sd2i**2
    n = np.where(vtype == "LS2", ni, ni - 1)
    return yi, sddiff2 / (sdpi**2 * n) + yi**2 * quartic / (8 * sdpi**4 * n)


def _romc(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
          ni: np.ndarray, ri: np.ndarray) -> Result:
    """Log ratio of means of dependent samples (Lajeunesse 2011, eq. 6)."""
    vi = sd1i**2 / (ni * m1i**2) + sd2i**2 / (ni * m2i**2) - 2 * ri * sd1i * sd2i / (m1i * m2i * ni)
    return np.log(m1i / m2i), vi


def _cvrc(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
          ni: np.ndarray, ri: np.ndarray) -> Result:
    """Log coefficient-of-variation ratio of dependent samples."""
    yi = np.log(sd1i / m1i) - np.log(sd2i / m2i)
    vi = (1 - ri**2) / (ni - 1) + (
        m1i**2 * sd2i**2 + m2i**2 * sd1i**2 - 2 * m1i * m2i * ri * sd1i * sd2i
    ) / (m1i**2 * m2i**2 * ni)
    return yi, vi


def _vrc(sd1i: np.ndarray, sd2i: np.ndarray, ni: np.ndarray, ri: np.ndarray) -> Result:
    """Log variability ratio of dependent samples."""
    return np.log(sd1i / sd2i), (1 - ri**2) / (ni - 1)


#: The measures of change (dependent samples), in catalogue order.
MEASURES = (
    Measure("MC", CHANGE, _mean_change, "raw mean change", requires=_ARGS),
    Measure("SMCC", CHANGE, _smcc, "standardised mean change (change-score SD)",
            ("LS", "LS2", "UB"), from_statistics=True),
    Measure("SMCR", CHANGE, _smcr, "standardised mean change (raw-score SD)",
            ("LS", "LS2", "UB"), requires=("m1i", "m2i", "sd1i", "ri")),
    Measure("SMCRH", CHANGE, _smcr_heteroscedastic,
            "standardised mean change (raw-score SD, heteroscedastic)", ("LS", "LS2"),
            requires=_ARGS),
    Measure("SMCRP", CHANGE, _smcrp, "standardised mean change (pooled raw-score SD)",
            requires=_ARGS),
    Measure("SMCRPH", CHANGE, _smcrph,
            "standardised mean change (pooled raw-score SD, heteroscedastic)",
            ("LS", "LS2"), requires=_ARGS),
    Measure("ROMC", CHANGE, _romc, "log ratio of means (dependent samples)", requires=_ARGS),
    Measure("CVRC", CHANGE, _cvrc, "log CV ratio (dependent samples)", requires=_ARGS),
    Measure("VRC", CHANGE, _vrc, "log variability ratio (dependent samples)",
            requires=("sd1i", "sd2i", "ri")),
)
