"""Convert statistics that impact evaluations report into effect sizes with variances.

Every function returns a :class:`Conversion` holding the value (``yi``), its sampling
variance (``vi``), the measure, the formula used and the inputs, so each computed number
can be traced and recomputed. Inputs may be scalars or 1-D arrays (broadcast together);
invalid inputs raise :class:`~evidence_synth.errors.EffectSizeError` naming the row
(0-based) and argument, after all problems are collected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .inputs import Problems, all_scalar, as_arrays, check_rows, scalar_or_array
from .means import cmi

_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Conversion:
    """A converted effect size with everything needed to recompute it.

    Attributes
    ----------
    yi : float or numpy.ndarray
        The effect size (analysis scale).
    vi : float or numpy.ndarray
        Its sampling variance.
    measure : str
        metafor measure code of the result (``SMD``, ``COR``, ``PCOR``, ``SPCOR``, ``OR``).
    formula : str
        Name and equation of the conversion, with its source.
    inputs : dict
        The arguments as given.
    extra : dict
        Further computed quantities (for example the corrected t, df and p of the WWC
        cluster correction).
    """

    yi: float | np.ndarray
    vi: float | np.ndarray
    measure: str
    formula: str
    inputs: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sei(self) -> float | np.ndarray:
        return np.sqrt(self.vi) if isinstance(self.vi, np.ndarray) else math.sqrt(self.vi)

    def to_frame(self) -> pd.DataFrame:
        """One row per value: ``yi``, ``vi``, ``measure``, ``formula``."""
        yi = np.atleast_1d(self.yi)
        return pd.DataFrame(
            {
                "yi": yi,
                "vi": np.broadcast_to(np.atleast_1d(self.vi), yi.shape),
                "measure": self.measure,
                "formula": self.formula,
            }
        )


def _prepare(
    name: str, rules: dict[str, Any], *, optional: dict[str, Any] | None = None, **values: Any
) -> tuple[dict[str, np.ndarray], bool]:
    """Arrays of the required ``values`` and the given ``optional`` ones, checked by ``rules``;
    and whether every input was a scalar."""
    optional = optional or {}
    problems = Problems(name)
    arrays, _ = as_arrays(problems, **values, **optional)
    for arg, value in values.items():
        if value is None:
            problems.add(None, arg, None, "a value")
    problems.raise_if_any()
    check_rows(problems, arrays, rules)
    problems.raise_if_any()
    return arrays, all_scalar(*values.values(), *optional.values())


def _result(
    yi: np.ndarray,
    vi: np.ndarray,
    scalar: bool,
    measure: str,
    formula: str,
    inputs: dict[str, Any],
    **extra: Any,
) -> Conversion:
    extra = {k: scalar_or_array(np.asarray(v, dtype=float), scalar) for k, v in extra.items()}
    return Conversion(
        scalar_or_array(yi, scalar), scalar_or_array(vi, scalar), measure, formula, inputs, extra
    )


_N = (lambda x: x < 2, ">= 2 (group size)")
_POS = (lambda x: x <= 0, "> 0")


def _d_variance(d: np.ndarray, n1: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Large-sample variance of d: (n1 + n2) / (n1 n2) + d^2 / (2 (n1 + n2)).

    Hedges & Olkin (1985, eq. 5.14); Lipsey & Wilson (2001, eq. 3.23).
    """
    return (n1 + n2) / (n1 * n2) + d**2 / (2 * (n1 + n2))


def _apply_correction(
    d: np.ndarray, v: np.ndarray, n1: np.ndarray, n2: np.ndarray, correct: bool
) -> tuple[np.ndarray, np.ndarray]:
    if not correct:
        return d, v
    c = cmi(n1 + n2 - 2)
    return c * d, c**2 * v


