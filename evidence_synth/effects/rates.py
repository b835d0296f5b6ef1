"""Effect sizes of person-time (incidence) data: one group (metafor's ``IR``, ``IRLN``,
``IRS``, ``IRFT``) from ``xi`` events over ``ti`` person-time, and two groups (``IRR``,
``IRD``, ``IRSD``) from ``x1i, x2i`` events over ``t1i, t2i``. Zero counts get the
continuity correction of ``add``/``to`` (add defaults to 1/2, 0 for IRS, IRFT and IRSD);
``drop00`` drops two-group studies without events. Formulas follow metafor 5.x's
``escalc``.
"""

from __future__ import annotations

import numpy as np

from .inputs import Problems, add_to_rows, check_rows, negative, not_positive
from .measure import Arrays, Family, Measure, Options, Result

_TIME = (not_positive, "> 0 (person-time)")
_COUNT = (negative, ">= 0 (a count)")


def _prepare_one(problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
                 ) -> Arrays:
    check_rows(problems, a, {"xi": _COUNT, "ti": _TIME})
    problems.raise_if_any()
    add = measure.add if options.add is None else options.add
    (xi,) = add_to_rows((a["xi"],), float(add), options.to, a["xi"] == 0)
    return {"xi": xi, "ti": a["ti"]}


RATE = Family(
    "rate",
    arguments="xi (events), ti (person-time)",
    provides=("xi", "ti"),
    prepare=_prepare_one,
    requires=("xi", "ti"),
)


def _prepare_two(problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
                 ) -> Arrays:
    check_rows(problems, a, {"x1i": _COUNT, "x2i": _COUNT, "t1i": _TIME, "t2i": _TIME})
    problems.raise_if_any()
    x1i, x2i = a["x1i"].copy(), a["x2i"].copy()
    if options.drop00:
        none = (x1i == 0) & (x2i == 0)
        x1i[none] = x2i[none] = np.nan
    add = measure.add if options.add is None else options.add
    x1i, x2i = add_to_rows((x1i, x2i), float(add), options.to, (x1i == 0) | (x2i == 0))
    return {"x1i": x1i, "x2i": x2i, "t1i": a["t1i"], "t2i": a["t2i"]}


TWO_RATES = Family(
    "two_rates",
    arguments="x1i, x2i (events), t1i, t2i (person-time)",
    provides=("x1i", "x2i", "t1i", "t2i"),
    prepare=_prepare_two,
    requires=("x1i", "x2i", "t1i", "t2i"),
)


def _rate(xi: np.ndarray, ti: np.ndarray) -> Result:
    return xi / ti, xi / ti**2


def _log_rate(xi: np.ndarray, ti: np.ndarray) -> Result:
    return np.log(xi / ti), 1 / xi


def _sqrt_rate(xi: np.ndarray, ti: np.ndarray) -> Result:
    return np.sqrt(xi / ti), 1 / (4 * ti)


def _freeman_tukey_rate(xi: np.ndarray, ti: np.ndarray) -> Result:
    """Freeman & Tukey (1950) transformation of a rate."""
    iri = xi / ti
    return (np.sqrt(iri) + np.sqrt(iri + 1 / ti)) / 2, 1 / (4 * ti)


def _rate_ratio(x1i: np.ndarray, x2i: np.ndarray, t1i: np.ndarray, t2i: np.ndarray) -> Result:
    return np.log(x1i / t1i) - np.log(x2i / t2i), 1 / x1i + 1 / x2i


def _rate_difference(x1i: np.ndarray, x2i: np.ndarray, t1i: np.ndarray, t2i: np.ndarray
                     ) -> Result:
    return x1i / t1i - x2i / t2i, x1i / t1i**2 + x2i / t2i**2


def _sqrt_rate_difference(x1i: np.ndarray, x2i: np.ndarray, t1i: np.ndarray, t2i: np.ndarray
                          ) -> Result:
    return np.sqrt(x1i / t1i) - np.sqrt(x2i / t2i), 1 / (4 * t1i) + 1 / (4 * t2i)


#: The person-time measures, in catalogue order.
MEASURES = (
    Measure("IRR", TWO_RATES, _rate_ratio, "log incidence rate ratio"),
    Measure("IRD", TWO_RATES, _rate_difference, "incidence rate difference"),
    Measure("IRSD", TWO_RATES, _sqrt_rate_difference,
            "square-root transformed incidence rate difference", add=0.0),
    Measure("IR", RATE, _rate, "raw incidence rate"),
    Measure("IRLN", RATE, _log_rate, "log incidence rate"),
    Measure("IRS", RATE, _sqrt_rate, "square-root transformed incidence rate", add=0.0),
    Measure("IRFT", RATE, _freeman_tukey_rate, "Freeman-Tukey transformed incidence rate",
            add=0.0),
)
