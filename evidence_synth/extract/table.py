"""The evidence table: one validated row per estimate, plus one per study.

:class:`EvidenceTable` holds study rows (``evidence-study.schema.json``) and estimate rows
(``evidence-row.schema.json``: study x intervention x comparison x outcome x timepoint x
subgroup). Every write validates the new rows against the packaged schemas and checks the
table across rows (unique ids, known studies, framework nodes and codebook codes of the
form, stored inputs that agree with the reported statistics); all problems are collected
and raised together as one :class:`~evidence_synth.errors.ExtractionError` whose
``problems`` DataFrame names each row and field by JSON path (``rows[3].effect_class``).
"""

from __future__ import annotations

import copy
import html
import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import numpy as np
import pandas as pd

from ..errors import DataQualityWarning, EffectSizeError, ExtractionError, StoreError
from ..protocol import load_schema
from .compute import FORMULAS, MODIFIERS, compute_effect, recompute
from .form import LEVELS, ExtractionForm, _kind_and_choices, _properties

if TYPE_CHECKING:
    from ..store import Review

__all__ = ["PROBLEM_COLUMNS", "EvidenceTable", "discrepancies"]

#: Columns of the ``problems`` DataFrame of an :class:`ExtractionError`.
PROBLEM_COLUMNS = ["table", "index", "study_id", "estimate_id", "path", "field", "problem"]
_TABLES = {"study": "studies", "estimate": "rows"}
_REQUIRED = re.compile(r"^'(.+)' is a required property$")
_DEPENDENCY = re.compile(r"^'(.+)' is a dependency of '(.+)'$")
_CONSENSUS = "consensus"
_PATTERNS = {
    "^[A-Za-z0-9][A-Za-z0-9_.:-]*$": "an id of letters, digits, '_', '.', ':' or '-' (no spaces)",
    "^(3ie|ext|eppi):[A-Za-z0-9_.-]+$": "a framework node id such as 'ext:border_management'",
    "^[0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$": "YYYY, YYYY-MM or YYYY-MM-DD",
    "^[A-Z][A-Z0-9_]*$": "an upper-case code such as ROUTE_DIVERSION",
    "^[A-Za-z0-9.]+([-–][A-Za-z0-9.]+)?$": "a page or page range such as 14 or 14-15",
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


def _schema_messages(error: jsonschema.ValidationError) -> list[tuple[list[Any], str]]:
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
            what = error.schema.get("description") or f"one of {len(values)} allowed values"
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
        for parts, message in _schema_messages(error):
            found.append(_problem(level, index, row, parts, message))
    if level == "estimate":
        found += [_problem(level, index, row, parts, msg)
                  for parts, msg in _estimate_checks(row, form)]
    elif form is not None:
        found += [_problem(level, index, row, parts, msg) for parts, msg in _form_extra(row, form,
                                                                                       level)]
    return found


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


# --------------------------------------------------------------------------- the table


class EvidenceTable:
    """Study and estimate rows, validated against the packaged schemas on every write.

    Parameters
    ----------
    rows : iterable of mapping
        Estimate rows (``evidence-row.schema.json``); reported statistics nested under
        ``reported`` (flat ``reported.<x>`` keys are nested for you).
    studies : iterable of mapping, optional
        Study rows (``evidence-study.schema.json``). When any are given, every estimate's
        ``study_id`` must be one of them.
    form : ExtractionForm, optional
        Also check framework nodes, codebook codes, ``extra.*`` fields and the form's
        required fields.

    Raises
    ------
    ExtractionError
        With every problem; ``.problems`` has columns :data:`PROBLEM_COLUMNS`.

    Attributes
    ----------
    versions_ : dict
        Store version of each row loaded by :meth:`from_review` (for edit conflicts).
    """

    def __init__(
        self,
        rows: Iterable[Mapping[str, Any]] = (),
        *,
        studies: Iterable[Mapping[str, Any]] = (),
        form: ExtractionForm | None = None,
    ) -> None:
        self.form = form
        self._studies: list[dict[str, Any]] = []
        self._rows: list[dict[str, Any]] = []
        self.versions_: dict[str, int] = {}
        self.extend(rows, studies=studies)

    # -- access ----------------------------------------------------------------------
    @property
    def rows(self) -> list[dict[str, Any]]:
        """Copies of the estimate rows."""
        return copy.deepcopy(self._rows)

    @property
    def studies(self) -> list[dict[str, Any]]:
        """Copies of the study rows."""
        return copy.deepcopy(self._studies)

    def __len__(self) -> int:
        return len(self._rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EvidenceTable):
            return NotImplemented
        return (_canonical(self._rows), _canonical(self._studies)) == (
            _canonical(other._rows), _canonical(other._studies))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        with_yi = sum("yi" in r for r in self._rows)
        return (f"EvidenceTable({len(self._studies)} studies, {len(self._rows)} estimates, "
                f"{with_yi} with yi)")

    # -- writes ----------------------------------------------------------------------
    def extend(
        self,
        rows: Iterable[Mapping[str, Any]] = (),
        *,
        studies: Iterable[Mapping[str, Any]] = (),
    ) -> EvidenceTable:
        """Add rows (and studies); all or none: nothing is added if any row is invalid.

        Returns
        -------
        EvidenceTable
            ``self``.
        """
        new_studies = [_nest(s) for s in studies]
        new_rows = [_nest(r) for r in rows]
        problems = self._check(new_studies, new_rows)
        _raise(problems)
        self._studies += new_studies
        self._rows += new_rows
        return self

    def append(self, row: Mapping[str, Any]) -> EvidenceTable:
        """Add one estimate row (validated)."""
        return self.extend([row])

    def add_study(self, study: Mapping[str, Any]) -> EvidenceTable:
        """Add one study row (validated)."""
        return self.extend(studies=[study])

    def update(self, row: Mapping[str, Any]) -> EvidenceTable:
        """Replace the estimate with the same ``study_id`` and ``estimate_id`` (validated)."""
        new = _nest(row)
        key = (new.get("study_id"), new.get("estimate_id"))
        positions = [i for i, r in enumerate(self._rows)
                     if (r["study_id"], r["estimate_id"]) == key]
        if not positions:
            raise ExtractionError(f"no estimate {key[1]!r} of study {key[0]!r} to update")
        i = positions[0]
        problems = _row_problems("estimate", i, new, self.form)
        _raise(problems)
        self._rows[i] = new
        return self

    def _check(self, new_studies: list[dict], new_rows: list[dict]) -> list[dict[str, Any]]:
        problems: list[dict[str, Any]] = []
        s0, r0 = len(self._studies), len(self._rows)
        for i, study in enumerate(new_studies):
            problems += _row_problems("study", s0 + i, study, self.form)
        for i, row in enumerate(new_rows):
            problems += _row_problems("estimate", r0 + i, row, self.form)
        seen: dict[Any, int] = {s.get("study_id"): i for i, s in enumerate(self._studies)}
        for i, study in enumerate(new_studies, start=s0):
            sid = study.get("study_id")
            if sid in seen:
                problems.append(_problem("study", i, study, ["study_id"],
                                         f"duplicate study_id {sid!r} "
                                         f"(first at studies[{seen[sid]}])"))
            seen.setdefault(sid, i)
        keys = {(r.get("study_id"), r.get("estimate_id")): i for i, r in enumerate(self._rows)}
        for i, row in enumerate(new_rows, start=r0):
            key = (row.get("study_id"), row.get("estimate_id"))
            if key in keys:
                problems.append(_problem("estimate", i, row, ["estimate_id"],
                                         f"duplicate estimate {key[1]!r} of study {key[0]!r} "
                                         f"(first at rows[{keys[key]}])"))
            keys.setdefault(key, i)
            if seen and row.get("study_id") not in seen:
                problems.append(_problem("estimate", i, row, ["study_id"],
                                         f"study {row.get('study_id')!r} is not on the studies "
                                         "sheet/list"))
        return sorted(problems, key=lambda p: (p["table"] != "studies", p["index"]))

    def validate(self) -> pd.DataFrame:
        """Check every row again (e.g. against a changed form) without raising.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`PROBLEM_COLUMNS`; empty when the table is valid.
        """
        fresh = EvidenceTable.__new__(EvidenceTable)
        fresh.form, fresh._studies, fresh._rows, fresh.versions_ = self.form, [], [], {}
        return _problems_frame(fresh._check(self._studies, self._rows))

    # -- effect sizes ----------------------------------------------------------------
    def compute(self, *, overwrite: bool = False) -> EvidenceTable:
        """Compute ``yi``/``vi`` from the reported statistics of rows that have none.

        Parameters
        ----------
        overwrite : bool, default False
            Recompute rows that already have ``yi`` too.

        Returns
        -------
        EvidenceTable
            A new table; rows whose statistics allow no formula keep no ``yi``.

        Raises
        ------
        ExtractionError
            Every row whose statistics a formula rejects, with the argument named.
        """
        rows, problems, changed = [], [], []
        for i, row in enumerate(self._rows):
            row = copy.deepcopy(row)
            if overwrite or "yi" not in row:
                changed.append(i)
                try:
                    result = compute_effect(row.get("reported", {}), measure=row.get("measure"))
                except EffectSizeError as exc:
                    arg = None
                    if exc.problems is not None and len(exc.problems):
                        arg = exc.problems["argument"].iloc[0]
                    parts = ["reported", arg] if arg in row.get("reported", {}) else ["reported"]
                    problems.append(_problem("estimate", i, row, parts, str(exc)))
                    result = None
                if result is not None:
                    row.update(result)
            rows.append(row)
        _raise(problems)
        return self._like(rows, changed)

    def verify(self, *, rtol: float = 1e-9) -> pd.DataFrame:
        """Recompute every computed ``yi``/``vi`` from its stored formula and inputs.

        Returns
        -------
        pandas.DataFrame
            One row per mismatch or failure, columns ``index, study_id, estimate_id,
            formula, field, stored, recomputed, problem``; empty when all agree.
        """
        return self._recompute_all(rtol)[0]

    def _recompute_all(self, rtol: float) -> tuple[pd.DataFrame, dict[int, tuple[float, float]]]:
        cols = ["index", "study_id", "estimate_id", "formula", "field", "stored",
                "recomputed", "problem"]
        out, values = [], {}
        for i, row in enumerate(self._rows):
            if "yi" not in row:
                continue
            base = {"index": i, "study_id": row["study_id"], "estimate_id": row["estimate_id"],
                    "formula": row.get("formula")}
            try:
                again = recompute(row["formula"], row["inputs"])
            except (EffectSizeError, KeyError) as exc:
                out.append({**base, "field": "formula", "stored": None, "recomputed": None,
                            "problem": f"cannot recompute: {exc}"})
                continue
            values[i] = again
            for name, value in zip(("yi", "vi"), again, strict=True):
                if not math.isclose(row[name], value, rel_tol=rtol, abs_tol=1e-12):
                    out.append({**base, "field": name, "stored": row[name], "recomputed": value,
                                "problem": f"rows[{i}].{name} = {row[name]!r} but "
                                           f"{row['formula']} gives {value!r}"})
        return pd.DataFrame(out, columns=cols), values

    def _verified(self, *, locate: Any = None) -> EvidenceTable:
        """Raise on any recomputation mismatch; else store the exact recomputed values.

        Spreadsheets keep about 15 significant digits; storing the recomputation restores
        the exact values so that tables read back compare equal.
        """
        bad, values = self._recompute_all(1e-9)
        if len(bad):
            if locate is not None:
                locate(bad)
            problems = [_problem("estimate", int(b["index"]), self._rows[int(b["index"])],
                                 [b["field"]], b["problem"]) for b in bad.to_dict("records")]
            _raise(problems, where="evidence table (recomputation)")
        for i, (yi, vi) in values.items():
            self._rows[i]["yi"], self._rows[i]["vi"] = yi, vi
        return self

    def rma_input(self, *, measure: str | None = None) -> pd.DataFrame:
        """Rows with an effect size, ready for :func:`evidence_synth.synthesis.rma`.

        Parameters
        ----------
        measure : str, optional
            Keep only this measure (rows on different scales must not be pooled).

        Returns
        -------
        pandas.DataFrame
            Columns ``study_id, estimate_id, slab, intervention, outcome, measure,
            effect_class, yi, vi``.
        """
        frame = self.to_frame(with_study=True)
        frame = frame[frame["yi"].notna()]
        if measure is not None:
            frame = frame[frame["measure"] == measure]
        label = frame["citation"].fillna(frame["study_id"]) if "citation" in frame else \
            frame["study_id"]
        frame = frame.assign(slab=label.astype("string") + " " + frame["estimate_id"])
        cols = ["study_id", "estimate_id", "slab", "intervention", "outcome", "measure",
                "effect_class", "yi", "vi"]
        return frame[cols].reset_index(drop=True)

    def pool(
        self,
        *,
        by: str | Sequence[str] = "outcome",
        method: str = "REML",
        test: str = "z",
        min_k: int = 2,
        **filters: Any,
    ) -> pd.DataFrame:
        """Random-effects meta-analysis per group (and per measure).

        Parameters
        ----------
        by : str or sequence of str, default "outcome"
            Columns of :meth:`to_frame` (``with_study=True``) to group by.
        method, test : str
            Passed to :func:`evidence_synth.synthesis.rma`.
        min_k : int, default 2
            Groups with fewer effect sizes are listed with ``k`` but not pooled.
        **filters
            Keep rows whose column equals the value (or is in the list), e.g.
            ``effect_class="intended"``.

        Returns
        -------
        pandas.DataFrame
            One row per group and measure: the ``by`` columns, ``measure, k, studies,
            estimate, se, ci_lb, ci_ub, pval, tau2, I2, QEp``. ``attrs["results"]`` maps
            ``(group..., measure)`` to the :class:`MetaResult`.

        Warns
        -----
        DataQualityWarning
            When a study contributes several effect sizes to one pooled group (they are
            not independent; pick one per study or model the dependence).
        """
        from ..synthesis import rma

        keys = [by] if isinstance(by, str) else list(by)
        frame = self.to_frame(with_study=True)
        frame = frame[frame["yi"].notna()]
        for col, value in filters.items():
            allowed = value if isinstance(value, list | tuple | set) else [value]
            frame = frame[frame[col].isin(allowed)]
        label = frame["citation"].fillna(frame["study_id"])
        frame = frame.assign(_slab=label.astype(str) + " " + frame["estimate_id"].astype(str))
        out, results = [], {}
        for group, part in frame.groupby([*keys, "measure"], dropna=False, sort=True):
            group = group if isinstance(group, tuple) else (group,)
            record: dict[str, Any] = dict(zip([*keys, "measure"], group, strict=True))
            record.update(k=len(part), studies=part["study_id"].nunique())
            if len(part) >= min_k:
                if part["study_id"].duplicated().any():
                    warnings.warn(
                        f"group {group}: some studies contribute several effect sizes; they "
                        "are not independent", DataQualityWarning, stacklevel=2)
                res = rma(part["yi"].to_numpy(float), part["vi"].to_numpy(float),
                          method=method, test=test, slab=part["_slab"].to_numpy())
                results[group] = res
                record.update(estimate=float(res.beta[0]), se=float(res.se[0]),
                              ci_lb=float(res.ci_lb[0]), ci_ub=float(res.ci_ub[0]),
                              pval=float(res.pval[0]), tau2=res.tau2, I2=res.I2, QEp=res.QEp)
            out.append(record)
        cols = [*keys, "measure", "k", "studies", "estimate", "se", "ci_lb", "ci_ub", "pval",
                "tau2", "I2", "QEp"]
        result = pd.DataFrame(out, columns=cols)
        result.attrs["results"] = results
        return result

    # -- frames ----------------------------------------------------------------------
    def to_frame(self, *, with_study: bool = False) -> pd.DataFrame:
        """Estimate rows as a flat DataFrame.

        Parameters
        ----------
        with_study : bool, default False
            Add the study columns (``citation, design, countries, confidence, ...``).

        Returns
        -------
        pandas.DataFrame
            One row per estimate; columns are the estimate schema's properties in schema
            order with reported statistics as ``reported.<name>`` (``study_id,
            estimate_id, intervention, ..., reported.n1i, ..., measure, yi, vi, formula,
            inputs, effect_class, harm_category, unintended_code, affected, prespecified,
            direction, quote, page, notes``), then ``extra.<name>`` columns. Lists stay
            lists, ``inputs`` a dict; numbers are float64 (NaN when missing), text
            ``string`` dtype, ``prespecified`` ``boolean``.
        """
        frame = _frame("estimate", self._rows)
        if with_study:
            studies = self.studies_frame().drop(columns=["notes"], errors="ignore")
            frame = frame.merge(studies, on="study_id", how="left", suffixes=("", "_study"))
        return frame

    def studies_frame(self) -> pd.DataFrame:
        """Study rows as a flat DataFrame (study schema properties in schema order)."""
        return _frame("study", self._studies)

    @classmethod
    def from_frame(
        cls,
        rows: pd.DataFrame,
        studies: pd.DataFrame | None = None,
        *,
        form: ExtractionForm | None = None,
        verify: bool = True,
    ) -> EvidenceTable:
        """Build a table from flat frames (as :meth:`to_frame` / :meth:`studies_frame`).

        Text cells of list columns are split on ``;``, ``inputs`` may be JSON text and
        booleans may be ``true``/``false``/``yes``/``no``. With ``verify`` every stored
        ``yi``/``vi`` is recomputed and a mismatch raises :class:`ExtractionError`.
        """
        problems: list[dict[str, Any]] = []
        srows = [] if studies is None else _unflatten(studies, "study", problems)
        erows = _unflatten(rows, "estimate", problems)
        _raise(problems)
        table = cls(erows, studies=srows, form=form)
        return table._verified() if verify else table

    # -- files -----------------------------------------------------------------------
    def to_csv(self, path: str | Path) -> tuple[Path, Path]:
        """Write estimates to ``path`` and studies to ``<stem>-studies.csv`` beside it.

        Lists are joined with ``"; "`` and ``inputs`` written as JSON, so
        :meth:`from_csv` reads the files back to an equal table.

        Returns
        -------
        tuple of Path
            The estimates file and the studies file.
        """
        path = Path(path)
        studies_path = path.with_name(f"{path.stem}-studies{path.suffix or '.csv'}")
        _for_csv(self.to_frame()).to_csv(path, index=False)
        _for_csv(self.studies_frame()).to_csv(studies_path, index=False)
        return path, studies_path

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        studies: str | Path | None = None,
        *,
        form: ExtractionForm | None = None,
        verify: bool = True,
    ) -> EvidenceTable:
        """Read estimates (and studies: ``studies`` or ``<stem>-studies.csv`` if present)."""
        path = Path(path)
        guess = path.with_name(f"{path.stem}-studies{path.suffix}")
        studies_path = Path(studies) if studies is not None else (guess if guess.exists()
                                                                  else None)
        read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
        rows = pd.read_csv(path, **read)
        srows = None if studies_path is None else pd.read_csv(studies_path, **read)
        try:
            return cls.from_frame(rows, srows, form=form, verify=verify)
        except ExtractionError as exc:
            files = str(path) + ("" if studies_path is None else f" and {studies_path}")
            raise ExtractionError(f"{files} (rows[i] and studies[i] are data line i + 2): "
                                  f"{exc}", problems=exc.problems) from None

    def to_json(self, path: str | Path | None = None) -> str:
        """The table as JSON (``{"studies": [...], "rows": [...]}``); written if ``path``."""
        doc = {"format": "evidence_synth evidence table",
               "schemas": {lv: load_schema(name)["$id"] for lv, name in LEVELS.items()},
               "form": None if self.form is None else self.form.id,
               "studies": self._studies, "rows": self._rows}
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_json(
        cls,
        source: str | Path,
        *,
        form: ExtractionForm | None = None,
        verify: bool = True,
    ) -> EvidenceTable:
        """Read :meth:`to_json` output from a path or a JSON string."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = Path(source).read_text(encoding="utf-8")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExtractionError(f"{source}: not JSON: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise ExtractionError(f"{source}: expected an object with 'rows' and 'studies'")
        table = cls(doc["rows"], studies=doc.get("studies") or (), form=form)
        return table._verified() if verify else table

    def to_xlsx(self, path: str | Path, *, form: ExtractionForm | None = None) -> Path:
        """Write the table into an extraction workbook (the template, filled in)."""
        from .template import write_template

        return write_template(path, form=form or self.form, table=self)

    @classmethod
    def from_xlsx(cls, path: str | Path, *, form: ExtractionForm | None = None
                  ) -> EvidenceTable:
        """Read an extraction workbook (see :func:`read_extraction_workbook`)."""
        from .template import read_extraction_workbook

        return read_extraction_workbook(path, form=form)

    # -- review store ----------------------------------------------------------------
    def save(
        self,
        review: Review,
        *,
        extractor: str,
        consensus: bool = False,
        update: bool = False,
    ) -> pd.DataFrame:
        """Store the rows in the review store under this extractor's name.

        Each extractor's version of a row has its own store row: ``<study_id>@<who>`` for
        studies and ``<study_id>/<estimate_id>@<who>`` for estimates, where ``who`` is the
        extractor, or ``consensus`` for the adjudicated version (``consensus=True``; the
        store still records ``extractor`` as who wrote it).

        Parameters
        ----------
        review : Review
        extractor : str
            Who extracted (or adjudicated) the rows.
        consensus : bool, default False
            Store as the consensus version.
        update : bool, default False
            Overwrite stored rows of the same name that this table was not loaded from.
            Rows loaded with :meth:`from_review` are always updated with their loaded
            version, so a row someone else changed meanwhile raises :class:`StoreError`.

        Returns
        -------
        pandas.DataFrame
            Columns ``row_id, level, action`` (inserted, updated, unchanged) and
            ``version``.

        Raises
        ------
        StoreError
            A stored row exists and ``update`` is False, or an edit conflict. Every row is
            checked before anything is written.
        """
        if not isinstance(extractor, str) or "@" in extractor or not extractor.strip():
            raise StoreError(f"extractor name must be non-empty without '@', got {extractor!r}")
        if extractor == _CONSENSUS and not consensus:
            raise StoreError("'consensus' is reserved for the adjudicated version: pass "
                             "consensus=True and the adjudicator's name as extractor")
        who = _CONSENSUS if consensus else extractor
        items = [(f"{s['study_id']}@{who}", "study", s["study_id"], s) for s in self._studies]
        items += [(f"{r['study_id']}/{r['estimate_id']}@{who}", "estimate", r["study_id"], r)
                  for r in self._rows]
        stored = review.extraction_rows()
        current = {rid: (int(v), d) for rid, v, d in zip(
            stored["row_id"], stored["version"], stored["data"], strict=True)}
        plan, conflicts = [], []
        for row_id, level, study_id, row in items:
            data = {"level": level, "form": None if self.form is None else self.form.id,
                    "row": row}
            if row_id not in current:
                plan.append((row_id, level, study_id, data, None))
                continue
            version, old = current[row_id]
            if old.get("row") == row:
                plan.append((row_id, level, study_id, None, version))
            elif row_id in self.versions_ or update:
                plan.append((row_id, level, study_id, data,
                             self.versions_.get(row_id, version)))
            else:
                conflicts.append(row_id)
        if conflicts:
            raise StoreError(
                f"{len(conflicts)} extraction row(s) already stored for {who!r} "
                f"({', '.join(conflicts[:5])}{', ...' if len(conflicts) > 5 else ''}); load "
                "them with EvidenceTable.from_review to edit, or pass update=True to overwrite"
            )
        out = []
        for row_id, level, study_id, data, expected in plan:
            if data is None:
                out.append((row_id, level, "unchanged", expected))
                continue
            version = review.save_extraction_row(row_id, data, study_id=study_id,
                                                 extractor=extractor,
                                                 expected_version=expected)
            self.versions_[row_id] = version
            out.append((row_id, level, "inserted" if expected is None else "updated", version))
        return pd.DataFrame(out, columns=["row_id", "level", "action", "version"])

    @classmethod
    def from_review(
        cls,
        review: Review,
        *,
        extractor: str | None = None,
        form: ExtractionForm | None = None,
    ) -> EvidenceTable:
        """Load one extractor's rows (or the consensus) from the review store.

        Parameters
        ----------
        review : Review
        extractor : str, optional
            Whose rows: an extractor name or ``"consensus"``. By default the consensus if
            any is stored, else the only extractor's rows.
        form : ExtractionForm, optional

        Raises
        ------
        ExtractionError
            No rows, or several extractors and no consensus (name one).
        """
        stored = review.extraction_rows()
        who = [rid.rsplit("@", 1)[1] if "@" in rid else "" for rid in stored["row_id"]]
        stored = stored.assign(who=who)
        names = sorted(set(who) - {""})
        if extractor is None:
            if _CONSENSUS in names:
                extractor = _CONSENSUS
            elif len(names) == 1:
                extractor = names[0]
            else:
                raise ExtractionError(
                    "the review store has extraction rows of "
                    + (f"{len(names)} extractors ({', '.join(names)}) and no consensus; "
                       "pass extractor=" if names else "nobody; nothing to load")
                )
        mine = stored[stored["who"] == extractor]
        if not len(mine):
            raise ExtractionError(f"no extraction rows of {extractor!r} in the review store "
                                  f"(found: {', '.join(names) or 'none'})")
        studies = [d["row"] for d in mine["data"] if d.get("level") == "study"]
        rows = [d["row"] for d in mine["data"] if d.get("level") == "estimate"]
        table = cls(rows, studies=studies, form=form)
        table.versions_ = dict(zip(mine["row_id"], (int(v) for v in mine["version"]),
                                   strict=True))
        return table

    def compare(self, other: EvidenceTable, *, names: tuple[str, str] = ("a", "b")
                ) -> pd.DataFrame:
        """Discrepancies with another extractor's table (see :func:`discrepancies`)."""
        return discrepancies(self, other, names=names)

    # -- display ---------------------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """Counts per intervention: studies, estimates, with ``yi``, and per effect class.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``intervention``; columns ``studies, estimates, with_yi, intended,
            unintended_beneficial, unintended_adverse, unclear``, and a ``total`` row.
        """
        classes = ["intended", "unintended_beneficial", "unintended_adverse", "unclear"]
        cols = ["studies", "estimates", "with_yi", *classes]
        frame = self.to_frame()
        if not len(frame):
            return pd.DataFrame(columns=cols, index=pd.Index([], name="intervention"))
        grouped = frame.groupby("intervention")
        out = pd.DataFrame({
            "studies": grouped["study_id"].nunique(),
            "estimates": grouped.size(),
            "with_yi": grouped["yi"].count(),
        })
        counts = pd.crosstab(frame["intervention"], frame["effect_class"])
        out = out.join(counts.reindex(columns=classes, fill_value=0)).fillna(0).astype(int)
        total = out.sum()
        total["studies"] = frame["study_id"].nunique()
        out.loc["total"] = total
        out.index.name = "intervention"
        return out[cols]

    def _repr_html_(self) -> str:
        form = "" if self.form is None else f", form {html.escape(self.form.id)}"
        head = f"<p><b>{html.escape(repr(self))}</b>{form}</p>"
        show = ["study_id", "estimate_id", "intervention", "outcome", "effect_class",
                "measure", "yi", "vi"]
        return head + self.summary().to_html() + self.to_frame()[show].head(20).to_html(
            index=False, na_rep="")

    def _like(self, rows: list[dict[str, Any]], changed: Iterable[int]) -> EvidenceTable:
        """A copy with new rows whose keys are unchanged; only ``changed`` are re-validated."""
        problems = [p for i in changed for p in _row_problems("estimate", i, rows[i], self.form)]
        _raise(problems)
        table = EvidenceTable.__new__(EvidenceTable)
        table.form, table._studies, table._rows = self.form, self.studies, rows
        table.versions_ = dict(self.versions_)
        return table


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


# --------------------------------------------------------------------------- double extraction


def discrepancies(
    table_a: EvidenceTable,
    table_b: EvidenceTable,
    *,
    names: tuple[str, str] = ("a", "b"),
    rtol: float = 1e-9,
) -> pd.DataFrame:
    """Compare two extractors' tables field by field.

    Studies are matched on ``study_id``, estimates on ``(study_id, estimate_id)``, so
    extractors must name estimates after their source (``T3.c2``). Numbers are equal when
    they agree to ``rtol``; lists are compared as sets.

    Parameters
    ----------
    table_a, table_b : EvidenceTable
    names : tuple of str
        Labels of the two extractors (used in the ``value_<name>`` columns).

    Returns
    -------
    pandas.DataFrame
        One row per disagreement: ``level`` (study/estimate), ``study_id``,
        ``estimate_id``, ``field``, ``kind`` (``differs``, ``only_<a>``, ``only_<b>``),
        ``value_<a>``, ``value_<b>``. Empty when the tables agree. ``attrs["agreement"]``
        holds per-field counts: compared, agreed, percent.
    """
    a, b = names
    out: list[dict[str, Any]] = []
    stats: dict[tuple[str, str], list[int]] = {}
    for level, left, right, key in (
        ("study", table_a.studies, table_b.studies, ("study_id",)),
        ("estimate", table_a.rows, table_b.rows, ("study_id", "estimate_id")),
    ):
        lmap = {tuple(r[k] for k in key): _flatten(r) for r in left}
        rmap = {tuple(r[k] for k in key): _flatten(r) for r in right}
        for ident in sorted(set(lmap) | set(rmap)):
            base = {"level": level, "study_id": ident[0],
                    "estimate_id": ident[1] if len(ident) > 1 else None}
            if ident not in rmap or ident not in lmap:
                only = a if ident in lmap else b
                out.append({**base, "field": None, "kind": f"only_{only}",
                            f"value_{a}": None, f"value_{b}": None})
                continue
            lrow, rrow = lmap[ident], rmap[ident]
            for field in sorted(set(lrow) | set(rrow)):
                if field in key:
                    continue
                agree = _same(lrow.get(field), rrow.get(field), rtol)
                counter = stats.setdefault((level, field), [0, 0])
                counter[0] += 1
                counter[1] += agree
                if not agree:
                    out.append({**base, "field": field, "kind": "differs",
                                f"value_{a}": lrow.get(field), f"value_{b}": rrow.get(field)})
    cols = ["level", "study_id", "estimate_id", "field", "kind", f"value_{a}", f"value_{b}"]
    frame = pd.DataFrame(out, columns=cols)
    for col in cols[:5]:
        frame[col] = frame[col].astype("string")
    agreement = pd.DataFrame(
        [(lv, f, n, ok, round(100 * ok / n, 1)) for (lv, f), (n, ok) in sorted(stats.items())],
        columns=["level", "field", "compared", "agreed", "percent"],
    )
    frame.attrs["agreement"] = agreement
    return frame


def _same(x: Any, y: Any, rtol: float) -> bool:
    if x is None or y is None:
        return x is None and y is None
    if isinstance(x, bool) or isinstance(y, bool):
        return x == y
    if isinstance(x, int | float) and isinstance(y, int | float):
        return math.isclose(x, y, rel_tol=rtol, abs_tol=1e-12)
    if isinstance(x, list) and isinstance(y, list):
        return sorted(map(str, x)) == sorted(map(str, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(_same(x[k], y[k], rtol) for k in x)
    return x == y
