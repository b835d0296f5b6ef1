"""Deduplication in the review store: duplicate groups per run and manual pair verdicts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from ..errors import StoreError
from . import schema
from ._database import BATCH, Database, now
from ._decisions import require_reviewer

if TYPE_CHECKING:
    from ..dedup import DedupResult


class DuplicatesMixin(Database):
    """Dedup runs and pair decisions, for :class:`~evidence_synth.store.Review`."""

    def save_duplicate_groups(
        self, groups: pd.DataFrame, *, params: Mapping[str, Any] | None = None
    ) -> int:
        """Store the groups of one deduplication run; returns its ``run_id``.

        Parameters
        ----------
        groups : pandas.DataFrame
            One row per record: ``record_id``, ``group_id``, ``is_primary`` and optionally
            ``study_id`` (defaults to ``group_id``).
        params : mapping, optional
            The options of the run, stored as JSON.
        """
        frame = groups.copy()
        if "study_id" not in frame:
            frame["study_id"] = frame["group_id"]
        with self._begin() as conn:
            run_id = conn.execute(
                schema.dedup_runs.insert().values(
                    created_at=now(),
                    params=json.dumps(dict(params or {}), sort_keys=True, default=str),
                    n_records=len(frame),
                    n_groups=int(frame["group_id"].nunique()),
                )
            ).inserted_primary_key[0]
            payload = [
                {"run_id": run_id, "record_id": str(r.record_id), "group_id": str(r.group_id),
                 "study_id": str(r.study_id), "is_primary": bool(r.is_primary)}
                for r in frame.itertuples(index=False)
            ]
            for start in range(0, len(payload), BATCH):
                conn.execute(schema.duplicate_groups.insert(), payload[start : start + BATCH])
        return int(run_id)

    def duplicate_groups(self, *, run_id: int | None = None) -> pd.DataFrame:
        """Groups of a deduplication run (the newest by default).

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, group_id, study_id, is_primary, run_id``; empty when the
            review was never deduplicated.
        """
        g = schema.duplicate_groups
        with self._connect() as conn:
            if run_id is None:
                run_id = conn.execute(sa.select(sa.func.max(schema.dedup_runs.c.run_id))).scalar()
            cols = ["record_id", "group_id", "study_id", "is_primary", "run_id"]
            if run_id is None:
                return pd.DataFrame(columns=cols)
            rows = conn.execute(
                sa.select(g.c.record_id, g.c.group_id, g.c.study_id, g.c.is_primary, g.c.run_id)
                .where(g.c.run_id == run_id)
                .order_by(g.c.record_id)
            ).all()
        return pd.DataFrame(rows, columns=cols)

    def deduplicate(self, **options: Any) -> DedupResult:
        """Deduplicate the review's records, applying its stored pair decisions, and save the
        groups as a new run (:func:`evidence_synth.dedup.find_duplicates` for ``options``)."""
        from ..dedup import deduplicate_review

        return deduplicate_review(self, **options)

    def add_pair_decision(
        self,
        record_id_1: str,
        record_id_2: str,
        decision: str,
        *,
        reviewer: str,
        note: str | None = None,
    ) -> int:
        """Record a person's verdict on a candidate duplicate pair (an event).

        Parameters
        ----------
        record_id_1, record_id_2 : str
            The pair (order does not matter).
        decision : {"match", "distinct"}
        reviewer : str
            Who decided.
        note : str, optional

        Returns
        -------
        int
            The event id.
        """
        if decision not in ("match", "distinct"):
            raise StoreError(f"pair decision must be 'match' or 'distinct', got {decision!r}")
        require_reviewer(reviewer)
        a, b = sorted((str(record_id_1), str(record_id_2)))
        with self._begin() as conn:
            result = conn.execute(
                schema.pair_decisions.insert().values(
                    record_id_1=a, record_id_2=b, decision=decision, reviewer=reviewer,
                    note=note, created_at=now(),
                )
            )
        return int(result.inserted_primary_key[0])

    def pair_decisions(self, *, latest: bool = True) -> pd.DataFrame:
        """Manual duplicate-pair decisions.

        Parameters
        ----------
        latest : bool, default True
            Keep only the newest decision per pair (the one that counts).

        Returns
        -------
        pandas.DataFrame
            Columns ``event_id, record_id_1, record_id_2, decision, reviewer, note,
            created_at``.
        """
        table = schema.pair_decisions
        with self._connect() as conn:
            frame = pd.DataFrame(
                conn.execute(sa.select(table).order_by(table.c.event_id)).mappings().all(),
                columns=[c.name for c in table.columns],
            )
        if latest and len(frame):
            frame = frame.drop_duplicates(["record_id_1", "record_id_2"], keep="last")
        return frame.reset_index(drop=True)
