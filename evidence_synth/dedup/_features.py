"""Comparison features of candidate pairs (rapidfuzz, vectorised over pairs)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from rapidfuzz import fuzz
from rapidfuzz.distance import Indel
from rapidfuzz.process import cpdist

from ._normalise import journal_compatible

_VERSION_SUFFIX = re.compile(r"pub\d{1,2}$")

#: Feature columns, in the order the classifier expects them.
FEATURES: tuple[str, ...] = (
    "title_ratio", "title_token_sort", "title_token_set", "title_prefix", "title_len_ratio",
    "numbers_equal", "author_overlap", "author_ratio", "first_author_equal", "n_authors_diff",
    "year_diff", "journal_ratio", "journal_abbrev", "volume_equal", "issue_equal",
    "page_first_equal", "page_last_equal", "doi_equal", "abstract_ratio", "type_conflict",
    "preprint_pair", "conference_pair", "missing_fields",
)


def _equal_or_nan(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = (a == b).astype(float)
    out[(a == "") | (b == "")] = np.nan
    return out


def doi_agreement(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """1 when two DOI keys are equal or one is the other cut short, 0 when they differ,
    NaN when one is missing.

    Exports truncate long DOIs ("10.1080/140174307016" for "10.1080/14017430701603"); a
    cut-off DOI of at least 14 letters and digits, 10 of them digits, still names the same
    work ("10.1057/palgrave.ejis" names a journal, not an article). A DOI that only lacks a
    version suffix (Cochrane's ".pub2") names another version, not the same one.
    """
    out = _equal_or_nan(a, b)
    la = np.fromiter(map(len, a), np.int64, len(a))
    lb = np.fromiter(map(len, b), np.int64, len(b))
    for k in np.flatnonzero((out == 0) & (la != lb) & (np.minimum(la, lb) >= 14)):
        x, y = (a[k], b[k]) if la[k] < lb[k] else (b[k], a[k])
        if (y.startswith(x) and sum(c.isdigit() for c in x) >= 10
                and not _VERSION_SUFFIX.match(y, len(x))):
            out[k] = 1.0
    return out


def _ratio(a: list[str], b: list[str], scorer, workers: int) -> np.ndarray:
    return cpdist(a, b, scorer=scorer, workers=workers, dtype=np.float32).astype(float) / 100.0


def plausible(norm: pd.DataFrame, pairs: np.ndarray, *, workers: int = 1,
              min_title: float = 0.5) -> np.ndarray:
    """Mask of candidate pairs worth comparing in full.

    Dropped: both titles present, token-set similarity below ``min_title`` and no shared
    DOI. On the four labelled sets this removes 22-58% of candidates and no true pair.
    """
    title = norm["title"].to_numpy(dtype=object)
    doi = norm["doi_key"].to_numpy(dtype=object)
    keep = np.zeros(len(pairs), dtype=bool)
    for k in range(0, len(pairs), 2_000_000):
        i, j = pairs[k:k + 2_000_000, 0], pairs[k:k + 2_000_000, 1]
        ta, tb = title[i], title[j]
        similar = _ratio(ta.tolist(), tb.tolist(), fuzz.token_set_ratio, workers) >= min_title
        keep[k:k + len(i)] = (similar | (ta == "") | (tb == "")
                              | (doi_agreement(doi[i], doi[j]) == 1))
    return keep


def _journal_abbrev(journal: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """:func:`journal_compatible` of each pair, computed once per pair of distinct titles."""
    codes, uniques = pd.factorize(pd.Series(journal, dtype=object))
    ci, cj = codes[i], codes[j]
    n = max(len(uniques), 1)
    pair_codes, inverse = np.unique(np.minimum(ci, cj) * n + np.maximum(ci, cj),
                                    return_inverse=True)
    values = np.array([journal_compatible(uniques[c // n], uniques[c % n])
                       for c in pair_codes.tolist()], dtype=float)
    return values[inverse] if len(i) else np.zeros(0)


def compare(norm: pd.DataFrame, pairs: np.ndarray, *, workers: int = 1) -> pd.DataFrame:
    """Feature frame (columns ``FEATURES``) for ``pairs`` of row positions into ``norm``.

    Missing information is NaN (the classifier handles it natively).
    """
    i, j = pairs[:, 0], pairs[:, 1]
    out: dict[str, np.ndarray] = {}
    if not len(pairs):
        return pd.DataFrame({f: np.zeros(0) for f in FEATURES})
    title = norm["title"].to_numpy(dtype=object)
    ta, tb = title[i].tolist(), title[j].tolist()
    out["title_ratio"] = _ratio(ta, tb, fuzz.ratio, workers)
    out["title_token_sort"] = _ratio(ta, tb, fuzz.token_sort_ratio, workers)
    out["title_token_set"] = _ratio(ta, tb, fuzz.token_set_ratio, workers)
    # the shorter title against the start of the longer one: a dropped subtitle or a title
    # cut short by an export (rapidfuzz's partial_ratio, which searches every alignment,
    # cost two thirds of all string comparisons)
    short = [a if len(a) <= len(b) else b for a, b in zip(ta, tb, strict=True)]
    head = [b[:len(a)] if len(a) <= len(b) else a[:len(b)] for a, b in zip(ta, tb, strict=True)]
    out["title_prefix"] = _ratio(short, head, fuzz.ratio, workers)
    la = np.fromiter((len(t) for t in ta), float, len(ta))
    lb = np.fromiter((len(t) for t in tb), float, len(tb))
    with np.errstate(invalid="ignore", divide="ignore"):
        out["title_len_ratio"] = np.minimum(la, lb) / np.maximum(la, lb)
    empty_title = (la == 0) | (lb == 0)
    for key in ("title_ratio", "title_token_sort", "title_token_set", "title_prefix",
                "title_len_ratio"):
        out[key][empty_title] = np.nan
    numbers = norm["numbers"].to_numpy(dtype=object)
    out["numbers_equal"] = (numbers[i] == numbers[j]).astype(float)

    authors = norm["authors"].to_numpy(dtype=object)
    tokens = norm["author_tokens"].to_numpy(dtype=object)
    overlap = np.full(len(pairs), np.nan)
    n_diff = np.full(len(pairs), np.nan)
    for k, (x, y) in enumerate(zip(tokens[i], tokens[j], strict=True)):
        if x and y:
            overlap[k] = len(x & y) / min(len(x), len(y))
    for k, (x, y) in enumerate(zip(authors[i], authors[j], strict=True)):
        if x and y:
            n_diff[k] = abs(len(x) - len(y))
    out["author_overlap"] = overlap
    atext = norm["author_text"].to_numpy(dtype=object)
    out["author_ratio"] = _ratio(atext[i].tolist(), atext[j].tolist(), fuzz.token_set_ratio,
                                 workers)
    out["author_ratio"][np.isnan(overlap)] = np.nan
    first = norm["first_author"].to_numpy(dtype=object)
    out["first_author_equal"] = _equal_or_nan(first[i], first[j])
    # one author list written with and without spaces, hyphens and particles
    # ("TARNOWMORDI WOSOLL RF" = "Tarnow-Mordi W. O.Soll R. F."), which splits apart
    letters = norm["author_letters"].to_numpy(dtype=object)
    long_enough = np.fromiter((len(v) >= 4 for v in letters), bool, len(letters))
    same_letters = long_enough[i] & (letters[i] == letters[j])
    out["author_overlap"][same_letters] = 1.0
    out["first_author_equal"][same_letters] = 1.0
    out["n_authors_diff"] = n_diff

    year = norm["year"].to_numpy(dtype=float)
    out["year_diff"] = np.abs(year[i] - year[j])

    journal = norm["journal"].to_numpy(dtype=object)
    jtext = np.array([" ".join(w) for w in journal], dtype=object)
    out["journal_ratio"] = _ratio(jtext[i].tolist(), jtext[j].tolist(), fuzz.token_sort_ratio,
                                  workers)
    out["journal_ratio"][(jtext[i] == "") | (jtext[j] == "")] = np.nan
    out["journal_abbrev"] = _journal_abbrev(journal, i, j)

    for name, col in (("volume_equal", "volume"), ("issue_equal", "issue"),
                      ("page_first_equal", "page_first"), ("page_last_equal", "page_last")):
        values = norm[col].to_numpy(dtype=object)
        out[name] = _equal_or_nan(values[i], values[j])
    doi = norm["doi_key"].to_numpy(dtype=object)
    out["doi_equal"] = doi_agreement(doi[i], doi[j])

    abstract = norm["abstract"].to_numpy(dtype=object)
    aa, ab = abstract[i].tolist(), abstract[j].tolist()
    out["abstract_ratio"] = cpdist(aa, ab, scorer=Indel.normalized_similarity, workers=workers,
                                   dtype=np.float32).astype(float)
    out["abstract_ratio"][(abstract[i] == "") | (abstract[j] == "")] = np.nan

    conflict = np.zeros(len(pairs), dtype=bool)
    for flag in ("erratum", "comment", "retraction"):
        values = norm[flag].to_numpy(dtype=bool)
        conflict |= values[i] != values[j]
    out["type_conflict"] = conflict.astype(float)
    pre = norm["preprint"].to_numpy(dtype=bool)
    out["preprint_pair"] = (pre[i] != pre[j]).astype(float)
    conf = norm["conference"].to_numpy(dtype=bool)
    out["conference_pair"] = (conf[i] != conf[j]).astype(float)
    missing = np.zeros(len(pairs))
    for name in ("doi_equal", "volume_equal", "page_first_equal", "abstract_ratio",
                 "year_diff", "journal_ratio"):
        missing += np.isnan(out[name])
    out["missing_fields"] = missing
    return pd.DataFrame({f: out[f] for f in FEATURES})
