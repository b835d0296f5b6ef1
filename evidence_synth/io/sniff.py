"""Decide a file's format from its content; the suffix is only a tie-breaker.

The registered formats' ``sniff`` functions (see :mod:`evidence_synth.io._registry`) are
tried on a :class:`Sample` of the file in ``priority`` order, interleaved with
:data:`REFUSALS`, content that is recognisably something else (JSON, HTML). Every check
runs in time linear in the sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .. import limits
from ..errors import ParseError, UnknownFormatError
from . import _registry, _text

_SAMPLE = 200_000
#: Bytes of a file's start that decide :func:`sniff_bytes` exactly as the whole file would.
HEAD_BYTES = _SAMPLE * 4 + 1


class Sample:
    """The start of a file as the ``sniff`` functions see it.

    ``data`` is the raw bytes (``b""`` when sniffing text); ``text`` the decoded start (at
    most 200,000 characters), decoded on first use; ``lines`` its first 3,000 lines;
    ``first_line`` its first non-blank line without a BOM (lines cut to
    ``max_sniff_line_chars``, :mod:`evidence_synth.limits`); ``suffix`` the file suffix in
    lower case (a tie-breaker only, extensions lie).
    """

    def __init__(self, *, data: bytes = b"", text: str | None = None,
                 path: str | Path = "<data>", suffix: str = "") -> None:
        self.data = data
        self.path = path
        self.suffix = suffix
        self._text = text

    @cached_property
    def text(self) -> str:
        """Decoded start of the file.

        Raises
        ------
        ParseError
            When the file is empty, blank or binary.
        """
        text = self._text
        if text is None:
            sample = self.data[: _SAMPLE * 4]
            decoded = (_text.decode(sample, path=self.path, partial=len(sample) < len(self.data))
                       if self.data else None)
            if decoded is None or not decoded.text.strip():
                raise ParseError("expected a bibliographic export, found an empty file",
                                 path=self.path, line=1)
            text = decoded.text[:_SAMPLE]
        if not text.lstrip("\ufeff \t\r\n"):
            raise ParseError("expected a bibliographic export, found only blank lines",
                             path=self.path, line=1)
        return text

    @cached_property
    def lines(self) -> list[str]:
        """The first 3,000 lines of ``text``, each cut to ``max_sniff_line_chars``."""
        cut = limits.current().max_sniff_line_chars
        return [line[:cut] for line in self.text.splitlines()[:3000]]

    @property
    def first_line(self) -> str:
        """The first non-blank line of ``text``, without a leading BOM."""
        return self._first[1]

    @property
    def first_line_number(self) -> int:
        """1-based number of :attr:`first_line`."""
        return self._first[0]

    @cached_property
    def _first(self) -> tuple[int, str]:
        lines = self.text.splitlines()
        at = next((i for i, line in enumerate(lines) if line.strip()), None)
        cut = limits.current().max_sniff_line_chars
        return (1, "") if at is None else (at + 1, lines[at].lstrip("\ufeff")[:cut])


@dataclass(frozen=True)
class Refusal:
    """Content that is no bibliographic export although it is recognisable."""

    name: str
    priority: int
    sniff: Callable[[Sample], bool]
    message: Callable[[], str]


def _is_json(sample: Sample) -> bool:
    return sample.first_line.startswith(("{", "["))


def _is_html(sample: Sample) -> bool:
    return sample.first_line.lstrip().lower().startswith(("<!doctype html", "<html"))


#: Recognisable non-exports, tried among the formats by ``priority``: after the tagged
#: formats, before tables (a JSON line can hold commas and a "title").
REFUSALS: tuple[Refusal, ...] = (
    Refusal("json", 80, _is_json, lambda: (
        f"found JSON; expected a bibliographic export ({_registry.expected_phrase()}). "
        "Evidence-map JSON is read with read_egm()")),
    Refusal("html", 81, _is_html, lambda: (
        "found HTML; expected a bibliographic export. EPPI-Mapper maps are read with "
        "read_egm()")),
)


def sniff_bytes(data: bytes, *, path: str | Path = "<data>", suffix: str = "") -> str:
    """Format name for raw bytes (see :func:`sniff_text`)."""
    return _decide(Sample(data=data, path=path, suffix=suffix))


def sniff_text(text: str, *, path: str | Path = "<data>", suffix: str = "") -> str:
    """Format name of decoded text.

    Returns
    -------
    str
        The name of a registered format (see :func:`evidence_synth.io.list_formats`).

    Raises
    ------
    UnknownFormatError
        When no format matches; the message names the first non-blank line.
    ParseError
        When the text is blank.
    """
    return _decide(Sample(text=text, path=path, suffix=suffix))


def checks() -> list[_registry.ImportFormat | Refusal]:
    """Formats and refusals in the order they are tried (by ``priority``, stable)."""
    return sorted([*_registry.formats(), *REFUSALS], key=lambda c: c.priority)


def _decide(sample: Sample) -> str:
    for check in checks():
        if not check.sniff(sample):
            continue
        if isinstance(check, Refusal):
            raise UnknownFormatError(check.message(), path=sample.path, line=1)
        return check.name
    raise UnknownFormatError(
        f"not a bibliographic format: expected {_registry.expected_phrase()}; found "
        f"{sample.first_line[:60]!r}",
        path=sample.path,
        line=sample.first_line_number,
    )
