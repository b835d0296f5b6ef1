"""Mantel-Haenszel and Peto methods for 2x2 tables (metafor's ``rma.mh`` and ``rma.peto``).

Both are equal-effects methods. The pooled estimate uses the raw counts; the per-study
``yi``/``vi`` used for the heterogeneity test and the forest plot come from
:func:`~evidence_synth.extract.escalc` with ``add``/``to``/``drop00`` (metafor's defaults
1/2, ``"only0"`` and ``True``).

References: Mantel & Haenszel (1959); Robins, Breslow & Greenland (1986) and Greenland &
Robins (1985) for the variances of the log odds ratio and log risk ratio; Sato, Greenland
& Robins (1989) for the risk difference; Tarone (1985) / Breslow & Day (1980) for the
homogeneity test of odds ratios; Yusuf et al. (1985) for Peto's method.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import optimize, stats

from ..effects import escalc
from ..effects.inputs import Problems, as_arrays, check_rows
from .result import MetaResult


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
    negative = (lambda x: x < 0, ">= 0 (a count)")
    check_rows(problems, arrays, dict.fromkeys(("ai", "bi", "ci", "di"), negative))
    problems.raise_if_any()
    a, b, c, d = arrays["ai"], arrays["bi"], arrays["ci"], arrays["di"]
    keep = ~(np.isnan(a) | np.isnan(b) | np.isnan(c) | np.isnan(d))
    return a[keep], b[keep], c[keep], d[keep], keep


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
        QE = max(0.0, float(np.sum((yi[ok] - beta) ** 2 / vi[ok])))
        QEp = float(stats.chi2.sf(QE, k_yi - 1))
        I2 = max(0.0, 100 * (QE - (k_yi - 1)) / QE) if QE > 0 else 0.0
        H2 = QE / (k_yi - 1)
    else:
        QE, QEp, I2, H2 = 0.0, 1.0, 0.0, 1.0
    z = beta / se
    pval = float(2 * stats.norm.sf(abs(z)))
    k = len(yi)
    return MetaResult(
        beta=np.array([beta]), se=np.array([se]), zval=np.array([z]), pval=np.array([pval]),
        ci_lb=np.array([beta - crit * se]), ci_ub=np.array([beta + crit * se]),
        vb=np.array([[se**2]]), coef_names=("intrcpt",), tau2=0.0, se_tau2=math.nan,
        I2=I2, H2=H2, QE=QE, QEp=QEp, QEdf=k_yi - 1, QM=z**2,
        QMp=float(stats.chi2.sf(z**2, 1)), QMdf=(1, math.nan), k=k, p=1, method="EE",
        test="z", level=level, model=model, yi=yi, vi=vi, X=np.ones((k, 1)),
        weights=100 * weights / np.nansum(weights), slab=slab, tests=tests, measure=measure,
    )  # fmt: skip


def rma_mh(
    ai: Any = None,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    *,
    n1i: Any = None,
    n2i: Any = None,
    measure: str = "OR",
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
    correct: bool = True,
    level: float = 95,
    slab: Any = None,
) -> MetaResult:
    """Mantel-Haenszel equal-effects meta-analysis of 2x2 tables (metafor's ``rma.mh``).

    Parameters
    ----------
    ai, bi, ci, di : array-like
        Table counts (group 1 events/non-events, group 2 events/non-events); ``bi`` and
        ``di`` may be replaced by group sizes ``n1i`` and ``n2i``.
    measure : {"OR", "RR", "RD"}
        Log odds ratio, log risk ratio or risk difference.
    add, to, drop00
        Continuity correction of the per-study estimates (see :func:`escalc`); the pooled
        estimate always uses the raw counts.
    correct : bool
        Continuity correction of the Cochran-Mantel-Haenszel test (``measure="OR"``).
    level : float
        Confidence level in percent.
    slab : array-like, optional
        Study labels.

    Returns
    -------
    MetaResult
        ``beta`` (log OR, log RR or RD), ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``,
        ``QE``/``QEp`` (Cochran's Q of the per-study estimates around the MH estimate),
        ``I2``, ``H2``; for ``OR`` also ``tests`` with ``CO``/``COp`` (Cochran's test),
        ``MH``/``MHp`` (Cochran-Mantel-Haenszel test) and ``TA``/``TAp`` (Tarone's test).

    Notes
    -----
    Variances: Robins, Breslow & Greenland (1986) for log OR, Greenland & Robins (1985)
    for log RR, Sato, Greenland & Robins (1989) for RD. Tables with no events or no
    non-events in both groups add nothing to the MH sums.
    """
    measure = str(measure).upper()
    if measure not in ("OR", "RR", "RD"):
        problems = Problems("rma_mh")
        problems.add(None, "measure", measure, "one of OR, RR, RD")
        problems.raise_if_any()
    a, b, c, d, keep = _tables("rma_mh", ai, bi, ci, di, n1i, n2i)
    n1, n2 = a + b, c + d
    n = n1 + n2
    es = escalc(measure, ai=a, bi=b, ci=c, di=d, add=add, to=to, drop00=drop00)
    labels = _labels(slab, keep)
    tests: dict[str, float] = {}
    if measure == "OR":
        R, S = a * d / n, b * c / n
        P, Q = (a + d) / n, (b + c) / n
        sR, sS = R.sum(), S.sum()
        beta = math.log(sR / sS)
        var = (
            np.sum(P * R) / (2 * sR**2)
            + np.sum(P * S + Q * R) / (2 * sR * sS)
            + np.sum(Q * S) / (2 * sS**2)
        )
        tests = _or_tests(a, b, c, d, math.exp(beta), correct)
        weights = S
    elif measure == "RR":
        R, S = a * n2 / n, c * n1 / n
        sR, sS = R.sum(), S.sum()
        beta = math.log(sR / sS)
        var = np.sum((n1 * n2 * (a + c) - a * c * n) / n**2) / (sR * sS)
        weights = S
    else:
        W = n1 * n2 / n
        beta = float(np.sum((a * n2 - c * n1) / n) / W.sum())
        P = (n1**2 * c - n2**2 * a + n1 * n2 * (n2 - n1) / 2) / n**2
        Q = (a * (n2 - c) + c * (n1 - a)) / (2 * n)
        var = (beta * P.sum() + Q.sum()) / W.sum() ** 2
        weights = W
    return _result(
        beta, math.sqrt(var), level, es["yi"].to_numpy(), es["vi"].to_numpy(), labels,
        "rma_mh", measure, tests, weights,
    )  # fmt: skip


def _or_tests(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray, psi: float, correct: bool
) -> dict[str, float]:
    """Cochran (CO) and Cochran-Mantel-Haenszel (MH) tests, Tarone's homogeneity test (TA)."""
    n1, n2 = a + b, c + d
    n = n1 + n2
    m1, m2 = a + c, b + d
    informative = (m1 > 0) & (m2 > 0) & (n1 > 0) & (n2 > 0)
    e = m1 * n1 / n
    dev = abs(float(np.sum((a - e)[informative]))) - (0.5 if correct else 0.0)
    dev = max(dev, 0.0)
    v_hyp = (m1 * m2 * n1 * n2 / (n**2 * (n - 1)))[informative]
    v_bin = (m1 * m2 * n1 * n2 / n**3)[informative]
    out = {"CO": float(dev**2 / v_bin.sum()), "MH": float(dev**2 / v_hyp.sum())}
    out["COp"] = float(stats.chi2.sf(out["CO"], 1))
    out["MHp"] = float(stats.chi2.sf(out["MH"], 1))
    expected, variance = [], []
    for n1i, n2i, m1i in zip(n1[informative], n2[informative], m1[informative], strict=True):
        lo, hi = max(0.0, m1i - n2i), min(n1i, m1i)

        def f(x: float, n1i: float = n1i, n2i: float = n2i, m1i: float = m1i) -> float:
            return x * (n2i - m1i + x) - psi * (n1i - x) * (m1i - x)

        ea = optimize.brentq(f, lo, hi, xtol=1e-12) if hi > lo else lo
        expected.append(ea)
        variance.append(1 / (1 / ea + 1 / (n1i - ea) + 1 / (m1i - ea) + 1 / (n2i - m1i + ea)))
    ea, va = np.array(expected), np.array(variance)
    k = int(informative.sum())
    obs = a[informative]
    bd = float(np.sum((obs - ea) ** 2 / va))
    out["TA"] = bd - float(np.sum(obs) - np.sum(ea)) ** 2 / float(np.sum(va))
    out["TAp"] = float(stats.chi2.sf(out["TA"], k - 1)) if k > 1 else math.nan
    return out


def rma_peto(
    ai: Any = None,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    *,
    n1i: Any = None,
    n2i: Any = None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = True,
    level: float = 95,
    slab: Any = None,
) -> MetaResult:
    """Peto's one-step log odds ratio (metafor's ``rma.peto``).

    Pooled log OR = sum(O - E) / sum(V) with hypergeometric mean E and variance V per
    table; SE = 1 / sqrt(sum V); Q = sum((O - E)^2 / V) - (sum(O - E))^2 / sum(V) with
    k - 1 df (Yusuf et al. 1985). Parameters as in :func:`rma_mh`; ``add``/``to``/
    ``drop00`` only affect the per-study estimates shown in a forest plot.

    Returns
    -------
    MetaResult
    """
    a, b, c, d, keep = _tables("rma_peto", ai, bi, ci, di, n1i, n2i)
    n1, n2 = a + b, c + d
    n = n1 + n2
    m1, m2 = a + c, b + d
    e = m1 * n1 / n
    v = m1 * m2 * n1 * n2 / (n**2 * (n - 1))
    info = v > 0
    beta = float(np.sum((a - e)[info]) / v[info].sum())
    se = 1 / math.sqrt(v[info].sum())
    es = escalc("PETO", ai=a, bi=b, ci=c, di=d, add=add, to=to, drop00=drop00)
    result = _result(
        beta, se, level, es["yi"].to_numpy(), es["vi"].to_numpy(), _labels(slab, keep),
        "rma_peto", "PETO", {}, np.where(info, v, 0.0),
    )  # fmt: skip
    k_info = int(info.sum())
    q = float(np.sum(((a - e) ** 2 / v)[info]) - np.sum((a - e)[info]) ** 2 / v[info].sum())
    result.QE, result.QEdf = max(0.0, q), k_info - 1
    result.QEp = float(stats.chi2.sf(result.QE, k_info - 1)) if k_info > 1 else 1.0
    result.I2 = max(0.0, 100 * (result.QE - (k_info - 1)) / result.QE) if result.QE > 0 else 0.0
    result.H2 = result.QE / (k_info - 1) if k_info > 1 else 1.0
    return result


def _labels(slab: Any, keep: np.ndarray) -> np.ndarray:
    if slab is None:
        return np.array([str(i + 1) for i in np.flatnonzero(keep)], dtype=object)
    return np.asarray(list(slab), dtype=object)[keep]
