"""Cells of the CSV and XLSX files the library writes: formulas neutralised, text kept.

A spreadsheet program opening a CSV runs a cell whose text starts with ``=``, ``+``,
``-`` or ``@`` as a formula (``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``); OWASP's
CSV-injection rule adds tab and carriage return, and prefixes such a cell with a single
quote, which spreadsheets read as "this is text". Every CSV the library writes goes
through :func:`neutralise_frame` (or :func:`neutralise_cell`), and every reader of our own
CSVs through :func:`restore_frame` / :func:`restore_cell`, which take the quote off again.

The round trip is exact because the rule also quotes text that already starts with quotes
followed by a trigger (``'=x`` is written ``''=x``): a written cell starts with one or more
quotes and then a trigger character only when a quote was added, so removing one quote
from exactly those cells gives the original text back. Only text is quoted: numbers
(``-0.31`` in a numeric column) stay numbers; the text ``"-0.31"`` is quoted like any text.

XLSX cells need no quote: :func:`put_cell` writes text as a typed string cell (never a
formula, whatever it starts with) and marks text starting with a trigger with Excel's
quote-prefix style, so editing the cell in Excel keeps it text. Reading the workbook back
gives the original text, unchanged.
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .errors import EvidenceSynthError

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "TRIGGERS",
    "append_row",
    "neutralise_cell",
    "neutralise_frame",
    "put_cell",
    "restore_cell",
    "restore_frame",
    "write_csv",
    "write_xlsx",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP).
TRIGGERS = frozenset("=+-@\t\r")
_QUOTE = "'"
#: The row end of the CSVs we write (RFC 4180).
LINE_END = "\r\n"


def _quoted_trigger(text: str) -> bool:
    """Text that is, after any leading quotes, a trigger character."""
    rest = text.lstrip(_QUOTE)
    return bool(rest) and rest[0] in TRIGGERS


def neutralise_cell(value: Any) -> Any:
    """A CSV cell's value made safe: text starting with a trigger gets a ``'`` prefix.

    Text starting with quotes then a trigger (``'=x``) gets one more quote, so that
    :func:`restore_cell` is exact. Anything that is not a ``str`` is returned unchanged.
    """
    if isinstance(value, str) and _quoted_trigger(value):
        return _QUOTE + value
    return value


def restore_cell(value: Any) -> Any:
    """The text :func:`neutralise_cell` was given: one ``'`` removed from a cell that
    starts with quotes followed by a trigger character; anything else unchanged."""
    if isinstance(value, str) and value.startswith(_QUOTE) and _quoted_trigger(value):
        return value[1:]
    return value


def _map_frame(frame: pd.DataFrame, cell: Any) -> pd.DataFrame:
    out = frame.copy()
    for position in range(frame.shape[1]):
        series = frame.iloc[:, position]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
            out.isetitem(position, series.map(cell, na_action="ignore"))
    out.columns = [cell(c) for c in frame.columns]
    return out


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`neutralise_cell` applied to every text cell and
    column name; numeric, boolean and date columns are unchanged."""
    return _map_frame(frame, neutralise_cell)


def restore_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` (as read from one of our CSVs) with :func:`restore_cell`
    applied to every text cell and column name."""
    return _map_frame(frame, restore_cell)


def write_csv(frame: pd.DataFrame, target: str | os.PathLike[str] | IO[str],
              **to_csv: Any) -> None:
    """``frame.to_csv(target, index=False, **to_csv)`` with every text cell neutralised.

    Rows end with CRLF (RFC 4180), so that a cell holding a carriage return is quoted
    (Python's CSV writer quotes only the characters of the line terminator) and reads back
    as one cell.
    """
    options = {"index": False, "lineterminator": LINE_END, **to_csv}
    neutralise_frame(frame).to_csv(target, **options)


def _excel_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str | bool | dt.datetime | dt.date | dt.time):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if math.isnan(number) else number
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def put_cell(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write ``value`` into a worksheet cell; text always as a string cell, never a formula.

    Text starting with a trigger character also gets Excel's quote-prefix style (what
    typing ``'=x`` in Excel makes), so editing the cell keeps it text.

    Raises
    ------
    EvidenceSynthError
        Text holding a control character an XLSX file cannot store (naming the cell).
    """
    from openpyxl.utils.exceptions import IllegalCharacterError

    cell = ws.cell(row=row, column=column)
    value = _excel_value(value)
    try:
        cell.value = value
    except IllegalCharacterError:
        bad = next(ch for ch in value if ord(ch) < 32 and ch not in "\t\n\r")
        raise EvidenceSynthError(
            f"sheet {ws.title!r}, cell {cell.coordinate}: text holds the control character "
            f"U+{ord(bad):04X}, which an .xlsx file cannot store; write CSV instead"
        ) from None
    if isinstance(value, str):
        cell.data_type = "s"
        if value and value[0] in TRIGGERS:
            cell.quotePrefix = True
    return cell


def append_row(ws: Worksheet, values: Iterable[Any]) -> None:
    """``ws.append(values)``, with text written as :func:`put_cell` writes it."""
    values = [_excel_value(v) for v in values]
    ws.append([None if isinstance(v, str) else v for v in values])  # no formula is bound
    row = ws.max_row  # the row just appended (it holds the sheet's last cells)
    for column, value in enumerate(values, start=1):
        if isinstance(value, str):
            put_cell(ws, row, column, value)


def write_xlsx(sheets: Mapping[str, pd.DataFrame], path: str | os.PathLike[str]) -> Path:
    """Write one sheet per frame (header row, then one row per row; no index).

    Text is written as string cells (:func:`put_cell`), numbers as numbers, missing values
    as empty cells.

    Returns
    -------
    pathlib.Path
    """
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        ws = book.create_sheet(name)
        for column, label in enumerate(frame.columns, start=1):
            put_cell(ws, 1, column, label if isinstance(label, str) else str(label))
        for row, record in enumerate(frame.itertuples(index=False, name=None), start=2):
            for column, value in enumerate(record, start=1):
                put_cell(ws, row, column, value)
    path = Path(path)
    book.save(path)
    return path
