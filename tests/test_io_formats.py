"""Non-RIS formats and sniffing, one small hand-written input each."""

from __future__ import annotations

import pytest

from evidence_synth.columns import validate_records
from evidence_synth.errors import DataQualityWarning
from evidence_synth.io import list_formats, read_records, sniff_format


def _write(tmp_path, text, name, encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return path


def _get(df, column, row=0):
    value = df[column].iloc[row]
    return None if not isinstance(value, (list, dict)) and str(value) == "<NA>" else value


MEDLINE = """
PMID- 28441597
OWN - NLM
IS  - 1879-1026 (Electronic)
IS  - 0048-9697 (Linking)
VI  - 598
DP  - 2017 Nov 15
TI  - Differences in nitrate and phosphorus export between wooded and grassed riparian
      zones.
PG  - 188-197
LID - S0048-9697(17)30912-9 [pii]
LID - 10.1016/j.scitotenv.2017.04.075 [doi]
AB  - Agricultural activities
      in catchments.
FAU - Neilen, Amanda D
AU  - Neilen AD
FAU - Chen, Chengrong R
AU  - Chen CR
LA  - eng
PT  - Journal Article
JT  - The Science of the total environment
OT  - Riparian

PMID- 29967742
TI  - Mulch and groundcover effects.
AU  - Bavougian CM
DP  - 2018
AID - 10.7717/peerj.5082 [doi]"""


def test_medline_two_records_last_without_blank_line(tmp_path):
    df = read_records(_write(tmp_path, MEDLINE, "pubmed.txt"))
    validate_records(df)
    assert df.attrs["format"] == "medline"
    assert len(df) == 2
    assert _get(df, "title") == ("Differences in nitrate and phosphorus export between wooded "
                                 "and grassed riparian zones.")
    assert _get(df, "authors") == ["Neilen, Amanda D", "Chen, Chengrong R"]
    assert _get(df, "year") == 2017
    assert _get(df, "doi") == "10.1016/j.scitotenv.2017.04.075"
    assert _get(df, "pmid") == "28441597"
    assert _get(df, "issn") == "1879-1026; 0048-9697"
    assert _get(df, "abstract") == "Agricultural activities in catchments."
    assert _get(df, "journal") == "The Science of the total environment"
    assert df["raw"].iloc[0]["TI"] == [
        "Differences in nitrate and phosphorus export between wooded and grassed riparian\n"
        "zones."]
    assert _get(df, "authors", 1) == ["Bavougian, CM"]
    assert _get(df, "doi", 1) == "10.7717/peerj.5082"
    assert df.attrs["record_lines"] == [2, 24]


def test_medline_named_ris_is_sniffed(tmp_path):
    path = _write(tmp_path, MEDLINE, "export.ris")
    assert sniff_format(path) == "medline"


WOS = """FN Clarivate Analytics Web of Science
VR 1.0
PT J
AU Parkes-Loach, PS
   Majeed, AP
AF Parkes-Loach, P. S.
   Majeed, A. P.
TI Interactions stabilizing the structure
   of the core
SO BIOCHEMISTRY
DE light harvesting; B820
PY 2004
VL 43
BP 7003
EP 7016
DI 10.1021/bi049798f
PM 15170338
UT WOS:000221807500019
ER

EF
"""


def test_wos_plain_text(tmp_path):
    df = read_records(_write(tmp_path, WOS, "wos.ris"))
    assert df.attrs["format"] == "wos"
    assert len(df) == 1
    assert _get(df, "authors") == ["Parkes-Loach, P. S.", "Majeed, A. P."]
    assert _get(df, "title") == "Interactions stabilizing the structure of the core"
    assert _get(df, "pages") == "7003-7016"
    assert _get(df, "keywords") == ["light harvesting", "B820"]
    assert _get(df, "accession") == "WOS:000221807500019"
    assert df["raw"].iloc[0]["AU"] == ["Parkes-Loach, PS\nMajeed, AP"]


def test_wos_tab_delimited_utf16le(tmp_path):
    header = "PT\tAU\tAF\tTI\tSO\tPY\tDI\tUT"
    row = ("J\tDemian, FD; Makris, DP\tDemian, Florin Daniel; Makris, Dimitris P.\tEffect\tCHEM"
           "\t2015\t10.1021/x\tWOS:1\t")
    data = b"\xff\xfe" + f"{header}\r\n{row}\r\n".encode("utf-16-le")
    df = read_records(_write(tmp_path, data, "savedrecs.txt"))
    assert df.attrs["format"] == "wos_tab"
    assert df.attrs["encoding"] == "utf-16-le"
    assert _get(df, "authors") == ["Demian, Florin Daniel", "Makris, Dimitris P."]
    assert _get(df, "year") == 2015
    assert _get(df, "doi") == "10.1021/x"


OVID = """<1. >\r
VN  - Ovid Technologies\r
DB  - BIOSIS Previews\r
AN  - PREV200400473722\r
AU  - Werner, S. M. [Author, Reprint Author]\r
AU  - Raffa, K. F. [Author]\r
TI  - Comparison of methods\r
SO  - Forest Ecology & Management. 201(2-3):327-334, November 15, 2004.\r
PT  - Article\r
IS  - 0378-1127 (ISSN print)\r
YR  - 2004\r
\r
<2. >\r
TI  - Second\r
"""


def test_ovid_tagged(tmp_path):
    df = read_records(_write(tmp_path, OVID, "ovid.txt"))
    assert df.attrs["format"] == "ovid"
    assert len(df) == 2
    assert _get(df, "authors") == ["Werner, S. M.", "Raffa, K. F."]
    assert _get(df, "journal") == "Forest Ecology & Management"
    assert (_get(df, "volume"), _get(df, "issue"), _get(df, "pages")) == ("201", "2-3", "327-334")
    assert _get(df, "issn") == "0378-1127"
    assert _get(df, "accession") == "PREV200400473722"
    assert df["raw"].iloc[1] == {"#": ["2"], "TI": ["Second"]}


PROQUEST = """____________________________________________________________

Document 1 of 2

Title: Predictors of posttraumatic stress
Author: Jones, Hannah; Smith, Ann
Publication title: Journal of Traumatic Stress
Volume: 32
Issue: 1
Pages: 1-10
Publication year: 2019
Abstract: People respond differently.
Methods: we did things.
DOI: http://dx.doi.org/10.1002/jts.22387
ProQuest document ID: 2214991469
Subject: Earthquakes; PTSD
____________________________________________________________

Document 2 of 2

Title: Second document
Publication year: 2018
"""


def test_proquest_plain_text(tmp_path):
    df = read_records(_write(tmp_path, PROQUEST, "ProQuestDocuments.txt"))
    assert df.attrs["format"] == "proquest"
    assert len(df) == 2
    assert _get(df, "title") == "Predictors of posttraumatic stress"
    assert _get(df, "authors") == ["Jones, Hannah", "Smith, Ann"]
    assert _get(df, "abstract") == "People respond differently.\nMethods: we did things."
    assert _get(df, "doi") == "10.1002/jts.22387"
    assert _get(df, "accession") == "2214991469"
    assert _get(df, "keywords") == ["Earthquakes", "PTSD"]
    assert _get(df, "year", 1) == 2018


ENDNOTE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<xml><records>
<record><database name="x.enl" path="/Users/me/x.enl">x.enl</database>
<ref-type name="Journal Article">17</ref-type>
<contributors><authors><author><style face="normal" font="default" size="100%">Chapman,
 A. G.</style></author></authors></contributors>
<titles><title><style face="normal" font="default" size="100%">An ecological basis</style></title>
<secondary-title><style face="normal">Ecology</style></secondary-title></titles>
<pages>331-335</pages><volume>18</volume><number>2</number>
<dates><year><style face="normal">1937</style></year></dates>
<electronic-resource-num>10.2307/1930577</electronic-resource-num>
<keywords><keyword>forest</keyword><keyword>soil</keyword></keywords>
</record>
<record><ref-type name="Book">6</ref-type><titles><title>A book</title></titles>
<isbn>978-3-16-148410-0</isbn></record>
</records></xml>
"""


def test_endnote_xml_style_wrappers_stripped(tmp_path):
    df = read_records(_write(tmp_path, ENDNOTE_XML, "library.xml"))
    assert df.attrs["format"] == "endnote_xml"
    assert len(df) == 2
    assert _get(df, "authors") == ["Chapman, A. G."]
    assert _get(df, "title") == "An ecological basis"
    assert _get(df, "journal") == "Ecology"
    assert _get(df, "year") == 1937
    assert _get(df, "doi") == "10.2307/1930577"
    assert _get(df, "keywords") == ["forest", "soil"]
    assert _get(df, "pub_type") == "Journal Article"
    assert df["raw"].iloc[0]["database@path"] == ["/Users/me/x.enl"]
    assert df["raw"].iloc[0]["contributors/authors/author"] == ["Chapman,\n A. G."]
    assert _get(df, "isbn", 1) == "978-3-16-148410-0"


SCOPUS_CSV = (
    '"Authors","Author full names","Title","Year","Source title","Volume","Issue",'
    '"Page start","Page end","DOI","Abstract","Author Keywords","ISSN","PubMed ID",'
    '"Language of Original Document","Document Type","EID"\n'
    '"Liu F.; Li C.","Liu, Fengyuan (60410297700); Li, Chunyun (58862216200)",'
    '"Quantitative analysis","2026","Digital Health","12","","5","9","10.1177/X",'
    '"Objective: ""quoted""\nsecond line","AI; bibliometrics","20552076","41327680",'
    '"English","Article","2-s2.0-1"\n'
)


def test_scopus_csv(tmp_path):
    df = read_records(_write(tmp_path, SCOPUS_CSV, "scopus.csv"))
    assert df.attrs["format"] == "csv"
    assert _get(df, "authors") == ["Liu, Fengyuan", "Li, Chunyun"]
    assert _get(df, "journal") == "Digital Health"
    assert _get(df, "pages") == "5-9"
    assert _get(df, "issue") is None
    assert _get(df, "abstract") == 'Objective: "quoted"\nsecond line'
    assert _get(df, "keywords") == ["AI", "bibliometrics"]
    assert (_get(df, "pmid"), _get(df, "accession")) == ("41327680", "2-s2.0-1")
    assert df["raw"].iloc[0]["Issue"] == [""]


EMBASE_CSV = (
    "Title,Author Names,Source,Emtree Medical Index Terms,Open URL Link\n"
    '"Duplication cysts","Liu R., Adler D.G.",'
    '"Endoscopic Ultrasound (2014) 3:3 (152-160). Date of Publication: 2014",'
    '"article, cyst (diagnosis, surgery)",'
    '"http://sfx?sid=EMBASE&id=doi:10.4103%2F2303-9027.138783&atitle=x"\n'
)


def test_embase_csv_source_parsing(tmp_path):
    df = read_records(_write(tmp_path, EMBASE_CSV, "embase.csv"))
    assert _get(df, "authors") == ["Liu, R.", "Adler, D.G."]
    assert (_get(df, "journal"), _get(df, "year"), _get(df, "volume"), _get(df, "issue"),
            _get(df, "pages")) == ("Endoscopic Ultrasound", 2014, "3", "3", "152-160")
    assert _get(df, "keywords") == ["article", "cyst (diagnosis, surgery)"]
    assert _get(df, "doi") == "10.4103/2303-9027.138783"


def test_generic_tsv_with_columns_override(tmp_path):
    text = "Name\tWho\tWhen\nA study\tDoe, J; Roe, R\t2001\n"
    path = _write(tmp_path, text, "mine.tsv")
    df = read_records(path, format="tsv", columns={"title": "Name", "authors": "Who",
                                                   "year": "When"})
    assert (_get(df, "title"), _get(df, "authors"), _get(df, "year")) == (
        "A study", ["Doe, J", "Roe, R"], 2001)


def test_xlsx(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Title", "Authors", "Year", "DOI"])
    sheet.append(["Sheet study", "Doe, J", 2020, "https://doi.org/10.1/Y"])
    sheet.append([None, None, None, None])
    sheet.append(["Second", None, None, None])
    path = tmp_path / "lens.xlsx"
    book.save(path)
    df = read_records(path)
    assert df.attrs["format"] == "xlsx"
    assert list(df["title"]) == ["Sheet study", "Second"]
    assert _get(df, "doi") == "10.1/y"
    assert _get(df, "year") == 2020
    assert df.attrs["record_lines"] == [2, 4]


def test_dep_csv_one_study_over_several_rows(tmp_path):
    text = ("id,title,authors,year_of_publication,doi,intervention,outcome,keywords\n"
            "34810,Internship Programs,\"Kane, Abou\",2020,10.3917/edd.344.0047,TVET,"
            "Index of employment,Impact evaluation | employment\n"
            "34810,,\"Ndoye, Mamadou\",,,,Employment type,\n"
            "34810,,Not specified,,,,,\n"
            ",,,,,,,\n")
    with pytest.warns(DataQualityWarning, match="looks like a 3ie DEP evidence-map export"):
        df = read_records(_write(tmp_path, text, "dep.csv"))
    assert any("--map" in w for w in df.attrs["warnings"])
    assert len(df) == 1
    assert _get(df, "authors") == ["Kane, Abou", "Ndoye, Mamadou"]
    assert _get(df, "keywords") == ["Impact evaluation", "employment"]
    assert _get(df, "accession") == "34810"
    assert df["raw"].iloc[0]["outcome"] == ["Index of employment", "Employment type"]


def test_list_formats_names_every_family():
    formats = list_formats()
    assert set(formats["format"]) == {"ris", "eppi_ris", "medline", "wos", "wos_tab", "csv",
                                      "tsv", "xlsx", "xls", "endnote_xml", "ovid", "proquest"}
    assert list(formats.columns) == ["format", "description", "suffixes", "signature"]


def test_csv_preamble_before_header_and_pubmed_style_authors(tmp_path):
    text = ('"About the data: Exported on Oct 12, 2022. Criteria: x"\n'
            '"Rank","Publication ID","DOI","Title","Authors","PubYear","Source title"\n'
            '"1","pub.1","10.1000/A","Study","Smith J, Doe AB","2022","J Things"\n')
    df = read_records(_write(tmp_path, text, "Dimensions-Publication.csv"))
    assert df.attrs["format"] == "csv"
    assert len(df) == 1
    assert _get(df, "authors") == ["Smith, J", "Doe, AB"]
    assert (_get(df, "year"), _get(df, "accession")) == (2022, "pub.1")
    assert df.attrs["skipped"][0]["line"] == 1
    assert df.attrs["skipped"][0]["text"].startswith("About the data")


def test_rayyan_csv_and_separated_authors(tmp_path):
    text = ('key,title,authors,journal,year,keywords\n'
            'rayyan-1,A trial,"Marshall, I. J. and Wallace, B. C.",J Things,2019,'
            '"Diet, Food, and Nutrition"\n')
    df = read_records(_write(tmp_path, text, "articles.csv"))
    assert _get(df, "authors") == ["Marshall, I. J.", "Wallace, B. C."]
    assert _get(df, "keywords") == ["Diet, Food, and Nutrition"]
    assert _get(df, "accession") == "rayyan-1"
