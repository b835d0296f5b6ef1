"""Reading the review store for PRISMA: reports, branches and final decisions per stage.

:func:`read_log` is the one entry point: it reads sources, the deduplication run and the
decision events once and returns a :class:`ReviewLog` the counting steps query. The
decision policy (which events make a group's final decision at a stage) is the
self-contained section :func:`final_decisions` / :class:`Final` at the end.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from ..screen.policy import AUTOMATION, STOPPING_REVIEWER, counted, reason_order
from ._prisma_boxes import BOXES
from ._provenance import protocol_of

SCREENING_STAGES = ("title_abstract", "retrieval", "full_text")
NO_REASON = "No reason recorded"
#: Branch -> the source kinds whose records it identifies (``previous_version`` aside).
KINDS = {branch: tuple(b.source_kind for b in BOXES if b.source_kind and b.branch == branch)
         for branch in ("dbr", "other")}


def listing(values: Iterable[Any], limit: int = 5) -> str:
    """``"a, b, c, d, e and 3 more"``: ids named in a problem."""
    items = [str(v) for v in values]
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")


@dataclass(frozen=True)
class Reasons:
    """The protocol's exclusion reasons: labels, order, and codes removed before screening."""

    labels: Mapping[str, str] = field(default_factory=dict)
    order: Mapping[str, int] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()

    @classmethod
    def of(cls, protocol: Any) -> Reasons:
        """Read from a protocol; empty when there is none (or it has no reasons)."""
        if protocol is None:
            return cls()
        try:
            frame = protocol.exclusion_reasons_frame()
        except (AttributeError, KeyError):
            return cls()
        labels = {str(c): str(lbl) for c, lbl in zip(frame["code"], frame["label"],
                                                      strict=True)}
        order = reason_order(protocol)
        removed = frozenset(str(c) for c, s in zip(frame["code"], frame["stage"], strict=True)
                            if str(s) not in SCREENING_STAGES)
        return cls(labels, order, removed)

    def tally(self, codes: Iterable[str | None]) -> dict[str, int]:
        """Count reason codes by label, in protocol order (unknown codes as they are)."""
        counts: Counter[str] = Counter(
            self.labels.get(code, code) if code else NO_REASON for code in codes)
        return dict(sorted(counts.items(), key=lambda kv: (self._rank(kv[0]), kv[0])))

    def _rank(self, label: str) -> int:
        for code, lbl in self.labels.items():
            if lbl == label:
                return self.order.get(code, 10**6)
        return 10**6 + (1 if label == NO_REASON else 0)


@dataclass
class ReviewLog:
    """What PRISMA reads from a review store, read once by :func:`read_log`.

    Attributes
    ----------
    records : pandas.DataFrame
        One row per stored record: ``record_id, source_id, group_id, study_id,
        is_primary, run_id, singleton, kind, branch``. A record missing from the
        deduplication run is its own group ``record:<id>``.
    reports : pandas.DataFrame
        One row per duplicate group (a report), by its primary record; same columns.
    branch : dict
        group_id -> ``"previous"``, ``"dbr"`` or ``"other"``.
    finals : dict
        stage -> group_id -> :class:`Final`.
    source_name : dict
        source_id -> database name.
    reasons : Reasons
    protocol_sha256 : str or None
    problems : list of str
        Found while reading: records missing from the run, record counts that do not
        match, unresolved conflicts, records screened by fewer reviewers than the
        protocol requires.
    unfinished : list of str
        The problems among ``problems`` that mean screening is still in progress
        (unresolved conflicts, records still short of their reviewers).
    stopping_reports : list of str
        The stopping rule's reports written with the records closed at a stop.
    """

    records: pd.DataFrame
    reports: pd.DataFrame
    branch: dict[str, str]
    finals: dict[str, dict[str, Final]]
    source_name: dict[str, str]
    reasons: Reasons
    protocol_sha256: str | None
    problems: list[str]
    unfinished: list[str] = field(default_factory=list)
    stopping_reports: list[str] = field(default_factory=list)

    @cached_property
    def _by_group(self) -> pd.DataFrame:
        return self.reports.set_index("group_id")

    def stage(self, name: str) -> dict[str, Final]:
        """Final decisions at one stage (group_id -> :class:`Final`)."""
        return self.finals.get(name, {})

    def records_of(self, kinds: Iterable[str]) -> pd.DataFrame:
        """Records from sources of these kinds."""
        return self.records[self.records["kind"].isin(tuple(kinds))]

    def duplicates(self, branch: str) -> pd.DataFrame:
        """Records from a branch's sources that are not the one kept for their group.

        A group keeps its primary record (else its first) among the branch's own groups;
        records of the branch in another branch's group (a study on the previous map
        found again) are all duplicates.
        """
        return _duplicates(self.records_of(KINDS[branch]), branch)

    def reports_in(self, branch: str) -> pd.DataFrame:
        """Reports (groups, by primary record) of one branch."""
        return self.reports[self.reports["branch"] == branch]

    def reports_by_id(self, group_ids: Iterable[str]) -> pd.DataFrame:
        """These reports, in the order given."""
        return self._by_group.loc[list(group_ids)].reset_index()

    def report_trace(self, group_ids: Iterable[str], stage: str | None) -> pd.DataFrame:
        """Trace rows of these reports, with their final decision at ``stage``."""
        return group_trace(self.reports_by_id(group_ids),
                           None if stage is None else self.stage(stage))


