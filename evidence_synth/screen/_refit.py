"""Ranking the queue: the ranker refits, in a background thread for large pools.

A background refit starts at a retraining point (every ``retrain_every`` decisions) on the
labels of that moment and is applied at the next retraining point, waiting for it there
if it is not done. The queue is then a function of the decisions alone, as without
background refits, only one retraining step behind: the same decisions give the same
queue however fast the reviewer clicks.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from .. import columns as C  # noqa: N812

#: Pools larger than this refit the ranker in a background thread (``background="auto"``).
_BACKGROUND_FROM = 2000


class RefitMixin:
    """Computing the ranking and refitting the ranker, for :class:`.Screening`."""

    def _seed_scores(self, records: pd.DataFrame) -> np.ndarray | None:
        hits = self.hits()
        if hits is None or not self._automation:
            return None
        score = hits.to_frame().set_index("record_id")["score"]
        return records[C.RECORD_ID].map(score).fillna(0).to_numpy(dtype=float)

    def _use_background(self, eligible: pd.DataFrame) -> bool:
        if self.ranker is None:
            return False
        if self.background == "auto":
            return len(eligible) > _BACKGROUND_FROM
        return bool(self.background)

    def _compute_ranking(self, eligible: pd.DataFrame, labels: Mapping[str, int],
                         mine: set[str], ranker: Any) -> tuple[pd.DataFrame, Any]:
        if ranker is None or not len(eligible):
            seed = self._seed_scores(eligible)
            ranking = pd.DataFrame({
                "record_id": eligible[C.RECORD_ID].astype(str).to_numpy(),
                "score": seed if seed is not None else np.zeros(len(eligible)),
                "source": "rules" if seed is not None else "import_order",
            })
            if seed is not None:
                ranking = ranking.sort_values("score", ascending=False, kind="stable")
            return ranking.reset_index(drop=True), ranker
        frame = eligible.assign(record_id=eligible[C.RECORD_ID].astype(str))
        ids = set(frame[C.RECORD_ID])
        known = {k: v for k, v in labels.items() if k in ids}
        ranking = ranker.rank(frame, known, seed_scores=self._seed_scores(frame))
        ranking = self._add_others_decided(ranking, frame, mine, ranker)
        return ranking.reset_index(drop=True), ranker

    def _start_refit(self, eligible: pd.DataFrame, labels: Mapping[str, int],
                     mine: set[str]) -> None:
        # Refit a clone in a thread and keep serving the current ranking meanwhile; the
        # result is applied at the next retraining point (see QueueMixin._rank), so a
        # reviewer waits for the model only when it takes longer than retrain_every clicks.
        box: dict[str, Any] = {}
        ranker = clone(self.ranker)

        def work() -> None:
            try:
                box["result"] = self._compute_ranking(eligible, dict(labels), set(mine), ranker)
            except Exception as exc:  # reported on the next call
                box["error"] = exc

        thread = threading.Thread(target=work, name="evidence-synth-refit", daemon=True)
        self._refit = (thread, box)
        thread.start()

    def _collect_refit(self, *, wait: bool = False) -> None:
        if self._refit is None:
            return
        thread, box = self._refit
        if wait:
            thread.join()
        if thread.is_alive():
            return
        self._refit = None
        if "error" in box:
            raise box["error"]
        self._ranking, self.ranker = box["result"]

    def _add_others_decided(self, ranking: pd.DataFrame, frame: pd.DataFrame, mine: set[str],
                            ranker: Any) -> pd.DataFrame:
        # Not blind: records labelled by others' resolved decisions still need this
        # reviewer's decision; score them with the fitted model.
        missing = frame[~frame[C.RECORD_ID].isin(set(ranking["record_id"]) | mine)]
        if not len(missing):
            return ranking
        scores = np.asarray(ranker.decision_function(missing), dtype=float)
        extra = pd.DataFrame({"record_id": missing[C.RECORD_ID].to_numpy(), "score": scores,
                              "source": ranking["source"].iloc[0] if len(ranking) else "model"})
        out = pd.concat([ranking, extra], ignore_index=True)
        return out.sort_values("score", ascending=False, kind="stable")
