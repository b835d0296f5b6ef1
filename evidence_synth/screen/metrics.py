"""Screening-simulation metrics, defined as in asreview-insights (priors excluded).

All functions take ``labels``: the 0/1 relevance of the records in the order they were
screened, *without* the prior (seed) records, padded with zeros up to the number of
non-prior records (``N``). ``R`` is the number of relevant records among them.
``found(k)`` is the number of relevant records among the first ``k``.

- recall at x screened: ``found(k) / R`` at the last ``k`` with ``k / N <= x``.
- WSS@r (asreview-insights ``_wss_values`` + ``_slice_metric``): with
  ``found_random = round(linspace(0, R, N))`` and ``when(j)`` the first 0-based index at
  which ``found`` reaches ``j``, ``y_j = (when_random(j) - when(j)) / N``; WSS@r is
  ``y_j`` at the largest ``j`` with ``j / R <= r``.
- ERF@x: ``(found(k) - found_random[k - 1]) / R`` at the last ``k`` with ``k / N <= x``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evidence_synth.errors import EvidenceSynthError

__all__ = [
    "erf",
    "padded_labels",
    "recall_at",
    "screening_metrics",
    "wss",
]


def padded_labels(labels: Sequence[int] | np.ndarray, n_records: int) -> np.ndarray:
    """Return ``labels`` as an int array padded with zeros to ``n_records`` entries."""
    arr = np.asarray(labels, dtype=int)
    if arr.ndim != 1 or not np.isin(arr, (0, 1)).all():
        raise EvidenceSynthError(
            f"expected a 1-d sequence of 0/1 labels, found values {np.unique(arr)[:5]}"
        )
    if len(arr) > n_records:
        raise EvidenceSynthError(
            f"expected at most {n_records} labels (records), found {len(arr)}"
        )
    return np.concatenate([arr, np.zeros(n_records - len(arr), dtype=int)])


def _check(labels: np.ndarray) -> tuple[int, int]:
    n, r = len(labels), int(labels.sum())
    if n == 0 or r == 0:
        raise EvidenceSynthError(
            f"expected at least one relevant record among the screened labels, found "
            f"{r} relevant in {n} records"
        )
    return n, r


def _last_k(n: int, x: float) -> int:
    # last 1-based k with k / n <= x (asreview-insights `_slice_metric`, side="right")
    return int(np.searchsorted(np.arange(1, n + 1) / n, x, side="right"))


def recall_at(labels: Sequence[int] | np.ndarray, x: float) -> float:
    """Recall after screening the share ``x`` of the records (0 if ``x < 1/N``)."""
    lab = np.asarray(labels, dtype=int)
    n, r = _check(lab)
    k = _last_k(n, x)
    return 0.0 if k == 0 else float(lab[:k].sum() / r)


def wss(labels: Sequence[int] | np.ndarray, r: float = 0.95) -> float:
    """Work saved over sampling at recall ``r`` (asreview-insights definition)."""
    lab = np.asarray(labels, dtype=int)
    n, n_pos = _check(lab)
    found = np.cumsum(lab)
    found_random = np.round(np.linspace(0, n_pos, n))
    js = np.arange(1, n_pos + 1)
    y = (np.searchsorted(found_random, js) - np.searchsorted(found, js)) / n
    i = int(np.searchsorted(js / n_pos, r, side="right"))
    return float(y[i - 1])


def erf(labels: Sequence[int] | np.ndarray, x: float = 0.10) -> float:
    """Extra relevant records found (share of R) after screening the share ``x``."""
    lab = np.asarray(labels, dtype=int)
    n, n_pos = _check(lab)
    k = _last_k(n, x)
    found_random = np.round(np.linspace(0, n_pos, n))
    return float((lab[:k].sum() - found_random[k - 1]) / n_pos)


def screening_metrics(
    labels: Sequence[int] | np.ndarray, *, stopped_at: int | None = None
) -> dict[str, float]:
    """All headline metrics of one screening order.

    Parameters
    ----------
    labels : sequence of 0/1
        Relevance in screening order, priors excluded, padded to all non-prior records.
    stopped_at : int, optional
        Non-prior records screened when the stopping rule fired.

    Returns
    -------
    dict
        ``recall_at_10``, ``recall_at_25``, ``wss_95``, ``wss_100``, ``erf_10``, and when
        ``stopped_at`` is given ``stopped_at``, ``recall_at_stop``, ``work_saved``
        (share of non-prior records left unscreened).
    """
    lab = np.asarray(labels, dtype=int)
    out = {
        "recall_at_10": recall_at(lab, 0.10),
        "recall_at_25": recall_at(lab, 0.25),
        "wss_95": wss(lab, 0.95),
        "wss_100": wss(lab, 1.0),
        "erf_10": erf(lab, 0.10),
    }
    if stopped_at is not None:
        out["stopped_at"] = int(stopped_at)
        out["recall_at_stop"] = float(lab[:stopped_at].sum() / lab.sum())
        out["work_saved"] = float(1 - stopped_at / len(lab))
    return out
