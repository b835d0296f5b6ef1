"""Decode export bytes to text: BOMs, UTF-8, reported fallbacks, binary detection."""

from __future__ import annotations

import codecs
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DataQualityWarning, ParseError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CONTROL = frozenset(range(0, 32)) - {9, 10, 12, 13}


@dataclass
class Decoded:
    """Text of a file and how it was obtained."""

    text: str
    encoding: str
    bom: bool = False
    warnings: list[str] = field(default_factory=list)


def read_bytes(path: str | Path) -> bytes:
    """Read a file, turning OS errors into messages naming the file."""
    try:
        return Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise ParseError("file not found", path=path) from exc
    except IsADirectoryError as exc:
        raise ParseError("expected a file, found a directory", path=path) from exc


def read_head(path: str | Path, size: int) -> bytes:
    """The first ``size`` bytes of a file (OS errors name the file, as in :func:`read_bytes`)."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(size)
    except FileNotFoundError as exc:
        raise ParseError("file not found", path=path) from exc
    except IsADirectoryError as exc:
        raise ParseError("expected a file, found a directory", path=path) from exc


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
    UnicodeDecodeError
        At the first byte that is not valid ``codec`` (callers fall back to
        :func:`decode` on the whole file, which reports it).
    """
    decoder = codecs.getincrementaldecoder(codec)()
    at_start = strip_feff
    with Path(path).open("rb") as handle:
        handle.seek(skip)
        while True:
            block = handle.read(chunk_bytes)
            text = decoder.decode(block, final=not block)
            if at_start:
                text = text.lstrip("\ufeff")
                at_start = not text
            yield text
            if not block:
                return


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


def check_binary(data: bytes, *, path: str | Path) -> None:
    """Raise :class:`ParseError` when ``data`` looks like binary, not text."""
    sample = data[:8192]
    if not sample:
        return
    if b"\x00" in sample:
        offset = sample.index(b"\x00")
        raise ParseError(
            "expected a text export, found binary content (NUL byte at offset "
            f"{offset})",
            path=path,
            line=_line_of(data, offset),
        )
    controls = sum(1 for b in sample if b in _CONTROL)
    if controls > 0.05 * len(sample):
        offset = next(i for i, b in enumerate(sample) if b in _CONTROL)
        raise ParseError(
            f"expected a text export, found binary content ({controls} control bytes "
            f"in the first {len(sample)} bytes)",
            path=path,
            line=_line_of(data, offset),
        )


def _dec(data: bytes, name: str, partial: bool) -> str:
    if partial:
        return codecs.getincrementaldecoder(name)().decode(data, final=False)
    return data.decode(name)


def decode(data: bytes, *, path: str | Path, encoding: str | None = None,
           partial: bool = False) -> Decoded:
    """Decode ``data``: BOM first, then UTF-8, then a reported fallback.

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
        Text without BOM, the codec used, whether a BOM was present and any warnings.
    """
    if encoding is not None:
        name, skip = _bom(data)
        try:
            text = _dec(data[skip:], encoding, partial)
        except (UnicodeDecodeError, LookupError) as exc:
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
            warnings.warn(message, DataQualityWarning, stacklevel=3)
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
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    fallback, text = _fallback(data)
    message = (
        f"{path}: not valid UTF-8 (first bad byte {data[first_bad:first_bad + 1]!r} at line "
        f"{_line_of(data, first_bad)}); decoded as {fallback}"
    )
    warnings.warn(message, DataQualityWarning, stacklevel=3)
    return Decoded(text, fallback, warnings=[message])


def _fallback(data: bytes) -> tuple[str, str]:
    try:
        return "cp1252", data.decode("cp1252")
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - declared dependency
        best = None
    else:
        best = from_bytes(data[:200_000]).best()
    if best is not None:
        try:
            return best.encoding, data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return "latin-1", data.decode("latin-1")


def split_lines(text: str) -> list[str]:
    """Split on LF, CRLF, bare CR, U+2028/U+2029 (and the other ``str.splitlines`` breaks)."""
    return text.splitlines()
