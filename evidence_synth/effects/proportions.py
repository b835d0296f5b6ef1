"""Effect sizes of single proportions (metafor's ``PR``, ``PLN``, ``PLO``, ``PAS``,
``PFT``) from ``xi`` events and ``mi`` non-events (or ``ni`` = ``xi + mi``), with the
continuity correction of ``add``/``to`` (add defaults to 1/2, 0 for PAS and PFT).
Formulas follow metafor 5.x's ``escalc``.
"""

from __future__ import annotations

import numpy as np

from .inputs import Problems, add_to_rows, check_rows, negative, weighted_mean
from .measure import Arrays, Family, Measure, Options, Result


def _prepare(problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
             ) -> Arrays:
    if "mi" not in a and "ni" not in a:
        problems.add(None, "mi", None, "a value (or ni)")
    problems.raise_if_any()
    xi = a["xi"]
    if "mi" in a and "ni" in a:
        problems.check("ni", a["ni"], a["ni"] != xi + a["mi"], "xi + mi (as given)")
    mi = a["mi"] if "mi" in a else a["ni"] - xi
    check_rows(problems, a, {"xi": (negative, ">= 0 (a count)"),
                             "mi": (negative, ">= 0 (a count)")})
    if "mi" not in a:
        problems.check("xi", xi, mi < 0, "<= ni (events cannot exceed the sample size)")
    problems.check("ni", xi + mi, xi + mi <= 0, "> 0 (sample size)")
    problems.raise_if_any()
    add = measure.add if options.add is None else options.add
    xi, mi = add_to_rows((xi, mi), float(add), options.to, (xi == 0) | (mi == 0))
    return {"xi": xi, "mi": mi, "ni": xi + mi}


PROPORTION = Family(
    "proportion",
    arguments="xi, mi (or xi, ni)",
    provides=("xi", "mi", "ni"),
    prepare=_prepare,
    requires=("xi",),
)


def _proportion(xi: np.ndarray, ni: np.ndarray, vtype: np.ndarray) -> Result:
    pri = xi / ni
    mean = weighted_mean(pri, ni)
    ls = pri * (1 - pri) / ni
    ub = pri * (1 - pri) / (ni - 1)
    avg = mean * (1 - mean) / ni
    return pri, np.select([vtype == "UB", vtype == "AV"], [ub, avg], ls)


def _log_proportion(xi: np.ndarray, ni: np.ndarray, vtype: np.ndarray) -> Result:
    pri = xi / ni
    mean = weighted_mean(pri, ni)
    return np.log(pri), np.where(vtype == "AV", 1 / (mean * ni) - 1 / ni, 1 / xi - 1 / ni)


def _logit_proportion(xi: np.ndarray, mi: np.ndarray, ni: np.ndarray, vtype: np.ndarray
                      ) -> Result:
    pri = xi / ni
    mean = weighted_mean(pri, ni)
    avg = 1 / (mean * ni) + 1 / ((1 - mean) * ni)
    return np.log(pri / (1 - pri)), np.where(vtype == "AV", avg, 1 / xi + 1 / mi)


def _arcsine_proportion(xi: np.ndarray, ni: np.ndarray) -> Result:
    return np.arcsin(np.sqrt(xi / ni)), 1 / (4 * ni)


def _freeman_tukey(xi: np.ndarray, ni: np.ndarray) -> Result:
    """Freeman & Tukey (1950) double arcsine transformation."""
    yi = (np.arcsin(np.sqrt(xi / (ni + 1))) + np.arcsin(np.sqrt((xi + 1) / (ni + 1)))) / 2
    return yi, 1 / (4 * ni + 2)


#: The single-proportion measures, in catalogue order.
MEASURES = (
    Measure("PR", PROPORTION, _proportion, "raw proportion", ("LS", "UB", "AV")),
    Measure("PLN", PROPORTION, _log_proportion, "log proportion", ("LS", "AV")),
    Measure("PLO", PROPORTION, _logit_proportion, "logit proportion", ("LS", "AV")),
    Measure("PAS", PROPORTION, _arcsine_proportion, "arcsine square-root proportion",
            add=0.0),
    Measure("PFT", PROPORTION, _freeman_tukey, "Freeman-Tukey double arcsine proportion",
            add=0.0),
)
