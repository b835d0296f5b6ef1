"""Broken inputs against every command that reads a file: one ``error:`` line, no traceback.

A corpus of broken files is built at test time (empty, blank, a directory, truncated RIS,
random bytes under seven suffixes, wrong-shape JSON, a protocol with four schema problems, a
decisions CSV with an unclosed quote, ...) and each command that takes a file is run on each
input that fits it, in-process through :func:`evidence_synth.cli.main` (a few through the
console script, to see what reaches a terminal). Every run must exit non-zero with exactly
one ``error:`` line (or click's ``Error:`` usage line, exit 2) naming the file, and no
traceback. Inputs the library repairs (NUL bytes, a few lines in another encoding, a Latin-1
decisions CSV) must be read whole, with a one-line ``warning:`` naming the file and lines.
The same corpus through the API raises nothing but :class:`EvidenceSynthError`.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

from evidence_synth.cli import main
from evidence_synth.errors import DataQualityWarning, EvidenceSynthError

RIS = "".join(f"TY  - JOUR\nAU  - Müller, Jörg\nTI  - Border study {i}\nPY  - 2020\nER  - \n"
              for i in range(1, 4))
RANDOM_SUFFIXES = ("xlsx", "json", "ris", "csv", "nbib", "xml", "yaml")
#: Broken for any command that reads a file, whatever it expects.
GENERIC = ("empty.ris", "blank.ris", "folder.ris", "truncated.ris",
           *(f"random.{s}" for s in RANDOM_SUFFIXES))
#: Not a valid review store either (a 0-byte file is never turned into one).
STORE_INPUTS = GENERIC


def build_corpus(root: Path) -> dict[str, Path]:
    """The broken inputs, written under ``root``; name -> path."""
    root.mkdir(parents=True, exist_ok=True)
    noise = random.Random(16).randbytes(3000)
    files: dict[str, bytes | str] = {
        "empty.ris": b"",
        "blank.ris": "  \n\n\t\n",
        "truncated.ris": "TY  - JOUR\nTI  - One\nER  - \nTY  - JOUR\nTI  - cut off her",
        "wrong-shape.json": '{"References": "oops"}\n',
        "unclosed-quote.csv": 'record_id,decision,note\nx:1,include,"never closed\n'
                              "x:2,exclude,fine\n",
        "medline.nbib": "PMID- 1\nTI  - A MEDLINE title\n\nPMID- 2\nTI  - Another\n",
        "good.ris": RIS,
        **{f"random.{s}": noise for s in RANDOM_SUFFIXES},
    }
    out = {}
    for name, content in files.items():
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        out[name] = path
    out["folder.ris"] = root / "folder.ris"
    out["folder.ris"].mkdir(exist_ok=True)
    # NUL bytes inside a record, past the first 8 KB (which the binary check samples)
    records = "".join(f"TY  - JOUR\nTI  - Record {i}\nER  - \n" for i in range(1, 601)).encode()
    at = records.index(b"TI  - Record 500")
    (root / "nul.ris").write_bytes(records[:at] + b"\x00\x00\x00" + records[at:])
    out["nul.ris"] = root / "nul.ris"
    # three bytes that are not UTF-8 on one line of an otherwise UTF-8 RIS
    mixed = "".join(f"TY  - JOUR\nAU  - Müller, Jörg\nTI  - Study {i}\nER  - \n"
                    for i in range(1, 201)).encode()
    at = mixed.index(b"TI  - Study 150")
    (root / "mixed.ris").write_bytes(mixed[:at] + b"TI  - caf\xe9 \xff\xfe\n" + mixed[at:])
    out["mixed.ris"] = root / "mixed.ris"
    return out


def _four_problems(protocol: Path, target: Path) -> Path:
    text = protocol.read_text(encoding="utf-8")
    for old, new in (("schema_version: 1\n", "schema_version: 1\nbogus_key: 1\n"),
                     ("  type: evidence_gap_map_update", "  type: not_a_type"),
                     ("  language: en", "  language: 12"),
                     ('  protocol_version: "1.0"', "  protocol_version: [1]")):
        assert old in text, old
        text = text.replace(old, new, 1)
    target.write_text(text, encoding="utf-8")
    return target


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``evidence-synth ARGV`` in-process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in argv])
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 1), out, err


def assert_clean_error(code: int, out: str, err: str, path: Path) -> str:
    """Non-zero exit, exactly one error line naming ``path``, no traceback; the line."""
    assert "Traceback" not in out + err, out + err
    assert code in (1, 2), (code, out, err)
    errors = [line for line in err.splitlines() if line.startswith(("error: ", "Error: "))]
    assert len(errors) == 1, err
    line = errors[0]
    assert line.startswith("error: " if code == 1 else "Error: "), (code, line)
    assert "internal error" not in line, line
    assert str(path) in line or f"'{path.name}'" in line, line
    return line


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    """The corpus, a review folder, and a review store with a protocol and three records."""
    from evidence_synth.reviews import new_review

    root = tmp_path_factory.mktemp("broken")
    corpus = build_corpus(root / "corpus")
    folder = root / "review"
    new_review(folder)
    corpus["protocol-4-problems.yaml"] = _four_problems(folder / "protocol.yaml",
                                                        folder / "protocol-4-problems.yaml")
    store = root / "review.db"
    with pytest.raises(SystemExit) as info:
        main(["init", str(store), "--protocol", str(folder / "protocol.yaml")])
    assert info.value.code in (0, None)
    with pytest.raises(SystemExit) as info:
        main(["import", str(store), str(corpus["good.ris"]), "--database", "Scopus", "-q"])
    assert info.value.code in (0, None)
    return {"corpus": corpus, "folder": folder, "store": store}


#: command -> (argv with {f} for the broken file, the inputs it is run on). {review} is a
#: copy of a store with a protocol and records, {good} a good RIS file, {tmp} a fresh folder.
SLOTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "import": (("import", "{review}", "{f}", "--database", "X", "-q"),
               (*GENERIC, "wrong-shape.json")),
    "import --map": (("import", "{review}", "{f}", "--map", "-q"), GENERIC),
    "dedup FILES": (("dedup", "{f}", "--queue-out", "{tmp}/q.csv", "-q"),
                    (*GENERIC, "wrong-shape.json")),
    "dedup --decisions": (("dedup", "{good}", "--decisions", "{f}", "--queue-out",
                           "{tmp}/q.csv", "-q"), (*GENERIC, "unclosed-quote.csv")),
    "screen --import-decisions": (("screen", "{review}", "--import-decisions", "{f}",
                                   "--reviewer", "ana", "-q"),
                                  (*GENERIC, "unclosed-quote.csv")),
    "screen --rules": (("screen", "{review}", "--export-queue", "{tmp}/q.csv", "--rules",
                        "{f}", "-q"), GENERIC),
    "screen --criteria": (("screen", "{review}", "--export-queue", "{tmp}/q.csv",
                           "--criteria", "{f}", "-q"), GENERIC),
    "init --protocol": (("init", "{tmp}/new.db", "--protocol", "{f}"),
                        (*GENERIC, "protocol-4-problems.yaml")),
    "set-protocol PROTOCOL": (("set-protocol", "{review}", "{f}"),
                              (*GENERIC, "protocol-4-problems.yaml")),
    "extract template --form": (("extract", "template", "--out", "{tmp}/t.xlsx", "--form",
                                 "{f}"), GENERIC),
    "extract import WORKBOOK": (("extract", "import", "{f}", "--review", "{review}",
                                 "--extractor", "ana", "--dry-run"), GENERIC),
    # the store itself is the broken file
    "status": (("status", "{f}"), STORE_INPUTS),
    "report": (("report", "{f}", "--out", "{tmp}/report", "-q"), STORE_INPUTS),
    "screen REVIEW": (("screen", "{f}", "--export-queue", "{tmp}/q.csv", "-q"), STORE_INPUTS),
    "dedup --review": (("dedup", "--review", "{f}", "--queue-out", "{tmp}/q.csv", "-q"),
                       STORE_INPUTS),
    "extract export": (("extract", "export", "--review", "{f}", "--out", "{tmp}/e.csv"),
                       STORE_INPUTS),
    "extract compare": (("extract", "compare", "ana", "bob", "--review", "{f}"),
                        STORE_INPUTS),
    "import REVIEW": (("import", "{f}", "{good}", "--database", "X", "-q"), STORE_INPUTS),
    "set-protocol REVIEW": (("set-protocol", "{f}", "{protocol}"), STORE_INPUTS),
    "migrate-store SOURCE": (("migrate-store", "{f}", "{tmp}/copy.db"), STORE_INPUTS),
}
CASES = [(slot, name) for slot, (_argv, names) in SLOTS.items() for name in names]


def _argv(world, slot: str, name: str, tmp: Path) -> list[str]:
    review = tmp / "review.db"
    shutil.copy(world["store"], review)
    values = {"f": world["corpus"][name], "review": review, "tmp": tmp,
              "good": world["corpus"]["good.ris"], "protocol": world["folder"] / "protocol.yaml"}
    return [part.format(**values) for part in SLOTS[slot][0]]


@pytest.mark.parametrize(("slot", "name"), CASES, ids=[f"{s}-{n}" for s, n in CASES])
def test_broken_input_gives_one_error_line_naming_the_file(world, slot, name, tmp_path, capsys):
    path = world["corpus"][name]
    before = path.read_bytes() if path.is_file() else None
    code, out, err = run(_argv(world, slot, name, tmp_path), capsys)
    assert_clean_error(code, out, err, path)
    assert not (tmp_path / "new.db").exists()  # init wrote nothing
    assert (path.read_bytes() if path.is_file() else None) == before  # e.g. not made a store


def test_corpus_covers_every_command_that_reads_a_file():
    """Each command (and subcommand) with a file argument or option is in SLOTS."""
    import click

    from evidence_synth.cli import cli

    covered = {argv[0] if argv[0] != "extract" else f"extract {argv[1]}"
               for argv, _names in SLOTS.values()}
    reads = set()
    for name, command in cli.commands.items():
        subs = command.commands.items() if isinstance(command, click.Group) else [(None, command)]
        for sub, cmd in subs:
            takes = [p for p in cmd.params if isinstance(p.type, click.Path)
                     or p.name in ("review", "review_path", "source")]
            writes_only = all(p.name in ("out", "out_dir", "queue_out", "groups_out", "folder",
                                         "queue_path") for p in takes)
            if takes and not writes_only:
                reads.add(name if sub is None else f"{name} {sub}")
    assert reads - covered == set()
    assert len(CASES) == 226


def test_four_protocol_problems_are_listed_with_paths_and_lines(world, tmp_path, capsys):
    path = world["corpus"]["protocol-4-problems.yaml"]
    code, out, err = run(["init", tmp_path / "new.db", "--protocol", path], capsys)
    line = assert_clean_error(code, out, err, path)
    assert line.endswith("4 problems in the review protocol:")
    problems = err.splitlines()[err.splitlines().index(line) + 1:]
    assert len(problems) == 4
    for problem, where in zip(problems, ("$.bogus_key", "$.review.type",
                                         "$.review.protocol_version", "$.review.language"),
                              strict=True):
        assert problem.startswith("  line ") and f", {where}: " in problem, problem


@pytest.mark.parametrize(("given", "name", "suggested"), [
    ("medline", "good.ris", None),  # RIS tags read as MEDLINE would merge the records
    ("ris", "medline.nbib", "medline"),
    ("wos", "good.ris", "ris"),
    ("xlsx", "good.ris", "ris"),
])
def test_forced_wrong_format_is_refused(world, given, name, suggested, tmp_path, capsys):
    path = world["corpus"][name]
    argv = ["import", tmp_path / "r.db", path, "--database", "X", "--format", given, "-q"]
    shutil.copy(world["store"], tmp_path / "r.db")
    line = assert_clean_error(*run(argv, capsys), path)
    assert "would merge records" in line if suggested is None else (
        f"format={given!r} was given" in line and f"--format {suggested}" in line), line


def test_forced_encoding_that_does_not_fit(world, tmp_path, capsys):
    shutil.copy(world["store"], tmp_path / "r.db")
    path = world["corpus"]["good.ris"]
    for encoding in ("utf-16", "utf-32", "no-such-codec", "base64"):
        argv = ["import", tmp_path / "r.db", path, "--database", "X", "--encoding", encoding]
        assert_clean_error(*run(argv, capsys), path)


def test_nul_bytes_are_removed_with_a_counted_warning(world, tmp_path, capsys):
    shutil.copy(world["store"], tmp_path / "r.db")
    path = world["corpus"]["nul.ris"]
    code, out, err = run(["import", tmp_path / "r.db", path, "--database", "X", "-q"], capsys)
    assert code == 0, err
    assert "600 records imported" in out
    assert "3 NUL byte(s) removed (on line 1499)" in out
    code, out, err = run(["dedup", path, "--queue-out", tmp_path / "q.csv", "-q"], capsys)
    assert code == 0, err
    warned = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert len(warned) == 1 and str(path) in warned[0] and "line 1499" in warned[0], err
    assert "Traceback" not in err and ".py:" not in err  # no source line, no location


def test_mixed_encoding_is_decoded_line_by_line(world, tmp_path, capsys):
    from evidence_synth.store import open_review

    shutil.copy(world["store"], tmp_path / "r.db")
    path = world["corpus"]["mixed.ris"]
    code, out, err = run(["import", tmp_path / "r.db", path, "--database", "X", "-q"], capsys)
    assert code == 0, err
    assert "200 records imported" in out
    assert "not valid UTF-8 on 1 line(s)" in out and "decoded as cp1252 on line 599" in out
    with open_review(tmp_path / "r.db", create=False) as store:
        records = store.records()
    mine = records[records["source_id"] == "x-1"]
    assert all(a == ["Müller, Jörg"] for a in mine["authors"])  # no 'MÃ¼ller'
    assert "café ÿþ" in set(mine["title"])


def test_every_warning_of_an_import_is_printed(world, tmp_path, capsys):
    shutil.copy(world["store"], tmp_path / "r.db")
    path = tmp_path / "both.ris"
    path.write_bytes(b"TY  - JOUR\nTI  - caf\xe9\nER  - \nTY  - JOUR\nTI  - N\x00UL\nER  - \n")
    code, out, err = run(["import", tmp_path / "r.db", path, "--database", "X", "-q"], capsys)
    assert code == 0, err
    assert "2 records imported" in out and "2 warning(s): " in out and "line 2" in out
    assert err.strip() == f"warning: {path}: 1 NUL byte(s) removed (on line 5); the file may " \
        "be damaged, check those records; listed in attrs['nul_lines']"


def test_latin1_decisions_are_read_with_a_warning(world, tmp_path, capsys):
    shutil.copy(world["store"], tmp_path / "r.db")
    path = tmp_path / "latin1.csv"
    path.write_bytes("record_id,decision,note\nscopus-1:1,include,Jörg agrees\n"
                     .encode("latin-1"))
    code, out, err = run(["screen", tmp_path / "r.db", "--import-decisions", path,
                          "--reviewer", "ana", "-q"], capsys)
    assert code == 0, err
    assert "1 decisions imported" in out
    assert f"warning: {path}: not valid UTF-8 (first bad byte b'\\xf6' at line 2)" in err


def test_an_unexpected_exception_is_called_a_bug(world, tmp_path, capsys, monkeypatch):
    import evidence_synth.io

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(evidence_synth.io, "read_records", broken)
    code, _out, err = run(["dedup", world["corpus"]["good.ris"], "--queue-out",
                          tmp_path / "q.csv", "-q"], capsys)
    assert code == 1
    assert "Traceback" in err and "ZeroDivisionError: boom" in err
    assert err.splitlines()[-1].startswith("error: internal error: ZeroDivisionError: boom. "
                                           "This is a bug in evidence-synth")


# -- through the console script: what reaches a terminal ------------------------------------

SCRIPT = Path(sys.executable).with_name("evidence-synth")


def _script(argv: list[object], **kwargs) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MPLBACKEND="Agg", **kwargs.pop("env", {}))
    return subprocess.run([str(SCRIPT), *(str(a) for a in argv)], capture_output=True,
                          text=True, check=False, env=env, **kwargs)


@pytest.mark.parametrize(("argv", "name"), [
    (("import", "{review}", "{f}", "--database", "X", "-q"), "random.xlsx"),
    (("screen", "{review}", "--import-decisions", "{f}", "--reviewer", "ana", "-q"),
     "unclosed-quote.csv"),
    (("init", "{tmp}/new.db", "--protocol", "{f}"), "protocol-4-problems.yaml"),
    (("import", "{review}", "{f}", "--database", "X", "--format", "medline", "-q"), "good.ris"),
])
def test_console_script_prints_no_traceback(world, argv, name, tmp_path):
    shutil.copy(world["store"], tmp_path / "review.db")
    values = {"f": world["corpus"][name], "review": tmp_path / "review.db", "tmp": tmp_path}
    done = _script([a.format(**values) for a in argv])
    assert_clean_error(done.returncode, done.stdout, done.stderr, world["corpus"][name])


def _unprivileged() -> dict:
    """``subprocess.run`` arguments that run as a user who cannot read a mode-000 file."""
    if os.geteuid() != 0:
        return {}
    try:
        import pwd

        nobody = pwd.getpwnam("nobody")
    except (ImportError, KeyError):
        pytest.skip("running as root (who reads any file whatever its mode) and there is no "
                    "'nobody' user to run the unreadable-file probe as")
    return {"user": nobody.pw_uid, "group": nobody.pw_gid}


def test_unreadable_file_is_an_error_naming_it(world):
    """chmod 000 files, read by a user who is not root (root reads them regardless)."""
    who = _unprivileged()
    root = Path(tempfile.mkdtemp(prefix="es-unreadable-"))
    try:
        root.chmod(0o777)
        for name in ("search.ris", "decisions.csv", "protocol.yaml"):
            (root / name).write_text("x\n", encoding="utf-8")
            (root / name).chmod(0o000)
        (root / "good.ris").write_text(RIS, encoding="utf-8")
        (root / "good.ris").chmod(0o644)
        store = root / "review.db"
        shutil.copy(world["store"], store)
        store.chmod(0o666)
        env = {"HOME": str(root), "MPLCONFIGDIR": str(root)}
        probes = [
            (["import", store, root / "search.ris", "--database", "X", "-q"], "search.ris"),
            (["dedup", root / "search.ris", "--queue-out", root / "q.csv", "-q"], "search.ris"),
            (["init", root / "new.db", "--protocol", root / "protocol.yaml"], "protocol.yaml"),
            (["screen", store, "--import-decisions", root / "decisions.csv", "--reviewer",
              "ana", "-q"], "decisions.csv"),
            (["dedup", root / "good.ris", "--decisions", root / "decisions.csv",
              "--queue-out", root / "q.csv", "-q"], "decisions.csv"),
        ]
        for argv, name in probes:
            done = _script(argv, env=env, cwd=root, **who)
            line = assert_clean_error(done.returncode, done.stdout, done.stderr, root / name)
            assert "not readable" in line or "permission denied" in line, line
        api = _script_api(root, who, env)
        assert api.returncode == 0, api.stderr
        assert api.stdout.split() == ["ParseError", "ProtocolError", "ParseError"], api.stdout
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _script_api(root: Path, who: dict, env: dict) -> subprocess.CompletedProcess[str]:
    code = f"""
