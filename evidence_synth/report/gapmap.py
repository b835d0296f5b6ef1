"""The evidence gap map: interventions (rows) x outcomes (columns), counting studies.

Rows are the framework's ``row`` nodes (the 3ie interventions and the review's own
``ext:`` rows, with their sub-levels), columns its ``column`` nodes. A parent cell counts
the distinct studies coded anywhere in its sub-tree, so a study appears once per cell
however many records, reports or outcome rows it has.

The map has two views. The *main* view has the columns of the main layer (the outcome
columns). The *unintended-effects* view has the columns of the ``unintended`` layer (the
outcome domains of unintended effects) and counts studies by the direction of the effect
(adverse, beneficial, mixed, unclear); it holds every evidence row coded on an
unintended-layer column, and every unintended effect coded on a main column (under its
codebook domain, or the layer's root). A framework without an unintended layer draws the
unintended view on its main columns. An evidence row that fits neither view is kept in
:attr:`GapMap.unmapped` with the reason, never dropped.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataQualityWarning
from ._gapmap_figure import draw
from ._gapmap_html import payload, render_html
from ._gapmap_inputs import (
    DIRECTIONS,
    EVIDENCE_COLUMNS,
    ORIGINS,
    STUDY_TYPES,
    UNINTENDED,
    ancestors,
    evidence_frame,
    evidence_from_map,
    framework_frame,
    ordered,
)
from ._provenance import footer_text

VIEWS = ("main", "unintended")
_SPLITS = {
    "n_ie_previous": ("impact_evaluation", "previous_map"),
    "n_ie_new": ("impact_evaluation", "new"),
    "n_sr_previous": ("systematic_review", "previous_map"),
    "n_sr_new": ("systematic_review", "new"),
}
_CELL = ("row_id", "row_label", "row_level", "row_namespace", "column_id", "column_label",
         "column_level", "n_studies")
FRAME_COLUMNS = (*_CELL, "n_impact_evaluation", "n_systematic_review", "n_previous",
                 "n_new", "n_ie_previous", "n_ie_new", "n_sr_previous", "n_sr_new",
                 "study_ids")
UNINTENDED_FRAME_COLUMNS = (*_CELL, *(f"n_{d}" for d in DIRECTIONS), "study_ids")
PLACED_COLUMNS = (*EVIDENCE_COLUMNS, "on_main", "unintended_column")
UNMAPPED_COLUMNS = (*EVIDENCE_COLUMNS, "reason")

__all__ = ["FRAME_COLUMNS", "ORIGINS", "STUDY_TYPES", "UNINTENDED", "GapMap",
           "evidence_from_map", "gap_map"]


@dataclass
class GapMap:
    """An evidence gap map built by :func:`gap_map`.

    Attributes
    ----------
    rows, columns : pandas.DataFrame
        The framework's row nodes and its main-layer column nodes in display order:
        ``node_id, label, level`` (0 for top level), ``namespace``, ``parent_id``,
        ``maps_to``.
    evidence : pandas.DataFrame
        Every evidence row placed on the map: ``study_id, intervention, outcome, design,
        study_type, origin, countries`` (ISO 3166 alpha-3 codes), ``countries_unknown``,
        ``effect_class, direction, unintended_code, domain, title, year, estimate_id,
        source, unplaced``, then ``on_main`` (in a cell of the main view) and
        ``unintended_column`` (its column in the unintended-effects view, or ``None``).
    unmapped : pandas.DataFrame
        Evidence rows that fit neither view, with the same columns as ``evidence`` (up to
        ``unplaced``) and ``reason``.
    title : str
    protocol_sha256 : str or None
    unintended_columns : pandas.DataFrame
        Columns of the unintended-effects view (the ``unintended`` layer, or the main
        columns when the framework has no such layer).
    """

    rows: pd.DataFrame
    columns: pd.DataFrame
    evidence: pd.DataFrame
    unmapped: pd.DataFrame
    title: str = "Evidence gap map"
    protocol_sha256: str | None = None
    unintended_columns: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["node_id", "label", "level", "namespace", "parent_id", "maps_to"]))
    _frames: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)

    def to_frame(self, view: str = "main") -> pd.DataFrame:
        """One row per cell (row node x column node) of a view, in display order.

        Parameters
        ----------
        view : {"main", "unintended"}

        Returns
        -------
        pandas.DataFrame
            ``view="main"``: columns ``row_id, row_label, row_level, row_namespace,
            column_id, column_label, column_level, n_studies, n_impact_evaluation,
            n_systematic_review, n_previous, n_new, n_ie_previous, n_ie_new,
            n_sr_previous, n_sr_new`` (counts of distinct studies) and ``study_ids``
            (sorted list). ``view="unintended"``: the same first eight columns, then
            ``n_adverse, n_beneficial, n_mixed, n_unclear`` (studies with an effect of
            that direction in the cell; a study with two directions counts in both) and
            ``study_ids``.
        """
        _check_view(view)
        if view not in self._frames:
            self._frames[view] = _cell_frame(self, view)
        return self._frames[view].copy()

    @property
    def unintended(self) -> pd.DataFrame:
        """The evidence rows of the unintended-effects view (see :attr:`evidence`)."""
        rows = self.evidence[self.evidence["unintended_column"].notna()]
        return rows.reset_index(drop=True)

    def matrix(self, value: str = "n_studies", *, view: str = "main") -> pd.DataFrame:
        """A view as a rows x columns table of one count (index and columns are labels)."""
        frame = self.to_frame(view)
        columns = self._view_columns(view)
        table = frame.pivot(index="row_id", columns="column_id", values=value)
        table = table.loc[list(self.rows["node_id"]), list(columns["node_id"])]
        table.index = [("  " * lvl) + lbl for lbl, lvl in zip(self.rows["label"],
                                                               self.rows["level"], strict=True)]
        table.columns = list(columns["label"])
        return table

    def summary(self) -> str:
        """Numbers of rows, columns, studies, empty cells, unintended effects, unmapped rows."""
        frame = self.to_frame()
        n_studies = self.evidence["study_id"].nunique()
        empty = int((frame["n_studies"] == 0).sum())
        unintended = self.unintended
        line = (f"{self.title}: {len(self.rows)} intervention rows x {len(self.columns)} "
                f"outcome columns, {n_studies} studies, {empty} of {len(frame)} cells empty")
        if len(unintended):
            line += (f"; unintended-effects view: {len(unintended)} evidence rows of "
                     f"{unintended['study_id'].nunique()} studies in "
                     f"{len(self.unintended_columns)} columns")
        if len(self.unmapped):
            line += (f", {len(self.unmapped)} evidence rows of "
                     f"{self.unmapped['study_id'].nunique()} studies not placed")
        return line

    def __repr__(self) -> str:
        return f"GapMap({self.summary()!r})"

    def _repr_html_(self) -> str:
        return self.matrix().to_html()

    def _view_columns(self, view: str) -> pd.DataFrame:
        return self.columns if view == "main" else self.unintended_columns

    # ---- figures ------------------------------------------------------------------------
    def figure(self, path: str | os.PathLike[str], *, dpi: int = 200,
               view: str = "main") -> list[Path]:
        """Draw a view of the map as a bubble chart to SVG and PNG.

        In the main view each cell holds up to four bubbles: impact evaluations (blue) and
        systematic reviews (orange), each from the previous map (dark) and new (light); in
        the unintended-effects view, studies with adverse (red), beneficial (green), mixed
        (purple) and unclear (grey) effects. The area is proportional to the number of
        studies, which is written in the bubble.

        Parameters
        ----------
        path : path-like
            Output path; its suffix is replaced by ``.svg`` and ``.png``.
        dpi : int, default 200
        view : {"main", "unintended"}

        Returns
        -------
        list of pathlib.Path
            The SVG and PNG paths.
        """
        _check_view(view)
        return draw(self, Path(path), dpi=dpi, view=view)

    def to_html(self, path: str | os.PathLike[str]) -> Path:
        """Write a self-contained interactive HTML map (inline CSS and JS, no network).

        Two views (outcomes; unintended effects by direction). Filters: country (ISO 3166
        codes, shown by name), design, unintended effects, study type, origin. Without a
        selected cell the side panel lists every study that passes the filters; clicking a
        cell lists its studies. The state can be set from the URL fragment, e.g.
        ``map.html#view=unintended&country=Mexico&effects=unintended&cell=3ie:1|3ie:c2``
        (``country``: an alpha-3 code or a name; ``effects``: ``unintended`` (either
        kind), an ``effect_class`` value, or ``all``).

        Returns
        -------
        pathlib.Path
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_html(payload(self), title=self.title,
                                      footer=footer_text(self.protocol_sha256)),
                          encoding="utf-8")
        return target


