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
    n_conflicts: int
    estimated_recall: float | None = None
    confidence: float | None = None
    stop: bool = False

    @property
    def n_remaining(self) -> int:
        """Records in the pool this reviewer has not decided."""
        return self.n_records - self.n_screened

    @property
    def fraction(self) -> float:
        """Share of the pool this reviewer has decided."""
        return self.n_screened / self.n_records if self.n_records else 1.0

    def to_frame(self) -> pd.DataFrame:
        """One row: ``stage, reviewer, n_records, n_auto_excluded, n_screened, n_included,
        n_excluded, n_maybe, n_remaining, n_conflicts, estimated_recall, confidence,
        stop``."""
        row = {k: getattr(self, k) for k in (
            "stage", "reviewer", "n_records", "n_auto_excluded", "n_screened", "n_included",
            "n_excluded", "n_maybe", "n_remaining", "n_conflicts", "estimated_recall",
            "confidence", "stop")}
        return pd.DataFrame([row])

    def summary(self) -> str:
        """One line for humans."""
        text = (f"{self.reviewer} at {self.stage}: {self.n_screened} of {self.n_records} "
                f"screened ({100 * self.fraction:.0f}%), {self.n_included} include, "
                f"{self.n_maybe} maybe, {self.n_excluded} exclude; "
                f"{self.n_auto_excluded} excluded by rules; {self.n_conflicts} conflicts")
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
        return ScreeningState(labels, n_records=max(len(eligible), len(labels)),
                              random_from=self._random_from)

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
        decision = self.stopping.check(self._state())
        if report:
            print(decision.report())
        return decision

    def progress(self) -> Progress:
        """Counts for this reviewer, with the stopping rule's recall estimate."""
        mine = self.my_decisions()
        eligible = set(self._eligible()[C.RECORD_ID].astype(str))
        mine = mine[mine["record_id"].isin(eligible)]
        counts = mine["decision"].value_counts()
        decision = self.stop_check(report=False) if len(mine) else None
        return Progress(
            stage=self.stage, reviewer=self.reviewer, n_records=len(eligible),
            n_auto_excluded=len(self.records()) - len(eligible), n_screened=len(mine),
            n_included=int(counts.get("include", 0) + counts.get("retrieved", 0)),
            n_excluded=int(counts.get("exclude", 0) + counts.get("not_retrieved", 0)),
            n_maybe=int(counts.get("maybe", 0)),
            n_conflicts=int((~self.conflicts()["adjudicated"]).sum()),
            estimated_recall=None if decision is None else decision.estimated_recall,
            confidence=None if decision is None else decision.confidence,
            stop=bool(decision.stop) if decision is not None else False,
        )
