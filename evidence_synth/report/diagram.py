"""The PRISMA 2020 flow diagram (updated-review variant) drawn with matplotlib.

Layout follows the PRISMA 2020 template for updated reviews that searched databases,
registers and other sources: a previous-studies column, the databases/registers branch
with its exclusion boxes, the other-methods branch, and the new and total included
studies. The panels, their text and their slots (row, column) come from the box table
(``_prisma_boxes``); this module holds the grid's geometry and draws. Sizes are in inches
on an A4-wide page (8.27 in), text at 7 pt.
"""

from __future__ import annotations

import itertools
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from .._version import __version__
from ..figure_text import plain_text
from ._prisma_boxes import (
    PANEL,
    PANELS,
    ROWS,
    Panel,
    after_removing,
    count,
    in_panel,
    parts,
    stage_rows,
)
from ._provenance import footer_text
from .prisma import PrismaCounts

A4_WIDTH = 8.27
_FONT = 7.0
_LINE = _FONT * 1.32 / 72
_CHARS_PER_INCH = 19.0
_PAD = 0.07
_GAP = 0.22
_COLUMNS = {  # x, width (inches)
    "stage": (0.08, 0.28),
    "prev": (0.46, 1.25),
    "main": (1.83, 1.72),
    "excl": (3.67, 1.72),
    "other": (5.51, 1.27),
    "oexcl": (6.90, 1.27),
}
#: Columns whose panels are joined top to bottom by arrows.
_FLOWS = ("main", "other")
#: Column -> the flow column its panels branch off to the right.
_EXITS = {"excl": "main", "oexcl": "other"}
#: Column -> (row, side): its last panel joins the first flow's panel of that row.
_JOINS = {"other": ("new", "right"), "prev": ("total", "left")}
#: Columns whose panels keep to the top of their row.
_TOP_ALIGNED = ("prev",)
_COLOURS = {"box": "white", "stage": "#9dc3e6", "edge": "#404040",
            "title": {"prev": "#e3e3e3", "main": "#ffc000", "other": "#e3e3e3"}}


@dataclass
class PrismaDiagram:
    """Files written by :func:`prisma_diagram` and the text of each box.

    Attributes
    ----------
    svg, png : pathlib.Path
    boxes : dict
        PRISMA2020 box name (``box1`` ... ``box16``, titles) -> the text drawn in it.
    status : str
        ``"final"``, or the draft mark drawn on the figure (``PrismaCounts.status``).
    """

    svg: Path
    png: Path
    boxes: dict[str, str] = field(default_factory=dict)
    status: str = "final"

    @property
    def files(self) -> list[Path]:
        """Both files."""
        return [self.svg, self.png]


def _n(value: int) -> str:
    return f"(n\u00a0=\u00a0{value:,})"  # no-break spaces: never wrap inside "(n = 12)"


def _lines(c: PrismaCounts, panel: Panel) -> str:
    """A panel's text: its heading, then each count with its items and parts."""
    indent = "  " if panel.text else ""
    blocks = []
    for box in in_panel(panel.name):
        if box.part_of:
            continue
        lines = [f"{indent}{box.label} {_n(count(c, box.key))}"]
        items = getattr(c, box.key) if box.items else {}
        if items and box.items == "reasons":
            lines[0] += ":"
        lines += [f"{indent}  {item} {_n(n)}" for item, n in items.items()]
        lines += [f"{indent}  {part.label} {_n(count(c, part.key))}"
                  for part in parts(box.key) if not part.aside]
        if any(count(c, part.key) for part in parts(box.key) if part.aside):
            lines.append(f"({after_removing(c, box.key, thousands=True)})")
        blocks.append("\n".join(lines))
    text = ("\n\n" if panel.blank_line else "\n").join(blocks)
    return f"{panel.text}\n{text}" if panel.text else text


def _box_texts(c: PrismaCounts) -> dict[str, str]:
    return {p.name: p.text if p.kind != "counts" else _lines(c, p) for p in PANELS}