def _check_view(view: str) -> None:
    if view not in VIEWS:
        raise ValueError(f"view: expected one of {', '.join(VIEWS)}, found {view!r}")


def gap_map(
    evidence: Any,
    framework: Any,
    *,
    title: str = "Evidence gap map",
    protocol_sha256: str | None = None,
    codebook: Any = None,
) -> GapMap:
    """Build the evidence gap map of interventions x outcomes (and unintended effects).

    Parameters
    ----------
    evidence : pandas.DataFrame or EvidenceTable
        One row per study x intervention x outcome (more rows per study are fine). Columns
        ``study_id``, ``intervention`` and ``outcome`` (framework node ids; also accepted:
        ``intervention_id``/``outcome_id``), and optionally ``study_type``
        (``impact_evaluation`` | ``systematic_review``, default impact evaluation),
        ``origin`` (``previous_map`` | ``new``, default new), ``country`` or
        ``countries`` (ISO 3166 codes or names; str, ``;``- or ``|``-separated, or list),
        ``design``, ``effect_class``, ``direction``, ``unintended_code``, ``domain``,
        ``title``, ``year``, ``source``, ``page``, ``quote``.
    framework : pandas.DataFrame, Protocol or EvidenceMap
        Framework nodes with columns ``node_id``, ``label``, ``kind`` (``row``/``column``;
        other kinds are never placed on) and optionally ``parent_id``, ``order``,
        ``maps_to``, ``layer`` (``unintended`` for the columns of the unintended-effects
        view); a Protocol's ``framework_frame()`` or an EvidenceMap's ``framework`` is used
        as is.
    title : str, default "Evidence gap map"
    protocol_sha256 : str, optional
        Printed on the outputs; taken from ``framework`` when it is a Protocol.
    codebook : Codebook, DataFrame or mapping, optional
        The unintended-effects codebook (code -> ``domain``): places an unintended effect
        coded on a main column in its domain's column of the unintended view. Default: the
        codebook of an EvidenceTable's form.

    Returns
    -------
    GapMap

    Warns
    -----
    DataQualityWarning
        When evidence rows cannot be placed (they are in ``GapMap.unmapped``).
    """
    if protocol_sha256 is None and hasattr(framework, "sha256"):
        protocol_sha256 = framework.sha256
    nodes = framework_frame(framework)
    rows = ordered(nodes[nodes["kind"] == "row"])
    is_column = nodes["kind"] == "column"
    columns = ordered(nodes[is_column & (nodes["layer"] != "unintended")])
    layer = ordered(nodes[is_column & (nodes["layer"] == "unintended")])
    unintended_columns = layer if len(layer) else columns
    data = evidence_frame(evidence, codebook=codebook)
    placed = _place(data, nodes, rows, columns, layer)
    unmapped = data[placed["reason"].notna()].assign(
        reason=placed.loc[placed["reason"].notna(), "reason"]).reset_index(drop=True)
    kept = placed["reason"].isna()
    on_map = data[kept].assign(on_main=placed.loc[kept, "on_main"].astype(bool),
                               unintended_column=placed.loc[kept, "unintended_column"])
    if len(unmapped):
        first = unmapped.iloc[0]
        warnings.warn(
            f"{len(unmapped)} evidence row(s) of {unmapped['study_id'].nunique()} stud(y/ies) "
            f"cannot be placed on the map (e.g. study {first['study_id']!r}: "
            f"{first['reason']}); they are listed in GapMap.unmapped with the reason",
            DataQualityWarning, stacklevel=2,
        )
    return GapMap(rows=rows, columns=columns, evidence=on_map.reset_index(drop=True),
                  unmapped=unmapped[list(UNMAPPED_COLUMNS)], title=title,
                  protocol_sha256=protocol_sha256, unintended_columns=unintended_columns)


