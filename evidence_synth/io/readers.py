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
from ..errors import DataQualityWarning, ParseError, UnknownFormatError
from . import _ris_columns, _text, endnote_xml, medline, ovid, proquest, ris, tabular, wos
from .ris import Parsed
from .sniff import HEAD_BYTES, sniff_bytes

_FORMATS: tuple[tuple[str, str, str, str], ...] = (
    ("ris", "RIS (any vendor: Embase, Scopus, WoS, EBSCO, PubMed via EndNote/Zotero, ...)",
     ".ris .txt", "TY  - ... ER  - "),
    ("eppi_ris", "EPPI-Reviewer RIS (U1 is the EPPI item id -> accession)", ".ris .txt",
     "RIS with U1 and an 'EPPI' marker"),
    ("medline", "MEDLINE/PubMed (nbib)", ".nbib .txt", "PMID- / 4-character tags"),
    ("wos", "Web of Science plain text", ".txt .ciw", "FN/VR, PT ... ER, EF"),
    ("wos_tab", "Web of Science tab-delimited (UTF-8 or UTF-16LE)", ".txt", "PT<TAB>AU<TAB>..."),
    ("csv", "CSV (Scopus, Embase, Lens, 3ie DEP, generic)", ".csv", "header with a title column"),
    ("tsv", "TSV (generic)", ".tsv .txt", "tab-separated header with a title column"),
    ("xlsx", "Excel workbook, first sheet (same column mapping as CSV)", ".xlsx", "ZIP/OOXML"),
    ("xls", "Legacy Excel workbook, e.g. Web of Science 'Excel' export (needs xlrd)", ".xls",
     "OLE2 compound file"),
    ("endnote_xml", "EndNote XML (EndNote, Mendeley, Zotero)", ".xml", "<xml><records><record>"),
    ("ovid", "Ovid tagged (Citation, tagged)", ".txt", "<1. > record headers"),
    ("proquest", "ProQuest plain text", ".txt", "Document 1 of N"),
)


def list_formats() -> pd.DataFrame:
    """Formats understood by :func:`read_records`.

    Returns
    -------
    pandas.DataFrame
        Columns ``format`` (the name to pass as ``format=``), ``description``,
        ``suffixes`` (typical, not required) and ``signature`` (what sniffing looks for).
    """
    return pd.DataFrame(_FORMATS, columns=["format", "description", "suffixes", "signature"])


