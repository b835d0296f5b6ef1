"""Review protocols: YAML in, validated against a JSON Schema, frozen and hashed.

A protocol is data one review team writes (``protocols/<review>.yaml``): the question,
eligibility criteria (PICOS), the intervention/outcome framework, the sources searched,
the stages with their exclusion reasons, and method options. :func:`load_protocol` reads
it, checks it against ``evidence_synth/schemas/protocol.schema.json`` and against rules a
schema cannot express (unique ids, references that must resolve), collects *every*
problem with its JSON path and YAML line, and returns an immutable :class:`Protocol`
whose :attr:`Protocol.sha256` identifies its content whatever the YAML formatting.

The YAML reading and JSON Schema checking are in :mod:`evidence_synth.schema_validation`
(``load_schema`` and ``validate_yaml_document`` are re-exported here).
"""

from __future__ import annotations

import copy
import hashlib
import html
import json
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd
import yaml

from .errors import DataQualityWarning, ProtocolError
from .schema_validation import (
    JsonPath,
    Problem,
    check_document,
    format_path,
    line_for,
    load_schema,
    read_yaml,
    to_json_types,
    validate_yaml_document,
)

__all__ = [
    "CURRENT_SCHEMA_VERSION",
    "SUPPORTED_SCHEMA_VERSIONS",
    "Protocol",
    "load_protocol",
    "load_schema",
    "validate_protocol",
    "validate_yaml_document",
]

#: Version of the protocol format this library writes and validates against.
CURRENT_SCHEMA_VERSION = 1

_PROTOCOL_SCHEMA = "protocol"


# --------------------------------------------------------------------------- migrations


def _migrate_0_to_1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (the draft format) to version 1.

    Version 0 differed in four places: ``framework`` was the list of nodes itself; node
    ``kind`` was ``intervention``/``outcome``/``filter``; ``exclusion_reasons`` was a
    mapping ``code -> {stage, label, description}``; and ``screening.stopping_rule`` was
    the method name, with ``target_recall`` and ``confidence`` next to it in ``screening``.
    """
    out = copy.deepcopy(data)
    framework = out.get("framework")
    if isinstance(framework, list):
        out["framework"] = framework = {"nodes": framework}
    kinds = {"intervention": "row", "outcome": "column"}
    if isinstance(framework, dict) and isinstance(framework.get("nodes"), list):
        for node in framework["nodes"]:
            if isinstance(node, dict) and node.get("kind") in kinds:
                node["kind"] = kinds[node["kind"]]
    reasons = out.get("exclusion_reasons")
    if isinstance(reasons, dict):
        out["exclusion_reasons"] = [
            {"code": code, **(spec if isinstance(spec, dict) else {"label": spec})}
            for code, spec in reasons.items()
        ]
    screening = out.get("screening")
    if isinstance(screening, dict) and isinstance(screening.get("stopping_rule"), str):
        rule: dict[str, Any] = {"method": screening.pop("stopping_rule")}
        for key in ("target_recall", "confidence"):
            if key in screening:
                rule[key] = screening.pop(key)
        screening["stopping_rule"] = rule
    out["schema_version"] = 1
    return out


#: Migration functions: ``{v: f}`` turns a version-``v`` mapping into version ``v + 1``.
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _migrate_0_to_1}

#: Every ``schema_version`` this library can load (older ones are migrated on load).
SUPPORTED_SCHEMA_VERSIONS: tuple[int, ...] = (*sorted(_MIGRATIONS), CURRENT_SCHEMA_VERSION)


def _migrate(data: Any, *, source: Any, lines: Mapping[JsonPath, int] | None) -> Any:
    if not isinstance(data, dict):
        return data
    version = data.get("schema_version")
    if not isinstance(version, int) or isinstance(version, bool):
        return data  # the schema reports a missing or non-integer version
    if version == CURRENT_SCHEMA_VERSION:
        return data
    line = line_for(("schema_version",), lines)
    where = f"{source if source is not None else '<mapping>'}"
    where += f", line {line}" if line is not None else ""
    supported = ", ".join(map(str, SUPPORTED_SCHEMA_VERSIONS))
    if version > CURRENT_SCHEMA_VERSION:
        raise ProtocolError(
            f"{where}, $.schema_version: found schema_version {version}, newer than this "
            f"version of evidence_synth supports; supported versions: {supported} "
            f"(current {CURRENT_SCHEMA_VERSION}). Upgrade evidence_synth to load it."
        )
    if version not in _MIGRATIONS:
        raise ProtocolError(
            f"{where}, $.schema_version: found schema_version {version}; supported "
            f"versions: {supported}"
        )
    original = version
    while version < CURRENT_SCHEMA_VERSION:
        data = _MIGRATIONS[version](data)
        version += 1
    warnings.warn(
        f"{where}: protocol written for schema_version {original} was migrated to "
        f"{CURRENT_SCHEMA_VERSION} in memory; save Protocol.to_yaml() to update the file",
        DataQualityWarning,
        stacklevel=4,
    )
    return data


# --------------------------------------------------------------------------- semantics


def _nested(data: Any, *keys: str) -> Any:
    """``data[k1][k2]...`` or None when any level is missing or not a mapping."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _items(data: Any, *keys: str) -> list[tuple[int, dict[str, Any]]]:
    """``(index, item)`` for the mapping items of the list at ``data[k1][k2]...``."""
    found = _nested(data, *keys)
    if not isinstance(found, list):
        return []
    return [(i, item) for i, item in enumerate(found) if isinstance(item, dict)]


