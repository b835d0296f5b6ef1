"""Which screening decision counts, and what passes to the next stage.

Decisions are events (DESIGN §3); this module reads a stage's event log
(:meth:`Review.decisions <evidence_synth.store.Review.decisions>`) and says, per record:

- a reviewer's decision: their latest human screening event (``kind="screen"``,
  ``actor="human"``); adjudications and rule or model events are not a reviewer's vote;
- the decision that counts: the latest adjudication; otherwise the latest automatic (rule)
  event; otherwise the reviewers' decisions when they agree. Records on which reviewers
  disagree and that were not adjudicated have none (they are conflicts);
- what passes: include or maybe at title/abstract (and, there, unresolved conflicts in
  which any reviewer included the record or marked it maybe), retrieved at retrieval.

:class:`~evidence_synth.screen.Screening` uses these functions for its pool, queue labels,
conflicts and agreement.
"""

from __future__ import annotations

import pandas as pd

#: Decision -> relevance label used for ranking and stopping.
RELEVANT = {"include": 1, "maybe": 1, "exclude": 0, "retrieved": 1, "not_retrieved": 0}
#: What lets a record into the next stage.
PASSES = {"title_abstract": ("include", "maybe"), "retrieval": ("retrieved",)}
#: The stage whose passing records make up a later stage's pool.
PREVIOUS_STAGE = {"retrieval": "title_abstract", "full_text": "retrieval"}
RESOLVED_COLUMNS = ["record_id", "decision", "reason", "by"]


def human_screening(events: pd.DataFrame) -> pd.DataFrame:
    """The reviewers' own screening events: no adjudications, no rule or model events."""
    return events[(events["kind"] == "screen") & (events["actor"] == "human")]


def latest_decisions(events: pd.DataFrame) -> pd.DataFrame:
    """Every reviewer's latest human screening decision per record.

    Returns
    -------
    pandas.DataFrame
        Columns of :meth:`Review.decisions <evidence_synth.store.Review.decisions>`, one
        row per (record, reviewer).
    """
    return human_screening(events).drop_duplicates(["record_id", "reviewer"], keep="last"
                                                   ).reset_index(drop=True)


def resolved(events: pd.DataFrame) -> pd.DataFrame:
    """The decision that counts per record, from one stage's events.

    Returns
    -------
    pandas.DataFrame
        Columns ``record_id, decision, reason, by`` (``adjudication``, ``rule`` or
        ``agreement``).
    """
    if not len(events):
        return pd.DataFrame(columns=RESOLVED_COLUMNS)
    adj = events[events["kind"] == "adjudication"].drop_duplicates("record_id", keep="last")
    rule = events[events["actor"] == "rule"].drop_duplicates("record_id", keep="last")
    human = latest_decisions(events)
    agreed = human.groupby("record_id").filter(lambda g: g["decision"].nunique() == 1)
    agreed = agreed.drop_duplicates("record_id", keep="last")
    parts = [adj.assign(by="adjudication"), rule.assign(by="rule"),
             agreed.assign(by="agreement")]
    out = pd.concat([p[RESOLVED_COLUMNS] for p in parts if len(p)], ignore_index=True)
    return out.drop_duplicates("record_id", keep="first").reset_index(drop=True)


def passing(events: pd.DataFrame, *, stage: str) -> set[str]:
    """Record ids that pass ``stage`` (given its events) into the next stage."""
    counted = resolved(events)
    passed = set(counted.loc[counted["decision"].isin(PASSES[stage]), "record_id"])
    if stage == "title_abstract":
        # Unresolved conflicts go on when any reviewer included or marked maybe.
        latest = latest_decisions(events)
        latest = latest[~latest["record_id"].isin(set(counted["record_id"]))]
        passed |= set(latest.loc[latest["decision"].isin(PASSES[stage]), "record_id"])
    return passed


def auto_excluded(events: pd.DataFrame) -> set[str]:
    """Record ids that a rule excluded automatically."""
    return set(events.loc[(events["actor"] == "rule") & (events["decision"] == "exclude"),
                          "record_id"])
