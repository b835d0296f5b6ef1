"""Same records, decisions, protocol and random_state: the same queue, also above 2,000
records where the ranker refits in a background thread (b18).

Before, a background refit was swapped in on whichever call found it finished, so the
order a reviewer saw depended on how fast they clicked. Now a refit started after the
``k``-th retraining point is applied at the next one (waiting for it only if it is not
ready yet), so the queue depends on the decisions alone.
"""

from __future__ import annotations

import numpy as np
import pytest

from evidence_synth import open_review
from evidence_synth.columns import records_from_dicts
from evidence_synth.screen import Screening
from evidence_synth.screen._refit import _BACKGROUND_FROM

WORDS = ["border", "frontex", "asylum", "migrant", "visa", "return", "readmission", "camp",
         "smuggling", "coast", "guard", "labour", "remittance", "health", "school", "price",
         "bird", "database", "cloud", "cell", "stock", "market", "hospital", "surgery",
         "forest", "river", "climate", "energy"]
RELEVANT = {"border", "frontex", "asylum", "migrant", "readmission", "smuggling"}


def _records(n: int) -> tuple[list[dict], set[str]]:
    rng = np.random.default_rng(7)
    rows, relevant = [], set()
    for i in range(n):
        words = rng.choice(WORDS, size=6)
        rid = f"r{i}"
        rows.append({"record_id": rid, "title": " ".join(words[:4]),
                     "abstract": " ".join(words)})
        if len(RELEVANT & set(words[:4])) >= 2:
            relevant.add(f"db:{rid}")
    return rows, relevant


@pytest.fixture(scope="module")
def pool():
    return _records(_BACKGROUND_FROM + 100)


def _screen(folder, pool, *, background, pace) -> list[str]:
    rows, relevant = pool
    folder.mkdir()
    review = open_review(folder / "review.db")
    review.add_records(records_from_dicts(rows), source={"source_id": "db", "database": "T"})
    session = Screening(review, reviewer="ana", retrain_every=4, background=background,
                        random_state=3)
    shown = []
    try:
        for _ in range(24):
            rid = session.next(1).record_ids[0]
            shown.append(rid)
            session.decide(rid, "include" if rid in relevant else "exclude")
            if pace == "slow" and session._refit is not None:
                session._refit[0].join()  # a reviewer who reads slowly: the refit is done
        shown += session.queue()["record_id"].head(50).tolist()
    finally:
        review.close()
    return shown


def test_background_refits_give_the_same_queue_at_any_pace(tmp_path, pool):
    fast = _screen(tmp_path / "fast", pool, background="auto", pace="fast")
    slow = _screen(tmp_path / "slow", pool, background="auto", pace="slow")
    assert fast == slow


def test_without_background_refits_the_queue_is_the_same_every_time(tmp_path, pool):
    first = _screen(tmp_path / "one", pool, background=False, pace="fast")
    again = _screen(tmp_path / "two", pool, background=False, pace="slow")
    assert first == again
    assert len(set(first[:24])) == 24  # nothing shown twice


def test_simulate_and_the_command_line_never_refit_in_the_background(tmp_path, pool,
                                                                    monkeypatch):
    import threading

    import pandas as pd
    from click.testing import CliRunner

    from evidence_synth.cli import cli
    from evidence_synth.screen import simulate

    def no_thread(self):
        raise AssertionError(f"a thread was started: {self.name}")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    rows, relevant = pool
    records = pd.DataFrame(rows[:300])
    labels = [int(f"db:{r['record_id']}" in relevant) for r in rows[:300]]
    assert len(simulate(records, labels, stopping=False).order) == 300
    # the command line on a pool above the background threshold, after imported decisions
    review = open_review(tmp_path / "review.db")
    review.add_records(records_from_dicts(rows), source={"source_id": "db", "database": "T"})
    review.close()
    first = [f"db:{r['record_id']}" for r in rows[:12]]
    pd.DataFrame({"record_id": first, "decision": [
        "include" if r in relevant else "exclude" for r in first]}).to_csv(
        tmp_path / "ana.csv", index=False)
    result = CliRunner().invoke(cli, [
        "screen", str(tmp_path / "review.db"), "--reviewer", "ana", "--import-decisions",
        str(tmp_path / "ana.csv"), "--export-queue", str(tmp_path / "queue.csv")])
    assert result.exit_code == 0, result.output
    assert len(pd.read_csv(tmp_path / "queue.csv")) == len(rows) - 12
