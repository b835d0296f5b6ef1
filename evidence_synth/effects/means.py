"""Effect sizes from means and SDs: two independent groups and change (pre-post) designs.

Formulas follow metafor's ``escalc`` (version 4.x); the comment next to each names the
published equation metafor cites.
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .inputs import Problems, below, check_rows, not_correlation, not_p, not_positive
from .measure import Arrays, Family, Measure, Options, Result


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


def hyp2f1_or_nan(a: float, b: float, g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gauss hypergeometric 2F1(a, b; g; x), NaN where g <= a + b (metafor's ``.Fcalc``)."""
    g = np.asarray(g, dtype=float)
    x = np.asarray(x, dtype=float)
    value = special.hyp2f1(a, b, np.where(g > a + b, g, a + b + 1), x)
    return np.where(g > a + b, value, np.nan)


def _nan(k: int) -> np.ndarray:
    return np.full(k, np.nan)


# --------------------------------------------------------------------------- two groups


def _prepare_two_groups(
    problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
) -> Arrays:
    """Check means, SDs and sizes; for ``from_statistics`` measures turn d, t or p into
    standardised means (d vs 0 with unit SDs) where means are missing."""
    from_stats = measure.from_statistics
    has_means = all(n in a for n in ("m1i", "m2i", "sd1i", "sd2i"))
    if not has_means and not (from_stats and any(n in a for n in ("di", "ti", "pi"))):
        alternatives = " (or di, ti or pi)" if from_stats else ""
        for name in ("m1i", "m2i", "sd1i", "sd2i"):
            if name not in a:
                problems.add(None, name, None, f"a value{alternatives}")
    check_rows(
        problems,
        a,
        {
            "n1i": (below(2), ">= 2 (group size)"),
            "n2i": (below(2), ">= 2 (group size)"),
            "sd1i": (not_positive, "> 0 (a standard deviation)"),
            "sd2i": (not_positive, "> 0 (a standard deviation)"),
            "pi": (not_p, "a two-sided p-value with 0 < |p| <= 1 (sign = direction)"),
        },
    )
    problems.raise_if_any()
    n1i, n2i = a["n1i"], a["n2i"]
    m1i, m2i, sd1i, sd2i = (a.get(n, _nan(k)).copy() for n in ("m1i", "m2i", "sd1i", "sd2i"))
    if from_stats:
        with np.errstate(invalid="ignore"):
            ti = a.get("ti", _nan(k)).copy()
            if "pi" in a:
                ti = np.where(np.isnan(ti), p_to_t(a["pi"], n1i + n2i - 2), ti)
            d = a.get("di", _nan(k)).copy()
            d = np.where(np.isnan(d), ti * np.sqrt(1 / n1i + 1 / n2i), d)
        use = ~np.isnan(d)
        m1i[use], m2i[use], sd1i[use], sd2i[use] = d[use], 0.0, 1.0, 1.0
    return {"m1i": m1i, "m2i": m2i, "sd1i": sd1i, "sd2i": sd2i, "n1i": n1i, "n2i": n2i}


TWO_GROUPS = Family(
    "two_group",
    arguments="m1i, m2i, sd1i, sd2i, n1i, n2i",
    provides=("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"),
    prepare=_prepare_two_groups,
    requires=("n1i", "n2i"),
)


def _pooled_sd(sd1i: np.ndarray, sd2i: np.ndarray, n1i: np.ndarray, n2i: np.ndarray
               ) -> np.ndarray:
    mi = n1i + n2i - 2
    return np.sqrt(((n1i - 1) * sd1i**2 + (n2i - 1) * sd2i**2) / mi)


def _mean_difference(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                     n1i: np.ndarray, n2i: np.ndarray, vtype: np.ndarray) -> Result:
    sdpi = _pooled_sd(sd1i, sd2i, n1i, n2i)
    vi = np.where(vtype == "HO", sdpi**2 * (1 / n1i + 1 / n2i), sd1i**2 / n1i + sd2i**2 / n2i)
    return m1i - m2i, vi


def _smd(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
         n1i: np.ndarray, n2i: np.ndarray, vtype: np.ndarray, correct: bool) -> Result:
    ni = n1i + n2i
    mi = ni - 2
    di = (m1i - m2i) / _pooled_sd(sd1i, sd2i, n1i, n2i)
    c = cmi(mi, correct)
    yi = c * di
    weighted = np.nansum(ni * yi) / np.nansum(np.where(np.isnan(yi), np.nan, ni))
    ls = 1 / n1i + 1 / n2i + yi**2 / (2 * ni)  # Hedges (1982c, eq. 8); Hedges & Olkin (1985)
    ls2 = c**2 * (1 / n1i + 1 / n2i + di**2 / (2 * ni))  # Borenstein (2009, eq. 12.17)
    ub = 1 / n1i + 1 / n2i + (1 - (mi - 2) / (mi * c**2)) * yi**2  # Hedges (1983b, eq. 9)
    avg = 1 / n1i + 1 / n2i + weighted**2 / (2 * ni)
    vi = np.select([vtype == "LS2", vtype == "UB", vtype == "AV"], [ls2, ub, avg], ls)
    return yi, vi


