"""Errors and warnings raised by evidence_synth.

Every error is an :class:`EvidenceSynthError`, which is also a :class:`ValueError`, so
``except ValueError`` keeps working for callers who do not know this library. Messages
say what was expected, what was found and where (file, line, record, JSON path).
Errors that collect several problems carry them as a DataFrame in ``.problems``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


class EvidenceSynthError(ValueError):
    """Base class of every error raised by evidence_synth.

    Parameters
    ----------
    message : str
        Human-readable message naming what was expected, what was found and where.
    problems : pandas.DataFrame, optional
        One row per problem when several were collected before raising.
    """

    def __init__(self, message: str, *, problems: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        self.problems = problems


class ParseError(EvidenceSynthError):
    """A file could not be read as the format it claims or was sniffed to be.

    Parameters
    ----------
    message : str
        What was expected and what was found.
    path : str, optional
        The file.
    line : int, optional
        1-based line number in the file.
    record : int, optional
        1-based record number in the file.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Any = None,
        line: int | None = None,
        record: int | None = None,
        problems: pd.DataFrame | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.record = record
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if record is not None:
            where.append(f"record {record}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message, problems=problems)


class UnknownFormatError(ParseError):
    """The content of a file matches no supported bibliographic format."""


class ContractError(EvidenceSynthError):
    """A DataFrame does not satisfy a documented column contract (see ``columns``)."""


class ProtocolError(EvidenceSynthError):
    """A review protocol (or another YAML document checked against a schema) is invalid."""


class StoreError(EvidenceSynthError):
    """The review store refused an operation or could not be opened."""


class DuplicateImportError(StoreError):
    """The same file (by content hash) was already imported into this review."""


class ExtractionError(EvidenceSynthError):
    """An evidence-table row or extraction sheet does not satisfy its schema."""


class EffectSizeError(EvidenceSynthError):
    """Inputs to an effect-size computation are invalid (names the row and argument)."""


class PrismaInconsistencyError(EvidenceSynthError):
    """PRISMA counts do not add up; the message names the two numbers that disagree."""


class LimitError(EvidenceSynthError):
    """An input exceeds a documented limit (size, rows, columns, cell length, nesting, aliases).

    Parameters
    ----------
    message : str
        What was found and where (the file, and the line, record or path when known).
    limit : str, optional
        The name of the limit, as documented in ``docs/limits.md``.
    value : int, optional
        The limit's value that was exceeded.
    """

    def __init__(self, message: str, *, limit: str | None = None, value: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.value = value


class DataQualityWarning(UserWarning):
    """Something was repaired or guessed on import (encoding fallback, dropped BOM, ...).

    The same information is recorded with the data, so the warning is never the only trace.
    """


def os_error_text(exc: OSError) -> str:
    """What an OS error on reading a user's file means, in words (without the file name).

    Readers turn ``OSError`` into their own error class with this text, so that a file that
    is missing, a folder or unreadable is reported like any other bad input.
    """
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "expected a file, found a directory"
    if isinstance(exc, NotADirectoryError):
        return "file not found (a part of the path is not a directory)"
    if isinstance(exc, PermissionError):
        return "permission denied: the file cannot be read (check its permissions)"
    return f"cannot read the file: {exc.strerror or exc}"
