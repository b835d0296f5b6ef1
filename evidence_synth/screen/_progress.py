"""Progress and stopping: where a reviewer stands, and whether they may stop."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import columns as C  # noqa: N812
from .policy import RELEVANT
from .stopping import ScreeningState, StopDecision


@dataclass
class Progress:
    """Where a reviewer stands in a stage (returned by :meth:`Screening.progress`)."""

    stage: str
    reviewer: str
    n_records: int
    n_auto_excluded: int
    n_screened: int
    n_included: int
    n_excluded: int
    n_maybe: int
    n_conflicts: int | None
    estimated_recall: float | None = None
    confidence: float | None = None
    stop: bool = False
    reviewers_per_record: int = 1
    n_started: int = 0
    n_covered: int = 0
    n_waiting: int = 0

    @property
    def n_remaining(self) -> int:
        """Records in the pool this reviewer has not decided."""
        return self.n_records - self.n_screened

    @property
    def fraction(self) -> float:
        """Share of the pool this reviewer has decided."""
        return self.n_screened / self.n_records if self.n_records else 1.0

    @property
    def n_short(self) -> int:
        """Records some reviewer decided that still have fewer than the required reviewers."""
        return self.n_started - self.n_covered

    def to_frame(self) -> pd.DataFrame:
        """One row: ``stage, reviewer, n_records, n_auto_excluded, n_screened, n_included,
        n_excluded, n_maybe, n_remaining, n_conflicts, estimated_recall, confidence,
        stop, reviewers_per_record, n_started, n_covered, n_short, n_waiting``.

        ``n_conflicts`` is ``None`` for a blind reviewer. Coverage: ``n_started`` records
        have a decision by anyone, ``n_covered`` of them by the ``reviewers_per_record``
        the protocol requires (or an adjudication), ``n_short`` by fewer; ``n_waiting``
        of those wait for this reviewer.
        """
        row = {k: getattr(self, k) for k in (
            "stage", "reviewer", "n_records", "n_auto_excluded", "n_screened", "n_included",
            "n_excluded", "n_maybe", "n_remaining", "n_conflicts", "estimated_recall",
            "confidence", "stop", "reviewers_per_record", "n_started", "n_covered",
            "n_short", "n_waiting")}
        return pd.DataFrame([row])

    def summary(self) -> str:
        """One line for humans (nothing about others' decisions when blind)."""
        automatic = (f"; {self.n_auto_excluded} excluded automatically"
                     if self.n_auto_excluded else "")
        text = (f"{self.reviewer} at {self.stage}: {self.n_screened} of {self.n_records} "
                f"screened ({100 * self.fraction:.0f}%), {self.n_included} include, "
                f"{self.n_maybe} maybe, {self.n_excluded} exclude{automatic}")
        if self.reviewers_per_record > 1:
            text += (f"; {self.n_covered} of {self.n_started} started records have "
                     f"{self.reviewers_per_record} reviewers")
            if self.n_waiting:
                text += f", {self.n_waiting} wait for you"
        if self.n_conflicts is not None:
            text += f"; {self.n_conflicts} conflicts"
        if self.estimated_recall is not None:
            text += (f"; estimated recall >= {self.estimated_recall:.2f} "
                     f"({100 * (self.confidence or 0):.0f}% confidence)")
        if self.stop:
            text += "; the stopping rule says stop"
        return text

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self.summary())}</p>"


class ProgressMixin:
    """:meth:`progress` and :meth:`stop_check` of :class:`.Screening`."""

    def _state(self) -> ScreeningState:
        eligible = set(self._eligible()[C.RECORD_ID].astype(str))
        mine = self.my_decisions()
        mine = mine[mine["record_id"].isin(eligible)]
        labels = np.array([RELEVANT[d] for d in mine["decision"]], dtype=int)
        n_records = max(len(eligible), len(labels))
        return ScreeningState(labels, n_records=n_records,
                              random_from=self._random_start(labels, n_records))

    def _random_start(self, labels: np.ndarray, n_records: int) -> int | None:
        """Decisions made before this reviewer's random-sampling phase (None: not begun).

        Read from the decisions themselves, so a reopened session (or the command line)
        finds the phase where the notebook left it: the first ``k`` at which the rule's
        ``sampling`` asked for random sampling after the first ``k`` decisions, as in
        :func:`~evidence_synth.screen.stopping.replay_stopping`.
        """
        sampling = getattr(self.stopping, "sampling", None)
        if sampling is None:
            return None
        scanned, start = self._random_scan
        if start is not None and np.array_equal(labels[:start], scanned):
            return start
        first = 1
        if start is None and np.array_equal(labels[:len(scanned)], scanned):
            first = len(scanned) + 1  # the earlier scan found no start in this prefix
        start = next((k for k in range(first, len(labels) + 1)
                      if sampling(ScreeningState(labels[:k], n_records=n_records))), None)
        self._random_scan = (labels[:start] if start else labels.copy(), start)
        return start

    def stop_check(self, *, report: bool = True) -> StopDecision:
        """Ask the stopping rule whether this reviewer may stop screening this stage.

        The rule sees this reviewer's decisions in the order made (include and maybe
        count as relevant) against the pool left after automatic exclusions.

        Parameters
        ----------
        report : bool, default True
            Print the rule's report (rule, records screened, estimated recall with its
            confidence, what stays unscreened).

        Returns
        -------
        StopDecision
        """
        self._sync()
        state = self._state()
        if self.stopping is None:
            decision = StopDecision(False, "none (every record is screened)",
                                    state.n_screened, state.n_records,
                                    int(state.labels.sum()))
        else:
            decision = self.stopping.check(state)
        if report:
            print(decision.report())
        return decision

    def progress(self) -> Progress:
        """Counts for this reviewer, with the stopping rule's recall estimate."""
        self._sync()
        mine = self.my_decisions()
        eligible = set(self._eligible()[C.RECORD_ID].astype(str))
        mine = mine[mine["record_id"].isin(eligible)]
        counts = mine["decision"].value_counts()
        decision = self.stop_check(report=False) if len(mine) else None
        need = self.reviewers_per_record
        reviewers, settled = self._coverage()
        reviewers = reviewers[reviewers.index.isin(eligible)]
        covered = (reviewers >= need) | reviewers.index.isin(settled)
        waiting = ~covered & ~reviewers.index.isin(set(mine["record_id"]))
        return Progress(
            stage=self.stage, reviewer=self.reviewer, n_records=len(eligible),
            n_auto_excluded=len(self.records()) - len(eligible), n_screened=len(mine),
            n_included=int(counts.get("include", 0) + counts.get("retrieved", 0)),
            n_excluded=int(counts.get("exclude", 0) + counts.get("not_retrieved", 0)),
            n_maybe=int(counts.get("maybe", 0)),
            n_conflicts=None if self.blind else int((~self.conflicts()["adjudicated"]).sum()),
            estimated_recall=None if decision is None else decision.estimated_recall,
            confidence=None if decision is None else decision.confidence,
            stop=bool(decision.stop) if decision is not None else False,
            reviewers_per_record=need, n_started=len(reviewers),
            n_covered=int(covered.sum()), n_waiting=int(waiting.sum()),
        )