def _smd_heteroscedastic(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray,
                         sd2i: np.ndarray, n1i: np.ndarray, n2i: np.ndarray,
                         vtype: np.ndarray, correct: bool) -> Result:
    """Bonett (2008a, eq. 8; 2009, eq. 5)."""
    c = cmi(n1i + n2i - 2, correct)
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


def _ratio_of_means(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                    n1i: np.ndarray, n2i: np.ndarray, vtype: np.ndarray) -> Result:
    sdpi = _pooled_sd(sd1i, sd2i, n1i, n2i)
    yi = np.log(m1i / m2i)
    ls = sd1i**2 / (n1i * m1i**2) + sd2i**2 / (n2i * m2i**2)
    ho = sdpi**2 / (n1i * m1i**2) + sdpi**2 / (n2i * m2i**2)
    return yi, np.where(vtype == "HO", ho, ls)


def _d_and_variance(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                    n1i: np.ndarray, n2i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cohen's d and its large-sample variance."""
    ni = n1i + n2i
    di = (m1i - m2i) / _pooled_sd(sd1i, sd2i, n1i, n2i)
    return di, 1 / n1i + 1 / n2i + di**2 / (2 * ni)


def _d_to_or_logistic(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                      n1i: np.ndarray, n2i: np.ndarray) -> Result:
    """Logistic distribution: Hasselblad & Hedges (1995)."""
    di, vd = _d_and_variance(m1i, m2i, sd1i, sd2i, n1i, n2i)
    return np.pi / np.sqrt(3) * di, np.pi**2 / 3 * vd


def _d_to_or_normal(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                    n1i: np.ndarray, n2i: np.ndarray) -> Result:
    """Normal distribution: Cox & Snell (1989) factor 1.65."""
    di, vd = _d_and_variance(m1i, m2i, sd1i, sd2i, n1i, n2i)
    return 1.65 * di, 1.65**2 * vd


# --------------------------------------------------------------------------- change


def _prepare_change(
    problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
) -> Arrays:
    check_rows(
        problems,
        a,
        {
            "ni": (below(2), ">= 2 (sample size)"),
            "sd1i": (not_positive, "> 0 (a standard deviation)"),
            "sd2i": (not_positive, "> 0 (a standard deviation)"),
            "ri": (not_correlation, "a correlation in [-1, 1]"),
        },
    )
    problems.raise_if_any()
    names = ("m1i", "m2i", "sd1i", "ni", "ri")
    return {**{n: a[n] for n in names}, "sd2i": a.get("sd2i", _nan(k))}


CHANGE = Family(
    "change",
    arguments="m1i, m2i, sd1i, ni, ri",
    provides=("m1i", "m2i", "sd1i", "sd2i", "ni", "ri"),
    prepare=_prepare_change,
    requires=("m1i", "m2i", "sd1i", "ni", "ri"),
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
    (2007d, eq. 37)."""
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
    """Bonett (2008a, eq. 13), times c(m)^2 as in released metafor (see SMDH)."""
    c = cmi(ni - 1, correct)
    yi = c * ((m1i - m2i) / sd1i)
    sddiff = _change_sd(sd1i, sd2i, ri)
    ls = c**2 * (sddiff**2 / (sd1i**2 * (ni - 1)) + yi**2 / (2 * (ni - 1)))
    ls2 = sddiff**2 / (sd1i**2 * ni) + yi**2 / (2 * ni)
    return yi, np.where(vtype == "LS2", ls2, ls)


_SD2 = ("sd2i",)

#: The measures of two groups and of change, in catalogue order.
MEASURES = (
    Measure("MD", TWO_GROUPS, _mean_difference, "raw mean difference", ("LS", "UB", "HO")),
    Measure("SMD", TWO_GROUPS, _smd, "standardised mean difference (Hedges' g)",
            ("LS", "LS2", "UB", "AV"), from_statistics=True),
    Measure("SMDH", TWO_GROUPS, _smd_heteroscedastic,
            "SMD with heteroscedastic SDs (Bonett)", ("LS", "LS2")),
    Measure("ROM", TWO_GROUPS, _ratio_of_means, "log ratio of means", ("LS", "HO")),
    Measure("D2OR", TWO_GROUPS, _d_to_or_logistic, "alias of D2ORL", from_statistics=True),
    Measure("D2ORL", TWO_GROUPS, _d_to_or_logistic, "SMD to log odds ratio (logistic)",
            from_statistics=True),
    Measure("D2ORN", TWO_GROUPS, _d_to_or_normal, "SMD to log odds ratio (normal)",
            from_statistics=True),
    Measure("MC", CHANGE, _mean_change, "raw mean change", requires=_SD2),
    Measure("SMCC", CHANGE, _smcc, "standardised mean change (change-score SD)",
            ("LS", "LS2", "UB"), requires=_SD2),
    Measure("SMCR", CHANGE, _smcr, "standardised mean change (raw-score SD)",
            ("LS", "LS2", "UB")),
    Measure("SMCRH", CHANGE, _smcr_heteroscedastic,
            "standardised mean change (raw-score SD, heteroscedastic)", ("LS", "LS2"),
            requires=_SD2),
)
