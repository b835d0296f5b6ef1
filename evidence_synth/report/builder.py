"""``build_report``: every reporting output of a review in one folder, linked from index.html."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..crosswalk import Crosswalk, crosswalk, framework_nodes
from ..errors import EvidenceSynthError
from ..progress import Steps, steps
from ..spreadsheet import append_row, write_csv, write_xlsx
from ._gapmap_inputs import citation, evidence_frame, evidence_from_map
from ._provenance import footer_text, protocol_of, provenance
from ._report_forest import forest_plots
from ._report_index import write_index
from ._report_studies import (
    map_rows_as_review_studies,
    rename_evidence,
    review_study_ids,
    unintended_table,
    unplaced_table,
)
from .diagram import prisma_diagram
from .gapmap import GapMap, gap_map
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
        Output name (``prisma_csv``, ``prisma_json``, ``prisma_table``, ``prisma_svg``,
        ``prisma_png``, ``gapmap_png``, ``gapmap_svg``, ``gapmap_html``, ``gapmap_csv``,
        ``gapmap_unintended_png``, ``gapmap_unintended_svg``, ``gapmap_unintended_csv``,
        ``unintended_csv``, ``unplaced_csv``, ``crosswalk_csv``, ``evidence_csv``,
        ``evidence_studies_csv``, ``evidence_xlsx``, ``forest:<group>``, ``index``) ->
        path.
    counts : PrismaCounts
    gap_map : GapMap or None
    problems : list of str
        PRISMA inconsistencies (arithmetic and decision log), also shown in index.html.
    notes : list of str
        Skipped outputs and data warnings (also listed in index.html).
    protocol_sha256 : str or None
    status : str
        ``"final"`` or the PRISMA draft mark (``PrismaCounts.status``).
    unintended : pandas.DataFrame or None
        The unintended-effects summary (one row per coded effect; see
        ``unintended_effects.csv``).
    unplaced : pandas.DataFrame or None
        Everything coded that is not on the gap map, with the reason.
    crosswalk : Crosswalk or None
        The previous map's nodes -> this framework.
    forest_titles : dict
        ``forest:<group>`` -> the plot's heading (framework labels).
    """

    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    counts: PrismaCounts | None = None
    gap_map: GapMap | None = None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    protocol_sha256: str | None = None
    status: str = "final"
    unintended: pd.DataFrame | None = None
    unplaced: pd.DataFrame | None = None
    crosswalk: Crosswalk | None = None
    forest_titles: dict[str, str] = field(default_factory=dict)

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
        Created if needed; existing files of the same names are replaced. The report is
        built in a temporary folder beside it and moved in only when every output is
        written (``index.html`` last), so a failure leaves ``out_dir`` as it was.
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
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise EvidenceSynthError(f"{out}: exists and is not a folder; give a folder for the "
                                 "report")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        with steps("report", _REPORT_STEPS) as progress:
            result = _build(review, staging, evidence=evidence, framework=framework,
                            previous_map=previous_map, strict=strict, title=title, dpi=dpi,
                            progress=progress, count_options=count_options)
        return _publish(result, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(result: ReportResult, out: Path) -> ReportResult:
    """Move a finished report from its staging folder into ``out``, ``index.html`` last."""
    staging = result.out_dir
    made = sorted((p for p in staging.rglob("*") if p.is_file()),
                  key=lambda p: (p == result.files.get("index"), str(p)))
    out.mkdir(exist_ok=True)
    for path in made:
        target = out / path.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    result.out_dir = out
    result.files = {k: out / p.relative_to(staging) for k, p in result.files.items()}
    return result


def _build(review: Any, out: Path, *, evidence: Any, framework: Any, previous_map: Any,
           strict: bool, title: str | None, dpi: int, progress: Steps,
           count_options: dict[str, Any]) -> ReportResult:
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
    result.status = counts.status
    files["prisma_csv"] = counts.to_prisma2020_csv(out / "prisma2020.csv")
    files["prisma_json"] = out / "prisma_counts.json"
    counts.to_json(files["prisma_json"])
    files["prisma_table"] = _write_csv(counts.to_frame(), out / "prisma_counts.csv", sha,
                                       status=counts.status)
    progress.step("PRISMA diagram")
    diagram = prisma_diagram(counts, out / "prisma_flow", title="PRISMA 2020 flow diagram",
                             dpi=dpi)
    files["prisma_svg"], files["prisma_png"] = diagram.svg, diagram.png

    progress.step("gap map")
    if evidence is not None:
        mapping, notes = review_study_ids(review, evidence)
        result.notes += notes
        evidence = rename_evidence(evidence, mapping)
    frame = framework if framework is not None else protocol
    labels = _labels(frame)
    walk = None
    if previous_map is not None and frame is not None:
        walk = crosswalk(previous_map, frame)
        result.crosswalk = walk
        if len(walk.unmatched):
            result.notes.append(f"previous map: {walk.warning()}")
    rows = _evidence_rows(review, evidence, previous_map, frame, walk)
    if rows is not None and frame is not None:
        _gap_map_outputs(result, rows, frame, title=title, labels=labels, dpi=dpi)
    else:
        result.notes.append(
            "gap map skipped: " + ("no evidence given" if rows is None else
                                   "no framework (no protocol in the review, none given)"))
    result.unplaced = unplaced_table(result.gap_map, walk, study_of=_study_of(review),
                                     titles=_titles(result.gap_map))
    if len(result.unplaced):
        files["unplaced_csv"] = _write_csv(result.unplaced, out / "not_on_the_map.csv", sha)
    if walk is not None:
        files["crosswalk_csv"] = _write_csv(walk.to_frame(), out / "crosswalk.csv", sha)

    if evidence is not None:
        progress.step("evidence table")
        files.update(_evidence_outputs(evidence, out, sha))
        progress.step("forest plots")
        forests, result.forest_titles = forest_plots(evidence, out / "forest", sha,
                                                     result.notes, labels, dpi=dpi)
        files.update(forests)
    else:
        result.notes.append("evidence table and forest plots skipped: no evidence given")

    progress.step("index")
    files["index"] = write_index(result, title)
    return result


def _gap_map_outputs(result: ReportResult, rows: pd.DataFrame, frame: Any, *, title: str,
                     labels: dict[str, str], dpi: int) -> None:
    """The gap map (both views: figures, interactive page, cells) and the unintended-effects
    summary."""
    out, sha, files = result.out_dir, result.protocol_sha256, result.files
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm = gap_map(rows, frame, title=f"Evidence gap map: {title}", protocol_sha256=sha)
    result.notes += [str(w.message) for w in caught]
    result.gap_map = gm
    files["gapmap_svg"], files["gapmap_png"] = gm.figure(out / "gap_map", dpi=dpi)
    files["gapmap_unintended_svg"], files["gapmap_unintended_png"] = gm.figure(
        out / "gap_map_unintended", dpi=dpi, view="unintended")
    files["gapmap_html"] = gm.to_html(out / "gap_map.html")
    for view, key, name in (("main", "gapmap_csv", "gap_map_cells.csv"),
                            ("unintended", "gapmap_unintended_csv",
                             "gap_map_unintended_cells.csv")):
        cells = gm.to_frame(view).assign(study_ids=lambda f: f["study_ids"].map("; ".join))
        files[key] = _write_csv(cells, out / name, sha)
    result.unintended = unintended_table(rows, gm, labels)
    files["unintended_csv"] = _write_csv(result.unintended, out / "unintended_effects.csv",
                                         sha)


def _evidence_rows(review: Review, evidence: Any, previous_map: Any, frame: Any,
                   walk: Crosswalk | None) -> pd.DataFrame | None:
    """The gap map's rows: the evidence table's and the previous map's (through the
    crosswalk), every study named by the review's study id."""
    parts: list[pd.DataFrame] = []
    if evidence is not None:
        parts.append(evidence_frame(evidence))
    if previous_map is not None:
        parts.append(evidence_frame(evidence_from_map(previous_map, framework=frame,
                                                      walk=walk)))
    if not parts:
        return None
    return map_rows_as_review_studies(pd.concat(parts, ignore_index=True), review)


def _labels(frame: Any) -> dict[str, str]:
    if frame is None:
        return {}
    nodes = framework_nodes(frame)
    return dict(zip(nodes["node_id"], nodes["label"], strict=True))


def _study_of(review: Review) -> dict[str, str]:
    groups = review.duplicate_groups()
    return dict(zip(groups["record_id"], groups["study_id"], strict=True))


def _titles(gm: GapMap | None) -> dict[str, str]:
    titles: dict[str, str] = {}
    if gm is not None:
        for s, t, y in zip(gm.evidence["study_id"], gm.evidence["title"], gm.evidence["year"],
                           strict=True):
            titles.setdefault(s, citation(t, y))
    return titles


def _write_csv(frame: pd.DataFrame, path: Path, sha: str | None, *,
               status: str | None = None) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(f"# {footer_text(sha)}\r\n")
        if status and status != "final":
            handle.write(f"# {status}: these counts are not final\r\n")
        write_csv(frame, handle)
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
        write_csv(flat, files["evidence_csv"])
        _sidecar(files["evidence_csv"], sha)
        files["evidence_xlsx"] = _xlsx(flat, out / "evidence_table.xlsx")
    _stamp_xlsx(files["evidence_xlsx"], sha)
    return files


def _xlsx(frame: pd.DataFrame, path: Path) -> Path:
    return write_xlsx({"evidence": frame}, path)


def _stamp_xlsx(path: Path, sha: str | None) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path)
    if "provenance" in book.sheetnames:
        del book["provenance"]
    sheet = book.create_sheet("provenance")
    for key, value in provenance(sha).items():
        append_row(sheet, [key, value])
    book.save(path)
