"""Named entities in titles: countries, regions, languages and peoples, from a shipped gazetteer.

Two titles that differ only in the country they name ("Agreement between the European Union
and the Republic of Armenia on readmission" vs "... and the Republic of Türkiye ...") are
different works. :func:`title_entities` finds the entity codes a normalised title names,
using ``gazetteer.json`` shipped beside this module.

The gazetteer is generated, not typed: ``python -m evidence_synth.dedup._gazetteer_build``
rebuilds it from pycountry (ISO 3166-1 country names, official and common names, ISO 3166-3 former
countries, ISO 639-1 languages and the country names translated into German, French,
Spanish, Italian, Portuguese and Dutch) and Babel's copy of the Unicode CLDR (English names
of countries, world regions and continents, the European Union and the United Nations).
Adjectives of place are derived from the English names by the regular suffixes
(Armenia -> Armenian, Morocco -> Moroccan, Japan -> Japanese, Iraq -> Iraqi); language
names cover most of the others (German, French, Greek). The JSON records the versions used.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

GAZETTEER_PATH = Path(__file__).resolve().parent / "gazetteer.json"

_MAX_WORDS = 6


@lru_cache(maxsize=1)
def _index() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    data = json.loads(GAZETTEER_PATH.read_text(encoding="utf-8"))
    table = {k: frozenset(v) for k, v in data["names"].items()}
    first = frozenset(k.split()[0] for k in table)
    return table, first


def title_entities(title: str) -> frozenset[str]:
    """Entity codes named in a normalised title (longest name first, left to right)."""
    table, first = _index()
    tokens = title.split()
    found: set[str] = set()
    k, n = 0, len(tokens)
    while k < n:
        if tokens[k] not in first:
            k += 1
            continue
        for width in range(min(_MAX_WORDS, n - k), 0, -1):
            codes = table.get(" ".join(tokens[k:k + width]))
            if codes:
                found |= codes
                k += width
                break
        else:
            k += 1
    return frozenset(found)


def entities_differ(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when each title names an entity the other does not (one was replaced)."""
    return bool(a - b) and bool(b - a)