def d_from_t(t: Any, n1: Any, n2: Any, *, correct: bool = False) -> Conversion:
    """Standardised mean difference from an independent-groups t statistic.

    d = t * sqrt(1/n1 + 1/n2); vi = (n1 + n2)/(n1 n2) + d^2 / (2 (n1 + n2)).
    With ``correct=True`` both are multiplied by the exact Hedges correction c(n1+n2-2)
    (and its square), giving Hedges' g as metafor's SMD with ``vtype="LS2"``.

    Source: Lipsey & Wilson (2001, Table B10, eq. 3); Wilson (2016); esc::esc_t.

    Parameters
    ----------
    t : float or array
        t statistic of the two-group comparison (sign = direction: group 1 - group 2).
    n1, n2 : float or array
        Group sizes.
    correct : bool
        Apply the small-sample correction (Hedges' g).

    Returns
    -------
    Conversion
        ``measure="SMD"``.
    """
    a, scalar = _prepare("d_from_t", {"n1": _N, "n2": _N}, t=t, n1=n1, n2=n2)
    d = a["t"] * np.sqrt(1 / a["n1"] + 1 / a["n2"])
    d, v = _apply_correction(d, _d_variance(d, a["n1"], a["n2"]), a["n1"], a["n2"], correct)
    formula = "d_from_t: d = t*sqrt(1/n1 + 1/n2), v = (n1+n2)/(n1*n2) + d^2/(2(n1+n2))"
    return _result(d, v, scalar, "SMD", formula + (" x c(m)" if correct else ""),
                   {"t": t, "n1": n1, "n2": n2, "correct": correct})  # fmt: skip


def d_from_p(p: Any, n1: Any, n2: Any, *, direction: Any = 1, correct: bool = False) -> Conversion:
    """Standardised mean difference from a two-sided p-value of a two-group t-test.

    t = sign * qt(1 - p/2, df = n1 + n2 - 2), then :func:`d_from_t`. The p-value carries no
    sign, so ``direction`` (+1 / -1, or "positive" / "negative") gives it.

    Source: Lipsey & Wilson (2001, Table B10); esc::esc_t with ``p``.

    Parameters
    ----------
    p : float or array
        Two-sided p-value, 0 < p <= 1.
    n1, n2 : float or array
        Group sizes.
    direction : int, str or array
        Sign of the effect (group 1 - group 2).
    correct : bool
        Apply the small-sample correction (Hedges' g).

    Returns
    -------
    Conversion
        ``measure="SMD"``; ``extra["t"]`` is the recovered t statistic.
    """
    sign = _direction(direction)
    rules = {"p": (lambda x: (x <= 0) | (x > 1), "a two-sided p-value in (0, 1]"),
             "n1": _N, "n2": _N}  # fmt: skip
    a, scalar = _prepare("d_from_p", rules, p=p, n1=n1, n2=n2, direction=sign)
    t = a["direction"] * stats.t.isf(a["p"] / 2, a["n1"] + a["n2"] - 2)
    inner = d_from_t(t, a["n1"], a["n2"], correct=correct)
    formula = "d_from_p: t = sign*qt(1 - p/2, n1+n2-2); " + inner.formula
    return _result(np.atleast_1d(inner.yi), np.atleast_1d(inner.vi), scalar, "SMD", formula,
                   {"p": p, "n1": n1, "n2": n2, "direction": direction}, t=t)  # fmt: skip


def _direction(direction: Any) -> Any:
    mapping = {"positive": 1.0, "+": 1.0, "negative": -1.0, "-": -1.0}
    if isinstance(direction, str):
        if direction.lower() not in mapping:
            problems = Problems("d_from_p")
            problems.add(None, "direction", direction, "+1/-1 or 'positive'/'negative'")
            problems.raise_if_any()
        return mapping[direction.lower()]
    arr = np.asarray(direction, dtype=float)
    problems = Problems("d_from_p")
    problems.check("direction", np.atleast_1d(arr), ~np.isin(np.atleast_1d(arr), (-1, 1)),
                   "+1 or -1")  # fmt: skip
    problems.raise_if_any()
    return direction


