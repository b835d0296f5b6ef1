"""A screening session on one review, one stage and one reviewer.

:class:`Screening` shows the next records as HTML cards (highlighted rule matches, tags,
relevance score and why), writes every decision to the review store at once (so a
crashed kernel loses nothing), tracks progress, asks the stopping rule whether screening
may stop, lists conflicts between reviewers, records adjudications, computes agreement,
and exchanges decisions as CSV with reviewers who screen elsewhere.

Decisions are events (DESIGN §3): a changed mind is a new event and the latest event of
each reviewer counts. Blind screening: a reviewer's queue, ranking and cards use only
their own decisions and never show anyone else's.
"""

from __future__ import annotations

import csv
import html
import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from .. import columns as C  # noqa: N812
from ..errors import ParseError, ProtocolError, StoreError
from ..store import STAGE_DECISIONS
from .agreement import screening_agreement
from .criteria import Criteria, load_criteria
from .ranking import ScreeningRanker
from .rules import RuleHits, RuleSet, apply_rules, highlight_html, load_rules
from .stopping import ScreeningState, StopDecision, default_stopping_rule

if TYPE_CHECKING:
    from ..store import Review

__all__ = ["Cards", "Progress", "Screening"]

#: Decision -> relevance label used for ranking and stopping.
RELEVANT = {"include": 1, "maybe": 1, "exclude": 0, "retrieved": 1, "not_retrieved": 0}
#: What lets a record into the next stage.
_PASSES = {"title_abstract": ("include", "maybe"), "retrieval": ("retrieved",)}
_PREVIOUS = {"retrieval": "title_abstract", "full_text": "retrieval"}
#: Pools larger than this refit the ranker in a background thread (``background="auto"``).
_BACKGROUND_FROM = 2000
_EXPORT_COLUMNS = ["record_id", "stage", "decision", "reason", "note", "reviewer", "actor",
                   "kind", "created_at", "title"]


@dataclass
class Progress:
    """Where a reviewer stands in a stage (returned by :meth:`Screening.progress`)."""

    stage: str
    reviewer: str
    n_records: int
    n_auto_excluded: int
    n_screened: int
    n_included: int
    n_excluded: int
    n_maybe: int
    n_conflicts: int
    estimated_recall: float | None = None
    confidence: float | None = None
    stop: bool = False

    @property
    def n_remaining(self) -> int:
        """Records in the pool this reviewer has not decided."""
        return self.n_records - self.n_screened

    @property
    def fraction(self) -> float:
        """Share of the pool this reviewer has decided."""
        return self.n_screened / self.n_records if self.n_records else 1.0

    def to_frame(self) -> pd.DataFrame:
        """One row: ``stage, reviewer, n_records, n_auto_excluded, n_screened, n_included,
        n_excluded, n_maybe, n_remaining, n_conflicts, estimated_recall, confidence,
        stop``."""
        row = {k: getattr(self, k) for k in (
            "stage", "reviewer", "n_records", "n_auto_excluded", "n_screened", "n_included",
            "n_excluded", "n_maybe", "n_remaining", "n_conflicts", "estimated_recall",
            "confidence", "stop")}
        return pd.DataFrame([row])

    def summary(self) -> str:
        """One line for humans."""
        text = (f"{self.reviewer} at {self.stage}: {self.n_screened} of {self.n_records} "
                f"screened ({100 * self.fraction:.0f}%), {self.n_included} include, "
                f"{self.n_maybe} maybe, {self.n_excluded} exclude; "
                f"{self.n_auto_excluded} excluded by rules; {self.n_conflicts} conflicts")
        if self.estimated_recall is not None:
            text += (f"; estimated recall >= {self.estimated_recall:.2f} "
                     f"({100 * (self.confidence or 0):.0f}% confidence)")
        if self.stop:
            text += "; the stopping rule says stop"
        return text

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"


