"""Train the shipped pair classifier on the labelled sets in ``../shared/data/dedup``.

Run from the repository root::

    python -m evidence_synth.dedup._train [--data DIR] [--sets cardiac,neuroimaging,...]

Training pairs are the candidate pairs the blocking produces on each set, labelled by the
sets' ground truth. Easy negatives (title similarity below 0.5) are subsampled with a
matching sample weight. The model is written to ``evidence_synth/dedup/models/``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ._blocking import candidate_pairs
from ._features import FEATURES, compare
from ._labelled import DEFAULT_DIR, SETS, labelled_records
from ._model import MODEL_PATH, PairModel, export_calibrated
from ._normalise import normalise_records

_EASY_KEEP = 0.2
_DROP_GROUPS: dict[str, tuple[str, ...]] = {
    "year": ("year_diff",),
    "abstract": ("abstract_ratio",),
    "pages": ("page_first_equal", "page_last_equal"),
    "doi": ("doi_equal",),
    "volume": ("volume_equal", "issue_equal"),
    "journal": ("journal_ratio", "journal_abbrev"),
    "authors": ("author_overlap", "author_ratio", "first_author_equal", "n_authors_diff"),
}
_MISSING_FROM = ("doi_equal", "volume_equal", "page_first_equal", "abstract_ratio", "year_diff",
                 "journal_ratio")
_MONOTONIC = {
    "title_ratio": 1, "title_token_sort": 1, "title_token_set": 1, "title_prefix": 1,
    "numbers_equal": 1, "author_overlap": 1, "author_ratio": 1, "first_author_equal": 1,
    "year_diff": -1, "journal_ratio": 1, "journal_abbrev": 1, "volume_equal": 1,
    "issue_equal": 1, "page_first_equal": 1, "page_last_equal": 1, "doi_equal": 1,
    "abstract_ratio": 1, "type_conflict": -1,
}


def augment_missing(X: pd.DataFrame, y: np.ndarray, weight: np.ndarray, *, share: float = 0.5,
                    p_drop: float = 0.3, random_state: int = 0):
    """Append copies of a share of the pairs with random field groups blanked (NaN).

    Teaches the classifier what a pair looks like when one source lacks a field (PDF
    records without year, exports without abstracts or DOIs).
    """
    rng = np.random.default_rng(random_state)
    pick = np.flatnonzero(rng.random(len(y)) < share)
    extra = X.iloc[pick].copy().reset_index(drop=True)
    for cols in _DROP_GROUPS.values():
        drop = rng.random(len(extra)) < p_drop
        extra.loc[drop, list(cols)] = np.nan
    extra["missing_fields"] = extra[list(_MISSING_FROM)].isna().sum(axis=1).astype(float)
    return (pd.concat([X, extra], ignore_index=True), np.concatenate([y, y[pick]]),
            np.concatenate([weight, weight[pick]]))


def training_pairs(records: pd.DataFrame, *, random_state: int = 0) -> tuple[pd.DataFrame,
                                                                              np.ndarray,
                                                                              np.ndarray]:
    """Features, labels and sample weights of the candidate pairs of one labelled set."""
    norm = normalise_records(records)
    pairs = candidate_pairs(norm)
    features = compare(norm, pairs, workers=2)
    group = records["true_group"].to_numpy()
    y = group[pairs[:, 0]] == group[pairs[:, 1]]
    rng = np.random.default_rng(random_state)
    easy = ~y & (features["title_ratio"].fillna(0).to_numpy() < 0.5)
    keep = ~easy | (rng.random(len(y)) < _EASY_KEEP)
    weight = np.where(easy, 1 / _EASY_KEEP, 1.0)
    return augment_missing(features[keep].reset_index(drop=True), y[keep], weight[keep],
                           random_state=random_state)


def cap_rows(X: pd.DataFrame, y: np.ndarray, w: np.ndarray, *, max_rows: int = 80_000,
             random_state: int = 0):
    """Keep every duplicate pair and a weighted random sample of the others (per set)."""
    if len(y) <= max_rows:
        return X, y, w
    rng = np.random.default_rng(random_state)
    pos = np.flatnonzero(y)
    neg = np.flatnonzero(~y)
    keep_neg = rng.choice(neg, size=max(0, max_rows - len(pos)), replace=False)
    idx = np.sort(np.concatenate([pos, keep_neg]))
    w = w.copy()
    w[keep_neg] *= len(neg) / max(1, len(keep_neg))
    return X.iloc[idx].reset_index(drop=True), y[idx], w[idx]


def fit_model(X: pd.DataFrame, y: np.ndarray, weight: np.ndarray | None = None, *,
              random_state: int = 0, info: dict | None = None) -> PairModel:
    """Fit the calibrated gradient-boosting classifier and export it."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import HistGradientBoostingClassifier

    base = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.15, max_leaf_nodes=15,
                                          min_samples_leaf=40, l2_regularization=1.0,
                                          early_stopping=False, random_state=random_state,
                                          monotonic_cst=[_MONOTONIC.get(f, 0) for f in FEATURES])
    clf = CalibratedClassifierCV(base, method="isotonic", cv=3, ensemble=False)
    clf.fit(X[list(FEATURES)], y, sample_weight=weight)
    return export_calibrated(clf, list(FEATURES), info or {})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DEFAULT_DIR))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--out", default=str(MODEL_PATH))
    args = parser.parse_args(argv)
    names = [s for s in args.sets.split(",") if s]
    parts = []
    for name in names:
        t = time.perf_counter()
        X, y, w = cap_rows(*training_pairs(labelled_records(name, args.data)))
        parts.append((X, y, w))
        print(f"{name}: {len(y)} pairs, {int(y.sum())} duplicates "
              f"({time.perf_counter() - t:.1f}s)")
    X = pd.concat([p[0] for p in parts], ignore_index=True)
    y = np.concatenate([p[1] for p in parts])
    w = np.concatenate([p[2] for p in parts])
    t = time.perf_counter()
    model = fit_model(X, y, w, info={"name": "shipped", "trained_on": names,
                                     "pairs": len(y), "duplicates": int(y.sum())})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"fitted in {time.perf_counter() - t:.1f}s; wrote {args.out} "
          f"({Path(args.out).stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
