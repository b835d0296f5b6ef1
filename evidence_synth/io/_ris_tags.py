"""RIS tags that name contract fields, and the lookups both RIS readers share.

:mod:`evidence_synth.io.ris` (record by record) and :mod:`evidence_synth.io._ris_columns`
(column by column) read the same tags through these.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from ._fields import marked_pmid

TITLE_TAGS = ("TI", "T1", "CT", "BT", "ST")  # ST (short title) only when nothing else
JOURNAL_TAGS = ("JF", "JO", "T2", "J2", "JA")
AUTHOR_TAGS = ("AU", "A1")
YEAR_TAGS = ("PY", "Y1", "DA")
LINK_TAGS = ("L2", "UR", "L3", "LK", "L1", "N1")


def pick(get: Any, tags: tuple[str, ...]) -> str | None:
    """First non-empty value of ``tags`` (in that order) in the record whose ``get`` this is."""
    for tag in tags:
        values = get(tag)
        if values:
            for value in values:
                if value:
                    return value
    return None


_DIGITS = re.compile(r"^\s*(\d{1,9})\s*$")


_PMID_TAGS = ("U1", "U2", "U3", "U4", "U5", "C2", "C3", "M1", "AN")


def pmid(raw: dict[str, list[str]]) -> str | None:
    """PubMed id: a ``PMID`` tag (APA PsycNET), ``123 [PMID]`` or ``PUBMED 123`` marks, or a
    PubMed record's ``AN``."""
    get = raw.get
    for value in get("PMID", ()):
        m = _DIGITS.match(value)
        if m:
            return m.group(1)
    for tag in _PMID_TAGS:
        values = get(tag)
        if values:
            for value in values:
                marked = marked_pmid(value)
                if marked:
                    return marked
    if not (get("DB") or get("DP")):
        return None
    if _is_pubmed(" ".join(raw.get("DB", []) + raw.get("DP", []))):
        for value in raw.get("AN", ()):
            m = _DIGITS.match(value)
            if m:
                return m.group(1)
    return None


@functools.lru_cache(maxsize=256)
def _is_pubmed(database: str) -> bool:
    """Whether a ``DB``/``DP`` value names PubMed (one value per export, so cached)."""
    database = database.lower()
    return any(name in database for name in ("nlm", "pubmed", "medline"))
