"""Input checking shared by :func:`escalc` and the conversion functions.

Every check collects its problems (row, argument, value, what was expected) before
anything is raised, so one :class:`~evidence_synth.errors.EffectSizeError` lists them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EffectSizeError

PROBLEM_COLUMNS = ["row", "argument", "value", "expected"]


class Problems:
    """Collector of invalid inputs; raise them together with :meth:`raise_if_any`."""

    def __init__(self, context: str) -> None:
        self.context = context
        self.rows: list[dict[str, Any]] = []

    def add(self, row: int | None, argument: str, value: Any, expected: str) -> None:
        self.rows.append({"row": row, "argument": argument, "value": value, "expected": expected})

    def check(self, name: str, values: np.ndarray, bad: np.ndarray, expected: str) -> None:
        """Record every row where ``bad`` is True (NaN values are never bad)."""
        bad = np.asarray(bad, dtype=bool) & ~np.isnan(values)
        for row in np.flatnonzero(bad):
            self.add(int(row), name, float(values[row]), expected)

    def raise_if_any(self) -> None:
        if not self.rows:
            return
        problems = pd.DataFrame(self.rows, columns=PROBLEM_COLUMNS)
        parts = []
        for rec in self.rows[:10]:
            where = "" if rec["row"] is None else f"row {rec['row']}, "
            found = "" if rec["value"] is None else f", found {rec['value']!r}"
            parts.append(f"{where}argument '{rec['argument']}': expected {rec['expected']}{found}")
        more = f"; ... and {len(self.rows) - 10} more" if len(self.rows) > 10 else ""
        noun = "problem" if len(self.rows) == 1 else "problems"
        message = f"{self.context}: {len(self.rows)} invalid input {noun}: " + "; ".join(parts)
        raise EffectSizeError(message + more, problems=problems)


def as_arrays(problems: Problems, **values: Any) -> tuple[dict[str, np.ndarray], int]:
    """Turn scalars/sequences into equal-length float arrays (length-1 inputs broadcast).

    Arguments given as ``None`` are left out. Non-numeric values and lengths that
    disagree are recorded as problems (and the caller should raise before computing).
    """
    arrays: dict[str, np.ndarray] = {}
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, pd.Series | pd.Index):
            value = value.to_numpy(dtype=float, na_value=np.nan)
        try:
            arr = np.atleast_1d(np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            problems.add(None, name, None, "numbers (scalar or 1-D array)")
            continue
        if arr.ndim != 1:
            problems.add(None, name, None, f"a scalar or 1-D array, found shape {arr.shape}")
            continue
        arrays[name] = arr
    lengths = {name: len(arr) for name, arr in arrays.items()}
    k = max(lengths.values(), default=1)
    long = {n: size for n, size in lengths.items() if size != 1}
    if len(set(long.values())) > 1:
        sizes = list(long.values())
        common = max(set(sizes), key=sizes.count)
        desc = ", ".join(f"{n}={size}" for n, size in lengths.items())
        for name, size in long.items():
            if size != common:
                problems.add(
                    None, name, size, f"length {common} like the other arrays (lengths: {desc})"
                )
        return arrays, k
    return {n: np.broadcast_to(a, (k,)).astype(float) for n, a in arrays.items()}, k


def require(problems: Problems, arrays: dict[str, np.ndarray], *names: str) -> None:
    """Record a problem for every required argument that was not given."""
    for name in names:
        if name not in arrays:
            problems.add(None, name, None, "a value (argument is required for this measure)")


def check_rows(
    problems: Problems,
    arrays: dict[str, np.ndarray],
    rules: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]],
) -> None:
    """Apply per-row rules ``{argument: (is_bad(values), expected)}`` to given arguments."""
    for name, (is_bad, expected) in rules.items():
        if name in arrays:
            values = arrays[name]
            with np.errstate(invalid="ignore"):
                problems.check(name, values, is_bad(values), expected)


def add_to_rows(
    cells: tuple[np.ndarray, ...], add: float, to: str, zero: np.ndarray
) -> tuple[np.ndarray, ...]:
    """metafor's continuity correction of count data: add ``add`` to every cell of the rows
    ``to`` chooses: ``"all"`` rows, ``"only0"`` rows where ``zero`` is True, ``"if0all"``
    all rows when any row has a zero, ``"none"``. Returns new float arrays."""
    if to == "all":
        rows = np.ones(zero.shape, dtype=bool)
    elif to in ("only0", "if0all"):
        rows = np.asarray(zero, dtype=bool)
        if to == "if0all":
            rows = np.full(zero.shape, bool(rows.any()))
    else:
        rows = np.zeros(zero.shape, dtype=bool)
    return tuple(np.where(rows, np.asarray(c, dtype=float) + add, c) for c in cells)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Mean of ``values`` weighted by ``weights`` over the rows where both are known
    (metafor's ``.wmean(..., na.rm=TRUE)``), used by the ``AV`` variance types."""
    ok = ~(np.isnan(values) | np.isnan(weights))
    return float(np.sum(weights[ok] * values[ok]) / np.sum(weights[ok])) if ok.any() else np.nan


def negative(x: np.ndarray) -> np.ndarray:
    return x < 0


def not_positive(x: np.ndarray) -> np.ndarray:
    return x <= 0


def below(limit: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda x: x < limit


def not_correlation(x: np.ndarray) -> np.ndarray:
    return np.abs(x) > 1


def not_p(x: np.ndarray) -> np.ndarray:
    """Not a signed two-sided p-value (0 < |p| <= 1)."""
    return (x == 0) | (np.abs(x) > 1)


def scalar_or_array(values: np.ndarray, scalar: bool) -> float | np.ndarray:
    """Return a float when every input was a scalar, else the array."""
    return float(values[0]) if scalar and values.shape == (1,) else values


def all_scalar(*values: Any) -> bool:
    return all(v is None or np.ndim(v) == 0 for v in values)
