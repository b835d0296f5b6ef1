"""The PRISMA 2020 flow diagram: both files written, every box's text present in the SVG."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from PIL import Image

from evidence_synth import __version__
from evidence_synth.report import PrismaCounts, prisma_diagram

COUNTS = PrismaCounts(
    previous_studies=212, previous_reports=240,
    database_results={"Scopus": 1843, "Web of Science": 1320},
    register_results={"RIDIE": 41}, website_results=88, organisation_results=12,
    citations_results=57, duplicates=1204, excluded_automatic=310, excluded_other=4,
    records_screened=1686, records_excluded_human=1300, records_excluded_automation=126,
    dbr_sought_reports=260, dbr_notretrieved_reports=11, dbr_assessed=249,
    dbr_excluded={"Not about migration or its drivers": 150, "No counterfactual design": 39},
    dbr_included_reports=60, other_duplicates=40, other_records_excluded=60,
    other_sought_reports=57, other_notretrieved_reports=3, other_assessed=54,
    other_excluded={"No counterfactual design": 44}, other_included_reports=10,
    new_studies=61, new_reports=70, protocol_sha256="ab" * 32,
)


def test_both_files_are_written_and_every_box_text_is_in_the_svg(tmp_path):
    COUNTS.check()
    result = prisma_diagram(COUNTS, tmp_path / "flow.png")
    assert result.svg == tmp_path / "flow.svg"
    assert result.png.stat().st_size > 50_000
    svg = result.svg.read_text(encoding="utf-8")
    ET.fromstring(svg)  # well-formed
    expected_boxes = {f"box{i}" for i in range(1, 17)} | {"prevstud", "newstud", "othstud"}
    assert expected_boxes <= set(result.boxes)
    for box, text in result.boxes.items():
        for line in text.split("\n"):
            if line.strip():
                assert html.escape(line.strip(), quote=False) in svg, (box, line)
    drawn = " ".join(" ".join(t.split()) for t in result.boxes.values())
    for needle in ("Records screened (n = 1,686)", "Scopus (n = 1,843)",
                   "Total studies included in review (n = 273)",
                   "Reports of studies included in previous version of review (n = 240)",
                   "Not about migration or its drivers (n = 150)",
                   "by automation tools (n = 126)"):
        assert needle in drawn, needle
    assert f"evidence_synth {__version__} · protocol sha256 {'ab' * 32}" in svg


def test_png_is_a4_wide_and_carries_provenance(tmp_path):
    result = prisma_diagram(COUNTS, tmp_path / "flow", dpi=100)
    with Image.open(result.png) as image:
        assert image.size[0] == 827  # 8.27 in at 100 dpi
        assert __version__ in image.info.get("Software", "")
        assert "ab" * 32 in image.info.get("Description", "")
