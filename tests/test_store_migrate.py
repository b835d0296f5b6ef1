"""Moving a review between SQLite and PostgreSQL loses nothing."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from evidence_synth import open_review
from evidence_synth.cli import cli
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import StoreError
from evidence_synth.store.copy import TABLES, copy_review, table_digest


def _fill(url: str) -> None:
    with open_review(url) as review:
        review.add_records(
            records_from_dicts({"title": f"Étude {i}", "authors": ["Müller, K", "Osei, A"],
                                "year": 2000 + i, "raw": {"TI": [f"Étude {i}"]}}
                               for i in range(50)),
            source={"source_id": "s", "database": "Scopus", "query": "border*"},
        )
        review.save_duplicate_groups(pd.DataFrame({
            "record_id": [f"s:{i}" for i in range(1, 51)],
            "group_id": [f"g{(i + 1) // 2}" for i in range(1, 51)],
            "is_primary": [i % 2 == 1 for i in range(1, 51)]}))
        review.add_pair_decision("s:1", "s:2", "match", reviewer="ann")
        review.add_decisions([{"record_id": f"s:{i}", "stage": "title_abstract",
                               "decision": "exclude", "reason": "TA-POP", "reviewer": "ann"}
                              for i in range(1, 30)])
        review.save_extraction_row("est-1", {"yi": -0.71, "vi": 0.03}, study_id="s:1",
                                   extractor="ann")


def test_sqlite_to_postgresql_and_back_is_lossless(tmp_path, pg_url):
    first, back = str(tmp_path / "first.db"), str(tmp_path / "back.db")
    _fill(first)
    runner = CliRunner()
    to_pg = runner.invoke(cli, ["migrate-store", first, pg_url])
    assert to_pg.exit_code == 0, to_pg.output
    assert "every table identical" in to_pg.output
    assert runner.invoke(cli, ["migrate-store", pg_url, back]).exit_code == 0
    with open_review(first) as a, open_review(pg_url) as b, open_review(back) as c:
        for table in TABLES:
            assert table_digest(a, table) == table_digest(b, table) == table_digest(c, table)
        assert table_digest(a, "records")[0] == 50
        assert table_digest(a, "decision_events")[0] == 29
        # sequences continue after the copied ids on PostgreSQL
        new_id = b.add_decision("s:40", "title_abstract", "include", reviewer="bob")
        assert new_id == 30


def test_non_empty_destination_is_refused(tmp_path):
    a, b = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    _fill(a)
    _fill(b)
    with open_review(a) as src, open_review(b) as dst, \
            pytest.raises(StoreError, match="destination is not empty"):
        copy_review(src, dst)
    result = CliRunner().invoke(cli, ["migrate-store", a, b])
    assert result.exit_code == 1
    assert "destination is not empty" in result.output
