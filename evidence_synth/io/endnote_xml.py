"""EndNote XML (written by EndNote, Mendeley and Zotero).

Every ``<record>`` is one record. ``raw`` keys are element paths below the record
(``titles/title``, ``contributors/authors/author``); values are the element text with
``<style>`` wrappers removed, otherwise untouched. Attributes are kept as
``path@attr``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from .. import limits
from ..errors import ParseError, UnknownFormatError
from . import _fields as f
from ._parsed import Parsed
from ._registry import ImportFormat
from .sniff import Sample

_WRAPPERS = frozenset({"style"})


def parse(text: str, *, path: Any = None) -> Parsed:
    """Parse EndNote XML text into raw records.

    Raises
    ------
    ParseError
        On malformed XML (with the line of the error) or when there is no ``<record>``.
    LimitError
        Elements of a record nested beyond ``max_depth`` (see :mod:`evidence_synth.limits`).
    """
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line = exc.position[0] if exc.position else None
        raise ParseError(
            f"expected well-formed EndNote XML: {exc}", path=path, line=line
        ) from exc
    out = Parsed()
    limit = limits.current().max_depth
    for number, record in enumerate(root.iter("record"), 1):
        raw: dict[str, list[str]] = {}
        if not _walk(record, "", raw, limit):
            raise limits.exceeded("max_depth", where=f"{path}, record {number}",
                                  found=f"elements nested more than {limit} levels deep")
        out.records.append(raw)
    if not out.records:
        raise ParseError(
            "expected EndNote XML <record> elements, found none", path=path, line=1
        )
    return out


def _walk(element: ET.Element, prefix: str, raw: dict[str, list[str]], depth: int) -> bool:
    """Add the values below ``element`` to ``raw``; ``False`` when nested deeper than
    ``depth`` more levels."""
    if depth <= 0:
        return False
    for child in element:
        name = f"{prefix}{child.tag}"
        for key, value in child.attrib.items():
            raw.setdefault(f"{name}@{key}", []).append(value)
        structural = [c for c in child if c.tag not in _WRAPPERS]
        if structural:
            if not _walk(child, f"{name}/", raw, depth - 1):
                return False
        else:
            raw.setdefault(name, []).append("".join(child.itertext()))
    return True


def _authors(raw: dict[str, list[str]], key: str) -> list[str]:
    return f.people(raw.get(key, []))


def to_record(raw: dict[str, list[str]]) -> dict[str, Any]:
    """Contract fields of one EndNote XML record."""
    pub_type = f.first(raw, ("ref-type@name",))
    journal_tags = (
        "periodical/full-title", "titles/secondary-title", "periodical/abbr-1",
        "alt-periodical/full-title", "titles/alt-title",
    )
    numbers = f.values(raw, ("isbn",))
    booky = "BOOK" if pub_type and "Book" in pub_type else None
    isbn, issn = f.split_standard_numbers(numbers, booky)
    urls = ("urls/related-urls/url", "urls/web-urls/url", "urls/pdf-urls/url",
            "electronic-resource-num")
    return {
        "title": f.one_line(f.first(raw, ("titles/title",))),
        "abstract": f.one_line(f.first(raw, ("abstract",))),
        "journal": f.one_line(f.first(raw, journal_tags)),
        "authors": _authors(raw, "contributors/authors/author"),
        "keywords": [f.one_line(k) for k in f.values(raw, ("keywords/keyword",))],
        "year": f.year_from(raw, ("dates/year", "dates/pub-dates/date")),
        "volume": f.one_line(f.first(raw, ("volume",))),
        "issue": f.one_line(f.first(raw, ("number", "issue"))),
        "pages": f.one_line(f.first(raw, ("pages",))),
        "publisher": f.one_line(f.first(raw, ("publisher",))),
        "isbn": isbn,
        "issn": issn,
        "language": f.one_line(f.first(raw, ("language",))),
        "pub_type": f.one_line(pub_type),
        "doi": f.doi_from(raw, ("electronic-resource-num",), urls),
        "pmid": None,
        "accession": f.one_line(f.first(raw, ("accession-num",))),
    }


def sniff(sample: Sample) -> bool:
    """An XML document with ``<record>`` elements.

    Raises
    ------
    UnknownFormatError
        For XML without ``<record>``.
    """
    head = sample.text.lstrip("\ufeff \t\r\n")
    if not head.startswith(("<?xml", "<xml", "<records")):
        return False
    if "<record" in head:
        return True
    raise UnknownFormatError(
        "found XML without <record> elements; expected EndNote XML (<xml><records><record>)",
        path=sample.path, line=1)


FORMATS = (
    ImportFormat(
        name="endnote_xml", description="EndNote XML (EndNote, Mendeley, Zotero)",
        suffixes=".xml", signature="<xml><records><record>", hint="EndNote XML",
        sniff=sniff, priority=10, parse=lambda source: parse(source.text, path=source.path),
        to_record=to_record,
    ),
)
