"""Agreement between two screeners: Cohen's kappa, PABAK and Gwet's AC1 with CIs.

For a q x q table of proportions ``p[i, j]`` (rater A category i, rater B category j)
with row margins ``p_i.``, column margins ``p_.j``, ``n`` subjects and observed
agreement ``po = sum_i p[i, i]``:

- Cohen's kappa (Cohen 1960): ``pe = sum_i p_i. p_.i``, ``kappa = (po - pe)/(1 - pe)``,
  large-sample variance of Fleiss, Cohen & Everitt (1969), Psychol Bull 72:323-327:
  ``[sum_i p_ii (1 - (p_i. + p_.i)(1 - kappa))^2
  + (1 - kappa)^2 sum_{i != j} p_ij (p_.i + p_j.)^2
  - (kappa - pe (1 - kappa))^2] / (n (1 - pe)^2)``.
- PABAK (Byrt, Bishop & Carlin 1993, J Clin Epidemiol 46:423-429):
  ``(q po - 1)/(q - 1)`` (``2 po - 1`` for two categories); its CI maps the exact
  (Clopper-Pearson) binomial CI of ``po`` through the same line.
- Gwet's AC1 (Gwet 2008, Br J Math Stat Psychol 61:29-48): with
  ``pi_k = (p_k. + p_.k)/2``, ``pe = sum_k pi_k (1 - pi_k)/(q - 1)`` and variance
  ``[po (1 - po) - 4 (1 - AC1) (sum_k p_kk (1 - pi_k)/(q - 1) - po pe)
  + 4 (1 - AC1)^2 (sum_kl p_kl (1 - (pi_k + pi_l)/2)^2/(q - 1)^2 - pe^2)]
  / (n (1 - pe)^2)``.

Kappa and AC1 intervals use the t quantile with ``n - 1`` degrees of freedom, as in
Gwet's Handbook of Inter-Rater Reliability and the irrCAC package, truncated to [-1, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy.stats import beta, t

from evidence_synth.errors import EvidenceSynthError

__all__ = ["AgreementResult", "agreement", "agreement_table", "screening_agreement"]


@dataclass(frozen=True)
class AgreementResult:
    """Agreement statistics for one table.

    Attributes
    ----------
    n : int
        Subjects rated by both raters.
    categories : tuple
        Category labels (rows and columns of ``table``).
    table : numpy.ndarray
        q x q counts, rater A in rows, rater B in columns.
    observed : float
        Observed agreement ``po``.
    kappa, kappa_se, kappa_ci : float, float, (float, float)
    pabak, pabak_ci : float, (float, float)
    ac1, ac1_se, ac1_ci : float, float, (float, float)
    confidence : float
    """

    n: int
    categories: tuple
    table: np.ndarray
    observed: float
    kappa: float
    kappa_se: float
    kappa_ci: tuple[float, float]
    pabak: float
    pabak_ci: tuple[float, float]
    ac1: float
    ac1_se: float
    ac1_ci: tuple[float, float]
    confidence: float = 0.95

    def to_dict(self) -> dict:
        """Flat dict: n, observed, kappa, kappa_se, kappa_low, kappa_high, pabak, ..."""
        return {
            "n": self.n,
            "observed": self.observed,
            "kappa": self.kappa,
            "kappa_se": self.kappa_se,
            "kappa_low": self.kappa_ci[0],
            "kappa_high": self.kappa_ci[1],
            "pabak": self.pabak,
            "pabak_low": self.pabak_ci[0],
            "pabak_high": self.pabak_ci[1],
            "ac1": self.ac1,
            "ac1_se": self.ac1_se,
            "ac1_low": self.ac1_ci[0],
            "ac1_high": self.ac1_ci[1],
        }

    def summary(self) -> str:
        c = f"{100 * self.confidence:.0f}% CI"
        return (
            f"n = {self.n}, observed agreement {self.observed:.3f}\n"
            f"Cohen's kappa {self.kappa:.3f} ({c} {self.kappa_ci[0]:.3f} to "
            f"{self.kappa_ci[1]:.3f})\n"
            f"PABAK         {self.pabak:.3f} ({c} {self.pabak_ci[0]:.3f} to "
            f"{self.pabak_ci[1]:.3f})\n"
            f"Gwet's AC1    {self.ac1:.3f} ({c} {self.ac1_ci[0]:.3f} to {self.ac1_ci[1]:.3f})"
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per statistic: statistic, estimate, se, low, high."""
        return pd.DataFrame(
            [
                ("observed", self.observed, np.nan, np.nan, np.nan),
                ("kappa", self.kappa, self.kappa_se, *self.kappa_ci),
                ("pabak", self.pabak, np.nan, *self.pabak_ci),
                ("ac1", self.ac1, self.ac1_se, *self.ac1_ci),
            ],
            columns=["statistic", "estimate", "se", "low", "high"],
        )

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False, float_format="{:.3f}".format)


