"""Which screening decision counts, and what passes to the next stage.

This module is the one definition of "the decision that counts", used by the screening
session (:class:`~evidence_synth.screen.Screening`: pool, queue, labels, conflicts) and by
the PRISMA counts (:func:`evidence_synth.report.prisma_counts`). Decisions are events
(DESIGN §3); :func:`counted` reads a stage's event log
(:meth:`Review.decisions <evidence_synth.store.Review.decisions>`) and says, per record (or
per duplicate group), which decision counts:

1. **Adjudication**: the latest ``kind="adjudication"`` event, whoever else decided.
2. **The reviewers**: each reviewer's latest human screening event (``kind="screen"``,
   ``actor="human"``). When they agree, that decision counts (``by="agreement"``; one
   reviewer alone also "agrees"). At title/abstract ``include`` and ``maybe`` agree, as
   both pass to full text: the decision is ``include`` if anyone included, else ``maybe``.
   Otherwise the record is *unresolved* (a conflict) and has no decision.
3. **Automation**: only when no reviewer decided, the latest automatic event
   (``actor="rule"``: an exclusion the criteria allow, made before screening;
   ``actor="model"``: a record closed when the stopping rule said stop). A reviewer's
   decision overrides an automatic one: a person who read the record knows more than the
   rule that excluded it without reading.

An exclusion's reason is the one most of the deciding events give; ties go to the reason
listed first in the protocol, then to the code in alphabetical order.

What passes: include or maybe at title/abstract (and, there, unresolved conflicts in which
any reviewer included the record or marked it maybe, as the protocol's conflict rule
says), retrieved at retrieval.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

#: Decision -> relevance label used for ranking and stopping.
RELEVANT = {"include": 1, "maybe": 1, "exclude": 0, "retrieved": 1, "not_retrieved": 0}
#: What lets a record into the next stage.
PASSES = {"title_abstract": ("include", "maybe"), "retrieval": ("retrieved",)}
#: The stage whose passing records make up a later stage's pool.
PREVIOUS_STAGE = {"retrieval": "title_abstract", "full_text": "retrieval"}
#: Actors whose events are automatic decisions.
AUTOMATION = ("rule", "model")
#: Reviewer name of the exclusions written when screening stops (``Screening.close_at_stop``).
STOPPING_REVIEWER = "stopping rule"
RESOLVED_COLUMNS = ["record_id", "decision", "reason", "by"]
COUNTED_COLUMNS = ["stage", "status", "decision", "reason", "by", "actor", "n_reviewers",
                   "event_ids"]


def human_screening(events: pd.DataFrame) -> pd.DataFrame:
    """The reviewers' own screening events: no adjudications, no rule or model events."""
    return events[(events["kind"] == "screen") & (events["actor"] == "human")]


def latest_decisions(events: pd.DataFrame, *, key: str = "record_id") -> pd.DataFrame:
    """Every reviewer's latest human screening decision per record (and stage).

    Returns
    -------
    pandas.DataFrame
        Columns of :meth:`Review.decisions <evidence_synth.store.Review.decisions>`, one
        row per (stage, record, reviewer).
    """
    return human_screening(events).drop_duplicates(["stage", key, "reviewer"], keep="last"
                                                   ).reset_index(drop=True)


def reason_order(protocol: Any) -> dict[str, int]:
    """Reason code -> its position among the protocol's exclusion reasons (``{}`` if none)."""
    if protocol is None:
        return {}
    try:
        frame = protocol.exclusion_reasons_frame()
    except (AttributeError, KeyError):
        return {}
    return {str(row.code): int(row.order) if pd.notna(row.order) else 1000 + i
            for i, row in enumerate(frame.itertuples())}


def counted(events: pd.DataFrame, *, key: str = "record_id",
            reason_order: Mapping[str, int] | None = None,
            event_ids: bool = True) -> pd.DataFrame:
    """The decision that counts per record (or group) and stage, with how it was reached.

    Parameters
    ----------
    events : pandas.DataFrame
        Decision events (columns of :meth:`Review.decisions
        <evidence_synth.store.Review.decisions>`), oldest first, one or more stages.
    key : str, default "record_id"
        The column that identifies what is decided (PRISMA uses ``group_id``, so events
        on any member of a duplicate group count for the group).
    reason_order : mapping, optional
        Reason code -> position in the protocol (:func:`reason_order`), for ties.
    event_ids : bool, default True
        Fill the ``event_ids`` column (``None`` otherwise; a third of the cost).

    Returns
    -------
    pandas.DataFrame
        One row per (stage, key) with any event. Columns ``<key>, stage, status``
        (``"final"`` or ``"unresolved"``), ``decision`` (None when unresolved),
        ``reason`` (an exclusion's reason code or None), ``by`` (``"adjudication"``,
        ``"agreement"``, ``"conflict"`` or the automation actor ``"rule"``/``"model"``),
        ``actor`` (the actor of the deciding events), ``n_reviewers`` (reviewers
        with a human screening decision) and ``event_ids`` (tuple: the deciding events).
    """
    columns = [key, *COUNTED_COLUMNS]
    if events.empty:
        return pd.DataFrame(columns=columns)
    events = events.sort_values("event_id", kind="stable")
    ids = ["stage", key]
    adjudicated = events[events["kind"] == "adjudication"].drop_duplicates(ids, keep="last")
    human = latest_decisions(events, key=key)
    automatic = events[(events["kind"] == "screen") & events["actor"].isin(AUTOMATION)]
    automatic = automatic.drop_duplicates(ids, keep="last")

    n_reviewers = human.groupby(ids, sort=False).size().rename("n_reviewers")
    agreed = _agreement(human, ids)
    human = human.join(agreed, on=ids)
    deciding = pd.concat([
        adjudicated.assign(by="adjudication", status="final", final=adjudicated["decision"]),
        human[~human.set_index(ids).index.isin(adjudicated.set_index(ids).index)],
        automatic.assign(by=automatic["actor"], status="final", final=automatic["decision"]),
    ], ignore_index=True)
    # adjudication > the reviewers > automation, per (stage, key)
    rank = deciding["by"].map({"adjudication": 0, "agreement": 1, "conflict": 1}).fillna(2)
    best = deciding.assign(_rank=rank).groupby(ids, sort=False)["_rank"].transform("min")
    deciding = deciding[rank == best]

    groups = deciding.groupby(ids, sort=False)
    # the deciding events of one record share their actor: one adjudication, the human
    # reviewers, or one automatic event
    out = groups.agg(status=("status", "first"), decision=("final", "first"),
                     by=("by", "first"), actor=("actor", "first"))
    out["event_ids"] = (_tuples(groups.ngroup().to_numpy(), deciding["event_id"].to_numpy(),
                                len(out)) if event_ids else None)
    out["reason"] = _reasons(deciding, ids, reason_order or {}).reindex(out.index)
    out.loc[out["decision"] != "exclude", "reason"] = None
    out["n_reviewers"] = n_reviewers.reindex(out.index).fillna(0).astype(int)
    out = out.reset_index()
    out["decision"] = out["decision"].astype(object).where(out["status"] == "final", None)
    out["reason"] = out["reason"].astype(object).where(out["reason"].notna(), None)
    return out[columns].reset_index(drop=True)


