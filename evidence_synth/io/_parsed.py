"""What a format's parser reads (:class:`Source`) and returns (:class:`Parsed`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..errors import ParseError
from . import _text

Raw = dict[str, list[str]]


@dataclass
class Parsed:
    """Raw records of a file with their first line numbers.

    ``records`` hold every tag (or column, or element path) with its values in file order;
    ``lines`` the first line of each record (empty when unknown); ``skipped`` the non-blank
    lines found outside records as ``(line, text)``; ``header`` the column names of a table
    (empty for tagged formats) and ``header_row`` its 1-based row; ``open_at`` the line of
    a record still open at the end.
    """

    records: list[Raw] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    open_at: int | None = None
    header: list[str] = field(default_factory=list)
    header_row: int | None = None


class Source:
    """An export file and the options it is read with, decoded on first use.

    A parser reads ``text`` or ``lines`` (decoded as :func:`read_records` documents) or,
    for binary formats, ``path`` itself; ``info`` then says how the text was obtained.
    ``columns`` is the caller's contract field -> column name override for tables and
    ``header_row`` the 1-based row holding a table's header (found when ``None``).
    """

    def __init__(self, path: str | Path, *, encoding: str | None = None,
                 columns: Mapping[str, str] | None = None,
                 header_row: int | None = None) -> None:
        self.path = Path(path)
        self.encoding = encoding
        self.columns = columns
        self.header_row = header_row
        self.info: dict[str, Any] = _text.plain_info(None)

    @cached_property
    def text(self) -> str:
        """The whole content, decoded (BOM, UTF-8, else a reported fallback)."""
        data = _text.read_bytes(self.path)
        decoded = _text.decode(data, path=self.path, encoding=self.encoding)
        del data  # large files: keep only one copy of the content alive
        self.info = decoded.info()
        text, decoded.text = decoded.text, ""
        return text

    @cached_property
    def lines(self) -> list[str]:
        """``text`` split on every line break (LF, CRLF, CR, U+2028, ...)."""
        return _text.split_lines(self.text)

    def release(self) -> None:
        """Drop the decoded content (``info`` stays)."""
        self.__dict__.pop("lines", None)
        self.__dict__.pop("text", None)


def unread_record_error(*, path: Any, record: int, start: int, line: int, text: str,
                        expected: str) -> ParseError:
    """The error for a record none of whose lines could be read as fields.

    Such a record would otherwise be imported empty: its title, authors and every other
    field silently lost (for instance tags indented in a way the reader does not expect).
    """
    return ParseError(
        f"record {record} (opened at line {start}) has no field the reader recognises: "
        f"expected {expected}, found {text.strip()[:60]!r}; every field of this record "
        "would be lost", path=path, line=line, record=record)
