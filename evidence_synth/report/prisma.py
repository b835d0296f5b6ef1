"""PRISMA 2020 counts derived from the review store's sources, duplicate groups and events.

Nothing here keeps a counter: every box is a set of records (identification) or of
duplicate groups (everything after deduplication; a group is one report), computed from
the newest deduplication run and the append-only decision events, and
:meth:`PrismaCounts.trace` returns the set behind any box. What each box is (label, CSV
row, diagram panel, arithmetic) is the table in ``_prisma_boxes``; :func:`prisma_counts`
fills the boxes in one step per stage of the flow.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import PrismaInconsistencyError
from ._prisma_boxes import (
    BOX,
    BOXES,
    SUMMARY,
    SUMMARY_FIELD,
    check_name,
    count,
    expected,
    expression,
    total,
)
from ._prisma_csv import prisma2020_frame, read_prisma2020_csv, write_prisma2020_csv
from ._prisma_log import (
    NO_REASON,
    ReviewLog,
    decided,
    listing,
    read_log,
    record_trace,
    study_trace,
)
from ._provenance import provenance

if TYPE_CHECKING:
    from ..store import Review

TRACE_COLUMNS = ("record_id", "group_id", "study_id", "source_id", "decision", "reason",
                 "actor", "event_ids")


@dataclass
class PrismaCounts:
    """The numbers of a PRISMA 2020 flow diagram for an updated review.

    Build it with :func:`prisma_counts` (from a review store) or
    :meth:`from_prisma2020_csv`. Field names follow the PRISMA2020 R package's ``data``
    keys. ``*_results`` dicts map a database or register name to its record count;
    ``dbr_excluded`` and ``other_excluded`` map an exclusion reason label to a count of
    reports. Fields outside the PRISMA2020 layout: the human/automation split of
    ``records_excluded``, and duplicates and screening exclusions in the other-methods
    branch (written to the CSV's ``tooltips`` so they survive a round trip).
    ``stopping_reports`` holds the stopping rule's report of each stop at which the
    records left unscreened were excluded (``Screening.close_at_stop``).
    """

    previous_studies: int = 0
    previous_reports: int = 0
    database_results: dict[str, int] = field(default_factory=dict)
    register_results: dict[str, int] = field(default_factory=dict)
    website_results: int = 0
    organisation_results: int = 0
    citations_results: int = 0
    duplicates: int = 0
    excluded_automatic: int = 0
    excluded_other: int = 0
    records_screened: int = 0
    records_excluded_human: int = 0
    records_excluded_automation: int = 0
    dbr_sought_reports: int = 0
    dbr_notretrieved_reports: int = 0
    dbr_assessed: int = 0
    dbr_excluded: dict[str, int] = field(default_factory=dict)
    dbr_included_reports: int = 0
    other_duplicates: int = 0
    other_records_excluded: int = 0
    other_sought_reports: int = 0
    other_notretrieved_reports: int = 0
    other_assessed: int = 0
    other_excluded: dict[str, int] = field(default_factory=dict)
    other_included_reports: int = 0
    new_studies: int = 0
    new_reports: int = 0
    problems: list[str] = field(default_factory=list)
    stopping_reports: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    protocol_sha256: str | None = None
    _trace: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False, compare=False)

    # ---- derived totals ---------------------------------------------------------------
    @property
    def database_total(self) -> int:
        """Records identified from all databases."""
        return sum(self.database_results.values())

    @property
    def register_total(self) -> int:
        """Records identified from all registers."""
        return sum(self.register_results.values())

    @property
    def identified(self) -> int:
        """Records identified from databases and registers."""
        return total(self, "identified")

    @property
    def other_identified(self) -> int:
        """Records identified via other methods."""
        return total(self, "other_identified")

    @property
    def records_excluded(self) -> int:
        """Records excluded at title/abstract, by humans and by automation tools."""
        return total(self, "records_excluded")

    @property
    def total_studies(self) -> int:
        """Studies in the previous version plus new studies."""
        return total(self, "total_studies")

    @property
    def total_reports(self) -> int:
        """Reports of the previous version's studies plus new reports."""
        return total(self, "total_reports")

    # ---- checks -------------------------------------------------------------------------
    def equations(self) -> list[tuple[str, int, str, str, int]]:
        """The arithmetic a PRISMA diagram must satisfy (the ``equals`` of each box).

        Returns
        -------
        list of tuple
            ``(box, value, expression, expression_with_values, expected)``.
        """
        return [(check_name(box), count(self, box.key), expression(box),
                 expression(box, lambda key: str(count(self, key))), expected(self, box))
                for box in BOXES if box.equals]

    def check(self) -> PrismaCounts:
        """Verify the arithmetic and the decision log; return ``self`` when consistent.

        Raises
        ------
        PrismaInconsistencyError
            Naming, for each equation that fails, the two numbers that disagree and their
            values, plus every problem found in the log (unresolved conflicts, full-text
            decisions on records not included at title/abstract, ...). ``.problems`` is a
            DataFrame with columns ``check, found, expected, message``.
        """
        rows = []
        for box, value, expr, with_values, should_be in self.equations():
            if value != should_be:
                rows.append({
                    "check": box, "found": value, "expected": should_be,
                    "message": f"{box} = {value} but {expr} = {with_values} = {should_be}",
                })
        rows += [{"check": "decision log", "found": pd.NA, "expected": pd.NA, "message": p}
                 for p in self.problems]
        if rows:
            problems = pd.DataFrame(rows, columns=["check", "found", "expected", "message"])
            raise PrismaInconsistencyError(
                "PRISMA counts are inconsistent: " + "; ".join(problems["message"]),
                problems=problems,
            )
        return self

    def draft_reasons(self) -> list[str]:
        """Why these counts are not final (empty when they are).

        Returns
        -------
        list of str
            ``"screening in progress"`` when work is still open (records not yet screened,
            unresolved conflicts, reports sought but neither assessed nor marked not
            retrieved: listed in :attr:`pending`), and ``"counts inconsistent"`` when the
            decision log has another problem, or when an equation of :meth:`check` fails
            although no work is open (open work makes the arithmetic fail by itself:
            :meth:`check` names the numbers either way).
        """
        reasons = []
        if self.pending:
            reasons.append("screening in progress")
        failing = any(value != should for _b, value, _e, _w, should in self.equations())
        if (failing and not self.pending) or any(p not in self.pending for p in self.problems):
            reasons.append("counts inconsistent")
        return reasons

    @property
    def status(self) -> str:
        """``"final"``, or ``"DRAFT: <reasons>"`` (see :meth:`draft_reasons`)."""
        reasons = self.draft_reasons()
        return f"DRAFT: {' / '.join(reasons)}" if reasons else "final"

    # ---- tracing ------------------------------------------------------------------------
    def trace(self, box: str) -> pd.DataFrame:
        """The records or decision events behind one box.

        Parameters
        ----------
        box : str
            A field or property name (``records_screened``, ``dbr_excluded``,
            ``total_studies``, ...) or a PRISMA2020 ``data`` key.

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, group_id, study_id, source_id, decision, reason, actor,
            event_ids``: one row per record for identification and duplicate boxes, one
            row per report (duplicate group, by its primary record) after that. For
            ``new_studies``, ``previous_studies`` and ``total_studies`` one row per study.
            The number of rows equals the box's count.
        """
        key = BOX[box].lists or box if box in BOX else box  # a CSV list row: its box
        if not self._trace:
            raise PrismaInconsistencyError(
                "these counts were not computed from a review store (read from a file?), "
                "so there is nothing to trace"
            )
        if key not in self._trace:
            raise KeyError(f"no PRISMA box {box!r}; boxes: {', '.join(sorted(self._trace))}")
        return self._trace[key].copy()

    # ---- exports ------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """All counts, totals, problems and provenance as a JSON-compatible dict."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name.startswith("_"):
                continue
            value = getattr(self, f.name)
            out[f.name] = dict(value) if isinstance(value, dict) else (
                list(value) if isinstance(value, list) else value)
        out.update(database_total=self.database_total, register_total=self.register_total)
        out.update({box.key: count(self, box.key) for box in BOXES if box.sum_of})
        out["status"] = self.status
        out["draft_reasons"] = self.draft_reasons()
        out["provenance"] = provenance(self.protocol_sha256)
        return out

    def to_json(self, path: str | os.PathLike[str] | None = None, *, indent: int = 2) -> str:
        """The :meth:`to_dict` content as JSON text; also written to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    def to_frame(self) -> pd.DataFrame:
        """One row per box (and per database, register and exclusion reason).

        Returns
        -------
        pandas.DataFrame
            Columns ``box`` (PRISMA2020 ``data`` key or our field name), ``item`` (database,
            register or reason label; ``<NA>`` for a whole box), ``n`` (int) and ``label``.
        """
        rows: list[tuple[str, Any, int, str]] = []
        for box in BOXES:
            if not box.frame:
                continue
            rows.append((box.key, pd.NA, count(self, box.key), box.name))
            if box.items:
                prefix = box.name.partition(": ")[0]
                rows += [(box.key, item, n, f"{prefix}: {item}")
                         for item, n in getattr(self, box.key).items()]
        frame = pd.DataFrame(rows, columns=["box", "item", "n", "label"])
        frame["box"] = frame["box"].astype("string")
        frame["item"] = frame["item"].astype("string")
        frame["label"] = frame["label"].astype("string")
        frame["n"] = frame["n"].astype("int64")
        return frame

    def summary(self) -> str:
        """A few lines for a terminal or a log."""
        text = SUMMARY_FIELD.sub(
            lambda m: str(sum(count(self, key) for key in m.group(1).split("+"))), SUMMARY)
        for report in self.stopping_reports:
            text += "\n  records left unscreened were excluded at a stop: " + " ".join(
                line.strip() for line in report.splitlines()[1:3])
        return text + (f"\n  problems: {len(self.problems)}" if self.problems else "")

    def __repr__(self) -> str:
        return (f"PrismaCounts(identified={self.identified}, screened={self.records_screened}, "
                f"new_studies={self.new_studies}, total_studies={self.total_studies})")

    def _repr_html_(self) -> str:
        body = "".join(
            f"<tr><td>{html.escape(str(r.label))}</td><td style='text-align:right'>{r.n}</td>"
            "</tr>"
            for r in self.to_frame().itertuples()
        )
        return f"<table><thead><tr><th>Box</th><th>n</th></tr></thead>{body}</table>"

    # ---- PRISMA2020 CSV -----------------------------------------------------------------
    def to_prisma2020_frame(self) -> pd.DataFrame:
        """The counts in the PRISMA2020 R package / Shiny app layout (see ``to_prisma2020_csv``).

        Returns
        -------
        pandas.DataFrame
            Columns ``data, node, box, description, boxtext, tooltips, url, n`` (all text;
            ``"NA"`` where the template has NA), rows in the template's order.
        """
        return prisma2020_frame(self)

    def to_prisma2020_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the counts as the PRISMA2020 R package / Shiny app template CSV.

        The file has the template's columns (``data,node,box,description,boxtext,
        tooltips,url,n``) and rows, so ``PRISMA2020::PRISMA_data(read.csv(path))`` or the
        Shiny app redraw the diagram. Lists (``database_specific_results``,
        ``dbr_excluded``, ...) are written as ``name, n; name, n``; commas and semicolons
        inside names become spaces. Provenance (library version, protocol hash) goes to a
        sidecar ``<path>.meta.json``, because R's ``read.csv`` does not skip comment lines.
        Counts that are not final (:meth:`draft_reasons`) say so in the title of the new
        studies' column (``boxtext`` of ``newstud``, which the R package draws:
        ``"DRAFT: screening in progress - Identification of new studies via ..."``) and in
        the sidecar's ``status``.

        Returns
        -------
        pathlib.Path
            The CSV path.
        """
        target = Path(path)
        write_prisma2020_csv(self.to_prisma2020_frame(), target)
        meta = provenance(self.protocol_sha256)
        meta["describes"] = target.name
        meta["status"] = self.status
        meta["draft_reasons"] = self.draft_reasons()
        Path(f"{target}.meta.json").write_text(json.dumps(meta, indent=2) + "\n",
                                               encoding="utf-8")
        return target

    @classmethod
    def from_prisma2020_csv(cls, path: str | os.PathLike[str]) -> PrismaCounts:
        """Read counts from a PRISMA2020 template CSV (ours or one edited in the Shiny app).

        Raises
        ------
        PrismaInconsistencyError
            When a required column is missing or a count is not a number (names the
            file, line and ``data`` key).
        """
        counts = read_prisma2020_csv(Path(path), cls())
        if counts.new_reports != counts.dbr_included_reports + counts.other_included_reports:
            # the file's own new_reports wins; attribute the difference to databases
            counts.dbr_included_reports = counts.new_reports - counts.other_included_reports
        return counts


# ---- computing the counts from a review -----------------------------------------------------
# ---- computing the counts from a review -----------------------------------------------------
def prisma_counts(
    review: Review,
    *,
    run_id: int | None = None,
    removed_reasons: Iterable[str] | None = None,
    automation_actors: Iterable[str] = ("rule",),
) -> PrismaCounts:
    """Compute PRISMA 2020 counts (updated-review flow) from a review store.

    Only the store's sources, the newest deduplication run and the decision events are
    used. Each duplicate group is one report; its ``study_id`` links several reports of one
    study. A group belongs to the *previous version* when any member comes from a
    ``previous_version`` source, else to *databases and registers* when any member comes
    from a ``database`` or ``register`` source, else to *other methods*; the other members
    are its duplicates. Events on any member count for the group.

    The final decision of a group at a stage is the one the screening session counts
    (:mod:`evidence_synth.screen.policy`): the newest adjudication if there is one, else
    the reviewers' latest decisions when they agree (at title/abstract ``include`` and
    ``maybe`` agree: both pass), else, when no reviewer decided, the latest automatic
    event. Disagreement without adjudication is *unresolved* and reported by
    :meth:`PrismaCounts.check`.

    Parameters
    ----------
    review : Review
        The review store (:func:`evidence_synth.open_review`).
    run_id : int, optional
        Deduplication run to use (the newest by default).
    removed_reasons : iterable of str, optional
        Reason codes of title/abstract exclusions counted as *removed for other reasons*
        before screening. Default: the protocol's reasons whose stage is not a screening
        stage (e.g. ``stage: identification``).
    automation_actors : iterable of str, default ("rule",)
        Title/abstract exclusions made only by these actors, with no human decision on the
        record, are *marked as ineligible by automation tools* (before screening). Other
        automated exclusions (e.g. a model excluding the records left after a stopping
        rule) count as screened and *excluded by automation tools*.

    Returns
    -------
    PrismaCounts
        Call ``.check()`` to verify the arithmetic.
    """
    log = read_log(review, run_id=run_id)
    removed = set(log.reasons.removed if removed_reasons is None else removed_reasons)
    tally = _Tally(PrismaCounts(protocol_sha256=log.protocol_sha256), log)
    _previous_version(tally)
    _identification(tally)
    to_screen = _before_screening(tally, removed, set(automation_actors))
    passed = _screening(tally, to_screen)
    included = _eligibility(tally, passed)
    _included(tally, included)
    for box in BOXES:
        if box.sum_of:
            tally.trace[box.key] = pd.concat([tally.trace[k] for k in box.sum_of],
                                             ignore_index=True)
    tally.counts.problems = tally.problems
    tally.counts.stopping_reports = list(log.stopping_reports)
    tally.counts.pending = tally.pending
    tally.counts._trace = tally.trace
    return tally.counts


@dataclass
class _Tally:
    """What the counting steps write: the counts, the rows behind each box, problems."""

    counts: PrismaCounts
    log: ReviewLog
    trace: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.problems += self.log.problems
        self.pending += self.log.unfinished

    def put(self, key: str, rows: pd.DataFrame, value: Any = None) -> None:
        """Set box ``key`` to ``value`` (default: one per row) and keep its rows."""
        setattr(self.counts, key, len(rows) if value is None else value)
        self.trace[key] = rows

    def put_reports(self, key: str, group_ids: list[str], stage: str | None) -> None:
        """Set box ``key`` to these reports, traced with their decision at ``stage``."""
        self.put(key, self.log.report_trace(group_ids, stage))

    def problem(self, ids: list[str], what: str, *, pending: bool = False) -> None:
        """Report ``"<n> <what>: groups <ids>"`` when ``ids`` is not empty; ``pending``:
        it is work still to do (the counts are a draft), not an error."""
        if ids:
            self.problems.append(f"{len(ids)} {what}: groups {listing(ids)}")
            if pending:
                self.pending.append(self.problems[-1])


def _previous_version(tally: _Tally) -> None:
    """Studies and reports of the previous version of the review."""
    previous = tally.log.reports_in("previous")
    tally.put("previous_reports", record_trace(previous))
    tally.put("previous_studies", study_trace(previous), previous["study_id"].nunique())


def _identification(tally: _Tally) -> None:
    """Records identified, per kind of source (per database and register name)."""
    log = tally.log
    for box in BOXES:
        if not box.source_kind:
            continue
        records = log.records_of([box.source_kind])
        value: Any = len(records)
        if box.items == "sources":
            value = {}
            for source_id, n in records.groupby("source_id", sort=False).size().items():
                name = str(log.source_name[source_id])
                value[name] = value.get(name, 0) + int(n)
        tally.put(box.key, record_trace(records), value)


def _before_screening(tally: _Tally, removed: set[str], automation: set[str]) -> list[str]:
    """Duplicates, and records removed by automation tools or for other reasons.

    Returns the databases-and-registers reports left for screening.
    """
    log = tally.log
    for key, branch in (("duplicates", "dbr"), ("other_duplicates", "other")):
        tally.put(key, record_trace(log.duplicates(branch)))
    title_abstract = log.stage("title_abstract")
    by_automation, for_other_reasons, to_screen = [], [], []
    for g in log.reports_in("dbr")["group_id"]:
        final = title_abstract.get(g)
        if final is None:
            continue
        if final.is_("exclude") and final.reason in removed:
            for_other_reasons.append(g)
        elif final.is_("exclude") and final.by in automation:
            by_automation.append(g)
        else:
            to_screen.append(g)
    tally.put_reports("excluded_automatic", by_automation, "title_abstract")
    tally.put_reports("excluded_other", for_other_reasons, "title_abstract")
    return to_screen


def _screening(tally: _Tally, to_screen: list[str]) -> list[str]:
    """Records screened at title/abstract and excluded, by humans or automation tools.

    Returns the reports that passed (to be sought for retrieval).
    """
    log = tally.log
    title_abstract = log.stage("title_abstract")
    by_humans, by_automation, passed = [], [], []
    for g in to_screen:
        final = title_abstract[g]
        if final.status != "final":
            continue
        if final.decision == "exclude":
            (by_humans if final.deciding_human else by_automation).append(g)
        else:
            passed.append(g)
    tally.problem([g for g in log.reports_in("dbr")["group_id"] if g not in title_abstract],
                  "record(s) from databases/registers not yet screened at title/abstract",
                  pending=True)
    tally.put_reports("records_screened", to_screen, "title_abstract")
    tally.put_reports("records_excluded_human", by_humans, "title_abstract")
    tally.put_reports("records_excluded_automation", by_automation, "title_abstract")
    # other methods have no screening box: exclusions here are an aside of the sought box
    excluded = [g for g in log.reports_in("other")["group_id"]
                if decided(title_abstract.get(g), "exclude")]
    tally.put_reports("other_records_excluded", excluded, "title_abstract")
    return passed


def _eligibility(tally: _Tally, passed: list[str]) -> list[str]:
    """Reports sought, not retrieved, assessed, excluded with reasons and included.

    Returns the included reports of both branches.
    """
    log = tally.log
    title_abstract, retrieval, full_text = (log.stage(s) for s in
                                            ("title_abstract", "retrieval", "full_text"))
    tally.put_reports("dbr_sought_reports", passed, "title_abstract")
    # other methods: passed title/abstract, or (not screened) retrieved or assessed
    other_sought = [
        g for g in log.reports_in("other")["group_id"]
        if (g in title_abstract and title_abstract[g].status == "final"
            and title_abstract[g].decision != "exclude")
        or (g not in title_abstract and (g in retrieval or g in full_text))
    ]
    tally.put_reports("other_sought_reports", other_sought, "title_abstract")
    tally.problem([g for g in passed if g not in full_text
                   and not decided(retrieval.get(g), "not_retrieved")],
                  "report(s) sought for retrieval but neither assessed at full text nor "
                  "marked not retrieved", pending=True)
    included: list[str] = []
    for branch in ("dbr", "other"):
        reports = list(log.reports_in(branch)["group_id"])
        assessed = [g for g in reports if g in full_text]
        excluded = [g for g in assessed if full_text[g].is_("exclude")]
        reasons = log.reasons.tally(full_text[g].reason for g in excluded)
        if reasons.get(NO_REASON):
            tally.problems.append(
                f"{reasons[NO_REASON]} full-text exclusion(s) without a reason: "
                + listing(g for g in excluded if not full_text[g].reason))
        tally.put_reports(f"{branch}_notretrieved_reports",
                          [g for g in reports if decided(retrieval.get(g), "not_retrieved")],
                          "retrieval")
        tally.put_reports(f"{branch}_assessed", assessed, "full_text")
        tally.put(f"{branch}_excluded", log.report_trace(excluded, "full_text"), reasons)
        accepted = [g for g in assessed if full_text[g].is_("include")]
        tally.put_reports(f"{branch}_included_reports", accepted, "full_text")
        included += accepted
    sought = set(passed)
    for stage, decisions in (("full text", full_text), ("retrieval", retrieval)):
        tally.problem(sorted(g for g in decisions if log.branch.get(g) == "dbr"
                             and g not in sought),
                      f"record(s) decided at {stage} without being included at title/abstract")
    return included


def _included(tally: _Tally, included: list[str]) -> None:
    """New reports, and new studies (those not already in the previous version)."""
    log = tally.log
    new = log.report_trace(included, "full_text")
    tally.put("new_reports", new)
    previous = set(log.reports_in("previous")["study_id"])
    reports = log.reports_by_id(included)
    new_studies = reports[~reports["study_id"].isin(previous)]
    tally.put("new_studies", study_trace(new_studies), new_studies["study_id"].nunique())


__all__ = ["PrismaCounts", "prisma_counts"]
