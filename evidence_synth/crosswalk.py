"""The crosswalk from a previous map's framework to this review's framework.

An updated review imports the studies of the previous map (an EPPI-Mapper map,
EPPI-Reviewer JSON or a 3ie DEP export) with the previous map's own node ids and labels.
:func:`crosswalk` says, for every node of the previous map, which node of the review's
framework (its protocol) it is, and how that was decided:

``manual``
    given in ``mapping=`` (a person decided);
``id``
    the same node id (a map imported with the ids the protocol uses);
``label``
    the same label, compared without case, accents, punctuation and ``&``/``and``
    differences, among nodes of the same kind (row or column; a node of kind ``other``,
    as in EPPI-Reviewer code sets, may match a row or a column);
``ancestor``
    no match of its own, but an ancestor matched: its codes are placed on that
    ancestor's node (a sub-level the protocol does not list, placed on its parent);
``maps_to``
    informative rows for this review's own nodes (``ext:``): the previous node their
    ``maps_to`` names, so every new study can also be placed on the previous map;
``none``
    no match. Codes on an unmatched row or column cannot be placed on the map: they are
    *unmatched codes*, reported with their studies (:attr:`Crosswalk.unmatched`).
    Filters and other codes of the previous map (design, country, ...) are not axes of
    the map and need no match.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from .errors import ContractError

CROSSWALK_COLUMNS = ("previous_id", "previous_label", "previous_kind", "node_id", "label",
                     "kind", "match", "n_codes", "n_studies")
UNMATCHED_COLUMNS = ("record_id", "node_id", "label", "kind", "reason")
AXES = ("row", "column")


def _norm(label: Any) -> str:
    text = unicodedata.normalize("NFKD", str(label or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = text.replace("&", " and ")
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


def framework_nodes(framework: Any) -> pd.DataFrame:
    """A framework as a frame: ``node_id, label, kind, parent_id, maps_to, layer``.

    Parameters
    ----------
    framework : Protocol, EvidenceMap or pandas.DataFrame
        A protocol (its ``framework_frame()``), an imported map (its ``framework``) or a
        frame with at least ``node_id``, ``label`` and ``kind``.
    """
    if hasattr(framework, "framework_frame"):
        frame = framework.framework_frame()
    elif isinstance(getattr(framework, "framework", None), pd.DataFrame):
        frame = framework.framework
    elif isinstance(framework, pd.DataFrame):
        frame = framework
    else:
        raise ContractError(
            f"framework: expected a DataFrame of nodes, a Protocol or an EvidenceMap, got "
            f"{type(framework).__name__}")
    missing = [c for c in ("node_id", "label", "kind") if c not in frame.columns]
    if missing:
        raise ContractError(f"framework: missing column(s) {', '.join(missing)}; has "
                            f"{', '.join(map(str, frame.columns))}")

    def text(column: str) -> list[str | None]:
        if column not in frame:
            return [None] * len(frame)
        return [None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
                for v in frame[column]]

    out = pd.DataFrame({"node_id": text("node_id"), "label": text("label"),
                        "kind": text("kind"), "parent_id": text("parent_id"),
                        "maps_to": text("maps_to"), "layer": text("layer")})
    out["layer"] = [lay or ("main" if k == "column" else None)
                    for lay, k in zip(out["layer"], out["kind"], strict=True)]
    return out


@dataclass
class Crosswalk:
    """The previous map's nodes -> this review's nodes, built by :func:`crosswalk`.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per node of the previous map (then one per ``maps_to`` link of the
        review's own nodes): ``previous_id, previous_label, previous_kind, node_id,
        label, kind, match, n_codes, n_studies`` (``node_id`` is ``None`` when
        ``match`` is ``none``).
    unmatched : pandas.DataFrame
        Every code of a study on a row or column of the previous map that matches no
        node: ``record_id, node_id, label, kind, reason``.
    """

    table: pd.DataFrame
    unmatched: pd.DataFrame

    @property
    def node_map(self) -> dict[str, str]:
        """Previous node id -> this framework's node id, for every placed node."""
        placed = self.table[self.table["match"].isin(("manual", "id", "label", "ancestor"))
                            & self.table["node_id"].notna()]
        return dict(zip(placed["previous_id"], placed["node_id"], strict=True))

    def to_frame(self) -> pd.DataFrame:
        """The crosswalk table (see :attr:`table`)."""
        return self.table.copy()

    def summary(self) -> str:
        """How many nodes matched by each rule, and the unmatched codes."""
        nodes = self.table[self.table["match"] != "maps_to"]
        by = nodes["match"].value_counts()
        parts = [f"{int(by.get(m, 0))} by {m}" for m in ("manual", "id", "label", "ancestor")
                 if by.get(m, 0)]
        none = nodes[nodes["match"] == "none"]
        axes = none["previous_kind"].isin(AXES)
        coded = axes & (none["n_codes"] > 0)
        lines = [f"crosswalk: {len(nodes)} node(s) of the previous map; matched "
                 + (", ".join(parts) or "none")
                 + f"; {int(coded.sum())} coded row(s)/column(s) without a match; "
                 f"{int((axes & ~coded).sum())} uncoded row(s)/column(s) (e.g. group "
                 f"headers) and {int((~axes).sum())} filter or other node(s) not mapped"]
        if len(self.unmatched):
            lines.append(self.warning())
        return "\n".join(lines)

    def warning(self) -> str:
        """One line: the number of unmatched codes and studies, with examples."""
        if self.unmatched.empty:
            return "every code on a row or column of the previous map has a match"
        per_node = (self.unmatched.groupby(["node_id", "label", "kind"], dropna=False)
                    ["record_id"].nunique().sort_values(ascending=False))
        examples = "; ".join(f"{label!r} ({node}, {kind}) on {n} stud{'y' if n == 1 else 'ies'}"
                             for (node, label, kind), n in per_node.head(3).items())
        return (f"{len(self.unmatched)} code(s) on {len(per_node)} node(s) of the previous map "
                f"match no node of this framework, on "
                f"{self.unmatched['record_id'].nunique()} stud(y/ies) (e.g. {examples}); "
                "their studies are listed as unmapped, with the code; map a node by hand "
                "with crosswalk(..., mapping={previous_id: node_id})")

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False)


