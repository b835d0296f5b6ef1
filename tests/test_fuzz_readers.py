"""Fuzzing the readers: mutated exports, maps and protocols raise only the library's error.

Small valid seeds (generated here: RIS, MEDLINE, Web of Science, Ovid, ProQuest, CSV,
TSV, EndNote XML, EPPI-Reviewer / EPPI-Mapper / DEP maps, YAML protocols) are mutated
with hypothesis (byte flips, truncation, NULs, random bytes, repeated or deleted slices,
deep nesting) and read with ``read_records`` (sniffed or with a forced format),
``read_egm`` and ``load_protocol``. Whatever the bytes, a reader either succeeds or raises
an :class:`~evidence_synth.errors.EvidenceSynthError` (never ``TypeError``,
``RecursionError``, ``MemoryError``, ...), each case within a CPU-time bound.

The examples are derandomised so the default run is reproducible; set
``EVIDENCE_SYNTH_FUZZ_EXAMPLES`` (examples per test) and ``EVIDENCE_SYNTH_FUZZ_RANDOM=1``
to explore further.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import time
import warnings
from importlib import resources
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evidence_synth.errors import EvidenceSynthError
from evidence_synth.io import list_formats, read_egm, read_records, read_records_csv, write_records
from evidence_synth.protocol import load_protocol

EXAMPLES = int(os.environ.get("EVIDENCE_SYNTH_FUZZ_EXAMPLES", "0")) or None
RANDOM = os.environ.get("EVIDENCE_SYNTH_FUZZ_RANDOM") == "1"
#: CPU seconds one case may take (a small seed takes milliseconds).
CASE_SECONDS = 3.0


def _settings(examples: int) -> settings:
    return settings(max_examples=EXAMPLES or examples, deadline=None, database=None,
                    derandomize=not RANDOM, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


RIS = "\n".join([
    "TY  - JOUR", "AU  - Doe, Jane", "AU  - Roe, R.", "TI  - Cash transfers and migration",
    "T2  - Journal of Migration", "PY  - 2020", "VL  - 12", "IS  - 3", "SP  - 45", "EP  - 67",
    "DO  - 10.1000/xyz1", "AB  - An abstract", "  that continues.", "KW  - migration",
    "ER  - ", "", "TY  - BOOK", "TI  - Borders", "PY  - 2018///", "SN  - 978-3-16-148410-0",
    "ER  - ", ""])
MEDLINE = """PMID- 12345
OWN - NLM
TI  - A title that
      continues
FAU - Doe, Jane
AU  - Doe J
DP  - 2019 Jan
AID - 10.1/abc [doi]
IS  - 1234-5678 (Print)
AB  - Abstract.

PMID- 12346
TI  - Second
AU  - Roe R
DP  - 2021
"""
WOS = """FN Clarivate Analytics Web of Science
VR 1.0
PT J
AU Doe, J
AF Doe, Jane
TI A title
   continued
SO JOURNAL OF MIGRATION
PY 2020
DI 10.1/x
UT WOS:000123
ER

PT B
TI Second
PY 2019
ER

EF
"""
OVID = """<1. >
VN  - Ovid Technologies
DB  - Embase
TI  - A title
AU  - Doe J. [Univ]
YR  - 2020
SO  - Journal of Things. 12(3):45-67, 2020.
DO  - 10.1/ovid

<2. >
TI  - Second
AU  - Roe R.
"""
PROQUEST = """Document 1 of 2

Title: A title
Author: Doe, Jane
Publication year: 2020
Abstract: An abstract.
DOI: 10.1/pq
____________________________________________________________

Document 2 of 2

Title: Second
Publication year: 2019
"""
CSV = ('Authors,Author full names,Title,Year,Source title,DOI,EID\n'
       '"Doe J.; Roe R.","Doe, Jane (1); Roe, R (2)",A title,2020,J Mig,10.1/x,2-s2.0-1\n'
       'Smith A.,"Smith, A (3)","Another, with ""quotes""",2019,J Mig,,2-s2.0-2\n')
TSV = "Title\tAuthors\tYear\tDOI\nA title\tDoe, J\t2020\t10.1/t\nSecond\tRoe, R\t2019\t\n"
EMBASE = """Title,Author Names,Emtree Drug Index Terms,Source,Publication Year
A title,"Doe J. (Univ, Dept), Roe R.",x,"Journal (2020) 12:3 (45-67)",2020
"""
ENDNOTE = """<?xml version="1.0" encoding="UTF-8"?><xml><records><record>
<ref-type name="Journal Article">17</ref-type><contributors><authors><author><style>Doe, J
</style></author></authors></contributors><titles><title><style>A title</style></title>
<secondary-title>J Mig</secondary-title></titles><dates><year>2020</year></dates>
<electronic-resource-num>10.1/e</electronic-resource-num></record></records></xml>
"""
EXPORTS = {"ris": RIS, "medline": MEDLINE, "wos": WOS, "ovid": OVID, "proquest": PROQUEST,
           "csv": CSV, "tsv": TSV, "embase": EMBASE, "endnote": ENDNOTE}

