"""The records contract as a flat table (CSV/XLSX cells) and back.

:func:`to_table` is what ``write_records(format="csv" | "xlsx")`` writes: one column per
contract field, lists joined with ``"; "`` (``" | "`` when ``"; "`` would not split back to
the same items), ``raw`` as JSON. :func:`read_records_csv` reads such a CSV back into the
same frame, and also reads hand-made CSVs holding some of the contract's columns.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pandas as pd

from .. import limits
from ..columns import LIST_COLUMNS, RAW, RECORD_COLUMNS, RECORD_ID, SOURCE_ID, coerce_records
from ..errors import ParseError
from ..spreadsheet import restore_frame
from . import _text, tabular

_BAR = " | "


def to_table(df: pd.DataFrame, include_raw: bool = True) -> pd.DataFrame:
    """Contract columns of ``df`` as text cells: lists joined, ``raw`` as JSON."""
    table = pd.DataFrame(index=df.index)
    for column in RECORD_COLUMNS:
        if column == RAW:
            if include_raw and RAW in df.columns:
                table[RAW] = [json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else None
                              for v in df[RAW]]
            continue
        if column not in df.columns:
            continue
        if column in LIST_COLUMNS:
            table[column] = [join_items(v) if isinstance(v, list) else None for v in df[column]]
        else:
            table[column] = df[column]
    return table


def join_items(items: list[str]) -> str | None:
    """``"; "``-joined, or ``" | "``-joined when :func:`read_records` would split the
    ``"; "`` form differently (an item holding ``";"``, a one-item list that looks like
    several PubMed-style names); a one-item ``" | "`` form ends with ``" | "``."""
    if not items:
        return None
    joined = "; ".join(items)
    if tabular.split_cell(joined) == items:
        return joined
    return _BAR.join(items) + (_BAR if len(items) == 1 else "")


def split_items(cell: str) -> list[str]:
    """The items :func:`join_items` joined: the ``" | "`` form split exactly (a one-item
    list's trailing bar dropped), otherwise as :func:`read_records` splits table cells."""
    if _BAR in cell:
        return [part.strip() for part in cell.split(_BAR) if part.strip()]
    return tabular.split_cell(cell)


def read_records_csv(path: str | Path, *, source_id: str | None = None) -> pd.DataFrame:
    """Read a records CSV, as written by ``write_records(df, path, format="csv")``.

    The inverse of the CSV writer: ``read_records_csv(write_records(df, p, format="csv"))``
    equals ``df`` in every contract column (lists, ``Int64`` years and rows, the ``raw``
    dict), and text the writer prefixed with ``'`` (formula neutralisation) comes back
    without it. Hand-made CSVs work too: only a ``title`` column is required; missing columns
    are empty, an empty ``record_id`` becomes ``"<file stem>:<row>"`` and an empty
    ``source_id`` becomes ``source_id`` (default: the file stem). Unlike
    :func:`read_records`, which reads any CSV as a new export, the file's own
    ``record_id``, ``source_id`` and ``raw`` are kept.

    Parameters
    ----------
    path : str or Path
        The CSV (UTF-8; a BOM or another encoding is handled as by :func:`read_records`).
    source_id : str, optional
        For rows without one.

    Returns
    -------
    pandas.DataFrame
        The records contract: ``record_id``, ``source_id``, ``source_row``, ``title``,
        ``abstract``, ``journal``, ``authors``, ``keywords``, ``year``, ``volume``,
        ``issue``, ``pages``, ``publisher``, ``isbn``, ``issn``, ``language``,
        ``pub_type``, ``doi``, ``pmid``, ``accession``, ``raw``, then any other columns of
        the file (as text).

    Raises
    ------
    ParseError
        A file that is missing, empty, not a well-formed CSV or has no ``title`` column;
        a ``raw`` cell that is not a JSON object of lists of strings; a ``record_id``
        given twice (each names the file and the record).
    """
    path = Path(path)
    decoded = _text.decode(_text.read_bytes(path), path=path)
    if not decoded.text.strip():
        raise ParseError("expected a records CSV, found an empty file", path=path, line=1)
    try:
        frame = pd.read_csv(io.StringIO(decoded.text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as exc:
        raise ParseError(f"expected a well-formed records CSV: {exc}", path=path) from exc
    frame = restore_frame(frame)  # the writer's formula-neutralising quotes
    if "title" not in frame.columns:
        raise ParseError("expected a records CSV with a 'title' column; found columns "
                         f"{list(frame.columns)[:8]}", path=path, line=1)
    rows = range(1, len(frame) + 1)
    for column in LIST_COLUMNS:
        if column in frame.columns:
            frame[column] = [split_items(v) for v in frame[column]]
    if RAW in frame.columns:
        frame[RAW] = [_raw(v, path, k) for k, v in zip(rows, frame[RAW], strict=True)]
    ids = frame[RECORD_ID] if RECORD_ID in frame.columns else [""] * len(frame)
    frame[RECORD_ID] = [v if v.strip() else f"{path.stem}:{k}"
                        for k, v in zip(rows, ids, strict=True)]
    default_source = path.stem if source_id is None else source_id
    sources = frame[SOURCE_ID] if SOURCE_ID in frame.columns else [""] * len(frame)
    frame[SOURCE_ID] = [v if v.strip() else default_source for v in sources]
    doubled = frame[RECORD_ID].str.strip().duplicated(keep=False)
    if doubled.any():
        at = [k for k, d in zip(rows, doubled, strict=True) if d]
        raise ParseError(f"record_id {frame[RECORD_ID].iloc[at[0] - 1]!r} is given to records "
                         f"{at[0]} and {at[1]}; expected one record per id", path=path,
                         record=at[1])
    return coerce_records(frame)


def _raw(cell: str, path: Path, record: int) -> dict[str, list[str]]:
    if not cell.strip():
        return {}
    try:
        raw: Any = json.loads(cell)
    except json.JSONDecodeError as exc:
        raise ParseError(f"expected the 'raw' column to hold JSON: {exc}", path=path,
                         record=record) from exc
    except RecursionError:
        raise limits.exceeded("max_depth", where=f"{path}, record {record}",
                              found="the 'raw' column holds JSON nested too deep") from None
    if not (isinstance(raw, dict) and all(
            isinstance(v, list) and all(isinstance(x, str) for x in v) for v in raw.values())):
        raise ParseError("expected the 'raw' column to hold a JSON object of lists of strings "
                         f"(tag -> values), found {cell[:60]!r}", path=path, record=record)
    return raw
