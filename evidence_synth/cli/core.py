"""Review-level commands: ``init``, ``import``, ``status`` and ``demo``."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd
from tqdm import tqdm

from ..store import SOURCE_KINDS, open_review

_REVIEW = click.argument("review", type=click.Path(dir_okay=False, path_type=str))


@click.command()
@_REVIEW
@click.option("--protocol", "protocol_path", type=click.Path(exists=True, dir_okay=False),
              help="Protocol YAML to validate and snapshot into the review.")
def init(review: str, protocol_path: str | None) -> None:
    """Create the review store REVIEW (a file path or database URL)."""
    if "://" not in review and Path(review).exists():
        raise click.ClickException(f"{review}: already exists; use `status` to inspect it")
    from ..protocol import load_protocol

    protocol = load_protocol(protocol_path) if protocol_path else None
    with open_review(review) as store:
        if protocol is not None:
            store.set_protocol(protocol)
            click.echo(f"protocol {protocol_path} (sha256 {protocol.sha256[:12]}) stored")
        click.echo(f"created review store {store!r} (schema version {store.schema_version})")


@click.command("import")
@_REVIEW
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database", required=True, help="Database or register searched, e.g. Scopus.")
@click.option("--kind", type=click.Choice(SOURCE_KINDS), default="database", show_default=True,
              help="What kind of source the files come from (PRISMA 2020 branch).")
@click.option("--platform", help="Interface used, e.g. Ovid or EBSCOhost.")
@click.option("--searched-on", help="Date of the search (YYYY-MM-DD).")
@click.option("--query", help="The search string as run.")
@click.option("--format", "fmt", help="Force a format instead of sniffing the content.")
@click.option("--encoding", help="Force a text encoding instead of detecting it.")
@click.option("--by", "imported_by", help="Who imports the files.")
@click.option("--allow-duplicate", is_flag=True,
              help="Import a file even if the same content was imported before.")
def import_(review: str, files: tuple[Path, ...], database: str, kind: str,
            platform: str | None, searched_on: str | None, query: str | None,
            fmt: str | None, encoding: str | None, imported_by: str | None,
            allow_duplicate: bool) -> None:
    """Import bibliographic FILES into REVIEW, one source per file, each in one transaction."""
    with open_review(review, create=False) as store:
        for path in tqdm(files, desc="importing", unit="file", disable=len(files) < 2):
            frame = store.import_file(
                path, database=database, kind=kind, platform=platform,
                searched_on=searched_on, query=query, format=fmt, encoding=encoding,
                imported_by=imported_by, allow_duplicate=allow_duplicate,
            )
            source = frame["source_id"].iloc[0] if len(frame) else "?"
            click.echo(f"{path}: {len(frame)} records imported as source {source} "
                       f"({frame.attrs.get('format', 'sniffed format')})")


@click.command()
@_REVIEW
def status(review: str) -> None:
    """Show counts per source and per screening stage for REVIEW."""
    with open_review(review, create=False) as store:
        table = store.status()
        if table.empty:
            click.echo("no sources imported yet")
            return
        with pd.option_context("display.width", 200, "display.max_columns", 50):
            click.echo(table.to_string(index=False))
        click.echo(f"total records: {int(table['records'].sum())}")


@click.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the demo review and its outputs into.")
def demo(out_dir: Path) -> None:
    """Run the whole pipeline on the bundled example review, writing into --out."""
    from ..demo import run_demo

    result = run_demo(out_dir, echo=click.echo)
    click.echo(f"demo finished: {len(result.files)} files in {out_dir}")
