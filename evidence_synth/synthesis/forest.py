"""Forest plot of a fitted meta-analysis (matplotlib, Agg canvas; pyplot is not used).

The layout follows metafor's ``forest.rma``: one row per study (label, a square sized by
its weight with the confidence interval, weight and estimate with CI printed on the
right), the pooled estimate as a diamond, a reference line at the null. Ratio measures
(``OR``, ``RR``, ``ROM``, ``PETO``, ...) are drawn on a log axis and printed
exponentiated, as ``forest(res, atransf=exp)`` does. Random-effects models add the
prediction interval (a row of its own) and a heterogeneity line (Q, df, p, I², τ²).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import transforms
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from ..figure_text import plain_text
from .result import MetaResult

#: Measures analysed on the log scale: their name on the exponentiated scale.
RATIO_MEASURES = {
    "OR": "Odds ratio", "RR": "Risk ratio", "PETO": "Odds ratio (Peto)",
    "ROM": "Ratio of means", "D2OR": "Odds ratio", "D2ORL": "Odds ratio",
    "D2ORN": "Odds ratio", "IRR": "Incidence rate ratio", "HR": "Hazard ratio",
}
_MODEL_NAMES = {"rma_mh": "Mantel-Haenszel model", "rma_peto": "Peto model"}
_NICE = (  # ratio ticks, coarse to fine: the first series with 3 to 8 ticks in range
    (0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0),
    (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0),
    (0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0),
    (0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.25, 1.5, 1.75, 2.0),
)


def axis_label(measure: str | None, *, ratio: bool) -> str:
    """The axis label of a measure: "Odds ratio" for ``OR`` on the exponentiated scale,
    "Log odds ratio" on the log scale, the measure's description otherwise."""
    if not measure:
        return "Observed outcome"
    if measure in RATIO_MEASURES:
        name = RATIO_MEASURES[measure]
        return name if ratio else f"Log {name[0].lower()}{name[1:]}"
    from ..effects.registry import get

    found = get(measure)
    if found is None:
        return measure
    return found.text[0].upper() + found.text[1:]