def d_from_b(b: Any, sdy: Any, n1: Any, n2: Any, *, correct: bool = False) -> Conversion:
    """Standardised mean difference from an unstandardised regression coefficient.

    For a dummy-coded treatment with coefficient b and the total SD of the outcome
    sd_y: s_pooled = sqrt((sd_y^2 (N - 1) - b^2 n1 n2 / N) / (N - 2)), d = b / s_pooled,
    vi as in :func:`d_from_t` (N = n1 + n2). If the regression has covariates, b is the
    adjusted difference and d is standardised by the unadjusted within-group SD.

    Source: Wilson (2016, Formulas used by the Practical Meta-Analysis Effect Size
    Calculator); Lipsey & Wilson (2001); esc::esc_B.

    Returns
    -------
    Conversion
        ``measure="SMD"``; ``extra["s_pooled"]`` is the within-group SD used.
    """
    rules = {"sdy": _POS, "n1": _N, "n2": _N}
    a, scalar = _prepare("d_from_b", rules, b=b, sdy=sdy, n1=n1, n2=n2)
    n = a["n1"] + a["n2"]
    s_pooled = np.sqrt(
        np.abs(a["sdy"] ** 2 * (n - 1) - a["b"] ** 2 * a["n1"] * a["n2"] / n) / (n - 2)
    )
    d = a["b"] / s_pooled
    d, v = _apply_correction(d, _d_variance(d, a["n1"], a["n2"]), a["n1"], a["n2"], correct)
    formula = ("d_from_b: s = sqrt((sdy^2(N-1) - b^2 n1 n2/N)/(N-2)), d = b/s, "
               "v = (n1+n2)/(n1*n2) + d^2/(2(n1+n2))")  # fmt: skip
    return _result(d, v, scalar, "SMD", formula,
                   {"b": b, "sdy": sdy, "n1": n1, "n2": n2}, s_pooled=s_pooled)  # fmt: skip


def d_from_chisq(chisq: Any, n: Any, *, direction: Any = 1) -> Conversion:
    """Standardised mean difference from a 1-df chi-square of a 2x2 table.

    d = 2 sqrt(chisq / (N - chisq)); vi = d^2 / chisq. The chi-square has no sign, so
    ``direction`` (+1 / -1) gives it. Prefer :func:`escalc` with the 2x2 counts.

    Source: Lipsey & Wilson (2001, Table B10); Wilson (2016); esc::esc_chisq.

    Returns
    -------
    Conversion
        ``measure="SMD"``.
    """
    sign = _direction(direction)
    rules = {"chisq": _POS, "n": (lambda x: x < 2, ">= 2 (total sample size)")}
    a, scalar = _prepare("d_from_chisq", rules, chisq=chisq, n=n, direction=sign)
    problems = Problems("d_from_chisq")
    problems.check("chisq", a["chisq"], a["chisq"] >= a["n"], "< n")
    problems.raise_if_any()
    d = 2 * np.sqrt(a["chisq"] / (a["n"] - a["chisq"]))
    v = d**2 / a["chisq"]
    return _result(a["direction"] * d, v, scalar, "SMD",
                   "d_from_chisq: d = 2*sqrt(chisq/(N - chisq)), v = d^2/chisq",
                   {"chisq": chisq, "n": n, "direction": direction})  # fmt: skip


def partial_r_from_t(t: Any, n: Any, m: Any) -> Conversion:
    """Partial correlation of the focal predictor from its t statistic (metafor PCOR).

    With residual df = n - m - 1 (m = number of other predictors):
    r_p = t / sqrt(t^2 + df); vi = (1 - r_p^2)^2 / (n - m) (metafor >= 4.0).

    Source: Aloe & Thompson (2013); Stanley & Doucouliagos (2012); metafor escalc PCOR.

    Returns
    -------
    Conversion
        ``measure="PCOR"``.
    """
    rules = {"n": (lambda x: x < 2, ">= 2"), "m": (lambda x: x < 0, ">= 0")}
    a, scalar = _prepare("partial_r_from_t", rules, t=t, n=n, m=m)
    df = a["n"] - a["m"] - 1
    problems = Problems("partial_r_from_t")
    problems.check("n", a["n"], df <= 0, "n - m - 1 > 0 (residual df)")
    problems.raise_if_any()
    r = a["t"] / np.sqrt(a["t"] ** 2 + df)
    v = (1 - r**2) ** 2 / (a["n"] - a["m"])
    return _result(r, v, scalar, "PCOR",
                   "partial_r_from_t: r = t/sqrt(t^2 + n-m-1), v = (1-r^2)^2/(n-m)",
                   {"t": t, "n": n, "m": m})  # fmt: skip


