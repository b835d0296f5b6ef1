"""The database under every section of a Review: engine, transactions, schema migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from . import schema
from .urls import mask_url, redact

#: Rows per INSERT statement for bulk writes.
BATCH = 5000


class Database:
    """Transactions and migrations on ``self.engine``; the base of each section mixin."""

    url: str
    engine: Engine

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
        except sa.exc.DBAPIError as exc:
            reason = _reason(exc, self.url)
            if _read_only(exc):
                hint = (": check the permissions of the store file and its folder (SQLite "
                        "writes a -wal and a -shm file beside it)"
                        if self.url.startswith("sqlite") else "")
                raise StoreError(
                    f"{mask_url(self.url)}: the review store is read-only ({reason}); nothing "
                    f"was written{hint}"
                ) from exc
            if isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError):
                if reason.startswith("connection failed"):
                    raise StoreError(
                        f"{mask_url(self.url)}: cannot connect to the database ({reason})"
                    ) from exc
                raise StoreError(
                    f"{mask_url(self.url)}: database unavailable or connection lost "
                    f"({reason}); the transaction was "
                    "rolled back by the database unless it had already committed, and a retry "
                    "stores nothing twice (events carry an event_uid)"
                ) from exc
            if isinstance(exc, sa.exc.IntegrityError) or _sqlstate(exc) == "42501":
                raise StoreError(
                    f"{mask_url(self.url)}: the database refused the change ({reason}); "
                    "nothing was written"
                ) from exc
            raise

    @property
    def schema_version(self) -> int:
        """Schema version of the store."""
        with self._connect() as conn:
            return _stored_version(conn, self.url)

    def _migrate(self, *, create: bool = True) -> None:
        with self._begin() as conn:
            version = _stored_version(conn, self.url)
            if version == 0 and not create:
                raise StoreError(
                    f"{mask_url(self.url)}: no review store here (no es_meta table); create "
                    "one with `evidence-synth init` or open_review(path)"
                )
            if version > schema.SCHEMA_VERSION:
                raise StoreError(
                    f"{mask_url(self.url)}: store schema version {version} is newer than "
                    f"this library supports ({schema.SCHEMA_VERSION}); upgrade evidence_synth"
                )
            while version < schema.SCHEMA_VERSION:
                schema.MIGRATIONS[version](conn)
                version += 1
                _set_meta(conn, "schema_version", str(version))


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine; SQLite files get WAL, foreign keys and a 60 s lock timeout."""
    try:
        if url.startswith("sqlite"):
            engine = sa.create_engine(url, connect_args={"timeout": 60})
        else:
            return sa.create_engine(url, pool_pre_ping=True)
    except ValueError as exc:  # SQLAlchemy's URL parser on a port that is not a number
        raise StoreError(
            f"{mask_url(url)}: not a valid database URL ({redact(str(exc), url)}); the "
            "port must be a number"
        ) from exc
    except (SQLAlchemyError, ImportError) as exc:
        raise StoreError(
            f"{mask_url(url)}: cannot open review store: {redact(str(exc), url)}"
        ) from exc

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _stored_version(conn: Connection, url: str) -> int:
    if not sa.inspect(conn).has_table("es_meta"):
        return 0
    value = conn.execute(
        sa.select(schema.meta.c.value).where(schema.meta.c.key == "schema_version")
    ).scalar()
    try:
        return int(value or 0)
    except ValueError:
        raise StoreError(
            f"{mask_url(url)}: es_meta.schema_version is {value!r}, expected a whole number; "
            "the store was changed outside evidence_synth"
        ) from None


def _set_meta(conn: Connection, key: str, value: str) -> None:
    conn.execute(schema.meta.delete().where(schema.meta.c.key == key))
    conn.execute(schema.meta.insert().values(key=key, value=value))


def now() -> str:
    """The current UTC time as stored in the event tables."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _reason(exc: sa.exc.DBAPIError, url: str) -> str:
    """The first line of the driver's message, with the URL's secrets removed."""
    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
    return redact(lines[0], url) if lines else type(exc).__name__


def _sqlstate(exc: sa.exc.DBAPIError) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


def _read_only(exc: sa.exc.DBAPIError) -> bool:
    """A write refused because the SQLite file or folder, or the PostgreSQL transaction or
    server, is read-only."""
    name = getattr(getattr(exc, "orig", None), "sqlite_errorname", "") or ""
    return name.startswith("SQLITE_READONLY") or _sqlstate(exc) == "25006"
