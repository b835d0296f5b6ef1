"""Screening criteria as data: criteria, exclusion reasons and allowed auto-exclusions.

A criteria file (``screening/criteria.yaml``) lists, per stage, the criteria a screener
reads, the exclusion reason codes they choose from, and the only exclusions a tool may
make without a human (``auto_exclude``: a publication-year cut-off or a rule of the rules
file). It is validated against the packaged schema ``screening-criteria.schema.json``;
every problem is reported with its JSON path and line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd

from ..errors import ProtocolError
from ..schema_validation import load_schema, validate_yaml_document

__all__ = ["AutoExclusion", "Criteria", "Criterion", "Reason", "load_criteria"]


@dataclass(frozen=True)
class Criterion:
    """One inclusion or exclusion criterion of a stage."""

    id: str
    type: str
    text: str
    reason: str | None = None
    nodes: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reason:
    """One exclusion reason a screener can choose."""

    code: str
    label: str
    description: str | None = None
    shortcut: str | None = None


@dataclass(frozen=True)
class AutoExclusion:
    """An exclusion a tool may make without a human (counted as automation in PRISMA)."""

    reason: str
    year_before: int | None = None
    rule: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class StageCriteria:
    """Criteria, reasons and auto-exclusions of one stage."""

    stage: str
    criteria: tuple[Criterion, ...]
    reasons: tuple[Reason, ...]
    auto_exclude: tuple[AutoExclusion, ...] = ()
    guidance: str | None = None


@dataclass(frozen=True)
class Criteria:
    """The screening criteria of a review. Load with :func:`load_criteria`.

    Attributes
    ----------
    review : str
        The review id.
    stages : dict
        ``stage -> StageCriteria``.
    protocol, rules : str or None
        Paths of the protocol and of the keyword rules, relative to the review's root
        folder, as the file names them.
    path : pathlib.Path or None
        The file it was loaded from.
    """

    review: str
    stages: Mapping[str, StageCriteria]
    protocol: str | None = None
    path: Path | None = field(default=None, compare=False)
    rules: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: Path | None = None) -> Criteria:
        """Build criteria from a mapping with the YAML file's structure (validated first)."""
        validate_mapping(data, "screening-criteria", checks=[_criteria_problems])
        return cls._build(data, path=path)

    @classmethod
    def _build(cls, data: Mapping[str, Any], *, path: Path | None) -> Criteria:
        stages = {}
        for stage, spec in data["stages"].items():
            stages[stage] = StageCriteria(
                stage=stage,
                criteria=tuple(
                    Criterion(id=c["id"], type=c["type"], text=c["text"], reason=c.get("reason"),
                              nodes=tuple(c.get("nodes", ())),
                              examples=tuple(c.get("examples", ())))
                    for c in spec["criteria"]
                ),
                reasons=tuple(
                    Reason(code=r["code"], label=r["label"], description=r.get("description"),
                           shortcut=r.get("shortcut"))
                    for r in spec.get("reasons", ())
                ),
                auto_exclude=tuple(
                    AutoExclusion(reason=a["reason"], year_before=a.get("year_before"),
                                  rule=a.get("rule"), description=a.get("description"))
                    for a in spec.get("auto_exclude", ())
                ),
                guidance=spec.get("guidance"),
            )
        return cls(review=data["review"], stages=stages, protocol=data.get("protocol"), path=path,
                   rules=data.get("rules"))

    def stage(self, stage: str) -> StageCriteria:
        """The criteria of one stage (raises :class:`ProtocolError` if absent)."""
        if stage not in self.stages:
            raise ProtocolError(
                f"{self.path or 'criteria'}: no criteria for stage {stage!r}; "
                f"expected one of {sorted(self.stages)}"
            )
        return self.stages[stage]

    def reasons(self, stage: str) -> pd.DataFrame:
        """Exclusion reasons of a stage.

        Returns
        -------
        pandas.DataFrame
            Columns ``code, label, description, shortcut``.
        """
        rows = [vars(r) for r in self.stage(stage).reasons] if stage in self.stages else []
        return pd.DataFrame(rows, columns=["code", "label", "description", "shortcut"])

    def reason_codes(self, stage: str) -> tuple[str, ...]:
        """The reason codes a screener may record at a stage (empty if the stage has none)."""
        return tuple(r.code for r in self.stages[stage].reasons) if stage in self.stages else ()

    def to_frame(self) -> pd.DataFrame:
        """All criteria, one row each.

        Returns
        -------
        pandas.DataFrame
            Columns ``stage, id, type, text, reason, nodes``.
        """
        rows = [
            {"stage": s, "id": c.id, "type": c.type, "text": c.text, "reason": c.reason,
             "nodes": list(c.nodes)}
            for s, spec in self.stages.items() for c in spec.criteria
        ]
        return pd.DataFrame(rows, columns=["stage", "id", "type", "text", "reason", "nodes"])

    def text(self, stage: str = "title_abstract") -> str:
        """The criteria of a stage as plain text (used to cold-start rankers)."""
        spec = self.stage(stage)
        parts = [c.text for c in spec.criteria if c.type == "include"]
        parts += [e for c in spec.criteria if c.type == "include" for e in c.examples]
        return "\n".join(parts)

    def summary(self) -> str:
        """One line per stage: criteria, reasons and auto-exclusions."""
        return "\n".join(
            f"{s}: {len(v.criteria)} criteria, {len(v.reasons)} reasons, "
            f"{len(v.auto_exclude)} auto-exclusions"
            for s, v in self.stages.items()
        )

    def _repr_html_(self) -> str:
        return self.to_frame().drop(columns="nodes").to_html(index=False)


