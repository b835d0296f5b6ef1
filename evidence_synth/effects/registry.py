"""The measures :func:`~evidence_synth.effects.escalc` computes, in one ordered catalogue.

Each family module lists its measures in a ``MEASURES`` tuple of
:class:`~evidence_synth.effects.measure.Measure`; this module joins them in the order of
:data:`_FAMILY_MODULES`. That order is the order of :data:`MEASURES` and of the measure
lists in ``evidence-row.schema.json`` (``tests/test_effect_sizes.py`` keeps them equal).
"""

from __future__ import annotations

import pandas as pd

from ..errors import EffectSizeError
from . import change, correlations, means, pairs, proportions, rates, single, tables
from .measure import Measure

__all__ = ["MEASURES", "get", "measures", "names"]

_FAMILY_MODULES = (tables, pairs, rates, means, correlations, proportions, single, change)


def _catalogue() -> dict[str, Measure]:
    out: dict[str, Measure] = {}
    for module in _FAMILY_MODULES:
        for entry in module.MEASURES:
            if entry.name in out:
                raise EffectSizeError(f"measure {entry.name!r} is registered twice")
            if not entry.vtypes or entry.vtypes[0] != "LS":
                raise EffectSizeError(f"measure {entry.name!r}: vtypes must start with 'LS'")
            out[entry.name] = entry
    return out


_REGISTRY = _catalogue()

#: metafor measure codes ``escalc`` computes, in catalogue order.
MEASURES: tuple[str, ...] = tuple(_REGISTRY)


def get(name: str) -> Measure | None:
    """The measure with metafor code ``name`` (upper case), or None."""
    return _REGISTRY.get(name)


def names(family: str | None = None) -> tuple[str, ...]:
    """Measure codes in catalogue order, optionally only those of one family."""
    return tuple(n for n, m in _REGISTRY.items() if family is None or m.family.name == family)


def measures() -> pd.DataFrame:
    """The measures ``escalc`` computes.

    Returns
    -------
    pandas.DataFrame
        One row per measure, in the order of :data:`MEASURES`: ``measure, family, text,
        arguments, vtypes`` (variance types joined with ", ").
    """
    rows = [
        {
            "measure": m.name,
            "family": m.family.name,
            "text": m.text,
            "arguments": m.arguments,
            "vtypes": ", ".join(m.vtypes),
        }
        for m in _REGISTRY.values()
    ]
    return pd.DataFrame(rows, columns=["measure", "family", "text", "arguments", "vtypes"])
