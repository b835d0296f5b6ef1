"""Extraction forms and unintended-effects codebooks: YAML in, validated, ready for templates.

A review's form (``extraction/form.yaml``) lists the fields extractors fill at the study
and the estimate level, in template order, with labels, column groups and help, and the
intervention/outcome framework nodes they may choose from. Field names are properties of
the packaged row schemas (``evidence-study.schema.json``, ``evidence-row.schema.json``),
so types and allowed values come from one place. The codebook
(``extraction/unintended-effects-codebook.yaml``) defines the unintended-effect codes.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from ..countries import country_codes
from ..errors import ProtocolError
from ..schema_validation import load_schema, validate_yaml_document

__all__ = [
    "LEVELS",
    "Codebook",
    "ExtractionForm",
    "FormField",
    "default_form",
    "load_codebook",
    "load_form",
]

#: Levels of the evidence table and the packaged schema of each.
LEVELS: dict[str, str] = {"study": "evidence-study", "estimate": "evidence-row"}
_DEFAULT_SHEETS = {"study": "studies", "estimate": "estimates"}
_COMPUTED = ("yi", "vi", "formula", "inputs")


@dataclass(frozen=True)
class FormField:
    """One field of an extraction form (one template column).

    Attributes
    ----------
    level : {"study", "estimate"}
    name : str
        Row key; ``reported.<x>`` for reported statistics, ``extra.<x>`` for fields the
        review adds beyond the schema.
    label, group, help : str
        Column header, column group and instructions.
    kind : {"string", "number", "integer", "boolean", "list", "object"}
    choices : tuple
        Allowed values (empty when free).
    vocabulary : str or None
        Where ``choices`` come from: ``schema``, ``interventions``, ``outcomes``,
        ``codebook`` or ``countries``.
    required, computed : bool
    """

    level: str
    name: str
    label: str
    group: str
    kind: str
    choices: tuple[Any, ...] = ()
    vocabulary: str | None = None
    help: str | None = None
    required: bool = False
    computed: bool = False
    width: float | None = None
    example: Any = None


@dataclass(frozen=True)
class Codebook:
    """An unintended-effects codebook.

    Attributes
    ----------
    id, title, version : str
    codes : tuple of dict
        Each with ``code, label, definition, effect_class, examples`` and optionally
        ``harm_categories, affected, not_this, indicators``.
    path : Path or None
    """

    id: str
    title: str
    codes: tuple[Mapping[str, Any], ...]
    version: str | None = None
    path: Path | None = None

    @property
    def code_ids(self) -> tuple[str, ...]:
        """The codes, in codebook order."""
        return tuple(c["code"] for c in self.codes)

    def code(self, code: str) -> Mapping[str, Any]:
        """The entry of one code (raises KeyError if unknown)."""
        for entry in self.codes:
            if entry["code"] == code:
                return entry
        raise KeyError(code)

    def to_frame(self) -> pd.DataFrame:
        """The codebook as a table.

        Returns
        -------
        pandas.DataFrame
            Columns ``code, label, effect_class, domain, harm_categories, affected,
            definition, examples, not_this, indicators`` (lists joined with "; ").
        """
        cols = ["code", "label", "effect_class", "domain", "harm_categories", "affected",
                "definition", "examples", "not_this", "indicators"]
        rows = [
            {c: "; ".join(v) if isinstance(v := entry.get(c), list) else v for c in cols}
            for entry in self.codes
        ]
        return pd.DataFrame(rows, columns=cols).astype("string")

    def counts(self) -> pd.DataFrame:
        """Number of codes per effect class.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``effect_class``; column ``codes``.
        """
        frame = self.to_frame()
        return frame.groupby("effect_class").size().rename("codes").to_frame()

    def summary(self) -> str:
        """The codebook's id and its number of codes per effect class."""
        per_class = ", ".join(f"{n} {cls}" for cls, n in self.counts()["codes"].items())
        return f"Codebook {self.id}: {len(self.codes)} codes ({per_class})"

    def _repr_html_(self) -> str:
        return (f"<p><b>Codebook {html.escape(self.id)}</b> ({len(self.codes)} codes)</p>"
                + self.to_frame()[["code", "label", "effect_class", "definition"]].to_html(
                    index=False))


