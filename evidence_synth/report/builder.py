"""``build_report``: every reporting output of a review in one folder, linked from index.html."""

from __future__ import annotations

import html
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import pandas as pd

from .._version import __version__
from ..errors import EvidenceSynthError
from ..progress import Steps, steps
from ._provenance import footer_text, protocol_of, provenance
from .diagram import prisma_diagram
from .gapmap import GapMap, _evidence_frame, evidence_from_map, gap_map
from .prisma import PrismaCounts, prisma_counts

if TYPE_CHECKING:
    from ..store import Review

_REPORT_STEPS = ("PRISMA counts", "PRISMA diagram", "gap map", "evidence table",
                 "forest plots", "index")


@dataclass
class ReportResult:
    """What :func:`build_report` wrote.

    Attributes
    ----------
    out_dir : pathlib.Path
    files : dict
        Output name (``prisma_csv``, ``prisma_json``, ``prisma_svg``, ``prisma_png``,
        ``gapmap_png``, ``gapmap_svg``, ``gapmap_html``, ``evidence_csv``, ``evidence_xlsx``,
        ``forest:<group>``, ``index``) -> path.
    counts : PrismaCounts
    gap_map : GapMap or None
    problems : list of str
        PRISMA inconsistencies (arithmetic and decision log), also shown in index.html.
    notes : list of str
        Skipped outputs and data warnings (also listed in index.html).
    protocol_sha256 : str or None
    """

    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    counts: PrismaCounts | None = None
    gap_map: GapMap | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    protocol_sha256: str | None = None

    @property
    def index(self) -> Path:
        """The HTML summary."""
        return self.files["index"]

    @property
    def written(self) -> list[Path]:
        """Every file written: the outputs in ``files``, the ``.meta.json`` sidecars of
        the CSVs and the SVG twin of each forest plot."""
        paths: list[Path] = []
        for key, path in self.files.items():
            paths.append(path)
            twins = [Path(f"{path}.meta.json")]
            if key.startswith("forest:"):
                twins.append(path.with_suffix(".svg"))
            paths += [twin for twin in twins if twin.is_file()]
        return sorted(set(paths))

    def to_frame(self) -> pd.DataFrame:
        """The files written.

        Returns
        -------
        pandas.DataFrame
            Columns ``output`` and ``path`` (relative to ``out_dir``).
        """
        return pd.DataFrame(
            [(k, str(p.relative_to(self.out_dir))) for k, p in self.files.items()],
            columns=["output", "path"],
        )

    def summary(self) -> str:
        """One line per file, then the problems."""
        lines = [f"report in {self.out_dir} ({len(self.written)} files)"]
        lines += [f"  {k}: {p.relative_to(self.out_dir)}" for k, p in self.files.items()]
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def build_report(
    review: Review,
    out_dir: str | os.PathLike[str],
    *,
    evidence: Any = None,
    framework: Any = None,
    previous_map: Any = None,
    strict: bool = False,
    title: str | None = None,
    dpi: int = 200,
    **count_options: Any,
) -> ReportResult:
    """Write the review's report: PRISMA counts and diagram, gap map, evidence table, forest
    plots and an ``index.html`` linking them.

    Every output carries the library version and the protocol hash: figure footers and
    file metadata, the HTML footers, a ``# ...`` first line in our own CSVs, and a
    ``<file>.meta.json`` sidecar for the CSVs read by other tools (PRISMA2020 layout,
    evidence table) and a ``provenance`` sheet in the workbook.

    Parameters
    ----------
    review : Review
        The review store.
    out_dir : path-like
        Created if needed; existing files of the same names are replaced.
    evidence : EvidenceTable or pandas.DataFrame, optional
        The evidence table (see :func:`gap_map` for the columns a DataFrame needs; with
        ``yi``/``vi`` columns forest plots are drawn per outcome). Without it the gap map,
        table and forest plots are skipped (listed in ``problems``).
    framework : Protocol, EvidenceMap or DataFrame, optional
        Framework of the gap map; default: the review's protocol.
    previous_map : EvidenceMap, optional
        The previous map (:func:`evidence_synth.io.read_egm`); its studies join the gap map
        with ``origin="previous_map"``.
    strict : bool, default False
        Raise :class:`PrismaInconsistencyError` when the PRISMA counts do not add up,
        instead of reporting the problems in index.html.
    title : str, optional
        Report title (default: the protocol's title).
    dpi : int, default 200
        Resolution of the PNG figures.
    **count_options
        Passed to :func:`prisma_counts` (``removed_reasons``, ``automation_actors``, ...).

    Returns
    -------
    ReportResult
    """
    with steps("report", _REPORT_STEPS) as progress:
        return _build(review, Path(out_dir), evidence=evidence, framework=framework,
                      previous_map=previous_map, strict=strict, title=title, dpi=dpi,
                      progress=progress, count_options=count_options)


