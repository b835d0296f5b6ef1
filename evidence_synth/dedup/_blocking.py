"""Candidate pairs from several blocking keys, so recall does not rest on one field."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer

_MAX_BLOCK = 40
_WINDOW = 4
_MAX_POSTING = 1000


def _pairs_in_blocks(keys: pd.Series, order_key: pd.Series) -> np.ndarray:
    """All pairs inside each block of equal non-empty key; large blocks by sorted window."""
    valid = keys.notna() & (keys != "")
    if not valid.any():
        return np.empty((0, 2), dtype=np.int64)
    frame = pd.DataFrame({"key": keys[valid], "order": order_key[valid],
                          "idx": np.flatnonzero(valid.to_numpy())})
    frame = frame.sort_values(["key", "order", "idx"], kind="mergesort")
    sizes = frame.groupby("key", sort=False).size().to_numpy()
    idx = frame["idx"].to_numpy()
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    pair_starts = starts[sizes == 2]  # most blocks are pairs: take them all at once
    out = [np.column_stack([idx[pair_starts], idx[pair_starts + 1]])]
    triangles: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for start, size in zip(starts[sizes > 2].tolist(), sizes[sizes > 2].tolist(), strict=True):
        members = idx[start:start + size]
        if size <= _MAX_BLOCK:
            if size not in triangles:
                triangles[size] = np.triu_indices(size, k=1)
            a, b = triangles[size]
        else:
            a = np.concatenate([np.arange(size - w) for w in range(1, _WINDOW + 1)])
            b = np.concatenate([np.arange(w, size) for w in range(1, _WINDOW + 1)])
        out.append(np.column_stack([members[a], members[b]]))
    return np.concatenate(out) if out else np.empty((0, 2), dtype=np.int64)


def _sorted_neighbourhood(key: pd.Series, window: int = _WINDOW) -> np.ndarray:
    valid = np.flatnonzero((key != "").to_numpy())
    if len(valid) < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = valid[np.lexsort((valid, key.to_numpy()[valid]))]
    pairs = [np.column_stack([order[:-w], order[w:]]) for w in range(1, window + 1)
             if w < len(order)]
    return np.concatenate(pairs)


def _title_neighbours(titles: pd.Series, k: int = 6, min_cosine: float = 0.55,
                      chunk: int = 2000) -> np.ndarray:
    """Top-k character 3-gram TF-IDF cosine neighbours of every title.

    3-grams in more than 2% of the titles, or in more than ``_MAX_POSTING`` of them, are
    left out: they say little about identity, and the absolute cap keeps the cost of the
    sparse product linear in the number of titles.
    """
    mask = (titles.str.len() >= 10).to_numpy()
    idx = np.flatnonzero(mask)
    if len(idx) < 2:
        return np.empty((0, 2), dtype=np.int64)
    max_df = 0.02 if 0.02 * len(idx) <= _MAX_POSTING else _MAX_POSTING
    vec = TfidfVectorizer(analyzer="char", ngram_range=(3, 3), min_df=2, max_df=max_df,
                          sublinear_tf=True, dtype=np.float32)
    try:
        X = vec.fit_transform(titles.to_numpy()[idx])
    except ValueError:
        return np.empty((0, 2), dtype=np.int64)
    XT = X.T.tocsr()
    out = []
    for start in range(0, X.shape[0], chunk):
        S = (X[start:start + chunk] @ XT).tocoo()
        keep = (S.data >= min_cosine) & (S.row + start < S.col)
        rows, cols, vals = S.row[keep] + start, S.col[keep], S.data[keep]
        if not len(rows):
            continue
        order = np.lexsort((cols, -vals, rows))
        rows, cols = rows[order], cols[order]
        first = np.searchsorted(rows, rows, side="left")
        rank = np.arange(len(rows)) - first
        sel = rank < k
        out.append(np.column_stack([idx[rows[sel]], idx[cols[sel]]]))
    return np.concatenate(out) if out else np.empty((0, 2), dtype=np.int64)


def candidate_pairs(norm: pd.DataFrame) -> np.ndarray:
    """Unique candidate pairs ``(i, j)`` with ``i < j`` (row positions), sorted.

    Keys: normalised DOI; title prefix and suffix; first-author surname + year; sorted
    neighbourhood over the title key; character n-gram nearest neighbours of titles.
    """
    n = len(norm)
    title_key = norm["title_key"]
    year = norm["year"].fillna(-1).astype(int).astype(str)
    first_author = norm["first_author"]
    parts = [
        _pairs_in_blocks(norm["doi_key"], title_key),
        _pairs_in_blocks(title_key.str.slice(0, 25).where(title_key.str.len() >= 12, ""),
                         first_author),
        _pairs_in_blocks(title_key.str.slice(-25).where(title_key.str.len() >= 12, ""),
                         first_author),
        _pairs_in_blocks((first_author + "|" + year).where(first_author != "", ""), title_key),
        _pairs_in_blocks((first_author + "|" + norm["volume"] + "|" + norm["page_first"])
                         .where((first_author != "") & (norm["page_first"] != ""), ""),
                         title_key),
        _sorted_neighbourhood(title_key),
        _title_neighbours(norm["title"]),
    ]
    pairs = np.concatenate([p for p in parts if len(p)]) if any(len(p) for p in parts) else \
        np.empty((0, 2), dtype=np.int64)
    if not len(pairs):
        return pairs.astype(np.int64)
    pairs = np.sort(pairs.astype(np.int64), axis=1)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    codes = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.column_stack([codes // n, codes % n])
