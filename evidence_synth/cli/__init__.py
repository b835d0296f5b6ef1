"""The ``evidence-synth`` command line.

Every command has ``--help``. Bad input ends with ``error: <message>`` on standard error (the
message names the file, line or argument; errors that collect several problems list them,
one per line, below it) and exit status 1, never a traceback; a mistake on the command line
itself (a missing option, a path that does not exist) is click's usage message and exit
status 2. Warnings are printed as ``warning: <message>``, one line each. Only an unexpected
exception (a bug) prints a traceback, followed by a line saying it is a bug.
"""

from __future__ import annotations

import contextlib
import sys
import traceback
import warnings
from collections.abc import Iterator
from typing import IO, Any

import click

from .._version import __version__
from ..errors import EvidenceSynthError
from . import dedup, extract, report, screen
from .common import quiet_option
from .core import demo, import_, init, new_review, set_protocol, status
from .store import grant_reviewers, migrate_store


class Failure(click.ClickException):
    """An error the user can act on: ``error: <first line>`` and any further lines (the
    problems an error collected) indented below it, on standard error; exit status 1."""

    def show(self, file: IO[Any] | None = None) -> None:
        lines = [line.strip() for line in self.format_message().splitlines() if line.strip()]
        click.echo(f"error: {lines[0] if lines else 'failed'}", err=True, file=file)
        for line in lines[1:]:
            click.echo(f"  {line}", err=True, file=file)


class _Group(click.Group):
    """A click group that turns library, OS and click errors into ``error: ...`` messages and
    prints warnings as ``warning: ...`` (see the module docstring)."""

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_warnings():
            try:
                return super().invoke(ctx)
            except (click.exceptions.Exit, click.exceptions.Abort, click.UsageError, Failure):
                raise
            except click.ClickException as exc:
                raise Failure(exc.format_message()) from None
            except EvidenceSynthError as exc:
                raise Failure(str(exc)) from None
            except OSError as exc:
                raise Failure(_os_error(exc)) from None
            except Exception as exc:
                traceback.print_exc()
                raise Failure(
                    f"internal error: {type(exc).__name__}: {_first_line(exc)}. This is a bug "
                    f"in evidence-synth {__version__}, not a problem with your input; please "
                    "report it with the traceback above") from None


def _os_error(exc: OSError) -> str:
    """``path: what went wrong`` for an OS error (reading or writing a file)."""
    names = [str(n) for n in (exc.filename, exc.filename2) if n is not None]
    where = f"{' -> '.join(names)}: " if names else ""
    return f"{where}{exc.strerror or exc}"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no message)"


@contextlib.contextmanager
def _one_line_warnings() -> Iterator[None]:
    """Warnings as ``warning: <message>`` on one line of standard error, no source line."""

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: IO[str] | None = None, line: str | None = None) -> None:
        text = " ".join(str(message).strip().splitlines())
        click.echo(f"warning: {text}", err=True, file=file)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="evidence-synth")
@quiet_option
def cli() -> None:
    """Systematic evidence synthesis: import, deduplicate, screen, extract and report.

    A review lives in one store file (SQLite) or a PostgreSQL URL. Start with
    `new-review` (a folder with the protocol, criteria, rules and forms) and `init`;
    `demo` runs the whole pipeline on a bundled example.
    """


for _command in (new_review, init, set_protocol, import_, status, demo, migrate_store,
                 grant_reviewers):
    cli.add_command(_command)
for _name, _module in (
    ("dedup", dedup),
    ("screen", screen),
    ("extract", extract),
    ("report", report),
):
    cli.add_command(_module.command, _name)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``evidence-synth`` console script."""
    cli.main(args=argv, prog_name="evidence-synth")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
