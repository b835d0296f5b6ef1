"""Estimators of the between-study variance tau^2, as in metafor's ``rma.uni``.

Each estimator works on the (mean-centred) outcomes ``y``, sampling variances ``v`` and
model matrix ``X`` and returns ``(tau2, se_tau2, iterations)``. Iterative estimators use
metafor's algorithms, starting values and stopping rules, so they stop at the same
iterate as metafor; negative estimates are truncated at ``tau2_min`` (default 0).

References: DerSimonian & Laird (1986); Hedges (1983, "HE"); Hunter & Schmidt (2004);
Sidik & Jonkman (2005, 2007; "SJ", iterated "SJIT"); Paule & Mandel (1982; "PM", alias
"MP"); Morris (1983, "EB"); Viechtbauer (2005) for ML/REML Fisher scoring and the standard
errors; DerSimonian & Kacker (2007) for the generalised Q (GENQ) and iterated DL (DLIT)
estimators; Viechtbauer (2021) for the median-unbiased PM (PMM) and GENQ (GENQM)
estimators, which set Q to the median of its distribution instead of its mean.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from ..errors import EvidenceSynthError
from .quadform import chi2_mixture_sf

METHODS = (
    "EE",
    "FE",
    "CE",
    "DL",
    "DLIT",
    "HE",
    "HS",
    "HSk",
    "SJ",
    "SJIT",
    "ML",
    "REML",
    "EB",
    "PM",
    "MP",
    "PMM",
    "GENQ",
    "GENQM",
)


@dataclass(frozen=True)
class Control:
    """Control settings with metafor's names and defaults."""

    tau2_init: float | None = None
    tau2_min: float = 0.0
    tau2_max: float = 100.0
    threshold: float = 1e-5
    tol: float = np.finfo(float).eps ** 0.25
    maxiter: int = 100
    stepadj: float = 1.0
    ll0check: bool = True


def projection(X: np.ndarray, w: np.ndarray) -> np.ndarray:
    """P = W - W X (X'WX)^-1 X'W for diagonal weights ``w``."""
    W = np.diag(w)
    WX = W @ X
    return W - WX @ np.linalg.solve(X.T @ WX, WX.T)


def q_statistic(y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float) -> float:
    """Generalised Q: residual sum of squares with weights 1 / (v + tau2)."""
    P = projection(X, 1 / (v + tau2))
    return float(y @ P @ y)


def _mad(y: np.ndarray) -> float:
    return float(1.4826 * np.median(np.abs(y - np.median(y))))


