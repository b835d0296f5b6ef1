"""Deduplication: find, review and merge duplicate records (DESIGN §5).

``find_duplicates`` normalises the records, blocks on several keys, compares candidate
pairs with rapidfuzz, scores them with a calibrated classifier shipped with the package,
applies hard no-merge rules and groups records without chaining; given a review store it
applies the pair decisions stored there (``deduplicate_review``, ``Review.deduplicate``).
``merge_duplicates`` gives one row per group keeping every member's provenance;
``pair_html`` shows a pair side by side.
"""

from ._find import deduplicate_review, find_duplicates
from ._html import pair_html
from ._merge import merge_duplicates
from ._result import DedupResult
from ._review import DedupReviewer, join_decisions, split_decisions

__all__ = [
    "DedupResult",
    "DedupReviewer",
    "deduplicate_review",
    "find_duplicates",
    "join_decisions",
    "merge_duplicates",
    "pair_html",
    "split_decisions",
]
