"""Distribution of a positive linear combination of chi-square variables, for the
median-unbiased generalised Q estimator (``method="GENQM"``).

``Q = sum_j lambda_j X_j`` with independent ``X_j ~ chi2(1)`` and ``lambda_j > 0``. metafor
uses Farebrother's (1984) algorithm AS 204 (CompQuadForm), which evaluates Ruben's (1962)
expansion ``P(Q <= q) = sum_k a_k F_{m + 2k}(q / beta)`` with ``beta = min(lambda)``; the
same expansion is used here. The weights ``a_k`` are the probabilities of
``N = sum_j N_j`` where ``N_j`` is negative binomial with size 1/2 and success
probability ``beta / lambda_j`` (their generating functions multiply to Ruben's), so they
are computed as a convolution of negative binomial probabilities and the series is cut
where the probability left over is below ``eps``.
"""

from __future__ import annotations

import numpy as np
from scipy import signal, stats

from ..errors import EvidenceSynthError

_MAX_TERMS = 2**21


def chi2_mixture_sf(q: float, lam: np.ndarray, *, eps: float = 1e-12) -> float:
    """``P(Q > q)`` for ``Q = sum(lam_j X_j)``, ``X_j ~ chi2(1)``.

    Parameters
    ----------
    q : float
        Observed value.
    lam : numpy.ndarray
        Positive weights (eigenvalues); values <= 0 are ignored.
    eps : float
        Upper bound on the error from cutting the series.

    Raises
    ------
    EvidenceSynthError
        When the weights are so unequal that more than 2^21 terms would be needed.
    """
    lam = np.asarray(lam, dtype=float)
    lam = lam[lam > 0]
    if lam.size == 0 or q <= 0:
        return 1.0 if lam.size else 0.0
    beta = float(lam.min())
    success = beta / lam
    m = lam.size
    spread = success < 1
    n_terms = 256
    while True:
        k = np.arange(n_terms)
        weights = np.zeros(n_terms)
        weights[0] = 1.0
        for p in success[spread]:
            weights = signal.fftconvolve(weights, stats.nbinom.pmf(k, 0.5, p))[:n_terms]
        weights = np.clip(weights, 0.0, None)
        left = 1.0 - float(weights.sum())
        if left < eps or not spread.any():
            break
        if n_terms >= _MAX_TERMS:
            raise EvidenceSynthError(
                "GENQM: the eigenvalues of the generalised Q statistic differ too much "
                f"(ratio {lam.max() / beta:.3g}) to compute its distribution; use another method"
            )
        n_terms *= 2
    cdf = float(np.sum(weights * stats.chi2.cdf(q / beta, m + 2 * k)))
    return min(1.0, max(0.0, 1.0 - cdf))