def _place(data: pd.DataFrame, nodes: pd.DataFrame, rows: pd.DataFrame,
           columns: pd.DataFrame, layer: pd.DataFrame) -> pd.DataFrame:
    """Where each evidence row goes: ``on_main``, ``unintended_column`` or ``reason``."""
    kind = dict(zip(nodes["node_id"], nodes["kind"], strict=True))
    row_ids, main_ids, layer_ids = (set(f["node_id"]) for f in (rows, columns, layer))
    roots = list(layer.loc[layer["level"] == 0, "node_id"])
    out = []
    for e in data.itertuples():
        on_main, side, reason = False, None, None
        unintended = e.effect_class in UNINTENDED
        if e.unplaced:
            reason = e.unplaced
        elif e.intervention not in row_ids:
            reason = _not_a("intervention", e.intervention, kind, "row")
        else:
            on_main = e.outcome in main_ids
            if e.outcome in layer_ids or (unintended and not layer_ids and on_main):
                side = e.outcome
            elif unintended and e.domain in layer_ids:
                side = e.domain
            elif unintended and on_main and len(roots) == 1:
                side = roots[0]
            if not on_main and side is None:
                reason = _not_a("outcome", e.outcome, kind, "column")
                if unintended and e.domain and e.domain not in layer_ids:
                    reason += f"; its codebook domain {e.domain!r} is not an unintended-" \
                              "effects column either"
        out.append({"on_main": on_main, "unintended_column": side, "reason": reason})
    return pd.DataFrame(out, index=data.index,
                        columns=["on_main", "unintended_column", "reason"])