EPPI_REPORT = {
    "CodeSets": [{"SetId": 1, "SetName": "Set", "Attributes": {"AttributesList": [
        {"AttributeId": 2, "AttributeName": "Cash", "Attributes": {"AttributesList": [
            {"AttributeId": 3, "AttributeName": "Conditional"}]}}]}}],
    "References": [{"ItemId": 10, "Title": "A title", "Authors": "Doe J; Roe R;",
                    "Year": "2020", "ParentTitle": "J Mig", "DOI": "10.1/r",
                    "Codes": [{"AttributeId": 2, "AdditionalText": "x"}, {"AttributeId": 3}],
                    "Outcomes": [{"OutcomeId": 1, "OutcomeTypeId": 1, "Data1": 10, "Data2": 12,
                                  "Data3": 1.5, "Data4": 1.2, "Data5": 30, "Data6": 31,
                                  "OutcomeCodes": {"AttributesList": [{"AttributeId": 2}]}}]}]}
MAPPER = {
    "csvData": {"rows": [[{"id": 5, "title": "Outcomes", "isColumn": True, "span": 2}],
                         [{"id": 6, "title": "Income", "isColumn": True},
                          {"id": 7, "title": "Health", "isColumn": True}],
                         [{"id": 1, "title": "Cash"}]]},
    "referenceData": [{"ItemId": 1, "Title": "T", "Codes": [{"AttributeId": 1},
                                                            {"AttributeId": 6}]}],
    "filters": [{"id": 9, "label": "Region", "children": [{"id": 10, "label": "Africa"}]}],
    "segmentAttributes": [{"attribute": {"AttributeId": 11, "AttributeName": "Design"}}],
    "title": "A map"}
DEP = {
    "interventions": [{"id": 1, "title": "Cash", "sub_levels": [{"id": 3, "title": "CCT"}]}],
    "outcomes": [{"id": 2, "title": "Income"}],
    "project_records": [{"id": 7, "title": "A title", "authors": [{"name": "Doe, J"}],
                         "year": 2020, "doi": "10.1/d"}],
    "interventions_outcomes": [{"intervention_id": 1, "outcome_id": 2,
                                "bubbles": [{"records": [{"id": 7}]}]}]}
MAPS = {
    "eppi_report": json.dumps(EPPI_REPORT),
    "mapper_json": json.dumps(MAPPER, indent=1),
    "dep_json": json.dumps(DEP),
    "mapper_html": ("<html><head><script>\nconst title = 'x';\nconst csvData = "
                    f"{json.dumps(MAPPER['csvData'])};\nconst referenceData = "
                    f"{json.dumps(MAPPER['referenceData'])};\nconst filters = undefined;\n"
                    "</script></head></html>\n"),
    "dep_csv": ("id,title,authors,intervention,outcome\n1,A title,Doe J,Cash | Loans,Income\n"
                "1,A title,Doe J,Cash,Health\n2,Second,Roe R,Loans,Income\n"),
}

_PROTOCOL = (resources.files("evidence_synth") / "reviews" / "irregular-migration-egm-update"
             / "protocols" / "irregular-migration-egm-update.yaml")
SMALL_YAML = """schema_version: 1
review_id: &id fuzz-review
title: A review
base: &base {a: 1, b: [x, y, "z"]}
copy: *base
merged: {<<: *base, c: 3}
dates: [2020-01-01, 2021-02-03T04:05:06Z]
ids: [*id, *id]
"""


def _protocol_seeds() -> dict[str, str]:
    seeds = {"small": SMALL_YAML}
    if _PROTOCOL.is_file():
        seeds["migration_protocol"] = _PROTOCOL.read_text(encoding="utf-8")
    return seeds


PROTOCOLS = _protocol_seeds()

_NESTINGS = (b"[", b"{\"a\":", b"<a>", b"- ", b"  - [", b"&x [*x, ")


@st.composite
def mutated(draw: st.DrawFn, seeds: dict[str, str]) -> tuple[str, bytes]:
    """A seed's bytes after up to four mutations."""
    name = draw(st.sampled_from(sorted(seeds)))
    data = bytearray(seeds[name].encode("utf-8"))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(("flip", "truncate", "nul", "insert", "delete", "repeat",
                                   "nest", "line")))
        at = draw(st.integers(0, max(len(data), 1))) % (len(data) + 1)
        if op == "flip" and data:
            at %= len(data)
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "nul":
            data[at:at] = b"\x00" * draw(st.sampled_from((1, 3, 64, 9000)))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 200))]
        elif op == "repeat":
            piece = bytes(data[at:at + draw(st.integers(1, 80))])
            data[at:at] = piece * draw(st.sampled_from((2, 50, 2000)))
        elif op == "nest":
            depth = draw(st.sampled_from((3, 150, 250, 5000, 100_000)))
            token = draw(st.sampled_from(_NESTINGS))
            data[at:at] = token * depth
        elif op == "line":
            line = draw(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
            data[at:at] = (line + "\n").encode("utf-8", "surrogatepass")
    return name, bytes(data)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["", " | ", "2020", "10.1/x", "[]", "{}"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=3),
    max_leaves=6)