@plain_text()
def forest_plot(
    result: MetaResult,
    *,
    labels: Sequence[str] | None = None,
    path: str | Path | None = None,
    measure: str | None = None,
    transf: Callable[[np.ndarray], np.ndarray] | None = None,
    xlabel: str | None = None,
    refline: float | None = None,
    show_pi: bool = True,
    title: str | None = None,
    width: float | None = None,
) -> Figure:
    """Draw a forest plot: one row per study, the pooled estimate as a diamond.

    Parameters
    ----------
    result : MetaResult
        From :func:`rma`, :func:`rma_mh` or :func:`rma_peto`. For meta-regression models
        only the studies are drawn (no pooled diamond).
    labels : sequence of str, optional
        Study labels (default: the result's ``slab``).
    path : str or Path, optional
        Write the figure there; the suffix (``.png``, ``.svg``, ``.pdf``) picks the format.
    measure : str, optional
        The effect-size measure (metafor's code; default ``result.measure``). Ratio
        measures (:data:`RATIO_MEASURES`) are drawn on a log axis with exponentiated tick
        labels and numbers, labelled with the measure's name ("Odds ratio").
    transf : callable, optional
        Transformation of the axis labels and printed numbers (the plot stays on the
        analysis scale), e.g. ``numpy.exp``; ``numpy.exp`` also chooses ratio ticks
        (0.25, 0.5, 1, 2, ...) like a ratio measure.
    xlabel : str, optional
        Axis label (default: from ``measure``, see :func:`axis_label`).
    refline : float, optional
        Reference line on the analysis scale (default 0: a ratio of 1).
    show_pi : bool
        Add the prediction interval (random-effects models with tau^2 > 0).
    title : str, optional
        Figure title.
    width : float, optional
        Figure width in inches (default: wide enough for the labels; height grows with
        the number of studies).

    Returns
    -------
    matplotlib.figure.Figure
    """
    measure = measure if measure is not None else result.measure
    ratio = (transf is None and measure in RATIO_MEASURES) or transf is np.exp
    fmt: Callable[[Any], Any] = np.exp if ratio else (transf or (lambda x: x))
    yi, vi = np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)
    names = list(labels) if labels is not None else [str(s) for s in result.slab]
    k = len(yi)
    crit = float(stats.norm.isf((1 - result.level / 100) / 2))
    lo, hi = yi - crit * np.sqrt(vi), yi + crit * np.sqrt(vi)
    weights = np.asarray(result.weights, dtype=float)
    pooled = result.int_only
    pred = result.predict() if pooled else None
    has_pi = bool(pooled and show_pi and result.tau2 > 0)
    extra = (2.2 if pooled else 0.5) + (1.0 if has_pi else 0.0) + (1.0 if pooled else 0.0)
    label_chars = max([len(n) for n in names] + [len(_model(result)) + 2, 18])
    label_w = min(4.2, 0.075 * label_chars + 0.2)
    if width is None:
        width = label_w + 4.2 + 2.6
    fig = Figure(figsize=(width, 0.3 * (k + extra) + 1.3))
    FigureCanvasAgg(fig)
    left, right = label_w / width, 1 - 2.6 / width
    top = 1 - (0.55 if title else 0.25) / fig.get_figheight()
    ax = fig.add_axes((left, 0.62 / fig.get_figheight(), right - left,
                       top - 0.62 / fig.get_figheight()))
    rows = np.arange(k, 0, -1).astype(float)
    row_text = transforms.blended_transform_factory(ax.transAxes, ax.transData)
    plot_w = (right - left) * width
    label_x, weight_x, estimate_x = -(label_w - 0.08) / plot_w, 1 + 0.8 / plot_w, \
        1 + 2.5 / plot_w

    def put(x: float, y: float, text: str, **kw: Any) -> None:
        ax.text(x, y, text, transform=row_text, va="center", clip_on=False,
                **{"fontsize": 8, **kw})

    header = k + 1.2
    put(label_x, header, "Study", ha="left", fontweight="bold")
    put(weight_x, header, "Weight", ha="right", fontweight="bold")
    put(estimate_x, header, f"{_short(measure, ratio)} [{result.level:g}% CI]", ha="right",
        fontweight="bold")
    sizes = 10 + 90 * np.nan_to_num(weights / np.nanmax(weights)) if k else []
    for y in (header - 0.55, 0.45):
        ax.plot([label_x, estimate_x], [y, y], transform=row_text, color="black",
                linewidth=0.6, clip_on=False)
    ax.hlines(rows, lo, hi, color="black", linewidth=0.9)
    ax.scatter(yi, rows, s=sizes, marker="s", color="black", zorder=3)
    for y, name, w, est, a, b in zip(rows, names, weights, yi, lo, hi, strict=True):
        put(label_x, y, name, ha="left")
        put(weight_x, y, f"{w:.1f}%", ha="right")
        put(estimate_x, y, _ci(fmt, est, a, b), ha="right")
    span = [lo.min(initial=np.inf), hi.max(initial=-np.inf)]
    bottom = 0.4
    if pooled:
        b, cl, cu = (float(pred[c][0]) for c in ("pred", "ci_lb", "ci_ub"))
        y = -0.2
        ax.fill([cl, b, cu, b], [y, y + 0.32, y, y - 0.32], color="black", zorder=3)
        put(label_x, y, _model(result), ha="left", fontweight="bold")
        put(weight_x, y, "100%", ha="right", fontweight="bold")
        put(estimate_x, y, _ci(fmt, b, cl, cu), ha="right", fontweight="bold")
        bottom = y - 0.7
        if has_pi:
            y -= 1.0
            pl, pu = float(pred["pi_lb"][0]), float(pred["pi_ub"][0])
            ax.hlines(y, pl, pu, color="#555555", linewidth=2.2)
            ax.vlines([pl, pu], y - 0.15, y + 0.15, color="#555555", linewidth=1)
            put(label_x, y, "Prediction interval", ha="left", style="italic")
            put(estimate_x, y, f"[{_n(fmt, pl)}, {_n(fmt, pu)}]", ha="right", style="italic")
            span += [pl, pu]
            bottom = y - 0.7
        bottom -= 0.4
        put(label_x, bottom, heterogeneity_text(result), ha="left", fontsize=7.5)
        bottom -= 0.6
    ax.vlines(0.0 if refline is None else refline, bottom + (1.0 if pooled else 0.0),
              header - 0.55, color="#555555", linewidth=0.8, linestyle="--", zorder=1)
    finite = [v for v in span if math.isfinite(v)] or [-1.0, 1.0]
    lo_x, hi_x = min(finite), max(finite)
    pad = 0.04 * (hi_x - lo_x or 1.0)
    ax.set_xlim(lo_x - pad, hi_x + pad)
    ax.set_ylim(bottom, header + 0.6)
    ax.set_yticks([])
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)
    if ratio:
        ticks = _ratio_ticks(lo_x - pad, hi_x + pad)
        ax.set_xticks(np.log(ticks), [f"{t:g}" for t in ticks])
    elif transf is not None:
        ticks = ax.get_xticks()
        ax.set_xticks(ticks, [_n(fmt, t) for t in ticks])
    ax.tick_params(axis="x", labelsize=8)
    if ratio and xlabel is None:
        xlabel = axis_label(measure or "OR", ratio=True) + " (log scale)" if measure else \
            "Ratio (log scale)"
    ax.set_xlabel(xlabel or axis_label(measure, ratio=False), fontsize=9)
    if title:
        fig.text(0.01, 1 - 0.12 / fig.get_figheight(), title, ha="left", va="top",
                 fontsize=10, fontweight="bold")
    if path is not None:
        fig.savefig(Path(path), bbox_inches="tight")
    return fig


