"""Property test: a team screens a stage the way a review team does, and the invariants hold.

Two or three reviewers (``reviewers_per_record`` 1, 2 or 3 by protocol) take turns in any
order, change their minds, close and reopen their sessions, and a search update with
copies of screened records arrives mid-stage (followed by a new deduplication run whose
primaries are the new copies). Checked after every step and at the end:

- no reviewer is shown a record (or a duplicate of one) they already decided;
- every record of the pool is accounted for: decided by a reviewer or excluded by a rule;
- when every queue is empty, each record has the protocol's number of reviewers;
- after adjudicating the conflicts, the session's resolved decisions are what PRISMA
  counts, and ``prisma_counts(...).check()`` passes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.protocol import Protocol, load_protocol
from evidence_synth.report import prisma_counts
from evidence_synth.screen import Screening

FIX = Path(__file__).resolve().parent / "fixtures"
RULES = FIX / "screen" / "tiny_rules.yaml"
CRITERIA = FIX / "screen" / "tiny_criteria.yaml"
TITLES = [
    "Frontex operations and irregular crossings", "Readmission agreements and returns",
    "Pushbacks at the land border", "Cash transfers and migration intentions",
    "Bird migration across the Sahara", "Database migration strategies",
    "The EU-Turkey statement and arrivals", "Border controls in the 1980s",
    "Hospital readmission after surgery", "Visa facilitation and partner states",
    "Coast guard training in Libya", "Remittances and household income",
]
STEP = st.tuples(st.integers(0, 2), st.sampled_from(["include", "exclude", "maybe"]),
                 st.sampled_from(["decide", "decide", "decide", "reopen", "change"]))


def _protocol(reviewers: int) -> Protocol:
    data = load_protocol(FIX / "protocol" / "minimal_v1.yaml").to_dict()
    data["stages"][0].update(decisions=["include", "exclude", "maybe"], auto_exclude=True,
                             reviewers_per_record=reviewers)
    data["screening"] = {"stopping_rule": {"method": "none"}}
    return Protocol.from_dict(data)


def _session(review, who: str) -> Screening:
    return Screening(review, reviewer=who, rules=RULES, criteria=CRITERIA, ranker=False)


def _decide(session: Screening, rid: str, decision: str) -> None:
    session.decide(rid, decision, reason="TA_DESIGN" if decision == "exclude" else None)


def _search_update(review) -> None:
    """Fuller copies of the first three records; the new run makes them the primaries."""
    copies = records_from_dicts([{"record_id": f"u{i}", "title": TITLES[i],
                                  "abstract": "A longer abstract of the same study."}
                                 for i in range(3)])
    review.add_records(copies, source={"source_id": "upd", "database": "Update"})
    ids = sorted(review.records()["record_id"])
    group = {**{f"db:{i}": f"G{i}" for i in range(3)}, **{f"upd:u{i}": f"G{i}" for i in range(3)}}
    review.save_duplicate_groups(pd.DataFrame({
        "record_id": ids, "group_id": [group.get(r, r) for r in ids],
        "is_primary": [not r.startswith("db:") or r not in group for r in ids]}))


def _check_shown(session: Screening, decided: dict[str, set[str]], stand_for) -> str | None:
    cards = session.next(1)
    if not len(cards):
        return None
    rid = cards.record_ids[0]
    mine = {stand_for(r) for r in decided[session.reviewer]}
    assert stand_for(rid) not in mine, f"{session.reviewer} shown {rid} again"
    return rid


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(reviewers=st.integers(1, 3), team=st.integers(2, 3),
       steps=st.lists(STEP, min_size=5, max_size=30), update_at=st.integers(0, 30))
def test_a_team_screens_a_stage_and_the_invariants_hold(reviewers, team, steps, update_at):
    with tempfile.TemporaryDirectory() as tmp:
        review = open_review(Path(tmp) / "review.db")
        review.add_records(records_from_dicts([
            {"record_id": str(i), "title": t, "year": 1985 if i == 7 else 2015}
            for i, t in enumerate(TITLES)]), source={"source_id": "db", "database": "Test"})
        review.set_protocol(_protocol(reviewers))
        names = ["ana", "ben", "carla"][:team]
        sessions = {w: _session(review, w) for w in names}
        sessions["ana"].apply_auto_exclusions()
        decided: dict[str, set[str]] = {w: set() for w in names}

        def stand_for(rid: str) -> str:
            return rid.replace("upd:u", "db:")  # the duplicate group of a search update copy

        for i, (who, decision, action) in enumerate(steps):
            if i == update_at:
                _search_update(review)
                for s in sessions.values():
                    s.refresh()
            session = sessions[names[who % team]]
            if action == "reopen":
                sessions[session.reviewer] = _session(review, session.reviewer)
                continue
            if action == "change" and decided[session.reviewer]:
                _decide(session, sorted(decided[session.reviewer])[0], decision)
                continue
            rid = _check_shown(session, decided, stand_for)
            if rid is not None:
                _decide(session, rid, decision)
                decided[session.reviewer].add(rid)
        # everyone works through their queue
        for _ in range(len(TITLES) * 2 + 6):
            for session in sessions.values():
                rid = _check_shown(session, decided, stand_for)
                if rid is not None:
                    _decide(session, rid, "exclude")
                    decided[session.reviewer].add(rid)
        lead = Screening(review, reviewer="ana", rules=RULES, criteria=CRITERIA,
                         ranker=False, blind=False)  # the lead sees every decision
        pool = set(lead.records()["record_id"])
        latest = lead.latest()
        n_reviewers = latest.groupby("record_id")["reviewer"].nunique()
        rules = set(lead.resolved().query("by == 'rule'")["record_id"])
        assert pool == set(n_reviewers.index) | rules  # every record accounted for
        assert (n_reviewers.reindex(sorted(pool - rules)) >= min(reviewers, team)).all()
        progress = lead.progress()
        assert progress.n_short == 0 or reviewers > team
        for rid in lead.conflicts()["record_id"]:
            lead.adjudicate(rid, "include", reviewer="dan")
        resolved = lead.resolved()
        counts = prisma_counts(review)
        passed = int(resolved["decision"].isin(["include", "maybe"]).sum())
        assert passed == counts.dbr_sought_reports
        assert counts.records_screened + counts.excluded_automatic == len(pool)
        if reviewers <= team:
            assert not [p for p in counts.problems if "fewer reviewers" in p
                        or "unresolved" in p]
        review.close()
