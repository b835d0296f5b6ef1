"""PRISMA 2020 counts derived from the review store's sources, duplicate groups and events.

Nothing here keeps a counter: every box is a set of records (identification) or of
duplicate groups (everything after deduplication; a group is one report), computed from
the newest deduplication run and the append-only decision events, and
:meth:`PrismaCounts.trace` returns the set behind any box.
"""

from __future__ import annotations

import csv
import html
import json
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import PrismaInconsistencyError
from . import _prisma_template as tpl
from ._prisma_csv import (
    _csv_tooltips,
    _csv_values,
    _na,
    _parse_int,
    _parse_list,
    _tooltip_int,
)
from ._prisma_log import (
    DBR_KINDS,
    NO_REASON,
    SCREENING_STAGES,
    _branches,
    _duplicates,
    _finals,
    _group_trace,
    _groups,
    _ids,
    _is,
    _label_rank,
    _primaries,
    _reasons,
    _record_trace,
    _study_trace,
)
from ._provenance import protocol_of, provenance

if TYPE_CHECKING:
    from ..store import Review

#: Source kind -> the PRISMA 2020 "other methods" box it is counted in.
OTHER_KIND_BOX = {
    "grey_literature": "website_results",
    "other": "organisation_results",
    "citation_search": "citations_results",
}
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
        return self.database_total + self.register_total

    @property
    def other_identified(self) -> int:
        """Records identified via other methods."""
        return self.website_results + self.organisation_results + self.citations_results

    @property
    def records_excluded(self) -> int:
        """Records excluded at title/abstract, by humans and by automation tools."""
        return self.records_excluded_human + self.records_excluded_automation

    @property
    def total_studies(self) -> int:
        """Studies in the previous version plus new studies."""
        return self.previous_studies + self.new_studies

    @property
    def total_reports(self) -> int:
        """Reports of the previous version's studies plus new reports."""
        return self.previous_reports + self.new_reports

    # ---- checks -------------------------------------------------------------------------
    def equations(self) -> list[tuple[str, int, str, str, int]]:
        """The arithmetic a PRISMA diagram must satisfy.

        Returns
        -------
        list of tuple
            ``(box, value, expression, expression_with_values, expected)``.
        """
        dbr_excl = sum(self.dbr_excluded.values())
        oth_excl = sum(self.other_excluded.values())
        return [
            ("records screened", self.records_screened,
             "records identified - duplicates - automation - other",
             f"{self.identified} - {self.duplicates} - {self.excluded_automatic} - "
             f"{self.excluded_other}",
             self.identified - self.duplicates - self.excluded_automatic - self.excluded_other),
            ("reports sought for retrieval", self.dbr_sought_reports,
             "records screened - records excluded",
             f"{self.records_screened} - {self.records_excluded}",
             self.records_screened - self.records_excluded),
            ("reports assessed for eligibility", self.dbr_assessed,
             "reports sought - reports not retrieved",
             f"{self.dbr_sought_reports} - {self.dbr_notretrieved_reports}",
             self.dbr_sought_reports - self.dbr_notretrieved_reports),
            ("reports included (databases and registers)", self.dbr_included_reports,
             "reports assessed - reports excluded with reasons",
             f"{self.dbr_assessed} - {dbr_excl}", self.dbr_assessed - dbr_excl),
            ("reports sought for retrieval (other methods)", self.other_sought_reports,
             "records identified via other methods - duplicates - excluded at screening",
             f"{self.other_identified} - {self.other_duplicates} - "
             f"{self.other_records_excluded}",
             self.other_identified - self.other_duplicates - self.other_records_excluded),
            ("reports assessed for eligibility (other methods)", self.other_assessed,
             "reports sought - reports not retrieved (other methods)",
             f"{self.other_sought_reports} - {self.other_notretrieved_reports}",
             self.other_sought_reports - self.other_notretrieved_reports),
            ("reports included (other methods)", self.other_included_reports,
             "reports assessed - reports excluded with reasons (other methods)",
             f"{self.other_assessed} - {oth_excl}", self.other_assessed - oth_excl),
            ("reports of new included studies", self.new_reports,
             "reports included (databases and registers) + reports included (other methods)",
             f"{self.dbr_included_reports} + {self.other_included_reports}",
             self.dbr_included_reports + self.other_included_reports),
        ]

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
        for box, value, expr, with_values, expected in self.equations():
            if value != expected:
                rows.append({
                    "check": box, "found": value, "expected": expected,
                    "message": f"{box} = {value} but {expr} = {with_values} = {expected}",
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
        aliases = {"records_excluded_human": "records_excluded_human",
                   "database_specific_results": "database_results",
                   "register_specific_results": "register_results"}
        key = aliases.get(box, box)
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
        out.update(
            database_total=self.database_total, register_total=self.register_total,
            identified=self.identified, other_identified=self.other_identified,
            records_excluded=self.records_excluded, total_studies=self.total_studies,
            total_reports=self.total_reports,
        )
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
        add = rows.append
        add(("previous_studies", pd.NA, self.previous_studies,
             "Studies included in previous version of review"))
        add(("previous_reports", pd.NA, self.previous_reports,
             "Reports of studies included in previous version of review"))
        add(("database_results", pd.NA, self.database_total, "Records identified: databases"))
        for name, n in self.database_results.items():
            add(("database_results", name, n, f"Records identified: {name}"))
        add(("register_results", pd.NA, self.register_total, "Records identified: registers"))
        for name, n in self.register_results.items():
            add(("register_results", name, n, f"Records identified: {name}"))
        add(("website_results", pd.NA, self.website_results, "Records identified: websites"))
        add(("organisation_results", pd.NA, self.organisation_results,
             "Records identified: organisations"))
        add(("citations_results", pd.NA, self.citations_results,
             "Records identified: citation searching"))
        add(("duplicates", pd.NA, self.duplicates, "Duplicate records removed"))
        add(("excluded_automatic", pd.NA, self.excluded_automatic,
             "Records marked as ineligible by automation tools"))
        add(("excluded_other", pd.NA, self.excluded_other, "Records removed for other reasons"))
        add(("records_screened", pd.NA, self.records_screened, "Records screened"))
        add(("records_excluded", pd.NA, self.records_excluded, "Records excluded"))
        add(("records_excluded_human", pd.NA, self.records_excluded_human,
             "Records excluded by humans"))
        add(("records_excluded_automation", pd.NA, self.records_excluded_automation,
             "Records excluded by automation tools"))
        add(("dbr_sought_reports", pd.NA, self.dbr_sought_reports,
             "Reports sought for retrieval"))
        add(("dbr_notretrieved_reports", pd.NA, self.dbr_notretrieved_reports,
             "Reports not retrieved"))
        add(("dbr_assessed", pd.NA, self.dbr_assessed, "Reports assessed for eligibility"))
        add(("dbr_excluded", pd.NA, sum(self.dbr_excluded.values()), "Reports excluded"))
        for reason, n in self.dbr_excluded.items():
            add(("dbr_excluded", reason, n, f"Reports excluded: {reason}"))
        add(("other_duplicates", pd.NA, self.other_duplicates,
             "Duplicate records removed (other methods)"))
        add(("other_records_excluded", pd.NA, self.other_records_excluded,
             "Records excluded at screening (other methods)"))
        add(("other_sought_reports", pd.NA, self.other_sought_reports,
             "Reports sought for retrieval (other methods)"))
        add(("other_notretrieved_reports", pd.NA, self.other_notretrieved_reports,
             "Reports not retrieved (other methods)"))
        add(("other_assessed", pd.NA, self.other_assessed,
             "Reports assessed for eligibility (other methods)"))
        add(("other_excluded", pd.NA, sum(self.other_excluded.values()),
             "Reports excluded (other methods)"))
        for reason, n in self.other_excluded.items():
            add(("other_excluded", reason, n, f"Reports excluded (other methods): {reason}"))
        add(("new_studies", pd.NA, self.new_studies, "New studies included in review"))
        add(("new_reports", pd.NA, self.new_reports, "Reports of new included studies"))
        add(("total_studies", pd.NA, self.total_studies, "Total studies included in review"))
        add(("total_reports", pd.NA, self.total_reports, "Reports of total included studies"))
        frame = pd.DataFrame(rows, columns=["box", "item", "n", "label"])
        frame["box"] = frame["box"].astype("string")
        frame["item"] = frame["item"].astype("string")
        frame["label"] = frame["label"].astype("string")
        frame["n"] = frame["n"].astype("int64")
        return frame

    def summary(self) -> str:
        """A few lines for a terminal or a log."""
        excl = sum(self.dbr_excluded.values()) + sum(self.other_excluded.values())
        return (
            f"PRISMA 2020 (updated review): previous version {self.previous_studies} studies "
            f"({self.previous_reports} reports)\n"
            f"  identified {self.identified} (databases/registers) + {self.other_identified} "
            f"(other methods); duplicates {self.duplicates}; automation "
            f"{self.excluded_automatic}; other {self.excluded_other}\n"
            f"  screened {self.records_screened}; excluded {self.records_excluded} "
            f"({self.records_excluded_human} by humans, {self.records_excluded_automation} by "
            f"automation)\n"
            f"  sought {self.dbr_sought_reports + self.other_sought_reports}; not retrieved "
            f"{self.dbr_notretrieved_reports + self.other_notretrieved_reports}; assessed "
            f"{self.dbr_assessed + self.other_assessed}; excluded with reasons {excl}\n"
            f"  new studies {self.new_studies} ({self.new_reports} reports); total studies "
            f"{self.total_studies} ({self.total_reports} reports)"
            + (f"\n  problems: {len(self.problems)}" if self.problems else "")
        )

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
        values = _csv_values(self)
        tips = _csv_tooltips(self)
        rows = []
        for data, node, box, boxtext, description in tpl.TEMPLATE_ROWS:
            key = data if data is not None else box
            rows.append({
                "data": _na(data), "node": _na(node), "box": box, "description": description,
                "boxtext": boxtext, "tooltips": tips.get(key, description if node else "NA"),
                "url": "NA", "n": values.get(key, "0"),
            })
        return pd.DataFrame(rows, columns=list(tpl.COLUMNS))

    def to_prisma2020_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the counts as the PRISMA2020 R package / Shiny app template CSV.

        The file has the template's columns (``data,node,box,description,boxtext,
        tooltips,url,n``) and rows, so ``PRISMA2020::PRISMA_data(read.csv(path))`` or the
        Shiny app redraw the diagram. Lists (``database_specific_results``,
        ``dbr_excluded``, ...) are written as ``name, n; name, n``; commas and semicolons
        inside names become spaces. Provenance (library version, protocol hash) goes to a
        sidecar ``<path>.meta.json``, because R's ``read.csv`` does not skip comment lines.

        Returns
        -------
        pathlib.Path
            The CSV path.
        """
        target = Path(path)
        frame = self.to_prisma2020_frame()
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
            writer.writerow(tpl.COLUMNS)
            writer.writerows(frame.itertuples(index=False, name=None))
        meta = provenance(self.protocol_sha256)
        meta["describes"] = target.name
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
        source = Path(path)
        with source.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("data", "box", "n") if c not in (reader.fieldnames or [])]
            if missing:
                raise PrismaInconsistencyError(
                    f"{source}: expected PRISMA2020 columns {', '.join(tpl.COLUMNS)}; "
                    f"missing {', '.join(missing)}"
                )
            rows = [(i + 2, r) for i, r in enumerate(reader)]
        by_key = {r["data"]: (line, r) for line, r in rows if r["data"] not in ("", "NA")}
        counts = cls()
        scalar = {f.name for f in fields(cls) if f.type in ("int", int)}
        for key, (line, row) in by_key.items():
            text = (row.get("n") or "").strip()
            if key in tpl.LIST_ROWS:
                parsed = _parse_list(text, path=source, line=line, key=key)
                target = {"database_specific_results": "database_results",
                          "register_specific_results": "register_results"}.get(key, key)
                setattr(counts, target, parsed)
            elif key == "records_excluded":
                total = _parse_int(text, path=source, line=line, key=key)
                auto = _tooltip_int(row, r"(\d+) by automation tools") or 0
                counts.records_excluded_automation = auto
                counts.records_excluded_human = total - auto
            elif key == "other_sought_reports":
                counts.other_sought_reports = _parse_int(text, path=source, line=line, key=key)
                counts.other_duplicates = _tooltip_int(row, r"(\d+) duplicates") or 0
                counts.other_records_excluded = _tooltip_int(
                    row, r"(\d+) records excluded at screening") or 0
            elif key in scalar:
                setattr(counts, key, _parse_int(text, path=source, line=line, key=key))
        for key in ("database_results", "register_results"):
            specific = getattr(counts, key)
            total_row = by_key.get(key)
            if not specific and total_row is not None:
                n = _parse_int((total_row[1].get("n") or "").strip(), path=source,
                               line=total_row[0], key=key)
                if n:
                    setattr(counts, key, {key.split("_")[0].capitalize() + "s": n})
        dbr_excl = sum(counts.dbr_excluded.values())
        oth_excl = sum(counts.other_excluded.values())
        counts.dbr_included_reports = counts.dbr_assessed - dbr_excl
        counts.other_included_reports = counts.other_assessed - oth_excl
        if counts.new_reports != counts.dbr_included_reports + counts.other_included_reports:
            # the file's own new_reports wins; attribute the difference to databases
            counts.dbr_included_reports = counts.new_reports - counts.other_included_reports
        return counts


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

    The final decision of a group at a stage is the newest adjudication event if there is
    one, else the reviewers' latest decisions when they agree (at title/abstract
    ``include`` and ``maybe`` agree: both pass). Disagreement without adjudication is
    *unresolved* and reported by :meth:`PrismaCounts.check`.

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
    protocol = protocol_of(review)
    reason_labels, reason_order, default_removed = _reasons(protocol)
    removed = set(default_removed if removed_reasons is None else removed_reasons)
    sources = review.sources()
    owners = review.record_sources()
    groups = _groups(review.duplicate_groups(run_id=run_id), owners)
    kind_of_source = dict(zip(sources["source_id"], sources["kind"], strict=True))
    name_of_source = dict(zip(sources["source_id"], sources["database"], strict=True))
    groups["kind"] = groups["source_id"].map(kind_of_source)
    problems: list[str] = []
    missing_run = groups["singleton"].sum()
    if missing_run and not groups["singleton"].all():
        problems.append(
            f"{missing_run} record(s) are not in deduplication run "
            f"{groups['run_id'].dropna().iloc[0]} (imported after it?), counted as unique: "
            + _ids(groups.loc[groups["singleton"], "record_id"])
        )
    stored = owners.groupby("source_id").size()
    for row in sources.itertuples():
        if int(stored.get(row.source_id, 0)) != int(row.record_count):
            problems.append(
                f"source {row.source_id}: record_count = {row.record_count} but "
                f"{int(stored.get(row.source_id, 0))} records are stored"
            )

    counts = PrismaCounts(protocol_sha256=getattr(protocol, "sha256", None))
    trace: dict[str, pd.DataFrame] = {}

    # identification ---------------------------------------------------------------------
    for kind, target in (("database", "database_results"), ("register", "register_results")):
        part = groups[groups["kind"] == kind]
        per_name: dict[str, int] = {}
        for source_id, n in part.groupby("source_id", sort=False).size().items():
            name = str(name_of_source[source_id])
            per_name[name] = per_name.get(name, 0) + int(n)
        setattr(counts, target, per_name)
        trace[target] = _record_trace(part)
    for kind, target in OTHER_KIND_BOX.items():
        part = groups[groups["kind"] == kind]
        setattr(counts, target, len(part))
        trace[target] = _record_trace(part)

    # branches and duplicates ---------------------------------------------------------------
    branch = _branches(groups)
    groups["branch"] = groups["group_id"].map(branch)
    dbr_rec = groups[groups["kind"].isin(DBR_KINDS)]
    oth_rec = groups[groups["kind"].isin(tuple(OTHER_KIND_BOX))]
    dbr_dups = _duplicates(dbr_rec, "dbr")
    oth_dups = _duplicates(oth_rec, "other")
    counts.duplicates, counts.other_duplicates = len(dbr_dups), len(oth_dups)
    trace["duplicates"], trace["other_duplicates"] = _record_trace(dbr_dups), _record_trace(
        oth_dups)

    primaries = _primaries(groups)
    prev = primaries[primaries["branch"] == "previous"]
    counts.previous_reports = len(prev)
    counts.previous_studies = prev["study_id"].nunique()
    trace["previous_reports"] = _group_trace(prev, None)
    trace["previous_studies"] = _study_trace(prev)

    # decisions ----------------------------------------------------------------------------
    events = review.decisions()
    group_of = dict(zip(groups["record_id"], groups["group_id"], strict=True))
    events = events.assign(group_id=events["record_id"].map(group_of))
    finals = _finals(events, reason_order)
    ta, rt, ft = (finals.get(s, {}) for s in SCREENING_STAGES)
    for stage, table in finals.items():
        unresolved = sorted(g for g, f in table.items() if f["status"] == "unresolved"
                            and branch.get(g) != "previous")
        if unresolved:
            problems.append(
                f"{len(unresolved)} unresolved conflict(s) at {stage} (reviewers disagree, "
                f"no adjudication): groups {_ids(unresolved)}"
            )
    automation = set(automation_actors)

    dbr = primaries[primaries["branch"] == "dbr"]
    oth = primaries[primaries["branch"] == "other"]
    box3_auto, box3_other, screened, excl_h, excl_a, sought = [], [], [], [], [], []
    for g in dbr["group_id"]:
        f = ta.get(g)
        if f is None:
            continue
        if f["status"] == "final" and f["decision"] == "exclude":
            if f["reason"] in removed:
                box3_other.append(g)
                continue
            if not f["any_human"] and f["actors"] & automation:
                box3_auto.append(g)
                continue
        screened.append(g)
        if f["status"] != "final":
            continue
        if f["decision"] == "exclude":
            (excl_h if f["deciding_human"] else excl_a).append(g)
        else:
            sought.append(g)
    pending = [g for g in dbr["group_id"] if g not in ta]
    if pending:
        problems.append(f"{len(pending)} record(s) from databases/registers not yet screened "
                        f"at title/abstract: groups {_ids(pending)}")
    waiting = [g for g in sought if g not in ft and not _is(rt.get(g), "not_retrieved")]
    if waiting:
        problems.append(f"{len(waiting)} report(s) sought for retrieval but neither assessed "
                        f"at full text nor marked not retrieved: groups {_ids(waiting)}")
    counts.excluded_automatic, counts.excluded_other = len(box3_auto), len(box3_other)
    counts.records_screened = len(screened)
    counts.records_excluded_human, counts.records_excluded_automation = len(excl_h), len(excl_a)
    counts.dbr_sought_reports = len(sought)
    by_group = primaries.set_index("group_id")
    for name, ids, table in (
        ("excluded_automatic", box3_auto, ta), ("excluded_other", box3_other, ta),
        ("records_screened", screened, ta), ("records_excluded", excl_h + excl_a, ta),
        ("records_excluded_human", excl_h, ta), ("records_excluded_automation", excl_a, ta),
        ("dbr_sought_reports", sought, ta),
    ):
        trace[name] = _group_trace(by_group.loc[ids].reset_index(), table)

    oth_excluded, oth_sought = [], []
    for g in oth["group_id"]:
        f = ta.get(g)
        if f is not None and f["status"] == "final" and f["decision"] == "exclude":
            oth_excluded.append(g)
        elif (f is not None and f["status"] == "final") or (f is None and (g in rt or g in ft)):
            oth_sought.append(g)
    counts.other_records_excluded, counts.other_sought_reports = len(oth_excluded), len(
        oth_sought)
    trace["other_records_excluded"] = _group_trace(by_group.loc[oth_excluded].reset_index(), ta)
    trace["other_sought_reports"] = _group_trace(by_group.loc[oth_sought].reset_index(), ta)

    included: list[str] = []
    for prefix, part in (("dbr", dbr), ("other", oth)):
        ids = list(part["group_id"])
        not_retrieved = [g for g in ids if _is(rt.get(g), "not_retrieved")]
        assessed = [g for g in ids if g in ft]
        excluded = [g for g in assessed if _is(ft[g], "exclude")]
        incl = [g for g in assessed if _is(ft[g], "include")]
        reasons: Counter[str] = Counter()
        for g in excluded:
            code = ft[g]["reason"]
            reasons[reason_labels.get(code, code) if code else NO_REASON] += 1
        if reasons.get(NO_REASON):
            problems.append(f"{reasons[NO_REASON]} full-text exclusion(s) without a reason: "
                            + _ids(g for g in excluded if not ft[g]["reason"]))
        ordered = sorted(reasons.items(), key=lambda kv: (_label_rank(kv[0], reason_labels,
                                                                      reason_order), kv[0]))
        setattr(counts, f"{prefix}_notretrieved_reports", len(not_retrieved))
        setattr(counts, f"{prefix}_assessed", len(assessed))
        setattr(counts, f"{prefix}_excluded", dict(ordered))
        setattr(counts, f"{prefix}_included_reports", len(incl))
        trace[f"{prefix}_notretrieved_reports"] = _group_trace(
            by_group.loc[not_retrieved].reset_index(), rt)
        trace[f"{prefix}_assessed"] = _group_trace(by_group.loc[assessed].reset_index(), ft)
        trace[f"{prefix}_excluded"] = _group_trace(by_group.loc[excluded].reset_index(), ft)
        trace[f"{prefix}_included_reports"] = _group_trace(by_group.loc[incl].reset_index(), ft)
        included += incl

    passed = set(sought)
    stray = sorted(g for g in ft if branch.get(g) == "dbr" and g not in passed)
    if stray:
        problems.append(f"{len(stray)} record(s) decided at full text without being included "
                        f"at title/abstract: groups {_ids(stray)}")
    stray_rt = sorted(g for g in rt if branch.get(g) == "dbr" and g not in passed)
    if stray_rt:
        problems.append(f"{len(stray_rt)} record(s) decided at retrieval without being "
                        f"included at title/abstract: groups {_ids(stray_rt)}")
    new = by_group.loc[included].reset_index()
    previous_ids = set(prev["study_id"])
    counts.new_reports = len(new)
    new_studies = new[~new["study_id"].isin(previous_ids)]
    counts.new_studies = new_studies["study_id"].nunique()
    trace["new_reports"] = _group_trace(new, ft)
    trace["new_studies"] = _study_trace(new_studies)
    trace["total_reports"] = pd.concat([trace["previous_reports"], trace["new_reports"]],
                                       ignore_index=True)
    trace["total_studies"] = pd.concat([trace["previous_studies"], trace["new_studies"]],
                                       ignore_index=True)
    counts.problems = problems
    counts._trace = trace
    return counts


__all__ = ["PrismaCounts", "prisma_counts"]
