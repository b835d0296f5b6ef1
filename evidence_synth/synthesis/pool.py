"""Pooling an evidence table: one random-effects model per group and measure."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import pandas as pd

from ..errors import ContractError, DataQualityWarning
from .rma import rma

__all__ = ["pool"]

_NEEDED = ("study_id", "measure", "yi", "vi")


def pool(
    data: Any,
    *,
    by: str | Sequence[str] = "outcome",
    method: str = "REML",
    test: str = "z",
    min_k: int = 2,
    **filters: Any,
) -> pd.DataFrame:
    """Random-effects meta-analysis per group and measure.

    Rows on different scales (measures) are never pooled together.

    Parameters
    ----------
    data : EvidenceTable or pandas.DataFrame
        Effect sizes, one row each, with columns ``study_id, measure, yi, vi`` (optional
        ``slab``, the study label) and the ``by`` and filter columns. An object with an
        ``rma_input`` method (an :class:`~evidence_synth.extract.EvidenceTable`) is read
        with ``data.rma_input(columns=...)``, which adds the columns ``by`` and the filters
        name.
    by : str or sequence of str, default "outcome"
        Columns to group by.
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

    Raises
    ------
    ContractError
        When ``data`` lacks a column it needs.

    Warns
    -----
    DataQualityWarning
        When a study contributes several effect sizes to one pooled group (they are
        not independent; pick one per study or model the dependence).
    """
    keys = [by] if isinstance(by, str) else list(by)
    wanted = [*keys, *filters]
    if hasattr(data, "rma_input"):
        frame = data.rma_input(columns=wanted)
    else:
        frame = pd.DataFrame(data)
    missing = [c for c in (*_NEEDED, *wanted) if c not in frame.columns]
    if missing:
        raise ContractError(
            f"pool: the data have no column {', '.join(map(repr, missing))}; found "
            f"{', '.join(map(str, frame.columns))}"
        )
    frame = frame[frame["yi"].notna()]
    for col, value in filters.items():
        allowed = value if isinstance(value, list | tuple | set) else [value]
        frame = frame[frame[col].isin(allowed)]
    labels = frame["slab"] if "slab" in frame.columns else frame["study_id"]
    frame = frame.assign(_slab=labels.astype(str))
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