def _build(review: Any, out: Path, *, evidence: Any, framework: Any, previous_map: Any,
           strict: bool, title: str | None, dpi: int, progress: Steps,
           count_options: dict[str, Any]) -> ReportResult:
    out.mkdir(parents=True, exist_ok=True)
    protocol = protocol_of(review)
    sha = getattr(protocol, "sha256", None)
    title = title or getattr(protocol, "title", None) or "Review report"
    result = ReportResult(out_dir=out, protocol_sha256=sha)
    files = result.files

    progress.step("PRISMA counts")
    counts = prisma_counts(review, **count_options)
    result.counts = counts
    try:
        counts.check()
    except EvidenceSynthError as exc:
        if strict:
            raise
        result.problems += list(exc.problems["message"]) if exc.problems is not None else [
            str(exc)]
    files["prisma_csv"] = counts.to_prisma2020_csv(out / "prisma2020.csv")
    files["prisma_json"] = out / "prisma_counts.json"
    counts.to_json(files["prisma_json"])
    files["prisma_table"] = _write_csv(counts.to_frame(), out / "prisma_counts.csv", sha)
    progress.step("PRISMA diagram")
    diagram = prisma_diagram(counts, out / "prisma_flow", title="PRISMA 2020 flow diagram",
                             dpi=dpi)
    files["prisma_svg"], files["prisma_png"] = diagram.svg, diagram.png

    progress.step("gap map")
    frame = framework if framework is not None else protocol
    parts: list[Any] = []
    if evidence is not None:
        parts.append(evidence)
    if previous_map is not None:
        parts.append(evidence_from_map(previous_map, framework=frame))
    if parts and frame is not None:
        combined = pd.concat([_evidence_frame(p) for p in parts], ignore_index=True)
        combined = _as_review_studies(combined, review, evidence)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gm = gap_map(combined, frame, title=f"Evidence gap map: {title}",
                         protocol_sha256=sha)
        result.notes += [str(w.message) for w in caught]
        result.gap_map = gm
        files["gapmap_svg"], files["gapmap_png"] = gm.figure(out / "gap_map", dpi=dpi)
        files["gapmap_html"] = gm.to_html(out / "gap_map.html")
        files["gapmap_csv"] = _write_csv(gm.to_frame().assign(
            study_ids=lambda f: f["study_ids"].map("; ".join)), out / "gap_map_cells.csv", sha)
    else:
        result.notes.append(
            "gap map skipped: " + ("no evidence given" if not parts else
                                   "no framework (no protocol in the review, none given)"))

    if evidence is not None:
        progress.step("evidence table")
        files.update(_evidence_outputs(evidence, out, sha))
        labels = {}
        if result.gap_map is not None:
            cols = result.gap_map.columns
            labels = dict(zip(cols["node_id"], cols["label"], strict=True))
        progress.step("forest plots")
        files.update(_forest_plots(evidence, out / "forest", sha, result.notes, labels,
                                   dpi=dpi))
    else:
        result.notes.append("evidence table and forest plots skipped: no evidence given")

    progress.step("index")
    files["index"] = _write_index(result, title)
    return result


