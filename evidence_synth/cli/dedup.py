"""`evidence-synth dedup`: find duplicates in record files and write the review queue."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import EvidenceSynthError
from .common import quiet_option

if TYPE_CHECKING:
    import pandas as pd

    from ..progress import Steps

#: The phases the progress bar shows (find_duplicates reports its own five).
_STEPS = ("read", "normalise", "blocking", "compare and score", "completion", "grouping",
          "save", "write queue")


def _is_contract_csv(path: Path) -> bool:
    import pandas as pd

    if path.suffix.lower() != ".csv":
        return False
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return True
    return "title" in header or "record_id" in header


def _read(path: Path) -> pd.DataFrame:
    from ..io import read_records, read_records_csv  # the import stage

    if _is_contract_csv(path):
        return read_records_csv(path, source_id=path.name)
    return read_records(path)


@click.command("dedup")
@click.argument("files", nargs=-1,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--review", "review_path",
              help="Deduplicate the records of this review store (instead of FILES): stored "
                   "pair decisions win over the model and the groups are saved as a run.")
@click.option("--queue-out", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Write the pairs to review (most informative first) to this CSV.")
@click.option("--groups-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write one row per record with its group_id and study_id.")
@click.option("--decisions", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV of manual decisions (record_id_1, record_id_2, decision), e.g. an "
                   "answered queue; with --review they are stored as events of --reviewer.")
@click.option("--reviewer", help="Who answered --decisions (required with --review).")
@click.option("--versions", type=click.Choice(["link", "merge", "separate"]), default=None,
              help="How preprint and journal versions are treated (default: the protocol's "
                   "choice, else link).")
@quiet_option
def command(files: tuple[Path, ...], review_path: str | None, queue_out: Path,
            groups_out: Path | None, decisions: Path | None, reviewer: str | None,
            versions: str | None) -> None:
    """Find duplicate records in FILES or in a review (--review), and write the review queue.

    FILES are bibliographic exports, or CSVs with the records contract's columns
    (record_id, title, authors separated by ";", year, journal, ...). Prints the counts,
    writes the review queue to --queue-out (fill its decision column with match or
    distinct and pass it back with --decisions) and, optionally, the groups.
    """
    from ..dedup import find_duplicates
    from ..progress import steps

    if bool(files) == bool(review_path):
        raise click.UsageError("give either FILES or --review REVIEW")
    manual = _read_decisions(decisions) if decisions else None
    with steps("dedup", _STEPS) as progress:
        try:
            if review_path:
                result, records = _dedup_review(review_path, manual, reviewer, versions,
                                                progress)
            else:
                progress.step("read")
                records = _read_files(files)
                progress.step("normalise")
                result = find_duplicates(records, versions=versions or "link",
                                         manual_decisions=manual, progress=progress.done)
        except EvidenceSynthError as exc:
            raise click.ClickException(str(exc)) from exc
        progress.step("write queue")
        queue = result.review_queue()
        titles = records.set_index("record_id")["title"]
        out = queue[["record_id_1", "record_id_2", "score", "reason"]].copy()
        out.insert(2, "title_1", titles.reindex(out["record_id_1"]).to_numpy())
        out.insert(3, "title_2", titles.reindex(out["record_id_2"]).to_numpy())
        out["decision"] = ""
        from ..spreadsheet import write_csv

        write_csv(out, queue_out)
        if groups_out:
            write_csv(result.groups, groups_out)
    click.echo(result.summary())
    click.echo(f"review queue written to {queue_out}")


def _read_files(files: tuple[Path, ...]) -> pd.DataFrame:
    import pandas as pd

    frames = [_read(p) for p in files]
    records = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    dup = records["record_id"][records["record_id"].duplicated()]
    if len(dup):
        raise click.ClickException(f"record_id {dup.iloc[0]!r} occurs more than once across "
                                   f"{', '.join(str(f) for f in files)}")
    return records


def _read_decisions(path: Path) -> pd.DataFrame:
    import pandas as pd

    from ..io._csv_rows import read_csv_rows
    from ..spreadsheet import restore_cell

    columns = ["record_id_1", "record_id_2", "decision"]
    _header, rows = read_csv_rows(path, required=columns)
    rows = [(line, {k: restore_cell(v) for k, v in row.items()}) for line, row in rows
            if row["decision"].strip()]
    for line, row in rows:
        if row["decision"] not in ("match", "distinct"):
            raise click.ClickException(f"{path}, line {line}: decision must be match or "
                                       f"distinct, got {row['decision']!r}")
    return pd.DataFrame([row for _line, row in rows], columns=list(rows[0][1]) if rows
                        else columns, dtype=str)


def _dedup_review(path: str, manual: pd.DataFrame | None, reviewer: str | None,
                  versions: str | None, progress: Steps):
    from ..store import open_review

    progress.step("read")
    with open_review(path, create=False) as review:
        if manual is not None:
            if not reviewer:
                raise click.UsageError("--reviewer is required with --review and --decisions")
            for row in manual.itertuples():
                review.add_pair_decision(row.record_id_1, row.record_id_2, row.decision,
                                         reviewer=reviewer)
        records = review.records()
        progress.step("normalise")
        # the stored pair decisions apply by themselves; the groups are saved as a run
        result = review.deduplicate(versions=versions, progress=progress.done)
        progress.step("save")
    click.echo(f"dedup run {result.params['run_id']} saved in {path} "
               f"({result.params['manual decisions applied']} stored decisions applied)")
    return result, records
