"""Countries as ISO 3166-1 alpha-3 codes, looked up in pycountry's ISO 3166 database.

Maps and extraction sheets name countries in every way (``GHA``, ``GH``, ``Ghana``,
``Republic of Ghana``, ``Congo, The Democratic Republic of the``); every output of the
library stores the alpha-3 code and shows the English name. A value is resolved by, in
order: pycountry's exact, case-insensitive lookup (alpha-2, alpha-3, numeric code, name,
official and common name); the same names with their inverted ``"X, Y of"`` form put
back in reading order and a leading "the" dropped; and the short list :data:`FORMER_NAMES`
of names that ISO 3166 replaced or never had but that reports still use. Nothing is
guessed: a value that none of these resolves is returned as unknown (there is no fuzzy
matching, which maps "Kosovo" to Serbia and "UK" to Ukraine).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

#: Kosovo has no ISO 3166-1 code; ``XKX`` is the user-assigned code the EU and the World
#: Bank use.
EXTRA_CODES = {"XKX": "Kosovo"}

#: English names not in ISO 3166 (former names and names the standard does not use) that
#: are common in the literature, with their current code.
FORMER_NAMES = {
    "turkey": "TUR",
    "swaziland": "SWZ",
    "cape verde": "CPV",
    "burma": "MMR",
    "ivory coast": "CIV",
    "czech republic": "CZE",
    "macedonia": "MKD",
    "east timor": "TLS",
    "kosovo": "XKX",
    "drc": "COD",
    "dr congo": "COD",
    "uk": "GBR",
    "great britain": "GBR",
    "russia": "RUS",
    "us": "USA",
    "united states of america": "USA",
}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().strip()
    text = re.sub(r"[\s\u00a0]+", " ", text.replace("\u2019", "'"))
    return text.strip(" .")


@lru_cache(maxsize=1)
def _index() -> dict[str, str]:
    """Lower-cased code or name -> alpha-3, built once from pycountry."""
    import pycountry

    index: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_3
        names = [country.alpha_2, code, country.numeric, country.name,
                 getattr(country, "official_name", None), getattr(country, "common_name", None)]
        for name in filter(None, names):
            index.setdefault(_key(name), code)
            if "," in name:  # "Korea, Republic of" -> "Republic of Korea"
                head, _, tail = name.partition(",")
                index.setdefault(_key(f"{tail.strip()} {head.strip()}"), code)
    for key in list(index):
        if key.startswith("the "):
            index.setdefault(key[4:], index[key])
    for code, name in EXTRA_CODES.items():
        index.setdefault(_key(code), code)
        index.setdefault(_key(name), code)
    for name, code in FORMER_NAMES.items():
        index.setdefault(name, code)
    return index


def country_code(value: Any) -> str | None:
    """The ISO 3166-1 alpha-3 code of a country code or name, or ``None`` if unknown.

    Parameters
    ----------
    value : str
        ``"GHA"``, ``"gh"``, ``"Ghana"``, ``"Republic of Ghana"``, ``"288"``, ...

    Returns
    -------
    str or None
        E.g. ``"GHA"``; ``None`` for a missing value or one that names no country.
    """
    if value is None or not isinstance(value, str) or not value.strip():
        return None
    key = _key(value)
    found = _index().get(key)
    if found is None and key.startswith("the "):
        found = _index().get(key[4:])
    return found


def country_name(code: str) -> str:
    """The English short name of an alpha-3 code (its common name where ISO has one).

    Unknown codes are returned unchanged.
    """
    import pycountry

    if code in EXTRA_CODES:
        return EXTRA_CODES[code]
    country = pycountry.countries.get(alpha_3=code) if isinstance(code, str) else None
    if country is None:
        return str(code)
    name = getattr(country, "common_name", None) or country.name
    if "," in name:  # "Congo, The Democratic Republic of the" -> in reading order
        head, _, tail = name.partition(",")
        name = re.sub(r"^the ", "", f"{tail.strip()} {head.strip()}", flags=re.IGNORECASE)
    return name


def country_codes() -> tuple[str, ...]:
    """Every alpha-3 code known (ISO 3166-1 and :data:`EXTRA_CODES`), sorted."""
    import pycountry

    return tuple(sorted({c.alpha_3 for c in pycountry.countries} | set(EXTRA_CODES)))


def normalise_countries(values: Any) -> tuple[list[str], list[str]]:
    """Split and resolve country values into alpha-3 codes.

    Parameters
    ----------
    values : str, iterable of str or None
        A list, or one string with values separated by ``;``, ``|`` or ``,`` (a comma
        only splits when the whole string does not name one country, so
        ``"Korea, Republic of"`` stays one value).

    Returns
    -------
    (codes, unknown)
        Sorted unique alpha-3 codes, and the values that name no country (as given).
    """
    codes: set[str] = set()
    unknown: list[str] = []
    for item in _items(values):
        code = country_code(item)
        if code is None:
            if item not in unknown:
                unknown.append(item)
        else:
            codes.add(code)
    return sorted(codes), unknown


def _items(values: Any) -> Iterable[str]:
    if values is None:
        return []
    if isinstance(values, str):
        text = values.strip()
        if not text:
            return []
        parts = [p.strip() for p in re.split(r"[;|]", text) if p.strip()]
        out: list[str] = []
        for part in parts:
            if "," in part and country_code(part) is None:
                out += [p.strip() for p in part.split(",") if p.strip()]
            else:
                out.append(part)
        return out
    out = []
    for value in values:
        if value is None or (isinstance(value, float) and value != value):
            continue
        out += list(_items(str(value)))
    return out
