"""The static gap-map figure: a bubble chart of studies per cell (matplotlib, no pyplot)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from .._version import __version__
from ..figure_text import plain_text
from ._provenance import footer_text

if TYPE_CHECKING:
    from .gapmap import GapMap


_BUBBLES = {  # view -> (column of to_frame, colour, text colour, legend), left to right
    "main": (
        ("n_ie_previous", "#1f4e79", "white", "Impact evaluations, previous map"),
        ("n_ie_new", "#9dc3e6", "black", "Impact evaluations, new"),
        ("n_sr_previous", "#c55a11", "white", "Systematic reviews, previous map"),
        ("n_sr_new", "#f8cbad", "black", "Systematic reviews, new"),
    ),
    "unintended": (
        ("n_adverse", "#c00000", "white", "Adverse effects"),
        ("n_beneficial", "#548235", "white", "Beneficial effects"),
        ("n_mixed", "#7030a0", "white", "Mixed effects"),
        ("n_unclear", "#bfbfbf", "black", "Direction unclear"),
    ),
}
_NOTES = {
    "main": ("Numbers are studies (not records); in each cell, left to right, the groups "
             "above that have studies there.",
             "A parent row or column counts the distinct studies of its sub-levels. Rows "
             "marked (new strategy) extend the 3ie framework."),
    "unintended": ("Numbers are studies with an unintended effect of that direction (a "
                   "study with effects in two directions counts in both bubbles).",
                   "Columns are domains of unintended effects; an effect coded on an outcome "
                   "column sits in its codebook domain. A parent counts its sub-levels."),
}


def draw(gm: GapMap, base: Path, *, dpi: int, view: str = "main") -> list[Path]:
    """Write ``base`` as SVG and PNG; see :meth:`GapMap.figure`."""
    base.parent.mkdir(parents=True, exist_ok=True)
    frame = gm.to_frame(view)
    bubbles = _BUBBLES[view]
    columns = gm.columns if view == "main" else gm.unintended_columns
    n_rows, n_cols = len(gm.rows), len(columns)
    label_w, cell_w, cell_h = 3.0, max(0.78, min(1.05, 5.0 / max(n_cols, 1))), 0.42
    width = label_w + n_cols * cell_w + 0.3
    heading = gm.title
    if view == "unintended":
        heading = (gm.title.replace("Evidence gap map", "Unintended effects map", 1)
                   if gm.title.startswith("Evidence gap map") else
                   f"Unintended effects: {gm.title}")
    title = textwrap.fill(heading, max(20, int((width - 0.3) * 10)))
    title_extra = 0.22 * title.count("\n")
    height = 1.25 + title_extra + n_rows * cell_h + 1.0
    peak = max(1, int(frame[[b[0] for b in bubbles]].to_numpy().max(initial=0)))
    with plain_text(**{"svg.fonttype": "none", "font.family": "DejaVu Sans"}):
        fig = Figure(figsize=(width, height))
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, width)
        ax.set_ylim(height, 0)
        ax.axis("off")
        ax.text(0.15, 0.2, title, fontsize=11, fontweight="bold", va="top")
        top = 1.15 + title_extra
        for j, col in enumerate(columns.itertuples()):
            x = label_w + (j + 0.5) * cell_w
            ax.text(x, top - 0.08, _wrap_label(col.label, max(12, int(cell_w * 14))), ha="center",
                    va="bottom",
                    fontsize=6.5, fontweight="bold" if col.level == 0 else "normal")
        for i, row in enumerate(gm.rows.itertuples()):
            y = top + (i + 0.5) * cell_h
            if i % 2 == 0:
                ax.add_patch(Rectangle((0.1, top + i * cell_h), width - 0.2, cell_h,
                                           facecolor="#f4f4f4", edgecolor="none", zorder=0))
            marker = " (new strategy)" if row.namespace == "ext" and row.level == 0 else ""
            label = _wrap_label(("    " * row.level) + row.label + marker, 52)
            ax.text(0.15, y, label, va="center", fontsize=6.5,
                    fontweight="bold" if row.level == 0 else "normal",
                    color="#7a3e00" if row.namespace == "ext" else "black")
        for j in range(n_cols + 1):
            x = label_w + j * cell_w
            ax.plot([x, x], [top, top + n_rows * cell_h], color="#cccccc", lw=0.5, zorder=1)
        r_index = {n: i for i, n in enumerate(gm.rows["node_id"])}
        c_index = {n: j for j, n in enumerate(columns["node_id"])}
        for cell in frame.itertuples():
            i, j = r_index[cell.row_id], c_index[cell.column_id]
            cx, cy = label_w + (j + 0.5) * cell_w, top + (i + 0.5) * cell_h
            shown = [b for b in bubbles if getattr(cell, b[0])]
            for k, (column, colour, ink, _legend) in enumerate(shown):
                n = getattr(cell, column)
                dx = 0.25 * (k - (len(shown) - 1) / 2)  # centred, in the legend's order
                radius = min(cell_w / 8.5, 0.06 + 0.05 * (n / peak) ** 0.5)
                ax.add_patch(Circle((cx + dx * cell_w, cy), radius, facecolor=colour,
                                    edgecolor="#333333", lw=0.3, zorder=2))
                ax.text(cx + dx * cell_w, cy, str(n), ha="center", va="center", fontsize=5,
                        zorder=3, color=ink)
        legend_y = top + n_rows * cell_h + 0.22
        for k, (_c, colour, _ink, text) in enumerate(bubbles):
            lx = 0.25 + (k % 2) * 2.6
            ly = legend_y + (k // 2) * 0.2
            ax.add_patch(Circle((lx, ly), 0.06, facecolor=colour, edgecolor="#333333",
                                    lw=0.3))
            ax.text(lx + 0.12, ly, text, va="center", fontsize=6)
        for k, note in enumerate(_NOTES[view]):
            ax.text(0.15, legend_y + 0.45 + 0.17 * k, note, fontsize=5.5, va="center",
                    color="#333333")
        footer = footer_text(gm.protocol_sha256)
        ax.text(width - 0.1, height - 0.1, footer, ha="right", va="center", fontsize=5,
                color="#555555")
        paths = [base.with_suffix(".svg"), base.with_suffix(".png")]
        meta = {"Title": heading, "Description": f"Evidence gap map; {footer}"}
        fig.savefig(paths[0], metadata={**meta, "Creator": f"evidence_synth {__version__}"})
        fig.savefig(paths[1], dpi=dpi,
                    metadata={**meta, "Software": f"evidence_synth {__version__}"})
    return paths


def _wrap_label(text: str, width: int) -> str:
    indent = len(text) - len(text.lstrip(" "))
    return "\n".join(textwrap.wrap(text.strip(), width, initial_indent=" " * indent,
                                   subsequent_indent=" " * (indent + 2),
                                   break_long_words=False)) or text
