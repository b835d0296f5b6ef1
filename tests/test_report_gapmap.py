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
