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

from .inputs import Problems, add_to_rows, below, check_rows, negative
from .measure import Arrays, Family, Measure, Options, Result
from .tetrachoric import tetrachoric


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
    zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    ai, bi, ci, di = add_to_rows((ai, bi, ci, di), add, to, zero)
    return ai, bi, ci, di


def prepare_counts(
    problems: Problems, measure: Measure, a: Arrays, options: Options
) -> tuple[Arrays, Arrays]:
    """Checked cells of 2x2 tables before and after the continuity correction.

    Completes ``bi``/``di`` from the group sizes ``n1i``/``n2i``, records every invalid
    count on ``problems`` (and raises), then applies ``add``/``to``/``drop00``. Returns
    ``(raw, corrected)``, each with ``ai, bi, ci, di``.
    """
    if "bi" not in a and "n1i" not in a:
        problems.add(None, "bi", None, "a value (or n1i)")
    if "di" not in a and "n2i" not in a:
        problems.add(None, "di", None, "a value (or n2i)")
    problems.raise_if_any()
    ai, ci = a["ai"], a["ci"]
    bi = a["bi"] if "bi" in a else a["n1i"] - ai
    di = a["di"] if "di" in a else a["n2i"] - ci
    rules = dict.fromkeys(("ai", "bi", "ci", "di"), (negative, ">= 0 (a count)"))
    check_rows(problems, a, rules)
    if "n1i" in a:
        problems.check("ai", ai, ai > a["n1i"], "<= n1i (events cannot exceed the group size)")
    if "n2i" in a:
        problems.check("ci", ci, ci > a["n2i"], "<= n2i (events cannot exceed the group size)")
    if "bi" not in a:
        check_rows(problems, a, {"n1i": (below(1), ">= 1 (group size)")})
    if "di" not in a:
        check_rows(problems, a, {"n2i": (below(1), ">= 1 (group size)")})
    problems.raise_if_any()
    add = measure.add if options.add is None else options.add
    raw = {"ai": ai, "bi": bi, "ci": ci, "di": di}
    ai, bi, ci, di = continuity(ai, bi, ci, di, float(add), options.to, options.drop00)
    return raw, {"ai": ai, "bi": bi, "ci": ci, "di": di}


def prepare_table(problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
                  ) -> Arrays:
    """Check the counts, complete ``bi``/``di`` from group sizes, apply ``add``/``to``."""
    return prepare_counts(problems, measure, a, options)[1]


TABLE = Family(
    "table",
    arguments="ai, bi, ci, di (or ai, n1i, ci, n2i)",
    provides=("ai", "bi", "ci", "di"),
    prepare=prepare_table,
    requires=("ai", "ci"),
)


