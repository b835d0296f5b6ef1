"""Tagger quality on the fifth fresh held-out set of real records (issue 18, round 5).

249 records (70 not in English, 212 with an abstract) found on public web pages by a screener
who read only the codebook (``screening/README.md``, "What each tag means"), the protocol's
two strategy nodes and the *titles* of the earlier sets (to exclude them); not the rules, the
library or the tests. The fifth round's rules (commit d6acf80) were frozen before the set
existed and evaluated on it **once** by the lead; ``ROUND_5`` pins that run's title-only
figures as a floor. With abstracts (labeller's local file), the same run gave border
management P 0.900 R 0.727 and partnership P 0.918 R 0.747 (docs/screening.md, "Fifth fresh
set"). No abstracts in the fixture (copyright):
``python tests/test_screen_tagger_fresh5.py PATH/TO/records.csv`` prints them.

The sixth round's rules were written by studying this set's errors by class, with its
abstracts, so the set is development data now: ``TITLES_ONLY`` pins the sixth round's
title-only figures (development, not held out; docs/screening.md, "Sixth round").
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

LABELS = Path(__file__).resolve().parent / "fixtures" / "screen" / "tagger_fresh5_labels.csv"
EARLIER = ("tagger_fresh_labels.csv", "tagger_fresh3_labels.csv", "tagger_fresh4_labels.csv")
#: Measured once, titles only, with the frozen fifth-round rules: (tp, predicted, positives).
ROUND_5 = {"border_management": (51, 54, 99), "partnership_diplomacy": (37, 39, 75)}
#: Titles only, sixth-round rules, written by studying this set's errors by class (so these
#: are development figures, not held-out ones).
TITLES_ONLY = {"border_management": (69, 71, 99), "partnership_diplomacy": (43, 45, 75)}


def test_fixture_has_no_abstracts_and_the_documented_counts():
    assert_counts(labelled(LABELS), records=249, positives=(99, 75), both=43, not_english=70,
                  with_abstract=212, borderline=74)


def test_no_title_of_an_earlier_fresh_set_is_reused():
    assert_no_title_reused(LABELS, EARLIER)


def test_tagger_on_fifth_fresh_titles_keeps_the_once_measured_floor():
    assert_floor(labelled(LABELS), ROUND_5)


def test_tagger_on_fifth_fresh_titles_keeps_the_sixth_round_development_floor():
    assert_floor(labelled(LABELS), TITLES_ONLY)


def test_sixth_round_floor_is_above_the_once_measured_fifth_round():
    assert_floor_above(TITLES_ONLY, ROUND_5)


if __name__ == "__main__":  # pragma: no cover
    print_figures(labelled(LABELS), sys.argv[1] if len(sys.argv) > 1 else None)
