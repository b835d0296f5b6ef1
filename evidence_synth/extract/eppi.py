"""EPPI-Reviewer outcomes (``EvidenceMap.outcomes``) as evidence-table estimate rows.

Each outcome becomes one row: its study (the map's record), its intervention and outcome
codes as framework nodes, its time point, the data entered under metafor's argument names
in ``reported``, and ``yi``/``vi`` recomputed with :func:`evidence_synth.effects.escalc`
from the group data where the outcome has them. The effect size EPPI-Reviewer computed is
kept beside them as ``es_reported``/``se_reported`` (on the analysis scale: log odds
ratio, Fisher's z), so :meth:`EvidenceTable.reported_differences` shows where the two
disagree: EPPI-Reviewer's SMD uses Hedges' approximate correction
``1 - 3/(4(n1+n2)-9)`` and the standard error ``sqrt((n1+n2)/(n1 n2) + g^2/(2(n1+n2-3.94)))``
where metafor uses the exact correction and ``1/n1 + 1/n2 + g^2/(2(n1+n2))``; it corrects
only the standard error for clustering, where the Hedges (2007) correction applied here
changes the estimate too.

Outcome types and the data they hold (``Data1`` ..): 1 group Ns, means and SDs; 2 a 2x2
table (group 1 events, group 2 events, group 1 and group 2 non-events); 3 Ns, means and SEs
(SD = SE sqrt(n)); 4 Ns, means and 95% CIs (SD = (upper - lower)/(2 x 1.96) sqrt(n)); 5 Ns
and a t- or p-value; 6 a diagnostic 2x2 table (read as a 2x2 table: the diagnostic odds
ratio); 7 n and r; 0 an effect size entered by hand (SMD, r, OR, RR, RD or MD with its SE).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from ..effects.compute import compute_effect
from ..errors import EffectSizeError

_EPPI_Z = 1.96  # EPPI-Reviewer's 95% multiplier
_MONTHS = {"day": 1 / 30.4375, "days": 1 / 30.4375, "week": 7 / 30.4375,
           "weeks": 7 / 30.4375, "month": 1.0, "months": 1.0, "year": 12.0, "years": 12.0}
#: Manual entry: (data name of the effect, data name of its SE, measure, transform to yi).
_MANUAL = (
    ("SMD", "SMD standard error", "SMD", None),
    ("mean difference", "mean difference standard error", "MD", None),
    ("risk difference", "risk difference standard error", "RD", None),
    ("odds ratio", "SE (log OR)", "OR", math.log),
    ("risk ratio", "SE (log RR)", "RR", math.log),
    ("r", "SE (Z transformed)", "ZCOR", math.atanh),
)


def estimate_rows(outcomes: pd.DataFrame, *, effect_class: str = "unclear"
                  ) -> tuple[list[dict[str, Any]], list[str]]:
    """Evidence rows of an ``EvidenceMap.outcomes`` frame, and the outcomes left out.

    Returns
    -------
    tuple
        The rows (``evidence-row.schema.json``), and one message per outcome without an
        intervention or outcome code (a row needs both).
    """
    rows, uncoded = [], []
    for outcome in outcomes.to_dict("records"):
        where = f"outcome {outcome['outcome_id']} of {outcome['record_id']}"
        if not _present(outcome["intervention_id"]) or not _present(outcome["outcome_node_id"]):
            uncoded.append(f"{where}: no intervention or outcome code "
                           "(ItemAttributeIdIntervention/ItemAttributeIdOutcome is 0)")
            continue
        rows.append(_row(outcome, effect_class))
    return rows, uncoded


def _present(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _row(outcome: Mapping[str, Any], effect_class: str) -> dict[str, Any]:
    reported, notes = reported_statistics(outcome)
    row: dict[str, Any] = {
        "study_id": outcome["record_id"],
        "estimate_id": f"eppi-outcome-{outcome['outcome_id']}",
        "intervention": outcome["intervention_id"],
        "outcome": outcome["outcome_node_id"],
        "outcome_wording": (_text(outcome["title"]) or _text(outcome["outcome"])
                            or _text(outcome["description"]) or f"outcome {outcome['outcome_id']}"),
        "effect_class": effect_class,
        "source": f"EPPI-Reviewer outcome {outcome['outcome_id']}",
    }
    for key, column in (("intervention_detail", "intervention"),
                        ("comparison_detail", "control"), ("timepoint", "timepoint")):
        if _text(outcome[column]):
            row[key] = outcome[column].strip()
    months = _months(outcome)
    if months is not None:
        row["timepoint_months"] = months
    row["outcome_type"] = "binary" if outcome["outcome_type_id"] in (2, 6) else "continuous"
    if reported:
        row["reported"] = reported
    try:
        computed = compute_effect(reported) if reported else None
    except EffectSizeError as exc:  # e.g. an SD of 0 entered for "not reported"
        notes.append(f"group data not used: {exc}")
        trimmed = {k: v for k, v in reported.items()
                   if k.startswith(("es_reported", "se_reported"))}
        computed = compute_effect(trimmed) if "se_reported" in trimmed else None
    if computed is not None:
        row.update(computed)
    text = [t for t in (_text(outcome["description"]), *notes) if t]
    if text:
        row["notes"] = "; ".join(text)
    return row


def _months(outcome: Mapping[str, Any]) -> float | None:
    metric = (outcome["timepoint_metric"] or "").strip().lower() \
        if isinstance(outcome["timepoint_metric"], str) else ""
    try:
        value = float(outcome["timepoint_value"])
    except (TypeError, ValueError):
        return None
    factor = _MONTHS.get(metric)
    return None if factor is None or value < 0 else value * factor


def reported_statistics(outcome: Mapping[str, Any]) -> tuple[dict[str, float], list[str]]:
    """metafor-named statistics of one outcome, and notes on any derived value.

    Group data go under ``n1i, n2i, m1i, m2i, sd1i, sd2i`` (types 1, 3, 4), ``ai, bi, ci,
    di`` (2 and 6), ``n1i, n2i, ti`` or ``pi`` with ``sign`` (5), ``ni, ri`` (7);
    EPPI-Reviewer's own effect size as ``es_reported``/``se_reported`` with
    ``es_reported_measure``; ``cluster_size``/``icc`` when its unit-of-analysis correction
    was filled in. Zeros in fields EPPI-Reviewer leaves at 0 when nothing was entered are
    not taken as data.
    """
    data: Mapping[str, float] = outcome["data"] or {}
    tid = outcome["outcome_type_id"]
    out: dict[str, float] = {}
    notes: list[str] = []

    def get(name: str) -> float | None:
        value = data.get(name)
        return None if value is None or not math.isfinite(value) else float(value)

    n1, n2 = get("Group 1 N"), get("Group 2 N")
    if tid in (1, 3, 4) and n1 and n2:
        m1, m2 = get("Group 1 mean"), get("Group 2 mean")
        sd1, sd2 = get("Group 1 SD"), get("Group 2 SD")
        if tid == 3 and get("Group 1 SE") and get("Group 2 SE"):
            sd1, sd2 = get("Group 1 SE") * math.sqrt(n1), get("Group 2 SE") * math.sqrt(n2)
            notes.append("sd1i, sd2i = group SE x sqrt(n)")
        elif tid == 4:
            lo1, lo2 = get("Group 1 CI lower"), get("Group 2 CI lower")
            hi1, hi2 = get("Group 1 CI upper"), get("Group 2 CI upper")
            if None not in (lo1, lo2, hi1, hi2):
                sd1 = abs(hi1 - lo1) / (2 * _EPPI_Z) * math.sqrt(n1)
                sd2 = abs(hi2 - lo2) / (2 * _EPPI_Z) * math.sqrt(n2)
                notes.append("sd1i, sd2i = |CI upper - CI lower|/(2 x 1.96) x sqrt(n)")
        if None not in (m1, m2, sd1, sd2):
            out.update(n1i=n1, n2i=n2, m1i=m1, m2i=m2, sd1i=sd1, sd2i=sd2)
    elif tid == 5 and n1 and n2:
        t, p = get("t-value"), get("p-value")
        out.update(n1i=n1, n2i=n2)
        if p:  # EPPI-Reviewer uses the p-value when one is given, as a positive effect
            out.update(pi=p, sign=1.0)
            notes.append("direction of the p-value taken as positive, as EPPI-Reviewer does")
        elif t is not None:
            out["ti"] = t
    elif tid in (2, 6):
        names = (("Group 1 events", "Group 1 no events", "Group 2 events", "Group 2 no events")
                 if tid == 2 else
                 ("True positive", "False negative", "False positive", "True negative"))
        a, b, c, d = (get(name) for name in names)
        if None not in (a, b, c, d) and a + b > 0 and c + d > 0:
            out.update(ai=a, bi=b, ci=c, di=d)
    elif tid == 7 and get("group(s) size") and get("correlation") is not None:
        out.update(ni=get("group(s) size"), ri=get("correlation"))
    cluster, icc = get("cluster size"), get("ICC")
    if cluster and icc is not None:
        if cluster >= 1 and 0 <= icc <= 1:
            if tid != 0:
                out.update(cluster_size=cluster, icc=icc)
        else:
            notes.append(f"cluster size {cluster!r} / ICC {icc!r} out of range: no "
                         "correction for clustering")
    out.update(_eppi_effect(outcome, data, tid, notes))
    return out, notes


def _eppi_effect(outcome: Mapping[str, Any], data: Mapping[str, float], tid: Any,
                 notes: list[str]) -> dict[str, float | str]:
    """EPPI-Reviewer's effect size and SE on the analysis scale, as ``es_reported``."""
    def ok(value: Any) -> bool:
        return isinstance(value, float) and math.isfinite(value)

    if tid == 0:
        found = [(d, s, m, f) for d, s, m, f in _MANUAL
                 if data.get(d) and data.get(s) and data[s] > 0]
        if not found:
            return {}
        name, se_name, measure, transform = found[0]
        if len(found) > 1:
            notes.append(f"manual entry: {name} used; also entered: "
                         f"{', '.join(d for d, *_ in found[1:])}")
        value = data[name]
        try:
            yi = transform(value) if transform else value
        except ValueError:
            notes.append(f"manual entry: {name} {value!r} has no {measure} scale value")
            return {}
        se = data[se_name]
        cluster, icc = data.get("cluster size"), data.get("ICC")
        if cluster and icc is not None and cluster >= 1 and 0 <= icc <= 1:
            se *= math.sqrt(1 + (cluster - 1) * icc)
            notes.append("SE x sqrt(1 + (cluster size - 1) ICC), EPPI-Reviewer's "
                         "unit-of-analysis correction")
        return {"es_reported": yi, "se_reported": se, "es_reported_measure": measure}
    if tid in (1, 3, 4, 5) and ok(outcome["smd"]) and ok(outcome["se_smd"]) \
            and outcome["se_smd"] > 0:
        return {"es_reported": outcome["smd"], "se_reported": outcome["se_smd"],
                "es_reported_measure": "SMD"}
    if tid in (2, 6) and ok(outcome["odds_ratio"]) and outcome["odds_ratio"] > 0 \
            and ok(outcome["se_log_or"]) and outcome["se_log_or"] > 0:
        return {"es_reported": math.log(outcome["odds_ratio"]),
                "se_reported": outcome["se_log_or"], "es_reported_measure": "OR"}
    if tid == 7 and ok(outcome["r"]) and abs(outcome["r"]) < 1 and ok(outcome["se_z"]) \
            and outcome["se_z"] > 0:
        return {"es_reported": math.atanh(outcome["r"]), "se_reported": outcome["se_z"],
                "es_reported_measure": "ZCOR"}
    return {}
