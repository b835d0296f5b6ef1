"""Keyword, phrase, proximity and regex rules that highlight and tag records.

Rules live in a YAML file (``screening/rules.yaml``) validated against the packaged
schema ``screening-rules.schema.json``. Matching is case- and accent-insensitive and
respects word boundaries: ``garde-cotes`` finds "Garde-côtes", ``readmission*`` finds
"readmissions", ``border`` does not match inside "borderline". All terms of all rules are
compiled once into a few prefix-trie regular expressions that scan every record of a
field in one pass, so 100,000 records take seconds.

:func:`apply_rules` returns a :class:`RuleHits` (per record: fired rules, framework tags,
highlight spans, cold-start score and any auto-exclusion the criteria allow);
:func:`highlight_html` marks the spans in a text.
"""

from __future__ import annotations

import bisect
import html
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import columns as C  # noqa: N812
from ..errors import ProtocolError
from ..schema_validation import validate_yaml_document
from ._patterns import RulePattern, compile_rule_pattern, rows_holding
from .criteria import _items, validate_mapping

if TYPE_CHECKING:
    from .criteria import Criteria

__all__ = [
    "FIELDS",
    "RecordHits",
    "Rule",
    "RuleHits",
    "RuleSet",
    "Span",
    "apply_rules",
    "fold_text",
    "highlight_html",
    "load_rules",
]

#: Record fields a rule can search.
FIELDS = ("title", "abstract", "keywords", "journal", "pub_type")
_DEFAULT_FIELDS = ("title", "abstract", "keywords")
_CONTEXT_FIELDS = ("title", "abstract", "keywords")
_WORD = re.compile(r"\w+")
_BOUNDARY = r"""[\s"'(\[{/\-.,;:!?*+=<>|&~%$#@^\\¿¡]"""


# -- accent- and case-folding that keeps every character's offset ------------------------


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x80, 0x2000):
        char = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        ).lower()
        if len(base) == 1 and base != char:
            table[code] = base
        elif len(char.lower()) == 1 and char.lower() != char:
            table[code] = char.lower()
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code).lower()
    # the two characters that case-insensitive regular expressions also read as i and k
    table[0x0131], table[0x212A] = "i", "k"
    for char in "\n\r\t\x0b\x0c\u00a0\u2028\u2029":
        table[ord(char)] = " "
    for char in "\u2010\u2011\u2012\u2013\u2014\u2212":
        table[ord(char)] = "-"
    for char in "\u2018\u2019\u02bc\u0060\u00b4":
        table[ord(char)] = "'"
    for char in "\u201c\u201d\u201e\u00ab\u00bb":
        table[ord(char)] = '"'
    return table


_FOLD = _fold_table()


def fold_text(text: str) -> str:
    """Lower-case ``text``, drop accents and map dashes/quotes, keeping its length.

    Every character maps to exactly one character, so offsets in the folded text are
    offsets in the original text.
    """
    return text.translate(_FOLD)


def _term_key(text: str) -> str:
    return re.sub(r"[\s\-']+", "", fold_text(text))


# -- rules --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One rule (see ``screening-rules.schema.json``)."""

    id: str
    type: str
    label: str | None = None
    terms: tuple[str, ...] = ()
    near: tuple[tuple[str, ...], ...] = ()
    within: int | None = None
    pattern: str | None = None
    fields: tuple[str, ...] = _DEFAULT_FIELDS
    tags: tuple[str, ...] = ()
    highlight: bool = True
    requires: str | tuple[str, ...] | None = None
    weight: float = 1.0
    languages: tuple[str, ...] = ()
    unless: str | tuple[str, ...] | None = None
    not_near: str | tuple[str, ...] | None = None
    not_within: int = 0