def crosswalk(previous: Any, framework: Any, *,
              mapping: Mapping[str, str | None] | None = None) -> Crosswalk:
    """Match the nodes of a previous map to this review's framework.

    Parameters
    ----------
    previous : EvidenceMap
        The previous map (:func:`evidence_synth.io.read_egm` or
        :meth:`Review.import_map`): its ``framework`` and ``codes``.
    framework : Protocol, EvidenceMap or pandas.DataFrame
        This review's framework (see :func:`framework_nodes`).
    mapping : mapping, optional
        Previous node id -> node id of ``framework`` decided by a person (``None``: the
        node is deliberately left off the map). Applied before any other rule.

    Returns
    -------
    Crosswalk

    Raises
    ------
    ContractError
        When ``mapping`` names a node that is in neither framework.
    """
    prev = framework_nodes(previous)
    target = framework_nodes(framework)
    target = target[target["kind"].isin(AXES)]
    codes = getattr(previous, "codes", None)
    if codes is None:
        codes = pd.DataFrame(columns=["record_id", "node_id"])
    mapping = dict(mapping or {})
    problems = [f"{p!r} is not a node of the previous map" for p in mapping
                if p not in set(prev["node_id"])]
    problems += [f"{t!r} (for {p!r}) is not a row or column of this framework"
                 for p, t in mapping.items() if t is not None and t not in set(target["node_id"])]
    if problems:
        raise ContractError("crosswalk mapping: " + "; ".join(problems))

    ids = set(target["node_id"])
    kind_of = dict(zip(target["node_id"], target["kind"], strict=True))
    label_of = dict(zip(target["node_id"], target["label"], strict=True))
    by_label: dict[tuple[str, str], list[str]] = {}
    for node, label, kind in zip(target["node_id"], target["label"], target["kind"],
                                 strict=True):
        by_label.setdefault((kind, _norm(label)), []).append(node)

    def direct(node: str, label: Any, kind: str | None) -> tuple[str | None, str]:
        if node in mapping:
            return mapping[node], "manual"
        if node in ids and (kind not in AXES or kind_of[node] == kind):
            return node, "id"
        kinds = [kind] if kind in AXES else list(AXES)
        found = [n for k in kinds for n in by_label.get((k, _norm(label)), [])]
        if len(found) > 1:  # the previous version's own node first
            found = [n for n in found if n.startswith("3ie:")] or found
        return (found[0], "label") if len(found) == 1 else (None, "none")

    matched = {n: direct(n, lbl, k) for n, lbl, k in
               zip(prev["node_id"], prev["label"], prev["kind"], strict=True)}
    parent = dict(zip(prev["node_id"], prev["parent_id"], strict=True))
    rows = []
    code_count = codes.groupby("node_id").size().to_dict() if len(codes) else {}
    study_count = codes.groupby("node_id")["record_id"].nunique().to_dict() if len(codes) \
        else {}
    for node, label, kind in zip(prev["node_id"], prev["label"], prev["kind"], strict=True):
        found, how = matched[node]
        if found is None and how == "none" and kind in (*AXES, "other"):
            up, seen = parent.get(node), {node}
            while up is not None and up not in seen:
                seen.add(up)
                if matched.get(up, (None, ""))[0] is not None:
                    found, how = matched[up][0], "ancestor"
                    break
                up = parent.get(up)
        rows.append({"previous_id": node, "previous_label": label, "previous_kind": kind,
                     "node_id": found, "label": label_of.get(found) if found else None,
                     "kind": kind_of.get(found) if found else None, "match": how,
                     "n_codes": int(code_count.get(node, 0)),
                     "n_studies": int(study_count.get(node, 0))})
    previous_of = {}
    for row in rows:
        if row["node_id"] is not None and row["match"] in ("manual", "id", "label"):
            previous_of.setdefault(row["node_id"], row)
    full = framework_nodes(framework)
    for node, label, kind, maps_to in zip(full["node_id"], full["label"], full["kind"],
                                          full["maps_to"], strict=True):
        if maps_to is None or maps_to not in previous_of:
            continue
        source = previous_of[maps_to]
        rows.append({"previous_id": source["previous_id"],
                     "previous_label": source["previous_label"],
                     "previous_kind": source["previous_kind"], "node_id": node,
                     "label": label, "kind": kind, "match": "maps_to", "n_codes": 0,
                     "n_studies": 0})
    table = pd.DataFrame(rows, columns=list(CROSSWALK_COLUMNS))
    for col in ("n_codes", "n_studies"):
        table[col] = table[col].astype("int64")
    unplaced = table[(table["match"] == "none") & table["previous_kind"].isin(AXES)]
    reason = {
        r.previous_id: (f"{r.previous_kind} {r.previous_label!r} ({r.previous_id}) of the "
                        "previous map matches no node of this framework by id or label")
        for r in unplaced.itertuples()}
    deliberately = table[(table["match"] == "manual") & table["node_id"].isna()]
    reason.update({r.previous_id: f"{r.previous_kind} {r.previous_label!r} "
                   f"({r.previous_id}) is left off the map by the crosswalk mapping"
                   for r in deliberately.itertuples()})
    hits = codes[codes["node_id"].isin(set(reason))] if len(codes) else codes
    label_prev = dict(zip(prev["node_id"], prev["label"], strict=True))
    kind_prev = dict(zip(prev["node_id"], prev["kind"], strict=True))
    unmatched = pd.DataFrame({
        "record_id": list(hits["record_id"]) if len(hits) else [],
        "node_id": list(hits["node_id"]) if len(hits) else [],
    })
    unmatched["label"] = [label_prev.get(n) for n in unmatched["node_id"]]
    unmatched["kind"] = [kind_prev.get(n) for n in unmatched["node_id"]]
    unmatched["reason"] = [reason[n] for n in unmatched["node_id"]]
    unmatched = unmatched.drop_duplicates().reset_index(drop=True)
    return Crosswalk(table=table, unmatched=unmatched[list(UNMATCHED_COLUMNS)])
