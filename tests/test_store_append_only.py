"""Raw SQL cannot rewrite or orphan the review's history, on SQLite and PostgreSQL.

Each attack runs on a store holding one include decision, one pair verdict, a protocol
snapshot with its files, a dedup run and a map import; afterwards every table must hold
exactly what it held before, and the attack must have failed with the database's own
error. The library's API, for the same refusals, raises ``StoreError``.
"""

from __future__ import annotations

import sqlite3
import warnings
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.datasets import demo_dir
from evidence_synth.errors import DataQualityWarning, StoreError
from evidence_synth.reviews import bundled_review
from evidence_synth.store import schema
from evidence_synth.store.copy import TABLES, table_digest

V2_DUMP = Path(__file__).parent / "fixtures" / "store" / "v2.sql"
EVENT_COLUMNS = ("event_id, event_uid, record_id, stage, {decision}, reason, note, reviewer, "
                 "actor, kind, created_at")
PAIR_COLUMNS = "event_id, record_id_1, record_id_2, {decision}, reviewer, note, created_at"


def _flip(columns: str, decision: str) -> str:
    return columns.format(decision=decision)


def _seed(url: str) -> None:
    with open_review(url) as review:
        review.add_records(
            records_from_dicts({"title": f"Record {i}", "authors": ["Doe, J"]} for i in range(4)),
            source={"source_id": "s", "database": "Scopus"})
        review.add_decision("s:1", "title_abstract", "include", reviewer="ann")
        review.add_pair_decision("s:1", "s:2", "match", reviewer="ann")
        bundled_review().store(review)
        review.save_duplicate_groups(pd.DataFrame({
            "record_id": ["s:1", "s:2", "s:3", "s:4"], "group_id": ["g1", "g1", "g2", "g3"],
            "is_primary": [True, False, True, True]}))
        with warnings.catch_warnings():  # its crosswalk's note on one unmatched column
            warnings.simplefilter("ignore", DataQualityWarning)
            review.import_map(demo_dir() / "previous_map_3ie.html")


def _digests(url: str) -> dict[str, tuple[int, str]]:
    with open_review(url, create=False) as review:
        return {table: table_digest(review, table) for table in TABLES}


def _primary_key(table: str) -> str:
    return ", ".join(c.name for c in schema.metadata.tables[table].primary_key.columns)


def _first_text_column(table: str) -> str:
    keys = {c.name for c in schema.metadata.tables[table].primary_key.columns}
    return next(c.name for c in schema.metadata.tables[table].columns
                if c.name not in keys and isinstance(c.type, sa.Text | sa.String)
                and c.name not in ("database", "query"))


PROTECTED = schema.APPEND_ONLY + schema.WRITE_ONCE

