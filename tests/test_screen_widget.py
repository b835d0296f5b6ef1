"""The ipywidgets screener, driven from Python: every click writes an event at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.screen import Screening, ScreeningWidget

pytest.importorskip("ipywidgets")

FIX = Path(__file__).resolve().parent / "fixtures" / "screen"


@pytest.fixture
def review(tmp_path):
    store = open_review(tmp_path / "review.db")
    store.add_records(records_from_dicts([
        {"record_id": "a", "title": "Frontex operations and crossings", "year": 2015},
        {"record_id": "b", "title": "Readmission agreements for migrants", "year": 2018},
        {"record_id": "c", "title": "Pushbacks at the border", "year": 2020},
        {"record_id": "d", "title": "Bird migration", "year": 2012},
    ]), source={"source_id": "db", "database": "Test"})
    yield store
    store.close()


def _widget(review, stage="title_abstract", reviewer="ana") -> ScreeningWidget:
    session = Screening(review, stage, reviewer=reviewer, rules=FIX / "tiny_rules.yaml",
                        criteria=FIX / "tiny_criteria.yaml", ranker=False)
    return ScreeningWidget(session)


def _events(review):
    events = review.decisions()
    return events.astype(object).where(events.notna(), None)[
        ["record_id", "decision", "reason", "note", "reviewer"]].values.tolist()


def test_buttons_write_events_and_advance(review):
    widget = _widget(review)
    assert set(widget.buttons) == {"include", "exclude", "maybe", "skip", "back"}
    first = widget.current
    assert first == "db:a"
    assert 'data-record-id="db:a"' in widget.card.value
    assert widget.progress.max == 4 and widget.progress.value == 0
    widget.note.value = "DiD on Frontex"
    widget.buttons["include"].click()
    assert _events(review) == [["db:a", "include", None, "DiD on Frontex", "ana"]]
    assert widget.current != first
    assert widget.note.value == ""
    assert widget.progress.value == 1
    assert "saved (event" in widget.status.value
    widget.reason.value = "TA_INTERVENTION"
    second = widget.current
    widget.buttons["exclude"].click()
    assert _events(review)[-1] == [second, "exclude", "TA_INTERVENTION", None, "ana"]
    assert widget.reason.value is None


def test_reason_only_kept_with_exclusions(review):
    widget = _widget(review)
    widget.reason.value = "TA_DESIGN"
    widget.buttons["maybe"].click()
    assert _events(review) == [["db:a", "maybe", None, None, "ana"]]


def test_keyboard_shortcuts(review):
    widget = _widget(review)
    widget.keys.value = "i"
    assert _events(review) == [["db:a", "include", None, None, "ana"]]
    assert widget.keys.value == ""
    widget.keys.value = "3"  # shortcut of TA_INTERVENTION in the criteria
    assert widget.reason.value == "TA_INTERVENTION"
    widget.keys.value = "e"
    assert _events(review)[-1][1:3] == ["exclude", "TA_INTERVENTION"]
    widget.press("m")
    assert _events(review)[-1][1] == "maybe"
    widget.press("x")
    assert "unknown key" in widget.status.value
    assert len(review.decisions()) == 3


def test_skip_and_back(review):
    widget = _widget(review)
    widget.buttons["skip"].click()
    assert widget.current == "db:b"
    assert review.decisions().empty
    widget.buttons["include"].click()
    widget.buttons["back"].click()
    assert widget.current == "db:b"
    assert "decide again" in widget.card.value
    widget.buttons["exclude"].click()
    assert _events(review) == [["db:b", "include", None, None, "ana"],
                               ["db:b", "exclude", None, None, "ana"]]
    assert widget.current == "db:c"  # db:a was skipped: it comes back when the rest is done
    widget.press("i")
    widget.press("i")
    assert widget.current == "db:a"
    fresh = _widget(review, reviewer="ben")
    fresh.press("b")
    assert "Nothing decided yet" in fresh.status.value


def test_full_text_exclusion_needs_a_reason(review):
    Screening(review, reviewer="ana", ranker=False).decide("db:a", "include")
    Screening(review, "retrieval", reviewer="ana", ranker=False).decide("db:a", "retrieved")
    widget = _widget(review, stage="full_text")
    assert widget.current == "db:a"
    widget.buttons["exclude"].click()
    assert "Choose a reason" in widget.status.value
    assert review.decisions(stage="full_text").empty
    widget.reason.value = "FT_DESIGN"
    widget.buttons["exclude"].click()
    assert review.decisions(stage="full_text")["reason"].tolist() == ["FT_DESIGN"]
    assert widget.current is None
    assert "No records left" in widget.card.value
    widget.buttons["include"].click()
    assert widget.status.value == "Nothing to decide."


def test_progress_label_shows_the_stopping_estimate(review):
    widget = _widget(review)
    for _ in range(4):
        widget.buttons["exclude"].click()
    assert widget.progress.value == 4
    assert "4 of 4 screened" in widget.progress_label.value
    assert "the stopping rule says stop" in widget.progress_label.value


def test_displays_as_a_widget(review):
    bundle = _widget(review)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
