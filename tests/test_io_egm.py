"""Evidence gap maps: every file in ../shared/data/egm, plus small hand-written maps."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from evidence_synth.columns import validate_records
from evidence_synth.errors import DataQualityWarning, EvidenceSynthError
from evidence_synth.io import EvidenceMap, read_egm

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
EGM = SHARED / "egm"
FIXTURES = Path(__file__).parent / "fixtures" / "io"

# records, framework nodes by kind, codes, unknown codes, non-empty leaf cells, matrix sum
EXPECTED = {
    "3ie_dep_export_sample_study34810.csv":
        (1, {"row": 1, "column": 2}, 3, 0, 2, 2),
    "chi_homelessness_egm_2024.eppimapper-constants.js.txt":
        (800, {"row": 53, "column": 32, "filter": 153}, 27555, 13163, 565, 5468),
    "chi_homelessness_egm_2024.sample25.json":
        (25, {"row": 53, "column": 32, "filter": 153}, 988, 484, 151, 248),
    "destiny_sdk_eppi_report_minimal.json":
        (4, {"other": 1}, 0, 0, None, None),
    "eppi_codeset_384814_hpv_learning_convening.json":
        (0, {"other": 23}, 0, 0, None, None),
    "eppi_codeset_96392_eef_main_data_extraction.json":
        (0, {"other": 373}, 0, 0, None, None),
    "rsv_correlates_map_2025.eppimapper-constants.js.txt":
        (130, {"row": 20, "column": 17, "filter": 21}, 1266, 390, 38, 174),
    "rsv_correlates_map_2025.sample25.json":
        (25, {"row": 20, "column": 17, "filter": 21}, 240, 75, 19, 31),
}
_CACHE: dict[str, EvidenceMap] = {}


def _map(name: str) -> EvidenceMap:
    if not (EGM / name).exists():
        pytest.skip("../shared/data not present")
    if name not in _CACHE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            _CACHE[name] = read_egm(EGM / name)
    return _CACHE[name]


def test_every_egm_file_is_covered():
    if not EGM.exists():
        pytest.skip("../shared/data not present")
    assert {p.name for p in EGM.iterdir() if p.name != "README.md"} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_egm_file_counts(name):
    records, kinds, codes, unknown, filled, total = EXPECTED[name]
    m = _map(name)
    validate_records(m.records)
    assert len(m.records) == records
    assert m.framework["kind"].value_counts().to_dict() == kinds
    assert m.framework["node_id"].is_unique
    assert len(m.codes) == codes
    assert int((~m.codes["known"]).sum()) == unknown if codes else True
    if filled is None:
        with pytest.raises(EvidenceSynthError, match="no row/column nodes"):
            m.matrix()
    else:
        matrix = m.matrix()
        assert int((matrix > 0).sum().sum()) == filled
        assert int(matrix.to_numpy().sum()) == total


def test_eppi_mapper_tree_from_spans():
    m = _map("chi_homelessness_egm_2024.sample25.json")
    fw = m.framework.set_index("node_id")
    assert fw.loc["eppi:5437010", "label"] == "Intervention"
    assert fw.loc["eppi:6955146", "parent_id"] == "eppi:5437010"  # Services and outreach
    assert fw.loc["eppi:6955151", "parent_id"] == "eppi:6955146"  # Reconnection of rough sl.
    assert fw.loc["eppi:5437032", "label"] == "Health"  # tabs stripped
    assert fw.loc["eppi:5437032", "parent_id"] == "eppi:5437027"  # Outcome
    assert (m.framework["kind"] == "row").sum() - len(m._nodes("row")) == 10
    assert len(m._nodes("row")) == 43 and len(m._nodes("column")) == 24
    matrix = m.matrix(labels=True)
    assert matrix.loc["Addiction support", "Substance abuse"] == 7


def test_span_inference_agrees_with_parent_ids(tmp_path):
    path = EGM / "rsv_correlates_map_2025.sample25.json"
    if not path.exists():
        pytest.skip("../shared/data not present")
    doc = json.loads(path.read_text(encoding="utf-8"))
    for row in doc["csvData"]["rows"]:
        for cell in row:
            cell.pop("parentId", None)
    tmp = tmp_path / "rsv.json"
    tmp.write_text(json.dumps(doc), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        inferred = read_egm(tmp)
    given = _map("rsv_correlates_map_2025.sample25.json")
    cols = ["node_id", "parent_id", "kind"]
    assert inferred.framework[cols].equals(given.framework[cols])


def test_rsv_quirks_empty_ids_mojibake_unknown_codes():
    path = EGM / "rsv_correlates_map_2025.sample25.json"
    if not path.exists():
        pytest.skip("../shared/data not present")
    with pytest.warns(DataQualityWarning) as caught:
        m = read_egm(path)
    messages = [str(w.message) for w in caught]
    assert any("249 code(s) with an empty AttributeId" in s for s in messages)
    assert any("repaired mojibake" in s for s in messages)
    first = m.records.iloc[0]
    assert first["record_id"] == "eppi:18"
    assert "Muñoz-Durango, N." in first["authors"]
    assert "5\u00a0×\u00a010(3)" in first["abstract"]
    assert "MuÃ±oz" in first["raw"]["Authors"][0]  # raw stays untouched
    assert m.codes["known"].dtype == bool
    assert not m.codes.loc[~m.codes["known"], "node_id"].isin(m.framework["node_id"]).any()


def test_eppi_report_minimal_records():
    m = _map("destiny_sdk_eppi_report_minimal.json")
    assert m.framework["node_id"].tolist() == ["eppi:set:83429"]
    assert m.records["doi"].iloc[0] == "10.1016/j.eclinm.2024.102524"
    assert m.records["authors"].iloc[0][:2] == ["Abbas, Kaja", "Yoo, Katelyn"]
    assert m.records["year"].iloc[0] == 2024


def test_codeset_recursive_tree():
    m = _map("eppi_codeset_96392_eef_main_data_extraction.json")
    fw = m.framework
    assert (fw["parent_id"].isna()).sum() == 1
    assert fw["node_id"].str.startswith("eppi:").all()
    top = fw[fw["parent_id"] == "eppi:set:96392"]
    assert top["label"].iloc[0] == "Section 1 What is the publication type?"
    assert list(top["order"]) == list(range(len(top)))


def test_dep_csv_map():
    m = _map("3ie_dep_export_sample_study34810.csv")
    assert m.records["record_id"].tolist() == ["3ie:34810"]
    assert m.records["authors"].iloc[0] == ["Kane, Abou", "Ndoye, Mamadou Laye",
                                            "Dogbe, Amen Komlan"]
    assert sorted(m.framework["label"]) == ["Employment type", "Index of employment",
                                            "Technical and Vocational Education and Training "
                                            "(TVET)"]


def test_dep_map_json_fixture():
    with pytest.warns(DataQualityWarning, match="1 record id"):
        m = read_egm(FIXTURES / "dep_map_small.json")
    fw = m.framework.set_index("node_id")
    assert fw.loc["3ie:111", "parent_id"] == "3ie:101"
    assert fw.loc["3ie:102", "label"] == "Multicomponent: Migration partnerships/deal"
    assert set(fw.index) == {"3ie:101", "3ie:111", "3ie:112", "3ie:102", "3ie:201", "3ie:211",
                             "3ie:212"}
    assert m.records["record_id"].tolist() == ["3ie:5001", "3ie:5002", "3ie:5003"]
    assert m.records["authors"].iloc[1] == ["Smith, Ann", "Jones, Bo"]
    assert m.records["doi"].iloc[0] == "10.1000/dep.5001"
    assert str(m.records["year"].iloc[2]) == "<NA>"
    assert m.matrix().to_dict() == {"3ie:211": {"3ie:111": 2, "3ie:112": 1, "3ie:102": 0},
                                    "3ie:212": {"3ie:111": 1, "3ie:112": 0, "3ie:102": 2}}
    rolled = m.matrix(rows=["3ie:101", "3ie:102"], columns=["3ie:201"])
    assert rolled.to_dict() == {"3ie:201": {"3ie:101": 3, "3ie:102": 2}}
    assert len(m.cells) == 6


def test_html_map_with_undefined_constants(tmp_path):
    html = """<html><head><script>