def semipartial_r_from_t(t: Any, n: Any, m: Any, r2: Any) -> Conversion:
    """Semi-partial correlation of the focal predictor from its t statistic (metafor SPCOR).

    sr = t sqrt(1 - R^2) / sqrt(n - m - 1);
    vi = (R^4 - 2R^2 + (R^2 - sr^2) + 1 - (R^2 - sr^2)^2) / n, R^2 of the full model.

    Source: Aloe & Becker (2012); metafor escalc SPCOR.

    Returns
    -------
    Conversion
        ``measure="SPCOR"``.
    """
    rules = {"n": (lambda x: x < 2, ">= 2"), "m": (lambda x: x < 0, ">= 0"),
             "r2": (lambda x: (x < 0) | (x > 1), "an R^2 in [0, 1]")}  # fmt: skip
    a, scalar = _prepare("semipartial_r_from_t", rules, t=t, n=n, m=m, r2=r2)
    df = a["n"] - a["m"] - 1
    problems = Problems("semipartial_r_from_t")
    problems.check("n", a["n"], df <= 0, "n - m - 1 > 0 (residual df)")
    problems.raise_if_any()
    sr = a["t"] * np.sqrt(1 - a["r2"]) / np.sqrt(df)
    r2v = a["r2"]
    v = (r2v**2 - 2 * r2v + (r2v - sr**2) + 1 - (r2v - sr**2) ** 2) / a["n"]
    return _result(sr, v, scalar, "SPCOR",
                   "semipartial_r_from_t: sr = t*sqrt(1-R2)/sqrt(n-m-1), "
                   "v = (R2^2 - 2R2 + (R2 - sr^2) + 1 - (R2 - sr^2)^2)/n",
                   {"t": t, "n": n, "m": m, "r2": r2})  # fmt: skip


def dppc2(
    m_pre_t: Any,
    m_post_t: Any,
    sd_pre_t: Any,
    n_t: Any,
    m_pre_c: Any,
    m_post_c: Any,
    sd_pre_c: Any,
    n_c: Any,
    *,
    r: Any,
) -> Conversion:
    """Pre-post-control (difference-in-differences) standardised effect d_ppc2.

    d = c_p [(M_post,T - M_pre,T) - (M_post,C - M_pre,C)] / SD_pre, with the pooled
    pretest SD SD_pre = sqrt(((n_T-1) SD_pre,T^2 + (n_C-1) SD_pre,C^2) / (n_T+n_C-2)) and
    c_p = 1 - 3 / (4 (n_T + n_C - 2) - 1). Variance (Morris 2008, eq. 25, with d for
    delta): v = 2 c_p^2 (1 - r) ((n_T+n_C)/(n_T n_C)) ((n_T+n_C-2)/(n_T+n_C-4))
    (1 + d^2 / (2 (1 - r) (n_T+n_C)/(n_T n_C))) - d^2, r = pre-post correlation.

    Source: Morris, S. B. (2008). Estimating effect sizes from pretest-posttest-control
    group designs. Organizational Research Methods, 11(2), 364-386, eqs. 8-9 and 25.

    Returns
    -------
    Conversion
        ``measure="SMD"``; ``extra["sd_pre"]`` is the pooled pretest SD.
    """
    rules = {"sd_pre_t": _POS, "sd_pre_c": _POS, "n_t": _N, "n_c": _N,
             "r": (lambda x: np.abs(x) > 1, "a correlation in [-1, 1]")}  # fmt: skip
    a, scalar = _prepare(
        "dppc2", rules, m_pre_t=m_pre_t, m_post_t=m_post_t, sd_pre_t=sd_pre_t, n_t=n_t,
        m_pre_c=m_pre_c, m_post_c=m_post_c, sd_pre_c=sd_pre_c, n_c=n_c, r=r,
    )  # fmt: skip
    nt, nc = a["n_t"], a["n_c"]
    problems = Problems("dppc2")
    problems.check("n_t", nt, nt + nc <= 4, "n_t + n_c > 4")
    problems.raise_if_any()
    sd_pre = np.sqrt(
        ((nt - 1) * a["sd_pre_t"] ** 2 + (nc - 1) * a["sd_pre_c"] ** 2) / (nt + nc - 2)
    )
    cp = 1 - 3 / (4 * (nt + nc - 2) - 1)
    diff = (a["m_post_t"] - a["m_pre_t"]) - (a["m_post_c"] - a["m_pre_c"])
    d = cp * diff / sd_pre
    h = (nt + nc) / (nt * nc)
    v = (
        2
        * cp**2
        * (1 - a["r"])
        * h
        * ((nt + nc - 2) / (nt + nc - 4))
        * (1 + d**2 / (2 * (1 - a["r"]) * h))
        - d**2
    )
    inputs = {"m_pre_t": m_pre_t, "m_post_t": m_post_t, "sd_pre_t": sd_pre_t, "n_t": n_t,
              "m_pre_c": m_pre_c, "m_post_c": m_post_c, "sd_pre_c": sd_pre_c, "n_c": n_c,
              "r": r}  # fmt: skip
    return _result(d, v, scalar, "SMD", "dppc2 (Morris 2008, eqs. 8-9, 25)", inputs,
                   sd_pre=sd_pre)  # fmt: skip


