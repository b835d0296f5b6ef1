"""Move a review between stores (SQLite <-> PostgreSQL) and prove nothing was lost."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pandas as pd
import sqlalchemy as sa

from ..errors import StoreError
from . import schema
from .review import Review

#: Tables in the order their foreign keys allow them to be filled.
TABLES = tuple(t.name for t in schema.metadata.sorted_tables if t.name != "es_meta")
_BATCH = 5000


@dataclass
class CopyReport:
    """Row counts and content hashes per table on both sides of a copy.

    Attributes
    ----------
    table : pandas.DataFrame
        Columns ``table, rows_source, rows_destination, sha256_source,
        sha256_destination, identical``.
    """

    table: pd.DataFrame

    @property
    def identical(self) -> bool:
        """True when every table has the same rows and content hash on both sides."""
        return bool(self.table["identical"].all())

    def to_frame(self) -> pd.DataFrame:
        """The per-table comparison."""
        return self.table.copy()

    def summary(self) -> str:
        """One line per table."""
        return "\n".join(
            f"{r.table:18s} {r.rows_source:>8d} -> {r.rows_destination:>8d} rows  "
            f"sha256 {r.sha256_source[:12]} {'==' if r.identical else '!='} "
            f"{r.sha256_destination[:12]}"
            for r in self.table.itertuples()
        )


def copy_review(source: Review, destination: Review) -> CopyReport:
    """Copy every table of ``source`` into the empty store ``destination``, then verify.

    Identifiers (``record_id``, ``event_id``, ...) are kept; PostgreSQL sequences are moved
    past the copied ids. The copy is one transaction on the destination.

    Parameters
    ----------
    source, destination : Review
        Stores on any backend; ``destination`` must hold no rows.

    Returns
    -------
    CopyReport
        Raises :class:`StoreError` instead when a count or hash differs.
    """
    if source.schema_version != destination.schema_version:
        raise StoreError(
            f"schema versions differ: source {source.schema_version}, destination "
            f"{destination.schema_version}; open both with the same library version"
        )
    occupied = [t for t in TABLES if destination.count(t)]
    if occupied:
        raise StoreError(f"{destination!r}: destination is not empty (rows in {occupied})")
    with source._connect() as src, destination._begin() as dst:
        for name in TABLES:
            table = schema.metadata.tables[name]
            rows = src.execute(sa.select(table).order_by(*table.primary_key.columns))
            while batch := rows.mappings().fetchmany(_BATCH):
                dst.execute(table.insert(), [dict(r) for r in batch])
        if dst.dialect.name == "postgresql":
            _reset_sequences(dst)
    report = CopyReport(verify_same_content(source, destination))
    if not report.identical:
        raise StoreError(f"copy differs from its source:\n{report.summary()}")
    return report


def verify_same_content(a: Review, b: Review) -> pd.DataFrame:
    """Compare row counts and content hashes of every table of two stores.

    Returns
    -------
    pandas.DataFrame
        Columns ``table, rows_source, rows_destination, sha256_source,
        sha256_destination, identical``.
    """
    rows = []
    for name in TABLES:
        count_a, hash_a = table_digest(a, name)
        count_b, hash_b = table_digest(b, name)
        rows.append((name, count_a, count_b, hash_a, hash_b,
                     count_a == count_b and hash_a == hash_b))
    return pd.DataFrame(rows, columns=["table", "rows_source", "rows_destination",
                                       "sha256_source", "sha256_destination", "identical"])


def table_digest(review: Review, name: str) -> tuple[int, str]:
    """Row count and SHA-256 of a table's rows in primary-key order (backend-neutral)."""
    table = schema.metadata.tables[name]
    digest = hashlib.sha256()
    count = 0
    with review._connect() as conn:
        rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns))
        for row in rows.mappings():
            digest.update(json.dumps({k: _plain(v) for k, v in row.items()}, sort_keys=True,
                                     ensure_ascii=False).encode())
            digest.update(b"\n")
            count += 1
    return count, digest.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        return value
    return str(value)


def _reset_sequences(conn: sa.Connection) -> None:
    for table in schema.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                conn.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                ))
