"""Candidate pairs from several blocking keys, so recall does not rest on one field."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

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


_LUT = np.full(256, 37, dtype=np.int64)
_LUT[np.frombuffer(b" 0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)] = np.arange(37)


def _char_trigram_tfidf(titles: np.ndarray, max_df: float) -> sparse.csr_matrix:
    """L2-normalised TF-IDF rows of character 3-grams (sublinear tf, smoothed idf), built
    with array operations: what ``TfidfVectorizer(analyzer="char", ngram_range=(3, 3),
    min_df=2, max_df=max_df, sublinear_tf=True)`` gives on normalised titles, without its
    per-title Python loop. Titles are normalised text (space, digits and letters; anything
    else is one "other" symbol), so a 3-gram is one small integer.
    """
    text = [" ".join(t.split()) for t in titles]
    lengths = np.fromiter((len(t) for t in text), np.int64, len(text))
    sym = _LUT[np.frombuffer("".join(text).encode("latin-1", "replace"), dtype=np.uint8)]
    ends = np.cumsum(lengths)
    valid = np.ones(len(sym), dtype=bool)  # a 3-gram starts where its title has 2 more
    last_two = np.concatenate([ends - 1, ends - 2])
    valid[last_two[last_two >= 0]] = False
    pos = np.flatnonzero(valid[:max(len(sym) - 2, 0)])
    row = np.searchsorted(ends, pos, side="right")
    code = (sym[pos] * 38 + sym[pos + 1]) * 38 + sym[pos + 2]
    counts = sparse.csr_matrix((np.ones(len(row), dtype=np.float32), (row, code)),
                               shape=(len(text), 38 ** 3))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=38 ** 3)
    limit = max_df * len(text) if isinstance(max_df, float) else max_df
    keep = np.flatnonzero((df >= 2) & (df <= limit))
    if not len(keep):
        raise ValueError("no 3-gram left")
    counts = counts[:, keep]
    idf = (np.log((1 + len(text)) / (1 + df[keep])) + 1).astype(np.float32)
    counts.data = (np.log(counts.data) + 1) * idf[counts.indices]
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    norms[norms == 0] = 1
    return sparse.csr_matrix(sparse.diags((1 / norms).astype(np.float32)) @ counts)


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
    try:
        X = _char_trigram_tfidf(titles.to_numpy()[idx], max_df)
    except ValueError:
        return np.empty((0, 2), dtype=np.int64)
    out = []
    for start in range(0, X.shape[0], chunk):
        # only the titles from this chunk on: a pair is kept once, from its first title
        S = (X[start:start + chunk] @ X[start:].T.tocsr()).tocsr()
        hit = np.flatnonzero(S.data >= min_cosine)
        rows = np.searchsorted(S.indptr, hit, side="right") - 1 + start
        cols = S.indices[hit].astype(np.int64) + start
        keep = rows < cols
        rows, cols, vals = rows[keep], cols[keep], S.data[hit[keep]]
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
