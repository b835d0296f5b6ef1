"""Review-level commands: ``init``, ``set-protocol``, ``new-review``, ``import``, ``status``,
``demo``."""

from __future__ import annotations

from pathlib import Path

import click

from ..store.vocabulary import SOURCE_KINDS
from .common import quiet_option

_REVIEW = click.argument("review", type=click.Path(dir_okay=False, path_type=str))


@click.command()
@_REVIEW
@click.option("--protocol", "protocol_path", type=click.Path(exists=True, dir_okay=False),
              help="Protocol YAML to validate and store in the review, with a copy of the "
                   "screening criteria, rules, extraction form and codebook it names.")
def init(review: str, protocol_path: str | None) -> None:
    """Create the review store REVIEW (a file path or database URL)."""
    if "://" not in review and Path(review).exists():
        raise click.ClickException(f"{review}: already exists; use `status` to inspect it, "
                                   "`set-protocol` to store a new protocol version")
    from ..store import open_review

    files = _review_files(protocol_path) if protocol_path else None
    with open_review(review) as store:
        if files is not None:
            files.store(store)
            _echo_stored(files)
        click.echo(f"created review store {store!r} (schema version {store.schema_version})")


@click.command("set-protocol")
@_REVIEW
@click.argument("protocol_path", metavar="PROTOCOL",
                type=click.Path(exists=True, dir_okay=False))
def set_protocol(review: str, protocol_path: str) -> None:
    """Store PROTOCOL and the files it names in REVIEW as the review's new version.

    Run it after editing the protocol, the screening criteria or rules, the extraction
    form or the codebook: `screen`, `extract` and the notebooks use the stored copies.
    Earlier versions stay in the store.
    """
    from ..store import open_review

    files = _review_files(protocol_path)
    with open_review(review, create=False) as store:
        before = store.protocol
        files.store(store)
    _echo_stored(files)
    if before is not None and before.sha256 != files.protocol.sha256:
        click.echo(f"the protocol changed (sha256 {before.sha256[:12]} -> "
                   f"{files.protocol.sha256[:12]})")


@click.command("new-review")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--from", "template", default=None, metavar="NAME",
              help="Bundled review to start from [default: irregular-migration-egm-update].")
def new_review(folder: Path, template: str | None) -> None:
    """Write a new review folder FOLDER: protocol, criteria, rules, form, codebook, notebook.

    Every file is validated before the folder is kept. Then:

    \b
      evidence-synth init FOLDER/review.db --protocol FOLDER/protocol.yaml
    """
    from ..reviews import DEFAULT_TEMPLATE, bundled_reviews
    from ..reviews import new_review as scaffold

    if template is not None and template not in bundled_reviews():
        raise click.BadParameter(f"{template!r}; bundled reviews: "
                                 f"{', '.join(bundled_reviews())}", param_hint="--from")
    files = scaffold(folder, template=template or DEFAULT_TEMPLATE)
    for line in files.check():
        click.echo(line)
    written = sorted(p for p in folder.rglob("*") if p.is_file())
    click.echo(f"new review in {folder} ({len(written)} files); next:\n"
               f"  evidence-synth init {folder / 'review.db'} --protocol "
               f"{folder / 'protocol.yaml'}")


def _review_files(protocol_path: str):
    from ..reviews import ReviewFiles

    files = ReviewFiles.from_protocol(protocol_path)
    files.check()
    return files


def _echo_stored(files) -> None:
    click.echo(f"protocol {files.relative('protocol')} "
               f"(sha256 {files.protocol.sha256[:12]}) stored")
    for line in files.check()[1:]:
        click.echo(f"  with {line}")


@click.command("import")
@_REVIEW
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database", help="Database or register searched, e.g. Scopus (required "
              "unless --map; with --map the map's name, default '3ie evidence gap map').")
@click.option("--map", "as_map", is_flag=True,
              help="The files are evidence gap maps (EPPI-Mapper HTML, EPPI-Reviewer JSON, "
                   "3ie DEP export): import their studies, framework and codes, by default "
                   "as the previous version of the review, and cross-walk their codes to "
                   "the protocol's framework.")
@click.option("--kind", type=click.Choice(SOURCE_KINDS), default=None,
              help="What kind of source the files come from (PRISMA 2020 branch); default "
                   "database, or previous_version with --map.")
@click.option("--platform", help="Interface used, e.g. Ovid or EBSCOhost.")
@click.option("--searched-on", help="Date of the search (YYYY-MM-DD).")
@click.option("--query", help="The search string as run.")
@click.option("--format", "fmt", help="Force a format instead of sniffing the content.")
@click.option("--encoding", help="Force a text encoding instead of detecting it.")
@click.option("--column", "column_pairs", multiple=True, metavar="FIELD=COLUMN",
              callback=lambda ctx, param, value: _column_map(value),
              help="Tables: read contract FIELD from COLUMN, e.g. --column title=T1 "
                   "(repeatable).")
@click.option("--header-row", type=click.IntRange(min=1), default=None, metavar="N",
              help="Tables: the header is row N (1-based); found automatically otherwise, "
                   "passing over a banner row above it.")
@click.option("--by", "imported_by", help="Who imports the files.")
@click.option("--allow-duplicate", is_flag=True,
              help="Import a file even if the same content was imported before.")