@dataclass
class Cards:
    """The next records to screen, as HTML cards (returned by :meth:`Screening.next`)."""

    cards: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.cards)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.cards)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return self.cards[i]

    def __repr__(self) -> str:
        lines = [f"Cards({len(self.cards)} records)"]
        lines += [f"  #{c['rank']} {c['record_id']} ({c['score']:.3g}): {c['title'][:70]}"
                  for c in self.cards]
        return "\n".join(lines)

    @property
    def record_ids(self) -> list[str]:
        """Record ids of the cards, in order."""
        return [c["record_id"] for c in self.cards]

    def to_frame(self) -> pd.DataFrame:
        """One row per card.

        Returns
        -------
        pandas.DataFrame
            Columns ``rank, record_id, score, source, title, year, tags, rules, why``
            (``tags`` and ``rules`` lists of str, ``why`` a short text).
        """
        cols = ["rank", "record_id", "score", "source", "title", "year", "tags", "rules", "why"]
        return pd.DataFrame([{c: card.get(c) for c in cols} for card in self.cards],
                            columns=cols)

    def summary(self) -> str:
        """One line per card: rank, record id, score, title."""
        return repr(self)

    def _repr_html_(self) -> str:
        if not self.cards:
            return "<p>No records left to screen.</p>"
        return "\n".join(card["html"] for card in self.cards)


