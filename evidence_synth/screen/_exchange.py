"""Decisions exchanged as CSV with reviewers who screen elsewhere."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from .. import columns as C  # noqa: N812
from ..errors import ParseError
from ..spreadsheet import restore_cell, write_csv

_EXPORT_COLUMNS = ["record_id", "stage", "decision", "reason", "note", "reviewer", "actor",
                   "kind", "created_at", "title"]


class ExchangeMixin:
    """:meth:`export_decisions` and :meth:`import_decisions` of :class:`.Screening`."""

    def export_decisions(self, path: str | os.PathLike[str], *,
                         all_reviewers: bool | None = None) -> pd.DataFrame:
        """Write the latest human decision per record and reviewer of this stage to CSV.

        Screening and adjudication decisions are written (column ``kind``); automatic
        (rule) exclusions stay in the store. Text a spreadsheet would run as a formula
        gets a ``'`` prefix, which :meth:`import_decisions` removes.

        Parameters
        ----------
        path : path-like
        all_reviewers : bool, optional
            Every reviewer's decisions (``True``) or only this session's reviewer's
            (``False``). Default: only this reviewer's in a blind session, every
            reviewer's otherwise.

        Raises
        ------
        StoreError
            ``all_reviewers=True`` in a blind session (naming the reviewer): a blind
            reviewer never sees others' decisions; the lead exports them from a session
            opened with ``blind=False``.

        Returns
        -------
        pandas.DataFrame
            What was written: ``record_id, stage, decision, reason, note, reviewer,
            actor, kind, created_at, title``.
        """
        if all_reviewers is None:
            all_reviewers = not self.blind
        if all_reviewers and self.blind:
            self._refuse_blind("export_decisions(all_reviewers=True)")
        events = self._decisions(self.stage, None if all_reviewers else self.reviewer)
        events = events[events["actor"] == "human"]
        latest = events.drop_duplicates(["record_id", "reviewer", "kind"], keep="last")
        titles = self.review.records().set_index(C.RECORD_ID)[C.TITLE]
        out = latest.assign(title=latest["record_id"].map(titles))[_EXPORT_COLUMNS]
        write_csv(out, path)
        return out.reset_index(drop=True)

    def import_decisions(self, path: str | os.PathLike[str], *, reviewer: str | None = None
                         ) -> pd.DataFrame:
        """Import decisions made elsewhere from a CSV file, all or nothing.

        Required columns: ``record_id`` and ``decision``; optional ``reason``, ``note``,
        ``reviewer`` (``reviewer=`` wins over the column, which wins over the session's
        reviewer), ``stage`` (must be this stage), ``kind``
        (``screen`` or ``adjudication``) and ``actor`` (must be ``human``). Rows with an
        empty decision are skipped (so a filled-in :meth:`queue` export can be imported),
        as are rows identical to the reviewer's current latest decision (importing a file
        twice writes nothing new).

        Raises
        ------
        ParseError
            Naming the file and the CSV line of every bad row (unknown record id, decision
            or reason not allowed, missing reviewer, other stage); ``.problems`` has
            columns ``line, record_id, problem``.

        Returns
        -------
        pandas.DataFrame
            The events written: ``record_id, decision, reason, note, reviewer, kind``
            (string, ``<NA>`` when empty) and ``event_id``.
        """
        file = Path(path)
        rows = _read_csv_rows(file)
        known = set(self.review.records()[C.RECORD_ID].astype(str))
        pool = self._pool_ids()
        screened = {(row.get("record_id") or "").strip() for _line, row in rows
                    if (row.get("decision") or "").strip()
                    and (row.get("kind") or "").strip() in ("", "screen")}
        problems, events = [], []
        seen: dict[tuple[str, str, str], int] = {}
        for line, row in rows:
            decision = (row.get("decision") or "").strip()
            if not decision:
                continue
            rid = (row.get("record_id") or "").strip()
            who = (reviewer or row.get("reviewer") or self.reviewer or "").strip()
            reason = (row.get("reason") or "").strip() or None
            note = (row.get("note") or "").strip() or None
            stage = (row.get("stage") or "").strip() or self.stage
            kind = (row.get("kind") or "").strip() or "screen"
            actor = (row.get("actor") or "").strip() or "human"
            key = (rid, who, kind)
            issue = None
            if key in seen:
                issue = (f"second decision for record {rid!r} by {who!r} (first on line "
                         f"{seen[key]}); keep one row per record and reviewer")
            elif rid not in known:
                issue = f"unknown record_id {rid!r}"
            elif stage != self.stage:
                issue = f"stage {stage!r} in a file imported at stage {self.stage!r}"
            elif not who:
                issue = "no reviewer (add a reviewer column or pass reviewer=)"
            elif kind not in ("screen", "adjudication"):
                issue = f"kind must be screen or adjudication, got {kind!r}"
            elif actor != "human":
                issue = f"only human decisions can be imported, got actor {actor!r}"
            else:
                issue = (self._decision_problem(decision, reason)
                         or self._record_problem(rid, kind, pool, screened))
            seen.setdefault(key, line)
            if issue:
                problems.append((line, rid, issue))
                continue
            events.append({"record_id": rid, "stage": self.stage, "decision": decision,
                           "reason": reason, "note": note, "reviewer": who, "kind": kind})
        if problems:
            frame = pd.DataFrame(problems, columns=["line", "record_id", "problem"])
            lines = "\n".join(f"  line {ln}: {p}" for ln, _r, p in problems[:20])
            more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
            raise ParseError(f"{len(problems)} bad row(s), nothing imported:\n{lines}{more}",
                             path=file, problems=frame)
        events = self._new_only(events)
        ids = self.review.add_decisions(events) if events else []
        cols = ["record_id", "decision", "reason", "note", "reviewer", "kind"]
        out = pd.DataFrame(events, columns=[*cols, "stage"])[cols].astype("string")
        return out.assign(event_id=pd.array(ids, dtype="Int64"))

    def _new_only(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        latest = self._decisions(self.stage)
        latest = latest[latest["actor"] == "human"].drop_duplicates(
            ["record_id", "reviewer", "kind"], keep="last")
        current = {(r.record_id, r.reviewer, r.kind): (r.decision, _none(r.reason),
                                                       _none(r.note))
                   for r in latest.itertuples(index=False)}
        return [e for e in events
                if current.get((e["record_id"], e["reviewer"], e["kind"]))
                != (e["decision"], e["reason"], e["note"])]


def _read_csv_rows(path: Path) -> list[tuple[int, Mapping[str, str]]]:
    from ..io._csv_rows import read_csv_rows

    rows = read_csv_rows(path, required=("record_id", "decision"))[1]
    return [(line, {k: restore_cell(v) for k, v in row.items()}) for line, row in rows]


def _none(value: Any) -> Any:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else value
