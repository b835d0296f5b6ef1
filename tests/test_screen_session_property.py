"""Property test: any queue of records can be screened to the end, cards and scores included.

Records are generated with empty, blank or missing titles and abstracts, huge abstracts,
non-Latin scripts, combining marks, right-to-left text, emoji and control characters; two
reviewers (one blind, one not, dual screening by protocol) screen the whole queue with the
model retrained every two decisions, and the PRISMA counts are computed from the result.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

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

SCRIPTS = (
    "border migration readmission agreement Frontex coast guard partnership "
    "الحدود الهجرة اتفاق "           # Arabic (right to left)
    "边境 移民 协议 "                  # Chinese
    "граница миграция соглашение "    # Cyrillic
    "सीमा प्रवासन समझौता "               # Devanagari
    "e\u0301 \u200f\u200e \ufeff 🛂🚢 \t\r\n\x0b\x7f"  # combining mark, RTL/LTR marks, BOM
)
WORDS = st.text(alphabet=st.sampled_from(SCRIPTS) | st.characters(exclude_categories=("Cs",)),
                max_size=40)
FIELD = st.one_of(
    st.none(), st.just(""), st.just("   \n\t "), WORDS,
    st.builds(lambda w, n: (w or "x ") * n, WORDS, st.integers(500, 3000)),  # huge
)
RECORD = st.fixed_dictionaries({
    "title": FIELD, "abstract": FIELD,
    "year": st.one_of(st.none(), st.integers(1900, 2030)),
    "pub_type": st.one_of(st.none(), st.sampled_from(["Editorial", "Journal Article", ""])),
})
DECISION = st.sampled_from(["include", "exclude", "maybe"])


def _protocol() -> Protocol:
    data = load_protocol(FIX / "protocol" / "minimal_v1.yaml").to_dict()
    data["stages"][0].update(decisions=["include", "exclude", "maybe"], auto_exclude=True)
    return Protocol.from_dict(data)


def _screen_to_the_end(session: Screening, decisions: list[str], pool: set[str]) -> list[str]:
    seen = []
    for step in range(len(pool) + 1):
        cards = session.next(2)
        if not len(cards):
            break
        card = cards[0]
        assert card["record_id"] in pool and card["record_id"] not in seen
        assert math.isfinite(card["score"])
        assert isinstance(card["html"], str) and card["record_id"] in card["html"]
        assert isinstance(card["title"], str) and isinstance(card["why"], str)
        cards._repr_html_()
        cards.to_frame()
        decision = decisions[step % len(decisions)]
        session.decide(card["record_id"], decision,
                       reason="TA_DESIGN" if decision == "exclude" else None)
        seen.append(card["record_id"])
    return seen


@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records=st.lists(RECORD, min_size=1, max_size=9),
       decisions=st.lists(DECISION, min_size=1, max_size=6))
def test_any_queue_of_records_is_screened_to_the_end(records, decisions):
    with tempfile.TemporaryDirectory() as tmp:
        review = open_review(Path(tmp) / "r.db")
        try:
            frame = records_from_dicts(
                {"record_id": str(i), **rec} for i, rec in enumerate(records))
            review.add_records(frame, source={"source_id": "db", "database": "Test"})
            review.set_protocol(_protocol())
            ana = Screening(review, reviewer="ana", rules=RULES, criteria=CRITERIA,
                            retrain_every=2)
            ana.apply_auto_exclusions()
            eligible = set(ana._eligible()["record_id"])
            seen = _screen_to_the_end(ana, decisions, eligible)
            assert set(seen) == eligible
            ben = Screening(review, reviewer="ben", rules=RULES, criteria=CRITERIA,
                            retrain_every=2, blind=False)
            assert set(_screen_to_the_end(ben, decisions[::-1], eligible)) == eligible
            for who in (ana, ben):
                progress = who.progress()
                assert progress.n_remaining == 0 and progress.n_short == 0
                assert who.queue().empty
                progress.summary()
            ben.conflicts()
            ben.agreement()
            prisma_counts(review).summary()
        finally:
            review.close()