class Screening:
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
        random_state=0)``. ``False`` keeps import order.
    rules : RuleSet or path, optional
        Highlighting, tags and (with ``criteria``) auto-exclusions.
    criteria : Criteria or path, optional
        Reason codes offered and checked, criteria text for the cold start, and the
        auto-exclusions the criteria allow.
    stopping : stopping rule, optional
        Default :func:`~evidence_synth.screen.stopping.default_stopping_rule`
        (hypergeometric test, 95% recall at 95% confidence).
    blind : bool, default True
        The reviewer's ranking and cards use only their own decisions.
    retrain_every : int, default 10
        Refit the ranker after this many new decisions (a notebook never waits for a
        refit after every click).
    background : bool or "auto", default "auto"
        Refit in a background thread and keep showing the current ranking until the new
        one is ready; ``"auto"``: for pools of more than 2,000 records.
    random_state : int, default 0
        Seed for random sampling when the stopping rule asks for it.
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
        if ranker is None:
            query = None
            if self.criteria is not None and stage in self.criteria.stages:
                query = self.criteria.text(stage)
            ranker = ScreeningRanker(query=query, random_state=0)
        self.ranker = ranker or None
        self.stopping = stopping if stopping is not None else default_stopping_rule()
        self.blind = blind
        self.retrain_every = int(retrain_every)
        self.background = background
        self._refit: tuple[threading.Thread, dict[str, Any]] | None = None
        self._rng = np.random.default_rng(random_state)
        self._records: pd.DataFrame | None = None
        self._hits: RuleHits | None = None
        self._ranking: pd.DataFrame | None = None
        self._ranked_with = -1
        self._ranked_classes = -1
        self._random_from: int | None = None
        self._stage_row: Any = None

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

    def refresh(self) -> None:
        """Forget cached records, rule hits and ranking (after new imports or dedup runs)."""
        self._records = self._hits = self._ranking = self._refit = None
        self._ranked_with = -1

    def _pool(self) -> pd.DataFrame:
        records = self.review.records()
        sources = self.review.sources()
        previous = set(sources.loc[sources["kind"] == "previous_version", "source_id"])
        is_previous = records[C.SOURCE_ID].isin(previous)
        if self.stage == "title_abstract":
            groups = self.review.duplicate_groups()
            keep = ~is_previous
            if len(groups):
                prev_ids = set(records.loc[is_previous, C.RECORD_ID])
                linked = set(groups.loc[groups["record_id"].isin(prev_ids), "group_id"])
                drop = groups.loc[~groups["is_primary"].astype(bool)
                                  | groups["group_id"].isin(linked), "record_id"]
                keep &= ~records[C.RECORD_ID].isin(set(drop))
            return records[keep].reset_index(drop=True)
        previous_stage = _PREVIOUS[self.stage]
        resolved = self.resolved(previous_stage)
        passed = set(resolved.loc[resolved["decision"].isin(_PASSES[previous_stage]),
                                  "record_id"])
        if previous_stage == "title_abstract":
            # Unresolved conflicts go on when any reviewer included or marked maybe.
            latest = self.latest(previous_stage)
            latest = latest[~latest["record_id"].isin(set(resolved["record_id"]))]
            passed |= set(latest.loc[latest["decision"].isin(_PASSES[previous_stage]),
                                     "record_id"])
        return records[records[C.RECORD_ID].isin(passed)].reset_index(drop=True)

    def hits(self) -> RuleHits | None:
        """Rule hits of the pool (``None`` without rules)."""
        if self.rules is None:
            return None
        if self._hits is None:
            self._hits = apply_rules(self.records(), self.rules, criteria=self.criteria,
                                     stage=self.stage)
        return self._hits

    def events(self, *, reviewer: str | None = None) -> pd.DataFrame:
        """Decision events of this stage, oldest first (see :meth:`Review.decisions`)."""
        return self.review.decisions(stage=self.stage, reviewer=reviewer)

    def my_decisions(self) -> pd.DataFrame:
        """This reviewer's latest screening decision per record, in the order first made.

        Returns
        -------
        pandas.DataFrame
            Columns of :meth:`Review.decisions`.
        """
        events = self.events(reviewer=self.reviewer)
        events = events[(events["kind"] == "screen") & (events["actor"] == "human")]
        order = events.drop_duplicates("record_id", keep="first")["record_id"]
        latest = events.drop_duplicates("record_id", keep="last").set_index("record_id")
        return latest.loc[order].reset_index()

    def latest(self, stage: str | None = None) -> pd.DataFrame:
        """Every reviewer's latest human screening decision per record.

        Returns
        -------
        pandas.DataFrame
            Columns of :meth:`Review.decisions`, one row per (record, reviewer).
        """
        events = self.review.decisions(stage=stage or self.stage)
        events = events[(events["kind"] == "screen") & (events["actor"] == "human")]
        return events.drop_duplicates(["record_id", "reviewer"], keep="last").reset_index(
            drop=True)

    def resolved(self, stage: str | None = None) -> pd.DataFrame:
        """The decision that counts per record at a stage.

        An adjudication wins; otherwise an automatic (rule) exclusion; otherwise the
        reviewers' latest decisions when they agree. Records on which reviewers disagree
        and that were not adjudicated are left out (see :meth:`conflicts`).

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, decision, reason, by`` (``adjudication``, ``rule`` or
            ``agreement``).
        """
        stage = stage or self.stage
        events = self.review.decisions(stage=stage)
        cols = ["record_id", "decision", "reason", "by"]
        if not len(events):
            return pd.DataFrame(columns=cols)
        adj = events[events["kind"] == "adjudication"].drop_duplicates("record_id", keep="last")
        rule = events[events["actor"] == "rule"].drop_duplicates("record_id", keep="last")
        human = self.latest(stage)
        agreed = human.groupby("record_id").filter(lambda g: g["decision"].nunique() == 1)
        agreed = agreed.drop_duplicates("record_id", keep="last")
        parts = [adj.assign(by="adjudication"), rule.assign(by="rule"),
                 agreed.assign(by="agreement")]
        out = pd.concat([p[cols] for p in parts if len(p)], ignore_index=True)
        return out.drop_duplicates("record_id", keep="first").reset_index(drop=True)

    def _auto_excluded_ids(self) -> set[str]:
        events = self.events()
        return set(events.loc[(events["actor"] == "rule") & (events["decision"] == "exclude"),
                              "record_id"])

    def _eligible(self) -> pd.DataFrame:
        records = self.records()
        return records[~records[C.RECORD_ID].isin(self._auto_excluded_ids())]

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
        done = set(self.events().query("actor == 'rule'")["record_id"])
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

    def _protocol_stage(self) -> pd.Series | None:
        if self._stage_row is None:
            protocol = self.review.protocol
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

    # -- queue ----------------------------------------------------------------------------
    def _labels(self) -> dict[str, int]:
        if self.blind:
            mine = self.my_decisions()
            return {r: RELEVANT[d] for r, d in zip(mine["record_id"], mine["decision"],
                                                    strict=True)}
        resolved = self.resolved()
        resolved = resolved[resolved["by"] != "rule"]
        return {r: RELEVANT[d] for r, d in zip(resolved["record_id"], resolved["decision"],
                                                strict=True)}

    def _seed_scores(self, records: pd.DataFrame) -> np.ndarray | None:
        hits = self.hits()
        if hits is None:
            return None
        score = hits.to_frame().set_index("record_id")["score"]
        return records[C.RECORD_ID].map(score).fillna(0).to_numpy(dtype=float)

    def _rank(self, force: bool = False) -> pd.DataFrame:
        """The eligible records not yet decided by this reviewer, best first."""
        eligible = self._eligible()
        mine = set(self.my_decisions()["record_id"])
        labels = self._labels()
        classes = len(set(labels.values()))
        self._collect_refit()
        stale = (self._ranking is None or force or classes != self._ranked_classes
                 or len(labels) - self._ranked_with >= self.retrain_every)
        if stale:
            self._ranked_with, self._ranked_classes = len(labels), classes
            if self._ranking is not None and not force and self._use_background(eligible):
                self._start_refit(eligible, labels, mine)
            else:
                self._ranking, self.ranker = self._compute_ranking(
                    eligible, labels, mine, self.ranker)
        ids = set(eligible[C.RECORD_ID].astype(str))
        queue = self._ranking[~self._ranking["record_id"].isin(mine)
                              & self._ranking["record_id"].isin(ids)]
        return queue.reset_index(drop=True)

    def _use_background(self, eligible: pd.DataFrame) -> bool:
        if self.ranker is None:
            return False
        if self.background == "auto":
            return len(eligible) > _BACKGROUND_FROM
        return bool(self.background)

    def _compute_ranking(self, eligible: pd.DataFrame, labels: Mapping[str, int],
                         mine: set[str], ranker: Any) -> tuple[pd.DataFrame, Any]:
        if ranker is None or not len(eligible):
            seed = self._seed_scores(eligible)
            ranking = pd.DataFrame({
                "record_id": eligible[C.RECORD_ID].astype(str).to_numpy(),
                "score": seed if seed is not None else np.zeros(len(eligible)),
                "source": "rules" if seed is not None else "import_order",
            })
            if seed is not None:
                ranking = ranking.sort_values("score", ascending=False, kind="stable")
            return ranking.reset_index(drop=True), ranker
        frame = eligible.assign(record_id=eligible[C.RECORD_ID].astype(str))
        ids = set(frame[C.RECORD_ID])
        known = {k: v for k, v in labels.items() if k in ids}
        ranking = ranker.rank(frame, known, seed_scores=self._seed_scores(frame))
        ranking = self._add_others_decided(ranking, frame, mine, ranker)
        return ranking.reset_index(drop=True), ranker

    def _start_refit(self, eligible: pd.DataFrame, labels: Mapping[str, int],
                     mine: set[str]) -> None:
        # Refit a clone in a thread and keep serving the current ranking until it is done,
        # so a reviewer never waits for the model (the swap happens on a later call).
        if self._refit is not None and self._refit[0].is_alive():
            return
        box: dict[str, Any] = {}
        ranker = clone(self.ranker)

        def work() -> None:
            try:
                box["result"] = self._compute_ranking(eligible, dict(labels), set(mine), ranker)
            except Exception as exc:  # reported on the next call
                box["error"] = exc

        thread = threading.Thread(target=work, name="evidence-synth-refit", daemon=True)
        self._refit = (thread, box)
        thread.start()

    def _collect_refit(self, *, wait: bool = False) -> None:
        if self._refit is None:
            return
        thread, box = self._refit
        if wait:
            thread.join()
        if thread.is_alive():
            return
        self._refit = None
        if "error" in box:
            raise box["error"]
        self._ranking, self.ranker = box["result"]

    def _add_others_decided(self, ranking: pd.DataFrame, frame: pd.DataFrame, mine: set[str],
                            ranker: Any) -> pd.DataFrame:
        # Not blind: records labelled by others' resolved decisions still need this
        # reviewer's decision; score them with the fitted model.
        missing = frame[~frame[C.RECORD_ID].isin(set(ranking["record_id"]) | mine)]
        if not len(missing):
            return ranking
        scores = np.asarray(ranker.decision_function(missing), dtype=float)
        extra = pd.DataFrame({"record_id": missing[C.RECORD_ID].to_numpy(), "score": scores,
                              "source": ranking["source"].iloc[0] if len(ranking) else "model"})
        out = pd.concat([ranking, extra], ignore_index=True)
        return out.sort_values("score", ascending=False, kind="stable")

    def queue(self) -> pd.DataFrame:
        """The whole ranked queue of records this reviewer has not decided.

        Returns
        -------
        pandas.DataFrame
            Columns ``rank, record_id, score, source, title, year, doi, tags, rules`` and
            empty ``decision, reason, note`` columns (fill them in and import the file
            with :meth:`import_decisions`).
        """
        queue = self._rank()
        records = self.records().set_index(C.RECORD_ID)
        hits = self.hits()
        rows = []
        for i, item in enumerate(queue.itertuples(index=False), start=1):
            rec = records.loc[item.record_id]
            rh = hits[item.record_id] if hits is not None else None
            rows.append({
                "rank": i, "record_id": item.record_id, "score": float(item.score),
                "source": item.source, "title": rec[C.TITLE], "year": rec[C.YEAR],
                "doi": rec[C.DOI],
                "tags": "; ".join(rh.tags) if rh else "",
                "rules": "; ".join(rh.rules) if rh else "",
                "decision": "", "reason": "", "note": "",
            })
        cols = ["rank", "record_id", "score", "source", "title", "year", "doi", "tags",
                "rules", "decision", "reason", "note"]
        return pd.DataFrame(rows, columns=cols)

    def next(self, k: int = 1) -> Cards:
        """The next ``k`` records to screen, as cards.

        When the stopping rule asks for a random sample of the unscreened pool (its
        ``sampling`` phase), records are drawn at random instead of from the top.

        Returns
        -------
        Cards
            With ``_repr_html_`` (shown in a notebook) and ``.to_frame()``.
        """
        queue = self._rank()
        if len(queue) and self._sampling():
            pick = self._rng.choice(len(queue), size=min(k, len(queue)), replace=False)
            queue = queue.iloc[np.sort(pick)].assign(source="random_sample")
        return Cards([self._card(row, i) for i, row in
                      enumerate(queue.head(k).itertuples(index=False), start=1)])

    def _sampling(self) -> bool:
        sampling = getattr(self.stopping, "sampling", None)
        if sampling is None:
            return False
        state = self._state()
        if self._random_from is None and sampling(state):
            self._random_from = state.n_screened
        return self._random_from is not None

    def _card(self, item: Any, rank: int) -> dict[str, Any]:
        record = self.records().set_index(C.RECORD_ID).loc[item.record_id]
        hits = self.hits()
        rh = hits[item.record_id] if hits is not None else None
        title, abstract = record[C.TITLE], record[C.ABSTRACT]
        spans = rh.spans if rh else ()
        title_html = highlight_html(_text(title), spans, field="title") or "(no title)"
        abstract_html = (highlight_html(_text(abstract), spans, field="abstract")
                         or "<i>(no abstract)</i>")
        why = self._why(record, rh)
        others = ""
        if not self.blind:
            latest = self.latest()
            latest = latest[(latest["record_id"] == item.record_id)
                            & (latest["reviewer"] != self.reviewer)]
            others = ", ".join(f"{r}: {d}" for r, d in zip(latest["reviewer"],
                                                            latest["decision"], strict=True))
        meta = [f"#{rank}", f"score {float(item.score):.3g} ({item.source})",
                html.escape(str(item.record_id))]
        for col in (C.YEAR, C.JOURNAL):
            if not pd.isna(record[col]):
                meta.append(html.escape(str(record[col])))
        tags = "".join(
            f'<span class="es-tag" style="background:{_tag_colour(t)};border-radius:3px;'
            f'padding:0 4px;margin-right:4px;font-size:0.85em">{html.escape(t)}</span>'
            for t in (rh.tags if rh else ())
        )
        body = (
            f'<div class="es-card" data-record-id="{html.escape(str(item.record_id))}" '
            'style="border:1px solid #ccc;border-radius:6px;padding:8px 12px;margin:6px 0">'
            f'<div style="font-size:0.8em;color:#666">{" · ".join(meta)}</div>'
            f'<div style="font-weight:600;font-size:1.05em;margin:2px 0">{title_html}</div>'
            f'<div style="font-size:0.92em">{abstract_html}</div>'
            + (f'<div style="margin-top:4px">{tags}</div>' if tags else "")
            + (f'<div style="font-size:0.8em;color:#444;margin-top:4px">{html.escape(why)}</div>'
               if why else "")
            + (f'<div style="font-size:0.8em;color:#a00">other reviewers: {html.escape(others)}'
               "</div>" if others else "")
            + "</div>"
        )
        return {
            "rank": rank, "record_id": item.record_id, "score": float(item.score),
            "source": item.source, "title": _text(title), "abstract": _text(abstract),
            "year": record[C.YEAR], "tags": list(rh.tags) if rh else [],
            "rules": list(rh.rules) if rh else [], "why": why, "html": body,
        }

    def _why(self, record: pd.Series, rh: Any) -> str:
        parts = []
        if self.ranker is not None and getattr(self.ranker, "coef_", None) is not None:
            frame = pd.DataFrame({C.TITLE: [_text(record[C.TITLE])],
                                  C.ABSTRACT: [_text(record[C.ABSTRACT])]})
            terms = self.ranker.explain(frame, top=25)
            terms = terms[terms["term"].map(_meaningful)]
            up = terms.loc[terms["direction"] == "for", "term"].head(5).tolist()
            down = terms.loc[terms["direction"] == "against", "term"].head(5).tolist()
            if up:
                parts.append("for: " + ", ".join(map(str, up)))
            if down:
                parts.append("against: " + ", ".join(map(str, down)))
        if rh is not None and rh.rules and self.rules is not None:
            labels = [self.rules[r].label or r for r in rh.rules]
            parts.append("rules: " + "; ".join(labels))
        return " | ".join(parts)

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
        """
        self._check_decision(decision, reason)
        event = self.review.add_decision(record_id, self.stage, decision,
                                         reviewer=reviewer or self.reviewer, reason=reason,
                                         note=note)
        return event

    def _check_decision(self, decision: str, reason: str | None) -> None:
        problem = self._decision_problem(decision, reason)
        if problem:
            raise StoreError(problem)

    def _decision_problem(self, decision: Any, reason: Any) -> str | None:
        if decision not in self.decisions_allowed:
            return (f"decision at {self.stage} must be one of "
                    f"{', '.join(self.decisions_allowed)}, got {decision!r}")
        codes = self.criteria.reason_codes(self.stage) if self.criteria is not None else ()
        if reason and codes and reason not in codes:
            return (f"reason must be one of the criteria's codes for {self.stage} "
                    f"({', '.join(codes)}), got {reason!r}")
        return None

    def adjudicate(
        self,
        record_id: str,
        decision: str,
        *,
        reviewer: str,
        reason: str | None = None,
        note: str | None = None,
    ) -> int:
        """Write the decision that resolves a conflict (``kind="adjudication"``).

        Returns
        -------
        int
            The event id.
        """
        self._check_decision(decision, reason)
        return self.review.add_decision(record_id, self.stage, decision, reviewer=reviewer,
                                        reason=reason, note=note, kind="adjudication")

    # -- progress and stopping --------------------------------------------------------------
    def _state(self) -> ScreeningState:
        eligible = set(self._eligible()[C.RECORD_ID].astype(str))
        mine = self.my_decisions()
        mine = mine[mine["record_id"].isin(eligible)]
        labels = np.array([RELEVANT[d] for d in mine["decision"]], dtype=int)
        return ScreeningState(labels, n_records=max(len(eligible), len(labels)),
                              random_from=self._random_from)

    def stop_check(self, *, report: bool = True) -> StopDecision:
        """Ask the stopping rule whether this reviewer may stop screening this stage.

        The rule sees this reviewer's decisions in the order made (include and maybe
        count as relevant) against the pool left after automatic exclusions.

        Parameters
        ----------
        report : bool, default True
            Print the rule's report (rule, records screened, estimated recall with its
            confidence, what stays unscreened).

        Returns
        -------
        StopDecision
        """
        decision = self.stopping.check(self._state())
        if report:
            print(decision.report())
        return decision

    def progress(self) -> Progress:
        """Counts for this reviewer, with the stopping rule's recall estimate."""
        mine = self.my_decisions()
        eligible = set(self._eligible()[C.RECORD_ID].astype(str))
        mine = mine[mine["record_id"].isin(eligible)]
        counts = mine["decision"].value_counts()
        decision = self.stop_check(report=False) if len(mine) else None
        return Progress(
            stage=self.stage, reviewer=self.reviewer, n_records=len(eligible),
            n_auto_excluded=len(self.records()) - len(eligible), n_screened=len(mine),
            n_included=int(counts.get("include", 0) + counts.get("retrieved", 0)),
            n_excluded=int(counts.get("exclude", 0) + counts.get("not_retrieved", 0)),
            n_maybe=int(counts.get("maybe", 0)),
            n_conflicts=int((~self.conflicts()["adjudicated"]).sum()),
            estimated_recall=None if decision is None else decision.estimated_recall,
            confidence=None if decision is None else decision.confidence,
            stop=bool(decision.stop) if decision is not None else False,
        )

    # -- dual review ----------------------------------------------------------------------------
    def conflicts(self) -> pd.DataFrame:
        """Records on which reviewers' latest decisions disagree.

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, title``, one column per reviewer with their latest
            decision, ``reasons`` (reviewer: reason, ...), ``adjudicated`` (bool) and
            ``adjudication`` (the adjudicated decision or ``<NA>``).
        """
        latest = self.latest()
        split = latest.groupby("record_id")["decision"].nunique()
        ids = split[split > 1].index
        latest = latest[latest["record_id"].isin(ids)]
        reviewers = sorted(latest["reviewer"].unique())
        wide = latest.pivot(index="record_id", columns="reviewer", values="decision")
        wide = wide.reindex(columns=reviewers)
        wide.columns = [str(c) for c in wide.columns]
        reasons = latest.dropna(subset=["reason"]).groupby("record_id").apply(
            lambda g: "; ".join(f"{r}: {x}" for r, x in zip(g["reviewer"], g["reason"],
                                                             strict=True)),
            include_groups=False,
        ) if latest["reason"].notna().any() else pd.Series(dtype=object)
        events = self.events()
        adj = events[events["kind"] == "adjudication"].drop_duplicates("record_id", keep="last")
        adj = adj.set_index("record_id")["decision"]
        titles = self.records().set_index(C.RECORD_ID)[C.TITLE]
        out = wide.reset_index()
        out.insert(1, "title", out["record_id"].map(titles).astype("string"))
        out["reasons"] = out["record_id"].map(reasons).astype("string")
        out["adjudicated"] = out["record_id"].isin(adj.index)
        out["adjudication"] = out["record_id"].map(adj).astype("string")
        return out.reset_index(drop=True)

    def agreement(self, *, stage: str | None = "this", confidence: float = 0.95
                  ) -> pd.DataFrame:
        """Cohen's kappa, PABAK and Gwet's AC1 (with CIs) per stage and reviewer pair.

        Uses each reviewer's latest human screening decision
        (:func:`~evidence_synth.screen.agreement.screening_agreement`); the categories
        are the decisions observed at the stage (include/exclude, plus maybe when used).

        Parameters
        ----------
        stage : str or None, default "this"
            ``"this"``: this session's stage; ``None``: every stage.
        confidence : float, default 0.95

        Returns
        -------
        pandas.DataFrame
            Columns ``stage, reviewer_a, reviewer_b, n, observed, kappa, kappa_se,
            kappa_low, kappa_high, pabak, pabak_low, pabak_high, ac1, ac1_se, ac1_low,
            ac1_high``.
        """
        stage = self.stage if stage == "this" else stage
        events = self.review.decisions(stage=stage)
        events = events[(events["kind"] == "screen") & (events["actor"] == "human")]
        frames = [
            screening_agreement(group, confidence=confidence)
            for _s, group in events.groupby("stage", sort=True)
        ]
        frames = [f for f in frames if len(f)]
        if not frames:
            return screening_agreement(events.head(0), confidence=confidence)
        return pd.concat(frames, ignore_index=True)

    # -- exchange -----------------------------------------------------------------------------
    def export_decisions(self, path: str | os.PathLike[str], *, all_reviewers: bool = True
                         ) -> pd.DataFrame:
        """Write the latest human decision per record and reviewer of this stage to CSV.

        Screening and adjudication decisions are written (column ``kind``); automatic
        (rule) exclusions stay in the store.

        Parameters
        ----------
        path : path-like
        all_reviewers : bool, default True
            ``False`` writes only this session's reviewer (what a blind reviewer may see).

        Returns
        -------
        pandas.DataFrame
            What was written: ``record_id, stage, decision, reason, note, reviewer,
            actor, kind, created_at, title``.
        """
        events = self.events(reviewer=None if all_reviewers else self.reviewer)
        events = events[events["actor"] == "human"]
        latest = events.drop_duplicates(["record_id", "reviewer", "kind"], keep="last")
        titles = self.review.records().set_index(C.RECORD_ID)[C.TITLE]
        out = latest.assign(title=latest["record_id"].map(titles))[_EXPORT_COLUMNS]
        out.to_csv(path, index=False)
        return out.reset_index(drop=True)

    def import_decisions(self, path: str | os.PathLike[str], *, reviewer: str | None = None
                         ) -> pd.DataFrame:
        """Import decisions made elsewhere from a CSV file, all or nothing.

        Required columns: ``record_id`` and ``decision``; optional ``reason``, ``note``,
        ``reviewer`` (``reviewer=`` wins over the column, which wins over the session's
        reviewer), ``stage`` (must be this stage), ``kind``
        (``screen`` or ``adjudication``) and ``actor`` (must be ``human``). Rows with an
        empty decision are skipped (so a filled-in :meth:`queue` export can be imported),
        as are rows identical to the reviewer's current latest decision (importing a file
        twice writes nothing new).

        Raises
        ------
        ParseError
            Naming the file and the CSV line of every bad row (unknown record id, decision
            or reason not allowed, missing reviewer, other stage); ``.problems`` has
            columns ``line, record_id, problem``.

        Returns
        -------
        pandas.DataFrame
            The events written: ``record_id, decision, reason, note, reviewer, kind``
            (string, ``<NA>`` when empty) and ``event_id``.
        """
        file = Path(path)
        rows = _read_csv_rows(file)
        known = set(self.review.records()[C.RECORD_ID].astype(str))
        problems, events = [], []
        seen: dict[tuple[str, str, str], int] = {}
        for line, row in rows:
            decision = (row.get("decision") or "").strip()
            if not decision:
                continue
            rid = (row.get("record_id") or "").strip()
            who = (reviewer or row.get("reviewer") or self.reviewer or "").strip()
            reason = (row.get("reason") or "").strip() or None
            note = (row.get("note") or "").strip() or None
            stage = (row.get("stage") or "").strip() or self.stage
            kind = (row.get("kind") or "").strip() or "screen"
            actor = (row.get("actor") or "").strip() or "human"
            key = (rid, who, kind)
            issue = None
            if key in seen:
                issue = (f"second decision for record {rid!r} by {who!r} (first on line "
                         f"{seen[key]}); keep one row per record and reviewer")
            elif rid not in known:
                issue = f"unknown record_id {rid!r}"
            elif stage != self.stage:
                issue = f"stage {stage!r} in a file imported at stage {self.stage!r}"
            elif not who:
                issue = "no reviewer (add a reviewer column or pass reviewer=)"
            elif kind not in ("screen", "adjudication"):
                issue = f"kind must be screen or adjudication, got {kind!r}"
            elif actor != "human":
                issue = f"only human decisions can be imported, got actor {actor!r}"
            else:
                issue = self._decision_problem(decision, reason)
            seen.setdefault(key, line)
            if issue:
                problems.append((line, rid, issue))
                continue
            events.append({"record_id": rid, "stage": self.stage, "decision": decision,
                           "reason": reason, "note": note, "reviewer": who, "kind": kind})
        if problems:
            frame = pd.DataFrame(problems, columns=["line", "record_id", "problem"])
            lines = "\n".join(f"  line {ln}: {p}" for ln, _r, p in problems[:20])
            more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise ParseError(f"{len(problems)} bad row(s), nothing imported:\n{lines}{more}",
                             path=file, problems=frame)
        events = self._new_only(events)
        ids = self.review.add_decisions(events) if events else []
        cols = ["record_id", "decision", "reason", "note", "reviewer", "kind"]
        out = pd.DataFrame(events, columns=[*cols, "stage"])[cols].astype("string")
        return out.assign(event_id=pd.array(ids, dtype="Int64"))

    def _new_only(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        latest = self.events()
        latest = latest[latest["actor"] == "human"].drop_duplicates(
            ["record_id", "reviewer", "kind"], keep="last")
        current = {(r.record_id, r.reviewer, r.kind): (r.decision, _none(r.reason),
                                                       _none(r.note))
                   for r in latest.itertuples(index=False)}
        return [e for e in events
                if current.get((e["record_id"], e["reviewer"], e["kind"]))
                != (e["decision"], e["reason"], e["note"])]


def _read_csv_rows(path: Path) -> list[tuple[int, Mapping[str, str]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError as exc:
        raise ParseError("file not found", path=path) from exc
    with handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None:
            raise ParseError("expected a CSV header with record_id and decision, found an "
                             "empty file", path=path, line=1)
        header = [h.strip() for h in reader.fieldnames]
        reader.fieldnames = header
        missing = [c for c in ("record_id", "decision") if c not in header]
        if missing:
            raise ParseError(f"expected columns record_id and decision, missing "
                             f"{', '.join(missing)} (found {', '.join(header)})",
                             path=path, line=1)
        rows = []
        start = reader.line_num + 1
        try:
            for row in reader:
                rows.append((start, row))
                start = reader.line_num + 1
        except csv.Error as exc:
            raise ParseError(f"not valid CSV: {exc}", path=path, line=reader.line_num) from exc
    return rows


def _meaningful(term: Any) -> bool:
    # Word features only (character n-grams are shown as "[...]"), not only stop words.
    text = str(term)
    return not text.startswith("[") and not all(w in ENGLISH_STOP_WORDS for w in text.split())


def _none(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value


def _text(value: Any) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _tag_colour(tag: str) -> str:
    return {"ext:border_management": "#ffd8a8",
            "ext:partnership_diplomacy": "#b5d8ff"}.get(tag, "#e8e8e8")
