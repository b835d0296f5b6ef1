"""build_report: every output written, linked from index.html, stamped with provenance."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from evidence_synth import __version__
from evidence_synth.errors import PrismaInconsistencyError
from evidence_synth.report import PrismaCounts, build_report

FIXTURES = Path(__file__).parent / "fixtures" / "report"


def _flow_module():
    spec = importlib.util.spec_from_file_location("flow_review", FIXTURES / "flow_review.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FLOW = _flow_module()


def _evidence() -> pd.DataFrame:
    evidence = pd.read_csv(FIXTURES / "evidence.csv")
    evidence["yi"] = [0.1, -0.2, 0.3, 0.05, None, 0.4, 0.2, 0.25, None, 0.1]
    evidence["vi"] = [0.01, 0.02, 0.03, 0.02, None, 0.05, 0.01, 0.02, None, 0.04]
    return evidence


def test_report_writes_every_output_with_provenance(tmp_path):
    framework = pd.read_csv(FIXTURES / "framework.csv")
    with FLOW.build_review(tmp_path / "r.db") as review:
        result = build_report(review, tmp_path / "out", evidence=_evidence(),
                              framework=framework, removed_reasons=["RETRACTED"], dpi=60)
    out = tmp_path / "out"
    for key in ("prisma_csv", "prisma_json", "prisma_table", "prisma_svg", "prisma_png",
                "gapmap_svg", "gapmap_png", "gapmap_html", "gapmap_csv", "evidence_csv",
                "evidence_xlsx", "index"):
        assert result.files[key].exists(), key
    forests = sorted(k for k in result.files if k.startswith("forest:"))
    assert forests == ["forest:3ie:c1", "forest:3ie:c2", "forest:3ie:c4"]
    assert result.counts.records_screened == 8
    assert result.problems == []
    assert result.notes == [  # S1 and S5 have two estimates each; titles are labels
        f"forest plot for {o}: some studies contribute several effect sizes, which are not "
        "independent" for o in ("Any migration", "International migration flow")]
    assert result.forest_titles["forest:3ie:c4"] == "Intention to migrate"
    assert result.status == "final" and result.unplaced.empty
    # the fixture's unintended rows: S1 (adverse) and S4 on the main columns, S5 beneficial
    assert sorted(result.unintended["study_id"]) == ["S1", "S4", "S5"]

    stamp = f"evidence_synth {__version__}"
    assert (out / "prisma_counts.csv").read_text(encoding="utf-8").startswith(f"# {stamp}")
    for sidecar in ("prisma2020.csv.meta.json", "evidence_table.csv.meta.json"):
        meta = json.loads((out / sidecar).read_text(encoding="utf-8"))
        assert meta["version"] == __version__ and meta["protocol_sha256"] == "none"
    assert json.loads((out / "prisma_counts.json").read_text())["provenance"]["version"] \
        == __version__
    for name in ("prisma_flow.svg", "gap_map.svg", "gap_map.html", "index.html",
                 "forest/forest_3ie_c1.svg"):
        assert stamp in (out / name).read_text(encoding="utf-8"), name
    book = load_workbook(out / "evidence_table.xlsx")
    assert dict(book["provenance"].values)["version"] == __version__

    index = (out / "index.html").read_text(encoding="utf-8")
    for target in ("prisma2020.csv", "prisma_flow.png", "gap_map.html",
                   "evidence_table.xlsx", "forest/forest_3ie_c1.png"):
        assert f'href="{target}"' in index, target
    assert "the arithmetic adds up" in index
    assert list(result.to_frame().columns) == ["output", "path"]
    # the PRISMA2020 CSV the report wrote reads back to the same counts
    back = PrismaCounts.from_prisma2020_csv(out / "prisma2020.csv")
    assert back.new_studies == 2 and back.total_reports == 7


def test_report_lists_problems_or_raises_when_strict(tmp_path):
    extra = [{"record_id": "W4", "stage": "title_abstract", "decision": "exclude",
              "reviewer": "alice", "reason": "NOT_MIGRATION"}]
    with FLOW.build_review(tmp_path / "r.db", extra_events=extra) as review:
        result = build_report(review, tmp_path / "out", removed_reasons=["RETRACTED"],
                              dpi=60)
        assert any("reports sought for retrieval = 4" in p for p in result.problems)
        assert "gap map skipped: no evidence given" in result.notes
        index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
        assert "unresolved conflict" in index
        with pytest.raises(PrismaInconsistencyError, match="reports sought for retrieval"):
            build_report(review, tmp_path / "strict", strict=True, dpi=60,
                         removed_reasons=["RETRACTED"])


def test_previous_map_joins_the_gap_map_with_strict_json_page_data(tmp_path):
    from evidence_synth.datasets import demo_dir
    from evidence_synth.io import read_egm

    emap = read_egm(demo_dir() / "previous_map_3ie.html")  # eppi: ids, 3ie labels
    framework = pd.read_csv(FIXTURES / "framework.csv")
    evidence = pd.read_csv(FIXTURES / "evidence.csv")
    with FLOW.build_review(tmp_path / "r.db") as review:
        result = build_report(review, tmp_path / "out", evidence=evidence, framework=framework,
                              previous_map=emap, removed_reasons=["RETRACTED"], dpi=60)
    cells = result.gap_map.to_frame().set_index(["row_id", "column_id"])
    # S1 (fixture, via Skills training) + two map studies coded Economic x Intention
    assert cells.loc[("3ie:1", "3ie:c4"), "study_ids"] == ["S1", "eppi:77000", "eppi:77001"]
    assert cells.loc[("3ie:1", "3ie:c4"), "n_ie_previous"] == 3
    assert cells.loc[("3ie:1", "3ie:c2"), "study_ids"] == ["eppi:77006"]
    # codes of the map that the fixture's framework lacks are listed, never dropped: the
    # "Remittances" column of eppi:77006 (on the map through its flow code), and the
    # studies whose only row or column has no match
    unplaced = result.unplaced
    remittances = unplaced[unplaced["what"].str.contains("Remittances")]
    assert remittances[["study_id", "elsewhere_on_map"]].values.tolist() == [
        ["eppi:77006", "yes"]]
    off_map = set(unplaced.loc[unplaced["elsewhere_on_map"] == "no", "study_id"])
    # rows the fixture lacks: Orderly... (77002, 77005), Resilience... (77003), Build Safe
    # Communities... (77004, 77007)
    assert off_map == {"eppi:77002", "eppi:77003", "eppi:77004", "eppi:77005", "eppi:77007"}
    assert set(off_map) | set(result.gap_map.evidence["study_id"]) >= {
        f"eppi:{n}" for n in range(77000, 77008)}  # every study of the map is accounted for
    index = result.index.read_text(encoding="utf-8")
    assert 'id="unplaced"' in index and "Remittances" in index
    page = result.files["gapmap_html"].read_text(encoding="utf-8")
    data = page.split('type="application/json">', 1)[1].split("</script>", 1)[0]

    def refuse(constant):
        raise ValueError(f"non-JSON constant {constant} in the page data")

    payload = json.loads(data, parse_constant=refuse)
    assert ["NGA", "Nigeria (NGA)"] in payload["countries"]  # ISO code, shown by name
    assert payload["countryIndex"]["nigeria"] == payload["countryIndex"]["nga"] == "NGA"
    assert [s["label"] for s in payload["studies"] if s["id"] == "eppi:77000"] == [
        "Cash transfers and migration intentions in northern Nigeria: a randomised "
        "evaluation (2020)"]
