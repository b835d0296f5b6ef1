#!/usr/bin/env python3
"""Set-up and task runner that needs nothing but Python 3.11.

    python3 tasks.py demo --out demo-output   # whole pipeline on the bundled example
    python3 tasks.py test                     # build the wheel, install it, ruff, pytest
    python3 tasks.py bench                    # benchmarks (pytest -m benchmark)
    python3 tasks.py sync-review              # copy the review's files into the package

Each task creates the virtual environment ``.venv`` (or ``$EVIDENCE_SYNTH_VENV``) on first
use. ``test`` installs the *built wheel* with its ``test`` extra, not the source tree, so a
file missing from the wheel fails the tests; pytest then runs with ``--import-mode=importlib``
and the check in ``tests/conftest.py`` that the package comes from the installed wheel.
``sync-review`` copies the editable review files (``protocols/``, ``screening/``,
``extraction/``) into the package data the wheel ships (``evidence_synth/reviews/``);
``tests/test_review_files.py`` fails while the two differ.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("EVIDENCE_SYNTH_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
REVIEW = "irregular-migration-egm-update"
#: The migration review's editable files, copied to evidence_synth/reviews/<REVIEW>/.
REVIEW_FILES = (
    f"protocols/{REVIEW}.yaml",
    "screening/criteria.yaml",
    "screening/rules.yaml",
    "extraction/form.yaml",
    "extraction/unintended-effects-codebook.yaml",
)


def _run(*args: object, **kwargs: object) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], check=True, **kwargs)  # type: ignore[arg-type]


def _venv() -> Path:
    python = BIN / "python"
    if not python.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
        _run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    return python


def _install_wheel(extras: str = "") -> Path:
    python = _venv()
    _run(python, "-m", "pip", "install", "--quiet", "build")
    with tempfile.TemporaryDirectory() as dist:
        _run(python, "-m", "build", "--wheel", "--outdir", dist, ROOT)
        wheel = next(Path(dist).glob("evidence_synth-*.whl"))
        _run(python, "-m", "pip", "install", "--quiet", "--force-reinstall", "--no-deps",
             wheel)
        _run(python, "-m", "pip", "install", "--quiet",
             f"{wheel}[{extras}]" if extras else wheel)
    return python


def demo(argv: list[str]) -> None:
    python = _install_wheel()
    _run(BIN / "evidence-synth", "demo", *(argv or ["--out", "demo-output"]))
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


def sync_review(argv: list[str]) -> None:
    if argv:
        sys.exit(f"sync-review takes no arguments, got {argv}")
    package = ROOT / "evidence_synth" / "reviews" / REVIEW
    for name in REVIEW_FILES:
        source, target = ROOT / name, package / name
        if target.is_file() and target.read_bytes() == source.read_bytes():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        print(f"copied {name} -> {target.relative_to(ROOT)}")


TASKS = {"demo": demo, "test": test, "bench": bench, "sync-review": sync_review}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in TASKS:
        print(__doc__)
        sys.exit(2)
    try:
        TASKS[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as exc:
        command = " ".join(str(a) for a in exc.cmd)
        print(f"tasks.py {sys.argv[1]}: `{command}` failed with exit status {exc.returncode}",
              file=sys.stderr)
        sys.exit(exc.returncode or 1)


if __name__ == "__main__":
    main()
