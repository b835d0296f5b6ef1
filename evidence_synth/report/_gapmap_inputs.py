"""What a gap map is built from: framework nodes, evidence rows, and the previous map's
studies placed through the crosswalk."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..countries import normalise_countries
from ..crosswalk import Crosswalk, crosswalk, framework_nodes
from ..errors import ContractError

STUDY_TYPES = ("impact_evaluation", "systematic_review")
ORIGINS = ("previous_map", "new")
UNINTENDED = ("unintended_beneficial", "unintended_adverse")
DIRECTIONS = ("adverse", "beneficial", "mixed", "unclear")
_ALIASES = {
    "intervention": ("intervention", "intervention_id", "intervention_node", "row_id"),
    "outcome": ("outcome", "outcome_id", "outcome_node", "column_id"),
}
EVIDENCE_COLUMNS = ("study_id", "intervention", "outcome", "design", "study_type", "origin",
                    "countries", "countries_unknown", "effect_class", "harm_category",
                    "direction", "unintended_code", "effect_label", "domain", "title", "year",
                    "estimate_id", "source", "unplaced")


def framework_frame(framework: Any) -> pd.DataFrame:
    """Framework nodes with ``order``, ``namespace`` and ``position`` (input order)."""
    nodes = framework_nodes(framework)
    raw = framework.framework_frame() if hasattr(framework, "framework_frame") else (
        framework.framework if isinstance(getattr(framework, "framework", None), pd.DataFrame)
        else framework)
    nodes["order"] = (pd.to_numeric(raw["order"], errors="coerce").to_numpy()
                      if "order" in raw else float("nan"))
    nodes["namespace"] = [n.split(":", 1)[0] if ":" in n else "" for n in nodes["node_id"]]
    nodes["position"] = range(len(nodes))
    return nodes.reset_index(drop=True)


def ordered(nodes: pd.DataFrame) -> pd.DataFrame:
    """Nodes in display order (depth first, by ``order`` then input position), with
    ``level`` (0 for top level)."""
    ids = set(nodes["node_id"])
    children: dict[str | None, list[dict[str, Any]]] = {}
    for node in nodes.to_dict("records"):
        parent = node["parent_id"] if node["parent_id"] in ids else None
        children.setdefault(parent, []).append(node)
    out: list[dict[str, Any]] = []

    def visit(parent: str | None, level: int) -> None:
        kids = sorted(children.get(parent, []),
                      key=lambda n: (pd.isna(n["order"]), n["order"] if pd.notna(n["order"])
                                     else 0, n["position"]))
        for node in kids:
            out.append({**node, "level": level,
                        "parent_id": node["parent_id"] if parent is not None else None})
            visit(node["node_id"], level + 1)

    visit(None, 0)
    columns = ["node_id", "label", "level", "namespace", "parent_id", "maps_to"]
    return pd.DataFrame(out, columns=columns) if out else pd.DataFrame(columns=columns)


def ancestors(nodes: pd.DataFrame) -> dict[str, list[str]]:
    """Node id -> itself and its ancestors (nearest first)."""
    parent = {n: (None if pd.isna(p) else p)
              for n, p in zip(nodes["node_id"], nodes["parent_id"], strict=True)}
    out = {}
    for node in nodes["node_id"]:
        chain, cur = [], node
        while cur is not None and cur not in chain:
            chain.append(cur)
            cur = parent.get(cur)
        out[node] = chain
    return out


def evidence_frame(evidence: Any, *, codebook: Any = None) -> pd.DataFrame:
    """Evidence rows in the gap map's columns (:data:`EVIDENCE_COLUMNS`).

    ``countries`` are ISO 3166-1 alpha-3 codes; values that name no country are kept in
    ``countries_unknown``. ``domain`` is the unintended-effect domain of the row's
    ``unintended_code`` in ``codebook`` (or the evidence's own ``domain`` column).
    """
    if codebook is None:
        codebook = getattr(getattr(evidence, "form", None), "codebook", None)
    if hasattr(evidence, "studies_frame"):  # an EvidenceTable: estimates with study columns
        frame = evidence.to_frame(with_study=True)
        if "extra.origin" in frame and "origin" not in frame:
            frame = frame.assign(origin=frame["extra.origin"])
        if "citation" in frame and "title" not in frame:
            frame = frame.assign(title=frame["citation"])
    elif hasattr(evidence, "to_frame"):
        frame = evidence.to_frame()
    else:
        frame = evidence
    if not isinstance(frame, pd.DataFrame):
        raise ContractError(f"evidence: expected a DataFrame or an EvidenceTable, got "
                            f"{type(evidence).__name__}")
    n = len(frame)
    out: dict[str, list[Any]] = {}
    for name, aliases in {"study_id": ("study_id",), **_ALIASES}.items():
        found = next((a for a in aliases if a in frame.columns), None)
        if found is None:
            raise ContractError(f"evidence: missing column {name!r} (accepted: "
                                f"{', '.join(aliases)}); has {', '.join(map(str, frame.columns))}")
        out[name] = [str(v) for v in _values(frame, found)]
    out["design"] = text(frame, "design", "not reported")
    given = text(frame, "study_type", "")
    out["study_type"] = [g or ("systematic_review" if d == "systematic_review"
                               else "impact_evaluation")
                         for g, d in zip(given, out["design"], strict=True)]
    out["origin"] = text(frame, "origin", "new")
    column = "country" if "country" in frame else "countries"
    resolved = _countries(_values(frame, column) if column in frame else [None] * n,
                          _values(frame, "countries_unknown") if "countries_unknown" in frame
                          else [None] * n)
    out["countries"] = [codes for codes, _ in resolved]
    out["countries_unknown"] = [unknown for _, unknown in resolved]
    out["effect_class"] = text(frame, "effect_class", "not coded")
    out["harm_category"] = text(frame, "harm_category", "")
    direction = text(frame, "direction", "")
    out["direction"] = [d or {"unintended_adverse": "adverse",
                              "unintended_beneficial": "beneficial"}.get(c, "unclear")
                        for d, c in zip(direction, out["effect_class"], strict=True)]
    out["unintended_code"] = text(frame, "unintended_code", "")
    domains, labels = _codebook_maps(codebook)
    own = text(frame, "effect_label", "")
    out["effect_label"] = [d or labels.get(code, "")
                           for d, code in zip(own, out["unintended_code"], strict=True)]
    own = text(frame, "domain", "")
    out["domain"] = [d or domains.get(code, "")
                     for d, code in zip(own, out["unintended_code"], strict=True)]
    out["title"] = text(frame, "title", "")
    out["year"] = ([year(v) for v in _values(frame, "year")] if "year" in frame
                   else [None] * n)
    out["estimate_id"] = text(frame, "estimate_id", "")
    out["source"] = _evidence_sources(frame)
    out["unplaced"] = text(frame, "unplaced", "")
    bad = sorted(set(out["origin"]) - set(ORIGINS))
    if bad:
        raise ContractError(f"evidence: origin must be one of {', '.join(ORIGINS)}, found "
                            f"{', '.join(map(repr, bad))}")
    return pd.DataFrame({c: out[c] for c in EVIDENCE_COLUMNS}, dtype=object)


def _values(frame: pd.DataFrame, column: str) -> list[Any]:
    """A column as plain Python objects (fast to iterate, whatever its dtype)."""
    return frame[column].to_numpy(dtype=object).tolist()


def _countries(values: list[Any], unknown: list[Any]) -> list[tuple[list[str], list[str]]]:
    """:func:`normalise_countries` of each row (country values repeat: resolved once)."""
    cache: dict[Any, tuple[list[str], list[str]]] = {}
    out = []
    for value, extra in zip(values, unknown, strict=True):
        key = (tuple(_listed(value)), tuple(_listed(extra)))
        if key not in cache:
            cache[key] = normalise_countries([*key[0], *key[1]])
        codes, rest = cache[key]
        out.append((list(codes), list(rest)))
    return out


def _listed(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return list(value)
    return [] if missing(value) else [value]


def _codebook_maps(codebook: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Code -> domain and code -> label of an unintended-effects codebook."""
    if codebook is None:
        return {}, {}
    if isinstance(codebook, dict):
        return {str(k): str(v) for k, v in codebook.items() if v}, {}
    frame = codebook.to_frame() if hasattr(codebook, "to_frame") else codebook
    if not isinstance(frame, pd.DataFrame) or not {"code", "domain"} <= set(frame.columns):
        raise ContractError("codebook: expected a Codebook, a DataFrame with code and domain "
                            "columns, or a mapping code -> domain")
    domains = {str(c): str(d) for c, d in zip(frame["code"], frame["domain"], strict=True)
               if not missing(d)}
    labels = {} if "label" not in frame else {
        str(c): str(lbl) for c, lbl in zip(frame["code"], frame["label"], strict=True)
        if not missing(lbl)}
    return domains, labels


def _evidence_sources(frame: pd.DataFrame) -> list[str]:
    names = ("source", "page", "quote", "measure", "yi", "outcome_wording", "outcome_type")
    columns = {c: _values(frame, c) if c in frame else [None] * len(frame) for c in names}
    return [_evidence_source(dict(zip(names, row, strict=True)))
            for row in zip(*columns.values(), strict=True)]


def _evidence_source(row: dict[str, Any]) -> str:
    """Where in the study the evidence row comes from, in a few words."""
    parts = []
    where = row.get("source")
    if not missing(where):
        parts.append(str(where))
    page = row.get("page")
    if not missing(page) and f"p. {page}" not in " ".join(parts):
        parts.append(f"quote p. {page}" if not missing(row.get("quote")) else f"p. {page}")
    elif not missing(row.get("quote")) and missing(page):
        parts.append("quote")
    measure = row.get("measure")
    estimate = not missing(row.get("yi"))
    if estimate:
        parts.append(f"estimate ({measure})" if not missing(measure) else "estimate")
    wording = row.get("outcome_wording")
    if not parts and not missing(wording):
        parts.append(str(wording))
    if not estimate and not missing(row.get("outcome_type")) and \
            row["outcome_type"] == "qualitative":
        parts.append("no effect size")
    return "; ".join(parts)


def year(value: Any) -> str | None:
    if missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def text(frame: pd.DataFrame, column: str, default: str) -> list[str]:
    if column not in frame:
        return [default] * len(frame)
    return [default if missing(v) else str(v) for v in _values(frame, column)]


def missing(value: Any) -> bool:
    """None, NA, NaN/NaT or an empty string (a list is never missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, str):
        return value == ""
    return isinstance(value, float) and value != value


def citation(title: str | None, year_: str | None) -> str:
    """A study's label: its citation or title, with the year unless it already has it."""
    title = (title or "").strip()
    if not year_:
        return title
    if not title:
        return str(year_)
    return title if str(year_) in title else f"{title} ({year_})"


def evidence_from_map(
    emap: Any,
    *,
    framework: Any = None,
    study_type: str = "impact_evaluation",
    walk: Crosswalk | None = None,
) -> pd.DataFrame:
    """Gap-map evidence rows from an imported map (:func:`evidence_synth.io.read_egm`).

    Each record of the map is one study of the previous map (``origin="previous_map"``),
    in every cell whose row and column codes it carries (or the map's explicit cells).
    With a ``framework``, the map's nodes are translated by :func:`crosswalk` (id, label,
    nearest matched ancestor); a study whose codes match no row or no column of the
    framework is kept as a row with an empty ``intervention`` or ``outcome``, so the gap
    map lists it as unplaceable instead of dropping it. A record coded with the map's
    "Systematic review" filter gets that study type; codes under a filter node whose
    label names countries (e.g. "Country") and a DEP export's ``country`` column become
    its countries (ISO 3166 codes).

    Parameters
    ----------
    emap : EvidenceMap
    framework : Protocol, EvidenceMap or DataFrame, optional
        This review's framework; without it the map's own node ids are used.
    study_type : str, default "impact_evaluation"
        Study type of records without a "systematic review" code.
    walk : Crosswalk, optional
        A crosswalk already computed (e.g. with a person's ``mapping=``).

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id, intervention, outcome, study_type, origin, country`` (list),
        ``title, year, unplaced`` (the reason a study could not be placed, or ``""``).
    """
    fw = framework_nodes(emap)
    kind = dict(zip(fw["node_id"], fw["kind"], strict=True))
    codes = emap.codes
    if framework is not None:
        walk = walk or crosswalk(emap, framework)
        node_map = walk.node_map
        target = framework_nodes(framework)
        target_kind = dict(zip(target["node_id"], target["kind"], strict=True))
        kind = {prev: target_kind.get(node) for prev, node in node_map.items()}
    else:
        node_map = {n: n for n in kind}
    rows_of: dict[str, list[str]] = {}
    cols_of: dict[str, list[str]] = {}
    for rec, node in zip(codes["record_id"], codes["node_id"], strict=True):
        target = node_map.get(node)
        if target is not None and kind.get(node) in ("row", "column"):
            side = rows_of if kind[node] == "row" else cols_of
            if target not in side.setdefault(rec, []):
                side[rec].append(target)
    out_rows: list[dict[str, Any]] = []
    if getattr(emap, "cells", None) is not None:
        for rec, r, c in zip(emap.cells["record_id"], emap.cells["row_id"],
                             emap.cells["column_id"], strict=True):
            row, col = node_map.get(r), node_map.get(c)
            why = "" if row is not None and col is not None else (
                f"cell {r} x {c} of the previous map has no match in this framework")
            out_rows.append({"study_id": rec, "intervention": row or "", "outcome": col or "",
                             "unplaced": why})
    else:
        for rec in emap.records["record_id"]:
            rows, cols = rows_of.get(rec, []), cols_of.get(rec, [])
            if rows and cols:
                out_rows += [{"study_id": rec, "intervention": r, "outcome": c, "unplaced": ""}
                             for r in rows for c in cols]
                continue
            why = " and ".join(
                what for what, have in (("a row (intervention)", rows),
                                        ("a column (outcome)", cols)) if not have)
            out_rows.append({"study_id": rec, "intervention": rows[0] if rows else "",
                             "outcome": cols[0] if cols else "",
                             "unplaced": f"no code of the previous map matches {why} of this "
                                         "framework"})
    out = pd.DataFrame(out_rows, columns=["study_id", "intervention", "outcome", "unplaced"])
    out = out.drop_duplicates().reset_index(drop=True)
    reviews = {n for n, lbl in zip(fw["node_id"], fw["label"], strict=True)
               if "systematic review" in str(lbl).casefold()}
    sr = set(codes.loc[codes["node_id"].isin(reviews), "record_id"])
    countries = _map_countries(emap, fw)
    recs = emap.records.set_index("record_id")
    out["study_type"] = ["systematic_review" if s in sr else study_type
                         for s in out["study_id"]]
    out["origin"] = "previous_map"
    out["country"] = [sorted(countries.get(s, [])) for s in out["study_id"]]
    out["title"] = [recs["title"].get(s) for s in out["study_id"]]
    out["year"] = [recs["year"].get(s) for s in out["study_id"]]
    return out[["study_id", "intervention", "outcome", "study_type", "origin", "country",
                "title", "year", "unplaced"]]


def _map_countries(emap: Any, fw: pd.DataFrame) -> dict[str, list[str]]:
    """Record id -> the country values a map gives it (filter codes, DEP column)."""
    label_of = dict(zip(fw["node_id"], fw["label"], strict=True))
    parent_of = dict(zip(fw["node_id"], fw["parent_id"], strict=True))
    out: dict[str, list[str]] = {}
    for rec, node in zip(emap.codes["record_id"], emap.codes["node_id"], strict=True):
        parent = parent_of.get(node)
        if parent is not None and "countr" in str(label_of.get(parent, "")).casefold():
            out.setdefault(rec, []).append(str(label_of[node]))
    if "raw" in emap.records:
        for rec, raw in zip(emap.records["record_id"], emap.records["raw"], strict=True):
            values = raw.get("country") if isinstance(raw, dict) else None
            for value in values or []:
                out.setdefault(rec, []).extend(
                    v.strip() for v in str(value).split(" | ") if v.strip())
    return out
