"""Decode export bytes to text: BOMs, UTF-8, per-line fallbacks, NUL bytes, binary detection.

Every read of a user's file goes through :func:`read_bytes`, :func:`read_head` or
:func:`open_binary`, which turn ``OSError`` (missing, a directory, permission denied) into a
:class:`~evidence_synth.errors.ParseError` naming the file; every decoding goes through
:func:`decode`, which never raises ``UnicodeError``.
"""

from __future__ import annotations

import codecs
import itertools
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .. import limits
from ..errors import DataQualityWarning, ParseError, os_error_text

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CONTROL = frozenset(range(0, 32)) - {9, 10, 12, 13}
#: Line numbers shown in a warning; the full list is in the data's ``attrs``.
_SHOWN_LINES = 10
#: Bytes decoded at once when some lines are not UTF-8 (see :func:`_decode_by_line`).
_WINDOW = 1 << 20


@dataclass
class Decoded:
    """Text of a file and how it was obtained.

    ``fallback_lines`` are the 1-based lines that were not valid UTF-8 and were decoded
    with ``fallback_encoding`` (every other line is UTF-8); ``nul_lines`` the lines from
    which NUL bytes were removed (``nul_bytes`` of them in all).
    """

    text: str
    encoding: str
    bom: bool = False
    warnings: list[str] = field(default_factory=list)
    fallback_encoding: str | None = None
    fallback_lines: list[int] = field(default_factory=list)
    nul_bytes: int = 0
    nul_lines: list[int] = field(default_factory=list)

    def info(self) -> dict:
        """How the text was obtained, as ``read_records`` records it in ``df.attrs``."""
        return {"encoding": self.encoding, "bom": self.bom, "warnings": list(self.warnings),
                "fallback_encoding": self.fallback_encoding,
                "fallback_lines": self.fallback_lines, "nul_bytes": self.nul_bytes,
                "nul_lines": self.nul_lines}


def plain_info(encoding: str | None, *, bom: bool = False) -> dict:
    """``Decoded.info()`` of text read without any repair."""
    return Decoded("", encoding or "", bom=bom).info() | {"encoding": encoding}


class NeedsWholeFile(Exception):  # noqa: N818 - a signal, not an error
    """Raised by :func:`iter_decoded` on content only :func:`decode` repairs (NUL bytes)."""


def file_error(exc: OSError, path: str | Path) -> ParseError:
    """The :class:`ParseError` for an OS error on reading ``path``."""
    return ParseError(os_error_text(exc), path=path)


def read_bytes(path: str | Path) -> bytes:
    """Read a file, turning OS errors into a :class:`ParseError` naming the file.

    Raises
    ------
    LimitError
        Beyond ``max_file_bytes`` (see :mod:`evidence_synth.limits`).
    ParseError
        An OS error (missing file, directory, no permission), or a file starting with only
        NUL bytes.
    """
    try:
        with Path(path).open("rb") as handle:
            return limits.read_capped(handle, path=path)
    except OSError as exc:
        raise file_error(exc, path) from exc


