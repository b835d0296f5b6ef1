"""The report's forest plots: one per outcome and measure of the evidence table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import EvidenceSynthError
from ..figure_text import plain_text
from ._provenance import footer_text


def forest_plots(evidence: Any, out: Path, sha: str | None, notes: list[str],
                 labels: dict[str, str], *, dpi: int
                 ) -> tuple[dict[str, Path], dict[str, str]]:
    """Draw one forest plot per outcome x measure with at least two effect sizes.

    Titles and notes use the framework's labels (``labels``: node id -> label); ratio
    measures are drawn exponentiated on a log axis. Returns ``forest:<outcome> <measure>``
    -> PNG path (an SVG twin is written beside it), and the same keys -> plot headings.
    """
    try:
        from ..synthesis import forest_plot, rma
        from ..synthesis.forest import axis_label
    except ImportError:
        notes.append("forest plots skipped: evidence_synth.synthesis is not available")
        return {}, {}
    if hasattr(evidence, "rma_input"):
        frame = evidence.rma_input()
    else:
        frame = evidence.to_frame() if hasattr(evidence, "to_frame") else evidence
    if not {"yi", "vi"} <= set(frame.columns):
        notes.append("forest plots skipped: the evidence has no yi/vi columns")
        return {}, {}
    frame = frame[frame["yi"].notna() & frame["vi"].notna()]
    keys = ["outcome"] + (["measure"] if "measure" in frame.columns else [])
    files: dict[str, Path] = {}
    headings: dict[str, str] = {}
    too_few: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    for group, part in frame.groupby(keys, dropna=False, sort=True):
        group = group if isinstance(group, tuple) else (group,)
        name = " ".join(str(g) for g in group)
        measure = str(group[1]) if len(group) > 1 and isinstance(group[1], str) else None
        outcome = labels.get(str(group[0]), str(group[0]))
        name_of_measure = axis_label(measure, ratio=True) if measure else ""
        if name_of_measure[1:2].islower():
            name_of_measure = name_of_measure[0].lower() + name_of_measure[1:]
        heading = outcome + (f": {name_of_measure}" if measure else "")
        if len(part) < 2:
            too_few.append(heading)
            continue
        slab = (part["slab"] if "slab" in part else part["study_id"]).astype(str)
        if part["study_id"].duplicated().any():
            notes.append(f"forest plot for {heading}: some studies contribute several effect "
                         "sizes, which are not independent")
        try:
            res = rma(part["yi"].to_numpy(float), part["vi"].to_numpy(float),
                      slab=slab.to_numpy())
            with plain_text(**{"svg.fonttype": "none"}):
                fig = forest_plot(res, measure=measure,
                                  title=f"{heading} ({len(part)} effect sizes)")
                fig.text(0.99, 0.005, footer_text(sha), ha="right", va="bottom", fontsize=5.5,
                         color="#555555")
                slug = "".join(ch if ch.isalnum() else "_" for ch in name).strip("_")
                path = out / f"forest_{slug}.png"
                fig.savefig(path, dpi=dpi, bbox_inches="tight",
                            metadata={"Software": f"evidence_synth {__version__}",
                                      "Description": footer_text(sha)})
                fig.savefig(path.with_suffix(".svg"), bbox_inches="tight",
                            metadata={"Creator": f"evidence_synth {__version__}",
                                      "Description": footer_text(sha)})
        except EvidenceSynthError as exc:
            notes.append(f"forest plot for {heading} skipped: {exc}")
            continue
        files[f"forest:{name}"] = path
        headings[f"forest:{name}"] = heading
    if too_few:
        notes.append(f"{len(too_few)} forest plot(s) skipped, fewer than 2 effect sizes: "
                     + "; ".join(too_few))
    return files, headings