def load_criteria(path: str | os.PathLike[str]) -> Criteria:
    """Load and validate a screening criteria YAML file.

    Parameters
    ----------
    path : path-like
        The YAML file (e.g. ``screening/criteria.yaml``).

    Returns
    -------
    Criteria

    Raises
    ------
    ProtocolError
        Listing every problem with its JSON path and line; ``error.problems`` has columns
        ``path, line, problem``.
    """
    file = Path(path)
    data = validate_yaml_document(file, "screening-criteria", checks=[_criteria_problems])
    return Criteria._build(data, path=file)


def _items(data: Any, *keys: str) -> list[tuple[int, dict[str, Any]]]:
    for key in keys:
        data = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(data, list):
        return []
    return [(i, item) for i, item in enumerate(data) if isinstance(item, Mapping)]


def _criteria_problems(data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Cross-references the schema cannot express (tolerates malformed data)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    stages = data.get("stages") if isinstance(data, Mapping) else None
    if not isinstance(stages, Mapping):
        return problems
    ids: set[str] = set()
    for stage, spec in stages.items():
        codes: list[str] = []
        for i, reason in _items(spec, "reasons"):
            code = reason.get("code")
            if code in codes:
                problems.append((("stages", stage, "reasons", i, "code"),
                                 f"duplicate reason code {code!r}"))
            codes.append(code)
        for i, crit in _items(spec, "criteria"):
            if crit.get("id") in ids:
                problems.append((("stages", stage, "criteria", i, "id"),
                                 f"duplicate criterion id {crit.get('id')!r}"))
            ids.add(crit.get("id"))
            if crit.get("reason") is not None and crit["reason"] not in codes:
                problems.append((("stages", stage, "criteria", i, "reason"),
                                 f"expected one of the stage's reason codes {codes}, "
                                 f"found {crit['reason']!r}"))
        for i, auto in _items(spec, "auto_exclude"):
            given = [k for k in ("year_before", "rule") if k in auto]
            if len(given) != 1:
                problems.append((("stages", stage, "auto_exclude", i),
                                 "expected exactly one of year_before or rule, found "
                                 + (" and ".join(given) if given else "neither")))
            if auto.get("reason") not in codes:
                problems.append((("stages", stage, "auto_exclude", i, "reason"),
                                 f"expected one of the stage's reason codes {codes}, "
                                 f"found {auto.get('reason')!r}"))
    return problems


def validate_mapping(
    data: Any,
    schema_name: str,
    *,
    checks: Iterable[Callable[[Any], Iterable[tuple[tuple[str | int, ...], str]]]] = (),
) -> None:
    """Validate an in-memory document against a packaged schema and extra checks.

    Raises
    ------
    ProtocolError
        With every problem (JSON path and message); ``.problems`` has columns
        ``path, line, problem`` (``line`` is ``<NA>``: there is no file).
    """
    validator = jsonschema.Draft202012Validator(load_schema(schema_name))
    found = [(tuple(e.absolute_path), e.message) for e in validator.iter_errors(data)]
    for check in checks:
        found.extend(check(data))
    if not found:
        return
    rows = sorted((_json_path(p), m) for p, m in found)
    frame = pd.DataFrame({
        "path": pd.array([r[0] for r in rows], dtype="string"),
        "line": pd.array([None] * len(rows), dtype="Int64"),
        "problem": pd.array([r[1] for r in rows], dtype="string"),
    })
    body = "\n".join(f"  {p}: {m}" for p, m in rows)
    raise ProtocolError(f"<mapping>: {len(rows)} problem(s) (schema {schema_name}):\n{body}",
                        problems=frame)


def _json_path(parts: Iterable[Any]) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
