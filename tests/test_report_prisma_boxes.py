"""The table of PRISMA boxes: every reference resolves, every box is traced, labels live once."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import fields
from pathlib import Path

import pytest

from evidence_synth.report import PrismaCounts, prisma_counts, prisma_diagram
from evidence_synth.report._prisma_boxes import (
    BOX,
    BOXES,
    PANEL,
    PANELS,
    ROWS,
    SUMMARY,
    SUMMARY_FIELD,
    count,
    in_panel,
)
from evidence_synth.report._prisma_csv import TEMPLATE_ROWS

REPORT = Path(__file__).resolve().parents[1] / "evidence_synth" / "report"
FIXTURES = Path(__file__).parent / "fixtures" / "report"
spec = importlib.util.spec_from_file_location("flow_review", FIXTURES / "flow_review.py")
FLOW = importlib.util.module_from_spec(spec)
spec.loader.exec_module(FLOW)


@pytest.fixture(scope="module")
def counts(tmp_path_factory):
    with FLOW.build_review(tmp_path_factory.mktemp("boxes") / "r.db") as review:
        return prisma_counts(review, removed_reasons=["RETRACTED"])


def test_every_reference_in_the_table_resolves():
    attributes = {f.name for f in fields(PrismaCounts)}
    for box in BOXES:
        for key in (box.like, box.lists, box.part_of, *box.sum_of,
                    *(k for _, k in box.terms)):
            assert key is None or key in BOX, (box.key, key)
        assert box.panel is None or PANEL[box.panel].kind == "counts", box.key
        if box.lists:
            assert box.key not in attributes
        elif box.sum_of:  # a derived total is a property, not a field
            assert box.key not in attributes and hasattr(PrismaCounts, box.key), box.key
        else:
            assert box.key in attributes, box.key
    rows = {row for row, _ in ROWS}
    for panel in PANELS:
        if panel.kind == "stage":
            assert panel.name in {stage for _, stage in ROWS}
        else:
            assert panel.row in rows and panel.columns, panel.name
        if panel.kind == "counts":
            assert in_panel(panel.name), f"{panel.name} draws no box"
    for field_ in SUMMARY_FIELD.findall(SUMMARY):
        assert all(key in BOX for key in field_.split("+")), field_
    kinds = [b.source_kind for b in BOXES if b.source_kind]
    assert len(kinds) == len(set(kinds))


def test_the_template_rows_come_from_the_table_in_the_r_package_order():
    keys = [data for data, *_ in TEMPLATE_ROWS if data is not None]
    assert keys == [b.key for p in PANELS if p.kind == "counts"
                    for b in BOXES if b.panel == p.name and b.in_csv] + [
        "identification", "screening", "included"]
    by_key = {row[0]: row for row in TEMPLATE_ROWS}
    assert by_key["duplicates"][3] == "Duplicate records"  # the package's own boxtext
    assert by_key["database_specific_results"][3] == "Specific Databases"
    assert by_key["other_sought_reports"][4] == "Reports sought for retrieval (other methods)"


def test_every_box_is_traced_with_as_many_rows_as_its_count(counts):
    for box in BOXES:
        rows = counts.trace(box.key)
        if box.lists:  # the CSV row listing a box's items traces that box
            assert rows.equals(counts.trace(box.lists))
        else:
            assert len(rows) == count(counts, box.key), box.key
    assert sorted(counts.trace("identified")["source_id"].unique()) == ["ridie", "scopus",
                                                                         "wos"]
    assert len(counts.trace("other_identified")) == counts.other_identified == 3


def test_derived_totals_add_up_their_boxes():
    c = PrismaCounts(database_results={"A": 3, "B": 4}, register_results={"R": 2},
                     website_results=1, organisation_results=5, citations_results=7,
                     records_excluded_human=11, records_excluded_automation=13,
                     previous_studies=17, new_studies=19, previous_reports=23, new_reports=29)
    assert (c.identified, c.other_identified, c.records_excluded) == (9, 13, 24)
    assert (c.total_studies, c.total_reports) == (36, 52)
    assert c.to_dict()["identified"] == 9


def test_each_label_is_written_once_in_the_package(tmp_path):
    texts = [b.label for b in BOXES if len(b.label) > 15]
    texts += [p.text for p in PANELS if len(p.text) > 15]
    texts += [b.name for b in BOXES if len(b.name) > 15]
    sources = {path.name: path.read_text(encoding="utf-8")
               for path in REPORT.glob("*.py") if path.name != "_prisma_boxes.py"}
    for text in set(texts):
        for name, source in sources.items():
            assert f'"{text}"' not in source, f"{text!r} is written again in {name}"
    table = (REPORT / "_prisma_boxes.py").read_text(encoding="utf-8")
    for text in {b.label for b in BOXES if not b.like and not b.lists}:
        assert len(re.findall(re.escape(f'"{text}"'), table)) == 1, text


def test_every_drawn_box_shows_its_label_and_count(tmp_path):
    c = PrismaCounts(database_results={"Scopus": 1843}, register_results={"RIDIE": 41},
                     records_excluded_human=5, records_excluded_automation=2,
                     dbr_excluded={"Wrong design": 3}, other_duplicates=1,
                     other_records_excluded=1200, new_reports=4)
    boxes = prisma_diagram(c, tmp_path / "flow.png").boxes
    for panel in PANELS:
        text = " ".join(boxes[panel.name].split())
        for box in in_panel(panel.name):
            shown = box.aside or box.label
            assert shown in text, (panel.name, box.key)
    assert "(after removing 1 duplicates and 1,200 records excluded at screening)" in " ".join(
        boxes["box12"].split())
    assert "Reports excluded (n = 3): Wrong design (n = 3)" in " ".join(boxes["box9"].split())
