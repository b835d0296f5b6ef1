"""Countries: ISO 3166-1 alpha-3 codes from pycountry, names shown, nothing guessed."""

from __future__ import annotations

import pytest

from evidence_synth.countries import (
    country_code,
    country_codes,
    country_name,
    normalise_countries,
)


@pytest.mark.parametrize(("value", "code"), [
    ("GHA", "GHA"), ("gha", "GHA"), ("GH", "GHA"), ("Ghana", "GHA"), (" ghana ", "GHA"),
    ("Republic of Ghana", "GHA"), ("288", "GHA"),
    ("Congo, The Democratic Republic of the", "COD"),
    ("Democratic Republic of the Congo", "COD"), ("Korea, Republic of", "KOR"),
    ("Côte d'Ivoire", "CIV"), ("Côte d\u2019Ivoire", "CIV"), ("The Gambia", "GMB"),
    ("Türkiye", "TUR"), ("Turkey", "TUR"), ("Kosovo", "XKX"), ("XKX", "XKX"),
    ("Bolivia", "BOL"), ("Iran", "IRN"),
])
def test_codes_names_and_former_names_resolve(value, code):
    assert country_code(value) == code


@pytest.mark.parametrize("value", ["Multiple", "Sahel", "UKR-ish", "", None, "Atlantis", 3])
def test_nothing_is_guessed(value):
    # pycountry's fuzzy search would say Serbia for "Kosovo"-like strings and Ukraine for
    # "UKR-ish": unknown values stay unknown
    assert country_code(value) is None


def test_names_for_display_in_reading_order():
    assert [country_name(c) for c in ("GHA", "COD", "BOL", "TUR", "XKX", "KOR", "ZZZ")] == [
        "Ghana", "Democratic Republic of the Congo", "Bolivia", "Türkiye", "Kosovo",
        "South Korea", "ZZZ"]


def test_normalise_splits_lists_and_keeps_unknown_values_apart():
    assert normalise_countries("GHA; Ghana, Nigeria | Multiple") == (["GHA", "NGA"],
                                                                      ["Multiple"])
    assert normalise_countries(["Korea, Republic of", "mex"]) == (["KOR", "MEX"], [])
    assert normalise_countries(None) == ([], [])
    assert normalise_countries(["", float("nan")]) == ([], [])


def test_the_code_list_is_iso_3166_plus_kosovo():
    codes = country_codes()
    assert len(codes) >= 250 and "XKX" in codes and "GHA" in codes  # 249 ISO (2024) + XKX
    assert list(codes) == sorted(codes)
