"""Regex rules: alternations rewritten as prefix trees and case-free compilation are exact."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence_synth.columns import records_from_dicts
from evidence_synth.screen import RuleSet, apply_rules
from evidence_synth.screen._patterns import (
    _case_free,
    compile_rule_pattern,
    regroup_alternations,
    rows_holding,
)
from evidence_synth.screen.rules import fold_text

ATOMS = ["a", "b", "s", "k", "i", "ab", "ba", "\\b", "\\B", "\\w", "[ab]", ".", "a?", "b*",
         "a+?", "\\.", "-", " ", "^", "$", "a{1,2}", "A", "(?i)", "(?-i:a)"]
TEXT = "abski. -ABS\u0131\u212a\u017f\u0130\n"


def _group(branches: list[str], opening: str, quantifier: str) -> str:
    return opening + "|".join(branches) + ")" + quantifier


patterns = st.recursive(
    st.lists(st.sampled_from(ATOMS), max_size=4).map("".join),
    lambda inner: st.builds(
        _group,
        st.lists(st.lists(inner, min_size=1, max_size=3).map("".join), min_size=1, max_size=7),
        st.sampled_from(["(?:", "(?:", "(?:", "(", "(?=", "(?P<g>"]),
        st.sampled_from(["", "", "?", "*", "+?", "{,2}", "{0,1}", "{1,2}"]),
    ),
    max_leaves=20,
)


def _compiles(pattern: str, flags: int) -> bool:
    try:
        re.compile(pattern, flags)
    except (re.error, ValueError):
        return False
    return True


def _matches(regex: re.Pattern[str], text: str) -> list[tuple]:
    return [(m.span(), m.groups(), m.groupdict()) for m in regex.finditer(text)]


@settings(max_examples=600, deadline=None)
@given(pattern=patterns, text=st.text(alphabet=TEXT, max_size=40),
       flags=st.sampled_from([re.M, re.M | re.I]))
def test_regrouped_alternations_find_the_same_matches(pattern, text, flags):
    if pattern.count("(?P<g>") > 1 or not _compiles(pattern, flags):
        return
    regrouped = regroup_alternations(pattern)
    assert _compiles(regrouped, flags), (pattern, regrouped)
    assert _matches(re.compile(regrouped, flags), text) == _matches(
        re.compile(pattern, flags), text), (pattern, regrouped)


@settings(max_examples=400, deadline=None)
@given(pattern=patterns, text=st.text(alphabet=TEXT + "\u03c3\u03c2\u00c9\u00e9", max_size=40))
def test_compiled_rule_patterns_match_folded_text_as_ignorecase_does(pattern, text):
    if pattern.count("(?P<g>") > 1 or not _compiles(pattern, re.I):
        return
    folded = fold_text(text)
    compiled = compile_rule_pattern(pattern)
    expected = _matches(re.compile(pattern, re.I | re.M), folded)
    assert _matches(compiled.regex, folded) == expected, pattern
    if compiled.literals is not None and expected:
        # every text that matches holds one of the literals read off the pattern
        assert any(literal in folded for literal in compiled.literals), pattern


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(st.text(alphabet="abc \x00", max_size=12), max_size=12),
       literals=st.frozensets(st.text(alphabet="abc", min_size=1, max_size=3), min_size=1,
                              max_size=4))
def test_rows_holding_finds_every_text_with_a_literal(texts, literals):
    expected = [i for i, text in enumerate(texts) if any(lit in text for lit in literals)]
    assert rows_holding(texts, literals, {}) == expected


def test_literals_every_match_holds():
    def literals(pattern):
        return compile_rule_pattern(pattern).literals

    assert literals(r"\b(?:agreement|accord)\s+with\s+(?:libya|tunisia)") == {
        "agreement", "accord"}
    # "immigra" holds "migra": one literal is enough
    assert literals("(?:immigra|migra)tion") == {"migra"}
    assert literals("(?:visas?|readmis\\w*) (?:deal|pact)") == {"visa", "readmis"}
    for pattern in ("a?b?", "(?:foo)?", "(?:foo){,2}", "(?=abc)", "(?i:abc)", "[ab]+", "(?:ab|c*)"):
        assert literals(pattern) is None, pattern


def test_word_lists_become_prefix_trees():
    assert regroup_alternations("(?:spain|spanish|sweden)") == "(?:s(?:pa(?:in|nish)|weden))"
    # the first branch that fits still wins: "guinea" before "guinea bissau" stays lazy
    assert regroup_alternations("(?:guinea|guinea bissau)") == "(?:guinea(?:| bissau))"
    assert regroup_alternations(r"\bfoo|\bbar") == r"\b(?:foo|bar)"


def test_branches_are_only_regrouped_where_order_cannot_matter():
    # a branch starting with a class, a group or a quantified atom keeps its place
    assert regroup_alternations("(?:ab|[ab]c|ad)") == "(?:ab|[ab]c|ad)"
    assert regroup_alternations("(?:ab|a*c|ad)") == "(?:ab|a*c|ad)"
    # upper-case letters match lower-case ones under IGNORECASE: not regrouped by letter
    assert regroup_alternations("(?:ab|Ac|ad)") == "(?:ab|Ac|ad)"


@pytest.mark.parametrize("pattern", [
    "(ab|ac)",                      # capturing: group numbers must not move
    "(?:x(ab|ac)|xy)",              # holds a capturing group
    "(?x:a b|a c)",                 # verbose: spaces mean nothing
    "(?>ab|ac)",                    # atomic group
    r"(a)?(?(1)ab|ac)",             # conditional
])
def test_patterns_not_followed_are_left_as_written(pattern):
    assert regroup_alternations(pattern) == pattern


@pytest.mark.parametrize(("pattern", "free"), [
    (r"\bborder\s+(?:guard|police)s?\b", True),
    (r"^\s*(book review|erratum)\b", True),
    ("Frontex", False),
    ("fronti\u00e8re", False),
    (r"\x66rontex", False),
    (r"(a)\1", False),
    (r"(?P<w>a)(?P=w)", False),
])
def test_case_free_patterns(pattern, free):
    assert _case_free(pattern) is free
    flags = compile_rule_pattern(pattern).regex.flags
    assert bool(flags & re.IGNORECASE) is not free


def test_folding_reads_dotless_i_and_kelvin_as_ignorecase_does():
    assert fold_text("S\u0131n\u0131r \u212aontrol\u00fc") == "sinir kontrolu"
    assert compile_rule_pattern("sinir").regex.search(fold_text("S\u0131n\u0131r"))


def test_a_match_in_one_record_is_not_hidden_by_the_record_before():
    # Records used to be searched as one string: a match attempt running from the end of
    # one title ("... agreement") into the next hid that title's own match.
    rules = RuleSet.from_dict({"schema_version": 1, "rules": [
        {"id": "protocol", "type": "regex", "pattern": r"(?:agreement\W+)?protocol\b"}]})
    records = records_from_dicts([
        {"record_id": "a", "title": "A readmission agreement"},
        {"record_id": "b", "title": "Protocol on readmission"},
        {"record_id": "c", "title": "No such text"}])
    assert apply_rules(records, rules).to_frame()["rules"].tolist() == [[], ["protocol"], []]
