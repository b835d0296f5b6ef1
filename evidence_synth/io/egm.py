"""``read_egm``: evidence gap maps and coding frameworks -> :class:`EvidenceMap`.

Sources: EPPI-Mapper standalone HTML maps (and files holding only their ``const NAME =``
lines), the same constants as one JSON object, EPPI-Reviewer JSON reports
(``CodeSets`` + ``References``) and single code-set exports, 3ie Development Evidence
Portal tabular exports (CSV/XLSX) and DEP map JSON (``interventions``/``outcomes`` with
``sub_levels``, ``interventions_outcomes``, ``project_records``).

Node ids are namespaced strings (``"eppi:5437032"``, ``"3ie:12"``) and are never
renumbered.
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .. import limits
from ..columns import records_from_dicts
from ..errors import DataQualityWarning, EvidenceSynthError, ParseError, UnknownFormatError
from . import _fields as f
from . import _text, tabular
from ._eppi_outcomes import outcome_code_rows, outcomes_frame
from ._parsed import Parsed

FRAMEWORK_COLUMNS = ("node_id", "parent_id", "label", "kind", "namespace", "order", "description")
CODE_COLUMNS = ("record_id", "node_id", "additional_text", "known")
CELL_COLUMNS = ("record_id", "row_id", "column_id")
_CONST = re.compile(r"(?:^|[;\s])const\s+([A-Za-z_$][\w$]*)\s*=\s*")
_MOJIBAKE = re.compile(
    "[\u00c2-\u00ef][\u0080-\u00bf\u2013-\u203a\u20ac\u2122\u0152\u0153\u0160\u0161"
    "\u017d\u017e\u0178\u0192\u02c6\u02dc]"
)


@dataclass
class EvidenceMap:
    """An evidence gap map: studies, the coding framework and who carries which code.

    Attributes
    ----------
    records : pandas.DataFrame
        Records contract; ``record_id`` is ``"<namespace>:<the map's item id>"``.
    framework : pandas.DataFrame
        Columns ``node_id``, ``parent_id`` (``<NA>`` for roots), ``label``, ``kind``
        (``row``, ``column``, ``filter``, ``other``), ``namespace``, ``order`` (position
        among siblings), ``description``.
    codes : pandas.DataFrame
        Columns ``record_id``, ``node_id``, ``additional_text``, ``known`` (``False`` when
        the node is not in ``framework``).
    cells : pandas.DataFrame or None
        Explicit cell membership (``record_id``, ``row_id``, ``column_id``) when the source
        lists it (DEP map JSON); otherwise ``None`` and cells are derived from ``codes``.
    meta : dict
        ``path``, ``format``, ``title``, ``warnings`` and other source facts.
    outcomes : pandas.DataFrame or None
        EPPI-Reviewer reports: one row per outcome (effect) of a study, with its effect
        sizes, the data entered and its intervention, control and outcome codes (columns
        in :data:`evidence_synth.io._eppi_outcomes.OUTCOME_COLUMNS`); ``None`` for sources
        without outcomes. ``codes`` holds study-level codes only.
    """

    records: pd.DataFrame
    framework: pd.DataFrame
    codes: pd.DataFrame
    cells: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    outcomes: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """The records (records contract)."""
        return self.records

    def extend(self, nodes: pd.DataFrame | Iterable[Mapping[str, Any]]) -> EvidenceMap:
        """A new map with extra framework nodes in their own namespace (imported ids untouched).

        Parameters
        ----------
        nodes : DataFrame or iterable of mappings
            Columns/keys ``node_id`` (namespaced, e.g. ``"ext:border_management"``),
            ``label``, ``kind`` (default ``"row"``), optional ``parent_id``, ``maps_to``
            (an existing node id, e.g. ``"3ie:101"``) and ``description``.

        Returns
        -------
        EvidenceMap
            Same records and codes; ``framework`` gains the nodes and a ``maps_to`` column.

        Raises
        ------
        EvidenceSynthError
            When a node id already exists, uses a namespace of the imported map, lacks a
            namespace, or ``maps_to``/``parent_id`` names an unknown node.
        """
        new = pd.DataFrame(list(nodes) if not isinstance(nodes, pd.DataFrame) else nodes)
        existing = set(self.framework["node_id"])
        taken = {"eppi", "3ie", self.meta.get("namespace")}
        problems = []
        rows = []
        for i, node in enumerate(new.to_dict("records")):
            node_id = str(node.get("node_id") or "")
            namespace = node_id.split(":", 1)[0] if ":" in node_id else ""
            if not namespace:
                problems.append(f"nodes[{i}]: node_id {node_id!r} has no 'namespace:' prefix")
            elif namespace in taken:
                problems.append(f"nodes[{i}]: namespace {namespace!r} belongs to the imported "
                                "map, whose nodes are read-only; use e.g. 'ext:'")
            if node_id in existing:
                problems.append(f"nodes[{i}]: node_id {node_id!r} already exists")
            known = existing | set(new["node_id"])
            for key in ("maps_to", "parent_id"):
                target = node.get(key)
                if isinstance(target, str) and target and target not in known:
                    problems.append(f"nodes[{i}]: {key} {target!r} is not a node of this map")
            rows.append({**_node(node_id, _text_or_none(node.get("parent_id")),
                                 node.get("label"), node.get("kind") or "row", namespace,
                                 int(node.get("order") or i), node.get("description")),
                         "maps_to": _text_or_none(node.get("maps_to"))})
        if problems:
            raise EvidenceSynthError("cannot extend the framework: " + "; ".join(problems))
        base = self.framework.copy()
        if "maps_to" not in base.columns:
            base["maps_to"] = pd.Series(pd.NA, index=base.index, dtype="string")
        added = _framework(rows)
        added["maps_to"] = pd.array([r["maps_to"] for r in rows], dtype="string")
        framework = pd.concat([base, added], ignore_index=True)
        return EvidenceMap(self.records, framework, self.codes, self.cells, dict(self.meta),
                           self.outcomes)

    def _nodes(self, kind: str) -> list[str]:
        fw = self.framework
        nodes = fw[fw["kind"] == kind]
        parents = set(fw["parent_id"].dropna())
        return [n for n in nodes["node_id"] if n not in parents]

    def _ancestors(self) -> dict[str, list[str]]:
        parent = dict(zip(self.framework["node_id"], self.framework["parent_id"], strict=True))
        out: dict[str, list[str]] = {}
        for node in parent:
            chain, seen, cur = [], set(), node
            while isinstance(cur, str) and cur not in seen:
                seen.add(cur)
                chain.append(cur)
                cur = parent.get(cur)
                cur = None if cur is pd.NA else cur
            out[node] = chain
        return out

    def matrix(self, rows: Iterable[str] | None = None, columns: Iterable[str] | None = None,
               *, labels: bool = False, outcome_codes: bool = False) -> pd.DataFrame:
        """Number of distinct studies per row node x column node.

        A study counts in cell (r, c) when it carries r or a descendant of r, and c or a
        descendant of c (each study once per cell, however many descendants it carries).
        With explicit ``cells`` (DEP JSON) a study counts when one of its listed cells
        lies under r and c. For leaf rows and columns this is EPPI-Mapper's rule: the
        study carries both the row's and the column's attribute.

        Parameters
        ----------
        rows, columns : iterable of str, optional
            Node ids; default: the leaf nodes of kind ``row`` / ``column``.
        labels : bool
            Label the axes with node labels instead of node ids.
        outcome_codes : bool, default False
            Also count the codes of the study's EPPI-Reviewer outcomes (each outcome's
            intervention and outcome codes and outcome-level codes, not its control): for
            maps whose axes are coded on outcomes rather than on studies. By default only
            study-level codes place a study, as EPPI-Mapper does.

        Returns
        -------
        pandas.DataFrame
            Integer counts, index = rows, columns = columns.
        """
        rows = list(rows) if rows is not None else self._nodes("row")
        columns = list(columns) if columns is not None else self._nodes("column")
        if not rows or not columns:
            raise EvidenceSynthError(
                "this map has no row/column nodes (kind 'row'/'column'); pass rows=[...] and "
                "columns=[...] node ids from .framework"
            )
        ancestors = self._ancestors()
        if self.cells is not None:
            counts = pd.DataFrame(0, index=rows, columns=columns, dtype="int64")
            row_set, col_set = set(rows), set(columns)
            members: dict[tuple[str, str], set[str]] = {}
            for rec, r, c in self.cells.itertuples(index=False):
                for ra in ancestors.get(r, [r]):
                    if ra not in row_set:
                        continue
                    for ca in ancestors.get(c, [c]):
                        if ca in col_set:
                            members.setdefault((ra, ca), set()).add(rec)
            for (r, c), recs in members.items():
                counts.loc[r, c] = len(recs)
        else:
            carriers: dict[str, set[str]] = {}
            pairs = list(zip(self.codes["record_id"], self.codes["node_id"], strict=True))
            if outcome_codes and self.outcomes is not None:
                pairs += outcome_code_rows(self.outcomes)
            for rec, node in pairs:
                for a in ancestors.get(node, [node]):
                    carriers.setdefault(a, set()).add(rec)
            counts = pd.DataFrame(
                [[len(carriers.get(r, set()) & carriers.get(c, set())) for c in columns]
                 for r in rows],
                index=rows, columns=columns, dtype="int64",
            )
        if labels:
            label = dict(zip(self.framework["node_id"], self.framework["label"], strict=True))
            counts = counts.rename(index=label, columns=label)
        return counts

    def counts(self) -> pd.Series:
        """Counts: records, framework nodes by kind, codes, unknown codes, non-empty cells.

        Returns
        -------
        pandas.Series
            Named by the map's title (or path); index ``records, nodes, row_nodes,
            column_nodes, filter_nodes, other_nodes, codes, unknown_codes, outcomes, cells,
            non_empty_cells``.
        """
        kinds = self.framework["kind"].value_counts()
        out = {
            "records": len(self.records),
            "nodes": len(self.framework),
            **{f"{k}_nodes": int(kinds.get(k, 0)) for k in ("row", "column", "filter", "other")},
            "codes": len(self.codes),
            "unknown_codes": int((~self.codes["known"].astype(bool)).sum()),
            "outcomes": 0 if self.outcomes is None else len(self.outcomes),
        }
        try:
            m = self.matrix()
            out["cells"] = int(m.size)
            out["non_empty_cells"] = int((m > 0).sum().sum())
        except EvidenceSynthError:
            out["cells"] = out["non_empty_cells"] = 0
        return pd.Series(out, name=self.meta.get("title") or self.meta.get("path"))

    def summary(self) -> str:
        """The title, then the :meth:`counts`, one ``name: value`` line each."""
        counts = self.counts()
        lines = [f"{name}: {value}" for name, value in counts.items()]
        return "\n".join([f"EvidenceMap {counts.name or ''}".rstrip(), *lines])

    def _repr_html_(self) -> str:
        title = html.escape(str(self.meta.get("title") or self.meta.get("path") or "evidence map"))
        parts = [f"<h4>EvidenceMap: {title}</h4>", self.counts().to_frame().to_html()]
        with contextlib.suppress(EvidenceSynthError):
            parts.append(self.matrix(labels=True).to_html())
        return "\n".join(parts)

    def __repr__(self) -> str:
        s = self.counts()
        return (f"EvidenceMap({s['records']} records, {s['nodes']} nodes, {s['codes']} codes, "
                f"{s['non_empty_cells']}/{s['cells']} cells filled)")


def read_egm(path: str | Path, *, namespace: str | None = None) -> EvidenceMap:
    """Read an evidence gap map or coding framework.

    Parameters
    ----------
    path : str or Path
        EPPI-Mapper HTML (or its constants), EPPI-Mapper constants JSON, EPPI-Reviewer JSON
        report or code set, 3ie DEP CSV/XLSX export, or DEP map JSON.
    namespace : str, optional
        Prefix of node and record ids; default ``"eppi"`` for EPPI sources and ``"3ie"``
        for DEP sources.

    Returns
    -------
    EvidenceMap

    Raises
    ------
    ParseError
        Malformed JSON/constants (names the file, line and JSON path), a value of the wrong
        JSON type (``{"References": "oops"}``, names its JSON path), or a map with no records
        and no framework nodes.
    UnknownFormatError
        Content that is none of the supported map formats.
    LimitError
        A file beyond ``max_file_bytes`` or JSON nested beyond ``max_depth`` (see
        :mod:`evidence_synth.limits`).
    """
    path = Path(path)
    found = _read_egm(path, namespace)
    if found.records.empty and found.framework.empty:
        raise ParseError(
            f"expected an evidence map, found a {found.meta['format']} with no records and no "
            "framework nodes", path=path, line=1)
    return found


def _read_egm(path: Path, namespace: str | None) -> EvidenceMap:
    data = _text.read_bytes(path)
    if not data.strip():
        raise ParseError("expected an evidence map, found an empty file", path=path, line=1)
    problems: list[str] = []
    if data.startswith(b"PK\x03\x04"):
        header, rows, lines = tabular.read_table(None, path=path, xlsx=True)
        return _dep_table(header, rows, lines, path, namespace or "3ie", problems)
    text = _text.decode(data, path=path).text
    head = text.lstrip("\ufeff \t\r\n")
    if head[:1] in "{[":
        doc = _json(text, path)
        return _from_json(doc, path, namespace, problems)
    if _CONST.search(text[:1_000_000]):
        consts = _constants(text, path)
        if "csvData" not in consts and "referenceData" not in consts:
            raise UnknownFormatError(
                "found JavaScript constants but no 'const csvData' or 'const referenceData'; "
                "expected an EPPI-Mapper map", path=path, line=1)
        return _mapper(consts, path, namespace or "eppi", problems, "eppi_mapper_html")
    first = head.split("\n", 1)[0]
    if "," in first or "\t" in first:
        header, rows, lines = tabular.read_table(text, path=path)
        if tabular.is_dep(header):
            return _dep_table(header, rows, lines, path, namespace or "3ie", problems)
    raise UnknownFormatError(
        "not an evidence map: expected EPPI-Mapper HTML/constants ('const csvData = '), JSON "
        "with 'csvData', 'CodeSets', 'References', 'SetId' or 'interventions', or a 3ie DEP "
        f"export (columns id, title, authors, intervention, outcome); found {first[:60]!r}",
        path=path, line=1,
    )


# --- decoding -------------------------------------------------------------------------

def _line_col(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _json(text: str, path: Path) -> Any:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ParseError(f"expected valid JSON: {exc.msg} (column {exc.colno})", path=path,
                         line=exc.lineno) from exc
    except RecursionError:
        raise _too_deep(path) from None
    limits.check_depth(doc, where=path)
    return doc


def _too_deep(where: Any) -> EvidenceSynthError:
    return limits.exceeded("max_depth", where=where,
                           found="JSON nested deeper than the parser can follow")


def _shaped(value: Any, kind: type, at: str, path: Path) -> Any:
    """``value`` when it is a JSON ``kind`` (list or object); a missing or null value is an
    empty one; anything else is a :class:`ParseError` naming the JSON path ``at``."""
    if value is None:
        return kind()
    if isinstance(value, kind):
        return value
    expected = "a list" if kind is list else "an object"
    raise ParseError(f"{at}: expected {expected}, found {_json_type(value)} "
                     f"{json.dumps(value, ensure_ascii=False)[:40]}", path=path, line=1)


def _objects(value: Any, at: str, path: Path) -> list[Mapping[str, Any]]:
    """A JSON list of objects (``[]`` when missing or null), else a :class:`ParseError`
    naming the JSON path of the first wrong value."""
    items = _shaped(value, list, at, path)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ParseError(f"{at}[{i}]: expected an object, found {_json_type(item)}",
                             path=path, line=1)
    return items


def _json_type(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "a number", float: "a number",
             list: "a list", dict: "an object", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _constants(text: str, path: Path) -> dict[str, Any]:
    """Every ``const NAME = <JSON literal>`` (first occurrence of each name)."""
    decoder = json.JSONDecoder()
    out: dict[str, Any] = {}
    for m in _CONST.finditer(text):
        name = m.group(1)
        if name in out:
            continue
        start = m.end()
        if text.startswith("undefined", start):
            out[name] = None
            continue
        try:
            value, _ = decoder.raw_decode(text, start)
        except RecursionError:
            raise _too_deep(f"{path}, const {name}") from None
        except json.JSONDecodeError as exc:
            if name in ("csvData", "referenceData", "filters", "segmentAttributes"):
                raise ParseError(
                    f"'const {name} = ' is not followed by a JSON literal: {exc.msg}",
                    path=path, line=_line_col(text, exc.pos)) from exc
            continue
        limits.check_depth(value, where=f"{path}, const {name}")
        out[name] = value
    return out


def _repair(text: str) -> tuple[str, bool]:
    """Undo UTF-8-read-as-cp1252 mojibake ("MuÃ±oz" -> "Muñoz") when that is safe."""
    if not _MOJIBAKE.search(text):
        return text, False
    for codec in ("cp1252", "latin-1"):
        try:
            fixed = text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        return fixed, True
    fixed = "".join(_repair_word(w) for w in re.split(r"(\s+)", text))
    return fixed, fixed != text


def _repair_word(word: str) -> str:
    if not _MOJIBAKE.search(word):
        return word
    for codec in ("cp1252", "latin-1"):
        try:
            return word.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return word


# --- builders ---------------------------------------------------------------------------

def _node_id(namespace: str, value: Any) -> str | None:
    if value is None or (isinstance(value, (list, dict)) and not value):
        return None
    if isinstance(value, list):
        value = value[0]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return f"{namespace}:{text}" if text else None


def _framework(nodes: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(nodes, columns=list(FRAMEWORK_COLUMNS))
    frame = frame.drop_duplicates("node_id", keep="first").reset_index(drop=True)
    for col in ("node_id", "parent_id", "label", "kind", "namespace", "description"):
        frame[col] = frame[col].astype("string")
    frame["order"] = frame["order"].astype("Int64")
    return frame


def _codes(rows: list[tuple[str, str, str | None]], known: set[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["record_id", "node_id", "additional_text"])
    frame["known"] = frame["node_id"].isin(known).astype(bool)
    for col in ("record_id", "node_id", "additional_text"):
        frame[col] = frame[col].astype("string")
    return frame


def _warn(problems: list[str], path: Path) -> None:
    for message in problems:
        warnings.warn(f"{path}: {message}", DataQualityWarning, stacklevel=5)


def _from_json(doc: Any, path: Path, namespace: str | None, problems: list[str]) -> EvidenceMap:
    if isinstance(doc, dict) and ("csvData" in doc or "referenceData" in doc):
        return _mapper(doc, path, namespace or "eppi", problems, "eppi_mapper_json")
    if isinstance(doc, dict) and ("interventions" in doc or "interventions_outcomes" in doc
                                  or "project_records" in doc):
        return _dep_json(doc, path, namespace or "3ie", problems)
    if isinstance(doc, dict) and ("CodeSets" in doc or "References" in doc):
        return _eppi_report(doc, path, namespace or "eppi", problems)
    if isinstance(doc, dict) and "SetId" in doc:
        return _eppi_report({"CodeSets": [doc], "References": []}, path, namespace or "eppi",
                            problems, fmt="eppi_codeset")
    if isinstance(doc, list) and doc and all(isinstance(d, dict) and "SetId" in d for d in doc):
        return _eppi_report({"CodeSets": doc, "References": []}, path, namespace or "eppi",
                            problems, fmt="eppi_codeset")
    keys = sorted(doc)[:8] if isinstance(doc, dict) else type(doc).__name__
    raise UnknownFormatError(
        "JSON is not an evidence map: expected keys 'csvData'/'referenceData' (EPPI-Mapper), "
        f"'CodeSets'/'References' (EPPI-Reviewer), 'SetId' (code set) or 'interventions' (DEP); "
        f"found {keys}", path=path, line=1)


def _eppi_record(ref: Mapping[str, Any], namespace: str, position: int,
                 repaired: list[int]) -> dict[str, Any]:
    raw: dict[str, list[str]] = {}
    for key, value in ref.items():
        if isinstance(value, list):
            raw[key] = [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
                        for v in value]
        elif isinstance(value, dict):
            raw[key] = [json.dumps(value, ensure_ascii=False)]
        elif value is not None:
            raw[key] = [str(value)]

    def text(key: str) -> str | None:
        value = ref.get(key)
        if value is None or isinstance(value, (list, dict)):
            return None
        value, fixed = _repair(str(value))
        if fixed:
            repaired[0] += 1
        return value.strip() or None

    item = ref.get("ItemId")
    rid = _node_id(namespace, item) or f"{namespace}:row{position}"
    numbers = text("StandardNumber")
    isbn, issn = f.split_standard_numbers([numbers] if numbers else [],
                                          "BOOK" if "book" in (text("TypeName") or "").lower()
                                          else None)
    return {
        "record_id": rid,
        "source_row": position,
        "title": f.one_line(text("Title")),
        "abstract": text("Abstract"),
        "journal": f.one_line(text("ParentTitle")),
        "authors": f.people((text("Authors") or "").split(";"), surname_first=True),
        "keywords": [k.strip() for k in re.split(r"[;\n\r]", text("Keywords") or "") if k.strip()],
        "year": f.parse_year(text("Year")),
        "volume": text("Volume"),
        "issue": text("Issue"),
        "pages": text("Pages"),
        "publisher": text("Publisher"),
        "isbn": isbn,
        "issn": issn,
        "pub_type": text("TypeName"),
        "doi": f.find_doi(text("DOI")) or text("DOI"),
        "accession": None if item is None else str(item),
        "raw": raw,
    }


def _records(refs: list[Mapping[str, Any]], namespace: str, source_id: str,
             problems: list[str]) -> pd.DataFrame:
    repaired = [0]
    rows = [_eppi_record(ref, namespace, i, repaired) for i, ref in enumerate(refs, 1)]
    for row in rows:
        row["source_id"] = source_id
    if repaired[0]:
        problems.append(f"repaired mojibake (UTF-8 read as cp1252) in {repaired[0]} field(s)")
    frame = records_from_dicts(rows)
    dup = frame["record_id"].duplicated()
    if dup.any():
        problems.append(f"{int(dup.sum())} duplicate item id(s); suffixed with '#<position>'")
        frame.loc[dup, "record_id"] = (frame.loc[dup, "record_id"] + "#"
                                       + frame.loc[dup, "source_row"].astype("string"))
    return frame


def _item_codes(refs: list[Mapping[str, Any]], records: pd.DataFrame, namespace: str,
                problems: list[str], *, at: str, path: Path) -> list[tuple[str, str, str | None]]:
    rows = []
    empty = 0
    for i, (rid, ref) in enumerate(zip(records["record_id"], refs, strict=True)):
        for code in _objects(ref.get("Codes"), f"{at}[{i}].Codes", path):
            node = _node_id(namespace, code.get("AttributeId"))
            if node is None:
                empty += 1
                continue
            extra = code.get("AdditionalText")
            rows.append((rid, node, extra if isinstance(extra, str) and extra.strip() else None))
    if empty:
        problems.append(f"{empty} code(s) with an empty AttributeId ([] or blank) skipped")
    return rows


def _mapper(consts: Mapping[str, Any], path: Path, namespace: str, problems: list[str],
            fmt: str) -> EvidenceMap:
    nodes: list[dict[str, Any]] = []
    root = "$." if fmt == "eppi_mapper_json" else "const "
    csv_data = _shaped(consts.get("csvData"), dict, f"{root}csvData", path)
    header_rows = [_objects(row, f"{root}csvData.rows[{i}]", path) for i, row in
                   enumerate(_shaped(csv_data.get("rows"), list, f"{root}csvData.rows", path))]
    nodes += _mapper_axes(header_rows, namespace)
    nodes += _filter_nodes(_objects(consts.get("filters"), f"{root}filters", path), namespace,
                           None, at=f"{root}filters", path=path)
    known_ids = {n["node_id"] for n in nodes}
    segments = _objects(consts.get("segmentAttributes"), f"{root}segmentAttributes", path)
    for i, seg in enumerate(segments):
        attribute = _shaped(seg.get("attribute"), dict, f"{root}segmentAttributes[{i}].attribute",
                            path)
        node = _node_id(namespace, attribute.get("AttributeId"))
        if node and node not in known_ids:
            nodes.append(_node(node, None, attribute.get("AttributeName"), "other", namespace, i,
                               attribute.get("AttributeDescription")))
            known_ids.add(node)
    refs = _objects(consts.get("referenceData"), f"{root}referenceData", path)
    records = _records(refs, namespace, path.stem, problems)
    framework = _framework(nodes)
    codes = _codes(_item_codes(refs, records, namespace, problems, at=f"{root}referenceData",
                               path=path), set(framework["node_id"]))
    _warn(problems, path)
    title = consts.get("title") if isinstance(consts.get("title"), str) else None
    return EvidenceMap(records, framework, codes, None,
                       {"path": str(path), "format": fmt, "title": title, "warnings": problems,
                        "namespace": namespace})


def _text_or_none(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value).strip() or None


def _node(node_id: str, parent: str | None, label: Any, kind: str, namespace: str, order: int,
          description: Any = None) -> dict[str, Any]:
    label = str(label).strip() if label is not None else None
    description = str(description).strip() if description else None
    return {"node_id": node_id, "parent_id": parent, "label": label or None, "kind": kind,
            "namespace": namespace, "order": order, "description": description or None}


def _mapper_axes(header_rows: list[list[Mapping[str, Any]]], namespace: str) -> list[dict]:
    """Row and column nodes of ``csvData.rows`` (``parentId`` if given, else from spans).

    Column header levels are stacked: a cell's parent is the cell of the level above
    whose span covers it. Row headers are table rows whose cells are right-aligned to
    the deepest level (leaves last): a row of ``k`` cells fills the ``k`` deepest levels,
    so a cell's parent is the most recent cell one level up. (Row spans are not used:
    real maps give the top level a span that counts children, not leaf rows.)
    """
    nodes: list[dict[str, Any]] = []
    col_levels: list[list[tuple[int, int, str]]] = []
    row_stack: list[str | None] = []  # the open node at each depth
    row_depth = max((len(r) for r in header_rows if r and isinstance(r[0], Mapping)
                     and not r[0].get("isColumn")), default=0)
    siblings: dict[Any, int] = {}

    def add(cell: Mapping[str, Any], parent: str | None, kind: str) -> str | None:
        node = _node_id(namespace, cell.get("id"))
        if node is None:
            return None
        if "parentId" in cell:
            parent = _node_id(namespace, cell.get("parentId"))
        order = siblings.get((kind, parent), 0)
        siblings[(kind, parent)] = order + 1
        nodes.append(_node(node, parent, cell.get("title"), kind, namespace, order,
                           cell.get("setDescription") or cell.get("description")))
        return node

    for row in header_rows:
        cells = [c for c in row if isinstance(c, Mapping)]
        if not cells:
            continue
        if cells[0].get("isColumn"):
            level: list[tuple[int, int, str]] = []
            offset = 0
            above = col_levels[-1] if col_levels else []
            for cell in cells:
                span = cell.get("span") or 1
                span = int(span) if isinstance(span, int | float) and 0 < span < 1e6 else 1
                parent = next((n for s, e, n in above if s <= offset < e), None)
                node = add(cell, parent, "column")
                if node:
                    level.append((offset, offset + span, node))
                offset += span
            col_levels.append(level)
            continue
        del row_stack[max(row_depth - len(cells), 0):]
        for cell in cells:
            node = add(cell, row_stack[-1] if row_stack else None, "row")
            row_stack.append(node)
    return nodes


def _filter_nodes(items: list[Mapping[str, Any]], namespace: str, parent: str | None, *,
                  at: str, path: Path) -> list[dict]:
    out: list[dict[str, Any]] = []
    for order, item in enumerate(items):
        node = _node_id(namespace, item.get("id"))
        if node is None:
            continue
        out.append(_node(node, parent, item.get("label"), "filter", namespace, order))
        children = f"{at}[{order}].children"
        out += _filter_nodes(_objects(item.get("children"), children, path), namespace, node,
                             at=children, path=path)
    return out


def _attribute_nodes(attrs: Any, namespace: str, parent: str | None, *, at: str,
                     path: Path) -> list[dict]:
    if isinstance(attrs, Mapping):
        attrs, at = attrs.get("AttributesList"), f"{at}.AttributesList"
    out: list[dict[str, Any]] = []
    for order, item in enumerate(_objects(attrs, at, path)):
        node = _node_id(namespace, item.get("AttributeId"))
        if node is None:
            continue
        out.append(_node(node, parent, item.get("AttributeName"), "other", namespace, order,
                         item.get("AttributeDescription")))
        out += _attribute_nodes(item.get("Attributes"), namespace, node,
                                at=f"{at}[{order}].Attributes", path=path)
    return out


def _eppi_report(doc: Mapping[str, Any], path: Path, namespace: str, problems: list[str],
                 fmt: str = "eppi_report") -> EvidenceMap:
    nodes: list[dict[str, Any]] = []
    root = "$" if fmt == "eppi_report" else "$(code set)"
    for order, codeset in enumerate(_objects(doc.get("CodeSets"), f"{root}.CodeSets", path)):
        set_node = _node_id(f"{namespace}:set", codeset.get("SetId"))
        if set_node is None:
            problems.append(f"CodeSets[{order}] has no SetId; its attributes are kept as roots")
        else:
            nodes.append(_node(set_node, None, codeset.get("SetName"), "other", namespace, order,
                               codeset.get("SetDescription")))
        nodes += _attribute_nodes(codeset.get("Attributes"), namespace, set_node,
                                  at=f"{root}.CodeSets[{order}].Attributes", path=path)
    refs = _objects(doc.get("References"), f"{root}.References", path)
    records = _records(refs, namespace, path.stem, problems)
    framework = _framework(nodes)
    codes = _codes(_item_codes(refs, records, namespace, problems, at=f"{root}.References",
                               path=path), set(framework["node_id"]))
    outcomes = outcomes_frame(refs, list(records["record_id"]), namespace, _node_id)
    _warn(problems, path)
    return EvidenceMap(records, framework, codes, None,
                       {"path": str(path), "format": fmt, "title": None, "warnings": problems,
                        "namespace": namespace}, outcomes)


# --- 3ie Development Evidence Portal -----------------------------------------------------

_DEP_MISSING = frozenset({"not specified", "not applicable", ""})


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _dep_table(header: list[str], rows: list[list[str]], lines: list[int], path: Path,
               namespace: str, problems: list[str]) -> EvidenceMap:
    """DEP tabular export: rows sharing ``id`` form one study; ``intervention`` and
    ``outcome`` cells (``" | "``-separated) become row and column nodes keyed by label."""
    header = [h.strip().lstrip("\ufeff") for h in header]
    if not tabular.is_dep(header):
        raise UnknownFormatError(
            f"expected a 3ie DEP export with columns {sorted(tabular.DEP_KEYS)}; found "
            f"{header[:8]}", path=path, line=1)
    parsed = Parsed()
    for row, line in zip(rows, lines, strict=True):
        if any(c.strip() for c in row):
            parsed.records.append({h: [row[i] if i < len(row) else ""]
                                   for i, h in enumerate(header)})
            parsed.lines.append(line)
    merged = tabular.merge_dep(parsed)
    columns = tabular.resolve_columns(header)
    dict_rows = []
    nodes: dict[str, dict[str, Any]] = {}
    code_rows: list[tuple[str, str, str | None]] = []
    for position, raw in enumerate(merged.records, 1):
        rec = tabular.to_record(raw, columns)
        study = (raw.get("id") or [str(position)])[0].strip()
        rid = f"{namespace}:{study}"
        rec.update(record_id=rid, source_id=path.stem, source_row=position, raw=raw,
                   accession=study)
        dict_rows.append(rec)
        for column, kind in (("intervention", "row"), ("outcome", "column")):
            for value in raw.get(column, []):
                for label in value.split(" | "):
                    label = label.strip()
                    if label.lower() in _DEP_MISSING:
                        continue
                    node = f"{namespace}:{column}/{_slug(label)}"
                    if node not in nodes:
                        order = sum(1 for n in nodes.values() if n["kind"] == kind)
                        nodes[node] = _node(node, None, label, kind, namespace, order)
                    code_rows.append((rid, node, None))
    records = records_from_dicts(dict_rows)
    framework = _framework(list(nodes.values()))
    codes = _codes(list(dict.fromkeys(code_rows)), set(framework["node_id"]))
    _warn(problems, path)
    return EvidenceMap(records, framework, codes, None,
                       {"path": str(path), "format": "dep_table", "title": None,
                        "warnings": problems, "namespace": namespace})


def _dep_levels(items: Any, namespace: str, kind: str, parent: str | None,
                at: str, path: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for order, item in enumerate(_objects(items, at, path)):
        raw_id = next((item[k] for k in ("id", "map_layout_group_id", "level_id")
                       if item.get(k) not in (None, "")), None)
        node = _node_id(namespace, raw_id)
        if node is None:
            continue
        label = next((item[k] for k in ("title", "map_layout_group_title", "name", "label")
                      if item.get(k)), None)
        out.append(_node(node, parent, label, kind, namespace, order, item.get("description")))
        out += _dep_levels(item.get("sub_levels"), namespace, kind, node,
                           f"{at}[{order}].sub_levels", path)
    return out


def _dep_id(value: Any) -> Any:
    if isinstance(value, Mapping):
        for key in ("id", "record_id", "project_record_id"):
            if value.get(key) not in (None, ""):
                return value[key]
        return None
    return value


def _dep_json(doc: Mapping[str, Any], path: Path, namespace: str,
              problems: list[str]) -> EvidenceMap:
    nodes = _dep_levels(doc.get("interventions"), namespace, "row", None, "$.interventions", path)
    nodes += _dep_levels(doc.get("outcomes"), namespace, "column", None, "$.outcomes", path)
    framework = _framework(nodes)
    known = set(framework["node_id"])
    dict_rows = []
    for position, rec in enumerate(_shaped(doc.get("project_records"), list,
                                           "$.project_records", path), 1):
        if not isinstance(rec, Mapping):
            problems.append(f"project_records[{position - 1}] is not an object; skipped")
            continue
        raw = {k: [v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)]
               for k, v in rec.items() if v is not None}
        authors = rec.get("authors") or []
        if isinstance(authors, str):
            authors = authors.split(" | ") if " | " in authors else authors.split(";")
        authors = _shaped(authors, list, f"$.project_records[{position - 1}].authors", path)
        rid = _node_id(namespace, _dep_id(rec)) or f"{namespace}:row{position}"
        dict_rows.append({
            "record_id": rid, "source_id": path.stem, "source_row": position,
            "title": rec.get("title"), "abstract": rec.get("abstract"),
            "journal": rec.get("journal") or rec.get("source"),
            "authors": f.people(str(a.get("name", "")) if isinstance(a, Mapping) else str(a)
                                for a in authors),
            "year": f.parse_year(str(rec.get("year") or rec.get("year_of_publication") or "")),
            "doi": f.find_doi(str(rec.get("doi") or "")),
            "pub_type": rec.get("publication_type"),
            "accession": str(_dep_id(rec)) if _dep_id(rec) is not None else None,
            "raw": raw,
        })
    records = records_from_dicts(dict_rows)
    record_ids = set(records["record_id"])
    cell_rows: list[tuple[str, str, str]] = []
    for i, cell in enumerate(_objects(doc.get("interventions_outcomes"),
                                      "$.interventions_outcomes", path)):
        row = _node_id(namespace, cell.get("intervention_id") or cell.get("intervention"))
        col = _node_id(namespace, cell.get("outcome_id") or cell.get("outcome"))
        if row is None or col is None:
            problems.append(f"interventions_outcomes[{i}] lacks intervention_id/outcome_id; "
                            "skipped")
            continue
        bubbles = f"$.interventions_outcomes[{i}].bubbles"
        for j, bubble in enumerate(_objects(cell.get("bubbles"), bubbles, path)):
            for rec in _shaped(bubble.get("records"), list, f"{bubbles}[{j}].records", path):
                rid = _node_id(namespace, _dep_id(rec))
                if rid is not None:
                    cell_rows.append((rid, row, col))
    cells = pd.DataFrame(list(dict.fromkeys(cell_rows)), columns=list(CELL_COLUMNS),
                         dtype="string")
    missing = sorted(set(cells["record_id"]) - record_ids)
    if missing:
        problems.append(f"{len(missing)} record id(s) in interventions_outcomes are not in "
                        f"project_records (e.g. {missing[0]}); kept in cells")
    code_rows = list(dict.fromkeys(
        [(r, n, None) for r, row, col in cell_rows for n in (row, col)]))
    codes = _codes(code_rows, known)
    _warn(problems, path)
    return EvidenceMap(records, framework, codes, cells,
                       {"path": str(path), "format": "dep_json", "title": doc.get("title"),
                        "warnings": problems, "namespace": namespace})
