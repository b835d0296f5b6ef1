"""find_duplicates: normalise, block, compare, classify, apply rules, group."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from itertools import combinations
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from ..errors import ContractError

if TYPE_CHECKING:
    from ..store import Review
from ._blocking import candidate_pairs
from ._cluster import components, constrained_groups
from ._features import compare, plausible
from ._model import PairModel, load_model
from ._normalise import normalise_records
from ._result import DedupResult, completeness
from ._rules import (
    DISTINCT,
    MATCH,
    REVIEW,
    corroborated,
    decide,
    doi_aliases,
    notice_of_article,
    rule_reasons,
    same_formal_title,
    version_kind,
)

_MAX_COMPLETION = 60
_SLICE = 1_000_000


def find_duplicates(
    records: pd.DataFrame | Review,
    *,
    versions: Literal["link", "merge", "separate"] | None = None,
    notices: Literal["link", "merge", "separate"] | None = None,
    manual_decisions: pd.DataFrame | None = None,
    high: float = 0.7,
    low: float = 0.1,
    model: PairModel | str | None = None,
    n_jobs: int | None = None,
    progress: Callable[[str], object] | None = None,
) -> DedupResult:
    """Find duplicate records and group them without chaining unrelated records.

    Parameters
    ----------
    records : pandas.DataFrame or Review
        Records-contract frame (``evidence_synth.columns``); needs ``record_id`` (unique) and
        uses ``title``, ``authors``, ``year``, ``journal``, ``volume``, ``issue``, ``pages``,
        ``doi``, ``abstract`` and ``pub_type`` when present. Not modified. Or a review
        store (:class:`evidence_synth.store.Review`): its records are deduplicated, the
        pair decisions stored in it (``Review.pair_decisions()``) apply by themselves and
        ``versions``/``notices`` default to the protocol's ``dedup`` section.
    versions : {"link", "merge", "separate"}, optional
        A preprint, working paper or conference paper vs a later version of the same work
        (same title and authors): ``"link"`` (default) keeps them as separate records
        sharing a ``study_id``; ``"merge"`` puts them in one group; ``"separate"`` neither
        merges nor links them.
    notices : {"link", "merge", "separate"}, optional
        An erratum, comment, reply or retraction notice carrying the article's title vs
        the article. ``"link"`` (default, following the Cochrane Handbook: a notice is
        another report of the same study, counted once) gives the notice its article's
        ``study_id`` while keeping it a separate record; ``"merge"`` puts both in one
        group; ``"separate"`` keeps them apart as different studies.
    manual_decisions : pandas.DataFrame, optional
        Columns ``record_id_1``, ``record_id_2``, ``decision`` (``match`` or ``distinct``);
        they win over the model. A later row for the same pair wins over an earlier one;
        with a review, these rows come after the stored decisions.
    high, low : float
        Score at or above ``high`` is a match (unless a no-merge rule applies, which sends
        the pair to review, or two or more apply, which make it distinct); at or below
        ``low`` distinct; in between, review.
    model : PairModel or str, optional
        Pair classifier or path to its JSON; default the model shipped with the package.
    n_jobs : int, optional
        Threads for string comparisons (default: up to 2).
    progress : callable, optional
        Called with the name of each phase as it finishes (``normalise``, ``blocking``,
        ``compare and score``, ``completion``, ``grouping``), e.g. to advance a bar.

    Returns
    -------
    DedupResult
        ``.groups``, ``.pairs``, ``.review_queue()``, ``.summary()``.

    Notes
    -----
    Candidate pairs whose titles share little (token-set similarity below 0.5, both
    titles present, no shared DOI) are dropped before comparison; their number is in
    ``result.params["candidates dropped as unlike"]``.
    """
    if not isinstance(records, pd.DataFrame):
        records, versions, notices, manual_decisions = _from_review(
            records, versions, notices, manual_decisions)
    versions = versions or "link"
    notices = notices or "link"
    for name, value in (("versions", versions), ("notices", notices)):
        if value not in ("link", "merge", "separate"):
            raise ValueError(f"{name} must be 'link', 'merge' or 'separate', found {value!r}")
    if not 0 <= low < high <= 1:
        raise ValueError(f"expected 0 <= low < high <= 1, found low={low}, high={high}")
    if "record_id" not in records.columns:
        raise ContractError("records need a 'record_id' column; found columns "
                            f"{list(records.columns)}")
    ids = records["record_id"].astype("string")
    if ids.isna().any() or ids.duplicated().any():
        bad = ids[ids.isna() | ids.duplicated(keep=False)].unique()[:5]
        raise ContractError(f"record_id must be unique and present; problems with {list(bad)}")
    clf = model if isinstance(model, PairModel) else load_model(model)
    workers = n_jobs or min(2, os.cpu_count() or 1)
    n = len(records)
    clock = [time.perf_counter()]
    timings = {}

    def lap(name: str) -> None:
        clock.append(time.perf_counter())
        timings[name] = round(clock[-1] - clock[-2], 3)
        if progress is not None:
            progress(name)

    norm = normalise_records(records.reset_index(drop=True))
    lap("normalise")
    pairs = candidate_pairs(norm)
    n_candidates = len(pairs)
    pairs = pairs[plausible(norm, pairs, workers=workers)]
    n_unlike = n_candidates - len(pairs)
    lap("blocking")
    manual = _manual_pairs(manual_decisions, ids)
    if manual:
        extra = np.array(sorted(manual), dtype=np.int64).reshape(-1, 2)
        pairs = _union_pairs(pairs, extra, n)

    options = {"versions": versions, "notices": notices, "high": high, "low": low,
               "workers": workers}
    scored = _score(norm, pairs, clf, **options)
    _apply_manual(scored, pairs, manual)
    lap("compare and score")

    edges_mask = scored["decision"].to_numpy() == MATCH
    comp = components(n, pairs[edges_mask])
    extra = _completion_pairs(comp, pairs, n)
    if len(extra):
        more = _score(norm, extra, clf, **options)
        _apply_manual(more, extra, manual)
        pairs = np.concatenate([pairs, extra])
        scored = pd.concat([scored, more], ignore_index=True)
        order = np.lexsort((pairs[:, 1], pairs[:, 0]))
        pairs, scored = pairs[order], scored.iloc[order].reset_index(drop=True)

    lap("completion")
    labels = _group(n, pairs, scored)
    groups = _groups_frame(records, ids, labels, pairs, scored)
    same = labels[pairs[:, 0]] == labels[pairs[:, 1]]
    out = scored
    for k, name in ((1, "record_id_2"), (0, "record_id_1")):
        out.insert(0, name, pd.array(ids.to_numpy()[pairs[:, k]], dtype="string"))
    out["same_group"] = same
    lap("grouping")
    params = {"versions": versions, "notices": notices, "high": high, "low": low,
              "model": clf.spec.get("info", {}).get("name", "custom"),
              "candidates dropped as unlike": n_unlike,
              "timings": timings}
    return DedupResult(groups=groups, pairs=out, params=params)


def deduplicate_review(review: Review, **options: Any) -> DedupResult:
    """Deduplicate a review store's records and save the groups as a run.

    The pair decisions stored in the review apply by themselves, and ``versions`` and
    ``notices`` default to the protocol's ``dedup`` section; ``options`` are those of
    :func:`find_duplicates`. The run's id is in ``result.params["run_id"]``.
    """
    result = find_duplicates(review, **options)
    saved = {k: result.params[k] for k in ("versions", "notices", "high", "low", "model")}
    saved["manual decisions applied"] = int(result.pairs["manual"].sum())
    result.params["manual decisions applied"] = saved["manual decisions applied"]
    result.params["run_id"] = review.save_duplicate_groups(result.groups, params=saved)
    return result


def _from_review(review: Review, versions: str | None, notices: str | None,
                 manual: pd.DataFrame | None):
    """Records, options and stored pair decisions of a review store."""
    if not (hasattr(review, "records") and hasattr(review, "pair_decisions")):
        raise ContractError("find_duplicates expects a records DataFrame or a Review; found "
                            f"{type(review).__name__}")
    protocol = review.protocol
    chosen = protocol.to_dict().get("dedup", {}) if protocol is not None else {}
    stored = review.pair_decisions()[["record_id_1", "record_id_2", "decision"]]
    if manual is not None and len(manual):
        stored = pd.concat([stored, manual[["record_id_1", "record_id_2", "decision"]]],
                           ignore_index=True)
    return (review.records(), versions or chosen.get("versions"),
            notices or chosen.get("notices"), stored)


def _manual_pairs(manual: pd.DataFrame | None, ids: pd.Series) -> dict[tuple[int, int], str]:
    if manual is None or len(manual) == 0:
        return {}
    missing = [c for c in ("record_id_1", "record_id_2", "decision") if c not in manual.columns]
    if missing:
        raise ContractError(f"manual_decisions needs columns record_id_1, record_id_2, decision; "
                            f"missing {missing}")
    pos = {rid: k for k, rid in enumerate(ids.tolist())}
    out: dict[tuple[int, int], str] = {}
    bad = []
    for row in manual[["record_id_1", "record_id_2", "decision"]].itertuples(index=False):
        a, b, decision = pos.get(str(row[0])), pos.get(str(row[1])), str(row[2])
        if decision not in (MATCH, DISTINCT):
            bad.append(f"decision {decision!r} for ({row[0]}, {row[1]})")
            continue
        if a is None or b is None or a == b:
            continue  # decisions about records not in this run are ignored
        out[(min(a, b), max(a, b))] = decision
    if bad:
        raise ContractError("manual_decisions: expected 'match' or 'distinct', found "
                            + "; ".join(bad[:5]))
    return out


def _union_pairs(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    both = np.concatenate([a, b]).astype(np.int64)
    codes = np.unique(both[:, 0] * n + both[:, 1])
    return np.column_stack([codes // n, codes % n])


def _score(norm: pd.DataFrame, pairs: np.ndarray, clf: PairModel, *, versions: str,
           notices: str, high: float, low: float, workers: int) -> pd.DataFrame:
    """Features, score, rules and decision of every pair, a slice of pairs at a time.

    Slicing bounds the memory of the comparison temporaries; the features are kept as
    float32 once scored.
    """
    parts = [_score_slice(norm, pairs[k:k + _SLICE], clf, versions=versions, notices=notices,
                          high=high, low=low, workers=workers)
             for k in range(0, max(len(pairs), 1), _SLICE)]
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _score_slice(norm: pd.DataFrame, pairs: np.ndarray, clf: PairModel, *, versions: str,
                 notices: str, high: float, low: float, workers: int) -> pd.DataFrame:
    features = compare(norm, pairs, workers=workers)
    score = clf.predict_proba(features) if len(pairs) else np.zeros(0)
    rules = rule_reasons(norm, pairs, features)
    decision, reason, same_study = decide(
        score, rules, version_kind(norm, pairs, features),
        notice_of_article(norm, pairs, features), corroborated(features), mode=versions,
        notices=notices, high=high, low=low, alias=doi_aliases(features, rules),
        formal=same_formal_title(norm, pairs, features))
    out = features.astype(np.float32)
    out["score"] = score
    out["decision"] = decision
    out["reason"] = reason
    out["rules"] = rules
    out["same_study"] = same_study
    out["manual"] = False
    return out


def _apply_manual(scored: pd.DataFrame, pairs: np.ndarray,
                  manual: dict[tuple[int, int], str]) -> None:
    if not manual or not len(pairs):
        return
    keys = list(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), strict=True))
    hit = np.array([k in manual for k in keys])
    if not hit.any():
        return
    values = np.array([manual.get(k, "") for k in keys], dtype=object)
    scored.loc[hit, "decision"] = values[hit]
    scored.loc[hit, "reason"] = "manual decision"
    scored.loc[hit, "manual"] = True


def _completion_pairs(comp: np.ndarray, pairs: np.ndarray, n: int) -> np.ndarray:
    """Uncompared pairs inside each tentative component, so no group rests on a chain."""
    sizes = np.bincount(comp, minlength=n)
    big = np.flatnonzero((sizes >= 3) & (sizes <= _MAX_COMPLETION))
    if not len(big):
        return np.empty((0, 2), dtype=np.int64)
    order = np.argsort(comp, kind="stable")
    starts = np.searchsorted(comp[order], big)
    inside = []
    for root, start in zip(big.tolist(), starts.tolist(), strict=True):
        members = np.sort(order[start:start + sizes[root]])
        inside.extend(combinations(members.tolist(), 2))
    codes = np.unique(np.array(inside, dtype=np.int64).reshape(-1, 2) @ np.array([n, 1]))
    known = np.sort(pairs[:, 0] * n + pairs[:, 1])
    pos = np.minimum(np.searchsorted(known, codes), len(known) - 1)
    codes = codes[known[pos] != codes] if len(known) else codes
    return np.column_stack([codes // n, codes % n])


def _group(n: int, pairs: np.ndarray, scored: pd.DataFrame) -> np.ndarray:
    decision = scored["decision"].to_numpy()
    manual = scored["manual"].to_numpy(dtype=bool)
    score = scored["score"].to_numpy()
    rules = scored["rules"].to_numpy()

    def keys(mask: np.ndarray) -> list[tuple[int, int]]:
        return list(zip(pairs[mask, 0].tolist(), pairs[mask, 1].tolist(), strict=True))

    is_match = decision == MATCH
    allowed = set(keys(is_match | ((decision == REVIEW) & (rules == "") & (score >= 0.5))))
    forced = set(keys(manual & is_match))
    forbidden = set(keys(manual & ~is_match))
    edge_idx = np.flatnonzero(is_match)
    order = np.lexsort((pairs[edge_idx, 1], pairs[edge_idx, 0], -score[edge_idx],
                        ~manual[edge_idx]))
    edge_idx = edge_idx[order]
    edges = list(zip(pairs[edge_idx, 0].tolist(), pairs[edge_idx, 1].tolist(), strict=True))
    return constrained_groups(n, edges, allowed, forced, forbidden)


def _groups_frame(records: pd.DataFrame, ids: pd.Series, labels: np.ndarray,
                  pairs: np.ndarray, scored: pd.DataFrame) -> pd.DataFrame:
    n = len(labels)
    _, first_pos = np.unique(labels, return_index=True)
    order = np.argsort(first_pos, kind="stable")
    rank = np.empty(len(first_pos), dtype=np.int64)
    rank[order] = np.arange(len(first_pos))
    codes = rank[np.searchsorted(np.unique(labels), labels)]
    width = max(6, len(str(len(first_pos))))
    group_id = np.array([f"G{c:0{width}d}" for c in codes], dtype=object)

    quality = completeness(records.reset_index(drop=True))
    frame = pd.DataFrame({"code": codes, "q": -quality, "pos": np.arange(n)})
    primary_pos = frame.sort_values(["code", "q", "pos"]).drop_duplicates("code")["pos"]
    is_primary = np.zeros(n, dtype=bool)
    is_primary[primary_pos.to_numpy()] = True

    link = scored["same_study"].to_numpy(dtype=bool)
    link_edges = np.column_stack([codes[pairs[link, 0]], codes[pairs[link, 1]]]) \
        if link.any() else np.empty((0, 2), dtype=np.int64)
    study_root = components(len(first_pos), link_edges)
    _, study_codes = np.unique(study_root, return_inverse=True)
    study_id = np.array([f"S{c:0{width}d}" for c in study_codes[codes]], dtype=object)
    sizes = np.bincount(codes)
    return pd.DataFrame({
        "record_id": ids.to_numpy(),
        "group_id": pd.array(group_id, dtype="string"),
        "is_primary": is_primary,
        "study_id": pd.array(study_id, dtype="string"),
        "group_size": sizes[codes].astype("int64"),
    })