@dataclass(frozen=True)
class ExtractionForm:
    """A review's extraction form. Use :func:`load_form` or :func:`default_form`.

    Attributes
    ----------
    id, title, version : str
    fields : dict
        ``{"study": (FormField, ...), "estimate": (FormField, ...)}`` in template order.
    sheets, instructions : dict
        Worksheet name and instructions per level.
    interventions, outcomes : tuple of dict
        Framework nodes (``id, label`` and optionally ``parent, definition``); empty in the
        default form, which then accepts any node id of the right pattern.
    codebook : Codebook or None
    path : Path or None
    """

    id: str
    title: str
    fields: Mapping[str, tuple[FormField, ...]]
    sheets: Mapping[str, str] = field(default_factory=lambda: dict(_DEFAULT_SHEETS))
    instructions: Mapping[str, str] = field(default_factory=dict)
    interventions: tuple[Mapping[str, Any], ...] = ()
    outcomes: tuple[Mapping[str, Any], ...] = ()
    codebook: Codebook | None = None
    version: str | None = None
    description: str | None = None
    path: Path | None = None

    def field(self, level: str, name: str) -> FormField:
        """One field by level and name (raises KeyError if the form has no such field)."""
        for item in self.fields[level]:
            if item.name == name:
                return item
        raise KeyError(f"{level}.{name}")

    def names(self, level: str) -> tuple[str, ...]:
        """Field names of a level, in template order."""
        return tuple(f.name for f in self.fields[level])

    def vocabulary(self, name: str) -> tuple[str, ...]:
        """Allowed values of a vocabulary: ``interventions``, ``outcomes``, ``codebook``."""
        if name == "interventions":
            return tuple(n["id"] for n in self.interventions)
        if name == "outcomes":
            return tuple(n["id"] for n in self.outcomes)
        if name == "codebook":
            return () if self.codebook is None else self.codebook.code_ids
        if name == "countries":
            return _country_codes()
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """The fields of both levels.

        Returns
        -------
        pandas.DataFrame
            Columns ``level, sheet, name, label, group, kind, required, computed,
            vocabulary, choices, help``.
        """
        rows = [
            {"level": f.level, "sheet": self.sheets[f.level], "name": f.name, "label": f.label,
             "group": f.group, "kind": f.kind, "required": f.required, "computed": f.computed,
             "vocabulary": f.vocabulary, "choices": len(f.choices) or None, "help": f.help}
            for level in LEVELS for f in self.fields[level]
        ]
        return pd.DataFrame(rows)

    def counts(self) -> pd.DataFrame:
        """Counts of fields per level and of framework nodes and codes.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``item`` (``study fields, estimate fields, interventions, outcomes,
            codebook codes``); column ``count``.
        """
        rows = [(f"{level} fields", len(self.fields[level])) for level in LEVELS]
        rows += [("interventions", len(self.interventions)), ("outcomes", len(self.outcomes)),
                 ("codebook codes", 0 if self.codebook is None else len(self.codebook.codes))]
        return pd.DataFrame(rows, columns=["item", "count"]).set_index("item")

    def summary(self) -> str:
        """The form's id and title, then the :meth:`counts`, one ``item: count`` line each."""
        lines = [f"{item}: {n}" for item, n in self.counts()["count"].items()]
        return "\n".join([f"Extraction form {self.id}: {self.title}", *lines])

    def _repr_html_(self) -> str:
        head = f"<p><b>Extraction form {html.escape(self.id)}</b> {html.escape(self.title)}</p>"
        return head + self.counts().to_html()


# --------------------------------------------------------------------------- loading


def load_codebook(path: str | Path) -> Codebook:
    """Read and validate an unintended-effects codebook (YAML).

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Codebook

    Raises
    ------
    ProtocolError
        Every schema violation and duplicate code, with JSON path and YAML line.
    """
    path = Path(path)
    data = validate_yaml_document(path, "codebook", checks=[_unique_codes])
    return _codebook_from_dict(data, path=path)


def _codebook_from_dict(data: Mapping[str, Any], *, path: Path | None) -> Codebook:
    return Codebook(id=data["id"], title=data["title"], version=data.get("version"),
                    codes=tuple(data["codes"]), path=path)


def _unique_codes(data: Any) -> Iterable[tuple[tuple[str | int, ...], str]]:
    seen: dict[str, int] = {}
    codes = data.get("codes") if isinstance(data, dict) else None
    for i, entry in enumerate(codes if isinstance(codes, list) else []):
        code = entry.get("code") if isinstance(entry, dict) else None
        if isinstance(code, str):
            if code in seen:
                first = seen[code]
                yield ("codes", i, "code"), f"duplicate code {code!r} (first at codes[{first}])"
            seen.setdefault(code, i)


