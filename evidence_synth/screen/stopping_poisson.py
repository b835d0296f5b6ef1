"""Counting-process stopping rule of Sneyd & Stevenson (inhomogeneous Poisson process).

The relevant records met along a ranking are modelled as an inhomogeneous Poisson
process whose rate falls with the rank. The rate is fitted to what has been screened;
its integral over the whole ranking gives the expected number of relevant records, and
an upper quantile of the Poisson distribution with that mean a number the review can be
confident it does not exceed. Screening stops once the relevant records found reach the
target share of that number.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.stats import poisson

from evidence_synth.errors import EvidenceSynthError

from .stopping import ScreeningState, StopDecision, _Rule

__all__ = ["PoissonProcessStop"]

_RATES = ("exponential", "power")


def _exponential(x: np.ndarray, a: float, k: float) -> np.ndarray:
    return a * np.exp(-k * x)


def _power(x: np.ndarray, a: float, k: float) -> np.ndarray:
    return a * np.power(x, k)


class PoissonProcessStop(_Rule):
    """Inhomogeneous Poisson process stopping rule (Sneyd & Stevenson 2019, 2021).

    At ``n`` records screened in ranked order (priors first), the ``n`` records are cut
    into ``n_windows`` windows of ``w = n // n_windows`` records (the last ``n mod w``
    are left out of the fit); each window gives a point: x = its midpoint (exponential
    rate) or its first rank (power rate), y = relevant records in it / ``w``. The rate
    ``lambda(x) = a exp(-k x)`` (or ``a x**k``) is fitted to the points by least
    squares (``scipy.optimize.curve_fit`` from ``a = 0.1, k = 0.001`` as in the authors'
    code). Then:

    1. fit check: the relevant records found must be at least ``target_recall`` times
       the fitted curve's count over the screened ranks, ``round(sum lambda(1..n))``;
    2. the expected number of relevant records in the ranking is
       ``mu = integral of lambda over [0, N]`` (``a/k (1 - exp(-k N))``;
       ``a/(k+1) (N**(k+1) - 1)`` for the power rate);
    3. ``R_max`` is the smallest ``i`` with ``P(Poisson(mu) <= i) >= confidence``;
    4. stop when ``found >= target_recall * R_max``.

    Nothing is decided before ``min_screened`` records (an int) or that share of the
    pool (a float below 1) are screened, or before ``min_relevant`` relevant records are
    found (the authors require 20 in the first 30 %); a failed fit or an increasing rate
    means continue. The estimate assumes the ranking finds relevant records at a falling
    rate that the curve describes; the authors report recall above the target in most
    CLEF and TREC topics, not a worst-case guarantee.

    Sneyd A, Stevenson M (2019). Modelling stopping criteria for search results using
    Poisson processes. EMNLP-IJCNLP 2019, 3484-3489. doi:10.18653/v1/D19-1351.
    Sneyd A, Stevenson M (2021). Stopping criteria for technology assisted reviews based
    on counting processes. SIGIR '21, 2293-2297. doi:10.1145/3404835.3463013.
    Stevenson M, Bin-Hezam R (2023). Stopping methods for technology-assisted reviews
    based on point processes. ACM TOIS 42(3). doi:10.1145/3631990.

    Parameters
    ----------
    target_recall : float
        Recall the review must reach.
    confidence : float
        Quantile of the Poisson distribution used as the most relevant records there are.
    rate : {"exponential", "power"}
        Shape of the rate function.
    n_windows : int
        Windows the screened records are cut into for the fit (at least 3).
    min_relevant : int
        Relevant records (priors included) needed before the rule can stop.
    min_screened : int or float
        Records, or share of the pool when below 1, screened before the rule can stop.
    step : float
        The rule is evaluated when the records screened reach a multiple of this share
        of the pool (the authors evaluate at 30 %, 35 %, ...; default 1 %), and answers
        "continue" in between; this bounds the cost of the curve fits when the rule is
        checked after every record.
    """

    def __init__(
        self,
        target_recall: float = 0.95,
        confidence: float = 0.95,
        *,
        rate: str = "exponential",
        n_windows: int = 10,
        min_relevant: int = 20,
        min_screened: int | float = 0.3,
        step: float = 0.01,
    ) -> None:
        if not 0 < target_recall <= 1:
            raise EvidenceSynthError(f"expected target_recall in (0, 1], found {target_recall}")
        if not 0 < confidence < 1:
            raise EvidenceSynthError(f"expected confidence in (0, 1), found {confidence}")
        if rate not in _RATES:
            raise EvidenceSynthError(f"expected rate in {_RATES}, found {rate!r}")
        if n_windows < 3:
            raise EvidenceSynthError(f"expected n_windows >= 3, found {n_windows}")
        if min_screened < 0 or min_relevant < 0:
            raise EvidenceSynthError("expected min_screened and min_relevant >= 0")
        self.target_recall = float(target_recall)
        self.confidence = float(confidence)
        self.rate = rate
        self.n_windows = int(n_windows)
        self.min_relevant = int(min_relevant)
        self.min_screened = min_screened
        if not 0 < step <= 1:
            raise EvidenceSynthError(f"expected step in (0, 1], found {step}")
        self.step = float(step)

    def __repr__(self) -> str:
        return (
            f"PoissonProcessStop(target_recall={self.target_recall:g}, "
            f"confidence={self.confidence:g}, rate={self.rate!r}, "
            f"n_windows={self.n_windows}, min_relevant={self.min_relevant}, "
            f"min_screened={self.min_screened:g}, step={self.step:g})"
        )

    def _min_screened(self, n_records: int) -> int:
        if isinstance(self.min_screened, float) and self.min_screened < 1:
            return math.ceil(self.min_screened * n_records)
        return int(self.min_screened)

    def fit(self, labels: np.ndarray) -> tuple[float, float] | None:
        """Rate parameters ``(a, k)`` fitted to a screening order, or None if the fit fails."""
        n = len(labels)
        width = n // self.n_windows
        if width < 1:
            return None
        starts = np.arange(self.n_windows) * width
        counts = np.add.reduceat(np.asarray(labels[: width * self.n_windows], float), starts)
        y = counts / width
        if self.rate == "exponential":
            x, model = starts + width / 2, _exponential
        else:
            x, model = starts + 1.0, _power
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                warnings.simplefilter("ignore", RuntimeWarning)
                (a, k), _ = curve_fit(model, x, y, p0=[0.1, 0.001], maxfev=2000)
        except (RuntimeError, ValueError):
            return None
        if not (np.isfinite(a) and np.isfinite(k)) or a <= 0:
            return None
        return float(a), float(k)

    def expected_relevant(self, a: float, k: float, n_records: int) -> float:
        """Integral of the fitted rate over the whole ranking (``inf`` if it diverges)."""
        if self.rate == "exponential":
            if k <= 0:
                return math.inf
            return a / k * -math.expm1(-k * n_records)
        if k >= 0:
            return math.inf
        if abs(k + 1) < 1e-12:
            return a * math.log(n_records)
        return a / (k + 1) * (n_records ** (k + 1) - 1)

    def check(self, state: ScreeningState) -> StopDecision:
        found = state.n_relevant
        if state.n_unscreened == 0:
            return self._decision(state, True, detail="every record was screened",
                                  estimated_recall=1.0, confidence=self.confidence)
        need = self._min_screened(state.n_records)
        if state.n_screened < need or found < self.min_relevant:
            return self._decision(
                state, False, confidence=self.confidence,
                detail=f"waiting for {need} records screened and {self.min_relevant} "
                       f"relevant found ({state.n_screened} and {found} so far)")
        every = max(1, round(self.step * state.n_records))
        if state.n_screened % every:
            return self._decision(
                state, False, confidence=self.confidence,
                detail=f"evaluated every {every} records; next at "
                       f"{(state.n_screened // every + 1) * every}")
        params = self.fit(state.labels)
        if params is None:
            return self._decision(state, False, confidence=self.confidence,
                                  detail="the rate curve could not be fitted")
        a, k = params
        model = _exponential if self.rate == "exponential" else _power
        on_curve = round(float(model(np.arange(1, state.n_screened + 1), a, k).sum()))
        mu = self.expected_relevant(a, k, state.n_records)
        if found < self.target_recall * on_curve or not math.isfinite(mu):
            return self._decision(
                state, False, confidence=self.confidence,
                detail=f"the fitted {self.rate} rate does not describe the screening so far "
                       f"({found} relevant found, {on_curve} on the curve)")
        r_max = int(poisson.ppf(self.confidence, mu))
        stop = found >= self.target_recall * r_max
        return self._decision(
            state, stop, confidence=self.confidence,
            estimated_recall=min(1.0, found / r_max) if r_max else 1.0,
            detail=f"{self.rate} rate a = {a:.4g}, k = {k:.4g}: {mu:.1f} relevant expected "
                   f"in the ranking, at most {r_max} at {100 * self.confidence:g}%; "
                   f"{found} found (stop at {self.target_recall * r_max:.1f})")
