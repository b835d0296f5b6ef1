"""Simulated screening on labelled records: ranking, retraining in batches, stopping.

A simulated reviewer reveals the label of each record in the order the ranker asks for
it. The model is retrained after each batch (by default the batch grows with the number
of records screened), and the stopping rule is checked after every record.
"""

from __future__ import annotations

import html
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evidence_synth.errors import EvidenceSynthError
from evidence_synth.screen.metrics import screening_metrics
from evidence_synth.screen.ranking import ScreeningRanker, record_text
from evidence_synth.screen.stopping import (
    ScreeningState,
    StopDecision,
    StoppingRule,
)
from evidence_synth.screen.stopping_methods import default_stopping_rule

__all__ = ["SimulationResult", "simulate"]


@dataclass
class SimulationResult:
    """Outcome of :func:`simulate`.

    Attributes
    ----------
    order : list
        Every record_id in the order screened, priors first.
    labels : numpy.ndarray
        Relevance (0/1) of the records in ``order``.
    n_prior : int
        Number of prior records at the start of ``order``.
    stopped_at : int or None
        Records screened (priors included) when the stopping rule fired; None when no
        rule was given or it never fired.
    stop_decision : StopDecision or None
        The decision that stopped screening (or the last one checked).
    random_from : int or None
        Position in ``order`` where the random-sampling phase began, if any.
    seconds : float
        Wall-clock time of the simulation.
    cpu_seconds : float
        CPU time of the simulating process (a fairer speed measure on a busy machine).
    n_fits : int
        Number of times the model was (re)trained.
    """

    order: list
    labels: np.ndarray
    n_prior: int
    stopped_at: int | None = None
    stop_decision: StopDecision | None = None
    random_from: int | None = None
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    n_fits: int = 0
    settings: dict = field(default_factory=dict)

    @property
    def n_records(self) -> int:
        return len(self.order)

    def metrics(self) -> dict[str, float]:
        """Recall at 10% and 25% screened, WSS@95, WSS@100, ERF@10 and recall at the stop.

        Priors are left out, as in asreview-insights (``priors=False``): the metrics use
        the ``N - n_prior`` non-prior records in screening order. ``stopped_at`` and
        ``work_saved`` in the result count non-prior records too.
        """
        labels = self.labels[self.n_prior :]
        stop = None if self.stopped_at is None else self.stopped_at - self.n_prior
        out = screening_metrics(labels, stopped_at=stop)
        out["seconds"] = self.seconds
        out["cpu_seconds"] = self.cpu_seconds
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per record in screening order.

        Returns
        -------
        pandas.DataFrame
            Columns ``position`` (1-based), ``record_id``, ``label``, ``phase``
            (``"prior"``, ``"ranked"`` or ``"random"``), ``found`` (relevant records found
            so far, priors excluded) and ``before_stop`` (screened before the stop).
        """
        n = self.n_records
        phase = np.full(n, "ranked", dtype=object)
        phase[: self.n_prior] = "prior"
        if self.random_from is not None and self.stopped_at is not None:
            phase[self.random_from : self.stopped_at] = "random"
        found = np.cumsum(np.where(np.arange(n) < self.n_prior, 0, self.labels))
        stop = n if self.stopped_at is None else self.stopped_at
        return pd.DataFrame({
            "position": np.arange(1, n + 1),
            "record_id": self.order,
            "label": self.labels.astype(int),
            "phase": phase,
            "found": found,
            "before_stop": np.arange(n) < stop,
        })

    def summary(self) -> str:
        m = self.metrics()
        lines = [
            f"Simulated screening of {self.n_records:,} records "
            f"({int(self.labels.sum()):,} relevant, {self.n_prior} priors) in "
            f"{self.seconds:.2f} s, {self.n_fits} model fits",
            f"  recall at 10% screened {m['recall_at_10']:.3f}, at 25% {m['recall_at_25']:.3f}",
            f"  WSS@95 {m['wss_95']:.3f}, WSS@100 {m['wss_100']:.3f}, ERF@10 {m['erf_10']:.3f}",
        ]
        if self.stop_decision is not None:
            if self.stopped_at is not None:
                lines.append(
                    f"  stopped after {self.stopped_at:,} records: true recall "
                    f"{m['recall_at_stop']:.3f}, work saved {m['work_saved']:.3f}"
                )
            else:
                lines.append("  the stopping rule never fired")
            lines.append(self.stop_decision.report())
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<SimulationResult {self.n_records} records>\n{self.summary()}"

    def _repr_html_(self) -> str:
        m = self.metrics()
        rows = "".join(
            f"<tr><td>{html.escape(k)}</td><td>{v:.3f}</td></tr>"
            for k, v in m.items() if isinstance(v, float)
        )
        report = ""
        if self.stop_decision is not None:
            report = f"<pre>{html.escape(self.stop_decision.report())}</pre>"
        return (
            f"<div><b>SimulationResult</b>: {self.n_records:,} records, "
            f"{int(self.labels.sum()):,} relevant, {self.n_prior} priors, "
            f"{self.seconds:.2f} s<table>{rows}</table>{report}</div>"
        )


def _prior_rows(records: pd.DataFrame, prior_ids: Sequence[Any]) -> list[int]:
    ids = pd.Index(records["record_id"])
    if not ids.is_unique:
        raise EvidenceSynthError("expected unique record ids when prior_ids are given")
    wanted = list(prior_ids)
    rows = ids.get_indexer(wanted)
    missing = [w for w, r in zip(wanted, rows, strict=True) if r < 0]
    if missing:
        raise EvidenceSynthError(f"expected prior_ids among the records, not found: {missing}")
    if len(set(wanted)) != len(wanted):
        raise EvidenceSynthError(f"expected distinct prior_ids, found {wanted}")
    return [int(r) for r in rows]


def _batch(n_labelled: int, batch_size: int | None, batch_divisor: int) -> int:
    if batch_size is not None:
        return int(batch_size)
    return max(1, n_labelled // batch_divisor)


def simulate(
    records: pd.DataFrame,
    labels: Sequence[int] | np.ndarray | pd.Series,
    *,
    ranker: Any = None,
    stopping: StoppingRule | bool | None = None,
    random_state: int = 0,
    n_prior_included: int = 1,
    n_prior_excluded: int = 1,
    prior_ids: Sequence[Any] | None = None,
    batch_size: int | None = None,
    batch_divisor: int = 50,
    seed_scores: Sequence[float] | np.ndarray | None = None,
) -> SimulationResult:
    """Simulate prioritised screening of labelled records.

    Parameters
    ----------
    records : pandas.DataFrame
        ``record_id``, ``title``, ``abstract`` (records contract subset).
    labels : array-like of 0/1
        True relevance, aligned with ``records``.
    ranker : estimator, optional
        Default ``ScreeningRanker(random_state=random_state)``. Any scikit-learn
        classifier over a list of texts with ``decision_function`` or ``predict_proba``
        also works (slower: it re-reads the text at every fit).
    stopping : StoppingRule, None or False
        Checked after every record; screening order continues after the stop so that the
        ranking metrics cover all records. None (default) applies
        :func:`~evidence_synth.screen.stopping_methods.default_stopping_rule` (for a protocol's
        rule pass ``stopping_rule_from_protocol(protocol)``); False applies none.
    random_state : int
        Seed for the prior records, the ranker and the random-sampling phase.
    n_prior_included, n_prior_excluded : int
        Prior (seed) records drawn at random from the relevant / irrelevant records. With
        0 and 0 the first records come from the ranker's cold start (``query`` and
        ``seed_scores``).
    prior_ids : sequence of record ids, optional
        Explicit prior records, screened first in this order (instead of drawing
        ``n_prior_included`` and ``n_prior_excluded``), e.g. the priors of an ASReview
        simulation to compare the two on the same start.
    batch_size : int, optional
        Records screened between retrainings; default ``max(1, n_screened //
        batch_divisor)``.
    batch_divisor : int
        Without ``batch_size``, the model is retrained after ``max(1, n_screened //
        batch_divisor)`` records: 50 by default; 20 (with ``ScreeningRanker(tol=1e-4)``)
        is the previous default.
    seed_scores : array-like, optional
        Cold-start scores per record (e.g. rule hits), used until both classes are known.

    Returns
    -------
    SimulationResult
    """
    start_time, cpu_start = time.perf_counter(), time.process_time()
    if "record_id" not in records.columns:
        raise EvidenceSynthError(
            f"expected a 'record_id' column in records, found {list(records.columns)}"
        )
    y = np.asarray(pd.Series(labels).to_numpy(), dtype=float)
    n = len(records)
    if len(y) != n:
        raise EvidenceSynthError(f"expected {n} labels (one per record), found {len(y)}")
    if np.isnan(y).any() or not np.isin(y, (0, 1)).all():
        raise EvidenceSynthError("expected labels 0/1 without missing values")
    y = y.astype(int)
    n_rel = int(y.sum())
    if not (isinstance(batch_divisor, (int, np.integer)) and batch_divisor >= 1):
        raise EvidenceSynthError(
            f"expected a positive integer batch_divisor, found {batch_divisor!r}")
    if stopping is True:
        raise EvidenceSynthError("expected a stopping rule, None (the default) or False")
    if stopping is None:
        stopping = default_stopping_rule()
    elif stopping is False:
        stopping = None
    rng = np.random.default_rng(random_state)
    if prior_ids is not None:
        priors = _prior_rows(records, prior_ids)
        if n_rel - int(y[priors].sum()) < 1:
            raise EvidenceSynthError(
                "expected at least one relevant record that is not a prior")
    elif n_prior_included > n_rel or n_prior_excluded > n - n_rel:
        raise EvidenceSynthError(
            f"expected at most {n_rel} relevant and {n - n_rel} irrelevant priors, found "
            f"n_prior_included={n_prior_included}, n_prior_excluded={n_prior_excluded}"
        )
    elif n_rel - n_prior_included < 1:
        raise EvidenceSynthError("expected at least one relevant record that is not a prior")
    else:
        priors = list(rng.choice(np.flatnonzero(y == 1), n_prior_included, replace=False))
        priors += list(rng.choice(np.flatnonzero(y == 0), n_prior_excluded, replace=False))
    if seed_scores is not None:
        seed_scores = np.asarray(seed_scores, dtype=float)
        if seed_scores.shape != (n,):
            raise EvidenceSynthError(
                f"expected one seed score per record ({n}), found shape {seed_scores.shape}"
            )
    if ranker is None:
        ranker = ScreeningRanker(random_state=random_state)
    scorer = _Scorer(ranker, record_text(records), seed_scores, rng)

    order: list[int] = [int(i) for i in priors]
    screened = np.zeros(n, dtype=bool)
    screened[order] = True
    n_prior = len(order)
    seen = np.zeros(n, dtype=int)  # labels in screening order
    seen[:n_prior] = y[order]
    n_found = int(seen.sum())
    sampling = getattr(stopping, "sampling", None)
    decision: StopDecision | None = None
    stopped_at = random_from = None

    def check() -> None:
        nonlocal decision, stopped_at, random_from
        if stopping is None or stopped_at is not None:
            return
        state = ScreeningState(seen[: len(order)], n, n_prior, random_from)
        decision = stopping.check(state)
        if decision.stop:
            stopped_at = len(order)
        elif random_from is None and sampling is not None and sampling(state):
            random_from = len(order)

    if n_prior:
        check()
    ranked: np.ndarray | None = None
    while len(order) < n:
        pool = np.flatnonzero(~screened)
        if random_from is not None and stopped_at is None:
            pick = [int(rng.choice(pool))]
        elif ranked is not None and n_found == n_rel:
            # Every relevant record is found: the rest keep the last model's order without
            # retraining (all their labels are 0, so no metric or stop decision changes).
            pick = [int(i) for i in ranked if not screened[i]]
        else:
            scores = scorer.scores(np.array(order), y[order], pool)
            ranked = pool[np.argsort(-scores, kind="stable")]
            pick = [int(i) for i in ranked[: _batch(len(order), batch_size, batch_divisor)]]
        for i in pick:
            seen[len(order)] = y[i]
            n_found += y[i]
            order.append(i)
            screened[i] = True
            check()
            if random_from is not None and stopped_at is None and len(pick) > 1 and (
                n_found < n_rel
            ):
                # the rule asked for random sampling: drop the rest of the ranked batch
                break
    return SimulationResult(
        order=records["record_id"].to_numpy()[order].tolist(),
        labels=y[order],
        n_prior=n_prior,
        stopped_at=stopped_at,
        stop_decision=decision,
        random_from=random_from,
        seconds=time.perf_counter() - start_time,
        cpu_seconds=time.process_time() - cpu_start,
        n_fits=scorer.n_fits,
        settings={"ranker": repr(ranker), "stopping": repr(stopping),
                  "random_state": random_state, "batch_size": batch_size,
                  "batch_divisor": batch_divisor},
    )


class _Scorer:
    """Fits the ranker on the labelled rows and scores the pool (fast path for ours)."""

    def __init__(self, ranker: Any, texts: list[str], seed_scores, rng) -> None:
        self.ranker = ranker
        self.texts = texts
        self.seed = seed_scores
        self.rng = rng
        self.n_fits = 0
        self.fast = isinstance(ranker, ScreeningRanker)
        if self.fast:
            self.X = ranker._fit_features(texts)

    def scores(self, idx: np.ndarray, y: np.ndarray, pool: np.ndarray) -> np.ndarray:
        both = 0 < y.sum() < len(y)
        if self.fast:
            if both:
                self.ranker._fit_rows(self.X[idx], y)
                self.n_fits += 1
                # every row's score is its own sum, so scoring all rows and keeping the
                # pool's gives the same numbers without copying the pool out of X
                return self.ranker._queue_scores(self.X)[pool]
            self.ranker.coef_ = None
            scores = self.ranker._queue_scores(self.X[pool])
        elif both:
            self.ranker.fit([self.texts[i] for i in idx], y)
            self.n_fits += 1
            texts = [self.texts[i] for i in pool]
            if hasattr(self.ranker, "decision_function"):
                return np.asarray(self.ranker.decision_function(texts), dtype=float)
            return np.asarray(self.ranker.predict_proba(texts), dtype=float)[:, 1]
        else:
            scores = np.zeros(len(pool))
        if self.seed is not None:
            scores = scores + self.seed[pool]
        # break ties at random so a cold start without information is a random order
        return scores + 1e-9 * self.rng.random(len(pool))
