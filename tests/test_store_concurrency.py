"""Several processes writing decisions and extraction rows at once lose nothing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import StoreError

N_RECORDS = 10_000
N_PROCESSES = 8
BATCH = 25

_WRITER = textwrap.dedent(
    """
    import sys
    from evidence_synth import open_review

    url, worker, n_workers, n_records, batch = sys.argv[1], *map(int, sys.argv[2:6])
    review = open_review(url, create=False)
    mine = [i for i in range(n_records) if i % n_workers == worker]
    for start in range(0, len(mine), batch):
        review.add_decisions([
            {"record_id": f"s:{i + 1}", "stage": "title_abstract",
             "decision": "include" if i % 7 == 0 else "exclude",
             "reason": None if i % 7 == 0 else "TA-DESIGN",
             "reviewer": f"reviewer{worker}", "event_uid": f"w{worker}-{i}"}
            for i in mine[start : start + batch]
        ])
    print("done", len(mine), flush=True)
    """
)


def _decisions(worker: int) -> list[dict]:
    """What the writer script writes for ``worker``, for the serial reference run."""
    return [
        {"record_id": f"s:{i + 1}", "stage": "title_abstract",
         "decision": "include" if i % 7 == 0 else "exclude",
         "reason": None if i % 7 == 0 else "TA-DESIGN",
         "reviewer": f"reviewer{worker}", "event_uid": f"w{worker}-{i}"}
        for i in range(N_RECORDS) if i % N_PROCESSES == worker
    ]


def _seed(url: str) -> None:
    with open_review(url) as review:
        records = records_from_dicts({"title": f"Record {i}"} for i in range(N_RECORDS))
        review.add_records(records, source={"source_id": "s", "database": "Scopus"})


def _counts(url: str) -> pd.DataFrame:
    with open_review(url, create=False) as review:
        events = review.decisions()
    return events.groupby(["stage", "decision", "reason"], dropna=False).size()


def test_eight_processes_write_ten_thousand_decisions_exactly_once(store_url, tmp_path):
    _seed(store_url)
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    workers = [
        subprocess.Popen([sys.executable, str(script), store_url, str(w), str(N_PROCESSES),
                          str(N_RECORDS), str(BATCH)], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(N_PROCESSES)
    ]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0] * N_PROCESSES, outputs
    with open_review(store_url, create=False) as review:
        events = review.decisions()
    assert len(events) == N_RECORDS
    assert events["record_id"].is_unique
    assert events["event_uid"].is_unique
    assert sorted(events["record_id"]) == sorted(f"s:{i + 1}" for i in range(N_RECORDS))

    serial = str(tmp_path / "serial.db")
    _seed(serial)
    with open_review(serial) as review:
        for worker in range(N_PROCESSES):
            review.add_decisions(_decisions(worker))
    pd.testing.assert_series_equal(_counts(store_url), _counts(serial))
    try:
        from evidence_synth.report import prisma_counts
    except ImportError:  # reporting not built in this checkout
        return
    with open_review(store_url) as a, open_review(serial) as b:
        concurrent, serial_counts = prisma_counts(a).to_dict(), prisma_counts(b).to_dict()
    concurrent.pop("provenance", None)
    serial_counts.pop("provenance", None)
    assert concurrent == serial_counts


_EDITOR = textwrap.dedent(
    """
    import sys
    from evidence_synth import open_review
    from evidence_synth.errors import StoreError

    url, name = sys.argv[1], sys.argv[2]
    review = open_review(url, create=False)
    try:
        review.save_extraction_row("est-1", {"yi": name}, study_id="st", extractor=name,
                                   expected_version=1)
        print("saved")
    except StoreError as exc:
        print("conflict", exc)
    """
)


def test_concurrent_edits_of_one_extraction_row_are_detected(store_url, tmp_path):
    with open_review(store_url) as review:
        review.save_extraction_row("est-1", {"yi": "first"}, study_id="st", extractor="ann")
    script = tmp_path / "editor.py"
    script.write_text(_EDITOR)
    editors = [subprocess.Popen([sys.executable, str(script), store_url, f"editor{i}"],
                                cwd=tmp_path, stdout=subprocess.PIPE, text=True)
               for i in range(4)]
    results = [e.communicate(timeout=120)[0].split()[0] for e in editors]
    assert sorted(results) == ["conflict", "conflict", "conflict", "saved"]
    with open_review(store_url) as review:
        row = review.extraction_rows().iloc[0]
        assert row["version"] == 2
        winner = results.index("saved")
        assert row["data"] == {"yi": f"editor{winner}"}
        with pytest.raises(StoreError, match="edit conflict"):
            review.save_extraction_row("est-1", {"yi": "late"}, study_id="st",
                                       extractor="ann", expected_version=1)
