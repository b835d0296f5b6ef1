"""DOI roots (issue 19, third round): versions of one Cochrane review, one article with two
DOIs, and a volume field an export cut off."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.columns import records_from_dicts
from evidence_synth.dedup import find_duplicates
from evidence_synth.dedup._normalise import cochrane_review, norm_number

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_dedup_classes import _pair

COCHRANE = "Cochrane Database of Systematic Reviews"


def _review(rid: str, **kw) -> dict:
    base = {"record_id": rid, "title": "Antiviral treatment for Bell's palsy (idiopathic "
            "facial paralysis)", "authors": ["Gagyor, I.", "Madhok, V. B.", "Daly, F."],
            "year": 2015, "journal": COCHRANE, "issue": "11", "pages": "CD001869",
            "doi": "10.1002/14651858.CD001869.pub8"}
    base.update(kw)
    return base


def _filler(k: int) -> dict:
    topics = ["exercise for depression", "vitamin D for asthma", "acupuncture for migraine",
              "statins for stroke prevention", "zinc for the common cold"]
    return {"record_id": f"f{k}", "title": f"Interventions of {topics[k % len(topics)]}",
            "authors": [f"Writer{k}, B."], "year": 2000 + k, "journal": COCHRANE,
            "issue": str(1 + k), "pages": f"CD00{5000 + k}",
            "doi": f"10.1002/14651858.CD00{5000 + k}"}


def _frame(*rows: dict) -> pd.DataFrame:
    return records_from_dicts([*rows, *(_filler(k) for k in range(5))])


def _col(result, name: str) -> pd.Series:
    return result.groups.set_index("record_id")[name]


def test_cochrane_review_number_and_version_from_doi_or_article_number():
    assert cochrane_review("10.1002/14651858.cd001869.pub8", None, "") == ("cd001869", 8)
    assert cochrane_review("10.1002/14651858.cd001869", None, "") == ("cd001869", 1)
    assert cochrane_review("", "CD001869", "cochrane database systematic reviews") == (
        "cd001869", 0)
    assert cochrane_review("", "CD001869", "journal neurology") == ("", 0)
    assert cochrane_review("10.1002/14651858.cd001869x", None, "") == ("", 0)
    assert cochrane_review("10.1002/sim.1234", "CD001869", "statistics medicine") == ("", 0)


def test_versions_of_one_cochrane_review_are_linked_not_merged():
    rec = _frame(_review("v8"),
                 _review("v4", year=2009, issue="4", authors=["Lockhart, P.", "Daly, F."],
                         doi="10.1002/14651858.CD001869.pub4"),
                 _review("v1", title="Antiviral treatment for Bell's palsy", year=2001,
                         issue="1", doi="10.1002/14651858.CD001869"),
                 _review("nodoi", year=2009, issue="4", doi=None,
                         authors=["Lockhart, P.", "Daly, F."]))
    res = find_duplicates(rec)
    groups, studies = _col(res, "group_id"), _col(res, "study_id")
    assert groups.loc[["v8", "v4", "v1"]].nunique() == 3
    assert studies.loc[["v8", "v4", "v1", "nodoi"]].nunique() == 1
    assert _pair(res, "v8", "v4")["reason"] == \
        "versions of one Cochrane review (linked as one study)"
    # the same version from a database without the DOI is the same record
    assert groups["nodoi"] == groups["v4"]
    assert studies.loc[[f"f{k}" for k in range(5)]].nunique() == 5


def test_cochrane_versions_follow_the_versions_option():
    rec = _frame(_review("a"), _review("b", year=2013, issue="2",
                                       doi="10.1002/14651858.CD001869.pub7"))
    merged = find_duplicates(rec, versions="merge")
    assert _col(merged, "group_id")["a"] == _col(merged, "group_id")["b"]
    separate = find_duplicates(rec, versions="separate")
    assert _col(separate, "study_id")["a"] != _col(separate, "study_id")["b"]


def test_two_cochrane_reviews_with_one_title_are_not_linked():
    rec = _frame(_review("a"), _review("b", pages="CD009999",
                                       doi="10.1002/14651858.CD009999"))
    res = find_duplicates(rec)
    assert _col(res, "study_id")["a"] != _col(res, "study_id")["b"]
    assert _col(res, "group_id")["a"] != _col(res, "group_id")["b"]


def _article(rid: str, **kw) -> dict:
    base = {"record_id": rid, "title": "Attenuation of S-T segment elevation during "
            "repetitive coronary occlusions truly reflects the protection of ischemic "
            "preconditioning", "authors": ["Cohen, M. V.", "Yang, X. M.", "Downey, J. M."],
            "year": 1997, "journal": "Basic Research in Cardiology", "volume": "92",
            "issue": "6", "pages": "426-434", "doi": "10.1007/s003950050053"}
    base.update(kw)
    return base


@pytest.mark.parametrize("other", [
    {"doi": "10.1007/BF00796217", "journal": "Basic Res Cardiol", "pages": "426-34"},
    {"doi": "10.1007/BF00796217", "issue": None},
])
def test_one_article_with_two_dois_goes_to_review_not_to_a_merge(other):
    rec = records_from_dicts([_article("online"), _article("print", **other),
                              *(_filler(k) for k in range(5))])
    res = find_duplicates(rec)
    pair = _pair(res, "online", "print")
    assert pair["decision"] == "review"
    assert pair["reason"].startswith("different DOIs but title, first author")
    assert _col(res, "group_id")["online"] != _col(res, "group_id")["print"]


def test_two_dois_and_other_pages_stay_distinct():
    rec = records_from_dicts([_article("a"), _article("b", doi="10.1007/BF00796217",
                                                      pages="500-510"),
                              *(_filler(k) for k in range(5))])
    pair = _pair(find_duplicates(rec), "a", "b")
    assert pair["decision"] == "distinct"


def test_preprint_doi_and_journal_doi_are_linked_versions():
    rec = records_from_dicts([
        _article("pub"),
        _article("pre", doi="10.1101/2020.01.01.123456", journal="bioRxiv", volume=None,
                 issue=None, pages=None, year=1996)])
    res = find_duplicates(rec)
    assert _col(res, "group_id")["pub"] != _col(res, "group_id")["pre"]
    assert _col(res, "study_id")["pub"] == _col(res, "study_id")["pre"]


def test_a_volume_field_cut_off_after_a_supplement_number_is_missing():
    assert norm_number("2)") == ""
    assert norm_number("10S)") == ""
    assert norm_number("62 (Suppl 2)") == "62"
    assert norm_number("(3)") == "3"
    assert norm_number("Part B. 80") == "80"


def test_a_cochrane_issue_written_in_the_volume_field_is_the_issue():
    rec = _frame(_review("a", year=2012, issue="7", doi="10.1002/14651858.CD001869.pub3"),
                 _review("b", year=2012, volume="7", issue=None, doi=None),
                 _review("c", year=2012, volume="2012 (7) (no pagination)", issue=None,
                         doi="10.1002/14651858.CD001869.pub3"))
    res = find_duplicates(rec)
    assert _col(res, "group_id").loc[["a", "b", "c"]].nunique() == 1


def test_abstracts_sharing_a_supplement_doi_are_not_merged():
    common = {"authors": ["Duerr, G. D.", "Dewald, D."], "year": 2012,
              "journal": "Cardiovascular Research", "volume": "93", "issue": "suppl 1",
              "pages": "S72", "doi": "10.1093/cvr/cvr334"}
    rec = records_from_dicts([
        {"record_id": "a", "title": "Metallothionein 1 and 2 modulate inflammation and "
         "support remodelling in a murine model of ischaemic cardiomyopathy", **common},
        {"record_id": "b", "title": "Osteopontin-1 is involved in inflammation and "
         "remodelling via macrophage modulation in the ischaemic heart", **common},
        *(_filler(k) for k in range(5))])
    res = find_duplicates(rec)
    pair = _pair(res, "a", "b")
    assert "different titles under one DOI" in pair["rules"]
    assert pair["decision"] != "match"
    assert _col(res, "group_id")["a"] != _col(res, "group_id")["b"]
