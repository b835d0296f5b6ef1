"""Turn reported statistics into ``yi``/``vi``, recording the formula and inputs used.

Every computed effect in the evidence table carries ``formula`` (a key of
:data:`FORMULAS`, optionally followed by ``+modifier`` keys) and ``inputs`` (the numbers
passed to it). :func:`recompute` runs the same formula on the same inputs, so any stored
``yi``/``vi`` can be checked (:meth:`EvidenceTable.verify`). The arithmetic is done by
:func:`evidence_synth.effects.escalc` and the conversion functions beside it; this module
only decides which one to call and keeps the record.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import EffectSizeError
from .conversions import cluster_d, d_from_b, d_from_chisq, dppc2
from .effect_sizes import escalc
from .registry import names

__all__ = ["FORMULAS", "MODIFIERS", "MODIFIER_TEXT", "Formula", "compute_effect", "formulas",
           "recompute"]

_Z975 = 1.959963984540054


@dataclass(frozen=True)
class Formula:
    """A way of computing ``yi``/``vi`` from reported statistics.

    Attributes
    ----------
    key : str
        Name stored in the evidence table's ``formula``.
    text : str
        What it computes, for people (and docs).
    reference : str
        Where the formula comes from.
    """

    key: str
    text: str
    reference: str
    func: Callable[[str, Mapping[str, float]], tuple[float, float]]


def _escalc(measure: str, inputs: Mapping[str, float]) -> tuple[float, float]:
    frame = escalc(measure, **{k: float(v) for k, v in inputs.items()})
    return float(frame["yi"].iloc[0]), float(frame["vi"].iloc[0])


def _proportions(measure: str, inputs: Mapping[str, float]) -> tuple[float, float]:
    cells = {
        "ai": inputs["pr1i"] * inputs["n1i"], "n1i": inputs["n1i"],
        "ci": inputs["pr2i"] * inputs["n2i"], "n2i": inputs["n2i"],
    }
    return _escalc(measure, cells)


def _coefficient(measure: str, inputs: Mapping[str, float]) -> tuple[float, float]:
    out = d_from_b(inputs["b"], inputs["sd_y"], inputs["n1i"], inputs["n2i"], correct=True)
    return float(out.yi), float(out.vi)


def _chisq(measure: str, inputs: Mapping[str, float]) -> tuple[float, float]:
    n = inputs["ni"] if "ni" in inputs else inputs["n1i"] + inputs["n2i"]
    out = d_from_chisq(inputs["chisq"], n, direction=int(inputs["sign"]))
    return float(out.yi), float(out.vi)


def _did(measure: str, inputs: Mapping[str, float]) -> tuple[float, float]:
    out = dppc2(inputs["m1i_pre"], inputs["m1i"], inputs["sd1i_pre"], inputs["n1i"],
                inputs["m2i_pre"], inputs["m2i"], inputs["sd2i_pre"], inputs["n2i"],
                r=inputs["ri_prepost"])
    return float(out.yi), float(out.vi)


def _cluster(yi: float, vi: float, inputs: Mapping[str, float]) -> tuple[float, float]:
    out = cluster_d(yi, inputs["n1i"], inputs["n2i"], cluster_size=inputs["cluster_size"],
                    icc=inputs["icc"])
    return float(out.yi), float(out.vi)


def _pvalue(measure: str, inputs: Mapping[str, float]) -> tuple[float, float]:
    two_sided = min(1.0, float(inputs["pi"]) * (2 if inputs.get("tails") == 1 else 1))
    signed = math.copysign(two_sided, float(inputs["sign"]))
    return _escalc(measure, {"pi": signed, "n1i": inputs["n1i"], "n2i": inputs["n2i"]})


def _reported(measure: str, inputs: Mapping[str, float]) -> tuple[float, float]:
    if "se_reported" in inputs:
        se = float(inputs["se_reported"])
    else:
        se = (float(inputs["ci_ub_reported"]) - float(inputs["ci_lb_reported"])) / (2 * _Z975)
    if not se > 0:
        raise EffectSizeError(f"formula 'reported': standard error must be > 0, found {se!r}")
    return float(inputs["es_reported"]), se * se


#: Formulas by key. ``escalc`` takes the measure after a colon (``escalc:SMD``).
FORMULAS: dict[str, Formula] = {
    "escalc": Formula(
        "escalc",
        "metafor's escalc(measure, ...) on the stored inputs: means/SDs/ns, 2x2 counts, "
        "t or signed p with group sizes (SMD), correlations, partial correlations.",
        "Viechtbauer (2010), metafor; formulas per measure in evidence_synth.effects.escalc",
        _escalc,
    ),
    "props": Formula(
        "props",
        "2x2 table rebuilt from proportions and group sizes (ai = pr1i*n1i, ci = pr2i*n2i), "
        "then escalc(measure, ai, n1i, ci, n2i).",
        "Viechtbauer (2010), metafor",
        _proportions,
    ),
    "pvalue": Formula(
        "pvalue",
        "p-value made two-sided (doubled when tails = 1, at most 1) and signed with sign, "
        "then escalc(measure, pi, n1i, n2i) (metafor's signed-p convention).",
        "Viechtbauer (2010), metafor; Lipsey & Wilson (2001), Practical Meta-Analysis",
        _pvalue,
    ),
    "b_sdy": Formula(
        "b_sdy",
        "Standardised mean difference from a regression coefficient b of the treatment "
        "dummy and the outcome SD sd_y: s = sqrt((sd_y^2 (N-1) - b^2 n1 n2 / N) / (N-2)), "
        "d = b / s, v = (n1+n2)/(n1 n2) + d^2/(2(n1+n2)), times Hedges' exact correction "
        "(d_from_b(..., correct=True)).",
        "Wilson (2016); Lipsey & Wilson (2001); esc::esc_B",
        _coefficient,
    ),
    "chisq": Formula(
        "chisq",
        "d from a 1-df chi-square with total n (ni, or n1i + n2i) and its direction sign: "
        "d = 2 sqrt(chisq / (N - chisq)), v = d^2 / chisq (d_from_chisq).",
        "Lipsey & Wilson (2001, Table B10); esc::esc_chisq",
        _chisq,
    ),
    "dppc2": Formula(
        "dppc2",
        "Difference in differences standardised by the pooled baseline SD, with small-"
        "sample correction and Morris's variance using the pre-post correlation "
        "ri_prepost (dppc2).",
        "Morris (2008), Organizational Research Methods 11(2), eqs. 8-9 and 25",
        _did,
    ),
    "reported": Formula(
        "reported",
        "Effect size as reported (es_reported) with vi = se_reported^2, or "
        "vi = ((ci_ub_reported - ci_lb_reported) / (2 * 1.96))^2 from a 95% CI.",
        "Borenstein et al. (2009), Introduction to Meta-Analysis, ch. 7",
        _reported,
    ),
}

#: Corrections applied after a formula (``+key``): name -> (function, inputs it needs).
MODIFIERS: dict[str, tuple[Callable[[float, float, Mapping[str, float]], tuple[float, float]],
                           tuple[str, ...]]] = {
    "cluster_hedges2007": (_cluster, ("n1i", "n2i", "cluster_size", "icc")),
}
#: Text and source of each modifier.
MODIFIER_TEXT = {
    "cluster_hedges2007": "d_T = d sqrt(1 - 2(n-1)icc/(N-2)) with Hedges's variance for "
                          "cluster-randomised designs (cluster_d); applied when the reported "
                          "statistics ignore clustering. Hedges (2007), JEBS 32(4), eqs. 16, 18.",
}


def formulas() -> pd.DataFrame:
    """The formulas and modifiers a ``formula`` key may name.

    Returns
    -------
    pandas.DataFrame
        Columns ``key, kind`` (formula or modifier), ``text, reference``.
    """
    rows = [(f.key, "formula", f.text, f.reference) for f in FORMULAS.values()]
    rows += [(key, "modifier", text, "Hedges (2007)") for key, text in MODIFIER_TEXT.items()]
    return pd.DataFrame(rows, columns=["key", "kind", "text", "reference"])


def recompute(formula: str, inputs: Mapping[str, Any]) -> tuple[float, float]:
    """Compute ``(yi, vi)`` from a stored formula key and inputs.

    Parameters
    ----------
    formula : str
        E.g. ``"escalc:SMD"``, ``"props:OR"``, ``"reported:GEN"``, with optional
        ``+modifier`` suffixes.
    inputs : mapping
        Name -> number, as stored in the row.

    Returns
    -------
    tuple of float

    Raises
    ------
    EffectSizeError
        Unknown formula or modifier, missing inputs, or invalid values.
    """
    base, *mods = formula.split("+")
    key, _, measure = base.partition(":")
    if key not in FORMULAS:
        raise EffectSizeError(
            f"unknown formula {key!r}; expected one of {', '.join(sorted(FORMULAS))}"
        )
    unknown = [m for m in mods if m not in MODIFIERS]
    if unknown:
        raise EffectSizeError(
            f"formula {formula!r}: unknown modifier(s) {', '.join(unknown)}; expected "
            f"{', '.join(sorted(MODIFIERS)) or 'none'}"
        )
    only_mods = {"cluster_size", "icc"} if mods else set()
    base_inputs = {k: v for k, v in inputs.items() if k not in only_mods}
    try:
        yi, vi = FORMULAS[key].func(measure, base_inputs)
    except KeyError as exc:
        raise EffectSizeError(f"formula {formula!r}: input {exc.args[0]!r} is missing") from exc
    except TypeError as exc:
        raise EffectSizeError(f"formula {formula!r}: {exc}") from exc
    for mod in mods:
        func, names = MODIFIERS[mod]
        missing = [n for n in names if n not in inputs]
        if missing:
            raise EffectSizeError(f"formula {formula!r}: input(s) {', '.join(missing)} missing")
        yi, vi = func(yi, vi, {n: float(inputs[n]) for n in names})
    if not (math.isfinite(yi) and math.isfinite(vi) and vi > 0):
        raise EffectSizeError(
            f"formula {formula!r} gave no finite effect (yi={yi!r}, vi={vi!r}) from "
            f"inputs {dict(inputs)!r}"
        )
    return yi, vi


_TWO_GROUP = ("m1i", "m2i", "sd1i", "sd2i", "n1i", "n2i")
_BINARY = names("table")
_SMD_LIKE = names("two_group")


def _pick(reported: Mapping[str, Any], *names: str) -> dict[str, float] | None:
    if all(reported.get(n) is not None for n in names):
        return {n: reported[n] for n in names}
    return None


def _candidates(reported: Mapping[str, Any], measure: str | None) -> list[tuple[str, dict]]:
    """(formula, inputs) options the reported statistics allow, best first."""
    out: list[tuple[str, dict]] = []
    want = measure
    smd = want if want in _SMD_LIKE else "SMD"
    binary = want if want in _BINARY else "OR"
    if (got := _pick(reported, *_TWO_GROUP)) is not None and (want is None or want in _SMD_LIKE):
        out.append((f"escalc:{smd}", got))
    cells = _pick(reported, "ai", "bi", "ci", "di") or _pick(reported, "ai", "n1i", "ci", "n2i")
    if cells is not None and (want is None or want in _BINARY):
        out.append((f"escalc:{binary}", cells))
    props = _pick(reported, "pr1i", "n1i", "pr2i", "n2i")
    if props is not None and (want is None or want in _BINARY):
        out.append((f"props:{binary}", props))
    did = _pick(reported, "m1i_pre", "m1i", "sd1i_pre", "n1i", "m2i_pre", "m2i", "sd2i_pre",
                "n2i", "ri_prepost")
    if did is not None and want in (None, "SMD"):
        out.insert(0, ("dppc2:SMD", did))
    if want in (None, "SMD"):
        if (got := _pick(reported, "b", "sd_y", "n1i", "n2i")) is not None:
            out.append(("b_sdy:SMD", got))
        if (got := _pick(reported, "ti", "n1i", "n2i")) is not None:
            out.append(("escalc:SMD", got))
        elif (got := _pick(reported, "pi", "sign", "n1i", "n2i")) is not None:
            if reported.get("tails") is not None:
                got["tails"] = reported["tails"]
            out.append(("pvalue:SMD", got))
    if want in (None, "SMD") and reported.get("chisq") is not None and \
            reported.get("sign") is not None:
        sizes = _pick(reported, "ni") or _pick(reported, "n1i", "n2i")
        if sizes is not None:
            out.append(("chisq:SMD", {"chisq": reported["chisq"], "sign": reported["sign"],
                                      **sizes}))
    if want in (None, "ZCOR", "COR", "UCOR") and (got := _pick(reported, "ri", "ni")) is not None:
        out.append((f"escalc:{want or 'ZCOR'}", got))
    if want in ("PCOR", "ZPCOR") and (got := _pick(reported, "ti", "ni", "mi")) is not None:
        out.append((f"escalc:{want}", got))
    if (es := reported.get("es_reported")) is not None:
        rmeasure = reported.get("es_reported_measure") or "GEN"
        if want is None or want == rmeasure:
            if (se := reported.get("se_reported")) is not None:
                out.append((f"reported:{rmeasure}", {"es_reported": es, "se_reported": se}))
            elif (got := _pick(reported, "ci_lb_reported", "ci_ub_reported")) is not None:
                out.append((f"reported:{rmeasure}", {"es_reported": es, **got}))
    return out


def compute_effect(
    reported: Mapping[str, Any], *, measure: str | None = None
) -> dict[str, Any] | None:
    """Choose a formula for the reported statistics of one estimate and compute it.

    Parameters
    ----------
    reported : mapping
        The row's ``reported`` statistics (metafor argument names where one exists).
    measure : str, optional
        The metafor measure wanted; by default SMD for group statistics, t and p, log
        odds ratio (OR) for 2x2 tables and proportions, ZCOR for correlations, and the
        reported measure for an effect size taken as reported.

    Returns
    -------
    dict or None
        ``{"measure", "yi", "vi", "formula", "inputs"}``, or ``None`` when the statistics
        are not enough for any formula (a qualitative row, say).

    Raises
    ------
    EffectSizeError
        The chosen formula rejects the inputs (e.g. an SD <= 0), naming the argument.

    Notes
    -----
    Order of preference: means/SDs/ns; 2x2 counts; proportions with ns; t with group
    sizes; a p-value with its direction (``sign``) and group sizes; a correlation; an
    effect size as reported with its SE or 95% CI. A one-sided p-value (``tails = 1``) is
    doubled before use. When the reported statistics include ``icc`` and
    ``cluster_size`` and a cluster modifier is available, it is applied (Hedges 2007).
    """
    options = _candidates(reported, measure)
    if not options:
        return None
    formula, inputs = options[0]
    inputs = {k: float(v) for k, v in inputs.items()}
    smd = formula.split("+")[0].endswith(":SMD")
    if smd and reported.get("icc") is not None and reported.get("cluster_size") is not None \
            and "n1i" in inputs and "n2i" in inputs:
        formula += "+cluster_hedges2007"
        inputs.update(icc=float(reported["icc"]), cluster_size=float(reported["cluster_size"]))
    yi, vi = recompute(formula, inputs)
    used = formula.split("+")[0].partition(":")[2]
    return {"measure": used or "GEN", "yi": yi, "vi": vi, "formula": formula,
            "inputs": inputs}