def _paths(value: object, at: tuple = ()) -> list[tuple]:
    out = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*at, index))
    return out


@st.composite
def retyped(draw: st.DrawFn, docs: dict[str, object]) -> tuple[str, object]:
    """A document with up to three values (anywhere in it) replaced by any JSON value."""
    name = draw(st.sampled_from(sorted(docs)))
    doc = copy.deepcopy(docs[name])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        value = draw(JSON_VALUES)
        if not path:
            doc = value
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        parent[path[-1]] = value
    return name, doc


def _only_library_errors(read, data: bytes, suffix: str) -> None:
    """``read(path)`` succeeds or raises an EvidenceSynthError, within CASE_SECONDS."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"case{suffix}"
        path.write_bytes(data)
        start = time.process_time()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read(path)
        except EvidenceSynthError:
            pass
        used = time.process_time() - start
    assert used < CASE_SECONDS, f"one case took {used:.1f} s of CPU"


FORMAT_NAMES = [None, *list_formats()["format"]]


@_settings(400)
@given(case=mutated(EXPORTS), format=st.sampled_from(FORMAT_NAMES),
       suffix=st.sampled_from((".txt", ".ris", ".csv", ".xml")))
def test_read_records_raises_only_library_errors(case, format, suffix):
    _, data = case
    _only_library_errors(lambda p: read_records(p, format=format), data, suffix)


@_settings(100)
@given(data=st.binary(max_size=3000), format=st.sampled_from(FORMAT_NAMES))
def test_read_records_on_arbitrary_bytes(data, format):
    _only_library_errors(lambda p: read_records(p, format=format), data, ".dat")


@_settings(250)
@given(case=mutated(MAPS))
def test_read_egm_raises_only_library_errors(case):
    name, data = case
    suffix = {"mapper_html": ".html", "dep_csv": ".csv"}.get(name, ".json")
    _only_library_errors(read_egm, data, suffix)


@_settings(250)
@given(case=retyped({"eppi_report": EPPI_REPORT, "mapper": MAPPER, "dep": DEP}),
       html=st.booleans())
def test_read_egm_on_values_of_any_type(case, html):
    name, doc = case
    if html and name == "mapper" and isinstance(doc, dict):
        consts = "".join(f"const {key} = {json.dumps(value)};\n" for key, value in doc.items())
        _only_library_errors(read_egm, f"<html><script>\n{consts}</script>".encode(), ".html")
    else:
        _only_library_errors(read_egm, json.dumps(doc).encode(), ".json")


@_settings(80)
@given(case=retyped({name: yaml.safe_load(text) for name, text in PROTOCOLS.items()}))
def test_load_protocol_on_values_of_any_type(case):
    _, doc = case
    _only_library_errors(load_protocol, yaml.safe_dump(doc, allow_unicode=True).encode(),
                         ".yaml")


@_settings(150)
@given(case=mutated(PROTOCOLS))
def test_load_protocol_raises_only_library_errors(case):
    _, data = case
    _only_library_errors(load_protocol, data, ".yaml")


def _records_csv() -> str:
    """The library's own records CSV (``write_records``) of the RIS seed."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "seed.ris"
        source.write_text(RIS, encoding="utf-8")
        target = Path(folder) / "seed.csv"
        write_records(read_records(source), target)
        return target.read_text(encoding="utf-8")


@_settings(150)
@given(case=mutated({"records_csv": _records_csv()}))
def test_read_records_csv_raises_only_library_errors(case):
    _, data = case
    _only_library_errors(read_records_csv, data, ".csv")


@pytest.mark.parametrize("name", sorted(EXPORTS))
def test_every_export_seed_is_read(name):
    """The seeds are valid exports, so the mutations start from files that read."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"seed-{name}.txt"
        path.write_text(EXPORTS[name], encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert len(read_records(path)) >= 1


@pytest.mark.parametrize("name", sorted(MAPS))
def test_every_map_seed_is_read(name):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"seed-{name}.{'csv' if name == 'dep_csv' else 'json'}"
        path.write_text(MAPS[name], encoding="utf-8")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = read_egm(path)
    assert len(found.records) >= 1 and len(found.framework) >= 1
