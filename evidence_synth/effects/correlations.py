"""Correlation measures: raw, bias-corrected, Fisher-z, partial, semi-partial and R^2.

Formulas follow metafor 5.x's ``escalc``. For the (semi-)partial correlations and R^2,
``mi`` is the number of predictors of the regression model, the focal one included
(metafor >= 4.4), so the t-test has ``ni - mi - 1`` degrees of freedom.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import stats

from .inputs import Problems, below, check_rows, not_correlation, not_p, not_positive
from .inputs import weighted_mean as _weighted_mean
from .means import hyp2f1_or_nan, p_to_t
from .measure import Arrays, Family, Measure, Options, Result
from .tables import r_to_z


def _r_from_statistics(kind: str) -> Callable[..., Arrays]:
    """``prepare`` of a correlation family: checks, then r from ``ti`` or signed ``pi``
    where ``ri`` is missing (df ``ni - 2``, or ``ni - mi - 1`` with other predictors)."""

    def prepare(problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
                ) -> Arrays:
        if not any(n in a for n in ("ri", "ti", "pi")):
            problems.add(None, "ri", None, "a value (or ti or pi)")
        rules = {
            "ni": (below(2), ">= 2 (sample size)"),
            "ri": (not_correlation, "a correlation in [-1, 1]"),
            "pi": (not_p, "a two-sided p-value with 0 < |p| <= 1 (sign = direction)"),
            "r2i": (lambda x: (x < 0) | (x > 1), "an R^2 in [0, 1]"),
            "mi": (not_positive, "> 0 (number of predictors, the focal one included)"),
        }
        check_rows(problems, a, rules)
        partial = kind != "correlation"
        if partial and "ni" in a and "mi" in a:
            df = a["ni"] - a["mi"] - 1
            problems.check("ni", a["ni"], df <= 0, "ni - mi - 1 > 0 (residual df)")
        problems.raise_if_any()
        ni = a["ni"]
        df = ni - a["mi"] - 1 if partial else ni - 2
        with np.errstate(divide="ignore", invalid="ignore"):
            ti = a.get("ti", np.full(k, np.nan)).copy()
            if "pi" in a:
                ti = np.where(np.isnan(ti), p_to_t(a["pi"], df), ti)
            r = a.get("ri", np.full(k, np.nan)).copy()
            if kind == "semipartial":
                from_t = ti * np.sqrt(1 - a["r2i"]) / np.sqrt(df)
            else:
                from_t = ti / np.sqrt(ti**2 + df)
            r = np.where(np.isnan(r), from_t, r)
        out = {"ri": r, "ni": ni}
        if partial:
            out["mi"] = a["mi"]
        if kind == "semipartial":
            out["r2i"] = a["r2i"]
        return out

    return prepare


CORRELATION = Family(
    "correlation",
    arguments="ri (or ti or a signed pi), ni",
    provides=("ri", "ni"),
    prepare=_r_from_statistics("correlation"),
    requires=("ni",),
)
PARTIAL = Family(
    "partial",
    arguments="ti (or ri or a signed pi), ni, mi (number of predictors)",
    provides=("ri", "ni", "mi"),
    prepare=_r_from_statistics("partial"),
    requires=("ni", "mi"),
)
SEMIPARTIAL = Family(
    "semipartial",
    arguments="ti (or ri or a signed pi), ni, mi (number of predictors), r2i (R^2 of the "
              "full model)",
    provides=("ri", "ni", "mi", "r2i"),
    prepare=_r_from_statistics("semipartial"),
    requires=("ni", "mi", "r2i"),
)


def _no_variance_below_4(vi: np.ndarray, ni: np.ndarray) -> np.ndarray:
    return np.where(ni <= 3, np.nan, vi)


def _correlation(ri: np.ndarray, ni: np.ndarray, vtype: np.ndarray) -> Result:
    yi = ri.copy()
    mean = _weighted_mean(yi, ni)
    ls = (1 - yi**2) ** 2 / (ni - 1)
    avg = (1 - mean**2) ** 2 / (ni - 1)
    return yi, _no_variance_below_4(np.where(vtype == "AV", avg, ls), ni)


def _unbiased_correlation(ri: np.ndarray, ni: np.ndarray, vtype: np.ndarray) -> Result:
    """Olkin & Pratt (1958)."""
    yi = ri * hyp2f1_or_nan(0.5, 0.5, (ni - 2) / 2, 1 - ri**2)
    mean = _weighted_mean(yi, ni)
    ls = (1 - yi**2) ** 2 / (ni - 1)
    avg = (1 - mean**2) ** 2 / (ni - 1)
    ub = yi**2 - (1 - (ni - 3) / (ni - 2) * (1 - ri**2) * hyp2f1_or_nan(1, 1, ni / 2, 1 - ri**2))
    vi = np.select([vtype == "UB", vtype == "AV"], [ub, avg], ls)
    return yi, _no_variance_below_4(vi, ni)


def _fisher_z(ri: np.ndarray, ni: np.ndarray) -> Result:
    """Fisher (1921)."""
    return np.arctanh(ri), _no_variance_below_4(1 / (ni - 3), ni)


def _partial_correlation(ri: np.ndarray, ni: np.ndarray, mi: np.ndarray, vtype: np.ndarray
                         ) -> Result:
    """vi = (1 - r^2)^2 / (ni - mi) (metafor >= 4.0; 3.8 divided by ni - mi - 1)."""
    yi = ri.copy()
    mean = _weighted_mean(yi, ni)
    ls = (1 - yi**2) ** 2 / (ni - mi)
    avg = (1 - mean**2) ** 2 / (ni - mi)
    return yi, np.where(vtype == "AV", avg, ls)


def _z_partial_correlation(ri: np.ndarray, ni: np.ndarray, mi: np.ndarray) -> Result:
    """vi = 1 / (ni - mi - 2) (metafor >= 4.0; 3.8 used 1 / (ni - mi - 1))."""
    return np.arctanh(ri), 1 / (ni - mi - 2)


def _semipartial_correlation(ri: np.ndarray, ni: np.ndarray, r2i: np.ndarray,
                             vtype: np.ndarray) -> Result:
    """Aloe & Becker (2012): vi = (R^4 - 2R^2 + (R^2 - sr^2) + 1 - (R^2 - sr^2)^2) / ni
    with R^2 of the full model."""
    yi = ri.copy()
    mean = _weighted_mean(yi, ni)

    def _sp(r: np.ndarray | float) -> np.ndarray:
        return (r2i**2 - 2 * r2i + (r2i - r**2) + 1 - (r2i - r**2) ** 2) / ni

    return yi, np.where(vtype == "AV", _sp(mean), _sp(yi))


def _z_semipartial_correlation(ri: np.ndarray, ni: np.ndarray, r2i: np.ndarray,
                               vtype: np.ndarray) -> Result:
    """Fisher z of SPCOR with the delta-method variance."""
    return r_to_z(*_semipartial_correlation(ri, ni, r2i, vtype))


def _prepare_r_squared(
    problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
) -> Arrays:
    """Check R^2, ``mi`` and ``ni``; where ``r2i`` is missing take it from the model's F
    statistic ``fi`` (or its p-value ``pi``) with ``mi`` and ``ni - mi - 1`` df."""
    if not any(n in a for n in ("r2i", "fi", "pi")):
        problems.add(None, "r2i", None, "a value (or fi or pi)")
    check_rows(problems, a, {
        "ni": (not_positive, "> 0 (sample size)"),
        "mi": (not_positive, "> 0 (number of predictors)"),
        "r2i": (lambda x: (x < 0) | (x > 1), "an R^2 in [0, 1]"),
        "fi": (lambda x: x < 0, ">= 0 (an F statistic)"),
        "pi": (lambda x: (x <= 0) | (x > 1), "a p-value in (0, 1]"),
    })
    if "ni" in a and "mi" in a:
        problems.check("ni", a["ni"], a["ni"] - a["mi"] - 1 <= 0, "ni - mi - 1 > 0 (residual df)")
    problems.raise_if_any()
    ni, mi = a["ni"], a["mi"]
    df2 = ni - mi - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        fi = a.get("fi", np.full(k, np.nan)).copy()
        if "pi" in a:
            fi = np.where(np.isnan(fi), stats.f.isf(a["pi"], mi, df2), fi)
        r2i = a.get("r2i", np.full(k, np.nan)).copy()
        r2i = np.where(np.isnan(r2i), mi * fi / (mi * fi + df2), r2i)
    return {"r2i": r2i, "mi": mi, "ni": ni}


R_SQUARED = Family(
    "r_squared",
    arguments="r2i (or fi or pi), mi (number of predictors), ni",
    provides=("r2i", "mi", "ni"),
    prepare=_prepare_r_squared,
    requires=("mi", "ni"),
)


def _r_squared(r2i: np.ndarray, mi: np.ndarray, ni: np.ndarray, vtype: np.ndarray) -> Result:
    """Kendall & Stuart (1979): LS eq. 27.88 (simplified), LS2 eq. 27.87 (full); AV with
    the size-weighted mean R^2."""
    mean = _weighted_mean(r2i, ni)
    ls = 4 * r2i * (1 - r2i) ** 2 / ni
    ls2 = 4 * r2i * (1 - r2i) ** 2 * (ni - mi - 1) ** 2 / ((ni**2 - 1) * (ni + 3))
    avg = 4 * mean * (1 - mean) ** 2 / ni
    return r2i, np.select([vtype == "LS2", vtype == "AV"], [ls2, avg], ls)


def _z_r_squared(r2i: np.ndarray, ni: np.ndarray) -> Result:
    """Fisher z of the multiple correlation sqrt(R^2), vi = 1/ni (Olkin & Finn 1995, with
    the factor 1/2 of the z transformation)."""
    return np.arctanh(np.sqrt(r2i)), 1 / ni


#: The correlation measures, in catalogue order.
MEASURES = (
    Measure("COR", CORRELATION, _correlation, "raw correlation", ("LS", "AV"), keeps_yi=True),
    Measure("UCOR", CORRELATION, _unbiased_correlation, "bias-corrected correlation",
            ("LS", "UB", "AV"), keeps_yi=True),
    Measure("ZCOR", CORRELATION, _fisher_z, "Fisher z of the correlation", keeps_yi=True),
    Measure("PCOR", PARTIAL, _partial_correlation, "partial correlation", ("LS", "AV")),
    Measure("ZPCOR", PARTIAL, _z_partial_correlation, "Fisher z of the partial correlation"),
    Measure("SPCOR", SEMIPARTIAL, _semipartial_correlation, "semi-partial correlation",
            ("LS", "AV")),
    Measure("ZSPCOR", SEMIPARTIAL, _z_semipartial_correlation,
            "Fisher z of the semi-partial correlation", ("LS", "AV")),
    Measure("R2", R_SQUARED, _r_squared, "coefficient of determination R^2",
            ("LS", "LS2", "AV")),
    Measure("ZR2", R_SQUARED, _z_r_squared, "Fisher z of the multiple correlation"),
)
