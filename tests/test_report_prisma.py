"""PRISMA 2020 counts from a constructed review whose every box was worked out by hand."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.errors import PrismaInconsistencyError
from evidence_synth.report import PrismaCounts, prisma_counts

FIXTURES = Path(__file__).parent / "fixtures" / "report"


def _flow_module():
    spec = importlib.util.spec_from_file_location("flow_review", FIXTURES / "flow_review.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FLOW = _flow_module()


@pytest.fixture
def counts(tmp_path):
    review = FLOW.build_review(tmp_path / "r.db")
    try:
        yield prisma_counts(review, removed_reasons=["RETRACTED"])
    finally:
        review.close()


def test_every_box_matches_the_hand_count(counts):
    got = counts.to_dict()
    for box, expected in FLOW.EXPECTED.items():
        assert got[box] == expected, box
    assert counts.identified == 12
    assert counts.other_identified == 3
    assert counts.records_excluded == 3
    assert counts.problems == []


def test_check_passes_on_a_consistent_log(counts):
    assert counts.check() is counts


def test_trace_lists_the_records_and_events_behind_each_box(counts):
    for box in ("records_screened", "duplicates", "dbr_assessed", "new_reports",
                "previous_reports", "excluded_automatic", "other_sought_reports"):
        assert len(counts.trace(box)) == counts.to_dict()[box], box
    assert sorted(counts.trace("duplicates")["record_id"]) == ["scopus:S2", "wos:W1"]
    auto = counts.trace("records_excluded_automation")
    assert list(auto["record_id"]) == ["wos:W2"]
    assert list(auto["actor"]) == ["model"]
    assert list(counts.trace("excluded_automatic")["group_id"]) == ["F"]
    assert list(counts.trace("excluded_other")["reason"]) == ["RETRACTED"]
    excluded = counts.trace("dbr_excluded").set_index("group_id")
    assert excluded.loc["E", "reason"] == "WRONG_POPULATION"
    assert len(excluded.loc["E", "event_ids"]) == 1  # the adjudication decided it
    assert len(excluded.loc["D", "event_ids"]) == 2  # two agreeing reviewers
    assert sorted(counts.trace("new_studies")["study_id"]) == ["A", "L"]
    assert sorted(counts.trace("total_studies")["study_id"]) == ["A", "L", "SP1", "SP3", "SP4"]
    with pytest.raises(KeyError, match="no PRISMA box"):
        counts.trace("nonsense")


def test_without_removed_reasons_the_retraction_counts_as_automation(tmp_path):
    with FLOW.build_review(tmp_path / "r.db") as review:
        counts = prisma_counts(review)
    assert counts.excluded_other == 0
    assert counts.excluded_automatic == 2
    counts.check()


def test_unresolved_conflict_raises_naming_both_numbers(tmp_path):
    # alice changes her mind on W4: alice exclude vs bob include, nobody adjudicates
    extra = [{"record_id": "W4", "stage": "title_abstract", "decision": "exclude",
              "reviewer": "alice", "reason": "NOT_MIGRATION"}]
    with FLOW.build_review(tmp_path / "r.db", extra_events=extra) as review:
        counts = prisma_counts(review, removed_reasons=["RETRACTED"])
    with pytest.raises(PrismaInconsistencyError) as info:
        counts.check()
    message = str(info.value)
    assert "reports sought for retrieval = 4 but records screened - records excluded = " \
           "8 - 3 = 5" in message
    assert "1 unresolved conflict(s) at title_abstract" in message
    assert "decided at retrieval without being included at title/abstract" in message
    problems = info.value.problems
    row = problems[problems["check"] == "reports sought for retrieval"].iloc[0]
    assert (row["found"], row["expected"]) == (4, 5)


def test_full_text_decision_without_title_abstract_inclusion_is_reported(tmp_path):
    extra = [{"record_id": "W3", "stage": "full_text", "decision": "include",
              "reviewer": "alice"}]
    with FLOW.build_review(tmp_path / "r.db", extra_events=extra) as review:
        counts = prisma_counts(review, removed_reasons=["RETRACTED"])
    with pytest.raises(PrismaInconsistencyError) as info:
        counts.check()
    message = str(info.value)
    assert "reports assessed for eligibility = 5 but reports sought - reports not retrieved " \
           "= 5 - 1 = 4" in message
    assert "decided at full text without being included at title/abstract: groups H" in message


def test_unscreened_record_breaks_the_screening_equation(tmp_path):
    counts = PrismaCounts(database_results={"Scopus": 10}, duplicates=2, records_screened=7)
    with pytest.raises(PrismaInconsistencyError, match=r"records screened = 7 but records "
                       r"identified - duplicates - automation - other = 10 - 2 - 0 - 0 = 8"):
        counts.check()


def test_prisma2020_csv_has_the_template_rows_and_round_trips(counts, tmp_path):
    path = counts.to_prisma2020_csv(tmp_path / "prisma.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["data", "node", "box", "description", "boxtext", "tooltips", "url", "n"]
    template = pd.read_csv(FIXTURES / "prisma2020_template_rows.csv", dtype=str,
                           keep_default_na=False)
    assert [r[:3] for r in rows[1:]] == template.to_numpy().tolist()
    by_data = {r[0]: r for r in rows[1:]}
    assert by_data["database_specific_results"][7] == "Scopus, 6; Web of Science, 4"
    assert by_data["dbr_excluded"][7] == "WRONG_DESIGN, 1; WRONG_POPULATION, 1"
    assert by_data["records_screened"][7] == "8"
    assert by_data["total_studies"][7] == "5"
    assert (tmp_path / "prisma.csv.meta.json").exists()

    back = PrismaCounts.from_prisma2020_csv(path)
    for box, expected in FLOW.EXPECTED.items():
        assert back.to_dict()[box] == expected, box
    assert back.to_prisma2020_frame().equals(counts.to_prisma2020_frame())
    back.check()


def test_reading_the_unfilled_template_names_file_line_and_key(tmp_path):
    path = tmp_path / "template.csv"
    path.write_text(
        "data,node,box,description,boxtext,tooltips,url,n\n"
        "previous_studies,node5,box1,d,Studies,t,u,0\n"
        'dbr_excluded,node14,box9,d,Reports excluded,t,u,"Reason1, xxx; Reason2, xxx"\n',
        encoding="utf-8",
    )
    with pytest.raises(PrismaInconsistencyError,
                       match=r"template\.csv, line 3: expected 'name, n; name, n' .*"
                             r"'dbr_excluded', found 'Reason1, xxx'"):
        PrismaCounts.from_prisma2020_csv(path)


def test_frame_json_and_summary(counts, tmp_path):
    frame = counts.to_frame()
    assert list(frame.columns) == ["box", "item", "n", "label"]
    scopus = frame[(frame["box"] == "database_results") & (frame["item"] == "Scopus")]
    assert scopus["n"].tolist() == [6]
    text = counts.to_json(tmp_path / "c.json")
    assert '"records_screened": 8' in text
    assert '"protocol_sha256": "none"' in text
    assert "screened 8; excluded 3 (2 by humans, 1 by automation)" in counts.summary()


PROTOCOL = Path(__file__).resolve().parents[1] / "protocols" / "irregular-migration-egm-update.yaml"


@pytest.mark.skipif(not PROTOCOL.exists(), reason="the review's protocol file is not present")
def test_reason_labels_and_hash_come_from_the_protocol(tmp_path):
    from evidence_synth.protocol import load_protocol

    protocol = load_protocol(PROTOCOL)
    extra = [{"record_id": "S4", "stage": "full_text", "decision": "exclude",
              "reviewer": "carol", "kind": "adjudication", "reason": "FT_DESIGN"}]
    # the protocol wants two reviewers per record at full text
    second = [{"record_id": "G2", "stage": "full_text", "decision": "include",
               "reviewer": "bob"},
              {"record_id": "C1", "stage": "full_text", "decision": "exclude",
               "reviewer": "bob", "reason": "WRONG_DESIGN"}]
    with FLOW.build_review(tmp_path / "r.db", extra_events=extra + second) as review:
        review.set_protocol(protocol)
        counts = prisma_counts(review, removed_reasons=["RETRACTED"])
    assert counts.protocol_sha256 == protocol.sha256
    # protocol reasons first, in protocol order; unknown codes are shown as they are
    assert counts.dbr_excluded == {"Not an impact evaluation or systematic review": 1,
                                   "WRONG_POPULATION": 1}
    counts.check()


def test_check_fails_when_fewer_reviewers_than_the_protocol_requires(tmp_path):
    from evidence_synth.protocol import load_protocol

    with FLOW.build_review(tmp_path / "r.db") as review:
        review.set_protocol(load_protocol(PROTOCOL))
        counts = prisma_counts(review, removed_reasons=["RETRACTED"])
    with pytest.raises(PrismaInconsistencyError) as info:
        counts.check()
    # G2 and C1 (other methods) were assessed at full text by alice alone; W2, closed by
    # a model, and the adjudicated records need no second reviewer
    assert ("2 report(s) at full_text screened by fewer reviewers than the protocol "
            "requires (2 per record): groups L, M") in str(info.value)
    assert "at title_abstract screened by fewer" not in str(info.value)
    assert "at retrieval screened by fewer" not in str(info.value)  # 1 per record there


def test_records_not_yet_screened_are_named(tmp_path):
    from evidence_synth import open_review
    from evidence_synth.columns import records_from_dicts

    with open_review(tmp_path / "r.db") as review:
        review.add_records(records_from_dicts({"record_id": f"s:{i}", "title": "t"}
                                              for i in range(3)),
                           source={"source_id": "s", "database": "Scopus"})
        counts = prisma_counts(review)  # no deduplication run yet: every record is unique
    assert (counts.identified, counts.duplicates, counts.records_screened) == (3, 0, 0)
    with pytest.raises(PrismaInconsistencyError) as info:
        counts.check()
    assert "records screened = 0 but records identified - duplicates - automation - other " \
           "= 3 - 0 - 0 - 0 = 3" in str(info.value)
    assert "3 record(s) from databases/registers not yet screened at title/abstract: " \
           "groups record:s:0, record:s:1, record:s:2" in str(info.value)
