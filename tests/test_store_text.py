"""Lone surrogates never reach the database as a raw UnicodeEncodeError (issue b18).

A lone surrogate (``"\\ud800"``) cannot be encoded in UTF-8. It comes from a DataFrame
built in code, a JSON escape in an import file, or a file name read with
``surrogateescape``. The store refuses it with a ``StoreError`` naming the record (or
source, or decision) and the field, and writes nothing.
"""

from __future__ import annotations

import os

import pytest

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import EvidenceSynthError, StoreError
from evidence_synth.io import read_records_csv

SOURCE = {"source_id": "db", "database": "Test"}


@pytest.fixture
def review(tmp_path):
    store = open_review(tmp_path / "review.db")
    yield store
    store.close()


def _records(*titles, **extra):
    return records_from_dicts([{"record_id": f"r{i}", "title": t, "abstract": "A.", **extra}
                               for i, t in enumerate(titles, start=1)])


def test_a_record_title_with_a_lone_surrogate_names_record_and_field(review):
    with pytest.raises(StoreError) as err:
        review.add_records(_records("fine", "bad \ud800 title"), source=SOURCE)
    text = str(err.value)
    assert "'db:r2'" in text and "'title'" in text and "lone surrogate" in text
    assert "character 5" in text
    assert review.count("records") == 0 and review.count("sources") == 0  # nothing written


def test_a_lone_surrogate_in_raw_fields_or_authors_is_refused(review):
    with pytest.raises(StoreError, match=r"record 'db:r1', field 'raw'"):
        review.add_records(_records("ok", raw={"TI": "x\udcff"}), source=SOURCE)
    with pytest.raises(StoreError, match=r"record 'db:r1', field 'authors'"):
        review.add_records(_records("ok", authors=["Smith, \udc80"]), source=SOURCE)
    assert review.count("records") == 0


def test_a_decision_note_with_a_lone_surrogate_is_refused(review):
    review.add_records(_records("ok"), source=SOURCE)
    with pytest.raises(StoreError, match=r"decision event on record 'db:r1', field 'note'"):
        review.add_decision("db:r1", "title_abstract", "include", reviewer="ana",
                            note="copied \ud83d text")
    assert review.count("decision_events") == 0
    # a whole surrogate pair written as one character is fine
    review.add_decision("db:r1", "title_abstract", "include", reviewer="ana", note="ok \U0001F600")
    assert review.decisions()["note"].iloc[0] == "ok \U0001F600"


def test_a_json_escape_in_an_import_file_names_the_record(review, tmp_path):
    # a records table whose raw cell holds the JSON escape of a lone surrogate: the file
    # itself is plain ASCII, the decoded text is not storable
    path = tmp_path / "records.csv"
    path.write_text('record_id,title,raw\nx1,Fine,"{""TI"": [""Fine""]}"\n'
                    'x2,Broken,"{""TI"": [""Broken \\ud800""]}"\n', encoding="utf-8")
    frame = read_records_csv(path)  # the records table write_records writes
    with pytest.raises(EvidenceSynthError) as err:
        review.add_records(frame, source=SOURCE)
    assert "record 'db:x2', field 'raw'" in str(err.value)
    assert review.count("records") == 0


@pytest.mark.skipif(os.name != "posix", reason="file names are bytes only on POSIX")
def test_a_file_name_that_is_not_utf8_names_the_source(review, tmp_path):
    name = os.fsdecode(b"caf\xe9.csv")  # 'caf\udce9.csv': surrogateescape
    path = tmp_path / name
    try:
        path.write_text("record_id,title\nx1,Fine\n", encoding="utf-8")
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses non-UTF-8 file names")
    with pytest.raises(StoreError, match=r"source '.*', field 'file_name'"):
        review.import_file(path, database="Test")
    assert review.count("records") == 0
