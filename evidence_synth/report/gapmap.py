"""The evidence gap map: interventions (rows) x outcomes (columns), counting studies.

Rows are the framework's ``row`` nodes (the 3ie interventions and the review's own
``ext:`` rows, with their sub-levels), columns its ``column`` nodes. A parent cell counts
the distinct studies coded anywhere in its sub-tree, so a study appears once per cell
however many records, reports or outcome rows it has.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..errors import ContractError, DataQualityWarning
from ._gapmap_figure import draw
from ._gapmap_html import render_html
from ._provenance import footer_text

STUDY_TYPES = ("impact_evaluation", "systematic_review")
ORIGINS = ("previous_map", "new")
UNINTENDED = ("unintended_beneficial", "unintended_adverse")
_ALIASES = {
    "intervention": ("intervention", "intervention_id", "intervention_node", "row_id"),
    "outcome": ("outcome", "outcome_id", "outcome_node", "column_id"),
}
_SPLITS = {
    "n_ie_previous": ("impact_evaluation", "previous_map"),
    "n_ie_new": ("impact_evaluation", "new"),
    "n_sr_previous": ("systematic_review", "previous_map"),
    "n_sr_new": ("systematic_review", "new"),
}
FRAME_COLUMNS = (
    "row_id", "row_label", "row_level", "row_namespace", "column_id", "column_label",
    "column_level", "n_studies", "n_impact_evaluation", "n_systematic_review", "n_previous",
    "n_new", "n_ie_previous", "n_ie_new", "n_sr_previous", "n_sr_new", "study_ids",
)


@dataclass
class GapMap:
    """An evidence gap map built by :func:`gap_map`.

    Attributes
    ----------
    rows, columns : pandas.DataFrame
        The framework's row and column nodes in display order: ``node_id, label, level``
        (0 for top level), ``namespace``, ``parent_id``, ``maps_to``.
    evidence : pandas.DataFrame
        The evidence rows used: ``study_id, intervention, outcome, study_type, origin,
        countries`` (list), ``design, effect_class, title, year``.
    unmapped : pandas.DataFrame
        Evidence rows whose intervention or outcome is not a row/column of the framework.
    title : str
    protocol_sha256 : str or None
    """

    rows: pd.DataFrame
    columns: pd.DataFrame
    evidence: pd.DataFrame
    unmapped: pd.DataFrame
    title: str = "Evidence gap map"
    protocol_sha256: str | None = None
    _frame: pd.DataFrame | None = field(default=None, repr=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per cell (row node x column node), in display order.

        Returns
        -------
        pandas.DataFrame
            Columns ``row_id, row_label, row_level, row_namespace, column_id, column_label,
            column_level, n_studies, n_impact_evaluation, n_systematic_review, n_previous,
            n_new, n_ie_previous, n_ie_new, n_sr_previous, n_sr_new`` (counts of distinct
            studies) and ``study_ids`` (sorted list).
        """
        if self._frame is None:
            self._frame = _cell_frame(self)
        return self._frame.copy()

    def matrix(self, value: str = "n_studies") -> pd.DataFrame:
        """The map as a rows x columns table of one count (index and columns are labels)."""
        frame = self.to_frame()
        table = frame.pivot(index="row_id", columns="column_id", values=value)
        table = table.loc[list(self.rows["node_id"]), list(self.columns["node_id"])]
        table.index = [("  " * lvl) + lbl for lbl, lvl in zip(self.rows["label"],
                                                               self.rows["level"], strict=True)]
        table.columns = list(self.columns["label"])
        return table

    def summary(self) -> str:
        """Numbers of rows, columns, studies, empty cells and unmapped rows."""
        frame = self.to_frame()
        n_studies = self.evidence["study_id"].nunique()
        empty = int((frame["n_studies"] == 0).sum())
        return (f"{self.title}: {len(self.rows)} intervention rows x {len(self.columns)} "
                f"outcome columns, {n_studies} studies, {empty} of {len(frame)} cells empty"
                + (f", {len(self.unmapped)} evidence rows not on the framework"
                   if len(self.unmapped) else ""))

    def __repr__(self) -> str:
        return f"GapMap({self.summary()!r})"

    def _repr_html_(self) -> str:
        return self.matrix().to_html()

    # ---- figures ------------------------------------------------------------------------
    def figure(self, path: str | os.PathLike[str], *, dpi: int = 200) -> list[Path]:
        """Draw the map as a bubble chart to SVG and PNG.

        Each cell holds up to four bubbles: impact evaluations (blue) and systematic reviews
        (orange), each from the previous map (dark) and new (light); the area is
        proportional to the number of studies, which is written in the bubble.

        Parameters
        ----------
        path : path-like
            Output path; its suffix is replaced by ``.svg`` and ``.png``.
        dpi : int, default 200

        Returns
        -------
        list of pathlib.Path
            The SVG and PNG paths.
        """
        return draw(self, Path(path), dpi=dpi)

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """Write a self-contained interactive HTML map (inline CSS and JS, no network).

        Filters: country, design, unintended effects, study type, origin. Clicking a cell
        lists its studies. The state can be set from the URL fragment, e.g.
        ``map.html#country=Mexico&effects=unintended&cell=3ie:1|3ie:c2`` (``effects``:
        ``unintended`` (either kind), an ``effect_class`` value, or ``all``).

        Returns
        -------
        pathlib.Path
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_html(_html_payload(self), title=self.title,
                                      footer=footer_text(self.protocol_sha256)),
                          encoding="utf-8")
        return target


def gap_map(
    evidence: Any,
    framework: Any,
    *,
    title: str = "Evidence gap map",
    protocol_sha256: str | None = None,
) -> GapMap:
    """Build the evidence gap map of interventions x outcomes.

    Parameters
    ----------
    evidence : pandas.DataFrame or EvidenceTable
        One row per study x intervention x outcome (more rows per study are fine). Columns
        ``study_id``, ``intervention`` and ``outcome`` (framework node ids; also accepted:
        ``intervention_id``/``outcome_id``), and optionally ``study_type``
        (``impact_evaluation`` | ``systematic_review``, default impact evaluation),
        ``origin`` (``previous_map`` | ``new``, default new), ``country`` (str, ``;``- or
        ``|``-separated, or list), ``design``, ``effect_class``, ``title``, ``year``.
    framework : pandas.DataFrame, Protocol or EvidenceMap
        Framework nodes with columns ``node_id``, ``label``, ``kind`` (``row``/``column``;
        other kinds are ignored) and optionally ``parent_id``, ``order``, ``namespace``,
        ``maps_to``; a Protocol's ``framework_frame()`` or an EvidenceMap's
        ``framework`` is used as is.
    title : str, default "Evidence gap map"
    protocol_sha256 : str, optional
        Printed on the outputs; taken from ``framework`` when it is a Protocol.

    Returns
    -------
    GapMap
    """
    if protocol_sha256 is None and hasattr(framework, "sha256"):
        protocol_sha256 = framework.sha256
    nodes = _framework_frame(framework)
    rows = _ordered(nodes[nodes["kind"] == "row"])
    columns = _ordered(nodes[nodes["kind"] == "column"])
    data = _evidence_frame(evidence)
    known = data["intervention"].isin(set(rows["node_id"])) & data["outcome"].isin(
        set(columns["node_id"]))
    unmapped = data[~known].reset_index(drop=True)
    if len(unmapped):
        warnings.warn(
            f"{len(unmapped)} evidence row(s) have an intervention or outcome that is not a "
            f"row/column of the framework (e.g. study {unmapped['study_id'].iloc[0]!r}: "
            f"{unmapped['intervention'].iloc[0]!r} x {unmapped['outcome'].iloc[0]!r}); "
            "they are listed in GapMap.unmapped",
            DataQualityWarning, stacklevel=2,
        )
    return GapMap(rows=rows, columns=columns, evidence=data[known].reset_index(drop=True),
                  unmapped=unmapped, title=title, protocol_sha256=protocol_sha256)


# ---- inputs ---------------------------------------------------------------------------------
def _framework_frame(framework: Any) -> pd.DataFrame:
    if hasattr(framework, "framework_frame"):
        frame = framework.framework_frame()
    elif isinstance(getattr(framework, "framework", None), pd.DataFrame):
        frame = framework.framework
    elif isinstance(framework, pd.DataFrame):
        frame = framework
    else:
        raise ContractError(
            f"framework: expected a DataFrame of nodes, a Protocol or an EvidenceMap, got "
            f"{type(framework).__name__}"
        )
    missing = [c for c in ("node_id", "label", "kind") if c not in frame.columns]
    if missing:
        raise ContractError(f"framework: missing column(s) {', '.join(missing)}; has "
                            f"{', '.join(map(str, frame.columns))}")
    out = pd.DataFrame({
        "node_id": frame["node_id"].astype(str),
        "label": frame["label"].astype(str),
        "kind": frame["kind"].astype(str),
        "parent_id": _optional(frame, "parent_id"),
        "order": pd.to_numeric(frame["order"], errors="coerce") if "order" in frame
        else float("nan"),
        "maps_to": _optional(frame, "maps_to"),
    })
    out["namespace"] = [n.split(":", 1)[0] if ":" in n else "" for n in out["node_id"]]
    out["position"] = range(len(out))
    return out.reset_index(drop=True)


def _optional(frame: pd.DataFrame, column: str) -> list[str | None]:
    if column not in frame:
        return [None] * len(frame)
    return [None if pd.isna(v) else str(v) for v in frame[column]]


def _ordered(nodes: pd.DataFrame) -> pd.DataFrame:
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


def _evidence_frame(evidence: Any) -> pd.DataFrame:
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
    out = pd.DataFrame(index=frame.index)
    for name, aliases in {"study_id": ("study_id",), **_ALIASES}.items():
        found = next((a for a in aliases if a in frame.columns), None)
        if found is None:
            raise ContractError(f"evidence: missing column {name!r} (accepted: "
                                f"{', '.join(aliases)}); has {', '.join(map(str, frame.columns))}")
        out[name] = frame[found].astype(str)
    out["design"] = _text(frame, "design", "not reported")
    inferred = ["systematic_review" if d == "systematic_review" else "impact_evaluation"
                for d in out["design"]]
    given = _text(frame, "study_type", "")
    out["study_type"] = [g or i for g, i in zip(given, inferred, strict=True)]
    out["origin"] = _text(frame, "origin", "new")
    source = frame["country"] if "country" in frame else (
        frame["countries"] if "countries" in frame else [None] * len(frame))
    out["countries"] = [_split(v) for v in source]
    out["effect_class"] = _text(frame, "effect_class", "not coded")
    out["title"] = _text(frame, "title", "")
    out["year"] = [_year(v) for v in frame["year"]] if "year" in frame else [None] * len(frame)
    bad = out.loc[~out["origin"].isin(ORIGINS), "origin"].unique()
    if len(bad):
        raise ContractError(f"evidence: origin must be one of {', '.join(ORIGINS)}, found "
                            f"{', '.join(map(repr, bad))}")
    return out.reset_index(drop=True)


def _year(value: Any) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _text(frame: pd.DataFrame, column: str, default: str) -> list[str]:
    if column not in frame:
        return [default] * len(frame)
    return [default if _missing(v) else str(v) for v in frame[column]]


def _missing(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return False
    return value is None or (not isinstance(value, str) and pd.isna(value)) or value == ""


def _split(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return sorted({str(v).strip() for v in value if str(v).strip()})
    if _missing(value):
        return []
    parts = str(value).replace("|", ";").split(";")
    return sorted({p.strip() for p in parts if p.strip()})


# ---- counting -------------------------------------------------------------------------------
def _ancestors(nodes: pd.DataFrame) -> dict[str, list[str]]:
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


def _cells(gm: GapMap) -> dict[tuple[str, str], set[str]]:
    up_r, up_c = _ancestors(gm.rows), _ancestors(gm.columns)
    cells: dict[tuple[str, str], set[str]] = {}
    for study, r, c in zip(gm.evidence["study_id"], gm.evidence["intervention"],
                           gm.evidence["outcome"], strict=True):
        for rr in up_r[r]:
            for cc in up_c[c]:
                cells.setdefault((rr, cc), set()).add(study)
    return cells


def _study_attributes(evidence: pd.DataFrame) -> pd.DataFrame:
    return evidence.drop_duplicates("study_id").set_index("study_id")[["study_type", "origin"]]


def _cell_frame(gm: GapMap) -> pd.DataFrame:
    cells = _cells(gm)
    attrs = _study_attributes(gm.evidence)
    type_of, origin_of = attrs["study_type"].to_dict(), attrs["origin"].to_dict()
    out = []
    for r in gm.rows.itertuples():
        for c in gm.columns.itertuples():
            studies = sorted(cells.get((r.node_id, c.node_id), set()))
            row = {
                "row_id": r.node_id, "row_label": r.label, "row_level": r.level,
                "row_namespace": r.namespace, "column_id": c.node_id, "column_label": c.label,
                "column_level": c.level, "n_studies": len(studies),
                "n_impact_evaluation": sum(type_of[s] == STUDY_TYPES[0] for s in studies),
                "n_systematic_review": sum(type_of[s] == STUDY_TYPES[1] for s in studies),
                "n_previous": sum(origin_of[s] == ORIGINS[0] for s in studies),
                "n_new": sum(origin_of[s] == ORIGINS[1] for s in studies),
            }
            for name, (stype, origin) in _SPLITS.items():
                row[name] = sum(type_of[s] == stype and origin_of[s] == origin for s in studies)
            row["study_ids"] = studies
            out.append(row)
    frame = pd.DataFrame(out, columns=list(FRAME_COLUMNS))
    for col in FRAME_COLUMNS:
        if col.startswith("n_") or col.endswith("_level"):
            frame[col] = frame[col].astype("int64")
    return frame


def _html_payload(gm: GapMap) -> dict[str, Any]:
    up_r, up_c = _ancestors(gm.rows), _ancestors(gm.columns)
    r_index = {n: i for i, n in enumerate(gm.rows["node_id"])}
    c_index = {n: i for i, n in enumerate(gm.columns["node_id"])}
    studies = gm.evidence.drop_duplicates("study_id").reset_index(drop=True)
    s_index = {s: i for i, s in enumerate(studies["study_id"])}

    def nodes(frame: pd.DataFrame) -> list[dict[str, Any]]:
        return [{"id": n.node_id, "label": n.label, "level": int(n.level), "ns": n.namespace,
                 "mapsTo": None if pd.isna(n.maps_to) else str(n.maps_to)}
                for n in frame.itertuples()]

    rows = []
    for e in gm.evidence.itertuples():
        rows.append([s_index[e.study_id], [r_index[x] for x in up_r[e.intervention]],
                     [c_index[x] for x in up_c[e.outcome]], list(e.countries), e.design,
                     e.effect_class])
    return {
        "rows": nodes(gm.rows),
        "columns": nodes(gm.columns),
        "studies": [{"id": s.study_id, "title": s.title, "year": _year(s.year),
                     "type": s.study_type, "origin": s.origin} for s in studies.itertuples()],
        "evidence": rows,
        "countries": sorted({c for cs in gm.evidence["countries"] for c in cs}),
        "designs": sorted(set(gm.evidence["design"])),
        "effects": sorted(set(gm.evidence["effect_class"])),
        "version": __version__,
        "protocol": gm.protocol_sha256,
    }


def evidence_from_map(
    emap: Any,
    *,
    framework: Any = None,
    study_type: str = "impact_evaluation",
) -> pd.DataFrame:
    """Gap-map evidence rows from an imported map (:func:`evidence_synth.io.read_egm`).

    Each record of the map is one study of the previous map (``origin="previous_map"``),
    in every cell whose row and column codes it carries (or the map's explicit cells).
    A record coded with the map's "Systematic review" filter gets that study type; codes
    under a filter node labelled "Country" become its countries.

    Parameters
    ----------
    emap : EvidenceMap
    framework : Protocol, EvidenceMap or DataFrame, optional
        Translate the map's node ids to this framework's ids by matching labels
        (case-insensitive, same kind); rows or columns without a match are dropped.
    study_type : str, default "impact_evaluation"
        Study type of records without a "systematic review" code.

    Returns
    -------
    pandas.DataFrame
        Columns ``study_id, intervention, outcome, study_type, origin, country`` (list),
        ``title, year``.
    """
    fw = _framework_frame(emap)
    kind = dict(zip(fw["node_id"], fw["kind"], strict=True))
    codes = emap.codes
    if getattr(emap, "cells", None) is not None:
        pairs = emap.cells.rename(columns={"row_id": "intervention", "column_id": "outcome"})
        pairs = pairs[["record_id", "intervention", "outcome"]]
    else:
        r = codes[codes["node_id"].map(kind) == "row"][["record_id", "node_id"]]
        c = codes[codes["node_id"].map(kind) == "column"][["record_id", "node_id"]]
        pairs = r.merge(c, on="record_id", suffixes=("_r", "_c")).rename(
            columns={"node_id_r": "intervention", "node_id_c": "outcome"})
    if framework is not None:
        target = _framework_frame(framework)
        by_label = {(k, str(lbl).strip().casefold()): n for n, lbl, k in
                    zip(target["node_id"], target["label"], target["kind"], strict=True)}
        own = {n: (k, str(lbl).strip().casefold()) for n, lbl, k in
               zip(fw["node_id"], fw["label"], fw["kind"], strict=True)}
        pairs = pairs.assign(
            intervention=pairs["intervention"].map(lambda n: by_label.get(own.get(n))),
            outcome=pairs["outcome"].map(lambda n: by_label.get(own.get(n))),
        ).dropna(subset=["intervention", "outcome"])
    reviews = {n for n, lbl in zip(fw["node_id"], fw["label"], strict=True)
               if "systematic review" in str(lbl).casefold()}
    sr = set(codes.loc[codes["node_id"].isin(reviews), "record_id"])
    label_of = dict(zip(fw["node_id"], fw["label"], strict=True))
    parent_of = dict(zip(fw["node_id"], fw["parent_id"], strict=True))
    countries: dict[str, list[str]] = {}
    for rec, node in zip(codes["record_id"], codes["node_id"], strict=True):
        parent = parent_of.get(node)
        if parent is not None and str(label_of.get(parent, "")).casefold() == "country":
            countries.setdefault(rec, []).append(str(label_of[node]))
    recs = emap.records.set_index("record_id")
    out = pairs.rename(columns={"record_id": "study_id"}).drop_duplicates().copy()
    out["study_type"] = ["systematic_review" if s in sr else study_type
                         for s in out["study_id"]]
    out["origin"] = "previous_map"
    out["country"] = [sorted(countries.get(s, [])) for s in out["study_id"]]
    out["title"] = [recs["title"].get(s) for s in out["study_id"]]
    out["year"] = [recs["year"].get(s) for s in out["study_id"]]
    return out.reset_index(drop=True)