@quiet_option
def import_(review: str, files: tuple[Path, ...], database: str | None, as_map: bool,
            kind: str | None, platform: str | None, searched_on: str | None,
            query: str | None, fmt: str | None, encoding: str | None,
            column_pairs: dict[str, str], header_row: int | None, imported_by: str | None,
            allow_duplicate: bool) -> None:
    """Import bibliographic FILES (or, with --map, evidence gap maps) into REVIEW, one source
    per file, each in one transaction.

    Records with no title, abstract, DOI, authors or PMID (empty rows of a spreadsheet,
    say) are not imported; the summary line says how many, and the source's notes keep
    them. A file's data warnings (an encoding fallback, a file that looks like a map, map
    codes without a match in the protocol) are printed with its summary.
    """
    import warnings

    from ..errors import DataQualityWarning
    from ..progress import steps
    from ..store import open_review

    if database is None and not as_map:
        raise click.UsageError("Missing option '--database' (the database or register "
                               "searched, e.g. Scopus).")
    if as_map and (fmt or encoding or column_pairs or header_row):
        raise click.UsageError("--format, --encoding, --column and --header-row apply to "
                               "bibliographic files, not to --map (a map's format is read "
                               "from its content)")
    kind = kind or ("previous_version" if as_map else "database")
    with open_review(review, create=False) as store, \
            steps("importing", [p.name for p in files]) as progress:
        for path in files:
            progress.step(path.name)
            if as_map:
                _import_map(store, path, database=database, kind=kind, platform=platform,
                            searched_on=searched_on, query=query, imported_by=imported_by,
                            allow_duplicate=allow_duplicate)
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataQualityWarning)  # summarised below
                frame = store.import_file(
                    path, database=database, kind=kind, platform=platform,
                    searched_on=searched_on, query=query, format=fmt, encoding=encoding,
                    columns=column_pairs or None, header_row=header_row,
                    imported_by=imported_by, allow_duplicate=allow_duplicate,
                )
            click.echo(_import_summary(path, frame))
            for warning in _data_warnings(frame)[1:]:  # the first is in the summary line
                click.echo(f"warning: {warning}", err=True)


def _import_map(store, path: Path, *, database: str | None, **options) -> None:
    """``import --map``: the map's summary, the crosswalk's, and each data warning."""
    import warnings

    from ..errors import DataQualityWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        emap = store.import_map(path, database=database or "3ie evidence gap map", **options)
    source = emap.records["source_id"].iloc[0] if len(emap.records) else "?"
    click.echo(f"{path}: map imported as source {source} ({emap.meta.get('format')}): "
               f"{len(emap.records)} studies, {len(emap.framework)} framework nodes, "
               f"{len(emap.codes)} codes")
    walk = emap.meta.get("crosswalk")
    if walk is not None:
        click.echo(f"  {walk.summary().splitlines()[0]}")
    for warning in caught:
        if issubclass(warning.category, DataQualityWarning):
            click.echo(f"warning: {warning.message}", err=True)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename,
                                 warning.lineno)


def _column_map(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise click.BadParameter(f"{pair!r}: expected FIELD=COLUMN, e.g. title=T1",
                                     param_hint="--column")
        out[field.strip()] = column.strip()
    return out


def _data_warnings(frame) -> list[str]:
    """The file's warnings other than the empty-records one (which the summary counts)."""
    return [w for w in frame.attrs.get("warnings", []) if "attrs['dropped']" not in w]


def _import_summary(path: Path, frame) -> str:
    """One line per imported file: records, source, format, and what was not imported."""
    attrs = frame.attrs
    source = frame["source_id"].iloc[0] if len(frame) else "?"
    line = (f"{path}: {len(frame)} records imported as source {source} "
            f"({attrs.get('format', 'sniffed format')}")
    if attrs.get("header_row", 1) != 1:
        line += f", header in row {attrs['header_row']}"
    line += ")"
    if attrs.get("dropped_empty"):
        line += (f"; {attrs['dropped_empty']} empty records (no title, abstract, DOI, "
                 "authors or PMID) not imported")
    other = _data_warnings(frame)
    if other:
        line += f"; {len(other)} warning(s): {other[0]}"
    return line


@click.command()
@_REVIEW
def status(review: str) -> None:
    """Show the protocol and the counts per source and per screening stage of REVIEW."""
    import pandas as pd

    from ..store import open_review

    with open_review(review, create=False) as store:
        protocol = store.protocol
        if protocol is None:
            click.echo("protocol: none stored (`evidence-synth set-protocol`)")
        else:
            stored = store.protocol_files()
            named = ", ".join(f"{r.role} {r.path}" for r in stored.itertuples()
                              if r.role != "protocol" and not r.role.startswith("form_"))
            click.echo(f"protocol: {protocol.review_id} (sha256 {protocol.sha256[:12]})"
                       + (f"; stored with {named}" if named else ""))
        table = store.status()
        if table.empty:
            click.echo("no sources imported yet")
            return
        with pd.option_context("display.width", 200, "display.max_columns", 50):
            click.echo(table.to_string(index=False))
        click.echo(f"total records: {int(table['records'].sum())}")


@click.command()
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write the demo review and its outputs into (replaced).")
@quiet_option
def demo(out_dir: Path) -> None:
    """Run the whole pipeline on the bundled example review, writing into --out.

    Works from any folder: the example data and the migration review's protocol,
    criteria, rules, extraction form and codebook ship with the package.
    """
    from ..demo import run_demo

    run_demo(out_dir, echo=click.echo)
    on_disk = sorted(p for p in Path(out_dir).rglob("*") if p.is_file())
    click.echo(f"demo finished: {len(on_disk)} files in {out_dir}")
