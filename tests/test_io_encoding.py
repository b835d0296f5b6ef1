"""Decoding: per-line fallback for mixed encodings, NUL bytes, OS errors, strict small CSVs."""

from __future__ import annotations

import errno
import time
import warnings
from pathlib import Path

import pytest

from evidence_synth.errors import DataQualityWarning, ParseError
from evidence_synth.io import read_records
from evidence_synth.io._csv_rows import read_csv_rows
from evidence_synth.io._text import decode


def _ris(n: int, *, author: str = "Müller, Jörg") -> bytes:
    return "".join(f"TY  - JOUR\nAU  - {author}\nTI  - Study {i}\nER  - \n"
                   for i in range(1, n + 1)).encode("utf-8")


def test_three_bad_bytes_at_line_180001_leave_every_other_line_utf8(tmp_path):
    """The issue's probe: a UTF-8 RIS with three invalid bytes on line 180,001."""
    lines = _ris(45_001).split(b"\n")
    assert lines[180_000] == b"TY  - JOUR"  # line 180,001 opens record 45,001
    lines[180_002] += b" \xe9\xff\xfe"  # its title line, 180,003
    path = tmp_path / "big.ris"
    path.write_bytes(b"\n".join(lines))
    with pytest.warns(DataQualityWarning) as caught:
        df = read_records(path)
    assert len(df) == 45_001  # no record dropped
    assert (df["authors"].map(lambda a: a == ["Müller, Jörg"])).all()  # never 'MÃ¼ller'
    assert df["title"].iloc[-1] == "Study 45001 éÿþ"
    assert df.attrs["encoding"] == "utf-8"
    assert df.attrs["fallback_encoding"] == "cp1252"
    assert df.attrs["fallback_lines"] == [180_003]
    message = str(caught[0].message)
    assert message == (f"{path}: not valid UTF-8 on 1 line(s) (first bad byte b'\\xe9' at line "
                       "180003); decoded as cp1252 on line 180003, as UTF-8 on every other "
                       "line; listed in attrs['fallback_lines']")
    assert df.attrs["warnings"] == [message]


def test_a_wholly_cp1252_file_is_still_reported_as_cp1252(tmp_path):
    path = tmp_path / "w.ris"
    path.write_bytes(_ris(3, author="Mougeot, François").decode("utf-8").encode("cp1252"))
    with pytest.warns(DataQualityWarning, match=r"decoded as cp1252 \(3 line\(s\) needed it: "
                                                r"lines 2, 6, 10\)"):
        df = read_records(path)
    assert df.attrs["encoding"] == "cp1252" and df.attrs["fallback_lines"] == [2, 6, 10]
    assert df["authors"].iloc[0] == ["Mougeot, François"]


def test_lines_cp1252_cannot_decode_get_one_other_codec(tmp_path):
    """0x81 is undefined in cp1252: every bad line then uses one other codec, never a mix."""
    path = tmp_path / "x.ris"
    path.write_bytes(b"TY  - JOUR\nTI  - caf\xe9\nER  - \nTY  - JOUR\nTI  - \x81bc\nER  - \n"
                     + "TY  - JOUR\nTI  - Zürich\nER  - \n".encode())
    with pytest.warns(DataQualityWarning, match="on lines 2, 5, as UTF-8 on every other"):
        df = read_records(path)
    assert df.attrs["fallback_encoding"] not in ("cp1252", "utf-8")
    assert df["title"].iloc[2] == "Zürich"
    assert df.attrs["fallback_lines"] == [2, 5]


def test_per_line_decoding_is_linear():
    """Every other line bad, 5.5 MB: under a second or two when linear; the first version
    (re-decoding the rest of the file after each bad line) took minutes."""
    body = _ris(90_000).rstrip(b"\n").split(b"\n")
    data = b"\n".join(line if i % 2 else line + b" \xe9" for i, line in enumerate(body))
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        decoded = decode(data, path="many.ris")
    assert time.perf_counter() - start < 15
    assert len(decoded.fallback_lines) == 180_000  # TY and TI lines; AU and ER are UTF-8
    assert decoded.text.count("AU  - Müller, Jörg\n") == 90_000
    assert decoded.text.count(" é\nAU  - ") == 90_000


