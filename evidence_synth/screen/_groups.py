"""Duplicate groups in a screening session: which record stands for each group.

Deduplication can be re-run after a search update, and the new run may choose another
primary record for a group whose old primary was screened already (a fuller copy of the
record came in). The session keeps screening the record people have seen: a group is
represented by its first member with a title/abstract decision, else by its primary, and
the decisions on any member count for the group, as they do in the PRISMA counts.
"""

from __future__ import annotations

import pandas as pd


def representatives(groups: pd.DataFrame, events: pd.DataFrame) -> dict[str, str]:
    """Record id -> the record that stands for its duplicate group.

    Parameters
    ----------
    groups : pandas.DataFrame
        A deduplication run (:meth:`Review.duplicate_groups`): ``record_id, group_id,
        is_primary``.
    events : pandas.DataFrame
        Title/abstract decision events, oldest first.

    Returns
    -------
    dict
        Every member of a group of two or more records -> its group's representative
        (itself included).
    """
    if groups.empty:
        return {}
    members = groups.assign(record_id=groups["record_id"].astype(str))
    size = members.groupby("group_id")["record_id"].transform("size")
    members = members[size > 1]
    first = events.sort_values("event_id", kind="stable").drop_duplicates("record_id")
    decided_at = dict(zip(first["record_id"].astype(str), first["event_id"], strict=True))
    members = members.assign(
        _decided=members["record_id"].map(decided_at).astype("Float64").fillna(float("inf")),
        _secondary=~members["is_primary"].astype(bool),
    ).sort_values(["group_id", "_decided", "_secondary", "record_id"], kind="stable")
    chosen = members.drop_duplicates("group_id").set_index("group_id")["record_id"]
    return dict(zip(members["record_id"], members["group_id"].map(chosen), strict=True))


def on_groups(events: pd.DataFrame, stand_for: dict[str, str]) -> pd.DataFrame:
    """Events with each record id replaced by its group's representative."""
    if not stand_for or events.empty:
        return events
    ids = events["record_id"].astype(str)
    return events.assign(record_id=ids.map(stand_for).fillna(ids).astype(events["record_id"].dtype))
