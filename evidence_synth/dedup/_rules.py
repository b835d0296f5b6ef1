"""Hard no-merge rules and the pair decision."""

from __future__ import annotations

import numpy as np
import pandas as pd

MATCH, DISTINCT, REVIEW = "match", "distinct", "review"


def rule_reasons(norm: pd.DataFrame, pairs: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    """Semicolon-joined names of the no-merge rules each pair breaks ("" when none).

    Rules: ``different DOI``; ``erratum/comment/retraction vs article``; ``different
    volume``; ``different pages``; ``years differ by more than 1``; ``different numbers in
    title`` (titles that differ only in their numbers: "Part 1" vs "Part 2", "phase II"
    vs "phase III", two years). Only the first two apply when the DOIs agree: online-first
    and issue years differ, supplements and databases number volumes and pages their own
    way, and PDF extraction adds footnote digits to titles. Two more count only beside a
    different DOI, as corroboration (alone they are too often mis-recorded): ``different
    issue`` and ``no author in common``.
    """
    i, j = pairs[:, 0], pairs[:, 1]
    nonum = norm["title_nonum"].to_numpy(dtype=object)
    only_numbers_differ = (nonum[i] == nonum[j]) & (nonum[i] != "")
    doi_equal = features["doi_equal"].to_numpy()
    same_doi, doi_differs = doi_equal == 1, doi_equal == 0
    checks = [
        ("different DOI", doi_differs),
        ("erratum/comment/retraction vs article", features["type_conflict"].to_numpy() == 1),
        ("different volume", (features["volume_equal"].to_numpy() == 0) & ~same_doi),
        ("different pages", (features["page_first_equal"].to_numpy() == 0) & ~same_doi),
        ("years differ by more than 1", (features["year_diff"].to_numpy() > 1) & ~same_doi),
        ("different numbers in title",
         (features["numbers_equal"].to_numpy() == 0) & only_numbers_differ & ~same_doi),
        ("different issue", doi_differs & (features["issue_equal"].to_numpy() == 0)),
        ("no author in common", doi_differs & (features["author_overlap"].to_numpy() == 0)),
    ]
    reasons = np.full(len(pairs), "", dtype=object)
    for name, hit in checks:
        reasons[hit] = np.where(reasons[hit] == "", name, reasons[hit] + "; " + name)
    return reasons


def is_version_pair(norm: pd.DataFrame, pairs: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    """Preprint/working paper vs other version of the same work (same title and authors)."""
    pre = norm["preprint"].to_numpy(dtype=bool)
    i, j = pairs[:, 0], pairs[:, 1]
    title = features["title_token_sort"].fillna(0).to_numpy() >= 0.9
    authors = features["author_overlap"].fillna(1).to_numpy() >= 0.5
    years = ~(features["year_diff"].to_numpy() > 4)
    return (pre[i] != pre[j]) & title & authors & years


def decide(score: np.ndarray, reasons: np.ndarray, versions: np.ndarray, *, mode: str,
           high: float, low: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decision, reason text and "same study" flag for each scored pair.

    A pair that breaks one no-merge rule is distinct, or goes to review when its score is
    high; a pair that breaks two or more is distinct whatever its score.
    """
    n = len(score)
    decision = np.full(n, REVIEW, dtype=object)
    reason = np.full(n, "", dtype=object)
    has_rule = reasons != ""
    decision[score >= high] = MATCH
    reason[score >= high] = "high score"
    decision[score <= low] = DISTINCT
    reason[score <= low] = "low score"
    reason[decision == REVIEW] = "uncertain score"
    several = pd.Series(reasons, dtype=object).str.contains(";", regex=False).to_numpy(bool)
    conflict = has_rule & ~several & (score >= high)
    decision[has_rule] = DISTINCT
    decision[conflict] = REVIEW
    reason[has_rule] = reasons[has_rule]
    reason[conflict] = "high score but " + reasons[conflict]
    same_study = np.zeros(n, dtype=bool)
    if mode == "merge":
        decision[versions] = MATCH
        reason[versions] = "preprint and journal version (merged)"
    elif mode == "link":
        decision[versions] = DISTINCT
        reason[versions] = "preprint and journal version (linked as one study)"
        same_study[versions] = True
    else:
        decision[versions] = DISTINCT
        reason[versions] = "preprint and journal version (kept separate)"
    return decision, reason, same_study