def test_a_prefix_cut_inside_a_character_drops_only_that_character():
    data = b"TY  - JOUR\nTI  - caf" + b"\xe9\n" + "AU  - Jörg".encode()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        cut = decode(data[:-3], path="x.ris", partial=True)  # ends inside the 'ö'
    assert cut.text == "TY  - JOUR\nTI  - café\nAU  - J"
    assert cut.fallback_lines == [2]


@pytest.mark.parametrize("offset", ["start", "late"])
def test_nul_bytes_are_removed_and_counted(tmp_path, offset):
    body = _ris(600)
    at = body.index(b"TI  - Study 2\n" if offset == "start" else b"TI  - Study 500\n")
    path = tmp_path / "nul.ris"
    path.write_bytes(body[:at] + b"\x00\x00" + body[at:at + 3] + b"\x00" + body[at + 3:])
    line = body[:at].count(b"\n") + 1
    with pytest.warns(DataQualityWarning, match=rf"3 NUL byte\(s\) removed \(on line {line}\)"):
        df = read_records(path)
    assert len(df) == 600 and df["title"].notna().all()
    assert df.attrs["nul_bytes"] == 3 and df.attrs["nul_lines"] == [line]


def test_mostly_nul_bytes_are_binary(tmp_path):
    path = tmp_path / "zeros.ris"
    path.write_bytes(b"TY  - JOUR\n" + b"\x00" * 2000)
    with pytest.raises(ParseError, match="expected a text export, found binary content"):
        read_records(path)


def test_clean_file_attrs_say_nothing_was_repaired(tmp_path):
    path = tmp_path / "ok.ris"
    path.write_bytes(_ris(2))
    df = read_records(path)
    assert (df.attrs["fallback_encoding"], df.attrs["fallback_lines"], df.attrs["nul_bytes"],
            df.attrs["nul_lines"]) == (None, [], 0, [])


def test_os_errors_become_parse_errors_naming_the_file(tmp_path, monkeypatch):
    path = tmp_path / "x.ris"
    path.write_bytes(_ris(1))
    real_open = Path.open

    def failing(self, *args, **kwargs):
        if self == path:
            raise OSError(errno.EIO, "Input/output error", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", failing)
    with pytest.raises(ParseError, match=f"{path}: cannot read the file: Input/output error"):
        read_records(path)


def test_random_bytes_named_xlsx_say_it_is_no_workbook(tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ParseError, match=r"not a valid workbook or archive: expected an Excel "
                                         r"\.xlsx workbook \(a zip archive starting with 'PK'\)"):
        read_records(path)


@pytest.mark.parametrize(("text", "line", "match"), [
    ('record_id,decision,note\na,include,"open\nb,exclude,x\n', 2, "quote opened on line 2"),
    ('record_id,decision,note\na,include,ok\nb,exclude,"x"y\n', 3, "not valid CSV"),
    ("record_id,decision\na,include,wrong population, adults\n", 2,
     r"4 cells in a row under a header of 2 columns \(extra: 'wrong population', ' adults'\)"),
    ("record_id,note\na,x\n", 1, "missing decision"),
    ("\n \n", 1, "found an empty file"),
    (",,\n", 1, "found only blank lines"),
])
def test_small_csv_errors_name_the_line(tmp_path, text, line, match):
    path = tmp_path / "d.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParseError, match=match) as info:
        read_csv_rows(path, required=("record_id", "decision"))
    assert info.value.line == line and str(path) in str(info.value)


def test_small_csv_rows_keep_their_lines(tmp_path):
    path = tmp_path / "d.csv"
    path.write_bytes("\ufeffrecord_id,decision,note\na,include,\"two\nlines\"\n,,\nb,exclude\n"
                     .encode())
    header, rows = read_csv_rows(path, required=("record_id", "decision"))
    assert header == ["record_id", "decision", "note"]
    assert rows == [(2, {"record_id": "a", "decision": "include", "note": "two\nlines"}),
                    (5, {"record_id": "b", "decision": "exclude", "note": ""})]
