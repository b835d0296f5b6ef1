"""RIS (any vendor) and EPPI-Reviewer RIS: one regex pass, over the whole text or chunk by
chunk (:func:`parse_chunks`, used for files read without holding their whole content).

Tolerated quirks: text before the first ``TY`` and between records (kept in
``skipped``), ``TY  -`` with one to three spaces and extra spaces after the dash, a
leading BOM/CR/indentation before ``TY``, repeated tags (all values kept in ``raw``),
continuation lines with or without indentation (joined with ``"\\n"`` in ``raw``), blank
lines inside a value, empty tags.
"""

from __future__ import annotations

import functools
import re
import sys
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import DataQualityWarning, ParseError
from . import _fields as f
from ._parsed import Parsed, Source, unread_record_error
from ._registry import ImportFormat
from ._ris_columns import to_columns
from ._ris_tags import (
    AUTHOR_TAGS,
    JOURNAL_TAGS,
    LINK_TAGS,
    TITLE_TAGS,
    YEAR_TAGS,
    pick,
    pmid,
)
from .sniff import Sample

# Two-character tags, and APA PsycNET's four-letter ``PMID  - 123``.
_PREFIX = r"[ \t\ufeff]*(?:[A-Z][A-Z0-9]|PMID) {1,3}-"
_CONTROL = frozenset({"TY", "ER"})
_FIELD = re.compile(  # possessive quantifiers: nothing here ever needs to backtrack
    r"^[ \t\ufeff]*+([A-Z][A-Z0-9]|PMID) {1,3}+-[ \t]*+([^\n]*+)"
    rf"((?:\n(?!{_PREFIX})[^\n]*+)*+)",
    re.MULTILINE,
)

def normalise_newlines(text: str) -> str:
    """CRLF, bare CR, U+2028 and U+2029 -> LF."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
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
    splitter = _FastSplitter()
    out = splitter.out
    if not splitter.feed(text):
        out = Parsed()
        _slow(text, first_match.start(), out, path)
    elif splitter.is_open:
        out.open_at = out.lines[-1]
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
    for position, raw in enumerate(out.records):
        if _unread(raw):
            start = out.lines[position] if position < len(out.lines) else 1
            first = raw["TY"][0].split("\n")[1]
            raise unread_record_error(path=path, record=position + 1, start=start,
                                      line=start + 1, text=first,
                                      expected="RIS tag lines like 'TI  - ...'")
    if _GLUED.search(text):
        _unglue(out, text, path)
    return out


# A second tag written on the same line after a run of spaces, as Rayyan's RIS export
# does: "UR  - https://...     U2  - L2029880245", "DO  - 10.1/x     LK  - https://...".
_GLUED = re.compile(r"(?<=\S)[ \t]{2,}([A-Z][A-Z0-9]) {2}- ")


def _unglue(out: Parsed, text: str, path: Any) -> None:
    """Give each tag glued onto another tag's line its own entry in ``raw``, and say so."""
    split = 0
    for raw in out.records:
        for tag, values in list(raw.items()):
            if tag in _CONTROL:
                continue
            for i, value in enumerate(values):
                parts = _GLUED.split(value)
                if len(parts) == 1 or _CONTROL.intersection(parts[1::2]):
                    continue
                values[i] = parts[0].rstrip()
                for glued, glued_value in zip(parts[1::2], parts[2::2], strict=True):
                    raw.setdefault(glued, []).append(glued_value.strip())
                    split += 1
    if split:
        first = text.count("\n", 0, _GLUED.search(text).start()) + 1  # type: ignore[union-attr]
        message = (
            f"{path}: {split} tag(s) written on the same line as another tag (first at line "
            f"{first}, as Rayyan writes 'UR  - ...     U2  - ...'); each read as its own tag"
        )
        out.warnings.append(message)
        warnings.warn(message, DataQualityWarning, stacklevel=4)


def _unread(raw: dict[str, list[str]]) -> bool:
    """A record holding only ``TY``, whose value swallowed the record's other lines: none
    of them was read as a tag (e.g. ``TI: ...`` or ``TI -`` without a space)."""
    return len(raw) == 1 and "\n" in raw["TY"][0]


