"""merge_duplicates: one row per group, best value per field, provenance of every member."""

from __future__ import annotations

import contextlib
from typing import Any

import pandas as pd

from ..errors import ContractError
from ._result import DedupResult

_LONGEST = ("abstract", "title", "journal", "pages")


def _present(value: Any) -> bool:
    if isinstance(value, (list, dict)):
        return bool(value)
    return value is not None and not pd.isna(value) and str(value).strip() != ""


def _best(column: str, values: list[Any], primary_first: list[int]) -> Any:
    ordered = [values[k] for k in primary_first]
    present = [v for v in ordered if _present(v)]
    if not present:
        return ordered[0] if ordered else pd.NA
    if column == "authors":
        return max(present, key=len)
    if column == "keywords":
        seen: list[str] = []
        for v in present:
            seen += [x for x in v if x not in seen]
        return seen
    if column == "raw":
        return present[0]
    if column in _LONGEST:
        return max(present, key=lambda v: len(str(v)))
    return present[0]


def merge_duplicates(records: pd.DataFrame, result: DedupResult) -> pd.DataFrame:
    """One row per duplicate group, filled with the best value of each field.

    Nothing is deleted: every member's id and source stay in the provenance columns, so
    the merge can be undone from ``result.groups``.

    Parameters
    ----------
    records : pandas.DataFrame
        The records given to :func:`find_duplicates` (not modified).
    result : DedupResult
        Its result.

    Returns
    -------
    pandas.DataFrame
        The columns of ``records`` (``record_id`` is the primary record's id) with, per
        field, the primary record's value or, where better, another member's: the longest
        abstract, title, journal and pages, the longest author list, the union of
        keywords, otherwise the first non-missing value starting from the primary record.
        Plus ``group_id``, ``study_id``, ``member_ids`` (list of record ids, primary first),
        ``n_members`` and ``provenance`` (list of ``{"record_id", "source_id",
        "source_row"}`` for every member). One row per group, in order of first appearance.
    """
    groups = result.groups
    if len(groups) != len(records) or not (
        groups["record_id"].to_numpy() == records["record_id"].astype("string").to_numpy()
    ).all():
        raise ContractError("result does not belong to these records: expected the same "
                            "record_id values in the same order as given to find_duplicates")
    frame = records.reset_index(drop=True)
    columns = list(frame.columns)
    rows = []
    order = groups.assign(_pos=range(len(groups)), _prim=~groups["is_primary"])
    order = order.sort_values(["_prim", "_pos"], kind="mergesort")
    members_by_group = order.groupby("group_id", sort=False)["_pos"].apply(list)
    first_seen = groups.drop_duplicates("group_id")["group_id"]
    data = {c: frame[c].tolist() for c in columns}
    for gid in first_seen:
        members = members_by_group[gid]
        row = {c: _best(c, data[c], members) for c in columns}
        row["record_id"] = data["record_id"][members[0]]
        row["group_id"] = gid
        row["study_id"] = groups["study_id"].iat[members[0]]
        row["member_ids"] = [str(data["record_id"][k]) for k in members]
        row["n_members"] = len(members)
        row["provenance"] = [
            {"record_id": str(data["record_id"][k]),
             "source_id": _plain(data["source_id"][k]) if "source_id" in data else None,
             "source_row": _plain(data["source_row"][k]) if "source_row" in data else None}
            for k in members
        ]
        rows.append(row)
    out = pd.DataFrame(rows, columns=[*columns, "group_id", "study_id", "member_ids",
                                      "n_members", "provenance"])
    for c in columns:
        with contextlib.suppress(TypeError, ValueError):
            out[c] = out[c].astype(records[c].dtype)
    return out


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
