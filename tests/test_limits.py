"""Limits (docs/limits.md): every probe of issue 16 as a test, each built here at run time.

Each hostile file must fail (or be read) quickly and within bounded memory. Time is CPU
time of this process (``time.process_time``), so that a busy shared machine does not make
the bounds flaky; before the limits these probes took from 12 s to forever and several GB.
"""

from __future__ import annotations

import io
import json
import re
import time
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from evidence_synth import limits
from evidence_synth.errors import EvidenceSynthError, LimitError, ParseError
from evidence_synth.io import read_egm, read_records
from evidence_synth.protocol import load_protocol
from evidence_synth.schema_validation import read_yaml

SECONDS = 5.0


@contextmanager
def bounded(seconds: float = SECONDS, megabytes: float | None = None) -> Iterator[None]:
    """Fail when the block uses more CPU seconds or (traced) Python memory than given."""
    if megabytes is not None:
        tracemalloc.start()
    start = time.process_time()
    try:
        yield
    finally:
        used = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if megabytes is not None else 0.0
        if megabytes is not None:
            tracemalloc.stop()
    assert used < seconds, f"took {used:.1f} s of CPU, bound {seconds} s"
    if megabytes is not None:
        assert peak < megabytes, f"peak traced memory {peak:.0f} MB, bound {megabytes} MB"


def _limit_error(excinfo: pytest.ExceptionInfo, name: str, path: Path) -> None:
    error = excinfo.value
    assert isinstance(error, EvidenceSynthError)
    assert error.limit == name and error.value == getattr(limits.current(), name)
    assert str(path) in str(error) and name in str(error)
    assert "limits.override" in str(error)


# --------------------------------------------------------------------------- XLSX


def _workbook(path: Path, rows: list[list[str]]) -> Path:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    book.save(path)
    return path


def _edit_sheet(path: Path, edit: Callable[[bytes], bytes]) -> Path:
    """Rewrite the first worksheet of an XLSX file with ``edit``."""
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            data = source.read(member)
            target.writestr(member.filename,
                            edit(data) if member.filename == "xl/worksheets/sheet1.xml" else data)
    path.write_bytes(out.getvalue())
    return path


def _claim_whole_sheet(data: bytes, last_row: bytes = b'<row r="1048576"/>') -> bytes:
    data = re.sub(rb'<dimension ref="[^"]*" ?/>', b'<dimension ref="A1:XFD1048576"/>', data)
    return data.replace(b"</sheetData>", last_row + b"</sheetData>")


def test_xlsx_claiming_the_whole_sheet_is_read_by_its_cells(tmp_path):
    # Issue 16: a 4.7 kB file drove read_records to MemoryError at 7.6 GB (openpyxl's
    # read-only mode padded every row to the claimed 16,384 columns).
    path = _workbook(tmp_path / "claims.xlsx", [["title", "year"], ["A study", "2020"]])
    path = _edit_sheet(path, _claim_whole_sheet)
    assert path.stat().st_size < 6000
    with bounded():
        df = read_records(path)
    assert list(df["title"]) == ["A study"]
    with bounded(seconds=30, megabytes=100):  # tracing every allocation is slow
        read_records(path)


def test_xlsx_cells_far_down_keep_their_row_numbers(tmp_path):
    late = (b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>Late study</t></is></c>'
            b'</row>')
    path = _edit_sheet(_workbook(tmp_path / "late.xlsx", [["title"], ["First study"]]),
                       lambda data: _claim_whole_sheet(data, late))
    with bounded():
        df = read_records(path)
    assert list(df["title"]) == ["First study", "Late study"]
    assert df.attrs["record_lines"] == [2, 1048576]


def test_xlsx_using_the_last_column_is_refused_at_once(tmp_path):
    # Issue 16: a 170 kB sheet using column XFD on 20,000 rows took 211 s and 2.7 GB.
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>T{i}</t></is></c>'
                   f'<c r="XFD{i}"><v>1</v></c></row>' for i in range(2, 20002)).encode()
    path = _edit_sheet(_workbook(tmp_path / "wide.xlsx", [["title"]]),
                       lambda data: data.replace(b"</sheetData>", rows + b"</sheetData>"))
    with bounded(megabytes=200), pytest.raises(LimitError) as excinfo:
        read_records(path)
    _limit_error(excinfo, "max_columns", path)
    assert "column XFD" in str(excinfo.value) and "row 2" in str(excinfo.value)