#: The probes of issue 16 and their variants, in SQL both backends parse.
NAMED_ATTACKS = {
    "decision REPLACE INTO":
        f"REPLACE INTO decision_events SELECT {_flip(EVENT_COLUMNS, repr('exclude'))} "
        "FROM decision_events",
    "decision INSERT OR REPLACE":
        f"INSERT OR REPLACE INTO decision_events SELECT "
        f"{_flip(EVENT_COLUMNS, repr('exclude'))} FROM decision_events",
    "decision INSERT OR REPLACE of the event_uid under a new event_id":
        "INSERT OR REPLACE INTO decision_events (event_uid, record_id, stage, decision, "
        "reviewer, actor, kind, created_at) SELECT event_uid, record_id, stage, 'exclude', "
        "reviewer, actor, kind, created_at FROM decision_events",
    "decision ON CONFLICT DO UPDATE":
        f"INSERT INTO decision_events SELECT {_flip(EVENT_COLUMNS, repr('exclude'))} "
        "FROM decision_events WHERE true ON CONFLICT (event_id) DO UPDATE SET "
        "decision = 'exclude'",
    "decision ON CONFLICT (event_uid) DO UPDATE":
        "INSERT INTO decision_events (event_uid, record_id, stage, decision, reviewer, actor, "
        "kind, created_at) SELECT event_uid, record_id, stage, 'exclude', reviewer, actor, "
        "kind, created_at FROM decision_events WHERE true ON CONFLICT (event_uid) DO UPDATE "
        "SET decision = 'exclude'",
    "decision UPDATE": "UPDATE decision_events SET decision = 'exclude'",
    "decision DELETE": "DELETE FROM decision_events",
    "pair REPLACE INTO":
        f"REPLACE INTO pair_decisions SELECT {_flip(PAIR_COLUMNS, repr('distinct'))} "
        "FROM pair_decisions",
    "pair INSERT OR REPLACE":
        f"INSERT OR REPLACE INTO pair_decisions SELECT {_flip(PAIR_COLUMNS, repr('distinct'))} "
        "FROM pair_decisions",
    "pair ON CONFLICT DO UPDATE":
        f"INSERT INTO pair_decisions SELECT {_flip(PAIR_COLUMNS, repr('distinct'))} "
        "FROM pair_decisions WHERE true ON CONFLICT (event_id) DO UPDATE SET "
        "decision = 'distinct'",
    "pair UPDATE": "UPDATE pair_decisions SET decision = 'distinct'",
    "pair DELETE": "DELETE FROM pair_decisions",
    "records DELETE while events refer to them": "DELETE FROM records",
    "one decided record DELETE": "DELETE FROM records WHERE record_id = 's:1'",
    "sources DELETE while records refer to them": "DELETE FROM sources",
    "map source DELETE while its codes refer to its records":
        "DELETE FROM sources WHERE kind = 'previous_version'",
}
#: The same three attacks on every protected table, built from the schema.
GENERIC_ATTACKS = {
    **{f"{t} UPDATE": f"UPDATE {t} SET {_first_text_column(t)} = 'x'" for t in PROTECTED},
    **{f"{t} DELETE": f"DELETE FROM {t}" for t in schema.APPEND_ONLY},
    **{f"{t} ON CONFLICT DO UPDATE":
       f"INSERT INTO {t} SELECT * FROM {t} WHERE true ON CONFLICT ({_primary_key(t)}) "
       f"DO UPDATE SET {_first_text_column(t)} = 'x'" for t in PROTECTED},
}
SQLITE_ONLY = {f"{t} INSERT OR REPLACE": f"INSERT OR REPLACE INTO {t} SELECT * FROM {t}"
               for t in PROTECTED}
POSTGRESQL_ONLY = {
    **{f"{t} TRUNCATE": f"TRUNCATE {t}" for t in PROTECTED},
    "records TRUNCATE CASCADE (would empty decision_events)": "TRUNCATE records CASCADE",
    "sources TRUNCATE CASCADE": "TRUNCATE sources CASCADE",
}
SQLITE_ATTACKS = {**NAMED_ATTACKS, **GENERIC_ATTACKS, **SQLITE_ONLY}
POSTGRESQL_ATTACKS = {
    **{k: v for k, v in NAMED_ATTACKS.items() if "REPLACE" not in v},
    **GENERIC_ATTACKS, **POSTGRESQL_ONLY,
}


# -- SQLite --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("append_only") / "review.db"
    _seed(str(path))
    return path, _digests(str(path))


@pytest.mark.parametrize("attack", SQLITE_ATTACKS)
def test_sqlite_refuses(sqlite_store, attack):
    path, before = sqlite_store
    # the sqlite3 module as a person would use it: foreign keys off, recursive triggers off
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (0,)
        with pytest.raises(sqlite3.IntegrityError, match=r"append-only|DELETE refused"):
            conn.execute(SQLITE_ATTACKS[attack])
        conn.rollback()
    finally:
        conn.close()
    assert _digests(str(path)) == before


def test_sqlite_refuses_with_foreign_keys_and_recursive_triggers_on(sqlite_store):
    path, before = sqlite_store
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA recursive_triggers=ON")
    try:
        for statement in SQLITE_ATTACKS.values():
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(statement)
            conn.rollback()
    finally:
        conn.close()
    assert _digests(str(path)) == before


def test_the_issue_probe_no_longer_turns_an_include_into_an_exclude(sqlite_store):
    path, _ = sqlite_store
    with open_review(path, create=False) as review:
        with pytest.raises(sa.exc.IntegrityError, match="decision_events is append-only"), \
                review.engine.begin() as conn:
            conn.exec_driver_sql(NAMED_ATTACKS["decision REPLACE INTO"])
        assert review.decisions()["decision"].tolist() == ["include"]


# -- PostgreSQL ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def postgresql_store(pg_server) -> tuple[str, dict]:
    url = pg_server.url(pg_server.new_database())
    _seed(url)
    return url, _digests(url)


@pytest.mark.parametrize("attack", POSTGRESQL_ATTACKS)
def test_postgresql_refuses(postgresql_store, attack):
    url, before = postgresql_store
    engine = sa.create_engine(url)  # the superuser, outside the library
    try:
        # IntegrityError; NotSupportedError for TRUNCATE of a table others refer to
        with pytest.raises(sa.exc.DBAPIError, match=r"append-only|foreign key"), \
                engine.begin() as conn:
            conn.exec_driver_sql(POSTGRESQL_ATTACKS[attack])
    finally:
        engine.dispose()
    assert _digests(url) == before


