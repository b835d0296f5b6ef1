"""RIS quirks, one small hand-written input each (rispy style: input -> full expected output)."""

from __future__ import annotations

import warnings

import pytest

from evidence_synth.errors import DataQualityWarning
from evidence_synth.io import read_records


def _read(tmp_path, text, name="x.ris", encoding="utf-8", **kwargs):
    path = tmp_path / name
    data = text if isinstance(text, bytes) else text.encode(encoding)
    path.write_bytes(data)
    return read_records(path, **kwargs)


def _fields(df, row=0):
    rec = df.iloc[row]
    return {k: (None if not isinstance(v, (list, dict)) and str(v) == "<NA>" else v)
            for k, v in rec.items()}


BASIC = """TY  - JOUR
TI  - A title
AU  - Doe, Jane
AU  - Roe, R.
PY  - 2020
JO  - Journal of Things
VL  - 12
IS  - 3
SP  - 100
EP  - 110
SN  - 1234-5678
DO  - 10.1000/ABC.1
AB  - An abstract.
KW  - one
KW  - two
LA  - English
PB  - Pub
AN  - ACC1
ER  -
"""


def test_basic_record_full_output(tmp_path):
    df = _read(tmp_path, BASIC, name="basic.ris")
    got = _fields(df)
    assert got == {
        "record_id": "basic:1", "source_id": "basic", "source_row": 1,
        "title": "A title", "abstract": "An abstract.", "journal": "Journal of Things",
        "authors": ["Doe, Jane", "Roe, R."], "keywords": ["one", "two"], "year": 2020,
        "volume": "12", "issue": "3", "pages": "100-110", "publisher": "Pub", "isbn": None,
        "issn": "1234-5678", "language": "English", "pub_type": "JOUR",
        "doi": "10.1000/abc.1", "pmid": None, "accession": "ACC1",
        "raw": {"TY": ["JOUR"], "TI": ["A title"], "AU": ["Doe, Jane", "Roe, R."],
                "PY": ["2020"], "JO": ["Journal of Things"], "VL": ["12"], "IS": ["3"],
                "SP": ["100"], "EP": ["110"], "SN": ["1234-5678"], "DO": ["10.1000/ABC.1"],
                "AB": ["An abstract."], "KW": ["one", "two"], "LA": ["English"],
                "PB": ["Pub"], "AN": ["ACC1"]},
    }
    assert df.attrs["format"] == "ris"
    assert df.attrs["encoding"] == "utf-8"
    assert df.attrs["record_lines"] == [1]


def test_source_id_and_record_id_override(tmp_path):
    df = _read(tmp_path, BASIC, source_id="embase-2024",
               record_id=lambda sid, row, raw: f"{sid}/{raw['AN'][0]}")
    assert df["source_id"].iloc[0] == "embase-2024"
    assert df["record_id"].iloc[0] == "embase-2024/ACC1"


def test_text_before_first_ty_is_kept_in_attrs(tmp_path):
    text = "Record #3 of 18\nProvider: X\n\n" + BASIC + "\nLink to the full text: http://x\n"
    df = _read(tmp_path, text)
    assert len(df) == 1
    assert df.attrs["skipped"] == [
        {"line": 1, "text": "Record #3 of 18"},
        {"line": 2, "text": "Provider: X"},
        {"line": 24, "text": "Link to the full text: http://x"},
    ]
    assert any("outside records" in w for w in df.attrs["warnings"])


@pytest.mark.parametrize("ty", ["TY - JOUR", "TY  - JOUR", "TY  -  JOUR", "TY   - JOUR",
                                "  TY  - JOUR", "TY  -JOUR"])
def test_ty_separator_variants(tmp_path, ty):
    df = _read(tmp_path, f"{ty}\nTI - T\nER  -\n")
    assert len(df) == 1
    assert df["pub_type"].iloc[0] == "JOUR"
    assert df["title"].iloc[0] == "T"


def test_extra_space_after_dash_is_stripped(tmp_path):
    df = _read(tmp_path, "TY  -  JOUR\nAN  -  CN-00778158\nTI  -  Title\nER  -  \n")
    assert df["accession"].iloc[0] == "CN-00778158"
    assert df["raw"].iloc[0]["TI"] == ["Title"]


def test_repeated_ab_second_is_copyright_notice(tmp_path):
    text = ("TY  - JOUR\nAB  - The real abstract.\n"
            "AB  - Copyright of X is the property of Y.\nER  - \n")
    got = _fields(_read(tmp_path, text))
    assert got["abstract"] == "The real abstract."
    assert got["raw"]["AB"] == ["The real abstract.", "Copyright of X is the property of Y."]


