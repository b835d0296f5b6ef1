"""``escalc``: effect sizes and sampling variances with metafor's names and formulas.

A reviewer who knows R's metafor (Viechtbauer 2010, version 5.x) should find the same
measure codes, argument names and numbers. Differences from metafor are listed in the
docstring of :func:`escalc` and in ``docs/effect-sizes-and-meta-analysis.md``.

``escalc`` itself is generic: it looks the measure up in
:mod:`~evidence_synth.effects.registry`, lets the measure's family check and prepare the
arguments, and calls the measure's formula. The formulas live in the family modules
``tables``, ``pairs``, ``rates``, ``means``, ``correlations``, ``proportions``, ``single``
and ``change``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .inputs import Problems, as_arrays, require
from .measure import Measure, Options
from .registry import MEASURES, get

_TO = ("only0", "all", "if0all", "none")


def escalc(
    measure: str,
    *,
    ai: Any = None,
    bi: Any = None,
    ci: Any = None,
    di: Any = None,
    n1i: Any = None,
    n2i: Any = None,
    x1i: Any = None,
    x2i: Any = None,
    t1i: Any = None,
    t2i: Any = None,
    m1i: Any = None,
    m2i: Any = None,
    sd1i: Any = None,
    sd2i: Any = None,
    xi: Any = None,
    mi: Any = None,
    ri: Any = None,
    ti: Any = None,
    fi: Any = None,
    pi: Any = None,
    sdi: Any = None,
    r2i: Any = None,
    ni: Any = None,
    add: float | None = None,
    to: str = "only0",
    drop00: bool = False,
    vtype: str | Any = "LS",
    correct: bool = True,
) -> pd.DataFrame:
    """Compute effect sizes ``yi`` and sampling variances ``vi`` like metafor's ``escalc``.

    Arguments take scalars or 1-D arrays (lists, numpy arrays, pandas Series); scalars are
    broadcast against arrays. Missing values (NaN) give a missing ``yi``/``vi`` in that row.

    Parameters
    ----------
    measure : str
        metafor measure code; :func:`evidence_synth.effects.measures` lists them all with
        their arguments and variance types. 2x2 tables (``ai, bi, ci, di`` or ``ai, n1i,
        ci, n2i``): ``RR``, ``OR``, ``RD``, ``AS``, ``PETO``, ``PHI``/``ZPHI``, ``YUQ``,
        ``YUY``, ``RTET``/``ZTET``, ``PBIT``, ``OR2DL`` (= ``OR2D``), ``OR2DN``. Matched
        pairs (paired table ``ai, bi, ci, di``): ``MPRD``, ``MPRR``, ``MPOR``, ``MPORC``,
        ``MPPETO``; ``MPORM`` (marginal table and ``ri`` or ``pi``). Person-time: ``IRR``,
        ``IRD``, ``IRSD`` (``x1i, x2i, t1i, t2i``); ``IR``, ``IRLN``, ``IRS``, ``IRFT``
        (``xi, ti``). Two groups (``m1i, m2i, sd1i, sd2i, n1i, n2i``): ``MD``, ``SMD``
        (Hedges' g; also from ``di`` = Cohen's d, ``ti`` or a signed ``pi``), ``SMDH``,
        ``SMD1``, ``SMD1H``, ``ROM``, ``CVR``, ``VR``, ``RPB``/``ZPB``, ``RBIS``/``ZBIS``,
        ``D2ORL`` (= ``D2OR``), ``D2ORN``. Correlations (``ri`` or ``ti``/``pi``, ``ni``):
        ``COR``, ``UCOR``, ``ZCOR``; (semi-)partial (``ti`` or ``ri`` or ``pi``, ``ni``,
        ``mi`` = number of predictors, ``r2i``): ``PCOR``, ``ZPCOR``, ``SPCOR``,
        ``ZSPCOR``; ``R2``, ``ZR2`` (``r2i`` or ``fi``/``pi``, ``mi``, ``ni``). Single
        proportions (``xi, mi`` or ``xi, ni``): ``PR``, ``PLN``, ``PLO``, ``PAS``, ``PFT``.
        One group (``mi`` = mean, ``sdi``, ``ni``): ``MN``, ``MNLN``, ``SMN``, ``CVLN``,
        ``SDLN``; Cronbach's alpha (``ai`` = alpha, ``mi`` = items, ``ni``): ``ARAW``,
        ``AHW``, ``ABT``. One group measured twice (``m1i, m2i, sd1i, sd2i, ni, ri``;
        change = ``m1i - m2i``): ``MC``, ``SMCC`` (also from ``di``/``ti``/``pi``),
        ``SMCR``, ``SMCRH``, ``SMCRP``, ``SMCRPH``, ``ROMC``, ``CVRC``, ``VRC``.
    ai, bi, ci, di, n1i, n2i, x1i, x2i, t1i, t2i, m1i, m2i, sd1i, sd2i, xi, mi, ri, ti, fi, pi, \
    sdi, r2i, ni
        As in metafor (see ``measure``); several names mean different things for
        different measures, as in metafor (``mi``: non-events, a mean, items or
        predictors; ``ti``: a t statistic or person-time; ``pi``: a signed two-sided
        p-value, the F test's p-value for R2, or a proportion of concordant pairs for
        MPORM; ``ai``: a cell count or Cronbach's alpha).
    add : float, optional
        Value added to counts with zeros (2x2 tables, proportions, events). Default 1/2,
        or 0 for ``AS``, ``PHI``, ``ZPHI``, ``RTET``, ``ZTET``, ``IRSD``, ``PAS``, ``PFT``,
        ``IRS`` and ``IRFT`` (as metafor).
    to : {"only0", "all", "if0all", "none"}
        Which tables get ``add``: tables with a zero cell, all tables, all tables if any
        has a zero cell, none.
    drop00 : bool
        Set tables (and two-group person-time studies) with no events (or only events) in
        both groups to missing.
    vtype : str or array of str
        Sampling-variance estimator, per row if an array: ``LS`` (default), ``LS2``,
        ``LS3``, ``UB``, ``AV``, ``AVHO``, ``HO``, ``ST``, ``CS`` where metafor offers them
        for the measure.
    correct : bool
        metafor 5.x's ``correct``: the exact small-sample correction c(m) of SMD-type
        measures (``False`` gives Cohen's d), the Lajeunesse (2015) bias correction of
        ``ROM`` and the 1/(2(n-1)) corrections of ``CVR``, ``VR``, ``CVLN`` and ``SDLN``.
        ``correct=False`` gives metafor 3.8's ``ROM``.

    Returns
    -------
    pandas.DataFrame
        One row per input row with columns ``yi`` (effect size), ``vi`` (sampling
        variance; NaN where undefined, e.g. COR with ni <= 3) and ``measure``.
        ``attrs`` records the measure, vtype, add and to used.

    Raises
    ------
    EffectSizeError
        Unknown measure or vtype, missing required arguments, arrays of different
        lengths, or invalid values; all problems are collected first and named by row
        (0-based) and argument, with a ``problems`` DataFrame on the error.

    Notes
    -----
    Formulas are metafor 5.x's; ``docs/effect-sizes-and-meta-analysis.md`` lists every
    difference between metafor 3.8, 5.x and this function, with the reason. In short:
    standard deviations must be > 0 (metafor allows 0), sample sizes of mean and
    correlation measures must be >= 2 and 2x2 group sizes >= 1 (metafor only rejects
    negative ones), and scalars broadcast against arrays (metafor requires equal
    lengths). The tetrachoric correlation solves the saturated likelihood exactly (see
    :mod:`evidence_synth.effects.tetrachoric`), so its ``vi`` agrees with metafor's
    finite-difference Hessian to about 4 significant digits.

    References
    ----------
    Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
    Journal of Statistical Software, 36(3). Formula sources per measure are cited in the
    family modules of :mod:`evidence_synth.effects`.
    """
    problems = Problems(f"escalc(measure={measure!r})")
    measure = str(measure).upper()
    spec = get(measure)
    if spec is None:
        problems.add(None, "measure", measure, f"one of {', '.join(MEASURES)}")
        problems.raise_if_any()
    if to not in _TO:
        problems.add(None, "to", to, f"one of {', '.join(_TO)}")
    given = {
        "ai": ai, "bi": bi, "ci": ci, "di": di, "n1i": n1i, "n2i": n2i, "x1i": x1i,
        "x2i": x2i, "t1i": t1i, "t2i": t2i, "m1i": m1i, "m2i": m2i, "sd1i": sd1i,
        "sd2i": sd2i, "xi": xi, "mi": mi, "ri": ri, "ti": ti, "fi": fi, "pi": pi,
        "sdi": sdi, "r2i": r2i, "ni": ni,
    }  # fmt: skip
    arrays, k = as_arrays(problems, **given)
    vt = _vtypes(problems, spec, vtype, k)
    problems.raise_if_any()

    require(problems, arrays, *spec.family.requires, *spec.requires)
    options = Options(add=add, to=to, drop00=drop00, correct=correct)
    inputs = spec.family.prepare(problems, spec, arrays, k, options)
    yi, vi = spec.compute({**inputs, "vtype": vt, "correct": correct})

    with np.errstate(invalid="ignore"):
        # as metafor: +-Inf or NaN in either -> missing in both (NaN variances of measures
        # that keep yi are metafor's explicit NA)
        bad = ~np.isfinite(yi) | np.isinf(vi)
        if not spec.keeps_yi:
            bad |= np.isnan(vi)
        yi = np.where(bad, np.nan, yi)
        vi = np.where(bad | (vi < 0), np.nan, vi)
    out = pd.DataFrame({"yi": yi, "vi": vi, "measure": pd.array([measure] * k, dtype="string")})
    out.attrs = {"measure": measure, "vtype": vtype, "add": add, "to": to, "correct": correct}
    return out


def _vtypes(problems: Problems, measure: Measure, vtype: Any, k: int) -> np.ndarray:
    vt = np.atleast_1d(np.asarray(vtype, dtype=object)).astype(str)
    if vt.shape[0] == 1:
        vt = np.repeat(vt, k)
    elif vt.shape[0] != k:
        problems.add(None, "vtype", None, f"one value or {k} values, found {vt.shape[0]}")
        return np.repeat("LS", k)
    for row, value in enumerate(vt):
        if value not in measure.vtypes:
            problems.add(row, "vtype", value,
                         f"one of {', '.join(measure.vtypes)} for measure {measure.name}")
    return vt
