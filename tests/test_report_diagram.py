"""The PRISMA 2020 flow diagram: both files written, every box's text present in the SVG."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
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


def _review_in_progress(path):
    """Four Scopus records, two of them screened: screening is unfinished."""
    import pandas as pd

    from evidence_synth import open_review
    from evidence_synth.columns import records_from_dicts

    review = open_review(path)
    review.add_records(records_from_dicts({"record_id": f"s:{i}", "title": f"Record {i}"}
                                          for i in range(1, 5)),
                       source={"source_id": "s", "kind": "database", "database": "Scopus"})
    review.save_duplicate_groups(pd.DataFrame(
        [{"record_id": f"s:{i}", "group_id": f"G{i}", "is_primary": True} for i in range(1, 5)]))
    review.add_decisions([
        {"record_id": "s:1", "stage": "title_abstract", "decision": "exclude",
         "reviewer": "ana", "reason": "TA_POPULATION"},
        {"record_id": "s:2", "stage": "title_abstract", "decision": "include",
         "reviewer": "ana"}])
    return review


def test_unfinished_screening_gives_a_draft_mark_on_the_figure_and_the_csv(tmp_path):
    from evidence_synth.report import prisma_counts

    with _review_in_progress(tmp_path / "r.db") as review:
        counts = prisma_counts(review)
    assert counts.pending == [
        "2 record(s) from databases/registers not yet screened at title/abstract: groups "
        "G3, G4",
        "1 report(s) sought for retrieval but neither assessed at full text nor marked not "
        "retrieved: groups G2"]
    assert counts.draft_reasons() == ["screening in progress"]
    assert counts.status == "DRAFT: screening in progress"
    result = prisma_diagram(counts, tmp_path / "flow", dpi=60)
    assert result.status == counts.status
    svg = result.svg.read_text(encoding="utf-8")
    assert "DRAFT: screening in progress \u2013 these counts are not final" in svg
    assert ">DRAFT<" in svg  # the watermark
    with Image.open(result.png) as image:
        assert image.info["Title"].startswith("DRAFT: screening in progress")
        rgb = np.asarray(image.convert("RGB")).astype(int)
        red = int(((rgb[..., 0] > 150) & (rgb[..., 1] < 60) & (rgb[..., 2] < 60)).sum())
        assert red > 200  # the red mark is drawn, not only written in the metadata
    path = counts.to_prisma2020_csv(tmp_path / "prisma2020.csv")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    title = frame.loc[frame["box"] == "newstud", "boxtext"].item()
    assert title.startswith("DRAFT: screening in progress - Identification of new studies")
    meta = json.loads(Path(f"{path}.meta.json").read_text(encoding="utf-8"))
    assert meta["status"] == "DRAFT: screening in progress"
    assert json.loads(counts.to_json())["draft_reasons"] == ["screening in progress"]
    back = PrismaCounts.from_prisma2020_csv(path)  # the mark does not disturb reading back
    assert back.records_screened == counts.records_screened == 2


def test_inconsistent_counts_are_a_draft_and_consistent_ones_are_not(tmp_path):
    assert COUNTS.draft_reasons() == [] and COUNTS.status == "final"
    broken = PrismaCounts(**{**{f: getattr(COUNTS, f) for f in (
        "database_results", "duplicates", "records_screened")}, "records_screened": 5})
    assert broken.draft_reasons() == ["counts inconsistent"]
    result = prisma_diagram(broken, tmp_path / "flow", dpi=60)
    assert "DRAFT: counts inconsistent" in result.svg.read_text(encoding="utf-8")
    clean = prisma_diagram(COUNTS, tmp_path / "clean", dpi=60)
    assert clean.status == "final" and "DRAFT" not in clean.svg.read_text(encoding="utf-8")