# -- what stays allowed, and the library's own errors --------------------------------------

def test_an_import_nothing_refers_to_can_still_be_removed(store_url):
    _seed(store_url)
    with open_review(store_url, create=False) as review:
        n_records = review.count("records")
        review.add_records(records_from_dicts({"title": "Wrong file"} for _ in range(2)),
                           source={"source_id": "oops", "database": "WoS"})
        with review.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM records WHERE source_id = 'oops'")
            conn.exec_driver_sql("DELETE FROM sources WHERE source_id = 'oops'")
        assert "oops" not in review.sources()["source_id"].tolist()
        assert review.count("records") == n_records


def test_the_api_reports_a_store_error(store_url):
    _seed(store_url)
    with open_review(store_url, create=False) as review:
        groups = pd.DataFrame({"record_id": ["s:1", "s:1"], "group_id": ["g1", "g1"],
                               "is_primary": [True, False]})
        with pytest.raises(StoreError, match="the database refused the change"):
            review.save_duplicate_groups(groups)
        assert review.count("dedup_runs") == 1


# -- schema 2 -> 3 -------------------------------------------------------------------------

def test_a_version_2_store_gains_the_guards(tmp_path):
    path = tmp_path / "v2.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(V2_DUMP.read_text(encoding="utf-8"))
    hole = tmp_path / "v2-copy.db"
    with sqlite3.connect(path) as src, sqlite3.connect(hole) as dst:
        src.backup(dst)
    with sqlite3.connect(hole) as conn:  # the hole the migration closes
        conn.execute(NAMED_ATTACKS["decision REPLACE INTO"])
        assert conn.execute("SELECT decision FROM decision_events ORDER BY event_id"
                            ).fetchall() == [("exclude",), ("exclude",)]
    with open_review(path, create=False) as review:
        assert review.schema_version == 3
        before = review.decisions()
        assert before["decision"].tolist() == ["include", "exclude"]
    digests = _digests(str(path))
    filled = [t for t in PROTECTED if digests[t][0]]  # the fixture has no map, no protocol
    attacks = [v for k, v in SQLITE_ATTACKS.items()
               if (k in NAMED_ATTACKS and "map" not in k) or k.split()[0] in filled]
    assert len(attacks) > 30
    conn = sqlite3.connect(path)
    try:
        for statement in attacks:
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(statement)
            conn.rollback()
    finally:
        conn.close()
    assert _digests(str(path)) == digests
    with open_review(path, create=False) as review:
        pd.testing.assert_frame_equal(review.decisions(), before)
        review.add_decision("s:2", "title_abstract", "exclude", reason="TA-POP",
                            reviewer="bob")  # appending still works
        assert len(review.decisions()) == 3


def _pg_triggers(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").scalars())
    finally:
        engine.dispose()


def test_a_version_2_postgresql_store_gains_the_guards(pg_server):
    url = pg_server.url(pg_server.new_database())
    _seed(url)
    current = _pg_triggers(url)
    engine = sa.create_engine(url)
    try:  # what a version-2 store held: the UPDATE/DELETE triggers of the event tables
        with engine.begin() as conn:
            for name in current - {"decision_events_append_only", "pair_decisions_append_only"}:
                table = next(t for t in PROTECTED if name.startswith(t + "_"))
                conn.exec_driver_sql(f"DROP TRIGGER {name} ON {table}")
            conn.exec_driver_sql("UPDATE es_meta SET value = '2' WHERE key = 'schema_version'")
        with engine.connect() as conn:  # the hole the migration closes (rolled back)
            conn.exec_driver_sql("TRUNCATE records CASCADE")
            assert conn.exec_driver_sql("SELECT count(*) FROM decision_events").scalar() == 0
            conn.rollback()
    finally:
        engine.dispose()
    assert _pg_triggers(url) == {"decision_events_append_only", "pair_decisions_append_only"}
    with open_review(url, create=False) as review:
        assert review.schema_version == 3
    assert _pg_triggers(url) == current
    before = _digests(url)
    engine = sa.create_engine(url)
    try:
        for statement in POSTGRESQL_ATTACKS.values():
            with pytest.raises(sa.exc.DBAPIError), engine.begin() as conn:
                conn.exec_driver_sql(statement)
    finally:
        engine.dispose()
    assert _digests(url) == before
