"""The command line: help everywhere, one-line errors, init/import/status/demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_synth.cli import cli
from evidence_synth.datasets import demo_dir

RIS = """TY  - JOUR
AU  - Kovacs, Anna
TI  - Border fences and irregular crossings
PY  - 2021
ER  -
"""


@pytest.fixture
def runner():
    return CliRunner()


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


@pytest.mark.parametrize("command", [(), *_commands(cli)], ids=lambda c: " ".join(c) or "top")
def test_every_command_has_help(runner, command):
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_console_script_is_installed():
    script = Path(sys.executable).with_name("evidence-synth")
    completed = subprocess.run([str(script), "--help"], capture_output=True, text=True,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    assert "import" in completed.stdout


def test_init_import_status(runner, tmp_path):
    store = str(tmp_path / "review.db")
    export = tmp_path / "search.ris"
    export.write_text(RIS, encoding="utf-8")
    assert runner.invoke(cli, ["init", store]).exit_code == 0
    result = runner.invoke(cli, ["import", store, str(export), "--database", "Scopus",
                                 "--searched-on", "2025-03-01", "--query", "border*"])
    assert result.exit_code == 0, result.output
    assert "1 records imported as source scopus-1" in result.output
    result = runner.invoke(cli, ["status", store])
    assert "scopus-1" in result.output
    assert "total records: 1" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["status", "{tmp}/absent.db"], "absent.db: no review store here"),
    (["import", "{tmp}/review.db", "{tmp}/missing.ris", "--database", "X"],
     "'{tmp}/missing.ris' does not exist"),
    (["import", "{tmp}/review.db", "{tmp}/empty.ris", "--database", "X"], "empty.ris"),
    (["import", "{tmp}/review.db", "{tmp}/search.ris"], "Missing option '--database'"),
    (["init", "{tmp}/review.db"], "review.db: already exists"),
])
def test_bad_input_gives_one_line_error_and_nonzero_exit(runner, tmp_path, args, message):
    (tmp_path / "empty.ris").write_bytes(b"")
    (tmp_path / "search.ris").write_text(RIS, encoding="utf-8")
    runner.invoke(cli, ["init", str(tmp_path / "review.db")])
    result = runner.invoke(cli, [a.format(tmp=tmp_path) for a in args])
    assert result.exit_code != 0
    assert message.format(tmp=tmp_path) in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_duplicate_import_is_refused_by_the_cli(runner, tmp_path):
    store = str(tmp_path / "review.db")
    export = tmp_path / "search.ris"
    export.write_text(RIS, encoding="utf-8")
    runner.invoke(cli, ["init", store])
    runner.invoke(cli, ["import", store, str(export), "--database", "Scopus"])
    again = runner.invoke(cli, ["import", store, str(export), "--database", "Scopus"])
    assert again.exit_code == 1
    assert "already imported" in again.output
    assert "--allow-duplicate" in again.output
    forced = runner.invoke(cli, ["import", store, str(export), "--database", "Scopus",
                                 "--allow-duplicate"])
    assert forced.exit_code == 0


def _files_on_disk(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file())


def test_demo_runs_into_output_folder(demo_run, tmp_path):
    completed, out, elsewhere = demo_run
    assert completed.returncode == 0, completed.stderr
    assert f"demo finished: {_files_on_disk(out)} files in {out}" in completed.stdout
    assert not list(elsewhere.iterdir())
    for name in ("review.db", "dedup_pairs.csv", "agreement_title_abstract.csv",
                 "report/index.html", "report/prisma_flow.png", "report/prisma_flow.svg",
                 "report/prisma2020.csv", "report/gap_map.html", "report/gap_map.png",
                 "report/evidence_table.xlsx"):
        assert (out / name).is_file(), name
    assert list((out / "report" / "forest").glob("*.png"))
    counts = json.loads((out / "report" / "prisma_counts.json").read_text())
    # The example's truth: 42 records found, 18 duplicates (13 across the two searches and
    # 5 of studies already on the map), 1 rule exclusion, 1 full text not retrieved,
    # 10 new studies, 18 with the previous map.
    assert {k: counts[k] for k in ("identified", "duplicates", "excluded_automatic",
                                   "records_screened", "dbr_notretrieved_reports",
                                   "new_studies", "total_studies")} == {
        "identified": 42, "duplicates": 18, "excluded_automatic": 1, "records_screened": 23,
        "dbr_notretrieved_reports": 1, "new_studies": 10, "total_studies": 18}
    assert demo_dir().is_dir()
    report = CliRunner().invoke(cli, ["report", str(out / "review.db"), "--out",
                                      str(tmp_path / "again")])
    assert report.exit_code == 0, report.output
    assert f"({_files_on_disk(tmp_path / 'again')} files)" in report.output
    assert _files_on_disk(tmp_path / "again") == _files_on_disk(out / "report")
    assert (tmp_path / "again" / "gap_map_cells.csv").read_text().splitlines()[1:] == \
        (out / "report" / "gap_map_cells.csv").read_text().splitlines()[1:]



def test_dedup_on_a_review_stores_runs_and_person_decisions(runner, tmp_path):
    from evidence_synth import open_review

    store = str(tmp_path / "review.db")
    data = demo_dir()
    runner.invoke(cli, ["init", store])
    for name, database in (("scopus_search.ris", "Scopus"), ("wos_search.txt", "WoS")):
        assert runner.invoke(cli, ["import", store, str(data / name),
                                   "--database", database]).exit_code == 0
    queue = tmp_path / "queue.csv"
    result = runner.invoke(cli, ["dedup", "--review", store, "--queue-out", str(queue)])
    assert result.exit_code == 0, result.output
    assert "duplicate groups: 13" in result.output
    with open_review(store) as review:
        groups = review.duplicate_groups()
        records = review.records().set_index("record_id")
    # A person splits one merged pair: the decision is stored and wins on the re-run.
    merged = groups[~groups["is_primary"]].iloc[0]
    partner = groups[(groups["group_id"] == merged["group_id"]) & groups["is_primary"]].iloc[0]
    answered = tmp_path / "answered.csv"
    answered.write_text("record_id_1,record_id_2,decision\n"
                        f"{partner['record_id']},{merged['record_id']},distinct\n")
    again = runner.invoke(cli, ["dedup", "--review", store, "--queue-out", str(queue),
                                "--decisions", str(answered), "--reviewer", "ann"])
    assert again.exit_code == 0, again.output
    assert "duplicate groups: 12" in again.output
    with open_review(store) as review:
        assert review.pair_decisions()["reviewer"].tolist() == ["ann"]
        newest = review.duplicate_groups().set_index("record_id")["group_id"]
        assert newest[merged["record_id"]] != newest[partner["record_id"]]
        assert review.duplicate_groups()["run_id"].iloc[0] == 2
    assert len(records) == 42
    bad = tmp_path / "bad.csv"
    bad.write_text("record_id_1,record_id_2,decision\na,b,same\n")
    refused = runner.invoke(cli, ["dedup", "--review", store, "--queue-out", str(queue),
                                  "--decisions", str(bad), "--reviewer", "ann"])
    assert refused.exit_code != 0
    assert "bad.csv, line 2: decision must be match or distinct" in refused.output