def parse_chunks(chunks: Iterable[str]) -> Parsed | None:
    """Split RIS text arriving in pieces of any size, without joining the whole text.

    Covers the common case only (every tag inside ``TY``..``ER``, nothing outside, the
    last record closed). Returns ``None`` otherwise: the caller then reads the whole text
    with :func:`parse`, which reports skipped text, warnings and errors with line numbers.
    """
    splitter = _FastSplitter()
    for window in _windows_before_ty_lines(_normalised(chunks)):
        if window is None or _GLUED.search(*window) or not splitter.feed(*window):
            return None
    if splitter.is_open or not splitter.out.records:
        return None
    if any(_unread(raw) for raw in splitter.out.records):
        return None
    return splitter.out


def _normalised(chunks: Iterable[str]) -> Iterator[str]:
    """``normalise_newlines`` on each chunk, never separating the two halves of a CRLF."""
    carry = ""
    for chunk in chunks:
        text = carry + chunk if carry else chunk
        carry = "\r" if text.endswith("\r") else ""
        yield normalise_newlines(text[:-1] if carry else text)
    if carry:
        yield "\n"


_TY_LINE_START = re.compile(r"\n(?=[ \t\ufeff]*TY {1,3}-)")
_MAX_UNCUT = 64_000_000


def _windows_before_ty_lines(texts: Iterable[str]) -> Iterator[tuple[str, int, int] | None]:
    """``(text, start, end)`` windows of the joined texts, each but the first starting with
    a ``TY`` line.

    The newline before each cut belongs to neither window, so the regex matches of the
    windows are exactly those of the joined text. Only the pieces around the first and
    last cut of each text are copied. Yields ``None`` when no cut is found in
    ``_MAX_UNCUT`` characters (the caller then reads the whole text).
    """
    pending = ""
    for text in texts:
        first = _TY_LINE_START.search(text)
        if first is None:
            pending += text
            if len(pending) > _MAX_UNCUT:
                yield None
                return
            continue
        cut = first.start()
        head = pending + text[:cut]
        yield head, 0, len(head)
        last = _last_ty_line(text, cut)
        if last > cut:
            yield text, cut + 1, last
        pending = text[last + 1:]
    yield pending, 0, len(pending)


def _last_ty_line(text: str, first: int) -> int:
    """Position of the newline before the last unindented ``TY`` line after ``first`` (a
    known one), or ``first``."""
    at = text.rfind("\nTY", first + 1)
    while at > first:
        if _TY_LINE_START.match(text, at):
            return at
        at = text.rfind("\nTY", first + 1, at)
    return first


_TRAILING_BLANK = (" ", "\t")


