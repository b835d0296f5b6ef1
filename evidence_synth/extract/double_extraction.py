"""Double extraction: where two extractors' evidence tables disagree."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from .table_rows import _flatten

if TYPE_CHECKING:
    from .table import EvidenceTable


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
