"""Spreadsheet safety (issue 16): no CSV or XLSX the library writes holds a live formula,
and reading our own files back gives the original text."""

from __future__ import annotations

import csv
import importlib.util
import re
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from evidence_synth import open_review
from evidence_synth.cli.dedup import command as dedup_command
from evidence_synth.cli.screen import command as screen_command
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import DataQualityWarning, EvidenceSynthError
from evidence_synth.extract.table import EvidenceTable
from evidence_synth.io import read_records, read_records_csv, write_records
from evidence_synth.report import PrismaCounts, build_report
from evidence_synth.screen import Screening
from evidence_synth.spreadsheet import (
    TRIGGERS,
    neutralise_cell,
    neutralise_frame,
    put_cell,
    restore_cell,
    restore_frame,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_evidence_table import ROW, STUDY

FIX = Path(__file__).resolve().parent / "fixtures"
PAYLOADS = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3",
            "\t=1+1 tab first", "\r=1+1 CR first", "'=already quoted", "''@twice", "- see notes"]
#: Payloads as the records contract keeps them (titles are trimmed to one line).
TITLES = ['=HYPERLINK("http://x","click")', "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3",
          "'=already quoted", "- see notes"]
# text an .xlsx file can hold (XML 1.0 characters; openpyxl refuses the others)
XML_TEXT = st.text(st.characters(blacklist_categories=("Cs",),
                                 blacklist_characters="".join(
                                     chr(c) for c in range(32) if chr(c) not in "\t\n\r")))
PREFIXED = st.builds(lambda quotes, trigger, rest: quotes + trigger + rest,
                     st.text("'", max_size=3), st.sampled_from(sorted(TRIGGERS)), XML_TEXT)


