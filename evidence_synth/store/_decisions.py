"""Screening decisions in the review store: append-only events, validated and idempotent."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import StoreError
from . import schema
from ._database import Database, now
from ._text_check import refuse_lone_surrogates
from .vocabulary import ACTORS, STAGE_DECISIONS


class _UidTakenError(StoreError):
    """An event_uid was stored by another writer between lookup and insert."""


class DecisionsMixin(Database):
    """Decision events, for :class:`~evidence_synth.store.Review`."""

    def add_decision(
        self,
        record_id: str,
        stage: str,
        decision: str,
        *,
        reviewer: str,
        reason: str | None = None,
        note: str | None = None,
        actor: str = "human",
        kind: str = "screen",
    ) -> int:
        """Append one screening decision event.

        Parameters
        ----------
        record_id : str
        stage : {"title_abstract", "retrieval", "full_text"}
        decision : str
            ``include``/``exclude``/``maybe``; at retrieval ``retrieved``/``not_retrieved``.
        reviewer : str
            Who decided (a person, or the rule set / model name for automation).
        reason : str, optional
            Exclusion reason code (required for exclusions at full text).
        note : str, optional
        actor : {"human", "rule", "model"}, default "human"
        kind : {"screen", "adjudication"}, default "screen"

        Returns
        -------
        int
            The event id.
        """
        return self.add_decisions(
            [{"record_id": record_id, "stage": stage, "decision": decision,
              "reviewer": reviewer, "reason": reason, "note": note, "actor": actor,
              "kind": kind}]
        )[0]

    def add_decisions(self, events: Iterable[Mapping[str, Any]] | pd.DataFrame) -> list[int]:
        """Append several decision events in one transaction (all or none).

        Parameters
        ----------
        events : iterable of mapping or pandas.DataFrame
            Keys as :meth:`add_decision`'s arguments, plus optionally ``event_uid``: a
            client-chosen unique id that makes a retry idempotent (an event whose uid is
            already stored is not stored again; its existing ``event_id`` is returned).

        Returns
        -------
        list of int
            The event ids, in input order.
        """
        rows = events.to_dict("records") if isinstance(events, pd.DataFrame) else list(events)
        payload = [_decision_row(i, e) for i, e in enumerate(rows)]
        refuse_lone_surrogates(payload, what="decision event on record", key="record_id")
        for attempt in (1, 2, 3):
            try:
                return self._append_decisions(payload)
            except _UidTakenError as exc:
                if attempt == 3:
                    raise StoreError(
                        "decision events kept colliding with concurrent writes of the same "
                        f"event_uid ({exc}); nothing was written"
                    ) from exc
        raise AssertionError("unreachable")

    def _append_decisions(self, payload: list[dict[str, Any]]) -> list[int]:
        table = schema.decision_events
        ids: list[int] = []
        with self._begin() as conn:
            known = self._existing_record_ids(conn, {p["record_id"] for p in payload})
            missing = sorted({p["record_id"] for p in payload} - known)
            if missing:
                raise StoreError(
                    f"decision for unknown record_id(s) {missing[:5]}"
                    + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
                )
            stored = self._stored_events(conn, [p["event_uid"] for p in payload])
            fresh = [item for item in payload if item["event_uid"] not in stored]
            new_ids: dict[str, int] = {}
            if fresh:
                try:
                    inserted = conn.execute(
                        table.insert().returning(table.c.event_uid, table.c.event_id,
                                                 sort_by_parameter_order=True),
                        fresh,
                    )
                except sa.exc.IntegrityError as exc:
                    # a concurrent retry stored one of these uids after the lookup above:
                    # roll back and look again (its event is then reused, not duplicated)
                    raise _UidTakenError(str(exc.orig).splitlines()[0]) from exc
                new_ids = {uid: int(event_id) for uid, event_id in inserted}
            for item in payload:
                earlier = stored.get(item["event_uid"])
                ids.append(new_ids[item["event_uid"]] if earlier is None
                           else _same_event(earlier, item))
        return ids

    def _stored_events(self, conn: Connection, uids: list[str]) -> dict[str, Mapping[str, Any]]:
        table = schema.decision_events
        found: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(uids), 900):
            chunk = uids[start : start + 900]
            query = sa.select(table).where(table.c.event_uid.in_(chunk))
            found.update({row["event_uid"]: row for row in conn.execute(query).mappings()})
        return found

    def _existing_record_ids(self, conn: Connection, wanted: set[str]) -> set[str]:
        col = schema.records.c.record_id
        found: set[str] = set()
        items = sorted(wanted)
        for start in range(0, len(items), 900):
            chunk = items[start : start + 900]
            found.update(conn.execute(sa.select(col).where(col.in_(chunk))).scalars())
        return found

    def decisions(
        self, *, stage: str | None = None, reviewer: str | None = None
    ) -> pd.DataFrame:
        """Decision events, oldest first.

        Parameters
        ----------
        stage, reviewer : str, optional
            Filters.

        Returns
        -------
        pandas.DataFrame
            Columns ``event_id, event_uid, record_id, stage, decision, reason, note,
            reviewer, actor, kind, created_at``.
        """
        table = schema.decision_events
        query = sa.select(table).order_by(table.c.event_id)
        if stage is not None:
            query = query.where(table.c.stage == stage)
        if reviewer is not None:
            query = query.where(table.c.reviewer == reviewer)
        with self._connect() as conn:
            return pd.DataFrame(
                conn.execute(query).mappings().all(), columns=[c.name for c in table.columns]
            )


def _decision_row(index: int, event: Mapping[str, Any]) -> dict[str, Any]:
    stage, decision = event.get("stage"), event.get("decision")
    where = f"decision event {index} (record {event.get('record_id')!r})"
    if stage not in STAGE_DECISIONS:
        raise StoreError(f"{where}: stage must be one of {', '.join(STAGE_DECISIONS)}, "
                         f"got {stage!r}")
    if decision not in STAGE_DECISIONS[stage]:
        raise StoreError(f"{where}: decision at {stage} must be one of "
                         f"{', '.join(STAGE_DECISIONS[stage])}, got {decision!r}")
    actor = event.get("actor") or "human"
    if actor not in ACTORS:
        raise StoreError(f"{where}: actor must be one of {', '.join(ACTORS)}, got {actor!r}")
    kind = event.get("kind") or "screen"
    if kind not in ("screen", "adjudication"):
        raise StoreError(f"{where}: kind must be 'screen' or 'adjudication', got {kind!r}")
    reviewer = event.get("reviewer")
    require_reviewer(reviewer, where=where)
    return {
        "event_uid": str(event.get("event_uid") or uuid.uuid4().hex),
        "record_id": str(event["record_id"]),
        "stage": stage,
        "decision": decision,
        "reason": _optional_text(event.get("reason")),
        "note": _optional_text(event.get("note")),
        "reviewer": reviewer,
        "actor": actor,
        "kind": kind,
        "created_at": event.get("created_at") or now(),
    }


def _same_event(stored: Mapping[str, Any], item: Mapping[str, Any]) -> int:
    """A retried event (same ``event_uid``) is stored once; a reused uid is an error."""
    fields = ("record_id", "stage", "decision", "reviewer", "reason", "actor", "kind")
    changed = [f for f in fields if stored[f] != item[f]]
    if changed:
        raise StoreError(
            f"event_uid {item['event_uid']!r} was already used for a different decision "
            f"(differs in {', '.join(changed)})"
        )
    return int(stored["event_id"])


def _optional_text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def require_reviewer(reviewer: Any, *, where: str = "") -> None:
    """Refuse an event without the person (or tool) who made it."""
    if not isinstance(reviewer, str) or not reviewer.strip():
        prefix = f"{where}: " if where else ""
        raise StoreError(f"{prefix}reviewer (who decided) is required, got {reviewer!r}")

