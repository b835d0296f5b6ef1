"""Screening sessions: cards, decisions, blind dual review, conflicts, agreement, CSV, CLI."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from evidence_synth import open_review
from evidence_synth.cli.screen import command as screen_command
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import ParseError, ProtocolError, StoreError
from evidence_synth.screen import NIrrelevantInARow, Screening, default_stopping_rule

FIX = Path(__file__).resolve().parent / "fixtures" / "screen"
RULES = FIX / "tiny_rules.yaml"
CRITERIA = FIX / "tiny_criteria.yaml"

ROWS = [
    ("a", "Frontex operations and irregular crossings", "A difference-in-differences "
     "study of Frontex joint operations and migrant arrivals.", 2015, None),
    ("b", "Readmission agreements and returns of migrants", "Panel evidence on "
     "readmission agreements and return rates of rejected asylum seekers.", 2018, None),
    ("c", "Pushbacks at the land border", "Interviews with refugees about push-backs.",
     2020, None),
    ("d", "Cash transfers and migration intentions", "A randomised trial of cash "
     "transfers and intentions to migrate.", 2019, None),
    ("e", "Bird migration across the Sahara", "Tracking of migratory birds.", 2012, None),
    ("f", "Database migration strategies", "Moving databases to the cloud.", 2021, None),
    ("g", "The EU-Turkey statement and arrivals", "An interrupted time series of "
     "arrivals on the Aegean islands.", 2019, None),
    ("h", "Migration deals: an editorial", "We comment on migration deals.", 2017,
     "Editorial"),
    ("i", "Border controls in the 1980s", "Historical account of border control.", 1985,
     None),
    ("j", "Hospital readmission after surgery", "A cohort of 300 patients.", 2016, None),
]


def _make_review(path: Path):
    review = open_review(path / "review.db")
    frame = records_from_dicts([
        {"record_id": rid, "title": t, "abstract": a, "year": y, "pub_type": p}
        for rid, t, a, y, p in ROWS
    ])
    review.add_records(frame, source={"source_id": "db", "database": "Test"})
    return review


@pytest.fixture
def review(tmp_path):
    store = _make_review(tmp_path)
    yield store
    store.close()


def _session(review, reviewer="ana", **kw) -> Screening:
    kw.setdefault("rules", RULES)
    kw.setdefault("criteria", CRITERIA)
    return Screening(review, reviewer=reviewer, **kw)


def _latest(review, stage="title_abstract"):
    events = review.decisions(stage=stage)
    events = events.drop_duplicates(["record_id", "reviewer", "kind"], keep="last")
    return events.astype(object).where(events.notna(), None)


# -- cards and decisions -------------------------------------------------------------------


def test_next_returns_html_cards_ranked_by_rules_at_cold_start(review):
    cards = _session(review).next(3)
    frame = cards.to_frame()
    assert list(frame.columns) == ["rank", "record_id", "score", "source", "title", "year",
                                   "tags", "rules", "why"]
    assert frame["rank"].tolist() == [1, 2, 3]
    assert frame["record_id"].tolist()[0] == "db:a"  # Frontex (weight 2) ranks first
    assert frame["source"].unique().tolist() == ["cold_start"]
    html = cards._repr_html_()
    assert html.count('class="es-card"') == 3
    assert '<mark class="es-hit" title="frontex"' in html
    assert "ext:border_management" in html
    assert "rules: Frontex" in cards[0]["why"]


def test_decide_writes_an_event_at_once_and_validates(review):
    session = _session(review)
    event = session.decide("db:a", "include", note="clear")
    events = review.decisions()
    assert events[["event_id", "record_id", "decision", "reviewer", "actor", "kind",
                   "note"]].values.tolist() == [
        [event, "db:a", "include", "ana", "human", "screen", "clear"]]
    with pytest.raises(StoreError, match="must be one of include, exclude, maybe"):
        session.decide("db:b", "reject")
    with pytest.raises(StoreError, match="TA_NOWHERE"):
        session.decide("db:b", "exclude", reason="TA_NOWHERE")
    with pytest.raises(StoreError, match="unknown record_id"):
        session.decide("db:zz", "exclude")
    assert len(review.decisions()) == 1
    assert "db:a" not in session.next(10).record_ids


def test_changed_mind_is_a_new_event_and_the_latest_counts(review):
    session = _session(review)
    session.decide("db:c", "exclude", reason="TA_DESIGN")
    session.decide("db:c", "include")
    assert review.decisions()["decision"].tolist() == ["exclude", "include"]
    assert session.my_decisions()["decision"].tolist() == ["include"]
    assert session.progress().n_included == 1


def test_ranker_takes_over_with_explanations(review):
    session = _session(review, retrain_every=1)
    for rid in ("a", "b", "c"):
        session.decide(f"db:{rid}", "include")
    for rid in ("e", "f"):
        session.decide(f"db:{rid}", "exclude", reason="TA_INTERVENTION")
    cards = session.next(5)
    assert set(cards.to_frame()["source"]) == {"model"}
    assert any("for:" in c["why"] or "against:" in c["why"] for c in cards)
    assert not set(cards.record_ids) & {"db:a", "db:b", "db:c", "db:e", "db:f"}


def test_background_refit_keeps_serving_the_current_ranking(review):
    session = _session(review, retrain_every=2, background=True)
    assert session.next(1).to_frame()["source"].tolist() == ["cold_start"]
    session.decide("db:a", "include")
    session.decide("db:e", "exclude")
    cards = session.next(2)  # refit starts in a thread; the old ranking is shown meanwhile
    assert set(cards.to_frame()["source"]) == {"cold_start"}
    session._collect_refit(wait=True)
    assert set(session.next(2).to_frame()["source"]) == {"model"}


def test_without_ranker_and_rules_import_order(review):
    cards = Screening(review, reviewer="ana", ranker=False).next(3)
    assert cards.record_ids == ["db:a", "db:b", "db:c"]
    assert cards[0]["why"] == ""


# -- automation ----------------------------------------------------------------------------


def test_apply_auto_exclusions_writes_rule_events_once(review):
    session = _session(review)
    done = session.apply_auto_exclusions()
    assert done[["record_id", "reason", "by"]].values.tolist() == [
        ["db:h", "TA_PUBLICATION_TYPE", "rule:editorial_type"],
        ["db:i", "TA_BEFORE_CUTOFF", "year_before:1990"],
    ]
    events = review.decisions()
    assert events["actor"].tolist() == ["rule", "rule"]
    assert events["reviewer"].tolist() == ["rules:tiny_rules.yaml"] * 2
    assert session.apply_auto_exclusions().empty
    assert len(review.decisions()) == 2
    assert not {"db:h", "db:i"} & set(session.next(10).record_ids)
    progress = session.progress()
    assert (progress.n_records, progress.n_auto_excluded) == (8, 2)
    resolved = _session(review, "lead", blind=False).resolved().set_index("record_id")
    assert resolved.loc["db:h", "by"] == "rule"


def test_auto_exclusion_refused_when_the_protocol_forbids_it(review):
    protocol_path = Path(__file__).resolve().parents[1] / "protocols" / (
        "irregular-migration-egm-update.yaml")
    if not protocol_path.exists():
        pytest.skip("protocol not present")
    from evidence_synth.protocol import load_protocol

    review.set_protocol(load_protocol(protocol_path))
    session = _session(review)
    session.decide("db:a", "include")
    full_text = _session(review, stage="full_text")
    assert full_text.decisions_allowed == ("include", "exclude")  # the protocol's
    with pytest.raises(ProtocolError, match="does not allow automatic exclusion"):
        full_text.apply_auto_exclusions()
    assert len(session.apply_auto_exclusions()) == 2  # title/abstract: allowed


def test_needs_rules_and_criteria_for_auto_exclusion(review):
    with pytest.raises(ProtocolError, match="needs both rules and criteria"):
        Screening(review, reviewer="ana", rules=RULES).apply_auto_exclusions()


# -- dual review ---------------------------------------------------------------------------


def test_blind_reviewers_see_only_their_own_decisions(review):
    ana, ben = _session(review, "ana"), _session(review, "ben")
    ana.decide("db:a", "include")
    ana.decide("db:e", "exclude")
    assert "db:a" in ben.next(10).record_ids
    assert "other reviewers" not in ben.next(10)._repr_html_()
    assert ben.my_decisions().empty
    assert ben.progress().n_screened == 0
    open_ben = _session(review, "ben", blind=False)
    html = open_ben.next(10)._repr_html_()
    assert "other reviewers: ana: include" in html


def test_conflicts_adjudication_and_resolution(review):
    ana, ben = _session(review, "ana"), _session(review, "ben")
    ana.decide("db:a", "include")
    ben.decide("db:a", "exclude", reason="TA_DESIGN")
    ana.decide("db:b", "include")
    ben.decide("db:b", "include")
    ana.decide("db:c", "exclude", reason="TA_INTERVENTION")
    ben.decide("db:c", "maybe")
    lead = _session(review, "lead", blind=False)  # reviewers are blind; the lead is not
    conflicts = lead.conflicts()
    assert conflicts[["record_id", "ana", "ben", "adjudicated"]].values.tolist() == [
        ["db:a", "include", "exclude", False], ["db:c", "exclude", "maybe", False]]
    assert conflicts["reasons"].tolist() == ["ben: TA_DESIGN", "ana: TA_INTERVENTION"]
    assert ana.progress().n_conflicts is None  # blind: nothing about others' decisions
    assert "conflict" not in ana.progress().summary()
    assert _session(review, "ana", blind=False).progress().n_conflicts == 2
    event = ana.adjudicate("db:a", "include", reviewer="carla")
    assert review.decisions().set_index("event_id").loc[event, "kind"] == "adjudication"
    conflicts = lead.conflicts()
    assert conflicts["adjudicated"].tolist() == [True, False]
    assert conflicts["adjudication"].tolist()[0] == "include"
    ben.decide("db:c", "exclude")  # ben changes his mind: no conflict left on c
    assert lead.conflicts()["record_id"].tolist() == ["db:a"]
    resolved = lead.resolved().set_index("record_id")
    assert resolved.loc[["db:a", "db:b", "db:c"], "by"].tolist() == [
        "adjudication", "agreement", "agreement"]
    assert "db:a" in lead.latest()["record_id"].tolist()


def test_next_stage_pool_follows_resolved_and_liberal_title_abstract(review):
    ana, ben = _session(review, "ana"), _session(review, "ben")
    for rid, a, b in (("a", "include", "include"), ("b", "include", "exclude"),
                      ("c", "exclude", "exclude"), ("d", "maybe", "exclude")):
        ana.decide(f"db:{rid}", a)
        ben.decide(f"db:{rid}", b)
    ana.adjudicate("db:d", "exclude", reviewer="carla")
    retrieval = Screening(review, "retrieval", reviewer="ana", ranker=False)
    assert sorted(retrieval.records()["record_id"]) == ["db:a", "db:b"]
    retrieval.decide("db:a", "retrieved")
    retrieval.decide("db:b", "not_retrieved")
    full_text = Screening(review, "full_text", reviewer="ana", ranker=False)
    assert full_text.records()["record_id"].tolist() == ["db:a"]


def test_agreement_per_stage_and_pair(review):
    ana, ben, cai = (_session(review, r) for r in ("ana", "ben", "cai"))
    pairs = [("include", "include")] * 3 + [("exclude", "exclude")] * 5 + [
        ("include", "exclude"), ("exclude", "include")]
    for (rid, *_), (a, b) in zip(ROWS, pairs, strict=True):
        ana.decide(f"db:{rid}", a)
        ben.decide(f"db:{rid}", b)
    ana.decide("db:a", "exclude")  # the latest decision counts
    ana.decide("db:a", "include")
    cai.decide("db:a", "include")
    result = _session(review, "lead", blind=False).agreement()
    assert result[["stage", "reviewer_a", "reviewer_b", "n"]].values.tolist() == [
        ["title_abstract", "ana", "ben", 10]]
    row = result.iloc[0]
    # po = 0.8, both raters include 40%: kappa = (0.8 - 0.52) / 0.48, PABAK = 2 po - 1,
    # AC1 = (0.8 - 0.48) / 0.52 (Gwet 2008 with pi_include = 0.4).
    assert row["observed"] == pytest.approx(0.8)
    assert row["kappa"] == pytest.approx(0.28 / 0.48)
    assert row["pabak"] == pytest.approx(0.6)
    assert row["ac1"] == pytest.approx(0.32 / 0.52)
    assert row["kappa_low"] < row["kappa"] < row["kappa_high"]
    lead = _session(review, "lead", blind=False)
    assert lead.agreement(stage=None)["stage"].tolist() == ["title_abstract"]


# -- progress and stopping -----------------------------------------------------------------


def test_progress_and_stop_check(review, capsys):
    session = _session(review, stopping=NIrrelevantInARow(3))
    progress = session.progress()
    assert (progress.n_records, progress.n_screened, progress.n_remaining) == (10, 0, 10)
    for rid in ("a", "e", "f", "j"):
        session.decide(f"db:{rid}", "include" if rid == "a" else "exclude")
    decision = session.stop_check()
    assert decision.stop
    out = capsys.readouterr().out
    assert out.startswith("STOP: NIrrelevantInARow")
    assert "screened 4 of 10 records" in out
    progress = session.progress()
    assert (progress.n_screened, progress.n_included, progress.n_excluded) == (4, 1, 3)
    assert progress.stop
    assert "4 of 10 screened (40%)" in progress.summary()
    assert progress.to_frame()["n_remaining"].tolist() == [6]


def test_default_stopping_reports_estimated_recall(review, capsys):
    session = _session(review)
    assert repr(session.stopping) == repr(default_stopping_rule())
    for rid, *_ in ROWS:
        session.decide(f"db:{rid}", "include" if rid in "abcg" else "exclude")
    decision = session.stop_check()
    assert decision.stop and decision.estimated_recall == 1.0
    assert "estimated recall >= 1.000" in capsys.readouterr().out


# -- CSV exchange --------------------------------------------------------------------------


def test_export_import_round_trip(review, tmp_path):
    ana = _session(review, "ana")
    ana.decide("db:a", "include", note="frontex, DiD")
    ana.decide("db:e", "exclude", reason="TA_INTERVENTION")
    ana.adjudicate("db:a", "include", reviewer="carla")
    lead = _session(review, "lead", blind=False)  # a blind export holds ana's only
    assert set(ana.export_decisions(tmp_path / "ana.csv")["reviewer"]) == {"ana"}
    exported = lead.export_decisions(tmp_path / "out.csv")
    assert exported[["record_id", "decision", "reviewer", "kind"]].values.tolist() == [
        ["db:a", "include", "ana", "screen"], ["db:e", "exclude", "ana", "screen"],
        ["db:a", "include", "carla", "adjudication"]]
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = _make_review(other_dir)
    written = _session(other, "ana").import_decisions(tmp_path / "out.csv")
    assert len(written) == 3
    assert _latest(other)[["record_id", "decision", "reason", "note", "reviewer", "kind"]
                          ].values.tolist() == [
        ["db:a", "include", None, "frontex, DiD", "ana", "screen"],
        ["db:e", "exclude", "TA_INTERVENTION", None, "ana", "screen"],
        ["db:a", "include", None, None, "carla", "adjudication"]]
    again = _session(other, "ana").import_decisions(tmp_path / "out.csv")
    assert again.empty
    other.close()


def test_import_reports_every_bad_row_with_its_line(review, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "record_id,decision,reason,note\n"
        "db:a,include,,\n"
        "db:zz,exclude,,\n"
        'db:b,reject,,"a note\nover two lines"\n'
        "db:c,exclude,TA_NOWHERE,\n"
        "db:a,exclude,,\n"
        "db:d,,,\n",
        encoding="utf-8",
    )
    with pytest.raises(ParseError) as info:
        _session(review).import_decisions(path, reviewer="ben")
    problems = info.value.problems
    assert problems["line"].tolist() == [3, 4, 6, 7]
    assert problems["record_id"].tolist() == ["db:zz", "db:b", "db:c", "db:a"]
    assert "unknown record_id 'db:zz'" in problems["problem"][0]
    assert "second decision for record 'db:a'" in problems["problem"][3]
    assert str(path) in str(info.value)
    assert review.decisions().empty  # all or nothing


def test_import_reviewer_and_required_columns(review, tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("record_id,decision,reviewer\ndb:a,include,\ndb:b,include,ben\n",
                    encoding="utf-8")
    written = _session(review).import_decisions(path)
    assert written["reviewer"].tolist() == ["ana", "ben"]  # the session's, then the column's
    path.write_text("id,decision\n", encoding="utf-8")
    with pytest.raises(ParseError, match="line 1: expected columns record_id and decision"):
        _session(review).import_decisions(path, reviewer="ana")
    with pytest.raises(ParseError, match="file not found"):
        _session(review).import_decisions(tmp_path / "missing.csv", reviewer="ana")


def test_queue_file_filled_in_and_imported(review, tmp_path):
    session = _session(review, "ben")
    queue = session.queue()
    assert queue["rank"].tolist() == list(range(1, 11))
    assert queue.loc[0, "tags"] == "ext:border_management"
    queue.loc[0, "decision"] = "include"
    queue.loc[1, ["decision", "reason"]] = ["exclude", "TA_DESIGN"]
    queue.to_csv(tmp_path / "queue.csv", index=False)
    written = session.import_decisions(tmp_path / "queue.csv")
    assert written["decision"].tolist() == ["include", "exclude"]
    assert written["reason"].isna().tolist() == [True, False]
    assert written["reviewer"].tolist() == ["ben", "ben"]


# -- CLI -----------------------------------------------------------------------------------


def test_cli_exports_queue_and_imports_decisions(tmp_path):
    _make_review(tmp_path).close()
    db = str(tmp_path / "review.db")
    runner = CliRunner()
    result = runner.invoke(screen_command, [
        db, "--export-queue", str(tmp_path / "q.csv"), "--rules", str(RULES),
        "--criteria", str(CRITERIA), "--apply-auto-exclusions"])
    assert result.exit_code == 0, result.output
    assert "2 records excluded by rules" in result.output
    assert "8 records written" in result.output
    queue = pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False)
    assert queue["record_id"].iloc[0] == "db:a"
    assert {"rank", "score", "tags", "decision", "reason", "note"} <= set(queue.columns)
    queue.loc[0, "decision"] = "include"
    queue.to_csv(tmp_path / "d.csv", index=False)
    result = runner.invoke(screen_command, [db, "--import-decisions", str(tmp_path / "d.csv"),
                                            "--reviewer", "ana"])
    assert result.exit_code == 0, result.output
    assert "1 decisions imported" in result.output
    result = runner.invoke(screen_command, [db, "--export-queue", str(tmp_path / "q2.csv")])
    assert "7 records written" in result.output


def test_cli_errors_are_one_line(tmp_path):
    _make_review(tmp_path).close()
    db = str(tmp_path / "review.db")
    (tmp_path / "bad.csv").write_text("record_id,decision\ndb:zz,include\ndb:a,nope\n",
                                      encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(screen_command, [db, "--import-decisions",
                                            str(tmp_path / "bad.csv"), "--reviewer", "ana"])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert "line 2: unknown record_id 'db:zz'; line 3: decision" in lines[0]
    result = runner.invoke(screen_command, [db, "--import-decisions",
                                            str(tmp_path / "bad.csv")])
    assert result.output.strip() == f"Error: {tmp_path / 'bad.csv'}: no reviewer column; " \
        "pass --reviewer NAME"
    result = runner.invoke(screen_command, [str(tmp_path / "none.db"), "--export-queue", "q"])
    assert result.exit_code == 1 and "no review store here" in result.output
    result = runner.invoke(screen_command, [db])
    assert result.exit_code == 2 and "nothing to do" in result.output
    result = runner.invoke(screen_command, ["--help"])
    assert result.exit_code == 0 and "--export-queue" in result.output


# -- the protocol drives the session ---------------------------------------------------------

PROTOCOL_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "protocol" / "minimal_v1.yaml"


def _protocol(reviewers: int = 2, **screening):
    from evidence_synth.protocol import Protocol, load_protocol

    data = load_protocol(PROTOCOL_FIXTURE).to_dict()
    data["stages"][0].update(decisions=["include", "exclude", "maybe"],
                             reviewers_per_record=reviewers, auto_exclude=True)
    data["screening"] = {"stopping_rule": {"method": "callaghan_muller_hansen"}, **screening}
    return Protocol.from_dict(data)


def test_protocol_chooses_stopping_rule_prioritisation_and_seed(review):
    from evidence_synth.screen import stopping_rule

    review.set_protocol(_protocol(stopping_rule={"method": "sneyd_stevenson",
                                                 "target_recall": 0.9}))
    session = _session(review, random_state=7)
    assert repr(session.stopping) == repr(stopping_rule("sneyd_stevenson", target_recall=0.9))
    assert session.ranker.random_state == 7
    assert _session(review, stopping=NIrrelevantInARow(3)).stopping.n == 3
    assert _session(review, stopping=False).stopping is None
    review.set_protocol(_protocol(prioritisation="none",
                                  stopping_rule={"method": "none"}))
    session = _session(review)
    assert session.ranker is None and session.stopping is None
    assert session.next(1).to_frame()["source"].tolist() == ["rules"]
    decision = session.stop_check(report=False)
    assert not decision.stop and decision.rule.startswith("none")


def test_dual_screening_second_reviewer_catches_up_first(review):
    review.set_protocol(_protocol(reviewers=2))
    ana, ben = _session(review, "ana"), _session(review, "ben")
    assert ana.reviewers_per_record == 2
    for _ in range(3):
        ana.decide(ana.next(1).record_ids[0], "exclude")
    ana_first = set(ana.my_decisions()["record_id"])
    # ben is offered ana's three records first (in his own ranked order), then new ones
    assert set(ben.next(3).record_ids) == ana_first
    assert ben.progress().n_waiting == 3
    # they alternate: ben works through what ana opened, ana stays 3 records ahead
    for _ in range(4):
        for who in (ana, ben):
            who.decide(who.next(1).record_ids[0], "exclude")
    assert set(ben.my_decisions()["record_id"]) < set(ana.my_decisions()["record_id"])
    progress = ben.progress()
    assert (progress.n_started, progress.n_covered, progress.n_short) == (7, 4, 3)
    assert progress.n_waiting == 3
    assert "4 of 7 started records have 2 reviewers, 3 wait for you" in progress.summary()
    assert "conflict" not in progress.summary()
    assert ana.progress().n_waiting == 0
    for _ in range(3):
        ben.decide(ben.next(1).record_ids[0], "exclude")
    assert set(ben.my_decisions()["record_id"]) == set(ana.my_decisions()["record_id"])
    assert ben.progress().n_short == 0


def test_single_screening_splits_the_pool(review):
    review.set_protocol(_protocol(reviewers=1))
    ana, ben = _session(review, "ana"), _session(review, "ben")
    ana.decide("db:a", "include")
    assert ben.next(10).record_ids[-1] == "db:a"  # already covered: offered last
    assert ana.progress().summary().count("reviewers") == 0


def test_close_at_stop_excludes_what_nobody_screened(review, capsys):
    review.set_protocol(_protocol(reviewers=1))
    session = _session(review, stopping=NIrrelevantInARow(3), ranker=False)
    session.apply_auto_exclusions()
    session.decide("db:a", "include")
    with pytest.raises(StoreError, match="does not say stop yet for ana"):
        session.close_at_stop()
    for rid in ("e", "f", "j"):
        session.decide(f"db:{rid}", "exclude", reason="TA_INTERVENTION")
    closed = session.close_at_stop()
    assert sorted(closed["record_id"]) == ["db:b", "db:c", "db:d", "db:g"]
    events = review.decisions().set_index("record_id").loc[list(closed["record_id"])]
    assert set(events["actor"]) == {"model"} and set(events["reviewer"]) == {"stopping rule"}
    assert events["note"].iloc[0].startswith("closed at the stop by ana:\nSTOP: NIrrelevant")
    assert len(session.next(5)) == 0
    assert session.progress().n_remaining == 0
    lead = _session(review, "lead", blind=False, ranker=False)
    resolved = lead.resolved().set_index("record_id")
    assert resolved.loc["db:b", "by"] == "model"
    from evidence_synth.report import prisma_counts

    counts = prisma_counts(review)
    assert counts.records_excluded_automation == 4
    assert counts.excluded_automatic == 2  # the rules' exclusions, before screening
    assert counts.records_screened == 8
    assert len(counts.stopping_reports) == 1
    assert "records left unscreened were excluded at a stop" in counts.summary()
    # a reviewer who reads a closed record later overrides the exclusion
    session.decide("db:b", "include")
    assert lead.resolved().set_index("record_id").loc["db:b", "by"] == "agreement"
    # stages where the protocol forbids automatic exclusion refuse
    with pytest.raises(ProtocolError, match="does not allow automatic exclusion"):
        Screening(review, "full_text", reviewer="ana", stopping=NIrrelevantInARow(1)
                  ).close_at_stop()


def test_cli_close_at_stop(tmp_path):
    review = _make_review(tmp_path)
    review.set_protocol(_protocol(reviewers=1, stopping_rule={"method": "knee"}))
    review.close()
    db = str(tmp_path / "review.db")
    runner = CliRunner()
    result = runner.invoke(screen_command, [db, "--close-at-stop"])
    assert result.exit_code == 2 and "--close-at-stop needs --reviewer" in result.output
    result = runner.invoke(screen_command, [db, "--close-at-stop", "--reviewer", "ana",
                                            "--rules", str(RULES), "--criteria", str(CRITERIA)])
    assert result.exit_code == 1
    assert "the stopping rule does not say stop yet for ana" in result.output
