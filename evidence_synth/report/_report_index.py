"""``index.html`` of the report: the title once, the state of the counts, and every output."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from .._version import __version__
from ._provenance import footer_text

if TYPE_CHECKING:
    from .builder import ReportResult

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
    ("gapmap_unintended_png", "Unintended effects map (PNG)"),
    ("gapmap_unintended_svg", "Unintended effects map (SVG)"),
    ("gapmap_unintended_csv", "Unintended effects map cells (CSV)"),
    ("unintended_csv", "Unintended effects, one row per coded effect (CSV)"),
    ("unplaced_csv", "Coded but not on the map, with the reason (CSV)"),
    ("crosswalk_csv", "Crosswalk: previous map -> this framework (CSV)"),
    ("evidence_csv", "Evidence table (CSV)"),
    ("evidence_studies_csv", "Evidence table, studies (CSV)"),
    ("evidence_xlsx", "Evidence table (XLSX)"),
)
_CSS = """
body{font-family:system-ui,"DejaVu Sans",sans-serif;max-width:1100px;margin:20px auto;
padding:0 16px;color:#222} table{border-collapse:collapse;margin:6px 0 14px 0}
td,th{border:1px solid #ddd;padding:3px 8px;vertical-align:top} td.n{text-align:right}
th{background:#f2f5f9;text-align:left} table.wide td{font-size:13px}
.problems{background:#fff4e5;border:1px solid #f0b35a;padding:6px 14px}
.draft{background:#fde9e9;border:2px solid #c00000;color:#8b0000;padding:6px 14px;
font-weight:bold}
#unintended-effects tr.adverse td:nth-child(5){color:#c00000;font-weight:bold}
#unintended-effects tr.beneficial td:nth-child(5){color:#2f6b1f;font-weight:bold}
footer{margin-top:30px;font-size:12px;color:#666;border-top:1px solid #ddd;padding-top:6px}
"""


def _table(frame: pd.DataFrame, headers: dict[str, str], *, table_id: str,
           row_class: str | None = None) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(h)}</th>" for h in headers.values())
    body = []
    for row in frame.to_dict("records"):
        cls = f' class="{esc(str(row[row_class]))}"' if row_class else ""
        cells = "".join(f"<td>{esc(str(row[c]))}</td>" for c in headers)
        body.append(f'<tr data-study="{esc(str(row["study_id"]))}"{cls}>{cells}</tr>')
    return (f'<table id="{table_id}" class="wide"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def _gap_sections(result: ReportResult) -> str:
    esc = html.escape
    gm = result.gap_map
    if gm is None or "gapmap_png" not in result.files:
        return ""
    summary = gm.summary()
    if summary.startswith(f"{gm.title}: "):  # the page's title is already the heading
        summary = summary[len(gm.title) + 2:]
    parts = [f"<h2>Evidence gap map</h2><p>{esc(summary[:1].upper() + summary[1:])}.</p>",
             '<p><a href="gap_map.html">Open the interactive map</a> (views: outcomes; '
             'unintended effects)</p>',
             '<img src="gap_map.png" alt="Evidence gap map" style="max-width:100%">']
    table = result.unintended
    parts.append('<h2 id="unintended">Unintended effects</h2>')
    if table is not None and len(table):
        n_studies = table["study_id"].nunique()
        parts.append(f"<p>{len(table)} unintended effect(s) coded in {n_studies} "
                     "stud(y/ies), by intervention and domain: "
                     '<a href="gap_map.html#view=unintended&amp;effects=unintended">'
                     "interactive view</a>.</p>")
        parts.append('<img src="gap_map_unintended.png" alt="Unintended effects map" '
                     'style="max-width:100%">')
        parts.append(_table(table, {
            "study_id": "Study", "citation": "Citation", "intervention": "Intervention",
            "effect": "Unintended effect", "direction": "Direction",
            "harm_category": "Harm category",
            "evidence_source": "Evidence source", "on_map": "On the map"},
            table_id="unintended-effects", row_class="direction"))
    else:
        parts.append("<p>No unintended effects are coded in the evidence table.</p>")
    return "\n".join(parts)


def _unplaced_section(result: ReportResult) -> str:
    esc = html.escape
    table = result.unplaced
    walk = result.crosswalk
    parts = ['<h2 id="not-on-the-map">Coded but not on the map</h2>']
    if walk is not None:
        parts.append(f"<p>{esc(walk.summary().splitlines()[0])} "
                     '(<a href="crosswalk.csv">crosswalk</a>).</p>')
    if table is None or table.empty:
        parts.append("<p>Every coded evidence row and every code of the previous map is on "
                     "the map.</p>")
        return "\n".join(parts)
    parts.append(f"<p>{len(table)} coded row(s) or code(s) of {table['study_id'].nunique()} "
                 "stud(y/ies) could not be placed on the map; each is listed with the "
                 "reason (also in not_on_the_map.csv).</p>")
    parts.append(_table(table, {
        "study_id": "Study", "citation": "Citation", "origin": "From", "what": "Coded as",
        "reason": "Why it is not on the map", "elsewhere_on_map": "Study on the map elsewhere"},
        table_id="unplaced"))
    return "\n".join(parts)


def write_index(result: ReportResult, title: str) -> Path:
    """Write ``index.html`` into the report folder and return its path."""
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
    draft = ""
    if result.status != "final":
        draft = (f'<div class="draft" id="draft">{esc(result.status)}: the PRISMA counts and '
                 "diagram are not final.</div>")
    problems = "".join(f"<li>{esc(p)}</li>" for p in result.problems)
    state = ('<div class="problems"><h2>PRISMA problems</h2><ul>' + problems + "</ul></div>"
             if problems else "<p>PRISMA counts checked: the arithmetic adds up and the "
             "decision log has no open conflicts.</p>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
    forests = "".join(link(k, result.forest_titles.get(k, k.split(":", 1)[1]))
                      for k in result.files if k.startswith("forest:"))
    links = "\n".join(link(key, text) for key, text in _LINKS if key in result.files)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="generator" content="evidence_synth {esc(__version__)}">
<meta name="protocol-sha256" content="{esc(result.protocol_sha256 or 'none')}">
<title>Report: {esc(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{esc(title)}</h1>
{draft}
{state}
{('<h2>Notes</h2><ul>' + notes + '</ul>') if notes else ''}
<h2>Files</h2><ul>
{links}
</ul>
{('<h3>Forest plots</h3><ul>' + forests + '</ul>') if forests else ''}
<h2>PRISMA 2020 flow</h2>
<img src="prisma_flow.png" alt="PRISMA 2020 flow diagram" style="max-width:100%">
<table><thead><tr><th>Box</th><th>n</th></tr></thead><tbody>{rows}</tbody></table>
{_gap_sections(result)}
{_unplaced_section(result)}
<footer>{esc(footer_text(result.protocol_sha256))}</footer>
</body></html>
"""
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
