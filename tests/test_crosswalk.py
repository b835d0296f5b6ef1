"""The crosswalk from a previous map to this review's framework, and importing maps.

The fixture map is written by hand: rows "Economic opportunities & work policies"
(label matches with '&' for 'and'), its sub-level "Cash transfers" (no match: placed on
its parent), "Climate adaptation" (no match at all); columns "Any migration" (label),
"Remittances" (no match); a Country filter (Ghana, "GHA" written as a code, and
"Multiple"). Expected placements are worked out by hand in the comments.
"""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest
from click.testing import CliRunner

from evidence_synth.cli import cli
from evidence_synth.crosswalk import crosswalk
from evidence_synth.errors import ContractError, DataQualityWarning
from evidence_synth.io import EvidenceMap
from evidence_synth.report import evidence_from_map, gap_map

FRAMEWORK = pd.DataFrame([
    ("3ie:economic", None, "Economic Opportunities and Work Policies", "row", None),
    ("3ie:external", None, "External Migration Management", "row", None),
    ("ext:border", None, "Border management", "row", "3ie:external"),
    ("3ie:any", None, "Any migration", "column", None),
    ("3ie:flow", None, "International migration flow", "column", None),
], columns=["node_id", "parent_id", "label", "kind", "maps_to"])


def _map() -> EvidenceMap:
    framework = pd.DataFrame([
        ("eppi:1", None, "Economic opportunities & work policies", "row"),
        ("eppi:11", "eppi:1", "Cash transfers", "row"),
        ("eppi:2", None, "Climate adaptation", "row"),
        ("eppi:5", None, "External migration management", "row"),
        ("eppi:10", None, "Any migration", "column"),
        ("eppi:20", None, "Remittances", "column"),
        ("eppi:90", None, "Country", "filter"),
        ("eppi:91", "eppi:90", "Ghana", "filter"),
        ("eppi:92", "eppi:90", "GHA", "filter"),
        ("eppi:93", "eppi:90", "Multiple", "filter"),
    ], columns=["node_id", "parent_id", "label", "kind"])
    codes = pd.DataFrame([
        ("m:1", "eppi:11"), ("m:1", "eppi:10"), ("m:1", "eppi:91"),  # on the map via parent
        ("m:2", "eppi:1"), ("m:2", "eppi:20"), ("m:2", "eppi:10"), ("m:2", "eppi:92"),
        ("m:3", "eppi:2"), ("m:3", "eppi:10"), ("m:3", "eppi:93"),  # row without a match
        ("m:4", "eppi:5"), ("m:4", "eppi:20"),  # column without a match
    ], columns=["record_id", "node_id"]).assign(additional_text=None, known=True)
    records = pd.DataFrame({"record_id": ["m:1", "m:2", "m:3", "m:4"],
                            "title": ["One", "Two", "Three", "Four"],
                            "year": [2020, 2021, 2022, 2023]})
    return EvidenceMap(records=records, framework=framework, codes=codes)


def test_nodes_match_by_label_ancestor_or_not_at_all():
    walk = crosswalk(_map(), FRAMEWORK)
    table = walk.table.set_index("previous_id")
    assert table.loc["eppi:1", ["node_id", "match"]].tolist() == ["3ie:economic", "label"]
    assert table.loc["eppi:11", ["node_id", "match"]].tolist() == ["3ie:economic", "ancestor"]
    assert table.loc["eppi:10", ["node_id", "match"]].tolist() == ["3ie:any", "label"]
    for node in ("eppi:2", "eppi:20", "eppi:90"):
        assert table.loc[node, "match"] == "none"
    maps_to = walk.table[walk.table["match"] == "maps_to"]
    assert maps_to[["previous_id", "node_id"]].values.tolist() == [["eppi:5", "ext:border"]]
    # unmatched codes: only those on rows and columns (filters are not map axes)
    assert sorted(map(tuple, walk.unmatched[["record_id", "node_id"]].values)) == [
        ("m:2", "eppi:20"), ("m:3", "eppi:2"), ("m:4", "eppi:20")]
    assert walk.warning().startswith("3 code(s) on 2 node(s) of the previous map match no "
                                     "node of this framework, on 3 stud(y/ies) (e.g. "
                                     "'Remittances' (eppi:20, column) on 2 studies")
    assert "2 coded row(s)/column(s) without a match" in walk.summary()


def test_a_person_can_decide_a_match():
    walk = crosswalk(_map(), FRAMEWORK, mapping={"eppi:20": "3ie:flow", "eppi:2": None})
    table = walk.table.set_index("previous_id")
    assert table.loc["eppi:20", ["node_id", "match"]].tolist() == ["3ie:flow", "manual"]
    assert walk.node_map["eppi:20"] == "3ie:flow" and "eppi:2" not in walk.node_map
    assert walk.unmatched["reason"].str.contains("left off the map by the crosswalk").all()
    with pytest.raises(ContractError, match=r"'3ie:nope' .* is not a row or column"):
        crosswalk(_map(), FRAMEWORK, mapping={"eppi:20": "3ie:nope"})