def sniff_format(path: str | Path) -> str:
    """Name of the format of the file at ``path``, decided from its content.

    Raises
    ------
    UnknownFormatError
        When the content matches no supported format (message names file and line).
    ParseError
        When the file is empty, missing or binary.
    """
    data = _text.read_bytes(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return sniff_bytes(data, path=path, suffix=Path(path).suffix.lower())


def read_records(
    path: str | Path,
    *,
    format: str | None = None,
    encoding: str | None = None,
    source_id: str | None = None,
    columns: Mapping[str, str] | None = None,
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
        Force a codec. By default a BOM decides, else UTF-8, else a reported fallback
        (cp1252, then charset-normalizer's guess) with a ``DataQualityWarning``.
    source_id : str, optional
        Identifier of this export; defaults to the file stem.
    columns : mapping, optional
        Tables only: contract field -> column name, overriding the built-in mapping.
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
        ``skipped`` (list of ``{"line", "text"}`` for untagged text outside records) and
        ``record_lines`` (first line of each record).

    Raises
    ------
    ParseError
        Empty, binary, truncated or malformed files (message names file and line).
    UnknownFormatError
        Content matching no supported format.
    """
    with _no_cyclic_gc():
        return _read_records(path, format=format, encoding=encoding, source_id=source_id,
                             columns=columns, record_id=record_id)


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
                  record_id: Callable | None) -> pd.DataFrame:
    path = Path(path)
    head = _text.read_head(path, HEAD_BYTES)
    if _is_blank(head) and (len(head) < HEAD_BYTES or _is_blank(_text.read_bytes(path))):
        raise ParseError("expected a bibliographic export, found an empty file", path=path, line=1)
    if format is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            format = sniff_bytes(head, path=path, suffix=path.suffix.lower())
    names = {row[0] for row in _FORMATS}
    if format not in names:
        raise UnknownFormatError(
            f"unknown format {format!r}; expected one of {sorted(names)}", path=path
        )
    streamed = _stream_ris(path, head, encoding) if format in ("ris", "eppi_ris") else None
    del head
    if streamed is not None:
        parsed, info = streamed
        to_record = _ris_mapper(format)
    elif format in ("xlsx", "xls"):
        parsed, header = tabular.parse(None, path=path, xlsx=format == "xlsx",
                                       xls=format == "xls")
        to_record = _table_mapper(header, columns)
        info: dict[str, Any] = {"encoding": None, "bom": False, "warnings": []}
    else:
        data = _text.read_bytes(path)
        decoded = _text.decode(data, path=path, encoding=encoding)
        del data  # large files: keep only one copy of the content alive
        info = {"encoding": decoded.encoding, "bom": decoded.bom,
                "warnings": list(decoded.warnings)}
        text, decoded.text = decoded.text, ""
        parsed, to_record = _parse_text(format, text, path, columns)
        del text
    info["warnings"] += parsed.warnings
    if parsed.skipped:
        info["warnings"].append(
            f"{path}: {len(parsed.skipped)} line(s) outside records kept in attrs['skipped'] "
            f"(first at line {parsed.skipped[0][0]}: {parsed.skipped[0][1][:60]!r})"
        )
    return _frame(parsed, to_record, path=path, fmt=format, info=info,
                  source_id=source_id, record_id=record_id)


def _is_blank(data: bytes) -> bool:
    return not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe")


def _stream_ris(path: Path, head: bytes, encoding: str | None
                ) -> tuple[Parsed, dict[str, Any]] | None:
    """RIS read chunk by chunk (never the whole content in memory at once), or ``None``
    when the file needs the whole-text path: a decoding problem, text outside records, a
    missing ``ER``, anything that is warned about or reported with a line number."""
    codec = _text.stream_codec(head, path=path, encoding=encoding)
    if codec is None:
        return None
    name, skip = codec
    chunks = _text.iter_decoded(path, name, skip, strip_feff=encoding is not None)
    try:
        parsed = ris.parse_chunks(chunks)
    except UnicodeDecodeError:
        return None
    finally:
        chunks.close()
    if parsed is None:
        return None
    return parsed, {"encoding": name, "bom": skip > 0, "warnings": []}


def _parse_text(format: str, text: str, path: Path,
                columns: Mapping[str, str] | None) -> tuple[Parsed, Callable]:
    if format == "endnote_xml":
        return endnote_xml.parse(text, path=path), endnote_xml.to_record
    if format in ("csv", "tsv"):
        parsed, header = tabular.parse(text, path=path,
                                       delimiter="\t" if format == "tsv" else None)
        return parsed, _table_mapper(header, columns)
    if format in ("ris", "eppi_ris"):
        return ris.parse(text, path=path), _ris_mapper(format)
    lines = _text.split_lines(text)
    if format == "medline":
        return medline.parse(lines, path=path), medline.to_record
    if format == "wos":
        return wos.parse(lines, path=path), wos.to_record
    if format == "wos_tab":
        return wos.parse_tab(lines, path=path), wos.to_record
    if format == "ovid":
        return ovid.parse(lines, path=path), ovid.to_record
    return proquest.parse(lines, path=path), proquest.to_record


def _ris_mapper(format: str) -> Callable:
    if format == "eppi_ris":
        return lambda raw: ris.to_record(raw, eppi=True)
    return ris.to_record


def _table_mapper(header: list[str], columns: Mapping[str, str] | None) -> Callable:
    resolved = tabular.resolve_columns(header, columns)
    return lambda raw: tabular.to_record(raw, resolved)


def _frame(parsed: Parsed, to_record: Callable, *, path: Path, fmt: str, info: dict,
           source_id: str | None, record_id: Callable | None) -> pd.DataFrame:
    sid = source_id if source_id is not None else path.stem
    df = _ris_frame(parsed, fmt, sid, record_id) if fmt in ("ris", "eppi_ris") else None
    if df is None:
        df = _rows_frame(parsed, to_record, path=path, sid=sid, record_id=record_id)
    df.attrs.update(
        path=str(path),
        format=fmt,
        encoding=info["encoding"],
        bom=info["bom"],
        warnings=info["warnings"],
        skipped=[{"line": n, "text": t} for n, t in parsed.skipped],
        record_lines=_lines(parsed),
    )
    return df


def _ris_frame(parsed: Parsed, fmt: str, sid: str, record_id: Callable | None
               ) -> pd.DataFrame | None:
    """Column-wise fast path for RIS; ``None`` sends the caller to the per-record path
    (which names the record when a field cannot be mapped)."""
    raws = parsed.records
    try:
        columns = _ris_columns.to_columns(raws, eppi=fmt == "eppi_ris")
    except Exception:
        return None
    n = len(raws)
    columns["pub_type"] = [None if v is None else v.strip() or None for v in columns["pub_type"]]
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
