"""The migration review's extraction form and unintended-effects codebook."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence_synth.errors import ProtocolError
from evidence_synth.extract.form import default_form, load_codebook, load_form
from evidence_synth.schema_validation import load_schema

EXTRACTION = Path(__file__).resolve().parents[1] / "extraction"


@pytest.fixture(scope="module")
def form():
    return load_form(EXTRACTION / "form.yaml")


def test_review_form_loads_with_both_levels_and_codebook(form):
    assert form.id == "migration-egm-update"
    assert form.sheets == {"study": "studies", "estimate": "estimates"}
    assert form.names("study")[:3] == ("study_id", "record_ids", "citation")
    assert form.names("estimate")[:2] == ("study_id", "estimate_id")
    assert form.codebook is not None and form.codebook.id == "migration-unintended-effects"
    assert form.counts().loc["codebook codes", "count"] == 29
    summary = form.summary()
    assert summary.splitlines()[0] == f"Extraction form {form.id}: {form.title}"
    assert "codebook codes: 29" in summary.splitlines()


def test_every_schema_required_field_is_on_the_form_and_marked_required(form):
    for level, schema in (("study", "evidence-study"), ("estimate", "evidence-row")):
        for name in load_schema(schema)["required"]:
            assert form.field(level, name).required, (level, name)


def test_framework_includes_the_two_strategies_the_update_adds(form):
    interventions = form.vocabulary("interventions")
    assert "ext:border_management" in interventions
    assert "ext:partnership_diplomacy" in interventions
    assert all(i.split(":")[0] in ("3ie", "ext") for i in interventions)
    assert form.field("estimate", "intervention").choices == interventions
    assert form.field("estimate", "outcome").choices == form.vocabulary("outcomes")


def test_framework_nodes_come_from_the_protocol(form):
    from evidence_synth.protocol import load_protocol

    nodes = load_protocol(EXTRACTION.parent / "protocols" / "irregular-migration-egm-update.yaml"
                          ).framework_frame()
    rows = tuple(nodes.loc[nodes["kind"] == "row", "node_id"])
    columns = tuple(nodes.loc[nodes["kind"] == "column", "node_id"])
    assert form.vocabulary("interventions") == rows
    outcomes = form.vocabulary("outcomes")
    assert outcomes == columns  # the 3ie columns and the unintended-effects layer's columns
    layer = set(nodes.loc[nodes["layer"] == "unintended", "node_id"])
    assert {"ext:unintended_outcome", "ext:unintended_outcome.route_diversion"} <= layer
    domains = {c["domain"] for c in form.codebook.codes}
    assert domains <= set(outcomes)


def test_coded_fields_take_their_values_from_the_schema(form):
    assert form.field("estimate", "effect_class").choices == (
        "intended", "unintended_beneficial", "unintended_adverse", "unclear")
    assert form.field("estimate", "harm_category").choices == (
        "direct", "psychological", "equity", "group_and_social", "opportunity", "economic",
        "environmental", "governance_rule_of_law", "human_rights")
    affected = form.field("estimate", "affected")
    assert affected.kind == "list"
    assert "smugglers_intermediaries" in affected.choices
    assert form.field("estimate", "prespecified").kind == "boolean"
    design = form.field("study", "design").choices
    for name in ("rct", "cluster_rct", "did", "rdd", "iv", "psm_matching", "panel_fixed_effects",
                 "synthetic_control", "interrupted_time_series", "systematic_review"):
        assert name in design
    countries = form.field("study", "countries")
    assert countries.kind == "list" and "NER" in countries.choices
    assert len(countries.choices) == 250  # 249 ISO 3166-1 alpha-3 codes + XKX (Kosovo)


def test_codebook_covers_the_migration_examples_with_harm_links(form):
    book = form.codebook
    for code in ("ROUTE_DIVERSION", "DESTINATION_DISPLACEMENT", "SMUGGLING_PRICE",
                 "PARTNER_FORCE_ABUSE", "PARTNER_LEVERAGE", "RULE_OF_LAW",
                 "DETENTION_CONDITIONS", "DEATHS_IN_TRANSIT", "CORRUPTION",
                 "LEGITIMATE_MOBILITY", "REMITTANCE_CHANGE", "CAPACITY_BUILDING"):
        assert code in book.code_ids
    assert book.code("ROUTE_DIVERSION")["harm_categories"] == ["direct", "human_rights"]
    assert book.code("CAPACITY_BUILDING")["effect_class"] == "unintended_beneficial"
    adverse = [c for c in book.codes if c["effect_class"] == "unintended_adverse"]
    assert all(c.get("harm_categories") for c in adverse)
    frame = book.to_frame()
    assert list(frame.columns[:4]) == ["code", "label", "effect_class", "domain"]
    assert len(frame) == len(book.codes) == 29
    per_class = book.counts()["codes"]
    assert per_class.sum() == 29 and per_class["unintended_beneficial"] >= 1
    assert book.summary().startswith("Codebook migration-unintended-effects: 29 codes (")


def test_unknown_form_field_is_reported_with_path_and_line(tmp_path):
    text = (EXTRACTION / "form.yaml").read_text(encoding="utf-8")
    bad = text.replace("{name: population, label: Population,", "{name: populaton, label: Pop,")
    bad = bad.replace("codebook: unintended-effects-codebook.yaml\n", "")
    path = tmp_path / "form.yaml"
    path.write_text(bad, encoding="utf-8")
    line = bad.splitlines().index(
        next(ln for ln in bad.splitlines() if "populaton" in ln)) + 1
    with pytest.raises(ProtocolError) as info:
        load_form(path)
    problems = info.value.problems
    assert list(problems["path"]) == ["$.levels.study.fields[8].name"]
    assert list(problems["line"]) == [line]
    assert "unknown study field 'populaton'" in problems["problem"].iloc[0]


def test_form_missing_a_required_field_and_bad_parent(tmp_path):
    path = tmp_path / "form.yaml"
    path.write_text(
        "schema_version: 1\nid: tiny\ntitle: Tiny\n"
        "framework:\n  interventions:\n    - {id: 'ext:a', label: A, parent: 'ext:zz'}\n"
        "  outcomes:\n    - {id: 'ext:o', label: O}\n"
        "levels:\n  study:\n    sheet: studies\n    fields:\n"
        "      - {name: study_id, label: S, group: G}\n"
        "  estimate:\n    sheet: estimates\n    fields:\n"
        "      - {name: study_id, label: S, group: G}\n",
        encoding="utf-8",
    )
    with pytest.raises(ProtocolError) as info:
        load_form(path)
    problems = set(info.value.problems["problem"])
    assert "required study field 'citation' is missing" in problems
    assert "required estimate field 'effect_class' is missing" in problems
    assert "parent 'ext:zz' is not a node of interventions" in problems


def test_codebook_duplicate_code_and_bad_harm_category(tmp_path):
    path = tmp_path / "book.yaml"
    path.write_text(
        "schema_version: 1\nid: b\ntitle: B\ncodes:\n"
        "  - {code: X, label: X, definition: d, effect_class: unintended_adverse, "
        "examples: [e], harm_categories: [direct]}\n"
        "  - {code: X, label: Y, definition: d, effect_class: unintended_adverse, "
        "examples: [e], harm_categories: [spiritual]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ProtocolError) as info:
        load_codebook(path)
    paths = list(info.value.problems["path"])
    assert paths == ["$.codes[1].code", "$.codes[1].harm_categories[0]"]
    assert list(info.value.problems["line"]) == [6, 6]


def test_default_form_has_every_schema_field_and_no_framework():
    form = default_form()
    assert "reported.m1i" in form.names("estimate")
    assert "unintended_code" in form.names("estimate")
    assert "rob_selection" in form.names("study")
    assert form.vocabulary("interventions") == ()
    assert form.field("estimate", "yi").computed
