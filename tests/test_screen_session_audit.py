"""Screening sessions used as a review team would: reopening, search updates, stops.

Each test pins a defect found by screening real records (the MHPSS EPPI export and
CiteSource exports in ``../shared/data``) through a whole stage; the fixtures here are
small hand-made records.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import ParseError, StoreError
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
        if i == 2:
            with pytest.raises(StoreError, match=r"does not say stop yet for ana at "
                                                 r"title_abstract: CONTINUE: .*; waiting for "
                                                 r"the random-sampling phase; screened 2 of 9"):
                live.close_at_stop()  # the reason, not only the rule's name
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


def _update_with_fuller_copies(review) -> None:
    """A search update finds fuller copies of b and e; dedup makes them the primaries."""
    review.add_records(_records([
        ("b2", "Readmission agreements and returns of migrants",
         "Return rates of rejected asylum seekers after readmission agreements.", 2018),
        ("e2", "Bird migration across the Sahara",
         "GPS tracking of migratory birds crossing the Sahara in spring.", 2012),
        ("k", "Visa facilitation and readmission", "Negotiations with partner states.", 2022),
    ]), source={"source_id": "upd", "database": "Update"})
    ids = sorted(review.records()["record_id"])
    group = {"db:b": "Gb", "upd:b2": "Gb", "db:e": "Ge", "upd:e2": "Ge"}
    review.save_duplicate_groups(pd.DataFrame({
        "record_id": ids,
        "group_id": [group.get(r, r) for r in ids],
        "is_primary": [r not in ("db:b", "db:e") for r in ids],
    }))


def test_a_search_update_does_not_reopen_records_already_screened(review):
    review.set_protocol(_protocol(reviewers=2))
    ana, ben = _session(review, "ana", ranker=False), _session(review, "ben", ranker=False)
    for who in (ana, ben):
        who.decide("db:b", "include")
    ana.decide("db:e", "exclude", reason="TA_INTERVENTION")
    _update_with_fuller_copies(review)
    for who in (ana, ben):
        who.refresh()
        queue = set(who.queue()["record_id"])
        assert not queue & {"upd:b2", "db:b"}, who.reviewer  # decided: not offered again
    assert "upd:e2" not in set(ana.queue()["record_id"])
    assert ana.progress().n_screened == 2
    # the record ana screened waits for ben, under the id ana screened it as
    assert ben.next(1).record_ids == ["db:e"]
    assert ben.progress().n_waiting == 1
    # a decision on the other member of the group counts for the group
    ben.decide("upd:e2", "exclude", reason="TA_INTERVENTION")
    assert ben.progress().n_waiting == 0 and ben.progress().n_short == 0
    lead = _session(review, "lead", blind=False)
    resolved = lead.resolved().set_index("record_id")
    assert "upd:e2" not in resolved.index and "upd:b2" not in resolved.index
    assert resolved.loc["db:e", "by"] == "agreement"
    assert lead.agreement()["n"].tolist() == [2]
    # ana and ben included b under different ids: one report is sought, not two
    review.add_decision("upd:b2", "title_abstract", "include", reviewer="carla")
    retrieval = Screening(review, "retrieval", reviewer="ana")
    assert retrieval.records()["record_id"].tolist() == ["db:b"]


def test_decisions_are_checked_against_the_stage_and_name_record_and_reviewer(review):
    review.set_protocol(_protocol(reviewers=1))
    ana = _session(review, "ana", ranker=False)
    with pytest.raises(StoreError, match=r"db:a.*ana.*must be one of include, exclude, "
                                         r"maybe, got 'Include'"):
        ana.decide("db:a", "Include")
    ana.decide("db:a", "include")
    ana.decide("db:f", "exclude", reason="TA_INTERVENTION")
    Screening(review, "retrieval", reviewer="ana").decide("db:a", "retrieved")
    full_text = _session(review, "ana", stage="full_text", ranker=False)
    # a record that never passed title/abstract is not in the full-text pool
    with pytest.raises(StoreError, match=r"db:f \(ana\): not in the full_text pool: only "
                                         r"records that passed retrieval"):
        full_text.decide("db:f", "include")
    with pytest.raises(StoreError, match=r"db:f \(ana\): not in the retrieval pool"):
        Screening(review, "retrieval", reviewer="ana").decide("db:f", "retrieved")
    # PRISMA lists full-text exclusions by reason: one is required, as in the widget
    with pytest.raises(StoreError, match=r"db:a \(ana\): a full_text exclusion needs a "
                                         r"reason \(one of FT_"):
        full_text.decide("db:a", "exclude")
    with pytest.raises(StoreError, match=r"db:a \(carla\): a full_text exclusion needs"):
        full_text.adjudicate("db:a", "exclude", reviewer="carla")
    assert review.decisions(stage="full_text").empty
    full_text.decide("db:a", "exclude", reason="FT_DESIGN")


def test_an_adjudication_needs_a_reviewer_decision_to_resolve(review):
    review.set_protocol(_protocol(reviewers=2))
    ana = _session(review, "ana", ranker=False)
    # nobody screened db:d: an adjudication would count it as screened by nobody
    with pytest.raises(StoreError, match=r"record db:d \(carla\): no reviewer has screened it "
                                         r"at title_abstract"):
        ana.adjudicate("db:d", "include", reviewer="carla")
    ana.decide("db:d", "include")
    _session(review, "ben", ranker=False).decide("db:d", "exclude", reason="TA_DESIGN")
    ana.adjudicate("db:d", "include", reviewer="carla")
    lead = _session(review, "lead", blind=False, ranker=False)
    assert lead.resolved().set_index("record_id").loc["db:d", "by"] == "adjudication"


def test_imported_decisions_are_checked_like_decide(review, tmp_path):
    review.set_protocol(_protocol(reviewers=1))
    _session(review, "ana", ranker=False).decide("db:a", "include")
    Screening(review, "retrieval", reviewer="ana").decide("db:a", "retrieved")
    path = tmp_path / "ft.csv"
    path.write_text("record_id,decision,reason\ndb:a,exclude,\ndb:f,include,\n",
                    encoding="utf-8")
    full_text = _session(review, "ben", stage="full_text", ranker=False)
    with pytest.raises(ParseError) as info:
        full_text.import_decisions(path)
    problems = info.value.problems.set_index("line")["problem"]
    assert "full_text exclusion needs a reason" in problems[2]
    assert "not in the full_text pool" in problems[3]


def test_back_in_a_reopened_widget_shows_the_last_decision_with_its_abstract(review):
    pytest.importorskip("ipywidgets")
    from evidence_synth.screen import ScreeningWidget

    review.add_records(_records([("n", None, "An abstract without a title.", 2020)]),
                       source={"source_id": "more", "database": "More"})
    first = ScreeningWidget(_session(review, ranker=False))
    first.press("i")
    first.session.decide("more:n", "exclude", reason="TA_DESIGN")
    # the kernel restarts; the reviewer wants to change her last two decisions
    again = ScreeningWidget(_session(review, ranker=False))
    again.press("b")
    assert again.current == "more:n"
    assert "(no title)" in again.card.value and "nan" not in again.card.value
    assert "An abstract without a title." in again.card.value
    assert "you decided: exclude (TA_DESIGN)" in again.card.value
    again.press("b")
    assert again.current == "db:a"
    assert "you decided: include" in again.card.value
    again.press("e")
    assert review.decisions()["decision"].tolist()[-1] == "exclude"


def test_the_queue_file_of_the_random_phase_is_in_random_order(review):
    # a reviewer who screens from a CSV (--export-queue) in the random-sampling phase of
    # the two-phase rule must get a random sample, as next() gives one, or the test's
    # "random sample" is the ranking's tail
    review.set_protocol(_protocol(reviewers=1))
    ana = _two_phase_session(review)
    ranked = ana.queue()
    assert set(ranked["source"]) <= {"rules", "cold_start"}
    for rid in ranked["record_id"][:3]:
        ana.decide(rid, "exclude", reason="TA_DESIGN")
    queue = ana.queue()
    assert set(queue["source"]) == {"random_sample"}
    assert queue["rank"].tolist() == list(range(1, len(queue) + 1))
    rest = [r for r in ranked["record_id"] if r not in set(ranked["record_id"][:3])]
    assert sorted(queue["record_id"]) == sorted(rest) and queue["record_id"].tolist() != rest
    # the same seed gives the same file
    assert _two_phase_session(review).queue()["record_id"].tolist() == queue["record_id"].tolist()


def test_a_session_sees_decisions_written_elsewhere_at_once(review, tmp_path):
    # the session reads the event log again only when it grew: another reviewer's kernel
    # (another connection to the same file) writing must show on the next call
    review.set_protocol(_protocol(reviewers=2))
    ana = _session(review, "ana", ranker=False)
    assert ana.progress().n_waiting == 0
    first = ana.next(1).record_ids[0]
    other = open_review(tmp_path / "review.db", create=False)
    try:
        Screening(other, reviewer="ben", ranker=False).decide("db:g", "include")
        other.add_decision("db:c", "title_abstract", "exclude", reviewer="rules:x",
                           actor="rule")
    finally:
        other.close()
    assert ana.progress().n_waiting == 1
    assert ana.next(1).record_ids == ["db:g"]
    assert "db:c" not in set(ana.queue()["record_id"])  # excluded by a rule meanwhile
    assert first != "db:g"


def test_random_phase_cards_are_the_same_after_reopening(review):
    # same decisions and random_state give the same cards: a reopened notebook (or a
    # colleague checking the work) sees what the reviewer saw, and next() agrees with
    # the queue file
    review.set_protocol(_protocol(reviewers=1))
    live = _two_phase_session(review)
    for rid in live.queue()["record_id"][:3]:
        live.decide(rid, "exclude", reason="TA_DESIGN")
    shown = live.next(3).record_ids
    assert live.next(3).record_ids == shown  # asking twice does not draw again
    assert _two_phase_session(review).next(3).record_ids == shown
    assert live.queue()["record_id"].tolist()[:3] == shown
    live.decide(shown[0], "exclude", reason="TA_DESIGN")
    assert _two_phase_session(review).next(2).record_ids == live.next(2).record_ids


def test_no_model_or_stopping_rule_where_the_protocol_allows_no_automation(review):
    # the protocol's full_text stage says automation_allowed: false ("whether tools
    # (rules, ranking models) may be used"); the session ranked full texts with the
    # model and its status line said "the stopping rule says stop" half way through
    review.set_protocol(_protocol(reviewers=1))
    ana = _session(review, "ana", ranker=False)
    for rid in ("a", "b", "c", "d", "g"):
        ana.decide(f"db:{rid}", "include")
    retrieval = Screening(review, "retrieval", reviewer="ana")
    for rid in ("a", "b", "c", "d", "g"):
        retrieval.decide(f"db:{rid}", "retrieved")
    full_text = _session(review, "ana", stage="full_text")
    assert full_text.ranker is None and full_text.stopping is None
    cards = full_text.next(5)
    assert set(cards.to_frame()["source"]) == {"import_order"}
    assert cards.record_ids == sorted(cards.record_ids)
    full_text.decide(cards.record_ids[0], "exclude", reason="FT_DESIGN")
    assert not full_text.progress().stop
    assert "stopping rule says stop" not in full_text.progress().summary()
    # title/abstract (automation allowed) keeps the protocol's model and rule
    assert _session(review, "ana").ranker is not None
    assert _session(review, "ana").stopping is not None
    # an explicit choice still wins
    assert _session(review, "ana", stage="full_text",
                    stopping=HypergeometricStop()).stopping is not None


def test_records_closed_at_the_stop_do_not_train_the_shared_model(review):
    # not blind: the model learns from the decisions that count; a record closed at the
    # stop was read by nobody, so it is no evidence of what is irrelevant
    from evidence_synth.screen import NIrrelevantInARow

    review.set_protocol(_protocol(reviewers=1))
    ana = _session(review, "ana", blind=False, stopping=NIrrelevantInARow(2), ranker=False)
    ana.decide("db:a", "include")
    ana.decide("db:e", "exclude", reason="TA_DESIGN")
    ana.decide("db:f", "exclude", reason="TA_DESIGN")
    closed = set(ana.close_at_stop()["record_id"])
    assert closed and not closed & set(ana._labels())
    assert ana._labels() == {"db:a": 1, "db:e": 0, "db:f": 0}


def test_an_open_session_sees_a_search_update_made_elsewhere(review, tmp_path):
    # the lead imports the update and re-runs dedup in her kernel; the reviewers'
    # notebooks are open: their queues and progress must include the new records
    # (before, they said "No records left" until someone called refresh())
    review.set_protocol(_protocol(reviewers=1))
    ana = _session(review, "ana", ranker=False)
    for rid in ana.queue()["record_id"]:
        ana.decide(rid, "exclude", reason="TA_DESIGN")
    assert len(ana.next(1)) == 0
    lead = open_review(tmp_path / "review.db", create=False)
    try:
        _update_with_fuller_copies(lead)
    finally:
        lead.close()
    assert ana.next(5).record_ids == ["upd:k"]  # b and e were screened as db:b and db:e
    assert ana.progress().n_records == len(ROWS) + 1


def test_a_new_protocol_version_changes_an_open_sessions_stopping_rule(review, tmp_path):
    from evidence_synth.screen import KneeStop, PoissonProcessStop

    data = _protocol(reviewers=1).to_dict()
    data["screening"] = {"stopping_rule": {"method": "knee"}}
    review.set_protocol(Protocol.from_dict(data))
    ana = _session(review, "ana", ranker=False)
    assert isinstance(ana.stopping, KneeStop)
    data["screening"] = {"stopping_rule": {"method": "sneyd_stevenson"}}
    data["stages"][0]["reviewers_per_record"] = 2
    lead = open_review(tmp_path / "review.db", create=False)
    try:
        lead.set_protocol(Protocol.from_dict(data))
    finally:
        lead.close()
    ana.progress()
    assert isinstance(ana.stopping, PoissonProcessStop)  # the lead's new rule
    assert ana.reviewers_per_record == 2
    assert "PoissonProcessStop" in ana.stop_check(report=False).rule
    # a rule passed explicitly stays
    ben = _session(review, "ben", ranker=False, stopping=KneeStop())
    review.set_protocol(Protocol.from_dict(data))
    ben.progress()
    assert isinstance(ben.stopping, KneeStop)
