"""Options and helpers shared by the commands (kept free of heavy imports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ..reviews import ReviewFiles
    from ..store import Review


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        from ..progress import set_quiet

        set_quiet(True)


#: ``-q/--quiet``: no progress bars (they are also off when standard error is no terminal).
quiet_option = click.option(
    "-q", "--quiet", is_flag=True, expose_value=False, is_eager=True, callback=_set_quiet,
    help="No progress bars (also off when standard error is not a terminal).")


def stored_review_files(store: Review, *, needed: str) -> ReviewFiles | None:
    """The protocol and files stored in ``store``; ``None`` when it has no protocol.

    ``needed`` says what the caller needs them for, in the error when the protocol names
    files the store holds no copy of.
    """
    from ..errors import StoreError
    from ..reviews import ReviewFiles

    if store.protocol is None:
        return None
    try:
        return ReviewFiles.from_review(store)
    except StoreError as exc:
        raise click.ClickException(f"{exc} ({needed})") from None


def echo_note(text: str) -> None:
    """A note on standard error (what was used by default)."""
    click.echo(f"note: {text}", err=True)