def _as_review_studies(rows: pd.DataFrame, review: Review, evidence: Any) -> pd.DataFrame:
    """Name every gap-map row by the review's study (its duplicate group's ``study_id``).

    Evidence-table studies are linked through their ``record_ids``, rows of the previous
    map through their own record ids; a study any of whose records comes from the
    previous version is ``origin="previous_map"``. Without deduplication, rows are kept
    as they are.
    """
    groups = review.duplicate_groups()
    if groups.empty:
        return rows
    study_of = dict(zip(groups["record_id"], groups["study_id"], strict=True))
    sources = review.sources()
    previous = set(sources.loc[sources["kind"] == "previous_version", "source_id"])
    records = review.records()[["record_id", "source_id"]]
    previous_ids = records.loc[records["source_id"].isin(previous), "record_id"]
    previous_studies = {study_of[r] for r in previous_ids if r in study_of}
    linked: dict[str, str] = {}
    for study in getattr(evidence, "studies", None) or []:
        found = [study_of[r] for r in study.get("record_ids") or [] if r in study_of]
        if found:
            linked[study["study_id"]] = found[0]
    ids = [linked.get(s) or study_of.get(s) or s for s in rows["study_id"]]
    out = rows.assign(study_id=ids)
    out.loc[out["study_id"].isin(previous_studies), "origin"] = "previous_map"
    return out


