"""Small CSV files a person filled in (decisions, answered queues): rows with their lines.

Read as every export is read (:func:`~evidence_synth.io._text.decode`: UTF-8, a reported
fallback on the lines that are not, NUL bytes removed and reported, binary refused), and
parsed strictly: a quote that is never closed is an error naming its line, not a last field
that swallows the rest of the file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path

from ..errors import ParseError
from . import _text


def read_csv_rows(path: str | Path, *, required: Iterable[str]
                  ) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The header and the data rows of a CSV file, each row with its first line number.

    Parameters
    ----------
    path : str or Path
        The CSV file.
    required : iterable of str
        Columns the header must name.

    Returns
    -------
    header : list of str
        Column names, stripped.
    rows : list of (int, dict)
        ``(line, {column: value})`` for every row that is not blank, in file order; ``line``
        is the 1-based line the row starts on. Missing trailing cells are ``""``.

    Raises
    ------
    ParseError
        A missing, unreadable, empty or binary file, a header without a required column, a
        quote never closed or a stray quote (each naming the file and the line).
    """
    required = list(required)
    data = _text.read_bytes(path)
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise ParseError(f"expected a CSV header with {_names(required)}, found an empty file",
                         path=path, line=1)
    text = _text.decode(data, path=path).text
    del data
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    header: list[str] | None = None
    start = 1
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                header_line = line
                continue
            if any(cell.strip() for cell in cells[len(header):]):
                raise ParseError(
                    f"{len(cells)} cells in a row under a header of {len(header)} columns "
                    f"(extra: {', '.join(repr(c) for c in cells[len(header):][:3])}); quote a "
                    "cell that holds a comma", path=path, line=line)
            rows.append((line, {name: cells[i] if i < len(cells) else ""
                                for i, name in enumerate(header)}))
    except csv.Error as exc:
        if "end of data" in str(exc):
            raise ParseError(f"a quote opened on line {start} (or later in that row) is never "
                             "closed: the rest of the file would be read as one cell",
                             path=path, line=start) from exc
        raise ParseError(f"not valid CSV: {exc} (quote a cell that holds a quote, a comma or "
                         'a line break, and double the quotes inside it: "say ""no""")',
                         path=path, line=reader.line_num) from exc
    if header is None:
        raise ParseError(f"expected a CSV header with {_names(required)}, found only blank "
                         "lines", path=path, line=1)
    missing = [name for name in required if name not in header]
    if missing:
        raise ParseError(f"expected columns {_names(required)}, missing {', '.join(missing)} "
                         f"(found {', '.join(header)})", path=path, line=header_line)
    return header, rows


def _names(columns: list[str]) -> str:
    return " and ".join(", ".join(columns).rsplit(", ", 1)) if columns else "a header"
