"""Effect sizes of two independent groups from means, SDs and sizes (metafor's ``MD``,
``SMD``, ``ROM``, ``VR``, ... measures), and the helpers other modules share: the exact
bias correction ``cmi``, p-value to t, and a stable Gauss hypergeometric function.

Formulas follow metafor 5.x's ``escalc``; the docstring of each names the published
equation metafor cites. Where 5.x changed a formula of metafor 3.8 the docstring says so
(the full list is in ``docs/effect-sizes-and-meta-analysis.md``).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .inputs import Problems, below, check_rows, not_p, not_positive, weighted_mean
from .measure import Arrays, Family, Measure, Options, Result
from .tables import r_to_z

MEAN_ARGS = ("m1i", "m2i", "sd1i", "sd2i")
_STATISTICS = ("di", "ti", "pi")


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


_SERIES_FROM = 20.0


def hyp2f1_or_nan(a: float, b: float, g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Gauss hypergeometric 2F1(a, b; g; x) for 0 <= x <= 1, NaN where g <= a + b
    (metafor's ``.Fcalc``, which calls GSL).

    scipy's ``hyp2f1`` returns NaN for large ``g`` (large samples), so for ``g >= 20`` the
    power series is summed directly: its terms shrink at least like
    ``x (a+j)(b+j) / ((g+j)(j+1))``, which is small while ``j`` is below ``g``, so it
    converges to machine precision in a few dozen terms even at ``x = 1``.
    """
    g, x = np.broadcast_arrays(np.asarray(g, dtype=float), np.asarray(x, dtype=float))
    ok = (g > a + b) & ~np.isnan(x)
    out = np.full(g.shape, np.nan)
    small = ok & (g < _SERIES_FROM)
    out[small] = special.hyp2f1(a, b, g[small], x[small])
    big = ok & (g >= _SERIES_FROM)
    gb, xb = g[big], x[big]
    term = np.ones(gb.shape)
    total = np.ones(gb.shape)
    j = 0
    active = np.ones(gb.shape, dtype=bool)
    while active.any() and j < 100_000:
        term = np.where(active, term * (a + j) * (b + j) * xb / ((gb + j) * (j + 1)), 0.0)
        total += term
        j += 1
        active = np.abs(term) > 1e-17 * np.abs(total)
    out[big] = total
    return out


def nan_array(k: int) -> np.ndarray:
    return np.full(k, np.nan)