def load_form(path: str | Path) -> ExtractionForm:
    """Read and validate an extraction form (YAML) and the codebook it names.

    Parameters
    ----------
    path : str or Path
        The form; its ``codebook`` path is relative to the form's folder.

    Returns
    -------
    ExtractionForm

    Raises
    ------
    ProtocolError
        Every problem with its JSON path and YAML line: schema violations, field names
        that are not in the row schemas, duplicate fields, required schema fields the form
        leaves out, duplicate or dangling framework nodes; and the codebook's problems.
    """
    path = Path(path)
    data = validate_yaml_document(path, "extraction-form", checks=[_form_semantics])
    codebook = None
    if data.get("codebook"):
        book = path.parent / data["codebook"]
        if not book.is_file():
            raise ProtocolError(f"{path}: codebook {data['codebook']!r} not found at {book}")
        codebook = load_codebook(book)
    framework = dict(data["framework"])
    if framework.get("protocol"):
        framework = _framework_from_protocol(path, framework)
    data = {**data, "framework": framework}
    outcomes = {n["id"] for n in framework.get("outcomes", ())}
    if codebook is not None and outcomes:
        unknown = [(c["code"], c["domain"]) for c in codebook.codes
                   if c.get("domain") and c["domain"] not in outcomes]
        if unknown:
            listed = ", ".join(f"{code} -> {dom}" for code, dom in unknown)
            raise ProtocolError(f"{codebook.path}: codebook domain(s) that are not outcome "
                                f"nodes of form {data['id']!r}: {listed}")
    return _form_from_dict(data, codebook=codebook, path=path)


def _framework_from_protocol(path: Path, framework: Mapping[str, Any]) -> dict[str, Any]:
    """Interventions = protocol rows; outcomes = columns + the ``outcome_filters`` subtrees."""
    from ..protocol import load_protocol

    source = path.parent / framework["protocol"]
    if not source.is_file():
        raise ProtocolError(f"{path}: protocol {framework['protocol']!r} not found at {source}")
    nodes = load_protocol(source).framework_frame()
    nodes = nodes.astype(object).where(nodes.notna(), None)

    def _node(row: Mapping[str, Any]) -> dict[str, Any]:
        out = {"id": row["node_id"], "label": row["label"]}
        out.update({k: v for k, v in (("parent", row["parent_id"]),
                                      ("definition", row["definition"])) if v is not None})
        return out

    records = nodes.to_dict("records")
    filters = list(framework.get("outcome_filters", ()))
    missing = [f for f in filters if f not in {r["node_id"] for r in records}]
    if missing:
        raise ProtocolError(f"{path}: outcome_filters {', '.join(missing)} are not nodes of "
                            f"the protocol {source}")
    outcomes = [_node(r) for r in records if r["kind"] == "column"]
    taken = {o["id"] for o in outcomes}
    for parent in filters:
        for r in records:
            if r["node_id"] in taken:
                continue
            if r["node_id"] == parent:
                outcomes.append({k: v for k, v in _node(r).items() if k != "parent"})
            elif r["parent_id"] == parent:
                outcomes.append(_node(r))
    return {
        "interventions": [*framework.get("interventions", ()),
                          *(_node(r) for r in records if r["kind"] == "row")],
        "outcomes": [*framework.get("outcomes", ()), *outcomes],
        "source": str(source),
    }


def _form_semantics(data: Any) -> Iterable[tuple[tuple[str | int, ...], str]]:
    if not isinstance(data, dict):
        return
    levels = data.get("levels") if isinstance(data.get("levels"), dict) else {}
    for level, spec in levels.items():
        if level not in LEVELS or not isinstance(spec, dict):
            continue
        props = _properties(level)
        seen: set[str] = set()
        fields = spec.get("fields") if isinstance(spec.get("fields"), list) else []
        for i, item in enumerate(fields):
            name = item.get("name") if isinstance(item, dict) else None
            if not isinstance(name, str):
                continue
            where = ("levels", level, "fields", i, "name")
            if name in seen:
                yield where, f"field {name!r} appears twice"
            seen.add(name)
            if not name.startswith("extra.") and _schema_property(level, name) is None:
                yield where, (f"unknown {level} field {name!r}; expected a property of "
                              f"{LEVELS[level]}.schema.json ({', '.join(props)}) or 'extra.<name>'")
            if name.startswith("extra.") and "type" not in item:
                yield (*where[:-1], "type"), f"extra field {name!r} needs a type"
        for name in _required(level):
            if fields and name not in seen:
                yield ("levels", level, "fields"), f"required {level} field {name!r} is missing"
    framework = data.get("framework") if isinstance(data.get("framework"), dict) else {}
    for kind in ("interventions", "outcomes"):
        nodes = framework.get(kind) if isinstance(framework.get(kind), list) else []
        ids = [n.get("id") for n in nodes if isinstance(n, dict)]
        for i, node in enumerate(nodes):
            if not isinstance(node, dict):
                continue
            if ids.count(node.get("id")) > 1 and ids.index(node.get("id")) != i:
                yield ("framework", kind, i, "id"), f"duplicate node id {node.get('id')!r}"
            parent = node.get("parent")
            if parent is not None and parent not in ids:
                yield ("framework", kind, i, "parent"), f"parent {parent!r} is not a node of {kind}"


