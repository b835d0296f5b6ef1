"""Columns, cells and row checks of the evidence table.

Flat column names and kinds from the packaged schemas, conversion of spreadsheet and CSV
cells to typed values, the JSON Schema and cross-field checks of single rows, and the
``problems`` frame every :class:`~evidence_synth.errors.ExtractionError` carries.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import jsonschema
import numpy as np
import pandas as pd

from ..countries import country_code, country_codes
from ..effects.compute import FORMULAS, MODIFIERS
from ..errors import ExtractionError
from ..schema_validation import load_schema
from .form import LEVELS, ExtractionForm, _kind_and_choices, _properties

#: Columns of the ``problems`` DataFrame of an :class:`ExtractionError`.
PROBLEM_COLUMNS = ["table", "index", "study_id", "estimate_id", "path", "field", "problem"]
_TABLES = {"study": "studies", "estimate": "rows"}
_REQUIRED = re.compile(r"^'(.+)' is a required property$")
_DEPENDENCY = re.compile(r"^'(.+)' is a dependency of '(.+)'$")
_PATTERNS = {
    "^[A-Za-z0-9][A-Za-z0-9_.:-]*$": "an id of letters, digits, '_', '.', ':' or '-' (no spaces)",
    "^(3ie|ext|eppi):[A-Za-z0-9_.-]+$": "a framework node id such as 'ext:border_management'",
    "^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$": "YYYY, YYYY-MM or YYYY-MM-DD",
    "^[A-Z][A-Z0-9_]*$": "an upper-case code such as ROUTE_DIVERSION",
    "^[A-Za-z0-9.]+([-–][A-Za-z0-9.]+)?$": "a page or page range such as 14 or 14-15",
    "^[A-Z]{3}$": "an ISO 3166-1 alpha-3 code or a country name (e.g. GHA, Ghana)",
}
_MAX_LINES = 60


# --------------------------------------------------------------------------- columns


@cache
def _validator(level: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema(LEVELS[level]))


@cache
def flat_columns(level: str) -> tuple[str, ...]:
    """Flat column names of a level: schema properties, ``reported.<x>`` expanded."""
    out: list[str] = []
    for name, prop in _properties(level).items():
        if name == "extra":
            continue
        if name == "reported":
            out += [f"reported.{sub}" for sub in prop["properties"]]
        else:
            out.append(name)
    return tuple(out)


def column_kind(level: str, name: str) -> str:
    """Kind of a flat column: string, number, integer, boolean, list or object."""
    return _kind_and_choices(level, name, None)[0]


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _plain(value: Any) -> Any:
    """JSON-ready Python value; empty strings and NaN become None."""
    if _missing(value):
        return None
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Mapping):
        out = {str(k): _plain(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None} or None
    if isinstance(value, list | tuple | np.ndarray | pd.api.extensions.ExtensionArray):
        return [_plain(v) for v in value if not _missing(v)] or None
    if isinstance(value, str):
        return value.strip()
    return value


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        value = _plain(value)
        if value is not None:
            out[str(key)] = value
    return out


def _nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """Flat columns (``reported.m1i``, ``extra.x``) to a nested row."""
    row: dict[str, Any] = {}
    for key, value in flat.items():
        head, dot, tail = key.partition(".")
        if dot and head in ("reported", "extra"):
            row.setdefault(head, {})[tail] = value
        else:
            row[key] = value
    return _clean(row)


def _flatten(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("reported", "extra") and isinstance(value, Mapping):
            out.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            out[key] = value
    return out


# --------------------------------------------------------------------------- validation


def _format_path(table: str, index: int, parts: Sequence[Any]) -> str:
    out = f"{table}[{index}]"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _description(error: jsonschema.ValidationError, schema: Mapping[str, Any]) -> str | None:
    """Description of the failing subschema, or of the property whose ``$ref`` led to it."""
    if error.schema.get("description"):
        return error.schema["description"]
    node: Any = schema
    try:
        for part in list(error.schema_path)[:-1]:
            if part == "$ref":
                break
            node = node[part]
    except (KeyError, IndexError, TypeError):
        return None
    return node.get("description") if isinstance(node, Mapping) else None


def _schema_messages(error: jsonschema.ValidationError, schema: Mapping[str, Any]
                     ) -> list[tuple[list[Any], str]]:
    path = list(error.absolute_path)
    kind = error.validator
    if kind == "required":
        match = _REQUIRED.match(error.message)
        name = match.group(1) if match else "?"
        why = ""
        if "then" in error.schema_path and isinstance(error.instance, Mapping):
            why = f" when effect_class is {error.instance.get('effect_class')}"
        return [([*path, name], f"is required{why}")]
    if kind == "dependentRequired":
        match = _DEPENDENCY.match(error.message)
        if match:
            return [([*path, match.group(1)], f"is required when {match.group(2)} is given")]
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        allowed = error.schema.get("properties", {})
        return [([*path, key], "unknown field") for key in error.instance if key not in allowed]
    found = f", found {_describe(error.instance)}"
    if kind == "enum":
        values = error.validator_value
        if len(values) > 15:
            what = _description(error, schema) or f"one of {len(values)} allowed values"
            what = what.rstrip(".")
            return [(path, f"expected {what}{found}")]
        return [(path, f"expected one of {', '.join(map(str, values))}{found}")]
    if kind == "type":
        return [(path, f"expected {error.validator_value}{found}")]
    if kind == "pattern":
        what = _PATTERNS.get(error.validator_value, f"text matching {error.validator_value}")
        return [(path, f"expected {what}{found}")]
    bounds = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}
    if kind in bounds:
        return [(path, f"expected a value {bounds[kind]} {error.validator_value}{found}")]
    return [(path, error.message)]


def _problem(level: str, index: int, row: Mapping[str, Any], parts: Sequence[Any],
             message: str) -> dict[str, Any]:
    table = _TABLES[level]
    field = ".".join(str(p) for p in parts if not isinstance(p, int)) or None
    return {"table": table, "index": index, "study_id": row.get("study_id"),
            "estimate_id": row.get("estimate_id") if level == "estimate" else None,
            "path": _format_path(table, index, parts), "field": field, "problem": message}


def _row_problems(level: str, index: int, row: Mapping[str, Any],
                  form: ExtractionForm | None) -> list[dict[str, Any]]:
    found = []
    errors = sorted(_validator(level).iter_errors(row), key=lambda e: list(e.absolute_path))
    for error in errors:
        for parts, message in _schema_messages(error, _validator(level).schema):
            found.append(_problem(level, index, row, parts, message))
    if level == "estimate":
        found += [_problem(level, index, row, parts, msg)
                  for parts, msg in _estimate_checks(row, form)]
    else:
        found += [_problem(level, index, row, parts, msg)
                  for parts, msg in _country_checks(row)]
    if level != "estimate" and form is not None:
        found += [_problem(level, index, row, parts, msg) for parts, msg in _form_extra(row, form,
                                                                                       level)]
    return found


def normalise_study(study: dict[str, Any]) -> dict[str, Any]:
    """The study with its ``countries`` as ISO 3166-1 alpha-3 codes where they resolve
    (names, alpha-2 codes, any case); values that name no country are kept as given, for
    the checks to report."""
    values = study.get("countries")
    if values is None or not isinstance(values, (list, tuple, str)):
        return study
    items = [values] if isinstance(values, str) else list(values)
    out: list[Any] = []
    for item in items:
        code = country_code(item) if isinstance(item, str) else None
        value = code or item
        if value not in out:
            out.append(value)
    return {**study, "countries": out}


def _country_checks(row: Mapping[str, Any]) -> Iterable[tuple[list[Any], str]]:
    values = row.get("countries")
    if not isinstance(values, list):
        return
    known = set(country_codes())
    for i, value in enumerate(values):
        if isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value) and value not in known:
            yield ["countries", i], (f"expected an ISO 3166-1 alpha-3 code or a country name, "
                                     f"found {value!r}, which is no ISO 3166 country")


def _estimate_checks(row: Mapping[str, Any], form: ExtractionForm | None
                     ) -> Iterable[tuple[list[Any], str]]:
    if form is not None:
        for name, vocab in (("intervention", "interventions"), ("outcome", "outcomes")):
            allowed = form.vocabulary(vocab)
            if allowed and isinstance(row.get(name), str) and row[name] not in allowed:
                yield [name], (f"expected an {vocab[:-1]} node of form {form.id!r} "
                               f"({', '.join(allowed[:6])}, ...), found {row[name]!r}")
        code = row.get("unintended_code")
        if form.codebook is not None and isinstance(code, str):
            if code not in form.codebook.code_ids:
                yield ["unintended_code"], (f"expected a code of codebook {form.codebook.id!r}, "
                                            f"found {code!r}")
            else:
                klass = form.codebook.code(code)["effect_class"]
                if klass != "either" and row.get("effect_class") in (
                        "unintended_adverse", "unintended_beneficial") and \
                        row["effect_class"] != klass:
                    yield ["effect_class"], (f"code {code} is {klass} but the row is "
                                             f"{row['effect_class']}")
        yield from _form_extra(row, form, "estimate")
    if row.get("unintended_code") and row.get("effect_class") == "intended":
        yield ["unintended_code"], "given on an intended row (code unintended effects only)"
    formula, inputs = row.get("formula"), row.get("inputs")
    if isinstance(formula, str):
        base, *mods = formula.split("+")
        if base.partition(":")[0] not in FORMULAS:
            yield ["formula"], (f"expected one of {', '.join(sorted(FORMULAS))} (with ':MEASURE'),"
                                f" found {formula!r}")
        for mod in mods:
            if mod not in MODIFIERS:
                yield ["formula"], f"unknown modifier {mod!r} in {formula!r}"
        measure = base.partition(":")[2]
        if measure and row.get("measure") not in (None, measure):
            yield ["measure"], (f"expected {measure!r} (the formula's measure), "
                                f"found {row['measure']!r}")
    reported = row.get("reported") if isinstance(row.get("reported"), Mapping) else {}
    if isinstance(inputs, Mapping):
        for name, value in inputs.items():
            if name in reported and isinstance(value, int | float) and \
                    isinstance(reported[name], int | float) and \
                    not math.isclose(value, reported[name], rel_tol=1e-12, abs_tol=0):
                yield ["inputs", name], (f"differs from reported.{name} ({reported[name]!r}), "
                                         f"found {value!r}")


def _form_extra(row: Mapping[str, Any], form: ExtractionForm, level: str
                ) -> Iterable[tuple[list[Any], str]]:
    extra = row.get("extra") if isinstance(row.get("extra"), Mapping) else {}
    known = {f.name.split(".", 1)[1] for f in form.fields[level] if f.name.startswith("extra.")}
    for key in extra:
        if key not in known:
            yield ["extra", key], f"unknown field (form {form.id!r} has no extra.{key})"
    flat = _flatten(row)
    for item in form.fields[level]:
        if item.required and not item.computed and _missing(flat.get(item.name)) \
                and item.name not in _validator(level).schema["required"]:
            yield item.name.split("."), f"is required by form {form.id!r}"


def _problems_frame(problems: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(problems, columns=PROBLEM_COLUMNS)


def _raise(problems: list[dict[str, Any]], *, where: str = "evidence table") -> None:
    if not problems:
        return
    lines = []
    for p in problems[:_MAX_LINES]:
        ident = f"study {p['study_id']}" if p["study_id"] else "no study_id"
        if p["estimate_id"]:
            ident += f", estimate {p['estimate_id']}"
        lines.append(f"  {p['path']} ({ident}): {p['problem']}")
    if len(problems) > _MAX_LINES:
        lines.append(f"  ... and {len(problems) - _MAX_LINES} more (see .problems)")
    n = len(problems)
    raise ExtractionError(f"{n} problem{'s' if n != 1 else ''} in the {where}:\n"
                          + "\n".join(lines), problems=_problems_frame(problems))



# --------------------------------------------------------------------------- frames


def _canonical(rows: Iterable[Mapping[str, Any]]) -> str:
    return json.dumps(sorted(json.dumps(r, sort_keys=True) for r in rows))


def _frame(level: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    flat = [_flatten(r) for r in rows]
    extra = sorted({k for r in flat for k in r if k.startswith("extra.")})
    cols = [*flat_columns(level), *extra]
    frame = pd.DataFrame({c: [r.get(c) for r in flat] for c in cols}, columns=cols)
    for col in cols:
        kind = column_kind(level, col) if not col.startswith("extra.") else "object"
        if kind in ("number", "integer"):
            frame[col] = pd.to_numeric(frame[col].astype(object), errors="coerce").astype(
                "Int64" if kind == "integer" and level == "study" else "float64")
        elif kind == "string":
            frame[col] = frame[col].astype("string")
        elif kind == "boolean":
            frame[col] = frame[col].astype("boolean")
    return frame


def _for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        values = out[col].astype(object)
        if any(isinstance(v, list) for v in values):
            out[col] = [None if v is None or (not isinstance(v, list) and pd.isna(v))
                        else "; ".join(map(str, v)) for v in values]
        elif any(isinstance(v, dict) for v in values):
            out[col] = [json.dumps(v, sort_keys=True) if isinstance(v, dict) else None
                        for v in values]
        elif out[col].dtype == np.float64:
            out[col] = [None if math.isnan(v) else int(v) if v.is_integer() else v
                        for v in out[col]]
    return out


_TRUE = {"true", "yes", "y", "1", "wahr"}
_FALSE = {"false", "no", "n", "0", "falsch"}


def convert_cell(kind: str, value: Any) -> Any:
    """Convert one cell (text, number, bool) to the column's kind; ValueError if it cannot.

    Used by the CSV reader and the workbook importer.
    """
    if _missing(value):
        return None
    if kind == "list":
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if not _missing(v)] or None
        return [p.strip() for p in re.split(r"[;\n]", str(value)) if p.strip()] or None
    if kind == "boolean":
        if isinstance(value, bool | np.bool_):
            return bool(value)
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(f"expected yes or no, found {value!r}")
    if kind in ("number", "integer"):
        if isinstance(value, bool):
            raise ValueError(f"expected a number, found {value!r}")
        if isinstance(value, int | float | np.number):
            number = float(value)
        else:
            text = str(value).strip().replace("\u2212", "-")
            try:
                number = float(text)
            except ValueError:
                raise ValueError(f"expected a number, found {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"expected a finite number, found {value!r}")
        if kind == "integer":
            if not number.is_integer():
                raise ValueError(f"expected a whole number, found {value!r}")
            return int(number)
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if kind == "object":
        if isinstance(value, Mapping):
            return dict(value)
        try:
            parsed = json.loads(str(value))
        except json.JSONDecodeError:
            raise ValueError(f"expected a JSON object, found {value!r}") from None
        if not isinstance(parsed, dict):
            raise ValueError(f"expected a JSON object, found {value!r}")
        return parsed
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _unflatten(frame: pd.DataFrame, level: str, problems: list[dict[str, Any]]
               ) -> list[dict[str, Any]]:
    rows = []
    for i, record in enumerate(frame.to_dict("records")):
        flat: dict[str, Any] = {}
        for col, value in record.items():
            kind = column_kind(level, col) if col in flat_columns(level) else "string"
            try:
                flat[col] = convert_cell(kind, value)
            except ValueError as exc:
                problems.append(_problem(level, i, record, str(col).split("."), str(exc)))
        rows.append(_nest(flat))
    return rows


