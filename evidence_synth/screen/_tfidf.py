"""Word n-gram TF-IDF: scikit-learn's ``TfidfVectorizer`` matrix, counted with numpy.

scikit-learn counts n-grams one Python string at a time (every bigram is joined, hashed
and counted per record), then sorts the vocabulary as ``(term, index)`` tuples and
prunes it in a Python loop: about half the CPU of a 2,000-record simulation. Here the
tokens come from the same regular expression, n-grams are integer codes, and counting,
pruning and ordering are array operations that rebuild scikit-learn's count matrix
entry for entry, in the same storage order; scikit-learn's own ``TfidfTransformer`` then
weights it, so the TF-IDF matrix is identical bit for bit (and so is everything computed
from it downstream). Settings other than the default word analyzer, and the corner cases
where scikit-learn raises (no terms, everything pruned), go to scikit-learn itself.
"""

from __future__ import annotations

import re
from itertools import chain
from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer

#: ``TfidfVectorizer``'s default ``token_pattern`` is ``(?u)\b\w\w+\b``: the maximal runs
#: of two or more word characters, which is what this finds (faster, without the ``\b``).
_TOKEN = re.compile(r"\w\w+")


def fit_word_tfidf(
    texts: list[str], *, ngram_range: tuple[int, int], min_df: int | float,
    max_df: int | float,
) -> tuple[TfidfVectorizer, sp.spmatrix]:
    """``TfidfVectorizer(ngram_range, sublinear_tf=True, min_df, max_df).fit_transform``.

    Returns the fitted vectorizer (``vocabulary_``, ``idf_``; ``transform`` works as
    usual) and the same TF-IDF matrix scikit-learn returns.
    """
    vectorizer = TfidfVectorizer(ngram_range=tuple(ngram_range), sublinear_tf=True,
                                 min_df=min_df, max_df=max_df)
    counted = _count(texts, *vectorizer.ngram_range, min_df, max_df)
    if counted is None:
        return vectorizer, vectorizer.fit_transform(texts)
    counts, terms = counted
    tfidf = TfidfTransformer(norm=vectorizer.norm, use_idf=vectorizer.use_idf,
                             smooth_idf=vectorizer.smooth_idf,
                             sublinear_tf=vectorizer.sublinear_tf)
    X = tfidf.fit(counts).transform(counts, copy=False)
    vectorizer.vocabulary_ = dict(zip(terms, range(len(terms)), strict=True))
    vectorizer.idf_ = tfidf.idf_
    return vectorizer, X


def _count(texts, min_n, max_n, min_df, max_df):
    """Count matrix and its terms, as ``CountVectorizer.fit_transform``; None to defer."""
    n_docs = len(texts)
    if not (isinstance(min_n, Integral) and isinstance(max_n, Integral) and 1 <= min_n <= max_n):
        return None
    if not all(isinstance(t, str) for t in texts):
        return None
    docs = [_TOKEN.findall(t.lower()) for t in texts]
    lens = np.fromiter(map(len, docs), dtype=np.int64, count=n_docs)
    flat = list(chain.from_iterable(docs))
    total = len(flat)
    if total == 0 or total * (max_n - min_n + 1) > np.iinfo(np.int32).max:
        return None
    tokens, uniques = pd.factorize(np.asarray(flat, dtype=object))
    tokens = tokens.astype(np.int64)
    n_uni = len(uniques)
    doc_of = np.repeat(np.arange(n_docs), lens)
    pos = np.arange(total) - (np.cumsum(lens) - lens)[doc_of]
    left = lens[doc_of] - pos  # tokens from here to the end of the record

    # The analyzer's stream per record: its min_n-grams in order, then its (min_n+1)-grams
    # ...; CountVectorizer numbers the terms by first appearance in that stream.
    per_doc = _stream_lengths(lens, min_n, max_n)
    stream_at = np.cumsum(per_doc) - per_doc
    stream = np.empty(int(per_doc.sum()), dtype=np.int64)
    gram_n = np.empty_like(stream)
    gram_start = np.empty_like(stream)
    block = np.zeros(n_docs, dtype=np.int64)  # where each record's n-gram block starts
    at = np.arange(total)  # where the n-grams start
    code = tokens  # code[i]: the n-gram starting at at[i], numbered within its length
    offset = 0
    for n in range(1, max_n + 1):
        if n > 1:
            # the positions that start an n-gram start an (n-1)-gram too, in the same order
            longer = left[at] >= n
            at = at[longer]
            code = np.asarray(pd.factorize(code[longer] * n_uni + tokens[at + n - 1])[0],
                              dtype=np.int64)
        if n < min_n:
            continue
        doc = doc_of[at]
        where = stream_at[doc] + block[doc] + pos[at]
        stream[where] = offset + code
        gram_n[where] = n
        gram_start[where] = at
        block += np.maximum(lens - n + 1, 0)
        offset += int(code.max()) + 1 if len(code) else 0
    if not len(stream):
        return None
    vid, _ = pd.factorize(stream)
    vid = np.asarray(vid, dtype=np.int64)
    n_terms = int(vid.max()) + 1
    stream_doc = np.repeat(np.arange(n_docs), per_doc)
    keys, counts = np.unique(stream_doc * n_terms + vid, return_counts=True)
    rows, cols = keys // n_terms, keys % n_terms

    high = max_df if isinstance(max_df, Integral) else max_df * n_docs
    low = min_df if isinstance(min_df, Integral) else min_df * n_docs
    dfs = np.bincount(cols, minlength=n_terms)
    keep = (dfs <= high) & (dfs >= low)
    if high < low or not keep.any():
        return None

    # Each term's first appearance gives its tokens; terms sort as their token ranks,
    # shorter first (tokens are \w+, so "a b" sorts right after "a", as in sorted()).
    running = np.maximum.accumulate(vid)
    first = np.flatnonzero(np.r_[True, running[1:] > running[:-1]])
    t_n, t_start = gram_n[first], gram_start[first]
    alpha = np.empty(n_uni, dtype=np.int64)
    alpha[sorted(range(n_uni), key=uniques.tolist().__getitem__)] = np.arange(n_uni)
    ranks = [np.where(t_n > j, alpha[tokens[np.minimum(t_start + j, total - 1)]], -1)
             for j in range(max_n)]
    order = np.lexsort(ranks[::-1])
    order = order[keep[order]]
    new_index = np.full(n_terms, -1, dtype=np.int64)
    new_index[order] = np.arange(len(order))

    kept = keep[cols]
    indptr = np.r_[0, np.cumsum(np.bincount(rows[kept], minlength=n_docs))]
    matrix = sp.csr_matrix(
        (counts[kept].astype(np.float64), new_index[cols[kept]].astype(np.int32),
         indptr.astype(np.int32)),
        shape=(n_docs, len(order)),
    )
    starts, lengths = t_start[order], t_n[order]
    words = np.asarray(uniques, dtype=object)
    terms = words[tokens[starts]]
    for j in range(1, max_n):
        longer = lengths > j
        terms[longer] = terms[longer] + " " + words[tokens[starts[longer] + j]]
    return matrix, terms.tolist()


def _stream_lengths(lens: np.ndarray, min_n: int, max_n: int) -> np.ndarray:
    """Terms the analyzer emits per record: its n-grams for n = min_n .. max_n."""
    return sum((np.maximum(lens - n + 1, 0) for n in range(min_n, max_n + 1)),
               np.zeros(len(lens), dtype=np.int64))

