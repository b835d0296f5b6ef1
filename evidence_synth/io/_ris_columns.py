"""RIS contract fields of many records at once, as columns.

Gives, record by record, the values of :func:`evidence_synth.io.ris.to_record` (the tests
compare the two on the corpus), in one pass over the records: on large files the records
are spread over the heap, and visiting each record's dict once costs far less than one
pass per field. Every text value returned is stripped and non-empty, or ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from . import _fields as f
from ._ris_tags import JOURNAL_TAGS, LINK_TAGS, TITLE_TAGS, YEAR_TAGS, pick, pmid

Raw = dict[str, list[str]]

FIELDS = ("title", "abstract", "journal", "authors", "keywords", "year", "volume", "issue",
          "pages", "publisher", "isbn", "issn", "language", "pub_type", "doi", "pmid",
          "accession")

_PLAIN_YEAR = re.compile(r"[12]\d{3}", re.ASCII)  # what parse_year reads as itself


def to_columns(raws: list[Raw], *, eppi: bool = False) -> dict[str, list]:
    """Contract fields of ``raws`` as columns (lists aligned with ``raws``)."""
    accession = ("U1",) if eppi else ("AN",)
    rows = [_fields_of(raw, accession) for raw in raws]
    if not rows:
        return {name: [] for name in FIELDS}
    columns = zip(*rows, strict=True)
    out = {name: list(column) for name, column in zip(FIELDS, columns, strict=True)}
    out["pub_type"] = [None if v is None else v.strip() or None for v in out["pub_type"]]
    return out


def _fields_of(raw: Raw, accession: tuple[str, ...]) -> tuple[Any, ...]:
    """The ``FIELDS`` of one record, in that order."""
    get = raw.get
    pub_type = _first(get, ("TY",))
    if pub_type == "GEN" and get("M3"):
        pub_type = f.one_line(pick(get, ("M3",))) or pub_type
    numbers = get("SN")
    isbn, issn = f.split_standard_numbers(numbers, pub_type) if numbers else (None, None)
    if isbn is None and get("BN"):
        isbn = f.one_line(pick(get, ("BN",)))
    abstract = _first(get, ("AB", "N2"))
    au, a1 = get("AU"), get("A1")
    names = au + a1 if au and a1 else (au or a1)
    keywords = get("KW")
    py = get("PY")
    return (
        _one_line(get, TITLE_TAGS),
        abstract.strip() or None if abstract else None,
        _one_line(get, JOURNAL_TAGS),
        f.people(names) if names else [],
        f.split_keywords(keywords) if keywords else [],
        int(py[0]) if py and _PLAIN_YEAR.fullmatch(py[0]) else f.year_from(raw, YEAR_TAGS),
        _one_line(get, ("VL", "VO")),
        _one_line(get, ("IS",)),
        f.pages(pick(get, ("SP",)), pick(get, ("EP",))) if "SP" in raw or "EP" in raw else None,
        _one_line(get, ("PB",)),
        isbn,
        issn,
        _one_line(get, ("LA",)),
        pub_type,
        _doi(raw),
        pmid(raw),
        _one_line(get, accession),
    )


def _first(get: Callable, tags: tuple[str, ...]) -> str | None:
    """:func:`~evidence_synth.io._ris_tags.pick`, answering the common case without a loop."""
    values = get(tags[0])
    if values and values[0]:
        return values[0]
    if values or len(tags) > 1:
        return pick(get, tags)
    return None


def _one_line(get: Callable, tags: tuple[str, ...]) -> str | None:
    """``one_line(pick(tags))``, skipping values that need no change."""
    values = get(tags[0])
    if values and values[0]:
        v = values[0]
    elif values or len(tags) > 1:
        v = pick(get, tags)
        if v is None:
            return None
    else:
        return None
    if "\n" in v or "  " in v or "\t" in v or v[-1].isspace() or v[0].isspace():
        return f.one_line(v)
    return v


def _doi(raw: Raw) -> str | None:
    """``DO`` (any DOI inside it), else a doi.org link in the link tags."""
    do = raw.get("DO")
    if do:
        value = do[0] or pick(raw.get, ("DO",))
        doi = f.find_doi(value) if value else None
        if doi:
            return doi
    return f.doi_from(raw, (), LINK_TAGS)