def _wrap(text: str, width_in: float) -> str:
    chars = max(8, int((width_in - 2 * _PAD) * _CHARS_PER_INCH))
    lines = []
    for line in text.split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip():
            lines.append("")
            continue
        hanging = indent + 2 if indent else 0
        lines += textwrap.wrap(line.strip(), chars, break_long_words=True,
                               initial_indent=" " * indent, subsequent_indent=" " * hanging)
    return "\n".join(lines).replace("\u00a0", " ")


def _height(text: str) -> float:
    return (text.count("\n") + 1) * _LINE + 2 * _PAD


def _span(panel: Panel) -> tuple[float, float]:
    """x and width of a panel's columns."""
    x = _COLUMNS[panel.columns[0]][0]
    last_x, last_w = _COLUMNS[panel.columns[-1]]
    return x, last_x + last_w - x


def wrapped_box_texts(counts: PrismaCounts) -> dict[str, str]:
    """The text of each box as drawn (wrapped to its column width)."""
    return {name: (_wrap(text, _span(PANEL[name])[1]) if PANEL[name].columns else text)
            for name, text in _box_texts(counts).items()}


def prisma_diagram(
    counts: PrismaCounts,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    dpi: int = 200,
) -> PrismaDiagram:
    """Draw the PRISMA 2020 flow diagram (updated review) to SVG and PNG.

    Parameters
    ----------
    counts : PrismaCounts
        From :func:`prisma_counts` (call ``.check()`` first if you want to refuse a diagram
        whose numbers do not add up).
    path : path-like
        Output path; its suffix is replaced by ``.svg`` and ``.png`` (both are written).
    title : str, optional
        A title above the diagram.
    dpi : int, default 200
        Resolution of the PNG.

    Returns
    -------
    PrismaDiagram
        The two paths and the text of every box. SVG text is kept as text (searchable).
        Library version and protocol hash are in the footer and in the files' metadata.

    Notes
    -----
    Counts that are not final (``counts.draft_reasons()``: screening in progress, counts
    inconsistent) are drawn with a red "DRAFT: <reasons>" line above the diagram and a
    "DRAFT" watermark across it, and the files' title metadata starts with "DRAFT".
    """
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    texts = wrapped_box_texts(counts)
    row_names = [row for row, _stage in ROWS]
    drawn = sorted((p for p in PANELS if p.kind != "stage"),
                   key=lambda p: (row_names.index(p.row), list(_COLUMNS).index(p.columns[0])))
    heights = {row: max(_height(texts[p.name]) for p in drawn if p.row == row)
               for row in row_names}
    status = counts.status
    draft = status != "final"
    top = 0.35 + (0.35 if title else 0.0) + (0.3 if draft else 0.0)
    ys: dict[str, float] = {}
    y = top
    for row in row_names:
        ys[row] = y
        y += heights[row] + _GAP + (0.05 if row == "head" else 0)
    page_height = y + 0.35

    with plain_text(**{"svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        fig = Figure(figsize=(A4_WIDTH, page_height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, A4_WIDTH)
        ax.set_ylim(page_height, 0)
        ax.axis("off")
        geometry: dict[str, tuple[float, float, float, float]] = {}
        for panel in drawn:
            x, w = _span(panel)
            is_title = panel.kind == "title"
            h = heights[panel.row] if is_title else _height(texts[panel.name])
            y0 = ys[panel.row]
            if not is_title and panel.columns[0] not in _TOP_ALIGNED:
                y0 += (heights[panel.row] - h) / 2
            geometry[panel.name] = (x, y0, w, h)
            colour = _COLOURS["title"][panel.columns[0]] if is_title else _COLOURS["box"]
            _draw_box(ax, x, y0, w, h, texts[panel.name], colour, bold=is_title,
                      center=is_title)
        _stage_bars(ax, ys, heights, texts)
        _arrows(ax, geometry, [p for p in drawn if p.kind == "counts"])
        if title:
            ax.text(A4_WIDTH / 2, 0.3, title, ha="center", va="center", fontsize=10,
                    fontweight="bold")
        if draft:
            _draft_mark(ax, status, y=top - 0.28, height=page_height)
        footer = footer_text(counts.protocol_sha256)
        ax.text(A4_WIDTH - 0.1, page_height - 0.12, footer, ha="right", va="center",
                fontsize=5.5, color="#555555")
        svg, png = base.with_suffix(".svg"), base.with_suffix(".png")
        description = f"PRISMA 2020 flow diagram; {footer}"
        name = f"{status}: PRISMA 2020 flow diagram" if draft else "PRISMA 2020 flow diagram"
        fig.savefig(svg, metadata={"Title": name, "Description": description,
                                   "Creator": f"evidence_synth {__version__}"})
        fig.savefig(png, dpi=dpi, metadata={"Title": name, "Description": description,
                                            "Software": f"evidence_synth {__version__}"})
    return PrismaDiagram(svg=svg, png=png, boxes=texts, status=status)


def _draft_mark(ax, status: str, *, y: float, height: float) -> None:
    """A red line naming why the diagram is a draft, and a watermark across the page."""
    ax.text(A4_WIDTH / 2, y, f"{status} – these counts are not final",
            ha="center", va="center", fontsize=9, fontweight="bold", color="#c00000",
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "#fde9e9",
                  "edgecolor": "#c00000", "linewidth": 0.8})
    ax.text(A4_WIDTH / 2, height / 2, "DRAFT", ha="center", va="center", fontsize=110,
            fontweight="bold", color="#c00000", alpha=0.13, rotation=35, zorder=10)


def _draw_box(ax, x, y, w, h, text, colour, *, bold=False, center=False) -> None:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0,rounding_size=0.04",
                                facecolor=colour, edgecolor=_COLOURS["edge"], linewidth=0.7))
    if center:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=_FONT,
                fontweight="bold" if bold else "normal", linespacing=1.2)
    else:
        ax.text(x + _PAD, y + _PAD, text, ha="left", va="top", fontsize=_FONT,
                fontweight="bold" if bold else "normal", linespacing=1.2)


