"""Stopping rules for prioritised screening.

Every rule follows one small protocol: ``rule.check(state) -> StopDecision``. A rule
may also define ``rule.sampling(state) -> bool``: True when the next records should be
drawn at random from the unscreened pool instead of from the top of the ranking (the
random-sampling phase of Callaghan & Müller-Hansen 2020). Rules are stateless: the
decision depends only on the :class:`ScreeningState`, so replays are deterministic.

Rules: :class:`HypergeometricStop` (Callaghan & Müller-Hansen 2020),
:class:`~evidence_synth.screen.stopping_poisson.PoissonProcessStop` (Sneyd & Stevenson
2019, 2021), :class:`KneeStop` (Cormack & Grossman 2016), :class:`NIrrelevantInARow`
(heuristic), and the combinators :class:`AnyOf` and :class:`AllOf` (also
``rule_a | rule_b`` and ``rule_a & rule_b``). The default
(:func:`~evidence_synth.screen.stopping_methods.default_stopping_rule`) is the
Poisson-process rule with its quantile calibrated on four tuning sets;
:mod:`~evidence_synth.screen.stopping_methods` builds the rule a protocol names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.special import gammaln
from scipy.stats import hypergeom

from evidence_synth.errors import EvidenceSynthError

__all__ = [
    "AllOf",
    "AnyOf",
    "HypergeometricStop",
    "KneeStop",
    "NIrrelevantInARow",
    "ScreeningState",
    "StopDecision",
    "StoppingRule",
    "replay_stopping",
]


@dataclass(frozen=True)
class ScreeningState:
    """What a stopping rule sees: the labels screened so far, in order.

    Parameters
    ----------
    labels : array of 0/1
        Relevance of every screened record in the order screened, priors first.
    n_records : int
        Records in the whole pool (screened and unscreened, priors included).
    n_prior : int
        How many of the first ``labels`` are prior (seed) records.
    random_from : int, optional
        Index into ``labels`` where random sampling of the unscreened pool began.
    """

    labels: np.ndarray
    n_records: int
    n_prior: int = 0
    random_from: int | None = None

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels, dtype=int)
        object.__setattr__(self, "labels", labels)
        if len(labels) > self.n_records:
            raise EvidenceSynthError(
                f"expected at most n_records={self.n_records} screened labels, "
                f"found {len(labels)}"
            )

    @property
    def n_screened(self) -> int:
        return len(self.labels)

    @property
    def n_relevant(self) -> int:
        return int(self.labels.sum())

    @property
    def n_unscreened(self) -> int:
        return self.n_records - self.n_screened


class StopDecision:
    """The answer of a stopping rule.

    Attributes
    ----------
    stop : bool
        Whether to stop screening now.
    rule : str
        The rule (with its parameters) that decided.
    n_screened, n_records, n_relevant : int
        Records screened (priors included), records in the pool, relevant found.
    estimated_recall : float or None
        For statistical rules, the lower confidence bound on recall at ``confidence``
        (computed on first access); None for heuristic rules.
    confidence : float or None
        Confidence level of ``estimated_recall``.
    p_value : float or None
        p-value of H0 "recall < target" (statistical rules only).
    detail : str
        Rule-specific explanation.
    parts : tuple of StopDecision
        The decisions of the rules inside a combinator.
    """

    def __init__(
        self,
        stop: bool,
        rule: str,
        n_screened: int,
        n_records: int,
        n_relevant: int,
        estimated_recall: float | Callable[[], float | None] | None = None,
        confidence: float | None = None,
        p_value: float | None = None,
        detail: str = "",
        parts: tuple[StopDecision, ...] = (),
    ) -> None:
        self.stop = bool(stop)
        self.rule = rule
        self.n_screened = int(n_screened)
        self.n_records = int(n_records)
        self.n_relevant = int(n_relevant)
        self._estimate = estimated_recall
        self.confidence = confidence
        self.p_value = p_value
        self.detail = detail
        self.parts = tuple(parts)

    @property
    def estimated_recall(self) -> float | None:
        if callable(self._estimate):  # computed lazily: the bound costs a search
            self._estimate = self._estimate()
        return self._estimate

    def __repr__(self) -> str:
        return (
            f"StopDecision(stop={self.stop}, rule={self.rule!r}, "
            f"n_screened={self.n_screened}, n_records={self.n_records}, "
            f"n_relevant={self.n_relevant}, p_value={self.p_value})"
        )

    @property
    def n_unscreened(self) -> int:
        return self.n_records - self.n_screened

    @property
    def work_saved(self) -> float:
        """Share of all records left unscreened."""
        return self.n_unscreened / self.n_records if self.n_records else 0.0

    def report(self) -> str:
        """A short plain-text report: rule, records screened, recall estimate, work saved."""
        head = "STOP" if self.stop else "CONTINUE"
        lines = [f"{head}: {self.rule}"]
        if self.detail:
            lines.append(f"  {self.detail}")
        pct = 100 * self.n_screened / self.n_records if self.n_records else 0.0
        lines.append(
            f"  screened {self.n_screened:,} of {self.n_records:,} records ({pct:.1f}%), "
            f"{self.n_relevant:,} relevant found"
        )
        if self.estimated_recall is not None:
            lines.append(
                f"  estimated recall >= {self.estimated_recall:.3f} with "
                f"{100 * self.confidence:.0f}% confidence"
                + (f" (p = {self.p_value:.4f})" if self.p_value is not None else "")
                + ("" if self.stop else "; not enough to stop yet")
            )
        elif self.confidence is not None:
            lines.append("  estimated recall: not available yet")
        else:
            lines.append("  estimated recall: none (heuristic rule, no statistical guarantee)")
        lines.append(
            f"  work saved: {100 * self.work_saved:.1f}% "
            f"({self.n_unscreened:,} records stay unscreened)"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.report()


@runtime_checkable
class StoppingRule(Protocol):
    """Protocol of a stopping rule."""

    def check(self, state: ScreeningState) -> StopDecision: ...


class _Rule:
    """Shared helpers: combinators via ``|`` and ``&``, no random sampling by default."""

    def sampling(self, state: ScreeningState) -> bool:
        return False

    def __or__(self, other: StoppingRule) -> AnyOf:
        return AnyOf(self, other)

    def __and__(self, other: StoppingRule) -> AllOf:
        return AllOf(self, other)

    def _decision(self, state: ScreeningState, stop: bool, **kw) -> StopDecision:
        return StopDecision(
            stop=bool(stop),
            rule=repr(self),
            n_screened=state.n_screened,
            n_records=state.n_records,
            n_relevant=state.n_relevant,
            **kw,
        )


class NIrrelevantInARow(_Rule):
    """Stop after ``n`` consecutive irrelevant records (a heuristic).

    Parameters
    ----------
    n : int
        Run length of irrelevant records that triggers the stop.
    """

    def __init__(self, n: int = 100) -> None:
        if n < 1:
            raise EvidenceSynthError(f"expected n >= 1 irrelevant records in a row, found {n}")
        self.n = int(n)

    def __repr__(self) -> str:
        return f"NIrrelevantInARow(n={self.n})"

    def check(self, state: ScreeningState) -> StopDecision:
        labels = state.labels[state.n_prior :]
        hits = np.flatnonzero(labels)
        run = len(labels) - (hits[-1] + 1 if len(hits) else 0)
        return self._decision(
            state,
            run >= self.n or state.n_unscreened == 0,
            detail=f"{run} irrelevant records in a row (threshold {self.n})",
        )


class KneeStop(_Rule):
    """Knee method of Cormack & Grossman (2016).

    At ``s`` records screened (priors left out) with ``relret`` relevant found, the knee
    ``i`` is the point of the gain curve farthest from the line from (0, 0) to (s, relret).
    The
    slope ratio is ``rho = (relret(i) / i) / ((relret - relret(i) + 1) / (s - i))``;
    stop when ``s >= min_screened`` and ``rho >= 156 - min(relret, 150)``.

    Cormack GV, Grossman MR (2016). Engineering quality and reliability in
    technology-assisted review. SIGIR '16, 75-84. doi:10.1145/2911451.2911510

    Parameters
    ----------
    min_screened : int
        Never stop before this many records (priors included) were screened.
    ratio_offset : float
        ``156`` in the threshold ``ratio_offset - min(relret, 150)``.
    """

    def __init__(self, min_screened: int = 150, ratio_offset: float = 156.0) -> None:
        self.min_screened = int(min_screened)
        self.ratio_offset = float(ratio_offset)

    def __repr__(self) -> str:
        return f"KneeStop(min_screened={self.min_screened}, ratio_offset={self.ratio_offset:g})"

    @staticmethod
    def slope_ratio(labels: Sequence[int] | np.ndarray) -> tuple[float, int]:
        """Slope ratio at the knee and the knee position (1-based) of a gain curve."""
        lab = np.asarray(labels, dtype=int)
        s = len(lab)
        found = np.cumsum(lab)
        relret = int(found[-1]) if s else 0
        if s < 2 or relret == 0:
            return 0.0, 0
        i = np.arange(1, s + 1)
        # distance to the line through (0, 0) and (s, relret), up to a constant factor
        dist = relret * i - s * found
        dist = -dist
        knee = int(np.argmax(dist[:-1])) + 1
        rho = (found[knee - 1] / knee) / ((relret - found[knee - 1] + 1) / (s - knee))
        return float(rho), knee

    def check(self, state: ScreeningState) -> StopDecision:
        # the gain curve leaves the priors out: a relevant prior at rank 1 is a fake knee
        labels = state.labels[state.n_prior :]
        rho, knee = self.slope_ratio(labels)
        threshold = self.ratio_offset - min(int(labels.sum()), 150)
        stop = (state.n_screened >= self.min_screened and rho >= threshold) or (
            state.n_unscreened == 0
        )
        return self._decision(
            state,
            stop,
            detail=f"slope ratio {rho:.1f} at knee {knee} (threshold {threshold:g})",
        )


def _k_h0(r_al: np.ndarray, r_seen: int, target: float) -> np.ndarray:
    # Smallest number of relevant records in the urn compatible with recall < target
    # (buscar `k_h0`): floor(r_seen / target - r_al + 1).
    return np.floor(r_seen / target - r_al + 1 + 1e-9).astype(int)


def _log_choose(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def _hypergeom_cdf(k: np.ndarray, urn: np.ndarray, marked: np.ndarray,
                   drawn: np.ndarray) -> np.ndarray:
    """``hypergeom.cdf(k, urn, marked, drawn)``, vectorised, for small ``k``.

    Sums the probabilities of 0..k marked records in the draw from log-binomials; scipy's
    ``hypergeom.cdf`` costs about 0.8 ms a call, which a rule checked after every record
    pays thousands of times.
    """
    k, urn, marked, drawn = (np.asarray(a, dtype=float)[:, None]
                             for a in (k, urn, marked, drawn))
    i = np.arange(int(k.max(initial=0)) + 1, dtype=float)[None, :]
    valid = (i <= k) & (i <= marked) & (i <= drawn) & (drawn - i <= urn - marked)
    with np.errstate(invalid="ignore"):
        log_pmf = (_log_choose(marked, np.minimum(i, marked))
                   + _log_choose(urn - marked, np.clip(drawn - i, 0, None))
                   - _log_choose(urn, drawn))
    total = np.where(valid, np.exp(log_pmf), 0.0).sum(axis=1)
    return np.clip(total, 0.0, 1.0)


def _urn_p_values(
    labels: np.ndarray, n_records: int, starts: np.ndarray, target: float
) -> np.ndarray:
    """p of H0 'recall < target' treating ``labels[j:]`` as a random draw from the urn
    of the ``n_records - j`` records from position ``j`` on (Callaghan & Müller-Hansen)."""
    found = np.concatenate([[0], np.cumsum(labels)])
    r_seen = int(found[-1])
    r_al = found[starts]
    k = r_seen - r_al
    urn = n_records - starts
    drawn = len(labels) - starts
    k_tar = np.minimum(_k_h0(r_al, r_seen, target), urn)
    p = _hypergeom_cdf(k, urn, k_tar, drawn)
    # a possible urn that cannot hold K_tar relevant records rejects H0 outright
    p = np.where(k_tar > urn - (drawn - k), 0.0, p)
    return np.where(drawn > 0, p, 1.0)


def _recall_lower_bound(
    labels: np.ndarray, n_records: int, start: int, alpha: float
) -> float:
    """Lower confidence bound on recall from the urn starting at ``start``."""
    found = int(labels.sum())
    k = int(labels[start:].sum())
    urn = n_records - start
    drawn = len(labels) - start
    if found == 0:
        return 0.0
    if drawn <= 0:
        return found / (found + urn)
    # p(missing) = P(X <= k | urn, k + missing, drawn) falls as `missing` grows: binary
    # search for the largest number of missed relevant records that H0 cannot exclude.
    lo, hi = 0, urn - drawn  # p(lo) >= alpha always (missing = 0 is the observed sample)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if hypergeom.cdf(k, urn, k + mid, drawn) >= alpha:
            lo = mid
        else:
            hi = mid - 1
    return found / (found + lo)


class HypergeometricStop(_Rule):
    """Statistical stopping rule of Callaghan & Müller-Hansen (2020).

    Tests H0 "recall < ``target_recall``" with a hypergeometric test and stops when H0 is
    rejected at ``1 - confidence``. With ``r_al`` relevant records found before the
    sample, ``r_seen`` found in total, and a sample of ``n`` records (``k`` relevant)
    drawn without replacement from an urn of ``N`` unscreened records, the smallest
    number of relevant records the urn must hold under H0 is
    ``K = floor(r_seen / target - r_al + 1)`` and ``p = P(X <= k)``,
    ``X ~ Hypergeometric(N, K, n)``.

    Two ways to obtain the sample:

    - ``sample_after=None`` (default): *ranked quasi-sampling* as in the authors' buscar
      package (``calculate_h0`` with ``bias = 1``): every possible urn start among the
      records screened so far is tried, treating the records screened since then as a
      random draw, and the smallest p is used. This is conservative as long as the
      ranking finds relevant records at least as fast as random screening.
    - ``sample_after=<rule or int>``: the paper's two-phase workflow. Screen by ranking
      until ``sample_after`` fires (an int ``n`` means ``NIrrelevantInARow(n)``), then
      draw the unscreened records at random (``sampling(state)`` returns True) and test
      on that random sample only; the guarantee then needs no assumption on the ranker.

    Callaghan MW, Müller-Hansen F (2020). Statistical stopping criteria for automated
    screening in systematic reviews. Systematic Reviews 9:273.
    doi:10.1186/s13643-020-01521-4

    Parameters
    ----------
    target_recall : float
        Recall the review must reach, e.g. 0.95.
    confidence : float
        Confidence level of the test, e.g. 0.95 (rejects H0 when p < 0.05).
    sample_after : StoppingRule or int, optional
        Trigger of the random-sampling phase; None for ranked quasi-sampling.
    min_screened : int
        Never stop before this many records were screened (priors included).
    """

    def __init__(
        self,
        target_recall: float = 0.95,
        confidence: float = 0.95,
        *,
        sample_after: StoppingRule | int | None = None,
        min_screened: int = 0,
    ) -> None:
        if not 0 < target_recall <= 1:
            raise EvidenceSynthError(
                f"expected target_recall in (0, 1], found {target_recall}"
            )
        if not 0 < confidence < 1:
            raise EvidenceSynthError(f"expected confidence in (0, 1), found {confidence}")
        self.target_recall = float(target_recall)
        self.confidence = float(confidence)
        if isinstance(sample_after, int | np.integer) and not isinstance(sample_after, bool):
            sample_after = NIrrelevantInARow(int(sample_after))
        self.sample_after = sample_after
        self.min_screened = int(min_screened)

    def __repr__(self) -> str:
        extra = "" if self.sample_after is None else f", sample_after={self.sample_after!r}"
        return (
            f"HypergeometricStop(target_recall={self.target_recall:g}, "
            f"confidence={self.confidence:g}{extra})"
        )

    def sampling(self, state: ScreeningState) -> bool:
        if self.sample_after is None:
            return False
        if state.random_from is not None:
            return True
        return bool(self.sample_after.check(state).stop)

    def _starts(self, state: ScreeningState) -> np.ndarray:
        if self.sample_after is not None:
            if state.random_from is None:
                return np.array([], dtype=int)
            return np.array([state.random_from])
        # Within a run of irrelevant records the earliest urn start always gives the
        # smallest p, so only 0 and the positions right after each relevant record count.
        return np.unique(np.concatenate([[0], np.flatnonzero(state.labels) + 1]))

    def check(self, state: ScreeningState) -> StopDecision:
        alpha = 1 - self.confidence
        labels = state.labels
        starts = self._starts(state)
        starts = starts[starts < len(labels)]
        if state.n_unscreened == 0:
            return self._decision(
                state, True, estimated_recall=1.0, confidence=self.confidence, p_value=0.0,
                detail="every record was screened",
            )
        if len(starts) == 0 or state.n_relevant == 0:
            why = ("waiting for the random-sampling phase" if self.sample_after is not None
                   and state.random_from is None else "no relevant record found yet")
            return self._decision(state, False, confidence=self.confidence, detail=why)
        p = _urn_p_values(labels, state.n_records, starts, self.target_recall)
        best = int(np.argmin(p))
        p_min = float(p[best])
        start = int(starts[best])
        stop = p_min < alpha and state.n_screened >= self.min_screened
        n_records = state.n_records
        labels = labels.copy()  # the lazy bound must not see later screening

        def lower() -> float:
            return _recall_lower_bound(labels, n_records, start, alpha)
        sample = "random sample" if self.sample_after is not None else "last screened records"
        detail = (
            f"H0 'recall < {self.target_recall:g}': p = {p_min:.4g} "
            f"({'rejected' if p_min < alpha else 'not rejected'} at alpha = {alpha:.3g}); "
            f"{sample}: {len(labels) - start} records with {int(labels[start:].sum())} "
            f"relevant from an urn of {state.n_records - start}"
        )
        return self._decision(
            state, stop, estimated_recall=lower, confidence=self.confidence, p_value=p_min,
            detail=detail,
        )

    def recall_bound(self, state: ScreeningState) -> float | None:
        """Lower confidence bound on recall now (None before it can be computed)."""
        starts = self._starts(state)
        starts = starts[starts < state.n_screened]
        if len(starts) == 0 or state.n_relevant == 0:
            return None
        p = _urn_p_values(state.labels, state.n_records, starts, self.target_recall)
        start = int(starts[int(np.argmin(p))])
        return _recall_lower_bound(state.labels, state.n_records, start, 1 - self.confidence)


class _Combinator(_Rule):
    def __init__(self, *rules: StoppingRule) -> None:
        if not rules:
            raise EvidenceSynthError(f"expected at least one rule in {type(self).__name__}")
        self.rules = tuple(rules)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.rules))})"

    def sampling(self, state: ScreeningState) -> bool:
        return any(getattr(r, "sampling", lambda s: False)(state) for r in self.rules)

    def _combine(self, state: ScreeningState, parts: list[StopDecision], stop: bool):
        deciding = [d for d in parts if d.stop] if stop else parts
        # the recall estimate of a deciding statistical rule: the smallest p-value, else
        # the first rule with a confidence level (e.g. the Poisson-process estimate)
        tested = [d for d in deciding if d.p_value is not None]
        estimated = [d for d in deciding if d.confidence is not None]
        best = (min(tested, key=lambda d: d.p_value) if tested
                else estimated[0] if estimated else None)
        return self._decision(
            state,
            stop,
            estimated_recall=None if best is None else (lambda: best.estimated_recall),
            confidence=None if best is None else best.confidence,
            p_value=None if best is None else best.p_value,
            detail="; ".join(
                f"{d.rule}: {'stop' if d.stop else 'continue'} ({d.detail})" for d in parts
            ),
            parts=tuple(parts),
        )


class AnyOf(_Combinator):
    """Stop as soon as any of the rules says stop."""

    def check(self, state: ScreeningState) -> StopDecision:
        parts = [r.check(state) for r in self.rules]
        return self._combine(state, parts, any(d.stop for d in parts))


class AllOf(_Combinator):
    """Stop only when every rule says stop."""

    def check(self, state: ScreeningState) -> StopDecision:
        parts = [r.check(state) for r in self.rules]
        return self._combine(state, parts, all(d.stop for d in parts))


def replay_stopping(
    labels: Sequence[int] | np.ndarray,
    rule: StoppingRule,
    *,
    n_prior: int = 0,
    random_state: int | np.random.Generator | None = 0,
) -> tuple[StopDecision, np.ndarray]:
    """Replay a rule over a complete screening order.

    The ranked order is followed until the rule asks for random sampling; from then on
    the remaining records are drawn in random order (the ranking no longer matters).

    Parameters
    ----------
    labels : array of 0/1
        Relevance of *all* records in ranked order, priors first.
    rule : StoppingRule
    n_prior : int
        Number of prior records at the start of ``labels``.
    random_state : int or Generator
        Seed of the random-sampling phase.

    Returns
    -------
    (StopDecision, numpy.ndarray)
        The decision at the stop (or at the end) and the labels in the order actually
        screened.
    """
    lab = np.asarray(labels, dtype=int).copy()
    n = len(lab)
    rng = np.random.default_rng(random_state)
    random_from = None
    sampling = getattr(rule, "sampling", None)
    decision = None
    for k in range(max(n_prior, 1), n + 1):
        state = ScreeningState(lab[:k], n, n_prior, random_from)
        decision = rule.check(state)
        if decision.stop:
            return decision, lab
        if random_from is None and sampling is not None and sampling(state):
            random_from = k
            lab[k:] = lab[k:][rng.permutation(n - k)]
    if decision is None:
        decision = rule.check(ScreeningState(lab, n, n_prior, random_from))
    return decision, lab

