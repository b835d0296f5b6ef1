"""``evidence-synth report``: PRISMA counts and diagram, gap map, evidence table, forest plots."""

from __future__ import annotations

from pathlib import Path

import click

from .common import quiet_option


@click.command()
@click.argument("review", type=click.Path(dir_okay=False, path_type=str))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the report (created; files of the same names are replaced).")
@click.option("--strict", is_flag=True,
              help="Fail when the PRISMA counts do not add up instead of listing the problems.")
@quiet_option
def command(review: str, out_dir: Path, strict: bool) -> None:
    """Write the report of REVIEW into --out, from the review store alone.

    PRISMA 2020 counts (CSV in the PRISMA2020 R package layout, JSON) and flow diagram
    (SVG, PNG), the gap map (PNG, SVG, interactive HTML) of the stored evidence table and
    the previous map, the evidence table (CSV, XLSX), forest plots, and index.html linking
    them; every output carries the protocol hash and library version.
    """
    from ..extract import EvidenceTable
    from ..report import build_report
    from ..store import open_review

    with open_review(review, create=False) as store:
        evidence = EvidenceTable.from_review(store) if store.count("extraction_rows") else None
        previous = store.evidence_map() if store.count("map_nodes") else None
        result = build_report(store, out_dir, evidence=evidence, previous_map=previous,
                              strict=strict)
    for problem in result.problems:
        click.echo(f"warning: {problem}")
    click.echo(f"report written: {result.index} ({len(result.written)} files)")
