"""The demo's report in headless Chromium: unintended effects on the map and in the report,
the unmapped list, countries by name or code, one study id scheme, no repeated years.

The expected numbers come from the example's own coding, read independently of the map:
the evidence table the demo wrote has 14 unintended-effect rows in 9 studies (its
``effect_class`` column), and the previous map carries one code ("Remittances", a column
this review's protocol does not have).
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import warnings
from pathlib import Path

import pandas as pd
import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium not installed (apt-get install -y chromium) - the "
    "browser tests of the report need it")


@pytest.fixture(scope="module")
def report(demo_run) -> Path:
    completed, out, _ = demo_run
    assert completed.returncode == 0, completed.stderr
    return out / "report"


def _csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, comment="#", dtype=str, keep_default_na=False)


def _dom(page: Path, fragment: str, profile: Path) -> str:
    run = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--dump-dom",
                          page.as_uri() + fragment], capture_output=True, text=True,
                         timeout=120, check=False)
    assert 'data-ready="1"' in run.stdout or page.name == "index.html", run.stderr[-2000:]
    return run.stdout


def _unintended_studies(report: Path) -> set[str]:
    rows = _csv(report / "evidence_table.csv")
    return set(rows.loc[rows["effect_class"].str.startswith("unintended"), "study_id"])


def test_every_unintended_row_is_in_the_summary_table(report):
    rows = _csv(report / "evidence_table.csv")
    coded = rows[rows["effect_class"].str.startswith("unintended")]
    assert (len(coded), coded["study_id"].nunique()) == (14, 9)
    table = _csv(report / "unintended_effects.csv")
    assert len(table) == 14 and set(table["study_id"]) == set(coded["study_id"])
    assert (table["on_map"] == "yes").all()
    assert set(table["direction"]) == {"adverse", "beneficial"}
    assert all(table["evidence_source"])  # where in the study each effect comes from
    cells = _csv(report / "gap_map_unintended_cells.csv")
    top = cells[(cells["row_level"] == "0") & (cells["column_id"] == "ext:unintended_outcome")]
    on_view = {s for ids in top["study_ids"] for s in ids.split("; ") if s}
    assert on_view == set(coded["study_id"])


def test_one_study_id_scheme_in_map_evidence_table_and_prisma(report):
    from evidence_synth.report import prisma_counts
    from evidence_synth.store import open_review

    studies = _csv(report / "evidence_table-studies.csv")
    assert studies["study_id"].str.fullmatch(r"S\d{6}").all()
    assert studies["aliases"].str.fullmatch(r"demo-\d\d").all()  # the extractors' ids kept
    mapped = {s for ids in _csv(report / "gap_map_cells.csv")["study_ids"]
              for s in ids.split("; ") if s}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with open_review(report.parent / "review.db", create=False) as review:
            total = set(prisma_counts(review).trace("total_studies")["study_id"])
    assert set(studies["study_id"]) <= total
    assert mapped == total  # all 18 studies of PRISMA are on the map, by the same ids


@needs_chromium
def test_any_unintended_effect_filter_lists_every_such_study(report, tmp_path):
    expected = _unintended_studies(report)
    dom = _dom(report / "gap_map.html", "#effects=unintended", tmp_path / "p")
    assert "9 of 18 studies shown" in dom
    assert '<p id="match-count" data-n="9">' in dom
    assert set(re.findall(r'data-study="([^"]+)"', dom)) == expected
    for label in re.findall(r'<li data-study="[^"]+"><div>([^<]*)</div>', dom):
        assert not re.search(r"\((\d{4})\).*\(\1\)", html.unescape(label)), label


@needs_chromium
def test_unintended_view_matches_its_cells(report, tmp_path):
    dom = _dom(report / "gap_map.html", "#view=unintended", tmp_path / "p")
    assert '<table id="gapmap" data-view="unintended">' in dom
    shown = {(r, c): int(n) for r, c, n in re.findall(
        r'<td class="cell[^"]*" data-row="([^"]+)" data-col="([^"]+)" data-n="(\d+)"', dom)}
    cells = _csv(report / "gap_map_unintended_cells.csv")
    assert shown == {(r, c): int(n) for r, c, n in
                     zip(cells["row_id"], cells["column_id"], cells["n_studies"], strict=True)}
    assert shown[("ext:border_management", "ext:unintended_outcome.migrant_safety")] == 3
    assert "Adverse effects" in dom and "Beneficial effects" in dom
    shot = tmp_path / "unintended.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'p'}",
                    "--window-size=1400,1000", f"--screenshot={shot}",
                    (report / "gap_map.html").as_uri() + "#view=unintended&effects=unintended"],
                   capture_output=True, timeout=120, check=False)
    _not_blank(shot, (1400, 1000))


@needs_chromium
def test_country_filter_takes_a_name_or_a_code(report, tmp_path):
    by_name = _dom(report / "gap_map.html", "#country=Ghana", tmp_path / "p")
    by_code = _dom(report / "gap_map.html", "#country=gha", tmp_path / "p")
    studies = re.findall(r'data-study="([^"]+)"', by_name)
    assert studies and studies == re.findall(r'data-study="([^"]+)"', by_code)
    assert re.search(r"<option value=\"GHA\"( selected)?>Ghana \(GHA\)</option>", by_name)
    options = re.findall(r'<select id="f-country">(.*?)</select>', by_name, re.S)[0]
    values = re.findall(r'<option value="([^"]+)"', options)
    iso = [v for v in values if v != "all" and v != "Multiple"]
    assert all(re.fullmatch(r"[A-Z]{3}", v) for v in iso), values  # no names beside codes
    assert "Multiple (not an ISO 3166 country)" in options


@needs_chromium
def test_report_page_has_the_tables_and_the_title_once(report, tmp_path):
    from evidence_synth.reviews import bundled_review

    dom = _dom(report / "index.html", "", tmp_path / "p")
    body = html.unescape(re.sub(r"<[^>]+>", " ", dom.split("<body>", 1)[1]))
    title = " ".join(bundled_review("irregular-migration-egm-update").protocol.title.split())
    assert " ".join(body.split()).count(title) == 1
    table = dom.split('<table id="unintended-effects"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-study="([^"]+)"', table)
    assert len(rows) == 14 and set(rows) == _unintended_studies(report)
    for header in ("Study", "Intervention", "Unintended effect", "Direction",
                   "Evidence source"):
        assert f"<th>{header}</th>" in table
    unplaced = dom.split('<table id="unplaced"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'<tr data-study="([^"]+)"', unplaced) == ["S000006"]
    assert "Remittances" in unplaced and "matches no node of this framework" in unplaced
    assert 'id="draft"' not in dom  # the demo's screening is finished and consistent
    shot = tmp_path / "index.png"
    subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'p'}",
                    "--window-size=1200,3000", f"--screenshot={shot}",
                    (report / "index.html").as_uri()],
                   capture_output=True, timeout=120, check=False)
    _not_blank(shot, (1200, 3000))


def _not_blank(shot: Path, size: tuple[int, int]) -> None:
    from PIL import Image

    assert shot.exists()
    with Image.open(shot) as image:
        assert image.size == size
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50
