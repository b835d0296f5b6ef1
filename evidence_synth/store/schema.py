"""Tables of the review store and their migrations (SQLAlchemy Core).

The schema is versioned in ``es_meta``; :data:`MIGRATIONS` lists the steps from an empty
database to :data:`SCHEMA_VERSION`. The database itself keeps the history (triggers on
SQLite and PostgreSQL, added to older stores by the step 2 -> 3): :data:`APPEND_ONLY`
tables refuse ``UPDATE``, ``DELETE``, ``TRUNCATE`` and a ``REPLACE``/``UPSERT`` of a stored
key; :data:`WRITE_ONCE` tables refuse the same except a ``DELETE`` of a row nothing refers
to. Only ``es_meta`` and ``extraction_rows`` (versioned edits) change in place.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

SCHEMA_VERSION = 3

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

#: Tables whose rows record what happened (events, protocol snapshots, dedup runs): never
#: updated, never deleted, and never re-inserted under a key they already hold (SQLite's
#: ``REPLACE`` / ``INSERT OR REPLACE`` would otherwise delete the old row first).
APPEND_ONLY = ("decision_events", "pair_decisions", "protocols", "review_files", "dedup_runs",
               "duplicate_groups")
#: Tables of imported data: never updated nor re-inserted under a key they hold; a row is
#: deleted only while no other row refers to it (an import nothing was decided on yet).
WRITE_ONCE = ("sources", "records", "map_nodes", "record_codes")


def _key_sets(table: sa.Table) -> list[list[str]]:
    """The primary key's columns and each unique constraint's."""
    keys = [[c.name for c in table.primary_key.columns]]
    keys += [[c.name for c in con.columns] for con in table.constraints
             if isinstance(con, sa.UniqueConstraint)]
    return keys


def _sqlite_guards() -> list[str]:
    ddl = []
    for name in APPEND_ONLY + WRITE_ONCE:
        ops = ("UPDATE", "DELETE") if name in APPEND_ONLY else ("UPDATE",)
        ddl += [
            f"CREATE TRIGGER IF NOT EXISTS {name}_no_{op.lower()} BEFORE {op} ON {name} "
            f"BEGIN SELECT RAISE(ABORT, '{name} is append-only: {op} refused'); END"
            for op in ops
        ]
        # BEFORE INSERT runs before REPLACE's conflict resolution deletes the old row.
        taken = " OR ".join(
            f"EXISTS (SELECT 1 FROM {name} WHERE "
            + " AND ".join(f"{col} = NEW.{col}" for col in key) + ")"
            for key in _key_sets(metadata.tables[name])
        )
        ddl.append(
            f"CREATE TRIGGER IF NOT EXISTS {name}_no_replace BEFORE INSERT ON {name} "
            f"WHEN {taken} BEGIN SELECT RAISE(ABORT, '{name} is append-only: INSERT of a "
            "key already stored refused (REPLACE, INSERT OR REPLACE, UPSERT)'); END"
        )
    # Foreign keys hold on connections without PRAGMA foreign_keys=ON too.
    for child in metadata.sorted_tables:
        for fk in sorted(child.foreign_keys, key=lambda f: f.parent.name):
            parent, col = fk.column.table.name, fk.column.name
            if parent not in WRITE_ONCE:
                continue
            ddl.append(
                f"CREATE TRIGGER IF NOT EXISTS {parent}_no_delete_{child.name}_{fk.parent.name} "
                f"BEFORE DELETE ON {parent} WHEN EXISTS (SELECT 1 FROM {child.name} WHERE "
                f"{fk.parent.name} = OLD.{col}) BEGIN SELECT RAISE(ABORT, '{parent} row is "
                f"referred to by {child.name}.{fk.parent.name}: DELETE refused'); END"
            )
    return ddl


def _postgresql_guards() -> list[str]:
    ddl = [
        "CREATE OR REPLACE FUNCTION es_refuse_change() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP "
        "USING ERRCODE = 'integrity_constraint_violation'; "
        "END; $$ LANGUAGE plpgsql"
    ]
    # No REPLACE on PostgreSQL; INSERT ... ON CONFLICT DO UPDATE fires the UPDATE trigger.
    # TRUNCATE (also TRUNCATE ... CASCADE from records) skips row triggers: refused too.
    # Foreign keys are always enforced, so referenced records and sources stay.
    for name in APPEND_ONLY + WRITE_ONCE:
        row_ops = "UPDATE OR DELETE" if name in APPEND_ONLY else "UPDATE"
        ddl += [
            f"DROP TRIGGER IF EXISTS {name}_append_only ON {name}",
            f"CREATE TRIGGER {name}_append_only BEFORE {row_ops} ON {name} "
            "FOR EACH ROW EXECUTE FUNCTION es_refuse_change()",
            f"DROP TRIGGER IF EXISTS {name}_no_truncate ON {name}",
            f"CREATE TRIGGER {name}_no_truncate BEFORE TRUNCATE ON {name} "
            "FOR EACH STATEMENT EXECUTE FUNCTION es_refuse_change()",
        ]
    return ddl


def _guards_ddl(dialect: str) -> list[str]:
    if dialect == "sqlite":
        return _sqlite_guards()
    if dialect == "postgresql":
        return _postgresql_guards()
    raise NotImplementedError(f"no append-only triggers for dialect {dialect!r}")


def _migrate_0_to_1(conn: Connection) -> None:
    metadata.create_all(conn)
    _add_guards(conn)


def _migrate_1_to_2(conn: Connection) -> None:
    review_files.create(conn, checkfirst=True)


def _migrate_2_to_3(conn: Connection) -> None:
    _add_guards(conn)


def _add_guards(conn: Connection) -> None:
    """The append-only and write-once triggers (idempotent: a later step may re-run it)."""
    for statement in _guards_ddl(conn.dialect.name):
        conn.execute(sa.text(statement))


#: ``MIGRATIONS[v]`` upgrades a store at schema version ``v`` to ``v + 1``.
MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    0: _migrate_0_to_1, 1: _migrate_1_to_2, 2: _migrate_2_to_3}
