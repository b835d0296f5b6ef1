"""The queue: which records a reviewer still has to screen, best first, or a random sample."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import columns as C  # noqa: N812
from ._cards import Cards
from .policy import AUTOMATION, RELEVANT, auto_excluded, latest_decisions, reason_order
from .policy import resolved as resolved_decisions


class QueueMixin:
    """The ranked queue of :class:`.Screening` (:meth:`queue`, :meth:`next`)."""

    def _eligible(self) -> pd.DataFrame:
        """The records this reviewer is to screen: the pool less automatic exclusions."""
        records = self.records()
        self._all_events()  # brings the event count used in the key up to date
        key = (id(records), self._events[0] if self._events else None)
        if self._eligible_memo is None or self._eligible_memo[0] != key:
            excluded = auto_excluded(self._decisions(self.stage))
            self._eligible_memo = (key, records[~records[C.RECORD_ID].isin(excluded)])
        return self._eligible_memo[1]

    def _labels(self) -> dict[str, int]:
        if self.blind:
            mine = self.my_decisions()
            return {r: RELEVANT[d] for r, d in zip(mine["record_id"], mine["decision"],
                                                    strict=True)}
        resolved = resolved_decisions(self._decisions(self.stage),
                                      reason_order=reason_order(self._protocol))
        resolved = resolved[~resolved["by"].isin(AUTOMATION)]  # read by nobody
        return {r: RELEVANT[d] for r, d in zip(resolved["record_id"], resolved["decision"],
                                                strict=True)}

    def _rank(self, force: bool = False) -> pd.DataFrame:
        """The eligible records not yet decided by this reviewer, best first."""
        self._sync()
        eligible = self._eligible()
        mine = set(self.my_decisions()["record_id"])
        labels = self._labels()
        classes = len(set(labels.values()))
        stale = (self._ranking is None or force or classes != self._ranked_classes
                 or len(labels) - self._ranked_with >= self.retrain_every)
        if stale:
            self._ranked_with, self._ranked_classes = len(labels), classes
            if self._ranking is not None and not force and self._use_background(eligible):
                # the refit started at the previous retraining point is applied now (and
                # waited for if not done), so the order depends on decisions, not on pace
                self._collect_refit(wait=True)
                self._start_refit(eligible, labels, mine)
            else:
                self._refit = None  # a refit of older labels is never applied later
                self._ranking, self.ranker = self._compute_ranking(
                    eligible, labels, mine, self.ranker)
        ids = set(eligible[C.RECORD_ID].astype(str))
        queue = self._ranking[~self._ranking["record_id"].isin(mine)
                              & self._ranking["record_id"].isin(ids)]
        return self._allocate(queue).reset_index(drop=True)

    def _allocate(self, queue: pd.DataFrame) -> pd.DataFrame:
        """Records others started that still need decisions first, then new, then covered.

        Within each group the ranked order is kept, so with dual screening a reviewer
        catches up on the records the others screened before opening new ones, and every
        record screened when the stage ends has its required number of reviewers.
        """
        need = self.reviewers_per_record
        reviewers, settled = self._coverage()
        n = queue["record_id"].map(reviewers).fillna(0).to_numpy()
        done = queue["record_id"].isin(settled).to_numpy() | (n >= need)
        group = np.where(done, 2, np.where(n > 0, 0, 1))
        return queue.iloc[np.argsort(group, kind="stable")]

    def _coverage(self) -> tuple[pd.Series, set[str]]:
        """Reviewers with a decision per record, and records settled by adjudication."""
        events = self._decisions(self.stage)  # who decided, never shown what
        reviewers = latest_decisions(events).groupby("record_id").size()
        settled = set(events.loc[events["kind"] == "adjudication", "record_id"])
        return reviewers, settled

    def queue(self) -> pd.DataFrame:
        """The whole ranked queue of records this reviewer has not decided.

        Returns
        -------
        pandas.DataFrame
            Columns ``rank, record_id, score, source, title, year, doi, tags, rules`` and
            empty ``decision, reason, note`` columns (fill them in and import the file
            with :meth:`import_decisions`). In the random-sampling phase of a two-phase
            stopping rule the records are in random order (``source`` is
            ``random_sample``; the same decisions and ``random_state`` give the same
            order), so a reviewer who screens the file from the top screens a random
            sample, as :meth:`next` draws one.
        """
        queue = self._drawn(self._rank())
        records = self.records().set_index(C.RECORD_ID)
        hits = self.hits()
        rows = []
        for i, item in enumerate(queue.itertuples(index=False), start=1):
            rec = records.loc[item.record_id]
            rh = hits[item.record_id] if hits is not None else None
            rows.append({
                "rank": i, "record_id": item.record_id, "score": float(item.score),
                "source": item.source, "title": rec[C.TITLE], "year": rec[C.YEAR],
                "doi": rec[C.DOI],
                "tags": "; ".join(rh.tags) if rh else "",
                "rules": "; ".join(rh.rules) if rh else "",
                "decision": "", "reason": "", "note": "",
            })
        cols = ["rank", "record_id", "score", "source", "title", "year", "doi", "tags",
                "rules", "decision", "reason", "note"]
        return pd.DataFrame(rows, columns=cols)

    def next(self, k: int = 1) -> Cards:
        """The next ``k`` records to screen, as cards.

        When the stopping rule asks for a random sample of the unscreened pool (its
        ``sampling`` phase), records are drawn at random instead of from the top: the
        first ``k`` of a random order of the queue drawn again after each decision (seeded
        by ``random_state`` and the number of decisions, so a reopened session shows the
        same cards).

        Returns
        -------
        Cards
            With ``_repr_html_`` (shown in a notebook) and ``.to_frame()``.
        """
        queue = self._drawn(self._rank())
        return Cards([self._card(row, i) for i, row in
                      enumerate(queue.head(k).itertuples(index=False), start=1)])

    def _drawn(self, queue: pd.DataFrame) -> pd.DataFrame:
        """The queue in random order in the random-sampling phase (else as it is)."""
        if not len(queue) or not self._sampling():
            return queue
        rng = np.random.default_rng([self._seed, len(self.my_decisions())])
        return queue.iloc[rng.permutation(len(queue))].assign(source="random_sample")

    def _sampling(self) -> bool:
        if getattr(self.stopping, "sampling", None) is None:
            return False
        return self._state().random_from is not None
