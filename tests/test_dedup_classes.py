"""The failure classes of issue 19, one hand-made case each, and the no-wrong-merge property.

Recurring titles, titles that differ only in a named entity, references extracted from
PDFs, errata/comments/retractions, conference vs journal versions; stored pair decisions
applied without being passed; and a check, over every fixture here and every labelled set
in ``../shared/data/dedup`` when present, that no group joins records whose DOIs differ,
whose titles name different entities or whose page ranges are apart.
"""

from __future__ import annotations

import json
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence_synth.columns import records_from_dicts
from evidence_synth.dedup import deduplicate_review, find_duplicates
from evidence_synth.dedup._gazetteer import entities_differ, title_entities
from evidence_synth.dedup._normalise import (
    footnote_signature,
    is_recurring_title,
    norm_doi,
    norm_title,
    number_signature,
    parse_pages,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GAPS = SHARED / "migration" / "gaps_international_cooperation__gap-project.json"


def _article(rid: str, **kw) -> dict:
    base = {"record_id": rid,
            "title": "Information systems outsourcing: enduring themes and future directions",
            "authors": ["Dibbern, Jens", "Goles, Tim", "Hirschheim, Rudy"], "year": 2004,
            "journal": "European Journal of Information Systems", "volume": "13",
            "issue": "1", "pages": "6-16"}
    base.update(kw)
    return base


def _filler(k: int) -> dict:
    topics = ["trust in virtual teams", "enterprise systems adoption in hospitals",
              "open source software communities", "mobile payment acceptance",
              "knowledge management in consulting firms", "digital platforms and ecosystems"]
    return {"record_id": f"f{k}", "title": f"A field study of {topics[k % len(topics)]}",
            "authors": [f"Writer{k}, B."], "year": 1995 + k,
            "journal": "Information Systems Journal", "volume": str(5 + k),
            "pages": f"{100 + 10 * k}-{109 + 10 * k}"}


def _frame(*rows: dict) -> pd.DataFrame:
    return records_from_dicts([*rows, *(_filler(k) for k in range(6))])


def _groups(result) -> pd.Series:
    return result.groups.set_index("record_id")["group_id"]


def _studies(result) -> pd.Series:
    return result.groups.set_index("record_id")["study_id"]


def _pair(result, a: str, b: str) -> pd.Series:
    p = result.pairs
    hit = p[((p.record_id_1 == a) & (p.record_id_2 == b))
            | ((p.record_id_1 == b) & (p.record_id_2 == a))]
    assert len(hit) == 1, f"pair {a}-{b} not compared"
    return hit.iloc[0]


# ------------------------------------------------------------------ 1. recurring titles
@pytest.mark.parametrize("title", [
    "Editorial", "Editor's Comments", "Remarks from the Editor", "Letter to the Editor",
    "Issues and Opinions", "Reply", "Corrigendum", "Annual report 2019", "Preface",
    "Introduction to the special issue", "Editorial Volume 10, Issue 1"])
def test_recurring_titles_are_recognised(title):
    assert is_recurring_title(norm_title(title))


@pytest.mark.parametrize("title", [
    "Editorial decision making in journals", "A reply mechanism for distributed systems",
    "Annual reports and earnings management"])
def test_articles_about_such_things_are_not_recurring(title):
    assert not is_recurring_title(norm_title(title))


def test_two_editorials_of_one_editor_and_year_are_not_merged():
    ed = {"title": "Editor's Comments", "authors": ["Saunders, Carol"], "year": 2006,
          "journal": "MIS Quarterly", "volume": "30"}
    # nothing tells them apart or together: a person decides
    rec = _frame(_article("e1", **ed, issue=None, pages=None),
                 _article("e2", **ed, issue=None, pages=None))
    res = find_duplicates(rec)
    pair = _pair(res, "e1", "e2")
    assert "recurring title without agreeing DOI, pages or issue" in pair["rules"]
    assert pair["decision"] == "review"
    assert _groups(res)["e1"] != _groups(res)["e2"]
    # different issues: different items, not a question
    rec = _frame(_article("e1", **ed, issue="1", pages=None),
                 _article("e2", **ed, issue="2", pages=None))
    assert _pair(find_duplicates(rec), "e1", "e2")["decision"] == "distinct"
    # the same editorial from two databases, pages agreeing: merged
    rec = _frame(_article("e1", **ed, issue="2", pages="101-103"),
                 _article("e2", **{**ed, "title": "EDITOR'S COMMENTS"}, issue=None,
                          pages="101-103"))
    res = find_duplicates(rec)
    assert _pair(res, "e1", "e2")["rules"] == ""
    assert _groups(res)["e1"] == _groups(res)["e2"]


@pytest.mark.parametrize("only_one", [{"pages": "101-103"}, {"doi": "10.2307/25148711"},
                                      {"issue": "3"}])
def test_recurring_title_with_pages_doi_or_issue_on_one_record_only_is_held_back(only_one):
    ed = {"title": "Editor's Comments", "authors": ["Saunders, Carol"], "year": 2006,
          "journal": "MIS Quarterly", "volume": "30", "issue": None, "pages": None}
    rec = _frame(_article("e1", **{**ed, **only_one}), _article("e2", **ed))
    pair = _pair(find_duplicates(rec), "e1", "e2")
    assert "recurring title with pages, DOI or issue on one record only" in pair["rules"]
    assert pair["decision"] == "distinct"


@pytest.mark.parametrize("title", ["Memorandum of Understanding", "Joint Declaration",
                                   "Readmission agreement", "Exchange of letters"])
def test_bare_document_types_are_recurring(title):
    assert is_recurring_title(norm_title(title))
    assert not is_recurring_title(norm_title(title + " between Spain and Morocco on "
                                             "the readmission of persons"))


def test_one_treaty_with_and_without_the_formal_names_of_states_is_merged():
    long_ = ("Agreement between the Government of the Republic of Poland and the Government "
             "of the Republic of Slovenia on the transfer and admission of persons")
    short = "Agreement between Poland and Slovenia on the transfer and admission of persons"
    other = "Agreement between Poland and Croatia on the transfer and admission of persons"
    treaty = {"authors": [], "journal": None, "volume": None, "issue": None, "pages": None,
              "year": 1996}
    rec = _frame(_article("a", title=long_, **treaty), _article("b", title=short, **treaty),
                 _article("c", title=other, **treaty),
                 _article("d", title=short, **{**treaty, "year": 2004}))
    res = find_duplicates(rec)
    assert _pair(res, "a", "b")["reason"] == \
        "same title and places once state names are shortened"
    groups = _groups(res)
    assert groups["a"] == groups["b"]
    assert groups["c"] != groups["a"] and groups["d"] != groups["a"]


def test_a_title_seen_with_three_years_counts_as_recurring():
    col = {"title": "Research in progress", "authors": ["Lee, Allen"],
           "journal": "MIS Quarterly", "volume": None, "issue": None, "pages": None}
    rec = _frame(*(_article(f"r{y}", **col, year=y) for y in (2001, 2002, 2003)),
                 _article("r2003b", **col, year=2003))
    res = find_duplicates(rec)
    assert "recurring title" in _pair(res, "r2003", "r2003b")["rules"]
    assert _groups(res).loc[["r2001", "r2002", "r2003", "r2003b"]].nunique() == 4


# ------------------------------------------------------------------ 2. named entities
def test_gazetteer_names_countries_former_names_languages_and_regions():
    assert title_entities(norm_title("Readmission agreement with Türkiye")) == \
        title_entities(norm_title("Readmission agreement with Turkey")) == {"C:TR"}
    assert "C:KR" in title_entities(norm_title("Migration from the Republic of Korea"))
    assert title_entities(norm_title("German-Albanian readmission agreement")) == \
        {"L:de", "L:sq"}
    assert title_entities(norm_title("Remittances to Sub-Saharan Africa")) == {"R:202"}
    assert title_entities(norm_title("Moroccan migrants in the EU")) == {"C:MA", "R:EU"}
    assert not title_entities(norm_title("A randomised trial of exercise after stroke"))
    info = json.loads((Path(__file__).resolve().parents[1] / "evidence_synth" / "dedup"
                       / "gazetteer.json").read_text(encoding="utf-8"))["info"]
    assert {"pycountry", "babel", "cldr"} <= set(info["sources"])


def test_entities_differ_only_when_one_replaces_another():
    a, b = frozenset({"R:EU", "C:AM"}), frozenset({"R:EU", "C:TR"})
    assert entities_differ(a, b)
    assert not entities_differ(a, frozenset({"R:EU"}))  # a shortened title
    assert not entities_differ(a, a)


def test_treaties_that_differ_only_in_the_country_are_not_merged():
    title = ("Agreement between the European Union and the Republic of {} on the "
             "readmission of persons residing without authorisation")
    common = {"authors": [], "journal": None, "volume": None, "issue": None, "pages": None}
    rec = _frame(_article("am", title=title.format("Armenia"), year=2013, **common),
                 _article("tr", title=title.format("Türkiye"), year=2013, **common),
                 _article("tr2", title=title.format("Turkey").upper(), year=2013, **common))
    res = find_duplicates(rec)
    pair = _pair(res, "am", "tr")
    assert "different named entity in title" in pair["rules"]
    assert pair["decision"] == "distinct"
    assert _groups(res)["am"] != _groups(res)["tr"]
    assert _studies(res)["am"] != _studies(res)["tr"]
    assert "different named entity" not in _pair(res, "tr", "tr2")["rules"]


def test_bilateral_agreements_with_different_partners_are_not_merged():
    title = ("Agreement between the Government of the Republic of Poland and the Government "
             "of the Republic of {} on the readmission of persons")
    rec = _frame(_article("hr", title=title.format("Croatia"), authors=[], year=1994,
                          pages=None),
                 _article("gr", title=title.format("Greece"), authors=[], year=1994,
                          pages=None))
    pair = _pair(find_duplicates(rec), "hr", "gr")
    assert pair["decision"] == "distinct"
    assert "different named entity in title" in pair["rules"]


@pytest.mark.parametrize("a, b", [
    ("Annual report of the migration observatory 2019",
     "Annual report of the migration observatory 2020"),
    ("Handbook of migration statistics, second edition",
     "Handbook of migration statistics, third edition"),
    ("Return migration and development. Part one", "Return migration and development. Part two"),
])
def test_years_editions_and_parts_are_numbers(a, b):
    assert number_signature(norm_title(a)) != number_signature(norm_title(b))
    rec = _frame(_article("a", title=a, pages=None), _article("b", title=b, pages=None))
    assert _pair(find_duplicates(rec), "a", "b")["decision"] == "distinct"


def test_treaty_titles_of_the_gaps_inventory_are_never_merged_across_countries():
    if not GAPS.exists():
        pytest.skip("../shared/data/migration not present (GAPs inventory)")
    rows = []
    for country in json.loads(GAPS.read_text(encoding="utf-8")):
        for k, policy in enumerate(country["policies"]):
            title = " ".join(str(policy.get("policyName") or "").split())
            if len(title) >= 10:
                date = str(policy.get("signatureDate") or "")
                rows.append({"record_id": f"{country['countryName']}:{k}", "title": title,
                             "year": int(date[:4]) if date[:4].isdigit() else None})
    res = find_duplicates(records_from_dicts(rows))
    ents = {r["record_id"]: title_entities(norm_title(r["title"])) for r in rows}
    merged = res.pairs[res.pairs["same_group"]]
    for a, b in zip(merged["record_id_1"], merged["record_id_2"], strict=True):
        assert not entities_differ(ents[a], ents[b]), (a, b)
    by_id = {r["record_id"]: r["title"] for r in rows}
    # the EU agreements are listed under two member states: those twins are merged
    twins = [(a, b) for a, b in zip(merged["record_id_1"], merged["record_id_2"], strict=True)
             if "Republic of Armenia on the readmission" in by_id[a]]
    assert twins
    swapped = res.pairs["rules"].str.contains("different named entity")
    assert swapped.sum() >= 20
    assert any(("Armenia" in by_id[a] and "Türkiye" in by_id[b])
               or ("Türkiye" in by_id[a] and "Armenia" in by_id[b])
               for a, b in zip(res.pairs["record_id_1"][swapped],
                               res.pairs["record_id_2"][swapped], strict=True))


# ------------------------------------------------------------------ 3. PDF references
def test_footnote_digit_after_a_title_is_not_a_number():
    assert footnote_signature(norm_title("Eureka moments in the works of Claudio Ciborra 1")) \
        == ""
    assert footnote_signature(norm_title("... subjected to global ischaemia-reperfusion1")) \
        == ""
    assert footnote_signature(norm_title("Clinical implications. Part 1")) == "1"


def test_pdf_reference_without_year_doi_or_pages_matches_its_record():
    rec = _frame(_article("db", doi="10.1057/palgrave.ejis.3000417"),
                 _article("pdf", title="INFORMATION SYSTEMS OUTSOURCING: ENDURING THEMES AND "
                          "FUTURE DIRECTIONS1", authors=["Dibbern J", "Goles T",
                                                         "Hirschheim R", "Jayatilaka B"],
                          year=None, journal="Eur J Inf Syst", issue=None, pages=None))
    res = find_duplicates(rec)
    pair = _pair(res, "db", "pdf")
    assert pair["rules"] == ""
    assert pair["decision"] == "match"
    assert _groups(res)["db"] == _groups(res)["pdf"]


def test_pdf_reference_of_another_article_in_the_same_volume_is_not_merged():
    rec = _frame(_article("db"),
                 _article("other", title="INFORMATION SYSTEMS OUTSOURCING: A SURVEY AND "
                          "ANALYSIS OF THE LITERATURE", authors=["Dibbern J"], year=None,
                          journal="Eur J Inf Syst", issue=None, pages=None))
    res = find_duplicates(rec)
    assert _groups(res)["db"] != _groups(res)["other"]


# ------------------------------------------------------------------ 4. notices
def _erratum_case() -> pd.DataFrame:
    return _frame(_article("art", doi="10.1000/4006"),
                  _article("err", title="Erratum to: Information systems outsourcing: "
                           "enduring themes and future directions", year=2005, issue="2",
                           pages="6-16", doi="10.1000/5106"),
                  _article("ret", title="Retraction note: Information systems outsourcing: "
                           "enduring themes and future directions", year=2006, issue="3",
                           pages="200", doi="10.1000/6200"))


def test_notices_are_linked_to_their_article_by_default():
    res = find_duplicates(_erratum_case())
    groups, studies = _groups(res), _studies(res)
    assert groups.loc[["art", "err", "ret"]].nunique() == 3
    assert studies.loc[["art", "err", "ret"]].nunique() == 1
    assert "erratum/comment/retraction of the article" in _pair(res, "art", "err")["reason"]


def test_notices_can_be_kept_separate_or_merged():
    separate = find_duplicates(_erratum_case(), notices="separate")
    assert _studies(separate).loc[["art", "err", "ret"]].nunique() == 3
    merged = find_duplicates(_erratum_case(), notices="merge")
    assert _groups(merged)["art"] == _groups(merged)["err"]
    with pytest.raises(ValueError, match="notices must be"):
        find_duplicates(_erratum_case(), notices="drop")


# ------------------------------------------------------------------ 5. conference versions
def test_conference_paper_and_journal_version_are_linked_not_merged():
    rec = _frame(_article("jour"),
                 _article("conf", year=2003, journal="Proceedings of the 11th European "
                          "Conference on Information Systems", volume=None, issue=None,
                          pages="210-221"))
    res = find_duplicates(rec)
    assert _groups(res)["jour"] != _groups(res)["conf"]
    assert _studies(res)["jour"] == _studies(res)["conf"]
    assert _pair(res, "jour", "conf")["reason"].startswith("conference paper and journal")
    merged = find_duplicates(rec, versions="merge")
    assert _groups(merged)["jour"] == _groups(merged)["conf"]


def test_meeting_supplement_of_the_same_journal_is_not_a_conference_version():
    rec = _frame(_article("a", journal="FASEB Journal", volume="31", issue=None, pages=None),
                 _article("b", journal="FASEB Journal. Conference: Experimental Biology 2017",
                          volume="31", issue="1 Supplement 1", pages=None))
    assert "conference" not in _pair(find_duplicates(rec), "a", "b")["reason"]


# ------------------------------------------------------------------ stored decisions
def test_stored_pair_decisions_apply_without_being_passed(tmp_path):
    from evidence_synth import open_review

    rec = _frame(_article("a", doi="10.1000/4016"), _article("b"), _article("c", pages=None,
                                                                          issue=None))
    with open_review(tmp_path / "review.db") as review:
        review.add_records(rec.drop(columns=["source_id"]),
                           source={"source_id": "s", "database": "test"})
        a, b = "s:a", "s:b"  # record ids are prefixed with the source id
        first = find_duplicates(review)
        assert _groups(first)[a] == _groups(first)[b]
        review.add_pair_decision(a, b, "distinct", reviewer="ann")
        again = find_duplicates(review)
        assert _groups(again)[a] != _groups(again)[b]
        assert _pair(again, a, b)["reason"] == "manual decision"
        result = review.deduplicate()
        assert result.params["manual decisions applied"] == 1
        saved = review.duplicate_groups(run_id=result.params["run_id"]).set_index("record_id")
        assert saved.loc[a, "group_id"] != saved.loc[b, "group_id"]
        assert deduplicate_review(review).params["run_id"] == result.params["run_id"] + 1


# ------------------------------------------------------------------ the property
def violations(records: pd.DataFrame, result) -> list[tuple[str, str, str]]:
    """Pairs of records in one group whose DOIs differ, whose titles name different
    entities or whose page ranges are apart (the definitions are this test's own)."""
    rec = records.set_index("record_id")
    groups = result.groups.groupby("group_id")["record_id"].apply(list)
    bad = []
    for members in groups[groups.map(len) > 1]:
        for a, b in combinations(members, 2):
            key = sorted(("".join(c for c in norm_doi(rec.at[x, "doi"]) if c.isalnum())
                          for x in (a, b)), key=len)
            if key[0] and not key[1].startswith(key[0]):  # a cut-off DOI is the same DOI
                bad.append((a, b, "DOIs differ"))
            ea, eb = (title_entities(norm_title(rec.at[x, "title"])) for x in (a, b))
            if entities_differ(ea, eb):
                bad.append((a, b, "entities differ"))
            ra, rb = (_page_range(rec.at[x, "pages"]) for x in (a, b))
            if ra and rb and (ra[1] < rb[0] or rb[1] < ra[0]):
                bad.append((a, b, "pages disagree"))
    return bad


def _page_range(pages) -> tuple[int, int] | None:
    if not isinstance(pages, str):
        return None
    first, last = parse_pages(pages)
    if not (first.isdigit() and last.isdigit()):
        return None  # article numbers, "e4-e19", "S12": not a print range
    lo, hi = int(first), int(last)
    return (lo, hi) if hi > lo > 1 else None


def _fixture_sets() -> dict[str, pd.DataFrame]:
    title = "Agreement between the European Union and {} on readmission"
    rows = [_article(f"t{k}", title=title.format(c), authors=[], pages=None, issue=None)
            for k, c in enumerate(["Armenia", "Türkiye", "Georgia", "Cape Verde",
                                   "the Republic of Belarus", "Azerbaijan"])]
    rows += [_article("d1", doi="10.1000/x1"), _article("d2", doi="10.1000/x2"),
             _article("d3"), _article("p1", pages="6-16"), _article("p2", pages="106-116",
                                                                      doi=None)]
    return {"fixtures": records_from_dicts(rows), "erratum": _erratum_case()}


@pytest.mark.parametrize("name", ["fixtures", "erratum"])
def test_no_merge_joins_conflicting_records_fixtures(name):
    records = _fixture_sets()[name]
    assert violations(records, find_duplicates(records)) == []


def _labelled(name: str) -> pd.DataFrame:
    if not (SHARED / "dedup" / "load.py").exists():
        pytest.skip("../shared/data/dedup not present (labelled deduplication sets)")
    from evidence_synth.dedup._labelled import labelled_records

    return labelled_records(name, SHARED / "dedup")


@pytest.mark.parametrize("name", ["neuroimaging", "ejis",
                                  pytest.param("cardiac", marks=pytest.mark.slow),
                                  pytest.param("srsr", marks=pytest.mark.slow)])
def test_no_merge_joins_conflicting_records_labelled_sets(name):
    records = _labelled(name)
    result = find_duplicates(records)
    bad = violations(records, result)
    assert bad == [], bad[:5]
    assert np.isin(result.groups["record_id"], records["record_id"]).all()


def test_a_doi_cut_short_by_an_export_is_the_same_doi():
    rec = _frame(_article("full", doi="10.1080/14017430701603"),
                 _article("cut", doi="10.1080/140174307016", pages="6-6"))
    pair = _pair(find_duplicates(rec), "full", "cut")
    assert pair["doi_equal"] == 1
    assert "different DOI" not in pair["rules"]
    rec = _frame(_article("x", doi="10.1080/1401"), _article("y", doi="10.1080/14017430701603"))
    assert _pair(find_duplicates(rec), "x", "y")["doi_equal"] == 0  # too short to tell


def test_a_number_lost_from_one_title_is_a_question_not_a_different_work():
    a = "Adenosine A1 receptors are necessary for protection of the murine heart"
    rec = _frame(_article("a1", title=a, pages=None),
                 _article("a", title=a.replace("A1", "A"), pages=None))
    pair = _pair(find_duplicates(rec), "a1", "a")
    assert pair["rules"] == "number missing from one title"
    assert pair["decision"] == "review"
    rec = _frame(_article("a1", title=a, pages=None),
                 _article("a2", title=a.replace("A1", "A2"), pages=None))
    pair = _pair(find_duplicates(rec), "a1", "a2")
    assert pair["rules"] == "different numbers in title"
    assert pair["decision"] == "distinct"


def test_a_book_review_is_not_merged_with_the_book_or_another_review():
    book = {"title": "Requirements engineering: a good practice guide", "year": 2000,
            "journal": "European Journal of Information Systems", "volume": "9", "issue": "2",
            "pages": None}
    rec = _frame(_article("review1", **book, authors=["Galal, Galal H"]),
                 _article("book", **book, authors=["Sommerville, I.", "Sawyer, P."]),
                 _article("review2", **book, authors=["Paul, Ray"]))
    res = find_duplicates(rec)
    assert _groups(res).loc[["review1", "book", "review2"]].nunique() == 3
    assert "no author in common" in _pair(res, "review1", "book")["rules"]


def test_a_title_of_one_or_two_short_words_needs_corroboration():
    assert is_recurring_title(norm_title("EJIS$$121P"))
    rec = _frame(_article("x1", title="EJIS$$121P", authors=[], issue="2", pages=None),
                 _article("x2", title="EJIS$$121P", authors=[], issue=None, pages=None))
    assert _groups(find_duplicates(rec))["x1"] != _groups(find_duplicates(rec))["x2"]


def test_a_doi_cut_off_after_the_journal_stem_counts_as_missing():
    assert norm_doi("10.1057/palgrave") == ""
    assert norm_doi("https://doi.org/10.1057/palgrave.ejis") == ""
    assert norm_doi("10.1057/palgrave.ejis.3000417") == "10.1057/palgrave.ejis.3000417"