def read_head(path: str | Path, size: int) -> bytes:
    """The first ``size`` bytes of a file (OS errors name the file, as in :func:`read_bytes`)."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(size)
    except OSError as exc:
        raise file_error(exc, path) from exc


def open_binary(path: str | Path) -> BinaryIO:
    """``open(path, "rb")`` with OS errors as in :func:`read_bytes`."""
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise file_error(exc, path) from exc


def stream_codec(head: bytes, *, path: str | Path,
                 encoding: str | None = None) -> tuple[str, int] | None:
    """``(codec, BOM length)`` when the file starting with ``head`` decodes as
    :func:`decode` would decode it without any warning, so it can be read chunk by chunk
    with :func:`iter_decoded`; ``None`` when only the whole-file :func:`decode` can say
    (a guessed UTF-16, an unknown codec name).

    Raises
    ------
    ParseError
        When ``head`` shows binary content (as :func:`decode` would).
    """
    name, skip = _bom(head)
    if encoding is not None:
        try:
            info = codecs.lookup(encoding)
        except LookupError:
            return None
        return (encoding, skip) if getattr(info, "_is_text_encoding", True) else None
    if name is not None:
        return name, skip
    if _utf16_without_bom(head) is not None:
        return None
    check_binary(head, path=path)
    return "utf-8", 0


def iter_decoded(path: str | Path, codec: str, skip: int, *, strip_feff: bool = False,
                 chunk_bytes: int = 1 << 18) -> Iterator[str]:
    """Decoded text of a file in pieces of about ``chunk_bytes``, starting after ``skip``
    bytes (the BOM). With ``strip_feff``, leading U+FEFF characters are dropped, as
    :func:`decode` does for a codec given by the caller.

    Raises
    ------
    UnicodeError
        At the first byte that is not valid ``codec`` (callers fall back to
        :func:`decode` on the whole file, which reports it).
    NeedsWholeFile
        At a NUL byte (callers fall back to :func:`decode`, which removes and reports them).
    LimitError
        Beyond ``max_file_bytes`` (see :mod:`evidence_synth.limits`).
    """
    decoder = codecs.getincrementaldecoder(codec)()
    at_start = strip_feff
    with open_binary(path) as handle:
        handle.seek(skip)
        for block in itertools.chain(
                limits.blocks(handle, path=path, size=chunk_bytes, already=skip), [b""]):
            text = decoder.decode(block, final=not block)
            if "\x00" in text:
                raise NeedsWholeFile(path)
            if at_start:
                text = text.lstrip("\ufeff")
                at_start = not text
            yield text


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _bom(data: bytes) -> tuple[str | None, int]:
    for mark, name in _BOMS:
        if data.startswith(mark):
            if name == "utf-16-le" and data.startswith(codecs.BOM_UTF32_LE):
                continue
            return name, len(mark)
    return None, 0


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4000]
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) / 2
    if odd > 0.4 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.4 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


#: Suffixes of formats that are zip or OLE2 containers, never text.
_WORKBOOK_SUFFIXES = {".xlsx": "an Excel .xlsx workbook (a zip archive starting with 'PK')",
                      ".xlsm": "an Excel .xlsm workbook (a zip archive starting with 'PK')",
                      ".xls": "an Excel .xls workbook (an OLE2 file)",
                      ".zip": "a zip archive (starting with 'PK')"}


def check_binary(data: bytes, *, path: str | Path) -> None:
    """Raise :class:`ParseError` when ``data`` looks like binary, not text.

    Binary means more than 5% control bytes (NUL included) in the first 8 KB. A few NUL
    bytes in text (a damaged download) are not binary: :func:`decode` removes them with a
    warning. A file named ``.xlsx``, ``.xls`` or ``.zip`` that is neither a workbook nor text
    is said to be a broken workbook or archive.
    """
    sample = data[:8192]
    if not sample:
        return
    controls = sum(1 for b in sample if b in _CONTROL)
    if controls <= 0.05 * len(sample):
        return
    offset = (sample.index(b"\x00") if b"\x00" in sample
              else next(i for i, b in enumerate(sample) if b in _CONTROL))
    what = (f"NUL byte at offset {offset}" if sample[offset] == 0
            else f"{controls} control bytes in the first {len(sample)} bytes")
    expected = _WORKBOOK_SUFFIXES.get(Path(str(path)).suffix.lower())
    if expected is not None:
        raise ParseError(f"not a valid workbook or archive: expected {expected}, found "
                         f"other binary content (starting {bytes(sample[:8])!r})", path=path)
    raise ParseError(f"expected a text export, found binary content ({what})",
                     path=path, line=_line_of(data, offset))


def _dec(data: bytes, name: str, partial: bool) -> str:
    if partial:
        return codecs.getincrementaldecoder(name)().decode(data, final=False)
    return data.decode(name)


def decode(data: bytes, *, path: str | Path, encoding: str | None = None,
           partial: bool = False) -> Decoded:
    """Decode ``data``: BOM first, then UTF-8, with a reported fallback for the lines that
    are not UTF-8; NUL bytes are removed and reported.

    Parameters
    ----------
    data : bytes
        File content.
    path : str or Path
        Used in messages only.
    encoding : str, optional
        Force this codec (a BOM of the same family is still removed).
    partial : bool
        ``data`` is a prefix of the file: a multi-byte character cut at the end is dropped.

    Returns
    -------
    Decoded
        Text without BOM or NUL bytes, the codec used, whether a BOM was present, the lines
        decoded with a fallback codec and those NUL bytes were removed from, and warnings
        (each also issued as a :class:`~evidence_synth.errors.DataQualityWarning`).

    Raises
    ------
    ParseError
        Binary content, a BOM contradicted by the content, or content that ``encoding``
        cannot decode (naming the file and line).
    """
    decoded = _decode(data, path=path, encoding=encoding, partial=partial)
    if "\x00" in decoded.text:
        _remove_nul(decoded, path)
    return decoded


def _decode(data: bytes, *, path: str | Path, encoding: str | None, partial: bool) -> Decoded:
    if encoding is not None:
        name, skip = _bom(data)
        try:
            text = _dec(data[skip:], encoding, partial)
        except (UnicodeError, LookupError) as exc:
            start = getattr(exc, "start", 0) + skip
            raise ParseError(
                f"cannot decode as {encoding!r} (the encoding you gave): {exc}",
                path=path,
                line=_line_of(data, start),
            ) from exc
        return Decoded(text.lstrip("\ufeff"), encoding, bom=skip > 0)
    name, skip = _bom(data)
    if name is None:
        name = _utf16_without_bom(data)
        if name is not None:
            message = f"{path}: no byte-order mark, decoded as {name} (NUL byte pattern)"
            warnings.warn(message, DataQualityWarning, stacklevel=4)
            return Decoded(data.decode(name, errors="replace"), name, warnings=[message])
    if name is not None:
        try:
            return Decoded(_dec(data[skip:], name, partial), name, bom=True)
        except UnicodeDecodeError as exc:
            raise ParseError(
                f"byte-order mark says {name} but the content is not valid {name}: {exc}",
                path=path,
                line=_line_of(data, exc.start),
            ) from exc
    check_binary(data, path=path)
    try:
        return Decoded(_dec(data, "utf-8", partial), "utf-8")
    except UnicodeDecodeError:
        pass
    return _decode_by_line(data, path=path, partial=partial)


def _decode_by_line(data: bytes, *, path: str | Path, partial: bool) -> Decoded:
    """UTF-8 for every line that is valid UTF-8, one fallback codec for the others.

    Linear: the content is decoded in windows of about a megabyte cut at line ends; only a
    window that is not valid UTF-8 is decoded line by line, and only its bad lines with the
    fallback. A line is what ends with LF (CR and CRLF files alike).
    """
    parts: list[str | None] = []
    bad: list[tuple[int, bytes]] = []  # (line, bytes) of each line that is not UTF-8
    pos, line, size, first_bad = 0, 1, len(data), b""
    while pos < size:
        end = min(pos + _WINDOW, size)
        if end < size:
            cut = data.rfind(b"\n", pos, end)
            end = cut + 1 if cut >= 0 else (data.find(b"\n", end) + 1 or size)
        window, final = data[pos:end], end >= size and not partial
        try:
            parts.append(codecs.utf_8_decode(window, "strict", final)[0])
            line += window.count(b"\n")
        except UnicodeDecodeError:
            start = 0
            while start < len(window):
                stop = window.find(b"\n", start) + 1 or len(window)
                piece = window[start:stop]
                try:
                    parts.append(codecs.utf_8_decode(piece, "strict",
                                                     final or stop < len(window))[0])
                except UnicodeDecodeError as exc:
                    first_bad = first_bad or piece[exc.start:exc.start + 1]
                    bad.append((line, piece))
                    parts.append(None)
                line += 1
                start = stop
        pos = end
    if not bad:  # pragma: no cover - the caller saw a decoding error
        return Decoded("".join(p for p in parts if p is not None), "utf-8")
    fallback, pieces = _fallback([piece for _, piece in bad])
    lines = [ln for ln, _ in bad]
    filled = iter(pieces)
    text = "".join(next(filled) if part is None else part for part in parts)
    utf8_elsewhere = any(part is not None and not part.isascii() for part in parts)
    shown = _shown(lines)
    where = f"first bad byte {first_bad!r} at line {lines[0]}"
    if utf8_elsewhere:
        message = (f"{path}: not valid UTF-8 on {len(lines)} line(s) ({where}); decoded as "
                   f"{fallback} on {shown}, as UTF-8 on every other line")
    else:
        message = (f"{path}: not valid UTF-8 ({where}); decoded as {fallback} "
                   f"({len(lines)} line(s) needed it: {shown})")
    message += "; listed in attrs['fallback_lines']"
    warnings.warn(message, DataQualityWarning, stacklevel=5)
    return Decoded(text, "utf-8" if utf8_elsewhere else fallback, warnings=[message],
                   fallback_encoding=fallback, fallback_lines=lines)


def _shown(lines: list[int]) -> str:
    head = ", ".join(str(n) for n in lines[:_SHOWN_LINES])
    return (f"line {head}" if len(lines) == 1
            else f"lines {head}" + (" ..." if len(lines) > _SHOWN_LINES else ""))


def _fallback(lines: list[bytes]) -> tuple[str, list[str]]:
    """One codec for all the lines that are not UTF-8: cp1252 when it decodes them all,
    else charset-normalizer's guess, else Latin-1 (which decodes anything)."""
    try:
        return "cp1252", [line.decode("cp1252") for line in lines]
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - declared dependency
        best = None
    else:
        best = from_bytes(b"".join(lines)[:200_000]).best()
    if best is not None:
        try:
            return best.encoding, [line.decode(best.encoding) for line in lines]
        except (UnicodeError, LookupError):
            pass
    return "latin-1", [line.decode("latin-1") for line in lines]


def _remove_nul(decoded: Decoded, path: str | Path) -> None:
    """Remove NUL characters from ``decoded.text``, recording how many and on which lines."""
    text = decoded.text
    lines: list[int] = []
    at, line, counted_to = text.find("\x00"), 1, 0
    while at >= 0:
        line += text.count("\n", counted_to, at)
        counted_to = at
        if not lines or lines[-1] != line:
            lines.append(line)
        at = text.find("\x00", at + 1)
    count = text.count("\x00")
    decoded.text = text.replace("\x00", "")
    decoded.nul_bytes, decoded.nul_lines = count, lines
    message = (f"{path}: {count} NUL byte(s) removed (on {_shown(lines)}); the file may be "
               "damaged, check those records; listed in attrs['nul_lines']")
    decoded.warnings.append(message)
    warnings.warn(message, DataQualityWarning, stacklevel=4)


def split_lines(text: str) -> list[str]:
    """Split on LF, CRLF, bare CR, U+2028/U+2029 (and the other ``str.splitlines`` breaks)."""
    return text.splitlines()
