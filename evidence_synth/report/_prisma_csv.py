"""Writing and reading the ``n`` and ``tooltips`` cells of the PRISMA2020 template CSV."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PrismaInconsistencyError
from . import _prisma_template as tpl

if TYPE_CHECKING:
    from .prisma import PrismaCounts


def _na(value: str | None) -> str:
    return "NA" if value is None else value


def _clean_name(name: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[,;]", " ", str(name))).strip()


def _pairs(items: Mapping[str, int]) -> str:
    return "; ".join(f"{_clean_name(k)}, {v}" for k, v in items.items())


def _csv_values(c: PrismaCounts) -> dict[str, str]:
    values = {
        "previous_studies": c.previous_studies, "previous_reports": c.previous_reports,
        "database_results": c.database_total, "register_results": c.register_total,
        "website_results": c.website_results, "organisation_results": c.organisation_results,
        "citations_results": c.citations_results, "duplicates": c.duplicates,
        "excluded_automatic": c.excluded_automatic, "excluded_other": c.excluded_other,
        "records_screened": c.records_screened, "records_excluded": c.records_excluded,
        "dbr_sought_reports": c.dbr_sought_reports,
        "dbr_notretrieved_reports": c.dbr_notretrieved_reports,
        "other_sought_reports": c.other_sought_reports,
        "other_notretrieved_reports": c.other_notretrieved_reports,
        "dbr_assessed": c.dbr_assessed, "other_assessed": c.other_assessed,
        "new_studies": c.new_studies, "new_reports": c.new_reports,
        "total_studies": c.total_studies, "total_reports": c.total_reports,
    }
    out = {k: str(int(v)) for k, v in values.items()}
    out.update(
        database_specific_results=_pairs(c.database_results),
        register_specific_results=_pairs(c.register_results),
        dbr_excluded=_pairs(c.dbr_excluded), other_excluded=_pairs(c.other_excluded),
    )
    for key in ("prevstud", "newstud", "othstud", *tpl.TITLE_ROWS):
        out[key] = "0"
    return out


def _csv_tooltips(c: PrismaCounts) -> dict[str, str]:
    return {
        "records_excluded": (
            f"Records excluded (databases and registers): {c.records_excluded_human} by "
            f"humans, {c.records_excluded_automation} by automation tools"),
        "other_sought_reports": (
            f"Reports sought for retrieval (other methods), after removing "
            f"{c.other_duplicates} duplicates and {c.other_records_excluded} records "
            f"excluded at screening"),
    }


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


def _tooltip_int(row: Mapping[str, str], pattern: str) -> int | None:
    match = re.search(pattern, row.get("tooltips") or "")
    return int(match.group(1)) if match else None
