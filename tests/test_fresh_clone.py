"""A fresh clone: the README's commands as written, with or without ../shared beside it."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Test modules (or single tests) that read ../shared/data.
SHARED_TESTS = (
    "tests/test_io_exports.py",
    "tests/test_io_egm.py",
    "tests/test_io_writers.py",
    "tests/test_io_benchmark.py",
    "tests/test_dedup.py::test_neuroimaging_precision_at_least_099",
    "tests/test_screen_simulate.py::test_cohen_triptans_default_ranker_and_stopping",
)


def _readme_quick_start() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Quick start.*?```bash\n(.*?)```", text, re.DOTALL)
    assert block, "README.md has no Quick start bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines()
            if line.strip()]


def test_conftest_accepts_a_wheel_in_the_repo_venv_and_refuses_the_source_tree(tmp_path):
    spec = importlib.util.spec_from_file_location("_conftest_under_test",
                                                  REPO / "tests" / "conftest.py")
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)
    repo = tmp_path / "clone"
    wheel = repo / ".venv" / "lib" / "python3.11" / "site-packages" / "evidence_synth"
    wheel.mkdir(parents=True)
    (repo / "evidence_synth").mkdir()
    check = conftest.imported_from_source_tree
    assert not check(wheel, repo)
    assert check(repo / "evidence_synth", repo)
    assert check(repo / "tests" / ".." / "evidence_synth", repo)
    assert not check(tmp_path / "elsewhere" / "evidence_synth", repo)


def test_shared_data_tests_skip_without_shared_beside_the_clone(tmp_path):
    clone = tmp_path / "clone"  # no tmp_path/shared beside it
    shutil.copytree(REPO / "tests", clone / "tests",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(REPO / "pyproject.toml", clone / "pyproject.toml")
    shutil.copyfile(REPO / "README.md", clone / "README.md")
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "--import-mode=importlib", "-p", "no:cacheprovider",
         "-q", "-rs", *SHARED_TESTS],
        cwd=clone, capture_output=True, text=True, check=False)
    summary = completed.stdout.strip().splitlines()[-1]
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "failed" not in summary and "error" not in summary
    skips = re.findall(r"SKIPPED \[(\d+)\] [^:]+:\d+: (.*)", completed.stdout)
    assert sum(int(n) for n, _ in skips) >= 60
    assert {reason for _, reason in skips} <= {
        "../shared/data not present",
        "../shared/data not present (the file list comes from its README)"}


def test_ci_runs_the_readme_commands_exactly_as_written():
    commands = _readme_quick_start()
    assert commands == ["python3 tasks.py demo --out demo-output", "python3 tasks.py test"]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    ran = [line.removeprefix("run ").strip() for line in ci.splitlines()
           if line.startswith("run ")]
    assert ran == commands
    # No environment a user would not have: the default .venv in the clone is used.
    assert not re.search(r"^\s*(export\s+)?EVIDENCE_SYNTH_\w+=", ci, re.MULTILINE)
    tasks = (REPO / "tasks.py").read_text(encoding="utf-8")
    assert 'ROOT / ".venv"' in tasks


def test_readme_quick_start_does_not_tie_the_demo_to_the_repository_root():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert "must be run from the repository root" not in text
    assert "docs/getting-started.md" in text
