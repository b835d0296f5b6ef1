"""What an effect-size measure is: a :class:`Family` of arguments and checks, and a
:class:`Measure` (metafor code, formula, variance types) belonging to one.

A family is a group of measures that take the same arguments (a 2x2 table, two groups'
means, a correlation, ...): it checks what the caller gave and hands its formulas clean
arrays. Each family module (``tables``, ``means``, ``correlations``) defines its families,
their formulas and a ``MEASURES`` tuple with one :class:`Measure` per metafor code;
:mod:`~evidence_synth.effects.registry` collects them.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import EffectSizeError
from .inputs import Problems

__all__ = ["Arrays", "Family", "Measure", "Options", "Result"]

Arrays = dict[str, np.ndarray]
#: What a formula returns: ``(yi, vi)``, one value per row.
Result = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Options:
    """The ``escalc`` options that are not data: passed to every family's ``prepare``."""

    add: float | None = None
    to: str = "only0"
    drop00: bool = False
    correct: bool = True


@dataclass(frozen=True)
class Family:
    """Measures sharing their arguments and input checks.

    Attributes
    ----------
    name : str
        Short name (``"table"``, ``"two_group"``, ...).
    arguments : str
        The arguments its measures take, for people (error messages, :func:`measures`).
    provides : tuple of str
        Names of the arrays ``prepare`` returns; a formula of the family may take any of
        them, plus ``vtype`` (array of variance types, one per row) and ``correct``.
    prepare : callable
        ``prepare(problems, measure, arrays, k, options) -> arrays``: record every invalid
        or missing argument on ``problems`` and call ``problems.raise_if_any()``, then
        return the arrays the formulas take (for example a 2x2 table after the continuity
        correction). ``arrays`` holds the numeric arguments given, each of length ``k``.
    requires : tuple of str
        Arguments every measure of the family needs (reported as missing otherwise).
    alternative : tuple of str
        The arguments that ``di``/``ti``/``pi`` replace for the family's
        ``from_statistics`` measures (e.g. the means and SDs of two groups).
    """

    name: str
    arguments: str
    provides: tuple[str, ...]
    prepare: Callable[[Problems, Measure, Arrays, int, Options], Arrays]
    requires: tuple[str, ...] = ()
    alternative: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measure:
    """One metafor measure code.

    Attributes
    ----------
    name : str
        metafor's code (``"RR"``, ``"SMD"``, ...).
    family : Family
        Arguments and checks it shares with others.
    formula : callable
        ``formula(**arrays) -> (yi, vi)`` taking some of ``family.provides``, ``vtype``
        and ``correct`` by name; called with numpy warnings about division and invalid
        values silenced (undefined rows become NaN).
    text : str
        What it is, in a few words.
    vtypes : tuple of str
        Sampling-variance types accepted (``"LS"`` first, the default).
    requires : tuple of str
        Arguments needed beyond ``family.requires``.
    add : float
        Default ``add`` of the continuity correction (2x2-table measures).
    from_statistics : bool
        Also computable from ``di``, ``ti`` or a signed ``pi`` (two-group measures).
    keeps_yi : bool
        A NaN variance leaves ``yi`` in place (metafor sets the variance of COR, UCOR and
        ZCOR to NA for ni <= 3 and keeps yi); for other measures an undefined variance
        makes ``yi`` missing too, as metafor's NaN check does.
    """

    name: str
    family: Family
    formula: Callable[..., Result]
    text: str
    vtypes: tuple[str, ...] = ("LS",)
    requires: tuple[str, ...] = ()
    add: float = 0.5
    from_statistics: bool = False
    keeps_yi: bool = False
    parameters: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        params = tuple(inspect.signature(self.formula).parameters)
        unknown = set(params) - {*self.family.provides, "vtype", "correct"}
        if unknown:
            raise EffectSizeError(
                f"measure {self.name!r}: formula {self.formula.__name__} takes "
                f"{', '.join(sorted(unknown))}, which family {self.family.name!r} does not "
                f"provide (it provides {', '.join(self.family.provides)}, vtype, correct)"
            )
        object.__setattr__(self, "parameters", params)

    @property
    def arguments(self) -> str:
        """The arguments it takes, for people."""
        own = self.family.alternative if self.from_statistics else self.requires
        text = ", ".join([*own, self.family.arguments]) if own else self.family.arguments
        if self.from_statistics:
            text += f"; or di, ti or a signed pi with {self.family.arguments}"
        return text

    def compute(self, arrays: Mapping[str, Any]) -> Result:
        """Call the formula with the arrays it takes."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.formula(**{name: arrays[name] for name in self.parameters})