def cluster_d(d: Any, n1: Any, n2: Any, *, cluster_size: Any, icc: Any) -> Conversion:
    """Effect size d_T and its variance for a cluster-randomised design (Hedges 2007).

    For a mean difference standardised by the total SD (ignoring clustering), with equal
    cluster size n, N = n1 + n2 individuals and intraclass correlation rho:
    d_T = d sqrt(1 - 2 (n - 1) rho / (N - 2)) and
    v = ((N)/(n1 n2)) (1 + (n - 1) rho) + d_T^2 ((N - 2)(1 - rho)^2 + n (N - 2n) rho^2
    + 2 (N - 2n) rho (1 - rho)) / (2 (N - 2) ((N - 2) - 2 (n - 1) rho)).
    With rho = 0 (or n = 1) d_T = d and v = 1/n1 + 1/n2 + d^2 / (2 (N - 2)).

    Source: Hedges, L. V. (2007). Effect sizes in cluster-randomized designs. JEBS, 32(4),
    341-370, eqs. 16 and 18 (equal cluster sizes). Also the WWC Procedures Handbook
    (v5.0, 2022), cluster adjustment of g.

    Returns
    -------
    Conversion
        ``measure="SMD"``.
    """
    rules = {"n1": _N, "n2": _N, "cluster_size": (lambda x: x < 1, ">= 1"),
             "icc": (lambda x: (x < 0) | (x >= 1), "an ICC in [0, 1)")}  # fmt: skip
    a, scalar = _prepare("cluster_d", rules, d=d, n1=n1, n2=n2, cluster_size=cluster_size,
                         icc=icc)  # fmt: skip
    n, rho = a["cluster_size"], a["icc"]
    N = a["n1"] + a["n2"]
    problems = Problems("cluster_d")
    problems.check("cluster_size", n, (N - 2) - 2 * (n - 1) * rho <= 0,
                   "(N - 2) - 2 (n - 1) icc > 0 (more clusters)")  # fmt: skip
    problems.raise_if_any()
    dt = a["d"] * np.sqrt(1 - 2 * (n - 1) * rho / (N - 2))
    num = (N - 2) * (1 - rho) ** 2 + n * (N - 2 * n) * rho**2 + 2 * (N - 2 * n) * rho * (1 - rho)
    v = N / (a["n1"] * a["n2"]) * (1 + (n - 1) * rho) + dt**2 * num / (
        2 * (N - 2) * ((N - 2) - 2 * (n - 1) * rho)
    )
    return _result(
        dt,
        v,
        scalar,
        "SMD",
        "cluster_d (Hedges 2007, eqs. 16, 18)",
        {"d": d, "n1": n1, "n2": n2, "cluster_size": cluster_size, "icc": icc},
    )


