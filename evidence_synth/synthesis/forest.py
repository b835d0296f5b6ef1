"""Forest plot of a fitted meta-analysis (matplotlib, Agg canvas; pyplot is not used)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from scipy import stats

from .result import MetaResult


def forest_plot(
    result: MetaResult,
    *,
    labels: Sequence[str] | None = None,
    path: str | Path | None = None,
    transf: Callable[[np.ndarray], np.ndarray] | None = None,
    xlabel: str | None = None,
    refline: float | None = None,
    show_pi: bool = True,
    title: str | None = None,
    width: float = 8.0,
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
    transf : callable, optional
        Transformation of the axis labels and printed numbers, e.g. ``numpy.exp`` for
        ratios; the plot stays on the analysis scale (log scale for ratios).
    xlabel : str, optional
        Axis label (default: "Observed outcome" or the measure).
    refline : float, optional
        Reference line on the analysis scale (default 0).
    show_pi : bool
        Draw the prediction interval as a line through the diamond (random-effects models).
    title : str, optional
        Figure title.
    width : float
        Figure width in inches (height grows with the number of studies).

    Returns
    -------
    matplotlib.figure.Figure
    """
    yi, vi = np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)
    names = list(labels) if labels is not None else [str(s) for s in result.slab]
    k = len(yi)
    crit = float(stats.norm.isf((1 - result.level / 100) / 2))
    lo, hi = yi - crit * np.sqrt(vi), yi + crit * np.sqrt(vi)
    fmt: Callable[[np.ndarray], np.ndarray] = transf if transf is not None else (lambda x: x)
    pooled = result.int_only
    rows = np.arange(k, 0, -1) + (1.5 if pooled else 0)
    fig = Figure(figsize=(width, 0.35 * (k + 4) + 0.8))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    weights = np.asarray(result.weights, dtype=float)
    sizes = 20 + 180 * np.nan_to_num(weights / np.nanmax(weights)) if k else []
    ax.hlines(rows, lo, hi, color="black", linewidth=1)
    ax.scatter(yi, rows, s=sizes, marker="s", color="black", zorder=3)
    texts = [
        f"{_n(fmt, y)} [{_n(fmt, a)}, {_n(fmt, b)}]" for y, a, b in zip(yi, lo, hi, strict=True)
    ]
    ymin = 0.0
    if pooled:
        pred = result.predict()
        b, cl, cu = float(pred["pred"][0]), float(pred["ci_lb"][0]), float(pred["ci_ub"][0])
        ax.fill([cl, b, cu, b], [0.5, 0.8, 0.5, 0.2], color="black", zorder=3)
        if show_pi and result.tau2 > 0:
            ax.hlines(0.5, float(pred["pi_lb"][0]), float(pred["pi_ub"][0]), color="grey",
                      linestyle="dotted", linewidth=1.5)  # fmt: skip
        model = (
            "RE Model" if result.tau2 > 0 or result.method not in ("EE", "FE", "CE") else "EE Model"
        )
        if result.model != "rma":
            model = "MH Model" if result.model == "rma_mh" else "Peto Model"
        names_all = [*names, model]
        rows_all = np.append(rows, 0.5)
        texts.append(f"{_n(fmt, b)} [{_n(fmt, cl)}, {_n(fmt, cu)}]")
        ymin = -0.2
    else:
        names_all, rows_all = names, rows
    ax.axvline(0.0 if refline is None else refline, color="grey", linewidth=0.8, linestyle="--")
    ax.set_yticks(rows_all, names_all)
    ax.set_ylim(ymin, rows.max() + 1 if k else 1)
    right = ax.secondary_yaxis("right")
    right.set_yticks(rows_all, texts)
    right.tick_params(length=0)
    for spine in ("top", "right", "left"):
        ax.spines[spine].set_visible(False)
    ax.tick_params(axis="y", length=0)
    if transf is not None:
        ticks = ax.get_xticks()
        ax.set_xticks(ticks, [_n(fmt, t) for t in ticks])
    ax.set_xlabel(xlabel or (result.measure or "Observed outcome"))
    if title:
        ax.set_title(title)
    fig.tight_layout()
    if path is not None:
        fig.savefig(Path(path))
    return fig


def _n(fmt: Callable[[Any], Any], value: float) -> str:
    return f"{float(fmt(np.asarray(value))):.2f}"
