"""``write_records``: records -> RIS, CSV or XLSX for the tools reviewers move between."""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataQualityWarning, EvidenceSynthError
from ..spreadsheet import write_csv, write_xlsx
from .records_table import to_table

_RIS_TYPE = re.compile(r"^[A-Z]{2,6}$")
_LOOKS_TAGGED = re.compile(r"^\s*[A-Z][A-Z0-9] {1,3}-")
_BOOKISH = frozenset({"BOOK", "CHAP", "EBOOK", "ECHAP", "EDBOOK", "CONF", "CPAPER"})
_XLSX_CELL_LIMIT = 32_767
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def write_records(
    df: pd.DataFrame,
    path: str | Path,
    *,
    format: str = "ris",
    newline: str = "\r\n",
    include_raw: bool = True,
) -> Path:
    """Write records to RIS, CSV or XLSX.

    Parameters
    ----------
    df : pandas.DataFrame
        Records (contract columns; missing ones are treated as empty).
    path : str or Path
        Output file (overwritten).
    format : {"ris", "csv", "xlsx"}
        RIS is UTF-8 without BOM, ``TY  - `` ... ``ER  - `` with two-letter tags, CRLF line
        ends by default (``newline="\\n"`` for LF); EndNote, Zotero, Rayyan and Covidence
        read it. CSV/XLSX have one column per contract field, lists joined with ``"; "``
        and (``include_raw``) the ``raw`` dict as JSON; :func:`read_records_csv` reads
        the CSV back into the same frame. Text that a spreadsheet would run as a formula
        (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) gets a ``'``
        prefix in CSV, which the readers remove again; XLSX cells hold text as string
        cells, never formulas (see "Spreadsheet safety" in ``docs/import.md``).
    newline : str
        RIS line terminator.
    include_raw : bool
        CSV/XLSX only: add the ``raw`` column as JSON text.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    path = Path(path)
    if format == "ris":
        path.write_text(_to_ris(df, newline), encoding="utf-8", newline="")
    elif format in ("csv", "xlsx"):
        table = to_table(df, include_raw)
        if format == "csv":
            write_csv(table, path, encoding="utf-8")
        else:
            write_xlsx({"Sheet1": _clip_for_excel(table)}, path)
    else:
        raise EvidenceSynthError(
            f"format {format!r} not supported; expected 'ris', 'csv' or 'xlsx'"
        )
    return path


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (list, dict)):
        return bool(value)
    return not pd.isna(value) and str(value).strip() != ""


def _ris_lines(tag: str, value: Any) -> list[str]:
    parts = [p.strip() for p in str(value).splitlines()]
    while parts and not parts[-1]:
        parts.pop()
    while parts and not parts[0]:
        parts.pop(0)
    if not parts:
        return []
    lines = [f"{tag}  - {parts[0]}"]
    for part in parts[1:]:
        if _LOOKS_TAGGED.match(part):
            lines[-1] = f"{lines[-1]} {part}"
        else:
            lines.append(part)
    return lines


def _to_ris(df: pd.DataFrame, newline: str) -> str:
    out: list[str] = []
    for row in df.to_dict("records"):
        get = row.get
        pub_type = str(get("pub_type")).strip() if _present(get("pub_type")) else ""
        ty = pub_type if _RIS_TYPE.match(pub_type) else "GEN"
        out.append(f"TY  - {ty}")
        if ty != pub_type and pub_type:
            out += _ris_lines("M3", get("pub_type"))
        if _present(get("record_id")):
            out += _ris_lines("ID", get("record_id"))
        out += _ris_lines("TI", get("title")) if _present(get("title")) else []
        for author in get("authors") or []:
            out += _ris_lines("AU", author)
        for tag, column in (("PY", "year"), ("JO", "journal"), ("VL", "volume"),
                            ("IS", "issue"), ("PB", "publisher"), ("LA", "language"),
                            ("DO", "doi"), ("AN", "accession")):
            if _present(get(column)):
                out += _ris_lines(tag, get(column))
        if _present(get("pages")):
            pages = str(get("pages"))
            if pages.count("-") == 1 and not any(c.isspace() for c in pages):
                start, end = pages.split("-")
                out += _ris_lines("SP", start) + _ris_lines("EP", end)
            else:
                out += _ris_lines("SP", pages)
        if _present(get("issn")):
            out += _ris_lines("SN", get("issn"))
        if _present(get("isbn")):
            out += _ris_lines("SN" if ty in _BOOKISH else "BN", get("isbn"))
        if _present(get("pmid")):
            out += _ris_lines("U1", f"{get('pmid')} [PMID]")
        if _present(get("abstract")):
            out += _ris_lines("AB", get("abstract"))
        for keyword in get("keywords") or []:
            out += _ris_lines("KW", keyword)
        out.append("ER  - ")
        out.append("")
    return newline.join(out) + (newline if out else "")


def _clip_for_excel(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    for column in table.columns:
        if table[column].dtype != object and not isinstance(table[column].dtype, pd.StringDtype):
            continue
        lengths = table[column].map(lambda v: len(v) if isinstance(v, str) else 0)
        too_long = lengths > _XLSX_CELL_LIMIT
        if too_long.any():
            warnings.warn(
                f"{int(too_long.sum())} value(s) of column {column!r} exceed Excel's "
                f"{_XLSX_CELL_LIMIT}-character cell limit and were cut; use CSV to keep them",
                DataQualityWarning,
                stacklevel=3,
            )
            table.loc[too_long, column] = table.loc[too_long, column].str[:_XLSX_CELL_LIMIT]
        illegal = table[column].map(lambda v: isinstance(v, str) and bool(_XML_ILLEGAL.search(v)))
        if illegal.any():
            warnings.warn(
                f"{int(illegal.sum())} value(s) of column {column!r} hold control characters "
                "an .xlsx file cannot store; they were replaced by U+FFFD; use CSV to keep "
                "them", DataQualityWarning, stacklevel=3,
            )
            table.loc[illegal, column] = table.loc[illegal, column].str.replace(
                _XML_ILLEGAL, "\ufffd", regex=True)
    return table