def wwc_cluster_correction(
    g: Any,
    n1: Any,
    n2: Any,
    *,
    n_clusters: Any,
    icc: Any,
    t: Any = None,
    p: Any = None,
) -> Conversion:
    """What Works Clearinghouse correction for a mismatched analysis of a cluster design.

    With N = n1 + n2 students in M clusters (average size n = N / M) and ICC rho:
    g is adjusted as in :func:`cluster_d` (its variance too), and the t statistic of an
    analysis that ignored clustering (given as ``t``, or as a two-sided ``p`` with the
    sign of ``g``) is corrected to
    t_a = t sqrt(((N - 2) - 2 (n - 1) rho) / ((N - 2)(1 + (n - 1) rho))) with
    h = ((N - 2) - 2 (n - 1) rho)^2 / ((N - 2)(1 - rho)^2 + n (N - 2n) rho^2
    + 2 (N - 2n) rho (1 - rho)) degrees of freedom, p_a = 2 P(T_h > |t_a|).
    The WWC default ICCs are 0.20 for achievement and 0.10 for other outcomes.

    Source: What Works Clearinghouse Procedures and Standards Handbook, version 5.0
    (2022), Appendix on clustering corrections; Hedges (2007).

    Returns
    -------
    Conversion
        ``yi`` = adjusted g, ``vi`` its variance; ``extra`` holds ``t_adjusted``, ``df``,
        ``p_adjusted`` (NaN when neither ``t`` nor ``p`` is given) and ``cluster_size``.
    """
    rules = {"n1": _N, "n2": _N, "n_clusters": (lambda x: x < 2, ">= 2 (clusters)"),
             "icc": (lambda x: (x < 0) | (x >= 1), "an ICC in [0, 1)"),
             "p": (lambda x: (x <= 0) | (x > 1), "a two-sided p-value in (0, 1]")}  # fmt: skip
    arrays, scalar = _prepare("wwc_cluster_correction", rules, optional={"t": t, "p": p},
                              g=g, n1=n1, n2=n2, n_clusters=n_clusters, icc=icc)  # fmt: skip
    k = len(arrays["g"])
    N = arrays["n1"] + arrays["n2"]
    n = N / arrays["n_clusters"]
    adjusted = cluster_d(arrays["g"], arrays["n1"], arrays["n2"], cluster_size=n,
                         icc=arrays["icc"])  # fmt: skip
    rho = arrays["icc"]
    if "t" in arrays:
        t_raw = arrays["t"]
    elif "p" in arrays:
        t_raw = np.sign(arrays["g"]) * stats.t.isf(arrays["p"] / 2, N - 2)
    else:
        t_raw = np.full(k, np.nan)
    t_adj = t_raw * np.sqrt(((N - 2) - 2 * (n - 1) * rho) / ((N - 2) * (1 + (n - 1) * rho)))
    h = ((N - 2) - 2 * (n - 1) * rho) ** 2 / (
        (N - 2) * (1 - rho) ** 2 + n * (N - 2 * n) * rho**2 + 2 * (N - 2 * n) * rho * (1 - rho)
    )
    p_adj = 2 * stats.t.sf(np.abs(t_adj), h)
    return _result(np.atleast_1d(adjusted.yi), np.atleast_1d(adjusted.vi), scalar, "SMD",
                   "wwc_cluster_correction (WWC Handbook v5.0; Hedges 2007)",
                   {"g": g, "n1": n1, "n2": n2, "n_clusters": n_clusters, "icc": icc, "t": t,
                    "p": p}, t_adjusted=t_adj, df=h, p_adjusted=p_adj,
                   cluster_size=n)  # fmt: skip


