"""Which decision counts (screen/policy.py), on hand-written event logs."""

from __future__ import annotations

import pandas as pd

from evidence_synth.screen import policy

COLUMNS = ["event_id", "record_id", "decision", "reason", "reviewer", "actor", "kind"]


def _events(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame([(i, *row) for i, row in enumerate(rows, start=1)], columns=COLUMNS)


EVENTS = _events(
    # record a: agreement after ana changes her mind
    ("a", "exclude", "TA_POP", "ana", "human", "screen"),
    ("a", "include", None, "ben", "human", "screen"),
    ("a", "include", None, "ana", "human", "screen"),
    # record b: conflict, then adjudicated exclude
    ("b", "include", None, "ana", "human", "screen"),
    ("b", "exclude", "TA_DESIGN", "ben", "human", "screen"),
    ("b", "exclude", "TA_DESIGN", "cem", "human", "adjudication"),
    # record c: a rule excluded it, a reviewer disagrees: the rule still counts
    ("c", "exclude", "TA_YEAR", "rules:r.yaml", "rule", "screen"),
    ("c", "include", None, "ana", "human", "screen"),
    # record d: unresolved conflict with a maybe
    ("d", "maybe", None, "ana", "human", "screen"),
    ("d", "exclude", "TA_POP", "ben", "human", "screen"),
    # record e: both exclude, for different reasons: agreement
    ("e", "exclude", "TA_POP", "ana", "human", "screen"),
    ("e", "exclude", "TA_DESIGN", "ben", "human", "screen"),
)


def test_latest_decisions_are_per_reviewer_human_screening_only():
    latest = policy.latest_decisions(EVENTS)
    assert latest[["record_id", "reviewer", "decision"]].values.tolist() == [
        ["a", "ben", "include"], ["a", "ana", "include"], ["b", "ana", "include"],
        ["b", "ben", "exclude"], ["c", "ana", "include"], ["d", "ana", "maybe"],
        ["d", "ben", "exclude"], ["e", "ana", "exclude"], ["e", "ben", "exclude"],
    ]


def test_resolved_adjudication_then_rule_then_agreement():
    resolved = policy.resolved(EVENTS).set_index("record_id")
    assert list(resolved.columns) == ["decision", "reason", "by"]
    assert resolved.loc["b"].tolist() == ["exclude", "TA_DESIGN", "adjudication"]
    assert resolved.loc["c"].tolist() == ["exclude", "TA_YEAR", "rule"]
    assert resolved.loc[["a", "e"], "by"].tolist() == ["agreement", "agreement"]
    # Agreeing reviewers with different reasons: the last reviewer's reason is kept.
    assert resolved.loc["e", "reason"] == "TA_DESIGN"
    assert "d" not in resolved.index  # a conflict has no decision that counts


def test_no_events_resolve_to_an_empty_frame():
    assert list(policy.resolved(EVENTS.head(0)).columns) == policy.RESOLVED_COLUMNS


def test_passing_title_abstract_lets_included_conflicts_on():
    assert policy.passing(EVENTS, stage="title_abstract") == {"a", "d"}


def test_passing_retrieval_needs_a_resolved_retrieved():
    events = _events(
        ("a", "retrieved", None, "ana", "human", "screen"),
        ("b", "not_retrieved", None, "ana", "human", "screen"),
        ("c", "retrieved", None, "ana", "human", "screen"),
        ("c", "not_retrieved", None, "ben", "human", "screen"),
    )
    assert policy.passing(events, stage="retrieval") == {"a"}


def test_auto_excluded_is_rule_exclusions_only():
    assert policy.auto_excluded(EVENTS) == {"c"}
