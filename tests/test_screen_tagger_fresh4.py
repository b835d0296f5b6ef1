"""Tagger quality on the fourth fresh held-out set of real records (issue 18, round 4).

247 records (76 not in English, 202 with an abstract) found on public web pages by a screener
who read only the codebook (``screening/README.md``, "What each tag means"), the protocol's
two strategy nodes and the *titles* of the earlier sets (to exclude them); not the rules, the
library or the tests. The fourth round's rules (commit cee55aa) were frozen before the set
existed and evaluated on it **once** by the lead; ``ROUND_4`` pins that run's title-only
figures as a floor. With abstracts (labeller's local file), the same run gave border
management P 0.955 R 0.677 and partnership P 0.891 R 0.781 (docs/screening.md, "Fourth fresh
set"). No abstracts in the fixture (copyright):
``python tests/test_screen_tagger_fresh4.py PATH/TO/records.csv`` prints them.

The fifth round's rules were written by studying this set's errors by class, with its
abstracts, so the set is development data now: ``TITLES_ONLY`` pins the fifth round's
title-only figures (development, not held out; docs/screening.md, "Fifth round").
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_screen_tagger_fresh import (
    assert_counts,
    assert_floor,
    assert_floor_above,
    assert_no_title_reused,
    labelled,
    print_figures,
)

LABELS = Path(__file__).resolve().parent / "fixtures" / "screen" / "tagger_fresh4_labels.csv"
EARLIER = ("tagger_fresh_labels.csv", "tagger_fresh3_labels.csv")
#: Measured once, titles only, with the frozen fourth-round rules: (tp, predicted, positives).
ROUND_4 = {"border_management": (39, 41, 93), "partnership_diplomacy": (52, 56, 73)}
#: Titles only, fifth-round rules, written by studying this set's errors by class (so these
#: are development figures, not held-out ones).
TITLES_ONLY = {"border_management": (54, 55, 93), "partnership_diplomacy": (62, 62, 73)}


def test_fixture_has_no_abstracts_and_the_documented_counts():
    assert_counts(labelled(LABELS), records=247, positives=(93, 73), both=37, not_english=76,
                  with_abstract=202, borderline=72)


def test_no_title_of_an_earlier_fresh_set_is_reused():
    assert_no_title_reused(LABELS, EARLIER)


def test_tagger_on_fourth_fresh_titles_keeps_the_once_measured_floor():
    assert_floor(labelled(LABELS), ROUND_4)


def test_tagger_on_fourth_fresh_titles_keeps_the_fifth_round_development_floor():
    assert_floor(labelled(LABELS), TITLES_ONLY)


def test_fifth_round_floor_is_above_the_once_measured_fourth_round():
    assert_floor_above(TITLES_ONLY, ROUND_4)


if __name__ == "__main__":  # pragma: no cover
    print_figures(labelled(LABELS), sys.argv[1] if len(sys.argv) > 1 else None)
