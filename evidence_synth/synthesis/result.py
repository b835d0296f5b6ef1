"""``MetaResult``: the fitted meta-analysis with metafor's result names."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

MODEL_TITLES = {
    "EE": "Equal-Effects Model",
    "FE": "Fixed-Effects Model",
    "CE": "Common-Effects Model",
}


@dataclass
class MetaResult:
    """Result of :func:`rma`, :func:`rma_mh` or :func:`rma_peto` (metafor's names).

    Attributes
    ----------
    beta, se, zval, pval, ci_lb, ci_ub : numpy.ndarray
        Coefficients (length ``p``), standard errors, test statistics (z, or t when
        ``test`` is ``"knha"``/``"t"``; also available as ``tval``), p-values and
        confidence limits. ``coef_names`` names them (``"intrcpt"`` for the intercept).
    vb : numpy.ndarray
        Variance-covariance matrix of ``beta``.
    tau2, se_tau2, tau : float
        Between-study variance, its standard error (NaN where metafor gives none) and SD.
    I2, H2 : float
        I^2 (percent) and H^2 (Higgins & Thompson 2002; metafor's general definition via
        the 'typical' within-study variance for models with moderators).
    QE, QEp, QEdf : float
        Test for (residual) heterogeneity.
    QM, QMp, QMdf : float
        Omnibus test of the moderators (of all coefficients without an intercept);
        ``QMdf`` is ``(m, ddf)`` for F-tests.
    R2 : float or None
        Proportion of tau^2 explained by the moderators (percent), for models with an
        intercept and moderators.
    k, p : int
        Number of studies used and of coefficients.
    method, test, level, model : str / float
        Estimator, test type, confidence level and function that fitted the model.
    yi, vi, weights, slab : numpy.ndarray
        The data used (after dropping missing rows) and the weights (percent).
    fit_stats : pandas.DataFrame
        Log-likelihood, deviance, AIC, BIC, AICc under ML and REML.
    tests : dict
        Extra tests of ``rma_mh``: ``CO``, ``COp``, ``MH``, ``MHp``, ``BD``, ``BDp``, ``TA``,
        ``TAp`` for odds ratios; ``MH``, ``MHp`` for rate ratios.
    """

    beta: np.ndarray
    se: np.ndarray
    zval: np.ndarray
    pval: np.ndarray
    ci_lb: np.ndarray
    ci_ub: np.ndarray
    vb: np.ndarray
    coef_names: tuple[str, ...]
    tau2: float
    se_tau2: float
    I2: float
    H2: float
    QE: float
    QEp: float
    QEdf: int
    QM: float
    QMp: float
    QMdf: tuple[int, float]
    k: int
    p: int
    method: str
    test: str
    level: float
    model: str
    yi: np.ndarray
    vi: np.ndarray
    X: np.ndarray
    weights: np.ndarray
    slab: np.ndarray
    R2: float | None = None
    fit_stats: pd.DataFrame | None = None
    tests: dict[str, float] = field(default_factory=dict)
    measure: str | None = None
    iterations: int = 0
    intercept: bool = True

    @property
    def tau(self) -> float:
        return math.sqrt(self.tau2) if self.tau2 >= 0 else math.nan

    @property
    def tval(self) -> np.ndarray:
        return self.zval

    @property
    def ddf(self) -> float:
        return self.k - self.p if self.test in ("knha", "t") else math.nan

    @property
    def int_only(self) -> bool:
        return self.p == 1 and self.intercept

    def _crit(self, level: float | None = None) -> float:
        alpha = 1 - (level if level is not None else self.level) / 100
        if self.test in ("knha", "t"):
            return float(stats.t.isf(alpha / 2, self.k - self.p))
        return float(stats.norm.isf(alpha / 2))

    def predict(
        self,
        newmods: Any = None,
        *,
        level: float | None = None,
        transf: Any = None,
    ) -> pd.DataFrame:
        """Predicted (pooled) effects with confidence and prediction intervals.

        Parameters
        ----------
        newmods : array-like, optional
            Moderator values (without the intercept column) for meta-regression models;
            default: the pooled estimate of an intercept-only model, or the fitted values.
        level : float, optional
            Confidence level in percent (default: the model's).
        transf : callable, optional
            Applied to ``pred`` and the interval limits (e.g. ``numpy.exp``); ``se`` is
            then dropped, as in metafor.

        Returns
        -------
        pandas.DataFrame
            Columns ``pred``, ``se``, ``ci_lb``, ``ci_ub``, ``pi_lb``, ``pi_ub``. The
            prediction interval is ``pred +- crit * sqrt(se^2 + tau2)`` with crit from the
            normal or (for ``knha``/``t``) the t-distribution with k - p df.
        """
        if newmods is None:
            Xn = self.X[:1] if self.int_only else self.X
        else:
            Xn = np.asarray(newmods, dtype=float)
            n_mods = self.p - int(self.intercept)
            if Xn.ndim <= 1:
                Xn = Xn.reshape(-1, 1) if n_mods == 1 else Xn.reshape(1, -1)
            if self.intercept:
                Xn = np.column_stack([np.ones(Xn.shape[0]), Xn])
        pred = Xn @ self.beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", Xn, self.vb, Xn))
        crit = self._crit(level)
        out = pd.DataFrame(
            {
                "pred": pred,
                "se": se,
                "ci_lb": pred - crit * se,
                "ci_ub": pred + crit * se,
                "pi_lb": pred - crit * np.sqrt(se**2 + self.tau2),
                "pi_ub": pred + crit * np.sqrt(se**2 + self.tau2),
            }
        )
        if transf is not None:
            out = out.drop(columns="se")
            for col in out.columns:
                out[col] = transf(out[col].to_numpy())
        return out

    def to_frame(self) -> pd.DataFrame:
        """Coefficient table with columns ``estimate``, ``se``, ``zval`` (or ``tval``),
        ``pval``, ``ci_lb``, ``ci_ub``, indexed by coefficient name."""
        stat = "tval" if self.test in ("knha", "t") else "zval"
        return pd.DataFrame(
            {
                "estimate": self.beta,
                "se": self.se,
                stat: self.zval,
                "pval": self.pval,
                "ci_lb": self.ci_lb,
                "ci_ub": self.ci_ub,
            },
            index=pd.Index(self.coef_names, name="coef"),
        )

    def _title(self) -> str:
        if self.model == "rma_mh":
            return f"Equal-Effects Model (k = {self.k}; Mantel-Haenszel method, {self.measure})"
        if self.model == "rma_peto":
            return f"Equal-Effects Model (k = {self.k}; Peto's method)"
        if self.method in MODEL_TITLES:
            return f"{MODEL_TITLES[self.method]} (k = {self.k})"
        kind = "Random-Effects Model" if self.int_only else "Mixed-Effects Model"
        return f"{kind} (k = {self.k}; tau^2 estimator: {self.method})"

    def summary(self) -> str:
        """Text summary laid out like metafor's ``print.rma``."""
        lines = [self._title(), ""]
        random = self.model == "rma" and self.method not in MODEL_TITLES
        if random:
            se_part = "" if math.isnan(self.se_tau2) else f" (SE = {self.se_tau2:.4f})"
            if self.int_only:
                lines += [
                    f"tau^2 (estimated amount of total heterogeneity): {self.tau2:.4f}{se_part}",
                    f"tau (square root of estimated tau^2 value):      {self.tau:.4f}",
                    f"I^2 (total heterogeneity / total variability):   {self.I2:.2f}%",
                    f"H^2 (total variability / sampling variability):  {self.H2:.2f}",
                ]
            else:
                lines += [
                    "tau^2 (estimated amount of residual heterogeneity):     "
                    f"{self.tau2:.4f}{se_part}",
                    f"tau (square root of estimated tau^2 value):             {self.tau:.4f}",
                    f"I^2 (residual heterogeneity / unaccounted variability): {self.I2:.2f}%",
                    f"H^2 (unaccounted variability / sampling variability):   {self.H2:.2f}",
                ]
            if self.R2 is not None:
                lines.append(
                    f"R^2 (amount of heterogeneity accounted for):            {self.R2:.2f}%"
                )
            lines.append("")
        else:
            lines += [
                f"I^2 (total heterogeneity / total variability):  {self.I2:.2f}%",
                f"H^2 (total variability / sampling variability): {self.H2:.2f}",
                "",
            ]
        label = "Test for Heterogeneity:" if self.int_only else "Test for Residual Heterogeneity:"
        lines += [
            label,
            f"Q{'E' if not self.int_only else ''}(df = {self.QEdf}) = "
            f"{self.QE:.4f}, p-val {_fmt_p(self.QEp)}",
            "",
        ]
        if not self.int_only and self.p > 1:
            m = self.QMdf[0]
            coefs = "coefficient 2" if self.p == 2 else f"coefficients 2:{self.p}"
            if self.test in ("knha", "t"):
                lines.append(f"Test of Moderators ({coefs}):")
                lines.append(
                    f"F(df1 = {m}, df2 = {int(self.QMdf[1])}) = {self.QM:.4f}, "
                    f"p-val {_fmt_p(self.QMp)}"
                )
            else:
                lines.append(f"Test of Moderators ({coefs}):")
                lines.append(f"QM(df = {m}) = {self.QM:.4f}, p-val {_fmt_p(self.QMp)}")
            lines.append("")
        for name, value in self.tests.items():
            if not name.endswith("p") and f"{name}p" in self.tests:
                lines.append(f"{name} = {value:.4f}, p-val {_fmt_p(self.tests[name + 'p'])}")
        if self.tests:
            lines.append("")
        lines.append("Model Results:")
        lines.append("")
        frame = self.to_frame()
        frame["pval"] = [_fmt_p(p, bare=True) for p in frame["pval"]]
        lines.append(frame.to_string(float_format=lambda x: f"{x:.4f}"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = html.escape(self._title())
        stats_rows = [
            ("k", str(self.k)),
            ("tau^2", f"{self.tau2:.4f}"),
            ("I^2", f"{self.I2:.2f}%"),
            ("H^2", f"{self.H2:.2f}"),
            (f"Q (df = {self.QEdf})", f"{self.QE:.4f}, p {_fmt_p(self.QEp)}"),
        ]
        if self.R2 is not None:
            stats_rows.append(("R^2", f"{self.R2:.2f}%"))
        table = "".join(
            f"<tr><th>{html.escape(a)}</th><td>{html.escape(b)}</td></tr>" for a, b in stats_rows
        )
        coefs = self.to_frame().to_html(float_format=lambda x: f"{x:.4f}")
        return f"<div><strong>{head}</strong><table>{table}</table>{coefs}</div>"


def _fmt_p(p: float, bare: bool = False) -> str:
    if math.isnan(p):
        return "NA"
    if p < 1e-4:
        return "<.0001" if bare else "< .0001"
    return f"{p:.4f}" if bare else f"= {p:.4f}"
