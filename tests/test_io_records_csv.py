"""read_records_csv: the inverse of write_records(format="csv"), and hand-made record CSVs."""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.columns import RECORD_COLUMNS, records_from_dicts
from evidence_synth.errors import ParseError
from evidence_synth.io import read_records, read_records_csv, write_records
from evidence_synth.io.records_table import join_items, split_items

EXPORTS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "exports"
REPRESENTATIVE = [
    "ebsco-academic-search-premier__synthesisr.ris",
    "pubmed-medline__synthesisr.txt",
    "wos-tab-delimited-utf8__readwosR.txt",
    "endnote-xml__zotero-enxml-test0.xml",
    "scopus-csv__bibliometrix.csv",
]


def _tricky() -> pd.DataFrame:
    return records_from_dicts([
        {"record_id": "s:1", "source_id": "s", "source_row": 1,
         "title": "A study; with “quotes”, commas and \"double quotes\"",
         "abstract": "Line one.\n\nLine two,\r\nthree.", "journal": "J. Things",
         "authors": ["Doe, Jane", "Müller, K."], "keywords": ["k; with semicolon"],
         "year": 2001, "volume": "3", "issue": "2", "pages": "10-20", "publisher": "P",
         "isbn": "978-3-16-148410-0", "issn": "1234-5678", "language": "English",
         "pub_type": "JOUR", "doi": "10.1000/x.1", "pmid": "123", "accession": "ACC",
         "raw": {"TI": ["A study"], "N1": ["first\nsecond", ""], "Ü": ["ü"]}},
        {"record_id": "s:2", "source_id": "s", "source_row": 2, "title": "NA",
         "authors": ["Smith J, Doe AB"], "keywords": ["NA", "none", "a and b"],
         "raw": {}},
        {"record_id": "0003", "source_id": "other", "title": "=1+2 is not a formula here",
         "authors": ["Smith J", "Doe AB"], "keywords": [], "year": None,
         "raw": {"X": []}},
    ])


def _write_read(df: pd.DataFrame, tmp_path: Path, **kwargs) -> pd.DataFrame:
    return read_records_csv(write_records(df, tmp_path / "records.csv", format="csv",
                                          **kwargs))


def test_round_trip_equals_the_input_in_every_contract_column(tmp_path):
    df = _tricky()
    back = _write_read(df, tmp_path)
    assert list(back.columns) == list(RECORD_COLUMNS)
    pd.testing.assert_frame_equal(back, df)
    assert back.loc[1, "keywords"] == ["NA", "none", "a and b"]
    assert str(back["year"].dtype) == "Int64" and str(back["source_row"].dtype) == "Int64"
    assert back.loc[0, "raw"]["N1"] == ["first\nsecond", ""]


def test_round_trip_of_random_lists(tmp_path):
    """Seeded random lists of awkward items: separators, 'missing' words, names."""
    pieces = ["Doe, J.", "Smith J", "AB", ";", ",", " and ", "NA", "n/a", "é", "x|y", "-",
              "Müller", "1", "(a, b)", "none"]
    rng = random.Random(15)
    rows = []
    for i in range(300):
        items = []
        for _ in range(rng.randrange(0, 5)):
            item = "".join(rng.choice(pieces) for _ in range(rng.randrange(1, 4))).strip()
            if item:
                items.append(item)
        rows.append({"record_id": f"r:{i}", "source_id": "r", "source_row": i + 1,
                     "title": f"T{i}", "authors": items, "keywords": items[::-1]})
    df = records_from_dicts(rows)
    pd.testing.assert_frame_equal(_write_read(df, tmp_path), df)


@pytest.mark.parametrize("items", [["a"], ["a; b"], ["Smith J, Doe AB"], ["x", "y z"], []])
def test_split_items_inverts_join_items(items):
    joined = join_items(items)
    assert (split_items(joined) if joined is not None else []) == items


def _corpus(name: str, tmp_path: Path) -> None:
    if not (EXPORTS / name).exists():
        pytest.skip("../shared/data/exports not present")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = read_records(EXPORTS / name)
    pd.testing.assert_frame_equal(_write_read(df, tmp_path), df)


@pytest.mark.parametrize("name", REPRESENTATIVE)
def test_round_trip_of_real_exports(name, tmp_path):
    _corpus(name, tmp_path)


def _all_exports() -> list[str]:
    if not EXPORTS.exists():
        return ["missing"]
    return sorted(p.name for p in EXPORTS.iterdir() if p.name != "README.md")


@pytest.mark.slow
@pytest.mark.parametrize("name", _all_exports())
def test_round_trip_of_every_real_export(name, tmp_path):
    _corpus(name, tmp_path)


def test_without_raw_the_raw_column_is_empty(tmp_path):
    back = _write_read(_tricky(), tmp_path, include_raw=False)
    assert back["raw"].tolist() == [{}, {}, {}]
    pd.testing.assert_frame_equal(back.drop(columns="raw"), _tricky().drop(columns="raw"))


def test_hand_made_csv_gets_ids_and_split_lists(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text("title,authors,keywords,year,record_id,notes\n"
                    "One,\"Doe, J.; Roe, R.\",a; b,2001,,keep me\n"
                    "Two,,,,x:9,\n", encoding="utf-8")
    df = read_records_csv(path)
    assert df["record_id"].tolist() == ["mine:1", "x:9"]
    assert df["source_id"].tolist() == ["mine", "mine"]
    assert df.loc[0, "authors"] == ["Doe, J.", "Roe, R."]
    assert df.loc[0, "keywords"] == ["a", "b"]
    assert df["year"].tolist()[0] == 2001 and pd.isna(df["year"].iloc[1])
    assert df.loc[1, "authors"] == [] and df.loc[0, "raw"] == {}
    assert df["notes"].tolist() == ["keep me", ""]
    assert read_records_csv(path, source_id="s.csv")["source_id"].tolist() == ["s.csv"] * 2


@pytest.mark.parametrize(("content", "expected"), [
    ("x,y\n1,2\n", "expected a records CSV with a 'title' column; found columns ['x', 'y']"),
    ("", "found an empty file"),
    ("title,raw\nA,{not json\n", "record 1: expected the 'raw' column to hold JSON"),
    ("title,raw\nA,{}\nB,\"{\"\"TI\"\": \"\"B\"\"}\"\n",
     "record 2: expected the 'raw' column to hold a JSON object of lists of strings"),
    ("record_id,title\na,A\nb,B\na,C\n", "record 3: record_id 'a' is given to records 1 and 3"),
    ('title,authors\n"unclosed,x\n', "expected a well-formed records CSV"),
])
def test_bad_records_csv_names_file_and_record(tmp_path, content, expected):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ParseError) as info:
        read_records_csv(path)
    assert str(path) in str(info.value)
    assert expected in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ParseError, match="file not found"):
        read_records_csv(tmp_path / "nope.csv")