@dataclass(frozen=True)
class RuleSet:
    """A validated set of rules. Load with :func:`load_rules`.

    Attributes
    ----------
    rules : tuple of Rule
    term_sets : dict
        Named term lists that rules can require.
    path : pathlib.Path or None
    """

    rules: tuple[Rule, ...]
    term_sets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: Path | None = None) -> RuleSet:
        """Build a rule set from a mapping with the YAML file's structure (validated first)."""
        validate_mapping(data, "screening-rules", checks=[_rules_problems])
        return cls._build(data, path=path)

    @classmethod
    def _build(cls, data: Mapping[str, Any], *, path: Path | None) -> RuleSet:
        def terms(value: Any) -> str | tuple[str, ...] | None:
            return tuple(value) if isinstance(value, list) else value

        rules = []
        for spec in data["rules"]:
            not_near = spec.get("not_near") or {}
            rules.append(Rule(
                id=spec["id"], type=spec["type"], label=spec.get("label"),
                terms=tuple(spec.get("terms", ())),
                near=tuple(tuple(side) for side in spec.get("near", ())),
                within=spec.get("within"), pattern=spec.get("pattern"),
                fields=tuple(spec.get("fields", _DEFAULT_FIELDS)),
                tags=tuple(spec.get("tags", ())), highlight=spec.get("highlight", True),
                requires=terms(spec.get("requires")),
                weight=float(spec.get("weight", 1.0)),
                languages=tuple(spec.get("languages", ())),
                unless=terms(spec.get("unless")),
                not_near=terms(not_near.get("terms")),
                not_within=int(not_near.get("within", 0)),
            ))
        return cls(rules=tuple(rules),
                   term_sets={k: tuple(v) for k, v in data.get("term_sets", {}).items()},
                   path=path)

    def __len__(self) -> int:
        return len(self.rules)

    def __getitem__(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    @property
    def tags(self) -> tuple[str, ...]:
        """All framework nodes the rules can tag, sorted."""
        return tuple(sorted({t for r in self.rules for t in r.tags}))

    def to_frame(self) -> pd.DataFrame:
        """The rules, one row each.

        Returns
        -------
        pandas.DataFrame
            Columns ``id, type, label, n_terms, tags, fields, requires, weight``.
        """
        rows = [
            {"id": r.id, "type": r.type, "label": r.label,
             "n_terms": len(r.terms) + sum(len(s) for s in r.near) + (r.pattern is not None),
             "tags": list(r.tags), "fields": list(r.fields),
             "requires": r.requires if isinstance(r.requires, str | None) else "terms",
             "weight": r.weight}
            for r in self.rules
        ]
        return pd.DataFrame(rows, columns=["id", "type", "label", "n_terms", "tags", "fields",
                                           "requires", "weight"])

    def summary(self) -> str:
        """Rules per type and the framework nodes they tag."""
        kinds = pd.Series([r.type for r in self.rules]).value_counts()
        lines = [f"{len(self.rules)} rules ({', '.join(f'{n} {k}' for k, n in kinds.items())})"]
        lines += [f"  tags {tag}: {sum(tag in r.tags for r in self.rules)} rules"
                  for tag in self.tags]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)

    @cached_property
    def _compiled(self) -> _Compiled:
        return _Compiled(self)


def load_rules(path: str | os.PathLike[str]) -> RuleSet:
    """Load and validate a screening rules YAML file.

    Parameters
    ----------
    path : path-like
        The YAML file (e.g. ``screening/rules.yaml``).

    Returns
    -------
    RuleSet

    Raises
    ------
    ProtocolError
        Listing every problem with its JSON path and line.
    """
    file = Path(path)
    data = validate_yaml_document(file, "screening-rules", checks=[_rules_problems])
    return RuleSet._build(data, path=file)


