"""Export variants real files show: indented tags, ProQuest full reports, old Scopus CSVs,
broken quoting, banner rows above a header, empty rows. One hand-written input each."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_synth.columns import validate_records
from evidence_synth.errors import DataQualityWarning, ParseError
from evidence_synth.io import read_records, sniff_format

FIXTURES = Path(__file__).parent / "fixtures" / "io"
MIGRATION = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "migration"


def _write(tmp_path, text, name):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def _value(df, column, row=0):
    """A cell, with <NA> as None (lists and dicts as they are)."""
    value = df[column].iloc[row]
    return value if isinstance(value, (list, dict)) or str(value) != "<NA>" else None


# --- tagged formats -----------------------------------------------------------------

OVID_INDENTED = """<1. >
 VN  - Ovid Technologies
 DB  - APA PsycInfo
 AN  - 2021-33120-001
 TI  - Post-migration stressors and depression among asylum seekers in Greece
 AU  - Nikolaidou, Eleni
 AU  - Haddad, Samir
 SO  - Journal of Refugee Studies. 34(2):210-231, 2021.
 IS  - 0951-6328
 AB  - We surveyed 412 asylum seekers on the Aegean islands.
   Depressive symptoms rose with time spent in reception centres.
 DO  - https://dx.doi.org/10.1093/jrs/feab012
 YR  - 2021

<2. >
 VN  - Ovid Technologies
 DB  - APA PsycInfo
 TI  - Readmission and return: a qualitative study
 AU  - Mbeki, Thandi
 YR  - 2019