def _write_csv(frame: pd.DataFrame, path: Path, sha: str | None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(f"# {footer_text(sha)}\n")
        frame.to_csv(handle, index=False)
    return path


def _sidecar(path: Path, sha: str | None) -> Path:
    meta = provenance(sha)
    meta["describes"] = path.name
    side = Path(f"{path}.meta.json")
    side.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return side


def _evidence_outputs(evidence: Any, out: Path, sha: str | None) -> dict[str, Path]:
    files: dict[str, Path] = {}
    if hasattr(evidence, "studies_frame") and hasattr(evidence, "to_csv"):
        est, studies = evidence.to_csv(out / "evidence_table.csv")
        files["evidence_csv"], files["evidence_studies_csv"] = est, studies
        _sidecar(est, sha)
        _sidecar(studies, sha)
        try:
            files["evidence_xlsx"] = evidence.to_xlsx(out / "evidence_table.xlsx")
        except (EvidenceSynthError, OSError, KeyError, ValueError):
            frame = evidence.to_frame(with_study=True)
            files["evidence_xlsx"] = _xlsx(frame, out / "evidence_table.xlsx")
    else:
        frame = evidence.to_frame() if hasattr(evidence, "to_frame") else evidence
        flat = frame.copy()
        for col in flat.columns:
            if flat[col].map(lambda v: isinstance(v, (list, tuple, dict))).any():
                flat[col] = flat[col].map(
                    lambda v: "; ".join(map(str, v)) if isinstance(v, (list, tuple)) else (
                        json.dumps(v) if isinstance(v, dict) else v))
        files["evidence_csv"] = out / "evidence_table.csv"
        flat.to_csv(files["evidence_csv"], index=False)
        _sidecar(files["evidence_csv"], sha)
        files["evidence_xlsx"] = _xlsx(flat, out / "evidence_table.xlsx")
    _stamp_xlsx(files["evidence_xlsx"], sha)
    return files


def _xlsx(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_excel(path, index=False, sheet_name="evidence")
    return path


def _stamp_xlsx(path: Path, sha: str | None) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    if "provenance" in book.sheetnames:
        del book["provenance"]
    sheet = book.create_sheet("provenance")
    for key, value in provenance(sha).items():
        sheet.append([key, value])
    book.save(path)


def _forest_plots(evidence: Any, out: Path, sha: str | None, problems: list[str],
                  labels: dict[str, str], *, dpi: int) -> dict[str, Path]:
    try:
        from ..synthesis import forest_plot, rma
    except ImportError:
        problems.append("forest plots skipped: evidence_synth.synthesis is not available")
        return {}
    if hasattr(evidence, "rma_input"):
        frame = evidence.rma_input()
    else:
        frame = evidence.to_frame() if hasattr(evidence, "to_frame") else evidence
    if not {"yi", "vi"} <= set(frame.columns):
        problems.append("forest plots skipped: the evidence has no yi/vi columns")
        return {}
    frame = frame[frame["yi"].notna() & frame["vi"].notna()]
    keys = ["outcome"] + (["measure"] if "measure" in frame.columns else [])
    files: dict[str, Path] = {}
    out.mkdir(parents=True, exist_ok=True)
    for group, part in frame.groupby(keys, dropna=False, sort=True):
        group = group if isinstance(group, tuple) else (group,)
        name = " ".join(str(g) for g in group)
        if len(part) < 2:
            problems.append(f"forest plot for {name} skipped: fewer than 2 effect sizes")
            continue
        slab = (part["slab"] if "slab" in part else part["study_id"]).astype(str)
        if part["study_id"].duplicated().any():
            problems.append(f"forest plot for {name}: some studies contribute several effect "
                            "sizes, which are not independent")
        heading = " ".join([labels.get(str(group[0]), str(group[0])), *map(str, group[1:])])
        try:
            res = rma(part["yi"].to_numpy(float), part["vi"].to_numpy(float),
                      slab=slab.to_numpy())
            with matplotlib.rc_context({"svg.fonttype": "none"}):
                fig = forest_plot(res, title=heading)
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
            problems.append(f"forest plot for {name} skipped: {exc}")
            continue
        files[f"forest:{name}"] = path
    return files


_LINKS = (
    ("prisma_png", "PRISMA 2020 flow diagram (PNG)"),
    ("prisma_svg", "PRISMA 2020 flow diagram (SVG)"),
    ("prisma_csv", "PRISMA counts, PRISMA2020 R package / Shiny app layout (CSV)"),
    ("prisma_json", "PRISMA counts (JSON)"),
    ("prisma_table", "PRISMA counts, one row per box (CSV)"),
    ("gapmap_html", "Evidence gap map, interactive (HTML)"),
    ("gapmap_png", "Evidence gap map (PNG)"),
    ("gapmap_svg", "Evidence gap map (SVG)"),
    ("gapmap_csv", "Evidence gap map cells (CSV)"),
    ("evidence_csv", "Evidence table (CSV)"),
    ("evidence_studies_csv", "Evidence table, studies (CSV)"),
    ("evidence_xlsx", "Evidence table (XLSX)"),
)


def _write_index(result: ReportResult, title: str) -> Path:
    out = result.out_dir
    esc = html.escape

    def link(key: str, text: str) -> str:
        path = result.files.get(key)
        if path is None:
            return ""
        return f'<li><a href="{esc(str(path.relative_to(out)))}">{esc(text)}</a></li>'

    counts = result.counts
    rows = "".join(
        f"<tr><td>{esc(str(r.label))}</td><td class='n'>{r.n:,}</td></tr>"
        for r in counts.to_frame().itertuples() if pd.isna(r.item)
    ) if counts is not None else ""
    problems = "".join(f"<li>{esc(p)}</li>" for p in result.problems)
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
    forests = "".join(link(k, k.split(":", 1)[1]) for k in result.files if k.startswith(
        "forest:"))
    links = "\n".join(link(key, text) for key, text in _LINKS if key in result.files)
    gap = ""
    if "gapmap_png" in result.files:
        gap = (f'<h2>Evidence gap map</h2><p>{esc(result.gap_map.summary())}</p>'
               f'<p><a href="gap_map.html">Open the interactive map</a></p>'
               f'<img src="gap_map.png" alt="Evidence gap map" style="max-width:100%">')
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="generator" content="evidence_synth {esc(__version__)}">
<meta name="protocol-sha256" content="{esc(result.protocol_sha256 or 'none')}">
<title>{esc(title)}</title>
<style>
body{{font-family:system-ui,"DejaVu Sans",sans-serif;max-width:1000px;margin:20px auto;
padding:0 16px;color:#222}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ddd;padding:3px 8px}} td.n{{text-align:right}}
.problems{{background:#fff4e5;border:1px solid #f0b35a;padding:6px 14px}}
footer{{margin-top:30px;font-size:12px;color:#666;border-top:1px solid #ddd;padding-top:6px}}
</style></head><body>
<h1>{esc(title)}</h1>
{('<div class="problems"><h2>PRISMA problems</h2><ul>' + problems + '</ul></div>')
 if problems else '<p>PRISMA counts checked: the arithmetic adds up and the decision log '
 'has no open conflicts.</p>'}
{('<h2>Notes</h2><ul>' + notes + '</ul>') if notes else ''}
<h2>Files</h2><ul>
{links}
</ul>
{('<h3>Forest plots</h3><ul>' + forests + '</ul>') if forests else ''}
<h2>PRISMA 2020 flow</h2>
<img src="prisma_flow.png" alt="PRISMA 2020 flow diagram" style="max-width:100%">
<table><thead><tr><th>Box</th><th>n</th></tr></thead><tbody>{rows}</tbody></table>
{gap}
<footer>{esc(footer_text(result.protocol_sha256))}</footer>
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