def _rules_problems(data: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks the schema cannot express (tolerates malformed data)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    sets = data.get("term_sets") if isinstance(data, Mapping) else None
    names = sorted(sets) if isinstance(sets, Mapping) else []
    seen: set[Any] = set()
    for i, rule in _items(data, "rules"):
        if rule.get("id") in seen:
            problems.append((("rules", i, "id"), f"duplicate rule id {rule.get('id')!r}"))
        seen.add(rule.get("id"))
        not_near = rule.get("not_near")
        for path, value in ((("requires",), rule.get("requires")),
                            (("unless",), rule.get("unless")),
                            (("not_near", "terms"),
                             not_near.get("terms") if isinstance(not_near, Mapping) else None)):
            if isinstance(value, str) and value not in names:
                problems.append((("rules", i, *path),
                                 f"expected a term_sets name {names}, found {value!r}"))
        if rule.get("type") == "keyword" and isinstance(rule.get("terms"), list):
            for j, term in enumerate(rule["terms"]):
                if isinstance(term, str) and re.search(r"[\s\-]", term.strip()):
                    problems.append((("rules", i, "terms", j),
                                     f"keyword rules take single words, found {term!r}; "
                                     "use type: phrase"))
        if rule.get("type") == "regex" and isinstance(rule.get("pattern"), str):
            try:
                re.compile(rule["pattern"])
            except re.error as exc:
                problems.append((("rules", i, "pattern"), f"invalid regex: {exc}"))
    return problems


# -- compilation ----------------------------------------------------------------------------


def _atoms(term: str) -> list[str]:
    text = re.sub(r"\s+", " ", fold_text(term.strip()))
    atoms = []
    for char in text:
        if char == " ":
            atoms.append(r"[\s\-]+")
        elif char == "-":
            atoms.append(r"[\s\-]?")
        elif char == "'":
            atoms.append(r"'?")
        elif char == "*":
            atoms.append(r"\w*")
        else:
            atoms.append(re.escape(char))
    return atoms


def _trie_regex(terms: Iterable[str]) -> re.Pattern[str] | None:
    trie: dict[str, Any] = {}
    for term in terms:
        node = trie
        for atom in _atoms(term):
            node = node.setdefault(atom, {})
        node[""] = {}

    def render(node: dict[str, Any]) -> str:
        # A word-ending wildcard goes last, so that "asyl*" does not end the match before
        # "asylum partnership" is tried: the regex takes the first alternative that fits.
        alts = [atom + render(child)
                for atom, child in sorted(node.items(), key=lambda kv: (kv[0] == r"\w*", kv[0]))
                if atom]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    if not trie:
        return None
    # Consuming one boundary character (instead of a look-behind) lets the regex engine
    # skip quickly to candidate positions: about 1.4x faster on real abstracts.
    return re.compile(_BOUNDARY + "(" + render(trie) + r")(?!\w)")


class _Lexicon:
    """Terms -> labels (rule ids, sides or term-set names), matched by one trie regex."""

    def __init__(self) -> None:
        self.exact: dict[str, set[Any]] = defaultdict(set)
        self.wild: dict[str, set[Any]] = defaultdict(set)
        self.terms: set[str] = set()
        self._cache: dict[str, frozenset[Any]] = {}

    def add(self, term: str, label: Any) -> None:
        if "*" in term:
            self.wild["".join(_atoms(term))].add(label)
        else:
            self.exact[_term_key(term)].add(label)
        self.terms.add(term)

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        return _trie_regex(sorted(self.terms))

    @cached_property
    def _wild(self) -> list[tuple[re.Pattern[str], set[Any]]]:
        return [(re.compile(p), labels) for p, labels in self.wild.items()]

    def labels(self, folded: str) -> frozenset[Any]:
        """Labels of a match of :attr:`regex` (``folded`` is text from the folded corpus)."""
        cached = self._cache.get(folded)
        if cached is None:
            cached = self._cache[folded] = frozenset(self._labels(folded))
        return cached

    def _labels(self, folded: str) -> set[Any]:
        words = re.split(r"[\s\-]+", folded)
        out: set[Any] = set()
        for n in range(1, len(words) + 1):
            prefix = " ".join(words[:n])
            out |= self.exact.get(_term_key(prefix), set())
            for pattern, labels in self._wild:
                if pattern.fullmatch(prefix if n < len(words) else folded):
                    out |= labels
        return out


class _Compiled:
    """All terms of all rules in one lexicon, scanned once per field.

    Labels are ``("t", rule_id)`` for keyword/phrase terms, ``("n", rule_id, side)`` for
    proximity terms, ``("c", name)`` for the terms of a ``requires`` or ``unless`` set
    and ``("x", rule_id)`` for the terms of a rule's ``not_near`` context.
    """

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules
        self.by_id = {r.id: r for r in rules.rules}
        self.lexicon = _Lexicon()
        self.patterns: dict[str, RulePattern] = {}
        for rule in rules.rules:
            if rule.type in ("keyword", "phrase"):
                for term in rule.terms:
                    self.lexicon.add(term, ("t", rule.id))
            elif rule.type == "proximity":
                for side, terms in enumerate(rule.near):
                    for term in terms:
                        self.lexicon.add(term, ("n", rule.id, side))
            else:
                self.patterns[rule.id] = compile_rule_pattern(rule.pattern or "")
            for kind in ("requires", "unless"):
                if getattr(rule, kind) is not None:
                    for term in self.context_terms(rule, kind):
                        self.lexicon.add(term, ("c", self.context_key(rule, kind)))
            if rule.not_near is not None:
                for term in self._terms(rule.not_near):
                    self.lexicon.add(term, ("x", rule.id))
        self.scan_fields = [
            f for f in FIELDS
            if any(f in r.fields for r in rules.rules
                   if r.type != "regex" or r.not_near is not None)
            or (f in _CONTEXT_FIELDS and any(r.requires is not None or r.unless is not None
                                             for r in rules.rules))
        ]

    def _terms(self, value: str | tuple[str, ...]) -> tuple[str, ...]:
        return self.rules.term_sets[value] if isinstance(value, str) else value

    def context_terms(self, rule: Rule, kind: str) -> tuple[str, ...]:
        """The terms of a rule's ``requires`` or ``unless`` context."""
        return self._terms(getattr(rule, kind))

    def context_key(self, rule: Rule, kind: str) -> str:
        """The name a record's context set holds when it mentions those terms."""
        value = getattr(rule, kind)
        return value if isinstance(value, str) else f"_{rule.id}:{kind}"


# -- matching -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A highlighted match: ``text[start:end]`` of ``field`` matched rule ``rule_id``."""

    field: str
    start: int
    end: int
    rule_id: str
    text: str
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RecordHits:
    """The rule hits of one record."""

    record_id: str
    rules: tuple[str, ...]
    tags: tuple[str, ...]
    spans: tuple[Span, ...]
    score: float = 0.0
    auto_exclude: str | None = None
    auto_exclude_by: str | None = None


def _field_texts(records: pd.DataFrame, name: str) -> list[str]:
    if name not in records.columns:
        return [""] * len(records)
    if name == "keywords":
        return ["; ".join(map(str, v)) if isinstance(v, list | tuple) else ""
                for v in records[name]]
    return ["" if pd.isna(v) else str(v) for v in records[name]]


def _scan(regex: re.Pattern[str] | None, folded: list[str]) -> list[tuple[int, int, int, str]]:
    """All term matches of the lexicon regex as (record index, start, end, text).

    Records are searched joined in one string that starts with a newline too, so the
    regex (which consumes the character before a term, see :func:`_trie_regex`) finds
    terms at a record's start. The span is group 1, the term. The search goes on from
    the start of each match rather than its end, so terms that begin inside a longer
    term are found too ("illegal immigration" inside "cooperation in the fight against
    illegal immigration").
    """
    if regex is None or not folded:
        return []
    # Records are joined by NUL + newline: no term can span two records (a space in a
    # term matches a newline, not a NUL), and the newline is a boundary for the next one.
    corpus = "\n" + "\x00\n".join(folded)
    ends = (np.cumsum([len(t) + 2 for t in folded]) - 1).tolist()
    out = []
    r, offset, end_of_record = 0, 1, ends[0]
    match = regex.search(corpus)
    while match is not None:
        start, end = match.span(1)
        if start > end_of_record:
            r = bisect.bisect_left(ends, start, lo=r)
            offset, end_of_record = (ends[r - 1] + 2 if r else 1), ends[r]
        if start < end <= end_of_record:
            out.append((r, start - offset, end - offset, match.group(1)))
        match = regex.search(corpus, max(start, match.start() + 1))
    return out


def _search_each(regex: re.Pattern[str], folded: list[str],
                 rows: Iterable[int]) -> list[tuple[int, int, int]]:
    """Matches of a regex rule as (record index, start, end), each record searched alone.

    Group 1 is the span when the pattern has one and it takes part in the match.
    """
    group = 1 if regex.groups else 0
    out = []
    for r in rows:
        for match in regex.finditer(folded[r]):
            start, end = match.span(group if match.start(group) >= 0 else 0)
            if end > start:
                out.append((r, start, end))
    return out


def _word_index(text: str, start: int, end: int) -> tuple[int, int]:
    first = len(_WORD.findall(text, 0, start))
    return first, first + max(len(_WORD.findall(text, start, end)), 1) - 1


def apply_rules(
    records: pd.DataFrame,
    rules: RuleSet,
    *,
    criteria: Criteria | None = None,
    stage: str = "title_abstract",
) -> RuleHits:
    """Apply rules to records: tags, highlight spans and allowed auto-exclusions.

    Parameters
    ----------
    records : pandas.DataFrame
        Records contract (at least ``record_id`` and the fields the rules search).
    rules : RuleSet
    criteria : Criteria, optional
        When given, the ``auto_exclude`` entries of ``stage`` are applied: a record is
        auto-excluded only by a year cut-off or a rule that the criteria name.
    stage : str, default "title_abstract"

    Returns
    -------
    RuleHits
    """
    n = len(records)
    compiled = rules._compiled
    ids = [str(v) for v in records[C.RECORD_ID]] if C.RECORD_ID in records else list(
        map(str, range(n)))
    used = set(compiled.scan_fields) | {f for r in rules.rules if r.type == "regex"
                                        for f in r.fields}
    texts = {name: _field_texts(records, name) for name in FIELDS if name in used}
    folded = {name: [fold_text(t) for t in values] for name, values in texts.items()}

    fired: list[set[str]] = [set() for _ in range(n)]
    spans: list[list[tuple[str, int, int, str]]] = [[] for _ in range(n)]
    context: list[set[str]] = [set() for _ in range(n)]
    term_hits: list[tuple[int, str, int, int, str]] = []
    near: dict[tuple[int, str, str], list[list[tuple[int, int]]]] = {}
    avoid: dict[tuple[int, str, str], list[tuple[int, int]]] = defaultdict(list)

    for name in compiled.scan_fields:
        for r, start, end, text in _scan(compiled.lexicon.regex, folded[name]):
            for label in compiled.lexicon.labels(text):
                kind = label[0]
                if kind == "c":
                    if name in _CONTEXT_FIELDS:
                        context[r].add(label[1])
                elif kind == "x":
                    avoid[(r, name, label[1])].append((start, end))
                elif name in compiled.by_id[label[1]].fields:
                    if kind == "t":
                        term_hits.append((r, name, start, end, label[1]))
                    else:
                        near.setdefault((r, name, label[1]), [[], []])[label[2]].append(
                            (start, end))

    def allowed(rule: Rule, r: int) -> bool:
        return ((rule.requires is None or compiled.context_key(rule, "requires") in context[r])
                and (rule.unless is None
                     or compiled.context_key(rule, "unless") not in context[r]))

    def avoided(rule: Rule, r: int, name: str, start: int, end: int) -> bool:
        spans = avoid.get((r, name, rule.id))
        if not spans:
            return False
        text = folded[name][r]
        a0, a1 = _word_index(text, start, end)
        for span in spans:
            if span[0] < end and start < span[1]:
                return True  # the context term overlaps the match itself
            b0, b1 = _word_index(text, *span)
            if max(b0 - a1, a0 - b1) - 1 <= rule.not_within:
                return True
        return False

    def hit(rule: Rule, r: int, name: str, start: int, end: int) -> None:
        fired[r].add(rule.id)
        if rule.highlight:
            spans[r].append((name, start, end, rule.id))

    for r, name, start, end, rule_id in term_hits:
        rule = compiled.by_id[rule_id]
        if allowed(rule, r) and not avoided(rule, r, name, start, end):
            hit(rule, r, name, start, end)

    for (r, name, rule_id), (left, right) in near.items():
        rule = compiled.by_id[rule_id]
        if not left or not right or not allowed(rule, r):
            continue
        text = folded[name][r]
        words = {s: _word_index(text, *s) for s in left + right}
        for a in left:
            for b in right:
                (a0, a1), (b0, b1) = words[a], words[b]
                if a != b and max(b0 - a1, a0 - b1) - 1 <= (rule.within or 0) and not (
                        avoided(rule, r, name, *a) or avoided(rule, r, name, *b)):
                    hit(rule, r, name, *a)
                    hit(rule, r, name, *b)

    literal_rows: dict[str, dict] = defaultdict(dict)
    for rule_id, pattern in compiled.patterns.items():
        rule = compiled.by_id[rule_id]
        for name in rule.fields:
            rows = (range(n) if pattern.literals is None
                    else rows_holding(folded[name], pattern.literals, literal_rows[name]))
            for r, start, end in _search_each(pattern.regex, folded[name], rows):
                if allowed(rule, r) and not avoided(rule, r, name, start, end):
                    hit(rule, r, name, start, end)

    auto = _auto_exclusions(records, fired, criteria, stage, rules)
    order = {r.id: i for i, r in enumerate(rules.rules)}
    tags_of = {r.id: r.tags for r in rules.rules}
    weight_of = {r.id: r.weight for r in rules.rules}
    rule_lists = [tuple(sorted(f, key=order.__getitem__)) if f else () for f in fired]
    return RuleHits(
        ids,
        rules=rules,
        fired=rule_lists,
        tags=[tuple(sorted({t for rid in f for t in tags_of[rid]})) if f else ()
              for f in rule_lists],
        scores=[float(sum(weight_of[rid] for rid in f)) for f in rule_lists],
        spans=spans,
        auto=auto,
        texts=texts,
    )


def _auto_exclusions(
    records: pd.DataFrame, fired: list[set[str]], criteria: Criteria | None, stage: str,
    rules: RuleSet,
) -> list[tuple[str | None, str | None]]:
    out: list[tuple[str | None, str | None]] = [(None, None)] * len(fired)
    if criteria is None or stage not in criteria.stages:
        return out
    known = {r.id for r in rules.rules}
    unknown = [a.rule for a in criteria.stages[stage].auto_exclude
               if a.rule is not None and a.rule not in known]
    if unknown:
        raise ProtocolError(
            f"{criteria.path or 'criteria'}: stages.{stage}.auto_exclude names rule(s) "
            f"{unknown} that are not in {rules.path or 'the rules'}"
        )
    years = (pd.to_numeric(records[C.YEAR], errors="coerce") if C.YEAR in records
             else pd.Series([np.nan] * len(fired)))
    for auto in criteria.stages[stage].auto_exclude:
        for r in range(len(fired)):
            if out[r][0] is not None:
                continue
            if auto.year_before is not None:
                year = years.iloc[r]
                if not pd.isna(year) and year < auto.year_before:
                    out[r] = (auto.reason, f"year_before:{auto.year_before}")
            elif auto.rule in fired[r]:
                out[r] = (auto.reason, f"rule:{auto.rule}")
    return out


class RuleHits:
    """Rule hits of a set of records (returned by :func:`apply_rules`).

    Index it with a record id to get that record's :class:`RecordHits`.

    Attributes
    ----------
    rules : RuleSet
        The rules applied.
    """

    def __init__(
        self,
        record_ids: Sequence[str],
        *,
        rules: RuleSet,
        fired: Sequence[tuple[str, ...]],
        tags: Sequence[tuple[str, ...]],
        scores: Sequence[float],
        spans: Sequence[Sequence[tuple[str, int, int, str]]],
        auto: Sequence[tuple[str | None, str | None]],
        texts: Mapping[str, Sequence[str]],
    ) -> None:
        self.rules = rules
        self._ids = list(record_ids)
        self._index = {rid: i for i, rid in enumerate(self._ids)}
        self._fired, self._tags, self._scores = fired, tags, scores
        self._spans, self._auto, self._texts = spans, auto, texts

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[RecordHits]:
        return (self._record(i) for i in range(len(self._ids)))

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._index

    def __getitem__(self, record_id: str) -> RecordHits:
        """The hits of one record."""
        return self._record(self._index[record_id])

    def _record(self, i: int) -> RecordHits:
        tags_of = {r.id: r.tags for r in self.rules.rules}
        spans = sorted(
            {Span(f, a, b, rid, self._texts[f][i][a:b], tags_of[rid])
             for f, a, b, rid in self._spans[i]},
            key=lambda s: (FIELDS.index(s.field), s.start, s.rule_id),
        )
        return RecordHits(
            record_id=self._ids[i], rules=self._fired[i], tags=self._tags[i],
            spans=tuple(spans), score=self._scores[i],
            auto_exclude=self._auto[i][0], auto_exclude_by=self._auto[i][1],
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per record.

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id`` (string), ``rules``, ``tags`` (lists of str), ``n_spans``,
            ``score`` (float: sum of the fired rules' weights), ``auto_exclude`` (reason
            code or ``<NA>``), ``auto_exclude_by`` (``rule:<id>`` or
            ``year_before:<year>``, or ``<NA>``).
        """
        return pd.DataFrame({
            "record_id": pd.array(self._ids, dtype="string"),
            "rules": [list(f) for f in self._fired],
            "tags": [list(t) for t in self._tags],
            "n_spans": [len(set(s)) for s in self._spans],
            "score": list(self._scores),
            "auto_exclude": pd.array([a[0] for a in self._auto], dtype="string"),
            "auto_exclude_by": pd.array([a[1] for a in self._auto], dtype="string"),
        })

    def spans(self) -> pd.DataFrame:
        """Every highlight span.

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, field, start, end, rule_id, text``.
        """
        rows = [(h.record_id, s.field, s.start, s.end, s.rule_id, s.text)
                for h in self for s in h.spans]
        return pd.DataFrame(rows, columns=["record_id", "field", "start", "end", "rule_id",
                                           "text"])

    def tag_matrix(self) -> pd.DataFrame:
        """Records x tags, ``True`` where a record carries a tag (index ``record_id``)."""
        tags = self.rules.tags
        data = np.zeros((len(self._ids), len(tags)), dtype=bool)
        where = {t: j for j, t in enumerate(tags)}
        for i, record_tags in enumerate(self._tags):
            for t in record_tags:
                data[i, where[t]] = True
        return pd.DataFrame(data, columns=list(tags),
                            index=pd.Index(self._ids, name="record_id"))

    def auto_excluded(self) -> pd.DataFrame:
        """Records the criteria allow a tool to exclude.

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, reason, by``.
        """
        rows = [(rid, a[0], a[1]) for rid, a in zip(self._ids, self._auto, strict=True)
                if a[0] is not None]
        return pd.DataFrame(rows, columns=["record_id", "reason", "by"])

    def summary(self) -> str:
        """Records tagged per framework node and auto-excluded per reason."""
        frame = self.to_frame()
        lines = [f"{len(frame)} records, {int((frame['n_spans'] > 0).sum())} with rule hits"]
        tags = self.tag_matrix().sum()
        lines += [f"  {tag}: {int(n)}" for tag, n in tags.items() if n]
        auto = frame["auto_exclude"].value_counts()
        lines += [f"  auto-exclude {code}: {int(n)}" for code, n in auto.items()]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.summary())}</pre>"


# -- highlighting ---------------------------------------------------------------------------

_EXT_COLOURS = {
    "ext:border_management": "#ffd8a8",
    "ext:partnership_diplomacy": "#b5d8ff",
}
_DEFAULT_COLOUR = "#fff3a3"
_UNTAGGED_COLOUR = "#e6e6e6"


def highlight_html(
    text: str | None,
    hits: RecordHits | Iterable[Span] | RuleSet,
    *,
    field: str | None = None,
) -> str:
    """Return ``text`` as escaped HTML with rule matches wrapped in ``<mark>``.

    Parameters
    ----------
    text : str or None
    hits : RecordHits, iterable of Span, or RuleSet
        The spans to mark; a :class:`RuleSet` is applied to ``text`` first.
    field : str, optional
        Only spans of this field (default: all spans given, or ``"title"`` for a RuleSet).

    Returns
    -------
    str
        HTML; each ``<mark>`` has ``title`` = the rule ids and a colour per strategy
        (orange: border management, blue: partnership/diplomacy).
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    if isinstance(hits, RuleSet):
        field = field or "title"
        frame = pd.DataFrame({C.RECORD_ID: ["_"], field: [text]})
        hits = apply_rules(frame, hits)["_"]
    span_list = list(hits.spans if isinstance(hits, RecordHits) else hits)
    if field is not None:
        span_list = [s for s in span_list if s.field == field]
    return _mark(text, [s for s in span_list if s.end <= len(text)])


def _mark(text: str, spans: list[Span]) -> str:
    merged: list[list[Any]] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span.end)
            merged[-1][2].append(span)
        else:
            merged.append([span.start, span.end, [span]])
    out, pos = [], 0
    for start, end, group in merged:
        out.append(html.escape(text[pos:start]))
        tags = [t for s in group for t in s.tags]
        colour = next((_EXT_COLOURS[t] for t in tags if t in _EXT_COLOURS),
                      _DEFAULT_COLOUR if tags else _UNTAGGED_COLOUR)
        title = html.escape(", ".join(dict.fromkeys(s.rule_id for s in group)), quote=True)
        out.append(f'<mark class="es-hit" title="{title}" style="background:{colour}">'
                   f"{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)