def _form_from_dict(
    data: Mapping[str, Any], *, codebook: Codebook | None, path: Path | None
) -> ExtractionForm:
    framework = data["framework"]
    interventions = tuple(framework.get("interventions", ()))
    outcomes = tuple(framework.get("outcomes", ()))
    vocab = {
        "interventions": tuple(n["id"] for n in interventions),
        "outcomes": tuple(n["id"] for n in outcomes),
        "codebook": () if codebook is None else codebook.code_ids,
        "countries": _country_codes(),
    }
    fields: dict[str, tuple[FormField, ...]] = {}
    for level in LEVELS:
        required = set(_required(level))
        items = []
        for spec in data["levels"][level]["fields"]:
            kind, choices = _kind_and_choices(level, spec["name"], spec.get("type"))
            source = spec.get("vocabulary")
            if source and source != "schema":
                choices = vocab[source]
            elif choices:
                source = "schema"
            items.append(FormField(
                level=level, name=spec["name"], label=spec["label"], group=spec["group"],
                kind=kind, choices=tuple(choices), vocabulary=source, help=spec.get("help"),
                required=bool(spec.get("required")) or spec["name"] in required,
                computed=bool(spec.get("computed")), width=spec.get("width"),
                example=spec.get("example"),
            ))
        fields[level] = tuple(items)
    return ExtractionForm(
        id=data["id"], title=data["title"], version=data.get("version"),
        description=data.get("description"), fields=fields,
        sheets={lv: data["levels"][lv]["sheet"] for lv in LEVELS},
        instructions={lv: data["levels"][lv].get("instructions", "") for lv in LEVELS},
        interventions=interventions, outcomes=outcomes, codebook=codebook, path=path,
    )


@lru_cache(maxsize=1)
def default_form() -> ExtractionForm:
    """A form with every schema field, no framework lists and no codebook.

    Used when no review form is given: values are checked against the schemas only (any
    ``3ie:``/``ext:`` node id and any code of the right pattern are accepted).
    """
    fields: dict[str, list[dict[str, Any]]] = {}
    for level in LEVELS:
        specs = []
        for name, prop in _properties(level).items():
            if name == "extra":
                continue
            if name == "reported":
                specs += [{"name": f"reported.{sub}", "label": sub, "group": "Reported"}
                          for sub in prop["properties"]]
                continue
            spec: dict[str, Any] = {"name": name, "label": name, "group": "Fields"}
            if name in _COMPUTED:
                spec.update(group="Computed", computed=True)
            if name == "countries":
                spec["vocabulary"] = "countries"
            specs.append(spec)
        fields[level] = specs
    data = {
        "id": "default", "title": "All schema fields",
        "framework": {"interventions": [], "outcomes": []},
        "levels": {lv: {"sheet": _DEFAULT_SHEETS[lv], "fields": fields[lv]} for lv in LEVELS},
    }
    return _form_from_dict(data, codebook=None, path=None)


# --------------------------------------------------------------------------- schema access


@cache
def _schema(level: str) -> dict[str, Any]:
    return load_schema(LEVELS[level])


def _properties(level: str) -> dict[str, Any]:
    return _schema(level)["properties"]


def _required(level: str) -> tuple[str, ...]:
    return tuple(_schema(level)["required"])


def _schema_property(level: str, name: str) -> dict[str, Any] | None:
    props = _properties(level)
    if name.startswith("reported."):
        nested = props.get("reported", {}).get("properties", {})
        return nested.get(name.split(".", 1)[1])
    return props.get(name)


def _resolve(level: str, prop: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = prop.get("$ref")
    if ref and ref.startswith("#/$defs/"):
        return {**_schema(level)["$defs"][ref.rsplit("/", 1)[1]], **{k: v for k, v in prop.items()
                                                                     if k != "$ref"}}
    return prop


def _kind_and_choices(level: str, name: str, declared: str | None) -> tuple[str, tuple[Any, ...]]:
    if name.startswith("extra."):
        return declared or "string", ()
    prop = _resolve(level, _schema_property(level, name) or {})
    if prop.get("type") == "array":
        items = _resolve(level, prop.get("items", {}))
        return "list", tuple(items.get("enum", ()))
    if "enum" in prop:
        values = tuple(prop["enum"])
        if all(isinstance(v, bool) for v in values):
            return "boolean", ()
        if all(isinstance(v, int) for v in values):
            return "integer", values
        return "string", values
    kind = prop.get("type", "string")
    return (kind if kind in ("number", "integer", "boolean", "object") else "string"), ()


def _country_codes() -> tuple[str, ...]:
    return country_codes()