def read_log(review: Any, *, run_id: int | None = None) -> ReviewLog:
    """Read sources, the deduplication run (newest by default) and the decision events."""
    protocol = protocol_of(review)
    reasons = Reasons.of(protocol)
    sources = review.sources()
    owners = review.record_sources()
    records = _records(review.duplicate_groups(run_id=run_id), owners)
    kind_of_source = dict(zip(sources["source_id"], sources["kind"], strict=True))
    records["kind"] = records["source_id"].map(kind_of_source)
    problems = _identification_problems(records, owners, sources)
    branch = _branches(records)
    records["branch"] = records["group_id"].map(branch)
    reports = _primaries(records)
    events = review.decisions()
    group_of = dict(zip(records["record_id"], records["group_id"], strict=True))
    events = events.assign(group_id=events["record_id"].map(group_of))
    finals = final_decisions(events, reasons.order)
    required = _reviewers_required(protocol)
    unfinished: list[str] = []
    for stage, table in finals.items():
        table = {g: f for g, f in table.items() if branch.get(g) != "previous"}
        unresolved = sorted(g for g, f in table.items() if f.status == "unresolved")
        if unresolved:
            unfinished.append(
                f"{len(unresolved)} unresolved conflict(s) at {stage} (reviewers disagree, "
                f"no adjudication): groups {listing(unresolved)}"
            )
        need = required.get(stage, 1)
        short = sorted(g for g, f in table.items() if f.by == "agreement"
                       and f.n_reviewers < need)
        if short:
            unfinished.append(
                f"{len(short)} report(s) at {stage} screened by fewer reviewers than the "
                f"protocol requires ({need} per record): groups {listing(short)}"
            )
    problems += unfinished
    closed = events[(events["reviewer"] == STOPPING_REVIEWER) & (events["actor"] == "model")]
    return ReviewLog(
        records=records, reports=reports, branch=branch, finals=finals,
        source_name=dict(zip(sources["source_id"], sources["database"], strict=True)),
        reasons=reasons, protocol_sha256=getattr(protocol, "sha256", None), problems=problems,
        unfinished=unfinished, stopping_reports=list(dict.fromkeys(closed["note"].dropna())),
    )


def _reviewers_required(protocol: Any) -> dict[str, int]:
    """Stage -> the protocol's ``reviewers_per_record`` (empty without a protocol)."""
    try:
        stages = protocol.stages_frame()
    except AttributeError:
        return {}
    return {str(s): int(n) for s, n in zip(stages["stage_id"], stages["reviewers_per_record"],
                                            strict=True) if pd.notna(n)}


def _records(dedup: pd.DataFrame, owners: pd.DataFrame) -> pd.DataFrame:
    merged = owners.merge(dedup[["record_id", "group_id", "study_id", "is_primary", "run_id"]],
                          on="record_id", how="left")
    single = merged["group_id"].isna()
    merged["singleton"] = single
    merged.loc[single, "group_id"] = "record:" + merged.loc[single, "record_id"]
    merged.loc[single, "study_id"] = merged.loc[single, "group_id"]
    merged.loc[single, "is_primary"] = True
    merged["is_primary"] = merged["is_primary"].astype(bool)
    return merged


def _identification_problems(records: pd.DataFrame, owners: pd.DataFrame,
                             sources: pd.DataFrame) -> list[str]:
    problems = []
    missing_run = records["singleton"].sum()
    if missing_run and not records["singleton"].all():
        problems.append(
            f"{missing_run} record(s) are not in deduplication run "
            f"{records['run_id'].dropna().iloc[0]} (imported after it?), counted as unique: "
            + listing(records.loc[records["singleton"], "record_id"])
        )
    stored = owners.groupby("source_id").size()
    for row in sources.itertuples():
        if int(stored.get(row.source_id, 0)) != int(row.record_count):
            problems.append(
                f"source {row.source_id}: record_count = {row.record_count} but "
                f"{int(stored.get(row.source_id, 0))} records are stored"
            )
    return problems


