"""``rma``: equal-, random- and mixed-effects meta-analysis (metafor's ``rma.uni``)."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..effects.inputs import Problems
from ..errors import DataQualityWarning, EffectSizeError, EvidenceSynthError
from .result import MetaResult
from .tau2 import METHODS, Control, estimate_tau2, loglik, projection

TESTS = ("z", "knha", "adhoc", "t")


def rma(
    yi: Any,
    vi: Any = None,
    *,
    sei: Any = None,
    weights: Any = None,
    method: str = "REML",
    mods: Any = None,
    intercept: bool = True,
    test: str = "z",
    level: float = 95,
    data: pd.DataFrame | None = None,
    tau2: float | None = None,
    slab: Any = None,
    control: dict[str, Any] | None = None,
) -> MetaResult:
    """Fit an equal-, random- or mixed-effects meta-analysis like metafor's ``rma``.

    Parameters
    ----------
    yi : array-like or str
        Effect sizes (a column name of ``data`` if ``data`` is given).
    vi, sei : array-like or str
        Sampling variances, or standard errors (``vi = sei**2``); one is required.
    weights : array-like or str, optional
        User weights instead of inverse-variance weights (also needed for ``GENQ``).
    method : str
        ``"EE"``/``"FE"`` (equal/fixed effects), ``"DL"`` (DerSimonian-Laird), ``"REML"``
        (default), ``"ML"``, ``"PM"`` (Paule-Mandel; alias ``"MP"``), ``"PMM"`` (median-
        unbiased PM), ``"HE"`` (Hedges), ``"SJ"`` (Sidik-Jonkman), ``"SJIT"`` (iterated
        SJ), ``"HS"`` (Hunter-Schmidt), ``"HSk"``, ``"EB"`` (empirical Bayes), ``"DLIT"``
        (iterated DL), ``"GENQ"`` or ``"GENQM"`` (generalised Q, and its median-unbiased
        version, with ``weights``).
    mods : array-like, DataFrame, str or list of str, optional
        Moderators: an array (k,) or (k, m), a DataFrame (its columns), or column names of
        ``data``. An intercept is added unless ``intercept=False`` (as metafor).
    test : {"z", "knha", "adhoc", "t"}
        z-tests, Knapp-Hartung adjusted t/F-tests (``"knha"``), the ad hoc version that
        never lets the adjustment shrink the variances (``"adhoc"``: Knapp & Hartung 2003),
        or t/F-tests without the adjustment (``"t"``). With k = 1, z-tests are used.
    level : float
        Confidence level in percent.
    data : pandas.DataFrame, optional
        Source of columns named in ``yi``, ``vi``, ``sei``, ``weights``, ``mods``, ``slab``.
    tau2 : float, optional
        Fix tau^2 at this value instead of estimating it.
    slab : array-like or str, optional
        Study labels (used by :func:`forest_plot`).
    control : dict, optional
        metafor's control settings: ``tau2_init``, ``tau2_min``, ``tau2_max``,
        ``threshold``, ``tol``, ``maxiter``, ``stepadj``, ``ll0check``.

    Returns
    -------
    MetaResult
        With metafor's names: ``beta``, ``se``, ``zval``, ``pval``, ``ci_lb``, ``ci_ub``,
        ``tau2``, ``se_tau2``, ``tau``, ``I2``, ``H2``, ``QE``, ``QEp``, ``QM``, ``QMp``,
        ``R2``, ``k``, ``p``; ``.summary()``, ``.to_frame()``, ``.predict()``.

    Raises
    ------
    EffectSizeError
        Invalid arguments (named with their row), more parameters than studies, or a
        model matrix that is not of full rank after dropping redundant moderators.

    Warns
    -----
    DataQualityWarning
        Redundant moderators dropped (linear combinations of others, or more than k),
        non-positive sampling variances, an extreme ratio of sampling variances, the
        Knapp-Hartung test with an equal-effects model, k = 1 with a t-test (as metafor).

    Notes
    -----
    Rows with a missing ``yi``, ``vi`` or moderator are dropped with a warning (metafor's
    ``na.omit``). Degenerate data give what metafor gives: identical effects with
    ``test="knha"`` have standard errors 0 and ``QM`` NaN; ``k = p`` in an equal-effects
    model fits exactly (``QE = 0``). Iterative estimators follow metafor's algorithms and
    stopping rules (Fisher scoring for ML/REML/EB from the HE estimate, threshold 1e-5;
    PM by root finding of the generalised Q, PMM and GENQM of its median, solved to 1e-12
    where metafor's ``uniroot`` stops at 1.2e-4).
    With a fixed ``tau2``, ``se_tau2`` is NaN (metafor reports the estimator's formula).
    R^2 is metafor's default (Raudenbush 1994): ``(tau2_RE - tau2) / tau2_RE`` in percent,
    with ``tau2_RE`` from the intercept-only model fitted with the same method.

    References
    ----------
    Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in
    the random-effects model. JEBS, 30(3), 261-293. Viechtbauer, W. (2021). Median-
    unbiased estimators of tau^2 (metafor's PMM and GENQM). Knapp, G., & Hartung, J.
    (2003).
    Improved tests for a random effects meta-regression with a single covariate. Stat
    Med, 22, 2693-2710. Higgins, J. P. T., & Thompson, S. G. (2002). Quantifying
    heterogeneity in a meta-analysis. Stat Med, 21, 1539-1558.
    """
    problems = Problems("rma")
    method = "HSk" if str(method).upper() == "HSK" else str(method).upper()
    if method not in METHODS:
        problems.add(None, "method", method, f"one of {', '.join(METHODS)}")
    if test not in TESTS:
        problems.add(None, "test", test, f"one of {', '.join(TESTS)}")
    y = _column(yi, data, "yi", problems)
    if vi is not None:
        v = _column(vi, data, "vi", problems)
    elif sei is not None:
        s = _column(sei, data, "sei", problems)
        v = None if s is None else s**2
    else:
        problems.add(None, "vi", None, "sampling variances (vi) or standard errors (sei)")
        v = None
    w_user = None if weights is None else _column(weights, data, "weights", problems)
    if method in ("GENQ", "GENQM") and weights is None:
        problems.add(None, "weights", None, f"user weights (method {method!r} needs them)")
    Xm, mod_names = _moderators(mods, data, problems)
    problems.raise_if_any()
    assert y is not None and v is not None
    k_all = len(y)
    labels = np.asarray(
        _column(slab, data, "slab", problems, numeric=False)
        if slab is not None
        else [str(i + 1) for i in range(k_all)],
        dtype=object,
    )
    for name, arr in (("vi", v), ("weights", w_user), ("mods", Xm), ("slab", labels)):
        if arr is not None and len(arr) != k_all:
            problems.add(None, name, None, f"length {k_all} (as yi), found {len(arr)}")
    problems.raise_if_any()
    problems.check("vi", v, v < 0, ">= 0 (a sampling variance)")
    if w_user is not None:
        problems.check("weights", w_user, w_user < 0, ">= 0")
    problems.raise_if_any()

    ok = ~(np.isnan(y) | np.isnan(v))
    if Xm is not None:
        ok &= ~np.isnan(Xm).any(axis=1)
    if w_user is not None:
        ok &= ~np.isnan(w_user)
    if not ok.all():
        dropped = ", ".join(str(i) for i in np.flatnonzero(~ok))
        warnings.warn(f"rma: rows with missing values omitted (rows {dropped})", stacklevel=2)
    y, v, labels = y[ok], v[ok], labels[ok]
    w_user = None if w_user is None else w_user[ok]
    Xm = None if Xm is None else Xm[ok]
    X, names = _design(Xm, mod_names, intercept, len(y))
    intercept = intercept or Xm is None
    unknown = sorted(set(control or {}) - set(Control.__dataclass_fields__))
    if unknown:
        problems.add(
            None, "control", unknown, f"keys among {', '.join(Control.__dataclass_fields__)}"
        )
        problems.raise_if_any()
    con = Control(**(control or {}))
    return _fit(y, v, X, names, intercept, method, test, level, tau2, w_user, labels, con)


def _column(
    value: Any, data: pd.DataFrame | None, name: str, problems: Problems, numeric: bool = True
) -> np.ndarray | None:
    if isinstance(value, str):
        if data is None or value not in data.columns:
            problems.add(None, name, value, "a column of 'data'")
            return None
        value = data[value]
    if not numeric:
        return np.asarray(list(value), dtype=object)
    try:
        if isinstance(value, pd.Series):
            return value.to_numpy(dtype=float, na_value=np.nan)
        arr = np.atleast_1d(np.asarray(value, dtype=float))
    except (TypeError, ValueError):
        problems.add(None, name, None, "numbers")
        return None
    if arr.ndim != 1:
        problems.add(None, name, None, f"a 1-D array, found shape {arr.shape}")
        return None
    return arr


def _moderators(
    mods: Any, data: pd.DataFrame | None, problems: Problems
) -> tuple[np.ndarray | None, list[str]]:
    if mods is None:
        return None, []
    if isinstance(mods, str):
        mods = [mods]
    if isinstance(mods, list | tuple) and all(isinstance(m, str) for m in mods):
        if data is None:
            problems.add(None, "mods", mods, "column names together with 'data'")
            return None, []
        missing = [m for m in mods if m not in data.columns]
        if missing:
            problems.add(None, "mods", missing, "columns of 'data'")
            return None, []
        mods = data[list(mods)]
    if isinstance(mods, pd.Series):
        mods = mods.to_frame()
    if isinstance(mods, pd.DataFrame):
        try:
            return mods.to_numpy(dtype=float, na_value=np.nan), [str(c) for c in mods.columns]
        except (TypeError, ValueError):
            problems.add(None, "mods", None, "numeric columns (dummy-code categories first)")
            return None, []
    arr = np.asarray(mods, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    names = ["mods"] if arr.shape[1] == 1 else [f"mods{j + 1}" for j in range(arr.shape[1])]
    return arr, names


def _design(
    Xm: np.ndarray | None, names: list[str], intercept: bool, k: int
) -> tuple[np.ndarray, tuple[str, ...]]:
    cols, labels = [], []
    if intercept:
        cols.append(np.ones((k, 1)))
        labels.append("intrcpt")
    if Xm is not None:
        cols.append(Xm)
        labels.extend(names)
    if not cols:
        warnings.warn("rma: no intercept and no moderators; an intercept is added (as metafor)",
                      DataQualityWarning, stacklevel=3)
        cols, labels = [np.ones((k, 1))], ["intrcpt"]
    return np.hstack(cols), tuple(labels)


def _fit(
    y: np.ndarray,
    v: np.ndarray,
    X: np.ndarray,
    names: tuple[str, ...],
    intercept: bool,
    method: str,
    test: str,
    level: float,
    tau2_fixed: float | None,
    w_user: np.ndarray | None,
    labels: np.ndarray,
    con: Control,
    skip_r2: bool = False,
) -> MetaResult:
    k = len(y)
    if k == 1 and test != "z":
        _warn("test='z' used since k = 1")
        test = "z"
    X, names = _drop_redundant(y, X, names)
    k, p = X.shape
    int_only = p == 1 and intercept
    equal = method in ("EE", "FE", "CE")
    if not (int_only and k == 1):
        needed = p if equal or tau2_fixed is not None else p + 1
        if needed > k:
            raise EffectSizeError(
                f"rma: {needed} parameters to estimate ({p} coefficients"
                f"{'' if needed == p else ' and tau^2'}) but only k = {k} studies"
            )
    if np.any(np.linalg.eigvalsh(X.T @ X) <= 1e-7):
        raise EffectSizeError("rma: model matrix not of full rank; cannot fit the model")
    if np.any(v <= 0) and not skip_r2:
        _warn("there are studies with non-positive sampling variances")
    if np.all(v > 0) and np.max(v) / np.min(v) >= 1e7 and not skip_r2:
        _warn("ratio of largest to smallest sampling variance extremely large; results may "
              "not be stable")
    if tau2_fixed is not None and not equal:
        tau2, se_tau2, iterations = float(tau2_fixed), math.nan, 0
    else:
        tau2, se_tau2, iterations = estimate_tau2(method, y, v, X, weights=w_user, control=con)
    w = 1 / (v + tau2)
    if np.any(~np.isfinite(w)):
        raise EvidenceSynthError("rma: division by zero in the weights (vi = 0 with tau2 = 0)")
    XtWX = X.T @ (w[:, None] * X)
    vb = np.linalg.inv(XtWX)
    beta_iv = vb @ (X.T @ (w * y))
    if w_user is not None:
        A = w_user
        inv_xax = np.linalg.inv(X.T @ (A[:, None] * X))
        beta = inv_xax @ (X.T @ (A * y))
        vb = inv_xax @ (X.T * (A**2 * (v + tau2))) @ X @ inv_xax
        used_w = A
    else:
        beta = beta_iv
        used_w = w
    if test in ("knha", "adhoc"):
        if equal and not skip_r2:
            _warn(f"the Knapp-Hartung method is not meant for {method} models")
        rss = float(np.sum(w * (y - X @ beta_iv) ** 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            s2w = 0.0 if rss <= np.finfo(float).eps else rss / (k - p)
        if test == "adhoc":
            s2w = max(s2w, 1.0)  # Knapp & Hartung (2003): never narrower than the z-test
        vb = s2w * vb
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        zval = beta / se
    btt = list(range(1, p)) if intercept and p > 1 else list(range(p))
    m = len(btt)
    QM = _wald(beta[btt], vb[np.ix_(btt, btt)])
    alpha = 1 - level / 100
    if test in ("knha", "adhoc", "t"):
        ddf = k - p
        QM /= m
        QMp = float(stats.f.sf(QM, m, ddf)) if ddf > 0 else math.nan
        pval = 2 * stats.t.sf(np.abs(zval), ddf) if ddf > 0 else np.full(p, math.nan)
        crit = float(stats.t.isf(alpha / 2, ddf)) if ddf > 0 else math.nan
        QMdf: tuple[int, float] = (m, float(ddf))
    else:
        QMp = float(stats.chi2.sf(QM, m))
        pval = 2 * stats.norm.sf(np.abs(zval))
        crit = float(stats.norm.isf(alpha / 2))
        QMdf = (m, math.nan)

    QE, QEp, I2, H2 = _heterogeneity(y, v, X, tau2, method)
    R2 = None
    if intercept and p > 1 and not skip_r2:
        R2 = _r2(y, v, X, tau2, method, test, level, w_user, labels, con)
    return MetaResult(
        beta=beta, se=se, zval=zval, pval=np.asarray(pval), ci_lb=beta - crit * se,
        ci_ub=beta + crit * se, vb=vb, coef_names=names, tau2=tau2, se_tau2=se_tau2,
        I2=I2, H2=H2, QE=QE, QEp=QEp, QEdf=k - p, QM=QM, QMp=QMp, QMdf=QMdf, k=k, p=p,
        method=method, test=test, level=level, model="rma", yi=y, vi=v, X=X,
        weights=100 * used_w / used_w.sum(), slab=labels, R2=R2,
        fit_stats=_fit_stats(y, v, X, beta, tau2, method, tau2_fixed is not None),
        iterations=iterations, intercept=intercept,
    )  # fmt: skip


def _warn(message: str) -> None:
    warnings.warn(f"rma: {message}", DataQualityWarning, stacklevel=4)


def _drop_redundant(
    y: np.ndarray, X: np.ndarray, names: tuple[str, ...]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Drop moderators that are linear combinations of earlier columns (or beyond k),
    with a warning, as metafor does (it asks ``lm`` which coefficients are aliased: a
    column whose residual on the kept columns is below 1e-7 of its norm)."""
    keep: list[int] = []
    for j in range(X.shape[1]):
        col = X[:, j]
        norm = float(np.linalg.norm(col))
        if keep:
            basis = X[:, keep]
            coef, *_ = np.linalg.lstsq(basis, col, rcond=None)
            resid = float(np.linalg.norm(col - basis @ coef))
        else:
            resid = norm
        if norm > 0 and resid > 1e-7 * norm:
            keep.append(j)
    if len(keep) < X.shape[1]:
        dropped = ", ".join(n for j, n in enumerate(names) if j not in keep)
        _warn(f"redundant predictors dropped: {dropped}")
        return X[:, keep], tuple(names[j] for j in keep)
    return X, names


def _wald(b: np.ndarray, V: np.ndarray) -> float:
    """b' V^-1 b, or NaN where V is not positive definite (metafor's ``chol2inv(chol())``),
    e.g. all standard errors 0 after a Knapp-Hartung fit of identical effects."""
    try:
        L = np.linalg.cholesky(V)
    except np.linalg.LinAlgError:
        return math.nan
    z = np.linalg.solve(L, b)
    return float(z @ z)


def _heterogeneity(
    y: np.ndarray, v: np.ndarray, X: np.ndarray, tau2: float, method: str
) -> tuple[float, float, float, float]:
    """QE with inverse-variance weights; I2/H2 via the typical variance (k - p) / tr(P)."""
    k, p = X.shape
    if np.any(v <= 0):
        return math.nan, math.nan, math.nan, math.nan
    if k <= p:
        return 0.0, 1.0, 0.0, 1.0
    P = projection(X, 1 / v)
    yc = y - y.mean()
    QE = max(0.0, float(yc @ P @ yc))
    QEp = float(stats.chi2.sf(QE, k - p))
    if method in ("EE", "FE", "CE"):
        I2 = max(0.0, 100 * (QE - (k - p)) / QE) if QE > 0 else 0.0
        return QE, QEp, I2, QE / (k - p)
    vt = (k - p) / float(np.trace(P))
    return QE, QEp, 100 * tau2 / (vt + tau2), tau2 / vt + 1


def _r2(
    y: np.ndarray,
    v: np.ndarray,
    X: np.ndarray,
    tau2: float,
    method: str,
    test: str,
    level: float,
    w_user: np.ndarray | None,
    labels: np.ndarray,
    con: Control,
) -> float | None:
    """metafor's R^2: for equal-effects models the adjusted R^2 of the weighted least
    squares fit (0 when all effects are identical, NaN when k = p and the fit is exact);
    otherwise the proportional reduction of tau^2 from the intercept-only model."""
    k, p = X.shape
    if method in ("EE", "FE", "CE"):
        if np.var(y) == 0:
            return 0.0
        w = w_user if w_user is not None else 1 / v
        fitted = X @ np.linalg.lstsq(np.sqrt(w)[:, None] * X, np.sqrt(w) * y, rcond=None)[0]
        mean = np.sum(w * fitted) / w.sum()
        mss = float(np.sum(w * (fitted - mean) ** 2))
        rss = float(np.sum(w * (y - fitted) ** 2))
        r2 = mss / (mss + rss)
        with np.errstate(divide="ignore", invalid="ignore"):
            adjusted = 1 - (1 - r2) * np.float64(k - 1) / np.float64(k - p)
        return math.nan if math.isnan(adjusted) else max(0.0, 100 * float(adjusted))
    try:
        tau2_re = _fit(
            y, v, np.ones((k, 1)), ("intrcpt",), True, method, test, level, None, w_user, labels,
            con, skip_r2=True,
        ).tau2  # fmt: skip
    except EvidenceSynthError:
        return None
    if tau2_re == 0:
        return 0.0
    return max(0.0, 100 * (tau2_re - tau2) / tau2_re)


def _fit_stats(
    y: np.ndarray, v: np.ndarray, X: np.ndarray, beta: np.ndarray, tau2: float, method: str,
    fixed: bool,
) -> pd.DataFrame:
    """metafor's fit statistics at the fitted ``beta`` (user weights included); BIC under
    REML is -inf when k = p, as R's log(0) makes it."""
    k, p = X.shape
    parms = p + (0 if method in ("EE", "FE", "CE") or fixed else 1)
    ll_ml = loglik(y, v, X, tau2, reml=False, beta=beta)
    ll_reml = loglik(y, v, X, tau2, reml=True, beta=beta)
    sat = float(np.sum(stats.norm.logpdf(y, y, np.sqrt(v)))) if np.all(v > 0) else 0.0
    rows = {}
    for name, ll, n_eff in (("ML", ll_ml, k), ("REML", ll_reml, k - p)):
        if name == "ML":
            dev = -2 * (ll - sat) if k > p else 0.0
        else:
            dev = -2 * ll
        top = max(n_eff, parms + 2)
        rows[name] = {
            "ll": ll,
            "dev": dev,
            "AIC": -2 * ll + 2 * parms,
            "BIC": -2 * ll + parms * (math.log(n_eff) if n_eff > 0 else -math.inf),
            "AICc": -2 * ll + 2 * parms * top / (top - parms - 1),
        }
    return pd.DataFrame(rows)