def test_xlsx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    # Issue 16: a 1.4 MB zip bomb ran past 400 s. This one unpacks 40 kB to 40 MB.
    cell = (b'<row r="3"><c r="A3" t="inlineStr"><is><t>' + b"x" * 40_000_000
            + b"</t></is></c></row>")
    path = _edit_sheet(_workbook(tmp_path / "bomb.xlsx", [["title"], ["A study"]]),
                       lambda data: data.replace(b"</sheetData>", cell + b"</sheetData>"))
    assert path.stat().st_size < 200_000
    with bounded(megabytes=20), pytest.raises(LimitError) as excinfo:
        read_records(path)
    _limit_error(excinfo, "max_compression_ratio", path)
    assert "xl/worksheets/sheet1.xml" in str(excinfo.value)


def test_xlsx_unpacked_size_rows_and_cell_length_limits(tmp_path):
    path = _workbook(tmp_path / "small.xlsx", [["title"], ["A study"], ["B study"], ["C" * 50]])
    assert len(read_records(path)) == 3
    for name, value in (("max_unpacked_bytes", 1000), ("max_rows", 3), ("max_cell_chars", 40)):
        with limits.override(**{name: value}), pytest.raises(LimitError) as excinfo:
            read_records(path)
        assert excinfo.value.limit == name and excinfo.value.value == value
    with limits.override(max_cell_chars=40), pytest.raises(LimitError, match="cell A4 holds 50"):
        read_records(path)


# --------------------------------------------------------------------------- CSV


def test_csv_rows_columns_and_cell_length_limits(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("title,year,doi\nA study,2020,\nB study,2021,\n" + "C" * 60 + ",2022,\n")
    assert len(read_records(path)) == 3
    cases = {"max_columns": 1, "max_rows": 3, "max_cell_chars": 50}
    for name, value in cases.items():
        with limits.override(**{name: value}), pytest.raises(LimitError) as excinfo:
            read_records(path)
        assert excinfo.value.limit == name and str(path) in str(excinfo.value)
    # Trailing empty fields do not count as columns.
    path.write_text("title,year\nA study,2020" + "," * 5000 + "\n")
    with limits.override(max_columns=2):
        assert len(read_records(path)) == 1


# --------------------------------------------------------------------------- YAML


def _alias_bomb(path: Path) -> Path:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]")
        previous = name
    path.write_text("\n".join(lines) + "\n")
    return path


def test_yaml_alias_bomb_is_refused(tmp_path):
    # Issue 16: this 342-byte file drove load_protocol (and init --protocol) to 6 GB.
    path = _alias_bomb(tmp_path / "laughs.yaml")
    assert path.stat().st_size < 450
    with bounded(megabytes=50), pytest.raises(LimitError) as excinfo:
        load_protocol(path)
    _limit_error(excinfo, "max_yaml_aliases", path)
    assert re.search(r"laughs\.yaml, line \d+:", str(excinfo.value))


def test_yaml_node_limit_and_self_referencing_anchor(tmp_path):
    loop = tmp_path / "loop.yaml"
    loop.write_text("a: &a [1, *a]\n")
    with bounded(), pytest.raises(LimitError):
        read_yaml(loop)
    big = tmp_path / "big.yaml"
    big.write_text("items:\n" + "".join(f"  - {i}\n" for i in range(200)))
    assert len(read_yaml(big)[0]["items"]) == 200
    with limits.override(max_yaml_nodes=100), pytest.raises(LimitError) as excinfo:
        read_yaml(big)
    assert excinfo.value.limit == "max_yaml_nodes"


def test_yaml_anchors_within_the_limits_are_read(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text("base: &base {a: 1, b: [x, y]}\none: *base\ntwo: {<<: *base, c: 3}\n")
    data = read_yaml(path)[0]
    assert data["one"] == {"a": 1, "b": ["x", "y"]} and data["two"]["c"] == 3


def test_init_protocol_alias_bomb_is_a_one_line_error(tmp_path):
    from evidence_synth.cli import cli

    bomb = _alias_bomb(tmp_path / "laughs.yaml")
    start = time.process_time()
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "review.db"), "--protocol",
                                      str(bomb)])
    assert time.process_time() - start < SECONDS
    assert result.exit_code != 0
    assert "max_yaml_aliases" in result.output and "Traceback" not in result.output
    assert not isinstance(result.exception, MemoryError)


def test_protocol_from_dev_zero_stops_at_once():
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    with bounded(megabytes=20), pytest.raises(ParseError, match="NUL bytes"):
        load_protocol("/dev/zero")


# --------------------------------------------------------------------------- JSON / XML


