"""Dual review: adjudication of conflicts, the conflicts themselves, agreement statistics."""

from __future__ import annotations

import pandas as pd

from .. import columns as C  # noqa: N812
from .agreement import screening_agreement
from .policy import conflicting, human_screening, latest_decisions


class DualReviewMixin:
    """:meth:`adjudicate`, :meth:`conflicts` and :meth:`agreement` of :class:`.Screening`."""

    def adjudicate(
        self,
        record_id: str,
        decision: str,
        *,
        reviewer: str,
        reason: str | None = None,
        note: str | None = None,
    ) -> int:
        """Write the decision that resolves a conflict (``kind="adjudication"``).

        Refused (``StoreError`` naming the record) for a record no reviewer has screened
        at this stage, outside the stage's pool, or with a decision or reason the stage
        does not allow.

        Returns
        -------
        int
            The event id.
        """
        self._check_decision(record_id, decision, reason, reviewer, kind="adjudication")
        return self.review.add_decision(record_id, self.stage, decision, reviewer=reviewer,
                                        reason=reason, note=note, kind="adjudication")

    def conflicts(self) -> pd.DataFrame:
        """Records on which reviewers' latest decisions disagree.

        At title/abstract, include and maybe do not disagree (both pass; see
        :mod:`~evidence_synth.screen.policy`).

        Returns
        -------
        pandas.DataFrame
            Columns ``record_id, title``, one column per reviewer with their latest
            decision, ``reasons`` (reviewer: reason, ...), ``adjudicated`` (bool) and
            ``adjudication`` (the adjudicated decision or ``<NA>``).

        Raises
        ------
        StoreError
            In a blind session (naming the reviewer): conflicts show others' decisions.
        """
        if self.blind:
            self._refuse_blind("conflicts()")
        events = self.events()
        latest = latest_decisions(events)
        latest = latest[latest["record_id"].isin(conflicting(events))]
        reviewers = sorted(latest["reviewer"].unique())
        wide = latest.pivot(index="record_id", columns="reviewer", values="decision")
        wide = wide.reindex(columns=reviewers)
        wide.columns = [str(c) for c in wide.columns]
        reasons = latest.dropna(subset=["reason"]).groupby("record_id").apply(
            lambda g: "; ".join(f"{r}: {x}" for r, x in zip(g["reviewer"], g["reason"],
                                                             strict=True)),
            include_groups=False,
        ) if latest["reason"].notna().any() else pd.Series(dtype=object)
        adj = events[events["kind"] == "adjudication"].drop_duplicates("record_id", keep="last")
        adj = adj.set_index("record_id")["decision"]
        titles = self.records().set_index(C.RECORD_ID)[C.TITLE]
        out = wide.reset_index()
        out.insert(1, "title", out["record_id"].map(titles).astype("string"))
        out["reasons"] = out["record_id"].map(reasons).astype("string")
        out["adjudicated"] = out["record_id"].isin(adj.index)
        out["adjudication"] = out["record_id"].map(adj).astype("string")
        return out.reset_index(drop=True)

    def agreement(self, *, stage: str | None = "this", confidence: float = 0.95
                  ) -> pd.DataFrame:
        """Cohen's kappa, PABAK and Gwet's AC1 (with CIs) per stage and reviewer pair.

        Uses each reviewer's latest human screening decision
        (:func:`~evidence_synth.screen.agreement.screening_agreement`); the categories
        are the decisions observed at the stage (include/exclude, plus maybe when used).

        Parameters
        ----------
        stage : str or None, default "this"
            ``"this"``: this session's stage; ``None``: every stage.
        confidence : float, default 0.95

        Returns
        -------
        pandas.DataFrame
            Columns ``stage, reviewer_a, reviewer_b, n, observed, kappa, kappa_se,
            kappa_low, kappa_high, pabak, pabak_low, pabak_high, ac1, ac1_se, ac1_low,
            ac1_high``.

        Raises
        ------
        StoreError
            In a blind session (naming the reviewer): agreement compares others'
            decisions with this reviewer's.
        """
        if self.blind:
            self._refuse_blind("agreement()")
        stage = self.stage if stage == "this" else stage
        events = human_screening(self._decisions(stage))
        frames = [
            screening_agreement(group, confidence=confidence)
            for _s, group in events.groupby("stage", sort=True)
        ]
        frames = [f for f in frames if len(f)]
        if not frames:
            return screening_agreement(events.head(0), confidence=confidence)
        return pd.concat(frames, ignore_index=True)
