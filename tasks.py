#!/usr/bin/env python3
"""Set-up and task runner that needs nothing but Python 3.11.

    python3 tasks.py demo --out demo-output   # whole pipeline on the bundled example
    python3 tasks.py test                     # build the wheel, install it, ruff, pytest
    python3 tasks.py bench                    # benchmarks (pytest -m benchmark)

Each task creates the virtual environment ``.venv`` (or ``$EVIDENCE_SYNTH_VENV``) on first
use. ``test`` installs the *built wheel* with its ``test`` extra, not the source tree, so a
file missing from the wheel fails the tests; pytest then runs with ``--import-mode=importlib``
and the check in ``tests/conftest.py`` that the package comes from the installed wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("EVIDENCE_SYNTH_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _run(*args: object, **kwargs: object) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kwargs)  # type: ignore[arg-type]


def _venv() -> Path:
    python = BIN / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    return python


def _install_wheel(extras: str) -> Path:
    python = _venv()
    _run(python, "-m", "pip", "install", "--quiet", "build")
    with tempfile.TemporaryDirectory() as dist:
        _run(python, "-m", "build", "--wheel", "--outdir", dist, ROOT)
        wheel = next(Path(dist).glob("evidence_synth-*.whl"))
        _run(python, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps",
             wheel)
        _run(python, "-m", "pip", "install", "--quiet", f"{wheel}[{extras}]")
    return python


def demo(argv: list[str]) -> None:
    python = _install_wheel("notebook")
    _run(BIN / "evidence-synth", "demo", *(argv or ["--out", "demo-output"]), cwd=ROOT)
    del python


def test(argv: list[str]) -> None:
    python = _install_wheel("dev")
    _run(BIN / "ruff", "check", "evidence_synth", "tests", "scripts", "benchmarks", "tasks.py",
         cwd=ROOT)
    env = dict(os.environ, EVIDENCE_SYNTH_REQUIRE_INSTALLED="1", MPLBACKEND="Agg")
    # The pytest script, not `python -m pytest`, which would put the source tree on sys.path.
    _run(BIN / "pytest", "--import-mode=importlib", "-p", "no:cacheprovider", *argv,
         cwd=ROOT, env=env)
    del python


def bench(argv: list[str]) -> None:
    python = _install_wheel("dev")
    env = dict(os.environ, MPLBACKEND="Agg")
    _run(BIN / "pytest", "--import-mode=importlib", "-m", "benchmark", "-s", *argv,
         cwd=ROOT, env=env)
    del python


TASKS = {"demo": demo, "test": test, "bench": bench}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        sys.exit(2)
    TASKS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
