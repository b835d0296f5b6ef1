"""Limits on what the readers accept, so that a small or hostile file cannot exhaust
memory or time.

Every reader (``read_records``, ``read_egm``, ``load_protocol`` and the other YAML
documents, the extraction-template importer) checks its input against the
:class:`Limits` in force and raises :class:`~evidence_synth.errors.LimitError` naming the
file, the limit and its value when the input goes beyond one. The defaults are far above
any real export (see ``docs/limits.md``); raise one for a genuine file with
:func:`override`::

    from evidence_synth import limits

    with limits.override(max_file_bytes=8 * 2**30):
        records = read_records("huge.ris")

The limits in force are per thread and per asyncio task (a :class:`contextvars.ContextVar`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import zipfile
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .errors import LimitError, ParseError

__all__ = ["Limits", "blocks", "check_depth", "check_zip", "current", "exceeded", "override",
           "read_capped"]


@dataclass(frozen=True)
class Limits:
    """The limits the readers enforce (see ``docs/limits.md`` for what each bounds).

    Attributes
    ----------
    max_file_bytes : int
        Bytes read from one file (2 GiB).
    max_unpacked_bytes : int
        Declared uncompressed size of all members of an XLSX (ZIP) file (1 GiB).
    max_compression_ratio : int
        Uncompressed / compressed size of one ZIP member larger than 1 MiB (200).
    max_rows : int
        Rows of a table (CSV, TSV, XLSX sheet), counting empty rows between filled ones
        (2,000,000).
    max_columns : int
        Columns of a table row, up to its last non-empty cell (2,000).
    max_cell_chars : int
        Characters in one table cell (1,000,000).
    max_yaml_nodes : int
        Nodes of a YAML document with aliases expanded (1,000,000).
    max_yaml_aliases : int
        Alias references (``*name``) followed in a YAML document, counted as expanded
        (10,000).
    max_depth : int
        Nesting depth of a JSON value or an XML element (200).
    max_sniff_line_chars : int
        Characters of one line a format sniffer looks at (10,000).
    """

    max_file_bytes: int = 2 * 1024**3
    max_unpacked_bytes: int = 1024**3
    max_compression_ratio: int = 200
    max_rows: int = 2_000_000
    max_columns: int = 2_000
    max_cell_chars: int = 1_000_000
    max_yaml_nodes: int = 1_000_000
    max_yaml_aliases: int = 10_000
    max_depth: int = 200
    max_sniff_line_chars: int = 10_000

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if type(value) is not int or value < 1:
                raise ValueError(f"limit {item.name} must be a positive int, got {value!r}")


_DEFAULTS = Limits()
_CURRENT: ContextVar[Limits | None] = ContextVar("evidence_synth_limits", default=None)

#: ZIP members at most this large are never refused for their compression ratio.
_RATIO_FLOOR = 1 << 20


def current() -> Limits:
    """The limits in force (the defaults unless inside :func:`override`)."""
    return _CURRENT.get() or _DEFAULTS


@contextlib.contextmanager
def override(**changes: int) -> Iterator[Limits]:
    """Change some limits inside a ``with`` block; the others keep their values.

    Parameters
    ----------
    **changes : int
        Limit name -> new value (a positive int), e.g. ``max_rows=5_000_000``.

    Yields
    ------
    Limits
        The limits in force inside the block.

    Raises
    ------
    TypeError
        For a name that is not a limit.
    ValueError
        For a value that is not a positive int.
    """
    names = {item.name for item in dataclasses.fields(Limits)}
    unknown = sorted(set(changes) - names)
    if unknown:
        raise TypeError(f"not a limit: {', '.join(unknown)}; limits are {', '.join(sorted(names))}")
    limits = dataclasses.replace(current(), **changes)
    token = _CURRENT.set(limits)
    try:
        yield limits
    finally:
        _CURRENT.reset(token)


def exceeded(name: str, *, where: Any, found: str) -> LimitError:
    """The :class:`LimitError` for limit ``name`` exceeded at ``where`` (file, line, cell)."""
    value = getattr(current(), name)
    return LimitError(
        f"{where}: {found}, over the limit {name} = {value:,}; if the file is genuine, "
        f"raise the limit with evidence_synth.limits.override({name}=...)",
        limit=name, value=value)


def blocks(handle: IO[bytes], *, path: Any, size: int = 1 << 20,
           already: int = 0) -> Iterator[bytes]:
    """The blocks of at most ``size`` bytes of an open binary file, to its end, refusing
    more than ``max_file_bytes`` in all (``already`` bytes were read or skipped before), so
    that an endless device such as ``/dev/zero`` stops at the limit."""
    left = current().max_file_bytes - already
    while block := handle.read(min(size, left + 1)):
        left -= len(block)
        if left < 0:
            raise exceeded("max_file_bytes", where=path, found="the file is larger")
        yield block


def read_capped(handle: IO[bytes], *, path: Any) -> bytes:
    """All bytes of an open binary file, refusing more than ``max_file_bytes``
    (:func:`blocks`) and a file whose first MiB is all NUL bytes, which no export is."""
    chunks: list[bytes] = []
    for chunk in blocks(handle, path=path):
        if not chunks and not chunk.strip(b"\x00"):
            raise ParseError(f"expected a text or spreadsheet file, found only NUL bytes "
                             f"in the first {len(chunk):,} bytes", path=path, line=1)
        chunks.append(chunk)
    return b"".join(chunks)


def check_zip(path: str | Path) -> None:
    """Refuse a ZIP file (XLSX) whose members would unpack to too much.

    Checks the sizes the archive declares (Python's ``zipfile`` never unpacks a member
    beyond its declared size): the total against ``max_unpacked_bytes`` and each member
    larger than 1 MiB against ``max_compression_ratio``. A file that is not a readable
    ZIP passes (its reader reports it).
    """
    limits = current()
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    total = 0
    for member in members:
        total += member.file_size
        if total > limits.max_unpacked_bytes:
            raise exceeded("max_unpacked_bytes", where=path,
                           found=f"the archive's members unpack to more than {total:,} bytes")
        if member.file_size > _RATIO_FLOOR:
            ratio = member.file_size / max(member.compress_size, 1)
            if ratio > limits.max_compression_ratio:
                raise exceeded(
                    "max_compression_ratio", where=path,
                    found=(f"member {member.filename!r} unpacks {member.compress_size:,} bytes "
                           f"to {member.file_size:,} (ratio {ratio:,.0f}), a zip bomb"))


def check_depth(value: Any, *, where: Any) -> None:
    """Refuse a JSON value (dicts and lists) nested deeper than ``max_depth``.

    Iterative, so it works on any value the JSON parser returned; ``where`` names the file
    in the error, which also gives the JSON path of the first too-deep value.
    """
    limit = current().max_depth
    stack: list[tuple[Any, int, Any]] = [(value, 1, None)]
    while stack:
        item, depth, at = stack.pop()
        if isinstance(item, dict):
            children: Any = item.items()
        elif isinstance(item, list):
            children = enumerate(item)
        else:
            continue
        if depth > limit:
            keys = []
            while at is not None:
                key, at = at
                keys.append(key)
            path = "$" + "".join(f"[{k!r}]" if isinstance(k, str) else f"[{k}]"
                                 for k in reversed(keys[-8:]))
            raise exceeded("max_depth", where=where,
                           found=f"JSON nested more than {limit} levels deep (at {path}...)")
        stack.extend((child, depth + 1, (key, at)) for key, child in children)
