"""The command line: help everywhere, one-line errors, init/import/status/demo."""

from __future__ import annotations

import os
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


def test_demo_runs_into_output_folder(tmp_path):
    script = Path(sys.executable).with_name("evidence-synth")
    repo = Path(__file__).resolve().parents[1]
    out = tmp_path / "demo-output"
    completed = subprocess.run([str(script), "demo", "--out", str(out)], capture_output=True,
                               text=True, cwd=repo, check=False,
                               env=dict(os.environ, MPLBACKEND="Agg"))
    assert completed.returncode == 0, completed.stderr
    assert (out / "review.db").is_file()
    assert (out / "status.csv").read_text().count("\n") >= 3
    assert demo_dir().is_dir()


def test_init_with_protocol_snapshots_it(runner, tmp_path):
    from evidence_synth import open_review
    from evidence_synth.protocol import load_protocol

    repo = Path(__file__).resolve().parents[1]
    protocol = repo / "protocols" / "irregular-migration-egm-update.yaml"
    store = tmp_path / "review.db"
    result = runner.invoke(cli, ["init", str(store), "--protocol", str(protocol)])
    assert result.exit_code == 0, result.output
    expected = load_protocol(protocol)
    assert f"sha256 {expected.sha256[:12]}" in result.output
    with open_review(store) as review:
        assert review.protocol.sha256 == expected.sha256


def test_init_with_broken_protocol_fails_cleanly(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\nreview: {id: x}\n")
    result = runner.invoke(cli, ["init", str(tmp_path / "r.db"), "--protocol", str(bad)])
    assert result.exit_code == 1
    assert "bad.yaml" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.db").exists()
