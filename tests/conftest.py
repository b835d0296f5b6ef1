"""Shared test fixtures and the installed-wheel check."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import evidence_synth

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def imported_from_source_tree(package: Path, repo: Path = REPO) -> bool:
    """True when ``package`` (the imported ``evidence_synth`` folder) is the source tree's.

    An installed wheel may sit under the repository (``tasks.py`` keeps its virtual
    environment in ``<repo>/.venv``), so only ``<repo>/evidence_synth`` itself counts.
    """
    return package.resolve() == (repo / "evidence_synth").resolve()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under `tasks.py test`, refuse to test the source tree instead of the wheel."""
    if os.environ.get("EVIDENCE_SYNTH_REQUIRE_INSTALLED") == "1":
        package = Path(evidence_synth.__file__).resolve().parent
        if imported_from_source_tree(package):
            raise pytest.UsageError(
                f"evidence_synth imported from the source tree ({package}), "
                "expected the installed wheel"
            )


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory):
    """``evidence-synth demo --out DIR`` run once per session from an empty folder.

    Returns ``(completed_process, out_dir, working_dir)``; tests read the demo's outputs
    and must not change them.
    """
    import subprocess
    import sys

    root = tmp_path_factory.mktemp("demo")
    elsewhere = root / "elsewhere"  # not the repository: the review files ship with it
    elsewhere.mkdir()
    out = root / "demo-output"
    script = Path(sys.executable).with_name("evidence-synth")
    completed = subprocess.run([str(script), "demo", "--out", str(out)], capture_output=True,
                               text=True, cwd=elsewhere, check=False,
                               env=dict(os.environ, MPLBACKEND="Agg"))
    return completed, out, elsewhere


@pytest.fixture(scope="session")
def review_rules():
    """The migration review's own ``screening/rules.yaml``."""
    from evidence_synth.screen import load_rules

    return load_rules(REPO / "screening" / "rules.yaml")


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the repository; skips when it is absent."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data not present (real-data tests need it beside the repo)")
    return SHARED


# -- a real PostgreSQL server for the store tests --------------------------------------


class PostgresServer:
    """A throw-away PostgreSQL cluster in a temporary directory, run as a non-root user.

    Uses Debian's ``postgresql`` binaries (``/usr/lib/postgresql/*/bin``); listens on
    127.0.0.1 (scram password auth) and on a unix socket in its directory (trust).
    """

    PASSWORD = "es-test-superuser-pw"

    def __init__(self, bindir: Path) -> None:
        import shutil
        import socket
        import tempfile

        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="es-pg-"))
        self.data = self.root / "data"
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as_user = [shutil.which("runuser") or "runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        import subprocess

        subprocess.run([*self._as_user, *args], check=True, capture_output=True, text=True)

    def init(self) -> None:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self.start()
        self.psql("postgres", f"ALTER USER postgres PASSWORD '{self.PASSWORD}'")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=60")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def psql(self, database: str, sql: str) -> None:
        self._run(str(self.bindir / "psql"), "-h", str(self.root), "-p", str(self.port),
                  "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qc", sql)

    def url(self, database: str, *, user: str = "postgres", password: str | None = None) -> str:
        password = self.PASSWORD if password is None and user == "postgres" else password
        auth = f"{user}:{password}" if password else user
        return f"postgresql+psycopg://{auth}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import uuid

        name = f"review_{uuid.uuid4().hex[:12]}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name

    def cleanup(self) -> None:
        import contextlib
        import shutil
        import subprocess

        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def _postgres_bindir() -> Path | None:
    configured = os.environ.get("EVIDENCE_SYNTH_PG_BINDIR")
    candidates = [Path(configured)] if configured else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
        if p.parent.name.isdigit() else 0)
    found = [c for c in candidates if (c / "initdb").exists()]
    return found[-1] if found else None


@pytest.fixture(scope="session")
def pg_server():
    """A running PostgreSQL server (skips when Debian's postgresql package is absent)."""
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries not found (apt-get install postgresql)")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg not installed (pip install 'evidence-synth[postgres]')")
    server = PostgresServer(bindir)
    server.init()
    yield server
    server.cleanup()


@pytest.fixture
def pg_url(pg_server) -> str:
    """URL of a fresh, empty database on the test server (superuser)."""
    return pg_server.url(pg_server.new_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    """A fresh review store location on each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "review.db")
    return request.getfixturevalue("pg_url")
