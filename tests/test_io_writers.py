"""Writers: RIS/CSV/XLSX output shape and lossless read-write-read round trips."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.columns import RECORD_COLUMNS, records_from_dicts
from evidence_synth.errors import EvidenceSynthError
from evidence_synth.io import read_records, write_records

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXPORTS = SHARED / "exports"
FIELDS = [c for c in RECORD_COLUMNS if c not in ("record_id", "source_id", "source_row", "raw")]
REPRESENTATIVE = [
    "ebsco-academic-search-premier__synthesisr.ris",
    "pubmed-medline__synthesisr.txt",
    "wos-plaintext-misnamed__rispy.ris",
    "endnote-xml__zotero-enxml-test0.xml",
]


def _differences(a: pd.DataFrame, b: pd.DataFrame) -> list[tuple[str, int, object, object]]:
    out = []
    for column in FIELDS:
        for i, (x, y) in enumerate(zip(a[column], b[column], strict=True)):
            if isinstance(x, list) or isinstance(y, list):
                same = list(x) == list(y)
            else:
                same = (pd.isna(x) and pd.isna(y)) or (
                    not pd.isna(x) and not pd.isna(y) and x == y)
            if not same:
                out.append((column, i, x, y))
    return out


def _round_trip(df, tmp_path, fmt):
    path = write_records(df, tmp_path / f"out.{fmt}", format=fmt)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return read_records(path)


def _hand_made():
    return records_from_dicts([
        {"record_id": "a:1", "title": "A study; with “quotes”",
         "abstract": "Line one.\n\nLine two.",
         "journal": "J. Things", "authors": ["Doe, Jane", "Müller, K."],
         "keywords": ["k; with semicolon"], "year": 2001, "volume": "3", "issue": "2",
         "pages": "10-20", "publisher": "P", "issn": "1234-5678", "language": "English",
         "pub_type": "JOUR", "doi": "10.1000/x.1", "pmid": "123", "accession": "ACC"},
        {"record_id": "a:2", "title": "A book", "authors": [], "keywords": ["a", "b"],
         "isbn": "978-3-16-148410-0", "pub_type": "BOOK", "pages": "e0209483"},
        {"record_id": "a:3", "title": "A report", "pub_type": "Report", "year": 1999},
    ])


@pytest.mark.parametrize("fmt", ["ris", "csv", "xlsx"])
def test_hand_made_round_trip_is_lossless(tmp_path, fmt):
    df = _hand_made()
    back = _round_trip(df, tmp_path, fmt)
    assert len(back) == 3
    assert _differences(df, back) == []


def test_ris_output_shape(tmp_path):
    path = write_records(_hand_made(), tmp_path / "out.ris")
    data = path.read_bytes()
    assert data.startswith(b"TY  - JOUR\r\nID  - a:1\r\nTI  - A study")
    assert data.count(b"ER  - \r\n") == 3
    assert b"\n" not in data.replace(b"\r\n", b"")
    text = data.decode("utf-8")
    assert "AU  - Müller, K.\r\n" in text
    assert "AB  - Line one.\r\n\r\nLine two.\r\n" in text
    assert "TY  - GEN\r\nM3  - Report\r\nID  - a:3\r\n" in text
    lf = write_records(_hand_made(), tmp_path / "lf.ris", newline="\n").read_bytes()
    assert b"\r" not in lf


def test_csv_and_xlsx_columns(tmp_path):
    path = write_records(_hand_made(), tmp_path / "out.csv", format="csv")
    table = pd.read_csv(path, dtype=str)
    assert list(table.columns) == list(RECORD_COLUMNS)
    assert table["authors"].iloc[0] == "Doe, Jane; Müller, K."
    assert table["keywords"].iloc[0] == "k; with semicolon | "
    plain = write_records(_hand_made(), tmp_path / "plain.csv", format="csv", include_raw=False)
    assert "raw" not in pd.read_csv(plain).columns


def test_unknown_writer_format(tmp_path):
    with pytest.raises(EvidenceSynthError, match="expected 'ris', 'csv' or 'xlsx'"):
        write_records(_hand_made(), tmp_path / "x.bib", format="bibtex")


def test_input_frame_not_mutated(tmp_path):
    df = _hand_made()
    before = df.copy(deep=True)
    write_records(df, tmp_path / "x.ris")
    write_records(df, tmp_path / "x.xlsx", format="xlsx")
    pd.testing.assert_frame_equal(df, before)


def _corpus_round_trip(name, fmt, tmp_path):
    if not (EXPORTS / name).exists():
        pytest.skip("../shared/data not present")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_records(EXPORTS / name)
    back = _round_trip(df, tmp_path, fmt)
    assert len(back) == len(df)
    diffs = _differences(df, back)
    # a missing pub_type is written as the RIS catch-all type GEN
    diffs = [d for d in diffs if not (d[0] == "pub_type" and pd.isna(d[2]) and d[3] == "GEN")]
    assert diffs == []


@pytest.mark.parametrize("fmt", ["ris", "csv", "xlsx"])
@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_corpus_round_trip(name, fmt, tmp_path):
    _corpus_round_trip(name, fmt, tmp_path)


def _all_exports():
    if not EXPORTS.exists():
        return ["missing"]
    return sorted(p.name for p in EXPORTS.iterdir() if p.name != "README.md")


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["ris", "csv", "xlsx"])
@pytest.mark.parametrize("name", _all_exports())
def test_whole_corpus_round_trip(name, fmt, tmp_path):
    _corpus_round_trip(name, fmt, tmp_path)
