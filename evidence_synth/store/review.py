"""The review store: one SQLite file per review by default, PostgreSQL by URL.

A :class:`Review` holds the sources (PRISMA-S items), the imported records with their raw
fields, protocol snapshots, deduplication runs and pair decisions, screening decision
events and extraction rows. Event tables are append-only in the database itself.

:class:`Review` is composed of one mixin per section of the store, each in its own module:
``_protocol`` (protocol snapshots), ``_records`` (sources and records), ``_maps`` (evidence
gap maps), ``_duplicates`` (dedup runs and pair verdicts), ``_decisions`` (screening
decision events) and ``_extraction`` (extraction rows), all on the engine, transactions
and migrations of ``_database``. This module opens a store and gives the overview
(:meth:`Review.count`, :meth:`Review.status`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from . import schema
from ._database import make_engine
from ._decisions import DecisionsMixin
from ._duplicates import DuplicatesMixin
from ._extraction import ExtractionMixin
from ._maps import MapsMixin
from ._protocol import ProtocolMixin
from .urls import mask_url, redact
from .vocabulary import ACTORS, SOURCE_KINDS, STAGE_DECISIONS


def open_review(path_or_url: str | os.PathLike[str], *, create: bool = True) -> Review:
    """Open (or create) the review store at a path or database URL.

    Parameters
    ----------
    path_or_url : str or path-like
        A file path (a SQLite file is created there) or a SQLAlchemy URL such as
        ``sqlite:///review.db`` or ``postgresql+psycopg://user@host/db``.
    create : bool, default True
        Create the store when it does not exist; otherwise raise :class:`StoreError` when
        there is no store: a missing or empty (0-byte) file, or a database without the
        store's tables. Every command that reads a store opens it with ``create=False``.

    Returns
    -------
    Review
    """
    text = os.fspath(path_or_url)
    if "://" in text:
        url = text
    else:
        path = Path(text)
        if path.is_dir():
            raise StoreError(f"{path}: is a directory, expected a review store file")
        if not create and (not path.exists() or path.stat().st_size == 0):
            state = "an empty file" if path.exists() else "no such file"
            raise StoreError(
                f"{path}: no review store here ({state}); create one with "
                "`evidence-synth init` or open_review(path)"
            )
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{path}"
    return Review(url, create=create)


class Review(ProtocolMixin, MapsMixin, DuplicatesMixin, DecisionsMixin, ExtractionMixin):
    """A systematic review's store. Use :func:`open_review` to get one.

    Attributes
    ----------
    url : str
        The SQLAlchemy URL of the store.
    engine : sqlalchemy.engine.Engine
    """

    def __init__(self, url: str, *, create: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            self._migrate(create=create)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise StoreError(
                f"{mask_url(url)}: cannot open review store: {redact(str(exc), url)}"
            ) from exc
        except BaseException:
            self.engine.dispose()
            raise

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def __enter__(self) -> Review:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Review({mask_url(self.url)!r})"

    def count(self, table: str) -> int:
        """Number of rows in one of the store's tables."""
        target = schema.metadata.tables[table]
        with self._connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(target)).scalar_one())

    def status(self) -> pd.DataFrame:
        """Counts per source and stage.

        Returns
        -------
        pandas.DataFrame
            One row per source with columns ``source_id, database, kind, records``, then
            one column per ``<stage>:<decision>`` counting records whose latest decision
            (any reviewer) at that stage is that decision.
        """
        src = self.sources()[["source_id", "database", "kind", "record_count"]]
        src = src.rename(columns={"record_count": "records"})
        events = self.decisions()
        if len(events):
            owners = self.record_sources()
            latest = events.drop_duplicates(["record_id", "stage"], keep="last")
            latest = latest.merge(owners, on="record_id")
            latest["what"] = latest["stage"] + ":" + latest["decision"]
            table = latest.pivot_table(index="source_id", columns="what", values="record_id",
                                       aggfunc="count", fill_value=0)
            src = src.merge(table, left_on="source_id", right_index=True, how="left")
            decided = [c for c in src.columns if ":" in c]
            src[decided] = src[decided].fillna(0).astype(int)
        return src.reset_index(drop=True)


__all__ = ["ACTORS", "SOURCE_KINDS", "STAGE_DECISIONS", "Review", "open_review"]
