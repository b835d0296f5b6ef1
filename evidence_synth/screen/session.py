"""A screening session on one review, one stage and one reviewer.

:class:`Screening` shows the next records as HTML cards (highlighted rule matches, tags,
relevance score and why), writes every decision to the review store at once (so a
crashed kernel loses nothing), tracks progress, asks the stopping rule whether screening
may stop, lists conflicts between reviewers, records adjudications, computes agreement,
and exchanges decisions as CSV with reviewers who screen elsewhere.

Decisions are events (DESIGN §3): a changed mind is a new event and the latest event of
each reviewer counts. Blind screening: a reviewer's queue, ranking and cards use only
their own decisions and never show anyone else's.

The session is composed of one mixin per section, each in its own module: ``_queue`` (the
ranked queue and random sampling), ``_refit`` (ranking and background refits),
``_cards`` (cards and explanations), ``_progress`` (progress and stopping),
``_dual_review`` (adjudication, conflicts, agreement) and ``_exchange`` (CSV export and
import). Which decision counts is decided in :mod:`evidence_synth.screen.policy`. This
module holds the session's data (pool, rule hits, events), automatic exclusions and
deciding.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import columns as C  # noqa: N812
from ..errors import ProtocolError, StoreError
from ..store import STAGE_DECISIONS
from . import policy
from ._cards import Cards, CardsMixin
from ._dual_review import DualReviewMixin
from ._exchange import ExchangeMixin
from ._groups import on_groups, representatives
from ._progress import Progress, ProgressMixin
from ._queue import QueueMixin
from ._refit import RefitMixin
from .criteria import Criteria, load_criteria
from .policy import RELEVANT as RELEVANT
from .ranking import ScreeningRanker
from .rules import RuleHits, RuleSet, apply_rules, load_rules
from .stopping_methods import stopping_rule_from_protocol

if TYPE_CHECKING:
    from ..store import Review

__all__ = ["Cards", "Progress", "Screening"]


class Screening(QueueMixin, RefitMixin, CardsMixin, ProgressMixin, DualReviewMixin,
                ExchangeMixin):
    """Screen one stage of a review as one reviewer.

    Parameters
    ----------
    review : Review
        The review store (:func:`evidence_synth.open_review`).
    stage : {"title_abstract", "retrieval", "full_text"}
    reviewer : str
        Who screens in this session; decisions are written under this name.
    ranker : ScreeningRanker or False, optional
        Orders the queue; default ``ScreeningRanker(query=<criteria text>,
        random_state=random_state)``, or none when the protocol's
        ``screening.prioritisation`` is ``"none"`` or the protocol's stage says
        ``automation_allowed: false`` (then import order, not even rule order).
        ``False`` keeps import order (rule order with rules).
    rules : RuleSet or path, optional
        Highlighting, tags and (with ``criteria``) auto-exclusions.
    criteria : Criteria or path, optional
        Reason codes offered and checked, criteria text for the cold start, and the
        auto-exclusions the criteria allow.
    stopping : stopping rule or False, optional
        Default: the rule of the review protocol's ``screening.stopping_rule``
        (:func:`~evidence_synth.screen.stopping_methods.stopping_rule_from_protocol`), or
        :func:`~evidence_synth.screen.stopping_methods.default_stopping_rule` without one;
        none at a stage whose protocol entry says ``automation_allowed: false``.
        ``False`` (or the protocol method ``none``): no rule, screen every record.
    blind : bool, default True
        The reviewer's ranking and cards use only their own decisions.
    retrain_every : int, default 10
        Refit the ranker after this many new decisions (a notebook never waits for a
        refit after every click).
    background : bool or "auto", default "auto"
        Refit in a background thread and keep showing the current ranking meanwhile;
        ``"auto"``: for pools of more than 2,000 records. A refit started at one
        retraining point is applied at the next (waited for there if not done), so the
        queue still depends only on the decisions, but it trails the synchronous queue
        by one retraining step: ``background=True`` and ``background=False`` give
        different (each reproducible) orders. The trade is click speed (no wait for a
        refit) against matching the order of :func:`~evidence_synth.screen.simulate`
        and the command line, which never refit in the background; pass
        ``background=False`` for that.
    random_state : int, default 0
        Seed of the default ranker and of random sampling when the stopping rule asks
        for it.

    Notes
    -----
    With dual screening (the protocol stage's ``reviewers_per_record`` > 1) each
    reviewer's queue offers first the records other reviewers have decided that still
    need more decisions, then the records nobody has decided, then records that already
    have enough decisions; each group in the reviewer's own ranked order (see
    :meth:`queue`).
    """

    def __init__(
        self,
        review: Review,
        stage: str = "title_abstract",
        *,
        reviewer: str,
        ranker: Any = None,
        rules: RuleSet | str | os.PathLike[str] | None = None,
        criteria: Criteria | str | os.PathLike[str] | None = None,
        stopping: Any = None,
        blind: bool = True,
        retrain_every: int = 10,
        background: bool | str = "auto",
        random_state: int = 0,
    ) -> None:
        if stage not in STAGE_DECISIONS:
            raise StoreError(f"stage must be one of {', '.join(STAGE_DECISIONS)}, got {stage!r}")
        if not isinstance(reviewer, str) or not reviewer.strip():
            raise StoreError(f"reviewer (who screens) is required, got {reviewer!r}")
        self.review = review
        self.stage = stage
        self.reviewer = reviewer
        self.rules = load_rules(rules) if isinstance(rules, str | os.PathLike) else rules
        self.criteria = (load_criteria(criteria) if isinstance(criteria, str | os.PathLike)
                         else criteria)
        self._protocol = review.protocol
        self._stage_row: Any = None
        screening = self._protocol_screening()
        if ranker is None and screening.get("prioritisation") != "none" and self._automation:
            query = None
            if self.criteria is not None and stage in self.criteria.stages:
                query = self.criteria.text(stage)
            ranker = ScreeningRanker(query=query, random_state=random_state)
        self.ranker = ranker or None
        self._stopping_given = stopping is not None
        self.stopping = (stopping or None) if self._stopping_given else self._protocol_rule()
        self.blind = blind
        self.retrain_every = int(retrain_every)
        self.background = background
        self._refit: tuple[threading.Thread, dict[str, Any]] | None = None
        self._seed = int(random_state)
        self._records: pd.DataFrame | None = None
        self._stand_for: dict[str, str] | None = None
        self._events: tuple[int, pd.DataFrame] | None = None
        self._synced = self._store_version()
        self._eligible_memo: tuple[Any, pd.DataFrame] | None = None
        self._hits: RuleHits | None = None
        self._ranking: pd.DataFrame | None = None
        self._ranked_with = -1
        self._ranked_classes = -1
        self._random_scan: tuple[np.ndarray, int | None] = (np.zeros(0, dtype=int), None)

    def __repr__(self) -> str:
        return (f"Screening({self.review!r}, stage={self.stage!r}, reviewer={self.reviewer!r}, "
                f"blind={self.blind})")

    # -- data -------------------------------------------------------------------------------
    @property
    def decisions_allowed(self) -> tuple[str, ...]:
        """Decisions a reviewer may record at this stage (the protocol's, when stored)."""
        allowed = STAGE_DECISIONS[self.stage]
        row = self._protocol_stage()
        if row is not None:
            allowed = tuple(d for d in allowed if d in set(row["decisions"]))
        return allowed

    @property
    def reasons(self) -> pd.DataFrame:
        """Exclusion reasons of this stage (``code, label, description, shortcut``)."""
        if self.criteria is None:
            return pd.DataFrame(columns=["code", "label", "description", "shortcut"])
        return self.criteria.reasons(self.stage)

    def records(self) -> pd.DataFrame:
        """The records of this stage's pool (records contract), auto-excluded ones included.

        Title/abstract: every record except those of the previous version of the review
        and, after deduplication, except non-primary duplicates and records linked to the
        previous version. Later stages: records that passed the previous stage (its
        resolved decision: adjudication, rule, or the agreeing reviewers); after
        title/abstract screening also unresolved conflicts in which any reviewer included
        the record or marked it maybe.
        """
        if self._records is None:
            self._records = self._pool()
        return self._records

    @property
    def _automation(self) -> bool:
        """Whether the protocol lets this stage use automation: ``automation_allowed:
        false`` means no ranking model, no rule ordering and no stopping rule, unless
        passed explicitly."""
        row = self._protocol_stage()
        return row is None or bool(row["automation_allowed"])

    def _protocol_rule(self) -> Any:
        """The stopping rule of the protocol's ``screening.stopping_rule`` (None where the
        stage allows no automation)."""
        return stopping_rule_from_protocol(self._protocol) if self._automation else None

    def _sync(self) -> None:
        """Forget the pool when records, a deduplication run or a protocol version were
        added since it was read (an import in another notebook: open sessions see it)."""
        key = self._store_version()
        if key != self._synced:
            self.refresh()
            self._synced = key

    def _store_version(self) -> tuple[int, ...]:
        return tuple(self.review.count(t) for t in ("records", "dedup_runs", "protocols"))

    def refresh(self) -> None:
        """Forget cached records, rule hits, ranking and protocol (done by itself when
        records, a deduplication run or a protocol version were added to the store)."""
        self._records = self._hits = self._ranking = self._refit = self._stand_for = None
        self._events = self._eligible_memo = None
        self._protocol, self._stage_row = self.review.protocol, None
        if not self._stopping_given:  # the protocol's rule: follow a new protocol version
            self.stopping = self._protocol_rule()
            self._random_scan = (np.zeros(0, dtype=int), None)
        self._ranked_with = -1

    def _pool(self) -> pd.DataFrame:
        records = self.review.records()
        sources = self.review.sources()
        previous = set(sources.loc[sources["kind"] == "previous_version", "source_id"])
        is_previous = records[C.SOURCE_ID].isin(previous)
        groups = self.review.duplicate_groups()
        stand_for = self._stand_for = self._representatives(groups)
        if self.stage == "title_abstract":
            keep = ~is_previous
            if len(groups):
                prev_ids = set(records.loc[is_previous, C.RECORD_ID])
                linked = set(groups.loc[groups["record_id"].isin(prev_ids), "group_id"])
                ids = records[C.RECORD_ID].astype(str)
                keep &= ids.map(stand_for).fillna(ids) == ids
                keep &= ~ids.isin(set(groups.loc[groups["group_id"].isin(linked), "record_id"]))
            return records[keep].reset_index(drop=True)
        previous_stage = policy.PREVIOUS_STAGE[self.stage]
        passed = policy.passing(self._decisions(previous_stage), stage=previous_stage)
        return records[records[C.RECORD_ID].isin(passed)].reset_index(drop=True)

    def _decisions(self, stage: str | None, reviewer: str | None = None) -> pd.DataFrame:
        """Decision events of a stage, each on the record that stands for its duplicate
        group in this session (see :mod:`~evidence_synth.screen._groups`)."""
        events = self._all_events()
        if self._stand_for is None:
            self._stand_for = self._representatives(self.review.duplicate_groups())
        keep = np.ones(len(events), dtype=bool)
        if stage is not None:
            keep &= (events["stage"] == stage).to_numpy()
        if reviewer is not None:
            keep &= (events["reviewer"] == reviewer).to_numpy()
        return on_groups(events[keep], self._stand_for)

    def _representatives(self, groups: pd.DataFrame) -> dict[str, str]:
        """Record id -> the record standing for its duplicate group, from the groups of the
        latest deduplication run and the title/abstract decisions."""
        events = self._all_events()
        return representatives(groups, events[events["stage"] == "title_abstract"])

    def _all_events(self) -> pd.DataFrame:
        """Every decision event of the review, read again only when the store has new ones
        (events are append-only, so their number is their version)."""
        n = self.review.count("decision_events")
        if self._events is None or self._events[0] != n:
            self._events = (n, self.review.decisions())
        return self._events[1]

    def hits(self) -> RuleHits | None:
        """Rule hits of the pool (``None`` without rules)."""
        if self.rules is None:
            return None
        if self._hits is None:
            self._hits = apply_rules(self.records(), self.rules, criteria=self.criteria,
                                     stage=self.stage)
        return self._hits

    def events(self, *, reviewer: str | None = None) -> pd.DataFrame:
        """Decision events of this stage, oldest first (see :meth:`Review.decisions`).

        An event on a duplicate of a pool record is shown on the pool record: after a
        search update and a new deduplication run, the decisions made on a group's
        earlier member count for the group, as in the PRISMA counts.

        Parameters
        ----------
        reviewer : str, optional
            Only this reviewer's events. Default: every reviewer's; in a blind session
            this reviewer's events and the automatic ones (rule exclusions, records
            closed at a stop), never another reviewer's.

        Raises
        ------
        StoreError
            In a blind session, for another reviewer's events (naming this reviewer).
        """
        if self.blind:
            if reviewer is not None and reviewer != self.reviewer:
                self._refuse_blind(f"events(reviewer={reviewer!r})")
            events = self._decisions(self.stage)
            return events[(events["reviewer"] == self.reviewer)
                          | (events["actor"] != "human")].reset_index(drop=True)
        return self._decisions(self.stage, reviewer)

    def _refuse_blind(self, what: str) -> None:
        """A blind reviewer never sees another reviewer's decisions."""
        raise StoreError(
            f"{self.reviewer} screens {self.stage} blind: {what} would show other "
            "reviewers' decisions. Whoever may see them (the lead, the adjudicator) opens "
            f"a session with blind=False, e.g. Screening(review, {self.stage!r}, "
            "reviewer='lead', blind=False)")

    def my_decisions(self) -> pd.DataFrame:
        """This reviewer's latest screening decision per record, in the order first made.

        Returns
        -------
        pandas.DataFrame
            Columns of :meth:`Review.decisions`.
        """
        events = policy.human_screening(self.events(reviewer=self.reviewer))
        order = events.drop_duplicates("record_id", keep="first")["record_id"]
        latest = events.drop_duplicates("record_id", keep="last").set_index("record_id")
        return latest.loc[order].reset_index()

    def latest(self, stage: str | None = None) -> pd.DataFrame:
        """Every reviewer's latest human screening decision per record.

        In a blind session only this reviewer's (as :meth:`my_decisions`, with
        adjudications this reviewer made).

        Returns
        -------
        pandas.DataFrame
            Columns of :meth:`Review.decisions`, one row per (record, reviewer).
        """
        reviewer = self.reviewer if self.blind else None
        return policy.latest_decisions(self._decisions(stage or self.stage, reviewer))

    def resolved(self, stage: str | None = None) -> pd.DataFrame:
        """The decision that counts per record at a stage.

        An adjudication wins; otherwise the reviewers' latest decisions when they agree
        (include and maybe agree at title/abstract); otherwise, when no reviewer decided,
        an automatic exclusion (by the criteria's rules or at a stop). Records on which
        reviewers disagree and that were not adjudicated are left out (see
        :meth:`conflicts`). The one definition is :mod:`evidence_synth.screen.policy`,
        which the PRISMA counts use too.

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, decision, reason, by`` (``adjudication``, ``agreement``,
            ``rule`` or ``model``).

        Raises
        ------
        StoreError
            In a blind session: the decision that counts comes from every reviewer's.
        """
        if self.blind:
            self._refuse_blind("resolved()")
        return policy.resolved(self._decisions(stage or self.stage),
                               reason_order=policy.reason_order(self._protocol))

    # -- automation ----------------------------------------------------------------------
    def apply_auto_exclusions(self, *, reviewer: str | None = None) -> pd.DataFrame:
        """Write the exclusions the criteria allow a tool to make, as ``actor="rule"`` events.

        Only records that have no rule event at this stage yet are written, so calling it
        again is harmless. Refused when the review's protocol forbids auto-exclusion at
        this stage.

        Parameters
        ----------
        reviewer : str, optional
            Name recorded for the automation (default ``"rules:<rules file name>"``).

        Returns
        -------
        pandas.DataFrame
            The exclusions written: ``record_id, reason, by, event_id``.
        """
        if self.rules is None or self.criteria is None:
            raise ProtocolError("apply_auto_exclusions needs both rules and criteria")
        self._check_protocol_allows_auto_exclusion()
        hits = self.hits()
        assert hits is not None
        todo = hits.auto_excluded()
        done = set(self._decisions(self.stage).query("actor == 'rule'")["record_id"])
        todo = todo[~todo["record_id"].isin(done)].reset_index(drop=True)
        name = reviewer or f"rules:{self.rules.path.name if self.rules.path else 'rules'}"
        ids = self.review.add_decisions([
            {"record_id": r.record_id, "stage": self.stage, "decision": "exclude",
             "reviewer": name, "reason": r.reason, "note": f"auto-excluded by {r.by}",
             "actor": "rule"}
            for r in todo.itertuples(index=False)
        ]) if len(todo) else []
        self._ranking = None
        return todo.assign(event_id=pd.array(ids, dtype="Int64"))

    def close_at_stop(self) -> pd.DataFrame:
        """Exclude the records nobody has screened, once the stopping rule says stop.

        Every record of the pool left after automatic exclusions that has no decision
        at this stage gets one exclusion event: ``actor="model"``, reviewer
        ``"stopping rule"``, and the stopping rule's report (rule, records screened,
        estimated recall and its confidence) as its note. PRISMA counts them among the
        screened records as *excluded by automation tools*, with the report attached
        (:attr:`PrismaCounts.stopping_reports`). A reviewer who screens such a record
        later overrides the exclusion (see :mod:`~evidence_synth.screen.policy`).

        Raises
        ------
        StoreError
            When the stopping rule (on this reviewer's decisions) does not say stop yet,
            or the session has no stopping rule.
        ProtocolError
            When the review's protocol does not allow automatic exclusion at this stage.

        Returns
        -------
        pandas.DataFrame
            The records closed: ``record_id, event_id``.
        """
        if self.stopping is None:
            raise StoreError("close_at_stop needs a stopping rule; this session has none")
        self._check_protocol_allows_auto_exclusion()
        decision = self.stop_check(report=False)
        if not decision.stop:
            raise StoreError(
                f"the stopping rule does not say stop yet for {self.reviewer} at "
                f"{self.stage}: "
                + "; ".join(line.strip() for line in decision.report().splitlines()))
        decided = set(self._decisions(self.stage)["record_id"])
        todo = [r for r in self._eligible()[C.RECORD_ID].astype(str) if r not in decided]
        note = f"closed at the stop by {self.reviewer}:\n{decision.report()}"
        ids = self.review.add_decisions([
            {"record_id": r, "stage": self.stage, "decision": "exclude",
             "reviewer": policy.STOPPING_REVIEWER, "note": note, "actor": "model"}
            for r in todo
        ]) if todo else []
        self._ranking = None
        return pd.DataFrame({"record_id": pd.array(todo, dtype="string"),
                             "event_id": pd.array(ids, dtype="Int64")})

    def _protocol_screening(self) -> dict[str, Any]:
        data = self._protocol.to_dict() if self._protocol is not None else {}
        return dict(data.get("screening") or {})

    @property
    def reviewers_per_record(self) -> int:
        """Independent reviewers each record needs at this stage (the protocol's; else 1)."""
        row = self._protocol_stage()
        if row is None or pd.isna(row["reviewers_per_record"]):
            return 1
        return int(row["reviewers_per_record"])

    def _protocol_stage(self) -> pd.Series | None:
        if self._stage_row is None:
            protocol = self._protocol
            stages = protocol.stages_frame() if protocol is not None else None
            row = (stages[stages["stage_id"] == self.stage] if stages is not None
                   else pd.DataFrame())
            self._stage_row = row.iloc[0] if len(row) else False
        return self._stage_row if self._stage_row is not False else None

    def _check_protocol_allows_auto_exclusion(self) -> None:
        row = self._protocol_stage()
        if row is not None and not bool(row["auto_exclude"]):
            raise ProtocolError(
                f"the review's protocol does not allow automatic exclusion at stage "
                f"{self.stage!r} (stages[].auto_exclude is false)"
            )

    # -- deciding -----------------------------------------------------------------------------
    def decide(
        self,
        record_id: str,
        decision: str,
        *,
        reviewer: str | None = None,
        reason: str | None = None,
        note: str | None = None,
    ) -> int:
        """Write one decision event at once.

        Parameters
        ----------
        record_id : str
        decision : str
            ``include``/``exclude``/``maybe`` (retrieval: ``retrieved``/``not_retrieved``).
        reviewer : str, optional
            Defaults to the session's reviewer.
        reason : str, optional
            Exclusion reason code; must be one of the criteria's codes for this stage.
        note : str, optional

        Returns
        -------
        int
            The event id.

        Raises
        ------
        StoreError
            Naming the record and the reviewer: a decision or reason the stage does not
            allow, a full-text exclusion without a reason (when the criteria list
            reasons), or a record outside this stage's pool (at full text, say, a record
            that did not pass retrieval).
        """
        who = reviewer or self.reviewer
        self._check_decision(record_id, decision, reason, who)
        return self.review.add_decision(record_id, self.stage, decision, reviewer=who,
                                        reason=reason, note=note)

    def _check_decision(self, record_id: str, decision: str, reason: str | None,
                        reviewer: str, *, kind: str = "screen") -> None:
        problem = (self._decision_problem(decision, reason)
                   or self._record_problem(record_id, kind, self._pool_ids()))
        if problem:
            raise StoreError(f"record {record_id} ({reviewer}): {problem}")

    def _pool_ids(self) -> set[str]:
        """Ids a decision at this stage may name: the pool and the pool's duplicates."""
        self._sync()
        ids = set(self.records()[C.RECORD_ID].astype(str))
        assert self._stand_for is not None  # set with the pool
        return ids | {r for r, rep in self._stand_for.items() if rep in ids}

    def _record_problem(self, record_id: str, kind: str, pool: set[str],
                        screened: set[str] = frozenset()) -> str | None:
        """What is wrong with deciding this record here (``screened``: records with a
        reviewer's decision not yet in the store, from the same file)."""
        if record_id not in pool:
            if record_id not in set(self.review.records()[C.RECORD_ID].astype(str)):
                return f"unknown record_id {record_id!r}"
            if self.stage == "title_abstract":
                return ("not in the title_abstract pool (records of the previous version "
                        "and their duplicates are not screened)")
            previous = policy.PREVIOUS_STAGE[self.stage]
            return (f"not in the {self.stage} pool: only records that passed {previous} "
                    f"are screened at {self.stage}")
        if kind == "adjudication" and record_id not in screened:
            latest = policy.latest_decisions(self._decisions(self.stage))
            if not (latest["record_id"].astype(str) == self._stand_for.get(record_id, record_id)
                    ).any():
                return (f"no reviewer has screened it at {self.stage}; an adjudication "
                        "resolves the reviewers' decisions")
        return None

    def _decision_problem(self, decision: Any, reason: Any) -> str | None:
        if decision not in self.decisions_allowed:
            return (f"decision at {self.stage} must be one of "
                    f"{', '.join(self.decisions_allowed)}, got {decision!r}")
        codes = self.criteria.reason_codes(self.stage) if self.criteria is not None else ()
        if decision == "exclude" and not reason and codes and self.stage == "full_text":
            return (f"a full_text exclusion needs a reason (one of {', '.join(codes)}): "
                    "PRISMA reports full-text exclusions by reason")
        if reason and codes and reason not in codes:
            return (f"reason must be one of the criteria's codes for {self.stage} "
                    f"({', '.join(codes)}), got {reason!r}")
        return None
