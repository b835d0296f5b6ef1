"""Reading the review store for PRISMA: groups, branches and final decisions per stage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

DBR_KINDS = ("database", "register")
PASS = ("include", "maybe")
SCREENING_STAGES = ("title_abstract", "retrieval", "full_text")
NO_REASON = "No reason recorded"


def _groups(dedup: pd.DataFrame, owners: pd.DataFrame) -> pd.DataFrame:
    merged = owners.merge(dedup[["record_id", "group_id", "study_id", "is_primary", "run_id"]],
                          on="record_id", how="left")
    single = merged["group_id"].isna()
    merged["singleton"] = single
    merged.loc[single, "group_id"] = "record:" + merged.loc[single, "record_id"]
    merged.loc[single, "study_id"] = merged.loc[single, "group_id"]
    merged.loc[single, "is_primary"] = True
    merged["is_primary"] = merged["is_primary"].astype(bool)
    return merged


def _branches(groups: pd.DataFrame) -> dict[str, str]:
    flags = pd.DataFrame({
        "group_id": groups["group_id"],
        "previous": groups["kind"] == "previous_version",
        "dbr": groups["kind"].isin(DBR_KINDS),
    }).groupby("group_id", sort=False).any()
    branch = pd.Series("other", index=flags.index, dtype=object)
    branch[flags["dbr"]] = "dbr"
    branch[flags["previous"]] = "previous"
    return branch.to_dict()


def _duplicates(records: pd.DataFrame, own_branch: str) -> pd.DataFrame:
    """Records of one branch that are not the one kept for their group."""
    if records.empty:
        return records
    own = records[records["branch"] == own_branch]
    ranked = own.sort_values(["group_id", "is_primary", "record_id"],
                             ascending=[True, False, True])
    kept = set(ranked.drop_duplicates("group_id")["record_id"])
    return records[~records["record_id"].isin(kept)].reset_index(drop=True)


def _primaries(groups: pd.DataFrame) -> pd.DataFrame:
    ordered = groups.sort_values(["group_id", "is_primary", "record_id"],
                                 ascending=[True, False, True])
    return ordered.drop_duplicates("group_id").reset_index(drop=True)


def _finals(events: pd.DataFrame, reason_order: Mapping[str, int]
            ) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    if events.empty:
        return out
    events = events.sort_values("event_id")
    cols = ["stage", "group_id", "event_id", "decision", "reason", "reviewer", "actor", "kind"]
    by_key: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for row in events[cols].itertuples(index=False, name=None):
        by_key.setdefault((row[0], row[1]), []).append(row)
    for (stage, group_id), rows in by_key.items():
        adjudications = [r for r in rows if r[7] == "adjudication"]
        if adjudications:
            deciding = [adjudications[-1]]
            status, decision = "final", deciding[0][3]
        else:
            latest: dict[str, tuple[Any, ...]] = {}
            for r in rows:
                latest[r[5]] = r  # rows are in event order: the last one per reviewer wins
            deciding = list(latest.values())
            decided = {r[3] for r in deciding}
            if stage == "title_abstract" and decided <= set(PASS):
                decided = {"include"} if "include" in decided else decided
            status = "final" if len(decided) == 1 else "unresolved"
            decision = next(iter(decided)) if status == "final" else None
        reason = None
        if decision == "exclude":
            tally = Counter(r[4] for r in deciding if isinstance(r[4], str) and r[4])
            if tally:
                reason = min(tally, key=lambda c: (-tally[c], reason_order.get(c, 10**6), c))
        actors = {r[6] for r in rows}
        deciding_actors = {r[6] for r in deciding}
        out.setdefault(stage, {})[group_id] = {
            "status": status,
            "decision": decision,
            "reason": reason,
            "actors": actors,
            "any_human": "human" in actors,
            "deciding_human": "human" in deciding_actors,
            "deciding_actor": ",".join(sorted(deciding_actors)),
            "event_ids": [int(r[2]) for r in deciding],
        }
    return out


def _is(final: Mapping[str, Any] | None, decision: str) -> bool:
    return final is not None and final["status"] == "final" and final["decision"] == decision


def _reasons(protocol: Any) -> tuple[dict[str, str], dict[str, int], set[str]]:
    if protocol is None:
        return {}, {}, set()
    try:
        frame = protocol.exclusion_reasons_frame()
    except (AttributeError, KeyError):
        return {}, {}, set()
    labels = {str(c): str(lbl) for c, lbl in zip(frame["code"], frame["label"], strict=True)}
    order = {}
    for i, row in enumerate(frame.itertuples()):
        order[str(row.code)] = int(row.order) if pd.notna(row.order) else 1000 + i
    removed = {str(c) for c, s in zip(frame["code"], frame["stage"], strict=True)
               if str(s) not in SCREENING_STAGES}
    return labels, order, removed


def _label_rank(label: str, labels: Mapping[str, str], order: Mapping[str, int]) -> int:
    for code, lbl in labels.items():
        if lbl == label:
            return order.get(code, 10**6)
    return 10**6 + (1 if label == NO_REASON else 0)


def _record_trace(part: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "record_id": part["record_id"].astype("string"),
        "group_id": part["group_id"].astype("string"),
        "study_id": part["study_id"].astype("string"),
        "source_id": part["source_id"].astype("string"),
    })
    for col in ("decision", "reason", "actor"):
        out[col] = pd.array([pd.NA] * len(out), dtype="string")
    out["event_ids"] = [[] for _ in range(len(out))]
    return out.reset_index(drop=True)


def _group_trace(part: pd.DataFrame, finals: Mapping[str, Mapping[str, Any]] | None
                 ) -> pd.DataFrame:
    out = _record_trace(part)
    if finals is None or out.empty:
        return out
    got = [finals.get(g, {}) for g in part["group_id"]]
    out["decision"] = pd.array([f.get("decision") for f in got], dtype="string")
    out["reason"] = pd.array([f.get("reason") for f in got], dtype="string")
    out["actor"] = pd.array([f.get("deciding_actor") for f in got], dtype="string")
    out["event_ids"] = [list(f.get("event_ids", [])) for f in got]
    return out


def _study_trace(part: pd.DataFrame) -> pd.DataFrame:
    return _record_trace(part.drop_duplicates("study_id"))


def _ids(values: Iterable[Any], limit: int = 5) -> str:
    items = [str(v) for v in values]
    text = ", ".join(items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")
