"""The import-format registry: one declaration drives reading, listing and sniffing."""

from __future__ import annotations

import sys
import time
import types

import pytest

from evidence_synth.errors import ParseError, UnknownFormatError
from evidence_synth.io import _registry, list_formats, read_records, sniff_format
from evidence_synth.io._parsed import Parsed
from evidence_synth.io.sniff import REFUSALS, checks, sniff_text


def test_list_formats_is_the_registry_in_declaration_order():
    names = [f.name for f in _registry.formats()]
    assert list_formats()["format"].tolist() == names
    assert names == ["ris", "eppi_ris", "medline", "wos", "wos_tab", "csv", "tsv", "xlsx",
                     "xls", "endnote_xml", "ovid", "proquest"]
    assert len(set(names)) == len(names)


def test_sniffing_order_is_priority_then_declaration():
    order = [c.name for c in checks()]
    assert order == ["xlsx", "xls", "endnote_xml", "ovid", "proquest", "wos_tab", "eppi_ris",
                     "ris", "wos", "medline", "json", "html", "csv", "tsv"]
    priorities = [c.priority for c in checks()]
    assert priorities == sorted(priorities)
    assert {r.name for r in REFUSALS} == {"json", "html"}


def test_unknown_format_message_names_every_hint():
    with pytest.raises(UnknownFormatError) as info:
        sniff_text("\n\nDear colleague,\nplease find attached.\n", path="letter.txt")
    message = str(info.value)
    assert message.startswith("letter.txt, line 3: not a bibliographic format: expected ")
    for hint in {f.hint for f in _registry.formats() if f.hint}:
        assert hint in message
    assert message.endswith("found 'Dear colleague,'")
    assert message.count("RIS ('TY  - ')") == 1  # ris and eppi_ris share one hint


def test_unknown_format_name_lists_the_registry(tmp_path):
    path = tmp_path / "a.ris"
    path.write_text("TY  - JOUR\nER  - \n")
    with pytest.raises(UnknownFormatError, match=r"unknown format 'bibtex'; expected one of "
                       r"\['csv', 'endnote_xml', 'eppi_ris'"):
        read_records(path, format="bibtex")


def _parse_pipe(source):
    out = Parsed()
    for number, line in enumerate(source.lines, 1):
        if line.startswith("REF|"):
            out.records.append({"REF": [line[4:]]})
            out.lines.append(number)
        elif "=" in line and out.records:
            key, value = line.split("=", 1)
            out.records[-1].setdefault(key, []).append(value)
    return out


@pytest.fixture
def pipe_format(monkeypatch):
    """A toy format declared in its own module, registered by adding that module."""
    module = types.ModuleType("evidence_synth.io._pipe_test_format")
    module.FORMATS = (_registry.ImportFormat(
        name="pipe", description="Toy pipe format", suffixes=".pipe", signature="REF|",
        hint="pipe ('REF|')", priority=5,
        sniff=lambda sample: sample.first_line.startswith("REF|"),
        parse=_parse_pipe,
        to_record=lambda raw: {"title": raw.get("TI", [None])[0], "accession": raw["REF"][0]},
    ),)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(_registry, "MODULES", (*_registry.MODULES, "_pipe_test_format"))
    _registry.formats.cache_clear()
    yield module
    _registry.formats.cache_clear()


def test_a_new_format_is_one_module_plus_one_registration(pipe_format, tmp_path):
    path = tmp_path / "refs.txt"
    path.write_text("REF|1\nTI=First\nREF|2\nTI=Second\n", encoding="utf-8")
    assert sniff_format(path) == "pipe"
    df = read_records(path)
    assert df["title"].tolist() == ["First", "Second"]
    assert df["accession"].tolist() == ["1", "2"]
    assert df.attrs["format"] == "pipe" and df.attrs["record_lines"] == [1, 3]
    assert "pipe" in list_formats()["format"].tolist()
    with pytest.raises(UnknownFormatError, match=r"ProQuest \('Document 1 of N'\) or pipe"):
        sniff_text("nothing here\n")


def test_declaring_a_name_twice_is_refused(monkeypatch):
    module = types.ModuleType("evidence_synth.io._twice")
    module.FORMATS = (_registry.get("ris"),)
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(_registry, "MODULES", (*_registry.MODULES, "_twice"))
    _registry.formats.cache_clear()
    try:
        with pytest.raises(RuntimeError, match=r"declared twice: \['ris'\]"):
            _registry.formats()
    finally:
        monkeypatch.undo()
        _registry.formats.cache_clear()


# 200 KB single lines that made a backtracking regex take minutes (the Ovid header check
# took 122 s on the first); sniffing and reading must stay linear.
_N = 200_000
PATHOLOGICAL = {
    "ovid header": "<1" + " " * _N + "x",
    "ovid header with dot": "<1." + " " * _N + "x",
    "ovid digits": "<" + "1" * _N + "x",
    "proquest header": "Document 1 of 2" + " " * _N + "x" * 10,
    "wos PT": "PT J" + " " * _N + "x",
    "ris TY": "TY" + " " * _N + "x",
    "medline tag": "PMID" + " " * _N + "x",
    "commas": "a," * (_N // 2),
    "json": "{" + " " * _N,
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_sniffing_a_pathological_200kb_line_is_fast(name, tmp_path):
    path = tmp_path / "line.txt"
    path.write_text(PATHOLOGICAL[name], encoding="utf-8")
    start = time.perf_counter()
    with pytest.raises((UnknownFormatError, ParseError)):
        read_records(path)
    assert time.perf_counter() - start < 0.5


def test_forced_ovid_read_of_a_pathological_line_is_fast(tmp_path):
    path = tmp_path / "line.txt"
    path.write_text("<1" + " " * _N + "x\n" + "<1" + "\t" * _N + ">\nTI  - A title\n")
    start = time.perf_counter()
    df = read_records(path, format="ovid")
    assert time.perf_counter() - start < 0.5
    assert df["title"].tolist() == ["A title"]
