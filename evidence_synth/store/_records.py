"""Sources and records in the review store: file imports, sources, records."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import columns as cols
from .. import limits
from ..errors import DuplicateImportError, StoreError
from . import schema
from ._database import BATCH, Database, now
from ._text_check import refuse_lone_surrogates
from .vocabulary import SOURCE_KINDS

_JSON_COLUMNS = (cols.AUTHORS, cols.KEYWORDS, cols.RAW)
#: Attempts at a fresh ``source_id`` when concurrent imports took the one chosen.
_ID_ATTEMPTS = 20


class SourceIdTakenError(StoreError):
    """The source id was stored by another import between the check and the insert."""


class RecordsMixin(Database):
    """Imports, sources and records, for :class:`~evidence_synth.store.Review`."""

    def import_file(
        self,
        path: str | os.PathLike[str],
        *,
        database: str,
        kind: str = "database",
        platform: str | None = None,
        searched_on: str | date | None = None,
        query: str | None = None,
        source_id: str | None = None,
        format: str | None = None,
        encoding: str | None = None,
        columns: Mapping[str, str] | None = None,
        header_row: int | None = None,
        imported_by: str | None = None,
        allow_duplicate: bool = False,
    ) -> pd.DataFrame:
        """Read a bibliographic file and store it as one source, in one transaction.

        Parameters
        ----------
        path : path-like
            The export file; its format is sniffed (see :func:`evidence_synth.io.read_records`).
        database : str
            The database or register searched (PRISMA-S item), e.g. ``"Scopus"``.
        kind : str, default "database"
            One of ``previous_version``, ``database``, ``register``, ``grey_literature``,
            ``citation_search``, ``other``.
        platform, searched_on, query : optional
            PRISMA-S items: the interface, the date searched, the search string.
        source_id : str, optional
            Identifier of the source in this review; derived from ``database`` if omitted.
        format, encoding : str, optional
            Passed to the reader to override sniffing.
        columns : mapping, optional
            Tables: contract field -> column name (``{"title": "T1"}``), as
            :func:`~evidence_synth.io.read_records` takes it.
        header_row : int, optional
            Tables: the 1-based row holding the header (found when omitted).
        imported_by : str, optional
            Who imported the file.
        allow_duplicate : bool, default False
            Import a file whose content was imported before (refused otherwise).

        Returns
        -------
        pandas.DataFrame
            The stored records (records contract), with review-wide ``record_id``;
            ``attrs`` as the reader set them, among them ``dropped_empty``: records with no
            title, abstract, DOI, authors or PMID that were not imported (a
            ``DataQualityWarning`` says so; they are kept in the source's ``notes``).
        """
        from ..io import read_records

        file = Path(path)
        digest = file_sha256(file)
        chosen = source_id or self._next_source_id(database)
        frame = read_records(file, format=format, encoding=encoding, source_id=chosen,
                             columns=columns, header_row=header_row)
        source = {
            "source_id": chosen,
            "kind": kind,
            "database": database,
            "platform": platform,
            "searched_on": None if searched_on is None else str(searched_on),
            "query": query,
            "file_name": file.name,
            "file_sha256": digest,
            "format": frame.attrs.get("format", format),
            "encoding": frame.attrs.get("encoding", encoding),
            "imported_by": imported_by,
            "notes": json.dumps(
                {"warnings": [str(w) for w in frame.attrs.get("warnings", [])],
                 "dropped_empty": frame.attrs.get("dropped_empty", 0),
                 "dropped": frame.attrs.get("dropped", []),
                 **({"header_row": frame.attrs["header_row"]}
                    if "header_row" in frame.attrs else {})},
                ensure_ascii=False,
            ),
        }
        for attempt in range(1, _ID_ATTEMPTS + 1):
            try:
                stored = self.add_records(frame, source=source, allow_duplicate=allow_duplicate)
                break
            except SourceIdTakenError:
                # an import under the same database name took the id meanwhile: next one
                if source_id is not None or attempt == _ID_ATTEMPTS:
                    raise
                fresh = self._next_source_id(database)
                frame = with_source_id(frame, chosen, fresh)
                source["source_id"], chosen = fresh, fresh
        stored.attrs.update(frame.attrs)
        return stored

    def add_records(
        self,
        records: pd.DataFrame,
        *,
        source: Mapping[str, Any],
        allow_duplicate: bool = False,
    ) -> pd.DataFrame:
        """Store records and their source in one transaction.

        Parameters
        ----------
        records : pandas.DataFrame
            Records contract. ``record_id`` values are prefixed with the source id when
            they do not already start with it.
        source : mapping
            Source fields: ``source_id`` and ``database`` are required; ``kind``,
            ``platform``, ``searched_on``, ``query``, ``file_name``, ``file_sha256``,
            ``format``, ``encoding``, ``imported_by``, ``notes`` are optional.
        allow_duplicate : bool, default False
            Store even when ``file_sha256`` matches an earlier source.

        Returns
        -------
        pandas.DataFrame
            The records as stored.
        """
        row = source_row(source, n_records=len(records))
        frame = cols.validate_records(with_review_ids(records, row["source_id"]))
        with self._begin() as conn:
            self._check_new_source(conn, row, allow_duplicate=allow_duplicate)
            self._insert_source(conn, row)
            self._insert_records(conn, frame)
        return frame

    def _insert_source(self, conn: Connection, row: Mapping[str, Any]) -> None:
        try:
            conn.execute(schema.sources.insert().values(**row))
        except sa.exc.IntegrityError as exc:  # checked just before: a concurrent import
            raise SourceIdTakenError(
                f"source_id {row['source_id']!r} already exists in this review: another "
                "import stored it while this one ran; nothing of this import was written"
            ) from exc

    def _check_new_source(
        self, conn: Connection, row: Mapping[str, Any], *, allow_duplicate: bool
    ) -> None:
        src = schema.sources.c
        taken = conn.execute(sa.select(src.source_id).where(src.source_id == row["source_id"]))
        if taken.first() is not None:
            raise SourceIdTakenError(
                f"source_id {row['source_id']!r} already exists in this review")
        if row.get("file_sha256") and not allow_duplicate:
            earlier = conn.execute(
                sa.select(src.source_id, src.file_name, src.imported_at).where(
                    src.file_sha256 == row["file_sha256"]
                )
            ).first()
            if earlier is not None:
                raise DuplicateImportError(
                    f"{row.get('file_name')}: this file's content was already imported as "
                    f"source {earlier.source_id!r} ({earlier.file_name}, {earlier.imported_at}); "
                    "to import it again use allow_duplicate=True (CLI: --allow-duplicate)"
                )

    def _insert_records(self, conn: Connection, frame: pd.DataFrame) -> None:
        encoded = frame.assign(**{
            col: [json.dumps(v, ensure_ascii=False) for v in frame[col]] for col in _JSON_COLUMNS
        })
        payload = plain_rows(encoded, [c.name for c in schema.records.columns],
                             what="record", key=cols.RECORD_ID)
        for start in range(0, len(payload), BATCH):
            conn.execute(schema.records.insert(), payload[start : start + BATCH])

    def _next_source_id(self, database: str) -> str:
        stem = re.sub(r"[^a-z0-9]+", "-", database.lower()).strip("-") or "source"
        with self._connect() as conn:
            taken = set(conn.execute(sa.select(schema.sources.c.source_id)).scalars())
        n = 1
        while f"{stem}-{n}" in taken:
            n += 1
        return f"{stem}-{n}"

    def sources(self) -> pd.DataFrame:
        """Sources of the review, one row each, in import order.

        Returns
        -------
        pandas.DataFrame
            Columns ``source_id, kind, database, platform, searched_on, query, file_name,
            file_sha256, format, encoding, record_count, imported_at, imported_by, notes``.
        """
        query = sa.select(schema.sources).order_by(schema.sources.c.imported_at)
        with self._connect() as conn:
            return pd.DataFrame(conn.execute(query).mappings().all(),
                                columns=[c.name for c in schema.sources.columns])

    def records(self, *, source_id: str | None = None) -> pd.DataFrame:
        """Stored records (records contract), in import order.

        Parameters
        ----------
        source_id : str, optional
            Only the records of this source.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`evidence_synth.columns.RECORD_COLUMNS`.
        """
        table = schema.records
        query = sa.select(table)
        if source_id is not None:
            query = query.where(table.c.source_id == source_id)
        query = query.order_by(table.c.source_id, table.c.source_row)
        with self._connect() as conn:
            frame = pd.DataFrame(
                conn.execute(query).mappings().all(), columns=[c.name for c in table.columns]
            )
        for col in _JSON_COLUMNS:
            frame[col] = [json.loads(v) for v in frame[col]]
        return cols.coerce_records(frame)

    def record_sources(self) -> pd.DataFrame:
        """Which source each record came from, without loading the records.

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, source_id``, in import order.
        """
        rec = schema.records.c
        query = sa.select(rec.record_id, rec.source_id).order_by(rec.source_id, rec.source_row)
        with self._connect() as conn:
            return pd.DataFrame(conn.execute(query).all(), columns=["record_id", "source_id"])


def source_row(source: Mapping[str, Any], *, n_records: int) -> dict[str, Any]:
    """The ``sources`` table row of a source, checked, with its record count."""
    missing = [k for k in ("source_id", "database") if not source.get(k)]
    if missing:
        raise StoreError(f"source is missing {', '.join(missing)}")
    kind = source.get("kind", "database")
    if kind not in SOURCE_KINDS:
        raise StoreError(f"source kind must be one of {', '.join(SOURCE_KINDS)}, got {kind!r}")
    known = {c.name for c in schema.sources.columns}
    unknown = sorted(set(source) - known)
    if unknown:
        raise StoreError(f"unknown source field(s): {', '.join(unknown)}")
    row = {c: source.get(c) for c in known}
    row.update(kind=kind, record_count=n_records, imported_at=now())
    refuse_lone_surrogates([row], what="source", key="source_id")
    return row


def with_review_ids(frame: pd.DataFrame, source_id: str) -> pd.DataFrame:
    """Records of one source with review-wide ids (``<source_id>:<id or row>``)."""
    out = cols.coerce_records(frame)
    out[cols.SOURCE_ID] = pd.array([source_id] * len(out), dtype="string")
    if out[cols.SOURCE_ROW].isna().any():
        out[cols.SOURCE_ROW] = pd.array(range(1, len(out) + 1), dtype="Int64")
    prefix = f"{source_id}:"
    ids = out[cols.RECORD_ID].astype(object)
    out[cols.RECORD_ID] = pd.array(
        [
            f"{prefix}{row}" if pd.isna(rid) else (rid if str(rid).startswith(prefix)
                                                   else f"{prefix}{rid}")
            for rid, row in zip(ids, out[cols.SOURCE_ROW], strict=True)
        ],
        dtype="string",
    )
    return out


def with_source_id(frame: pd.DataFrame, old: str, new: str) -> pd.DataFrame:
    """Records read for source ``old`` renamed to source ``new`` (ids ``<new>:...``)."""
    out = frame.copy()
    prefix = f"{old}:"
    out[cols.RECORD_ID] = pd.array(
        [rid if pd.isna(rid) or not str(rid).startswith(prefix) else f"{new}:{rid[len(prefix):]}"
         for rid in out[cols.RECORD_ID].astype(object)], dtype="string")
    out[cols.SOURCE_ID] = pd.array([new] * len(out), dtype="string")
    return out


def plain_rows(frame: pd.DataFrame, columns: list[str], *, what: str = "row",
               key: str | None = None) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values, ``None`` for missing ones.

    Refused (``StoreError`` naming the ``what`` by its ``key`` and the field) when a text
    holds a lone surrogate, which the database cannot store.
    """
    subset = frame.reindex(columns=columns).astype(object)
    rows = subset.where(subset.notna(), None).to_dict("records")
    refuse_lone_surrogates(rows, what=what, key=key)
    return rows


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes (an import refuses a file imported before)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in limits.blocks(handle, path=path):  # /dev/zero stops at the limit
                digest.update(block)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
    return digest.hexdigest()

