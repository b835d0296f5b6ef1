"""Write the bundled demo review (synthetic records) into evidence_synth/datasets/.

Run from the repository root: ``python scripts/make_demo_data.py``. The output is
deterministic; the files are committed, so this script only documents how they were made.

Every record is SYNTHETIC: titles, abstracts, authors, journals and DOIs are invented to
look like the irregular-migration literature. DOIs use the 10.5555 prefix, which Crossref
reserves for examples and never resolves to a real work.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "evidence_synth" / "datasets" / "migration_demo"

# key, title, authors, year, journal, abbrev, vol, issue, pages, ta, ft, ft_reason, topic
STUDIES = [
    ("01", "Border fences and irregular crossings: evidence from the Western Balkans route",
     ["Kovacs, Anna", "Marin, Luca"], 2021, "Journal of Development Economics",
     "J. Dev. Econ.", "152", "", "102688", 1, 1, "", "border",
     "We estimate the effect of fence construction on irregular border crossings using a "
     "difference-in-differences design over 2013-2019 monthly apprehension data. Fences "
     "reduced crossings at treated border segments by 38 percent, but crossings rose at "
     "neighbouring segments, indicating route diversion rather than deterrence."),
    ("02", "Maritime interceptions by partner coast guards and departures from Libya",
     ["Rossi, Giulia", "Haddad, Omar", "Berger, Jonas"], 2022, "World Development",
     "World Dev.", "158", "", "105981", 1, 1, "", "border",
     "Using a synthetic control design, we study how the 2017 expansion of interceptions "
     "by the Libyan coast guard, supported by European partners, affected departures and "
     "deaths at sea. Departures fell sharply, while the mortality rate per crossing rose and "
     "reports of abuse in detention increased."),
    ("03", "Biometric registration and secondary movements of asylum seekers in Europe",
     ["Schmidt, Paula", "Okafor, Chidi"], 2020, "Journal of Public Economics",
     "J. Public Econ.", "190", "", "104245", 1, 1, "", "border",
     "We exploit the staggered roll-out of fingerprint registration at external borders to "
     "estimate effects on onward movements of asylum seekers with panel fixed-effects "
     "models. Registration reduced recorded secondary movements but increased attempts to "
     "avoid registration."),
    ("04", "The EU-Turkey Statement and arrivals on the Aegean islands: a synthetic control "
     "analysis", ["Ortega, Lucia", "Lind, Henrik"], 2019,
     "International Migration Review", "Int. Migr. Rev.", "53", "4", "1125-1151", 1, 1, "",
     "partnership",
     "We build a synthetic Aegean from other sea routes to Europe and estimate the change in "
     "arrivals in Greece from Turkey after the March 2016 EU-Turkey Statement. Arrivals "
     "dropped by more than 90 percent; we discuss displacement to the central Mediterranean "
     "route and the leverage the agreement gave to the partner government."),
    ("05", "Do readmission agreements increase returns? Panel evidence from European "
     "bilateral cooperation", ["Haddad, Omar", "Janssen, Pieter", "El Amrani, Salma"], 2023,
     "Journal of Ethnic and Migration Studies", "J. Ethn. Migr. Stud.", "49", "12",
     "3011-3034", 1, 1, "", "partnership",
     "We assemble a dyadic panel of return decisions and effective returns for 30 European "
     "and 60 origin countries including Morocco and Tunisia, 2008-2020, and estimate the "
     "effect of readmission agreements with two-way fixed effects. Agreements raise the "
     "effective return rate by 5 percentage points, with no effect on new irregular "
     "arrivals."),
    ("06", "Visa facilitation as leverage: conditionality and irregular migration flows",
     ["Laurent, Claire", "Mensah, Kofi"], 2022, "European Economic Review",
     "Eur. Econ. Rev.", "148", "", "104213", 1, 1, "", "partnership",
     "A difference-in-differences design compares origin countries that signed visa "
     "facilitation agreements conditional on readmission cooperation with countries that "
     "did not. Irregular border crossings from treated countries fell by 12 percent, and "
     "regular visa applications rose."),
    ("07", "Mobility partnerships and young people's intention to migrate: evidence from "
     "Morocco", ["Benali, Youssef", "Van Dijk, Marleen"], 2024, "Migration Studies",
     "Migr. Stud.", "12", "2", "201-228", 1, 1, "", "partnership",
     "We combine two waves of a household survey with the timing of a mobility partnership "
     "including a labour mobility pilot. Intention to migrate irregularly fell among "
     "eligible young adults, while intention to migrate through legal pathways rose."),
    ("08", "Cash transfers and migration intentions in northern Nigeria: a randomised "
     "evaluation", ["Adeyemi, Tunde", "Clark, Rebecca"], 2020,
     "Journal of Development Economics", "J. Dev. Econ.", "147", "", "102531", 1, 1, "",
     "economic",
     "We randomly assigned unconditional cash transfers to 1,800 households. Twelve months "
     "later, the transfers reduced stated intentions to migrate internationally by 6 "
     "percentage points, with no effect on internal migration."),
    ("09", "Vocational training for youth and the intention to emigrate: experimental "
     "evidence from Ghana and Nigeria", ["Mensah, Kwame", "Okafor, Ngozi"], 2020,
     "Journal of Development Effectiveness", "J. Dev. Eff.", "12", "3", "255-279", 1, 1, "",
     "economic",
     "A randomised controlled trial of a six-month vocational training programme for "
     "unemployed youth in Kumasi and Benin City found higher employment and a reduction in "
     "the intention to emigrate irregularly among participants after two years."),
    ("10", "Information campaigns on the risks of irregular migration: a cluster randomised "
     "trial in Senegal and Guinea", ["Diallo, Mamadou", "Sørensen, Ida", "Barry, Fatoumata"],
     2021, "American Economic Journal: Applied Economics", "Am. Econ. J. Appl. Econ.", "13",
     "1",
     "1-33", 1, 1, "", "information",
     "Villages were randomised to receive peer-to-peer information sessions on the risks of "
     "the journey to Europe. Participants revised upwards their beliefs about the risk of "
     "death and were less likely to attempt irregular migration within a year."),
    ("11", "Drought resilience programming and distress migration in Ethiopia: a randomised "
     "evaluation", ["Abebe, Hiwot", "Tesfaye, Bethlehem", "Morgan, David"], 2018,
     "Food Policy", "Food Policy", "79", "", "101745", 1, 1, "", "resilience",
     "Households in rural Tigray were randomly assigned to a drought resilience programme. "
     "Two years later, young household members were less likely to intend to migrate and "
     "distress migration after the 2015 drought fell by a quarter."),
    ("12", "Violence prevention in urban neighbourhoods and emigration from Honduras",
     ["Castillo, Maria", "Reyes, Jorge"], 2021, "Journal of Development Economics",
     "J. Dev. Econ.", "151", "", "102650", 1, 1, "", "violence",
     "A regression discontinuity design around the eligibility threshold of a "
     "community violence prevention programme shows lower homicide rates and fewer "
     "apprehensions of migrants from treated municipalities at the US border."),
    ("13", "Effects of information campaigns on migration decisions: a systematic review",
     ["Nguyen, Linh", "Ahmed, Sara", "Kovacs, Anna"], 2023, "Campbell Systematic Reviews",
     "Campbell Syst. Rev.", "19", "2", "e1320", 1, 1, "", "information",
     "We systematically reviewed experimental and quasi-experimental evaluations of "
     "information campaigns aimed at potential migrants. Across 14 studies campaigns "
     "changed risk perceptions but had small and uncertain effects on migration."),
    ("14", "Legal labour pathways and irregular departures: evidence from a pilot in Egypt",
     ["Mostafa, Nour", "Bakker, Thijs"], 2024, "World Bank Economic Review",
     "World Bank Econ. Rev.", "38", "1", "77-102", 1, 1, "", "partnership",
     "Applicants to a temporary labour migration pilot were selected by lottery. Winners "
     "migrated legally in large numbers, and their siblings were less likely to depart "
     "irregularly."),
    ("15", "Assisted return and reintegration in Iraq: do reintegration packages reduce "
     "re-migration?", ["Hassan, Ali", "De Vries, Anouk"], 2023, "International Migration",
     "Int. Migr.", "61", "5", "88-107", 1, 1, "", "return",
     "We match returnees who received reintegration packages with comparable returnees who "
     "did not. Packages improved employment but did not change intentions to re-migrate."),
    ("16", "Withdrawal of search and rescue and deaths at sea in the central Mediterranean",
     ["Moretti, Franco", "Abdi, Hodan"], 2020, "Journal of Refugee Studies",
     "J. Refug. Stud.", "33", "3", "611-634", 1, 1, "", "border",
     "An interrupted time series of departures and recorded deaths shows that the end of "
     "state-led search and rescue did not reduce departures, while the death rate per "
     "crossing increased."),
    ("17", "Pushbacks at the external border: a qualitative account of migrants' experiences",
     ["Novak, Petra", "Yilmaz, Deniz"], 2022, "Geopolitics", "Geopolitics", "27", "4",
     "1201-1224", 1, 0, "FT_DESIGN", "border",
     "Drawing on 45 interviews with migrants in Bosnia and Herzegovina, we document "
     "practices of pushbacks by border police and their consequences for migrants' safety "
     "and routes."),
    ("18", "Remittances and household consumption smoothing in Tajikistan",
     ["Rahimov, Farrukh", "Allen, Sophie"], 2020, "Journal of Comparative Economics",
     "J. Comp. Econ.", "48", "2", "412-430", 1, 0, "FT_INTERVENTION", "other",
     "We estimate how remittances respond to income shocks in origin households using "
     "household panel data; remittances smooth consumption after harvest failures."),
    ("19", "Collective cell migration at tissue borders during wound healing",
     ["Lee, Min-jun", "Ortega, Ana"], 2021, "Nature Cell Biology", "Nat. Cell Biol.", "23",
     "6", "601-612", 0, 0, "", "trap",
     "We show how epithelial cells coordinate collective migration at tissue borders, "
     "combining live imaging with laser ablation experiments."),
    ("20", "Stopover behaviour of migratory birds along the East Atlantic flyway",
     ["Jansen, Erik", "Silva, Rita"], 2019, "Journal of Avian Biology", "J. Avian Biol.",
     "50", "9", "e02120", 0, 0, "", "trap",
     "Tracking data from 120 tagged birds reveal how stopover duration depends on fuel "
     "load and wind conditions."),
    ("21", "Zero-downtime database migration strategies for cloud services",
     ["Gupta, Rahul", "Weber, Tom"], 2022, "IEEE Transactions on Cloud Computing",
     "IEEE Trans. Cloud Comput.", "10", "3", "1788-1801", 0, 0, "", "trap",
     "We compare live migration strategies for relational databases and propose a "
     "schema-versioning protocol that avoids downtime."),
    ("22", "Supplier partnerships and diplomacy in global value chains",
     ["Müller, Karin", "Osei, Ama"], 2020, "Journal of International Business Studies",
     "J. Int. Bus. Stud.", "51", "7", "1100-1122", 0, 0, "", "trap",
     "We study how multinational firms manage supplier partnerships through corporate "
     "diplomacy in politically unstable countries."),
    ("23", "Self-reported health of newly arrived migrants in Germany: a cross-sectional "
     "survey", ["Weber, Lena", "Karimi, Reza"], 2021, "BMC Public Health",
     "BMC Public Health", "21", "", "1450", 0, 0, "", "descriptive",
     "A cross-sectional survey of 2,400 newly arrived migrants describes self-reported "
     "health, access to care and unmet needs."),
    ("24", "Climate change and future migration: a gravity model projection to 2050",
     ["Andersson, Lars", "Mbeki, Thandi"], 2022, "Global Environmental Change",
     "Glob. Environ. Change", "75", "", "102552", 0, 0, "", "modelling",
     "We project bilateral migration flows under climate scenarios with a gravity model "
     "calibrated on historical data."),
    ("25", "Europe's migration deals: a commentary", ["Van Leeuwen, Joost"], 2020,
     "Forced Migration Review", "Forced Migr. Rev.", "64", "", "12-14", 0, 0, "",
     "editorial",
     "A short commentary on recent migration deals between the European Union and partner "
     "countries, and the questions they raise for accountability."),
    ("26", "Anti-smuggling enforcement and migration through the Sahara: a "
     "difference-in-differences analysis of Agadez checkpoints",
     ["Keller, Anja", "Ibrahim, Moussa", "Sani, Aicha"], 2022, "World Development",
     "World Dev.", "151", "", "105760", 1, 1, "", "border",
     "Comparing checkpoints on northern routes out of Agadez before and after enforcement of "
     "the 2015 anti-smuggling law with checkpoints on other routes, we find fewer recorded "
     "departures, rising smuggling prices, diversion to more dangerous desert routes and more "
     "deaths in transit."),
    ("27", "Bordering practices in medieval Europe: a historical essay",
     ["Dupont, Marc"], 2018, "Journal of Historical Geography", "J. Hist. Geogr.", "62", "",
     "45-56", 0, 0, "", "trap",
     "An essay on how medieval polities marked and controlled their borders."),
    ("28", "Mental health of children in refugee camps: a descriptive study",
     ["Haddad, Lina", "Moore, Ellen"], 2020, "Child Abuse & Neglect", "Child Abuse Negl.",
     "106", "", "104512", 0, 0, "", "descriptive",
     "We describe symptoms of anxiety and depression among 600 children in three camps."),
    ("29", "Labour market effects of emigration on sending regions in Poland",
     ["Nowak, Tomasz", "Clarke, James"], 2009, "Labour Economics", "Labour Econ.", "16", "4",
     "401-412", 0, 0, "", "old",
     "We estimate effects of emigration after EU accession on wages in sending regions."),
    ("30", "Reply to comment on 'Border fences and irregular crossings: evidence from the "
     "Western Balkans route'", ["Kovacs, Anna", "Marin, Luca"], 2022,
     "Journal of Development Economics", "J. Dev. Econ.", "156", "", "102830", 0, 0, "",
     "editorial",
     "We reply to a comment on our 2021 article on border fences and irregular crossings."),
    ("31", "Conditional cash transfers and international migration in rural Mexico",
     ["Garcia, Elena", "Thompson, Mark"], 2016, "Journal of Development Economics",
     "J. Dev. Econ.", "121", "", "1-15", 1, 1, "", "economic",
     "Exploiting the randomised roll-out of a conditional cash transfer programme, we find a "
     "reduction in international migration of young men."),
    ("32", "Community policing and emigration intentions in El Salvador",
     ["Flores, Ricardo", "Ward, Helen"], 2017, "World Development", "World Dev.", "98", "",
     "212-227", 1, 1, "", "violence",
     "A matched comparison of municipalities with and without a community policing "
     "programme shows lower emigration intentions among young people."),
]
FIELDS = ["key", "title", "authors", "year", "journal", "abbrev", "volume", "issue", "pages",
          "ta", "ft", "ft_reason", "topic", "abstract"]

SCOPUS = [f"{i:02d}" for i in range(1, 25) if i != 13]
WOS = ["01", "02", "03", "04", "05", "06", "07", "08", "14", "15", "16", "17", "18", "25",
       "26", "27", "28", "29", "30"]
# The previous version of the map (the 3ie EGM stand-in): studies already mapped.
PREVIOUS = ["08", "09", "10", "11", "12", "13", "31", "32"]
NO_DOI_IN_WOS = {"05", "16"}
NOT_RETRIEVED = {"06"}
# Why simulated reviewers exclude a study at title/abstract (codes of the protocol).
TA_REASONS = {"trap": "TA_POPULATION", "descriptive": "TA_DESIGN", "modelling": "TA_DESIGN",
              "editorial": "TA_PUBLICATION_TYPE", "old": "TA_BEFORE_CUTOFF"}

# Framework of the stand-in map: 3ie rows and outcome columns with synthetic attribute ids.
ROWS = [
    (9001, "Economic Opportunities and Work Policies"),
    (9002, "Strengthening Resilience Against Shocks and Stressors"),
    (9003, "Build Safe Communities Through Violence Prevention and Intervention"),
    (9004, "Orderly and Safe Migration Management"),
    (9005, "External Migration Management"),
    (9006, "Multicomponent: Migration partnerships/deal"),
    (9007, "Multicomponent interventions"),
]
COLUMNS = [
    (9101, "Any migration"),
    (9102, "International migration flow"),
    (9103, "International migration stock"),
    (9104, "Intention to migrate"),
    (9105, "Knowledge, perceptions, attitudes, and Expectations"),
    # A column the review's protocol does not have: the crosswalk reports its codes as
    # unmatched and the report lists the study carrying it (synthetic, for the demo).
    (9106, "Remittances"),
]
DESIGNS = {9201: "Impact evaluation", 9202: "Systematic review"}
COUNTRIES = {9301: "Nigeria", 9302: "Ghana", 9303: "Senegal", 9304: "Ethiopia",
             9305: "Honduras", 9306: "Mexico", 9307: "El Salvador", 9308: "Multiple"}
MAP_CODES = {  # study -> (row, columns, design, country)
    "08": (9001, [9104], 9201, 9301),
    "09": (9001, [9104], 9201, 9302),
    "10": (9004, [9105, 9101], 9201, 9303),
    "11": (9002, [9101], 9201, 9304),
    "12": (9003, [9102], 9201, 9305),
    "13": (9004, [9105, 9101], 9202, 9308),
    "31": (9001, [9102, 9106], 9201, 9306),
    "32": (9003, [9104], 9201, 9307),
}


# Gap-map coding of the new included studies that have no rows in extraction_example.csv:
# study -> (intervention node, outcome nodes, design, ISO3 countries, citation).
CODING = {
    "01": ("ext:border_management.physical_barriers",
           ["3ie:international_migration_flow", "ext:unintended_outcome.route_diversion"],
           "did", "HUN; SRB"),
    "02": ("ext:border_management.interception_and_pushbacks",
           ["3ie:international_migration_flow", "ext:unintended_outcome.migrant_safety"],
           "synthetic_control", "LBY; ITA"),
    "03": ("ext:border_management.identity_and_biometrics",
           ["3ie:international_migration_flow"], "panel_fixed_effects", "DEU; ITA; GRC"),
    "07": ("ext:partnership_diplomacy.partnerships_and_compacts",
           ["3ie:intention_to_migrate"], "did", "MAR"),
    "14": ("ext:partnership_diplomacy.legal_pathways_in_partnerships",
           ["3ie:international_migration_flow"], "rct", "EGY"),
    "15": ("ext:partnership_diplomacy.readmission_and_return",
           ["3ie:intention_to_migrate"], "psm_matching", "IRQ"),
    "16": ("ext:border_management", ["3ie:international_migration_flow",
                                     "ext:unintended_outcome.migrant_safety"],
           "interrupted_time_series", "ITA; LBY"),
}

CONFIDENCE = {"01": "medium", "02": "medium", "03": "low", "07": "low", "14": "high",
              "15": "medium", "16": "medium"}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    studies = {s[0]: dict(zip(FIELDS, s, strict=True)) for s in STUDIES}
    (OUT / "scopus_search.ris").write_text(_ris(studies), encoding="utf-8", newline="")
    (OUT / "wos_search.txt").write_text(_wos(studies), encoding="utf-8-sig", newline="")
    (OUT / "previous_map_3ie.html").write_text(_eppi_mapper(studies), encoding="utf-8")
    with (OUT / "coding.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["study_key", "citation", "year", "intervention", "outcome", "design",
                         "countries", "confidence", "effect_class", "harm_category",
                         "affected", "direction"])
        for key, (intervention, outcomes, design, countries) in CODING.items():
            s = studies[key]
            surnames = [a.split(",")[0] for a in s["authors"]]
            cited = (" & ".join(surnames) if len(surnames) < 3 else f"{surnames[0]} et al.")
            for outcome in outcomes:
                unintended = outcome.startswith("ext:")
                writer.writerow([f"demo-{key}", f"{cited} ({s['year']}) [synthetic]", s["year"],
                                 intervention, outcome, design, countries, CONFIDENCE[key],
                                 "unintended_adverse" if unintended else "intended",
                                 "direct" if unintended else "",
                                 "migrants" if unintended else "",
                                 "adverse" if unintended else ""])
    with (OUT / "labels.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["study_key", "title", "ta_include", "ta_reason", "retrieved",
                         "ft_include", "ft_reason", "topic"])
        for s in studies.values():
            retrieved = int(bool(s["ta"]) and s["key"] not in NOT_RETRIEVED)
            writer.writerow([f"demo-{s['key']}", s["title"], s["ta"],
                             "" if s["ta"] else TA_REASONS[s["topic"]], retrieved,
                             s["ft"] if retrieved else 0, s["ft_reason"], s["topic"]])


def _doi(s: dict) -> str:
    return f"10.5555/es-demo.{s['key']}"


def _ris(studies: dict) -> str:
    lines = []
    for key in SCOPUS:
        s = studies[key]
        lines += ["TY  - JOUR"]
        lines += [f"AU  - {_initials(a)}" for a in s["authors"]]
        lines += [f"TI  - {s['title']}", f"PY  - {s['year']}", f"T2  - {s['journal']}",
                  f"J2  - {s['abbrev']}", f"VL  - {s['volume']}"]
        if s["issue"]:
            lines.append(f"IS  - {s['issue']}")
        first, _, last = s["pages"].partition("-")
        lines.append(f"SP  - {first}")
        if last:
            lines.append(f"EP  - {last}")
        lines += [f"DO  - {_doi(s)}", f"AB  - {s['abstract']}",
                  f"AN  - 2-s2.0-DEMO00{key}", "DB  - Scopus",
                  "N1  - SYNTHETIC demo record (evidence_synth); not a real publication",
                  "ER  - ", ""]
    return "\n".join(lines) + "\n"


def _wos(studies: dict) -> str:
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0"]
    for key in WOS:
        s = studies[key]
        lines.append("PT J")
        lines += [("AU " if i == 0 else "   ") + _initials(a, comma=True)
                  for i, a in enumerate(s["authors"])]
        lines += [("AF " if i == 0 else "   ") + a for i, a in enumerate(s["authors"])]
        lines += [f"TI {s['title']}", f"SO {s['journal'].upper()}", f"AB {s['abstract']}",
                  f"J9 {s['abbrev'].upper().replace('.', '')}", f"PY {s['year']}",
                  f"VL {s['volume']}"]
        if s["issue"]:
            lines.append(f"IS {s['issue']}")
        first, _, last = s["pages"].partition("-")
        lines += [f"BP {first}"] + ([f"EP {last}"] if last else [f"AR {first}"])
        if key not in NO_DOI_IN_WOS:
            lines.append(f"DI {_doi(s).upper()}")
        lines += [f"UT WOS:DEMO00000000{key}", "DT Article" if key != "30" else "DT Reply",
                  "ER", ""]
    lines.append("EF")
    return "\n".join(lines) + "\n"


def _initials(name: str, *, comma: bool = False) -> str:
    surname, _, given = name.partition(", ")
    initials = "".join(part[0] for part in given.split())
    return f"{surname}, {initials}" if comma else f"{surname} {'.'.join(initials)}."


def _eppi_mapper(studies: dict) -> str:
    col_header = [{"span": len(COLUMNS), "isColumn": True, "id": 9100, "title": "Outcomes",
                   "description": "", "setDescription": "3ie outcome columns"}]
    cols = [{"span": 1, "isColumn": True, "id": i, "title": t, "description": "",
             "setDescription": ""} for i, t in COLUMNS]
    rows = [[{"span": len(ROWS), "isColumn": False, "id": 9000, "title": "Interventions",
              "description": "", "setDescription": "3ie intervention rows"},
             {"span": 1, "isColumn": False, "id": ROWS[0][0], "title": ROWS[0][1],
              "description": "", "setDescription": ""}]]
    rows += [[{"span": 1, "isColumn": False, "id": i, "title": t, "description": "",
               "setDescription": ""}] for i, t in ROWS[1:]]
    csv_data = {"rows": [col_header, cols, *rows], "totalColBreadth": len(COLUMNS),
                "totalColDepth": 2, "totalRowBreadth": len(ROWS), "totalRowDepth": 2}
    filters = [
        {"id": 9200, "label": "Study design", "checked": False,
         "children": [{"id": i, "label": t, "checked": False, "children": []}
                      for i, t in DESIGNS.items()]},
        {"id": 9300, "label": "Country", "checked": False,
         "children": [{"id": i, "label": t, "checked": False, "children": []}
                      for i, t in COUNTRIES.items()]},
    ]
    segments = [{"attribute": {"AttributeSetId": 9200 + n, "AttributeId": i,
                               "OriginalAttributeID": 0, "AttributeSetDescription": "",
                               "AttributeType": "Selectable (show checkbox)",
                               "AttributeName": t, "AttributeDescription": "", "ExtURL": "",
                               "ExtType": ""}, "color": color}
                for n, ((i, t), color) in enumerate(zip(DESIGNS.items(),
                                                        ["#1b9e77", "#d95f02"], strict=True))]
    references = []
    for n, key in enumerate(PREVIOUS):
        s = studies[key]
        row, outcome_cols, design, country = MAP_CODES[key]
        codes = [row, *outcome_cols, design, country]
        references.append({
            "QuickCitation": f"{s['authors'][0]} ({s['year']}) {s['title']}",
            "ItemId": 77000 + n,
            "Title": s["title"],
            "ParentTitle": s["journal"],
            "ShortTitle": f"{s['authors'][0].split(',')[0]} ({s['year']})",
            "Year": str(s["year"]),
            "Volume": s["volume"],
            "Issue": s["issue"],
            "Pages": s["pages"],
            "TypeName": "Journal, Article",
            "Authors": "; ".join(s["authors"]) + ";",
            "DOI": _doi(s),
            "Abstract": s["abstract"],
            "Keywords": "",
            "Codes": [{"AttributeId": c, "AdditionalText": "", "ArmId": 0, "ArmTitle": ""}
                      for c in codes],
        })
    constants = {
        "csvData": csv_data, "filters": filters, "segmentAttributes": segments,
        "referenceData": references, "metaProperties": ["Authors", "Year", "Title", "Journal"],
        "summaryAttribute": "QuickCitation",
    }
    body = "\n".join(f"        const {name} = {json.dumps(value, ensure_ascii=False)};"
                     for name, value in constants.items())
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
        "<title>SYNTHETIC stand-in for the 3ie EGM on irregular migration "
        "(evidence_synth demo)</title>\n</head>\n<body>\n<div id=\"map\"></div>\n"
        "<script>\n" + body + "\n</script>\n</body>\n</html>\n"
    )


if __name__ == "__main__":
    main()
