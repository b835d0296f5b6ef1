"""The records contract: construction and lazy validation."""

from __future__ import annotations

import pandas as pd
import pytest

from evidence_synth import EvidenceSynthError
from evidence_synth.columns import (
    RECORD_COLUMNS,
    coerce_records,
    normalise_doi,
    records_from_dicts,
    validate_records,
)
from evidence_synth.errors import ContractError, ParseError


def test_records_from_dicts_fills_contract_defaults():
    frame = records_from_dicts([{"title": "  A title ", "abstract": "", "authors": "Smith, J",
                                 "year": "2020", "doi": "doi: 10.1000/XYZ", "extra": 1}])
    assert list(frame.columns) == [*RECORD_COLUMNS, "extra"]
    row = frame.iloc[0]
    assert row["title"] == "A title"
    assert row["abstract"] is pd.NA
    assert row["authors"] == ["Smith, J"]
    assert row["keywords"] == []
    assert row["raw"] == {}
    assert row["year"] == 2020
    assert row["doi"] == "10.1000/xyz"
    validate_records(frame.assign(record_id=pd.array(["r1"], dtype="string")))


@pytest.mark.parametrize(("value", "expected"), [
    ("https://doi.org/10.1/AbC", "10.1/abc"),
    ("http://dx.doi.org/10.1/x", "10.1/x"),
    ("DOI:10.1/x", "10.1/x"),
    ("  ", pd.NA),
    (None, pd.NA),
])
def test_normalise_doi(value, expected):
    result = normalise_doi(value)
    assert result is pd.NA if expected is pd.NA else result == expected


def test_validate_records_collects_every_problem():
    good = coerce_records(pd.DataFrame({"record_id": ["a", "b", "c"], "title": ["x", "y", "z"]}))
    bad = good.drop(columns=["journal"]).copy()
    bad["record_id"] = pd.array(["a", "a", None], dtype="string")
    bad["title"] = bad["title"].astype(object)
    bad.at[1, "authors"] = "Smith, J"
    bad.at[2, "raw"] = ["not", "a", "dict"]
    bad["doi"] = pd.array([pd.NA, "https://doi.org/10.1/X", pd.NA], dtype="string")
    with pytest.raises(ContractError) as info:
        validate_records(bad)
    problems = info.value.problems
    assert set(problems["column"]) == {"journal", "record_id", "title", "authors", "raw", "doi"}
    assert len(problems) == 7
    assert "duplicate record_id 'a'" in problems["problem"].tolist()
    assert "column missing" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_empty_strings_are_refused():
    frame = coerce_records(pd.DataFrame({"record_id": ["a"]}))
    frame["title"] = pd.array([" "], dtype="string")
    with pytest.raises(ContractError, match=r"title\[row 0\]: empty string"):
        validate_records(frame)


def test_errors_share_one_base_and_name_the_place():
    err = ParseError("expected 'ER  -' before end of file", path="x.ris", line=12, record=3)
    assert isinstance(err, EvidenceSynthError)
    assert isinstance(err, ValueError)
    assert str(err) == "x.ris, line 12, record 3: expected 'ER  -' before end of file"