def _unique(
    items: list[tuple[int, dict[str, Any]]], key: str, base: JsonPath, what: str
) -> tuple[dict[str, int], list[Problem]]:
    """Index of the first item per value of ``key``, and a problem per repeated value."""
    first: dict[str, int] = {}
    problems: list[Problem] = []
    for i, item in items:
        value = item.get(key)
        if not isinstance(value, str):
            continue
        if value in first:
            problems.append(
                ((*base, i, key), f"duplicate {what} {value!r} (first at "
                 f"{format_path((*base, first[value], key))})")
            )
        else:
            first[value] = i
    return first, problems


_NODES: JsonPath = ("framework", "nodes")


def _link_problems(
    i: int, node: dict[str, Any], key: str, by_id: Mapping[str, dict[str, Any]]
) -> list[Problem]:
    """Problems with the ``parent`` or ``maps_to`` link of one node."""
    nid, ref = node["id"], node.get(key)
    if not isinstance(ref, str):
        return []
    path = (*_NODES, i, key)
    target = by_id.get(ref)
    if target is None:
        return [(path, f"{key} {ref!r} of {nid!r} is not a node id in $.framework.nodes")]
    if key == "maps_to" and nid.startswith("ext:") and not ref.startswith("3ie:"):
        return [(path, f"ext: nodes must map to a 3ie: node of the previous version; "
                 f"{nid!r} maps to {ref!r}")]
    if target.get("kind") != node.get("kind"):
        return [(path, f"{key} {ref!r} is a {target.get('kind')}, but {nid!r} is a "
                 f"{node.get('kind')}; expected the same kind")]
    if key == "parent" and target.get("layer", "main") != node.get("layer", "main"):
        return [(path, f"parent {ref!r} is in layer {target.get('layer', 'main')!r}, but "
                 f"{nid!r} is in layer {node.get('layer', 'main')!r}; expected the same "
                 "layer")]
    if key == "maps_to" and node.get("layer") == "unintended":
        return [(path, f"{nid!r} is an unintended-effects column, which the previous version "
                 "did not code; remove its maps_to")]
    if key == "parent":
        seen, up = {nid}, ref
        while isinstance(up, str) and up in by_id:
            if up in seen:
                return [(path, f"parent chain of {nid!r} loops back to {up!r}")]
            seen.add(up)
            up = by_id[up].get("parent")
    return []


