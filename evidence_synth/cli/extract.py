"""``evidence-synth extract``: Excel template out, validated evidence table in."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import EvidenceSynthError
from .common import echo_note, stored_review_files

if TYPE_CHECKING:
    from ..extract.form import ExtractionForm

_DEFAULT_FORM = Path("extraction") / "form.yaml"
_FORM = click.option(
    "--form", "form_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Extraction form YAML [default: the form stored with the review's protocol; "
         f"without a review, {_DEFAULT_FORM} if it exists, else the generic form: every "
         "schema field, no framework lists].")


def _form(path: Path | None, review: str | None = None) -> ExtractionForm:
    """The form given, else the review's stored form, else ./extraction/form.yaml, else the
    generic form; a note on standard error says which default was used."""
    from ..extract.form import default_form, load_form

    if path is not None:
        return load_form(path)
    if review is not None:
        from ..store import open_review

        with open_review(review, create=False) as store:
            files = stored_review_files(store, needed="extract uses the review's form")
            if files is not None and files.form is not None:
                echo_note(f"form: {files.relative('form')} stored with the review's protocol")
                return files.form
    if _DEFAULT_FORM.is_file():
        echo_note(f"form: {_DEFAULT_FORM} in the working folder")
        return load_form(_DEFAULT_FORM)
    echo_note("form: the generic form (every schema field, no framework lists); give "
              "--form or --review for the review's own")
    return default_form()


def _fail(exc: EvidenceSynthError) -> click.ClickException:
    """Print every collected problem (one per line), then fail with the first line."""
    lines = str(exc).strip().splitlines()
    for line in lines[1:]:
        click.echo(line.strip(), err=True)
    return click.ClickException(lines[0] if lines else type(exc).__name__)


@click.group("extract", context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """Data extraction: write the Excel template, import filled workbooks into the review,
    compare double extraction, export the evidence table."""


@command.command("template")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The .xlsx file to write.")
@_FORM
@click.option("--review", help="Review store whose stored form to use (file path or URL).")
def template(out: Path, form_path: Path | None, review: str | None) -> None:
    """Write the Excel extraction template generated from the form."""
    from ..extract.template import write_template

    if out.suffix.lower() != ".xlsx":
        raise click.ClickException(f"--out {out}: expected a .xlsx file name")
    try:
        form = _form(form_path, review)
        write_template(out, form=form)
    except EvidenceSynthError as exc:
        raise _fail(exc) from None
    click.echo(f"wrote {out} (form {form.id}: {len(form.fields['study'])} study fields, "
               f"{len(form.fields['estimate'])} estimate fields)")


@command.command("import")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--review", required=True, help="Review store (file path or database URL).")
@click.option("--extractor", required=True, help="Who extracted the rows in the workbook.")
@_FORM
@click.option("--consensus", is_flag=True,
              help="Store the rows as the adjudicated consensus (EXTRACTOR adjudicated).")
@click.option("--update", is_flag=True,
              help="Overwrite this extractor's rows already in the store.")
@click.option("--dry-run", is_flag=True, help="Validate and compute only; write nothing.")
def import_(workbook: Path, review: str, extractor: str, form_path: Path | None,
            consensus: bool, update: bool, dry_run: bool) -> None:
    """Validate a filled extraction WORKBOOK, compute effect sizes, store the rows."""
    from ..extract.table import read_extraction_workbook
    from ..store import open_review

    try:
        table = read_extraction_workbook(workbook, form=_form(form_path, review))
        click.echo(f"{workbook}: {len(table.studies)} studies, {len(table)} estimates valid, "
                   f"{sum('yi' in r for r in table.rows)} effect sizes computed")
        if dry_run:
            return
        with open_review(review, create=False) as store:
            saved = table.save(store, extractor=extractor, consensus=consensus, update=update)
    except EvidenceSynthError as exc:
        raise _fail(exc) from None
    counts = saved["action"].value_counts()
    who = "consensus" if consensus else extractor
    click.echo(f"stored as {who!r}: " + ", ".join(f"{n} {a}" for a, n in counts.items()))


@command.command("compare")
@click.argument("extractor_a")
@click.argument("extractor_b")
@click.option("--review", required=True, help="Review store (file path or database URL).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the discrepancies as CSV.")
def compare(extractor_a: str, extractor_b: str, review: str, out: Path | None) -> None:
    """Report where EXTRACTOR_A and EXTRACTOR_B disagree (double extraction)."""
    from ..extract.table import EvidenceTable, discrepancies
    from ..store import open_review

    try:
        with open_review(review, create=False) as store:
            a = EvidenceTable.from_review(store, extractor=extractor_a)
            b = EvidenceTable.from_review(store, extractor=extractor_b)
    except EvidenceSynthError as exc:
        raise _fail(exc) from None
    report = discrepancies(a, b, names=(extractor_a, extractor_b))
    agreement = report.attrs["agreement"]
    total, agreed = int(agreement["compared"].sum()), int(agreement["agreed"].sum())
    click.echo(f"{len(report)} discrepancies; {agreed}/{total} field values agree")
    if out is not None:
        from ..spreadsheet import write_csv

        write_csv(report, out)
        click.echo(f"wrote {out}")
    elif len(report):
        click.echo(report.to_string(index=False, max_colwidth=40))


@command.command("export")
@click.option("--review", required=True, help="Review store (file path or database URL).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Output file: .csv (plus <stem>-studies.csv), .json or .xlsx.")
@click.option("--extractor", help="Whose rows [default: the consensus, or the only extractor].")
@_FORM
def export(review: str, out: Path, extractor: str | None, form_path: Path | None) -> None:
    """Export the evidence table from the review store."""
    from ..extract.table import EvidenceTable
    from ..store import open_review

    suffix = out.suffix.lower()
    if suffix not in (".csv", ".json", ".xlsx"):
        raise click.ClickException(f"--out {out}: expected a .csv, .json or .xlsx file name")
    try:
        with open_review(review, create=False) as store:
            table = EvidenceTable.from_review(store, extractor=extractor)
        if suffix == ".csv":
            written = table.to_csv(out)
        elif suffix == ".json":
            written = (table.to_json(out) and out,)
        else:
            written = (table.to_xlsx(out, form=_form(form_path, review)),)
    except EvidenceSynthError as exc:
        raise _fail(exc) from None
    click.echo(f"{len(table)} estimates -> " + ", ".join(str(p) for p in written))
