"""``read_records``: any supported export -> records-contract DataFrame."""

from __future__ import annotations

import contextlib
import gc
import warnings
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..columns import (
    DICT_COLUMNS,
    DOI,
    INT_COLUMNS,
    LIST_COLUMNS,
    RECORD_COLUMNS,
    STRING_COLUMNS,
    normalise_doi,
    records_from_dicts,
)
from ..errors import DataQualityWarning, EvidenceSynthError, ParseError
from . import _registry, _text
from ._parsed import Parsed, Source
from .sniff import _SAMPLE, HEAD_BYTES, Sample, checks, sniff_bytes


def list_formats() -> pd.DataFrame:
    """Formats understood by :func:`read_records`.

    Returns
    -------
    pandas.DataFrame
        Columns ``format`` (the name to pass as ``format=``), ``description``,
        ``suffixes`` (typical, not required) and ``signature`` (what sniffing looks for).
    """
    return pd.DataFrame([(f.name, f.description, f.suffixes, f.signature)
                         for f in _registry.formats()],
                        columns=["format", "description", "suffixes", "signature"])


def sniff_format(path: str | Path) -> str:
    """Name of the format of the file at ``path``, decided from its content.

    Raises
    ------
    UnknownFormatError
        When the content matches no supported format (message names file and line).
    ParseError
        When the file is empty, missing or binary.
    """
    head = _text.read_head(path, HEAD_BYTES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return sniff_bytes(head, path=path, suffix=Path(path).suffix.lower())


def read_records(
    path: str | Path,
    *,
    format: str | None = None,
    encoding: str | None = None,
    source_id: str | None = None,
    columns: Mapping[str, str] | None = None,
    header_row: int | None = None,
    record_id: Callable[[str, int, dict[str, list[str]]], str] | None = None,
) -> pd.DataFrame:
    """Read a bibliographic export into the records contract.

    Parameters
    ----------
    path : str or Path
        The export file.
    format : str, optional
        A name from :func:`list_formats`; sniffed from the content when omitted.
    encoding : str, optional
        Force a codec. By default a BOM decides, else UTF-8, with a reported fallback
        (cp1252, then charset-normalizer's guess) for the lines that are not UTF-8 and a
        ``DataQualityWarning`` naming them.
    source_id : str, optional
        Identifier of this export; defaults to the file stem.
    columns : mapping, optional
        Tables only: contract field -> column name, overriding the built-in mapping. The
        header is then the first row naming all of these columns.
    header_row : int, optional
        Tables only: the 1-based row (as a spreadsheet numbers rows) holding the header.
        By default the first row naming a title column, else the first row as wide as
        the table (a banner or title row above the header is passed over).
    record_id : callable, optional
        ``f(source_id, source_row, raw) -> str`` to override the default
        ``f"{source_id}:{source_row}"``.

    Returns
    -------
    pandas.DataFrame
        One row per record in file order with the contract columns ``record_id``,
        ``source_id``, ``source_row`` (1-based position), ``title``, ``abstract``,
        ``journal``, ``authors``, ``keywords``, ``year``, ``volume``, ``issue``, ``pages``,
        ``publisher``, ``isbn``, ``issn``, ``language``, ``pub_type``, ``doi``, ``pmid``,
        ``accession``, ``raw`` (tag -> list of original values). ``df.attrs`` holds
        ``path``, ``format``, ``encoding``, ``bom``, ``warnings`` (list of str),
        ``skipped`` (list of ``{"line", "text"}`` for untagged text outside records),
        ``record_lines`` (first line of each record), ``dropped_empty`` (how many records
        had no title, abstract, DOI, authors or PMID and were not imported, with a
        ``DataQualityWarning``), ``dropped`` (those records: ``{"line", "source_row",
        "raw"}``), ``fallback_encoding`` and ``fallback_lines`` (the codec and the 1-based
        lines that were not UTF-8; ``None`` and ``[]`` when none), ``nul_bytes`` and
        ``nul_lines`` (NUL bytes removed, and where) and, for tables, ``header_row`` (the
        1-based row of the header).
        ``source_row`` keeps each record's position in the file, so it has gaps where
        records were dropped.

    Raises
    ------
    ParseError
        Empty, binary, truncated or malformed files (message names file and line).
    UnknownFormatError
        Content matching no supported format.

    Notes
    -----
    A forced ``format`` that the content does not match while it matches another format
    is a ``ParseError`` naming the format to use. NUL bytes in text are removed and
    reported (``nul_bytes``); a missing, unreadable or directory path is a ``ParseError``.
    """
    with _no_cyclic_gc():
        return _read_records(path, format=format, encoding=encoding, source_id=source_id,
                             columns=columns, header_row=header_row, record_id=record_id)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic objects are built.

    The readers create no reference cycles; on a 100,000-record file the collector's
    repeated full scans otherwise cost about a third of the run time. On the way out the
    new objects are moved to the oldest generation (``gc.freeze`` then ``gc.unfreeze``,
    both constant-time) so that the first young collection after the read does not walk
    all of them; full collections still see them. Skipped when the caller uses
    ``gc.freeze`` itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        if was_enabled:
            gc.enable()


def _read_records(path: str | Path, *, format: str | None, encoding: str | None,
                  source_id: str | None, columns: Mapping[str, str] | None,
                  header_row: int | None, record_id: Callable | None) -> pd.DataFrame:
    path = Path(path)
    head = _text.read_head(path, HEAD_BYTES)
    if (_is_blank(head) and head.strip(b"\x00")  # only NULs: binary, refused when sniffed
            and (len(head) < HEAD_BYTES or _is_blank(_text.read_bytes(path)))):
        raise ParseError("expected a bibliographic export, found an empty file", path=path, line=1)
    if format is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            format = sniff_bytes(head, path=path, suffix=path.suffix.lower())
    else:
        _check_forced(_registry.get(format, path=path), head, path=path, encoding=encoding)
    fmt = _registry.get(format, path=path)
    source = Source(path, encoding=encoding, columns=columns, header_row=header_row)
    parsed = _stream(fmt, source, head) if fmt.stream else None
    del head
    if parsed is None:
        parsed = fmt.parse(source)
    to_record = fmt.record_mapper(parsed, source)
    source.release()
    info = source.info
    info["warnings"] += parsed.warnings
    if parsed.skipped:
        info["warnings"].append(
            f"{path}: {len(parsed.skipped)} line(s) outside records kept in attrs['skipped'] "
            f"(first at line {parsed.skipped[0][0]}: {parsed.skipped[0][1][:60]!r})"
        )
    return _frame(parsed, to_record, fmt, path=path, info=info, source_id=source_id,
                  record_id=record_id)


def _check_forced(fmt: _registry.ImportFormat, head: bytes, *, path: Path,
                  encoding: str | None) -> None:
    """Refuse a forced ``format`` when the content does not look like it and sniffing
    recognises another format (not a variant of the same one): reading RIS as MEDLINE,
    say, would silently merge records.

    Content that sniffing recognises as nothing, or that the forced format's own sniff
    accepts, is read as asked (that is what forcing a format is for); the parsers refuse
    tags of another format they could mistake for their own.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        try:
            text = (None if encoding is None else
                    _text.decode(head, path=path, encoding=encoding, partial=True).text[:_SAMPLE])
            sample = Sample(data=head, text=text, path=path, suffix=path.suffix.lower())
            if fmt.sniff(sample):
                return
            other = next((c for c in checks() if c.sniff(sample)), None)
        except EvidenceSynthError:
            return  # the format's own parser reports what is wrong with the content
    if (not isinstance(other, _registry.ImportFormat) or other.name == fmt.name
            or _registry.same_family(other.name, fmt.name)):
        return
    raise ParseError(
        f"format={fmt.name!r} was given, but the content does not look like it: expected "
        f"{fmt.signature.strip()}, found {sample.first_line[:60]!r}, which is "
        f"{other.description}; use format={other.name!r} (--format {other.name}) or leave the "
        "format out to have it sniffed", path=path, line=sample.first_line_number)


def _is_blank(data: bytes) -> bool:
    return not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe")


def _stream(fmt: _registry.ImportFormat, source: Source, head: bytes) -> Parsed | None:
    """The file read chunk by chunk with ``fmt.stream`` (never the whole content in memory
    at once), or ``None`` when it needs the whole-text ``parse``: a decoding problem, text
    outside records, a missing end of record, anything warned about or reported with a line
    number."""
    codec = _text.stream_codec(head, path=source.path, encoding=source.encoding)
    if codec is None:
        return None
    name, skip = codec
    chunks = _text.iter_decoded(source.path, name, skip, strip_feff=source.encoding is not None)
    try:
        parsed = fmt.stream(chunks)
    except (UnicodeError, _text.NeedsWholeFile):
        return None
    finally:
        chunks.close()
    if parsed is not None:
        source.info = _text.plain_info(name, bom=skip > 0)
    return parsed


def _frame(parsed: Parsed, to_record: Callable, fmt: _registry.ImportFormat, *, path: Path,
           info: dict, source_id: str | None, record_id: Callable | None) -> pd.DataFrame:
    sid = source_id if source_id is not None else path.stem
    df = (_columns_fast_frame(parsed, fmt.to_columns, sid, record_id) if fmt.to_columns
          else None)
    if df is None:
        df = _rows_frame(parsed, to_record, path=path, sid=sid, record_id=record_id)
    lines = _lines(parsed)
    df, dropped = _drop_empty(df, lines, path=path, info=info)
    df.attrs.update(
        path=str(path),
        format=fmt.name,
        encoding=info["encoding"],
        bom=info["bom"],
        warnings=info["warnings"],
        skipped=[{"line": n, "text": t} for n, t in parsed.skipped],
        record_lines=[line for keep, line in zip(dropped["keep"], lines, strict=True) if keep],
        dropped_empty=len(dropped["rows"]),
        dropped=dropped["rows"],
        fallback_encoding=info["fallback_encoding"],
        fallback_lines=info["fallback_lines"],
        nul_bytes=info["nul_bytes"],
        nul_lines=info["nul_lines"],
    )
    if parsed.header_row is not None:
        df.attrs["header_row"] = parsed.header_row
    return df


#: A record with none of these cannot be screened, deduplicated or looked up: it is
#: counted and reported instead of imported (a PubMed id alone still identifies a record).
SUBSTANTIVE = ("title", "abstract", "doi", "authors", "pmid")


def _drop_empty(df: pd.DataFrame, lines: list[int | None], *, path: Path, info: dict
                ) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Records with no title, abstract, DOI, author or PMID taken out of ``df``, with a
    ``DataQualityWarning``; they are listed (line, ``source_row``, ``raw``) in the
    second value so that nothing leaves without a trace."""
    empty = (df["title"].isna() & df["abstract"].isna() & df["doi"].isna()
             & df["pmid"].isna() & (df["authors"].map(len) == 0)).to_numpy()
    if not empty.any():
        return df, {"keep": [True] * len(df), "rows": []}
    rows = [{"line": lines[i], "source_row": int(df["source_row"].iat[i]),
             "raw": df["raw"].iat[i]} for i in empty.nonzero()[0]]
    first = rows[0]["line"] or rows[0]["source_row"]
    message = (f"{path}: {len(rows)} record(s) with no title, abstract, DOI, authors or PMID not "
               f"imported (the first at {'line' if rows[0]['line'] else 'record'} {first}); "
               "listed in attrs['dropped']")
    info["warnings"].append(message)
    warnings.warn(message, DataQualityWarning, stacklevel=5)
    return df[~empty].reset_index(drop=True), {"keep": list(~empty), "rows": rows}


def _columns_fast_frame(parsed: Parsed, to_columns: Callable, sid: str,
                        record_id: Callable | None) -> pd.DataFrame | None:
    """Column-wise fast path for formats declaring ``to_columns``; ``None`` sends the caller
    to the per-record path (which names the record when a field cannot be mapped)."""
    raws = parsed.records
    try:
        columns = to_columns(raws)
    except Exception:
        return None
    n = len(raws)
    columns["source_row"] = range(1, n + 1)
    columns["raw"] = raws
    ids = {"record_id": ([record_id(sid, i, raw) for i, raw in enumerate(raws, 1)]
                         if record_id else [f"{sid}:{i}" for i in range(1, n + 1)]),
           "source_id": [sid] * n}
    if record_id is None and type(sid) is str and sid and sid == sid.strip():
        columns.update(ids)  # "<sid>:<row>" is already stripped and non-empty
        checked = {}
    else:
        checked = _columns_frame(ids, names=tuple(ids))
        if checked is None:
            return None
    return pd.DataFrame({name: checked[name] if name in checked else _typed(name, columns[name])
                         for name in RECORD_COLUMNS})


def _typed(name: str, values: list[Any]) -> Any:
    if name in STRING_COLUMNS:
        return pd.array(values, dtype="string")
    if name in INT_COLUMNS:
        return pd.array(values, dtype="Int64")
    return pd.Series(values, dtype=object)


def _rows_frame(parsed: Parsed, to_record: Callable, *, path: Path, sid: str,
                record_id: Callable | None) -> pd.DataFrame:
    rows = []
    for position, (raw, line) in enumerate(zip(parsed.records, _lines(parsed), strict=True), 1):
        try:
            row = to_record(raw)
        except Exception as exc:  # a field mapper bug must still name the record
            raise ParseError(f"could not map record fields: {exc!r}", path=path, line=line,
                             record=position) from exc
        row["record_id"] = record_id(sid, position, raw) if record_id else f"{sid}:{position}"
        row["source_id"] = sid
        row["source_row"] = position
        row["raw"] = raw
        rows.append(row)
    return contract_frame(rows)


def _lines(parsed: Parsed) -> list[int | None]:
    if len(parsed.lines) == len(parsed.records):
        return list(parsed.lines)
    return [None] * len(parsed.records)


def contract_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Records-contract frame from reader dicts, built column by column.

    Same result as :func:`evidence_synth.columns.records_from_dicts` for the dicts the
    readers produce (``str``/``None`` text, ``int``/``None`` years, lists of ``str``, dict
    ``raw``), several times faster on large files; anything else falls back to it.
    """
    if not rows or any(set(row) - set(RECORD_COLUMNS) for row in rows[:1]):
        return records_from_dicts(rows)
    columns = {name: [row.get(name) for row in rows] for name in RECORD_COLUMNS}
    frame = _columns_frame(columns)
    return records_from_dicts(rows) if frame is None else frame


def _columns_frame(columns: dict[str, list[Any]], names: tuple[str, ...] = RECORD_COLUMNS
                   ) -> pd.DataFrame | None:
    """The contract frame of reader columns (``names`` of them), or ``None`` when a value has
    an unexpected type (the caller then uses :func:`records_from_dicts`)."""
    out: dict[str, Any] = {}
    for name in names:
        values = columns[name]
        if name in STRING_COLUMNS:
            cleaned = []
            for v in values:
                if v is None:
                    cleaned.append(None)
                elif type(v) is str:
                    v = v.strip()
                    cleaned.append(v or None)
                else:
                    return None
            if name == DOI:
                cleaned = [None if v is None else normalise_doi(v) for v in cleaned]
                cleaned = [None if v is pd.NA else v for v in cleaned]
            out[name] = pd.array(cleaned, dtype="string")
        elif name in INT_COLUMNS:
            if any(v is not None and type(v) is not int for v in values):
                return None
            out[name] = pd.array(values, dtype="Int64")
        elif name in LIST_COLUMNS:
            lists = []
            for v in values:
                if v is None:
                    lists.append([])
                elif type(v) is list and all(type(x) is str and x.strip() for x in v):
                    lists.append(v)
                else:
                    return None
            out[name] = pd.Series(lists, dtype=object)
        elif name in DICT_COLUMNS:
            out[name] = pd.Series([v if type(v) is dict else {} for v in values], dtype=object)
    return pd.DataFrame(out)
