"""Decide a file's format from its content; the suffix is only a tie-breaker."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import ParseError, UnknownFormatError
from . import _text
from .ovid import HEADER as _OVID_HEADER
from .proquest import HEADER as _PROQUEST_HEADER

_RIS_TY = re.compile(r"^[ \t\ufeff]*TY {1,3}-", re.MULTILINE)
_RIS_TAG = re.compile(r"^[A-Z][A-Z0-9] {1,3}- ?", re.MULTILINE)
_MEDLINE_TAG = re.compile(r"^(?:PMID|OWN |STAT|FAU |DCOM|TI  |AU  |AB  |JT  )- ", re.MULTILINE)
_WOS_PT = re.compile(r"^(?:\ufeff)?PT [A-Z]\s*$", re.MULTILINE)
_WOS_FN = re.compile(r"^\ufeff?FN ", re.MULTILINE)
_EPPI = re.compile(r"EPPI", re.IGNORECASE)
_SAMPLE = 200_000
#: Bytes of a file's start that decide :func:`sniff_bytes` exactly as the whole file would.
HEAD_BYTES = _SAMPLE * 4 + 1


def sniff_bytes(data: bytes, *, path: str | Path = "<data>", suffix: str = "") -> str:
    """Format name for raw bytes (see :func:`sniff_text` for text formats)."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    sample = data[: _SAMPLE * 4]
    decoded = _text.decode(sample, path=path, partial=len(sample) < len(data)) if data else None
    if decoded is None or not decoded.text.strip():
        raise ParseError("expected a bibliographic export, found an empty file", path=path, line=1)
    return sniff_text(decoded.text[:_SAMPLE], path=path, suffix=suffix)


def sniff_text(text: str, *, path: str | Path = "<data>", suffix: str = "") -> str:
    """Format name of decoded text.

    Returns
    -------
    str
        One of ``ris``, ``eppi_ris``, ``medline``, ``wos``, ``wos_tab``, ``endnote_xml``,
        ``ovid``, ``proquest``, ``csv``, ``tsv``.

    Raises
    ------
    UnknownFormatError
        When no format matches; the message names the first non-blank line.
    """
    head = text.lstrip("\ufeff \t\r\n")
    if not head:
        raise ParseError("expected a bibliographic export, found only blank lines",
                         path=path, line=1)
    if head.startswith("<?xml") or head.startswith("<xml") or head.startswith("<records"):
        if "<record" in head:
            return "endnote_xml"
        raise UnknownFormatError(
            "found XML without <record> elements; expected EndNote XML (<xml><records><record>)",
            path=path, line=1)
    lines = text.splitlines()[:3000]
    if any(_OVID_HEADER.match(line) for line in lines[:50]):
        return "ovid"
    if any(_PROQUEST_HEADER.match(line) for line in lines[:200]):
        return "proquest"
    first = next(line for line in lines if line.strip()).lstrip("\ufeff")
    if first.startswith(("PT\t", "FN\t")) and "\tTI\t" in first:
        return "wos_tab"
    if _RIS_TY.search(text):
        tags = {m.group(0)[:2] for m in _RIS_TAG.finditer(text)}
        return "eppi_ris" if _is_eppi(text, tags) else "ris"
    if _WOS_PT.search(text) and (_WOS_FN.search(text) or re.search(r"^ER\s*$", text, re.M)):
        return "wos"
    if _MEDLINE_TAG.search(text):
        return "medline"
    if first.startswith(("{", "[")):
        raise UnknownFormatError(
            "found JSON; expected a bibliographic export (RIS, MEDLINE, WoS, CSV, EndNote XML). "
            "Evidence-map JSON is read with read_egm()",
            path=path, line=1)
    if first.lstrip().lower().startswith(("<!doctype html", "<html")):
        raise UnknownFormatError(
            "found HTML; expected a bibliographic export. EPPI-Mapper maps are read with "
            "read_egm()",
            path=path, line=1)
    for candidate in [line for line in lines[:40] if line.strip()][:10]:
        delimiter = max(("\t", ",", ";"), key=candidate.count)
        if candidate.count(delimiter) >= 1 and _looks_like_header(candidate, delimiter):
            return "tsv" if delimiter == "\t" else "csv"
    line_no = next(i for i, line in enumerate(text.splitlines(), 1) if line.strip())
    raise UnknownFormatError(
        "not a bibliographic format: expected RIS ('TY  - '), MEDLINE ('PMID- '), Web of Science "
        "('PT J'), EndNote XML, Ovid ('<1. >'), ProQuest ('Document 1 of N') or a table with a "
        f"title column; found {first[:60]!r}",
        path=path,
        line=line_no,
    )


def _looks_like_header(line: str, delimiter: str) -> bool:
    from .tabular import COLUMN_MAP

    names = {c.strip().strip('"').strip().lower() for c in line.split(delimiter)}
    return bool(names & set(COLUMN_MAP["title"]))


def _is_eppi(text: str, tags: set[str]) -> bool:
    return "U1" in tags and bool(_EPPI.search(text[:20_000]))