def test_egm_json_nested_100k_levels_is_a_limit_error(tmp_path):
    # Issue 16: RecursionError before.
    path = tmp_path / "deep.json"
    path.write_text('{"References": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with bounded(), pytest.raises(LimitError) as excinfo:
        read_egm(path)
    _limit_error(excinfo, "max_depth", path)


def test_egm_json_deeper_than_the_limit_names_the_json_path(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"CodeSets": [' + '{"a": [' * 150 + "1" + "]}" * 150 + "]}")
    with pytest.raises(LimitError, match=r"at \$\['CodeSets'\]\[0\]\['a'\]") as excinfo:
        read_egm(path)
    assert excinfo.value.limit == "max_depth"


@pytest.mark.parametrize(("doc", "where"), [
    ({"References": "oops"}, "$.References: expected a list, found a string"),
    ({"References": [1]}, r"$.References[0]: expected an object, found a number"),
    ({"References": [{"ItemId": 1, "Title": "T", "Codes": {"x": 1}}]},
     "$.References[0].Codes: expected a list"),
    ({"CodeSets": [{"SetId": 1, "Attributes": {"AttributesList": "x"}}]},
     "$.CodeSets[0].Attributes.AttributesList: expected a list"),
    ({"CodeSets": [{"SetId": 1, "Attributes": [{"AttributeId": 2, "Attributes": [None]}]}]},
     "$.CodeSets[0].Attributes[0].Attributes[0]: expected an object, found null"),
    ({"csvData": [], "referenceData": []}, "$.csvData: expected an object, found a list"),
    ({"csvData": {"rows": [[{"id": 1}]]}, "referenceData": {"a": 1}},
     "$.referenceData: expected a list, found an object"),
    ({"interventions": "x"}, "$.interventions: expected a list"),
    ({"interventions": [], "interventions_outcomes": [{"intervention_id": 1, "outcome_id": 2,
                                                        "bubbles": [{"records": 5}]}]},
     "$.interventions_outcomes[0].bubbles[0].records: expected a list"),
    ({"References": []}, "no records and no framework nodes"),
])
def test_egm_json_of_the_wrong_shape_is_a_parse_error(tmp_path, doc, where):
    # Issue 16: {"References": "oops"} gave an empty map, stored as the previous version.
    path = tmp_path / "map.json"
    path.write_text(json.dumps(doc))
    with warnings.catch_warnings(), pytest.raises(ParseError) as excinfo:
        warnings.simplefilter("ignore")
        read_egm(path)
    assert where in str(excinfo.value) and str(path) in str(excinfo.value)


def test_endnote_xml_nested_200k_levels_is_a_limit_error(tmp_path):
    # Issue 16: RecursionError before.
    path = tmp_path / "deep.xml"
    path.write_text('<?xml version="1.0"?><xml><records><record>' + "<a>" * 200_000
                    + "</a>" * 200_000 + "</record></records></xml>")
    with bounded(), pytest.raises(LimitError) as excinfo:
        read_records(path)
    _limit_error(excinfo, "max_depth", path)
    assert "record 1" in str(excinfo.value)


# --------------------------------------------------------------------------- linear time


def test_ovid_like_one_line_file_is_refused_quickly(tmp_path):
    # Issue 16: the Ovid header regex backtracked; a 200 kB one-line file took 122 s.
    for name, text in (("open.txt", "<" + " " * 200_000 + "x\n"),
                       ("header.txt", "<1. >" + " " * 200_000 + "\n"),
                       ("digits.txt", "<" + "1" * 200_000 + " . \n")):
        path = tmp_path / name
        path.write_text(text)
        with bounded(), pytest.raises(ParseError):
            read_records(path)


def test_long_runs_of_spaces_and_commas_in_fields_are_linear(tmp_path):
    """Fields the old regexes were quadratic on: a Scopus author id check, an Embase source
    and author list, an Ovid author's bracket, a MEDLINE [doi] mark."""
    spaces = " " * 200_000
    scopus = tmp_path / "scopus.csv"
    scopus.write_text(f'Authors,Title,EID\n"Doe{spaces}J. (1)",A study,2-s2.0-1\n')
    embase = tmp_path / "embase.csv"
    embase.write_text("Title,Author Names,Emtree Drug Index Terms,Source\n"
                      f'A study,"{"," * 100_000})",x,"J{spaces}(2020) 1"\n')
    ovid = tmp_path / "ovid.txt"
    ovid.write_text(f"<1. >\nTI  - A study\nAU  - Doe{spaces}[{spaces}\n")
    medline = tmp_path / "medline.txt"
    medline.write_text(f"PMID- 1\nTI  - A study\nAID - 10.1/x{spaces}[do\n")
    for path in (scopus, embase, ovid, medline):
        with bounded(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert read_records(path)["title"].iloc[0] == "A study"


# --------------------------------------------------------------------------- NUL / size


def test_nul_filled_files_are_binary(tmp_path):
    big = tmp_path / "zeros.ris"
    big.write_bytes(b"\x00" * (10 << 20))
    small = tmp_path / "small.ris"
    small.write_bytes(b"\x00" * 100)
    for path in (big, small):
        with bounded(megabytes=50), pytest.raises(ParseError, match="binary content"):
            read_records(path)
    with bounded(megabytes=50), pytest.raises(ParseError, match="NUL bytes"):
        read_records(big, format="ris", encoding="latin-1")


def test_dev_zero_stops_at_once():
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")
    for kwargs in ({}, {"format": "medline"}):
        with bounded(megabytes=50), pytest.raises(ParseError):
            read_records("/dev/zero", **kwargs)
    with bounded(megabytes=50), pytest.raises(ParseError):
        read_egm("/dev/zero")


def test_file_size_limit_on_streamed_and_whole_reads(tmp_path):
    ris = tmp_path / "a.ris"
    ris.write_text("TY  - JOUR\nTI  - A study\nER  - \n\n" * 200)
    medline = tmp_path / "a.txt"
    medline.write_text("PMID- 1\nTI  - A study\n\n" * 200)
    for path in (ris, medline):
        assert len(read_records(path)) == 200
        with limits.override(max_file_bytes=1000):
            with pytest.raises(LimitError) as excinfo:
                read_records(path)
            _limit_error(excinfo, "max_file_bytes", path)


# --------------------------------------------------------------------------- extraction


def test_extraction_workbook_never_parses_a_bloated_readme(tmp_path):
    from evidence_synth.extract.form import default_form
    from evidence_synth.extract.template import read_workbook, write_template

    path = write_template(tmp_path / "template.xlsx", form=default_form())
    source = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    # 300,000 rows without a <dimension>, so openpyxl would scan all of it to size it.
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{i * 7919:x}</t></is></c>'
                   "</row>" for i in range(1, 300_001))
    readme = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              f"<sheetData>{rows}</sheetData></worksheet>").encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for member in source.infolist():
            first = member.filename == "xl/worksheets/sheet1.xml"  # the README
            target.writestr(member.filename, readme if first else source.read(member))
    path.write_bytes(out.getvalue())
    with bounded(1.5):
        found = read_workbook(path)
    assert found.problems == [] and all(rows == [] for rows in found.rows.values())


def test_extraction_workbook_zip_bomb(tmp_path):
    from evidence_synth.extract.table import read_extraction_workbook

    path = _edit_sheet(_workbook(tmp_path / "bomb.xlsx", [["x"]]),
                       lambda data: data.replace(b"</sheetData>", b"<row r='2'><c r='A2' "
                                                 b"t='inlineStr'><is><t>" + b" " * 30_000_000
                                                 + b"</t></is></c></row></sheetData>"))
    with bounded(), pytest.raises(LimitError) as excinfo:
        read_extraction_workbook(path)
    assert excinfo.value.limit == "max_compression_ratio"


# --------------------------------------------------------------------------- the API


def test_override_changes_only_the_named_limits_and_restores_them():
    defaults = limits.current()
    with limits.override(max_rows=10) as inside:
        assert limits.current() is inside
        assert inside.max_rows == 10 and inside.max_depth == defaults.max_depth
        with limits.override(max_depth=5):
            assert limits.current().max_rows == 10 and limits.current().max_depth == 5
        assert limits.current().max_depth == defaults.max_depth
    assert limits.current() == defaults == limits.Limits()
    with pytest.raises(TypeError, match="not a limit: max_bogus"), limits.override(max_bogus=1):
        pass
    with pytest.raises(ValueError, match="positive int"), limits.override(max_rows=0):
        pass


def test_limit_error_is_the_library_error():
    error = limits.exceeded("max_rows", where="f.csv, line 3", found="more rows")
    assert isinstance(error, LimitError) and isinstance(error, EvidenceSynthError)
    assert isinstance(error, ValueError)
    assert error.limit == "max_rows" and error.value == 2_000_000
    assert str(error).startswith("f.csv, line 3: more rows, over the limit max_rows = 2,000,000")
