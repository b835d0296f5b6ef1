"""Mantel-Haenszel and Peto methods (metafor's ``rma.mh`` and ``rma.peto``).

Both are equal-effects methods. The pooled estimate uses the counts (with metafor's second
``add``/``to``/``drop00`` value, by default none); the per-study ``yi``/``vi`` used for the
heterogeneity test and the forest plot come from :func:`~evidence_synth.effects.escalc`
with the first value (metafor's defaults 1/2, ``"only0"`` and ``True``). Degenerate data
give what metafor gives: an estimate that does not exist (no events in one arm of every
table) is NaN with a warning, and so are the tests that cannot be computed.

References: Mantel & Haenszel (1959); Robins, Breslow & Greenland (1986) and Greenland &
Robins (1985) for the variances of the log odds ratio, log risk ratio and log rate ratio;
Sato, Greenland & Robins (1989) for the risk difference; Greenland & Robins (1985) and
Rothman, Greenland & Lash (2008) for the rate difference and the Mantel-Haenszel test of
person-time data; Breslow & Day (1980) and Tarone (1985) for the homogeneity tests of
odds ratios; Yusuf et al. (1985) for Peto's method.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy import stats

from ..effects import escalc
from ..effects.inputs import Problems, add_to_rows, as_arrays, check_rows
from ..errors import DataQualityWarning, EffectSizeError
from .result import MetaResult

_MEASURES = ("OR", "RR", "RD", "IRR", "IRD")
_NEGATIVE = (lambda x: x < 0, ">= 0 (a count)")


def _pair(value: Any, default: Any, name: str, problems: Problems) -> tuple[Any, Any]:
    """metafor's one-or-two values of ``add``/``to``/``drop00``: (for yi/vi, for the
    pooled estimate)."""
    if isinstance(value, list | tuple):
        if len(value) != 2:
            problems.add(None, name, value, "one value or two (for yi/vi and for the model)")
            return default, default
        return value[0], value[1]
    return value, default


def _tables(
    context: str, ai: Any, bi: Any, ci: Any, di: Any, n1i: Any, n2i: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked 2x2 counts ``a, b, c, d`` of the complete tables, and the mask ``keep``."""
    problems = Problems(context)
    arrays, _ = as_arrays(problems, ai=ai, bi=bi, ci=ci, di=di, n1i=n1i, n2i=n2i)
    for name, alt in (("ai", None), ("ci", None), ("bi", "n1i"), ("di", "n2i")):
        if name not in arrays and (alt is None or alt not in arrays):
            problems.add(None, name, None, "a value" + (f" (or {alt})" if alt else ""))
    problems.raise_if_any()
    if "bi" not in arrays:
        arrays["bi"] = arrays["n1i"] - arrays["ai"]
    if "di" not in arrays:
        arrays["di"] = arrays["n2i"] - arrays["ci"]
    check_rows(problems, arrays, dict.fromkeys(("ai", "bi", "ci", "di"), _NEGATIVE))
    problems.raise_if_any()
    return _complete(problems, arrays, ("ai", "bi", "ci", "di"))


