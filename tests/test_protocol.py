"""Tests for evidence_synth.protocol and the migration review's protocol."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import doctest
import hashlib
import json
import re
import warnings
from pathlib import Path

import pandas as pd
import pytest
import yaml

from evidence_synth import schema_validation
from evidence_synth.errors import DataQualityWarning, ProtocolError
from evidence_synth.protocol import (
    CURRENT_SCHEMA_VERSION,
    SUPPORTED_SCHEMA_VERSIONS,
    Protocol,
    load_protocol,
    load_schema,
    validate_protocol,
    validate_yaml_document,
)

ROOT = Path(__file__).resolve().parents[1]
REVIEW = ROOT / "protocols" / "irregular-migration-egm-update.yaml"
FIXTURES = ROOT / "tests" / "fixtures" / "protocol"
MINIMAL = FIXTURES / "minimal_v1.yaml"

THREE_IE_ROWS = [
    "Economic Opportunities and Work Policies",
    "Strengthening Resilience Against Shocks and Stressors",
    "Build Safe Communities Through Violence Prevention and Intervention",
    "Orderly and Safe Migration Management",
    "External Migration Management",
    "Multicomponent: Migration partnerships/deal",
    "Multicomponent interventions",
]
THREE_IE_COLUMNS = [
    "Any migration",
    "International migration flow",
    "International migration stock",
    "Intention to migrate",
    "Knowledge, perceptions, attitudes, and Expectations",
]


@pytest.fixture(scope="module")
def review() -> Protocol:
    return load_protocol(REVIEW)


@pytest.fixture
def minimal_dict() -> dict:
    return load_protocol(MINIMAL).to_dict()


def _problems(exc_info: pytest.ExceptionInfo[ProtocolError]) -> list[tuple[str, object, str]]:
    frame = exc_info.value.problems
    return [(r.path, None if pd.isna(r.line) else int(r.line), r.problem)
            for r in frame.itertuples()]


# ---------------------------------------------------------------- the real protocol


def test_review_protocol_loads_with_its_parts(review: Protocol) -> None:
    assert review.review_id == "irregular-migration-egm-update"
    assert review.schema_version == CURRENT_SCHEMA_VERSION == 1
    assert review.path == REVIEW
    assert review.data["review"]["type"] == "evidence_gap_map_update"
    assert review.data["review"]["previous_version"]["framework"] == "3ie"

    nodes = review.framework_frame()
    top_3ie = nodes[(nodes.namespace == "3ie") & nodes.parent_id.isna()]
    assert top_3ie[top_3ie.kind == "row"].label.tolist() == THREE_IE_ROWS
    assert top_3ie[top_3ie.kind == "column"].label.tolist() == THREE_IE_COLUMNS
    assert top_3ie.read_only.all()

    by_id = nodes.set_index("node_id")
    assert by_id.loc["ext:border_management", "maps_to"] == "3ie:external_migration_management"
    assert (by_id.loc["ext:partnership_diplomacy", "maps_to"]
            == "3ie:multicomponent_migration_partnerships_deal")
    effect_classes = nodes[nodes.parent_id == "ext:effect_class"].node_id.tolist()
    assert effect_classes == [
        "ext:effect_class.intended", "ext:effect_class.unintended_beneficial",
        "ext:effect_class.unintended_adverse", "ext:effect_class.unclear",
    ]
    ext_rows = nodes[(nodes.namespace == "ext") & (nodes.kind == "row")]
    assert ext_rows.maps_to.str.startswith("3ie:").all()
    assert len(ext_rows) == 13
    assert review.node_ids == frozenset(nodes.node_id)
    assert len(review.node_ids) == len(nodes) == 53

    sources = review.sources_frame()
    assert sources.kind.tolist().count("previous_version") == 1
    assert {"scopus-update", "wos-update", "econlit-update", "repec-ideas", "3ie-dep", "iom",
            "unhcr", "world-bank", "oecd", "eu-icmpd", "nl-government"} <= set(sources.source_id)
    searched = sources.searched_on.dropna()
    assert len(searched) == 14
    assert searched.str.startswith("2025-").all()
    databases = sources[sources.kind == "database"]
    assert databases["query"].notna().all()
    assert databases.date_from.isin(["2025", "1990"]).all()

    reasons = review.exclusion_reasons_frame()
    assert {"TA_POPULATION", "TA_INTERVENTION", "TA_DESIGN", "TA_OUTCOME", "TA_DUPLICATE",
            "TA_BEFORE_CUTOFF", "RT_NOT_RETRIEVED", "FT_NO_ESTIMATE"} <= set(reasons.code)
    assert set(reasons.stage) == {"title_abstract", "retrieval", "full_text"}

    assert review.stages_frame().stage_id.tolist() == [
        "title_abstract", "retrieval", "full_text", "extraction", "unintended_effects"]
    assert review.data["dedup"]["versions"] == "link"
    assert dict(review.data["screening"]["stopping_rule"]) == {
        "method": "callaghan_muller_hansen", "target_recall": 0.95, "confidence": 0.95,
        "random_sample_after": 50,
        "notes": review.data["screening"]["stopping_rule"]["notes"]}
    assert dict(review.data["extraction"]) == {
        "form": "extraction/form.yaml", "codebook": "extraction/unintended-effects-codebook.yaml"}

    criteria = review.eligibility_frame()
    assert criteria.groupby("domain").size().to_dict() == {
        "comparisons": 3, "interventions": 4, "outcomes": 2, "populations": 4,
        "study_designs": 3}


def test_3ie_ids_are_slugs_of_the_map_labels(review: Protocol) -> None:
    nodes = review.framework_frame()
    for node in nodes[nodes.namespace == "3ie"].itertuples():
        slug = re.sub(r"[^a-z0-9]+", "_", node.label.lower()).strip("_")
        assert node.node_id == f"3ie:{slug}"


# ---------------------------------------------------------------- hashing and round trips


def _reverse_keys(value):
    if isinstance(value, dict):
        return {k: _reverse_keys(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reverse_keys(v) for v in value]
    return value


def test_sha256_ignores_key_order_formatting_and_comments(review: Protocol, tmp_path: Path
                                                          ) -> None:
    raw = yaml.safe_load(REVIEW.read_text(encoding="utf-8"))
    reordered = "# a reformatted copy\n" + yaml.safe_dump(
        _reverse_keys(raw), default_flow_style=True, width=4000, sort_keys=False)
    assert reordered.startswith("# a reformatted copy\n{extraction: {codebook:")  # flow style
    copy_path = tmp_path / "reordered.yaml"
    copy_path.write_text(reordered, encoding="utf-8")

    other = load_protocol(copy_path)
    assert list(other.data) != list(review.data)  # key order differs ...
    assert other.sha256 == review.sha256  # ... the hash does not
    assert other == review

    raw["review"]["language"] = "fr"
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(raw), encoding="utf-8")
    assert load_protocol(changed).sha256 != review.sha256


def test_sha256_is_hash_of_canonical_json(review: Protocol) -> None:
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.isoformat() if isinstance(value, dt.date) else value

    raw = plain(yaml.safe_load(REVIEW.read_text(encoding="utf-8")))
    canonical = json.dumps(raw, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert review.to_json() == canonical
    assert review.sha256 == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", review.sha256)


def test_to_dict_round_trips(review: Protocol, tmp_path: Path) -> None:
    data = review.to_dict()
    again = Protocol.from_dict(data)
    assert again == review
    assert again.sha256 == review.sha256
    assert again.path is None
    assert again.to_dict() == data

    data["review"]["title"] = "changed"  # a copy: the protocol is untouched
    assert review.data["review"]["title"] != "changed"

    written = tmp_path / "written.yaml"
    written.write_text(review.to_yaml(), encoding="utf-8")
    assert load_protocol(written) == review
    assert "query: |" in review.to_yaml()  # multi-line queries stay readable


def test_protocol_is_frozen(review: Protocol) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        review.data = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        review.data["review"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        review.data["framework"]["nodes"][0]["label"] = "x"  # type: ignore[index]
    with pytest.raises(AttributeError):
        review.data["sources"].append({})  # type: ignore[attr-defined]
    assert isinstance(review.data["sources"], tuple)
    assert hash(review) == hash(Protocol.from_dict(review.to_dict()))


# ---------------------------------------------------------------- errors, all at once


def test_three_mistakes_are_all_reported_with_paths_and_lines() -> None:
    with pytest.raises(ProtocolError) as exc_info:
        load_protocol(FIXTURES / "three_mistakes.yaml")
    problems = _problems(exc_info)
    assert [(p, line) for p, line, _ in problems] == [
        ("$.review.title", 4),
        ("$.framework.nodes[1].maps_to", 33),
        ("$.sources[1].kind", 61),
    ]
    assert "required key 'title' is missing" in problems[0][2]
    assert "nearest 3ie: node" in problems[1][2]
    assert "'databank' is not one of" in problems[2][2]
    message = str(exc_info.value)
    assert "three_mistakes.yaml: 3 problems" in message
    assert "line 33, $.framework.nodes[1].maps_to" in message


def test_pure_python_yaml_loader_gives_the_same_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    def problems() -> list:
        with pytest.raises(ProtocolError) as exc_info:
            load_protocol(FIXTURES / "three_mistakes.yaml")
        return _problems(exc_info)

    fast = problems()
    monkeypatch.setattr(schema_validation, "_Loader", yaml.SafeLoader)
    assert problems() == fast


def test_three_mistakes_in_the_real_protocol(review: Protocol, tmp_path: Path) -> None:
    text = REVIEW.read_text(encoding="utf-8")
    lines = text.splitlines()
    nodes = review.framework_frame().node_id.tolist()
    sources = review.sources_frame().source_id.tolist()

    # 1. a wrong enum value
    type_line = lines.index("  type: evidence_gap_map_update")
    lines[type_line] = "  type: gap_map_update"
    # 2. an ext: node without maps_to
    node_line = lines.index("    - id: ext:border_management")
    maps_to = node_line + lines[node_line:].index(
        "      maps_to: 3ie:external_migration_management")
    del lines[maps_to]
    # 3. a missing required field
    source_line = lines.index("  - id: 3ie-dep")
    assert lines[source_line + 1] == "    kind: register"
    del lines[source_line + 1]
    broken = tmp_path / "broken.yaml"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(ProtocolError) as exc_info:
        load_protocol(broken)
    assert [(p, line) for p, line, _ in _problems(exc_info)] == [
        ("$.review.type", type_line + 1),
        (f"$.framework.nodes[{nodes.index('ext:border_management')}].maps_to", node_line + 1),
        (f"$.sources[{sources.index('3ie-dep')}].kind", source_line + 1),
    ]


@pytest.mark.parametrize(
    ("edit", "path", "message"),
    [
        (lambda d: d["framework"]["nodes"][2].update(parent="ext:missing"),
         "$.framework.nodes[2].parent", "parent 'ext:missing' of 'ext:new_row.child' is not"),
        (lambda d: d["framework"]["nodes"][4].update(id="ext:new_row"),
         "$.framework.nodes[4].id", "duplicate node id 'ext:new_row' (first at "
         "$.framework.nodes[1].id)"),
        (lambda d: d["framework"]["nodes"][2].update(maps_to="ext:new_row"),
         "$.framework.nodes[2].maps_to", "ext: nodes must map to a 3ie: node"),
        (lambda d: d["framework"]["nodes"][1].update(maps_to="3ie:col_a"),
         "$.framework.nodes[1].maps_to", "maps_to '3ie:col_a' is a column"),
        (lambda d: d["framework"]["nodes"][1].update(maps_to="3ie:nowhere"),
         "$.framework.nodes[1].maps_to", "maps_to '3ie:nowhere' of 'ext:new_row' is not"),
        (lambda d: d["framework"]["nodes"][0].update(read_only=False),
         "$.framework.nodes[0].read_only", "must be read_only: true"),
        (lambda d: d["framework"]["nodes"][0].update(namespace="ext"),
         "$.framework.nodes[0].namespace", "expected namespace '3ie'"),
        (lambda d: d["framework"]["nodes"][3].update(parent="3ie:row_a"),
         "$.framework.nodes[3].parent", "parent '3ie:row_a' is a row"),
        (lambda d: d["exclusion_reasons"][1].update(code="TA_POPULATION"),
         "$.exclusion_reasons[1].code", "duplicate exclusion reason code 'TA_POPULATION'"),
        (lambda d: d["exclusion_reasons"][1].update(stage="screening"),
         "$.exclusion_reasons[1].stage", "stage 'screening' is not a stage id"),
        (lambda d: d["sources"][1].update(id="prev"),
         "$.sources[1].id", "duplicate source id 'prev'"),
        (lambda d: d["eligibility"]["populations"][0].update(reason="TA_NOPE"),
         "$.eligibility.populations[0].reason", "reason 'TA_NOPE' is not a code"),
        (lambda d: d["eligibility"]["outcomes"][0].update(nodes=["3ie:col_b"]),
         "$.eligibility.outcomes[0].nodes[0]", "node '3ie:col_b' is not a node id"),
        (lambda d: d["sources"].pop(0),
         "$.sources", "needs a source with kind: previous_version"),
        (lambda d: d["stages"][1].update(auto_exclude=True),
         "$.stages[1].auto_exclude", "auto_exclude is true but automation_allowed is false"),
        (lambda d: d["eligibility"]["outcomes"][0].update(id="P1"),
         "$.eligibility.outcomes[0].id", "duplicate criterion id 'P1' (first at "
         "$.eligibility.populations[0].id)"),
        (lambda d: d["exclusion_reasons"][0].update(criteria=["X9"]),
         "$.exclusion_reasons[0].criteria[0]", "criterion 'X9' is not a criterion id"),
        (lambda d: d["sources"][1]["date_range"].update({"from": "2026"}),
         "$.sources[1].date_range", "date_range.from '2026' is after"),
    ],
)
def test_semantic_checks(minimal_dict: dict, edit, path: str, message: str) -> None:
    edit(minimal_dict)
    with pytest.raises(ProtocolError) as exc_info:
        validate_protocol(minimal_dict, source="edited.yaml")
    problems = _problems(exc_info)
    assert len(problems) == 1, problems
    assert problems[0][0] == path
    assert problems[0][1] is None  # no YAML, no line
    assert message in problems[0][2]
    assert str(exc_info.value).startswith("edited.yaml: 1 problem in the review protocol")


def test_parent_loop_is_reported(minimal_dict: dict) -> None:
    minimal_dict["framework"]["nodes"][1]["parent"] = "ext:new_row.child"
    with pytest.raises(ProtocolError) as exc_info:
        validate_protocol(minimal_dict)
    assert {p for p, _, m in _problems(exc_info) if "loops back" in m} == {
        "$.framework.nodes[1].parent", "$.framework.nodes[2].parent"}


def test_schema_and_semantic_problems_are_collected_together(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace("  language: en\n", "  language: english\n  owner: me\n")
    text = text.replace("      parent: ext:new_row\n", "      parent: ext:old_row\n")
    path = tmp_path / "both.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as exc_info:
        load_protocol(path)
    assert [(p, line) for p, line, _ in _problems(exc_info)] == [
        ("$.review.language", 8), ("$.review.owner", 9), ("$.framework.nodes[2].parent", 44)]
    problems = _problems(exc_info)
    assert "ISO 639-1" in problems[0][2]
    assert problems[1][2].startswith("unexpected key 'owner'; expected one of: id, title")


def test_malformed_data_gives_problems_not_crashes() -> None:
    garbage = {"schema_version": 1, "review": [], "sources": None,
               "framework": {"nodes": [{"id": 5}, "x", {"id": "ext:a", "kind": "row",
                                                        "parent": 3}]}}
    with pytest.raises(ProtocolError) as exc_info:
        validate_protocol(garbage)
    paths = {p for p, _, _ in _problems(exc_info)}
    assert {"$.review", "$.sources", "$.framework.nodes[0].id", "$.framework.nodes[1]",
            "$.framework.nodes[2].parent", "$.eligibility", "$.stages"} <= paths


def test_odd_yaml_values_are_reported(tmp_path: Path) -> None:
    text = MINIMAL.read_text(encoding="utf-8").replace(
        "    year: 2023\n", "    year: .nan\n    2023: first edition\n")
    path = tmp_path / "odd.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProtocolError) as exc_info:
        load_protocol(path)
    problems = _problems(exc_info)
    assert ("$.review.previous_version.year", 12, "expected a finite number, found nan") in problems
    assert any(p == "$.review.previous_version['2023']" and line == 13
               and "expected a text key, found int 2023" in m for p, line, m in problems)


def test_duplicate_yaml_keys_and_syntax_errors(tmp_path: Path) -> None:
    dup = tmp_path / "dup.yaml"
    dup.write_text(MINIMAL.read_text(encoding="utf-8").replace(
        "  language: en\n", "  language: en\n  language: fr\n"), encoding="utf-8")
    with pytest.raises(ProtocolError) as exc_info:
        load_protocol(dup)
    assert _problems(exc_info) == [
        ("$.review.language", 9, "duplicate key 'language' (first on line 8); YAML keeps "
         "only the last value")]

    bad = tmp_path / "bad.yaml"
    bad.write_text("review:\n  id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ProtocolError, match=r"bad\.yaml, line 3, column 1: not valid YAML"):
        load_protocol(bad)
    with pytest.raises(ProtocolError, match="file not found"):
        load_protocol(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ProtocolError, match="expected a mapping at the top"):
        load_protocol(tmp_path / "list.yaml")


# ---------------------------------------------------------------- schema versions


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.yaml"
    path.write_text(MINIMAL.read_text(encoding="utf-8").replace(
        "schema_version: 1", "schema_version: 2"), encoding="utf-8")
    with pytest.raises(ProtocolError) as exc_info:
        load_protocol(path)
    message = str(exc_info.value)
    assert "line 2, $.schema_version: found schema_version 2, newer than" in message
    assert "supported versions: 0, 1 (current 1)" in message
    assert SUPPORTED_SCHEMA_VERSIONS == (0, 1)


def test_unknown_older_schema_version_is_refused(minimal_dict: dict) -> None:
    minimal_dict["schema_version"] = -1
    with pytest.raises(ProtocolError, match="found schema_version -1; supported versions: 0, 1"):
        validate_protocol(minimal_dict)


def test_older_schema_version_is_migrated_with_a_warning() -> None:
    with pytest.warns(DataQualityWarning, match="schema_version 0 was migrated to 1"):
        old = load_protocol(FIXTURES / "minimal_v0.yaml")
    assert old.schema_version == 1
    assert old == load_protocol(MINIMAL)
    assert old.exclusion_reasons_frame().code.tolist() == ["TA_POPULATION", "FT_POPULATION"]


def test_migration_does_not_touch_the_input() -> None:
    raw = yaml.safe_load((FIXTURES / "minimal_v0.yaml").read_text(encoding="utf-8"))
    before = copy.deepcopy(raw)
    with pytest.warns(DataQualityWarning):
        validate_protocol(raw)
    assert raw == before


def test_current_version_loads_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_protocol(MINIMAL)


# ---------------------------------------------------------------- frames and generic validation


def test_frames_have_documented_columns_and_dtypes() -> None:
    p = load_protocol(MINIMAL)
    nodes = p.framework_frame()
    assert list(nodes.columns) == ["node_id", "parent_id", "label", "kind", "namespace",
                                   "read_only", "maps_to", "order", "definition", "layer"]
    assert str(nodes.node_id.dtype) == "string"
    assert nodes.read_only.dtype == bool
    assert nodes.order.tolist()[:2] == [1, 2] and pd.isna(nodes.order[2])
    assert nodes.parent_id.isna().tolist() == [True, True, False, True, True]

    sources = p.sources_frame()
    assert sources.loc[1, ["source_id", "searched_on", "date_from", "date_to"]].tolist() == [
        "db", "2025-10-06", "2023", "2025-10-06"]
    assert pd.isna(sources.loc[0, "query"])

    reasons = p.exclusion_reasons_frame()
    assert list(reasons.columns) == ["code", "stage", "label", "description", "order"]
    assert "mini-review" in p.summary() and "3 rows, 1 columns, 1 filters" in p.summary()
    assert p._repr_html_().startswith("<pre>Protocol 'mini-review'")


def test_validate_yaml_document_returns_json_data_and_runs_checks(tmp_path: Path) -> None:
    data = validate_yaml_document(MINIMAL, "protocol")
    assert data["sources"][1]["searched_on"] == "2025-10-06"  # YAML date -> ISO string

    def no_db(doc):
        for i, source in enumerate(doc.get("sources", [])):
            if source.get("id") == "db":
                yield ("sources", i, "id"), "the id 'db' is reserved"

    with pytest.raises(ProtocolError) as exc_info:
        validate_yaml_document(MINIMAL, "protocol.schema.json", checks=[no_db])
    assert _problems(exc_info) == [("$.sources[1].id", 61, "the id 'db' is reserved")]

    with pytest.raises(ProtocolError, match=r"no packaged schema named 'nope.schema.json'.*"
                       r"available: .*protocol\.schema\.json"):
        validate_yaml_document(MINIMAL, "nope")


def test_packaged_schema_is_draft_2020_12_with_descriptions() -> None:
    schema = load_schema("protocol")
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"]
    missing = []

    def walk(node, where):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                if "description" not in sub:
                    missing.append(f"{where}.{name}")
            for key, sub in node.items():
                if key != "if":  # the condition of a rule, not properties
                    walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{where}[{i}]")

    walk(schema, "$")
    # properties given by $ref are described in $defs
    assert [m for m in missing
            if not load_schema("protocol")["$defs"].get(m.rsplit(".", 1)[1], {})
            .get("description")] == []


def test_docs_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = doctest.testfile(str(ROOT / "docs" / "protocol.md"), module_relative=False)
    assert result.failed == 0
    assert result.attempted >= 8


def _unintended_column(node_id: str, **extra) -> dict:
    return {"id": node_id, "label": node_id.split(":")[1], "kind": "column",
            "layer": "unintended", "read_only": False, "namespace": "ext", **extra}


def test_unintended_layer_columns_need_no_maps_to(minimal_dict: dict) -> None:
    nodes = minimal_dict["framework"]["nodes"]
    nodes += [_unintended_column("ext:harm"),
              _unintended_column("ext:harm.route", parent="ext:harm")]
    protocol = validate_protocol(minimal_dict)
    frame = protocol.framework_frame().set_index("node_id")
    assert frame.loc["ext:harm.route", "layer"] == "unintended"
    assert frame.loc["3ie:col_a", "layer"] == "main" and pd.isna(frame.loc["3ie:row_a",
                                                                           "layer"])
    assert "1 columns (+2 unintended-effect columns)" in protocol.summary()


@pytest.mark.parametrize(
    ("node", "path", "message"),
    [
        (_unintended_column("ext:harm", maps_to="3ie:col_a"), "$.framework.nodes[5].maps_to",
         "'ext:harm' is an unintended-effects column, which the previous version did not "
         "code; remove its maps_to"),
        (_unintended_column("ext:harm", parent="3ie:col_a"), "$.framework.nodes[5].parent",
         "parent '3ie:col_a' is in layer 'main', but 'ext:harm' is in layer 'unintended'"),
        ({**_unintended_column("ext:harm"), "kind": "row", "maps_to": "3ie:row_a"},
         "$.framework.nodes[5].kind", "'column' was expected"),
        ({**_unintended_column("ext:harm"), "layer": "main"}, "$.framework.nodes[5].maps_to",
         "required key 'maps_to' is missing"),
    ],
)
def test_layer_rules(minimal_dict: dict, node: dict, path: str, message: str) -> None:
    minimal_dict["framework"]["nodes"].append(node)
    assert len(minimal_dict["framework"]["nodes"]) == 6
    with pytest.raises(ProtocolError) as exc_info:
        validate_protocol(minimal_dict)
    problems = _problems(exc_info)
    assert [p for p in problems if p[0] == path and message in p[2]], problems
