"""Build ``gazetteer.json`` (developers only; needs pycountry and babel, in the dev extra).

    python -m evidence_synth.dedup._gazetteer_build

See :mod:`evidence_synth.dedup._gazetteer` for what the gazetteer holds and where it comes
from; this module records the versions it was built from in the file.
"""

from __future__ import annotations

import json

from ._gazetteer import _MAX_WORDS, GAZETTEER_PATH
from ._normalise import norm_text

#: English short names that ISO 3166-1 replaced (UN/ISO name changes: Türkiye 2022,
#: North Macedonia 2019, Eswatini 2018, Czechia 2016, Cabo Verde 2013) and two
#: abbreviations of country names common in titles; pycountry keeps only current names.
_FORMER_NAMES = {
    "turkey": "C:TR", "macedonia": "C:MK", "former yugoslav republic of macedonia": "C:MK",
    "swaziland": "C:SZ", "czech republic": "C:CZ", "cape verde": "C:CV",
    "ivory coast": "C:CI", "usa": "C:US", "uk": "C:GB", "eu": "R:EU",
}
#: Names that are also ordinary English words in titles, or too short to be safe.
_NOT_ENTITIES = {"afar", "ewe", "ido", "twi", "lao", "man", "sango", "interlingua",
                 "interlingue", "volapuk", "ga", "kongo", "komi", "pali", "cree", "herero",
                 "venda", "tonga islands", "chamorro", "ganda", "world", "macrolanguage"}
_LOCALES = ("de", "fr", "es", "it", "pt", "nl")


def _norm(text: str) -> str:
    return norm_text(text)


def _variants(name: str, *, inner: bool = True) -> list[str]:
    """A name, its parts around a comma turned round, and its text outside brackets."""
    out = [name]
    if "(" in name:
        head = name.split("(", 1)[0].strip()
        out.append(head)
        if inner and ")" in name:
            out.append(name[name.index("(") + 1:name.rindex(")")])
    if "," in name:
        head, tail = (s.strip() for s in name.split(",", 1))
        out += [head, f"{tail} {head}"]
    if " - " in name:
        out.append(name.split(" - ", 1)[0])
    for suffix in (" SAR China",):
        if name.endswith(suffix):
            out.append(name[: -len(suffix)])
    return [v for v in out if v]


def _adjectives(name: str) -> list[str]:
    """Regular English adjectives of place of a one-word name, the likeliest first.

    Armenia -> Armenian, Canada -> Canadian, Morocco -> Moroccan, Europe -> European,
    Italy -> Italian, Iraq -> Iraqi, Japan -> Japanese.
    """
    if " " in name or len(name) < 4:
        return []
    if name.endswith("a"):
        return [name + "n", name[:-1] + "ian"]
    if name.endswith("o"):
        return [name[:-1] + "an"]
    if name.endswith("e"):
        return [name + "an"]
    if name.endswith("y"):
        return [name[:-1] + "ian"]
    if name.endswith(("q", "n", "l", "t", "sh", "r")):
        return [name + "i", name + "ian", name + "ese"]
    return [name + "ian"]


def build() -> dict:
    """The gazetteer as a JSON-ready dict (needs pycountry and babel; run by developers)."""
    import gettext

    import babel
    import pycountry
    from babel import Locale

    names: dict[str, set[str]] = {}
    priority: dict[str, int] = {}

    def add(name: str, code: str, rank: int) -> None:
        key = _norm(name)
        short = len(key.replace(" ", "")) < 4 and key not in _FORMER_NAMES
        if (not key or short or key in _NOT_ENTITIES or any(c.isdigit() for c in key)
                or len(key.split()) > _MAX_WORDS):
            return
        if key in priority and priority[key] < rank:
            return
        if key in priority and priority[key] > rank:
            names[key] = set()
        priority[key] = rank
        names.setdefault(key, set()).add(code)

    english = Locale("en")
    short_names: dict[str, str] = {}
    for country in pycountry.countries:
        code = "C:" + country.alpha_2
        for field in ("name", "official_name", "common_name"):
            value = getattr(country, field, None)
            for variant in _variants(value) if value else []:
                add(variant, code, 0)
        short_names[code] = getattr(country, "common_name", None) or country.name.split(",")[0]
        for lang in _LOCALES:
            tr = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
            for variant in _variants(tr.gettext(country.name)):
                add(variant, code, 1)
    for country in pycountry.historic_countries:
        code = "H:" + country.alpha_4
        for variant in _variants(country.name):
            add(variant, code, 0)
    groupings = ("EU", "UN", "EZ")
    for key, label in english.territories.items():
        is_country = key.isalpha() and len(key) == 2 and key not in groupings
        code = ("C:" if is_country else "R:") + key
        if key.startswith("Q") or key in ("ZZ", "XA", "XB", "EZ"):
            continue
        for variant in _variants(label):
            add(variant, code, 0)
        if code.startswith("R:"):
            short_names[code] = label
    for key, label in english.territories.items():
        if key.isalpha() and len(key) == 2 and key not in groupings:
            short_names.setdefault("C:" + key, label)
    for nation in pycountry.subdivisions.get(country_code="GB"):
        if nation.type in ("Country", "Province"):
            add(nation.name.split("[")[0].strip(), "S:" + nation.code, 0)
    for lang in pycountry.languages:
        if not hasattr(lang, "alpha_2"):
            continue
        code = "L:" + lang.alpha_2
        for variant in _variants(lang.name, inner=False):
            add(variant, code, 0)
        if lang.alpha_2 in english.languages:
            add(english.languages[lang.alpha_2], code, 0)
    for name, code in _FORMER_NAMES.items():
        add(name, code, 0)
        short_names.setdefault(code, name)
    for code, name in sorted(short_names.items()):
        for rank, adjective in enumerate(_adjectives(_norm(name)), start=2):
            add(adjective, code, rank)
    table = {k: sorted(v) for k, v in sorted(names.items()) if v}
    return {
        "info": {
            "generated_by": "python -m evidence_synth.dedup._gazetteer_build",
            "sources": {"pycountry": pycountry.__version__ if hasattr(pycountry, "__version__")
                        else "", "babel": babel.__version__,
                        "cldr": babel.core.get_cldr_version()},
            "codes": "C: ISO 3166-1 alpha-2; H: ISO 3166-3; L: ISO 639-1; S: ISO 3166-2 "
                     "(nations of the United Kingdom); R: UN M49 region or CLDR grouping "
                     "(EU, UN)",
        },
        "names": table,
    }


def main() -> int:
    data = build()
    GAZETTEER_PATH.write_text(json.dumps(data, ensure_ascii=False, indent=0, sort_keys=True)
                              + "\n", encoding="utf-8")
    print(f"wrote {len(data['names'])} names to {GAZETTEER_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