def _person_time(
    context: str, x1i: Any, x2i: Any, t1i: Any, t2i: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Checked events ``x1i, x2i`` and person-times ``t1i, t2i``, and the mask ``keep``."""
    problems = Problems(context)
    arrays, _ = as_arrays(problems, x1i=x1i, x2i=x2i, t1i=t1i, t2i=t2i)
    for name in ("x1i", "x2i", "t1i", "t2i"):
        if name not in arrays:
            problems.add(None, name, None, "a value")
    problems.raise_if_any()
    time = (lambda x: x <= 0, "> 0 (person-time)")
    check_rows(problems, arrays, {"x1i": _NEGATIVE, "x2i": _NEGATIVE, "t1i": time, "t2i": time})
    problems.raise_if_any()
    return _complete(problems, arrays, ("x1i", "x2i", "t1i", "t2i"))


def _complete(problems: Problems, arrays: dict[str, np.ndarray], names: tuple[str, ...]
              ) -> tuple[np.ndarray, ...]:
    keep = ~np.any([np.isnan(arrays[n]) for n in names], axis=0)
    if not keep.any():
        problems.add(None, names[0], None, "at least one study with complete data (k = 0)")
        problems.raise_if_any()
    if not keep.all():
        rows = ", ".join(str(i) for i in np.flatnonzero(~keep))
        warnings.warn(f"{problems.context}: studies with missing values omitted (rows {rows})",
                      DataQualityWarning, stacklevel=4)
    return (*(arrays[n][keep] for n in names), keep)


def _nan_warning(context: str, why: str) -> None:
    warnings.warn(f"{context}: {why}; the estimate is NaN (as metafor's NA)",
                  DataQualityWarning, stacklevel=4)


def _result(
    beta: float,
    se: float,
    level: float,
    yi: np.ndarray,
    vi: np.ndarray,
    slab: np.ndarray,
    model: str,
    measure: str,
    tests: dict[str, float],
    weights: np.ndarray,
) -> MetaResult:
    crit = float(stats.norm.isf((1 - level / 100) / 2))
    ok = ~(np.isnan(yi) | np.isnan(vi))
    k_yi = int(ok.sum())
    if k_yi > 1:
        QE = float(np.sum((yi[ok] - beta) ** 2 / vi[ok]))
        QE = max(0.0, QE) if not math.isnan(QE) else math.nan
        QEp = float(stats.chi2.sf(QE, k_yi - 1))
        I2 = max(0.0, 100 * (QE - (k_yi - 1)) / QE) if QE > 0 else 0.0
        I2 = math.nan if math.isnan(QE) else I2
        H2 = QE / (k_yi - 1)
    else:
        QE, QEp, I2, H2 = 0.0, 1.0, 0.0, 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = float(np.float64(beta) / np.float64(se))
    pval = float(2 * stats.norm.sf(abs(z)))
    k = len(yi)
    total = np.nansum(weights)
    return MetaResult(
        beta=np.array([beta]), se=np.array([se]), zval=np.array([z]), pval=np.array([pval]),
        ci_lb=np.array([beta - crit * se]), ci_ub=np.array([beta + crit * se]),
        vb=np.array([[se**2]]), coef_names=("intrcpt",), tau2=0.0, se_tau2=math.nan,
        I2=I2, H2=H2, QE=QE, QEp=QEp, QEdf=k_yi - 1, QM=z**2,
        QMp=float(stats.chi2.sf(z**2, 1)), QMdf=(1, math.nan), k=k, p=1, method="EE",
        test="z", level=level, model=model, yi=yi, vi=vi, X=np.ones((k, 1)),
        weights=100 * weights / total if total > 0 else np.full(k, math.nan), slab=slab,
        tests=tests, measure=measure,
    )  # fmt: skip


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0 else math.nan


def _ratio(num: float, den: float) -> float:
    """num / den with IEEE semantics (inf or NaN for den = 0), as R divides."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(num) / np.float64(den))


def rma_mh(
    ai: Any = None,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    *,
    n1i: Any = None,
    n2i: Any = None,
    x1i: Any = None,
    x2i: Any = None,
    t1i: Any = None,
    t2i: Any = None,
    measure: str = "OR",
    add: float | tuple[float, float] = 0.5,
    to: str | tuple[str, str] = "only0",
    drop00: bool | tuple[bool, bool] = True,
    correct: bool = True,
    level: float = 95,
    slab: Any = None,
) -> MetaResult:
    """Mantel-Haenszel equal-effects meta-analysis (metafor's ``rma.mh``).

    Parameters
    ----------
    ai, bi, ci, di : array-like
        Table counts (group 1 events/non-events, group 2 events/non-events) for ``OR``,
        ``RR`` and ``RD``; ``bi`` and ``di`` may be replaced by group sizes ``n1i`` and
        ``n2i``.
    x1i, x2i, t1i, t2i : array-like
        Events and person-times of the two groups for ``IRR`` and ``IRD``.
    measure : {"OR", "RR", "RD", "IRR", "IRD"}
        Log odds ratio, log risk ratio, risk difference, log incidence rate ratio or
        incidence rate difference.
    add, to, drop00
        Continuity correction: one value, used for the per-study estimates (see
        :func:`escalc`), or two, the second for the counts of the pooled estimate
        (default 0, ``"none"``, ``False``: the raw counts), as metafor.
    correct : bool
        Continuity correction of the Cochran-Mantel-Haenszel test.
    level : float
        Confidence level in percent.
    slab : array-like, optional
        Study labels.

    Returns
    -------
    MetaResult
        ``beta``, ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``, ``QE``/``QEp`` (Cochran's
        Q of the per-study estimates around the MH estimate), ``I2``, ``H2``; ``tests``:
        for ``OR`` ``CO``/``COp`` (Cochran's test), ``MH``/``MHp`` (Cochran-Mantel-
        Haenszel test), ``BD``/``BDp`` (Breslow-Day) and ``TA``/``TAp`` (Tarone's test);
        for ``IRR`` ``MH``/``MHp``.

    Raises
    ------
    EffectSizeError
        Unknown measure, missing or invalid counts (named by row), no complete study.

    Warns
    -----
    DataQualityWarning
        Studies with missing values omitted; an estimate or test that does not exist
        (e.g. no events in one group of every table) is NaN.

    Notes
    -----
    The test statistics use ``(|sum(O - E)| - 1/2)^2`` with ``correct=True``, also when
    ``|sum(O - E)| < 1/2`` (as metafor). Tables with no events or no non-events in both
    groups add nothing to the MH sums.
    """
    problems = Problems("rma_mh")
    measure = str(measure).upper()
    if measure not in _MEASURES:
        problems.add(None, "measure", measure, f"one of {', '.join(_MEASURES)}")
    add_yi, add_mh = _pair(add, 0.0, "add", problems)
    to_yi, to_mh = _pair(to, "none", "to", problems)
    drop_yi, drop_mh = _pair(drop00, False, "drop00", problems)
    problems.raise_if_any()
    if measure in ("IRR", "IRD"):
        x1, x2, t1, t2, keep = _person_time("rma_mh", x1i, x2i, t1i, t2i)
        es = escalc(measure, x1i=x1, x2i=x2, t1i=t1, t2i=t2, add=add_yi, to=to_yi,
                    drop00=drop_yi)
        if drop_mh:
            some = (x1 > 0) | (x2 > 0)
            x1, x2, t1, t2 = x1[some], x2[some], t1[some], t2[some]
        x1, x2 = add_to_rows((x1, x2), float(add_mh), to_mh, (x1 == 0) | (x2 == 0))
        with np.errstate(divide="ignore", invalid="ignore"):
            beta, var, tests, weights = _person_time_estimate(measure, x1, x2, t1, t2, correct)
    else:
        a, b, c, d, keep = _tables("rma_mh", ai, bi, ci, di, n1i, n2i)
        es = escalc(measure, ai=a, bi=b, ci=c, di=d, add=add_yi, to=to_yi, drop00=drop_yi)
        a, b, c, d = _model_counts(a, b, c, d, add_mh, to_mh, drop_mh, "rma_mh")
        with np.errstate(divide="ignore", invalid="ignore"):
            beta, var, tests, weights = _table_estimate(measure, a, b, c, d, correct)
    return _result(
        beta, _sqrt(var), level, es["yi"].to_numpy(), es["vi"].to_numpy(), _labels(slab, keep),
        "rma_mh", measure, tests, weights,
    )  # fmt: skip


def _model_counts(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, add: float, to: str,
    drop00: bool, context: str,
) -> tuple[np.ndarray, ...]:
    """Counts for the pooled estimate: tables without events (or non-events) in both groups
    left out when ``drop00``, then ``add``/``to``; warns about tables without participants
    (their 0/0 proportions make the MH sums undefined, as in metafor)."""
    if drop00:
        some = ~(((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))
        a, b, c, d = a[some], b[some], c[some], d[some]
    empty = (a + b + c + d) == 0
    if empty.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(empty))
        warnings.warn(f"{context}: tables with no participants (rows {rows}) make the "
                      "pooled estimate undefined (NaN, as metafor's NA); leave them out",
                      DataQualityWarning, stacklevel=3)
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    return add_to_rows((a, b, c, d), float(add), to, zero)


def _table_estimate(
    measure: str, a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, correct: bool
) -> tuple[float, float, dict[str, float], np.ndarray]:
    n1, n2 = a + b, c + d
    n = n1 + n2
    tests: dict[str, float] = {}
    if measure == "OR":
        R, S = np.sum(a * d / n), np.sum(b * c / n)
        if R == 0 or S == 0:
            _nan_warning("rma_mh", "no events (or no non-events) in one group of every table")
            beta = var = math.nan
        else:
            P, Q = (a + d) / n, (b + c) / n
            beta = float(np.log(R / S))
            var = 0.5 * (np.sum(P * a * d / n) / R**2
                         + np.sum(P * b * c / n + Q * a * d / n) / (R * S)
                         + np.sum(Q * b * c / n) / S**2)  # fmt: skip
        tests = _or_tests(a, b, c, d, beta, correct)
        return beta, float(var), tests, b * c / n
    if measure == "RR":
        R, S = np.sum(a * n2 / n), np.sum(c * n1 / n)
        if np.sum(a) == 0 or np.sum(c) == 0:
            _nan_warning("rma_mh", "no events in one group of every table")
            return math.nan, math.nan, tests, c * n1 / n
        var = np.sum((n1 * n2 * (a + c) - a * c * n) / n**2) / (R * S)
        return float(np.log(R / S)), float(var), tests, c * n1 / n
    W = n1 * n2 / n
    beta = float(np.sum((a * n2 - c * n1) / n) / np.sum(W))
    P = (n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2) / n**2
    Q = (a * (n2 - c) + c * (n1 - a)) / (2 * n)
    var = (beta * np.sum(P) + np.sum(Q)) / np.sum(W) ** 2
    return beta, float(var), tests, W


def _or_tests(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, beta: float, correct: bool
) -> dict[str, float]:
    """Cochran (CO) and Cochran-Mantel-Haenszel (MH) tests; Breslow-Day (BD) and Tarone's
    (TA) homogeneity tests at the MH odds ratio (the expected count of each table from the
    quadratic equation of Breslow & Day 1980), over the informative tables."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    xt, yt = a + c, b + d
    out = dict.fromkeys(("CO", "COp", "MH", "MHp", "BD", "BDp", "TA", "TAp"), math.nan)
    if np.sum(xt) == 0 or np.sum(yt) == 0:
        _nan_warning("rma_mh", "no events (or no non-events) in any table: CO and MH tests")
    else:
        dev = (abs(float(np.sum(a - n1 / n * xt))) - (0.5 if correct else 0.0)) ** 2
        out["CO"] = _ratio(dev, np.sum(n1 / n * (n2 / n) * (xt * (yt / n))))
        out["MH"] = _ratio(dev, np.sum(n1 / n * (n2 / n) * (xt * (yt / (n - 1)))))
        out["COp"] = float(stats.chi2.sf(out["CO"], 1))
        out["MHp"] = float(stats.chi2.sf(out["MH"], 1))
    if math.isnan(beta):
        return out
    psi = math.exp(beta)
    # expected count of each table at the MH odds ratio: the smaller root of
    # (psi - 1) N^2 - A N + psi n1 xt = 0, written 2 psi n1 xt / (A + B) so that it stays
    # exact as psi -> 1 (metafor's (A - B) / (2 (psi - 1)) loses all digits there)
    A = psi * (n1 + xt) + (n2 - xt)
    B = np.sqrt(A**2 - 4 * n1 * xt * psi * (psi - 1))
    n11 = 2 * psi * n1 * xt / (A + B)
    # tables with an empty group or without events or non-events carry no information
    pos = (n11 > 0) & (xt > 0) & (yt > 0) & (n1 > 0) & (n2 > 0)
    e11 = n11[pos]
    e12, e21 = n1[pos] - e11, xt[pos] - e11
    e22 = e11 - n1[pos] - xt[pos] + n[pos]
    v = 1 / (1 / e11 + 1 / e12 + 1 / e21 + 1 / e22)
    dev = a[pos] - e11
    out["BD"] = max(0.0, float(np.sum(dev**2 / v)))
    out["TA"] = max(0.0, out["BD"] - float(np.sum(dev)) ** 2 / float(np.sum(v)))
    k_pos = int(pos.sum())
    if k_pos > 1:
        out["BDp"] = float(stats.chi2.sf(out["BD"], k_pos - 1))
        out["TAp"] = float(stats.chi2.sf(out["TA"], k_pos - 1))
    return out


def _person_time_estimate(
    measure: str, x1: np.ndarray, x2: np.ndarray, t1: np.ndarray, t2: np.ndarray, correct: bool
) -> tuple[float, float, dict[str, float], np.ndarray]:
    """MH rate ratio (Rothman, Greenland & Lash 2008, eq. 15-21/15-22) or rate difference
    (eq. 15-18/15-19), and for IRR the Mantel-Haenszel test of no association."""
    T = t1 + t2
    if measure == "IRD":
        W = t1 / T * t2
        beta = float(np.sum((x1 * t2 - x2 * t1) / T) / np.sum(W))
        var = float(np.sum(W**2 * (x1 / t1**2 + x2 / t2**2)) / np.sum(W) ** 2)
        return beta, var, {}, W
    R, S = np.sum(x1 * t2 / T), np.sum(x2 * t1 / T)
    tests = dict.fromkeys(("MH", "MHp"), math.nan)
    xt = x1 + x2
    if np.sum(xt) == 0:
        _nan_warning("rma_mh", "no events in any study: MH test")
    else:
        dev = (abs(float(np.sum(x1 - xt * t1 / T))) - (0.5 if correct else 0.0)) ** 2
        tests["MH"] = _ratio(dev, np.sum(xt * (t1 / T) * (t2 / T)))
        tests["MHp"] = float(stats.chi2.sf(tests["MH"], 1))
    if np.sum(x1) == 0 or np.sum(x2) == 0:
        _nan_warning("rma_mh", "no events in one group of every study")
        return math.nan, math.nan, tests, x2 * t1 / T
    var = float(np.sum(t1 / T * (t2 / T) * xt)) / (R * S)
    return float(np.log(R / S)), var, tests, x2 * t1 / T


def rma_peto(
    ai: Any = None,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    *,
    n1i: Any = None,
    n2i: Any = None,
    add: float | tuple[float, float] = 0.5,
    to: str | tuple[str, str] = "only0",
    drop00: bool | tuple[bool, bool] = True,
    level: float = 95,
    slab: Any = None,
) -> MetaResult:
    """Peto's one-step log odds ratio (metafor's ``rma.peto``).

    Pooled log OR = sum(O - E) / sum(V) with hypergeometric mean E and variance V per
    table; SE = 1 / sqrt(sum V); Q = sum((O - E)^2 / V) - (sum(O - E))^2 / sum(V) over the
    informative tables, with the degrees of freedom of the per-study estimates (Yusuf et
    al. 1985). Parameters as in :func:`rma_mh`; ``add``/``to``/``drop00`` (first value)
    only affect the per-study estimates shown in a forest plot.

    Returns
    -------
    MetaResult

    Raises
    ------
    EffectSizeError
        Invalid counts, or one of the two outcomes never occurs in any table (Peto's
        method is then undefined, as in metafor).
    """
    problems = Problems("rma_peto")
    add_yi, add_mh = _pair(add, 0.0, "add", problems)
    to_yi, to_mh = _pair(to, "none", "to", problems)
    drop_yi, drop_mh = _pair(drop00, False, "drop00", problems)
    problems.raise_if_any()
    a, b, c, d, keep = _tables("rma_peto", ai, bi, ci, di, n1i, n2i)
    es = escalc("PETO", ai=a, bi=b, ci=c, di=d, add=add_yi, to=to_yi, drop00=drop_yi)
    tiny = (a + b + c + d) < 2
    if tiny.any():
        rows = ", ".join(str(i) for i in np.flatnonzero(keep)[tiny])
        raise EffectSizeError(f"rma_peto: tables with fewer than two participants (rows "
                              f"{rows}) have no hypergeometric variance; leave them out "
                              "(metafor stops too)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        a, b, c, d = _model_counts(a, b, c, d, add_mh, to_mh, drop_mh, "rma_peto")
    n1, n2 = a + b, c + d
    n = n1 + n2
    m1, m2 = a + c, b + d
    e = m1 * n1 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        v = m1 * m2 * (n1 / n) * (n2 / n) / (n - 1)
    info = v > 0
    if not info.any():
        raise EffectSizeError(
            "rma_peto: one of the two outcomes never occurs in any table; Peto's method "
            "cannot be used"
        )
    beta = float(np.sum((a - e)[info]) / v[info].sum())
    se = 1 / math.sqrt(v[info].sum())
    result = _result(
        beta, se, level, es["yi"].to_numpy(), es["vi"].to_numpy(), _labels(slab, keep),
        "rma_peto", "PETO", {}, np.where(info, v, 0.0),
    )  # fmt: skip
    k_yi = int(np.sum(~(np.isnan(es["yi"].to_numpy()) | np.isnan(es["vi"].to_numpy()))))
    q = float(np.sum(((a - e) ** 2 / v)[info]) - np.sum((a - e)[info]) ** 2 / v[info].sum())
    result.QE, result.QEdf = max(0.0, q), k_yi - 1
    if int(info.sum()) > 1:
        result.QEp = float(stats.chi2.sf(result.QE, k_yi - 1))
        result.I2 = max(0.0, 100 * (result.QE - (k_yi - 1)) / result.QE) if result.QE else 0.0
        result.H2 = result.QE / (k_yi - 1)
    else:
        result.QEp, result.I2, result.H2 = 1.0, 0.0, 1.0
    return result


def _labels(slab: Any, keep: np.ndarray) -> np.ndarray:
    if slab is None:
        return np.array([str(i + 1) for i in np.flatnonzero(keep)], dtype=object)
    return np.asarray(list(slab), dtype=object)[keep]