def agreement_table(
    table: Sequence[Sequence[int]] | np.ndarray,
    *,
    categories: Sequence | None = None,
    confidence: float = 0.95,
) -> AgreementResult:
    """Kappa, PABAK and AC1 from a q x q table of counts (rater A rows, rater B columns).

    Parameters
    ----------
    table : array-like of int, shape (q, q)
    categories : sequence, optional
        Labels of the q categories.
    confidence : float
        Confidence level of the intervals.

    Returns
    -------
    AgreementResult
    """
    counts = np.asarray(table, dtype=float)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] < 2:
        raise EvidenceSynthError(f"expected a square q x q table with q >= 2, found {counts.shape}")
    if (counts < 0).any():
        raise EvidenceSynthError("expected non-negative counts in the agreement table")
    n = counts.sum()
    if n < 2:
        raise EvidenceSynthError(f"expected at least 2 subjects rated by both raters, found {n:g}")
    q = counts.shape[0]
    p = counts / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po = float(np.trace(p))
    tq = float(t.ppf(0.5 + confidence / 2, n - 1))

    pe_k = float(rows @ cols)
    if pe_k < 1:
        kappa = (po - pe_k) / (1 - pe_k)
        spread = cols[:, None] + rows[None, :]  # p_.i + p_j. for cell (i, j)
        off = ~np.eye(q, dtype=bool)
        a = float(np.sum(np.diag(p) * (1 - (rows + cols) * (1 - kappa)) ** 2))
        b = (1 - kappa) ** 2 * float(np.sum(p[off] * spread[off] ** 2))
        c = (kappa - pe_k * (1 - kappa)) ** 2
        var_k = max(a + b - c, 0.0) / (n * (1 - pe_k) ** 2)
    else:  # both raters used a single category: kappa is undefined
        kappa, var_k = float("nan"), float("nan")
    se_k = float(np.sqrt(var_k))

    pabak = (q * po - 1) / (q - 1)
    agree = int(np.rint(np.trace(counts)))
    alpha = 1 - confidence
    lo = beta.ppf(alpha / 2, agree, n - agree + 1) if agree > 0 else 0.0
    hi = beta.ppf(1 - alpha / 2, agree + 1, n - agree) if agree < n else 1.0
    pabak_ci = ((q * lo - 1) / (q - 1), (q * hi - 1) / (q - 1))

    pi = (rows + cols) / 2
    pe_g = float(np.sum(pi * (1 - pi)) / (q - 1))
    ac1 = (po - pe_g) / (1 - pe_g)
    term2 = float(np.sum(np.diag(p) * (1 - pi)) / (q - 1)) - po * pe_g
    mean_pi = (pi[:, None] + pi[None, :]) / 2
    term3 = float(np.sum(p * (1 - mean_pi) ** 2) / (q - 1) ** 2) - pe_g**2
    var_g = (po * (1 - po) - 4 * (1 - ac1) * term2 + 4 * (1 - ac1) ** 2 * term3) / (
        n * (1 - pe_g) ** 2
    )
    se_g = float(np.sqrt(max(var_g, 0.0)))

    return AgreementResult(
        n=int(n),
        categories=tuple(categories) if categories is not None else tuple(range(q)),
        table=counts.astype(int),
        observed=po,
        kappa=float(kappa),
        kappa_se=se_k,
        kappa_ci=_clip(kappa - tq * se_k, kappa + tq * se_k),
        pabak=float(pabak),
        pabak_ci=(float(pabak_ci[0]), float(pabak_ci[1])),
        ac1=float(ac1),
        ac1_se=se_g,
        ac1_ci=_clip(ac1 - tq * se_g, ac1 + tq * se_g),
        confidence=confidence,
    )


