"""The result object of :func:`find_duplicates`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass
class DedupResult:
    """Duplicate groups, scored pairs and the review queue of one deduplication run.

    Attributes
    ----------
    groups : pandas.DataFrame
        One row per input record, in input order: ``record_id``, ``group_id``,
        ``is_primary`` (the record kept as the group's representative), ``study_id``
        (groups linked as reports of one study share it), ``group_size``.
    pairs : pandas.DataFrame
        One row per compared pair: ``record_id_1``, ``record_id_2``, the comparison
        features, ``score`` (calibrated probability of being duplicates), ``decision``
        (``match``, ``distinct`` or ``review``), ``reason``, ``rules`` (no-merge rules the
        pair breaks), ``same_study``, ``manual`` (decision taken from ``manual_decisions``)
        and ``same_group`` (whether the final grouping put the two records together).
    params : dict
        Options the run used.
    """

    groups: pd.DataFrame
    pairs: pd.DataFrame
    params: dict[str, Any] = field(default_factory=dict)

    def review_queue(self) -> pd.DataFrame:
        """Pairs a person should decide, most informative first.

        Returns
        -------
        pandas.DataFrame
            Rows of :attr:`pairs` with ``decision == "review"`` not yet decided manually,
            ordered by closeness of ``score`` to 0.5 (pairs where a high score conflicts
            with a no-merge rule count as 0.5), then by record ids.
        """
        queue = self.pairs[(self.pairs["decision"] == "review") & ~self.pairs["manual"]].copy()
        uncertainty = (queue["score"] - 0.5).abs()
        uncertainty[queue["rules"] != ""] = 0.0
        queue["_u"] = uncertainty
        queue = queue.sort_values(["_u", "record_id_1", "record_id_2"], kind="mergesort")
        return queue.drop(columns="_u").reset_index(drop=True)

    def counts(self) -> pd.DataFrame:
        """Counts of the run as a one-column table (``value``) indexed by measure.

        Returns
        -------
        pandas.DataFrame
            Column ``value`` (int64); index ``records, groups, duplicate groups, records
            removed if merged, studies, pairs compared, pairs match, pairs distinct, pairs
            to review, manual decisions applied``.
        """
        g = self.groups
        sizes = g.groupby("group_id").size()
        decisions = self.pairs["decision"].value_counts()
        values = {
            "records": len(g),
            "groups": len(sizes),
            "duplicate groups": int((sizes > 1).sum()),
            "records removed if merged": int(len(g) - len(sizes)),
            "studies": int(g["study_id"].nunique()),
            "pairs compared": len(self.pairs),
            "pairs match": int(decisions.get("match", 0)),
            "pairs distinct": int(decisions.get("distinct", 0)),
            "pairs to review": len(self.review_queue()),
            "manual decisions applied": int(self.pairs["manual"].sum()),
        }
        return pd.DataFrame({"value": pd.Series(values, dtype="int64")})

    def summary(self) -> str:
        """The :meth:`counts`, one ``name: value`` line each."""
        return "\n".join(f"{name}: {value}" for name, value in self.counts()["value"].items())

    def to_frame(self) -> pd.DataFrame:
        """The :attr:`groups` table (one row per input record)."""
        return self.groups.copy()

    def _repr_html_(self) -> str:
        counts = self.counts()["value"]
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                       f"<td>{v:,}</td></tr>" for k, v in counts.items())
        queue = self.review_queue().head(5)
        cols = ["record_id_1", "record_id_2", "score", "reason"]
        head = queue[cols].to_html(index=False, float_format=lambda x: f"{x:.3f}") \
            if len(queue) else "<p>No pairs to review.</p>"
        return (f"<div><strong>DedupResult</strong><table>{rows}</table>"
                f"<p>First pairs to review:</p>{head}</div>")

    def __repr__(self) -> str:
        s = self.counts()["value"]
        return (f"DedupResult({s['records']} records, {s['duplicate groups']} duplicate groups, "
                f"{s['records removed if merged']} removable, {s['pairs to review']} to review)")


def completeness(records: pd.DataFrame) -> np.ndarray:
    """Score used to pick the primary record: fields present, DOI, abstract length."""
    score = np.zeros(len(records))
    for col in ("title", "journal", "year", "volume", "issue", "pages", "doi", "abstract"):
        if col in records.columns:
            score += records[col].notna().to_numpy()
    if "authors" in records.columns:
        score += np.array([bool(a) if isinstance(a, list) else False for a in records["authors"]])
    if "doi" in records.columns:
        score += 2 * records["doi"].notna().to_numpy()
    if "abstract" in records.columns:
        score += records["abstract"].fillna("").str.len().clip(upper=5000).to_numpy() / 5000
    return score
