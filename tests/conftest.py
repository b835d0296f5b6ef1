"""Shared test fixtures and the installed-wheel check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import evidence_synth

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under `tasks.py test`, refuse to test the source tree instead of the wheel."""
    if os.environ.get("EVIDENCE_SYNTH_REQUIRE_INSTALLED") == "1":
        package = Path(evidence_synth.__file__).resolve().parent
        if package.is_relative_to(REPO):
            raise pytest.UsageError(
                f"evidence_synth imported from the source tree ({package}), "
                "expected the installed wheel"
            )


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the repository; skips when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data not present (real-data tests need it beside the repo)")
    return SHARED
