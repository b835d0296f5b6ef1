"""The report's study-level tables: one study id scheme, the unintended-effects summary,
and everything that could not be placed on the gap map."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ._gapmap_inputs import UNINTENDED, citation

if TYPE_CHECKING:
    from ..crosswalk import Crosswalk
    from ..store import Review
    from .gapmap import GapMap

UNINTENDED_TABLE_COLUMNS = ("study_id", "citation", "intervention", "effect", "effect_class",
                            "direction", "harm_category", "evidence_source", "on_map")
UNPLACED_COLUMNS = ("study_id", "citation", "origin", "what", "reason", "elsewhere_on_map")


def review_study_ids(review: Review, evidence: Any) -> tuple[dict[str, str], list[str]]:
    """The review's study id (its duplicate group's ``study_id``) of each evidence study.

    An evidence-table study is linked through its ``record_ids``. Returns the mapping
    (evidence study id -> review study id) and notes on studies that keep their own id
    (no linked record, records in several review studies, or two studies linked to one).
    """
    groups = review.duplicate_groups()
    studies = getattr(evidence, "studies", None) or []
    if groups.empty or not studies:
        return {}, []
    study_of = dict(zip(groups["record_id"], groups["study_id"], strict=True))
    mapping: dict[str, str] = {}
    notes = []
    for study in studies:
        sid = study["study_id"]
        found = sorted({study_of[r] for r in study.get("record_ids") or [] if r in study_of})
        if len(found) == 1:
            mapping[sid] = found[0]
        elif found:
            notes.append(f"evidence-table study {sid!r}: its records belong to several "
                         f"review studies ({', '.join(found)}); it keeps its own id")
        else:
            notes.append(f"evidence-table study {sid!r} lists no record of the review "
                         "(record_ids); it keeps its own id and is not linked to PRISMA")
    targets = pd.Series(mapping)
    for target in targets[targets.duplicated(keep=False)].unique():
        shared = sorted(targets[targets == target].index)
        notes.append(f"evidence-table studies {', '.join(map(repr, shared))} are all reports "
                     f"of review study {target!r}; they keep their own ids (merge them)")
        for sid in shared:
            mapping.pop(sid)
    return mapping, notes


def rename_evidence(evidence: Any, mapping: dict[str, str]) -> Any:
    """The evidence with the review's study ids (an EvidenceTable keeps the old id in
    ``aliases``)."""
    if not mapping:
        return evidence
    if hasattr(evidence, "rename_studies"):
        return evidence.rename_studies(mapping)
    frame = evidence.to_frame() if hasattr(evidence, "to_frame") else evidence
    return frame.assign(study_id=frame["study_id"].map(lambda s: mapping.get(s, s)))


def map_rows_as_review_studies(rows: pd.DataFrame, review: Review) -> pd.DataFrame:
    """Name rows whose study id is a record id (the previous map's) by their review study;
    a study any of whose records comes from the previous version is
    ``origin="previous_map"``, in every row."""
    groups = review.duplicate_groups()
    if groups.empty:
        return rows
    study_of = dict(zip(groups["record_id"], groups["study_id"], strict=True))
    sources = review.sources()
    previous = set(sources.loc[sources["kind"] == "previous_version", "source_id"])
    records = review.records()[["record_id", "source_id"]]
    previous_ids = records.loc[records["source_id"].isin(previous), "record_id"]
    previous_studies = {study_of[r] for r in previous_ids if r in study_of}
    out = rows.assign(study_id=[study_of.get(s, s) for s in rows["study_id"]])
    out.loc[out["study_id"].isin(previous_studies), "origin"] = "previous_map"
    return out


def unintended_table(evidence: pd.DataFrame, gm: GapMap | None,
                     labels: dict[str, str]) -> pd.DataFrame:
    """One row per evidence row coding an unintended effect, for the report.

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id, citation, intervention`` (label), ``effect`` (the codebook
        label of its code, or the outcome's label, with the domain), ``effect_class,
        direction, harm_category, evidence_source`` and ``on_map`` (``yes``, or why not).
    """
    rows = evidence[evidence["effect_class"].isin(UNINTENDED)]
    placed, why = set(), {}
    if gm is not None:
        placed = set(zip(gm.evidence["study_id"], gm.evidence["estimate_id"],
                         gm.evidence["outcome"], strict=True))
        why = {(u.study_id, u.estimate_id, u.outcome): u.reason
               for u in gm.unmapped.itertuples()}
    out = []
    for r in rows.itertuples():
        outcome = labels.get(r.outcome, r.outcome)
        domain = labels.get(r.domain, r.domain) if r.domain else ""
        effect = r.effect_label or outcome
        detail = [x for x in (outcome if effect != outcome else "",
                              domain if domain not in (effect, outcome) else "") if x]
        key = (r.study_id, r.estimate_id, r.outcome)
        out.append({
            "study_id": r.study_id, "citation": citation(r.title, r.year),
            "intervention": labels.get(r.intervention, r.intervention),
            "effect": effect + (f" ({'; '.join(detail)})" if detail else ""),
            "effect_class": r.effect_class.replace("unintended_", ""),
            "direction": r.direction, "harm_category": r.harm_category.replace("_", " "),
            "evidence_source": r.source,
            "on_map": "yes" if gm is None or key in placed else f"no: {why.get(key, '?')}",
        })
    frame = pd.DataFrame(out, columns=list(UNINTENDED_TABLE_COLUMNS))
    return frame.sort_values(["study_id", "intervention", "effect"], kind="stable",
                             ignore_index=True)


def unplaced_table(gm: GapMap | None, walk: Crosswalk | None, *, study_of: dict[str, str],
                   titles: dict[str, str]) -> pd.DataFrame:
    """Everything coded that is not on the map, with the reason.

    Rows: evidence rows the gap map could not place (``GapMap.unmapped``) and codes of the
    previous map that match no node of the framework (``Crosswalk.unmatched``).

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id, citation, origin, what, reason, elsewhere_on_map``
        (``yes`` when the study is on the map through other rows or codes).
    """
    on_map = set(gm.evidence["study_id"]) if gm is not None else set()
    out = []
    if gm is not None:
        for u in gm.unmapped.itertuples():
            out.append({"study_id": u.study_id, "citation": citation(u.title, u.year),
                        "origin": u.origin.replace("_", " "),
                        "what": f"{u.intervention or '-'} x {u.outcome or '-'}",
                        "reason": u.reason})
    if walk is not None:
        for u in walk.unmatched.itertuples():
            sid = study_of.get(u.record_id, u.record_id)
            out.append({"study_id": sid, "citation": titles.get(sid, ""),
                        "origin": "previous map",
                        "what": f"code {u.label!r} ({u.node_id})", "reason": u.reason})
    frame = pd.DataFrame(out, columns=list(UNPLACED_COLUMNS[:-1]))
    frame["elsewhere_on_map"] = ["yes" if s in on_map else "no" for s in frame["study_id"]]
    return frame.drop_duplicates(ignore_index=True)
