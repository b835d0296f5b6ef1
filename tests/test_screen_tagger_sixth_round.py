"""The sixth round's vocabulary classes (issue 18), on hand-written titles.

Written by the rule author, one title per phrasing, none taken from a labelled set: they
check that each class of ``screening/rules.yaml``'s sixth round does what its label says and
that its look-alikes stay out (codebook rules 7, 8, 12, 13), not how well the rules
generalise (that is the fresh sets' job; docs/screening.md, "Sixth round").
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.screen import RuleSet, apply_rules

ROOT = Path(__file__).resolve().parents[1]

BORDER = "ext:border_management"
PARTNERSHIP = "ext:partnership_diplomacy"

_BOTH = [
    # deals with a partner of the codebook's control or transfer deals, no measure named
    "The memorandum of understanding between the EU and Libya on migrants",
    "Il memorandum d'intesa con Tripoli e i migranti",
    "Accord UE-Turquie : les réfugiés syriens en question",
    "El pacto con Túnez y la migración hacia Europa",
    "Der Migrationsdeal mit Tunesien: Abkommen ohne Kontrolle?",
    "The Rome-Tirana protocol on asylum seekers",
    "O acordo entre a Itália e a Albânia sobre migrantes",
    "Agreement between the Government of the United Kingdom and the Government of the "
    "Republic of Rwanda for the provision of an asylum partnership",
    "Panama and the United States sign a deal on Darién Gap migrants",
    # cooperation with a control partner in a record that names control
    "La collaborazione tra Italia e Libia nel contrasto all'immigrazione irregolare",
    "Partnership with Mauritania and the surveillance of cayucos",
    # safe third country agreements
    "The Safe Third Country Agreement between Canada and the United States and asylum seekers",
    "Acuerdos de tercer país seguro con Guatemala y Honduras",
    # Frontex agreements with third countries
    "Frontex status agreements with Serbia and Montenegro",
    "Negociaciones de Frontex con terceros países",
    # EU money for a partner state's migration control
    "EU grants of 100 million for border management in Tunisia",
    # UK-France Channel deals, deals on control measures
    "The UK and France agreement on Channel small boats",
    "Gli accordi sui respingimenti in mare e i migranti",
]
_BORDER = [
    "Halting the flow of migrants across the Sahara",
    "Bloquer les migrants avant la Méditerranée",
    "Frenar los flujos migratorios en el Estrecho",
    "Recherche et sauvetage en Méditerranée : les ONG et les migrants",
    "Ricerca e soccorso in mare dei migranti",
    "Busca e salvamento de migrantes no Mediterrâneo",
    "L'opération navale européenne face aux migrations",
    "Drones to monitor migrant boats at sea",
    "Obligations of carriers under immigration law",
    "Border management to counter irregular migration in Southern Africa",
    "Eine Einsatztruppe zur Bekämpfung illegaler Migration im Sahel",
    "Fuerzas de seguridad para combatir la inmigración irregular",
    "Migrationskontrolle in Herkunfts- und Transitländern",
    "Border closures during the pandemic and irregular crossings",
    "The Spanish migration policy in Mauritania",
    "Italy's code of conduct for rescue NGOs",
    "L'esternalizzazione delle frontiere in Libia",
    "Controles en los perímetros fronterizos de Ceuta y Melilla y la inmigración",
]
_PARTNERSHIP = [
    "Relations between Italy and Tunisia on the return of migrants",
    "Las relaciones entre España y Marruecos y la migración",
    "Abkommen mit Herkunfts- und Transitländern in der Migrationspolitik",
    "Migration policy under EU pressure: the Western Balkans",
    "Refugees as a foreign policy tool of host states",
    "Les laissez-passer consulaires et l'éloignement des étrangers",
    "Die Zusammenarbeit zwischen Deutschland und Marokko bei Rückführungen",
    "Memorandos de entendimiento sobre migración",
    "The migration clause of the Samoa Agreement",
    "La clause migratoire des accords de Cotonou",
]
_PARTNERSHIP_ONLY = [  # deals the codebook gives partnership only (rules 8 and 12)
    "The readmission agreement between the EU and Turkey",
    "The EU Partnership Framework with Senegal and the fight against smuggling",
    "El acuerdo migratorio entre España y Mauritania",
    "L'accordo tra Italia e Tunisia sui rimpatri",
]
_NEITHER = [
    "Border closures and COVID-19 transmission in travellers",
    "Closed borders and travel bans in the COVID-19 pandemic: migration halted",
    "The G5 Sahel cross-border force against terrorism",
    "Energy agreement between Italy and Libya",
    "Trade agreement between the EU and Tunisia",
    "Ankara Agreement rights of Turkish workers in the EU",
    "Memorandum of understanding between universities in Tunisia and France",
    "Halting the flow of migrants with development aid",
    "Information campaigns to stop irregular migration",
    "Recherche et sauvetage en montagne",
    "Monitoring migrant deaths at sea",
    "Airline obligations to passengers after flight delays",
    "Cooperation between Portugal and Cabo Verde on migrant integration",
    "Stop the exploitation of migrants in agriculture",
    "The externalization of symptoms in refugee children from Libya",
    "Mountain rescue NGOs in the Alps",
    "Living arrangements of Syrian refugees in Turkey",
    "The Istanbul Protocol and torture survivors among refugees in Turkey",
    "The Palermo Protocol and migrant smuggling in Libya",
    "Agreement between self-reported and measured weight among Turkish migrants",
    "Social relations between migrants and natives in Morocco",
    "A pact between generations: Albanian emigrants and remittances",
    "Funding for refugee health services in Lebanon and irregular migration",
]


def misjudged_titles(rules: RuleSet, titles: list[str], tag: str, expected: bool) -> list[str]:
    """The titles whose ``tag`` is not ``expected`` under ``rules`` (each a record alone)."""
    records = pd.DataFrame({"record_id": [f"r{i}" for i in range(len(titles))],
                            "title": titles})
    hits = apply_rules(records, rules).tag_matrix()[tag]
    return [t for t, hit in zip(titles, hits, strict=True) if bool(hit) != expected]


@pytest.mark.parametrize(("titles", "tag", "expected"), [
    (_BOTH, BORDER, True),
    (_BOTH, PARTNERSHIP, True),
    (_BORDER, BORDER, True),
    (_PARTNERSHIP, PARTNERSHIP, True),
    (_PARTNERSHIP_ONLY, PARTNERSHIP, True),
    (_PARTNERSHIP_ONLY, BORDER, False),
    (_NEITHER, BORDER, False),
    (_NEITHER, PARTNERSHIP, False),
])
def test_review_vocabulary_sixth_round(review_rules, titles, tag, expected):
    assert misjudged_titles(review_rules, titles, tag, expected) == []