def _framework_problems(data: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    """Node ids unique, namespaces, 3ie: nodes read-only, parent and maps_to links."""
    nodes = _items(data, *_NODES)
    _, problems = _unique(nodes, "id", _NODES, "node id")
    by_id: dict[str, dict[str, Any]] = {}
    for _, node in nodes:
        if isinstance(node.get("id"), str):
            by_id.setdefault(node["id"], node)
    for i, node in nodes:
        nid = node.get("id")
        if not isinstance(nid, str) or ":" not in nid:
            continue
        prefix = nid.split(":", 1)[0]
        namespace = node.get("namespace")
        if isinstance(namespace, str) and namespace != prefix:
            problems.append(((*_NODES, i, "namespace"), f"expected namespace {prefix!r} "
                             f"(the prefix of id {nid!r}), found {namespace!r}"))
        if prefix == "3ie" and node.get("read_only") is False:
            problems.append(((*_NODES, i, "read_only"), "3ie: nodes come from the previous "
                             f"version and must be read_only: true; {nid!r} has read_only: "
                             "false"))
        problems += _link_problems(i, node, "parent", by_id)
        problems += _link_problems(i, node, "maps_to", by_id)
    return by_id, problems


def _reference_problems(data: dict[str, Any], node_ids: Mapping[str, Any]) -> list[Problem]:
    """Unique source, stage, reason and criterion ids, and references between them."""
    _, problems = _unique(_items(data, "sources"), "id", ("sources",), "source id")
    stages, found = _unique(_items(data, "stages"), "id", ("stages",), "stage id")
    problems += found
    reasons = _items(data, "exclusion_reasons")
    codes, found = _unique(reasons, "code", ("exclusion_reasons",), "exclusion reason code")
    problems += found

    criteria: list[tuple[JsonPath, dict[str, Any]]] = [
        (("eligibility", domain, i), criterion)
        for domain in ("populations", "interventions", "comparisons", "outcomes",
                       "study_designs")
        for i, criterion in _items(data, "eligibility", domain)
    ]
    criterion_ids: dict[str, JsonPath] = {}
    for path, criterion in criteria:
        cid = criterion.get("id")
        if isinstance(cid, str) and cid in criterion_ids:
            problems.append(((*path, "id"), f"duplicate criterion id {cid!r} (first at "
                             f"{format_path((*criterion_ids[cid], 'id'))})"))
        elif isinstance(cid, str):
            criterion_ids[cid] = path
        reason = criterion.get("reason")
        if isinstance(reason, str) and reason not in codes:
            problems.append(((*path, "reason"),
                             f"reason {reason!r} is not a code in $.exclusion_reasons"))
        refs = criterion.get("nodes")
        for j, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, str) and ref not in node_ids:
                problems.append(((*path, "nodes", j),
                                 f"node {ref!r} is not a node id in $.framework.nodes"))

    for i, reason in reasons:
        stage = reason.get("stage")
        if isinstance(stage, str) and stage not in stages:
            problems.append((("exclusion_reasons", i, "stage"),
                             f"stage {stage!r} is not a stage id in $.stages; expected one "
                             f"of: {', '.join(stages)}"))
        refs = reason.get("criteria")
        for j, ref in enumerate(refs if isinstance(refs, list) else []):
            if isinstance(ref, str) and ref not in criterion_ids:
                problems.append((("exclusion_reasons", i, "criteria", j),
                                 f"criterion {ref!r} is not a criterion id in $.eligibility"))
    return problems


def _consistency_problems(data: dict[str, Any]) -> list[Problem]:
    """Update reviews name their previous version; ranges run forward; automation flags."""
    problems: list[Problem] = []
    review = data.get("review")
    if isinstance(review, dict) and str(review.get("type", "")).endswith("_update"):
        if "previous_version" not in review:
            problems.append((("review", "previous_version"),
                             f"review type {review['type']!r} needs review.previous_version"))
        if not any(s.get("kind") == "previous_version" for _, s in _items(data, "sources")):
            problems.append((("sources",), f"review type {review['type']!r} needs a source "
                             "with kind: previous_version"))
    years = _nested(data, "eligibility", "limits", "years")
    if isinstance(years, dict):
        lo, hi = years.get("from"), years.get("to")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            problems.append((("eligibility", "limits", "years"),
                             f"years.from {lo} is after years.to {hi}"))
    for i, source in _items(data, "sources"):
        lo, hi = _nested(source, "date_range", "from"), _nested(source, "date_range", "to")
        if isinstance(lo, str) and isinstance(hi, str) and lo > hi:
            problems.append((("sources", i, "date_range"),
                             f"date_range.from {lo!r} is after date_range.to {hi!r}"))
    for i, stage in _items(data, "stages"):
        if stage.get("auto_exclude") is True and stage.get("automation_allowed") is False:
            problems.append((("stages", i, "auto_exclude"),
                             "auto_exclude is true but automation_allowed is false"))
    return problems


