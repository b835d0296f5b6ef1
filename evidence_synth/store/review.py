"""The review store: one SQLite file per review by default, PostgreSQL by URL.

A :class:`Review` holds the sources (PRISMA-S items), the imported records with their raw
fields, protocol snapshots, deduplication runs and pair decisions, screening decision
events and extraction rows. Event tables are append-only in the database itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from .. import columns as cols
from ..errors import DuplicateImportError, StoreError
from . import schema
from .vocabulary import ACTORS, SOURCE_KINDS, STAGE_DECISIONS

if TYPE_CHECKING:
    from ..io import EvidenceMap
    from ..protocol import Protocol

_BATCH = 5000
_JSON_COLUMNS = (cols.AUTHORS, cols.KEYWORDS, cols.RAW)


def open_review(path_or_url: str | os.PathLike[str], *, create: bool = True) -> Review:
    """Open (or create) the review store at a path or database URL.

    Parameters
    ----------
    path_or_url : str or path-like
        A file path (a SQLite file is created there) or a SQLAlchemy URL such as
        ``sqlite:///review.db`` or ``postgresql+psycopg://user@host/db``.
    create : bool, default True
        Create the store when it does not exist; otherwise raise :class:`StoreError`.

    Returns
    -------
    Review
    """
    text = os.fspath(path_or_url)
    if "://" in text:
        url = text
    else:
        path = Path(text)
        if not path.exists() and not create:
            raise StoreError(
                f"{path}: no review store here; create one with `evidence-synth init` "
                "or open_review(path)"
            )
        if path.exists() and path.is_dir():
            raise StoreError(f"{path}: is a directory, expected a review store file")
        path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    return Review(url)


class Review:
    """A systematic review's store. Use :func:`open_review` to get one.

    Attributes
    ----------
    url : str
        The SQLAlchemy URL of the store.
    engine : sqlalchemy.engine.Engine
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        try:
            self._migrate()
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(f"{_safe_url(url)}: cannot open review store: {exc}") from exc
        except BaseException:
            self.engine.dispose()
            raise

    # -- lifecycle -------------------------------------------------------------------
    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Review:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Review({_safe_url(self.url)!r})"

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        """A transaction; database outages become a :class:`StoreError` naming the store."""
        with self._database_errors(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        with self._database_errors(), self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        try:
            yield
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()
            if reason and reason[0].startswith("connection failed"):
                raise StoreError(
                    f"{_safe_url(self.url)}: cannot connect to the database ({reason[0]})"
                ) from exc
            raise StoreError(
                f"{_safe_url(self.url)}: database unavailable or connection lost "
                f"({reason[0] if reason else type(exc).__name__}); the transaction was "
                "rolled back by the database unless it had already committed, and a retry "
                "stores nothing twice (events carry an event_uid)"
            ) from exc

    @property
    def schema_version(self) -> int:
        """Schema version of the store."""
        with self._connect() as conn:
            return _stored_version(conn)

    def _migrate(self) -> None:
        with self._begin() as conn:
            version = _stored_version(conn)
            if version > schema.SCHEMA_VERSION:
                raise StoreError(
                    f"{_safe_url(self.url)}: store schema version {version} is newer than "
                    f"this library supports ({schema.SCHEMA_VERSION}); upgrade evidence_synth"
                )
            while version < schema.SCHEMA_VERSION:
                schema.MIGRATIONS[version](conn)
                version += 1
                _set_meta(conn, "schema_version", str(version))

    # -- protocol --------------------------------------------------------------------
    def set_protocol(self, protocol: Protocol, *,
                     files: Mapping[str, tuple[str, str]] | None = None) -> None:
        """Store a snapshot of the protocol; the newest snapshot is the review's protocol.

        ``files`` maps a role (``protocol``, ``criteria``, ``rules``, ``form``,
        ``codebook``) to the path relative to the review's root folder and the text of
        the file, stored with the snapshot (see
        :meth:`evidence_synth.reviews.ReviewFiles.store`).
        """
        content = json.dumps(protocol.to_dict(), sort_keys=True, ensure_ascii=False)
        with self._begin() as conn:
            protocol_id = conn.execute(
                schema.protocols.insert().values(
                    sha256=protocol.sha256,
                    content=content,
                    source_path=None if protocol.path is None else str(protocol.path),
                    loaded_at=_now(),
                )
            ).inserted_primary_key[0]
            rows = [{"protocol_id": protocol_id, "role": role, "path": path, "content": text,
                     "sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}
                    for role, (path, text) in sorted((files or {}).items())]
            if rows:
                conn.execute(schema.review_files.insert(), rows)

    def protocol_files(self) -> pd.DataFrame:
        """The files stored with the newest protocol snapshot.

        Returns
        -------
        pandas.DataFrame
            Columns ``role, path, sha256, content``; no rows when none were stored.
        """
        table = schema.review_files
        newest = sa.select(sa.func.max(schema.protocols.c.protocol_id)).scalar_subquery()
        query = (sa.select(table.c.role, table.c.path, table.c.sha256, table.c.content)
                 .where(table.c.protocol_id == newest).order_by(table.c.role))
        with self._connect() as conn:
            rows = conn.execute(query).mappings().all()
        return pd.DataFrame([dict(r) for r in rows], columns=["role", "path", "sha256", "content"])

    @property
    def protocol(self) -> Protocol | None:
        """The newest protocol snapshot, or ``None`` when none was stored."""
        from ..protocol import Protocol

        query = sa.select(schema.protocols).order_by(schema.protocols.c.protocol_id.desc())
        with self._connect() as conn:
            row = conn.execute(query.limit(1)).mappings().first()
        if row is None:
            return None
        return Protocol.from_dict(json.loads(row["content"]))

    # -- sources and records ---------------------------------------------------------
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
        imported_by : str, optional
            Who imported the file.
        allow_duplicate : bool, default False
            Import a file whose content was imported before (refused otherwise).

        Returns
        -------
        pandas.DataFrame
            The stored records (records contract), with review-wide ``record_id``.
        """
        from ..io import read_records

        file = Path(path)
        digest = _file_sha256(file)
        source_id = source_id or self._next_source_id(database)
        frame = read_records(file, format=format, encoding=encoding, source_id=source_id)
        source = {
            "source_id": source_id,
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
                {"warnings": [str(w) for w in frame.attrs.get("warnings", [])]},
                ensure_ascii=False,
            ),
        }
        stored = self.add_records(frame, source=source, allow_duplicate=allow_duplicate)
        stored.attrs.update(frame.attrs)
        return stored

    def import_map(
        self,
        path: str | os.PathLike[str],
        *,
        database: str = "3ie evidence gap map",
        kind: str = "previous_version",
        platform: str | None = None,
        searched_on: str | date | None = None,
        query: str | None = None,
        source_id: str | None = None,
        imported_by: str | None = None,
        allow_duplicate: bool = False,
    ) -> EvidenceMap:
        """Import an evidence gap map: its studies, framework and codes, in one transaction.

        Parameters
        ----------
        path : path-like
            EPPI-Mapper HTML, EPPI-Reviewer JSON, 3ie DEP export or map JSON
            (see :func:`evidence_synth.io.read_egm`).
        database : str, default "3ie evidence gap map"
        kind : str, default "previous_version"
            For an updated review the earlier map is the previous version (PRISMA 2020).
        platform, searched_on, query, source_id, imported_by, allow_duplicate
            As :meth:`import_file`.

        Returns
        -------
        evidence_synth.io.EvidenceMap
            The map, with ``record_id`` values as stored in the review.
        """
        from ..io import read_egm

        file = Path(path)
        digest = _file_sha256(file)
        source_id = source_id or self._next_source_id(database)
        emap = read_egm(file)
        row = _source_row(
            {"source_id": source_id, "kind": kind, "database": database,
             "platform": platform or emap.meta.get("format"), "query": query,
             "searched_on": None if searched_on is None else str(searched_on),
             "file_name": file.name, "file_sha256": digest,
             "format": emap.meta.get("format"), "imported_by": imported_by,
             "notes": json.dumps({"warnings": [str(w) for w in emap.meta.get("warnings", [])]},
                                 ensure_ascii=False)},
            n_records=len(emap.records),
        )
        frame = cols.validate_records(_with_review_ids(emap.records, source_id))
        new_ids = dict(zip(emap.records[cols.RECORD_ID], frame[cols.RECORD_ID], strict=True))
        codes = emap.codes.assign(record_id=emap.codes["record_id"].map(new_ids))
        nodes = emap.framework.rename(columns={"order": "position"}).assign(source_id=source_id)
        node_columns = [c.name for c in schema.map_nodes.columns]
        with self._begin() as conn:
            self._check_new_source(conn, row, allow_duplicate=allow_duplicate)
            conn.execute(schema.sources.insert().values(**row))
            self._insert_records(conn, frame)
            if len(nodes):
                conn.execute(schema.map_nodes.insert(), _plain_rows(nodes, node_columns))
            if len(codes):
                conn.execute(schema.record_codes.insert(), _plain_rows(
                    codes, ["record_id", "node_id", "additional_text", "known"]))
        emap.records = frame
        emap.codes = codes
        return emap

    def map_framework(self) -> pd.DataFrame:
        """Framework nodes of every imported map.

        Returns
        -------
        pandas.DataFrame
            Columns ``source_id, node_id, parent_id, label, kind, namespace, position,
            description``.
        """
        table = schema.map_nodes
        with self._connect() as conn:
            return pd.DataFrame(conn.execute(sa.select(table)).mappings().all(),
                                columns=[c.name for c in table.columns])

    def map_codes(self) -> pd.DataFrame:
        """Codes that imported maps give their records.

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, node_id, additional_text, known``.
        """
        table = schema.record_codes
        query = sa.select(table.c.record_id, table.c.node_id, table.c.additional_text,
                          table.c.known).order_by(table.c.code_id)
        with self._connect() as conn:
            return pd.DataFrame(conn.execute(query).all(),
                                columns=["record_id", "node_id", "additional_text", "known"])

    def evidence_map(self, *, source_id: str | None = None) -> EvidenceMap:
        """Rebuild an imported map (records, framework, codes) from the store.

        Parameters
        ----------
        source_id : str, optional
            The map's source; default the only source holding a map framework.

        Returns
        -------
        evidence_synth.io.EvidenceMap
            With the review's record ids, as :meth:`import_map` returned it.
        """
        from ..io import EvidenceMap

        nodes = self.map_framework()
        owners = sorted(nodes["source_id"].unique())
        if source_id is None:
            if len(owners) != 1:
                raise StoreError(f"{len(owners)} imported maps ({owners}); name one with "
                                 "source_id=")
            source_id = owners[0]
        elif source_id not in owners:
            raise StoreError(f"source {source_id!r} holds no imported map (maps: {owners})")
        records = self.records(source_id=source_id)
        codes = self.map_codes()
        codes = codes[codes["record_id"].isin(set(records[cols.RECORD_ID]))]
        framework = (nodes[nodes["source_id"] == source_id].drop(columns="source_id")
                     .rename(columns={"position": "order"}).reset_index(drop=True))
        source = self.sources().set_index("source_id").loc[source_id]
        return EvidenceMap(records=records, framework=framework,
                           codes=codes.reset_index(drop=True),
                           meta={"source_id": source_id, "format": source["format"],
                                 "path": source["file_name"], "warnings": []})

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
        row = _source_row(source, n_records=len(records))
        frame = cols.validate_records(_with_review_ids(records, row["source_id"]))
        with self._begin() as conn:
            self._check_new_source(conn, row, allow_duplicate=allow_duplicate)
            conn.execute(schema.sources.insert().values(**row))
            self._insert_records(conn, frame)
        return frame

    def _check_new_source(
        self, conn: Connection, row: Mapping[str, Any], *, allow_duplicate: bool
    ) -> None:
        src = schema.sources.c
        taken = conn.execute(sa.select(src.source_id).where(src.source_id == row["source_id"]))
        if taken.first() is not None:
            raise StoreError(f"source_id {row['source_id']!r} already exists in this review")
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
        payload = _plain_rows(encoded, [c.name for c in schema.records.columns])
        for start in range(0, len(payload), _BATCH):
            conn.execute(schema.records.insert(), payload[start : start + _BATCH])

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

    def count(self, table: str) -> int:
        """Number of rows in one of the store's tables."""
        target = schema.metadata.tables[table]
        with self._connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(target)).scalar_one())

    # -- deduplication ---------------------------------------------------------------
    def save_duplicate_groups(
        self, groups: pd.DataFrame, *, params: Mapping[str, Any] | None = None
    ) -> int:
        """Store the groups of one deduplication run; returns its ``run_id``.

        Parameters
        ----------
        groups : pandas.DataFrame
            One row per record: ``record_id``, ``group_id``, ``is_primary`` and optionally
            ``study_id`` (defaults to ``group_id``).
        params : mapping, optional
            The options of the run, stored as JSON.
        """
        frame = groups.copy()
        if "study_id" not in frame:
            frame["study_id"] = frame["group_id"]
        with self._begin() as conn:
            run_id = conn.execute(
                schema.dedup_runs.insert().values(
                    created_at=_now(),
                    params=json.dumps(dict(params or {}), sort_keys=True, default=str),
                    n_records=len(frame),
                    n_groups=int(frame["group_id"].nunique()),
                )
            ).inserted_primary_key[0]
            payload = [
                {"run_id": run_id, "record_id": str(r.record_id), "group_id": str(r.group_id),
                 "study_id": str(r.study_id), "is_primary": bool(r.is_primary)}
                for r in frame.itertuples(index=False)
            ]
            for start in range(0, len(payload), _BATCH):
                conn.execute(schema.duplicate_groups.insert(), payload[start : start + _BATCH])
        return int(run_id)

    def duplicate_groups(self, *, run_id: int | None = None) -> pd.DataFrame:
        """Groups of a deduplication run (the newest by default).

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, group_id, study_id, is_primary, run_id``; empty when the
            review was never deduplicated.
        """
        g = schema.duplicate_groups
        with self._connect() as conn:
            if run_id is None:
                run_id = conn.execute(sa.select(sa.func.max(schema.dedup_runs.c.run_id))).scalar()
            cols = ["record_id", "group_id", "study_id", "is_primary", "run_id"]
            if run_id is None:
                return pd.DataFrame(columns=cols)
            rows = conn.execute(
                sa.select(g.c.record_id, g.c.group_id, g.c.study_id, g.c.is_primary, g.c.run_id)
                .where(g.c.run_id == run_id)
                .order_by(g.c.record_id)
            ).all()
        return pd.DataFrame(rows, columns=cols)

    def add_pair_decision(
        self,
        record_id_1: str,
        record_id_2: str,
        decision: str,
        *,
        reviewer: str,
        note: str | None = None,
    ) -> int:
        """Record a person's verdict on a candidate duplicate pair (an event).

        Parameters
        ----------
        record_id_1, record_id_2 : str
            The pair (order does not matter).
        decision : {"match", "distinct"}
        reviewer : str
            Who decided.
        note : str, optional

        Returns
        -------
        int
            The event id.
        """
        if decision not in ("match", "distinct"):
            raise StoreError(f"pair decision must be 'match' or 'distinct', got {decision!r}")
        _require_reviewer(reviewer)
        a, b = sorted((str(record_id_1), str(record_id_2)))
        with self._begin() as conn:
            result = conn.execute(
                schema.pair_decisions.insert().values(
                    record_id_1=a, record_id_2=b, decision=decision, reviewer=reviewer,
                    note=note, created_at=_now(),
                )
            )
        return int(result.inserted_primary_key[0])

    def pair_decisions(self, *, latest: bool = True) -> pd.DataFrame:
        """Manual duplicate-pair decisions.

        Parameters
        ----------
        latest : bool, default True
            Keep only the newest decision per pair (the one that counts).

        Returns
        -------
        pandas.DataFrame
            Columns ``event_id, record_id_1, record_id_2, decision, reviewer, note,
            created_at``.
        """
        table = schema.pair_decisions
        with self._connect() as conn:
            frame = pd.DataFrame(
                conn.execute(sa.select(table).order_by(table.c.event_id)).mappings().all(),
                columns=[c.name for c in table.columns],
            )
        if latest and len(frame):
            frame = frame.drop_duplicates(["record_id_1", "record_id_2"], keep="last")
        return frame.reset_index(drop=True)

    # -- screening decisions ---------------------------------------------------------
    def add_decision(
        self,
        record_id: str,
        stage: str,
        decision: str,
        *,
        reviewer: str,
        reason: str | None = None,
        note: str | None = None,
        actor: str = "human",
        kind: str = "screen",
    ) -> int:
        """Append one screening decision event.

        Parameters
        ----------
        record_id : str
        stage : {"title_abstract", "retrieval", "full_text"}
        decision : str
            ``include``/``exclude``/``maybe``; at retrieval ``retrieved``/``not_retrieved``.
        reviewer : str
            Who decided (a person, or the rule set / model name for automation).
        reason : str, optional
            Exclusion reason code (required for exclusions at full text).
        note : str, optional
        actor : {"human", "rule", "model"}, default "human"
        kind : {"screen", "adjudication"}, default "screen"

        Returns
        -------
        int
            The event id.
        """
        return self.add_decisions(
            [{"record_id": record_id, "stage": stage, "decision": decision,
              "reviewer": reviewer, "reason": reason, "note": note, "actor": actor,
              "kind": kind}]
        )[0]

    def add_decisions(self, events: Iterable[Mapping[str, Any]] | pd.DataFrame) -> list[int]:
        """Append several decision events in one transaction (all or none).

        Parameters
        ----------
        events : iterable of mapping or pandas.DataFrame
            Keys as :meth:`add_decision`'s arguments, plus optionally ``event_uid``: a
            client-chosen unique id that makes a retry idempotent (an event whose uid is
            already stored is not stored again; its existing ``event_id`` is returned).

        Returns
        -------
        list of int
            The event ids, in input order.
        """
        rows = events.to_dict("records") if isinstance(events, pd.DataFrame) else list(events)
        payload = [_decision_row(i, e) for i, e in enumerate(rows)]
        table = schema.decision_events
        ids: list[int] = []
        with self._begin() as conn:
            known = self._existing_record_ids(conn, {p["record_id"] for p in payload})
            missing = sorted({p["record_id"] for p in payload} - known)
            if missing:
                raise StoreError(
                    f"decision for unknown record_id(s) {missing[:5]}"
                    + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
                )
            stored = self._stored_events(conn, [p["event_uid"] for p in payload])
            fresh = [item for item in payload if item["event_uid"] not in stored]
            new_ids: dict[str, int] = {}
            if fresh:
                inserted = conn.execute(
                    table.insert().returning(table.c.event_uid, table.c.event_id,
                                             sort_by_parameter_order=True),
                    fresh,
                )
                new_ids = {uid: int(event_id) for uid, event_id in inserted}
            for item in payload:
                earlier = stored.get(item["event_uid"])
                ids.append(new_ids[item["event_uid"]] if earlier is None
                           else _same_event(earlier, item))
        return ids

    def _stored_events(self, conn: Connection, uids: list[str]) -> dict[str, Mapping[str, Any]]:
        table = schema.decision_events
        found: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(uids), 900):
            chunk = uids[start : start + 900]
            query = sa.select(table).where(table.c.event_uid.in_(chunk))
            found.update({row["event_uid"]: row for row in conn.execute(query).mappings()})
        return found

    def _existing_record_ids(self, conn: Connection, wanted: set[str]) -> set[str]:
        col = schema.records.c.record_id
        found: set[str] = set()
        items = sorted(wanted)
        for start in range(0, len(items), 900):
            chunk = items[start : start + 900]
            found.update(conn.execute(sa.select(col).where(col.in_(chunk))).scalars())
        return found

    def decisions(
        self, *, stage: str | None = None, reviewer: str | None = None
    ) -> pd.DataFrame:
        """Decision events, oldest first.

        Parameters
        ----------
        stage, reviewer : str, optional
            Filters.

        Returns
        -------
        pandas.DataFrame
            Columns ``event_id, event_uid, record_id, stage, decision, reason, note,
            reviewer, actor, kind, created_at``.
        """
        table = schema.decision_events
        query = sa.select(table).order_by(table.c.event_id)
        if stage is not None:
            query = query.where(table.c.stage == stage)
        if reviewer is not None:
            query = query.where(table.c.reviewer == reviewer)
        with self._connect() as conn:
            return pd.DataFrame(
                conn.execute(query).mappings().all(), columns=[c.name for c in table.columns]
            )

    # -- extraction ------------------------------------------------------------------
    def save_extraction_row(
        self,
        row_id: str,
        data: Mapping[str, Any],
        *,
        study_id: str,
        extractor: str,
        expected_version: int | None = None,
    ) -> int:
        """Insert or update an extraction row with an optimistic version check.

        Parameters
        ----------
        row_id : str
            Identifier of the evidence-table row.
        data : mapping
            The row (JSON-serialisable).
        study_id : str
        extractor : str
            Who extracted it.
        expected_version : int, optional
            For an update, the version the editor started from; a different stored
            version means someone else changed the row, and :class:`StoreError` is raised
            instead of overwriting. ``None`` inserts a new row (refused if it exists).

        Returns
        -------
        int
            The new version number.
        """
        _require_reviewer(extractor)
        table = schema.extraction_rows
        content = json.dumps(dict(data), sort_keys=True, ensure_ascii=False, default=str)
        now = _now()
        with self._begin() as conn:
            if expected_version is None:
                exists = conn.execute(sa.select(table.c.version).where(table.c.row_id == row_id))
                if exists.first() is not None:
                    raise StoreError(
                        f"extraction row {row_id!r} exists; pass expected_version to update it"
                    )
                conn.execute(table.insert().values(
                    row_id=row_id, study_id=study_id, extractor=extractor, version=1,
                    data=content, created_at=now, updated_at=now,
                ))
                return 1
            result = conn.execute(
                table.update()
                .where(table.c.row_id == row_id, table.c.version == expected_version)
                .values(data=content, extractor=extractor, study_id=study_id,
                        version=expected_version + 1, updated_at=now)
            )
            if result.rowcount != 1:
                current = conn.execute(
                    sa.select(table.c.version, table.c.extractor).where(table.c.row_id == row_id)
                ).first()
                found = "no such row" if current is None else (
                    f"version {current.version} by {current.extractor}"
                )
                raise StoreError(
                    f"extraction row {row_id!r}: edit conflict, expected version "
                    f"{expected_version}, found {found}; reload and apply your change again"
                )
        return expected_version + 1

    def extraction_rows(self) -> pd.DataFrame:
        """Stored extraction rows.

        Returns
        -------
        pandas.DataFrame
            Columns ``row_id, study_id, extractor, version, data`` (``data`` a dict),
            ``created_at, updated_at``.
        """
        table = schema.extraction_rows
        with self._connect() as conn:
            frame = pd.DataFrame(
                conn.execute(sa.select(table).order_by(table.c.row_id)).mappings().all(),
                columns=[c.name for c in table.columns],
            )
        frame["data"] = [json.loads(v) for v in frame["data"]]
        return frame

    # -- overview --------------------------------------------------------------------
    def status(self) -> pd.DataFrame:
        """Counts per source and stage.

        Returns
        -------
        pandas.DataFrame
            One row per source with columns ``source_id, database, kind, records``, then
            one column per ``<stage>:<decision>`` counting records whose latest decision
            (any reviewer) at that stage is that decision.
        """
        src = self.sources()[["source_id", "database", "kind", "record_count"]]
        src = src.rename(columns={"record_count": "records"})
        events = self.decisions()
        if len(events):
            owners = self.record_sources()
            latest = events.drop_duplicates(["record_id", "stage"], keep="last")
            latest = latest.merge(owners, on="record_id")
            latest["what"] = latest["stage"] + ":" + latest["decision"]
            table = latest.pivot_table(index="source_id", columns="what", values="record_id",
                                       aggfunc="count", fill_value=0)
            src = src.merge(table, left_on="source_id", right_index=True, how="left")
            decided = [c for c in src.columns if ":" in c]
            src[decided] = src[decided].fillna(0).astype(int)
        return src.reset_index(drop=True)


