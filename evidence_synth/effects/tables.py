"""Effect sizes from 2x2 tables (metafor's ``escalc`` measures for ``ai, bi, ci, di``).

Table layout as in metafor: rows are the groups (1 = treatment, 2 = control), columns
the outcome (event, no event)::

              event  no event
    group 1     ai      bi      (n1i = ai + bi)
    group 2     ci      di      (n2i = ci + di)
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .tetrachoric import tetrachoric

TABLE_MEASURES = (
    "RR", "OR", "RD", "AS", "PETO", "PHI", "ZPHI", "YUQ", "YUY", "RTET", "ZTET",
    "PBIT", "OR2D", "OR2DL", "OR2DN",
)  # fmt: skip

#: measures for which metafor's default ``add`` is 0 instead of 1/2
ADD_ZERO_MEASURES = ("AS", "PHI", "ZPHI", "RTET", "ZTET")

VTYPES = {
    "RR": ("LS", "AV"),
    "OR": ("LS", "AV"),
    "OR2D": ("LS", "AV"),
    "OR2DL": ("LS", "AV"),
    "OR2DN": ("LS", "AV"),
    "RD": ("LS", "UB", "AV"),
    "PHI": ("LS", "ST", "CS"),
    "ZPHI": ("LS", "ST", "CS"),
}


def continuity(
    ai: np.ndarray,
    bi: np.ndarray,
    ci: np.ndarray,
    di: np.ndarray,
    add: float,
    to: str,
    drop00: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """metafor's ``add``/``to``/``drop00`` handling of zero cells.

    ``to="only0"`` adds ``add`` to all four cells of tables with a zero cell, ``"all"`` to
    every table, ``"if0all"`` to every table when any table has a zero cell, ``"none"``
    never. ``drop00=True`` sets tables without events (or without non-events) in both
    groups to missing first.
    """
    ai, bi, ci, di = (np.array(x, dtype=float) for x in (ai, bi, ci, di))
    if drop00:
        id00 = ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))
        for x in (ai, bi, ci, di):
            x[id00] = np.nan
    if to == "all":
        rows = np.ones(ai.shape, dtype=bool)
    elif to in ("only0", "if0all"):
        rows = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
        if to == "if0all":
            rows = np.full(ai.shape, bool(rows.any()))
    else:
        rows = np.zeros(ai.shape, dtype=bool)
    for x in (ai, bi, ci, di):
        x[rows] += add
    return ai, bi, ci, di


def table_measure(
    measure: str,
    ai: np.ndarray,
    bi: np.ndarray,
    ci: np.ndarray,
    di: np.ndarray,
    vtype: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """yi and vi for a 2x2-table measure (counts already continuity-corrected)."""
    n1i, n2i = ai + bi, ci + di
    ni = n1i + n2i
    p1i, p2i = ai / n1i, ci / n2i
    mp1 = np.nansum(ai) / np.nansum(n1i)  # sample-size weighted mean proportions (vtype AV)
    mp2 = np.nansum(ci) / np.nansum(n2i)
    yi = np.full(ai.shape, np.nan)
    vi = np.full(ai.shape, np.nan)
    av = vtype == "AV"

    if measure == "RR":
        yi = np.log(p1i) - np.log(p2i)
        vi = 1 / ai - 1 / n1i + 1 / ci - 1 / n2i
        vi = np.where(av, (1 - mp1) / (mp1 * n1i) + (1 - mp2) / (mp2 * n2i), vi)
    elif measure in ("OR", "OR2D", "OR2DL", "OR2DN"):
        yi = np.log(p1i / (1 - p1i)) - np.log(p2i / (1 - p2i))
        vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
        vi = np.where(av, 1 / (mp1 * (1 - mp1) * n1i) + 1 / (mp2 * (1 - mp2) * n2i), vi)
        if measure in ("OR2D", "OR2DL"):  # logistic distribution (Chinn 2000)
            yi, vi = np.sqrt(3) / np.pi * yi, 3 / np.pi**2 * vi
        elif measure == "OR2DN":  # normal distribution, Cox & Snell (1989) factor 1.65
            yi, vi = yi / 1.65, vi / 1.65**2
    elif measure == "RD":
        yi = p1i - p2i
        vi = p1i * (1 - p1i) / n1i + p2i * (1 - p2i) / n2i
        vi = np.where(vtype == "UB", p1i * (1 - p1i) / (n1i - 1) + p2i * (1 - p2i) / (n2i - 1), vi)
        vi = np.where(av, mp1 * (1 - mp1) / n1i + mp2 * (1 - mp2) / n2i, vi)
    elif measure == "AS":
        yi = np.arcsin(np.sqrt(p1i)) - np.arcsin(np.sqrt(p2i))
        vi = 1 / (4 * n1i) + 1 / (4 * n2i)
    elif measure == "PETO":
        xt, yt = ai + ci, bi + di
        ei = xt * n1i / ni
        v_hyp = xt * yt * (n1i / ni) * (n2i / ni) / (ni - 1)
        yi = (ai - ei) / v_hyp
        vi = 1 / v_hyp
    elif measure in ("PHI", "ZPHI"):
        yi, vi = _phi(ai, bi, ci, di, vtype)
    elif measure == "YUQ":  # Yule (1900, p. 285; 1912, p. 593)
        odds = (ai / bi) / (ci / di)
        yi = (odds - 1) / (odds + 1)
        vi = 0.25 * (1 - yi**2) ** 2 * (1 / ai + 1 / bi + 1 / ci + 1 / di)
    elif measure == "YUY":  # Yule (1912, p. 593)
        odds = (ai / bi) / (ci / di)
        yi = (np.sqrt(odds) - 1) / (np.sqrt(odds) + 1)
        vi = (1 / 16) * (1 - yi**2) ** 2 * (1 / ai + 1 / bi + 1 / ci + 1 / di)
    elif measure in ("RTET", "ZTET"):
        for i in range(len(ai)):
            if not np.isnan([ai[i], bi[i], ci[i], di[i]]).any():
                yi[i], vi[i] = tetrachoric(ai[i], bi[i], ci[i], di[i])
    elif measure == "PBIT":  # Sanchez-Meca et al. (2003, eq. 21); Rosenthal (1994)
        z1, z2 = stats.norm.ppf(p1i), stats.norm.ppf(p2i)
        yi = z1 - z2
        vi = 2 * np.pi * p1i * (1 - p1i) * np.exp(z1**2) / n1i
        vi = vi + 2 * np.pi * p2i * (1 - p2i) * np.exp(z2**2) / n2i
    if measure in ("ZPHI", "ZTET"):  # r-to-z with delta-method variance
        vi = vi / (1 - np.minimum(yi**2, 1)) ** 2
        yi = np.arctanh(yi)
    return yi, vi


def _phi(
    ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray, vtype: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Phi coefficient; vi for cross-sectional (Yule 1912, p. 603) or stratified sampling."""
    n1i, n2i = ai + bi, ci + di
    ni = n1i + n2i
    p1i, p2i = ai / n1i, ci / n2i
    q1i, q2i = 1 - p1i, 1 - p2i
    yi = (ai * di - bi * ci) / np.sqrt((ai + bi) * (ci + di) * (ai + ci) * (bi + di))
    r1, r2, c1, c2 = (ai + bi) / ni, (ci + di) / ni, (ai + ci) / ni, (bi + di) / ni
    cs = (1 / ni) * (
        1
        - yi**2
        + yi * (1 + 0.5 * yi**2) * (r1 - r2) * (c1 - c2) / np.sqrt(r1 * r2 * c1 * c2)
        - 0.75 * yi**2 * ((r1 - r2) ** 2 / (r1 * r2) + (c1 - c2) ** 2 / (c1 * c2))
    )
    st = (
        ni**2
        * (
            4 * n1i**3 * p1i**2 * p2i * q1i**2 * q2i
            + 4 * n2i**3 * p1i * p2i**2 * q1i * q2i**2
            + n1i
            * n2i**2
            * p2i
            * q2i
            * (p2i * q1i + p1i * q2i)
            * (p2i * q1i + p1i * (4 * q1i + q2i))
            + n1i**2
            * n2i
            * p1i
            * q1i
            * (p2i * q1i + p1i * q2i)
            * (p1i * q2i + p2i * (q1i + 4 * q2i))
        )
        / (4 * (ai + ci) ** 3 * (bi + di) ** 3)
    )
    return yi, np.where(vtype == "ST", st, cs)