def test_previous_map_studies_are_placed_or_listed_with_the_reason():
    rows = evidence_from_map(_map(), framework=FRAMEWORK)
    placed = rows[rows["unplaced"] == ""]
    assert sorted(map(tuple, placed[["study_id", "intervention", "outcome"]].values)) == [
        ("m:1", "3ie:economic", "3ie:any"), ("m:2", "3ie:economic", "3ie:any")]
    reasons = dict(zip(rows["study_id"], rows["unplaced"], strict=True))
    assert reasons["m:3"] == ("no code of the previous map matches a row (intervention) of "
                              "this framework")
    assert reasons["m:4"] == ("no code of the previous map matches a column (outcome) of "
                              "this framework")
    countries = dict(zip(rows["study_id"], rows["country"], strict=True))
    assert countries["m:1"] == ["Ghana"] and countries["m:3"] == ["Multiple"]
    with pytest.warns(DataQualityWarning, match=r"2 evidence row\(s\) of 2 stud"):
        gm = gap_map(rows, FRAMEWORK)
    assert sorted(gm.unmapped["study_id"]) == ["m:3", "m:4"]
    # countries on the map are ISO codes, whatever the map wrote; "Multiple" stays apart
    by_study = gm.evidence.set_index("study_id")
    assert by_study.loc["m:1", "countries"] == ["GHA"] == by_study.loc["m:2", "countries"]


def _init(tmp_path):
    from evidence_synth.reviews import bundled_review

    store = str(tmp_path / "r.db")
    protocol = bundled_review("irregular-migration-egm-update").protocol_path
    result = CliRunner().invoke(cli, ["init", store, "--protocol", str(protocol)])
    assert result.exit_code == 0, result.output
    return store


def test_import_map_on_the_command_line_warns_of_unmatched_codes(tmp_path):
    from evidence_synth.datasets import demo_dir
    from evidence_synth.store import open_review

    store = _init(tmp_path)
    result = CliRunner().invoke(cli, ["import", store, str(demo_dir() / "previous_map_3ie.html"),
                                      "--map"])
    assert result.exit_code == 0, result.output
    assert "map imported as source" in result.output and "8 studies" in result.output
    assert "crosswalk: 27 node(s) of the previous map; matched 12 by label; 1 coded " \
           "row(s)/column(s) without a match" in result.output
    assert "warning: " in result.output and "'Remittances' (eppi:9106, column) on 1 " \
           "study" in result.output
    with open_review(store, create=False) as review:
        sources = review.sources()
        assert sources["kind"].tolist() == ["previous_version"]
        assert "Remittances" in json.loads(sources["notes"].iloc[0])["warnings"][0]
        with pytest.warns(DataQualityWarning, match="Remittances"):
            emap = review.import_map(demo_dir() / "previous_map_3ie.html",
                                     allow_duplicate=True, kind="other")
        assert emap.meta["crosswalk"].unmatched["record_id"].str.startswith(
            emap.records["source_id"].iloc[0]).all()  # the review's record ids


def test_a_dep_export_imported_as_records_warns_that_it_is_a_map(tmp_path):
    dep = tmp_path / "dep.csv"
    dep.write_text("id,title,authors,intervention,outcome,country\n"
                   "7,Cash and migration,\"Doe, J\",Cash transfers,Any migration,Ghana\n"
                   "7,,\"Roe, K\",,Intentions,\n", encoding="utf-8")
    store = _init(tmp_path)
    records = CliRunner().invoke(cli, ["import", store, str(dep), "--database", "DEP"])
    assert records.exit_code == 0, records.output
    assert "1 records imported" in records.output
    assert "1 warning(s): " in records.output and "looks like a 3ie DEP evidence-map " \
        "export" in records.output and "--map" in records.output
    as_map = CliRunner().invoke(cli, ["import", store, str(dep), "--map", "--database",
                                      "3ie DEP", "--allow-duplicate"])
    assert as_map.exit_code == 0, as_map.output
    assert "(dep_table): 1 studies, 3 framework nodes, 3 codes" in as_map.output
    assert "looks like a 3ie DEP" not in as_map.output
    missing = CliRunner().invoke(cli, ["import", store, str(dep)])
    assert missing.exit_code == 2 and "Missing option '--database'" in missing.output
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # reading a DEP file as a map raises no warning
        from evidence_synth.io import read_egm

        assert len(read_egm(dep).records) == 1
