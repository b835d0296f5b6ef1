"""Ovid "Citation (tagged)" export: ``<N. >`` record headers, ``XX  - `` tags.

Not RIS although the tags look alike: there is no ``TY``/``ER``; a record runs from its
``<N. >`` header to the next one. Untagged lines continue the previous value.

Variants read: tags indented by spaces or tabs (``" TI  - "``, as some Ovid PsycINFO
exports write them), tags of two to four characters, files without ``<N. >`` headers
(every Ovid record starts with ``VN  - Ovid Technologies``; without those either, records
are separated by blank lines). A record none of whose lines is a tag is an error, not an
empty record.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ParseError
from . import _fields as f
from ._parsed import Parsed, unread_record_error
from ._registry import ImportFormat
from .sniff import Sample

HEADER = re.compile(r"^\s*+<\s*+(\d++)\s*+\.?\s*+>\s*+$")  # possessive: linear on any line
_TAG = re.compile(r"[ \t]*+([A-Z][A-Z0-9]{1,3}) {1,3}+- ?(.*)")
_VN = re.compile(r"[ \t]*+VN {1,3}+- ")
_SNIFF_VN = re.compile(r"[ \t]*+VN {1,3}+- ++Ovid Technologies")
_SOURCE = re.compile(r"^(?P<journal>.+?)\.\s+(?P<volume>[^\s(:]+)?(?:\((?P<issue>[^)]*)\))?"
                     r"(?::(?P<pages>[^,\s]+))?")
_EXPECTED = "Ovid tag lines like 'TI  - ...'"


def parse(lines: list[str], *, path: Any = None) -> Parsed:
    """Split Ovid tagged lines into raw records (``"<N. >"`` numbers go to ``raw['#']``).

    Records start at ``<N. >`` headers; in files without them, at each ``VN  - `` line,
    else at each block after a blank line.

    Raises
    ------
    ParseError
        No record found, or a record whose lines are none of them tags (naming the record
        and its first line).
    """
    if any(HEADER.match(line) for line in lines):
        mode = "header"
    elif any(_VN.match(line) for line in lines):
        mode = "vn"
    else:
        mode = "blank"
    out = Parsed()
    raw: dict[str, list[str]] | None = None
    current: list[str] | None = None
    unread: tuple[int, str] | None = None

    def close() -> None:
        if raw is None:
            return
        if not any(key != "#" for key in raw):
            if mode == "blank":  # a block of text without tags: outside records
                out.lines.pop()
                return
            where = unread or (out.lines[-1], "")
            raise unread_record_error(path=path, record=len(out.records) + 1,
                                      start=out.lines[-1], line=where[0], text=where[1],
                                      expected=_EXPECTED)
        out.records.append(raw)

    for lineno, line in enumerate(lines, 1):
        header = HEADER.match(line) if mode == "header" else None
        if header or (mode == "vn" and _VN.match(line)) or (
                mode == "blank" and raw is None and line.strip()):
            close()
            raw = {"#": [header.group(1)]} if header else {}
            current, unread = None, None
            out.lines.append(lineno)
            if header:
                continue
        if raw is None:
            if line.strip():
                out.skipped.append((lineno, line))
            continue
        if not line.strip():
            if mode == "blank":
                close()
                raw = None
            continue
        m = _TAG.match(line)
        if m:
            tag, value = m.groups()
            current = raw.setdefault(tag, [])
            current.append(value.strip())
        elif current is None:
            unread = unread or (lineno, line)
            out.skipped.append((lineno, line))
        else:
            current[-1] = f"{current[-1]}\n{line.strip()}"
    close()
    if not out.records:
        raise ParseError(
            "expected Ovid records starting with a '<1. >' header or 'VN  - Ovid "
            "Technologies', found none", path=path, line=1)
    return out


def _drop_bracket(name: str) -> str:
    """``name`` without a final ``[...]`` (an affiliation or role mark) and the space before
    it; string methods, linear on any value."""
    text = name.rstrip()
    if not text.endswith("]"):
        return name
    end = len(text) - 1
    start = text.find("[", text.rfind("]", 0, end) + 1, end)
    return name if start < 0 else text[:start].rstrip()


def to_record(raw: dict[str, list[str]]) -> dict[str, Any]:
    """Contract fields of one Ovid record; journal, volume, issue, pages parsed from SO."""
    source = f.one_line(f.first(raw, ("SO",)))
    parts = _SOURCE.match(source) if source else None
    journal = f.one_line(f.first(raw, ("JN", "JT", "JA")))
    book = "book" in (f.first(raw, ("PT",)) or "").lower()
    if journal is None and parts and not book:
        journal = parts.group("journal")
    issn = f.first(raw, ("IS", "SN"))
    return {
        "title": f.one_line(f.first(raw, ("TI",))),
        "abstract": f.one_line(f.first(raw, ("AB",))),
        "journal": journal,
        "authors": f.people(_drop_bracket(a) for a in f.values(raw, ("AU", "AI", "FA"))),
        "keywords": f.split_keywords(f.values(raw, ("KW", "MH", "MC"))),
        "year": f.year_from(raw, ("YR", "PY", "DP", "SO")),
        "volume": f.one_line(f.first(raw, ("VO", "VL"))) or (parts and parts.group("volume")),
        "issue": f.one_line(f.first(raw, ("IP",))) or (parts and parts.group("issue")),
        "pages": f.pages(f.first(raw, ("PG",)), None) or (parts and parts.group("pages")),
        "publisher": f.one_line(f.first(raw, ("PB", "PU"))),
        "isbn": f.one_line(f.first(raw, ("IB", "BN"))),
        "issn": issn.split(" (")[0].strip() if issn else None,
        "language": f.one_line(f.first(raw, ("LG", "LA"))),
        "pub_type": f.one_line(f.first(raw, ("PT",))),
        "doi": f.doi_from(raw, ("DO", "DI"), ("XL", "UR")),
        "pmid": f.one_line(f.first(raw, ("UI", "PM"))),
        "accession": f.one_line(f.first(raw, ("AN",))),
    }


def sniff(sample: Sample) -> bool:
    """A ``<1. >`` record header or a ``VN  - Ovid Technologies`` line in the first 50
    lines."""
    return any(HEADER.match(line) or _SNIFF_VN.match(line) for line in sample.lines[:50])


FORMATS = (
    ImportFormat(
        name="ovid", description="Ovid tagged (Citation, tagged)", suffixes=".txt",
        signature="<1. > record headers or VN  - Ovid Technologies", hint="Ovid ('<1. >')",
        sniff=sniff, priority=20, parse=lambda source: parse(source.lines, path=source.path),
        to_record=to_record,
    ),
)