def estimate_tau2(
    method: str,
    y: np.ndarray,
    v: np.ndarray,
    X: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    control: Control | None = None,
) -> tuple[float, float, int]:
    """Estimate tau^2 with ``method``; see the module docstring for the estimators."""
    con = control or Control()
    k, p = X.shape
    y = y - y.mean()  # metafor centres yi for stability; RSS is unchanged
    tau2_min = con.tau2_min
    iterations = 0

    if method in ("EE", "FE", "CE"):
        return 0.0, math.nan, 0
    if method in ("DL", "DLIT", "HS", "HSk", "PM", "MP", "PMM") and np.any(v <= 0):
        raise EvidenceSynthError(
            f"rma: the {method} estimator needs all sampling variances > 0 "
            f"(rows {', '.join(str(i) for i in np.flatnonzero(v <= 0))} are not)"
        )
    if k == 1:
        return 0.0, math.nan, 0

    if method in ("HS", "HSk"):
        w = 1 / v
        P = projection(X, w)
        rss = float(y @ P @ y)
        tau2 = (rss - k) / w.sum() if method == "HS" else (k / (k - p) * rss - k) / w.sum()
        t = max(tau2, 0.0)
        se = math.sqrt(
            (2 * (k - p) + 4 * t * np.trace(P) + 2 * t**2 * np.sum(P * P)) / w.sum() ** 2
        )
        if method == "HSk":
            se *= k / (k - p)
        return max(tau2_min, tau2), se, 0

    if method in ("HE", "ML", "REML", "EB"):
        P = np.eye(k) - X @ np.linalg.solve(X.T @ X, X.T)
        rss = float(y @ P @ y)
        PV = P * v  # P %*% diag(v)
        tr_pv = float(np.trace(PV))
        tau2 = (rss - tr_pv) / (k - p)
        if method == "HE":
            t = max(tau2, 0.0)
            se = math.sqrt(
                (2 * np.sum(PV * PV.T) + 4 * t * tr_pv + 2 * t**2 * (k - p)) / (k - p) ** 2
            )
            return max(tau2_min, tau2), se, 0
        tau2 = con.tau2_init if con.tau2_init is not None else max(0.0, tau2, tau2_min)
        tau2, iterations = _fisher_scoring(method, y, v, X, tau2, con)
        tau2 = max(tau2_min, tau2)
        w = 1 / (v + tau2)
        if method == "ML":
            se = math.sqrt(2 / np.sum(w**2))
        elif method == "REML":
            P = projection(X, w)
            se = math.sqrt(2 / np.sum(P * P))
        else:
            se = math.sqrt(2 * k**2 / (k - p) / w.sum() ** 2)
        return tau2, se, iterations

    if method == "DL":
        w = 1 / v
        P = projection(X, w)
        rss = float(y @ P @ y)
        tr_p = float(np.trace(P))
        tau2 = (rss - (k - p)) / tr_p
        t = max(tau2, 0.0)
        se = math.sqrt((2 * (k - p) + 4 * t * tr_p + 2 * t**2 * np.sum(P * P)) / tr_p**2)
        return max(tau2_min, tau2), se, 0

    if method == "DLIT":
        tau2 = con.tau2_init if con.tau2_init is not None else 0.0
        change = con.threshold + 1
        while change > con.threshold:
            iterations += 1
            old = tau2
            P = projection(X, 1 / (v + tau2))
            tau2 = (float(y @ P @ y) - float(np.trace(P * v))) / float(np.trace(P))
            tau2 = max(tau2, tau2_min)
            change = abs(old - tau2)
            if iterations > con.maxiter:
                raise EvidenceSynthError("rma: iterative DL estimator did not converge")
        w = 1 / (v + tau2)
        return tau2, math.sqrt(2 * k**2 / (k - p) / w.sum() ** 2), iterations

    if method in ("GENQ", "GENQM"):
        if weights is None:
            raise EvidenceSynthError(f"rma: method={method!r} needs 'weights'")
        P = projection(X, weights)
        PV = P * v
        tr_p = float(np.trace(P))
        if method == "GENQ":
            tau2 = (float(y @ P @ y) - float(np.trace(PV))) / tr_p
        else:
            tau2 = _genq_median(y, v, P, k - p, tau2_min, max(con.tau2_max, 10 * _mad(y) ** 2))
        t = max(tau2, 0.0)
        se = math.sqrt(
            (2 * np.sum(PV * PV.T) + 4 * t * np.sum(PV * P) + 2 * t**2 * np.sum(P * P)) / tr_p**2
        )
        return max(tau2_min, tau2), se, 0

    if method == "SJ":
        tau2_0 = con.tau2_init if con.tau2_init is not None else float(np.var(y))
        P = projection(X, 1 / (v + tau2_0))
        PV = P * v
        tau2 = tau2_0 * float(y @ P @ y) / (k - p)
        t = max(tau2, 0.0)
        se = math.sqrt(
            tau2_0**2
            / (k - p) ** 2
            * (2 * np.sum(PV * PV.T) + 4 * t * np.sum(PV * P) + 2 * t**2 * np.sum(P * P))
        )
        return max(tau2_min, tau2), se, 0

    if method == "SJIT":
        tau2 = con.tau2_init if con.tau2_init is not None else float(np.var(y))
        change = con.threshold + 1
        while change > con.threshold:
            iterations += 1
            old = tau2
            tau2 = tau2 * q_statistic(y, v, X, tau2) / (k - p)
            change = abs(old - tau2)
            if iterations > con.maxiter:
                raise EvidenceSynthError("rma: iterative SJ estimator did not converge")
        tau2 = max(tau2_min, tau2)
        w = 1 / (v + tau2)
        return tau2, math.sqrt(2 * k**2 / (k - p) / w.sum() ** 2), iterations

    if method in ("PM", "MP", "PMM"):
        tau2_max = max(con.tau2_max, 10 * _mad(y) ** 2)
        target = float(stats.chi2.median(k - p)) if method == "PMM" else k - p
        if q_statistic(y, v, X, tau2_min) < target:
            tau2 = tau2_min
        elif q_statistic(y, v, X, tau2_max) > target:
            raise EvidenceSynthError(
                f"rma: {method} estimate above tau2_max={tau2_max:g}; raise control tau2_max"
            )
        else:
            tau2 = optimize.brentq(
                lambda t: q_statistic(y, v, X, t) - target, tau2_min, tau2_max, xtol=1e-12
            )
        w = 1 / (v + tau2)
        return tau2, math.sqrt(2 * k**2 / (k - p) / w.sum() ** 2), 0

    raise EvidenceSynthError(
        f"rma: unknown method {method!r}; expected one of {', '.join(METHODS)}"
    )


