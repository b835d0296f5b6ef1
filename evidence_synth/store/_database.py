"""The database under every section of a Review: engine, transactions, schema migrations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from . import schema

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
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()
            if reason and reason[0].startswith("connection failed"):
                raise StoreError(
                    f"{safe_url(self.url)}: cannot connect to the database ({reason[0]})"
                ) from exc
            raise StoreError(
                f"{safe_url(self.url)}: database unavailable or connection lost "
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
                    f"{safe_url(self.url)}: store schema version {version} is newer than "
                    f"this library supports ({schema.SCHEMA_VERSION}); upgrade evidence_synth"
                )
            while version < schema.SCHEMA_VERSION:
                schema.MIGRATIONS[version](conn)
                version += 1
                _set_meta(conn, "schema_version", str(version))


def make_engine(url: str) -> Engine:
    """A SQLAlchemy engine; SQLite files get WAL, foreign keys and a 60 s lock timeout."""
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
        raise StoreError(f"{safe_url(url)}: cannot open review store: {exc}") from exc


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


def now() -> str:
    """The current UTC time as stored in the event tables."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def safe_url(url: str) -> str:
    """The URL with its password masked."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)
