"""PostgreSQL store: connection failures, outages mid-transaction, reviewer identities."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from urllib.parse import quote

import pandas as pd
import pytest
import sqlalchemy as sa

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import StoreError
from evidence_synth.store.access import grant_reviewers


def _records(n: int) -> pd.DataFrame:
    return records_from_dicts({"title": f"Record {i}", "authors": ["Doe, J"]} for i in range(n))


def test_wrong_password_names_host_not_password(pg_server, pg_url):
    open_review(pg_url).close()
    url = pg_url.replace(pg_server.PASSWORD, "not-the-password")
    with pytest.raises(StoreError) as info:
        open_review(url)
    message = str(info.value)
    assert "cannot connect" in message
    assert "password authentication failed" in message
    assert f"127.0.0.1:{pg_server.port}" in message
    assert "not-the-password" not in message


def test_unreachable_server_is_a_clear_error(pg_server):
    url = pg_server.url("postgres").replace(str(pg_server.port), "1")
    with pytest.raises(StoreError, match=r"127\.0\.0\.1:1/postgres: cannot connect"):
        open_review(url)


_SLOW_IMPORT = textwrap.dedent(
    """
    import sys
    import pandas as pd
    from evidence_synth import open_review
    from evidence_synth.columns import records_from_dicts
    from evidence_synth.errors import StoreError
    from evidence_synth.store import review as R

    original = R.Review._insert_records

    def halfway_then_wait(self, conn, frame):
        original(self, conn, frame.iloc[: len(frame) // 2])
        print("HALFWAY", flush=True)
        sys.stdin.readline()
        original(self, conn, frame.iloc[len(frame) // 2 :])

    R.Review._insert_records = halfway_then_wait
    review = open_review(sys.argv[1], create=False)
    records = records_from_dicts({"title": f"New {i}"} for i in range(2000))
    try:
        review.add_records(records, source={"source_id": "new", "database": "WoS"})
        print("COMMITTED", flush=True)
    except StoreError as exc:
        print("STORE_ERROR", exc, flush=True)
    """
)


def _start_slow_import(url, tmp_path):
    script = tmp_path / "slow_import.py"
    script.write_text(_SLOW_IMPORT)
    child = subprocess.Popen([sys.executable, str(script), url], cwd=tmp_path, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    line = child.stdout.readline()
    assert line.startswith("HALFWAY"), child.stderr.read()
    return child


def _seeded(url):
    with open_review(url) as review:
        review.add_records(_records(3), source={"source_id": "before", "database": "Scopus"})
        review.add_decision("before:1", "title_abstract", "include", reviewer="ann")
        return review.records(), review.decisions()


def test_server_crash_mid_transaction_leaves_nothing_partial(pg_server, pg_url, tmp_path):
    records, decisions = _seeded(pg_url)
    child = _start_slow_import(pg_url, tmp_path)
    pg_server.stop("immediate")
    try:
        out, err = child.communicate("go\n", timeout=60)
    finally:
        pg_server.start()
    assert out.startswith("STORE_ERROR"), (out, err)
    assert "connection lost" in out or "cannot connect" in out
    assert pg_server.PASSWORD not in out
    with open_review(pg_url, create=False) as review:
        assert review.sources()["source_id"].tolist() == ["before"]
        pd.testing.assert_frame_equal(review.records(), records)
        pd.testing.assert_frame_equal(review.decisions(), decisions)


def test_killed_client_mid_transaction_leaves_nothing_partial(pg_url, tmp_path):
    records, _ = _seeded(pg_url)
    child = _start_slow_import(pg_url, tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    with open_review(pg_url, create=False) as review:
        assert review.count("records") == 3
        pd.testing.assert_frame_equal(review.records(), records)


@pytest.fixture
def team(pg_server, pg_url):
    """A store with roles: ann and bob review, carol adjudicates, lead administers."""
    with open_review(pg_url) as review:
        review.add_records(_records(3), source={"source_id": "s", "database": "Scopus"})
        report = grant_reviewers(review, reviewers=["ann", "bob"], adjudicators=["carol"],
                                 admins=["lead"])
    assert ("carol", "es_adjudicator") in report.granted
    for person in ("ann", "bob", "carol", "lead"):
        pg_server.psql("postgres", f"ALTER ROLE {person} PASSWORD 'pw-{person}'")
    database = pg_url.rsplit("/", 1)[1]

    def connect(person):
        return open_review(pg_server.url(database, user=person, password=f"pw-{person}"),
                           create=False)

    return connect


def test_reviewer_writes_only_under_own_identity(team):
    with team("ann") as ann:
        ann.add_decision("s:1", "title_abstract", "include", reviewer="ann")
        with pytest.raises(StoreError, match=r"refused the change.*may only write under their"):
            ann.add_decision("s:2", "title_abstract", "exclude", reviewer="bob")
        with pytest.raises(StoreError, match="not an adjudicator"):
            ann.add_decision("s:1", "title_abstract", "exclude", reviewer="ann",
                             kind="adjudication")
        with pytest.raises(sa.exc.DBAPIError), ann.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE decision_events SET decision = 'exclude'")
        with pytest.raises(sa.exc.DBAPIError, match="permission denied"), \
                ann.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM decision_events")
        with pytest.raises(sa.exc.DBAPIError, match="permission denied"), \
                ann.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM records")
        ann.save_extraction_row("r1", {"yi": 0.1}, study_id="st", extractor="ann")
    with team("bob") as bob:
        with pytest.raises(StoreError, match="was extracted by ann"):
            bob.save_extraction_row("r1", {"yi": 0.9}, study_id="st", extractor="bob",
                                    expected_version=1)
        assert bob.decisions()["reviewer"].tolist() == ["ann"]
    with team("carol") as carol:
        carol.add_decision("s:1", "title_abstract", "include", reviewer="carol",
                           kind="adjudication")
    with team("lead") as lead:
        lead.add_decision("s:3", "title_abstract", "exclude", reviewer="rules:v1",
                          actor="rule", reason="TA-YEAR")
        events = lead.decisions()
    assert events[["reviewer", "kind"]].values.tolist() == [
        ["ann", "screen"], ["carol", "adjudication"], ["rules:v1", "screen"]]


# -- identifiers ---------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "why"), [
    ("ann\n", "expected lower case letters"),
    ("Ann", "expected lower case letters"),
    ('ann"; DROP TABLE records; --', "expected lower case letters"),
    ("select", "an SQL reserved word"),
    ("user", "reserved by PostgreSQL"),
    ("public", "reserved by PostgreSQL"),
    ("current_user", "reserved by PostgreSQL"),
    ("session_user", "reserved by PostgreSQL"),
    ("none", "reserved by PostgreSQL"),
    ("grant", "an SQL reserved word"),
    ("pg_reviewer", "names starting with pg_ are reserved"),
    ("es_admin", "one of evidence_synth's group roles"),
])
def test_bad_role_names_are_refused_before_anything_changes(pg_url, name, why):
    with open_review(pg_url) as review:
        with pytest.raises(StoreError, match="role names refused") as info:
            grant_reviewers(review, reviewers=["dora", name])
        assert why in str(info.value)
        assert repr(name) in str(info.value)
        with review.engine.connect() as conn:
            roles = set(conn.exec_driver_sql("SELECT rolname FROM pg_roles").scalars())
    assert "dora" not in roles  # refused as a whole: nothing created


def test_a_database_name_with_quotes_is_quoted_not_injected(pg_server):
    name = 'rev"x; --'
    pg_server.psql("postgres", f'CREATE DATABASE "{name.replace(chr(34), chr(34) * 2)}"')
    url = pg_server.url("postgres").rsplit("/", 1)[0] + "/" + quote(name, safe="")
    with open_review(url) as review:
        assert review.engine.url.database == name
        report = grant_reviewers(review, reviewers=["erin"])
        assert ("erin", "es_reviewer") in report.granted
        with review.engine.connect() as conn:
            allowed = conn.exec_driver_sql(
                "SELECT has_database_privilege('es_reviewer', %s, 'CONNECT')", (name,)).scalar()
    assert allowed is True


def test_a_read_only_server_session_is_reported_as_read_only(pg_url):
    _seeded(pg_url)
    read_only = pg_url + "?options=" + quote("-c default_transaction_read_only=on")
    with open_review(read_only, create=False) as review:
        assert review.count("records") == 3
        with pytest.raises(StoreError, match="the review store is read-only") as info:
            review.add_decision("before:2", "title_abstract", "exclude", reviewer="ann",
                                reason="TA-POP")
    assert "connection lost" not in str(info.value)
