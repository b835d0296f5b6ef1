"""``escalc``: effect sizes and sampling variances with metafor's names and formulas.

A reviewer who knows R's metafor (Viechtbauer 2010, version 4.x) should find the same
measure codes, argument names and numbers. Differences from metafor are listed in the
docstring of :func:`escalc` and in ``docs/effect-sizes-and-meta-analysis.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .correlations import (
    CORRELATION_MEASURES,
    PARTIAL_MEASURES,
    correlation_measure,
    partial_measure,
)
from .correlations import VTYPES as _COR_VTYPES
from .inputs import Problems, as_arrays, check_rows, require
from .means import CHANGE_MEASURES, TWO_GROUP_MEASURES, change_measure, p_to_t, two_group_measure
from .means import VTYPES as _MEAN_VTYPES
from .tables import ADD_ZERO_MEASURES, TABLE_MEASURES, continuity, table_measure
from .tables import VTYPES as _TABLE_VTYPES

MEASURES: tuple[str, ...] = (
    TABLE_MEASURES + TWO_GROUP_MEASURES + CHANGE_MEASURES + CORRELATION_MEASURES + PARTIAL_MEASURES
)
_VTYPES = {**_TABLE_VTYPES, **_MEAN_VTYPES, **_COR_VTYPES}
_TO = ("only0", "all", "if0all", "none")


def _negative(x: np.ndarray) -> np.ndarray:
    return x < 0


def _below(limit: float) -> Any:
    return lambda x: x < limit


def _not_positive(x: np.ndarray) -> np.ndarray:
    return x <= 0


def _not_correlation(x: np.ndarray) -> np.ndarray:
    return np.abs(x) > 1


def _not_p(x: np.ndarray) -> np.ndarray:
    return (x == 0) | (np.abs(x) > 1)


def escalc(
    measure: str,
    *,
    ai: Any = None,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    n1i: Any = None,
    n2i: Any = None,
    x1i: Any = None,
    x2i: Any = None,
    t1i: Any = None,
    t2i: Any = None,
    m1i: Any = None,
    m2i: Any = None,
    sd1i: Any = None,
    sd2i: Any = None,
    xi: Any = None,
    mi: Any = None,
    ri: Any = None,
    ti: Any = None,
    pi: Any = None,
    sdi: Any = None,
    r2i: Any = None,
    ni: Any = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    vtype: str | Any = "LS",
    correct: bool = True,
) -> pd.DataFrame:
    """Compute effect sizes ``yi`` and sampling variances ``vi`` like metafor's ``escalc``.

    Arguments take scalars or 1-D arrays (lists, numpy arrays, pandas Series); scalars are
    broadcast against arrays. Missing values (NaN) give a missing ``yi``/``vi`` in that row.

    Parameters
    ----------
    measure : str
        metafor measure code. 2x2 tables (``ai, bi, ci, di`` or ``ai, n1i, ci, n2i``):
        ``RR`` log risk ratio, ``OR`` log odds ratio, ``RD`` risk difference, ``AS``
        arcsine risk difference, ``PETO`` Peto's log odds ratio, ``PHI``/``ZPHI`` phi
        coefficient, ``YUQ`` Yule's Q, ``YUY`` Yule's Y, ``RTET``/``ZTET`` tetrachoric
        correlation, ``PBIT`` probit SMD, ``OR2DL`` (alias ``OR2D``) and ``OR2DN`` log odds
        ratio to SMD (logistic / normal). Two groups (``m1i, m2i, sd1i, sd2i, n1i, n2i``):
        ``MD``, ``SMD`` (Hedges' g with the exact correction; also from ``di`` = Cohen's d,
        ``ti`` or signed ``pi`` with ``n1i, n2i``), ``SMDH``, ``ROM``, ``D2ORL`` (alias
        ``D2OR``), ``D2ORN``. One group measured twice (``m1i, m2i, sd1i, sd2i, ni, ri``;
        change = ``m1i - m2i``): ``MC``, ``SMCC``, ``SMCR`` (needs no ``sd2i``), ``SMCRH``.
        Correlations (``ri`` or ``ti``/``pi``, ``ni``): ``COR``, ``UCOR``, ``ZCOR``.
        (Semi-)partial correlations (``ti`` or ``ri`` or ``pi``, ``ni``, ``mi`` = number of
        other predictors, and ``r2i`` for the semi-partial): ``PCOR``, ``ZPCOR``,
        ``SPCOR``, ``ZSPCOR``.
    ai, bi, ci, di, n1i, n2i, m1i, m2i, sd1i, sd2i, ri, ti, pi, r2i, ni, mi
        As in metafor (see ``measure``). ``pi`` are two-sided p-values whose sign gives the
        direction of the effect (metafor's convention). ``x1i, x2i, t1i, t2i, xi, sdi``
        are accepted for signature compatibility; the measures that need them (IRR, PLO,
        MN, ...) are not implemented and raise.
    add : float, optional
        Value added to the cells of 2x2 tables with zeros. Default 1/2, or 0 for ``AS``,
        ``PHI``, ``ZPHI``, ``RTET`` and ``ZTET`` (as metafor).
    to : {"only0", "all", "if0all", "none"}
        Which tables get ``add``: tables with a zero cell, all tables, all tables if any
        has a zero cell, none.
    drop00 : bool
        Set tables with no events (or only events) in both groups to missing.
    vtype : str or array of str
        Sampling-variance estimator, per row if an array: ``LS`` (default), ``LS2``, ``UB``,
        ``AV``, ``HO``, ``ST``, ``CS`` where metafor offers them for the measure.
    correct : bool
        Apply the exact small-sample bias correction c(m) to SMD-type measures (metafor's
        ``correct``). ``False`` gives Cohen's d.

    Returns
    -------
    pandas.DataFrame
        One row per input row with columns ``yi`` (effect size), ``vi`` (sampling
        variance; NaN where undefined, e.g. COR with ni <= 3) and ``measure``.
        ``attrs`` records the measure, vtype, add and to used.

    Raises
    ------
    EffectSizeError
        Unknown measure or vtype, missing required arguments, arrays of different
        lengths, or invalid values; all problems are collected first and named by row
        (0-based) and argument, with a ``problems`` DataFrame on the error.

    Notes
    -----
    Differences from metafor: standard deviations must be > 0 (metafor allows 0), sample
    sizes of mean/correlation measures must be >= 2 and 2x2 group sizes >= 1 (metafor
    only rejects negative ones), and scalars broadcast against arrays (metafor requires
    equal lengths). The tetrachoric correlation solves the saturated likelihood exactly
    (see :mod:`evidence_synth.effects.tetrachoric`), so its ``vi`` agrees with metafor's
    finite-difference Hessian to about 4 significant digits. PCOR uses metafor 4.x's
    ``vi = (1 - r^2)^2 / (ni - mi)``.

    References
    ----------
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    Journal of Statistical Software, 36(3). Formula sources per measure are cited in the
    modules ``tables``, ``means`` and ``correlations`` of :mod:`evidence_synth.effects`.
    """
    problems = Problems(f"escalc(measure={measure!r})")
    measure = str(measure).upper()
    if measure not in MEASURES:
        problems.add(None, "measure", measure, f"one of {', '.join(MEASURES)}")
        problems.raise_if_any()
    if to not in _TO:
        problems.add(None, "to", to, f"one of {', '.join(_TO)}")
    given = {
        "ai": ai, "bi": bi, "ci": ci, "di": di, "n1i": n1i, "n2i": n2i, "m1i": m1i,
        "m2i": m2i, "sd1i": sd1i, "sd2i": sd2i, "ri": ri, "ti": ti, "pi": pi, "r2i": r2i,
        "ni": ni, "mi": mi,
    }  # fmt: skip
    unsupported = {"x1i": x1i, "x2i": x2i, "t1i": t1i, "t2i": t2i, "xi": xi, "sdi": sdi}
    for name, value in unsupported.items():
        if value is not None:
            problems.add(None, name, None, f"no value: not used by measure {measure!r}")
    arrays, k = as_arrays(problems, **given)
    vt = _vtypes(problems, measure, vtype, k)
    problems.raise_if_any()

    if measure in TABLE_MEASURES:
        yi, vi = _tables(problems, measure, arrays, k, add, to, drop00, vt)
    elif measure in TWO_GROUP_MEASURES:
        yi, vi = _two_groups(problems, measure, arrays, k, vt, correct)
    elif measure in CHANGE_MEASURES:
        yi, vi = _change(problems, measure, arrays, k, vt, correct)
    else:
        yi, vi = _correlations(problems, measure, arrays, k, vt)

    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(yi) | np.isinf(vi)  # as metafor: +-Inf -> missing in both
        yi = np.where(bad, np.nan, yi)
        vi = np.where(bad | (vi < 0), np.nan, vi)
    out = pd.DataFrame({"yi": yi, "vi": vi, "measure": pd.array([measure] * k, dtype="string")})
    out.attrs = {"measure": measure, "vtype": vtype, "add": add, "to": to, "correct": correct}
    return out


def _vtypes(problems: Problems, measure: str, vtype: Any, k: int) -> np.ndarray:
    vt = np.atleast_1d(np.asarray(vtype, dtype=object)).astype(str)
    if vt.shape[0] == 1:
        vt = np.repeat(vt, k)
    elif vt.shape[0] != k:
        problems.add(None, "vtype", None, f"one value or {k} values, found {vt.shape[0]}")
        return np.repeat("LS", k)
    allowed = _VTYPES.get(measure, ("LS",))
    for row, value in enumerate(vt):
        if value not in allowed:
            problems.add(row, "vtype", value, f"one of {', '.join(allowed)} for measure {measure}")
    return vt


def _nan(k: int) -> np.ndarray:
    return np.full(k, np.nan)


def _tables(
    problems: Problems,
    measure: str,
    a: dict[str, np.ndarray],
    k: int,
    add: float | None,
    to: str,
    drop00: bool,
    vt: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    require(problems, a, "ai", "ci")
    if "bi" not in a and "n1i" not in a:
        problems.add(None, "bi", None, "a value (or n1i)")
    if "di" not in a and "n2i" not in a:
        problems.add(None, "di", None, "a value (or n2i)")
    problems.raise_if_any()
    ai, ci = a["ai"], a["ci"]
    bi = a["bi"] if "bi" in a else a["n1i"] - ai
    di = a["di"] if "di" in a else a["n2i"] - ci
    rules = dict.fromkeys(("ai", "bi", "ci", "di"), (_negative, ">= 0 (a count)"))
    check_rows(problems, a, rules)
    if "n1i" in a:
        problems.check("ai", ai, ai > a["n1i"], "<= n1i (events cannot exceed the group size)")
    if "n2i" in a:
        problems.check("ci", ci, ci > a["n2i"], "<= n2i (events cannot exceed the group size)")
    if "bi" not in a:
        check_rows(problems, a, {"n1i": (_below(1), ">= 1 (group size)")})
    if "di" not in a:
        check_rows(problems, a, {"n2i": (_below(1), ">= 1 (group size)")})
    problems.raise_if_any()
    if add is None:
        add = 0.0 if measure in ADD_ZERO_MEASURES else 0.5
    ai, bi, ci, di = continuity(ai, bi, ci, di, float(add), to, drop00)
    with np.errstate(divide="ignore", invalid="ignore"):
        return table_measure(measure, ai, bi, ci, di, vt)


def _two_groups(
    problems: Problems,
    measure: str,
    a: dict[str, np.ndarray],
    k: int,
    vt: np.ndarray,
    correct: bool,
) -> tuple[np.ndarray, np.ndarray]:
    require(problems, a, "n1i", "n2i")
    from_stats = measure in ("SMD", "D2OR", "D2ORL", "D2ORN")
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
            "n1i": (_below(2), ">= 2 (group size)"),
            "n2i": (_below(2), ">= 2 (group size)"),
            "sd1i": (_not_positive, "> 0 (a standard deviation)"),
            "sd2i": (_not_positive, "> 0 (a standard deviation)"),
            "pi": (_not_p, "a two-sided p-value with 0 < |p| <= 1 (sign = direction)"),
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
    with np.errstate(divide="ignore", invalid="ignore"):
        return two_group_measure(measure, m1i, m2i, sd1i, sd2i, n1i, n2i, vt, correct)


def _change(
    problems: Problems,
    measure: str,
    a: dict[str, np.ndarray],
    k: int,
    vt: np.ndarray,
    correct: bool,
) -> tuple[np.ndarray, np.ndarray]:
    needed = ["m1i", "m2i", "sd1i", "ni", "ri"]
    if measure != "SMCR":
        needed.append("sd2i")
    require(problems, a, *needed)
    check_rows(
        problems,
        a,
        {
            "ni": (_below(2), ">= 2 (sample size)"),
            "sd1i": (_not_positive, "> 0 (a standard deviation)"),
            "sd2i": (_not_positive, "> 0 (a standard deviation)"),
            "ri": (_not_correlation, "a correlation in [-1, 1]"),
        },
    )
    problems.raise_if_any()
    sd2i = a.get("sd2i", _nan(k))
    with np.errstate(divide="ignore", invalid="ignore"):
        return change_measure(
            measure, a["m1i"], a["m2i"], a["sd1i"], sd2i, a["ni"], a["ri"], vt, correct
        )


def _correlations(
    problems: Problems,
    measure: str,
    a: dict[str, np.ndarray],
    k: int,
    vt: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    partial = measure in PARTIAL_MEASURES
    require(problems, a, "ni", *(("mi",) if partial else ()))
    if measure in ("SPCOR", "ZSPCOR"):
        require(problems, a, "r2i")
    if not any(n in a for n in ("ri", "ti", "pi")):
        problems.add(None, "ri", None, "a value (or ti or pi)")
    rules = {
        "ni": (_below(2), ">= 2 (sample size)"),
        "ri": (_not_correlation, "a correlation in [-1, 1]"),
        "pi": (_not_p, "a two-sided p-value with 0 < |p| <= 1 (sign = direction)"),
        "r2i": (lambda x: (x < 0) | (x > 1), "an R^2 in [0, 1]"),
        "mi": (_negative, ">= 0 (number of other predictors)"),
    }
    check_rows(problems, a, rules)
    if partial and "ni" in a and "mi" in a:
        df = a["ni"] - a["mi"] - 1
        problems.check("ni", a["ni"], df <= 0, "ni - mi - 1 > 0 (residual df)")
    problems.raise_if_any()
    ni = a["ni"]
    df = ni - a["mi"] - 1 if partial else ni - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        ti = a.get("ti", _nan(k)).copy()
        if "pi" in a:
            ti = np.where(np.isnan(ti), p_to_t(a["pi"], df), ti)
        r = a.get("ri", _nan(k)).copy()
        if measure in ("SPCOR", "ZSPCOR"):
            from_t = ti * np.sqrt(1 - a["r2i"]) / np.sqrt(df)
        else:
            from_t = ti / np.sqrt(ti**2 + df)
        r = np.where(np.isnan(r), from_t, r)
        if partial:
            return partial_measure(measure, r, ni, a["mi"], a.get("r2i"), vt)
        return correlation_measure(measure, r, ni, vt)
