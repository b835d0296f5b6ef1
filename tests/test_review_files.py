"""Review files: packaged copies, the review root, storage in the store, new-review, CLI."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from evidence_synth import open_review
from evidence_synth.cli import cli
from evidence_synth.datasets import demo_dir
from evidence_synth.errors import EvidenceSynthError, ProtocolError, StoreError
from evidence_synth.reviews import ReviewFiles, bundled_review, bundled_reviews, new_review

REPO = Path(__file__).resolve().parents[1]
NAME = "irregular-migration-egm-update"
PROTOCOL = REPO / "protocols" / f"{NAME}.yaml"


@pytest.fixture
def runner():
    return CliRunner()  # .output holds standard error too (the notes)


# -- the packaged copy of the migration review -------------------------------------------

def test_packaged_review_files_are_the_editable_copies():
    """The wheel ships protocols/, screening/ and extraction/ files byte for byte."""
    editable = ReviewFiles.from_protocol(PROTOCOL)
    packaged = bundled_review(NAME)
    assert bundled_reviews() == [NAME]
    assert {r: packaged.relative(r) for r in packaged.paths} == \
        {r: editable.relative(r) for r in editable.paths}
    for role, path in editable.paths.items():
        rel = editable.relative(role)
        copy = packaged.paths[role]
        assert copy.read_bytes() == path.read_bytes(), (
            f"{copy} differs from {rel}: run `python3 tasks.py sync-review` (it copies "
            f"{rel} to evidence_synth/reviews/{NAME}/{rel})")


def test_sync_task_lists_every_file_the_protocol_names():
    text = (REPO / "tasks.py").read_text(encoding="utf-8")
    editable = ReviewFiles.from_protocol(PROTOCOL)
    for role in editable.paths:
        name = editable.relative(role).replace(NAME, "{REVIEW}")
        assert f'"{name}"' in text or f'f"{name}"' in text, (
            f"tasks.py REVIEW_FILES lacks {editable.relative(role)} ({role})")


def test_bundled_review_loads_and_checks():
    files = bundled_review()
    lines = files.check()
    assert lines[0].startswith(f"protocol protocols/{NAME}.yaml: {NAME} (sha256 ")
    assert files.criteria.rules == "screening/rules.yaml"
    assert len(files.rules) > 10
    assert files.form.codebook is not None
    assert len(files.codebook.codes) == len(files.form.codebook.codes)
    with pytest.raises(EvidenceSynthError, match="no bundled review 'nope'"):
        bundled_review("nope")


# -- finding files from the review's root --------------------------------------------------

def test_root_is_the_nearest_folder_holding_the_named_files(tmp_path):
    repo = ReviewFiles.from_protocol(PROTOCOL)  # protocols/<name>.yaml under the root
    assert repo.root == REPO.resolve()
    assert repo.relative("protocol") == f"protocols/{NAME}.yaml"
    assert repo.relative("criteria") == "screening/criteria.yaml"
    new_review(tmp_path / "r")  # protocol.yaml at the root
    files = ReviewFiles.from_protocol(tmp_path / "r" / "protocol.yaml")
    assert files.root == (tmp_path / "r").resolve()
    assert files.relative("form_protocol") == "protocol.yaml"


def test_missing_named_files_are_errors_that_say_where(tmp_path):
    new_review(tmp_path / "r")
    protocol = tmp_path / "r" / "protocol.yaml"
    moved = tmp_path / "r" / "protocols" / "p.yaml"
    moved.parent.mkdir()
    shutil.move(protocol, moved)  # the form still reads ../protocol.yaml
    with pytest.raises(ProtocolError, match=r"form.yaml: framework.protocol names "
                                            r"'../protocol.yaml', not found at .*/r/protocol"):
        ReviewFiles.from_protocol(moved)
    shutil.move(moved, protocol)
    (tmp_path / "r" / "screening" / "rules.yaml").unlink()
    with pytest.raises(ProtocolError, match=r"criteria.yaml: rules names 'screening/rules"
                                            r".yaml', not found at .*screening/rules.yaml"):
        ReviewFiles.from_protocol(protocol)
    (tmp_path / "r" / "screening" / "criteria.yaml").unlink()
    with pytest.raises(ProtocolError, match=r"screening.criteria names 'screening/criteria"
                                            r".yaml', not found under"):
        ReviewFiles.from_protocol(protocol)


# -- stored with the protocol -------------------------------------------------------------

def test_files_are_stored_with_the_protocol_and_read_back_anywhere(tmp_path, monkeypatch):
    files = new_review(tmp_path / "r")
    files.check()  # load every file before the folder goes
    with open_review(tmp_path / "review.db") as review:
        files.store(review)
        stored = review.protocol_files()
        assert set(stored["role"]) == set(files.paths)
        shutil.rmtree(tmp_path / "r")  # the folder is gone: the store keeps its copies
        monkeypatch.chdir(tmp_path)
        back = ReviewFiles.from_review(review)
        assert back.protocol == files.protocol
        assert back.criteria.stages.keys() == files.criteria.stages.keys()
        assert [r.id for r in back.rules.rules] == [r.id for r in files.rules.rules]
        assert back.form.fields == files.form.fields
        assert back.relative("form_protocol") == "protocol.yaml"


def test_stored_files_round_trip_on_each_backend(store_url):
    files = bundled_review()
    with open_review(store_url) as review:
        files.store(review)
        back = ReviewFiles.from_review(review)
        assert back.texts() == files.texts()
        assert back.protocol == files.protocol


def test_a_protocol_stored_without_its_files_is_an_explicit_error(tmp_path):
    with open_review(tmp_path / "review.db") as review:
        with pytest.raises(StoreError, match="no protocol stored"):
            ReviewFiles.from_review(review)
        review.set_protocol(bundled_review().protocol)
        with pytest.raises(StoreError, match=r"names screening/criteria.yaml, extraction/"
                                             r"form.yaml.*set-protocol"):
            ReviewFiles.from_review(review)


def test_a_version_1_store_gains_the_review_files_table(tmp_path):
    path = tmp_path / "old.db"
    with open_review(path) as review:
        review.set_protocol(bundled_review().protocol)
    with sqlite3.connect(path) as conn:  # what a version-1 store looked like
        conn.execute("DROP TABLE review_files")
        conn.execute("UPDATE es_meta SET value = '1' WHERE key = 'schema_version'")
    with open_review(path, create=False) as review:
        assert review.schema_version == 3
        assert review.protocol_files().empty
        bundled_review().store(review)
        assert len(review.protocol_files()) == len(bundled_review().paths)


# -- new-review ---------------------------------------------------------------------------

def test_new_review_writes_a_folder_that_validates_as_written(tmp_path):
    files = new_review(tmp_path / "r")
    names = sorted(p.relative_to(tmp_path / "r").as_posix()
                   for p in (tmp_path / "r").rglob("*") if p.is_file())
    assert names == ["README.md", "extraction/form.yaml",
                     "extraction/unintended-effects-codebook.yaml", "protocol.yaml",
                     "screening.ipynb", "screening/criteria.yaml", "screening/rules.yaml"]
    assert files.protocol == bundled_review().protocol
    assert len(files.check()) == 5
    assert "protocol: protocol.yaml" in (tmp_path / "r/screening/criteria.yaml").read_text()
    assert "protocol: ../protocol.yaml" in (tmp_path / "r/extraction/form.yaml").read_text()
    with pytest.raises(EvidenceSynthError, match="already exists and is not an empty"):
        new_review(tmp_path / "r")
    (tmp_path / "empty").mkdir()
    new_review(tmp_path / "empty")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging left


def test_cli_new_review_init_screen_extract_use_the_stored_files(runner, tmp_path,
                                                                   monkeypatch):
    monkeypatch.chdir(tmp_path)  # nowhere near the repository
    result = runner.invoke(cli, ["new-review", "r"])
    assert result.exit_code == 0, result.output
    assert "new review in r (7 files)" in result.output
    bad = runner.invoke(cli, ["new-review", "x", "--from", "nope"])
    assert bad.exit_code != 0 and "bundled reviews: " + NAME in bad.output
    result = runner.invoke(cli, ["init", "r/review.db", "--protocol", "r/protocol.yaml"])
    assert result.exit_code == 0, result.output
    assert "with rules screening/rules.yaml" in result.output
    runner.invoke(cli, ["import", "r/review.db", str(demo_dir() / "scopus_search.ris"),
                        "--database", "Scopus"])
    status = runner.invoke(cli, ["status", "r/review.db"])
    assert f"protocol: {NAME} (sha256 " in status.output
    assert "rules screening/rules.yaml" in status.output

    result = runner.invoke(cli, ["screen", "r/review.db", "--export-queue", "q.csv"])
    assert result.exit_code == 0, result.output
    assert "rules: screening/rules.yaml stored with the review's protocol" in result.output
    queue = (tmp_path / "q.csv").read_text(encoding="utf-8")
    assert "ext:partnership_diplomacy" in queue  # the stored rules tagged the records

    result = runner.invoke(cli, ["extract", "template", "--review", "r/review.db",
                                 "--out", "t.xlsx"])
    assert result.exit_code == 0, result.output
    assert "form migration-egm-update: 26 study fields" in result.output
    generic = runner.invoke(cli, ["extract", "template", "--out", "g.xlsx"])
    assert "note: form: the generic form" in generic.output

    # An edited rules file is used only once stored again with set-protocol.
    rules = tmp_path / "r" / "screening" / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace(
        "schema_version: 1", "# edited\nschema_version: 1", 1), encoding="utf-8")
    result = runner.invoke(cli, ["set-protocol", "r/review.db", "r/protocol.yaml"])
    assert result.exit_code == 0, result.output
    with open_review("r/review.db", create=False) as review:
        stored = review.protocol_files().set_index("role")
        assert stored.loc["rules", "content"].count("# edited") == 1


def test_cli_screen_refuses_a_protocol_stored_without_its_files(runner, tmp_path):
    store = str(tmp_path / "review.db")
    with open_review(store) as review:
        review.set_protocol(bundled_review().protocol)
        review.import_file(demo_dir() / "scopus_search.ris", database="Scopus")
    result = runner.invoke(cli, ["screen", store, "--export-queue", str(tmp_path / "q.csv")])
    assert result.exit_code != 0
    assert "the store holds no copy of them" in result.output
    assert "set-protocol" in result.output
    assert not (tmp_path / "q.csv").exists()


def test_starter_notebook_opens_the_review_and_screens(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipywidgets")
    folder = tmp_path / "r"
    files = new_review(folder)
    with open_review(folder / "review.db") as review:
        files.store(review)
        review.import_file(demo_dir() / "scopus_search.ris", database="Scopus")
    notebook = nbformat.read(folder / "screening.ipynb", as_version=4)
    nbformat.validate(notebook)
    notebook.cells[1].source = notebook.cells[1].source.replace("your-name", "ana")
    notebook.cells.append(nbformat.v4.new_code_cell(
        "card = session.next(1)\n"
        "session.decide(card.record_ids[0], 'include')\n"
        "print('decided', len(review.decisions(reviewer='ana')))"))
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code"
               for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "\n".join(str(o.get("text", "")) for o in outputs)
    assert "rules screening/rules.yaml" in text
    assert "decided 1" in text
