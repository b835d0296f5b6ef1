"""ProQuest plain-text exports: ``Document N of M`` blocks of ``Label: value`` fields.

Two layouts are read. The short one is a run of documents separated by rules of
underscores. The full report ("Report Information from ProQuest") adds a header block
(the title line and the export date), a numbered table of contents, a ``Bibliography``
section of citations after the last document and a trailer (``Contact us at:``,
``Copyright ©``, ``Terms and Conditions:``). Inside a document the first line is the
title without a label, the document's URL follows the author, and fields are separated by
blank lines; a field may run over several paragraphs (a long abstract).

Only known ProQuest labels start a field (so ``Methods: ...`` inside an abstract stays
part of the abstract); other lines continue the previous field, blank lines between its
paragraphs kept. The header, contents, bibliography and trailer are structure, not text
outside records: they are checked (the contents against the documents, the ``N of M``
numbering for gaps) and not reported as skipped.
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
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9 /().,&'-]{0,60}?):\s?(.*)$")
_RULE = re.compile(r"^_{5,}\s*$")
_REPORT = "Report Information from ProQuest"
_TOC_ENTRY = re.compile(r"^\s*+(\d++)\.\s++(.*\S)\s*$")
_TRAILER = ("Contact us at:", "Copyright ©", "Copyright (c)", "Terms and Conditions:",
            "Database copyright")
#: Unlabelled lines of a document: its first line (the title) and the URL after the author.
HEADING, URL = "Heading", "URL"
LABELS = frozenset(
    label.lower()
    for label in (
        "Title", "Author", "Authors", "Editor", "Publication info", "Abstract",
        "Abstract (summary)", "Links", "Full text", "Subject", "Subjects", "MeSH subject",
        "Identifier / keyword", "Keywords", "Publication title", "Volume", "Issue", "Pages",
        "First page", "Number of pages", "Publication year", "Publication date", "Year",
        "Section", "Publisher", "Place of publication", "Country of publication",
        "Publication subject", "ISSN", "e-ISSN", "ISBN", "e-ISBN", "CODEN", "Source type",
        "Language of publication", "Language", "Document type", "Publication history",
        "Online publication date", "Print publication date", "Document feature", "DOI",
        "ProQuest document ID", "Document URL", "Copyright", "Last updated", "Database",
        "Accession number", "PubMed ID", "Location", "Classification",
        "Company / organization", "Affiliation", "Author e-mail address",
        "Correspondence author", "Conference title", "Update", "Dissertation/thesis number",
        "Advisor", "Committee member", "University/institution", "University location",
        "Degree", "Degree date", "Department", "School code", "Source", "Bibliography",
        "Notes", "Population", "Methodology", "Sponsor", "Grant number", "Age group",
        "Credit", "Supplemental data", "Other title", "Alternate title",
        "Number of references", "Business indexing term", "Journal subset",
        "Peer reviewed", "Scholarly journal", "Editor of the report",
    )
)
_KEYWORD_LABELS = ("Subject", "Subjects", "MeSH subject", "Identifier / keyword", "Keywords")


def parse(lines: list[str], *, path: Any = None) -> Parsed:
    """Split ProQuest plain-text lines into raw records (label -> list of values).

    A document's unlabelled first line is kept as ``raw["Heading"]`` and an unlabelled
    URL line as ``raw["URL"]``; ``raw["Document"]`` holds its ``Document N of M`` line.

    Raises
    ------
    ParseError
        No document found; documents missing from the ``N of M`` numbering (a truncated
        or partly pasted export).
    """
    out = Parsed()
    raw: dict[str, list[str]] | None = None
    current: list[str] | None = None
    blank = False
    section = "start"  # start, header, contents, documents, bibliography
    contents: list[str] = []
    numbers: list[tuple[int, int, int]] = []
    for lineno, line in enumerate(lines, 1):
        text = line.strip()
        header = HEADER.match(line)
        if header:
            if raw is not None:
                out.records.append(raw)
            raw = {"Document": [text]}
            current, blank, section = None, False, "documents"
            numbers.append((int(header.group(1)), int(header.group(2)), lineno))
            out.lines.append(lineno)
            continue
        if _RULE.match(line):
            if raw is not None:
                out.records.append(raw)
                raw = None
            current = None
            continue
        if raw is None:
            section = _outside(text, section, contents, lineno, out)
            continue
        if not text:
            blank = True
            continue
        m = _FIELD.match(text)
        if m and m.group(1).strip().lower() in LABELS:
            current = raw.setdefault(m.group(1).strip(), [])
            current.append(m.group(2).strip())
        elif current is None and "Heading" not in raw and len(raw) == 1:
            current = raw.setdefault(HEADING, [])
            current.append(text)
        elif text.startswith(("http://", "https://")) and blank and (
                current is None or not _is_links(raw, current)):
            current = raw.setdefault(URL, [])
            current.append(text)
        elif current is not None:
            sep = "\n\n" if blank else "\n"
            current[-1] = f"{current[-1]}{sep}{text}" if current[-1] else text
        else:
            out.skipped.append((lineno, line))
        blank = False
    if raw is not None:
        out.records.append(raw)
    if not out.records:
        raise ParseError(
            "expected ProQuest documents ('Document 1 of N' lines), found none", path=path, line=1
        )
    _check_numbering(numbers, contents, out, path)
    return out


def _is_links(raw: dict[str, list[str]], current: list[str]) -> bool:
    return current is raw.get("Links")


def _outside(text: str, section: str, contents: list[str], lineno: int, out: Parsed) -> str:
    """Classify a line outside documents; returns the section it belongs to."""
    if not text:
        return section
    if section in ("start", "header") and text == _REPORT:
        return "header"
    if section == "header" and text != "Table of contents":
        return "header"  # the export date line
    if text == "Table of contents" and section in ("start", "header"):
        return "contents"
    if section == "contents":
        entry = _TOC_ENTRY.match(text)
        if entry:
            contents.append(entry.group(2))
            return "contents"
        if text == "Bibliography":  # the contents' last entry names the bibliography
            return "contents"
    if section == "documents" and text == "Bibliography":
        return "bibliography"
    if section == "bibliography" or text.startswith(_TRAILER):
        return section
    out.skipped.append((lineno, text))
    return section


def _check_numbering(numbers: list[tuple[int, int, int]], contents: list[str], out: Parsed,
                     path: Any) -> None:
    for position, (number, total, lineno) in enumerate(numbers, 1):
        if number != position:
            problem = "documents are missing" if number > position else "a document is repeated"
            raise ParseError(
                f"expected 'Document {position} of {total}', found 'Document {number} of "
                f"{total}': {problem} (an export cut or pasted together)",
                path=path, line=lineno, record=position)
    last, total, lineno = numbers[-1]
    if last != total:
        raise ParseError(
            f"truncated: the last document is {last} of {total}; documents {last + 1} to "
            f"{total} are missing", path=path, line=lineno, record=len(numbers))
    if contents and len(contents) != len(numbers):
        out.warnings.append(
            f"{path}: the table of contents lists {len(contents)} documents, the report "
            f"holds {len(numbers)}")


def _get(raw: dict[str, list[str]], *labels: str) -> str | None:
    lower = {k.lower(): v for k, v in raw.items()}
    for label in labels:
        for value in lower.get(label.lower(), ()):
            if value.strip():
                return value
    return None


def _keywords(raw: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for label in _KEYWORD_LABELS:
        value = _get(raw, label) or ""
        separator = ";" if ";" in value else ("," if label == "Identifier / keyword" else None)
        for line in value.split("\n"):
            parts = line.split(separator) if separator else [line]
            out.extend(p.strip() for p in parts if p.strip())
    return list(dict.fromkeys(out))


def to_record(raw: dict[str, list[str]]) -> dict[str, Any]:
    """Contract fields of one ProQuest document."""
    authors = [a for v in (_get(raw, "Author", "Authors") or "").split("\n") for a in v.split(";")]
    pages = _get(raw, "Pages")
    if pages is None:
        pages = _get(raw, "First page")
    return {
        "title": f.one_line(_get(raw, "Title", HEADING)),
        "abstract": (_get(raw, "Abstract", "Abstract (summary)") or "").strip() or None,
        "journal": f.one_line(_get(raw, "Publication title")),
        "authors": f.people(authors),
        "keywords": _keywords(raw),
        "year": f.parse_year(_get(raw, "Publication year", "Year", "Publication date",
                                  "Degree date")),
        "volume": f.one_line(_get(raw, "Volume")),
        "issue": f.one_line(_get(raw, "Issue")),
        "pages": f.one_line(pages),
        "publisher": f.one_line(_get(raw, "Publisher")),
        "isbn": f.one_line(_get(raw, "ISBN", "e-ISBN")),
        "issn": f.one_line(_get(raw, "ISSN", "e-ISSN")),
        "language": f.one_line(_get(raw, "Language of publication", "Language")),
        "pub_type": f.one_line(_get(raw, "Document type", "Source type")),
        "doi": f.find_doi(_get(raw, "DOI")),
        "pmid": f.one_line(_get(raw, "PubMed ID")),
        "accession": f.one_line(_get(raw, "ProQuest document ID", "Accession number")),
    }


def sniff(sample: Sample) -> bool:
    """"Report Information from ProQuest" in the first 20 lines, or a ``Document 1 of N``
    header in the first 200 (a long table of contents pushes the first document further)."""
    lines = sample.lines
    return (any(line.strip() == _REPORT for line in lines[:20])
            or any(HEADER.match(line) for line in lines[:200]))


FORMATS = (
    ImportFormat(
        name="proquest", description="ProQuest plain text (with or without the full report's "
        "header, contents and bibliography)", suffixes=".txt",
        signature="Report Information from ProQuest / Document 1 of N",
        hint="ProQuest ('Document 1 of N')",
        sniff=sniff, priority=30, parse=lambda source: parse(source.lines, path=source.path),
        to_record=to_record,
    ),
)
