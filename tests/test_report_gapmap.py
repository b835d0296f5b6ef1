"""The evidence gap map: study counts per cell, static figure, interactive HTML in Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.errors import ContractError, DataQualityWarning
from evidence_synth.report import GapMap, gap_map

FIXTURES = Path(__file__).parent / "fixtures" / "report"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

# (row, column) -> (n_studies, n_ie_previous, n_ie_new, n_sr_previous, n_sr_new), by hand
EXPECTED = {
    ("3ie:1", "3ie:c1"): (3, 1, 1, 1, 0),   # S1 via 3ie:11, S2 via 3ie:12, S3 on the parent
    ("3ie:11", "3ie:c1"): (1, 1, 0, 0, 0),  # S1 has two rows here: one study
    ("3ie:12", "3ie:c1"): (1, 0, 1, 0, 0),
    ("3ie:12", "3ie:c4"): (1, 1, 0, 0, 0),
    ("3ie:1", "3ie:c4"): (1, 1, 0, 0, 0),
    ("3ie:5", "3ie:c4"): (1, 0, 1, 0, 0),
    ("ext:border_management", "3ie:c2"): (1, 0, 1, 0, 0),
    ("ext:partnership_diplomacy", "3ie:c2"): (2, 0, 1, 0, 1),  # S5 via readmission, S6
    ("ext:readmission", "3ie:c2"): (1, 0, 1, 0, 0),
}


@pytest.fixture
def gm() -> GapMap:
    framework = pd.read_csv(FIXTURES / "framework.csv")
    evidence = pd.read_csv(FIXTURES / "evidence.csv")
    return gap_map(evidence, framework, title="Test map", protocol_sha256="cd" * 32)


def test_cells_count_studies_with_sub_levels_and_splits(gm):
    frame = gm.to_frame()
    assert list(gm.rows["node_id"]) == [
        "3ie:1", "3ie:11", "3ie:12", "3ie:5", "ext:border_management",
        "ext:partnership_diplomacy", "ext:readmission", "3ie:6"]
    assert list(gm.rows["level"]) == [0, 1, 1, 0, 0, 0, 1, 0]
    assert list(gm.columns["node_id"]) == ["3ie:c1", "3ie:c2", "3ie:c4"]  # filter node dropped
    assert len(frame) == 8 * 3
    got = {
        (r.row_id, r.column_id): (r.n_studies, r.n_ie_previous, r.n_ie_new, r.n_sr_previous,
                                  r.n_sr_new)
        for r in frame.itertuples() if r.n_studies
    }
    assert got == EXPECTED
    cell = frame.set_index(["row_id", "column_id"]).loc[("3ie:1", "3ie:c1")]
    assert cell["study_ids"] == ["S1", "S2", "S3"]
    assert (cell["n_impact_evaluation"], cell["n_systematic_review"]) == (2, 1)
    assert (cell["n_previous"], cell["n_new"]) == (2, 1)
    assert gm.matrix().loc["  Cash transfers", "Any migration"] == 1


def test_unmapped_rows_are_kept_aside_with_a_warning():
    framework = pd.read_csv(FIXTURES / "framework.csv")
    evidence = pd.DataFrame({"study_id": ["X1", "X2"], "intervention": ["3ie:11", "3ie:99"],
                             "outcome": ["3ie:c1", "3ie:c1"], "design": ["systematic_review",
                                                                          "rct"]})
    with pytest.warns(DataQualityWarning, match=r"1 evidence row\(s\) .* '3ie:99'"):
        result = gap_map(evidence, framework)
    assert list(result.unmapped["study_id"]) == ["X2"]
    # study type inferred from the design; origin defaults to new
    cell = result.to_frame().set_index(["row_id", "column_id"]).loc[("3ie:11", "3ie:c1")]
    assert cell["n_sr_new"] == 1


def test_bad_inputs_name_the_problem():
    framework = pd.read_csv(FIXTURES / "framework.csv")
    with pytest.raises(ContractError, match="missing column 'outcome'"):
        gap_map(pd.DataFrame({"study_id": ["a"], "intervention": ["3ie:1"]}), framework)
    evidence = pd.DataFrame({"study_id": ["a"], "intervention": ["3ie:1"],
                             "outcome": ["3ie:c1"], "origin": ["old"]})
    with pytest.raises(ContractError, match="origin must be one of previous_map, new"):
        gap_map(evidence, framework)


def test_static_figure_writes_png_and_svg(gm, tmp_path):
    svg, png = gm.figure(tmp_path / "map.png")
    assert png.stat().st_size > 20_000
    text = svg.read_text(encoding="utf-8")
    assert "Border management and surveillance (new strategy)" in text
    assert "cd" * 32 in text


def test_html_is_self_contained(gm, tmp_path):
    page = gm.to_html(tmp_path / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script>alert(1)</script>" not in page  # study titles stay data
    assert 'id="gapmap-data"' in page and "cd" * 32 in page


def _chromium(*args: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed "
                    "(apt-get install -y chromium) - the browser test of the HTML map needs it")
def test_html_map_in_headless_chromium(gm, tmp_path):
    page = gm.to_html(tmp_path / "map.html")
    # filter: Morocco, any unintended effect; then "click" the partnership x flow cell
    url = (page.as_uri() + "#country=Morocco&effects=unintended"
           "&cell=ext%3Apartnership_diplomacy%7C3ie%3Ac2")
    dom = _chromium("--dump-dom", url, profile=tmp_path / "profile").stdout
    assert 'data-ready="1"' in dom
    assert '<p id="cell-count" data-n="1">1 study</p>' in dom
    assert re.findall(r'data-study="([^"]+)"', dom) == ["S5"]  # S6 has no unintended effect
    assert "1 of 7 studies shown" in dom
    cells = dict(re.findall(r'<td class="cell[^"]*" data-row="([^"]+)" data-col="3ie:c2" '
                            r'data-n="(\d+)"', dom))
    assert cells["ext:partnership_diplomacy"] == "1"
    assert cells["ext:border_management"] == "0"  # S4 is in Libya/Niger

    # unfiltered, the DOM shows the same counts as GapMap.to_frame()
    dom = _chromium("--dump-dom", page.as_uri() + "#cell=3ie%3A1%7C3ie%3Ac1",
                    profile=tmp_path / "profile").stdout
    assert re.findall(r'data-study="([^"]+)"', dom) == ["S1", "S2", "S3"]
    shown = {(r, c): int(n) for r, c, n in re.findall(
        r'<td class="cell[^"]*" data-row="([^"]+)" data-col="([^"]+)" data-n="(\d+)"', dom)}
    expected = {(r.row_id, r.column_id): r.n_studies for r in gm.to_frame().itertuples()}
    assert shown == expected

    shot = tmp_path / "map.png"
    run = _chromium("--window-size=1400,900", f"--screenshot={shot}", url,
                    profile=tmp_path / "profile")
    assert shot.exists(), run.stderr[-2000:]
    assert shot.stat().st_size > 20_000
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from PIL import Image

        with Image.open(shot) as image:
            assert image.size == (1400, 900)
            assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50  # not blank


PROTOCOL = Path(__file__).resolve().parents[1] / "protocols" / "irregular-migration-egm-update.yaml"


@pytest.mark.skipif(not PROTOCOL.exists(), reason="the review's protocol file is not present")
def test_protocol_framework_gives_3ie_and_ext_rows_with_sub_levels():
    from evidence_synth.protocol import load_protocol

    protocol = load_protocol(PROTOCOL)
    evidence = pd.DataFrame({
        "study_id": ["A", "B", "B"],
        "intervention": ["ext:border_management.physical_barriers",
                         "ext:partnership_diplomacy.visa_leverage",
                         "ext:partnership_diplomacy.readmission_and_return"],
        "outcome": ["3ie:international_migration_flow"] * 3,
    })
    result = gap_map(evidence, protocol)
    assert result.protocol_sha256 == protocol.sha256
    assert len(result.columns) == 5 and set(result.columns["level"]) == {0}
    ext = result.rows[result.rows["namespace"] == "ext"]
    assert ext["node_id"].iloc[0] == "ext:border_management"
    assert (ext["level"] == 1).sum() == 11
    cells = result.to_frame().set_index(["row_id", "column_id"])["n_studies"]
    assert cells[("ext:partnership_diplomacy", "3ie:international_migration_flow")] == 1
    assert cells[("ext:border_management", "3ie:international_migration_flow")] == 1


LAYERED = pd.DataFrame([  # a main view and an unintended-effects layer
    ("3ie:1", None, "Economic Opportunities and Work Policies", "row", None),
    ("ext:border", None, "Border management", "row", None),
    ("3ie:c1", None, "Any migration", "column", "main"),
    ("ext:u", None, "Unintended effects, all domains", "column", "unintended"),
    ("ext:u.route", "ext:u", "Route diversion", "column", "unintended"),
    ("ext:u.safety", "ext:u", "Migrant safety", "column", "unintended"),
    ("ext:effect_class", None, "Effect class", "filter", None),
], columns=["node_id", "parent_id", "label", "kind", "layer"])


def _layered_evidence() -> pd.DataFrame:
    return pd.DataFrame([
        # study, intervention, outcome, effect class, direction, code, countries
        ("A", "ext:border", "3ie:c1", "intended", None, None, "MAR"),
        ("A", "ext:border", "ext:u.route", "unintended_adverse", "adverse", "ROUTE", "Morocco"),
        ("B", "ext:border", "ext:u.safety", "unintended_beneficial", None, "SAFER", "ma"),
        ("B", "ext:border", "ext:u.safety", "unintended_adverse", "adverse", "DEATHS", None),
        ("C", "3ie:1", "3ie:c1", "unintended_adverse", "adverse", "MORE", "GHA"),  # main col
        ("D", "3ie:1", "3ie:c1", "unintended_adverse", "mixed", "NOCODE", "Ghana"),
        ("E", "ext:border", "ext:effect_class", "unintended_adverse", None, None, None),
        ("F", "3ie:9", "3ie:c1", "intended", None, None, None),
        ("G", "3ie:1", "ext:u.route", "unclear", "unclear", None, "Atlantis"),
    ], columns=["study_id", "intervention", "outcome", "effect_class", "direction",
                "unintended_code", "country"])


def test_unintended_layer_is_a_view_of_its_own_and_nothing_is_dropped():
    codebook = {"ROUTE": "ext:u.route", "MORE": "ext:u", "DEATHS": "ext:u.safety",
                "SAFER": "ext:u.safety"}
    with pytest.warns(DataQualityWarning, match=r"2 evidence row\(s\) of 2 stud"):
        gm = gap_map(_layered_evidence(), LAYERED, codebook=codebook)
    assert list(gm.columns["node_id"]) == ["3ie:c1"]
    assert list(gm.unintended_columns["node_id"]) == ["ext:u", "ext:u.route", "ext:u.safety"]
    placed = gm.evidence.set_index(["study_id", "outcome"])
    # C: an unintended effect on a main column stays there and joins its codebook domain;
    # D has no domain and goes to the layer's root
    assert placed.loc[("C", "3ie:c1"), ["on_main", "unintended_column"]].tolist() == [
        True, "ext:u"]
    assert placed.loc[("D", "3ie:c1"), "unintended_column"] == "ext:u"
    assert placed.loc[("A", "ext:u.route"), ["on_main", "unintended_column"]].tolist() == [
        False, "ext:u.route"]
    reasons = dict(zip(gm.unmapped["study_id"], gm.unmapped["reason"], strict=True))
    assert reasons == {
        "E": "outcome 'ext:effect_class' is a filter node, not a column (declare it kind: "
             "column, with layer: unintended for an unintended-effect domain)",
        "F": "intervention '3ie:9' is not a node of the framework"}
    cells = gm.to_frame("unintended").set_index(["row_id", "column_id"])
    border_safety = cells.loc[("ext:border", "ext:u.safety")]
    assert (border_safety["n_studies"], border_safety["n_adverse"],
            border_safety["n_beneficial"]) == (1, 1, 1)  # B, both directions
    root = cells.loc[("3ie:1", "ext:u")]
    assert (root["study_ids"], root["n_adverse"], root["n_mixed"], root["n_unclear"]) == (
        ["C", "D", "G"], 1, 1, 1)
    assert cells.loc[("ext:border", "ext:u"), "study_ids"] == ["A", "B"]
    assert gm.to_frame().set_index(["row_id", "column_id"]).loc[
        ("3ie:1", "3ie:c1"), "study_ids"] == ["C", "D"]
    # countries: codes, names, alpha-2 all become one ISO code; unknown kept apart
    countries = gm.evidence.set_index(["study_id", "outcome"])
    assert countries.loc[("B", "ext:u.safety"), "countries"].iloc[0] == ["MAR"]
    assert countries.loc[("G", "ext:u.route"), "countries_unknown"] == ["Atlantis"]
    assert "unintended-effects view: 6 evidence rows of 5 studies in 3 columns" in gm.summary()


def test_a_framework_without_a_layer_shows_unintended_effects_on_its_columns(gm, tmp_path):
    assert list(gm.unintended_columns["node_id"]) == list(gm.columns["node_id"])
    cells = gm.to_frame("unintended")
    shown = {(r.row_id, r.column_id): r.study_ids for r in cells.itertuples() if r.n_studies}
    # the fixture's unintended rows: S1 (adverse, Cash transfers x Any migration), S4
    # (adverse, border x flow), S5 (beneficial, readmission x flow)
    assert shown[("3ie:11", "3ie:c1")] == ["S1"]
    assert shown[("ext:partnership_diplomacy", "3ie:c2")] == ["S5"]
    assert cells.set_index(["row_id", "column_id"]).loc[
        ("ext:readmission", "3ie:c2"), "n_beneficial"] == 1
    with pytest.raises(ValueError, match="view: expected one of main, unintended"):
        gm.to_frame("harms")
    svg, png = gm.figure(tmp_path / "u.png", view="unintended", dpi=60)
    text = svg.read_text(encoding="utf-8")
    assert "Unintended effects map" not in text and "Unintended effects: Test map" in text
    assert "Adverse effects" in text and png.stat().st_size > 5_000


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed "
                    "(apt-get install -y chromium) - the browser test of the HTML map needs it")
def test_unintended_view_and_country_names_in_chromium(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        gm = gap_map(_layered_evidence(), LAYERED, codebook={"ROUTE": "ext:u.route"})
    page = gm.to_html(tmp_path / "map.html")
    dom = _chromium("--dump-dom", page.as_uri() + "#view=unintended&effects=unintended"
                    "&country=Morocco", profile=tmp_path / "profile").stdout
    assert '<table id="gapmap" data-view="unintended">' in dom
    assert re.findall(r'data-study="([^"]+)"', dom) == ["A", "B"]  # both in Morocco
    assert "2 of 5 studies shown" in dom  # E and F are not on the map (GapMap.unmapped)
    cells = dict(re.findall(r'data-row="ext:border" data-col="([^"]+)" data-n="(\d+)"', dom))
    assert cells == {"ext:u": "2", "ext:u.route": "1", "ext:u.safety": "1"}
    assert "Route diversion" in dom and "Adverse effects" in dom
