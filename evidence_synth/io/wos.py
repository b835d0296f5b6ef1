"""Web of Science plain text (``FN``/``VR``/``PT``...``ER``/``EF``) and tab-delimited.

Plain text: two-letter tag, one space, value; continuation lines are indented by three
spaces and are kept in ``raw`` joined with ``"\\n"`` (one author or cited reference per
line). A file whose tag lines are all indented (``" PT J"``) is read with that indentation
removed from every line. Tab-delimited: a header row of the same tags; UTF-8 or UTF-16LE
with BOM; data rows may carry one more (empty) field than the header.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import ParseError
from . import _fields as f
from ._parsed import Parsed
from ._registry import ImportFormat
from .sniff import Sample

_TAG = re.compile(r"([A-Z][A-Z0-9])(?: (.*)|$)")
_INDENTED_START = re.compile(r"([ \t]+)(?:\ufeff)?(?:FN|PT) ")
_LIST_SPLIT = re.compile(r"\n|; ")


def parse(lines: list[str], *, path: Any = None) -> Parsed:
    """Split WoS plain-text lines into raw records.

    Raises
    ------
    ParseError
        When no ``PT`` line is found, or the last record has no ``ER``.
    """
    out = Parsed()
    raw: dict[str, list[str]] | None = None
    current: list[str] = []
    start = 0
    indent = _file_indent(lines)
    for lineno, line in enumerate(lines, 1):
        if indent and line.startswith(indent):
            line = line[len(indent):]
        if raw is not None and line[:1] in (" ", "\t") and current:
            current[-1] = f"{current[-1]}\n{line.strip()}"
            continue
        m = _TAG.match(line)
        if m is None:
            if line.strip():
                out.skipped.append((lineno, line))
            continue
        tag, value = m.group(1), (m.group(2) or "").strip()
        if tag == "PT" and raw is None:
            raw = {}
            start = lineno
            out.lines.append(lineno)
        elif raw is None:
            if tag not in ("FN", "VR", "EF"):
                out.skipped.append((lineno, line))
            continue
        if tag == "ER":
            out.records.append(raw)
            raw = None
            continue
        current = raw.setdefault(tag, [])
        current.append(value)
    if raw is not None:
        raise ParseError(
            f"truncated: the record opened by 'PT' at line {start} has no closing 'ER' line",
            path=path,
            line=start,
            record=len(out.records) + 1,
        )
    if not out.records:
        raise ParseError(
            "expected Web of Science records (a line like 'PT J'), found none", path=path, line=1
        )
    return out


def _file_indent(lines: list[str]) -> str:
    """The whitespace before the first ``FN``/``PT`` tag when that line is indented."""
    for line in lines:
        if line.strip():
            m = _INDENTED_START.match(line)
            if m is not None:
                return m.group(1)
            if line.lstrip("\ufeff").startswith(("FN ", "PT ")):
                return ""
    return ""


def parse_tab(lines: list[str], *, path: Any = None) -> Parsed:
    """Rows of a WoS tab-delimited export as raw records (tag -> [value])."""
    out = Parsed()
    header_at = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_at is None:
        raise ParseError("expected a header row of WoS tags, found an empty file", path=path)
    header = lines[header_at].split("\t")
    width = len(header)
    for lineno, line in enumerate(lines[header_at + 1:], header_at + 2):
        if not line.strip():
            continue
        cells = line.split("\t")
        extra = cells[width:]
        if any(c.strip() for c in extra):
            raise ParseError(
                f"expected {width} tab-separated fields as in the header, found {len(cells)}",
                path=path,
                line=lineno,
            )
        out.records.append({tag: [cells[i]] for i, tag in enumerate(header) if i < len(cells)})
        out.lines.append(lineno)
    return out


def _split(raw: dict[str, list[str]], tags: tuple[str, ...]) -> list[str]:
    items = []
    for value in f.values(raw, tags):
        items.extend(p.strip() for p in _LIST_SPLIT.split(value) if p.strip())
    return items


def to_record(raw: dict[str, list[str]]) -> dict[str, Any]:
    """Contract fields of one WoS record (plain text or tab-delimited)."""
    authors = _split(raw, ("AF",)) or _split(raw, ("AU",))
    authors = [re.sub(r"\s*\([^)]*@[^)]*\)\s*$", "", a) for a in authors]
    issn = "; ".join(f.values(raw, ("SN", "EI"))) or None
    return {
        "title": f.one_line(f.first(raw, ("TI",))),
        "abstract": f.one_line(f.first(raw, ("AB",))),
        "journal": f.one_line(f.first(raw, ("SO", "SE"))),
        "authors": f.people(authors),
        "keywords": _split(raw, ("DE",)) + _split(raw, ("ID",)),
        "year": f.year_from(raw, ("PY", "EA", "PD")),
        "volume": f.one_line(f.first(raw, ("VL",))),
        "issue": f.one_line(f.first(raw, ("IS",))),
        "pages": f.pages(f.first(raw, ("BP",)), f.first(raw, ("EP",)))
        or _article_number(f.first(raw, ("AR",))),
        "publisher": f.one_line(f.first(raw, ("PU",))),
        "isbn": f.one_line(f.first(raw, ("BN",))),
        "issn": issn,
        "language": f.one_line(f.first(raw, ("LA",))),
        "pub_type": f.one_line(f.first(raw, ("DT", "PT"))),
        "doi": f.doi_from(raw, ("DI", "D2"), ()),
        "pmid": f.one_line(f.first(raw, ("PM",))),
        "accession": f.one_line(f.first(raw, ("UT", "AN"))),
    }


_SNIFF_PT = re.compile(r"^[ \t]{0,3}+(?:\ufeff)?PT [A-Z]\s*$", re.MULTILINE)
_SNIFF_FN = re.compile(r"^[ \t]{0,3}+\ufeff?FN ", re.MULTILINE)
_SNIFF_ER = re.compile(r"^[ \t]{0,3}+ER\s*$", re.MULTILINE)


def sniff(sample: Sample) -> bool:
    """A ``PT J`` line and an ``FN`` header or an ``ER`` line."""
    text = sample.text
    return _SNIFF_PT.search(text) is not None and (
        _SNIFF_FN.search(text) is not None or _SNIFF_ER.search(text) is not None)


def sniff_tab(sample: Sample) -> bool:
    """A first line of tab-separated WoS tags starting ``PT`` (or ``FN``), with ``TI``."""
    first = sample.first_line
    return first.startswith(("PT\t", "FN\t")) and "\tTI\t" in first


FORMATS = (
    ImportFormat(
        name="wos", description="Web of Science plain text", suffixes=".txt .ciw",
        signature="FN/VR, PT ... ER, EF", hint="Web of Science ('PT J')",
        sniff=sniff, priority=60, parse=lambda source: parse(source.lines, path=source.path),
        to_record=to_record,
    ),
    ImportFormat(
        name="wos_tab", description="Web of Science tab-delimited (UTF-8 or UTF-16LE)",
        suffixes=".txt", signature="PT<TAB>AU<TAB>...", hint="Web of Science ('PT J')",
        sniff=sniff_tab, priority=40,
        parse=lambda source: parse_tab(source.lines, path=source.path), to_record=to_record,
    ),
)


def _article_number(value: str | None) -> str | None:
    """``AR`` without Web of Science's ``UNSP`` ("unspecified") prefix: ``UNSP 1722034``."""
    value = f.one_line(value)
    if value and value.startswith("UNSP "):
        return value[5:].strip() or None
    return value
