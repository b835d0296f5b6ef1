"""The `evidence-synth dedup` command on small hand-made CSVs."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from evidence_synth.cli.dedup import command

ROWS = [
    {"record_id": "a", "title": "Remote ischaemic preconditioning reduces myocardial injury",
     "authors": "Hausenloy, D. J.; Yellon, D. M.", "year": "2007", "journal": "Lancet",
     "volume": "370", "pages": "575-579", "doi": "10.1000/7001"},
    {"record_id": "b", "title": "Remote ischaemic preconditioning reduces myocardial injury",
     "authors": "Hausenloy, D. J.; Yellon, D. M.", "year": "2007", "journal": "Lancet",
     "volume": "370", "pages": "575-9", "doi": ""},
    {"record_id": "c", "title": "Remote ischaemic preconditioning reduces myocardial injury",
     "authors": "Hausenloy, D. J.; Yellon, D. M.", "year": "2007", "journal": "Lancet",
     "volume": "370", "pages": "575-579", "doi": "10.1000/7002"},
    {"record_id": "d", "title": "Vitamin D supplementation and fracture risk in older women",
     "authors": "Smith, A.", "year": "2011", "journal": "BMJ", "volume": "342",
     "pages": "1-9", "doi": ""},
]


def test_cli_writes_queue_and_groups(tmp_path):
    src = tmp_path / "records.csv"
    pd.DataFrame(ROWS).to_csv(src, index=False)
    queue, groups = tmp_path / "queue.csv", tmp_path / "groups.csv"
    result = CliRunner().invoke(command, [str(src), "--queue-out", str(queue),
                                          "--groups-out", str(groups)])
    assert result.exit_code == 0, result.output
    assert "records: 4" in result.output
    q = pd.read_csv(queue)
    assert list(q.columns[:2]) == ["record_id_1", "record_id_2"]
    assert ("a", "c") in set(zip(q.record_id_1, q.record_id_2, strict=True))
    g = pd.read_csv(groups).set_index("record_id")["group_id"]
    assert g["a"] != g["c"]
    assert g["d"] not in {g["a"], g["b"], g["c"]}

    # answer the queue: a and c are the same article after all, and the answer is kept
    q["decision"] = ["match" if (x, y) == ("a", "c") else "" for x, y in
                     zip(q.record_id_1, q.record_id_2, strict=True)]
    q.to_csv(tmp_path / "answers.csv", index=False)
    rerun = CliRunner().invoke(command, [str(src), "--queue-out", str(queue), "--groups-out",
                                         str(groups), "--decisions",
                                         str(tmp_path / "answers.csv")])
    assert rerun.exit_code == 0, rerun.output
    g = pd.read_csv(groups).set_index("record_id")["group_id"]
    assert g["a"] == g["c"]


def test_cli_bad_input_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    result = CliRunner().invoke(command, [str(bad), "--queue-out", str(tmp_path / "q.csv")])
    assert result.exit_code != 0
    assert "bad.csv" in result.output and "title" in result.output
    assert "Traceback" not in result.output


RIS = """TY  - JOUR
TI  - Remote ischaemic preconditioning reduces myocardial injury in cardiac surgery
AU  - Hausenloy, Derek J.
AU  - Yellon, Derek M.
PY  - 2007
JO  - Lancet
VL  - 370
SP  - 575
EP  - 579
DO  - 10.1016/S0140-6736(07)61296-3
ER  -

TY  - JOUR
TI  - REMOTE ISCHAEMIC PRECONDITIONING REDUCES MYOCARDIAL INJURY IN CARDIAC SURGERY.
AU  - Hausenloy, D. J.
AU  - Yellon, D. M.
PY  - 2007
JO  - Lancet
VL  - 370
SP  - 575
EP  - 9
ER  -
"""


def test_cli_reads_exports_through_the_import_stage(tmp_path):
    src = tmp_path / "search.ris"
    src.write_text(RIS)
    groups = tmp_path / "groups.csv"
    result = CliRunner().invoke(command, [str(src), "--queue-out", str(tmp_path / "q.csv"),
                                          "--groups-out", str(groups)])
    assert result.exit_code == 0, result.output
    assert "duplicate groups: 1" in result.output
    assert pd.read_csv(groups)["group_id"].nunique() == 1


def test_cli_review_applies_stored_decisions_on_every_rerun(tmp_path):
    from evidence_synth import open_review
    from evidence_synth.columns import records_from_dicts

    rows = [{**r, "authors": r["authors"].split("; "), "doi": r["doi"] or None} for r in ROWS]
    db = tmp_path / "review.db"
    with open_review(db) as review:
        review.add_records(records_from_dicts(rows),
                           source={"source_id": "s", "database": "test"})
    queue, groups = tmp_path / "queue.csv", tmp_path / "groups.csv"
    args = ["--review", str(db), "--queue-out", str(queue), "--groups-out", str(groups)]
    first = CliRunner().invoke(command, args)
    assert first.exit_code == 0, first.output
    g = pd.read_csv(groups).set_index("record_id")["group_id"]
    assert g["s:a"] == g["s:b"]
    answers = tmp_path / "answers.csv"
    pd.DataFrame({"record_id_1": ["s:a"], "record_id_2": ["s:b"],
                  "decision": ["distinct"]}).to_csv(answers, index=False)
    second = CliRunner().invoke(command, [*args, "--decisions", str(answers),
                                          "--reviewer", "ann"])
    assert second.exit_code == 0, second.output
    # a plain re-run, without --decisions, still applies the stored answer
    third = CliRunner().invoke(command, args)
    assert third.exit_code == 0, third.output
    assert "1 stored decisions applied" in third.output
    g = pd.read_csv(groups).set_index("record_id")["group_id"]
    assert g["s:a"] != g["s:b"]
    with open_review(db, create=False) as review:
        assert review.pair_decisions()["decision"].tolist() == ["distinct"]