def _genq_median(y: np.ndarray, v: np.ndarray, P: np.ndarray, df: int, tau2_min: float,
                 tau2_max: float) -> float:
    """tau^2 at which the observed generalised Q is the median of its distribution, a
    mixture of chi-squares with the ``df`` largest eigenvalues of S P S as weights
    (S = diag(sqrt(v + tau^2)))."""
    q_obs = float(y @ P @ y)

    def upper_tail(tau2: float) -> float:
        s = np.sqrt(v + tau2)
        lam = np.linalg.eigvalsh(s[:, None] * P * s[None, :])[::-1][:df]
        return chi2_mixture_sf(q_obs, lam)

    if upper_tail(tau2_min) > 0.5:
        return tau2_min
    if upper_tail(tau2_max) < 0.5:
        raise EvidenceSynthError(
            f"rma: GENQM estimate above tau2_max={tau2_max:g}; raise control tau2_max"
        )
    return optimize.brentq(lambda t: upper_tail(t) - 0.5, tau2_min, tau2_max, xtol=1e-12)


def _fisher_scoring(
    method: str, y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float, con: Control
) -> tuple[float, int]:
    """metafor's Fisher scoring for ML/REML/EB (step halving keeps tau2 >= tau2_min)."""
    k, p = X.shape
    change = con.threshold + 1
    iterations = 0
    while change > con.threshold:
        iterations += 1
        old = tau2
        w = 1 / (v + tau2)
        P = projection(X, w)
        if method == "ML":
            PP = P @ P
            adj = (float(y @ PP @ y) - w.sum()) / np.sum(w**2)
        elif method == "REML":
            PP = P @ P
            adj = (float(y @ PP @ y) - np.trace(P)) / np.trace(PP)
        else:  # EB
            adj = (float(y @ P @ y) * k / (k - p) - k) / w.sum()
        adj *= con.stepadj
        if not np.isfinite(adj):
            adj = 0.0
        while tau2 + adj < con.tau2_min:
            adj /= 2
        tau2 = tau2 + adj
        change = abs(old - tau2)
        if iterations > con.maxiter:
            raise EvidenceSynthError(
                "rma: Fisher scoring did not converge; try control={'stepadj': 0.5} or more maxiter"
            )
    if method in ("ML", "REML") and con.ll0check and tau2 > con.threshold:
        reml = method == "REML"
        if loglik(y, v, X, 0.0, reml) - loglik(y, v, X, tau2, reml) > con.tol:
            tau2 = 0.0
    return tau2, iterations


def loglik(y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float, reml: bool,
           beta: np.ndarray | None = None) -> float:
    """ML or REML log-likelihood (metafor's definition without the REMLf constant) at
    ``beta`` (default: the inverse-variance weighted estimate)."""
    k, p = X.shape
    w = 1 / (v + tau2)
    XtWX = X.T @ (w[:, None] * X)
    if beta is None:
        beta = np.linalg.solve(XtWX, X.T @ (w * y))
    rss = float(np.sum(w * (y - X @ beta) ** 2))
    if not reml:
        return -0.5 * k * math.log(2 * math.pi) - 0.5 * float(np.sum(np.log(v + tau2))) - 0.5 * rss
    _, logdet = np.linalg.slogdet(XtWX)
    _, logdet_xx = np.linalg.slogdet(X.T @ X)
    return (
        -0.5 * (k - p) * math.log(2 * math.pi)
        + 0.5 * logdet_xx
        - 0.5 * float(np.sum(np.log(v + tau2)))
        - 0.5 * logdet
        - 0.5 * rss
    )
