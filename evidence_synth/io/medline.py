"""MEDLINE/PubMed (``.nbib``) tagged format: 4-character tags, 6-space continuations.

Records are blocks separated by blank lines; a block starts with ``PMID-`` (or, as in
ERIC exports, any tag). The last record needs no trailing blank line. Tag lines indented
by one to three spaces or tabs are still tag lines (continuations are indented by six).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ParseError
from . import _fields as f
from ._parsed import Parsed
from ._registry import ImportFormat
from .sniff import Sample

_TAG = re.compile(r"([A-Z][A-Z0-9]{1,3}) *- ?(.*)")
_INDENTED_TAG = re.compile(r"[ \t]{1,3}([A-Z][A-Z0-9]{1,3}) {0,3}- (.*)")


def parse(lines: list[str], *, path: Any = None) -> Parsed:
    """Split MEDLINE lines into raw records.

    Raises
    ------
    ParseError
        When no tagged line is found.
    """
    out = Parsed()
    match = _TAG.match
    raw: dict[str, list[str]] | None = None
    current: list[str] = []
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            if raw is not None:
                out.records.append(raw)
                raw = None
            continue
        m = None
        if line[0] in " \t":
            m = _INDENTED_TAG.match(line)
            if m is None and raw is not None:
                current[-1] = f"{current[-1]}\n{line.strip()}"
                continue
        m = m or match(line)
        if m is None:
            if raw is None:
                out.skipped.append((lineno, line))
            else:
                current[-1] = f"{current[-1]}\n{line.strip()}"
            continue
        tag, value = m.groups()
        if tag == "PMID" and raw is not None and "PMID" in raw:
            out.records.append(raw)
            raw = None
        if raw is None:
            raw = {}
            out.lines.append(lineno)
        current = raw.get(tag)
        if current is None:
            current = raw[tag] = []
        current.append(value.strip())
    if raw is not None:
        out.records.append(raw)
    _refuse_ris(out, path)
    if not out.records:
        raise ParseError(
            "expected MEDLINE records (lines like 'PMID- 12345' or 'TI  - ...'), found none",
            path=path,
            line=1,
        )
    return out


def _doi_marked(value: str) -> str | None:
    """The text before a final ``[doi]`` mark on one line, else ``None`` (string methods,
    not a regex: linear on any value)."""
    text = value.rstrip()
    if text[-5:].lower() != "[doi]":
        return None
    head = text[:-5].rstrip()
    return None if "\n" in head else head


def _doi(raw: dict[str, list[str]]) -> str | None:
    for tag in ("AID", "LID"):
        for value in raw.get(tag, ()):
            marked = _doi_marked(value)
            if marked is not None:
                return f.find_doi(marked) or marked.strip().lower()
    return f.doi_from(raw, ("AID", "LID"), ())


def _issn(raw: dict[str, list[str]]) -> str | None:
    seen: list[str] = []
    for value in f.values(raw, ("IS", "ISSN")):
        number = value.split(" ")[0]
        number = number.removeprefix("ISSN-")
        if number not in seen:
            seen.append(number)
    return "; ".join(seen) or None


def to_record(raw: dict[str, list[str]]) -> dict[str, Any]:
    """Contract fields of one MEDLINE record."""
    authors = f.values(raw, ("FAU",)) or f.values(raw, ("AU",))
    return {
        "title": f.one_line(f.first(raw, ("TI", "BTI"))),
        "abstract": f.one_line(f.first(raw, ("AB",))),
        "journal": f.one_line(f.first(raw, ("JT", "TA"))),
        "authors": f.people(authors),
        "keywords": [f.one_line(v) for v in f.values(raw, ("OT", "MH"))],
        "year": f.year_from(raw, ("DP", "DEP", "SO")),
        "volume": f.one_line(f.first(raw, ("VI",))),
        "issue": f.one_line(f.first(raw, ("IP",))),
        "pages": f.pages(f.first(raw, ("PG",)), None),
        "publisher": f.one_line(f.first(raw, ("PB",))),
        "isbn": f.one_line(f.first(raw, ("ISBN",))),
        "issn": _issn(raw),
        "language": f.one_line(f.first(raw, ("LA",))),
        "pub_type": f.one_line(f.first(raw, ("PT",))),
        "doi": _doi(raw),
        "pmid": f.one_line(f.first(raw, ("PMID",))),
        "accession": f.one_line(f.first(raw, ("PMID", "OID", "AN"))),
    }


def _refuse_ris(out: Parsed, path: Any) -> None:
    """RIS read as MEDLINE (``TY  - `` and ``ER  - `` look like MEDLINE tags) would merge
    every record between blank lines into one: refuse it. MEDLINE has no TY or ER tag."""
    for raw, line in zip(out.records, out.lines, strict=False):
        if "TY" in raw and "ER" in raw:
            raise ParseError(
                "expected MEDLINE records, found RIS tags ('TY  - ' ... 'ER  - '); reading "
                "them as MEDLINE would merge records: use format='ris' (--format ris), or "
                "leave the format out to have it sniffed", path=path, line=line)


_SNIFF_TAG = re.compile(r"^[ \t]{0,3}+(?:PMID|OWN |STAT|FAU |DCOM|TI  |AU  |AB  |JT  )- ",
                        re.MULTILINE)


def sniff(sample: Sample) -> bool:
    """A line starting with one of the common MEDLINE tags (``PMID- ``, ``FAU - `` ...)."""
    return _SNIFF_TAG.search(sample.text) is not None


FORMATS = (
    ImportFormat(
        name="medline", description="MEDLINE/PubMed (nbib)", suffixes=".nbib .txt",
        signature="PMID- / 4-character tags", hint="MEDLINE ('PMID- ')",
        sniff=sniff, priority=70, parse=lambda source: parse(source.lines, path=source.path),
        to_record=to_record,
    ),
)
