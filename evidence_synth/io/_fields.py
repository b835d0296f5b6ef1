"""Shared helpers turning raw tag values into records-contract fields."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

_YEAR_START = re.compile(r"^\s*(\d{4})(?!\d)")
_YEAR_ANY = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)")
_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>&]+", re.IGNORECASE)
_ISSN = re.compile(r"^\d{4}-?\d{3}[\dXx]$")
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,4}$")
_SPACES = re.compile(r"\s+")
_BOOK_TYPES = frozenset({"BOOK", "CHAP", "EBOOK", "ECHAP", "EDBOOK", "CONF", "CPAPER"})


def first(raw: Mapping[str, Sequence[str]], tags: Iterable[str]) -> str | None:
    """First non-blank value among ``tags`` (in that order of preference)."""
    for tag in tags:
        for value in raw.get(tag, ()):
            if value and value.strip():
                return value
    return None


def values(raw: Mapping[str, Sequence[str]], tags: Iterable[str]) -> list[str]:
    """All non-blank values of ``tags``, in tag order then file order."""
    return [v for tag in tags for v in raw.get(tag, ()) if v and v.strip()]


def one_line(value: str | None) -> str | None:
    """Join continuation lines with single spaces."""
    if value is None:
        return None
    if "\n" in value or "  " in value or "\t" in value or "\r" in value:
        return " ".join(value.split()) or None  # as re.sub(r"\s+", " ", value).strip()
    return value.strip() or None


def parse_year(value: str | None) -> int | None:
    """Year from a date string: ``2019//``, ``2024/04/03/``, ``Start date: 20170812``.

    ``0000`` and strings without a plausible year give ``None``.
    """
    if not value:
        return None
    match = _YEAR_START.match(value)
    if match:
        year = int(match.group(1))
        return year if 1000 <= year <= 2999 else None
    match = _YEAR_ANY.search(value)
    return int(match.group(1)) if match else None


def year_from(raw: Mapping[str, Sequence[str]], tags: Iterable[str]) -> int | None:
    """First parseable year among the values of ``tags``."""
    for tag in tags:
        for value in raw.get(tag, ()):
            year = parse_year(value)
            if year is not None:
                return year
    return None


def find_doi(text: str | None) -> str | None:
    """The first DOI inside ``text`` (a URL, ``doi:`` string or bare DOI), lower case."""
    if not text:
        return None
    match = _DOI.search(text)
    if not match:
        return None
    return match.group(0).rstrip(".,;)]").lower()


def doi_from(
    raw: Mapping[str, Sequence[str]], direct: Iterable[str], links: Iterable[str]
) -> str | None:
    """DOI from the ``direct`` tags, else from doi.org-style links in ``links``."""
    for value in values(raw, direct):
        doi = find_doi(value)
        if doi:
            return doi
    for value in values(raw, links):
        for part in value.split():
            if "doi" in part.lower():
                doi = find_doi(part)
                if doi:
                    return doi
    return None


def person(name: str, *, surname_first: bool = False) -> str | None:
    """Normalise a personal name to ``"Surname, Given"``.

    ``"Smith, John"`` is kept; ``"Liu R."``/``"Adler D.G."``/``"Jacob B A"`` (surname then
    initials) and ``"G. Kalbe"``/``"John Smith"`` (given names first) are turned around.
    With ``surname_first`` a comma-less name is read as ``"Surname Given..."``.
    """
    if "\n" in name or "  " in name or "\t" in name or "\r" in name:
        name = _SPACES.sub(" ", name)
    elif name.count(",") == 1 and ", " in name and name[:1] != " " and name[-1:] not in " ;,":
        return name  # already "Surname, Given"
    name = name.strip().strip(";").strip()
    if not name:
        return None
    if "," in name:
        surname, _, given = name.partition(",")
        surname, given = surname.strip(), given.strip()
        return f"{surname}, {given}" if given else surname
    parts = name.split(" ")
    if len(parts) == 1:
        return name
    if surname_first:
        return f"{parts[0]}, {' '.join(parts[1:])}"
    cut = len(parts)
    while cut > 1 and _INITIALS.match(parts[cut - 1]):
        cut -= 1
    if cut < len(parts) and not _INITIALS.match(parts[0]):
        return f"{' '.join(parts[:cut])}, {' '.join(parts[cut:])}"
    return f"{parts[-1]}, {' '.join(parts[:-1])}"


# One or more "Surname, Given" names, one per line, that ``person`` would keep as they are
# (with no double space anywhere, checked separately).
_NORMAL_NAME = r"[^ ,\n\r\t][^,\n\r\t]*, [^,\n\r\t]*[^ ;,\n\r\t]"
_NORMAL_NAME_LINES = re.compile(rf"{_NORMAL_NAME}(?:\n{_NORMAL_NAME})*")


def people(names: Iterable[str], *, surname_first: bool = False) -> list[str]:
    """Normalise names, dropping blanks and exact repeats of the same string."""
    names = names if type(names) is list else list(names)
    joined = "\n".join(names)
    if ("  " not in joined and joined.count("\n") == len(names) - 1
            and _NORMAL_NAME_LINES.fullmatch(joined)):
        return list(dict.fromkeys(names))  # all already "Surname, Given" (the common case)
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        if (name.count(",") == 1 and ", " in name and name[:1] != " "
                and name[-1:] not in " ;,\t\n" and "  " not in name and "\n" not in name
                and "\r" not in name and "\t" not in name):
            norm = name  # already "Surname, Given" (the common case)
        else:
            norm = person(name, surname_first=surname_first)
        if norm and norm not in seen:
            seen.add(norm)
            out.append(norm)
    return out


def split_keywords(items: Iterable[str]) -> list[str]:
    """One keyword per line of each value (continuation lines hold further keywords)."""
    return [keyword for line in "\n".join(items).splitlines() if (keyword := line.strip())]


_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"))
_NO_PAGES = re.compile(r"no(?:t| pagination)? specified|no pagination", re.IGNORECASE)


def pages(start: str | None, end: str | None) -> str | None:
    """``"start-end"`` from separate start and end page fields; ``None`` for PsycINFO's
    ``No Pagination Specified``, also when a reference manager split it into ``SP  - No``
    and ``EP  - Specified``."""
    start = one_line(start)
    end = one_line(end)
    if _NO_PAGES.fullmatch(" ".join(filter(None, (start, end)))):
        return None
    if start and not start.isascii():
        start = start.translate(_DASHES)  # Cochrane writes "1279\u20101297"
    if end and not end.isascii():
        end = end.translate(_DASHES)
    if start and end and "-" not in start:
        return f"{start}-{end}"
    return start or end


def split_standard_numbers(
    numbers: Iterable[str], pub_type: str | None = None
) -> tuple[str | None, str | None]:
    """Split RIS ``SN`` values into ``(isbn, issn)``.

    A value shaped like an ISSN (``1234-567X``) counts as ISSN, other values as ISBN for
    book-like types and as ISSN otherwise; several values are joined with ``"; "``.
    """
    isbn: list[str] = []
    issn: list[str] = []
    booky = (pub_type or "").strip().upper() in _BOOK_TYPES
    for value in numbers:
        value = one_line(value)
        if not value:
            continue
        head = value.split(" ")[0].split(";")[0].strip(",")
        if _ISSN.match(head) or not booky:
            target = issn
        else:
            target = isbn
        if target is issn:
            value = issns(value)
        if value not in target:
            target.append(value)
    return ("; ".join(isbn) or None, "; ".join(issn) or None)


_ISSN_ANY = re.compile(r"(?<![\dXx-])\d{4}-?\d{3}[\dXx](?![\dXx-])")
_ISSN_NOTE = re.compile(r"\b(?:print|electronic|linking|issn|eissn|online)\b", re.IGNORECASE)


def issns(value: str) -> str:
    """A list of ISSNs as ``"1932-8494; 1932-8486"`` when the value holds nothing else:
    Rayyan's JSON list ``["1932-8494", "1932-8486"]``, APA's
    ``1999-7777(Electronic),0222-6666(Print)``, EndNote's ``0000-0000 9999-9999`` or
    Scopus's ``20964129 (ISSN)``. Any other value is returned as it is."""
    found = _ISSN_ANY.findall(value)
    if not found or _ISSN_NOTE.sub("", _ISSN_ANY.sub("", value)).strip(" ,;[]()\"'"):
        return value
    return "; ".join(dict.fromkeys(found))


# "PUBMED 123" alone, or first in a list: Cochrane writes "PUBMED 38407106,EMBASE 643589775".
_PMID_MARK = re.compile(r"^\s*(?:(\d{1,9})\s*\[PMID\]|PUBMED:?\s+(\d{1,9})\s*(?:[,;]|$))",
                        re.IGNORECASE)


def marked_pmid(value: str) -> str | None:
    """The PubMed id of a ``123 [PMID]`` or ``PUBMED 123`` mark (alone, or first in a list
    such as Cochrane's ``PUBMED 38407106,EMBASE 643589775``); ``None`` for other text."""
    m = _PMID_MARK.match(value)
    return (m.group(1) or m.group(2)) if m else None


def add(raw: dict[str, list[str]], tag: str, value: Any) -> None:
    """Append ``value`` to ``raw[tag]``."""
    raw.setdefault(tag, []).append(value)