def _xml_line_ends(text: str) -> str:
    """What an .xlsx cell gives back: XML reads CR and CRLF as LF (a documented limit)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _csv_cells(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig")
    return [cell for row in csv.reader(text.splitlines(keepends=True)) for cell in row]


def _assert_csv_safe(path: Path) -> None:
    bad = [c for c in _csv_cells(path) if c[:1] in TRIGGERS and not _number(c)]
    assert bad == [], f"{path.name}: {bad[:3]}"


def _number(cell: str) -> bool:
    return re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", cell) is not None


def _assert_xlsx_safe(path: Path) -> None:
    book = load_workbook(path)
    formulas = [(ws.title, c.coordinate, c.value) for ws in book.worksheets
                for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == [], f"{path.name}: {formulas[:3]}"


# -- the rule ------------------------------------------------------------------------------


def test_every_payload_is_quoted_and_restored():
    for payload in PAYLOADS:
        written = neutralise_cell(payload)
        assert written == "'" + payload
        assert restore_cell(written) == payload
    for plain in ("A study", "'tis the season", "", "3 - 2", "#hashtag", "''"):
        assert neutralise_cell(plain) == plain and restore_cell(plain) == plain
    assert neutralise_cell(-0.31) == -0.31 and neutralise_cell(None) is None


def test_numbers_stay_numbers_and_text_columns_are_quoted():
    frame = pd.DataFrame({"yi": [-0.31, 0.2], "n": pd.array([-3, 4], dtype="Int64"),
                          "note": ["-0.31", "fine"], "=col": ["a", None]})
    out = neutralise_frame(frame)
    assert out["yi"].tolist() == [-0.31, 0.2] and out["n"].tolist() == [-3, 4]
    assert out["note"].tolist() == ["'-0.31", "fine"]  # text, quoted as OWASP says
    assert list(out.columns) == ["yi", "n", "note", "'=col"]
    pd.testing.assert_frame_equal(restore_frame(out), frame)


@given(st.text())
def test_restore_inverts_neutralise(text):
    written = neutralise_cell(text)
    assert restore_cell(written) == text
    assert written[:1] not in TRIGGERS


@given(PREFIXED)
def test_restore_inverts_neutralise_on_quoted_triggers(text):
    assert neutralise_cell(text) == "'" + text
    assert restore_cell(neutralise_cell(text)) == text


def test_xlsx_cells_are_strings_with_excels_quote_prefix(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    for row, payload in enumerate(PAYLOADS, start=1):
        put_cell(book.active, row, 1, payload)
    put_cell(book.active, 1, 2, -0.31)
    book.save(tmp_path / "x.xlsx")
    ws = load_workbook(tmp_path / "x.xlsx").active
    assert [c.value for c in ws["A"]] == [_xml_line_ends(p) for p in PAYLOADS]
    assert {c.data_type for c in ws["A"]} == {"s"}
    assert [c.quotePrefix for c in ws["A"]][:4] == [True] * 4
    assert ws["B1"].value == -0.31 and ws["B1"].data_type == "n"
    with pytest.raises(EvidenceSynthError, match=r"cell A1: .*U\+0001"):
        put_cell(Workbook().active, 1, 1, "bad\x01")


# -- write_records -------------------------------------------------------------------------


def _payload_records(titles=TITLES):
    return records_from_dicts([{"record_id": f"r{i}", "title": t, "abstract": t,
                                "authors": ["=Evil, A.", "Doe, J."], "year": 2020, "pages": "-5"}
                               for i, t in enumerate(titles)])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_write_records_holds_no_formula_and_reads_back(tmp_path, fmt):
    df = _payload_records()
    path = write_records(df, tmp_path / f"r.{fmt}", format=fmt)
    (_assert_csv_safe if fmt == "csv" else _assert_xlsx_safe)(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = read_records(path)
    assert back["title"].tolist() == TITLES
    assert back["authors"].tolist() == [["=Evil, A.", "Doe, J."]] * len(TITLES)
    if fmt == "csv":
        exact = read_records_csv(path)
        assert exact["title"].tolist() == TITLES and exact["pages"].tolist() == ["-5"] * 6
    else:
        ws = load_workbook(path).active
        assert [c.value for c in ws["D"]][1:] == TITLES  # as given: no quote in XLSX


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(titles=st.lists(st.one_of(PREFIXED, XML_TEXT), min_size=1, max_size=4))
def test_write_read_round_trip_property(tmp_path, titles):
    df = records_from_dicts([{"record_id": f"r{i}", "title": t, "abstract": t}
                             for i, t in enumerate(titles)])
    csv_path = write_records(df, tmp_path / "p.csv", format="csv")
    back = read_records_csv(csv_path)
    assert back["title"].tolist() == df["title"].tolist()
    assert back["abstract"].tolist() == df["abstract"].tolist()
    xlsx_path = write_records(df, tmp_path / "p.xlsx", format="xlsx")
    cells = [c.value for c in load_workbook(xlsx_path).active["D"]][1:]
    assert [None if pd.isna(t) else _xml_line_ends(t) for t in df["title"]] == cells
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read_records(xlsx_path)["title"].tolist() == read_records(csv_path)[
            "title"].tolist()


def test_xlsx_control_characters_are_replaced_with_a_warning(tmp_path):
    df = records_from_dicts([{"record_id": "r1", "title": "A", "abstract": "x\x0by"}])
    with pytest.warns(DataQualityWarning, match="control characters"):
        path = write_records(df, tmp_path / "c.xlsx", format="xlsx")
    assert load_workbook(path).active["E2"].value == "x\ufffdy"


# -- the evidence table --------------------------------------------------------------------


def _table(text: str) -> EvidenceTable:
    return EvidenceTable([dict(ROW, outcome_wording=text)],
                         studies=[dict(STUDY, citation=text)]).compute()


def test_evidence_table_files_hold_no_formula_and_read_back(tmp_path):
    for k, payload in enumerate(TITLES):
        table = _table(payload)
        rows, studies = table.to_csv(tmp_path / f"t{k}.csv")
        _assert_csv_safe(rows)
        _assert_csv_safe(studies)
        assert EvidenceTable.from_csv(rows) == table
        book = table.to_xlsx(tmp_path / f"t{k}.xlsx")
        _assert_xlsx_safe(book)
        assert EvidenceTable.from_xlsx(book) == table
        yi = pd.read_csv(rows, dtype=str)["yi"].iloc[0]
        assert yi.startswith("-") and float(yi) == table.rows[0]["yi"]  # a number, unquoted


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.one_of(PREFIXED, XML_TEXT).map(str.strip).filter(bool))
def test_evidence_table_round_trip_property(tmp_path, text):
    table = _table(text)
    rows, _ = table.to_csv(tmp_path / "t.csv")
    assert EvidenceTable.from_csv(rows) == table
    in_xlsx = _table(_xml_line_ends(text))
    assert EvidenceTable.from_xlsx(table.to_xlsx(tmp_path / "t.xlsx")) == in_xlsx


# -- screening exports ---------------------------------------------------------------------


def _payload_review(path: Path):
    review = open_review(path)
    review.add_records(_payload_records(), source={"source_id": "db", "kind": "database",
                                                   "database": "=HYPERLINK(\"x\")"})
    return review


def test_decisions_and_queue_exports_hold_no_formula_and_import_back(tmp_path):
    review = _payload_review(tmp_path / "review.db")
    ana = Screening(review, reviewer="ana")
    ana.decide("db:r0", "include", note="=1+1 looked fine")
    ana.decide("db:r1", "include", note="@me")
    ana.export_decisions(tmp_path / "decisions.csv")
    _assert_csv_safe(tmp_path / "decisions.csv")
    other = open_review(tmp_path / "other.db")
    other.add_records(_payload_records(), source={"source_id": "db", "database": "X"})
    Screening(other, reviewer="ana").import_decisions(tmp_path / "decisions.csv")
    notes = other.decisions().set_index("record_id")["note"]
    assert notes["db:r0"] == "=1+1 looked fine" and notes["db:r1"] == "@me"
    review.close()
    other.close()

    result = CliRunner().invoke(screen_command, [str(tmp_path / "review.db"), "--export-queue",
                                                 str(tmp_path / "queue.csv")])
    assert result.exit_code == 0, result.output
    _assert_csv_safe(tmp_path / "queue.csv")
    queue = pd.read_csv(tmp_path / "queue.csv", dtype=str, keep_default_na=False)
    assert sorted(restore_frame(queue)["title"]) == sorted(TITLES[2:])  # r0, r1 decided


def test_dedup_queue_and_groups_hold_no_formula_and_answers_import_back(tmp_path):
    pairs = []  # same title, other author and type: pairs a person must answer
    for i, title in enumerate(TITLES):
        pairs.append({"record_id": f"a{i}", "title": title, "year": 2020,
                      "authors": ["Doe, J."], "journal": "J One", "pub_type": "JOUR"})
        pairs.append({"record_id": f"b{i}", "title": title, "year": 2020,
                      "authors": ["Smith, Q."], "journal": "J One", "pub_type": "BOOK"})
    src = write_records(records_from_dicts(pairs), tmp_path / "in.ris")
    result = CliRunner().invoke(dedup_command, [str(src), "--queue-out",
                                                str(tmp_path / "q.csv"), "--groups-out",
                                                str(tmp_path / "g.csv")])
    assert result.exit_code == 0, result.output
    _assert_csv_safe(tmp_path / "q.csv")
    _assert_csv_safe(tmp_path / "g.csv")
    from evidence_synth.cli.dedup import _read_decisions
    from evidence_synth.spreadsheet import write_csv

    queue = restore_frame(pd.read_csv(tmp_path / "q.csv", dtype=str, keep_default_na=False))
    assert len(queue) and set(queue["title_1"]) | set(queue["title_2"]) <= set(TITLES)
    write_csv(queue.assign(decision="match"), tmp_path / "answered.csv")
    answered = _read_decisions(tmp_path / "answered.csv")
    assert answered["title_1"].tolist() == queue["title_1"].tolist()


# -- the report ----------------------------------------------------------------------------


def _flow():
    spec = importlib.util.spec_from_file_location("flow_review",
                                                  FIX / "report" / "flow_review.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _payload_evidence() -> pd.DataFrame:
    evidence = pd.read_csv(FIX / "report" / "evidence.csv")
    evidence["title"] = [TITLES[i % len(TITLES)] for i in range(len(evidence))]
    evidence["yi"] = [0.1, -0.2, 0.3, 0.05, None, 0.4, 0.2, 0.25, None, 0.1]
    evidence["vi"] = [0.01, 0.02, 0.03, 0.02, None, 0.05, 0.01, 0.02, None, 0.04]
    return evidence


def _payload_framework() -> pd.DataFrame:
    framework = pd.read_csv(FIX / "report" / "framework.csv")
    framework["label"] = ["=" + label if k % 2 else "$\\foo$ " + label
                          for k, label in enumerate(framework["label"])]
    return framework


def test_report_outputs_hold_no_formula_and_dollars_are_drawn(tmp_path, monkeypatch):
    flow = _flow()
    monkeypatch.setattr(flow, "SOURCES", [
        (sid, kind, {"Scopus": "=cmd|' /C calc'!A0", "Web of Science": "Costs $5 and $6",
                     "RIDIE": "$\\foo$"}.get(db, db), ids)
        for sid, kind, db, ids in flow.SOURCES])
    with flow.build_review(tmp_path / "r.db") as review:
        result = build_report(review, tmp_path / "out", evidence=_payload_evidence(),
                              framework=_payload_framework(), dpi=40)
    out = tmp_path / "out"
    written = [p for p in out.rglob("*") if p.suffix in (".csv", ".xlsx")]
    assert {p.name for p in written} >= {"prisma2020.csv", "prisma_counts.csv",
                                         "gap_map_cells.csv", "unintended_effects.csv",
                                         "evidence_table.csv", "evidence_table.xlsx"}
    for path in written:
        (_assert_csv_safe if path.suffix == ".csv" else _assert_xlsx_safe)(path)
    for name in ("prisma2020.csv", "gap_map_cells.csv", "unintended_effects.csv",
                 "evidence_table.csv"):  # the payloads reached them, quoted
        assert any(c.startswith("'") for c in _csv_cells(out / name)), name
    back = PrismaCounts.from_prisma2020_csv(out / "prisma2020.csv")
    assert back.database_results == result.counts.database_results
    assert "=cmd|' /C calc'!A0" in back.database_results
    diagram = (out / "prisma_flow.svg").read_text(encoding="utf-8")
    assert "Costs $5 and $6" in diagram and "$\\foo$" in diagram
    assert "$\\foo$ " in (out / "gap_map.svg").read_text(encoding="utf-8")
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_a_failed_report_leaves_the_folder_as_it_was(tmp_path, monkeypatch):
    from evidence_synth.report import builder

    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("the previous report", encoding="utf-8")

    def broken(*args, **kwargs):
        raise RuntimeError("disk full while drawing the gap map")

    monkeypatch.setattr(builder, "_gap_map_outputs", broken)
    flow = _flow()
    with flow.build_review(tmp_path / "r.db") as review, \
            pytest.raises(RuntimeError, match="disk full"):
        build_report(review, out, evidence=_payload_evidence(),
                     framework=pd.read_csv(FIX / "report" / "framework.csv"), dpi=40)
    assert [p.name for p in out.iterdir()] == ["index.html"]
    assert (out / "index.html").read_text(encoding="utf-8") == "the previous report"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    monkeypatch.setattr(builder, "write_index", broken)  # the very last step
    with flow.build_review(tmp_path / "r2.db") as review, \
            pytest.raises(RuntimeError, match="disk full"):
        build_report(review, tmp_path / "new", dpi=40)
    assert not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_extract_export_cli_holds_no_formula_and_reads_back(tmp_path):
    from evidence_synth.cli.extract import command as extract_command

    table = _table(TITLES[0])
    with open_review(tmp_path / "r.db") as review:
        table.save(review, extractor="ana")
    for name in ("out.csv", "out.xlsx"):
        result = CliRunner().invoke(extract_command, ["export", "--review",
                                                      str(tmp_path / "r.db"), "--out",
                                                      str(tmp_path / name)])
        assert result.exit_code == 0, result.output
    _assert_csv_safe(tmp_path / "out.csv")
    _assert_csv_safe(tmp_path / "out-studies.csv")
    _assert_xlsx_safe(tmp_path / "out.xlsx")
    assert EvidenceTable.from_csv(tmp_path / "out.csv") == table
    assert EvidenceTable.from_xlsx(tmp_path / "out.xlsx") == table
