"""Compile the ``pattern`` of a regex rule so that it matches exactly as written, faster.

Two rewrites, both exact (the compiled pattern finds the same matches, in the same order,
with the same spans and groups, on the folded text that rules search), and one filter:

- **Alternations become prefix trees.** ``(?:spain|spanish|sweden)`` is tried one branch
  after another at every position; ``(?:s(?:pa(?:in|nish)|weden))`` rejects a position
  after one character. Python's regex engine takes the first branch that leads to a
  match, so branches are only regrouped where the order cannot matter: branches that
  start with different plain characters cannot both match at one position, and branches
  that start with the same character or the same fixed atom (``\\b``) share it. A branch
  that starts with anything else (a class, a group, a quantified atom) keeps its place.
  Groups that capture are left alone, so group numbers do not move.
- **Case-sensitive matching where case cannot matter.** Rules scan text folded to lower
  case (:func:`~evidence_synth.screen.rules.fold_text`); a pattern written in lower-case
  ASCII then matches the same with and without ``re.IGNORECASE``, and the engine is about
  three times faster without it. Patterns with upper-case letters, non-ASCII characters,
  numeric escapes or back-references keep ``re.IGNORECASE``.
- **Texts that cannot match are not searched.** Every match of
  ``\\b(?:agreement|accord)\\s+with\\s+(?:libya|tunisia)`` holds "agreement" or "accord";
  the literals one of which every match must hold are read off the pattern, and
  :func:`rows_holding` finds the texts that hold one with ``str.find`` over all texts at
  once, far faster than the regex engine steps through them.

A pattern the parser does not follow (conditionals, atomic groups, verbose mode) is
compiled as written.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

import numpy as np

_QUANTIFIER = re.compile(r"(?:[?*+]|\{\d*(?:,\d*)?\})[?+]?")
_GROUP_OPENING = re.compile(r"\((?:\?(?::|=|!|<=|<!|P<\w+>|(?P<flags>[aiLmsux-]+):)|(?!\?))")
_INLINE_ATOM = re.compile(r"\(\?(?:P=\w+\)|#[^)]*\)|(?P<flags>[aiLmsux-]+)\))")
_CASE_FREE_ESCAPES = set("bBwWsSdDAZntrfv")


class _NotFollowedError(Exception):
    """The pattern uses syntax the rewrite does not follow; compile it as written."""


@dataclass
class _Atom:
    text: str
    char: str | None = None  # the one character a plain literal matches
    fixed: bool = False  # matches one way only: no quantifier, no alternation


@dataclass
class _Group:
    opening: str
    branches: list[list[_Atom | _Group]] = field(default_factory=lambda: [[]])
    quantifier: str = ""
    captures: bool = False  # the group or one inside it captures


def _class_end(pattern: str, start: int) -> int:
    i = start + 1
    if pattern.startswith("^", i):
        i += 1
    if pattern.startswith("]", i):
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    if i >= len(pattern):
        raise _NotFollowedError
    return i + 1


def _parse(pattern: str) -> _Group:
    stack = [_Group("")]
    i = 0
    while i < len(pattern):
        char = pattern[i]
        branch = stack[-1].branches[-1]
        if char == "\\":
            text = pattern[i:i + 2]
            plain = len(text) == 2 and text[1].isascii() and not text[1].isalnum()
            branch.append(_Atom(text, text[1] if plain else None, fixed=True))
            i += 2
        elif char == "[":
            end = _class_end(pattern, i)
            branch.append(_Atom(pattern[i:end], fixed=True))
            i = end
        elif char == "(":
            inline = _INLINE_ATOM.match(pattern, i)
            if inline:
                if "x" in (inline.group("flags") or ""):
                    raise _NotFollowedError
                branch.append(_Atom(inline.group()))
                i = inline.end()
                continue
            opening = _GROUP_OPENING.match(pattern, i)
            if opening is None or "x" in (opening.group("flags") or ""):
                raise _NotFollowedError
            stack.append(_Group(opening.group()))
            i = opening.end()
        elif char == ")":
            if len(stack) == 1:
                raise _NotFollowedError
            group = stack.pop()
            group.captures = group.captures or group.opening == "(" or group.opening.startswith(
                "(?P<")
            stack[-1].captures = stack[-1].captures or group.captures
            stack[-1].branches[-1].append(group)
            i += 1
        elif char == "|":
            stack[-1].branches.append([])
            i += 1
        elif char in "?*+{" and (quantifier := _QUANTIFIER.match(pattern, i)):
            if not branch:
                raise _NotFollowedError
            last = branch[-1]
            if isinstance(last, _Group):
                last.quantifier += quantifier.group()
            else:
                branch[-1] = _Atom(last.text + quantifier.group())
            i = quantifier.end()
        else:
            plain = char.isascii() and not char.isupper() and char not in ".^$"
            branch.append(_Atom(char, char if plain else None, fixed=char not in "^$"))
            i += 1
    if len(stack) != 1:
        raise _NotFollowedError
    return stack[0]


def _text(item: _Atom | _Group) -> str:
    return item.text if isinstance(item, _Atom) else _render(item)


def _render(group: _Group) -> str:
    """A group as pattern text, its alternations regrouped where that is exact."""
    branches = [[_Atom(_text(item)) if isinstance(item, _Group) else item for item in branch]
                for branch in group.branches]
    if group.opening in ("", "(?:") and len(branches) > 1 and not group.captures:
        body = "|".join(_regroup(branches))
    else:
        body = "|".join("".join(atom.text for atom in branch) for branch in branches)
    closing = ")" if group.opening else ""
    return group.opening + body + closing + group.quantifier


def _regroup(branches: list[list[_Atom]]) -> list[str]:
    """Ordered branches as fewer branches that match the same way, first match first."""
    out: list[str] = []
    i = 0
    while i < len(branches):
        first = branches[i][0] if branches[i] else None
        j = i + 1
        if first is not None and first.char is not None:
            # a run of branches each starting with a plain character: those starting with
            # different characters exclude each other, so they may be regrouped by it
            while j < len(branches) and branches[j] and branches[j][0].char is not None:
                j += 1
            by_char: dict[str, list[list[_Atom]]] = {}
            for branch in branches[i:j]:
                by_char.setdefault(branch[0].char or "", []).append(branch)
            out.extend(members[0][0].text + _shared_tail(members)
                       for members in by_char.values())
        elif first is not None and first.fixed:
            while (j < len(branches) and branches[j]
                   and branches[j][0].text == first.text and branches[j][0].fixed):
                j += 1
            out.append(first.text + _shared_tail(branches[i:j]))
        else:
            out.append("".join(atom.text for atom in branches[i]))
        i = j
    return out


def _shared_tail(branches: list[list[_Atom]]) -> str:
    tails = _regroup([branch[1:] for branch in branches])
    return tails[0] if len(tails) == 1 else "(?:" + "|".join(tails) + ")"


def _case_free(pattern: str) -> bool:
    """Whether ``pattern`` matches folded text the same with and without IGNORECASE."""
    if not pattern.isascii() or "(?P=" in pattern:
        return False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            escaped = pattern[i + 1:i + 2]
            if escaped.isalnum() and escaped not in _CASE_FREE_ESCAPES:
                return False  # \x41, \u0041, \N{...}, back-references
            i += 2
            continue
        if char.isupper():
            return False
        i += 1
    return True


def _rarest(needs: list[frozenset[str]]) -> frozenset[str] | None:
    # the longest shortest literal is the least likely to be in a text; then fewest literals
    return max(needs, key=lambda need: (min(map(len, need)), -len(need)), default=None)


def _sequence_literals(branch: list[_Atom | _Group]) -> frozenset[str] | None:
    needs: list[frozenset[str]] = []
    run = ""
    for item in [*branch, None]:
        if isinstance(item, _Atom) and item.char is not None:
            run += item.char
            continue
        if run:
            needs.append(frozenset([run]))
            run = ""
        if isinstance(item, _Group) and (need := _group_literals(item)) is not None:
            needs.append(need)
    return _rarest(needs)


def _group_literals(group: _Group) -> frozenset[str] | None:
    optional = group.quantifier[:1] in ("?", "*") or re.match(
        r"\{0*(?:,|\})", group.quantifier) is not None
    plain = group.opening in ("", "(", "(?:") or group.opening.startswith("(?P<")
    if optional or not plain:
        return None  # optional, a look-around or scoped flags
    literals: set[str] = set()
    for branch in group.branches:
        need = _sequence_literals(branch)
        if need is None:
            return None
        literals |= need
    # a text holding "immigra" holds "migra": keep only literals that hold no other one
    return frozenset(a for a in literals if not any(b != a and b in a for b in literals))


def regroup_alternations(pattern: str) -> str:
    """``pattern`` with its alternations written as prefix trees (same matches)."""
    try:
        return _render(_parse(pattern))
    except _NotFollowedError:
        return pattern


@dataclass(frozen=True)
class RulePattern:
    """A regex rule's pattern compiled for folded text, and what every match holds.

    ``literals``: one of them is in the text of every match (``None`` when not known),
    so texts holding none of them need not be searched.
    """

    regex: re.Pattern[str]
    literals: frozenset[str] | None


def compile_rule_pattern(pattern: str) -> RulePattern:
    """Compile a regex rule's pattern for searching folded text (multi-line mode)."""
    flags = re.MULTILINE if _case_free(pattern) else re.MULTILINE | re.IGNORECASE
    try:
        tree = _parse(pattern)
    except _NotFollowedError:
        return RulePattern(re.compile(pattern, flags), None)
    try:
        regex = re.compile(_render(tree), flags)
    except re.error:  # not expected: regrouping keeps every branch's width and groups
        regex = re.compile(pattern, flags)
    return RulePattern(regex, _group_literals(tree))


def rows_holding(texts: list[str], literals: frozenset[str], cache: dict) -> list[int]:
    """Indexes of the texts that hold one of ``literals``, in order.

    ``cache`` (one per list of texts) keeps the joined texts and each set's rows.
    """
    if literals in cache:
        return cache[literals]
    if None not in cache:
        starts = np.cumsum([0] + [len(t) + 1 for t in texts]).tolist()
        cache[None] = ("\x00".join(texts), starts)
    corpus, starts = cache[None]
    rows: set[int] = set()
    for literal in literals:
        at = corpus.find(literal)
        while at >= 0:
            row = bisect.bisect_right(starts, at) - 1
            rows.add(row)
            at = corpus.find(literal, starts[row + 1])  # on from the next text
    cache[literals] = sorted(rows)
    return cache[literals]
