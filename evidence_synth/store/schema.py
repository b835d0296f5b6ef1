"""Tables of the review store and their migrations (SQLAlchemy Core).

The schema is versioned in ``es_meta``; :data:`MIGRATIONS` lists the steps from an empty
database to :data:`SCHEMA_VERSION`. Event tables are append-only: the database itself
refuses ``UPDATE`` and ``DELETE`` on them (triggers on SQLite and PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

SCHEMA_VERSION = 2

metadata = sa.MetaData()

meta = sa.Table(
    "es_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

protocols = sa.Table(
    "protocols",
    metadata,
    sa.Column("protocol_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("source_path", sa.Text),
    sa.Column("loaded_at", sa.String(40), nullable=False),
)

#: The review files stored with each protocol snapshot (its own YAML, screening criteria
#: and rules, extraction form, codebook): role, path relative to the review's root folder
#: and text; added in schema version 2.
review_files = sa.Table(
    "review_files",
    metadata,
    sa.Column("protocol_id", sa.Integer, sa.ForeignKey("protocols.protocol_id"),
              primary_key=True),
    sa.Column("role", sa.String(40), primary_key=True),
    sa.Column("path", sa.String(500), nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
)

sources = sa.Table(
    "sources",
    metadata,
    sa.Column("source_id", sa.String(200), primary_key=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("database", sa.Text, nullable=False),
    sa.Column("platform", sa.Text),
    sa.Column("searched_on", sa.String(40)),
    sa.Column("query", sa.Text),
    sa.Column("file_name", sa.Text),
    sa.Column("file_sha256", sa.String(64)),
    sa.Column("format", sa.String(40)),
    sa.Column("encoding", sa.String(40)),
    sa.Column("record_count", sa.Integer, nullable=False),
    sa.Column("imported_at", sa.String(40), nullable=False),
    sa.Column("imported_by", sa.Text),
    sa.Column("notes", sa.Text),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("record_id", sa.String(250), primary_key=True),
    sa.Column(
        "source_id", sa.String(200), sa.ForeignKey("sources.source_id"), nullable=False
    ),
    sa.Column("source_row", sa.Integer),
    sa.Column("title", sa.Text),
    sa.Column("abstract", sa.Text),
    sa.Column("journal", sa.Text),
    sa.Column("authors", sa.Text, nullable=False),
    sa.Column("keywords", sa.Text, nullable=False),
    sa.Column("year", sa.Integer),
    sa.Column("volume", sa.Text),
    sa.Column("issue", sa.Text),
    sa.Column("pages", sa.Text),
    sa.Column("publisher", sa.Text),
    sa.Column("isbn", sa.Text),
    sa.Column("issn", sa.Text),
    sa.Column("language", sa.Text),
    sa.Column("pub_type", sa.Text),
    sa.Column("doi", sa.Text),
    sa.Column("pmid", sa.Text),
    sa.Column("accession", sa.Text),
    sa.Column("raw", sa.Text, nullable=False),
    sa.Index("ix_records_source", "source_id"),
    sa.Index("ix_records_doi", "doi"),
)

map_nodes = sa.Table(
    "map_nodes",
    metadata,
    sa.Column("source_id", sa.String(200), sa.ForeignKey("sources.source_id"), primary_key=True),
    sa.Column("node_id", sa.String(250), primary_key=True),
    sa.Column("parent_id", sa.String(250)),
    sa.Column("label", sa.Text, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("namespace", sa.String(40), nullable=False),
    sa.Column("position", sa.Integer),
    sa.Column("description", sa.Text),
)

record_codes = sa.Table(
    "record_codes",
    metadata,
    sa.Column("code_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(250), sa.ForeignKey("records.record_id"), nullable=False),
    sa.Column("node_id", sa.String(250), nullable=False),
    sa.Column("additional_text", sa.Text),
    sa.Column("known", sa.Boolean, nullable=False),
    sa.Index("ix_record_codes_record", "record_id"),
)

dedup_runs = sa.Table(
    "dedup_runs",
    metadata,
    sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("n_records", sa.Integer, nullable=False),
    sa.Column("n_groups", sa.Integer, nullable=False),
)

duplicate_groups = sa.Table(
    "duplicate_groups",
    metadata,
    sa.Column("run_id", sa.Integer, sa.ForeignKey("dedup_runs.run_id"), primary_key=True),
    sa.Column("record_id", sa.String(250), sa.ForeignKey("records.record_id"), primary_key=True),
    sa.Column("group_id", sa.String(250), nullable=False),
    sa.Column("study_id", sa.String(250), nullable=False),
    sa.Column("is_primary", sa.Boolean, nullable=False),
)

pair_decisions = sa.Table(
    "pair_decisions",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("record_id_1", sa.String(250), sa.ForeignKey("records.record_id"), nullable=False),
    sa.Column("record_id_2", sa.String(250), sa.ForeignKey("records.record_id"), nullable=False),
    sa.Column("decision", sa.String(20), nullable=False),
    sa.Column("reviewer", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.CheckConstraint("decision IN ('match', 'distinct')", name="ck_pair_decision"),
)

decision_events = sa.Table(
    "decision_events",
    metadata,
    sa.Column("event_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("event_uid", sa.String(64), nullable=False, unique=True),
    sa.Column("record_id", sa.String(250), sa.ForeignKey("records.record_id"), nullable=False),
    sa.Column("stage", sa.String(40), nullable=False),
    sa.Column("decision", sa.String(40), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("reviewer", sa.Text, nullable=False),
    sa.Column("actor", sa.String(20), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.CheckConstraint("actor IN ('human', 'rule', 'model')", name="ck_decision_actor"),
    sa.CheckConstraint("kind IN ('screen', 'adjudication')", name="ck_decision_kind"),
    sa.Index("ix_decisions_record_stage", "record_id", "stage"),
)

extraction_rows = sa.Table(
    "extraction_rows",
    metadata,
    sa.Column("row_id", sa.String(250), primary_key=True),
    sa.Column("study_id", sa.String(250), nullable=False),
    sa.Column("extractor", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
    sa.Index("ix_extraction_study", "study_id"),
)

#: Tables whose rows are events: never updated, never deleted.
APPEND_ONLY = ("decision_events", "pair_decisions")


def _append_only_ddl(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
            for table in APPEND_ONLY
            for op in ("UPDATE", "DELETE")
        ]
    if dialect == "postgresql":
        ddl = [
            "CREATE OR REPLACE FUNCTION es_refuse_change() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP; "
            "END; $$ LANGUAGE plpgsql"
        ]
        ddl += [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION es_refuse_change()"
            for table in APPEND_ONLY
        ]
        return ddl
    raise NotImplementedError(f"no append-only triggers for dialect {dialect!r}")


def _migrate_0_to_1(conn: Connection) -> None:
    metadata.create_all(conn)
    for statement in _append_only_ddl(conn.dialect.name):
        conn.execute(sa.text(statement))


def _migrate_1_to_2(conn: Connection) -> None:
    review_files.create(conn, checkfirst=True)


#: ``MIGRATIONS[v]`` upgrades a store at schema version ``v`` to ``v + 1``.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {0: _migrate_0_to_1, 1: _migrate_1_to_2}
