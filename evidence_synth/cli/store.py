"""Store administration: ``migrate-store`` and ``grant-reviewers``."""

from __future__ import annotations

import click


@click.command("migrate-store")
@click.argument("source")
@click.argument("destination")
def migrate_store(source: str, destination: str) -> None:
    """Copy the review at SOURCE into the new, empty store DESTINATION.

    Either side may be a SQLite file or a PostgreSQL URL. Row counts and a content hash
    of every table are compared on both sides afterwards; any difference is an error.
    """
    from ..store import open_review
    from ..store.copy import copy_review

    with open_review(source, create=False) as src, open_review(destination) as dst:
        report = copy_review(src, dst)
    click.echo(report.summary())
    click.echo(f"copied {int(report.table['rows_source'].sum())} rows; every table identical")


@click.command("grant-reviewers")
@click.argument("url")
@click.option("--reviewer", "reviewers", multiple=True, help="Login role of a screener.")
@click.option("--adjudicator", "adjudicators", multiple=True,
              help="Login role allowed to write adjudication events.")
@click.option("--admin", "admins", multiple=True,
              help="Login role allowed to import and to write for others (automation).")
@click.option("--reader", "readers", multiple=True, help="Read-only login role.")
def grant_reviewers(url: str, reviewers: tuple[str, ...], adjudicators: tuple[str, ...],
                    admins: tuple[str, ...], readers: tuple[str, ...]) -> None:
    """Create PostgreSQL roles and grants so each person writes under their own identity.

    Run as a superuser on the review database URL. Set passwords afterwards with
    ALTER ROLE name PASSWORD '...' (or use the site's authentication).
    """
    from ..store import open_review
    from ..store.access import grant_reviewers as _grant

    with open_review(url, create=False) as review:
        report = _grant(review, reviewers=reviewers, adjudicators=adjudicators,
                        admins=admins, readers=readers)
    click.echo(report.summary())
