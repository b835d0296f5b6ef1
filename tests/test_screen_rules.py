"""Screening criteria and rules: loading, matching, tags, auto-exclusion, tagger quality."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import ProtocolError
from evidence_synth.screen import (
    Criteria,
    RuleSet,
    apply_rules,
    highlight_html,
    load_criteria,
    load_rules,
)
from evidence_synth.screen.rules import fold_text

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "screen"
PROTOCOL = ROOT / "protocols" / "irregular-migration-egm-update.yaml"


@pytest.fixture(scope="module")
def tiny() -> RuleSet:
    return load_rules(FIX / "tiny_rules.yaml")


@pytest.fixture(scope="module")
def tiny_criteria() -> Criteria:
    return load_criteria(FIX / "tiny_criteria.yaml")


@pytest.fixture(scope="module")
def review_rules() -> RuleSet:
    return load_rules(ROOT / "screening" / "rules.yaml")


def _records(*rows: dict) -> pd.DataFrame:
    return records_from_dicts([{"record_id": f"r{i}", **row} for i, row in enumerate(rows)])


def _hits(rules: RuleSet, **fields: str):
    return apply_rules(_records(fields), rules)["r0"]


# -- the review's own files ----------------------------------------------------------------


def test_review_rules_and_criteria_load(review_rules):
    criteria = load_criteria(ROOT / "screening" / "criteria.yaml")
    assert set(criteria.stages) == {"title_abstract", "retrieval", "full_text"}
    assert "ext:border_management" in review_rules.tags
    assert "ext:partnership_diplomacy" in review_rules.tags
    auto = {a.rule for a in criteria.stage("title_abstract").auto_exclude if a.rule}
    assert auto <= {r.id for r in review_rules.rules}


def test_review_codes_and_tags_match_the_protocol(review_rules):
    if not PROTOCOL.exists():
        pytest.skip("protocol not present")
    from evidence_synth.protocol import load_protocol

    protocol = load_protocol(PROTOCOL)
    criteria = load_criteria(ROOT / "screening" / "criteria.yaml")
    reasons = protocol.exclusion_reasons_frame()
    for stage, spec in criteria.stages.items():
        expected = set(reasons.loc[reasons["stage"] == stage, "code"])
        assert {r.code for r in spec.reasons} == expected, stage
        nodes = {n for c in spec.criteria for n in c.nodes}
        assert nodes <= protocol.node_ids
    assert set(review_rules.tags) <= protocol.node_ids


# -- validation ----------------------------------------------------------------------------


def test_bad_rules_report_every_problem_with_path_and_line():
    with pytest.raises(ProtocolError) as info:
        load_rules(FIX / "bad_rules.yaml")
    problems = info.value.problems
    assert list(problems["path"]) == [
        "$.rules[0].terms[0]", "$.rules[1].terms", "$.rules[2].pattern",
        "$.rules[3].requires", "$.rules[4].tags[0]", "$.rules[5].id",
    ]
    assert list(problems["line"]) == [8, 9, 13, 17, 21, 22]
    assert "use type: phrase" in problems["problem"][0]
    assert "bad_rules.yaml" in str(info.value)


def test_bad_criteria_report_every_problem_with_path_and_line():
    with pytest.raises(ProtocolError) as info:
        load_criteria(FIX / "bad_criteria.yaml")
    problems = info.value.problems
    assert list(problems["line"]) == [7, 11, 12]
    assert "exactly one of year_before or rule" in problems["problem"][1]
    assert "TA_OLD" in problems["problem"][2]


def test_rules_from_dict_validates_without_a_file():
    with pytest.raises(ProtocolError, match=r"\$\.rules\[0\]\.type"):
        RuleSet.from_dict({"schema_version": 1, "rules": [{"id": "x", "type": "fuzzy"}]})


def test_auto_exclusion_naming_an_unknown_rule_is_refused(tiny_criteria):
    rules = RuleSet.from_dict({"schema_version": 1, "rules": [
        {"id": "frontex", "type": "keyword", "terms": ["frontex"]}]})
    with pytest.raises(ProtocolError, match="editorial_type"):
        apply_rules(_records({"title": "x"}), rules, criteria=tiny_criteria)


# -- matching ------------------------------------------------------------------------------


def test_fold_text_keeps_offsets():
    text = "Contrôle des frontières – “Grenzschließung” İstanbul Æ ﬁ"
    assert len(fold_text(text)) == len(text)
    assert fold_text("Garde-Côtes ÉTÉ") == "garde-cotes ete"


def test_accent_and_case_insensitive_with_original_offsets(tiny):
    title = "Le CONTRÔLE des Frontières et les garde-côtes"
    hits = _hits(tiny, title=title)
    assert hits.tags == ("ext:border_management",)
    assert [s.text for s in hits.spans] == ["CONTRÔLE des Frontières", "garde-côtes"]
    assert all(title[s.start:s.end] == s.text for s in hits.spans)


def test_word_boundaries(tiny):
    assert _hits(tiny, title="Borderline control of Frontexes").rules == ()
    assert _hits(tiny, title="(Frontex)").rules == ("frontex",)


def test_hyphens_spaces_and_wildcards(tiny):
    for text in ("push-backs at sea", "push back", "Pushbacks", "push\u2010back"):
        assert _hits(tiny, title=text).rules == ("pushbacks",), text
    assert _hits(tiny, title="Border-controls in Europe").rules == ("border_control",)
    hits = _hits(tiny, abstract="Les interceptions en mer ont augmenté.")
    assert [s.text for s in hits.spans] == ["interceptions en mer"]


def test_requires_context(tiny):
    assert _hits(tiny, title="Hospital readmission rates").rules == ()
    assert _hits(tiny, title="Readmission of migrants").rules == ("readmission",)
    assert _hits(tiny, title="Readmission", abstract="asylum seekers").rules == ("readmission",)


def test_proximity_within_n_words(tiny):
    near = _hits(tiny, abstract="visa policy used for return cooperation")
    assert near.rules == ("visa_near_return",)
    assert [s.text for s in near.spans] == ["visa", "return"]
    far = _hits(tiny, abstract="visa policy used for a lot of return")
    assert far.rules == ()
    assert _hits(tiny, abstract="returns of tourists with visas").rules == ("visa_near_return",)


def test_regex_rule_and_unhighlighted_pub_type(tiny):
    hits = _hits(tiny, title="After the EU-Turkey Statement", pub_type="Editorial")
    assert hits.rules == ("eu_turkey", "editorial_type")
    assert [s.rule_id for s in hits.spans] == ["eu_turkey"]
    assert hits.score == 0.0


def test_rule_hits_frames(tiny):
    records = _records({"title": "Frontex and pushbacks"}, {"title": "Nothing here"},
                       {"title": "Readmission of refugees"})
    hits = apply_rules(records, tiny)
    frame = hits.to_frame()
    assert list(frame.columns) == ["record_id", "rules", "tags", "n_spans", "score",
                                   "auto_exclude", "auto_exclude_by"]
    assert frame["rules"].tolist() == [["frontex", "pushbacks"], [], ["readmission"]]
    assert frame["score"].tolist() == [3.0, 0.0, 1.0]
    matrix = hits.tag_matrix()
    assert matrix["ext:border_management"].tolist() == [True, False, False]
    assert matrix["ext:partnership_diplomacy"].tolist() == [False, False, True]
    spans = hits.spans()
    assert spans[["record_id", "text"]].values.tolist() == [
        ["r0", "Frontex"], ["r0", "pushbacks"], ["r2", "Readmission"]]
    assert "ext:border_management: 1" in hits.summary()


def test_missing_fields_are_empty(tiny):
    records = records_from_dicts([{"record_id": "a"}])
    assert apply_rules(records, tiny)["a"].rules == ()


# -- auto-exclusion ------------------------------------------------------------------------


def test_auto_exclusions_only_where_the_criteria_say(tiny, tiny_criteria):
    records = _records(
        {"title": "Frontex at sea", "year": 1985},
        {"title": "Frontex at sea", "year": 2015, "pub_type": "Book Review"},
        {"title": "Frontex at sea"},
        {"title": "Frontex at sea", "year": 2015},
    )
    auto = apply_rules(records, tiny, criteria=tiny_criteria).auto_excluded()
    assert auto.values.tolist() == [
        ["r0", "TA_BEFORE_CUTOFF", "year_before:1990"],
        ["r1", "TA_PUBLICATION_TYPE", "rule:editorial_type"],
    ]
    none = apply_rules(records, tiny, criteria=tiny_criteria, stage="full_text")
    assert none.auto_excluded().empty
    assert apply_rules(records, tiny).auto_excluded().empty


# -- highlighting --------------------------------------------------------------------------


def test_highlight_html_escapes_and_marks(tiny):
    text = "<b>Frontex</b> & pushbacks"
    out = highlight_html(text, _hits(tiny, title=text), field="title")
    assert out == (
        '&lt;b&gt;<mark class="es-hit" title="frontex" style="background:#ffd8a8">'
        'Frontex</mark>&lt;/b&gt; &amp; <mark class="es-hit" title="pushbacks" '
        'style="background:#ffd8a8">pushbacks</mark>'
    )
    assert highlight_html("Frontex", tiny).count("<mark") == 1
    assert highlight_html(None, tiny) == ""


def test_overlapping_spans_merge(review_rules):
    out = highlight_html("EU-Turkey statement on readmission agreements for migrants",
                         review_rules)
    assert out.count("<mark") == 2
    assert 'title="pd_readmission, pd_readmission_context"' in out


# -- tagger quality on the labelled sample ---------------------------------------------------


def _precision_recall(sample: pd.DataFrame, rules: RuleSet) -> dict[str, tuple[float, float]]:
    records = sample.assign(record_id=sample["sample_id"])
    matrix = apply_rules(records, rules).tag_matrix()
    out = {}
    for column in ("border_management", "partnership_diplomacy"):
        predicted = matrix[f"ext:{column}"].to_numpy()
        truth = sample[column].to_numpy() == 1
        tp = int((predicted & truth).sum())
        out[column] = (tp / max(int(predicted.sum()), 1), tp / int(truth.sum()))
    return out


def test_tagger_sample_is_documented():
    sample = pd.read_csv(FIX / "tagger_sample.csv")
    assert len(sample) >= 80
    assert set(sample["split"]) == {"dev", "holdout"}
    assert sample["sample_id"].is_unique
    assert (sample["border_management"] == 1).sum() >= 25
    assert (sample["partnership_diplomacy"] == 1).sum() >= 25
    assert {"en", "fr", "es", "de"} <= set(sample["language"])
    assert (sample["category"] == "trap").sum() >= 20


def test_tagger_precision_and_recall(review_rules):
    sample = pd.read_csv(FIX / "tagger_sample.csv")
    # Measured on this sample (see tests/fixtures/screen/README.md): 1.0 everywhere after
    # the rules were tuned on the dev split. Pinned at the measured values.
    for split in ("dev", "holdout"):
        scores = _precision_recall(sample[sample["split"] == split], review_rules)
        for column, (precision, recall) in scores.items():
            assert precision >= 1.0, (split, column, precision)
            assert recall >= 1.0, (split, column, recall)


def test_many_records_in_seconds(review_rules):
    sample = pd.read_csv(FIX / "tagger_sample.csv")
    big = pd.concat([sample] * 50, ignore_index=True)
    big["record_id"] = [f"r{i}" for i in range(len(big))]
    start = time.perf_counter()
    hits = apply_rules(big, review_rules)
    elapsed = time.perf_counter() - start
    assert len(hits) == len(big) == 5450
    assert elapsed < 10, elapsed


@pytest.mark.benchmark
def test_benchmark_100k_records(review_rules):
    sample = pd.read_csv(FIX / "tagger_sample.csv")
    big = pd.concat([sample] * 920, ignore_index=True)
    big["record_id"] = [f"r{i}" for i in range(len(big))]
    start = time.perf_counter()
    apply_rules(big, review_rules)
    elapsed = time.perf_counter() - start
    print(f"apply_rules: {len(big)} records in {elapsed:.1f} s")
    assert elapsed < 60
