"""Quirks found by the import audit on export files from public repositories that the
readers were not built against (docs/import.md, "Audit on export files found in public
repositories"). Each fixture is hand-written to reproduce one quirk; the found files
themselves are not in the repository."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from evidence_synth.errors import DataQualityWarning
from evidence_synth.io import read_records

FIXTURES = Path(__file__).parent / "fixtures" / "io"


def _read(name: str, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return read_records(FIXTURES / name, **kwargs)


def test_apa_psycnet_pmid_tag_is_a_tag_not_part_of_the_type():
    # APA PsycNET writes the PubMed id as a four-letter tag, "PMID  - 31234567". Read as a
    # continuation of "TY", the id was lost and TY became "JOUR\nPMID  - 31234567".
    df = _read("ris_pmid_tag.ris")
    assert len(df) == 2
    assert df["pmid"].tolist() == ["31234567", "30999111"]
    assert df["raw"].iloc[0]["TY"] == ["JOUR"]
    assert df["raw"].iloc[0]["PMID"] == ["31234567"]
    assert df["pub_type"].tolist() == ["JOUR", "JOUR"]
    assert df["doi"].iloc[0] == "10.5555/jrh.2019.0042"
    assert df.attrs["skipped"][0] == {"line": 1,
                                      "text": "Provider: American Psychological Association"}


def test_rayyan_glued_tags_are_split_into_their_own_tags_with_a_warning():
    # Rayyan's RIS export writes a second tag at the end of some lines, after five spaces:
    # "UR  - https://...     U2  - L5550001". The U2 (Embase id) and LK tags were lost
    # inside the UR and DO values.
    with pytest.warns(DataQualityWarning, match=r"2 tag\(s\) written on the same line.*line 6"):
        df = read_records(FIXTURES / "rayyan_glued_tags.ris")
    raw = df["raw"].iloc[0]
    assert raw["UR"] == ["https://www.example.org/record?id=L5550001&from=export"]
    assert raw["U2"] == ["L5550001"]
    assert raw["DO"] == ["10.5555/bc.2021.7"]
    assert raw["LK"] == ["https://resolver.example.org/link?id=doi:10.5555%2Fbc.2021.7&volume=3"]
    assert df["doi"].tolist() == ["10.5555/bc.2021.7", "10.5555/rv.2020.1"]
    assert any("same line as another tag" in w for w in df.attrs["warnings"])
    # Double spaces and a dash inside ordinary text are not a tag.
    assert df["abstract"].iloc[1] == 'Spaces  inside  a value stay as written:  "a  - b".'
    assert "U2" not in df["raw"].iloc[1]


def test_rayyan_glued_tags_split_when_read_in_chunks(tmp_path):
    # Large files are split window by window; a window with a glued tag goes to the full
    # pass, so the result is the same.
    from evidence_synth.io.ris import parse, parse_chunks

    text = (FIXTURES / "rayyan_glued_tags.ris").read_text(encoding="utf-8")
    assert parse_chunks([text[:200], text[200:]]) is None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        assert parse(text).records[0]["U2"] == ["L5550001"]


def test_no_pagination_split_by_a_reference_manager_is_missing_pages():
    # PsycINFO's "No Pagination Specified", written by Zotero as "SP  - No" and
    # "EP  - Specified", became pages "No-Specified".
    df = _read("ris_no_pagination_split.ris")
    assert df["pages"].isna().iloc[0]
    assert df["raw"].iloc[0]["SP"] == ["No"] and df["raw"].iloc[0]["EP"] == ["Specified"]
    assert df["pages"].iloc[1] == "847-856"


@pytest.mark.parametrize("value", ["No Pagination Specified", "no pagination", "Not specified"])
def test_no_pagination_in_one_field_is_missing_pages(value):
    from evidence_synth.io._fields import pages

    assert pages(value, None) is None
    assert pages("e0815", None) == "e0815"


def test_google_scholar_library_csv_reads_publication_as_the_journal():
    # Google Scholar's "My library" CSV names the journal "Publication" (and the issue
    # "Number"); the journal was left empty on every row.
    df = _read("google_scholar_library.csv")
    assert df.attrs["format"] == "csv"
    assert df["journal"].tolist() == ["Journal of Refugee Health", "Migration Studies Review"]
    assert df["issue"].tolist() == ["3", "1"]
    # Each author ends with "; ", the last one too: no empty author.
    assert df["authors"].iloc[0] == ["Haddad, Rania", "Okafor, Chidi E"]
    assert df["authors"].iloc[1] == ["Lindqvist, Maja"]
    assert df["pages"].iloc[0] == "211-230"


def test_pubmed_csv_final_dot_is_not_part_of_the_last_author():
    # PubMed's CSV "Authors" cell ends the list with a dot: "Haddad R, ..., Fuente R.";
    # the last author was "Pérez-de la Fuente, R." beside "Haddad, R".
    df = _read("pubmed_search_results.csv")
    assert df["authors"].iloc[0] == ["Haddad, R", "Okafor, CE", "Pérez-de la Fuente, R"]
    # A single "Surname I." cannot be told from a dotted initial: left as written.
    assert df["authors"].iloc[1] == ["Lindqvist, M."]
    assert df["journal"].iloc[0] == "J Refug Health"
    assert df["pmid"].tolist() == ["31234567", "30999111"]
    assert df["raw"].iloc[0]["Authors"] == ["Haddad R, Okafor CE, Pérez-de la Fuente R."]


def test_abstrackr_pubmed_id_zero_is_missing():
    # abstrackr writes "0" in "pubmed id" for a record without one; it was read as PMID "0".
    df = _read("abstrackr_labels.csv")
    assert df["pmid"].isna().iloc[0]
    assert df["pmid"].iloc[1] == "30999111"
    assert df["raw"].iloc[0]["pubmed id"] == ["0"]
    assert df["authors"].iloc[0] == ["Moreau, C.", "Osei, K."]


def test_cochrane_pubmed_id_first_in_a_list_and_unicode_page_dashes():
    # Cochrane CENTRAL lists several ids in one C3 value ("PUBMED 38400001,EMBASE ...");
    # the PMID was lost. Its page ranges use U+2010 (and others U+2013) for the dash.
    df = _read("cochrane_central_ids.ris")
    assert df["pmid"].iloc[0] == "38400001"
    assert df["pmid"].isna().iloc[1]  # an Embase id alone is no PMID
    assert df["pages"].tolist() == ["1279-1297", "43-58"]
    assert df["raw"].iloc[0]["SP"] == ["1279\u20101297"]


def test_openalex_csv_authors_journal_issn_and_pmid():
    # OpenAlex's CSV joins authors with a bare "|" and names the journal
    # "primary_location.source.display_name": every author and journal was lost, and the
    # PMID is a PubMed URL in "ids.pmid".
    df = _read("openalex_works.csv")
    assert df["title"].tolist() == ["Border closures and irregular crossings",
                                    "Remittances after a visa ban"]
    assert df["authors"].iloc[0] == ["Moreau, Clara", "Osei, Kwame"]
    assert df["authors"].iloc[1] == ["Haddad, Rania"]
    assert df["journal"].tolist() == ["Migration Studies Review", "Journal of Refugee Health"]
    assert df["issn"].tolist() == ["1234-5678", "2345-6789"]
    assert df["pmid"].iloc[0] == "34000001" and df["pmid"].isna().iloc[1]
    assert df["doi"].tolist() == ["10.5555/bc.2021.7", "10.5555/rv.2020.1"]
    assert df["year"].tolist() == [2021, 2020]
    assert df["accession"].iloc[0] == "https://openalex.org/W1000000001"


def test_issn_lists_written_as_json_or_with_qualifiers_become_plain_lists():
    # Rayyan writes several ISSNs as a JSON list, APA PsycNET glues "(Electronic)" and
    # "(Print)" to them; the ISSN column held that text as it was.
    df = _read("rayyan_issn_lists.ris")
    assert df["issn"].iloc[0] == "1932-8494; 1932-8486"
    assert df["issn"].iloc[1] == "1999-7777; 0222-6666"
    assert df["raw"].iloc[0]["SN"] == ['["1932-8494", "1932-8486"]']
    assert df["isbn"].iloc[2] == "978-1-4822-5326-9" and df["issn"].isna().iloc[2]


@pytest.mark.parametrize(("value", "expected"), [
    ("0000-0000 9999-9999", "0000-0000; 9999-9999"),
    ("20964129 (ISSN)", "20964129"),
    ("1234-5678 supplement", "1234-5678 supplement"),  # other text: left as written
])
def test_issns(value, expected):
    from evidence_synth.io._fields import issns

    assert issns(value) == expected


# Found on the files kept aside until the fixes above were done (docs/import.md): these
# were fixed after the unseen figure was measured.

def test_cochrane_central_csv_authors_journal_and_pmid():
    # Cochrane CENTRAL's CSV: "Author(s)", the journal in "Source", "PUBMED 123" as the
    # PubMed ID; authors and journals were empty, the PMID kept its prefix.
    df = _read("cochrane_central.csv")
    assert df["authors"].iloc[0] == ["Haddad, R", "Okafor, CE"]
    assert df["journal"].tolist() == ["Journal of Refugee Health", "Migration Studies Review"]
    assert df["pmid"].iloc[0] == "38400001" and df["pmid"].isna().iloc[1]
    assert df["pages"].tolist() == ["211-230", "1-19"]
    assert df["accession"].tolist() == ["CN-09990001", "CN-09990002"]


def test_springer_link_csv_is_a_table():
    # SpringerLink's CSV names its columns "Item Title", "Item DOI", "Publication Title":
    # the file was refused as "not a bibliographic format".
    df = _read("springer_link.csv")
    assert df.attrs["format"] == "csv"
    assert df.loc[0, ["title", "journal", "doi", "volume", "issue", "year", "pub_type"]].tolist() \
        == ["Border closures and irregular crossings", "Comparative Migration Studies",
            "10.5555/cms.2021.7", "9", "1", 2021, "Article"]


def test_wos_article_number_without_unsp_prefix():
    # Web of Science writes an unspecified article number as "AR UNSP 1722034".
    df = _read("wos_article_number.txt")
    assert df["pages"].iloc[0] == "1722034"
    assert df["raw"].iloc[0]["AR"] == ["UNSP 1722034"]


def test_ris_short_title_is_the_title_when_there_is_no_other():
    df = _read("ris_short_title_only.ris")
    assert df["title"].iloc[0] == "Состояние здоровья мигрантов в первый год"


def test_table_pmid_cell_with_a_list_of_database_ids(tmp_path):
    # The RIS reader's "PUBMED 123,EMBASE 456" rule holds in a table cell too.
    path = tmp_path / "central.csv"
    path.write_text("CENTRAL ID,Title,PubMed ID\nCN-1,A trial,\"PUBMED 38400001,EMBASE 6435\"\n",
                    encoding="utf-8")
    assert read_records(path)["pmid"].tolist() == ["38400001"]