def _tuples(codes: np.ndarray, values: np.ndarray, n: int) -> list[tuple[int, ...]]:
    """``values`` grouped by ``codes`` (0..n-1), as tuples of int in their given order."""
    order = np.argsort(codes, kind="stable")
    parts = np.split(values[order].astype(np.int64), np.flatnonzero(np.diff(codes[order])) + 1)
    out = [tuple(p.tolist()) for p in parts]
    assert len(out) == n
    return out


def _agreement(human: pd.DataFrame, ids: list[str]) -> pd.DataFrame:
    """Per (stage, key): ``status``, ``final`` (the agreed decision) and ``by``."""
    flags = human.assign(
        _pass=human["decision"].isin(PASSES["title_abstract"])
        & (human["stage"] == "title_abstract"),
        _include=human["decision"] == "include",
    ).groupby(ids, sort=False).agg(kinds=("decision", "nunique"), first=("decision", "first"),
                                   all_pass=("_pass", "all"), any_include=("_include", "any"))
    agree = (flags["kinds"] == 1) | flags["all_pass"]
    final = flags["first"].where(flags["kinds"] == 1,
                                 flags["any_include"].map({True: "include", False: "maybe"}))
    return pd.DataFrame({
        "status": np.where(agree, "final", "unresolved"),
        "final": final.where(agree, None),
        "by": np.where(agree, "agreement", "conflict"),
    }, index=flags.index)


def _reasons(deciding: pd.DataFrame, ids: list[str], order: Mapping[str, int]) -> pd.Series:
    """The reason most deciding events give (ties: protocol order, then code)."""
    given = deciding[deciding["reason"].notna() & (deciding["reason"].astype(str) != "")]
    if given.empty:
        return pd.Series(dtype=object)
    tally = given.groupby([*ids, "reason"], sort=False).size().rename("n").reset_index()
    tally["_order"] = tally["reason"].map(lambda c: order.get(c, 10**6))
    tally = tally.sort_values(["n", "_order", "reason"], ascending=[False, True, True])
    return tally.drop_duplicates(ids).set_index(ids)["reason"]


def resolved(events: pd.DataFrame, *, reason_order: Mapping[str, int] | None = None
             ) -> pd.DataFrame:
    """The decision that counts per record, from one stage's events (see :func:`counted`).

    Returns
    -------
    pandas.DataFrame
        Columns ``record_id, decision, reason, by`` (``adjudication``, ``agreement``,
        ``rule`` or ``model``). Conflicts (unresolved records) are left out.
    """
    out = counted(events, reason_order=reason_order, event_ids=False)
    out = out[out["status"] == "final"]
    return out[RESOLVED_COLUMNS].reset_index(drop=True)


def passing(events: pd.DataFrame, *, stage: str) -> set[str]:
    """Record ids that pass ``stage`` (given its events) into the next stage."""
    out = counted(events, event_ids=False)
    out = out[out["stage"] == stage]
    passed = set(out.loc[out["decision"].isin(PASSES[stage]), "record_id"])
    if stage == "title_abstract":
        # Unresolved conflicts go on when any reviewer included or marked maybe.
        conflicts = set(out.loc[out["status"] == "unresolved", "record_id"])
        latest = latest_decisions(events)
        latest = latest[latest["record_id"].isin(conflicts)]
        passed |= set(latest.loc[latest["decision"].isin(PASSES[stage]), "record_id"])
    return passed


def auto_excluded(events: pd.DataFrame) -> set[str]:
    """Record ids whose decision that counts is an automatic exclusion (rule or model)."""
    touched = events["record_id"].isin(
        set(events.loc[events["actor"].isin(AUTOMATION), "record_id"]))
    out = counted(events[touched], event_ids=False)  # only records automation touched
    return set(out.loc[out["by"].isin(AUTOMATION) & (out["decision"] == "exclude"),
                       "record_id"])


def conflicting(events: pd.DataFrame) -> set[str]:
    """Record ids on which the reviewers disagree (adjudicated or not)."""
    human = latest_decisions(events)
    if human.empty:
        return set()
    agreed = _agreement(human, ["stage", "record_id"])
    return set(agreed.index[agreed["status"] == "unresolved"].get_level_values("record_id"))
