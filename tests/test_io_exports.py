"""Every real export in ../shared/data/exports: record count and first/last record fields."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

from evidence_synth.columns import validate_records
from evidence_synth.io import read_records

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EXPORTS = SHARED / "exports"


def _readme_counts() -> dict[str, int]:
    readme = EXPORTS / "README.md"
    if not readme.exists():
        return {}
    text = readme.read_text(encoding="utf-8")
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"^\| `([^`]+)` \|.*\| (\d+) \|$", text, re.MULTILINE)}


COUNTS = _readme_counts()
_CACHE: dict[str, object] = {}


def _read(name: str):
    if not (EXPORTS / name).exists():
        pytest.skip("../shared/data not present")
    if name not in _CACHE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE[name] = read_records(EXPORTS / name)
    return _CACHE[name]


def test_readme_table_lists_every_file():
    if not EXPORTS.exists():
        pytest.skip("../shared/data not present")
    files = {p.name for p in EXPORTS.iterdir() if p.name != "README.md"}
    assert files == set(COUNTS)
    assert len(COUNTS) == 39


@pytest.mark.parametrize("name", sorted(COUNTS) or ["missing"])
def test_record_count_matches_readme(name):
    df = _read(name)
    assert len(df) == COUNTS[name]
    validate_records(df)
    assert list(df["source_row"]) == list(range(1, len(df) + 1))
    assert df["record_id"].iloc[0] == f"{Path(name).stem}:1"
    assert all(isinstance(raw, dict) and raw for raw in df["raw"])


EXPECTED_FORMAT = {
    "pubmed-medline__revtools.nbib": "medline",
    "pubmed-medline__synthesisr.txt": "medline",
    "eric-nbib__colrev.nbib": "medline",
    "wos-plaintext__revtools.ciw": "wos",
    "zoological-record-wos-plaintext__synthesisr.txt": "wos",
    "wos-plaintext-misnamed__rispy.ris": "wos",
    "wos-tab-delimited-utf8__readwosR.txt": "wos_tab",
    "scopus-csv__bibliometrix.csv": "csv",
    "embase-csv__asreview.csv": "csv",
    "endnote-xml__jabref.xml": "endnote_xml",
    "endnote-xml__zotero-enxml-test0.xml": "endnote_xml",
    "ovid-tagged-biosis__zotero-ovid-test0.txt": "ovid",
}


@pytest.mark.parametrize("name", sorted(COUNTS) or ["missing"])
def test_format_is_sniffed_from_content(name):
    assert _read(name).attrs["format"] == EXPECTED_FORMAT.get(name, "ris")


# (title prefix, first author, year, "doi" or "journal", value) of the first and last record
PINS = {
    'cochrane-central-via-endnote__cff.ris': [
        (
            'The Incredible Years Therapeutic Dinosau',
            'Bywater, T',
            2011,
            'doi',
            '10.1186/1745-6215-12-39',
        ),
        (
            'The Incredible Years Parenting and Child',
            'Arruabarrena, I',
            2022,
            'doi',
            '10.5093/pi2022a2',
        ),
    ],
    'covidence-endnote-format__cff.ris': [
        (
            'Cellular structure of dinosaur scales re',
            'Yang, Z.',
            2024,
            'doi',
            '10.1038/s41467-024-48400-3',
        ),
        (
            'Digestibility of dinosaur food plants re',
            'Howell, M.M.',
            2023,
            'doi',
            '10.1371/journal.pone.0291058',
        ),
    ],
    'dimensions__citesource.ris': [
        (
            'The long-term impact of bushfires on the',
            'Zhang, Yanqin',
            2022,
            'doi',
            '10.1080/20008198.2022.2087980',
        ),
        (
            'International Entrepreneurship and the I',
            'Correia, Adriana Mirely Silva Spindola',
            2021,
            'doi',
            '10.18226/21789061.v13i4p09',
        ),
    ],
    'ebsco-academic-search-premier__synthesisr.ris': [
        (
            '“Living on the edge”: The role of field ',
            'Rodríguez-Pastor, Ruth',
            2016,
            'journal',
            'Agriculture, Ecosystems & Environment',
        ),
        (
            '2ZGK-6 型可调宽窄行高速水稻插秧机设计与试验.',
            '朱德泉',
            2016,
            'journal',
            'Transactions of the Chinese Society of Agricultural Engineering',
        ),
    ],
    'ebsco-environment-index__citesource.ris': [
        (
            'Global plant responses to intensified fi',
            'Grau‐Andrés, Roger',
            2024,
            'doi',
            '10.1111/geb.13858',
        ),
        (
            'Association between PM10 from vegetation',
            'Uttajug, Athicha',
            2021,
            'doi',
            '10.1016/j.scitotenv.2020.142923',
        ),
    ],
    'ebsco-psycinfo__citesource.ris': [
        (
            'The different role of trait empathy and ',
            'Lyu, Dong',
            2022,
            'doi',
            '10.1016/j.neuropsychologia.2022.108369',
        ),
        (
            'Psychological addiction to television: S',
            'Horvath, Cary L.',
            2000,
            'journal',
            'Dissertation Abstracts International Section A: Humanities and Social Sciences',
        ),
    ],
    'embase-csv__asreview.csv': [
        (
            'Duplication cysts: Diagnosis, management',
            'Liu, R.',
            2014,
            'doi',
            '10.4103/2303-9027.138783',
        ),
        (
            'Completely Isolated Retroperitoneal Ente',
            'Faraj, K.',
            2017,
            'doi',
            '10.1089/cren.2017.0016',
        ),
    ],
    'embase__asreview.ris': [
        (
            'Duplication cysts: Diagnosis, management',
            'Liu, R.',
            2014,
            'doi',
            '10.4103/2303-9027.138783',
        ),
        (
            'Completely Isolated Retroperitoneal Ente',
            'Faraj, K.',
            2017,
            'doi',
            '10.1089/cren.2017.0016',
        ),
    ],
    'endnote-export__asysd.txt': [
        (
            'Altered metabolism of familial Alzheimer',
            # the file lists all authors in one AU value; kept as written
            'Wagner, Lamb B. T. Call L. M. Slunt H. H. Bardel K. A. Lawler A. M. '
            'Eckman C. B. Younkin S. G. Holtz G.',
            1997,
            'doi',
            '10.1093/hmg/6.9.1535',
        ),
        (
            'The amyloid precursor protein: beyond am',
            'Zheng, Hui',
            2006,
            'doi',
            '10.1186/1750-1326-1-5',
        ),
    ],
    'endnote-single-space-separator__zotero-ris-test3.ris': [
        (
            'Rapid identification of thousands of cop',
            'CASTOE, TODD A.',
            2009,
            'doi',
            '10.1111/j.1755-0998.2009.02750.x',
        ),
        (
            'Rapid identification of thousands of cop',
            'CASTOE, TODD A.',
            2009,
            'doi',
            '10.1111/j.1755-0998.2009.02750.x',
        ),
    ],
    'endnote-xml__jabref.xml': [
        ('An ecological basis for reforestation of', 'Chapman, A. G.', 1937, 'journal', 'Ecology'),
        (
            'A demographic study of the south polar s',
            'Ainley, D.G.',
            1990,
            'journal',
            'Journal of Animal Ecology',
        ),
    ],
    'endnote-xml__zotero-enxml-test0.xml': [
        ('Country Clustering in Comparative Politi', 'Ahlquist, John S', 2009, 'journal', None),
        ('CSL search by example', None, None, 'journal', 'Citation Style Editor'),
    ],
    'eric-nbib__colrev.nbib': [
        ('Paper title', 'Smith, Tom', 2000, 'doi', '10.1000/123456789'),
        ('Paper title', 'Smith, Tom', 2000, 'doi', '10.1000/123456789'),
    ],
    'ieee-xplore__litstudy.ris': [
        (
            'The European Approach to the Exascale Ch',
            'Kalbe, G.',
            2019,
            'doi',
            '10.1109/mcse.2018.2884139',
        ),
        (
            'Trends in High Performance Computing: Ex',
            'Parnell, L. A.',
            2019,
            'doi',
            '10.1109/itherm.2019.8757229',
        ),
    ],
    'jstor__colrev.ris': [
        (
            'This is the title - charset UTF-8 used',
            'Lastname, Firstname',
            2016,
            'journal',
            'Random Technology',
        ),
        ('This title is of type RPRT', 'Writer-One, Stefan', 2018, 'journal', None),
    ],
    'lens__citesource.ris': [
        (
            'Benchmarking gambling screens to health-',
            'Browne, Matthew',
            2021,
            'doi',
            '10.31234/osf.io/fu4mj',
        ),
        (
            'Social Costs of Gambling Harm in Italy',
            'Lucchini, Fabio',
            2022,
            'doi',
            '10.29173/cgs50',
        ),
    ],
    'mendeley__cff.ris': [
        (
            'Description of a new specimen of Haploca',
            'Boisvert, C',
            2024,
            'doi',
            '10.1002/ar.25520',
        ),
        (
            'Erratum: Author Correction: A remarkable',
            'Troiano, L P',
            2024,
            'doi',
            '10.1038/s41598-024-65283-y',
        ),
    ],
    'openalex__cff.ris': [
        (
            'A bioprovince for the Barremian–Aptian c',
            'Vicente, Alba',
            2024,
            'doi',
            '10.1016/j.cretres.2023.105752',
        ),
        (
            'Stratigraphy and depositional history of',
            'Lehman, Thomas',
            2024,
            'doi',
            '10.1130/ges02662.1',
        ),
    ],
    'ovid-psycinfo__asreview.ris': [
        (
            'The influence of self-criticism on depre',
            'Trindade, Ines A',
            2019,
            'doi',
            '10.1002/cpp.2398',
        ),
        (
            'Psychological outcomes of a cognitive be',
            'Stapersma, Luuk',
            2019,
            'doi',
            '10.1007/s10880-019-09649-9',
        ),
    ],
    'ovid-tagged-biosis__zotero-ovid-test0.txt': [
        (
            'Dietary supplements containing ultradens',
            'Walsdorf, Neill B.',
            2004,
            'journal',
            'Official Gazette of the United States Patent & Trademark Office Patents',
        ),
        ('Peak Erazor: A Windows-based program for', 'Hjerno, Karin', 2004, 'journal', None),
    ],
    'proquest__asreview.ris': [
        (
            'Predictors of posttraumatic stress sympt',
            'Jones, Hannah',
            2019,
            'doi',
            '10.1002/jts.22387',
        ),
        (
            'Bayesian PTSD-trajectory analysis with i',
            'van de Schoot, Rens',
            2018,
            'doi',
            '10.1080/00273171.2017.1412293',
        ),
    ],
    'pubmed-medline__revtools.nbib': [
        (
            'Ecosystem services changes between 2000 ',
            'Wu, Dan',
            2019,
            'doi',
            '10.1371/journal.pone.0209483',
        ),
        (
            'LONG-TERM FOLLOW-UP OF RETINAL PIGMENT E',
            'Zahid, Sarwar',
            2019,
            'doi',
            '10.1097/icb.0000000000000530',
        ),
    ],
    'pubmed-medline__synthesisr.txt': [
        (
            'Differences in nitrate and phosphorus ex',
            'Neilen, Amanda D',
            2017,
            'doi',
            '10.1016/j.scitotenv.2017.04.075',
        ),
        (
            'Mulch and groundcover effects on soil te',
            'Bavougian, Christina M',
            2018,
            'doi',
            '10.7717/peerj.5082',
        ),
    ],
    'pubmed-via-endnote__asreview.txt': [
        (
            'Boswellia serrata: an overall assessment',
            'Abdel-Tawab, M.',
            2011,
            'doi',
            '10.2165/11586800-000000000-00000',
        ),
        (
            'Indigo Naturalis Ameliorates Oxazolone-I',
            'Adachi, S.',
            2017,
            'doi',
            '10.1159/000471923',
        ),
    ],
    'pubmed-via-zotero__asreview.ris': [
        (
            'The importance of cognitive flexibility ',
            'Rudnik, Agata',
            2019,
            'doi',
            '10.5114/pg.2018.81081',
        ),
        (
            'Efficacy and safety of Tripterygium wilf',
            'Zhang, Jianying',
            2019,
            'doi',
            '10.1097/md.0000000000016231',
        ),
    ],
    'rayyan__asreview-issue992.txt': [
        (
            'Overcoming Medication Reconciliation Cha',
            None,
            2011,
            'journal',
            'Joint Commission Perspectives on Patient Safety',
        ),
        (
            'Behavioral health care quality among mar',
            'Abraham, J. M.',
            2021,
            'doi',
            '10.1176/appi.ps.202000115',
        ),
    ],
    'reference-manager-url-continuations__synthesisr.ris': [
        (
            'Effects of artificial light on bird move',
            'Adams, Carrie Ann',
            2021,
            'doi',
            '10.1186/s13750-021-00246-8',
        ),
        (
            'Systematic map of conservation psycholog',
            'Wallen, Kenneth E.',
            2020,
            'doi',
            '10.1111/cobi.13623',
        ),
    ],
    'refworks__cff.ris': [
        (
            'Description of a new specimen of Haploca',
            'Boisvert, C.',
            2024,
            'doi',
            '10.1002/ar.25520',
        ),
        (
            'Cellular structure of dinosaur scales re',
            'Yang, Z.',
            2024,
            'doi',
            '10.1038/s41467-024-48400-3',
        ),
    ],
    'scopus-csv__bibliometrix.csv': [
        (
            'Quantitative analysis of studies that us',
            'Liu, Fengyuan',
            2026,
            'doi',
            '10.1177/20552076261415846',
        ),
        (
            'Evidences and perspectives of transjugul',
            'Li, Kejia',
            2025,
            'doi',
            '10.1097/md.0000000000046229',
        ),
    ],
    'scopus-via-citavi__asreview-issue1099.txt': [
        (
            'Design and prototyping of directly drive',
            'Vaimann, T.',
            2018,
            'doi',
            '10.15598/aeee.v16i3.2698',
        ),
        (
            'Influence of the motor load inertia and ',
            'Viola, J.',
            2005,
            'doi',
            '10.1109/tla.2005.1642429',
        ),
    ],
    'scopus-with-references__asreview.ris': [
        (
            'Stress and the brain-gut axis in functio',
            'Labanski, A.',
            2020,
            'doi',
            '10.1016/j.psyneuen.2019.104501',
        ),
        (
            'Role of brain imaging in disorders of br',
            'Mayer, E.A.',
            2019,
            'doi',
            '10.1136/gutjnl-2019-318308',
        ),
    ],
    'scopus__revtools.ris': [
        (
            'LONG-TERM FOLLOW-UP OF RETINAL PIGMENT E',
            'Zahid, S.',
            2019,
            'doi',
            '10.1097/icb.0000000000000530',
        ),
        (
            'Digital image restoration using NL means',
            'Lad, B.V.',
            2019,
            'doi',
            '10.1007/978-3-030-00665-5_75',
        ),
    ],
    'trid__colrev.ris': [
        ('Title of this citation', None, 2017, 'journal', None),
        ('Title of this citation', 'Author-One, A', 2019, 'journal', None),
    ],
    'wos-plaintext-misnamed__rispy.ris': [
        (
            'Interactions stabilizing the structure o',
            'Parkes-Loach, PS',
            2004,
            'doi',
            '10.1021/bi049798f',
        ),
        ('Proximal and distal influences on ligand', 'Cao, WX', 2004, 'doi', '10.1021/bi0497291'),
    ],
    'wos-plaintext__revtools.ciw': [
        (
            'Do magnetic phosphorus adsorbents used f',
            'Alvarez-Manzaneda, I.',
            2019,
            'doi',
            '10.1016/j.scitotenv.2018.11.375',
        ),
        (
            'SAR IMAGE RESTORATION VIA A NL APPROACH ',
            'Ferraioli, Giampaolo',
            2018,
            'journal',
            'IGARSS 2018 - 2018 IEEE INTERNATIONAL GEOSCIENCE AND REMOTE SENSING SYMPOSIUM',
        ),
    ],
    'wos-ris-bom__citesource.ris': [
        (
            'Forest fire induced Natech risk assessme',
            'Naderpour, M',
            2019,
            'doi',
            '10.1016/j.ress.2019.106558',
        ),
        (
            'Long-term mortality burden trends attrib',
            'Wei, J',
            2023,
            'doi',
            '10.1016/s2542-5196(23)00235-8',
        ),
    ],
    'wos-ris__asreview.txt': [
        (
            'Holding Yourself Captive: Perceptions of',
            'Alceste, F',
            2018,
            'doi',
            '10.1016/j.jarmac.2018.03.001',
        ),
        (
            'On the power of secondary confession evi',
            'Wetmore, SA',
            2014,
            'doi',
            '10.1080/1068316x.2013.777963',
        ),
    ],
    'wos-tab-delimited-utf8__readwosR.txt': [
        (
            'Effect of Side-Chain Structure on the Ox',
            'Demian, Florin Daniel',
            2015,
            'doi',
            '10.1080/00986445.2013.826209',
        ),
        (
            'Comparative secretome analysis of Strept',
            'Komeil, Doaa',
            2014,
            'doi',
            '10.1186/1477-5956-12-35',
        ),
    ],
    'zoological-record-wos-plaintext__synthesisr.txt': [
        (
            'Nest site selection and nest survival of',
            'Stillman, Andrew N.',
            2019,
            'journal',
            'Condor',
        ),
        ('A review of the Three-toed Woodpeckers o', 'Bangs, O.', 1900, 'journal', 'Auk'),
    ],
}


@pytest.mark.parametrize("name", sorted(PINS))
def test_first_and_last_record_fields(name):
    df = _read(name)
    for row, (title, author, year, key, value) in zip((0, len(df) - 1), PINS[name], strict=True):
        record = df.iloc[row]
        assert str(record["title"]).startswith(title)
        assert (record["authors"][0] if record["authors"] else None) == author
        assert (None if record["year"] is None or str(record["year"]) == "<NA>"
                else int(record["year"])) == year
        got = record[key]
        assert (None if str(got) == "<NA>" else got) == value


def test_pins_cover_every_file():
    if not COUNTS:
        pytest.skip("../shared/data not present (the file list comes from its README)")
    assert set(PINS) == set(COUNTS)


@pytest.mark.parametrize("name", [
    "ebsco-academic-search-premier__synthesisr.ris",
    "dimensions__citesource.ris",
    "ovid-psycinfo__asreview.ris",
    "pubmed-medline__synthesisr.txt",
    "scopus-csv__bibliometrix.csv",
    "endnote-xml__jabref.xml",
])
def test_fast_frame_equals_records_from_dicts(name, monkeypatch):
    import pandas as pd

    from evidence_synth.columns import records_from_dicts
    from evidence_synth.io import readers

    fast = _read(name)
    monkeypatch.setattr(readers, "contract_frame", records_from_dicts)
    monkeypatch.setattr(readers, "_columns_fast_frame", lambda *args: None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = readers.read_records(EXPORTS / name)
    pd.testing.assert_frame_equal(fast, reference)
