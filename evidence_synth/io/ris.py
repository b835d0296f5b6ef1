"""RIS (any vendor) and EPPI-Reviewer RIS: one pass over the lines, compiled regexes.

Tolerated quirks: text before the first ``TY`` and between records (kept in
``skipped``), ``TY  -`` with one to three spaces and extra spaces after the dash, a
leading BOM/CR/indentation before ``TY``, repeated tags (all values kept in ``raw``),
continuation lines with or without indentation (joined with ``"\\n"`` in ``raw``), blank
lines inside a value, empty tags.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from ..errors import DataQualityWarning, ParseError
from . import _fields as f

_PREFIX = r"[ \t\ufeff]*[A-Z][A-Z0-9] {1,3}-"
_CONTROL = frozenset({"TY", "ER"})
_FIELD = re.compile(
    r"^[ \t\ufeff]*([A-Z][A-Z0-9]) {1,3}-[ \t]*([^\n]*)"
    rf"((?:\n(?!{_PREFIX})[^\n]*)*)",
    re.MULTILINE,
)

TITLE_TAGS = ("TI", "T1", "CT", "BT")
JOURNAL_TAGS = ("JF", "JO", "T2", "J2", "JA")
AUTHOR_TAGS = ("AU", "A1")
YEAR_TAGS = ("PY", "Y1", "DA")
LINK_TAGS = ("L2", "UR", "L3", "LK", "L1", "N1")


@dataclass
class Parsed:
    """Raw records of a tagged file with their first line numbers."""

    records: list[dict[str, list[str]]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    open_at: int | None = None


def normalise_newlines(text: str) -> str:
    """CRLF, bare CR, U+2028 and U+2029 -> LF."""
    text = text.replace("\r\n", "\n")
    if "\r" in text:
        text = text.replace("\r", "\n")
    if "\u2028" in text or "\u2029" in text:
        text = text.replace("\u2028", "\n").replace("\u2029", "\n")
    return text


def _continuation(value: str, cont: str) -> str:
    parts = [part.strip() for part in cont.split("\n")[1:]]
    while parts and not parts[-1]:
        parts.pop()
    return "\n".join([value.strip(), *parts]) if parts else value.strip()


def parse(text: str, *, path: Any = None) -> Parsed:
    """Split RIS text into raw records (tag -> list of values, file order).

    One regex pass over the text: each match is a tag line plus the untagged lines that
    follow it (continuations, joined with ``"\\n"``, trailing blank lines dropped). Text
    outside records (before the first ``TY``, after an ``ER``) goes to ``skipped``.

    Raises
    ------
    ParseError
        When no ``TY`` line is found, or a record is still open at the end of the file
        (truncated: ``TY`` without its ``ER``).
    """
    text = normalise_newlines(text)
    first_match = _FIELD.search(text)
    if first_match is None:
        raise ParseError(
            "expected RIS records (a line like 'TY  - JOUR'), found none", path=path, line=1
        )
    out = Parsed()
    head = text[: first_match.start()]
    if head.strip() or not _fast(text, first_match.start(), out):
        out = Parsed()
        _slow(text, first_match.start(), out, path)
    if out.open_at is not None:
        raise ParseError(
            f"truncated: the record opened by 'TY' at line {out.open_at} has no closing "
            "'ER  - ' line before the end of the file",
            path=path,
            line=out.open_at,
            record=len(out.records) + 1,
        )
    if not out.records:
        raise ParseError(
            "expected RIS records (a line like 'TY  - JOUR'), found none", path=path, line=1
        )
    return out


def _fast(text: str, start: int, out: Parsed) -> bool:
    """Common case: every tag inside TY..ER, nothing outside. False -> use ``_slow``."""
    records = out.records
    starts = out.lines
    count = text.count
    line, pos = 1 + count("\n", 0, start), start
    raw: dict[str, list[str]] = {}
    is_open = False
    for m in _FIELD.finditer(text, start):
        tag, value, cont = m.groups()
        if cont:
            value = _continuation(value, cont)
        elif value[-1:] in (" ", "\t"):
            value = value.rstrip()
        if tag in _CONTROL:
            if tag == "TY":
                if is_open:
                    return False
                here = m.start()
                line += count("\n", pos, here)
                pos = here
                starts.append(line)
                raw = {"TY": [value]}
                is_open = True
            else:
                if not is_open or (cont and cont.strip()):
                    return False
                records.append(raw)
                is_open = False
        elif not is_open:
            return False
        else:
            current = raw.get(tag)
            if current is None:
                raw[tag] = [value]
            else:
                current.append(value)
    if is_open:
        out.open_at = starts[-1]
    return True


def _slow(text: str, start: int, out: Parsed, path: Any) -> None:
    """Line-numbered pass that also records skipped text and unclosed records."""
    raw: dict[str, list[str]] | None = None
    records = out.records
    starts = out.lines
    seen = [0, 1]

    def line_at(pos: int) -> int:
        seen[1] += text.count("\n", seen[0], pos)
        seen[0] = pos
        return seen[1]

    def skip(pos: int, chunk: str) -> None:
        first = line_at(pos)
        for offset, line in enumerate(chunk.split("\n")):
            if line.strip():
                out.skipped.append((first + offset, line))

    if text[:start].strip():
        skip(0, text[:start])
    for m in _FIELD.finditer(text, start):
        tag, value, cont = m.groups()
        if tag == "TY":
            lineno = line_at(m.start())
            if raw is not None:
                message = (
                    f"{path}, line {lineno}: record opened at line {starts[-1]} has no 'ER' "
                    "before the next 'TY'; closed it there"
                )
                out.warnings.append(message)
                warnings.warn(message, DataQualityWarning, stacklevel=5)
                records.append(raw)
            raw = {"TY": [_continuation(value, cont) if cont else value.strip()]}
            starts.append(lineno)
        elif raw is None:
            skip(m.start(), m.group(0))
        elif tag == "ER":
            records.append(raw)
            raw = None
            if cont and cont.strip():
                skip(m.start(3) + 1, cont[1:])
        else:
            value = _continuation(value, cont) if cont else value.strip()
            current = raw.get(tag)
            if current is None:
                raw[tag] = [value]
            else:
                current.append(value)
    if raw is not None:
        out.open_at = starts[-1]


def _pick(get: Any, tags: tuple[str, ...]) -> str | None:
    for tag in tags:
        values = get(tag)
        if values:
            for value in values:
                if value:
                    return value
    return None


def _all(get: Any, tags: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        values = get(tag)
        if values:
            out += [v for v in values if v]
    return out


_one_line = f.one_line
_TY, _M3, _SN, _BN, _AB, _N2, _KW, _U1, _AN = (("TY",), ("M3",), ("SN",), ("BN",), ("AB",),
                                               ("N2",), ("KW",), ("U1",), ("AN",))
_VL, _IS, _SP, _EP, _PB, _LA, _DO = (("VL", "VO"), ("IS",), ("SP",), ("EP",), ("PB",), ("LA",),
                                     ("DO",))


def to_record(raw: dict[str, list[str]], *, eppi: bool = False) -> dict[str, Any]:
    """Contract fields of one RIS record (``raw`` itself is not changed)."""
    get = raw.get
    pub_type = _pick(get, _TY)
    if pub_type == "GEN" and get("M3"):
        pub_type = _one_line(_pick(get, _M3)) or pub_type
    numbers = get("SN")
    isbn, issn = f.split_standard_numbers(numbers, pub_type) if numbers else (None, None)
    if isbn is None and get("BN"):
        isbn = _one_line(_pick(get, _BN))
    abstract = _pick(get, _AB) or _pick(get, _N2)
    keywords = get("KW")
    doi = _pick(get, _DO)
    return {
        "title": _one_line(_pick(get, TITLE_TAGS)),
        "abstract": abstract.strip() if abstract else None,
        "journal": _one_line(_pick(get, JOURNAL_TAGS)),
        "authors": f.people(_all(get, AUTHOR_TAGS)),
        "keywords": f.split_keywords(keywords) if keywords else [],
        "year": f.year_from(raw, YEAR_TAGS),
        "volume": _one_line(_pick(get, _VL)),
        "issue": _one_line(_pick(get, _IS)),
        "pages": f.pages(_pick(get, _SP), _pick(get, _EP)),
        "publisher": _one_line(_pick(get, _PB)),
        "isbn": isbn,
        "issn": issn,
        "language": _one_line(_pick(get, _LA)),
        "pub_type": pub_type,
        "doi": (f.find_doi(doi) if doi else None) or f.doi_from(raw, (), LINK_TAGS),
        "pmid": _pmid(raw),
        "accession": _one_line(_pick(get, _U1 if eppi else _AN)),
    }


_PMID_MARK = re.compile(r"^\s*(?:(\d{1,9})\s*\[PMID\]|PUBMED:?\s+(\d{1,9})\s*$)", re.IGNORECASE)
_DIGITS = re.compile(r"^\s*(\d{1,9})\s*$")


_PMID_TAGS = ("U1", "U2", "U3", "U4", "U5", "C2", "C3", "M1", "AN")


def _pmid(raw: dict[str, list[str]]) -> str | None:
    get = raw.get
    for tag in _PMID_TAGS:
        values = get(tag)
        if values:
            for value in values:
                m = _PMID_MARK.match(value)
                if m:
                    return m.group(1) or m.group(2)
    if not (get("DB") or get("DP")):
        return None
    db = " ".join(raw.get("DB", []) + raw.get("DP", [])).lower()
    if any(name in db for name in ("nlm", "pubmed", "medline")):
        for value in raw.get("AN", ()):
            m = _DIGITS.match(value)
            if m:
                return m.group(1)
    return None


def _column(raws: list[dict[str, list[str]]], tags: tuple[str, ...]) -> list[str | None]:
    """First non-empty value of ``tags`` in each record (as ``_pick``), without per-record
    function calls in the common case."""
    out: list[str | None] = []
    append = out.append
    for raw in raws:
        get = raw.get
        for tag in tags:
            values = get(tag)
            if values and values[0]:
                append(values[0])
                break
        else:
            append(_pick(get, tags))
    return out


def _lines_joined(values: list[str | None]) -> list[str | None]:
    """``one_line`` on each value, skipping values that need no change."""
    return [v if v is None or not ("\n" in v or "  " in v or "\t" in v or v[-1].isspace()
                                   or v[0].isspace()) else _one_line(v)
            for v in values]


_YEAR4 = re.compile(r"\d{4}")


def to_columns(raws: list[dict[str, list[str]]], *, eppi: bool = False) -> dict[str, list]:
    """Contract fields of many RIS records as columns; equal to ``to_record`` row by row."""
    people, year_from, pages = f.people, f.year_from, f.pages
    split_numbers = f.split_standard_numbers
    pub_types = _column(raws, _TY)
    isbns: list[str | None] = []
    issns: list[str | None] = []
    authors: list[list[str]] = []
    keywords: list[list[str]] = []
    years: list[int | None] = []
    page_list: list[str | None] = []
    dois: list[str | None] = []
    pmids: list[str | None] = []
    for i, raw in enumerate(raws):
        get = raw.get
        pub_type = pub_types[i]
        if pub_type == "GEN" and get("M3"):
            pub_type = pub_types[i] = _one_line(_pick(get, _M3)) or pub_type
        numbers = get("SN")
        isbn, issn = split_numbers(numbers, pub_type) if numbers else (None, None)
        if isbn is None and get("BN"):
            isbn = _one_line(_pick(get, _BN))
        isbns.append(isbn)
        issns.append(issn)
        au, a1 = get("AU"), get("A1")
        names = au + a1 if au and a1 else (au or a1)
        authors.append(people(names) if names else [])
        kw = get("KW")
        keywords.append(f.split_keywords(kw) if kw else [])
        py = get("PY")
        if py and len(py[0]) == 4 and _YEAR4.fullmatch(py[0]) and py[0] != "0000":
            years.append(int(py[0]))
        else:
            years.append(year_from(raw, YEAR_TAGS))
        sp, ep = get("SP"), get("EP")
        page_list.append(pages(_pick(get, _SP), _pick(get, _EP)) if sp or ep else None)
        do = _pick(get, _DO)
        dois.append((f.find_doi(do) if do else None) or f.doi_from(raw, (), LINK_TAGS))
        pmids.append(_pmid(raw))
    abstracts = [v.strip() if v else None for v in _column(raws, ("AB", "N2"))]
    return {
        "title": _lines_joined(_column(raws, TITLE_TAGS)),
        "abstract": [v or None for v in abstracts],
        "journal": _lines_joined(_column(raws, JOURNAL_TAGS)),
        "authors": authors,
        "keywords": keywords,
        "year": years,
        "volume": _lines_joined(_column(raws, _VL)),
        "issue": _lines_joined(_column(raws, _IS)),
        "pages": page_list,
        "publisher": _lines_joined(_column(raws, _PB)),
        "isbn": isbns,
        "issn": issns,
        "language": _lines_joined(_column(raws, _LA)),
        "pub_type": pub_types,
        "doi": dois,
        "pmid": pmids,
        "accession": _lines_joined(_column(raws, _U1 if eppi else _AN)),
    }
