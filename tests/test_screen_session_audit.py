"""Screening sessions used as a review team would: reopening, search updates, stops.

Each test pins a defect found by screening real records (the MHPSS EPPI export and
CiteSource exports in ``../shared/data``) through a whole stage; the fixtures here are
small hand-made records.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.protocol import Protocol, load_protocol
from evidence_synth.screen import HypergeometricStop, Screening

TESTS = Path(__file__).resolve().parent
RULES = TESTS / "fixtures" / "screen" / "tiny_rules.yaml"
CRITERIA = TESTS / "fixtures" / "screen" / "tiny_criteria.yaml"
PROTOCOL = TESTS / "fixtures" / "protocol" / "minimal_v1.yaml"

ROWS = [
    ("a", "Frontex operations and irregular crossings", "Joint operations and arrivals.", 2015),
    ("b", "Readmission agreements and returns of migrants", "Return rates.", 2018),
    ("c", "Pushbacks at the land border", "Interviews with refugees about push-backs.", 2020),
    ("d", "Cash transfers and migration intentions", "A randomised trial.", 2019),
    ("e", "Bird migration across the Sahara", "Tracking of migratory birds.", 2012),
    ("f", "Database migration strategies", "Moving databases to the cloud.", 2021),
    ("g", "The EU-Turkey statement and arrivals", "An interrupted time series.", 2019),
    ("h", "Border controls in the 1980s", "Historical account of border control.", 1985),
    ("i", "Hospital readmission after surgery", "A cohort of 300 patients.", 2016),
]


def _records(rows, source="db"):
    return records_from_dicts([{"record_id": rid, "title": t, "abstract": a, "year": y}
                               for rid, t, a, y in rows])


def _protocol(reviewers: int = 2) -> Protocol:
    data = load_protocol(PROTOCOL).to_dict()
    data["stages"][0].update(decisions=["include", "exclude", "maybe"],
                             reviewers_per_record=reviewers, auto_exclude=True)
    data["screening"] = {"stopping_rule": {"method": "callaghan_muller_hansen"}}
    return Protocol.from_dict(data)


def _session(review, reviewer="ana", **kw) -> Screening:
    return Screening(review, reviewer=reviewer, rules=RULES, criteria=CRITERIA, **kw)


@pytest.fixture
def review(tmp_path):
    store = open_review(tmp_path / "review.db")
    store.add_records(_records(ROWS), source={"source_id": "db", "database": "Test"})
    yield store
    store.close()


def _two_phase_session(review, **kw) -> Screening:
    # random sampling after 2 irrelevant records in a row; a lax test so it stops early
    rule = HypergeometricStop(0.5, 0.5, sample_after=2)
    return _session(review, stopping=rule, ranker=False, **kw)


def test_random_sampling_phase_survives_reopening_the_session(review):
    review.set_protocol(_protocol(reviewers=1))
    live = _two_phase_session(review)
    sources = []
    for i in range(5):
        card = live.next(1)[0]
        sources.append(card["source"])
        live.decide(card["record_id"], "include" if i == 0 else "exclude")
    assert sources == ["rules"] * 3 + ["random_sample"] * 2
    assert live.stop_check(report=False).stop
    # a notebook reopened the next morning (or the CLI's --close-at-stop) reads the same
    # decisions and must give the same answer
    reopened = _two_phase_session(review)
    assert reopened.stop_check(report=False).stop
    assert reopened.next(1)[0]["source"] == "random_sample"
    assert len(reopened.close_at_stop()) == len(live.records()) - 5