def _not_a(what: str, node: str, kind: dict[str, str], expected: str) -> str:
    if not node or node == "nan":
        return f"no {what} coded"
    if node not in kind:
        return f"{what} {node!r} is not a node of the framework"
    if kind[node] == "filter" and what == "outcome":
        return (f"outcome {node!r} is a filter node, not a column (declare it kind: column, "
                "with layer: unintended for an unintended-effect domain)")
    return f"{what} {node!r} is a {kind[node]} node, not a {expected}"


# ---- counting -------------------------------------------------------------------------------
def _cells(gm: GapMap, view: str) -> dict[tuple[str, str], dict[str, set[str]]]:
    """(row, column) -> group -> studies; groups are ``all`` and, in the unintended view,
    the directions."""
    ev = gm.evidence
    up_r = ancestors(gm.rows)
    if view == "main":
        ev = ev[ev["on_main"]]
        up_c, column = ancestors(gm.columns), ev["outcome"]
    else:
        ev = ev[ev["unintended_column"].notna()]
        up_c, column = ancestors(gm.unintended_columns), ev["unintended_column"]
    cells: dict[tuple[str, str], dict[str, set[str]]] = {}
    for study, r, c, direction in zip(ev["study_id"], ev["intervention"], column,
                                      ev["direction"], strict=True):
        for rr in up_r[r]:
            for cc in up_c[c]:
                groups = cells.setdefault((rr, cc), {})
                groups.setdefault("all", set()).add(study)
                groups.setdefault(direction, set()).add(study)
    return cells


def _cell_frame(gm: GapMap, view: str) -> pd.DataFrame:
    cells = _cells(gm, view)
    attrs = gm.evidence.drop_duplicates("study_id").set_index("study_id")
    type_of, origin_of = attrs["study_type"].to_dict(), attrs["origin"].to_dict()
    out = []
    for r in gm.rows.itertuples():
        for c in gm._view_columns(view).itertuples():
            groups = cells.get((r.node_id, c.node_id), {})
            studies = sorted(groups.get("all", set()))
            row = {"row_id": r.node_id, "row_label": r.label, "row_level": r.level,
                   "row_namespace": r.namespace, "column_id": c.node_id,
                   "column_label": c.label, "column_level": c.level,
                   "n_studies": len(studies)}
            if view == "main":
                row.update({
                    "n_impact_evaluation": sum(type_of[s] == STUDY_TYPES[0] for s in studies),
                    "n_systematic_review": sum(type_of[s] == STUDY_TYPES[1] for s in studies),
                    "n_previous": sum(origin_of[s] == ORIGINS[0] for s in studies),
                    "n_new": sum(origin_of[s] == ORIGINS[1] for s in studies),
                })
                for name, (stype, origin) in _SPLITS.items():
                    row[name] = sum(type_of[s] == stype and origin_of[s] == origin
                                    for s in studies)
            else:
                for direction in DIRECTIONS:
                    row[f"n_{direction}"] = len(groups.get(direction, ()))
            row["study_ids"] = studies
            out.append(row)
    names = FRAME_COLUMNS if view == "main" else UNINTENDED_FRAME_COLUMNS
    frame = pd.DataFrame(out, columns=list(names))
    for col in names:
        if col.startswith("n_") or col.endswith("_level"):
            frame[col] = frame[col].astype("int64")
    return frame