def _proportions(
    ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Group sizes and event proportions ``n1i, n2i, p1i, p2i``."""
    n1i, n2i = ai + bi, ci + di
    return n1i, n2i, ai / n1i, ci / n2i


def _mean_proportions(
    ai: np.ndarray, ci: np.ndarray, n1i: np.ndarray, n2i: np.ndarray
) -> tuple[float, float]:
    """Sample-size weighted mean proportions of both groups (for ``vtype="AV"``)."""
    return np.nansum(ai) / np.nansum(n1i), np.nansum(ci) / np.nansum(n2i)


def r_to_z(yi: np.ndarray, vi: np.ndarray) -> Result:
    """Fisher's r-to-z of a correlation-type yi, with the delta-method variance (not
    variance-stabilising for these measures, as metafor notes)."""
    return np.arctanh(yi), vi / (1 - np.minimum(yi**2, 1)) ** 2


def _risk_ratio(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray,
                vtype: np.ndarray) -> Result:
    n1i, n2i, p1i, p2i = _proportions(ai, bi, ci, di)
    mp1, mp2 = _mean_proportions(ai, ci, n1i, n2i)
    yi = np.log(p1i) - np.log(p2i)
    vi = 1 / ai - 1 / n1i + 1 / ci - 1 / n2i
    return yi, np.where(vtype == "AV", (1 - mp1) / (mp1 * n1i) + (1 - mp2) / (mp2 * n2i), vi)


def _odds_ratio(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray,
                vtype: np.ndarray) -> Result:
    n1i, n2i, p1i, p2i = _proportions(ai, bi, ci, di)
    mp1, mp2 = _mean_proportions(ai, ci, n1i, n2i)
    yi = np.log(p1i / (1 - p1i)) - np.log(p2i / (1 - p2i))
    vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
    av = 1 / (mp1 * (1 - mp1) * n1i) + 1 / (mp2 * (1 - mp2) * n2i)
    return yi, np.where(vtype == "AV", av, vi)


def _or_to_d_logistic(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray,
                      vtype: np.ndarray) -> Result:
    """Log odds ratio to SMD assuming logistic distributions (Chinn 2000)."""
    yi, vi = _odds_ratio(ai, bi, ci, di, vtype)
    return np.sqrt(3) / np.pi * yi, 3 / np.pi**2 * vi


def _or_to_d_normal(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray,
                    vtype: np.ndarray) -> Result:
    """Log odds ratio to SMD assuming normal distributions (Cox & Snell 1989, factor 1.65)."""
    yi, vi = _odds_ratio(ai, bi, ci, di, vtype)
    return yi / 1.65, vi / 1.65**2


def _risk_difference(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray,
                     vtype: np.ndarray) -> Result:
    n1i, n2i, p1i, p2i = _proportions(ai, bi, ci, di)
    mp1, mp2 = _mean_proportions(ai, ci, n1i, n2i)
    yi = p1i - p2i
    vi = p1i * (1 - p1i) / n1i + p2i * (1 - p2i) / n2i
    vi = np.where(vtype == "UB", p1i * (1 - p1i) / (n1i - 1) + p2i * (1 - p2i) / (n2i - 1), vi)
    return yi, np.where(vtype == "AV", mp1 * (1 - mp1) / n1i + mp2 * (1 - mp2) / n2i, vi)


def _arcsine(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    n1i, n2i, p1i, p2i = _proportions(ai, bi, ci, di)
    return np.arcsin(np.sqrt(p1i)) - np.arcsin(np.sqrt(p2i)), 1 / (4 * n1i) + 1 / (4 * n2i)


def _peto(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    n1i, n2i = ai + bi, ci + di
    ni = n1i + n2i
    xt, yt = ai + ci, bi + di
    ei = xt * n1i / ni
    v_hyp = xt * yt * (n1i / ni) * (n2i / ni) / (ni - 1)
    return (ai - ei) / v_hyp, 1 / v_hyp


def _z_phi(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray,
           vtype: np.ndarray) -> Result:
    return r_to_z(*_phi(ai, bi, ci, di, vtype))


def _yule_q(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    """Yule (1900, p. 285; 1912, p. 593)."""
    odds = (ai / bi) / (ci / di)
    yi = (odds - 1) / (odds + 1)
    return yi, 0.25 * (1 - yi**2) ** 2 * (1 / ai + 1 / bi + 1 / ci + 1 / di)


def _yule_y(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    """Yule (1912, p. 593)."""
    odds = (ai / bi) / (ci / di)
    yi = (np.sqrt(odds) - 1) / (np.sqrt(odds) + 1)
    return yi, (1 / 16) * (1 - yi**2) ** 2 * (1 / ai + 1 / bi + 1 / ci + 1 / di)


def _tetrachoric(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    yi = np.full(ai.shape, np.nan)
    vi = np.full(ai.shape, np.nan)
    for i in range(len(ai)):
        if not np.isnan([ai[i], bi[i], ci[i], di[i]]).any():
            yi[i], vi[i] = tetrachoric(ai[i], bi[i], ci[i], di[i])
    return yi, vi


def _z_tetrachoric(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    return r_to_z(*_tetrachoric(ai, bi, ci, di))


def _probit(ai: np.ndarray, bi: np.ndarray, ci: np.ndarray, di: np.ndarray) -> Result:
    """Sanchez-Meca et al. (2003, eq. 21); Rosenthal (1994)."""
    n1i, n2i, p1i, p2i = _proportions(ai, bi, ci, di)
    z1, z2 = stats.norm.ppf(p1i), stats.norm.ppf(p2i)
    vi = 2 * np.pi * p1i * (1 - p1i) * np.exp(z1**2) / n1i
    return z1 - z2, vi + 2 * np.pi * p2i * (1 - p2i) * np.exp(z2**2) / n2i


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


_LS_AV = ("LS", "AV")
_PHI_VTYPES = ("LS", "ST", "CS")

#: The 2x2-table measures, in catalogue order.
MEASURES = (
    Measure("RR", TABLE, _risk_ratio, "log risk ratio", _LS_AV),
    Measure("OR", TABLE, _odds_ratio, "log odds ratio", _LS_AV),
    Measure("RD", TABLE, _risk_difference, "risk difference", ("LS", "UB", "AV")),
    Measure("AS", TABLE, _arcsine, "arcsine square-root risk difference", add=0.0),
    Measure("PETO", TABLE, _peto, "log odds ratio, Peto's method"),
    Measure("PHI", TABLE, _phi, "phi coefficient", _PHI_VTYPES, add=0.0),
    Measure("ZPHI", TABLE, _z_phi, "Fisher z of the phi coefficient", _PHI_VTYPES, add=0.0),
    Measure("YUQ", TABLE, _yule_q, "Yule's Q"),
    Measure("YUY", TABLE, _yule_y, "Yule's Y"),
    Measure("RTET", TABLE, _tetrachoric, "tetrachoric correlation", add=0.0, keeps_yi=True),
    Measure("ZTET", TABLE, _z_tetrachoric, "Fisher z of the tetrachoric correlation", add=0.0),
    Measure("PBIT", TABLE, _probit, "probit-transformed risk difference (an SMD)"),
    Measure("OR2D", TABLE, _or_to_d_logistic, "alias of OR2DL", _LS_AV),
    Measure("OR2DL", TABLE, _or_to_d_logistic, "log odds ratio to SMD (logistic)", _LS_AV),
    Measure("OR2DN", TABLE, _or_to_d_normal, "log odds ratio to SMD (normal)", _LS_AV),
)
