"""``evidence-synth screen``: export the ranked screening queue, import decisions."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import EvidenceSynthError
from ..store.vocabulary import STAGE_DECISIONS
from .common import echo_note, quiet_option, stored_review_files


@click.command("screen")
@click.argument("review", type=click.Path(dir_okay=False, path_type=str))
@click.option("--stage", type=click.Choice(list(STAGE_DECISIONS)), default="title_abstract",
              show_default=True, help="Screening stage.")
@click.option("--export-queue", "queue_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the ranked queue of undecided records (rank, score, title, tags "
                   "and empty decision/reason/note columns) to this CSV file.")
@click.option("--import-decisions", "decisions_path",
              type=click.Path(dir_okay=False, path_type=Path),
              help="Import decisions from this CSV file (columns record_id, decision and "
                   "optionally reason, note, reviewer); all rows or none.")
@click.option("--reviewer", help="Who decided (import), or whose blind queue to export; "
                                 "without it the queue holds records nobody has decided.")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Rules YAML: tags in the queue and a rule-based cold start [default: the "
                   "rules stored with the review's protocol].")
@click.option("--criteria", "criteria_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Criteria YAML: reason codes are checked on import and its text seeds "
                   "the ranking [default: the criteria stored with the review's protocol].")
@click.option("--apply-auto-exclusions", is_flag=True,
              help="First write the exclusions the criteria allow a tool to make.")
@click.option("--close-at-stop", is_flag=True,
              help="When the protocol's stopping rule says --reviewer may stop, exclude the "
                   "records nobody has screened (reported as excluded by automation tools, "
                   "with the rule's report); an error while it does not.")
@quiet_option
def command(review: str, stage: str, queue_path: Path | None, decisions_path: Path | None,
            reviewer: str | None, rules_path: Path | None, criteria_path: Path | None,
            apply_auto_exclusions: bool, close_at_stop: bool) -> None:
    """Export the ranked screening queue of REVIEW and/or import decisions into it.

    The review's own criteria and rules (stored by `init --protocol` or `set-protocol`)
    are used unless --criteria or --rules name other files.

    \b
    Examples:
      evidence-synth screen review.db --apply-auto-exclusions
      evidence-synth screen review.db --export-queue queue.csv
      evidence-synth screen review.db --import-decisions ana.csv --reviewer ana
      evidence-synth screen review.db --close-at-stop --reviewer ana
    """
    if (queue_path is None and decisions_path is None and not apply_auto_exclusions
            and not close_at_stop):
        raise click.UsageError("nothing to do: give --export-queue, --import-decisions, "
                               "--apply-auto-exclusions or --close-at-stop")
    if close_at_stop and reviewer is None:
        raise click.UsageError("--close-at-stop needs --reviewer: whose decisions the "
                               "stopping rule reads")
    if decisions_path is not None and not decisions_path.exists():
        raise click.ClickException(f"{decisions_path}: file not found (--import-decisions)")
    from ..progress import steps
    from ..screen.session import Screening
    from ..store import open_review

    names = ["load records", "auto-exclusions", "import decisions", "close at stop", "rank",
             "write queue"]
    try:
        with open_review(review, create=False) as store, \
                steps("screen", names) as progress:
            rules, criteria = _rules_and_criteria(store, rules_path, criteria_path)
            if apply_auto_exclusions and criteria is None:
                raise click.UsageError("--apply-auto-exclusions needs the review's criteria: "
                                       "store a protocol that names them, or give --criteria")
            progress.step("load records")
            session = Screening(store, stage, reviewer=reviewer or "(queue)",
                                blind=reviewer is not None, rules=rules, criteria=criteria,
                                background=False)
            if apply_auto_exclusions:
                progress.step("auto-exclusions")
                done = session.apply_auto_exclusions()
                click.echo(f"{len(done)} records excluded by rules at {stage}")
            if decisions_path is not None:
                progress.step("import decisions")
                if reviewer is None:
                    _require_reviewer_column(decisions_path)
                written = session.import_decisions(decisions_path, reviewer=reviewer)
                click.echo(f"{len(written)} decisions imported from {decisions_path} "
                           f"at {stage}")
                session.refresh()
            if close_at_stop:
                progress.step("close at stop")
                decision = session.stop_check(report=False)
                closed = session.close_at_stop()
                click.echo(decision.report())
                click.echo(f"{len(closed)} records nobody screened excluded by the stopping "
                           f"rule at {stage}")
            if queue_path is not None:
                progress.step("rank")
                queue = session.queue()
                if reviewer is None:
                    decided = set(session.resolved()["record_id"])
                    decided |= set(session.latest()["record_id"])
                    queue = queue[~queue["record_id"].isin(decided)].reset_index(drop=True)
                    queue["rank"] = range(1, len(queue) + 1)
                progress.step("write queue")
                from ..spreadsheet import write_csv

                write_csv(queue, queue_path)
                how = queue["source"].iloc[0] if len(queue) else "-"
                click.echo(f"{len(queue)} records written to {queue_path} (ranked by {how})")
    except EvidenceSynthError as exc:
        raise click.ClickException(_one_line(exc)) from None


def _rules_and_criteria(store, rules_path: Path | None, criteria_path: Path | None):
    """The files given, else the review's stored ones (a note says which were used)."""
    from ..screen.criteria import load_criteria
    from ..screen.rules import load_rules

    rules = load_rules(rules_path) if rules_path else None
    criteria = load_criteria(criteria_path) if criteria_path else None
    if rules_path and criteria_path:
        return rules, criteria
    files = stored_review_files(store, needed="screen uses the review's criteria and rules")
    if files is None:  # a review without a protocol has no criteria or rules of its own
        return rules, criteria
    if criteria is None and files.criteria is not None:
        criteria = files.criteria
        echo_note(f"criteria: {files.relative('criteria')} stored with the review's protocol")
    if rules is None and files.rules is not None:
        rules = files.rules
        echo_note(f"rules: {files.relative('rules')} stored with the review's protocol")
    return rules, criteria


def _require_reviewer_column(path: Path) -> None:
    from ..io._csv_rows import read_csv_rows

    header, _rows = read_csv_rows(path, required=("record_id", "decision"))
    if "reviewer" not in header:
        raise click.ClickException(f"{path}: no reviewer column; pass --reviewer NAME")


def _one_line(exc: EvidenceSynthError) -> str:
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if len(lines) <= 1:
        return lines[0] if lines else type(exc).__name__
    shown = "; ".join(lines[1:4])
    more = f" (+{len(lines) - 4} more)" if len(lines) > 4 else ""
    return f"{lines[0]} {shown}{more}"