def statistics_to_d(a: Arrays, k: int, df: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """d from ``di``, else ``ti * scale``, else the t of a signed ``pi`` with ``df``."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ti = a.get("ti", nan_array(k)).copy()
        if "pi" in a:
            ti = np.where(np.isnan(ti), p_to_t(a["pi"], df), ti)
        d = a.get("di", nan_array(k)).copy()
        return np.where(np.isnan(d), ti * scale, d)


def _prepare_two_groups(
    problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
) -> Arrays:
    """Check means, SDs and sizes; for ``from_statistics`` measures turn d, t or p into
    standardised means (d vs 0 with unit SDs) where means are missing."""
    from_stats = measure.from_statistics and any(n in a for n in _STATISTICS)
    if measure.from_statistics and not from_stats:
        for name in MEAN_ARGS:
            if name not in a:
                problems.add(None, name, None, "a value (or di, ti or pi)")
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
    m1i, m2i, sd1i, sd2i = (a.get(n, nan_array(k)).copy() for n in MEAN_ARGS)
    if from_stats:
        d = statistics_to_d(a, k, n1i + n2i - 2, np.sqrt(1 / n1i + 1 / n2i))
        use = ~np.isnan(d)
        m1i[use], m2i[use], sd1i[use], sd2i[use] = d[use], 0.0, 1.0, 1.0
    return {"m1i": m1i, "m2i": m2i, "sd1i": sd1i, "sd2i": sd2i, "n1i": n1i, "n2i": n2i}


TWO_GROUPS = Family(
    "two_group",
    arguments="n1i, n2i",
    provides=("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i"),
    prepare=_prepare_two_groups,
    requires=("n1i", "n2i"),
    alternative=MEAN_ARGS,
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


def _standardised(m1i: np.ndarray, m2i: np.ndarray, sdpi: np.ndarray, mi: np.ndarray,
                  n1i: np.ndarray, n2i: np.ndarray, npi: np.ndarray, vtype: np.ndarray,
                  correct: bool) -> Result:
    """SMD-type yi = c(m) d and its variances (LS: Hedges 1982c, eq. 8; LS2: Borenstein
    2009, eq. 12.17; UB: Hedges 1983b, eq. 9; AV: with the size-weighted mean yi)."""
    di = (m1i - m2i) / sdpi
    c = cmi(mi, correct)
    yi = c * di
    ls = 1 / n1i + 1 / n2i + yi**2 / (2 * npi)
    ls2 = c**2 * (1 / n1i + 1 / n2i + di**2 / (2 * npi))
    ub = 1 / n1i + 1 / n2i + (1 - (mi - 2) / (mi * c**2)) * yi**2
    avg = 1 / n1i + 1 / n2i + weighted_mean(yi, n1i + n2i) ** 2 / (2 * npi)
    vi = np.select([vtype == "LS2", vtype == "UB", vtype == "AV"], [ls2, ub, avg], ls)
    return yi, vi


def _smd(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
         n1i: np.ndarray, n2i: np.ndarray, vtype: np.ndarray, correct: bool) -> Result:
    """Hedges' g with the pooled SD."""
    return _standardised(m1i, m2i, _pooled_sd(sd1i, sd2i, n1i, n2i), n1i + n2i - 2,
                         n1i, n2i, n1i + n2i, vtype, correct)


def _smd1(m1i: np.ndarray, m2i: np.ndarray, sd2i: np.ndarray, n1i: np.ndarray,
          n2i: np.ndarray, vtype: np.ndarray, correct: bool) -> Result:
    """Glass's delta: the difference standardised by the SD of group 2 (m = n2i - 1)."""
    return _standardised(m1i, m2i, sd2i, n2i - 1, n1i, n2i, n2i, vtype, correct)


def _smd1_heteroscedastic(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray,
                          sd2i: np.ndarray, n1i: np.ndarray, n2i: np.ndarray,
                          correct: bool) -> Result:
    """Bonett (2008a, eq. 12), as metafor >= 4.6 (3.8 divided by n1i, n2i, 2 n2i)."""
    yi = cmi(n2i - 1, correct) * (m1i - m2i) / sd2i
    return yi, (sd1i**2 / sd2i**2) / (n1i - 1) + 1 / (n2i - 1) + yi**2 / (2 * (n2i - 1))


def _smd_heteroscedastic(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray,
                         sd2i: np.ndarray, n1i: np.ndarray, n2i: np.ndarray,
                         vtype: np.ndarray, correct: bool) -> Result:
    """Bonett (2008a, eq. 8; 2009, eq. 5) with the bias-corrected yi plugged in and, as in
    metafor >= 4.6, without the factor c(m)^2 that 3.8 applied to the LS variance."""
    c = cmi(n1i + n2i - 2, correct)
    sdh = np.sqrt((sd1i**2 + sd2i**2) / 2)
    yi = c * (m1i - m2i) / sdh
    ls = (
        yi**2 * (sd1i**4 / (n1i - 1) + sd2i**4 / (n2i - 1)) / (8 * sdh**4)
        + (sd1i**2 / (n1i - 1) + sd2i**2 / (n2i - 1)) / sdh**2
    )
    first = sd1i**2 / (n1i * sdh**2) + sd2i**2 / (n2i * sdh**2)
    ls2 = first + yi**2 / (8 * sdh**4) * (sd1i**4 / n1i + sd2i**4 / n2i)
    ls3 = first + yi**2 / (8 * sdh**4) * (sd1i**4 / (n1i - 1) + sd2i**4 / (n2i - 1))
    return yi, np.select([vtype == "LS2", vtype == "LS3"], [ls2, ls3], ls)


def _ratio_of_means(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                    n1i: np.ndarray, n2i: np.ndarray, vtype: np.ndarray,
                    correct: bool) -> Result:
    """Log ratio of means (Hedges, Gurevitch & Curtis 1999). With ``correct=True`` (metafor
    5.x's default) the bias correction of Lajeunesse (2015, eq. 8) is added to yi:
    ``(sd1^2 / (n1 m1^2) - sd2^2 / (n2 m2^2)) / 2``; ``correct=False`` gives the plain
    log ratio of metafor <= 4.8. The variance is the delta-method one either way."""
    cv1, cv2 = sd1i / m1i, sd2i / m2i
    yi = np.log(m1i / m2i)
    if correct:
        yi = yi + (cv1**2 / n1i - cv2**2 / n2i) / 2
    sdpi = _pooled_sd(sd1i, sd2i, n1i, n2i)
    ls = cv1**2 / n1i + cv2**2 / n2i
    ho = sdpi**2 / (n1i * m1i**2) + sdpi**2 / (n2i * m2i**2)
    avg = weighted_mean(cv1, n1i) ** 2 / n1i + weighted_mean(cv2, n2i) ** 2 / n2i
    ok = ~(np.isnan(n1i) | np.isnan(n2i) | np.isnan(cv1) | np.isnan(cv2))
    pooled_cv = (np.sum((n1i * cv1)[ok]) + np.sum((n2i * cv2)[ok])) / np.sum((n1i + n2i)[ok])
    avho = pooled_cv**2 * (1 / n1i + 1 / n2i)
    vi = np.select([vtype == "HO", vtype == "AV", vtype == "AVHO"], [ho, avg, avho], ls)
    return yi, vi


def _cv_ratio(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
              n1i: np.ndarray, n2i: np.ndarray, correct: bool) -> Result:
    """Log coefficient-of-variation ratio, Nakagawa et al. (2015, eq. 12) without the
    mean-SD correlation terms; ``correct`` adds 1/(2(n-1)) per group."""
    yi = np.log(sd1i / m1i) - np.log(sd2i / m2i)
    if correct:
        yi = yi + 1 / (2 * (n1i - 1)) - 1 / (2 * (n2i - 1))
    vi = 1 / (2 * (n1i - 1)) + sd1i**2 / (n1i * m1i**2) + 1 / (2 * (n2i - 1)) \
        + sd2i**2 / (n2i * m2i**2)
    return yi, vi


def _variability_ratio(sd1i: np.ndarray, sd2i: np.ndarray, n1i: np.ndarray,
                       n2i: np.ndarray, correct: bool) -> Result:
    """Log variability ratio (Nakagawa et al. 2015, eq. 5-6)."""
    yi = np.log(sd1i / sd2i)
    if correct:
        yi = yi + 1 / (2 * (n1i - 1)) - 1 / (2 * (n2i - 1))
    return yi, 1 / (2 * (n1i - 1)) + 1 / (2 * (n2i - 1))


def _d_and_variance(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                    n1i: np.ndarray, n2i: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cohen's d and its large-sample variance."""
    ni = n1i + n2i
    di = (m1i - m2i) / _pooled_sd(sd1i, sd2i, n1i, n2i)
    return di, 1 / n1i + 1 / n2i + di**2 / (2 * ni)


def _point_biserial(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                    n1i: np.ndarray, n2i: np.ndarray, vtype: np.ndarray) -> Result:
    """Point-biserial r from d (Tate's model). LS/ST: fixed group sizes (the delta method
    of the SMD's variance); CS: cross-sectional sampling (Tate 1954, 1955b)."""
    di, vd = _d_and_variance(m1i, m2i, sd1i, sd2i, n1i, n2i)
    ni = n1i + n2i
    hi = (ni - 2) / n1i + (ni - 2) / n2i
    yi = di / np.sqrt(di**2 + hi)
    st = hi**2 / (hi + di**2) ** 3 * vd
    cs = (1 - yi**2) ** 2 * (ni * yi**2 / (4 * n1i * n2i) + (2 - 3 * yi**2) / (2 * ni))
    return yi, np.where(vtype == "CS", cs, st)


def _biserial(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
              n1i: np.ndarray, n2i: np.ndarray) -> Result:
    """Biserial r from the point-biserial r; variance of Soper (1914)."""
    rpb, _ = _point_biserial(m1i, m2i, sd1i, sd2i, n1i, n2i, np.full(n1i.shape, "LS"))
    ni = n1i + n2i
    p1, p2 = n1i / ni, n2i / ni
    zi = stats.norm.isf(p1)
    fzi = stats.norm.pdf(zi)
    yi = np.sqrt(p1 * p2) / fzi * rpb
    yt = np.where(np.abs(yi) > 1, np.sign(yi), yi)
    vi = 1 / (ni - 1) * (
        p1 * p2 / fzi**2 - (1.5 + (1 - p1 * zi / fzi) * (1 + p2 * zi / fzi)) * yt**2 + yt**4
    )
    return yi, vi


def _z_point_biserial(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                      n1i: np.ndarray, n2i: np.ndarray, vtype: np.ndarray) -> Result:
    return r_to_z(*_point_biserial(m1i, m2i, sd1i, sd2i, n1i, n2i, vtype))


def _z_biserial(m1i: np.ndarray, m2i: np.ndarray, sd1i: np.ndarray, sd2i: np.ndarray,
                n1i: np.ndarray, n2i: np.ndarray) -> Result:
    return r_to_z(*_biserial(m1i, m2i, sd1i, sd2i, n1i, n2i))


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


_ALL = MEAN_ARGS
_RPB = ("LS", "ST", "CS")

#: The measures of two independent groups, in catalogue order.
MEASURES = (
    Measure("MD", TWO_GROUPS, _mean_difference, "raw mean difference", ("LS", "UB", "HO"),
            requires=_ALL),
    Measure("SMD", TWO_GROUPS, _smd, "standardised mean difference (Hedges' g)",
            ("LS", "LS2", "UB", "AV"), from_statistics=True),
    Measure("SMDH", TWO_GROUPS, _smd_heteroscedastic,
            "SMD with heteroscedastic SDs (Bonett)", ("LS", "LS2", "LS3"), requires=_ALL),
    Measure("ROM", TWO_GROUPS, _ratio_of_means, "log ratio of means",
            ("LS", "HO", "AV", "AVHO"), requires=_ALL),
    Measure("D2OR", TWO_GROUPS, _d_to_or_logistic, "alias of D2ORL", from_statistics=True),
    Measure("D2ORL", TWO_GROUPS, _d_to_or_logistic, "SMD to log odds ratio (logistic)",
            from_statistics=True),
    Measure("D2ORN", TWO_GROUPS, _d_to_or_normal, "SMD to log odds ratio (normal)",
            from_statistics=True),
    Measure("SMD1", TWO_GROUPS, _smd1, "SMD standardised by the SD of group 2 (Glass)",
            ("LS", "LS2", "UB", "AV"), requires=("m1i", "m2i", "sd2i")),
    Measure("SMD1H", TWO_GROUPS, _smd1_heteroscedastic,
            "SMD standardised by the SD of group 2, heteroscedastic (Bonett)", requires=_ALL),
    Measure("CVR", TWO_GROUPS, _cv_ratio, "log coefficient-of-variation ratio",
            requires=_ALL),
    Measure("VR", TWO_GROUPS, _variability_ratio, "log variability ratio",
            requires=("sd1i", "sd2i")),
    Measure("RPB", TWO_GROUPS, _point_biserial, "point-biserial correlation", _RPB,
            from_statistics=True),
    Measure("ZPB", TWO_GROUPS, _z_point_biserial,
            "Fisher z of the point-biserial correlation", _RPB, from_statistics=True),
    Measure("RBIS", TWO_GROUPS, _biserial, "biserial correlation", from_statistics=True),
    Measure("ZBIS", TWO_GROUPS, _z_biserial, "Fisher z of the biserial correlation",
            from_statistics=True),
)
