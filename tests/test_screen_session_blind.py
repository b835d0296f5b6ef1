"""A blind reviewer never sees another reviewer's decisions, by any public path (b18).

Found by the screening audit: ``export_decisions`` wrote every reviewer's decisions by
default, even from a blind session. Blind sessions now export their own decisions by
default and refuse (``StoreError`` naming the reviewer) anything that would show others'
decisions: ``export_decisions(all_reviewers=True)``, ``events(reviewer=<other>)``,
``resolved()``, ``conflicts()`` and ``agreement()``. ``events()`` and ``latest()`` show
this reviewer's decisions (and the automatic ones). The lead sees everything from a
session opened with ``blind=False``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import EvidenceSynthError
from evidence_synth.screen import Screening
from evidence_synth.screen.widget import ScreeningWidget

FIX = Path(__file__).resolve().parent / "fixtures" / "screen"
RULES, CRITERIA = FIX / "tiny_rules.yaml", FIX / "tiny_criteria.yaml"
TITLES = ["Frontex operations and irregular crossings", "Readmission agreements",
          "Pushbacks at the land border", "Cash transfers and migration intentions",
          "Bird migration across the Sahara", "Database migration strategies"]


@pytest.fixture
def review(tmp_path):
    store = open_review(tmp_path / "review.db")
    store.add_records(records_from_dicts(
        [{"record_id": c, "title": t, "abstract": "Abstract."}
         for c, t in zip("abcdef", TITLES, strict=True)]),
        source={"source_id": "db", "database": "Test"})
    yield store
    store.close()


def _session(review, who, **kw) -> Screening:
    return Screening(review, reviewer=who, rules=RULES, criteria=CRITERIA, ranker=False, **kw)


@pytest.fixture
def team(review):
    ana, ben = _session(review, "ana"), _session(review, "ben")
    ana.decide("db:a", "include", note="ana's note")
    ben.decide("db:a", "exclude", reason="TA_DESIGN", note="ben's secret")
    ana.decide("db:b", "exclude", reason="TA_DESIGN")
    ben.decide("db:b", "exclude", reason="TA_DESIGN")
    ben.decide("db:c", "include")
    return ana, ben


def test_a_blind_export_holds_only_the_reviewers_own_decisions(team, tmp_path):
    ana, _ben = team
    out = ana.export_decisions(tmp_path / "ana.csv")
    assert set(out["reviewer"]) == {"ana"}
    assert sorted(out["record_id"]) == ["db:a", "db:b"]
    written = pd.read_csv(tmp_path / "ana.csv")
    assert set(written["reviewer"]) == {"ana"} and "ben's secret" not in written.to_string()
    assert ana.export_decisions(tmp_path / "own.csv", all_reviewers=False).equals(out)


def test_a_blind_reviewer_asking_for_everyones_decisions_is_refused(team, tmp_path):
    ana, _ben = team
    with pytest.raises(EvidenceSynthError, match=r"ana screens title_abstract blind.*"
                                                 r"blind=False"):
        ana.export_decisions(tmp_path / "all.csv", all_reviewers=True)
    assert not (tmp_path / "all.csv").exists()


def test_the_lead_exports_everyones_decisions_from_a_session_that_is_not_blind(team, review,
                                                                              tmp_path):
    lead = _session(review, "lead", blind=False)
    out = lead.export_decisions(tmp_path / "all.csv")
    assert sorted(zip(out["record_id"], out["reviewer"], strict=True)) == [
        ("db:a", "ana"), ("db:a", "ben"), ("db:b", "ana"), ("db:b", "ben"), ("db:c", "ben")]
    assert lead.export_decisions(tmp_path / "lead.csv", all_reviewers=False).empty
    assert set(lead.conflicts()["record_id"]) == {"db:a"}


def test_events_and_latest_of_a_blind_session_are_the_reviewers_own(team, review):
    ana, _ben = team
    rule = ana.apply_auto_exclusions()  # automatic events are nobody's decisions
    events = ana.events()
    assert set(events.loc[events["actor"] == "human", "reviewer"]) == {"ana"}
    assert set(events.loc[events["actor"] != "human", "record_id"]) == set(rule["record_id"])
    assert ana.events(reviewer="ana").equals(
        events[events["reviewer"] == "ana"].reset_index(drop=True))
    with pytest.raises(EvidenceSynthError, match=r"ana .* blind: events\(reviewer='ben'\)"):
        ana.events(reviewer="ben")
    assert set(ana.latest()["reviewer"]) == {"ana"}
    assert "ben's secret" not in ana.events().to_string()
    lead = _session(review, "lead", blind=False)
    assert set(lead.events()["reviewer"]) >= {"ana", "ben"}
    assert set(lead.latest()["reviewer"]) == {"ana", "ben"}


@pytest.mark.parametrize("call", ["resolved", "conflicts", "agreement"])
def test_views_built_from_everyones_decisions_are_refused_when_blind(team, review, call):
    ana, _ben = team
    with pytest.raises(EvidenceSynthError, match=rf"ana screens title_abstract blind: "
                                                 rf"{call}\(\)"):
        getattr(ana, call)()
    lead = _session(review, "lead", blind=False)
    assert len(getattr(lead, call)())  # the lead's session answers


def test_progress_cards_queue_and_widget_of_a_blind_reviewer_show_no_decision(team, review):
    ana, _ben = team
    progress = ana.progress()
    assert progress.n_conflicts is None and "conflict" not in progress.summary()
    html = ana.next(10)._repr_html_()
    assert "other reviewers" not in html and "exclude" not in html
    queue = ana.queue()
    assert set(queue["decision"]) <= {""}  # the queue file carries no decisions
    pytest.importorskip("ipywidgets")
    widget = ScreeningWidget(ana)
    shown = widget.card.value + widget.progress_label.value + widget.status.value
    assert "ben" not in shown and "conflict" not in shown and "other reviewers" not in shown


def test_the_blind_reviewers_own_work_still_runs(team, review, tmp_path):
    # everything a blind session does itself reads all events (the queue's allocation,
    # auto-exclusions, close at stop, imports): none of it is refused
    ana, _ben = team
    ana.apply_auto_exclusions()
    assert "db:c" in ana.next(10).record_ids  # ben decided it: still in ana's queue
    path = tmp_path / "ana.csv"
    pd.DataFrame({"record_id": ["db:c"], "decision": ["include"]}).to_csv(path, index=False)
    assert len(ana.import_decisions(path)) == 1
    assert len(ana.import_decisions(path)) == 0  # twice: nothing new
    ana.adjudicate("db:a", "include", reviewer="carla")
    assert _session(review, "lead", blind=False).resolved().set_index(
        "record_id").loc["db:a", "by"] == "adjudication"
