"""``LinearSVC(C=..., tol=..., random_state=...).fit`` without the per-call input checks.

A simulation refits the SVM a few hundred times on rows that are already a float64 CSR
matrix with 0/1 labels and float64 weights; scikit-learn's ``LinearSVC.fit`` spends 1-3
ms per call checking them (parameters, input arrays, targets, label encoding), as long as
liblinear's own solve on the early, small fits. :func:`fit_linear_svc` hands liblinear
the arguments ``LinearSVC.fit`` would hand it, so the coefficients are the same bit for
bit. That entry point (``sklearn.svm._liblinear.train_wrap``) is private: the first call
in a process fits a small problem both ways and, if they differ in any bit, or the entry
point or ``LinearSVC``'s defaults are not the ones reproduced here, every fit goes
through ``LinearSVC`` itself.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC
from sklearn.utils import check_random_state

try:
    from sklearn.svm import _liblinear
except ImportError:  # pragma: no cover - a scikit-learn without it uses LinearSVC
    _liblinear = None

#: The ``LinearSVC`` defaults that the direct call reproduces.
_DEFAULTS = {"penalty": "l2", "loss": "squared_hinge", "dual": "auto", "multi_class": "ovr",
             "fit_intercept": True, "intercept_scaling": 1, "class_weight": None,
             "verbose": 0, "max_iter": 1000}
#: liblinear's solver numbers: L2-regularised squared-hinge SVM, dual and primal.
_DUAL, _PRIMAL = 1, 2


def fit_linear_svc(X: sp.csr_matrix, y: np.ndarray, sample_weight: np.ndarray, *, C: float,
                   tol: float, random_state) -> tuple[np.ndarray, float]:
    """Coefficients and intercept of ``LinearSVC(C, tol, random_state).fit(X, y, w)``.

    ``y`` holds both 0 and 1.
    """
    if _direct_ok() and _direct_input(X):
        return _direct(X, y, sample_weight, C=C, tol=tol, random_state=random_state)
    svm = LinearSVC(C=C, tol=tol, random_state=random_state).fit(X, y, sample_weight=sample_weight)
    return svm.coef_.ravel(), float(svm.intercept_[0])


def _direct_input(X) -> bool:
    return (sp.issparse(X) and X.format == "csr" and X.dtype == np.float64
            and X.indices.dtype == np.int32 and X.indptr.dtype == np.int32 and X.nnz > 0)


def _direct(X, y, sample_weight, *, C, tol, random_state) -> tuple[np.ndarray, float]:
    _liblinear.set_verbosity_wrap(0)
    if isinstance(random_state, (int, np.integer)):
        seed = _int_seed(int(random_state))
    else:  # None or a RandomState: draw from it, as LinearSVC does
        seed = check_random_state(random_state).randint(np.iinfo("i").max)
    raw, n_iter = _liblinear.train_wrap(
        X, np.require(np.asarray(y, dtype=np.float64).ravel(), requirements="W"), True,
        _DUAL if X.shape[0] < X.shape[1] else _PRIMAL, tol, 1.0, C, np.ones(2), 1000, seed,
        0.1, np.ascontiguousarray(sample_weight, dtype=np.float64),
    )
    if max(n_iter) >= 1000:
        warnings.warn("Liblinear failed to converge, increase the number of iterations.",
                      ConvergenceWarning, stacklevel=3)
    return raw[:, :-1].ravel(), float(raw[0, -1])


@functools.lru_cache(maxsize=64)
def _int_seed(random_state: int) -> int:
    """liblinear's seed for an int ``random_state`` (a fresh RandomState every fit)."""
    return np.random.RandomState(random_state).randint(np.iinfo("i").max)


@functools.cache
def _direct_ok() -> bool:
    """Whether the direct call gives ``LinearSVC``'s coefficients here (checked once)."""
    if _liblinear is None or not hasattr(_liblinear, "train_wrap"):
        return False
    params = LinearSVC().get_params()
    if any(params.get(k) != v for k, v in _DEFAULTS.items()):
        return False
    rng = np.random.default_rng(7)
    for rows, cols, tol, seed in ((40, 60, 1e-4, 0), (40, 60, 1e-2, 3), (60, 40, 1e-4, 5)):
        X = sp.random(rows, cols, density=0.2, format="csr", random_state=rng)
        X.indices, X.indptr = X.indices.astype(np.int32), X.indptr.astype(np.int32)
        y = (rng.random(rows) < 0.3).astype(int)
        y[:2] = [0, 1]
        w = rng.random(rows) + 0.5
        svm = LinearSVC(C=0.11, tol=tol, random_state=seed).fit(X, y, sample_weight=w)
        try:
            coef, intercept = _direct(X, y, w, C=0.11, tol=tol, random_state=seed)
        except (TypeError, ValueError):
            return False
        if not (np.array_equal(coef, svm.coef_.ravel())
                and intercept == float(svm.intercept_[0])):
            return False
    return True
