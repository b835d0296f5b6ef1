"""The command line answers at once: ``--help`` loads no heavy library; progress bars."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pytest

from evidence_synth import progress
from evidence_synth.cli import cli

#: Libraries a ``--help`` must not load (each costs tenths of a second or more).
HEAVY = ("pandas", "numpy", "scipy", "sklearn", "matplotlib", "sqlalchemy", "openpyxl",
         "jsonschema", "rapidfuzz", "yaml")


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


COMMANDS = [(), *_commands(cli)]

_PROBE = """
import json, sys
from evidence_synth.cli import main
loaded = {}
for args in json.loads(sys.argv[1]):
    try:
        main([*args, "--help"])
    except SystemExit as exc:
        assert exc.code in (0, None), (args, exc.code)
    loaded[" ".join(args) or "(top)"] = sorted(
        m for m in json.loads(sys.argv[2]) if m in sys.modules)
print(json.dumps(loaded))
"""


def test_help_of_every_command_loads_no_heavy_library():
    # One fresh interpreter: each --help in turn must leave the heavy modules unloaded.
    completed = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(COMMANDS), json.dumps(HEAVY)],
        capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    loaded = json.loads(completed.stdout.strip().splitlines()[-1])
    assert len(loaded) == len(COMMANDS)
    assert {k: v for k, v in loaded.items() if v} == {}


def test_public_names_still_import_lazily():
    code = ("import sys, evidence_synth as es; assert 'pandas' not in sys.modules; "
            "from evidence_synth import open_review, Review; "
            "from evidence_synth.store import STAGE_DECISIONS; "
            "assert 'sqlalchemy' in sys.modules and callable(open_review); print(Review)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               check=False)
    assert completed.returncode == 0, completed.stderr
    assert "Review" in completed.stdout
    import evidence_synth

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        evidence_synth.nope  # noqa: B018


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def terminal(monkeypatch):
    """Standard error as a terminal; call it in the test body (pytest's capture swaps
    ``sys.stderr`` between fixture set-up and the test)."""
    monkeypatch.setattr(progress, "DELAY", 0.0)
    progress.set_quiet(False)

    def install() -> _Terminal:
        stream = _Terminal()
        monkeypatch.setattr(sys, "stderr", stream)
        return stream

    yield install
    progress.set_quiet(False)


def test_steps_bar_shows_each_phase_on_a_terminal(terminal):
    stream = terminal()
    with progress.steps("job", ["read", "score", "write"]) as bar:
        bar.step("read")
        bar.done("read")
        time.sleep(1.2)  # the ticker redraws the running phase with its elapsed time
        bar.step("write")
    text = stream.getvalue()
    assert "job" in text and "2/3" in text and "write" in text
    assert text.count("1/3") >= 2  # drawn when "score" started, redrawn while it ran


def test_no_bar_when_quiet_or_not_a_terminal(terminal, monkeypatch):
    stream = terminal()
    with progress.quiet(), progress.steps("job", ["a", "b"]) as bar:
        bar.step("b")
    assert stream.getvalue() == ""
    assert progress.enabled()
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert not progress.enabled()
    assert list(progress.bar(range(3), desc="x")) == [0, 1, 2]


def test_cli_quiet_flag_turns_bars_off(terminal):
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["--quiet", "status", "--help"])
    assert result.exit_code == 0
    terminal()
    assert not progress.enabled()
