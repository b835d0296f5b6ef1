"""EPPI-Reviewer outcomes (``References[].Outcomes`` of a JSON report) as one frame.

An EPPI-Reviewer outcome is one effect of one study: the intervention, control and outcome
it compares (codes the study carries, ``ItemAttributeIdIntervention`` ...), the time point
and arms, the data entered (``Data1`` .. ``Data14``, whose meaning depends on the outcome
type and is given by ``Data1Desc`` .. ``Data14Desc``), the effect sizes EPPI-Reviewer
computed from them (``SMD``/``SESMD``, ``OddsRatio``/``SEOddsRatio`` ...) and further
outcome-level codes (``OutcomeCodes.OutcomeItemAttributesList``).

The descriptions per outcome type, used when a report leaves them out, and the meaning of
``Data9``/``Data10`` (cluster size and intra-cluster correlation of EPPI-Reviewer's
unit-of-analysis correction, ``SE * sqrt(1 + (Data9 - 1) * Data10)``) are EPPI-Reviewer's
own (its ``Outcome`` class).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd

#: EPPI-Reviewer's outcome types by ``OutcomeTypeId``.
OUTCOME_TYPES = {
    0: "Manual entry",
    1: "Continuous: Ns, means, and SD",
    2: "Binary: 2 x 2 table",
    3: "Continuous: N, Mean, and SE",
    4: "Continuous: N, Mean, and CI",
    5: "Continuous: N, t- or p-value",
    6: "Diagnostic test: 2 x 2 table",
    7: "Correlation coefficient r",
}
_GROUPS = ("Group 1 N", "Group 2 N", "Group 1 mean", "Group 2 mean")
#: ``Data1Desc`` .. ``Data14Desc`` per outcome type (EPPI-Reviewer's own labels).
DESCRIPTIONS: dict[int, tuple[str, ...]] = {
    0: ("SMD", "standard error", "r", "SE (Z transformed)", "odds ratio", "SE (log OR)",
        "risk ratio", "SE (log RR)", "", "", "risk difference", "standard error",
        "mean difference", "standard error"),
    1: (*_GROUPS, "Group 1 SD", "Group 2 SD"),
    2: ("Group 1 events", "Group 2 events", "Group 1 no events", "Group 2 no events"),
    3: (*_GROUPS, "Group 1 SE", "Group 2 SE"),
    4: (*_GROUPS, "Group 1 CI lower", "Group 2 CI lower", "Group 1 CI upper",
        "Group 2 CI upper"),
    5: ("Group 1 N", "Group 2 N", "t-value", "p-value"),
    6: ("True positive", "False positive", "False negative", "True negative"),
    7: ("group(s) size", "correlation"),
}
#: Names of ``Data9``/``Data10`` when a report gives them no description.
_CLUSTER = {9: "cluster size", 10: "ICC"}

#: Effect-size fields of an outcome: (frame column, EPPI key).
_EFFECTS = (
    ("es", "ES"), ("se", "SEES"), ("ci_lower", "CILower"), ("ci_upper", "CIUpper"),
    ("smd", "SMD"), ("se_smd", "SESMD"), ("md", "MeanDifference"),
    ("se_md", "SEMeanDifference"), ("odds_ratio", "OddsRatio"), ("se_log_or", "SEOddsRatio"),
    ("risk_ratio", "RiskRatio"), ("se_log_rr", "SERiskRatio"),
    ("risk_difference", "RiskDifference"), ("se_rd", "SERiskDifference"),
    ("peto_or", "PetoOR"), ("se_log_peto_or", "SEPetoOR"), ("r", "R"), ("se_z", "SER"),
)

OUTCOME_COLUMNS = (
    "record_id", "outcome_id", "item_set_id", "outcome_type_id", "outcome_type", "data_type",
    "title", "short_title", "description",
    "intervention_id", "intervention", "control_id", "control", "outcome_node_id", "outcome",
    "timepoint", "timepoint_value", "timepoint_metric", "arm1_id", "arm1", "arm2_id", "arm2",
    "es_desc", "se_desc", *(c for c, _ in _EFFECTS), "data", "outcome_codes",
    "outcome_code_labels", "raw",
)
_FLOAT = tuple(c for c, _ in _EFFECTS)
_STRING = ("record_id", "outcome_type", "data_type", "title", "short_title", "description",
           "intervention_id", "intervention", "control_id", "control", "outcome_node_id",
           "outcome", "timepoint", "timepoint_value", "timepoint_metric", "arm1_id", "arm1",
           "arm2_id", "arm2", "es_desc", "se_desc")


def outcomes_frame(refs: list[Mapping[str, Any]], record_ids: list[str], namespace: str,
                   node_id: Any) -> pd.DataFrame:
    """One row per outcome of ``refs`` (the references of an EPPI-Reviewer report).

    Parameters
    ----------
    refs : list of mapping
        The report's ``References``.
    record_ids : list of str
        The record id given to each reference, in the same order.
    namespace : str
        Prefix of node ids.
    node_id : callable
        ``node_id(namespace, value) -> str | None`` (the reader's id rule).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`OUTCOME_COLUMNS`: ``record_id``; ``outcome_id``, ``item_set_id``
        (Int64); ``outcome_type_id`` (Int64), ``outcome_type`` (EPPI's ``OutcomeTypeName``,
        e.g. ``Continuous``), ``data_type`` (what was entered, e.g. ``Continuous: Ns,
        means, and SD``); ``title``, ``short_title``, ``description``;
        ``intervention_id``, ``control_id``, ``outcome_node_id`` (node ids of the codes the
        outcome compares, ``<NA>`` when unset) with their text ``intervention``,
        ``control``, ``outcome``; ``timepoint`` (as displayed), ``timepoint_value``,
        ``timepoint_metric``; ``arm1_id``, ``arm1``, ``arm2_id``, ``arm2``; ``es_desc``,
        ``se_desc``; the effect sizes EPPI-Reviewer stored (float): ``es``, ``se``,
        ``ci_lower``, ``ci_upper``, ``smd``, ``se_smd``, ``md``, ``se_md``, ``odds_ratio``,
        ``se_log_or``, ``risk_ratio``, ``se_log_rr``, ``risk_difference``, ``se_rd``,
        ``peto_or``, ``se_log_peto_or``, ``r``, ``se_z``; ``data`` (dict: the ``Data1`` ..
        ``Data14`` values under their descriptions' names, a repeated description
        prefixed by the one before it, e.g. ``"risk difference standard error"``);
        ``outcome_codes`` and ``outcome_code_labels`` (lists: the outcome-level codes);
        ``raw`` (the outcome object as in the file).
    """
    rows = []
    for rid, ref in zip(record_ids, refs, strict=True):
        for outcome in ref.get("Outcomes") or []:
            if isinstance(outcome, Mapping):
                rows.append(_row(rid, outcome, namespace, node_id))
    frame = pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))
    for column in _STRING:
        frame[column] = frame[column].astype("string")
    for column in ("outcome_id", "item_set_id", "outcome_type_id"):
        frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
    for column in _FLOAT:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (list, dict)):
        return None
    text = str(value).strip()
    return text or None


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number


def _code(namespace: str, value: Any, node_id: Any) -> str | None:
    """Node id of an attribute id; EPPI-Reviewer writes 0 for "not set"."""
    if value in (None, 0, "0", "", []):
        return None
    return node_id(namespace, value)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def type_id(outcome: Mapping[str, Any]) -> int | None:
    """``OutcomeTypeId``, or the type whose descriptions the outcome's ``DataNDesc`` are."""
    known = _int(outcome.get("OutcomeTypeId"))
    if known in OUTCOME_TYPES:
        return known
    given = tuple(_text(outcome.get(f"Data{i}Desc")) or "" for i in range(1, 15))
    for tid, names in DESCRIPTIONS.items():
        if given[:len(names)] == names and not any(given[len(names):]):
            return tid
    return None


def data_fields(outcome: Mapping[str, Any], tid: int | None) -> dict[str, float]:
    """``Data1`` .. ``Data14`` under their descriptions' names (see :func:`outcomes_frame`)."""
    defaults = DESCRIPTIONS.get(tid, ()) if tid is not None else ()
    names: list[str | None] = []
    for i in range(1, 15):
        name = _text(outcome.get(f"Data{i}Desc"))
        if name is None and i <= len(defaults):
            name = defaults[i - 1] or None
        names.append(name)
    out: dict[str, float] = {}
    for i, name in enumerate(names, 1):
        value = _number(outcome.get(f"Data{i}"))
        if value is None:
            continue
        if name is None:
            if not value:
                continue
            name = _CLUSTER.get(i, f"Data{i}")
        if names.count(name) > 1 and i > 1 and names[i - 2]:
            name = f"{names[i - 2]} {name}"
        out[name] = value
    return out


#: Frame column <- EPPI-Reviewer key, read as text, integer or code (a node id; 0 is unset).
_SIMPLE = (
    ("outcome_id", "OutcomeId", "int"), ("item_set_id", "ItemSetId", "int"),
    ("outcome_type", "OutcomeTypeName", "text"), ("title", "Title", "text"),
    ("short_title", "ShortTitle", "text"), ("description", "OutcomeDescription", "text"),
    ("intervention_id", "ItemAttributeIdIntervention", "code"),
    ("intervention", "InterventionText", "text"),
    ("control_id", "ItemAttributeIdControl", "code"), ("control", "ControlText", "text"),
    ("outcome_node_id", "ItemAttributeIdOutcome", "code"), ("outcome", "OutcomeText", "text"),
    ("timepoint", "TimepointDisplayValue", "text"),
    ("timepoint_value", "ItemTimepointValue", "text"),
    ("timepoint_metric", "ItemTimepointMetric", "text"),
    ("arm1_id", "ItemArmIdGrp1", "code"), ("arm1", "grp1ArmName", "text"),
    ("arm2_id", "ItemArmIdGrp2", "code"), ("arm2", "grp2ArmName", "text"),
    ("es_desc", "ESDesc", "text"), ("se_desc", "SEDesc", "text"),
)


def _row(rid: str, outcome: Mapping[str, Any], namespace: str, node_id: Any) -> dict[str, Any]:
    tid = type_id(outcome)
    read = {"int": _int, "text": _text, "code": lambda v: _code(namespace, v, node_id)}
    codes = ((outcome.get("OutcomeCodes") or {}).get("OutcomeItemAttributesList") or []
             if isinstance(outcome.get("OutcomeCodes"), Mapping) else [])
    codes = [(node, c) for c in codes if isinstance(c, Mapping)
             if (node := _code(namespace, c.get("AttributeId"), node_id))]
    row: dict[str, Any] = {"record_id": rid, "outcome_type_id": tid,
                           "data_type": OUTCOME_TYPES.get(tid) if tid is not None else None}
    row.update({column: read[kind](outcome.get(key)) for column, key, kind in _SIMPLE})
    row.update({column: _number(outcome.get(key)) for column, key in _EFFECTS})
    row.update(data=data_fields(outcome, tid), outcome_codes=[n for n, _ in codes],
               outcome_code_labels=[_text(c.get("AttributeName")) or "" for _, c in codes],
               raw=json.loads(json.dumps(outcome, ensure_ascii=False)))
    return row


def outcome_code_rows(outcomes: pd.DataFrame) -> list[tuple[str, str]]:
    """(record, node) pairs the outcomes carry: each outcome's intervention and outcome
    codes and its outcome-level codes, without its control code (a comparator is not
    what the study evaluates)."""
    pairs: list[tuple[str, str]] = []
    for rid, intervention, control, outcome, codes in outcomes[
            ["record_id", "intervention_id", "control_id", "outcome_node_id",
             "outcome_codes"]].itertuples(index=False):
        nodes = [intervention, outcome, *codes]
        pairs += [(rid, n) for n in nodes if isinstance(n, str) and n != control]
    return list(dict.fromkeys(pairs))
