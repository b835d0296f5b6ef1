"""Tagger quality on the third to seventh fresh held-out sets of real records (issue 18).

Each set was found on public web pages and labelled by reading by a screener who saw
neither the rules, the library nor the tests, only the labelling definitions of its round
(the protocol for t3; the codebook, ``screening/README.md`` "What each tag means", from t4)
and the *titles* of the earlier sets, to exclude them. Each round's rules were frozen
(commit named below) before the next set was evaluated, and the lead evaluated them on it
**once**: ``once`` pins that run's title-only figures as a floor. The following round's
rules were written by studying the set's errors by class, with its abstracts, so the set is
development data afterwards: ``development`` pins that round's title-only figures
(development, not held out). docs/screening.md ("Third fresh set" ... "Seventh fresh set")
has the figures with abstracts and how each set was built; tests/fixtures/screen/README.md
lists the fixtures. The fixtures have no abstracts (copyright):
``python tests/test_screen_tagger_fresh_sets.py t5 PATH/TO/records.csv`` prints the figures
with abstracts from the labeller's local file.

The second fresh set (t2) and the helpers are in ``tests/test_screen_tagger_fresh.py``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_screen_tagger_fresh import (
    assert_counts,
    assert_floor,
    assert_floor_above,
    assert_no_title_reused,
    labelled,
    print_figures,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "screen"
Floor = dict[str, tuple[int, int, int]]  # tag -> (tp, predicted, positives), titles only


@dataclass(frozen=True)
class FreshSet:
    """A fresh set's fixture, documented counts and title-only floors."""

    name: str
    fixture: str
    counts: dict[str, int | tuple[int, int]]
    once: Floor
    development: Floor | None = None

    def frame(self):
        return labelled(FIXTURES / self.fixture)


SETS = [
    # 248 records, labelled against criteria I2/I3 and the strategy nodes with the
    # borderline rules of docs/screening.md. Once: third round (rules blob 03ae4e5).
    # Development: fourth round; the sixth round measured "A Tale of Two Agreements: EU
    # Migration Cooperation with Morocco and Tunisia" (border management 0 here) with both
    # tags, as codebook rule 9 gives the EU-Tunisia package, and "The Italian Migration
    # Policy in Libya" (both tags here) with border management too: 63/63 -> 64/65.
    FreshSet("t3", "tagger_fresh3_labels.csv",
             {"records": 248, "positives": (73, 65), "both": 27, "not_english": 51,
              "with_abstract": 209, "borderline": 53},
             once={"border_management": (43, 44, 73), "partnership_diplomacy": (34, 36, 65)},
             development={"border_management": (64, 65, 73),
                          "partnership_diplomacy": (48, 49, 65)}),
    # 247 records. Once: fourth round (commit cee55aa; with abstracts border management
    # P 0.955 R 0.677, partnership P 0.891 R 0.781). Development: fifth round.
    FreshSet("t4", "tagger_fresh4_labels.csv",
             {"records": 247, "positives": (93, 73), "both": 37, "not_english": 76,
              "with_abstract": 202, "borderline": 72},
             once={"border_management": (39, 41, 93), "partnership_diplomacy": (52, 56, 73)},
             development={"border_management": (54, 55, 93),
                          "partnership_diplomacy": (62, 62, 73)}),
    # 249 records. Once: fifth round (commit d6acf80; with abstracts border management
    # P 0.900 R 0.727, partnership P 0.918 R 0.747). Development: sixth round.
    FreshSet("t5", "tagger_fresh5_labels.csv",
             {"records": 249, "positives": (99, 75), "both": 43, "not_english": 70,
              "with_abstract": 212, "borderline": 74},
             once={"border_management": (51, 54, 99), "partnership_diplomacy": (37, 39, 75)},
             development={"border_management": (69, 71, 99),
                          "partnership_diplomacy": (43, 45, 75)}),
    # 259 records collected; two whose titles repeat development titles (a GAPs instrument
    # and the agreement a Council decision concludes) are left out. Once: sixth round
    # (commit 9e99995; with abstracts border management P 0.875 R 0.884, partnership
    # P 0.932 R 0.733; the fifth round's rules 0.870 / 0.842 and 0.930 / 0.707).
    # Development: seventh round (with abstracts 0.938 / 0.947 and 0.985 / 0.893).
    FreshSet("t6", "tagger_fresh6_labels.csv",
             {"records": 257, "positives": (95, 75), "both": 37, "not_english": 91,
              "with_abstract": 223, "borderline": 109},
             once={"border_management": (48, 56, 95), "partnership_diplomacy": (38, 39, 75)},
             development={"border_management": (53, 55, 95),
                          "partnership_diplomacy": (50, 50, 75)}),
    # 250 records collected; one whose title repeats a GAPs instrument (UK-Rwanda) is left
    # out. Once: seventh round (commit 235cdca; with abstracts border management P 0.852
    # R 0.824, partnership P 0.924 R 0.753; the sixth round's rules 0.847 / 0.791 and
    # 0.937 / 0.728). A second coder, blind to these labels: 0.967 / 0.967 and
    # 0.952 / 0.988 against them.
    FreshSet("t7", "tagger_fresh7_labels.csv",
             {"records": 249, "positives": (91, 81), "both": 40, "not_english": 94,
              "with_abstract": 225, "borderline": 73},
             once={"border_management": (42, 47, 91), "partnership_diplomacy": (39, 40, 81)}),
]
DEVELOPED = [s for s in SETS if s.development is not None]


def _ids(sets: list[FreshSet]) -> list[str]:
    return [s.name for s in sets]


@pytest.mark.parametrize("fresh", SETS, ids=_ids(SETS))
def test_fixture_has_no_abstracts_and_the_documented_counts(fresh):
    assert_counts(fresh.frame(), **fresh.counts)


@pytest.mark.parametrize("fresh", SETS, ids=_ids(SETS))
def test_no_title_of_an_earlier_fresh_set_is_reused(fresh):
    earlier = [s.fixture for s in SETS[:SETS.index(fresh)]]
    assert_no_title_reused(FIXTURES / fresh.fixture, ("tagger_fresh_labels.csv", *earlier))


@pytest.mark.parametrize("fresh", SETS, ids=_ids(SETS))
def test_tagger_on_fresh_titles_keeps_the_once_measured_floor(fresh):
    assert_floor(fresh.frame(), fresh.once)


@pytest.mark.parametrize("fresh", DEVELOPED, ids=_ids(DEVELOPED))
def test_tagger_on_fresh_titles_keeps_the_next_round_development_floor(fresh):
    assert_floor(fresh.frame(), fresh.development)


@pytest.mark.parametrize("fresh", DEVELOPED, ids=_ids(DEVELOPED))
def test_development_floor_is_above_the_once_measured_round(fresh):
    assert_floor_above(fresh.development, fresh.once)


if __name__ == "__main__":  # pragma: no cover
    chosen = {s.name: s for s in SETS}[sys.argv[1]]
    print_figures(chosen.frame(), sys.argv[2] if len(sys.argv) > 2 else None)