const csvData = {"rows":[[{"span":2,"isColumn":true,"id":1,"title":"Outcome"}],
 [{"span":1,"isColumn":true,"id":2,"title":"A"},{"span":1,"isColumn":true,"id":3,"title":"B"}],
 [{"span":2,"isColumn":false,"id":10,"title":"Intervention"},{"span":1,"isColumn":false,"id":11,"title":"X"}],
 [{"span":1,"isColumn":false,"id":12,"title":"Y"}]]};
const filters = [{"id":20,"label":"Region","children":[{"id":21,"label":"Africa","children":[]}]}];
const collapseRowHeaders = undefined;
const referenceData = [{"ItemId":7,"Title":"S1","Authors":"Doe J; Roe R","Year":"2020",
  "Codes":[{"AttributeId":11,"AdditionalText":"note"},{"AttributeId":2},{"AttributeId":99}]},
 {"ItemId":8,"Title":"S2","Codes":[{"AttributeId":12},{"AttributeId":3},{"AttributeId":2}]}];
</script></head><body></body></html>"""
    path = tmp_path / "map.html"
    path.write_text(html, encoding="utf-8")
    m = read_egm(path)
    assert m.meta["format"] == "eppi_mapper_html"
    assert m.framework["node_id"].tolist() == ["eppi:1", "eppi:2", "eppi:3", "eppi:10",
                                               "eppi:11", "eppi:12", "eppi:20", "eppi:21"]
    assert m.framework.set_index("node_id").loc["eppi:12", "parent_id"] == "eppi:10"
    codes = m.codes.astype(object).where(m.codes.notna(), None)
    assert codes.to_dict("list") == {
        "record_id": ["eppi:7"] * 3 + ["eppi:8"] * 3,
        "node_id": ["eppi:11", "eppi:2", "eppi:99", "eppi:12", "eppi:3", "eppi:2"],
        "additional_text": ["note", None, None, None, None, None],
        "known": [True, True, False, True, True, True],
    }
    assert m.matrix().to_dict() == {"eppi:2": {"eppi:11": 1, "eppi:12": 1},
                                    "eppi:3": {"eppi:11": 0, "eppi:12": 1}}
    assert m.matrix(rows=["eppi:10"], columns=["eppi:1"]).iloc[0, 0] == 2
    assert m.records["authors"].iloc[0] == ["Doe, J", "Roe, R"]
    counts = m.counts()
    assert counts["records"] == 2 and counts["unknown_codes"] == 1
    assert counts["non_empty_cells"] == 3
    summary = m.summary()
    assert summary.splitlines()[0].startswith("EvidenceMap")
    assert {"records: 2", "unknown_codes: 1", "non_empty_cells: 3"} <= set(summary.splitlines())
    assert "<table" in m._repr_html_()
    assert repr(m) == "EvidenceMap(2 records, 8 nodes, 6 codes, 3/4 cells filled)"


def test_extend_with_ext_nodes_keeps_3ie_ids():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        m = read_egm(FIXTURES / "dep_map_small.json")
    before = m.framework.copy()
    ext = m.extend([
        {"node_id": "ext:border_management", "label": "Border management (extended)",
         "kind": "row", "maps_to": "3ie:101"},
        {"node_id": "ext:partnership_diplomacy", "label": "Partnership diplomacy",
         "kind": "row", "maps_to": "3ie:102"},
    ])
    pd_fw = ext.framework.set_index("node_id")
    assert pd_fw.loc["ext:border_management", "maps_to"] == "3ie:101"
    assert pd_fw.loc["ext:partnership_diplomacy", "namespace"] == "ext"
    assert ext.framework["node_id"].iloc[: len(before)].tolist() == before["node_id"].tolist()
    assert m.framework.equals(before)  # the original map is not changed
    assert ext.matrix(rows=["ext:border_management"], columns=["3ie:201"]).iloc[0, 0] == 0
    with pytest.raises(EvidenceSynthError, match="namespace '3ie' belongs to the imported map"):
        m.extend([{"node_id": "3ie:999", "label": "x"}])
    with pytest.raises(EvidenceSynthError, match="maps_to 'ext:nowhere' is not a node"):
        m.extend([{"node_id": "ext:a", "label": "a", "maps_to": "ext:nowhere"}])
    with pytest.raises(EvidenceSynthError, match="already exists"):
        ext.extend([{"node_id": "ext:border_management", "label": "again"}])
    more = ext.extend([{"node_id": "ext:readmission", "label": "Readmission",
                        "parent_id": "ext:border_management"}])
    assert more.framework.set_index("node_id").loc["ext:readmission", "parent_id"] == (
        "ext:border_management")
