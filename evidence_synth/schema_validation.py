"""YAML documents checked against the JSON Schemas packaged in ``evidence_synth/schemas/``.

Every problem is collected before anything is raised, each with its JSON path and the
line of the YAML file it comes from: schema violations (with readable messages for
missing and unexpected keys), duplicate keys (which YAML silently resolves to the last
value), values YAML gives a non-JSON type, and whatever extra checks the caller passes.
:func:`validate_yaml_document` is the whole round; the protocol
(:mod:`evidence_synth.protocol`), screening criteria and rules, extraction forms and
codebooks use it or its parts (:func:`read_yaml`, :func:`to_json_types`,
:func:`check_document`).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from . import limits
from .errors import ProtocolError, os_error_text

__all__ = [
    "Check",
    "JsonPath",
    "Problem",
    "check_document",
    "format_path",
    "line_for",
    "load_schema",
    "read_yaml",
    "to_json_types",
    "validate_yaml_document",
]

#: Path of a value in a JSON document: keys and list indices from the root.
JsonPath = tuple[str | int, ...]
#: A problem found in a document: where, and what was expected.
Problem = tuple[JsonPath, str]
#: An extra check: ``check(data) -> iterable of Problem``.
Check = Callable[[Any], Iterable[Problem]]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_REQUIRED = re.compile(r"^'(.+)' is a required property$")


# --------------------------------------------------------------------------- schemas


def _schema_resource(schema_name: str) -> Any:
    name = schema_name if schema_name.endswith(".json") else f"{schema_name}.schema.json"
    resource = resources.files("evidence_synth") / "schemas" / name
    if not resource.is_file():
        available = sorted(
            p.name for p in (resources.files("evidence_synth") / "schemas").iterdir()
            if p.name.endswith(".json")
        )
        raise ProtocolError(
            f"no packaged schema named {name!r} in evidence_synth/schemas; "
            f"available: {', '.join(available) or 'none'}"
        )
    return resource


@cache
def _schema_text(schema_name: str) -> str:
    return _schema_resource(schema_name).read_text(encoding="utf-8")


def load_schema(schema_name: str) -> dict[str, Any]:
    """Return a packaged JSON Schema from ``evidence_synth/schemas/``.

    Parameters
    ----------
    schema_name : str
        ``"protocol"`` (for ``protocol.schema.json``) or a full file name.

    Returns
    -------
    dict
        A fresh copy of the schema; changing it does not affect validation.
    """
    return json.loads(_schema_text(schema_name))


@cache
def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    schema = load_schema(schema_name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


# --------------------------------------------------------------------------- YAML


def format_path(path: Iterable[str | int]) -> str:
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}"
        else:
            out += f"[{part!r}]"
    return out


def _node_lines(root: yaml.Node) -> tuple[dict[JsonPath, int], list[tuple[JsonPath, int, str]]]:
    """Map every JSON path in a composed YAML tree to its 1-based line.

    Mapping entries get the line of their key, sequence items the line of the item.
    Duplicate keys (which ``safe_load`` silently resolves to the last value) are returned
    as problems.
    """
    lines: dict[JsonPath, int] = {(): root.start_mark.line + 1}
    duplicates: list[tuple[JsonPath, int, str]] = []
    stack: list[tuple[yaml.Node, JsonPath]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
                if key is None or key == "<<":
                    continue
                child = (*path, key)
                line = key_node.start_mark.line + 1
                if key in seen:
                    duplicates.append(
                        (child, line, f"duplicate key {key!r} (first on line {seen[key]}); "
                         "YAML keeps only the last value")
                    )
                seen.setdefault(key, line)
                lines[child] = line
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                lines[child] = item.start_mark.line + 1
                stack.append((item, child))
    return lines, duplicates


#: libyaml's safe loader when PyYAML was built with it (about 10x faster), else PyYAML's.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _check_expansion(root: yaml.Node, path: Path) -> None:
    """Refuse a composed YAML tree whose aliases expand beyond the limits.

    An alias (``*name``) makes the composer reuse the anchored node, so the tree is a graph
    that everything after (building the data, mapping paths to lines, checking the schema)
    walks in full: nine lines of nested aliases expand to hundreds of millions of nodes
    (the "billion laughs"), and an anchor inside itself never ends. The walk stops at
    ``max_yaml_nodes`` nodes or ``max_yaml_aliases`` alias references, naming the line
    where the expansion was going on.
    """
    lim = limits.current()
    seen: set[int] = set()
    nodes = aliases = 0
    stack: list[tuple[yaml.Node, int]] = [(root, root.start_mark.line + 1)]
    while stack:
        node, line = stack.pop()
        nodes += 1
        if nodes > lim.max_yaml_nodes:
            raise limits.exceeded("max_yaml_nodes", where=f"{path}, line {line}",
                                  found=f"the document has more than {lim.max_yaml_nodes:,} "
                                        "nodes with aliases expanded")
        if id(node) in seen:
            aliases += 1
            if aliases > lim.max_yaml_aliases:
                raise limits.exceeded(
                    "max_yaml_aliases", where=f"{path}, line {line}",
                    found=f"more than {lim.max_yaml_aliases:,} alias references expanded "
                          "(nested aliases, a 'billion laughs')")
        else:
            seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                stack.append((key_node, key_node.start_mark.line + 1))
                stack.append((value_node, key_node.start_mark.line + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, line if id(item) in seen else item.start_mark.line + 1)
                         for item in node.value)


def read_yaml(path: Path) -> tuple[Any, dict[JsonPath, int], list[tuple[JsonPath, int, str]]]:
    """Data, line of each JSON path and duplicate keys of a YAML file.

    Raises
    ------
    ProtocolError
        A missing, undecodable or invalid YAML file.
    LimitError
        A file beyond ``max_file_bytes``, or aliases expanding beyond ``max_yaml_nodes``
        or ``max_yaml_aliases`` (see :mod:`evidence_synth.limits`).
    """
    try:
        with Path(path).open("rb") as handle:
            data = limits.read_capped(handle, path=path)
    except OSError as exc:
        raise ProtocolError(f"{path}: {os_error_text(exc)}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ProtocolError(
            f"{path}, line {line}: expected UTF-8 text, found the byte "
            f"{data[exc.start:exc.start + 1]!r} at offset {exc.start}"
        ) from None
    del data
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_expansion(root, path)
        data = None if root is None else loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ProtocolError(
            f"{path}{where}: not valid YAML: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise ProtocolError(f"{path}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if root is None:
        raise ProtocolError(f"{path}: expected a YAML document, found an empty file")
    lines, duplicates = _node_lines(root)
    return data, lines, duplicates


def to_json_types(value: Any, path: JsonPath, problems: list[Problem]) -> Any:
    """Copy YAML data into JSON types: dates become ISO strings, odd types are problems."""
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(
                    ((*path, str(key)), f"expected a text key, found {type(key).__name__} "
                     f"{key!r} (quote it in YAML)")
                )
                continue
            out[key] = to_json_types(item, (*path, key), problems)
        return out
    if isinstance(value, list | tuple):
        return [to_json_types(item, (*path, i), problems) for i, item in enumerate(value)]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        problems.append((path, f"expected a finite number, found {value!r}"))
        return None
    if value is None or isinstance(value, str | bool | int | float):
        return value
    problems.append((path, f"expected a JSON value, found {type(value).__name__}"))
    return None


# --------------------------------------------------------------------------- checking


def line_for(path: JsonPath, lines: Mapping[JsonPath, int] | None) -> int | None:
    if not lines:
        return None
    for end in range(len(path), -1, -1):
        line = lines.get(path[:end])
        if line is not None:
            return line
    return None


def _schema_problems(data: Any, schema_name: str) -> list[Problem]:
    problems: list[Problem] = []
    for error in _validator(schema_name).iter_errors(data):
        path: JsonPath = tuple(error.absolute_path)
        if error.validator == "required":
            match = _REQUIRED.match(error.message)
            if match:
                name = match.group(1)
                message = f"required key {name!r} is missing"
                if error.schema.get("description") and "then" in error.relative_schema_path:
                    message += f" ({error.schema['description']})"
                problems.append(((*path, name), message))
                continue
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = list(error.schema.get("properties", {}))
            for key in error.instance:
                if key not in allowed:
                    problems.append(
                        ((*path, key), f"unexpected key {key!r}; expected one of: "
                         f"{', '.join(allowed)}")
                    )
            continue
        message = error.message
        if error.validator in {"pattern", "format", "type"} and error.schema.get("description"):
            message += f" (expected: {error.schema['description']})"
        problems.append((path, message))
    return problems


def _problems_error(
    problems: list[tuple[JsonPath, int | None, str]], *, source: Any, what: str
) -> ProtocolError:
    rows = sorted(
        ((format_path(p), line, msg) for p, line, msg in problems),
        key=lambda r: (r[1] if r[1] is not None else math.inf, r[0], r[2]),
    )
    frame = pd.DataFrame(
        {
            "path": pd.array([r[0] for r in rows], dtype="string"),
            "line": pd.array([r[1] for r in rows], dtype="Int64"),
            "problem": pd.array([r[2] for r in rows], dtype="string"),
        }
    )
    where = str(source) if source is not None else "<mapping>"
    n = len(rows)
    body = "\n".join(
        f"  {'line ' + str(line) if line is not None else 'no line'}, {path}: {msg}"
        for path, line, msg in rows
    )
    return ProtocolError(
        f"{where}: {n} problem{'s' if n != 1 else ''} in {what}:\n{body}", problems=frame
    )


def check_document(
    data: Any,
    schema_name: str,
    *,
    source: Any,
    lines: Mapping[JsonPath, int] | None,
    early: Iterable[tuple[JsonPath, int | None, str]] = (),
    checks: Iterable[Check] = (),
    what: str,
) -> None:
    found = list(early)
    found.extend((p, line_for(p, lines), m) for p, m in _schema_problems(data, schema_name))
    for check in checks:
        found.extend((p, line_for(p, lines), m) for p, m in check(data))
    if found:
        raise _problems_error(found, source=source, what=what)


def validate_yaml_document(
    path: str | Path, schema_name: str, *, checks: Iterable[Check] = ()
) -> Any:
    """Read a YAML file and validate it against a packaged JSON Schema.

    Every problem is collected before raising: schema violations, duplicate keys, values
    YAML gives a non-JSON type, and whatever the optional ``checks`` report.

    Parameters
    ----------
    path : str or Path
        The YAML file.
    schema_name : str
        Name of a schema in ``evidence_synth/schemas/``: ``"protocol"`` means
        ``protocol.schema.json``; a name ending in ``.json`` is used as is.
    checks : iterable of callables, optional
        Extra checks ``check(data) -> iterable of (json_path_tuple, message)``, run on the
        parsed data even when the schema fails (so they must tolerate malformed data).
        A path such as ``("nodes", 3, "parent")`` is reported as ``$.nodes[3].parent``
        with its YAML line.

    Returns
    -------
    object
        The parsed document in JSON types (YAML dates become ISO 8601 strings).

    Raises
    ------
    ProtocolError
        With every problem in the message and in ``.problems`` (columns ``path``,
        ``line``, ``problem``).
    """
    path = Path(path)
    raw, lines, duplicates = read_yaml(path)
    type_problems: list[Problem] = []
    data = to_json_types(raw, (), type_problems)
    early = [(p, ln, m) for p, ln, m in duplicates]
    early += [(p, line_for(p, lines), m) for p, m in type_problems]
    check_document(data, schema_name, source=path, lines=lines, early=early, checks=checks,
           what=f"the document (schema {schema_name})")
    return data
