"""Which decision counts (screen/policy.py), on hand-written event logs.

The session and the PRISMA counts both read this policy; the cases where their two old
definitions differed are pinned here (include + maybe at title/abstract; a rule exclusion
beside a reviewer's decision; reasons of agreeing reviewers) and, end to end on a review
store, in ``test_policy_is_shared_by_session_and_prisma``.
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from evidence_synth import open_review
from evidence_synth.cli.screen import command as screen_command
from evidence_synth.columns import records_from_dicts
from evidence_synth.report import prisma_counts
from evidence_synth.screen import Screening, policy

COLUMNS = ["event_id", "record_id", "stage", "decision", "reason", "reviewer", "actor", "kind"]


def _events(*rows: tuple, stage: str = "title_abstract") -> pd.DataFrame:
    return pd.DataFrame([(i, row[0], stage, *row[1:]) for i, row in enumerate(rows, start=1)],
                        columns=COLUMNS)


EVENTS = _events(
    # record a: agreement after ana changes her mind
    ("a", "exclude", "TA_POP", "ana", "human", "screen"),
    ("a", "include", None, "ben", "human", "screen"),
    ("a", "include", None, "ana", "human", "screen"),
    # record b: conflict, then adjudicated exclude
    ("b", "include", None, "ana", "human", "screen"),
    ("b", "exclude", "TA_DESIGN", "ben", "human", "screen"),
    ("b", "exclude", "TA_DESIGN", "cem", "human", "adjudication"),
    # record c: a rule excluded it, a reviewer read it and included it: the reviewer counts
    ("c", "exclude", "TA_YEAR", "rules:r.yaml", "rule", "screen"),
    ("c", "include", None, "ana", "human", "screen"),
    # record d: unresolved conflict with a maybe
    ("d", "maybe", None, "ana", "human", "screen"),
    ("d", "exclude", "TA_POP", "ben", "human", "screen"),
    # record e: both exclude, for different reasons: agreement
    ("e", "exclude", "TA_POP", "ana", "human", "screen"),
    ("e", "exclude", "TA_DESIGN", "ben", "human", "screen"),
    # record f: include and maybe agree at title/abstract (both pass)
    ("f", "include", None, "ana", "human", "screen"),
    ("f", "maybe", None, "ben", "human", "screen"),
    # record g: only a rule decided
    ("g", "exclude", "TA_YEAR", "rules:r.yaml", "rule", "screen"),
    # record h: closed by the stopping rule, nobody read it
    ("h", "exclude", None, "stopping-rule", "model", "screen"),
    # record i: a rule and a reviewer both exclude: the reviewer's exclusion counts
    ("i", "exclude", "TA_YEAR", "rules:r.yaml", "rule", "screen"),
    ("i", "exclude", "TA_POP", "ben", "human", "screen"),
)


def test_latest_decisions_are_per_reviewer_human_screening_only():
    latest = policy.latest_decisions(EVENTS)
    assert latest[["record_id", "reviewer", "decision"]].values.tolist() == [
        ["a", "ben", "include"], ["a", "ana", "include"], ["b", "ana", "include"],
        ["b", "ben", "exclude"], ["c", "ana", "include"], ["d", "ana", "maybe"],
        ["d", "ben", "exclude"], ["e", "ana", "exclude"], ["e", "ben", "exclude"],
        ["f", "ana", "include"], ["f", "ben", "maybe"], ["i", "ben", "exclude"],
    ]


def test_adjudication_then_reviewers_then_automation():
    resolved = policy.resolved(EVENTS).set_index("record_id")
    assert list(resolved.columns) == ["decision", "reason", "by"]
    assert resolved.loc["b"].tolist() == ["exclude", "TA_DESIGN", "adjudication"]
    assert resolved.loc["c"].tolist() == ["include", None, "agreement"]
    assert resolved.loc["g"].tolist() == ["exclude", "TA_YEAR", "rule"]
    assert resolved.loc["h"].tolist() == ["exclude", None, "model"]
    assert resolved.loc["i"].tolist() == ["exclude", "TA_POP", "agreement"]
    assert "d" not in resolved.index  # a conflict has no decision that counts


def test_include_and_maybe_agree_at_title_abstract_only():
    resolved = policy.resolved(EVENTS).set_index("record_id")
    assert resolved.loc["f"].tolist() == ["include", None, "agreement"]
    maybes = _events(("x", "maybe", None, "ana", "human", "screen"),
                     ("x", "maybe", None, "ben", "human", "screen"))
    assert policy.resolved(maybes)["decision"].tolist() == ["maybe"]
    full_text = _events(("x", "include", None, "ana", "human", "screen"),
                        ("x", "exclude", "FT_POP", "ben", "human", "screen"),
                        stage="full_text")
    assert policy.counted(full_text)["status"].tolist() == ["unresolved"]


def test_reason_of_agreeing_reviewers_is_the_majority_then_protocol_order():
    resolved = policy.resolved(EVENTS).set_index("record_id")
    assert resolved.loc["e", "reason"] == "TA_DESIGN"  # tie, no protocol: code order
    ordered = policy.resolved(EVENTS, reason_order={"TA_POP": 1, "TA_DESIGN": 2})
    assert ordered.set_index("record_id").loc["e", "reason"] == "TA_POP"
    three = _events(("x", "exclude", "TA_POP", "ana", "human", "screen"),
                    ("x", "exclude", "TA_DESIGN", "ben", "human", "screen"),
                    ("x", "exclude", "TA_DESIGN", "cem", "human", "screen"))
    assert policy.resolved(three, reason_order={"TA_POP": 1})["reason"].tolist() == [
        "TA_DESIGN"]


def test_counted_says_how_and_by_whom():
    counted = policy.counted(EVENTS).set_index("record_id")
    assert list(counted.columns) == policy.COUNTED_COLUMNS
    assert counted.loc["d", ["status", "decision", "by"]].tolist() == [
        "unresolved", None, "conflict"]
    assert counted.loc["b", "event_ids"] == (6,)
    assert counted.loc["a", "event_ids"] == (2, 3)
    assert counted.loc["h", "actor"] == "model"
    assert counted.loc[["a", "b", "c", "g"], "n_reviewers"].tolist() == [2, 2, 1, 0]


def test_no_events_resolve_to_an_empty_frame():
    assert list(policy.resolved(EVENTS.head(0)).columns) == policy.RESOLVED_COLUMNS


def test_passing_title_abstract_lets_included_conflicts_on():
    assert policy.passing(EVENTS, stage="title_abstract") == {"a", "c", "d", "f"}


def test_passing_retrieval_needs_a_resolved_retrieved():
    events = _events(
        ("a", "retrieved", None, "ana", "human", "screen"),
        ("b", "not_retrieved", None, "ana", "human", "screen"),
        ("c", "retrieved", None, "ana", "human", "screen"),
        ("c", "not_retrieved", None, "ben", "human", "screen"),
        stage="retrieval",
    )
    assert policy.passing(events, stage="retrieval") == {"a"}


def test_auto_excluded_is_what_automation_alone_excluded():
    assert policy.auto_excluded(EVENTS) == {"g", "h"}


def test_conflicting_lists_disagreements_that_need_a_decision():
    assert policy.conflicting(EVENTS) == {"b", "d"}


def test_policy_is_shared_by_session_and_prisma(tmp_path):
    """The session's resolved decisions and PRISMA's finals agree on one log."""
    review = open_review(tmp_path / "r.db")
    ids = sorted({row[1] for row in EVENTS.itertuples(index=False)})
    review.add_records(records_from_dicts([{"record_id": i, "title": f"Record {i}"}
                                           for i in ids]),
                       source={"source_id": "db", "database": "Test"})
    review.add_decisions([
        {"record_id": f"db:{r.record_id}", "stage": r.stage, "decision": r.decision,
         "reason": r.reason, "reviewer": r.reviewer, "actor": r.actor, "kind": r.kind}
        for r in EVENTS.itertuples(index=False)
    ])
    session = Screening(review, reviewer="ana", ranker=False, blind=False).resolved(
        ).set_index("record_id")
    counts = prisma_counts(review)
    excluded = pd.concat([counts.trace("excluded_automatic"),
                          counts.trace("records_excluded_human"),
                          counts.trace("records_excluded_automation")])
    passed = counts.trace("dbr_sought_reports")
    assert set(passed["record_id"]) == set(session.index[session["decision"] != "exclude"])
    assert set(excluded["record_id"]) == set(session.index[session["decision"] == "exclude"])
    assert set(counts.trace("excluded_automatic")["record_id"]) == {"db:g"}
    assert set(counts.trace("records_excluded_automation")["record_id"]) == {"db:h"}
    assert set(counts.trace("records_excluded_human")["record_id"]) == {"db:b", "db:e", "db:i"}
    with pytest.raises(ValueError, match="1 unresolved conflict"):
        counts.check()
    review.close()


def test_a_stage_where_every_record_is_a_conflict(tmp_path):
    """Events but nothing resolved: no error, an empty resolution (s15-split's bug)."""
    events = _events(("a", "include", None, "ana", "human", "screen"),
                     ("a", "exclude", "TA_POP", "ben", "human", "screen"))
    assert policy.resolved(events).empty
    assert list(policy.resolved(events).columns) == policy.RESOLVED_COLUMNS
    assert policy.passing(events, stage="title_abstract") == {"a"}
    review = open_review(tmp_path / "r.db")
    review.add_records(records_from_dicts([{"record_id": i, "title": f"Migration {i}"}
                                           for i in "abc"]),
                       source={"source_id": "db", "database": "Test"})
    ana = Screening(review, reviewer="ana", blind=False)
    ben = Screening(review, reviewer="ben", blind=False)
    ana.decide("db:a", "include")
    ben.decide("db:a", "exclude")
    assert ana.resolved().empty
    assert len(ana.next(2)) == 2  # labels when not blind
    retrieval = Screening(review, "retrieval", reviewer="ana", ranker=False)
    assert retrieval.records()["record_id"].tolist() == ["db:a"]
    review.close()
    result = CliRunner().invoke(screen_command, [str(tmp_path / "r.db"), "--export-queue",
                                                 str(tmp_path / "q.csv")])
    assert result.exit_code == 0, result.output
    assert "2 records written" in result.output  # the records nobody decided