import sys
from evidence_synth.io import read_records
from evidence_synth.io._csv_rows import read_csv_rows
from evidence_synth.protocol import load_protocol
root = {str(root)!r}
for call in (lambda: read_records(root + "/search.ris"),
             lambda: load_protocol(root + "/protocol.yaml"),
             lambda: read_csv_rows(root + "/decisions.csv", required=["record_id"])):
    try:
        call()
    except Exception as exc:
        assert "permission denied" in str(exc) and root in str(exc), exc
        print(type(exc).__name__)
"""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False, env=dict(os.environ, **env), cwd=root, **who)


# -- the API: only EvidenceSynthError ----------------------------------------------------------

def _api_calls(world):
    from evidence_synth.extract import load_form, read_extraction_workbook
    from evidence_synth.io import read_egm, read_records, read_records_csv
    from evidence_synth.protocol import load_protocol
    from evidence_synth.screen import Screening, load_criteria, load_rules
    from evidence_synth.store import open_review

    def decisions(path):
        with open_review(world["store"], create=False) as store:
            Screening(store, reviewer="ana").import_decisions(path)

    return {"read_records": read_records, "read_records_csv": read_records_csv,
            "read_egm": read_egm, "load_protocol": load_protocol, "load_rules": load_rules,
            "load_criteria": load_criteria, "load_form": load_form,
            "read_extraction_workbook": read_extraction_workbook,
            "import_decisions": decisions}


API_INPUTS = (*GENERIC, "unclosed-quote.csv", "protocol-4-problems.yaml")


@pytest.mark.parametrize("name", API_INPUTS)
def test_api_raises_only_evidence_synth_errors(world, name):
    path = world["corpus"][name]
    for function, call in _api_calls(world).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataQualityWarning)
            try:
                call(path)
            except EvidenceSynthError as exc:
                assert str(path) in str(exc), (function, exc)
            else:
                pytest.fail(f"{function}({name}) accepted a broken file")


def test_api_forced_format_and_encoding(world):
    from evidence_synth.io import read_records

    good = world["corpus"]["good.ris"]
    for kwargs in ({"format": "medline"}, {"format": "wos"}, {"encoding": "utf-16"},
                   {"encoding": "utf-32"}, {"encoding": "nope"}):
        with pytest.raises(EvidenceSynthError, match=str(good)):
            read_records(good, **kwargs)
    with pytest.raises(EvidenceSynthError, match="format='ris' was given"):
        read_records(world["corpus"]["medline.nbib"], format="ris")
