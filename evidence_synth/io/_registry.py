"""The import-format registry: each format declared once, read by every part of the reader.

A format module ends with ``FORMATS = (ImportFormat(...), ...)``; :data:`MODULES` lists
the modules that hold formats. :func:`read_records` takes the parser and the record mapping
from the declaration, :func:`list_formats` its name and description, and the sniffer tries
the ``sniff`` functions in ``priority`` order (lowest first; ties in declaration order)
and builds its "unknown format" message from the ``hint`` phrases.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import UnknownFormatError
from ._parsed import Parsed, Raw, Source

if TYPE_CHECKING:
    from .sniff import Sample

#: Modules of this package that declare ``FORMATS``, in the order ``list_formats`` shows.
MODULES: tuple[str, ...] = ("ris", "medline", "wos", "tabular", "endnote_xml", "ovid",
                            "proquest")


@dataclass(frozen=True)
class ImportFormat:
    """One format :func:`~evidence_synth.io.read_records` reads.

    Parameters
    ----------
    name : str
        What ``format=`` takes and ``df.attrs["format"]`` says.
    description, suffixes, signature : str
        For :func:`~evidence_synth.io.list_formats`: what it is, typical file suffixes
        (never trusted), and what sniffing looks for.
    sniff : callable
        ``sniff(sample) -> bool``, whether a :class:`~evidence_synth.io.sniff.Sample` (the
        start of a file) is this format. It may raise ``UnknownFormatError`` for content
        that is recognisably this kind of file but unreadable (XML without records).
        Must run in time linear in the sample (no regex that backtracks over a line).
    priority : int
        Sniffing order, lowest first: byte signatures (0) before text, a format before
        the more general one it would also match (EPPI RIS before RIS, tagged formats
        before tables).
    parse : callable
        ``parse(source) -> Parsed``: the raw records of a :class:`Source`.
    to_record : callable
        ``to_record(raw, **context) -> dict``: the contract fields of one raw record
        (``record_id``, ``source_id``, ``source_row`` and ``raw`` are added by the reader).
    hint : str, optional
        How the "unknown format" message names this format (``"RIS ('TY  - ')"``); formats
        sharing a hint are named once, formats without one (byte signatures) not at all.
    context : callable, optional
        ``context(parsed, source) -> dict`` of keyword arguments for ``to_record`` that
        depend on the file or the read options (a table's resolved columns).
    stream : callable, optional
        ``stream(chunks) -> Parsed | None``: parse text arriving in pieces without holding
        the whole file; ``None`` sends the reader to ``parse`` (which reports problems
        with line numbers).
    to_columns : callable, optional
        ``to_columns(raws) -> dict`` of contract fields as columns, the same values as
        ``to_record`` record by record, for a faster frame on large files.
    """

    name: str
    description: str
    suffixes: str
    signature: str
    sniff: Callable[[Sample], bool]
    priority: int
    parse: Callable[[Source], Parsed]
    to_record: Callable[..., dict[str, Any]]
    hint: str | None = None
    context: Callable[[Parsed, Source], dict[str, Any]] | None = None
    stream: Callable[[Iterable[str]], Parsed | None] | None = None
    to_columns: Callable[[list[Raw]], dict[str, list[Any]]] | None = None

    def record_mapper(self, parsed: Parsed, source: Source) -> Callable[[Raw], dict[str, Any]]:
        """``to_record`` with this file's context bound."""
        if self.context is None:
            return self.to_record
        return functools.partial(self.to_record, **self.context(parsed, source))


@functools.cache
def formats() -> tuple[ImportFormat, ...]:
    """Every registered format, in :data:`MODULES` order then declaration order."""
    found: list[ImportFormat] = []
    for module in MODULES:
        found.extend(importlib.import_module(f"{__package__}.{module}").FORMATS)
    names = [f.name for f in found]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise RuntimeError(f"import formats declared twice: {doubled}")
    return tuple(found)


@functools.cache
def _modules() -> dict[str, str]:
    return {f.name: module for module in MODULES
            for f in importlib.import_module(f"{__package__}.{module}").FORMATS}


def same_family(a: str, b: str) -> bool:
    """Whether formats ``a`` and ``b`` are variants declared in one module (RIS and EPPI
    RIS, CSV and TSV, ...)."""
    return _modules().get(a) == _modules().get(b)


def get(name: str, *, path: Any = None) -> ImportFormat:
    """The format called ``name``.

    Raises
    ------
    UnknownFormatError
        Naming every registered format.
    """
    for fmt in formats():
        if fmt.name == name:
            return fmt
    raise UnknownFormatError(
        f"unknown format {name!r}; expected one of {sorted(f.name for f in formats())}",
        path=path)


def expected_phrase() -> str:
    """The formats' hints as one phrase: ``"A, B or C"``."""
    hints = list(dict.fromkeys(f.hint for f in formats() if f.hint))
    return ", ".join(hints[:-1]) + f" or {hints[-1]}" if len(hints) > 1 else "".join(hints)
