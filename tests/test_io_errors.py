"""Bad input: the error type, and the file and line in the message."""

from __future__ import annotations

import pytest

from evidence_synth.errors import DataQualityWarning, ParseError, UnknownFormatError
from evidence_synth.io import read_egm, read_records, sniff_format


def _write(tmp_path, data, name):
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def _raises(exc_type, path, line, match, **kwargs):
    with pytest.raises(exc_type, match=match) as info:
        read_records(path, **kwargs)
    message = str(info.value)
    assert str(path) in message
    if line is not None:
        assert f"line {line}" in message
        assert info.value.line == line
    return info.value


@pytest.mark.parametrize("content", [b"", b"   \n\r\n  ", b"\xef\xbb\xbf\n"])
def test_empty_file(tmp_path, content):
    path = _write(tmp_path, content, "empty.ris")
    _raises(ParseError, path, 1, "found an empty file")


def test_truncated_ris_record_without_er(tmp_path):
    path = _write(tmp_path, "TY  - JOUR\nTI  - ok\nER  - \n\nTY  - JOUR\nTI  - cut he", "cut.ris")
    error = _raises(ParseError, path, 5, "truncated: the record opened by 'TY' at line 5")
    assert error.record == 2
    assert "'ER  - '" in str(error)


def test_truncated_ris_slow_path_with_preamble(tmp_path):
    path = _write(tmp_path, "Provider: X\n\nTY  - JOUR\nTI  - cut", "cut2.ris")
    _raises(ParseError, path, 3, "truncated")


def test_truncated_wos_plain_text(tmp_path):
    path = _write(tmp_path, "FN Clarivate\nVR 1.0\nPT J\nTI A\nER\n\nPT J\nTI B\n", "wos.txt")
    _raises(ParseError, path, 7, "truncated: the record opened by 'PT' at line 7")


def test_unterminated_csv_quote(tmp_path):
    text = 'Title,Authors\n"ok","Doe, J"\n"never closed,"Roe, R"\nnext,row\n'
    path = _write(tmp_path, text, "bad.csv")
    _raises(ParseError, path, 3, "quote opened at or after line 3")


def test_csv_row_with_too_many_fields(tmp_path):
    path = _write(tmp_path, "Title,Year\nA,2001\nB,2002,extra\n", "wide.csv")
    _raises(ParseError, path, 3, "expected at most 2 fields")


@pytest.mark.parametrize(("data", "name", "line"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "image.ris", 3),
    (bytes(range(1, 32)) * 20, "noise.txt", 1),
])
def test_binary_content(tmp_path, data, name, line):
    path = _write(tmp_path, data, name)
    _raises(ParseError, path, line, "expected a text export, found binary content")


def test_broken_legacy_xls_is_named(tmp_path):
    path = _write(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls")
    _raises(ParseError, path, 1, "xls")


@pytest.mark.parametrize(("text", "line", "match"), [
    ("\n\nDear colleague,\nplease find attached.\n", 3, "not a bibliographic format"),
    ('{"CodeSets": []}', 1, "found JSON"),
    ("<!DOCTYPE html><html><body>map</body></html>", 1, "found HTML"),
    ('<?xml version="1.0"?><rss></rss>', 1, "XML without <record>"),
])
def test_not_a_bibliographic_format(tmp_path, text, line, match):
    path = _write(tmp_path, text, "letter.ris")
    _raises(UnknownFormatError, path, line, match)
    with pytest.raises(UnknownFormatError):
        sniff_format(path)


def test_forced_ris_on_non_ris(tmp_path):
    path = _write(tmp_path, "PMID- 1\nTI  - x\n", "pubmed.nbib")
    _raises(ParseError, path, 1, "format='ris' was given, but the content does not look like "
            "it: expected TY  - ... ER  -, found 'PMID- 1', which is MEDLINE.*use "
            r"format='medline' \(--format medline\)", format="ris")


def test_unknown_format_name(tmp_path):
    path = _write(tmp_path, "TY  - JOUR\nER  - \n", "x.ris")
    _raises(UnknownFormatError, path, None, "unknown format 'bibtex'", format="bibtex")


def test_malformed_endnote_xml_names_line(tmp_path):
    text = '<?xml version="1.0"?>\n<xml><records>\n<record><title>x</titel></record>\n'
    path = _write(tmp_path, text, "lib.xml")
    _raises(ParseError, path, 3, "expected well-formed EndNote XML")


def test_bom_says_utf8_but_bytes_are_not(tmp_path):
    path = _write(tmp_path, b"\xef\xbb\xbfTY  - JOUR\nTI  - caf\xe9\nER  - \n", "bad-bom.ris")
    _raises(ParseError, path, 2, "byte-order mark says utf-8")


def test_mis_encoded_without_bom_falls_back_with_warning(tmp_path):
    path = _write(tmp_path, b"TY  - JOUR\nTI  - caf\xe9\nER  - \n", "latin.ris")
    with pytest.warns(DataQualityWarning, match=r"first bad byte b'\\xe9' at line 2"):
        df = read_records(path)
    assert df["title"].iloc[0] == "café"
    assert df.attrs["encoding"] == "cp1252"


def test_wrong_explicit_encoding(tmp_path):
    path = _write(tmp_path, "TY  - JOUR\nTI  - ça\nER  - \n".encode("utf-16-le"), "u16.ris")
    _raises(ParseError, path, None, "cannot decode as 'ascii'", encoding="ascii")


def test_missing_file(tmp_path):
    _raises(ParseError, tmp_path / "nope.ris", None, "file not found")


def test_egm_errors_name_file_and_line(tmp_path):
    path = _write(tmp_path, '{\n  "csvData": {"rows": [}\n}', "map.json")
    with pytest.raises(ParseError, match="expected valid JSON") as info:
        read_egm(path)
    assert info.value.line == 2
    assert str(path) in str(info.value)
    path = _write(tmp_path, "const csvData = {broken;\nconst filters = [];\n", "map.js.txt")
    with pytest.raises(ParseError, match="'const csvData = ' is not followed by a JSON literal"):
        read_egm(path)
    path = _write(tmp_path, '{"something": 1}', "other.json")
    with pytest.raises(UnknownFormatError, match="not an evidence map"):
        read_egm(path)
    with pytest.raises(ParseError, match="found an empty file"):
        read_egm(_write(tmp_path, b"", "empty.json"))