def _stage_bars(ax, ys, heights, texts) -> None:
    x, w = _COLUMNS["stage"]
    for panel in PANELS:
        if panel.kind != "stage":
            continue
        rows = stage_rows(panel.name)
        y0 = ys[rows[0]]
        y1 = ys[rows[-1]] + heights[rows[-1]]
        ax.add_patch(FancyBboxPatch((x, y0), w, y1 - y0,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=_COLOURS["stage"], edgecolor="none"))
        ax.text(x + w / 2, (y0 + y1) / 2, texts[panel.name], rotation=90, ha="center",
                va="center", fontsize=_FONT + 1, fontweight="bold")


def _arrow(ax, points) -> None:
    xs, ys = zip(*points, strict=True)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color=_COLOURS["edge"], linewidth=0.8)
    ax.annotate("", xy=points[-1], xytext=points[-2],
                arrowprops={"arrowstyle": "-|>", "color": _COLOURS["edge"], "lw": 0.8,
                            "shrinkA": 0, "shrinkB": 0, "mutation_scale": 8})


def _arrows(ax, g, panels: list[Panel]) -> None:
    """Arrows down each flow column, out to its exit column, and where columns join."""
    def bottom(b):
        x, y, w, h = g[b]
        return (x + w / 2, y + h)

    def top(b):
        x, y, w, _h = g[b]
        return (x + w / 2, y)

    def right(b):
        x, y, w, h = g[b]
        return (x + w, y + h / 2)

    def left(b):
        x, y, _w, h = g[b]
        return (x, y + h / 2)

    column = {name: [p for p in panels if p.columns == (name,)] for name in _COLUMNS}

    def at(name: str, row: str) -> str:
        return next(p.name for p in column[name] if p.row == row)

    for name in _FLOWS:
        for a, b in itertools.pairwise(column[name]):
            _arrow(ax, [bottom(a.name), top(b.name)])
    for name, flow in _EXITS.items():
        for b in column[name]:
            start = right(at(flow, b.row))
            _arrow(ax, [start, (g[b.name][0], start[1])])
    for name, (row, side) in _JOINS.items():
        x, y = bottom(column[name][-1].name)
        target = at(_FLOWS[0], row)
        end = right(target) if side == "right" else left(target)
        _arrow(ax, [(x, y), (x, end[1]), end])