class _FastSplitter:
    """The common case, fed text window by window: every tag inside ``TY``..``ER``, nothing
    outside. ``feed`` returns ``False`` at the first thing that needs the line-numbered
    slow pass (text outside records, a ``TY`` before the ``ER``, text after an ``ER``).

    Every window after the first must start with a ``TY`` line, and the newline between two
    windows is left out of both (see :func:`_windows_before_ty_lines`).
    """

    def __init__(self) -> None:
        self.out = Parsed()
        self.raw: dict[str, list[str]] | None = None
        self.line = 1  # line number of the first line of the next window
        self.in_head = True  # no tag seen yet

    @property
    def is_open(self) -> bool:
        return self.raw is not None

    def feed(self, text: str, start: int = 0, end: int | None = None) -> bool:
        """Split ``text[start:end]``; ``False`` when it needs the slow pass."""
        end = len(text) if end is None else end
        if self.in_head:
            first = _FIELD.search(text, start, end)
            head = text[start:end if first is None else first.start()]
            if head.strip():
                return False
            self.line += head.count("\n")
            if first is None:
                self.line += 1  # the newline left out after this window
                return True
            self.in_head = False
            start = first.start()
        return self._split(_FIELD.findall(text, start, end))

    def _split(self, matches: list[tuple[str, str, str]]) -> bool:
        records, starts = self.out.records, self.out.lines
        raw = self.raw
        intern = sys.intern
        line = self.line - 1
        for tag, value, cont in matches:
            line += 1
            if cont:
                value = _continuation(value, cont)
            elif value[-1:] in _TRAILING_BLANK:
                value = value.rstrip()
            if tag not in _CONTROL and raw is not None:
                current = raw.get(tag)
                if current is None:
                    raw[intern(tag)] = [value]  # one key object per tag name, not per record
                else:
                    current.append(value)
            elif tag == "TY":
                if raw is not None:
                    return False
                starts.append(line)
                raw = {"TY": [value]}
            elif tag == "ER":
                if raw is None or (cont and cont.strip()):
                    return False
                records.append(raw)
                raw = None
            else:
                return False  # a tag outside TY..ER
            if cont:
                line += cont.count("\n")
        self.raw = raw
        self.line = line + 1
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
    pub_type = pick(get, _TY)
    if pub_type == "GEN" and get("M3"):
        pub_type = _one_line(pick(get, _M3)) or pub_type
    numbers = get("SN")
    isbn, issn = f.split_standard_numbers(numbers, pub_type) if numbers else (None, None)
    if isbn is None and get("BN"):
        isbn = _one_line(pick(get, _BN))
    abstract = pick(get, _AB) or pick(get, _N2)
    keywords = get("KW")
    doi = pick(get, _DO)
    return {
        "title": _one_line(pick(get, TITLE_TAGS)),
        "abstract": abstract.strip() if abstract else None,
        "journal": _one_line(pick(get, JOURNAL_TAGS)),
        "authors": f.people(_all(get, AUTHOR_TAGS)),
        "keywords": f.split_keywords(keywords) if keywords else [],
        "year": f.year_from(raw, YEAR_TAGS),
        "volume": _one_line(pick(get, _VL)),
        "issue": _one_line(pick(get, _IS)),
        "pages": f.pages(pick(get, _SP), pick(get, _EP)),
        "publisher": _one_line(pick(get, _PB)),
        "isbn": isbn,
        "issn": issn,
        "language": _one_line(pick(get, _LA)),
        "pub_type": pub_type,
        "doi": (f.find_doi(doi) if doi else None) or f.doi_from(raw, (), LINK_TAGS),
        "pmid": pmid(raw),
        "accession": _one_line(pick(get, _U1 if eppi else _AN)),
    }


_SNIFF_TY = re.compile(r"^[ \t\ufeff]*+TY {1,3}-", re.MULTILINE)
_SNIFF_U1 = re.compile(r"^U1 {1,3}-", re.MULTILINE)
_EPPI_MARK = re.compile(r"EPPI", re.IGNORECASE)


def sniff(sample: Sample) -> bool:
    """A ``TY  -`` line anywhere in the sample."""
    return _SNIFF_TY.search(sample.text) is not None


def sniff_eppi(sample: Sample) -> bool:
    """RIS with ``U1`` tags and "EPPI" in its first 20 kB."""
    text = sample.text
    return (sniff(sample) and _SNIFF_U1.search(text) is not None
            and _EPPI_MARK.search(text, 0, 20_000) is not None)


def _columns(raws: list[dict[str, list[str]]], *, eppi: bool = False) -> dict[str, list]:
    return to_columns(raws, eppi=eppi)


def _parse_source(source: Source) -> Parsed:
    return parse(source.text, path=source.path)


FORMATS = (
    ImportFormat(
        name="ris",
        description="RIS (any vendor: Embase, Scopus, WoS, EBSCO, PubMed via EndNote/Zotero, ...)",
        suffixes=".ris .txt", signature="TY  - ... ER  - ", hint="RIS ('TY  - ')",
        sniff=sniff, priority=50, parse=_parse_source, stream=parse_chunks,
        to_record=to_record, to_columns=_columns,
    ),
    ImportFormat(
        name="eppi_ris",
        description="EPPI-Reviewer RIS (U1 is the EPPI item id -> accession)",
        suffixes=".ris .txt", signature="RIS with U1 and an 'EPPI' marker", hint="RIS ('TY  - ')",
        sniff=sniff_eppi, priority=49, parse=_parse_source, stream=parse_chunks,
        to_record=functools.partial(to_record, eppi=True),
        to_columns=functools.partial(_columns, eppi=True),
    ),
)
