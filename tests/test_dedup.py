"""Hand-made cases for the deduplication engine (one quirk or rule per test)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.columns import records_from_dicts
from evidence_synth.dedup import (
    DedupResult,
    find_duplicates,
    join_decisions,
    merge_duplicates,
    pair_html,
    split_decisions,
)
from evidence_synth.dedup._normalise import (
    fix_mojibake,
    journal_compatible,
    journal_words,
    norm_doi,
    norm_title,
    number_signature,
    parse_pages,
    split_authors,
    surname,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

ABSTRACT = ("Background: remote ischaemic preconditioning may protect the heart. Methods: we "
            "randomised 120 patients undergoing cardiac surgery to preconditioning or sham. "
            "Results: troponin release was lower after preconditioning.")


def _rec(rid: str, **kw) -> dict:
    base = {
        "record_id": rid,
        "title": "Remote ischaemic preconditioning reduces myocardial injury in cardiac surgery",
        "authors": ["Hausenloy, Derek J.", "Yellon, Derek M.", "Mani-Babu, Sunil"],
        "year": 2007,
        "journal": "Lancet",
        "volume": "370",
        "issue": "9587",
        "pages": "575-579",
        "abstract": ABSTRACT,
    }
    base.update(kw)
    return base


def _other(k: int) -> dict:
    """Unrelated filler records so the blocks are realistic."""
    topics = ["statin therapy in heart failure", "exercise training after stroke",
              "vitamin D and fracture risk", "cognitive therapy for insomnia",
              "smoking cessation in pregnancy", "antibiotics for acute otitis media"]
    return {"record_id": f"x{k}", "title": f"A randomised trial of {topics[k % len(topics)]}",
            "authors": [f"Author{k}, A."], "year": 2000 + k, "journal": "BMJ",
            "volume": str(300 + k), "pages": f"{10 + k}-{20 + k}"}


def _records(*rows: dict) -> pd.DataFrame:
    return records_from_dicts([*rows, *(_other(k) for k in range(6))])


def _group_of(result: DedupResult, rid: str) -> str:
    g = result.groups.set_index("record_id")["group_id"]
    return g[rid]


def _pair(result: DedupResult, a: str, b: str) -> pd.Series:
    p = result.pairs
    hit = p[((p.record_id_1 == a) & (p.record_id_2 == b)) | ((p.record_id_1 == b)
                                                             & (p.record_id_2 == a))]
    assert len(hit) == 1, f"pair {a}-{b} not compared"
    return hit.iloc[0]


# --------------------------------------------------------------------- normalisation
def test_pages_repair_spreadsheet_dates_and_short_ranges():
    assert parse_pages("06-Oct") == ("6", "10")
    assert parse_pages("Oct-15") == ("10", "15")
    assert parse_pages("1391-402") == ("1391", "1402")
    assert parse_pages("H1327-36") == parse_pages("H1327-H1336") == ("h1327", "h1336")
    assert parse_pages("e0192222") == ("e0192222", "")
    assert parse_pages("543--553") == ("543", "553")


def test_doi_forms_normalise_to_one():
    forms = ["http://dx.doi.org/10.1016/0735-1097(95)00412-2",
             "https://doi.org/10.1016/0735-1097%2895%2900412-2",
             "doi: 10.1016/0735-1097(95)00412-2.",
             "10.1016/0735-1097(95)00412-2"]
    assert {norm_doi(f) for f in forms} == {"10.1016/0735-1097(95)00412-2"}
    assert norm_doi("not a doi") == ""


def test_title_normalisation_html_latex_accents_article():
    assert norm_title("The <i>Na</i><sup>+</sup>/H<sup>+</sup> exchanger") == "na h exchanger"
    latex = r"Effects of {\"u}ber-{\'e}lite \textit{drugs}"
    assert norm_title(latex) == "effects of uber elite drugs"
    assert norm_title("Études: a REVIEW") == "etudes a review"


def test_number_signature_keeps_parts_and_phases():
    assert number_signature(norm_title("Outcomes: Part 1")) != number_signature(
        norm_title("Outcomes: Part 2"))
    assert number_signature(norm_title("A phase II trial")) == "2"
    assert number_signature(norm_title("A phase III trial")) == "3"
    assert number_signature(norm_title("Alpha 1-adrenoceptor")) == number_signature(
        norm_title("Alpha1-adrenoceptor"))


def test_mojibake_and_run_together_authors():
    assert fix_mojibake("KÃ¶nig R.") == "König R."
    assert fix_mojibake("2014â\x80\x932017") == "2014–2017"
    names = split_authors(["Pala A.Schmitz A. L.KÃ¶nig R.Wirtz C. R."])
    assert names == ["Pala A.", "Schmitz A. L.", "König R.", "Wirtz C. R."]
    assert [surname(n) for n in names] == ["pala", "schmitz", "konig", "wirtz"]
    assert surname("van der Berg, J.") == "berg"
    assert surname("Moraes Christopher") == "moraes"
    assert split_authors(["Moraes ChristopherSun Yu"]) == ["Moraes Christopher", "Sun Yu"]


def test_journal_abbreviation_matches_full_title():
    full = journal_words("Journal of Molecular and Cellular Cardiology")
    assert journal_compatible(journal_words("J Mol Cell Cardiol"), full) == 1.0
    assert journal_compatible(journal_words("Acad Emerg Med"),
                              journal_words("Academic Emergency Medicine")) == 1.0
    assert journal_compatible(journal_words("J Clin Invest"), full) == 0.0


# --------------------------------------------------------------------- rules
def test_identical_records_in_different_forms_are_merged():
    rec = _records(
        _rec("a", doi="10.1016/S0140-6736(07)61296-3"),
        _rec("b", title="REMOTE ISCHAEMIC PRECONDITIONING REDUCES MYOCARDIAL INJURY IN CARDIAC "
                        "SURGERY.", authors=["Hausenloy D. J.Yellon D. M.Mani-Babu S."],
             pages="575-9", doi="https://doi.org/10.1016/s0140-6736(07)61296-3"),
    )
    res = find_duplicates(rec)
    assert _group_of(res, "a") == _group_of(res, "b")
    assert _pair(res, "a", "b")["decision"] == "match"
    assert res.groups["group_id"].nunique() == 7


def test_erratum_is_not_merged_with_the_article():
    rec = _records(_rec("a"), _rec("e", title="Erratum: Remote ischaemic preconditioning reduces "
                                              "myocardial injury in cardiac surgery",
                                   abstract=pd.NA, pages="1032"))
    res = find_duplicates(rec)
    assert _group_of(res, "a") != _group_of(res, "e")
    pair = _pair(res, "a", "e")
    assert pair["decision"] != "match"
    assert "erratum/comment/retraction vs article" in pair["rules"]


def test_different_dois_are_not_merged():
    rec = _records(_rec("a", doi="10.1000/abc.1"), _rec("b", doi="10.1000/abc.2"))
    res = find_duplicates(rec)
    assert _group_of(res, "a") != _group_of(res, "b")
    pair = _pair(res, "a", "b")
    assert pair["decision"] == "review"
    assert "different DOI" in pair["rules"]
    assert list(res.review_queue()[["record_id_1", "record_id_2"]].iloc[0]) == ["a", "b"]


def test_doi_written_with_slashes_or_without_dots_is_the_same_doi():
    # PDF extraction writes "10.1057/palgrave/ejis/3000417" or drops the dots
    rec = _records(_rec("a", doi="10.1057/palgrave.ejis.3000417"),
                   _rec("b", doi="10.1057/palgrave/ejis/3000417"),
                   _rec("c", doi="10.1057/palgraveejis3000417", pages=pd.NA))
    res = find_duplicates(rec)
    for x, y in ("ab", "ac", "bc"):
        assert _pair(res, x, y)["doi_equal"] == 1.0
    assert _group_of(res, "a") == _group_of(res, "b") == _group_of(res, "c")


def test_online_first_year_with_the_same_doi_is_merged():
    rec = _records(_rec("print", year=2013, doi="10.1057/ejis.2011.25"),
                   _rec("online", year=2011, doi="10.1057/ejis.2011.25", pages=pd.NA))
    res = find_duplicates(rec)
    pair = _pair(res, "print", "online")
    assert pair["rules"] == ""
    assert pair["decision"] == "match"
    without_doi = find_duplicates(_records(_rec("print", year=2013),
                                           _rec("online", year=2011, pages=pd.NA)))
    assert "years differ by more than 1" in _pair(without_doi, "print", "online")["rules"]


def test_supplement_numbering_with_the_same_doi_is_merged():
    doi = "10.1034/j.1600-0404.107.s179.10.x"
    rec = _records(_rec("a", volume="179", pages="52-76", doi=doi),
                   _rec("b", volume="107", pages="s52-s76", doi=doi))
    pair = _pair(find_duplicates(rec), "a", "b")
    assert pair["rules"] == ""
    assert pair["decision"] == "match"
    rec = _records(_rec("a", volume="179", pages="52-76"), _rec("b", volume="107", pages="8-9"))
    pair = _pair(find_duplicates(rec), "a", "b")
    assert pair["rules"] == "page ranges disagree; different volume; different pages"
    assert pair["decision"] == "distinct"


def test_two_broken_rules_make_a_pair_distinct_not_a_question():
    # same title and authors, but different DOIs and issues: two editorials, no review needed
    rec = _records(_rec("e1", title="Editorial", issue="1", pages="1-2", doi="10.1000/ed.1"),
                   _rec("e2", title="Editorial", issue="2", pages="1-2", doi="10.1000/ed.2"))
    res = find_duplicates(rec)
    pair = _pair(res, "e1", "e2")
    assert pair["rules"] == ("different DOI; recurring title in another issue or year; "
                             "different issue")
    assert pair["decision"] == "distinct"
    assert len(res.review_queue()) == 0
    # two commentaries on one paper: same title, different DOIs and no shared author
    title = "Commentary on Karl Weick's 'The role of imagination in organizing knowledge'"
    rec = _records(_rec("c1", title=title, authors=["Gogan, Janis L"], doi="10.1000/c.636"),
                   _rec("c2", title=title, authors=["Oswick, Cliff"], doi="10.1000/c.638"))
    pair = _pair(find_duplicates(rec), "c1", "c2")
    assert pair["rules"] == "different DOI; no author in common"
    assert pair["decision"] == "distinct"


def test_unlike_candidates_are_dropped_before_comparison():
    # same first author and year put these in one block; their titles share nothing
    rec = _records(_rec("a"), _rec("b", title="Soil moisture and maize yields in Malawi",
                                   abstract=pd.NA, pages="1-9", volume="12"))
    res = find_duplicates(rec)
    p = res.pairs
    assert not (((p.record_id_1 == "a") & (p.record_id_2 == "b")).any())
    assert res.params["candidates dropped as unlike"] >= 1
    assert _group_of(res, "a") != _group_of(res, "b")


def test_abbreviated_journal_without_doi_is_merged():
    rec = _records(
        _rec("a", journal="Journal of Molecular and Cellular Cardiology", volume="25",
             pages="1391-1402", doi="10.1006/jmcc.1993.1156"),
        _rec("b", journal="J Mol Cell Cardiol", volume="25", pages="1391-402"),
    )
    res = find_duplicates(rec)
    assert _pair(res, "a", "b")["journal_abbrev"] == 1.0
    assert _group_of(res, "a") == _group_of(res, "b")


def test_part_1_and_part_2_are_not_merged():
    title = "Remote ischaemic preconditioning in cardiac surgery: part {}"
    rec = _records(_rec("p1", title=title.format(1), pages=pd.NA, volume=pd.NA, issue=pd.NA),
                   _rec("p2", title=title.format(2), pages=pd.NA, volume=pd.NA, issue=pd.NA))
    res = find_duplicates(rec)
    assert _group_of(res, "p1") != _group_of(res, "p2")
    assert "different numbers in title" in _pair(res, "p1", "p2")["rules"]


def test_chained_near_duplicates_are_not_merged_through_one_neighbour():
    # b (no DOI) matches a and c; a and c have different DOIs: b joins one, never both
    rec = _records(_rec("a", doi="10.1000/7001"), _rec("b"), _rec("c", doi="10.1000/7002"))
    res = find_duplicates(rec)
    ga, gb, gc = (_group_of(res, r) for r in "abc")
    assert ga != gc
    assert gb in (ga, gc)
    assert _pair(res, "a", "b")["decision"] == "match"
    assert _pair(res, "b", "c")["decision"] == "match"


def test_mojibake_author_matches_ascii_author():
    rec = _records(
        _rec("m", authors=["Pala A.Schmitz A. L.KÃ¶nig R.Wirtz C. R."], journal="Clin Neurol",
             doi="10.1016/j.clineuro.2018.02.003"),
        _rec("n", authors=["Pala A.Schmitz A. L.Konig R.Wirtz C. R."], journal="Clin Neurol"),
    )
    res = find_duplicates(rec)
    assert _pair(res, "m", "n")["author_overlap"] == 1.0
    assert _group_of(res, "m") == _group_of(res, "n")


def test_preprint_linked_not_merged_by_default():
    rec = _records(_rec("j", doi="10.1016/s0140-6736(07)61296-3"),
                   _rec("p", journal="medRxiv", doi="10.1101/2007.01.01.123456", year=2006,
                        volume=pd.NA, issue=pd.NA, pages=pd.NA))
    linked = find_duplicates(rec)
    g = linked.groups.set_index("record_id")
    assert g.loc["j", "group_id"] != g.loc["p", "group_id"]
    assert g.loc["j", "study_id"] == g.loc["p", "study_id"]
    assert g["study_id"].nunique() == 7
    merged = find_duplicates(rec, versions="merge")
    assert _group_of(merged, "j") == _group_of(merged, "p")
    separate = find_duplicates(rec, versions="separate").groups.set_index("record_id")
    assert separate.loc["j", "study_id"] != separate.loc["p", "study_id"]


# --------------------------------------------------------------------- manual decisions
def test_manual_decision_survives_a_rerun():
    rec = _records(_rec("a", doi="10.1000/1011"), _rec("b"), _rec("c", doi="10.1000/1012"))
    first = find_duplicates(rec)
    assert _group_of(first, "a") == _group_of(first, "b")
    stored = pd.DataFrame({"record_id_1": ["b", "a"], "record_id_2": ["a", "c"],
                           "decision": ["distinct", "match"]})
    rerun = find_duplicates(rec, manual_decisions=stored)
    assert _group_of(rerun, "a") != _group_of(rerun, "b")
    assert _group_of(rerun, "a") == _group_of(rerun, "c")
    assert _pair(rerun, "a", "c")["reason"] == "manual decision"
    assert rerun.counts().loc["manual decisions applied", "value"] == 2
    assert not rerun.review_queue()[["record_id_1", "record_id_2"]].apply(
        tuple, axis=1).isin([("a", "c")]).any()


def test_split_and_join_helpers():
    rec = _records(_rec("a"), _rec("b"), _rec("c", title="Something else entirely about sleep"))
    joined = find_duplicates(rec, manual_decisions=join_decisions(["a", "c"]))
    assert _group_of(joined, "a") == _group_of(joined, "c")
    split = find_duplicates(rec, manual_decisions=split_decisions(["a"], ["b"]))
    assert _group_of(split, "a") != _group_of(split, "b")


def test_bad_manual_decision_is_reported():
    rec = _records(_rec("a"), _rec("b"))
    with pytest.raises(ValueError, match="expected 'match' or 'distinct'"):
        find_duplicates(rec, manual_decisions=pd.DataFrame(
            {"record_id_1": ["a"], "record_id_2": ["b"], "decision": ["maybe"]}))


# --------------------------------------------------------------------- result, merge, html
def test_deterministic_and_input_not_mutated():
    rec = _records(_rec("a", doi="10.1000/1011"), _rec("b"), _rec("c", doi="10.1000/1012"))
    before = rec.copy(deep=True)
    r1, r2 = find_duplicates(rec), find_duplicates(rec)
    pd.testing.assert_frame_equal(r1.groups, r2.groups)
    pd.testing.assert_frame_equal(r1.pairs, r2.pairs)
    pd.testing.assert_frame_equal(rec, before)


def test_scoring_in_slices_gives_the_same_result(monkeypatch):
    from evidence_synth.dedup import _find

    rec = _records(_rec("a", doi="10.1000/1011"), _rec("b"), _rec("c", doi="10.1000/1012"),
                   _rec("d", year=2009))
    whole = find_duplicates(rec)
    monkeypatch.setattr(_find, "_SLICE", 2)
    sliced = find_duplicates(rec)
    assert len(whole.pairs) > 4
    pd.testing.assert_frame_equal(whole.pairs, sliced.pairs)
    pd.testing.assert_frame_equal(whole.groups, sliced.groups)


def test_result_tables_and_summary():
    rec = _records(_rec("a"), _rec("b", pages="575-9"))
    res = find_duplicates(rec)
    assert list(res.groups.columns) == ["record_id", "group_id", "is_primary", "study_id",
                                        "group_size"]
    assert res.groups["is_primary"].sum() == res.groups["group_id"].nunique() == 7
    assert {"record_id_1", "record_id_2", "score", "decision", "reason",
            "title_ratio"} <= set(res.pairs.columns)
    assert res.counts().loc["records removed if merged", "value"] == 1
    assert "records removed if merged: 1" in res.summary().splitlines()
    assert "DedupResult" in res._repr_html_()
    assert res.to_frame().equals(res.groups)


def test_merge_keeps_every_member_and_best_values():
    rec = _records(_rec("a", abstract=pd.NA, doi="10.1000/1011"),
                   _rec("b", abstract=ABSTRACT + " Conclusion: it works.", source_id="scopus"),
                   _rec("c", authors=["Hausenloy D. J."], doi=pd.NA))
    res = find_duplicates(rec)
    assert _group_of(res, "a") == _group_of(res, "b") == _group_of(res, "c")
    merged = merge_duplicates(rec, res)
    assert len(merged) == 7
    assert sorted(m for ids in merged["member_ids"] for m in ids) == sorted(rec["record_id"])
    row = merged[merged["n_members"] == 3].iloc[0]
    assert row["abstract"].endswith("it works.")
    assert row["doi"] == "10.1000/1011"
    assert len(row["authors"]) == 3
    assert {p["record_id"] for p in row["provenance"]} == {"a", "b", "c"}
    assert "scopus" in [p["source_id"] for p in row["provenance"]]


def test_pair_html_highlights_differences():
    rec = _records(_rec("a"), _rec("b", title="Remote ischemic preconditioning reduces "
                                              "myocardial injury in cardiac surgery"))
    out = pair_html(rec, "a", "b", pairs=find_duplicates(rec).pairs)
    assert "<del>ischaemic</del>" in out
    assert "<ins>ischemic</ins>" in out
    assert "score" in out
    with pytest.raises(ValueError, match="not found"):
        pair_html(rec, "a", "zzz")


def test_options_are_checked():
    rec = _records(_rec("a"))
    with pytest.raises(ValueError, match="versions"):
        find_duplicates(rec, versions="fuse")
    dup = pd.concat([rec, rec.iloc[:1]], ignore_index=True)
    with pytest.raises(ValueError, match="unique"):
        find_duplicates(dup)


# --------------------------------------------------------------------- real data
@pytest.mark.slow
def test_neuroimaging_precision_at_least_099():
    if not (SHARED / "dedup" / "load.py").exists():
        pytest.skip("../shared/data not present")
    from evidence_synth.dedup._labelled import labelled_records, load_module

    loader = load_module(SHARED / "dedup")
    rec = labelled_records("neuroimaging", SHARED / "dedup")
    res = find_duplicates(rec)
    precision, recall, _ = loader.pairwise_scores(rec["true_group"], res.groups["group_id"])
    assert precision >= 0.99
    assert recall >= 0.9


def test_reviewer_records_answers_and_calls_back():
    from evidence_synth.dedup import DedupReviewer

    rec = _records(_rec("a", doi="10.1000/7001"), _rec("c", doi="10.1000/7002"),
                   _rec("d", doi="10.1000/7003", title="Remote ischaemic preconditioning"))
    res = find_duplicates(rec)
    seen = []
    reviewer = DedupReviewer(rec, res, on_decision=lambda a, b, d: seen.append((a, b, d)))
    assert len(reviewer.queue) >= 1
    first = reviewer.current()
    reviewer.widget()
    assert "es-pair" in reviewer._html.value
    reviewer.answer("match")
    assert seen == [(first["record_id_1"], first["record_id_2"], "match")]
    assert reviewer.decisions.to_dict("records") == [
        {"record_id_1": first["record_id_1"], "record_id_2": first["record_id_2"],
         "decision": "match"}]
    rerun = find_duplicates(rec, manual_decisions=reviewer.decisions)
    assert _group_of(rerun, first["record_id_1"]) == _group_of(rerun, first["record_id_2"])
    with pytest.raises(ValueError, match="decision must be"):
        reviewer.answer("maybe")


def test_phase_ii_and_phase_iii_are_not_merged_but_alpha1_variants_are():
    rec = _records(
        _rec("p2", title="A phase II trial of remote ischaemic preconditioning in surgery",
             pages=pd.NA, volume=pd.NA, issue=pd.NA),
        _rec("p3", title="A phase III trial of remote ischaemic preconditioning in surgery",
             pages=pd.NA, volume=pd.NA, issue=pd.NA),
        _rec("a1", title="Alpha 1-adrenoceptor activation mediates the infarct size-limiting "
                         "effect of ischemic preconditioning", doi="10.1172/jci117216"),
        _rec("a2", title="Alpha1-adrenoceptor activation mediates the infarct size-limiting "
                         "effect of ischemic preconditioning"),
    )
    res = find_duplicates(rec)
    assert _group_of(res, "p2") != _group_of(res, "p3")
    assert "different numbers in title" in _pair(res, "p2", "p3")["rules"]
    assert "different numbers in title" not in _pair(res, "a1", "a2")["rules"]
    assert _group_of(res, "a1") == _group_of(res, "a2")


def test_reviewer_buttons_write_pair_decisions_to_the_store(tmp_path):
    from evidence_synth import open_review
    from evidence_synth.dedup import DedupReviewer

    rec = _records(_rec("a", doi="10.1000/7001"), _rec("c", doi="10.1000/7002"),
                   _rec("d", doi="10.1000/7003", title="Remote ischaemic preconditioning"))
    with open_review(tmp_path / "review.db") as review:
        stored = review.add_records(rec.drop(columns=["source_id"]),
                                    source={"source_id": "s", "database": "test"})
        res = find_duplicates(stored)
        reviewer = DedupReviewer(stored, res, review=review, reviewer="ann")
        box = reviewer.widget()
        first = reviewer.current()
        match_button = box.children[2].children[0]
        match_button.click()
        events = review.pair_decisions()
        assert events[["decision", "reviewer"]].values.tolist() == [["match", "ann"]]
        assert set(events.iloc[0][["record_id_1", "record_id_2"]]) == {
            first["record_id_1"], first["record_id_2"]}
        rerun = find_duplicates(stored, manual_decisions=review.pair_decisions())
        assert _group_of(rerun, first["record_id_1"]) == _group_of(rerun, first["record_id_2"])
    with pytest.raises(ValueError, match="needs reviewer"):
        DedupReviewer(stored, res, review=object())
