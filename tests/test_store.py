"""The review store: schema, records round trip, events, transactions, versions."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import DuplicateImportError, StoreError
from evidence_synth.store import schema

RIS_RECORD = """TY  - JOUR
AU  - Kovacs, Anna
AU  - Marin, Luca
TI  - Border fences and irregular crossings {n}
PY  - 2021
T2  - Journal of Development Economics
DO  - 10.5555/es-test.{n}
AB  - Synthetic abstract number {n} about fences and crossings.
ER  -

"""


def _records(n: int = 3) -> pd.DataFrame:
    return records_from_dicts(
        {
            "title": f"Study {i}",
            "authors": ["Kovacs, Anna", "Marin, Luca"],
            "keywords": ["border", "fence"],
            "year": 2020 + i,
            "doi": f"https://doi.org/10.5555/ABC.{i}",
            "journal": "World Development",
            "raw": {"TI": [f"Study {i}"], "AB": ["first", "© copyright notice"]},
        }
        for i in range(n)
    )


@pytest.fixture
def review(store_url):
    """A fresh store on each backend (SQLite file, PostgreSQL database)."""
    with open_review(store_url) as store:
        yield store


def test_new_store_has_current_schema_and_wal(tmp_path):
    path = tmp_path / "r.db"
    with open_review(path) as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with open_review(path, create=False) as again:
        assert again.schema_version == schema.SCHEMA_VERSION


def test_missing_store_is_not_created_when_create_false(tmp_path):
    with pytest.raises(StoreError, match=r"no review store here \(no such file\); create one"):
        open_review(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_newer_schema_version_is_refused(tmp_path):
    path = tmp_path / "r.db"
    with open_review(path) as store, store.engine.begin() as conn:
        conn.execute(schema.meta.update().values(value="99"))
    with pytest.raises(StoreError, match="schema version 99 is newer"):
        open_review(path)


def test_records_round_trip_keeps_every_field(review):
    stored = review.add_records(_records(), source={"source_id": "scopus-1",
                                                    "database": "Scopus"})
    back = review.records()
    assert list(back["record_id"]) == ["scopus-1:1", "scopus-1:2", "scopus-1:3"]
    assert back["doi"].tolist() == ["10.5555/abc.0", "10.5555/abc.1", "10.5555/abc.2"]
    assert back.loc[1, "authors"] == ["Kovacs, Anna", "Marin, Luca"]
    assert back.loc[2, "raw"] == {"TI": ["Study 2"], "AB": ["first", "© copyright notice"]}
    assert back["year"].tolist() == [2020, 2021, 2022]
    pd.testing.assert_frame_equal(back, stored)
    sources = review.sources()
    assert sources.loc[0, "record_count"] == 3
    assert sources.loc[0, "kind"] == "database"


def test_same_file_twice_is_refused_unless_allowed(review):
    source = {"source_id": "a", "database": "Scopus", "file_name": "x.ris", "file_sha256": "f0"}
    review.add_records(_records(1), source=source)
    with pytest.raises(DuplicateImportError, match="already imported as source 'a'"):
        review.add_records(_records(1), source={**source, "source_id": "b"})
    review.add_records(_records(1), source={**source, "source_id": "b"}, allow_duplicate=True)
    assert review.count("records") == 2


def test_taken_source_id_is_refused(review):
    review.add_records(_records(1), source={"source_id": "a", "database": "Scopus"})
    with pytest.raises(StoreError, match="source_id 'a' already exists"):
        review.add_records(_records(1), source={"source_id": "a", "database": "WoS"})


@pytest.mark.parametrize("table", ["decision_events", "pair_decisions"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET reviewer = 'mallory'", "DELETE FROM {t}"])
def test_event_tables_refuse_update_and_delete(review, table, statement):
    review.add_records(_records(2), source={"source_id": "s", "database": "Scopus"})
    review.add_decision("s:1", "title_abstract", "include", reviewer="ann")
    review.add_pair_decision("s:1", "s:2", "distinct", reviewer="ann")
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), review.engine.begin() as conn:
        conn.exec_driver_sql(statement.format(t=table))
    assert review.count(table) == 1
    assert review.decisions()["reviewer"].tolist() == ["ann"]


def test_decisions_are_validated_before_anything_is_written(review):
    review.add_records(_records(2), source={"source_id": "s", "database": "Scopus"})
    good = {"record_id": "s:1", "stage": "title_abstract", "decision": "exclude",
            "reviewer": "ann", "reason": "TA-POP"}
    with pytest.raises(StoreError, match="decision at title_abstract must be one of"):
        review.add_decisions([good, {**good, "decision": "retrieved"}])
    with pytest.raises(StoreError, match=r"reviewer .* is required"):
        review.add_decisions([{**good, "reviewer": " "}])
    with pytest.raises(StoreError, match="unknown record_id"):
        review.add_decisions([good, {**good, "record_id": "s:99"}])
    assert review.count("decision_events") == 0
    review.add_decisions([good, {**good, "record_id": "s:2", "actor": "rule"}])
    events = review.decisions(stage="title_abstract")
    assert events["actor"].tolist() == ["human", "rule"]
    assert events["reason"].tolist() == ["TA-POP", "TA-POP"]


def test_pair_decisions_latest_wins(review):
    review.add_records(_records(2), source={"source_id": "s", "database": "Scopus"})
    review.add_pair_decision("s:2", "s:1", "match", reviewer="ann")
    review.add_pair_decision("s:1", "s:2", "distinct", reviewer="bob")
    latest = review.pair_decisions()
    assert latest[["record_id_1", "record_id_2", "decision"]].values.tolist() == [
        ["s:1", "s:2", "distinct"]
    ]
    assert len(review.pair_decisions(latest=False)) == 2


def test_duplicate_groups_newest_run(review):
    review.add_records(_records(3), source={"source_id": "s", "database": "Scopus"})
    first = pd.DataFrame({"record_id": ["s:1", "s:2", "s:3"], "group_id": ["g1", "g1", "g3"],
                          "is_primary": [True, False, True]})
    review.save_duplicate_groups(first, params={"threshold": 0.9})
    second = first.assign(group_id=["g1", "g2", "g3"], is_primary=True)
    run = review.save_duplicate_groups(second)
    groups = review.duplicate_groups()
    assert set(groups["run_id"]) == {run}
    assert groups["group_id"].tolist() == ["g1", "g2", "g3"]
    assert review.duplicate_groups(run_id=run - 1)["group_id"].tolist() == ["g1", "g1", "g3"]


def test_extraction_rows_detect_conflicting_edits(review):
    assert review.save_extraction_row("r1", {"yi": 0.1}, study_id="st1", extractor="ann") == 1
    with pytest.raises(StoreError, match="exists; pass expected_version"):
        review.save_extraction_row("r1", {"yi": 0.2}, study_id="st1", extractor="bob")
    assert review.save_extraction_row("r1", {"yi": 0.2}, study_id="st1", extractor="ann",
                                      expected_version=1) == 2
    with pytest.raises(StoreError, match="edit conflict, expected version 1, found version 2"):
        review.save_extraction_row("r1", {"yi": 0.3}, study_id="st1", extractor="bob",
                                   expected_version=1)
    rows = review.extraction_rows()
    assert rows.loc[0, "data"] == {"yi": 0.2}
    assert rows.loc[0, "version"] == 2


def test_status_counts_latest_decision_per_stage(review):
    review.add_records(_records(3), source={"source_id": "s", "database": "Scopus"})
    review.add_decision("s:1", "title_abstract", "exclude", reviewer="ann", reason="TA-POP")
    review.add_decision("s:1", "title_abstract", "include", reviewer="ann")
    review.add_decision("s:2", "title_abstract", "include", reviewer="ann")
    status = review.status()
    assert status.loc[0, "records"] == 3
    assert status.loc[0, "title_abstract:include"] == 2
    assert "title_abstract:exclude" not in status.columns


def test_import_file_records_prisma_s_fields(review, tmp_path):
    path = tmp_path / "search.ris"
    path.write_text("".join(RIS_RECORD.format(n=n) for n in range(3)), encoding="utf-8")
    frame = review.import_file(path, database="Scopus", platform="Elsevier",
                               searched_on="2025-03-01", query='TITLE-ABS-KEY("border")')
    assert len(frame) == 3
    source = review.sources().iloc[0]
    assert source["source_id"] == "scopus-1"
    assert source["record_count"] == 3
    assert source["query"] == 'TITLE-ABS-KEY("border")'
    assert source["searched_on"] == "2025-03-01"
    assert len(source["file_sha256"]) == 64
    assert review.records()["title"].tolist()[0] == "Border fences and irregular crossings 0"


_KILLED_IMPORT = textwrap.dedent(
    """
    import sys, time
    from evidence_synth.store import review as R

    original = R.Review._insert_records

    def halfway_then_hang(self, conn, frame):
        original(self, conn, frame.iloc[: len(frame) // 2])
        seen = conn.exec_driver_sql("SELECT count(*) FROM records").scalar()
        print("HALFWAY", seen, flush=True)
        time.sleep(120)

    R.Review._insert_records = halfway_then_hang
    R.open_review(sys.argv[1]).import_file(sys.argv[2], database="Web of Science")
    """
)


def test_killed_import_leaves_store_unchanged(tmp_path):
    db = tmp_path / "review.db"
    with open_review(db) as store:
        store.add_records(_records(2), source={"source_id": "before", "database": "Scopus"})
        before = store.records()
    ris = tmp_path / "big.ris"
    ris.write_text("".join(RIS_RECORD.format(n=n) for n in range(2000)), encoding="utf-8")
    script = tmp_path / "kill_me.py"
    script.write_text(_KILLED_IMPORT)
    child = subprocess.Popen([sys.executable, str(script), str(db), str(ris)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=tmp_path)
    try:
        line = child.stdout.readline()
        assert line.startswith("HALFWAY"), child.stderr.read()
        assert int(line.split()[1]) == 2 + 1000  # rows were written inside the transaction
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with open_review(db) as store:
        assert store.sources()["source_id"].tolist() == ["before"]
        pd.testing.assert_frame_equal(store.records(), before)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def test_retried_event_with_same_uid_is_stored_once(review):
    review.add_records(_records(1), source={"source_id": "s", "database": "Scopus"})
    event = {"record_id": "s:1", "stage": "title_abstract", "decision": "include",
             "reviewer": "ann", "event_uid": "ann-0001"}
    first = review.add_decisions([event])
    assert review.add_decisions([event]) == first
    assert review.count("decision_events") == 1
    with pytest.raises(StoreError, match="already used for a different decision"):
        review.add_decisions([{**event, "decision": "exclude"}])


def test_import_map_keeps_framework_and_codes(review):
    from evidence_synth.datasets import demo_dir

    emap = review.import_map(demo_dir() / "previous_map_3ie.html", searched_on="2024-01-31")
    assert review.sources()["kind"].tolist() == ["previous_version"]
    assert review.count("records") == 8
    assert emap.records["record_id"].str.startswith("3ie-evidence-gap-map-1:").all()
    framework = review.map_framework()
    # 2 header nodes + 7 intervention rows + 6 outcome columns (5 of 3ie, "Remittances")
    # + 2 filters with 2 + 8 options
    assert len(framework) == 2 + 7 + 6 + 2 + 2 + 8
    codes = review.map_codes()
    assert len(codes) == 4 * 8 + 3  # row, design, country and one to two outcome columns
    assert set(codes["record_id"]) <= set(review.records()["record_id"])
    assert codes["known"].all()


def test_evidence_map_is_rebuilt_from_the_store(review):
    from evidence_synth.datasets import demo_dir

    imported = review.import_map(demo_dir() / "previous_map_3ie.html", source_id="egm")
    rebuilt = review.evidence_map()
    pd.testing.assert_frame_equal(rebuilt.matrix(), imported.matrix())
    assert rebuilt.records["record_id"].tolist() == imported.records["record_id"].tolist()
    with pytest.raises(StoreError, match="holds no imported map"):
        review.evidence_map(source_id="nope")


def test_map_codes_of_studies_missing_from_the_map_are_not_stored_and_said(review):
    from evidence_synth.errors import DataQualityWarning

    path = Path(__file__).parent / "fixtures" / "io" / "dep_map_small.json"
    with pytest.warns(DataQualityWarning) as caught:
        emap = review.import_map(path)
    messages = [str(w.message) for w in caught]
    assert any("not in project_records (e.g. 3ie:5999); kept in cells" in m for m in messages)
    assert any(re.search(r"2 code\(s\) of 1 stud\(y/ies\) that are not among the map's "
                         r"records \(3ie:5999\) not stored", m) for m in messages), messages
    assert review.count("records") == 3
    assert review.count("record_codes") == len(emap.codes) == 9
    notes = json.loads(review.sources()["notes"].iloc[0])
    assert any("3ie:5999" in w and "not stored" in w for w in notes["warnings"])