def _make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 60})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(f"{_safe_url(url)}: cannot open review store: {exc}") from exc


def _stored_version(conn: Connection) -> int:
    if not sa.inspect(conn).has_table("es_meta"):
        return 0
    value = conn.execute(
        sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).scalar()
    return int(value or 0)


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(schema.meta.delete().where(schema.meta.c.key == key))
    conn.execute(schema.meta.insert().values(key=key, value=value))


def _source_row(source: Mapping[str, Any], *, n_records: int) -> dict[str, Any]:
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
    row.update(kind=kind, record_count=n_records, imported_at=_now())
    return row


def _with_review_ids(frame: pd.DataFrame, source_id: str) -> pd.DataFrame:
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


def _decision_row(index: int, event: Mapping[str, Any]) -> dict[str, Any]:
    stage, decision = event.get("stage"), event.get("decision")
    where = f"decision event {index} (record {event.get('record_id')!r})"
    if stage not in STAGE_DECISIONS:
        raise StoreError(f"{where}: stage must be one of {', '.join(STAGE_DECISIONS)}, "
                         f"got {stage!r}")
    if decision not in STAGE_DECISIONS[stage]:
        raise StoreError(f"{where}: decision at {stage} must be one of "
                         f"{', '.join(STAGE_DECISIONS[stage])}, got {decision!r}")
    actor = event.get("actor") or "human"
    if actor not in ACTORS:
        raise StoreError(f"{where}: actor must be one of {', '.join(ACTORS)}, got {actor!r}")
    kind = event.get("kind") or "screen"
    if kind not in ("screen", "adjudication"):
        raise StoreError(f"{where}: kind must be 'screen' or 'adjudication', got {kind!r}")
    reviewer = event.get("reviewer")
    _require_reviewer(reviewer, where=where)
    return {
        "event_uid": str(event.get("event_uid") or uuid.uuid4().hex),
        "record_id": str(event["record_id"]),
        "stage": stage,
        "decision": decision,
        "reason": _optional_text(event.get("reason")),
        "note": _optional_text(event.get("note")),
        "reviewer": reviewer,
        "actor": actor,
        "kind": kind,
        "created_at": event.get("created_at") or _now(),
    }


def _plain_rows(frame: pd.DataFrame, columns: list[str]) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values, ``None`` for missing ones."""
    subset = frame.reindex(columns=columns).astype(object)
    return subset.where(subset.notna(), None).to_dict("records")


def _same_event(stored: Mapping[str, Any], item: Mapping[str, Any]) -> int:
    """A retried event (same ``event_uid``) is stored once; a reused uid is an error."""
    fields = ("record_id", "stage", "decision", "reviewer", "reason", "actor", "kind")
    changed = [f for f in fields if stored[f] != item[f]]
    if changed:
        raise StoreError(
            f"event_uid {item['event_uid']!r} was already used for a different decision "
            f"(differs in {', '.join(changed)})"
        )
    return int(stored["event_id"])


def _optional_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _require_reviewer(reviewer: Any, *, where: str = "") -> None:
    if not isinstance(reviewer, str) or not reviewer.strip():
        prefix = f"{where}: " if where else ""
        raise StoreError(f"{prefix}reviewer (who decided) is required, got {reviewer!r}")


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read file: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _safe_url(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


__all__ = ["ACTORS", "SOURCE_KINDS", "STAGE_DECISIONS", "Review", "open_review"]
