"""ProQuest plain-text export: ``Document N of M`` headers and ``Label: value`` fields.

Only known ProQuest labels start a field (so ``Methods: ...`` inside an abstract stays
part of the abstract); other lines continue the previous field. Rules of underscores
between documents are ignored.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ParseError
from . import _fields as f
from ._parsed import Parsed
from ._registry import ImportFormat
from .sniff import Sample

HEADER = re.compile(r"^\s*+Document (\d++) of (\d++)\s*+$")
_FIELD = re.compile(r"^([A-Z][A-Za-z0-9 /().,&'-]{0,60}?):\s?(.*)$")
_RULE = re.compile(r"^_{5,}\s*$")
LABELS = frozenset(
    label.lower()
    for label in (
        "Title", "Author", "Authors", "Editor", "Publication info", "Abstract", "Links",
        "Full text", "Subject", "Subjects", "MeSH subject", "Identifier / keyword",
        "Keywords", "Publication title", "Volume", "Issue", "Pages", "First page",
        "Number of pages", "Publication year", "Publication date", "Year", "Section",
        "Publisher", "Place of publication", "Country of publication",
        "Publication subject", "ISSN", "e-ISSN", "ISBN", "CODEN", "Source type",
        "Language of publication", "Document type", "Publication history",
        "Online publication date", "Document feature", "DOI", "ProQuest document ID",
        "Document URL", "Copyright", "Last updated", "Database", "Accession number",
        "PubMed ID", "Location", "Classification", "Company / organization", "Affiliation",
        "Author e-mail address", "Correspondence author", "Conference title",
        "Update", "Dissertation/thesis number", "Advisor", "University/institution",
        "Degree", "Department", "School code", "Source", "Bibliography", "Notes",
        "Population", "Methodology", "Sponsor", "Grant number", "Age group",
        "Credit", "Supplemental data", "Other title", "Alternate title", "Number of references",
    )
)


def parse(lines: list[str], *, path: Any = None) -> Parsed:
    """Split ProQuest plain-text lines into raw records (label -> list of values)."""
    out = Parsed()
    raw: dict[str, list[str]] | None = None
    current: list[str] | None = None
    for lineno, line in enumerate(lines, 1):
        header = HEADER.match(line)
        if header:
            if raw is not None:
                out.records.append(raw)
            raw = {"Document": [line.strip()]}
            current = None
            out.lines.append(lineno)
            continue
        if _RULE.match(line):
            current = None
            continue
        if raw is None:
            if line.strip():
                out.skipped.append((lineno, line))
            continue
        m = _FIELD.match(line)
        if m and m.group(1).strip().lower() in LABELS:
            label, value = m.group(1).strip(), m.group(2).strip()
            current = raw.setdefault(label, [])
            current.append(value)
        elif current is not None:
            current[-1] = f"{current[-1]}\n{line.strip()}" if current[-1] else line.strip()
        elif line.strip():
            out.skipped.append((lineno, line))
    if raw is not None:
        out.records.append(raw)
    for r in out.records:
        for label in r:
            r[label] = [v.strip("\n") for v in r[label]]
    if not out.records:
        raise ParseError(
            "expected ProQuest documents ('Document 1 of N' lines), found none", path=path, line=1
        )
    return out


def _get(raw: dict[str, list[str]], *labels: str) -> str | None:
    lower = {k.lower(): v for k, v in raw.items()}
    for label in labels:
        for value in lower.get(label.lower(), ()):
            if value.strip():
                return value
    return None


def to_record(raw: dict[str, list[str]]) -> dict[str, Any]:
    """Contract fields of one ProQuest document."""
    authors = [a for v in (_get(raw, "Author", "Authors") or "").split("\n") for a in v.split(";")]
    keywords = [
        k.strip()
        for label in ("Subject", "Subjects", "MeSH subject", "Identifier / keyword", "Keywords")
        for v in [_get(raw, label) or ""]
        for k in re.split(r";|\n", v)
        if k.strip()
    ]
    pages = _get(raw, "Pages")
    if pages is None:
        pages = _get(raw, "First page")
    return {
        "title": f.one_line(_get(raw, "Title")),
        "abstract": (_get(raw, "Abstract") or "").strip() or None,
        "journal": f.one_line(_get(raw, "Publication title")),
        "authors": f.people(authors),
        "keywords": keywords,
        "year": f.parse_year(_get(raw, "Publication year", "Year", "Publication date")),
        "volume": f.one_line(_get(raw, "Volume")),
        "issue": f.one_line(_get(raw, "Issue")),
        "pages": f.one_line(pages),
        "publisher": f.one_line(_get(raw, "Publisher")),
        "isbn": f.one_line(_get(raw, "ISBN")),
        "issn": f.one_line(_get(raw, "ISSN", "e-ISSN")),
        "language": f.one_line(_get(raw, "Language of publication")),
        "pub_type": f.one_line(_get(raw, "Document type", "Source type")),
        "doi": f.find_doi(_get(raw, "DOI")),
        "pmid": f.one_line(_get(raw, "PubMed ID")),
        "accession": f.one_line(_get(raw, "ProQuest document ID", "Accession number")),
    }


def sniff(sample: Sample) -> bool:
    """A ``Document 1 of N`` header in the first 200 lines."""
    return any(HEADER.match(line) for line in sample.lines[:200])


FORMATS = (
    ImportFormat(
        name="proquest", description="ProQuest plain text", suffixes=".txt",
        signature="Document 1 of N", hint="ProQuest ('Document 1 of N')",
        sniff=sniff, priority=30, parse=lambda source: parse(source.lines, path=source.path),
        to_record=to_record,
    ),
)