def test_n2_is_abstract_when_no_ab(tmp_path):
    got = _fields(_read(tmp_path, "TY  - JOUR\nN2  - Embase abstract\nER  - \n"))
    assert got["abstract"] == "Embase abstract"


def test_continuation_lines_with_and_without_indentation(tmp_path):
    text = ("TY  - JOUR\nAB  - First line\n   second line\nthird line\n"
            "KW  - Health Facility Administration\nJoint Commission\nStandards\nER  - \n")
    got = _fields(_read(tmp_path, text))
    assert got["raw"]["AB"] == ["First line\nsecond line\nthird line"]
    assert got["abstract"] == "First line\nsecond line\nthird line"
    assert got["keywords"] == ["Health Facility Administration", "Joint Commission", "Standards"]


def test_blank_lines_inside_a_value_are_kept_trailing_dropped(tmp_path):
    text = ("TY  - BOOK\nTI  - T\nU3  - Cited By :9\n\nExport Date: 12 May 2022\n\nArticle\n\n"
            "SN  - \nER  - \n")
    got = _fields(_read(tmp_path, text))
    assert got["raw"]["U3"] == ["Cited By :9\n\nExport Date: 12 May 2022\n\nArticle"]
    assert got["raw"]["SN"] == [""]
    assert got["issn"] is None


def test_url_continuations_and_doi_from_links(tmp_path):
    text = ("TY  - JOUR\nUR  - https://app.dimensions.ai/x\nhttps://doi.org/10.1186/S13750-021-1\n"
            "ER  - \n")
    got = _fields(_read(tmp_path, text))
    assert got["raw"]["UR"] == ["https://app.dimensions.ai/x\nhttps://doi.org/10.1186/S13750-021-1"]
    assert got["doi"] == "10.1186/s13750-021-1"


def test_doi_from_l2_dx_link_and_do_prefix(tmp_path):
    text = ("TY  - JOUR\nL2  - http://dx.doi.org/10.4103/2303-9027.138783\nER  - \n"
            "TY  - JOUR\nDO  - http://dx.doi.org/10.1002/cpp.2398\nER  - \n")
    df = _read(tmp_path, text)
    assert list(df["doi"]) == ["10.4103/2303-9027.138783", "10.1002/cpp.2398"]


@pytest.mark.parametrize(("tag", "value", "year"), [
    ("Y1", "2024/04/03/", 2024), ("Y1", "2019//", 2019), ("PY", "0000", None),
    ("Y1", "2023/12//Dec2023:Part 1", 2023), ("Y1", "1998///Fal 1998", 1998),
    ("DA", "2019/10//undefined", 2019), ("PY", "Start date: 20170812", 2017),
    ("Y1", "24-27 Sept. 2019", 2019), ("DA", "Mar 1", None), ("DA", "2024-02-01", 2024),
])
def test_date_variants(tmp_path, tag, value, year):
    got = _fields(_read(tmp_path, f"TY  - JOUR\nAU  - Doe, J\n{tag}  - {value}\nER  - \n"))
    assert got["year"] == year
    assert got["raw"][tag] == [value]


def test_py_wins_over_da_month_only(tmp_path):
    got = _fields(_read(tmp_path, "TY  - JOUR\nAU  - Doe, J\nDA  - SEP\nPY  - 2018\nER  - \n"))
    assert got["year"] == 2018


@pytest.mark.parametrize(("tag", "field"), [("TI", "title"), ("T1", "title"), ("CT", "title"),
                                            ("BT", "title"), ("JO", "journal"), ("JF", "journal"),
                                            ("T2", "journal"), ("J2", "journal"),
                                            ("JA", "journal")])
def test_title_and_journal_tag_variants(tmp_path, tag, field):
    got = _fields(_read(tmp_path, f"TY  - JOUR\nAU  - Doe, J\n{tag}  - Value\nER  - \n"))
    assert got[field] == "Value"


def test_journal_prefers_full_name(tmp_path):
    text = "TY  - JOUR\nAU  - Doe, J\nJ2  - J. Th.\nJF  - Journal of Things\nER  - \n"
    got = _fields(_read(tmp_path, text))
    assert got["journal"] == "Journal of Things"


@pytest.mark.parametrize(("written", "normalised"), [
    ("Liu R.", "Liu, R."), ("Adler D.G.", "Adler, D.G."), ("G. Kalbe", "Kalbe, G."),
    ("Smith, John", "Smith, John"), ("L. A. Parnell", "Parnell, L. A."),
])
def test_authors_surname_given(tmp_path, written, normalised):
    got = _fields(_read(tmp_path, f"TY  - JOUR\nA1  - {written}\nER  - \n"))
    assert got["authors"] == [normalised]
    assert got["raw"]["A1"] == [written]


