"""The PRISMA 2020 flow diagram (updated-review variant) drawn with matplotlib.

Layout follows the PRISMA 2020 template for updated reviews that searched databases,
registers and other sources: a previous-studies column, the databases/registers branch
with its exclusion boxes, the other-methods branch, and the new and total included
studies. Sizes are in inches on an A4-wide page (8.27 in), text at 7 pt.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from .._version import __version__
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
_COLOURS = {"box": "white", "prev": "#e3e3e3", "new": "#ffc000", "other": "#e3e3e3",
            "stage": "#9dc3e6", "edge": "#404040"}


@dataclass
class PrismaDiagram:
    """Files written by :func:`prisma_diagram` and the text of each box.

    Attributes
    ----------
    svg, png : pathlib.Path
    boxes : dict
        PRISMA2020 box name (``box1`` ... ``box16``, titles) -> the text drawn in it.
    """

    svg: Path
    png: Path
    boxes: dict[str, str] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        """Both files."""
        return [self.svg, self.png]


def _n(value: int) -> str:
    return f"(n\u00a0=\u00a0{value:,})"  # no-break spaces: never wrap inside "(n = 12)"


def _box_texts(c: PrismaCounts) -> dict[str, str]:
    dbs = "\n".join(f"    {name} {_n(n)}" for name, n in c.database_results.items())
    regs = "\n".join(f"    {name} {_n(n)}" for name, n in c.register_results.items())
    identified = "Records identified from:\n" + f"  Databases {_n(c.database_total)}"
    identified += f"\n{dbs}" if dbs else ""
    identified += f"\n  Registers {_n(c.register_total)}" + (f"\n{regs}" if regs else "")

    def reasons(items: dict[str, int]) -> str:
        return ":" + "".join(f"\n  {label} {_n(n)}" for label, n in items.items()) if items \
            else ""

    other_sought = f"Reports sought for retrieval {_n(c.other_sought_reports)}"
    if c.other_duplicates or c.other_records_excluded:
        other_sought += (f"\n(after removing {c.other_duplicates:,} duplicates and "
                         f"{c.other_records_excluded:,} records excluded at screening)")
    return {
        "prevstud": "Previous studies",
        "newstud": "Identification of new studies via databases and registers",
        "othstud": "Identification of new studies via other methods",
        "identification": "Identification",
        "screening": "Screening",
        "included": "Included",
        "box1": (f"Studies included in previous version of review {_n(c.previous_studies)}\n\n"
                 f"Reports of studies included in previous version of review "
                 f"{_n(c.previous_reports)}"),
        "box2": identified,
        "box3": ("Records removed before screening:\n"
                 f"  Duplicate records removed {_n(c.duplicates)}\n"
                 f"  Records marked as ineligible by automation tools "
                 f"{_n(c.excluded_automatic)}\n"
                 f"  Records removed for other reasons {_n(c.excluded_other)}"),
        "box4": f"Records screened {_n(c.records_screened)}",
        "box5": (f"Records excluded {_n(c.records_excluded)}\n"
                 f"  by humans {_n(c.records_excluded_human)}\n"
                 f"  by automation tools {_n(c.records_excluded_automation)}"),
        "box6": f"Reports sought for retrieval {_n(c.dbr_sought_reports)}",
        "box7": f"Reports not retrieved {_n(c.dbr_notretrieved_reports)}",
        "box8": f"Reports assessed for eligibility {_n(c.dbr_assessed)}",
        "box9": f"Reports excluded {_n(sum(c.dbr_excluded.values()))}" + reasons(c.dbr_excluded),
        "box10": (f"New studies included in review {_n(c.new_studies)}\n"
                  f"Reports of new included studies {_n(c.new_reports)}"),
        "box11": ("Records identified from:\n"
                  f"  Websites {_n(c.website_results)}\n"
                  f"  Organisations {_n(c.organisation_results)}\n"
                  f"  Citation searching {_n(c.citations_results)}"),
        "box12": other_sought,
        "box13": f"Reports not retrieved {_n(c.other_notretrieved_reports)}",
        "box14": f"Reports assessed for eligibility {_n(c.other_assessed)}",
        "box15": (f"Reports excluded {_n(sum(c.other_excluded.values()))}"
                  + reasons(c.other_excluded)),
        "box16": (f"Total studies included in review {_n(c.total_studies)}\n"
                  f"Reports of total included studies {_n(c.total_reports)}"),
    }


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


def wrapped_box_texts(counts: PrismaCounts) -> dict[str, str]:
    """The text of each box as drawn (wrapped to its column width)."""
    place = {"box1": "prev", "box2": "main", "box3": "excl", "box4": "main", "box5": "excl",
             "box6": "main", "box7": "excl", "box8": "main", "box9": "excl", "box10": "main",
             "box11": "other", "box12": "other", "box13": "oexcl", "box14": "other",
             "box15": "oexcl", "box16": "main", "prevstud": "prev"}
    widths = {k: _COLUMNS[v][1] for k, v in place.items()}
    widths["newstud"] = _COLUMNS["excl"][0] + _COLUMNS["excl"][1] - _COLUMNS["main"][0]
    widths["othstud"] = _COLUMNS["oexcl"][0] + _COLUMNS["oexcl"][1] - _COLUMNS["other"][0]
    return {k: (_wrap(v, widths[k]) if k in widths else v)
            for k, v in _box_texts(counts).items()}


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
    """
    base = Path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    texts = wrapped_box_texts(counts)
    col = _COLUMNS

    rows = [
        ("head", ["prevstud", "newstud", "othstud"]),
        ("ident", ["box1", "box2", "box3", "box11"]),
        ("screen", ["box4", "box5"]),
        ("sought", ["box6", "box7", "box12", "box13"]),
        ("assess", ["box8", "box9", "box14", "box15"]),
        ("new", ["box10"]),
        ("total", ["box16"]),
    ]
    heights = {name: max(_height(texts[b]) for b in boxes) for name, boxes in rows}
    top = 0.35 + (0.35 if title else 0.0)
    ys: dict[str, float] = {}
    y = top
    for name, _boxes in rows:
        ys[name] = y
        y += heights[name] + _GAP + (0.05 if name == "head" else 0)
    page_height = y + 0.35

    place = {
        "prevstud": ("head", col["prev"][0], col["prev"][1], _COLOURS["prev"]),
        "newstud": ("head", col["main"][0], col["excl"][0] + col["excl"][1] - col["main"][0],
                    _COLOURS["new"]),
        "othstud": ("head", col["other"][0],
                    col["oexcl"][0] + col["oexcl"][1] - col["other"][0], _COLOURS["other"]),
        "box1": ("ident", *col["prev"], _COLOURS["box"]),
        "box2": ("ident", *col["main"], _COLOURS["box"]),
        "box3": ("ident", *col["excl"], _COLOURS["box"]),
        "box11": ("ident", *col["other"], _COLOURS["box"]),
        "box4": ("screen", *col["main"], _COLOURS["box"]),
        "box5": ("screen", *col["excl"], _COLOURS["box"]),
        "box6": ("sought", *col["main"], _COLOURS["box"]),
        "box7": ("sought", *col["excl"], _COLOURS["box"]),
        "box12": ("sought", *col["other"], _COLOURS["box"]),
        "box13": ("sought", *col["oexcl"], _COLOURS["box"]),
        "box8": ("assess", *col["main"], _COLOURS["box"]),
        "box9": ("assess", *col["excl"], _COLOURS["box"]),
        "box14": ("assess", *col["other"], _COLOURS["box"]),
        "box15": ("assess", *col["oexcl"], _COLOURS["box"]),
        "box10": ("new", *col["main"], _COLOURS["box"]),
        "box16": ("total", *col["main"], _COLOURS["box"]),
    }

    with matplotlib.rc_context({"svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        fig = Figure(figsize=(A4_WIDTH, page_height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, A4_WIDTH)
        ax.set_ylim(page_height, 0)
        ax.axis("off")
        geometry: dict[str, tuple[float, float, float, float]] = {}
        for box, (row, x, w, colour) in place.items():
            h = _height(texts[box]) if row != "head" else heights["head"]
            y0 = ys[row]
            if row in ("ident", "screen", "sought", "assess", "new", "total") and box != "box1":
                y0 += (heights[row] - h) / 2
            geometry[box] = (x, y0, w, h)
            bold = row == "head"
            _draw_box(ax, x, y0, w, h, texts[box], colour, bold=bold,
                      center=row == "head")
        _stage_bars(ax, ys, heights, texts)
        _arrows(ax, geometry)
        if title:
            ax.text(A4_WIDTH / 2, 0.3, title, ha="center", va="center", fontsize=10,
                    fontweight="bold")
        footer = footer_text(counts.protocol_sha256)
        ax.text(A4_WIDTH - 0.1, page_height - 0.12, footer, ha="right", va="center",
                fontsize=5.5, color="#555555")
        svg, png = base.with_suffix(".svg"), base.with_suffix(".png")
        description = f"PRISMA 2020 flow diagram; {footer}"
        fig.savefig(svg, metadata={"Title": "PRISMA 2020 flow diagram",
                                   "Description": description,
                                   "Creator": f"evidence_synth {__version__}"})
        fig.savefig(png, dpi=dpi, metadata={"Title": "PRISMA 2020 flow diagram",
                                            "Description": description,
                                            "Software": f"evidence_synth {__version__}"})
    return PrismaDiagram(svg=svg, png=png, boxes=texts)


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
    spans = {
        "identification": ("ident", "ident"),
        "screening": ("screen", "assess"),
        "included": ("new", "total"),
    }
    for key, (first, last) in spans.items():
        y0 = ys[first]
        y1 = ys[last] + heights[last]
        ax.add_patch(FancyBboxPatch((x, y0), w, y1 - y0,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=_COLOURS["stage"], edgecolor="none"))
        ax.text(x + w / 2, (y0 + y1) / 2, texts[key], rotation=90, ha="center", va="center",
                fontsize=_FONT + 1, fontweight="bold")


def _arrow(ax, points) -> None:
    xs, ys = zip(*points, strict=True)
    if len(points) > 2:
        ax.plot(xs[:-1], ys[:-1], color=_COLOURS["edge"], linewidth=0.8)
    ax.annotate("", xy=points[-1], xytext=points[-2],
                arrowprops={"arrowstyle": "-|>", "color": _COLOURS["edge"], "lw": 0.8,
                            "shrinkA": 0, "shrinkB": 0, "mutation_scale": 8})


def _arrows(ax, g) -> None:
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

    for a, b in (("box2", "box4"), ("box4", "box6"), ("box6", "box8"), ("box8", "box10"),
                 ("box10", "box16"), ("box11", "box12"), ("box12", "box14")):
        _arrow(ax, [bottom(a), top(b)])
    for a, b in (("box2", "box3"), ("box4", "box5"), ("box6", "box7"), ("box8", "box9"),
                 ("box12", "box13"), ("box14", "box15")):
        start = right(a)
        _arrow(ax, [start, (g[b][0], start[1])])
    # other methods -> new studies; previous studies -> total
    x14, y14 = bottom("box14")
    _arrow(ax, [(x14, y14), (x14, right("box10")[1]), right("box10")])
    x1, y1 = bottom("box1")
    _arrow(ax, [(x1, y1), (x1, left("box16")[1]), left("box16")])