def _clip(low: float, high: float) -> tuple[float, float]:
    return float(max(low, -1.0)), float(min(high, 1.0))


def agreement(
    rater_a: Sequence,
    rater_b: Sequence,
    *,
    categories: Sequence | None = None,
    confidence: float = 0.95,
) -> AgreementResult:
    """Kappa, PABAK and AC1 from two paired sequences of decisions.

    Parameters
    ----------
    rater_a, rater_b : sequence
        Decisions of the two raters on the same subjects, in the same order.
    categories : sequence, optional
        All possible categories (defaults to those observed, sorted; at least two).
    confidence : float
        Confidence level of the intervals.
    """
    a, b = list(rater_a), list(rater_b)
    if len(a) != len(b):
        raise EvidenceSynthError(
            f"expected two decision sequences of equal length, found {len(a)} and {len(b)}"
        )
    cats = list(categories) if categories is not None else sorted(set(a) | set(b), key=str)
    if len(cats) < 2:
        cats = [*cats, "__other__"]
    index = {c: i for i, c in enumerate(cats)}
    unknown = sorted({x for x in a + b if x not in index}, key=str)
    if unknown:
        raise EvidenceSynthError(f"expected decisions in {cats}, found {unknown}")
    table = np.zeros((len(cats), len(cats)), dtype=int)
    for x, y in zip(a, b, strict=True):
        table[index[x], index[y]] += 1
    return agreement_table(table, categories=cats, confidence=confidence)


def screening_agreement(
    decisions: pd.DataFrame,
    *,
    categories: Sequence | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Agreement per stage and reviewer pair from a decisions table.

    Parameters
    ----------
    decisions : pandas.DataFrame
        Columns ``record_id``, ``reviewer``, ``decision`` and ``stage``. When a reviewer
        decided a record several times in a stage, the last row counts.
    categories : sequence, optional
        All possible decisions (defaults to those observed in each stage).
    confidence : float
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        One row per stage and reviewer pair with columns ``stage``, ``reviewer_a``,
        ``reviewer_b``, ``n`` (records decided by both), ``observed``, ``kappa``,
        ``kappa_se``, ``kappa_low``, ``kappa_high``, ``pabak``, ``pabak_low``,
        ``pabak_high``, ``ac1``, ``ac1_se``, ``ac1_low``, ``ac1_high``. Pairs with fewer
        than two shared records are left out.
    """
    need = ["record_id", "reviewer", "decision", "stage"]
    missing = [c for c in need if c not in decisions.columns]
    if missing:
        raise EvidenceSynthError(
            f"expected decision columns {need}, missing {missing} "
            f"(found {list(decisions.columns)})"
        )
    last = decisions[need].drop_duplicates(["stage", "record_id", "reviewer"], keep="last")
    rows = []
    for stage, group in last.groupby("stage", sort=True):
        wide = group.pivot(index="record_id", columns="reviewer", values="decision")
        cats = categories
        if cats is None:
            cats = sorted(group["decision"].dropna().unique(), key=str)
        for ra, rb in combinations(sorted(wide.columns, key=str), 2):
            both = wide[[ra, rb]].dropna()
            if len(both) < 2:
                continue
            res = agreement(both[ra], both[rb], categories=cats, confidence=confidence)
            rows.append({"stage": stage, "reviewer_a": ra, "reviewer_b": rb, **res.to_dict()})
    return pd.DataFrame(rows, columns=["stage", "reviewer_a", "reviewer_b", *_KEYS])


_KEYS = ("n", "observed", "kappa", "kappa_se", "kappa_low", "kappa_high", "pabak",
         "pabak_low", "pabak_high", "ac1", "ac1_se", "ac1_low", "ac1_high")
