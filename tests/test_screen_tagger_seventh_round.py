"""The seventh round's vocabulary classes (issue 18), on hand-written titles.

Written by the rule author, one title per phrasing, none taken from a labelled set: they
check that each class of ``screening/rules.yaml``'s seventh round does what its label says
and that its look-alikes stay out (codebook rules 7, 11, 12, 13), not how well the rules
generalise (that is the fresh sets' job; docs/screening.md, "Seventh round").
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from evidence_synth.screen.rules import fold_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_screen_tagger_sixth_round import BORDER, PARTNERSHIP, misjudged_titles

_BOTH = [
    # the UK-France Channel treaties named in other languages
    "Le traité de Sandhurst et les migrants à Calais",
    "Der Sandhurst-Vertrag und die Überfahrten im Ärmelkanal",
    # police cooperation agreements on migrants (the JMCD category)
    "Police cooperation agreement between Italy and Tunisia on irregular migrants",
    "Acuerdo de cooperación policial entre España y Marruecos sobre inmigración irregular",
    # processing in a named transfer partner (codebook rule 4)
    "Extraterritorial processing of asylum seekers in Papua New Guinea",
]
_BORDER = [
    "Borderisation and the migrant in contemporary Europe",
    "La fronterización de la migración en Chile",
    "Preventing boat departures from the Libyan coast: migrants and coast guards",
    "Dissuader les traversées des migrants dans la Manche",
    "Migrants and national security at Guatemala's border",
    "Outsourcing border control to transit states: migrants in the Sahel",
    "Extra-territorial processing of asylum seekers on Pacific islands",
    "A terceirização das fronteiras europeias",
]
_PARTNERSHIP = [
    "El Plan África de España y la política migratoria en el Sahel",
    "Better Migration Management in Sudan and Eritrea: an evaluation",
    "Gambia refuses to take back its nationals from Germany",
    "Herkunftsstaaten sollen ihre Staatsangehörigen zurücknehmen",
    "La réadmission, un chantage diplomatique entre l'UE et l'Afrique",
    "Readmission as a bargaining chip in EU-Africa relations",
    "Visa cuts for Gambia over deportations",
    "Francia reduce los visados a Argelia y Marruecos",
    "Visa-free travel to the Schengen area for Moldovan citizens",
    "Gli accordi con i paesi di origine sui migranti",
    "Los tratados con países africanos en materia de migración",
    "The Caribbean Interdiction Program and Haitian boat people",
]
_PARTNERSHIP_ONLY = [  # a return deal alone is partnership only (codebook rule 8)
    "A bilateral return agreement between Spain and Mauritania",
]
_NOT_PARTNERSHIP = [  # named programmes the fresh sets' labellers read as unilateral
    "Programa Frontera Sur and Central American migrants in Chiapas",
    "Alien migrant interdiction by the US Coast Guard",
    "Tratados de libre comercio con países africanos y la inmigración",
]
_NEITHER = [
    "One-stop border posts and trade facilitation in East Africa",
    "Border security and the ECOWAS free movement protocol for traders",
    "Customs clearance at border posts and logistics performance",
    "Bilateral labour agreements for domestic workers in the Gulf",
    "Acuerdos bilaterales de migración laboral con Canadá",
    "Belarus-sponsored migration and relations with Lithuania",
    "Preventing irregular migration through vocational training",
    "Hospital readmission and pressure ulcers in older patients",
    "Visa restrictions for international students during COVID-19",
    "Sandhurst cadets and military leadership",
    "Food security and migrants in border regions",
]


@pytest.mark.parametrize(("titles", "tag", "expected"), [
    (_BOTH, BORDER, True),
    (_BOTH, PARTNERSHIP, True),
    (_BORDER, BORDER, True),
    (_PARTNERSHIP, PARTNERSHIP, True),
    (_PARTNERSHIP_ONLY, PARTNERSHIP, True),
    (_PARTNERSHIP_ONLY, BORDER, False),
    (_NOT_PARTNERSHIP, PARTNERSHIP, False),
    (_NEITHER, BORDER, False),
    (_NEITHER, PARTNERSHIP, False),
])
def test_review_vocabulary_seventh_round(review_rules, titles, tag, expected):
    assert misjudged_titles(review_rules, titles, tag, expected) == []


def test_every_review_term_is_found_in_its_own_text(review_rules):
    # The lexicon is one regular expression whose alternatives are tried in order, so a
    # phrase can be hidden by a variant of its first word ("EU-Turkey agreement" behind
    # "EU Turkey", "extraterritorial processing" behind "extra-territorial*"). The
    # round-six rules had nine such phrases that could never match.
    lexicon = review_rules._compiled.lexicon
    hidden = []
    for term in sorted(lexicon.terms):
        if "*" in term.rstrip("*"):
            continue  # a wildcard inside a word ("weaponi*ation") has no text of its own
        text = fold_text(term.rstrip("*"))
        match = lexicon.regex.search("\n" + text)
        if match is None or match.group(1) != text:
            hidden.append(term)
    assert hidden == []
