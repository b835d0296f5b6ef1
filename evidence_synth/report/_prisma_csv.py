"""The PRISMA2020 R package / Shiny app CSV (``inst/extdata/PRISMA.csv``): writing, reading.

The template's rows are derived from the box table (``_prisma_boxes``): one per title or
stage panel and one per box with a CSV row, panel by panel in the template's order. Their
``data``, ``node`` and ``box`` values and order are those of the package's template, so a
file written here opens in ``PRISMA2020::PRISMA_data()`` and in the Shiny app. ``boxtext``
holds the PRISMA 2020 box labels the package draws; the descriptions are ours. ``None``
is written as ``NA``; the template leaves the organisations row's node empty, and so do
we. Parts of a box that has no row of its own (the human/automation split of the records
excluded, duplicates and exclusions at screening in the other-methods branch) go to the
``tooltips`` of the box they are part of, so they survive a round trip. Cells that a
spreadsheet would run as a formula (a database named ``=...``) get a ``'`` prefix, which the
reader removes (:mod:`evidence_synth.spreadsheet`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import PrismaInconsistencyError
from ..spreadsheet import neutralise_cell, restore_cell
from ._prisma_boxes import (
    BOX,
    BOXES,
    PANELS,
    QUALIFIER,
    Box,
    after_removing,
    count,
    expected,
    parts,
)

if TYPE_CHECKING:
    from .prisma import PrismaCounts

COLUMNS = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")


def _template() -> tuple[tuple[str | None, str | None, str, str, str], ...]:
    rows: list[tuple[str | None, str | None, str, str, str]] = []
    for panel in PANELS:
        if panel.kind == "counts":
            rows += [(b.key, b.node, panel.name, b.boxtext, b.description)
                     for b in BOXES if b.panel == panel.name and b.in_csv]
        else:
            data = panel.name if panel.kind == "stage" else None
            rows.append((data, panel.node, panel.name, panel.text, panel.description))
    return tuple(rows)


#: (data, node, box, boxtext, description) of every row, in the template's order.
TEMPLATE_ROWS = _template()


def _na(value: str | None) -> str:
    return "NA" if value is None else value


def _clean_name(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[,;]", " ", str(name))).strip()


def _pairs(items: Mapping[str, int]) -> str:
    return "; ".join(f"{_clean_name(k)}, {v}" for k, v in items.items())


def _n_cell(counts: PrismaCounts, box: Box) -> str:
    if box.csv_list:
        return _pairs(getattr(counts, box.csv_list))
    return str(count(counts, box.key))


def _tooltip(counts: PrismaCounts, box: Box) -> str:
    """Where a box's parts are written: "<label> (<branch>): 12 by humans, 3 by ..."."""
    text = box.label + QUALIFIER.get(box.branch, "")
    lines = [f"{count(counts, p.key)} {p.label}" for p in parts(box.key) if not p.aside]
    text += ": " + ", ".join(lines) if lines else ""
    removed = after_removing(counts, box.key)
    return text + (", " + removed if removed else "")


def prisma2020_frame(counts: PrismaCounts) -> pd.DataFrame:
    """The counts as the template's rows (see ``PrismaCounts.to_prisma2020_frame``)."""
    rows = []
    for data, node, box, boxtext, description in TEMPLATE_ROWS:
        counted = BOX.get(data) if data is not None else None
        if counted is not None and parts(counted.key):
            tooltip = _tooltip(counts, counted)
        else:
            tooltip = description if node else "NA"
        rows.append({
            "data": _na(data), "node": _na(node), "box": box, "description": description,
            "boxtext": boxtext, "tooltips": tooltip, "url": "NA",
            "n": _n_cell(counts, counted) if counted is not None else "0",
        })
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    if counts.draft_reasons():  # the R package draws this title: the mark travels with it
        title = frame["box"] == "newstud"
        frame.loc[title, "boxtext"] = f"{counts.status} - " + frame.loc[title, "boxtext"]
    return frame


def write_prisma2020_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write :func:`prisma2020_frame` as R's ``read.csv`` reads it."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        writer.writerows(frame.map(neutralise_cell).itertuples(index=False, name=None))


def read_prisma2020_csv(path: Path, counts: PrismaCounts) -> PrismaCounts:
    """Fill an empty ``counts`` from a template CSV (see ``from_prisma2020_csv``)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ("data", "box", "n") if c not in (reader.fieldnames or [])]
        if missing:
            raise PrismaInconsistencyError(
                f"{path}: expected PRISMA2020 columns {', '.join(COLUMNS)}; "
                f"missing {', '.join(missing)}"
            )
        rows = [(i + 2, {k: restore_cell(v) for k, v in r.items()})
                for i, r in enumerate(reader)]
    by_key = {r["data"]: (line, r) for line, r in rows if r["data"] not in ("", "NA")}
    whole_numbers = {f.name for f in fields(counts) if f.type in ("int", int)}
    for key, (line, row) in by_key.items():
        box = BOX.get(key)
        if box is None or not box.in_csv:
            continue
        text = (row.get("n") or "").strip()
        if box.csv_list:
            setattr(counts, box.csv_list, _parse_list(text, path=path, line=line, key=key))
            continue
        shown = parts(key)
        if key not in whole_numbers and not shown:
            continue  # a total (total_studies, ...) the counts derive themselves
        total = _parse_int(text, path=path, line=line, key=key)
        if key in whole_numbers:
            setattr(counts, key, total)
        found = {p.key: _tooltip_int(row, p.aside or p.label) or 0 for p in shown}
        if box.sum_of:  # a total of its parts: the first one is the rest (keeps n as read)
            first = box.sum_of[0]
            found[first] = total - sum(v for k, v in found.items() if k != first)
        for part, n in found.items():
            setattr(counts, part, n)
    for box in BOXES:
        if box.items == "sources" and not getattr(counts, box.key) and box.key in by_key:
            line, row = by_key[box.key]
            n = _parse_int((row.get("n") or "").strip(), path=path, line=line, key=box.key)
            if n:
                setattr(counts, box.key, {box.label: n})
    for box in BOXES:  # counts the template has no row for, from their arithmetic
        if box.equals and not box.in_csv and box.key in whole_numbers:
            setattr(counts, box.key, expected(counts, box))
    return counts


def _parse_int(text: str, *, path: Path, line: int, key: str) -> int:
    cleaned = text.replace(",", "").strip()
    if cleaned in ("", "NA"):
        return 0
    if not re.fullmatch(r"\d+", cleaned):
        raise PrismaInconsistencyError(
            f"{path}, line {line}: expected a whole number in column n for {key!r}, "
            f"found {text!r}"
        )
    return int(cleaned)


def _parse_list(text: str, *, path: Path, line: int, key: str) -> dict[str, int]:
    out: dict[str, int] = {}
    if text in ("", "NA"):
        return out
    for part in re.split(r";\s*", text):
        if not part.strip():
            continue
        name, _, number = part.rpartition(",")
        if not name.strip() or not re.fullmatch(r"\s*\d+\s*", number):
            raise PrismaInconsistencyError(
                f"{path}, line {line}: expected 'name, n; name, n' in column n for {key!r}, "
                f"found {part!r}"
            )
        out[name.strip()] = out.get(name.strip(), 0) + int(number)
    return out


def _tooltip_int(row: Mapping[str, str], words: str) -> int | None:
    match = re.search(rf"(\d+) {re.escape(words)}", row.get("tooltips") or "")
    return int(match.group(1)) if match else None