def test_au_and_a1_are_merged_without_repeats_editors_excluded(tmp_path):
    text = "TY  - JOUR\nAU  - Doe, J\nA1  - Doe, J\nA1  - Roe, R\nA2  - Editor, E\nER  - \n"
    assert _fields(_read(tmp_path, text))["authors"] == ["Doe, J", "Roe, R"]


def test_pmid_from_u1_mark_and_cochrane_c3(tmp_path):
    text = ("TY  - JOUR\nU1  - 35957633 [PMID]\nU1  - PMC9359172 [PMCID]\nER  - \n"
            "TY  - JOUR\nC3  - PUBMED 21314913\nER  - \n"
            "TY  - JOUR\nAN  - 21553931\nDB  - NLM\nER  - \n")
    assert list(_read(tmp_path, text)["pmid"]) == ["35957633", "21314913", "21553931"]


def test_isbn_for_books_issn_otherwise(tmp_path):
    text = ("TY  - BOOK\nTI  - A book\nSN  - 978-3-16-148410-0\nER  - \n"
            "TY  - JOUR\nTI  - An article\nSN  - 0894-9867, 0894-9867\nER  - \n")
    df = _read(tmp_path, text)
    assert _fields(df, 0)["isbn"] == "978-3-16-148410-0"
    assert _fields(df, 1)["issn"] == "0894-9867"  # a list of ISSNs only: each once


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r", "\u2028"])
def test_line_endings(tmp_path, newline):
    text = BASIC.replace("\n", newline)
    got = _fields(_read(tmp_path, text))
    assert got["title"] == "A title"
    assert got["authors"] == ["Doe, Jane", "Roe, R."]


def test_ieee_stray_cr_between_records(tmp_path):
    text = "TY  - JOUR\r\nTI  - One\r\nER  - \r\n\n\rTY  - JOUR\r\nTI  - Two\r\nER  - \r\n"
    df = _read(tmp_path, text)
    assert list(df["title"]) == ["One", "Two"]
    assert df.attrs["record_lines"] == [1, 6]


@pytest.mark.parametrize(("bom", "encoding"), [(b"\xef\xbb\xbf", "utf-8"),
                                               (b"\xff\xfe", "utf-16-le"),
                                               (b"\xfe\xff", "utf-16-be")])
def test_bom_does_not_lose_first_record(tmp_path, bom, encoding):
    df = _read(tmp_path, bom + BASIC.encode(encoding))
    assert len(df) == 1
    assert df["pub_type"].iloc[0] == "JOUR"
    assert df.attrs["bom"] is True
    assert df.attrs["encoding"] == encoding


def test_cp1252_fallback_is_warned_and_recorded(tmp_path):
    text = "TY  - JOUR\nAU  - Mougeot, François\nTI  - “Quoted” title\nER  - \n"
    with pytest.warns(DataQualityWarning, match="not valid UTF-8.*cp1252"):
        df = _read(tmp_path, text, encoding="cp1252")
    assert df["authors"].iloc[0] == ["Mougeot, François"]
    assert df["title"].iloc[0] == "“Quoted” title"
    assert df.attrs["encoding"] == "cp1252"
    assert "decoded as cp1252" in df.attrs["warnings"][0]


def test_explicit_encoding(tmp_path):
    text = "TY  - JOUR\nTI  - Café\nER  - \n"
    path = tmp_path / "l.ris"
    path.write_bytes(text.encode("latin-1"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        df = read_records(path, encoding="latin-1")
    assert df["title"].iloc[0] == "Café"
    assert df.attrs["encoding"] == "latin-1"


def test_missing_er_before_next_ty_is_closed_with_warning(tmp_path):
    text = "TY  - JOUR\nTI  - One\nTY  - JOUR\nTI  - Two\nER  - \n"
    with pytest.warns(DataQualityWarning, match="line 3: record opened at line 1"):
        df = _read(tmp_path, text)
    assert list(df["title"]) == ["One", "Two"]


def test_eppi_reviewer_ris_u1_is_accession(tmp_path):
    text = ("TY  - JOUR\nTI  - Mapped study\nU1  - 33965900\nN1  - Exported from EPPI-Reviewer\n"
            "AN  - other\nER  - \n")
    df = _read(tmp_path, text)
    assert df.attrs["format"] == "eppi_ris"
    assert df["accession"].iloc[0] == "33965900"
    plain = _read(tmp_path, text, name="y.ris", format="ris")
    assert plain["accession"].iloc[0] == "other"
