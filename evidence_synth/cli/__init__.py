"""The ``evidence-synth`` command line.

Every command has ``--help``. Bad input ends with a one-line error naming the file or
argument and a non-zero exit status, never a traceback.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from .._version import __version__
from ..errors import EvidenceSynthError
from . import dedup, extract, report, screen
from .common import quiet_option
from .core import demo, import_, init, new_review, set_protocol, status
from .store import grant_reviewers, migrate_store


class _Group(click.Group):
    """A click group that turns library and OS errors into one-line messages."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except EvidenceSynthError as exc:
            raise click.ClickException(_one_line(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(f"{where}{exc.strerror or exc}") from None


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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if len(text) == 1 else f"{text[0]} (+{len(text) - 1} more lines)"


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