def _protocol_semantics(data: Any) -> list[Problem]:
    """Rules the schema cannot express; tolerant of data the schema rejects."""
    if not isinstance(data, dict):
        return []
    node_ids, problems = _framework_problems(data)
    return problems + _reference_problems(data, node_ids) + _consistency_problems(data)


# --------------------------------------------------------------------------- Protocol


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_thaw(v) for v in value]
    return value


class _YamlDumper(yaml.SafeDumper):
    """Safe dumper writing multi-line strings (search queries) as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_YamlDumper.add_representer(str, _represent_str)


def _strings(values: Iterable[Any]) -> pd.api.extensions.ExtensionArray:
    return pd.array([v if isinstance(v, str) else None for v in values], dtype="string")


@dataclass(frozen=True, eq=False, repr=False)
class Protocol:
    """A validated, immutable review protocol.

    Create it with :func:`load_protocol` (from YAML) or :meth:`from_dict`; both validate.
    Two protocols are equal when their canonical content (see :attr:`sha256`) is equal,
    wherever they came from.

    Attributes
    ----------
    data : Mapping
        The protocol content, deeply read-only (mappings are ``MappingProxyType``,
        lists are tuples).
    path : Path or None
        The YAML file it was loaded from, if any (not part of the content or the hash).
    """

    data: Mapping[str, Any]
    path: Path | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _freeze(self.data))

    # ---- construction and serialisation

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any], *, path: str | Path | None = None
                  ) -> Protocol:
        """Validate a mapping (as :meth:`to_dict` returns) and return a Protocol."""
        return validate_protocol(mapping, source=path)

    def to_dict(self) -> dict[str, Any]:
        """A new, mutable, JSON-compatible copy of the content (key order preserved)."""
        return _thaw(self.data)

    def to_json(self) -> str:
        """The canonical JSON text that :attr:`sha256` hashes.

        Keys sorted, no whitespace, non-ASCII characters written as UTF-8.
        """
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False, allow_nan=False)

    def to_yaml(self) -> str:
        """The content as YAML (comments are not kept; loading it gives an equal Protocol)."""
        return yaml.dump(self.to_dict(), Dumper=_YamlDumper, sort_keys=False,
                         allow_unicode=True, width=100, default_flow_style=False)

    @cached_property
    def sha256(self) -> str:
        """Hex SHA-256 of :meth:`to_json` encoded as UTF-8.

        Independent of YAML formatting, comments, quoting and key order; changes when any
        value or the order of any list changes.
        """
        return hashlib.sha256(self.to_json().encode("utf-8")).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Protocol):
            return NotImplemented
        return self.sha256 == other.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)

    # ---- accessors

    @property
    def schema_version(self) -> int:
        """The protocol format version (always the current one after loading)."""
        return self.data["schema_version"]

    @property
    def review_id(self) -> str:
        """``review.id``."""
        return self.data["review"]["id"]

    @property
    def title(self) -> str:
        """``review.title``."""
        return self.data["review"]["title"]

    @property
    def node_ids(self) -> frozenset[str]:
        """Every framework node id (to check codes and tags in other documents against)."""
        return frozenset(n["id"] for n in self.data["framework"]["nodes"])

    def framework_frame(self) -> pd.DataFrame:
        """The framework nodes, one row per node in protocol order.

        Returns
        -------
        pandas.DataFrame
            Columns ``node_id``, ``parent_id``, ``label``, ``kind`` (row, column,
            filter), ``namespace``, ``read_only`` (bool), ``maps_to``, ``order`` (Int64),
            ``definition``, ``layer`` (``main`` or ``unintended`` for columns, ``<NA>``
            for rows and filters); text columns are ``string`` with ``<NA>`` when absent.
        """
        nodes = self.data["framework"]["nodes"]
        return pd.DataFrame({
            "node_id": _strings(n["id"] for n in nodes),
            "parent_id": _strings(n.get("parent") for n in nodes),
            "label": _strings(n["label"] for n in nodes),
            "kind": _strings(n["kind"] for n in nodes),
            "namespace": _strings(n["namespace"] for n in nodes),
            "read_only": pd.array([bool(n["read_only"]) for n in nodes], dtype=bool),
            "maps_to": _strings(n.get("maps_to") for n in nodes),
            "order": pd.array([n.get("order") for n in nodes], dtype="Int64"),
            "definition": _strings(n.get("definition") for n in nodes),
            "layer": _strings(n.get("layer", "main") if n["kind"] == "column" else None
                              for n in nodes),
        })

    def exclusion_reasons_frame(self) -> pd.DataFrame:
        """The exclusion reasons, in protocol order.

        Returns
        -------
        pandas.DataFrame
            Columns ``code``, ``stage``, ``label``, ``description`` (string), ``order``
            (Int64).
        """
        reasons = self.data["exclusion_reasons"]
        return pd.DataFrame({
            "code": _strings(r["code"] for r in reasons),
            "stage": _strings(r["stage"] for r in reasons),
            "label": _strings(r["label"] for r in reasons),
            "description": _strings(r.get("description") for r in reasons),
            "order": pd.array([r.get("order") for r in reasons], dtype="Int64"),
        })

    def sources_frame(self) -> pd.DataFrame:
        """The sources (PRISMA-S items), in protocol order.

        Returns
        -------
        pandas.DataFrame
            String columns ``source_id``, ``kind``, ``name``, ``platform``, ``url``,
            ``searched_on`` (ISO date), ``date_from``, ``date_to``, ``query``, ``limits``,
            ``notes``.
        """
        sources = self.data["sources"]
        ranges = [s.get("date_range", {}) for s in sources]
        return pd.DataFrame({
            "source_id": _strings(s["id"] for s in sources),
            "kind": _strings(s["kind"] for s in sources),
            "name": _strings(s["name"] for s in sources),
            "platform": _strings(s.get("platform") for s in sources),
            "url": _strings(s.get("url") for s in sources),
            "searched_on": _strings(s.get("searched_on") for s in sources),
            "date_from": _strings(r.get("from") for r in ranges),
            "date_to": _strings(r.get("to") for r in ranges),
            "query": _strings(s.get("query") for s in sources),
            "limits": _strings(s.get("limits") for s in sources),
            "notes": _strings(s.get("notes") for s in sources),
        })

    def eligibility_frame(self) -> pd.DataFrame:
        """The eligibility criteria, one row per criterion.

        Returns
        -------
        pandas.DataFrame
            Columns ``domain`` (populations, interventions, comparisons, outcomes,
            study_designs), ``criterion_id``, ``type`` (include/exclude), ``text``,
            ``reason`` (string) and ``nodes`` (list of node ids).
        """
        rows = [
            (domain, c)
            for domain in ("populations", "interventions", "comparisons", "outcomes",
                           "study_designs")
            for c in self.data["eligibility"][domain]
        ]
        return pd.DataFrame({
            "domain": _strings(d for d, _ in rows),
            "criterion_id": _strings(c["id"] for _, c in rows),
            "type": _strings(c["type"] for _, c in rows),
            "text": _strings(c["text"] for _, c in rows),
            "reason": _strings(c.get("reason") for _, c in rows),
            "nodes": pd.Series([list(c.get("nodes", ())) for _, c in rows], dtype=object),
        })

    def stages_frame(self) -> pd.DataFrame:
        """The stages, in order.

        Returns
        -------
        pandas.DataFrame
            Columns ``stage_id``, ``label`` (string), ``decisions`` (list of str),
            ``reviewers_per_record`` (Int64), ``automation_allowed``, ``auto_exclude``
            (bool).
        """
        stages = self.data["stages"]
        return pd.DataFrame({
            "stage_id": _strings(s["id"] for s in stages),
            "label": _strings(s.get("label") for s in stages),
            "decisions": pd.Series([list(s["decisions"]) for s in stages], dtype=object),
            "reviewers_per_record": pd.array(
                [s["reviewers_per_record"] for s in stages], dtype="Int64"),
            "automation_allowed": pd.array(
                [bool(s["automation_allowed"]) for s in stages], dtype=bool),
            "auto_exclude": pd.array(
                [bool(s.get("auto_exclude", False)) for s in stages], dtype=bool),
        })

    # ---- display

    def summary(self) -> str:
        """A few lines naming the review, its hash and the size of each part."""
        nodes = self.framework_frame()
        kinds = nodes["kind"].value_counts()
        unintended = int((nodes["layer"] == "unintended").sum())
        columns = f"{kinds.get('column', 0) - unintended} columns" + (
            f" (+{unintended} unintended-effect columns)" if unintended else "")
        return "\n".join([
            f"Protocol {self.review_id!r} (schema_version {self.schema_version})",
            f"  {self.title}",
            f"  sha256 {self.sha256}",
            f"  framework: {kinds.get('row', 0)} rows, {columns}, "
            f"{kinds.get('filter', 0)} filters",
            f"  sources: {len(self.data['sources'])}; stages: "
            f"{', '.join(s['id'] for s in self.data['stages'])}; exclusion reasons: "
            f"{len(self.data['exclusion_reasons'])}",
        ])

    def __repr__(self) -> str:
        path = f", path={str(self.path)!r}" if self.path is not None else ""
        return f"Protocol(review_id={self.review_id!r}, sha256={self.sha256[:12]!r}{path})"

    def _repr_html_(self) -> str:
        lines = self.summary().splitlines()
        return "<pre>" + html.escape("\n".join(lines), quote=False) + "</pre>"


def validate_protocol(mapping: Mapping[str, Any], *, source: str | Path | None = None
                      ) -> Protocol:
    """Validate a protocol given as a mapping and return it as a :class:`Protocol`.

    Older ``schema_version`` values are migrated first (with a
    :class:`~evidence_synth.errors.DataQualityWarning`); newer ones are refused.

    Parameters
    ----------
    mapping : Mapping
        The protocol content (e.g. ``yaml.safe_load`` output or ``Protocol.to_dict()``).
        Not modified.
    source : str or Path, optional
        Where the mapping came from, used in messages and kept as ``Protocol.path``.

    Raises
    ------
    ProtocolError
        With every problem (JSON path and message) in the message and in ``.problems``.
    """
    return _build(mapping, source=source, lines=None, early=())


def load_protocol(path: str | Path) -> Protocol:
    """Load, validate and freeze a review protocol from a YAML file.

    Parameters
    ----------
    path : str or Path
        The protocol YAML, e.g. ``protocols/irregular-migration-egm-update.yaml``.

    Returns
    -------
    Protocol

    Raises
    ------
    ProtocolError
        If the file is missing or not YAML, if ``schema_version`` is newer than
        supported, or with *every* schema and consistency problem at once, each with its
        JSON path and YAML line (message and ``.problems`` DataFrame with columns
        ``path``, ``line``, ``problem``).
    """
    path = Path(path)
    raw, lines, duplicates = read_yaml(path)
    return _build(raw, source=path, lines=lines, early=duplicates)


def _build(
    raw: Any,
    *,
    source: str | Path | None,
    lines: Mapping[JsonPath, int] | None,
    early: Iterable[tuple[JsonPath, int, str]],
) -> Protocol:
    if not isinstance(raw, Mapping):
        where = source if source is not None else "<mapping>"
        raise ProtocolError(
            f"{where}: expected a mapping at the top of the protocol, found "
            f"{type(raw).__name__}"
        )
    type_problems: list[Problem] = []
    data = to_json_types(raw, (), type_problems)
    data = _migrate(data, source=source, lines=lines)
    found = list(early) + [(p, line_for(p, lines), m) for p, m in type_problems]
    check_document(data, _PROTOCOL_SCHEMA, source=source, lines=lines, early=found,
           checks=[_protocol_semantics], what="the review protocol")
    return Protocol(data, None if source is None else Path(source))
