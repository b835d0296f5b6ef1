"""Effect sizes of matched pairs or pre-post binary data (metafor's ``MPRD``, ``MPRR``,
``MPOR``, ``MPORC``, ``MPPETO``, ``MPORM``).

``MPRD`` ... ``MPPETO`` take the paired table of ``ni`` pairs, with the same arguments and
continuity correction as the 2x2-table measures::

                      time 2 / pair member 2
                       event    no event
    time 1   event      ai         bi
             no event   ci         di

``MPORM`` takes the *marginal* table (group 1 = time 1 with ``ai`` events of ``n1i``,
group 2 = time 2 with ``ci`` events of ``n2i``, so ``ni`` = half the total) and the
correlation ``ri`` of the paired outcomes, or ``pi``, the proportion of pairs with the
event at both times, from which ``ri`` is computed. Formulas follow metafor 5.x's
``escalc``.
"""

from __future__ import annotations

import numpy as np

from .inputs import Problems, check_rows, not_correlation
from .measure import Arrays, Family, Measure, Options, Result
from .tables import prepare_counts, prepare_table

PAIRED = Family(
    "paired_table",
    arguments="ai, bi, ci, di (paired table)",
    provides=("ai", "bi", "ci", "di"),
    prepare=prepare_table,
    requires=("ai", "ci"),
)


def _prepare_marginal(problems: Problems, measure: Measure, a: Arrays, k: int,
                      options: Options) -> Arrays:
    """Checks ``ri``/``pi``, then the table; ``ri`` from ``pi`` where ``ri`` is missing
    (the phi coefficient of the paired table the margins and ``pi`` imply)."""
    if "ri" not in a and "pi" not in a:
        problems.add(None, "ri", None, "a value (or pi)")
    check_rows(problems, a, {
        "ri": (not_correlation, "a correlation in [-1, 1]"),
        "pi": (lambda x: (x < 0) | (x > 1), "a proportion in [0, 1]"),
    })
    problems.raise_if_any()
    raw, cells = prepare_counts(problems, measure, a, options)
    ri = a.get("ri", np.full(k, np.nan)).copy()
    if "pi" in a:
        ai, bi, ci = raw["ai"], raw["bi"], raw["ci"]
        both = a["pi"] * (ai + bi)
        p_a, p_b, p_c, p_d = both, ai - both, ci - both, bi - ci + both
        with np.errstate(divide="ignore", invalid="ignore"):
            phi = (p_a * p_d - p_b * p_c) / np.sqrt(
                (p_a + p_b) * (p_c + p_d) * (p_a + p_c) * (p_b + p_d)
            )
        phi = np.where(np.abs(phi) > 1, np.nan, phi)
        ri = np.where(np.isnan(ri), phi, ri)
    return {**cells, "ri": ri}


MARGINAL = Family(
    "marginal_table",
    arguments="ai, bi, ci, di (marginal table), ri (or pi)",
    provides=("ai", "bi", "ci", "di", "ri"),
    prepare=_prepare_marginal,
    requires=("ai", "ci"),
)


def _shares(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray
            ) -> tuple[np.ndarray, ...]:
    """ni and the proportions of discordant pairs (p12, p21) and of events at each time."""
    ni = ai + bi + ci + di
    return ni, bi / ni, ci / ni, (ai + bi) / ni, (ai + ci) / ni


def _paired_rd(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    ni, p12, p21, p1, p2 = _shares(ai, bi, ci, di)
    return p1 - p2, (p12 * (1 - p12) + 2 * p12 * p21 + p21 * (1 - p21)) / ni


def _paired_rr(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    ni, p12, p21, p1, p2 = _shares(ai, bi, ci, di)
    return np.log(p1) - np.log(p2), (p12 + p21) / (ni * p1 * p2)


def _paired_or(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    """Marginal log odds ratio of the paired table."""
    ni, p12, p21, p1, p2 = _shares(ai, bi, ci, di)
    yi = np.log(p1 / (1 - p1)) - np.log(p2 / (1 - p2))
    vi = (p12 * (1 - p12) + p21 * (1 - p21) + 2 * p12 * p21) / (
        ni * p1 * (1 - p1) * p2 * (1 - p2)
    )
    return yi, vi


def _conditional_or(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    """Conditional log odds ratio log(bi / ci) (McNemar)."""
    return np.log(bi) - np.log(ci), 1 / bi + 1 / ci


def _paired_peto(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    """Peto's one-step conditional log odds ratio of the discordant pairs."""
    expected, variance = (bi + ci) / 2, (bi + ci) / 4
    return (bi - expected) / variance, 1 / variance


def _marginal_or(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray,
                 ri: np.ndarray) -> Result:
    """Log odds ratio of the marginal table, its variance reduced by the covariance the
    correlation ``ri`` of the pairs implies (ni = round(total / 2) pairs)."""
    n1i, n2i = ai + bi, ci + di
    yi = np.log((ai / n1i) / (1 - ai / n1i)) - np.log((ci / n2i) / (1 - ci / n2i))
    vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
    ni = np.round((n1i + n2i) / 2)
    si = (ri * np.sqrt(ai * bi * ci * di) + ai * bi) / ni
    deltai = ni**2 * (ni * si - ai * bi) / (ai * bi * ci * di)
    return yi, vi - 2 * deltai / ni


#: The matched-pairs measures, in catalogue order.
MEASURES = (
    Measure("MPRD", PAIRED, _paired_rd, "risk difference of matched pairs"),
    Measure("MPRR", PAIRED, _paired_rr, "log risk ratio of matched pairs"),
    Measure("MPOR", PAIRED, _paired_or, "log odds ratio of matched pairs (marginal)"),
    Measure("MPORC", PAIRED, _conditional_or,
            "log odds ratio of matched pairs (conditional)"),
    Measure("MPPETO", PAIRED, _paired_peto,
            "log odds ratio of matched pairs (conditional, Peto)"),
    Measure("MPORM", MARGINAL, _marginal_or,
            "log odds ratio from the marginal table of matched pairs"),
)