def _branches(records: pd.DataFrame) -> dict[str, str]:
    flags = pd.DataFrame({
        "group_id": records["group_id"],
        "previous": records["kind"] == "previous_version",
        "dbr": records["kind"].isin(KINDS["dbr"]),
    }).groupby("group_id", sort=False).any()
    branch = pd.Series("other", index=flags.index, dtype=object)
    branch[flags["dbr"]] = "dbr"
    branch[flags["previous"]] = "previous"
    return branch.to_dict()


def _duplicates(records: pd.DataFrame, own_branch: str) -> pd.DataFrame:
    if records.empty:
        return records
    own = records[records["branch"] == own_branch]
    ranked = own.sort_values(["group_id", "is_primary", "record_id"],
                             ascending=[True, False, True])
    kept = set(ranked.drop_duplicates("group_id")["record_id"])
    return records[~records["record_id"].isin(kept)].reset_index(drop=True)


def _primaries(records: pd.DataFrame) -> pd.DataFrame:
    ordered = records.sort_values(["group_id", "is_primary", "record_id"],
                                  ascending=[True, False, True])
    return ordered.drop_duplicates("group_id").reset_index(drop=True)


# ---- traces: the rows behind a box -----------------------------------------------------------
def record_trace(part: pd.DataFrame) -> pd.DataFrame:
    """One trace row per record (no decision)."""
    out = pd.DataFrame({
        "record_id": part["record_id"].astype("string"),
        "group_id": part["group_id"].astype("string"),
        "study_id": part["study_id"].astype("string"),
        "source_id": part["source_id"].astype("string"),
    })
    for col in ("decision", "reason", "actor"):
        out[col] = pd.array([pd.NA] * len(out), dtype="string")
    out["event_ids"] = [[] for _ in range(len(out))]
    return out.reset_index(drop=True)


def group_trace(part: pd.DataFrame, finals: Mapping[str, Final] | None) -> pd.DataFrame:
    """One trace row per report, with its final decision from ``finals`` if given."""
    out = record_trace(part)
    if finals is None or out.empty:
        return out
    got = [finals.get(g) for g in part["group_id"]]
    out["decision"] = pd.array([f and f.decision for f in got], dtype="string")
    out["reason"] = pd.array([f and f.reason for f in got], dtype="string")
    out["actor"] = pd.array([f and f.deciding_actor for f in got], dtype="string")
    out["event_ids"] = [list(f.event_ids) if f else [] for f in got]
    return out


def study_trace(part: pd.DataFrame) -> pd.DataFrame:
    """One trace row per study (its first report)."""
    return record_trace(part.drop_duplicates("study_id"))


# ---- decision policy: the final decision of a group at a stage -------------------------------
@dataclass(frozen=True)
class Final:
    """A group's final decision at one stage, and the events that made it.

    Read from :func:`evidence_synth.screen.policy.counted`, the one definition of which
    decision counts (shared with the screening session). ``status`` is ``"final"`` or
    ``"unresolved"`` (reviewers disagree, no adjudication; ``decision`` is then ``None``).
    ``reason`` is the exclusion reason code (``None`` when none was given). ``by`` says
    how it was decided (``adjudication``, ``agreement``, ``conflict``, or the automation
    actor ``rule``/``model``); ``deciding_actor``, ``event_ids`` and ``n_reviewers``
    describe the deciding events and how many reviewers screened the group.
    """

    status: str
    decision: str | None
    reason: str | None
    by: str
    deciding_actor: str
    event_ids: tuple[int, ...]
    n_reviewers: int = 0

    @property
    def deciding_human(self) -> bool:
        """Whether people (reviewers or an adjudicator) made the decision."""
        return self.by not in AUTOMATION

    def is_(self, decision: str) -> bool:
        """Whether the final decision is ``decision``."""
        return self.status == "final" and self.decision == decision


def decided(final: Final | None, decision: str) -> bool:
    """Whether a group has a final ``decision`` (``final`` is ``None`` when undecided)."""
    return final is not None and final.is_(decision)


def final_decisions(events: pd.DataFrame, reason_order: Mapping[str, int]
                    ) -> dict[str, dict[str, Final]]:
    """Final decision of every group at every stage, from its decision events.

    Parameters
    ----------
    events : pandas.DataFrame
        Decision events with a ``group_id`` column added.
    reason_order : mapping
        Reason code -> its position in the protocol.
    """
    out: dict[str, dict[str, Final]] = {}
    table = counted(events, key="group_id", reason_order=reason_order)
    for row in table.itertuples(index=False):
        out.setdefault(row.stage, {})[row.group_id] = Final(
            status=row.status, decision=row.decision, reason=row.reason, by=row.by,
            deciding_actor=row.actor, event_ids=row.event_ids,
            n_reviewers=int(row.n_reviewers))
    return out
