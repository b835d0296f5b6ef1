"""Opening a store: only `init` creates one; broken, read-only and busy stores say so."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_synth import open_review
from evidence_synth.cli import cli
from evidence_synth.columns import records_from_dicts
from evidence_synth.errors import StoreError

RIS = "TY  - JOUR\nTI  - Border closures and migration\nPY  - 2020\nER  - \n"

#: Every command that reads a review store, with STORE where the store goes.
READING_COMMANDS = {
    "status": ["status", "STORE"],
    "report": ["report", "STORE", "--out", "{tmp}/report"],
    "import": ["import", "STORE", "{tmp}/search.ris", "--database", "Scopus"],
    "import --map": ["import", "STORE", "{tmp}/search.ris", "--map"],
    "screen": ["screen", "STORE", "--export-queue", "{tmp}/queue.csv"],
    "dedup --review": ["dedup", "--review", "STORE", "--queue-out", "{tmp}/pairs.csv"],
    "extract template --review": ["extract", "template", "--review", "STORE",
                                  "--out", "{tmp}/template.xlsx"],
    "extract export": ["extract", "export", "--review", "STORE", "--out", "{tmp}/table.csv"],
    "extract import --review": ["extract", "import", "{tmp}/filled.xlsx", "--review", "STORE",
                                "--extractor", "ann"],
    "extract compare": ["extract", "compare", "ann", "bob", "--review", "STORE"],
    "migrate-store (source)": ["migrate-store", "STORE", "{tmp}/copy.db"],
    "grant-reviewers": ["grant-reviewers", "STORE", "--reviewer", "ann"],
}


def _prepare(tmp_path: Path) -> None:
    (tmp_path / "search.ris").write_text(RIS, encoding="utf-8")
    (tmp_path / "filled.xlsx").write_bytes(b"")


@pytest.mark.parametrize("state", ["missing", "empty file"])
@pytest.mark.parametrize("command", READING_COMMANDS)
def test_reading_commands_never_create_a_store(tmp_path, command, state):
    _prepare(tmp_path)
    store = tmp_path / "typo.db"
    if state == "empty file":
        store.write_bytes(b"")
    args = [a.replace("STORE", str(store)).format(tmp=tmp_path)
            for a in READING_COMMANDS[command]]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    expected = "an empty file" if state == "empty file" else "no such file"
    assert f"{store}: no review store here ({expected}); create one with " \
           "`evidence-synth init`" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["search.ris", "filled.xlsx"] + (["typo.db"] if state == "empty file" else []))
    if state == "empty file":
        assert store.stat().st_size == 0


def test_a_database_that_is_no_review_store_is_not_turned_into_one(tmp_path):
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE notes (text TEXT)")
    with pytest.raises(StoreError, match="no review store here \\(no es_meta table\\)"):
        open_review(path, create=False)
    with sqlite3.connect(path) as conn:
        tables = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [("notes",)]


def test_only_init_creates(tmp_path):
    store = tmp_path / "review.db"
    result = CliRunner().invoke(cli, ["init", str(store)])
    assert result.exit_code == 0, result.output
    assert CliRunner().invoke(cli, ["status", str(store)]).exit_code == 0


def test_a_schema_version_that_is_not_a_number_is_named(tmp_path):
    path = tmp_path / "r.db"
    open_review(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE es_meta SET value = 'abc' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match=r"es_meta\.schema_version is 'abc', expected a whole"):
        open_review(path, create=False)
    result = CliRunner().invoke(cli, ["status", str(path)])
    assert result.exit_code == 1
    assert "schema_version is 'abc'" in result.output


def test_a_bad_port_is_a_store_error_without_the_password():
    with pytest.raises(StoreError, match="port must be a number") as info:
        open_review("postgresql+psycopg://ann:S3cret-pw@db.example:54x2/review")
    assert "S3cret-pw" not in str(info.value)
    assert "db.example:54x2/review" in str(info.value)


# -- read-only stores ----------------------------------------------------------------------

def _filled(path: Path) -> None:
    with open_review(path) as review:
        review.add_records(records_from_dicts({"title": f"T{i}"} for i in range(3)),
                           source={"source_id": "s", "database": "Scopus"})


def test_a_store_opened_read_only_says_so_and_still_reads(tmp_path):
    path = tmp_path / "r.db"
    _filled(path)
    with open_review(f"sqlite:///file:{path}?mode=ro&uri=true", create=False) as review:
        assert review.count("records") == 3
        with pytest.raises(StoreError, match="the review store is read-only") as info:
            review.add_decision("s:1", "title_abstract", "include", reviewer="ann")
    assert "connection lost" not in str(info.value)
    assert "retry" not in str(info.value)


_AS_NOBODY = textwrap.dedent(
    """
    import sys
    from evidence_synth import open_review
    from evidence_synth.errors import StoreError

    try:
        with open_review(sys.argv[1], create=False) as review:
            print("records", review.count("records"), flush=True)
            review.add_decision("s:1", "title_abstract", "include", reviewer="ann")
        print("WROTE")
    except StoreError as exc:
        print("STORE_ERROR", exc)
    """
)


@pytest.mark.parametrize("how", ["file mode 0444", "read-only folder"])
def test_a_read_only_file_or_folder_is_reported_as_read_only(how):
    """Permissions bind only non-root users: as root the check runs as user nobody."""
    as_user: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: file permissions do not apply")
        as_user = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
    root = Path(tempfile.mkdtemp(prefix="es-ro-"))
    try:
        folder = root / "store"
        folder.mkdir()
        path = folder / "r.db"
        _filled(path)
        script = root / "write.py"
        script.write_text(_AS_NOBODY)
        for item in (root, script, path):
            item.chmod(0o755 if item.is_dir() else 0o644)
        if how == "file mode 0444":
            folder.chmod(0o777)
            path.chmod(0o444)
        else:
            path.chmod(0o666)
            folder.chmod(0o555)
        done = subprocess.run([*as_user, sys.executable, str(script), str(path)],
                              capture_output=True, text=True, cwd=root, timeout=120)
        if as_user and "Permission denied" in done.stderr:
            pytest.skip(f"user nobody cannot run this Python ({done.stderr.strip()[-200:]})")
        assert "STORE_ERROR" in done.stdout, (done.stdout, done.stderr)
        assert "the review store is read-only" in done.stdout
        assert "connection lost" not in done.stdout
        assert "WROTE" not in done.stdout
    finally:
        for item in (root / "store", root / "store" / "r.db"):
            if item.exists():
                item.chmod(0o777)
        shutil.rmtree(root, ignore_errors=True)


# -- concurrent imports --------------------------------------------------------------------

_IMPORTER = textwrap.dedent(
    """
    import sys
    from evidence_synth import open_review
    from evidence_synth.errors import StoreError

    with open_review(sys.argv[1], create=False) as review:
        frame = review.import_file(sys.argv[2], database="Scopus")
    print("IMPORTED", frame["source_id"].iloc[0], flush=True)
    """
)


def test_concurrent_imports_under_one_database_name_all_land(store_url, tmp_path):
    open_review(store_url).close()
    script = tmp_path / "importer.py"
    script.write_text(_IMPORTER)
    files = []
    for i in range(6):  # different files: none is a duplicate import of another
        path = tmp_path / f"search{i}.ris"
        path.write_text("".join(
            f"TY  - JOUR\nTI  - Study {i}-{j}\nPY  - 2020\nER  - \n" for j in range(300)),
            encoding="utf-8")
        files.append(path)
    workers = [subprocess.Popen([sys.executable, str(script), store_url, str(f)],
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for f in files]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0] * len(files), outputs
    assert all("IntegrityError" not in err for _, err in outputs)
    ids = sorted(out.split()[1] for out, _ in outputs)
    assert ids == [f"scopus-{n}" for n in range(1, 7)]
    with open_review(store_url, create=False) as review:
        assert review.count("records") == 6 * 300
        assert sorted(review.sources()["source_id"]) == ids
