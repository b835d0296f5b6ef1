"""Effect sizes of one group: means (``MN``, ``MNLN``, ``SMN``), the log coefficient of
variation (``CVLN``) and the log SD (``SDLN``), from ``mi`` (the mean), ``sdi`` and ``ni``;
and Cronbach's alpha (``ARAW``, ``AHW``, ``ABT``) from ``ai`` (alpha), ``mi`` (number of
items) and ``ni``. Formulas follow metafor 5.x's ``escalc``.
"""

from __future__ import annotations

import numpy as np

from .inputs import Problems, below, check_rows, negative, not_positive, weighted_mean
from .means import cmi
from .measure import Arrays, Family, Measure, Options, Result


def _prepare_single(
    problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
) -> Arrays:
    rules = {
        "ni": (below(2), ">= 2 (sample size)"),
        "sdi": (not_positive, "> 0 (a standard deviation)"),
    }
    if measure.name in ("MNLN", "CVLN"):
        rules["mi"] = (negative, ">= 0 (a mean on a ratio scale)")
    check_rows(problems, a, rules)
    problems.raise_if_any()
    return {"mi": a.get("mi", np.full(k, np.nan)), "sdi": a["sdi"], "ni": a["ni"]}


SINGLE_GROUP = Family(
    "single_group",
    arguments="sdi, ni",
    provides=("mi", "sdi", "ni"),
    prepare=_prepare_single,
    requires=("sdi", "ni"),
)


def _mean(mi: np.ndarray, sdi: np.ndarray, ni: np.ndarray, vtype: np.ndarray) -> Result:
    """Raw mean; HO pools the variances over studies (weights ni - 1)."""
    pooled = weighted_mean(sdi**2, ni - 1)
    return mi, np.where(vtype == "HO", pooled / ni, sdi**2 / ni)


def _standardised_mean(mi: np.ndarray, sdi: np.ndarray, ni: np.ndarray,
                       correct: bool) -> Result:
    """Single-group standardised mean c(ni - 1) mi / sdi."""
    yi = cmi(ni - 1, correct) * mi / sdi
    return yi, 1 / ni + yi**2 / (2 * ni)


def _log_mean(mi: np.ndarray, sdi: np.ndarray, ni: np.ndarray) -> Result:
    return np.log(mi), sdi**2 / (ni * mi**2)


def _log_cv(mi: np.ndarray, sdi: np.ndarray, ni: np.ndarray, correct: bool) -> Result:
    """Log coefficient of variation with the bias correction 1/(2(ni - 1)) (Nakagawa et al.
    2015, without the mean-SD correlation term)."""
    yi = np.log(sdi / mi) + (1 / (2 * (ni - 1)) if correct else 0.0)
    return yi, 1 / (2 * (ni - 1)) + sdi**2 / (ni * mi**2)


def _log_sd(sdi: np.ndarray, ni: np.ndarray, correct: bool) -> Result:
    yi = np.log(sdi) + (1 / (2 * (ni - 1)) if correct else 0.0)
    return yi, 1 / (2 * (ni - 1))


def _prepare_alpha(
    problems: Problems, measure: Measure, a: Arrays, k: int, options: Options
) -> Arrays:
    check_rows(problems, a, {
        "ai": (lambda x: x > 1, "<= 1 (Cronbach's alpha)"),
        "mi": (below(2), ">= 2 (number of items)"),
        "ni": (not_positive, "> 0 (sample size)"),
    })
    problems.raise_if_any()
    return {"ai": a["ai"], "mi": a["mi"], "ni": a["ni"]}


ALPHA = Family(
    "alpha",
    arguments="ai (Cronbach's alpha), mi (number of items), ni",
    provides=("ai", "mi", "ni"),
    prepare=_prepare_alpha,
    requires=("ai", "mi", "ni"),
)


def _alpha(ai: np.ndarray, mi: np.ndarray, ni: np.ndarray) -> Result:
    """Raw alpha; variance of van Zyl, Neudecker & Nel (2000)."""
    return ai, 2 * mi * (1 - ai) ** 2 / ((mi - 1) * (ni - 2))


def _alpha_hakstian_whalen(ai: np.ndarray, mi: np.ndarray, ni: np.ndarray) -> Result:
    """Hakstian & Whalen (1976) cube-root transformation, as 1 - (1 - alpha)^(1/3) so that
    yi increases with alpha."""
    vi = 18 * mi * (ni - 1) * (1 - ai) ** (2 / 3) / ((mi - 1) * (9 * ni - 11) ** 2)
    return 1 - (1 - ai) ** (1 / 3), vi


def _alpha_bonett(ai: np.ndarray, mi: np.ndarray, ni: np.ndarray) -> Result:
    """Bonett (2002) log transformation, as -log(1 - alpha)."""
    return -np.log(1 - ai), 2 * mi / ((mi - 1) * (ni - 2))


#: The single-group measures, in catalogue order.
MEASURES = (
    Measure("MN", SINGLE_GROUP, _mean, "raw mean", ("LS", "HO"), requires=("mi",)),
    Measure("MNLN", SINGLE_GROUP, _log_mean, "log mean", requires=("mi",)),
    Measure("SMN", SINGLE_GROUP, _standardised_mean, "single-group standardised mean",
            requires=("mi",)),
    Measure("CVLN", SINGLE_GROUP, _log_cv, "log coefficient of variation",
            requires=("mi",)),
    Measure("SDLN", SINGLE_GROUP, _log_sd, "log standard deviation"),
    Measure("ARAW", ALPHA, _alpha, "Cronbach's alpha (raw)"),
    Measure("AHW", ALPHA, _alpha_hakstian_whalen,
            "Cronbach's alpha, Hakstian-Whalen transformation"),
    Measure("ABT", ALPHA, _alpha_bonett, "Cronbach's alpha, Bonett transformation"),
)