def d_to_logor(d: Any, vd: Any) -> Conversion:
    """d to log odds ratio (logistic distribution): lor = d pi / sqrt(3), v = vd pi^2 / 3.

    Source: Hasselblad & Hedges (1995); Chinn (2000); Borenstein et al. (2009, eq. 7.3-7.4);
    metafor D2ORL.
    """
    a, scalar = _prepare("d_to_logor", {"vd": (lambda x: x < 0, ">= 0")}, d=d, vd=vd)
    return _result(
        a["d"] * math.pi / _SQRT3,
        a["vd"] * math.pi**2 / 3,
        scalar,
        "OR",
        "d_to_logor: lor = d*pi/sqrt(3), v = vd*pi^2/3",
        {"d": d, "vd": vd},
    )


def logor_to_d(lor: Any, vlor: Any) -> Conversion:
    """Log odds ratio to d (logistic distribution): d = lor sqrt(3) / pi, v = vlor 3 / pi^2.

    Source: Hasselblad & Hedges (1995); Borenstein et al. (2009, eq. 7.1-7.2); metafor OR2DL.
    """
    a, scalar = _prepare("logor_to_d", {"vlor": (lambda x: x < 0, ">= 0")}, lor=lor, vlor=vlor)
    return _result(a["lor"] * _SQRT3 / math.pi, a["vlor"] * 3 / math.pi**2, scalar, "SMD",
                   "logor_to_d: d = lor*sqrt(3)/pi, v = vlor*3/pi^2",
                   {"lor": lor, "vlor": vlor})  # fmt: skip


def d_to_r(d: Any, vd: Any, n1: Any = None, n2: Any = None) -> Conversion:
    """d to the point-biserial correlation with the a-factor for unequal group sizes.

    a = (n1 + n2)^2 / (n1 n2) (a = 4 when the group sizes are equal or not given);
    r = d / sqrt(d^2 + a); vr = a^2 vd / (d^2 + a)^3.

    Source: Borenstein et al. (2009, Introduction to Meta-Analysis, eqs. 7.7-7.8).
    """
    if (n1 is None) != (n2 is None):
        problems = Problems("d_to_r")
        problems.add(None, "n1" if n1 is None else "n2", None, "both n1 and n2, or neither")
        problems.raise_if_any()
    rules = {"vd": (lambda x: x < 0, ">= 0"), "n1": _N, "n2": _N}
    if n1 is None:
        a, scalar = _prepare("d_to_r", rules, d=d, vd=vd)
        af = np.full(a["d"].shape, 4.0)
    else:
        a, scalar = _prepare("d_to_r", rules, d=d, vd=vd, n1=n1, n2=n2)
        af = (a["n1"] + a["n2"]) ** 2 / (a["n1"] * a["n2"])
    r = a["d"] / np.sqrt(a["d"] ** 2 + af)
    v = af**2 * a["vd"] / (a["d"] ** 2 + af) ** 3
    return _result(
        r,
        v,
        scalar,
        "COR",
        "d_to_r: a = (n1+n2)^2/(n1 n2), r = d/sqrt(d^2+a), v = a^2 vd/(d^2+a)^3",
        {"d": d, "vd": vd, "n1": n1, "n2": n2},
    )


def r_to_d(r: Any, vr: Any) -> Conversion:
    """Correlation to d: d = 2r / sqrt(1 - r^2), vd = 4 vr / (1 - r^2)^3.

    Source: Borenstein et al. (2009, eqs. 7.5-7.6); Rosenthal (1994).
    """
    rules = {"r": (lambda x: np.abs(x) >= 1, "a correlation in (-1, 1)"),
             "vr": (lambda x: x < 0, ">= 0")}  # fmt: skip
    a, scalar = _prepare("r_to_d", rules, r=r, vr=vr)
    d = 2 * a["r"] / np.sqrt(1 - a["r"] ** 2)
    v = 4 * a["vr"] / (1 - a["r"] ** 2) ** 3
    return _result(d, v, scalar, "SMD", "r_to_d: d = 2r/sqrt(1-r^2), v = 4 vr/(1-r^2)^3",
                   {"r": r, "vr": vr})  # fmt: skip
