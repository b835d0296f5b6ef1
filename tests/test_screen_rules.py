"""Screening criteria and rules: loading, matching, tags, auto-exclusion, tagger quality."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import ProtocolError
from evidence_synth.screen import (
    Criteria,
    RuleSet,
    apply_rules,
    highlight_html,
    load_criteria,
    load_rules,
)
from evidence_synth.screen.rules import fold_text

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests" / "fixtures" / "screen"
PROTOCOL = ROOT / "protocols" / "irregular-migration-egm-update.yaml"


@pytest.fixture(scope="module")
def tiny() -> RuleSet:
    return load_rules(FIX / "tiny_rules.yaml")


@pytest.fixture(scope="module")
def tiny_criteria() -> Criteria:
    return load_criteria(FIX / "tiny_criteria.yaml")


def _records(*rows: dict) -> pd.DataFrame:
    return records_from_dicts([{"record_id": f"r{i}", **row} for i, row in enumerate(rows)])


def _hits(rules: RuleSet, **fields: str):
    return apply_rules(_records(fields), rules)["r0"]


# -- the review's own files ----------------------------------------------------------------


def test_review_rules_and_criteria_load(review_rules):
    criteria = load_criteria(ROOT / "screening" / "criteria.yaml")
    assert set(criteria.stages) == {"title_abstract", "retrieval", "full_text"}
    assert "ext:border_management" in review_rules.tags
    assert "ext:partnership_diplomacy" in review_rules.tags
    auto = {a.rule for a in criteria.stage("title_abstract").auto_exclude if a.rule}
    assert auto <= {r.id for r in review_rules.rules}


def test_review_codes_and_tags_match_the_protocol(review_rules):
    if not PROTOCOL.exists():
        pytest.skip("protocol not present")
    from evidence_synth.protocol import load_protocol

    protocol = load_protocol(PROTOCOL)
    criteria = load_criteria(ROOT / "screening" / "criteria.yaml")
    reasons = protocol.exclusion_reasons_frame()
    for stage, spec in criteria.stages.items():
        expected = set(reasons.loc[reasons["stage"] == stage, "code"])
        assert {r.code for r in spec.reasons} == expected, stage
        nodes = {n for c in spec.criteria for n in c.nodes}
        assert nodes <= protocol.node_ids
    assert set(review_rules.tags) <= protocol.node_ids


# -- validation ----------------------------------------------------------------------------


def test_bad_rules_report_every_problem_with_path_and_line():
    with pytest.raises(ProtocolError) as info:
        load_rules(FIX / "bad_rules.yaml")
    problems = info.value.problems
    assert list(problems["path"]) == [
        "$.rules[0].terms[0]", "$.rules[1].terms", "$.rules[2].pattern",
        "$.rules[3].requires", "$.rules[4].tags[0]", "$.rules[5].id",
    ]
    assert list(problems["line"]) == [8, 9, 13, 17, 21, 22]
    assert "use type: phrase" in problems["problem"][0]
    assert "bad_rules.yaml" in str(info.value)


def test_bad_criteria_report_every_problem_with_path_and_line():
    with pytest.raises(ProtocolError) as info:
        load_criteria(FIX / "bad_criteria.yaml")
    problems = info.value.problems
    assert list(problems["line"]) == [7, 11, 12]
    assert "exactly one of year_before or rule" in problems["problem"][1]
    assert "TA_OLD" in problems["problem"][2]


def test_rules_from_dict_validates_without_a_file():
    with pytest.raises(ProtocolError, match=r"\$\.rules\[0\]\.type"):
        RuleSet.from_dict({"schema_version": 1, "rules": [{"id": "x", "type": "fuzzy"}]})


def test_auto_exclusion_naming_an_unknown_rule_is_refused(tiny_criteria):
    rules = RuleSet.from_dict({"schema_version": 1, "rules": [
        {"id": "frontex", "type": "keyword", "terms": ["frontex"]}]})
    with pytest.raises(ProtocolError, match="editorial_type"):
        apply_rules(_records({"title": "x"}), rules, criteria=tiny_criteria)


# -- matching ------------------------------------------------------------------------------


def test_fold_text_keeps_offsets():
    text = "Contrôle des frontières – “Grenzschließung” İstanbul Æ ﬁ"
    assert len(fold_text(text)) == len(text)
    assert fold_text("Garde-Côtes ÉTÉ") == "garde-cotes ete"


def test_accent_and_case_insensitive_with_original_offsets(tiny):
    title = "Le CONTRÔLE des Frontières et les garde-côtes"
    hits = _hits(tiny, title=title)
    assert hits.tags == ("ext:border_management",)
    assert [s.text for s in hits.spans] == ["CONTRÔLE des Frontières", "garde-côtes"]
    assert all(title[s.start:s.end] == s.text for s in hits.spans)


def test_word_boundaries(tiny):
    assert _hits(tiny, title="Borderline control of Frontexes").rules == ()
    assert _hits(tiny, title="(Frontex)").rules == ("frontex",)


def test_hyphens_spaces_and_wildcards(tiny):
    for text in ("push-backs at sea", "push back", "Pushbacks", "push\u2010back"):
        assert _hits(tiny, title=text).rules == ("pushbacks",), text
    assert _hits(tiny, title="Border-controls in Europe").rules == ("border_control",)
    hits = _hits(tiny, abstract="Les interceptions en mer ont augmenté.")
    assert [s.text for s in hits.spans] == ["interceptions en mer"]


def test_requires_context(tiny):
    assert _hits(tiny, title="Hospital readmission rates").rules == ()
    assert _hits(tiny, title="Readmission of migrants").rules == ("readmission",)
    assert _hits(tiny, title="Readmission", abstract="asylum seekers").rules == ("readmission",)


def test_proximity_within_n_words(tiny):
    near = _hits(tiny, abstract="visa policy used for return cooperation")
    assert near.rules == ("visa_near_return",)
    assert [s.text for s in near.spans] == ["visa", "return"]
    far = _hits(tiny, abstract="visa policy used for a lot of return")
    assert far.rules == ()
    assert _hits(tiny, abstract="returns of tourists with visas").rules == ("visa_near_return",)


def test_regex_rule_and_unhighlighted_pub_type(tiny):
    hits = _hits(tiny, title="After the EU-Turkey Statement", pub_type="Editorial")
    assert hits.rules == ("eu_turkey", "editorial_type")
    assert [s.rule_id for s in hits.spans] == ["eu_turkey"]
    assert hits.score == 0.0


def test_regex_rule_whose_group_is_in_one_branch_matches_the_other_branch():
    rules = RuleSet.from_dict({"schema_version": 1, "rules": [
        {"id": "policy_towards", "type": "regex", "fields": ["title"],
         "pattern": r"\b(italian|spanish) migration policy in libya\b"
                    r"|politica [\w\s]+ con marruecos",
         "tags": ["ext:partnership_diplomacy"]}]})
    first = _hits(rules, title="The Italian Migration Policy in Libya")
    assert [s.text for s in first.spans] == ["Italian"]
    second = _hits(rules, title="La política española de control con Marruecos")
    assert second.tags == ("ext:partnership_diplomacy",)
    assert [s.text for s in second.spans] == ["política española de control con Marruecos"]
    assert _hits(rules, title="Migration policy in Morocco").rules == ()


def test_rule_hits_frames(tiny):
    records = _records({"title": "Frontex and pushbacks"}, {"title": "Nothing here"},
                       {"title": "Readmission of refugees"})
    hits = apply_rules(records, tiny)
    frame = hits.to_frame()
    assert list(frame.columns) == ["record_id", "rules", "tags", "n_spans", "score",
                                   "auto_exclude", "auto_exclude_by"]
    assert frame["rules"].tolist() == [["frontex", "pushbacks"], [], ["readmission"]]
    assert frame["score"].tolist() == [3.0, 0.0, 1.0]
    matrix = hits.tag_matrix()
    assert matrix["ext:border_management"].tolist() == [True, False, False]
    assert matrix["ext:partnership_diplomacy"].tolist() == [False, False, True]
    spans = hits.spans()
    assert spans[["record_id", "text"]].values.tolist() == [
        ["r0", "Frontex"], ["r0", "pushbacks"], ["r2", "Readmission"]]
    assert "ext:border_management: 1" in hits.summary()


def test_missing_fields_are_empty(tiny):
    records = records_from_dicts([{"record_id": "a"}])
    assert apply_rules(records, tiny)["a"].rules == ()


# -- auto-exclusion ------------------------------------------------------------------------


def test_auto_exclusions_only_where_the_criteria_say(tiny, tiny_criteria):
    records = _records(
        {"title": "Frontex at sea", "year": 1985},
        {"title": "Frontex at sea", "year": 2015, "pub_type": "Book Review"},
        {"title": "Frontex at sea"},
        {"title": "Frontex at sea", "year": 2015},
    )
    auto = apply_rules(records, tiny, criteria=tiny_criteria).auto_excluded()
    assert auto.values.tolist() == [
        ["r0", "TA_BEFORE_CUTOFF", "year_before:1990"],
        ["r1", "TA_PUBLICATION_TYPE", "rule:editorial_type"],
    ]
    none = apply_rules(records, tiny, criteria=tiny_criteria, stage="full_text")
    assert none.auto_excluded().empty
    assert apply_rules(records, tiny).auto_excluded().empty


# -- highlighting --------------------------------------------------------------------------


def test_highlight_html_escapes_and_marks(tiny):
    text = "<b>Frontex</b> & pushbacks"
    out = highlight_html(text, _hits(tiny, title=text), field="title")
    assert out == (
        '&lt;b&gt;<mark class="es-hit" title="frontex" style="background:#ffd8a8">'
        'Frontex</mark>&lt;/b&gt; &amp; <mark class="es-hit" title="pushbacks" '
        'style="background:#ffd8a8">pushbacks</mark>'
    )
    assert highlight_html("Frontex", tiny).count("<mark") == 1
    assert highlight_html(None, tiny) == ""


def test_overlapping_spans_merge(review_rules):
    out = highlight_html("EU-Turkey statement on readmission agreements for migrants",
                         review_rules)
    # "readmission agreements" is matched by several rules (phrase, keyword and the
    # "agreement" side of proximity rules): one mark naming them all
    assert out.count("<mark") == 3
    assert out.count("readmission agreements</mark>") == 1
    title = out.split("readmission agreements</mark>")[0].rsplit('title="', 1)[1]
    assert {"pd_readmission", "pd_readmission_context", "pd_agreement_on_return"} <= set(
        title.split('"')[0].split(", "))


# -- tagger quality on the labelled sample ---------------------------------------------------


def _precision_recall(sample: pd.DataFrame, rules: RuleSet) -> dict[str, tuple[float, float]]:
    records = sample.assign(record_id=sample["sample_id"])
    matrix = apply_rules(records, rules).tag_matrix()
    out = {}
    for column in ("border_management", "partnership_diplomacy"):
        predicted = matrix[f"ext:{column}"].to_numpy()
        truth = sample[column].to_numpy() == 1
        tp = int((predicted & truth).sum())
        out[column] = (tp / max(int(predicted.sum()), 1), tp / int(truth.sum()))
    return out


def test_tagger_sample_is_documented():
    sample = pd.read_csv(FIX / "tagger_sample.csv")
    assert len(sample) >= 80
    assert set(sample["split"]) == {"dev", "holdout"}
    assert sample["sample_id"].is_unique
    assert (sample["border_management"] == 1).sum() >= 25
    assert (sample["partnership_diplomacy"] == 1).sum() >= 25
    assert {"en", "fr", "es", "de"} <= set(sample["language"])
    assert (sample["category"] == "trap").sum() >= 20


def test_tagger_precision_and_recall(review_rules):
    sample = pd.read_csv(FIX / "tagger_sample.csv")
    # Measured on this sample (see tests/fixtures/screen/README.md): 1.0 everywhere after
    # the rules were tuned on the dev split. Pinned at the measured values.
    for split in ("dev", "holdout"):
        scores = _precision_recall(sample[sample["split"] == split], review_rules)
        for column, (precision, recall) in scores.items():
            assert precision >= 1.0, (split, column, precision)
            assert recall >= 1.0, (split, column, recall)


def test_many_records_in_seconds(review_rules):
    sample = pd.read_csv(FIX / "tagger_sample.csv")
    big = pd.concat([sample] * 50, ignore_index=True)
    big["record_id"] = [f"r{i}" for i in range(len(big))]
    start = time.perf_counter()
    hits = apply_rules(big, review_rules)
    elapsed = time.perf_counter() - start
    assert len(hits) == len(big) == 5450
    assert elapsed < 10, elapsed


@pytest.mark.benchmark
def test_benchmark_100k_records(review_rules):
    sample = pd.read_csv(FIX / "tagger_sample.csv")
    big = pd.concat([sample] * 920, ignore_index=True)
    big["record_id"] = [f"r{i}" for i in range(len(big))]
    start = time.perf_counter()
    apply_rules(big, review_rules)
    elapsed = time.perf_counter() - start
    print(f"apply_rules: {len(big)} records in {elapsed:.1f} s")
    assert elapsed < 60


# -- negative context, wildcard order, terms inside longer terms ------------------------------


def _rules(*rules: dict, **term_sets: list[str]) -> RuleSet:
    return RuleSet.from_dict({"schema_version": 1, "term_sets": term_sets,
                              "rules": list(rules)})


def test_unless_leaves_out_records_with_the_negative_context():
    rules = _rules({"id": "readm", "type": "keyword", "terms": ["readmission*"],
                    "unless": "clinical", "tags": ["ext:partnership_diplomacy"]},
                   clinical=["hospital*", "patient*"])
    frame = apply_rules(_records({"title": "Readmission of persons to Albania"},
                                 {"title": "Readmission after discharge",
                                  "abstract": "Hospital data."}), rules).to_frame()
    assert frame["rules"].tolist() == [["readm"], []]
    inline = _rules({"id": "readm", "type": "keyword", "terms": ["readmission*"],
                     "unless": ["hospital*"]})
    assert apply_rules(_records({"title": "Hospital readmission"}), inline)["r0"].rules == ()


def test_not_near_discards_only_matches_beside_the_context():
    rules = _rules({"id": "frontex", "type": "keyword", "terms": ["Frontex"],
                    "not_near": {"terms": ["reintegration"], "within": 3}})
    near = _hits(rules, title="Frontex reintegration services for returnees")
    far = _hits(rules, title="Reintegration grants for returnees; separately, a study of "
                             "Frontex joint operations in the Aegean")
    assert near.rules == ()
    assert far.rules == ("frontex",) and [s.text for s in far.spans] == ["Frontex"]
    # a proximity pair is dropped when either side sits beside the context
    pair = _rules({"id": "stc", "type": "proximity", "within": 3,
                   "near": [["safe third country"], ["agreement*"]],
                   "not_near": {"terms": ["peace"], "within": 1}})
    assert _hits(pair, title="Safe third country agreement").rules == ("stc",)
    assert _hits(pair, title="Safe third country and the peace agreement").rules == ()


def test_negative_context_names_must_exist():
    with pytest.raises(ProtocolError, match="term_sets name"):
        _rules({"id": "a", "type": "keyword", "terms": ["x"], "unless": "nope"})
    with pytest.raises(ProtocolError, match="term_sets name"):
        _rules({"id": "a", "type": "keyword", "terms": ["x"],
                "not_near": {"terms": "nope", "within": 2}})


def test_a_word_ending_wildcard_does_not_hide_a_longer_phrase():
    rules = _rules({"id": "short", "type": "keyword", "terms": ["asyl*"]},
                   {"id": "long", "type": "phrase", "terms": ["asylum partnership*"]})
    assert set(_hits(rules, title="The Asylum Partnership Arrangement").rules) == {
        "short", "long"}


def test_terms_inside_a_longer_term_count_as_context():
    rules = _rules({"id": "fight", "type": "phrase",
                    "terms": ["fight against illegal immigration"]},
                   {"id": "letters", "type": "phrase", "terms": ["exchange of letters"],
                    "requires": ["immigra*"]})
    hits = _hits(rules, title="Exchange of letters on the fight against illegal immigration")
    assert set(hits.rules) == {"fight", "letters"}


# -- the review's vocabulary: hand-written titles of each class (not real records) ------------

_PARTNERSHIP = [
    # fourth round: formal treaty titles that name no migration word (codebook rule 18)
    "Agreement between the Kingdom of Belgium and Romania on the taking back of persons in an "
    "irregular situation",
    "Agreement between Austria and Slovenia on the acceptance and transit of persons",
    "Arrangement on the transfer and reception of persons staying without authorisation",
    "Agreement between the European Union and the Republic of Belarus on the readmission "
    "of persons residing without authorisation",
    "Agreement between the European Community and the Russian Federation on readmission",
    "Agreement on Returns and Readmissions between the Government of the Kingdom of Sweden "
    "and the Government of Iraq",
    "Migration and Mobility Agreement between the Government of the Federal Republic of "
    "Germany and the Government of the Republic of India",
    "Memorandum of Understanding between the Government of Italy and the Government of "
    "Libya to deter illegal migration and human trafficking",
    "Asylum Partnership Arrangement between the United Kingdom and the Republic of Rwanda",
    "Joint Declaration establishing a Mobility Partnership between the Kingdom of Morocco, "
    "the European Union and its Member States",
    "Implementing Protocol between the Government of Austria and the Government of Serbia "
    "to the Agreement on readmission",
    "Accord entre l'Union européenne et la République de Turquie concernant la réadmission "
    "des personnes en séjour irrégulier",
    "Acuerdo entre la Unión Europea y la República de Armenia sobre readmisión de "
    "residentes ilegales",
    "Abkommen zwischen der Europäischen Union und Georgien über die Rückübernahme von "
    "Personen mit unbefugtem Aufenthalt",
    "Agreement between the European Union and Ukraine on the facilitation of the issuance "
    "of visas",
    "Standard Operating Procedures for the identification and return of persons without "
    "an authorisation to stay",
    "Safe Third Country Agreement between Canada and the United States and asylum claims",
    "Exchange of letters between Spain and Mauritania on cooperation in the fight against "
    "illegal immigration",
    # second round (issue 18): the external dimension, deals, leverage, more languages
    "The external dimension of EU migration policy: cooperation with third countries",
    "Deportation deals and the cooperation of sending countries",
    "Migration as a bargaining chip: Turkey and the EU",
    "Conditionality in EU migration policy",
    "Foreign aid and migration control: evidence from EU aid to Africa",
    "The impact of the Italian-Libyan agreements on sea arrivals",
    "Regional cooperation on migration management between the Western Balkans and EU "
    "member states",
    "Gli accordi di riammissione tra Italia e Tunisia",
    "Acordo de readmissão entre a União Europeia e Cabo Verde",
    "Acuerdos bilaterales de migración laboral entre España y Marruecos",
    # third round (issue 18): the external dimension in any wording, the Trust Fund for
    # Africa named in full, deals named by their pair of states or partner, cooperation
    # on migration in five languages, return policy as foreign policy, conditionality,
    # visa-free regimes, French co-development, regional consultative processes
    'The "external dimension" of EU asylum and immigration policy',
    "The external dimension of Justice and Home Affairs after Lisbon",
    "La dimension externe de la politique d'asile de l'Union européenne",
    "The EU Trust Fund for Africa and the future of development cooperation",
    "Italy renews its memorandum with Libya despite abuses in detention",
    "EU–Turkey migration cooperation after the 2016 Statement",
    "The EU–Turkey March 2016 agreement and refugee returns to Turkey",
    "Gli accordi Italia-Libia e i migranti",
    "The EU and Afghanistan get a deal on migrants",
    "The UK's Rwanda plan for asylum seekers",
    "Cooperación en materia migratoria entre España y Marruecos",
    "Coopération en matière de migration entre la France et le Sénégal",
    "Zusammenarbeit mit Herkunftsländern in der deutschen Migrationspolitik",
    "Rückkehrpolitik als Außenpolitik: Druck auf Drittstaaten",
    "Return policy as foreign policy: how the EU presses third countries to take back "
    "migrants",
    "New approaches to conditionality in EU relations with Morocco: the role of irregular "
    "migration",
    "Visa-free travel and asylum applications: the EU's visa roadmap for the Western Balkans",
    "Les accords de gestion concertée des flux migratoires et le codéveloppement",
    "The Bali Process and regional cooperation against people smuggling",
    "Tripartite agreements on the voluntary repatriation of Afghan refugees",
    "El acuerdo de readmisión entre la UE y Turquía",
    "The Euro-African dialogue on migration and development ten years on",
    "La liberalizzazione dei visti per i Balcani occidentali e le domande di asilo",
    "The EU's external migration policy in Africa",
    "Migration and the EU-Africa partnership after Valletta",
    "Spain's cooperation with Senegal and Mauritania on irregular migration",
    "Accords bilatéraux de gestion des flux migratoires entre la France et le Sénégal",
]
_NOT_PARTNERSHIP = [
    "Thirty-day hospital readmission after heart failure discharge among immigrants",
    "Assisted voluntary return and reintegration programme for returnees to Iraq",
    "The safe third country rule in Hungarian asylum law and rejected applications",
    "An academy for migration training: capacity building for African migration officials",
    "Living arrangements of return migrants in rural Mexico",
    "Urban mobility partnership for electric buses",
    "Agreement between self-reported and measured weight among refugee adolescents",
    "Study protocol for a randomised trial of psychotherapy for refugees",
    "Peace agreements and the return of refugees in Bosnia and Herzegovina",
    # second round: a country's own readmission, programmes' partners, psychology
    "A country willing to readmit the foreigner is regarded as a safe third country",
    "Directorate of borders: repatriation of nationals and readmission of migrants who "
    "moved irregularly",
    "The externalization of internal problems in migrant adolescents",
    "Conditional cash transfers and the migration of young adults",
    "Migrants' bargaining power in the labour market",
    "Legal aid for asylum seekers facing deportation",
    # third round: externalisation without a deal is border management (criterion I2);
    # the same pairs of states sign trade and fisheries agreements; other look-alikes
    "Externalisation of EU migration policy in the Sahel",
    "Outsourcing migration management: EU support to Niger",
    "L'externalisation de l'asile: qu'en disent les juristes ?",
    "The EU–Morocco fisheries agreement and the emigration of young fishermen",
    "A memorandum of understanding on gas between Italy and Libya",
    "The external dimension of EU energy policy",
    "Return policies of origin countries to attract their diaspora back",
    "Groupes de codéveloppement professionnel pour infirmières immigrantes",
    "Visa-free travel and tourism demand in the Western Balkans",
    "Conditionality of conditional cash transfers and the migration of youth",
    "A tripartite agreement between unions, employers and government on migrant wages",
    "Hospital readmisión de pacientes inmigrantes con insuficiencia cardiaca",
    "Cooperation with local NGOs on migrants' health in Berlin",
    "The EU-Turkey customs union agreement and trade in textiles",
]
_BORDER = [
    "Integrated border management programme in Niger: equipment and training for border "
    "police",
    "IOM's Migration Information and Data Analysis System (MIDAS) at land borders",
    "Interceptions at sea by the Libyan coast guard and migrant departures",
    "EU Border Assistance Mission to Moldova and Ukraine",
    "Offshore processing of asylum seekers on Nauru",
    "Frontex joint operations in the Aegean and irregular crossings",
    "Gestion intégrée des frontières au Sahel et migrants",
    "Vigilancia fronteriza y llegadas irregulares a Canarias",
    # second round: deterrence, turnbacks, walls and enforcement, named operations
    "Deterrence policies in Australia: boat turnbacks and offshore detention",
    "Prevention Through Deterrence and migrant deaths in the Sonoran desert",
    "Walls, fences and irregular migration: a global analysis",
    "Mexico's enforcement of its southern border",
    "Drones and the surveillance of migration at sea",
    "The Libyan coast guard and the EU",
    "EU border policies and migrant deaths in the Mediterranean",
    "The Migrant Protection Protocols and asylum seekers in Mexico",
    "Gli accordi Italia-Libia e i respingimenti in mare",
    "Migração e controle de fronteiras no Brasil",
    "Muros fronterizos y migración irregular",
    # third round: generic externalisation and offshore asylum in five languages, carriers,
    # US enforcement vocabulary, internal controls under Schengen, European border
    # services, walls, hotspots, surveillance and search and rescue without migration words
    "Externalisation of EU migration policy in the Sahel",
    "Outsourcing migration management: EU support to Niger",
    "The externalisation of migration control to transit countries",
    "L'émergence d'une politique européenne d'immigration et son externalisation",
    "Esternalizzazione delle frontiere e migranti in Libia",
    "La délocalisation des procédures d'asile hors de l'UE",
    "Offshore asylum and the Pacific Solution revisited",
    "Carriers' liability for undocumented passengers and the right to seek asylum",
    "Responsabilité des transporteurs et demandeurs d'asile",
    "Does imposing consequences deter illegal entry? Evidence from Arizona",
    "Measuring unauthorized border crossings between ports of entry",
    "The probability of apprehension and undocumented migration from Mexico",
    "Immigration enforcement programs and family separation on the US-Mexico border",
    "Reintroduction of internal border controls in the Schengen area",
    "Frontier controls and the free movement of persons in Europe",
    "Towards a European border guard corps",
    "Wall-building in the Americas and undocumented migration",
    "La frontera vertical: la contención de migrantes centroamericanos en México",
    "The 'hotspot' approach in Lesbos and the registration of arrivals",
    "Drohnen für die Festung Europa: Überwachung des Mittelmeeres",
    "Search and rescue in the Central Mediterranean: the withdrawal of state vessels",
    "The fences of Ceuta and Melilla",
    "Le refoulement des exilés à la frontière franco-italienne",
    "Pushbacks from Croatia to Bosnia and the asylum seekers they hit",
    "Closed ports: Italy's policy towards rescue ships carrying migrants",
    "Die Abschottung Europas und die Flüchtlinge im Mittelmeer",
    "La contención migratoria en la frontera sur de México",
    "Transit countries as Europe's gatekeepers: Libya and Niger",
    "The EU-funded containment of migrants in Libya",
    "The border-industrial complex and surveillance technology",
    "Grenzverfahren und Transitzonen an der EU-Außengrenze",
]
_NOT_BORDER = [
    "Assisted voluntary return programme supported by the Frontex Joint Reintegration "
    "Services for migrants",
    "Tuberculosis screening and disease surveillance of refugees at the border",
    "Coast guard training for oil spill response",
    "Food security in border regions among refugees",
    # second round: agencies named as actors, detainees, obstacles
    "Assisted voluntary returns: the Office for Foreigners, the Border Guard and IOM help "
    "migrants with transport and reintegration",
    "Detention and fast-track asylum decisions by the former UK Border Agency for "
    "illegal migrants",
    "A detention centre for foreigners who were arrested or intercepted at sea",
    "Barriers refugees and migrants face in accessing health services",
    "Health of migrants at the US-Mexico border: a cross-sectional study",
    "Wildlife fences and wildebeest migration",
    # third round: look-alikes of each new class
    "Externalizing behaviour problems among refugee children",
    "L'externalisation des services informatiques à l'hôpital",
    "Air carrier liability for passenger injuries under the Montreal Convention",
    "Non-refoulement and the right to asylum in international law",
    "Refoulement et inconscient chez les enfants de migrants: une lecture psychanalytique",
    "Apprehension about the future among undocumented migrant youth",
    "Malaria hotspots in the border districts of Greece",
    "Biodiversity hotspots and species migration on Aegean islands",
    "Crime hotspots and migrant neighbourhoods in Athens",
    "Synthetic aperture radar (SAR) detection of oil spills in the Mediterranean",
    "Catheter pullback in intravascular ultrasound",
    "Teachers' pushback against migrant integration programmes",
    "Enforcement of trade rules at the border: customs and tariffs",
    "Wall-building enzymes in plant cells",
    "Vigilancia epidemiológica de migrantes en la frontera sur de México",
    "Language barriers for Hungarian migrants in Austria",
    "Smuggling markets and illegal border crossings in the Sahara",
    "Port closures during COVID-19 and the welfare of seafarers",
    "Cierre de fronteras y COVID-19: salud de los migrantes venezolanos",
    "General practitioners as gatekeepers of care for migrants",
    "Checkpoints and interior immigration enforcement in Mexico",
]


# Fourth round: classes of the codebook (screening/README.md, "What each tag means"),
# written as new titles, not copied from the development sets.
_BOTH = [  # deals with border measures and transfer arrangements (codebook rules 4 and 9)
    "Offshore processing on Nauru and Manus Island: a decade of harm",
    "The Sandhurst Treaty and Channel crossings",
    "Spain-Senegal cooperation and joint patrols off the Canary Islands",
    "Italy-Libya Memorandum of Understanding of 2017 and pullbacks",
    "L'accord UE-Turquie et les arrivées en Grèce",
    "Accordo Italia-Libia e respingimenti nel Mediterraneo",
    "Asylum Cooperative Agreements with Honduras: a legal analysis",
    "Ten years after the EU-Turkey Statement",
    "Morocco-Spain cooperation against irregular departures and the Ceuta fence",
    "Externalisation and cooperation with transit countries: the EU and Niger",
]
_BORDER_ONLY = [  # border measures with no deal (codebook rules 1-3, 6)
    "EES and ETIAS: the Entry/Exit System at the Schengen external borders",
    "Search and rescue as a pull factor? Evidence from the Central Mediterranean",
    "The US-Mexico border wall and jaguar populations",
    "Niger's 2015 anti-smuggling law and transit migration through Agadez",
    "Croatia: violent border pushbacks continue",
    "Deterrence and death in the Arizona borderlands",
    "Il decreto sicurezza bis e le navi delle ONG",
]
_CODEBOOK_NEITHER = [  # codebook rules 7, 11, 13, 15
    "Quasi-experimental evaluation of national border closures on influenza transmission",
    "Secure Communities, biometrics and local crime rates",
    "Informal cross-border traders and border officials in East Africa",
    "Tent Partnership for Refugees signs a memorandum with UNHCR",
    "Regional review of the Global Compact for Safe, Orderly and Regular Migration",
    "Belarus and the instrumentalisation of migrants in 2021",
    "Coercive engineered migration: Belarus and the EU",
    "Carrier sanctions and the enforcement of visa requirements",
    "Deterring emigration with foreign aid: leveraging aid for development",
    "US-Mexico cooperation against drug smuggling and border patrols",
    "Refugees crossing the shared border of Colombia and Venezuela",
    "Diplomatic protection of migrant workers abroad",
    "Public pushback against new rules on cross-border data flows",
]


@pytest.mark.parametrize(("titles", "tag", "expected"), [
    (_BOTH, "ext:border_management", True),
    (_BOTH, "ext:partnership_diplomacy", True),
    (_BORDER_ONLY, "ext:border_management", True),
    (_BORDER_ONLY, "ext:partnership_diplomacy", False),
    (_CODEBOOK_NEITHER, "ext:partnership_diplomacy", False),
    (_CODEBOOK_NEITHER[:3] + _CODEBOOK_NEITHER[-2:], "ext:border_management", False),
    (_PARTNERSHIP, "ext:partnership_diplomacy", True),
    (_NOT_PARTNERSHIP, "ext:partnership_diplomacy", False),
    (_BORDER, "ext:border_management", True),
    (_NOT_BORDER, "ext:border_management", False),
])
def test_review_vocabulary_by_class(review_rules, titles, tag, expected):
    records = _records(*({"title": t} for t in titles))
    matrix = apply_rules(records, review_rules).tag_matrix()
    wrong = [t for t, hit in zip(titles, matrix[tag], strict=True) if bool(hit) != expected]
    assert wrong == []


# fifth round: the classes of docs/screening.md, "Fifth round", in six languages
_FIFTH_BORDER = [
    "La valla de Melilla y los saltos de migrantes",
    "Les murs anti-migrants en Europe",
    "Il muro al confine tra Stati Uniti e Messico",
    "Die Mauer an der Grenze zu Mexiko",
    "Botswana's electric fence on the Zimbabwe border",
    "El muro de Trump y la migración",
    "Migranti intercettati in mare e riportati in Libia",
    "Turning back the boats: Australia's maritime policy",
    "Pushbacks at the Croatian border",
    "Rétablissement des contrôles aux frontières intérieures",
    "Kontrollen an den Binnengrenzen und Zurückweisungen von Asylsuchenden",
    "Des véhicules pour surveiller les côtes contre la migration irrégulière",
    "Il dopo Mare Nostrum: Triton e Sophia",
    "La fin de Mare Nostrum et l'opération Triton",
    "Sauvetage en mer et facteur d'appel",
    "Patrullas conjuntas de la Guardia Civil en Senegal y Mauritania",
    "Des officiers de liaison immigration dans les pays de transit",
    "La militarización de la frontera sur de México",
    "Política de reforzamiento de la frontera y migrantes indocumentados",
    "Controle migratório europeu em território africano",
    "Radar and drones for the detection of vessels and irregular entry",
    "The true face of Fortress Europe",
    "Maritime interdiction and the Caribbean",
]
_FIFTH_BOTH = [
    "L'accord entre l'Italie et la Libye sur les migrations et les garde-côtes",
    "Accordi Italia-Libia: la lotta all'immigrazione irregolare",
    "Las relaciones España-Senegal y la vigilancia de las pateras",
    "One year after the U.S.-Mexico agreement: Mexico's immigration enforcement",
    "The EU-Lebanon migration deal and the containment of departures",
    "DHS agreements with Guatemala and Honduras on asylum and border security",
    "Agreement between the United States and Honduras for Cooperation in the Examination of "
    "Protection Claims",
    "Le partenariat Royaume-Uni–Rwanda",
    "Das Italien-Albanien-Abkommen",
]
_FIFTH_PARTNERSHIP = [
    "El acuerdo migratorio entre España y Mauritania",
    "L'accordo tra Italia e Tunisia sui rimpatri",
    "Diplomatic tensions between Spain and Morocco over migrants",
    "Acuerdo entre el Reino de España y el Reino de Marruecos relativo a la circulación de "
    "personas, el tránsito y la readmisión de extranjeros entrados ilegalmente",
    "Ausbildungshilfe für die Küstenwache: EU und Libyen unterzeichnen Vereinbarung",
    "La guardia costiera libica e il coordinamento italiano",
    "Deportation of Eritrean asylum seekers from Israel to Uganda",
    "Managing migration: progress with five key partner countries",
    "Les financements européens au Maroc en matière de migration : plus pour les frontières",
    "Il Processo di Khartoum",
    "Los arreglos informales de readmisión",
    "Visa als Druckmittel in der Rückführungspolitik",
    "Le Pacte avec la Jordanie et les réfugiés syriens",
]
_FIFTH_NEITHER = [  # codebook rules 7, 12, 13 and look-alikes
    "The Facility for Refugees in Turkey: an audit of humanitarian aid",
    "Bilateral agreements and memoranda of understanding on migration of low skilled workers",
    "Bilateral labour agreements between Asia and the Gulf: migrant workers' recruitment",
    "Do apprehensions of undocumented immigrants reduce crime?",
    "Barreras de acceso a la salud de las personas migrantes",
    "Triton X-100 lysis buffer operation in migrating cells",
    "EU-Morocco fisheries agreement and migrant fishermen",
    "The assisted voluntary return programme in collaboration with the Moroccan authorities",
    "Development aid and emigration: EU funds in Ethiopia",
    "Cooperación al desarrollo de España con Senegal y migración",
    "Trade and migration in US-Mexico economic relations",
    "Diaspora engagement and emigration: the Morocco-France relationship",
]


@pytest.mark.parametrize(("titles", "tag", "expected"), [
    (_FIFTH_BORDER, "ext:border_management", True),
    (_FIFTH_BOTH, "ext:border_management", True),
    (_FIFTH_BOTH, "ext:partnership_diplomacy", True),
    (_FIFTH_PARTNERSHIP, "ext:partnership_diplomacy", True),
    (_FIFTH_PARTNERSHIP[:4], "ext:border_management", False),
    (_FIFTH_NEITHER, "ext:partnership_diplomacy", False),
    (_FIFTH_NEITHER, "ext:border_management", False),
])
def test_review_vocabulary_fifth_round(review_rules, titles, tag, expected):
    test_review_vocabulary_by_class(review_rules, titles, tag, expected)


def test_no_term_spans_two_records():
    rules = _rules({"id": "short", "type": "keyword", "terms": ["readmission*"]},
                   {"id": "long", "type": "phrase", "terms": ["readmission agreement*"]})
    hits = apply_rules(_records({"title": "Cooperation on readmission"},
                                {"title": "Agreement on returns"}), rules)
    assert hits["r0"].rules == ("short",)
    assert hits["r1"].rules == ()