def heterogeneity_text(result: MetaResult) -> str:
    """"Heterogeneity: Q = 152.23, df = 12, p < 0.001; I² = 92.2%, τ² = 0.3132 (REML)"."""
    p = "p < 0.001" if result.QEp < 0.001 else f"p = {result.QEp:.3f}"
    text = f"Heterogeneity: Q = {result.QE:.2f}, df = {result.QEdf}, {p}"
    if math.isfinite(result.I2):
        text += f"; I\u00b2 = {result.I2:.1f}%"
    if result.model == "rma" and result.method not in ("EE", "FE", "CE"):
        text += f", \u03c4\u00b2 = {result.tau2:.4f} ({result.method})"
    return text


def _model(result: MetaResult) -> str:
    if result.model in _MODEL_NAMES:
        return _MODEL_NAMES[result.model]
    if result.method in ("EE", "FE", "CE"):
        return {"EE": "Equal-effects model", "FE": "Fixed-effects model",
                "CE": "Common-effect model"}[result.method]
    return f"Random-effects model ({result.method})"


def _short(measure: str | None, ratio: bool) -> str:
    if measure in RATIO_MEASURES and ratio:
        return {"Odds ratio": "OR", "Risk ratio": "RR"}.get(RATIO_MEASURES[measure], measure)
    return measure or "Estimate"


def _ratio_ticks(lo: float, hi: float) -> list[float]:
    series = [[t for t in nice if lo <= math.log(t) <= hi] for nice in _NICE]
    for ticks in series[1:]:
        if 3 <= len(ticks) <= 8:
            return ticks
    if len(series[0]) >= 3:
        return series[0]
    return [float(f"{math.exp(v):.2g}") for v in np.linspace(lo, hi, 4)]


def _ci(fmt: Callable[[Any], Any], est: float, lo: float, hi: float) -> str:
    return f"{_n(fmt, est)} [{_n(fmt, lo)}, {_n(fmt, hi)}]"


def _n(fmt: Callable[[Any], Any], value: float) -> str:
    return f"{float(fmt(np.asarray(value))):.2f}"