"""


def test_ovid_psycinfo_tags_indented_by_one_space(tmp_path):
    path = _write(tmp_path, OVID_INDENTED, "psycinfo.txt")
    assert sniff_format(path) == "ovid"
    df = read_records(path)
    validate_records(df)
    assert len(df) == 2
    assert _value(df, "title") == ("Post-migration stressors and depression among asylum "
                                   "seekers in Greece")
    assert _value(df, "authors") == ["Nikolaidou, Eleni", "Haddad, Samir"]
    assert _value(df, "abstract") == ("We surveyed 412 asylum seekers on the Aegean islands. "
                                      "Depressive symptoms rose with time spent in reception "
                                      "centres.")
    assert (_value(df, "journal"), _value(df, "volume"), _value(df, "issue"),
            _value(df, "pages")) == ("Journal of Refugee Studies", "34", "2", "210-231")
    assert (_value(df, "year"), _value(df, "doi"), _value(df, "accession")) == (
        2021, "10.1093/jrs/feab012", "2021-33120-001")
    assert df["raw"].iloc[1] == {"#": ["2"], "VN": ["Ovid Technologies"],
                                 "DB": ["APA PsycInfo"],
                                 "TI": ["Readmission and return: a qualitative study"],
                                 "AU": ["Mbeki, Thandi"], "YR": ["2019"]}
    assert df.attrs["skipped"] == []


def test_ovid_without_record_headers_starts_records_at_vn(tmp_path):
    text = "\n".join(line.strip() for line in OVID_INDENTED.splitlines()
                     if not line.startswith("<"))
    path = _write(tmp_path, text, "ovid-no-headers.txt")
    assert sniff_format(path) == "ovid"
    df = read_records(path)
    assert list(df["title"].str[:14]) == ["Post-migration", "Readmission an"]
    assert df.attrs["record_lines"] == [1, 14]


def test_ovid_record_without_tag_lines_is_an_error_not_an_empty_record(tmp_path):
    text = "<1. >\nTI  - Fine\n\n<2. >\nTitle\n  Labelled, not tagged\nAuthor\n  Doe, J\n"
    path = _write(tmp_path, text, "labelled.txt")
    with pytest.raises(ParseError) as info:
        read_records(path)
    assert (info.value.line, info.value.record) == (5, 2)
    assert "record 2 (opened at line 4) has no field the reader recognises" in str(info.value)
    assert "'Title'" in str(info.value)


@pytest.mark.parametrize("text", [
    "TY  - JOUR\nTI: Labelled title\nAU: Doe, J\nER  - \n",
    "TY  - JOUR\nTI  - Fine\nER  - \nTY  - JOUR\nTI: Labelled title\nAU: Doe, J\nER  - \n",
])
def test_ris_record_whose_lines_are_not_tags_is_an_error(tmp_path, text):
    path = _write(tmp_path, text, "labelled.ris")
    with pytest.raises(ParseError, match=r"has no field the reader recognises.*'TI: Labelled"):
        read_records(path)


def test_medline_tags_indented(tmp_path):
    text = (" PMID- 31234567\n OWN - NLM\n TI  - Indented MEDLINE title\n"
            "       over two lines.\n FAU - Doe, Jane\n AU  - Doe J\n DP  - 2020 Mar\n"
            " AID - 10.1000/xyz [doi]\n\n PMID- 31234568\n TI  - Second\n")
    path = _write(tmp_path, text, "pubmed.txt")
    assert sniff_format(path) == "medline"
    df = read_records(path)
    assert list(df["title"]) == ["Indented MEDLINE title over two lines.", "Second"]
    assert (_value(df, "authors"), _value(df, "year"), _value(df, "doi"),
            _value(df, "pmid")) == (["Doe, Jane"], 2020, "10.1000/xyz", "31234567")


def test_wos_plain_text_indented(tmp_path):
    text = (" FN Clarivate Analytics Web of Science\n VR 1.0\n PT J\n AU Doe, J\n    Roe, R\n"
            " AF Doe, Jane\n    Roe, Richard\n TI Border walls and migration flows:\n"
            "    evidence from Europe\n SO JOURNAL OF PEACE RESEARCH\n PY 2020\n"
            " DI 10.1177/0022343320913305\n ER\n\n PT J\n TI Second record\n ER\n EF\n")
    path = _write(tmp_path, text, "savedrecs.txt")
    assert sniff_format(path) == "wos"
    df = read_records(path)
    assert list(df["title"]) == ["Border walls and migration flows: evidence from Europe",
                                 "Second record"]
    assert _value(df, "authors") == ["Doe, Jane", "Roe, Richard"]
    assert (_value(df, "year"), _value(df, "doi")) == (2020, "10.1177/0022343320913305")


# --- ProQuest ---------------------------------------------------------------------

def test_proquest_full_report(tmp_path):
    path = FIXTURES / "proquest_full_report.txt"
    assert sniff_format(path) == "proquest"
    df = read_records(path)
    validate_records(df)
    assert len(df) == 3
    assert df.attrs["skipped"] == [] and df.attrs["warnings"] == []
    assert df.attrs["record_lines"] == [23, 93, 157]
    first = df.iloc[0]
    assert first["title"] == ("Readmission agreements and return migration: evidence from "
                              "West Africa")
    assert first["authors"] == ["Adepoju, Aderanti", "Van Noorloos, Femke"]
    assert first["abstract"].split("\n\n") == [
        "Readmission agreements are a central tool of the external migration policy of the "
        "European Union. We study whether agreements signed between 2000 and 2018 changed the "
        "number of returns from member states to countries of origin in West Africa.",
        "Methods: We use a panel of 15 origin countries and an event-study design with country "
        "and year fixed effects.",
        "Results: Returns rose by 18 percent in the two years after signature; irregular "
        "departures did not fall."]
    assert (first["journal"], first["volume"], first["issue"], first["pages"], first["year"]) == (
        "International Migration Review", "55", "3", "812-841", 2021)
    assert (first["issn"], first["doi"], first["accession"], first["pub_type"]) == (
        "0197-9183", "10.1177/0197918320978623", "2468013579", "Journal Article")
    assert first["keywords"] == ["Return migration", "Readmission agreements", "Migration policy",
                                 "West Africa", "European Union", "bilateral agreements",
                                 "deportation"]
    assert first["raw"]["URL"] == ["https://www.proquest.com/docview/2468013579?accountid=12345"]
    assert first["raw"]["Links"][0].count("https://") == 2
    assert first["raw"]["e-ISSN"] == ["1747-7379"]
    thesis = df.iloc[1]
    assert (thesis["pub_type"], thesis["isbn"], thesis["year"], thesis["language"]) == (
        "Dissertation/Thesis", "9798352643218", 2022, "English")
    assert thesis["keywords"][-3:] == ["Route diversion", "Mediterranean", "Search and rescue"]
    assert thesis["raw"]["Committee member"] == ["Conti, Anna, Ferrari, Luca"]
    assert _value(df, "abstract", 2) is None
    assert "Bibliography" not in str(df["raw"].iloc[2]) and "Contact" not in str(df["raw"].iloc[2])


def test_proquest_report_with_a_long_table_of_contents_is_sniffed(tmp_path):
    n = 150
    contents = "\n\n".join(f"{i}. Study number {i}" for i in range(1, n + 1))
    documents = "\n".join(
        f"{'_' * 60}\n\nDocument {i} of {n}\n\nStudy number {i}\n\nAuthor: Doe, J\n\n"
        f"Publication year: 2020\n" for i in range(1, n + 1))
    rule = "_" * 60
    text = (f"{rule}\n\nReport Information from ProQuest\nJanuary 02 2025 10:00\n{rule}\n\n"
            f"{rule}\n\nTable of contents\n\n{contents}\n\nBibliography\n\n{documents}")
    path = _write(tmp_path, text, "ProQuestDocuments-2025-01-02.txt")
    assert sniff_format(path) == "proquest"
    df = read_records(path)
    assert len(df) == n and df["title"].iloc[-1] == f"Study number {n}"
    assert df.attrs["skipped"] == []


@pytest.mark.parametrize(("cut", "line", "message"), [
    ("Document 3 of 3", 94, "documents 3 to 3 are missing"),
    ("Document 2 of 3", 93, "documents are missing"),
])
def test_proquest_report_missing_documents_raises(tmp_path, cut, line, message):
    text = (FIXTURES / "proquest_full_report.txt").read_text(encoding="utf-8")
    if cut == "Document 3 of 3":
        text = text[:text.index("Document 3 of 3")]
    else:
        text = text.replace("Document 2 of 3", "Document 3 of 3", 1)
        text = text[:text.rindex("Document 3 of 3")]
    path = _write(tmp_path, text, "cut.txt")
    with pytest.raises(ParseError, match=message) as info:
        read_records(path)
    assert info.value.line in (line, 93)


# --- tables -----------------------------------------------------------------------

OLD_SCOPUS = (
    "\ufeffAuthors,Author(s) ID,Title,Year,Source title,Volume,Issue,Art. No.,Page start,"
    "Page end,Page count,Cited by,DOI,Link,Affiliations,Authors with affiliations,Abstract,"
    "Author Keywords,Index Keywords,Molecular Sequence Numbers,Chemicals/CAS,Tradenames,"
    "Manufacturers,Funding Details,References,Correspondence Address,Editors,Sponsors,"
    "Publisher,Conference name,Conference date,Conference location,Conference code,ISSN,ISBN,"
    "CODEN,PubMed ID,Language of Original Document,Abbreviated Source Title,Document Type,"
    "Source,EID\n"
    '"Alvarez M., Okoro C.D., Schmidt T.","7004212771;57190238412;6701234567;",'
    '"Visa liberalisation and irregular entries: evidence from the Western Balkans",2018,'
    '"International Migration","56","4", 7433444,"","",,3,10.1111/imig.12455,'
    '"https://www.scopus.com/inward/record.uri?eid=2-s2.0-85041234567",'
    '"University of Vienna, Vienna, Austria","Alvarez, M., University of Vienna",'
    '"We study the 2010 visa liberalisation.\nApprehensions fell by a third; ""overstays"" '
    'rose.\n© 2018 IOM","visa policy; irregular migration","Migration; Policy",,,,,,'
    '"Smith, J., Borders (2015) Mig. Rev., 1, pp. 1-2; Doe, K., Visas (2016)",'
    '"Alvarez, M.; University of Vienna",,,"Wiley-Blackwell",,,,,00207985,,IMIGA,,"English",'
    '"Int. Migr.",Article,Scopus,2-s2.0-85041234567\n'
    '"Tanaka H.","35500000000;","Return migration and remittances",2015,"Migration Studies",'
    '"3","1",,"45","67",,,,"https://www.scopus.com/inward/record.uri?eid=2-s2.0-84900000000"'
    ',,"",,,,,,,,,,,,,,,,,,20495838,,,25555555,"English","Migr. Stud.",Article,Scopus,'
    "2-s2.0-84900000000\n"
)


def test_old_scopus_csv_with_bom_and_the_long_column_set(tmp_path):
    path = _write(tmp_path, OLD_SCOPUS, "scopus.csv")
    assert sniff_format(path) == "csv"
    df = read_records(path)
    validate_records(df)
    assert len(df) == 2 and df.attrs["bom"] is True
    first = df.iloc[0]
    assert first["authors"] == ["Alvarez, M.", "Okoro, C.D.", "Schmidt, T."]
    assert first["abstract"] == ('We study the 2010 visa liberalisation.\nApprehensions fell by '
                                 'a third; "overstays" rose.\n© 2018 IOM')
    assert (first["journal"], first["year"], first["volume"], first["issue"], first["doi"]) == (
        "International Migration", 2018, "56", "4", "10.1111/imig.12455")
    assert (first["issn"], first["language"], first["pub_type"], first["accession"]) == (
        "00207985", "English", "Article", "2-s2.0-85041234567")
    assert first["keywords"] == ["visa policy", "irregular migration"]
    assert first["raw"]["Art. No."] == [" 7433444"]
    second = df.iloc[1]
    assert (second["pages"], second["pmid"], second["authors"]) == (
        "45-67", "25555555", ["Tanaka, H."])
    assert df.attrs["record_lines"] == [2, 5]


def test_quote_not_doubled_inside_a_quoted_field_is_repaired_with_a_warning(tmp_path):
    text = ('Title,Authors,Year\n"The ""new"" pact and the "fresh start" for returns",'
            '"Doe J.",2021\n"Second" ,"Roe R.",2020\n')
    path = _write(tmp_path, text, "hand-edited.csv")
    with pytest.warns(DataQualityWarning, match=r"line 2: a quote breaks the CSV rules"):
        df = read_records(path)
    assert list(df["title"]) == ['The "new" pact and the "fresh start" for returns', "Second"]
    assert list(df["year"]) == [2021, 2020]
    assert any("quote breaks the CSV rules" in w for w in df.attrs["warnings"])


def test_unclosed_quote_is_not_repaired(tmp_path):
    text = 'Title,Authors\n"ok","Doe, J"\n"never closed,"Roe, R"\nnext,row\n'
    with pytest.raises(ParseError, match="quote opened at or after line 3"):
        read_records(_write(tmp_path, text, "bad.csv"))


BANNER = ("Screening export,,,\n"
          "Name,Who,When,Decision\n"
          "Border walls and flows,\"Doe, J; Roe, R\",2019,INCLUDE\n"
          "Visa regimes,\"Kim, S\",2020,EXCLUDE\n")


def test_banner_row_above_a_header_without_title_column(tmp_path):
    path = _write(tmp_path, BANNER, "export.csv")
    df = read_records(path, format="csv",
                      columns={"title": "Name", "authors": "Who", "year": "When"})
    assert df.attrs["header_row"] == 2
    assert df.attrs["skipped"] == [{"line": 1, "text": "Screening export,,,"}]
    assert list(df["title"]) == ["Border walls and flows", "Visa regimes"]
    assert _value(df, "authors") == ["Doe, J", "Roe, R"]
    # without columns= the widest first row is still the header, not the banner; no column
    # maps to a title, so every row is reported empty rather than imported blank
    with pytest.warns(DataQualityWarning, match="2 record"):
        plain = read_records(path, format="csv")
    assert plain.attrs["header_row"] == 2 and len(plain) == 0
    assert list(plain.attrs["dropped"][0]["raw"]) == ["Name", "Who", "When", "Decision"]


def test_header_row_option_and_its_errors(tmp_path):
    text = "exported 2025-03-01\nnote: first sheet\nTitle,Year\nA study,2001\n"
    path = _write(tmp_path, text, "notes.csv")
    df = read_records(path, format="csv", header_row=3)
    assert (df.attrs["header_row"], list(df["title"]), list(df["year"])) == (3, ["A study"], [2001])
    with pytest.raises(ParseError, match="header_row=9: expected a non-empty row between 1 and 4"):
        read_records(path, format="csv", header_row=9)
    with pytest.raises(ParseError, match="columns= names 'titel', not a contract field"):
        read_records(path, format="csv", header_row=3, columns={"titel": "Title"})


def test_xlsx_banner_row_and_ris_style_headers(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([None, None, None, None, None, "Human screened"])
    sheet.append(["T1", "A1", "PY", "AB", "EPPI ID", "EPPI TAS decision"])
    sheet.append(["Return counselling", "Abebe, T; Smith, K", 2022, "An abstract.", 130001,
                  "INCLUDE on title & abstract"])
    sheet.append(["Labour mobility", "Ortiz, L", 2024, None, 130002, "EXCLUDE on topic"])
    path = tmp_path / "ground_truth.xlsx"
    book.save(path)
    df = read_records(path)
    assert df.attrs["header_row"] == 2
    assert list(df["title"]) == ["Return counselling", "Labour mobility"]
    assert (_value(df, "authors"), _value(df, "year"), _value(df, "abstract"),
            _value(df, "accession")) == (["Abebe, T", "Smith, K"], 2022, "An abstract.", "130001")
    same = read_records(path, columns={"title": "T1", "abstract": "AB"})
    assert list(same["title"]) == list(df["title"])


EMPTY_ROWS = ("Item ID,Title,Year,Abstract,Decision\n"
              "1001,Cash transfers and migration,2019,An abstract.,INCLUDE\n"
              ",,,,EXCLUDE on population\n"
              ",,,,\n"
              "1002,Second study,2020,,EXCLUDE\n"
              ",,,,INCLUDE on title & abstract\n")


def test_empty_rows_are_counted_and_reported_not_imported(tmp_path):
    path = _write(tmp_path, EMPTY_ROWS, "groundtruth.csv")
    with pytest.warns(DataQualityWarning, match=r"2 record\(s\) with no title, abstract, DOI, "
                                                r"authors or PMID not imported \(the first at "
                                                r"line 3\)"):
        df = read_records(path)
    validate_records(df)
    assert list(df["title"]) == ["Cash transfers and migration", "Second study"]
    # source_row keeps the record's position (a row of empty cells is no record at all)
    assert list(df["source_row"]) == [1, 3] and list(df["record_id"]) == [
        "groundtruth:1", "groundtruth:3"]
    assert df.attrs["record_lines"] == [2, 5]
    assert df.attrs["dropped_empty"] == 2
    assert [(d["line"], d["source_row"], d["raw"]["Decision"]) for d in df.attrs["dropped"]] == [
        (3, 2, ["EXCLUDE on population"]), (6, 4, ["INCLUDE on title & abstract"])]


def test_import_file_passes_table_options_and_keeps_the_empty_count(tmp_path):
    from evidence_synth.store import open_review

    path = _write(tmp_path, "Screening export,,,,\n" + EMPTY_ROWS.replace("Title", "Name"),
                  "export.csv")
    with open_review(tmp_path / "r.db") as review, warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        stored = review.import_file(path, database="EPPI-Reviewer", format="csv",
                                    header_row=2, columns={"title": "Name"})
        notes = json.loads(review.sources()["notes"].iloc[0])
    assert list(stored["title"]) == ["Cash transfers and migration", "Second study"]
    assert stored.attrs["dropped_empty"] == 2 and stored.attrs["header_row"] == 2
    assert notes["dropped_empty"] == 2 and notes["header_row"] == 2
    assert [d["raw"]["Decision"] for d in notes["dropped"]] == [
        ["EXCLUDE on population"], ["INCLUDE on title & abstract"]]


def test_cli_import_summary_says_how_many_empty_rows_were_not_imported(tmp_path):
    from evidence_synth.cli import cli

    path = _write(tmp_path, "Screening export,,,,\n" + EMPTY_ROWS.replace("Title", "Name"),
                  "export.csv")
    store = str(tmp_path / "r.db")
    runner = CliRunner()
    assert runner.invoke(cli, ["init", store]).exit_code == 0
    result = runner.invoke(cli, ["import", store, str(path), "--database", "EPPI",
                                 "--format", "csv", "--column", "title=Name",
                                 "--header-row", "2"])
    assert result.exit_code == 0, result.output
    assert ("2 records imported as source eppi-1 (csv, header in row 2); 2 empty records (no "
            "title, abstract, DOI, authors or PMID) not imported") in result.output
    bad = runner.invoke(cli, ["import", store, str(path), "--database", "X", "--column", "title"])
    assert bad.exit_code != 0 and "expected FIELD=COLUMN" in bad.output


def test_shared_migration_screening_exports():
    """The MHPSS ground truth's label-only rows and the MHAA sheet's banner row."""
    csv_path = MIGRATION / "mhpss_ta_screening_groundtruth__mhaa_screening.csv"
    xlsx_path = MIGRATION / "mhaa_ta_screening_ground_truth__mhaa_screening.xlsx"
    if not (csv_path.exists() and xlsx_path.exists()):
        pytest.skip("../shared/data/migration not present")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mhpss = read_records(csv_path)
    assert (len(mhpss), mhpss.attrs["dropped_empty"]) == (510, 512)
    assert any("512 record(s)" in str(w.message) for w in caught)
    assert {d["raw"]["TAS Human Coding"][0] for d in mhpss.attrs["dropped"]} >= {
        "EXCLUDE on population", "INCLUDE on title & abstract"}
    mhaa = read_records(xlsx_path)
    assert (len(mhaa), mhaa.attrs["header_row"], mhaa.attrs["dropped_empty"]) == (462, 2, 0)
    assert mhaa["title"].notna().all() and list(mhaa["raw"].iloc[0])[:4] == [
        "T1", "A1", "PY", "AB"]
