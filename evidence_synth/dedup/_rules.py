"""Hard no-merge rules, linked versions and the pair decision."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz

from ._gazetteer import entities_differ
from ._normalise import journal_compatible, journal_head

MATCH, DISTINCT, REVIEW = "match", "distinct", "review"

#: Rules that make a pair distinct whatever its score: the titles are the same but for a
#: number or a named entity, or the page ranges are apart.
DECISIVE = ("different named entity in title", "different numbers in title",
            "page ranges disagree")
#: What a pair is linked as when it is not merged (``same_study``), by kind.
VERSION_KINDS = ("preprint and journal version", "conference paper and journal version",
                 "versions of one Cochrane review")
NOTICE_KIND = "erratum/comment/retraction of the article"


def page_ranges_disagree(norm: pd.DataFrame, pairs: np.ndarray) -> np.ndarray:
    """Both records give a page range and the ranges are apart.

    A range counts when its last page is after its first, the first page is not 1 and has
    no letter ("e4-e19", "S12-S15"): online-only articles are paginated from 1 or by
    article number beside their print pages.
    """
    i, j = pairs[:, 0], pairs[:, 1]
    first = pd.to_numeric(norm["page_first"], errors="coerce").to_numpy(dtype=float)
    last = pd.to_numeric(norm["page_last"], errors="coerce").to_numpy(dtype=float)
    ranged = (last > first) & (first > 1) & ~norm["page_prefixed"].to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        apart = (last[i] < first[j]) | (last[j] < first[i])
    return ranged[i] & ranged[j] & apart


def article_number_vs_pages(norm: pd.DataFrame, pairs: np.ndarray) -> np.ndarray:
    """One record gives a lone number, the other a page range starting at page 1.

    An online article is numbered ("151") and paginated from 1 ("1-13", which a
    spreadsheet may have turned into "Jan-13"): the two first pages are not comparable.
    """
    i, j = pairs[:, 0], pairs[:, 1]
    first = norm["page_first"].to_numpy(dtype=object)
    last = norm["page_last"].to_numpy(dtype=object)
    lone = (first != "") & (last == "")
    from_one = (first == "1") & (last != "")
    return (lone[i] & from_one[j]) | (from_one[i] & lone[j])


def supplement_volume(norm: pd.DataFrame, pairs: np.ndarray) -> np.ndarray:
    """One record's volume is the supplement number the other names ("J Rheumatol Suppl"
    51 vs "Journal of Rheumatology" 25, "SUPPL. 51"): the same supplement, numbered two
    ways."""
    i, j = pairs[:, 0], pairs[:, 1]
    volume = norm["volume"].to_numpy(dtype=object)
    supplement = norm["supplement"].to_numpy(dtype=object)
    return (((supplement[j] != "") & (volume[i] == supplement[j]))
            | ((supplement[i] != "") & (volume[j] == supplement[i])))


def named_entities_differ(norm: pd.DataFrame, pairs: np.ndarray) -> np.ndarray:
    """Each title names a place, people or language the other does not."""
    ents = norm["entities"].to_numpy(dtype=object)
    codes, uniques = pd.factorize(pd.Series(ents, dtype=object).map(
        lambda e: "|".join(sorted(e))))
    i, j = pairs[:, 0], pairs[:, 1]
    named = np.array([bool(u) for u in uniques])[codes] if len(uniques) else \
        np.zeros(len(ents), dtype=bool)
    out = np.zeros(len(pairs), dtype=bool)
    for k in np.flatnonzero(named[i] & named[j] & (codes[i] != codes[j])):
        out[k] = entities_differ(ents[i[k]], ents[j[k]])
    return out


def rule_reasons(norm: pd.DataFrame, pairs: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    """Semicolon-joined names of the no-merge rules each pair breaks ("" when none).

    Rules whatever the DOIs say: ``different named entity in title`` (each title names a
    country, region, people or language the other does not: "... European Union and
    Armenia" vs "... and Türkiye"); ``page ranges disagree`` (both give a page range and
    the ranges are apart); ``erratum/comment/retraction vs article``; ``recurring title
    without agreeing DOI, pages or issue`` (a title journals give to many items, such as
    "Editorial" or "Reply", or one seen here with three or more years, and neither the DOI,
    the first page nor the issue agrees); ``recurring title with pages, DOI or issue on one
    record only`` (the same, and one record gives pages, a DOI or an issue the other lacks:
    the evidence that would decide the pair exists but cannot be compared; two such rules
    make the pair distinct, so only items of which neither record gives pages, DOI or
    issue go to review).

    Rules whatever the DOIs say, too: ``different numbers in title`` (titles that differ
    only in their numbers: "Part 1" vs "Part 2", "phase II" vs "phase III", "second" vs
    "third edition", two years; a footnote digit that PDF extraction left at the end of
    one title does not count: a number a database mistyped under the right DOI cannot be
    told from two works); ``title missing`` (one record has no title: a DOI alone does not
    show which work a record without a title is; with a high score a person decides).

    Rules when the DOIs do not agree: ``different DOI``; ``different volume`` (not when one
    volume is the supplement number the other names); ``different
    pages`` (first page; not between an article number and a range from page 1);
    ``years differ by more than 1``; ``number missing from one title`` (one title only
    lacks a number the other has: "adenosine A1 receptors" vs "adenosine A receptors", a
    subscript lost on export); ``recurring title in another
    issue or year`` (two items of a column in different issues or years are different
    items). Online-first and issue years differ, supplements and databases number volumes
    and pages their own way, and PDF extraction adds footnote digits to titles, so these
    are not applied when the DOIs agree. ``no author in common`` (both author lists
    known; a book review and the book it reviews, two commentaries on one paper) holds a
    pair back unless the DOIs agree. ``different issue`` counts only beside a different
    DOI, as corroboration (alone it is too often mis-recorded). ``different titles under
    one DOI`` (token-sort similarity below 0.7 and neither title the start of the other,
    or below 0.9 in different journals): a congress supplement's DOI shared by its
    abstracts, or an abstract carrying its article's DOI; a person decides when the score
    is high.
    """
    i, j = pairs[:, 0], pairs[:, 1]
    nonum = norm["title_nonum"].to_numpy(dtype=object)
    only_numbers_differ = (nonum[i] == nonum[j]) & (nonum[i] != "")
    numbers = norm["numbers"].to_numpy(dtype=object)
    foot = norm["numbers_footnote"].to_numpy(dtype=object)
    footnote_only = (numbers[i] == foot[j]) | (foot[i] == numbers[j])
    numbers_differ = ((features["numbers_equal"].to_numpy() == 0) & only_numbers_differ
                      & ~footnote_only)
    replaced = np.zeros(len(pairs), dtype=bool)
    for k in np.flatnonzero(numbers_differ):
        replaced[k] = _replaced(numbers[i[k]], numbers[j[k]])
    title = norm["title"].to_numpy(dtype=object)
    recurring = norm["recurring"].to_numpy(dtype=bool)
    paged = norm["page_first"].to_numpy(dtype=object) != ""
    has_doi = norm["doi"].to_numpy(dtype=object) != ""
    has_issue = norm["issue"].to_numpy(dtype=object) != ""
    one_sided = ((paged[i] != paged[j]) | (has_doi[i] != has_doi[j])
                 | (has_issue[i] != has_issue[j]))
    doi_equal = features["doi_equal"].to_numpy()
    same_doi, doi_differs = doi_equal == 1, doi_equal == 0
    corroborated = (same_doi | (features["page_first_equal"].to_numpy() == 1)
                    | (features["issue_equal"].to_numpy() == 1))
    checks = [
        ("different named entity in title", named_entities_differ(norm, pairs)),
        ("page ranges disagree", page_ranges_disagree(norm, pairs)),
        ("different DOI", doi_differs),
        ("erratum/comment/retraction vs article", features["type_conflict"].to_numpy() == 1),
        ("recurring title without agreeing DOI, pages or issue",
         (recurring[i] | recurring[j]) & ~corroborated),
        ("recurring title with pages, DOI or issue on one record only",
         (recurring[i] | recurring[j]) & ~corroborated & one_sided),
        ("different volume", (features["volume_equal"].to_numpy() == 0) & ~same_doi
         & ~supplement_volume(norm, pairs)),
        ("different pages", (features["page_first_equal"].to_numpy() == 0) & ~same_doi
         & ~article_number_vs_pages(norm, pairs)),
        ("years differ by more than 1", (features["year_diff"].to_numpy() > 1) & ~same_doi),
        ("different numbers in title", numbers_differ & replaced),
        ("number missing from one title", numbers_differ & ~replaced & ~same_doi),
        ("title missing", (title[i] == "") | (title[j] == "")),
        ("recurring title in another issue or year",
         (recurring[i] | recurring[j]) & ~same_doi
         & ((features["issue_equal"].to_numpy() == 0) | (features["year_diff"].to_numpy() > 0))),
        ("different issue", doi_differs & (features["issue_equal"].to_numpy() == 0)),
        ("no author in common", ~same_doi & (features["author_overlap"].to_numpy() == 0)),
        ("different titles under one DOI", same_doi & _titles_apart(features)),
    ]
    reasons = np.full(len(pairs), "", dtype=object)
    for name, hit in checks:
        reasons[hit] = np.where(reasons[hit] == "", name, reasons[hit] + "; " + name)
    return reasons


def _titles_apart(features: pd.DataFrame) -> np.ndarray:
    """Titles too different for one work: token-sort similarity below 0.7 and neither is
    the start of the other; or below 0.9 in two different journals. Under one DOI that is
    a supplement's DOI shared by its abstracts, or a meeting abstract carrying the DOI of
    a different article."""
    sort = features["title_token_sort"].fillna(1).to_numpy()
    prefix = features["title_prefix"].fillna(1).to_numpy()
    other_journal = (features["journal_abbrev"].to_numpy() == 0) & (
        features["journal_ratio"].fillna(1).to_numpy() < 0.6)
    return ((sort < 0.7) & (prefix < 0.9)) | ((sort < 0.9) & other_journal)


def _replaced(a: str, b: str) -> bool:
    """Each number signature has a number the other lacks ("1" vs "2", not "1" vs "")."""
    x, y = a.split(), b.split()
    return any(x.count(v) > y.count(v) for v in x) and any(y.count(v) > x.count(v) for v in y)


def version_kind(norm: pd.DataFrame, pairs: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    """Which kind of linked version each pair is ("" when none).

    ``preprint and journal version``: a preprint or working paper and another version of
    the same work (same title and authors, years at most 4 apart).
    ``conference paper and journal version``: one record published in proceedings or a
    meeting's abstracts, the other in a journal that is a different venue (both venues
    known), same title and authors, no shared DOI.
    ``versions of one Cochrane review``: the same review number (``CD001869``, from the
    DOI or the article number) in two different versions: ``.pub2`` vs ``.pub3`` or no
    suffix, or another year or issue of the Cochrane Library. An updated review replaces
    the earlier version but is the same review (Cochrane Handbook, chapter V: an overview
    includes the latest version of each review), whatever its title became.
    """
    i, j = pairs[:, 0], pairs[:, 1]
    title = features["title_token_sort"].fillna(0).to_numpy() >= 0.9
    authors = features["author_overlap"].fillna(1).to_numpy() >= 0.5
    years = ~(features["year_diff"].to_numpy() > 4)
    pre = norm["preprint"].to_numpy(dtype=bool)
    conf = norm["venue_conference"].to_numpy(dtype=bool)
    journal = norm["journal"].to_numpy(dtype=object)
    other_venue = features["journal_abbrev"].to_numpy() == 0
    for k in np.flatnonzero(other_venue & (conf[i] != conf[j])):
        # "FASEB Journal. Conference: Experimental Biology" is a supplement of FASEB J
        meeting, other = (journal[i[k]], journal[j[k]]) if conf[i[k]] else (journal[j[k]],
                                                                            journal[i[k]])
        head = journal_head(meeting)
        other_venue[k] = not head or journal_compatible(head, other) != 1
    same_doi = features["doi_equal"].to_numpy() == 1
    kind = np.full(len(pairs), "", dtype=object)
    kind[(conf[i] != conf[j]) & title & authors & years & other_venue & ~same_doi] = \
        VERSION_KINDS[1]
    kind[(pre[i] != pre[j]) & title & authors & years] = VERSION_KINDS[0]
    kind[cochrane_versions(norm, pairs, features)] = VERSION_KINDS[2]
    return kind


def cochrane_versions(norm: pd.DataFrame, pairs: np.ndarray,
                      features: pd.DataFrame) -> np.ndarray:
    """Two records of one Cochrane review (same review number) in different versions.

    The versions differ when both are known and differ (".pub2" vs ".pub3"; no suffix is
    the first), or the years or the issues of the Cochrane Library differ, and the DOIs
    are not the same (a review republished unchanged in a later issue keeps its DOI). Two
    records of one version are left to the classifier like any other pair.
    """
    i, j = pairs[:, 0], pairs[:, 1]
    number = norm["review_number"].to_numpy(dtype=object)
    same = (number[i] == number[j]) & (number[i] != "")
    if not same.any():
        return same
    version = norm["review_version"].to_numpy(dtype=np.int64)
    known = (version[i] > 0) & (version[j] > 0)
    same_doi = features["doi_equal"].to_numpy() == 1
    return same & ~same_doi & ((known & (version[i] != version[j]))
                               | (features["year_diff"].to_numpy() >= 1)
                               | (features["issue_equal"].to_numpy() == 0))


def doi_aliases(features: pd.DataFrame, reasons: np.ndarray) -> np.ndarray:
    """Different DOIs, and title, first author, journal, volume, first page and year agree.

    One article with two DOIs (a print and an electronic DOI, an old publisher's DOI beside
    the new one, a DOI mistyped by one database): never merged automatically, but put to a
    person instead of held back.
    """
    alias_only = np.isin(reasons, ["different DOI", "different DOI; different issue"])
    if not alias_only.any():
        return alias_only
    page = features["page_first_equal"].to_numpy() == 1
    year = features["year_diff"].fillna(0).to_numpy() <= 1
    return alias_only & _title_author_journal_volume(features) & page & year


def is_version_pair(norm: pd.DataFrame, pairs: np.ndarray, features: pd.DataFrame) -> np.ndarray:
    """Preprint or conference paper vs another version of the same work."""
    return version_kind(norm, pairs, features) != ""


def notice_of_article(norm: pd.DataFrame, pairs: np.ndarray,
                      features: pd.DataFrame) -> np.ndarray:
    """An erratum, comment or retraction notice and the article it is about.

    One record is a notice and the other is not, and the notice's title without its
    "Erratum to:"/"Reply to:" prefix is the article's title (token-sort similarity 0.9).
    """
    i, j = pairs[:, 0], pairs[:, 1]
    hit = features["type_conflict"].to_numpy() == 1
    if not hit.any():
        return hit
    core = norm["notice_core"].to_numpy(dtype=object)
    idx = np.flatnonzero(hit)
    same = np.fromiter((fuzz.token_sort_ratio(a, b) >= 90 if a and b else False
                        for a, b in zip(core[i[idx]], core[j[idx]], strict=True)),
                       bool, len(idx))
    out = np.zeros(len(pairs), dtype=bool)
    out[idx[same]] = True
    return out


def corroborated(features: pd.DataFrame) -> np.ndarray:
    """Title, first author, journal and volume agree (and the issue does not differ).

    References extracted from PDFs often lack the year, DOI and pages; these four fields
    agreeing identify the work all the same. (The DOI, title, first author and year
    agreeing is not enough: a meeting abstract in a supplement often carries the DOI of
    the article it became, and the labelled sets count it as a duplicate in some cases and
    as a work of its own in others.)
    """
    issue = features["issue_equal"].to_numpy() != 0
    return _title_author_journal_volume(features) & issue


def _title_author_journal_volume(features: pd.DataFrame) -> np.ndarray:
    """Title (token-sort >= 0.95), first author, journal (abbreviation or ratio >= 0.9) and
    volume agree."""
    title = features["title_token_sort"].fillna(0).to_numpy() >= 0.95
    first = features["first_author_equal"].to_numpy() == 1
    journal = (features["journal_abbrev"].to_numpy() == 1) | (
        features["journal_ratio"].fillna(0).to_numpy() >= 0.9)
    volume = features["volume_equal"].to_numpy() == 1
    return title & first & journal & volume


def same_formal_title(norm: pd.DataFrame, pairs: np.ndarray,
                      features: pd.DataFrame) -> np.ndarray:
    """Titles that name the same places and agree once the formal words of state names are
    dropped ("the Republic of Poland" = "Poland"), in the same year (or one year
    missing), with the same authors or none: one treaty or declaration written by two
    sources."""
    i, j = pairs[:, 0], pairs[:, 1]
    key = norm["formal_key"].to_numpy(dtype=object)
    same = (key[i] == key[j]) & (key[i] != "")
    if not same.any():
        return same
    ents = norm["entities"].to_numpy(dtype=object)
    for k in np.flatnonzero(same):
        same[k] = ents[i[k]] == ents[j[k]]
    year = ~(features["year_diff"].to_numpy() > 0)
    authors = ~(features["author_overlap"].to_numpy() < 0.5)
    return same & year & authors


def decide(score: np.ndarray, reasons: np.ndarray, kind: np.ndarray, notice: np.ndarray,
           corroborated_pair: np.ndarray, *, mode: str, notices: str, high: float,
           low: float, alias: np.ndarray | None = None, formal: np.ndarray | None = None
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decision, reason text and "same study" flag for each scored pair.

    A pair that breaks one no-merge rule is distinct, or goes to review when its score is
    high; a pair that breaks two or more, or one of the :data:`DECISIVE` rules, is
    distinct whatever its score. A pair without a broken rule whose title, first author,
    journal and volume agree is a match whatever its score. Versions (``kind``) and
    notices follow ``mode`` and ``notices``: ``link`` (distinct, same study), ``merge``
    (match) or ``separate`` (distinct); a different named entity or number in the title
    keeps them apart and unlinked (but for two versions of one Cochrane review, which its
    number identifies). ``alias`` marks pairs with different DOIs that agree on everything
    else (:func:`doi_aliases`): they go to review whatever their score. ``formal`` marks
    pairs of one treaty written by two sources (:func:`same_formal_title`): without a
    broken rule, a match.
    """
    n = len(score)
    alias = np.zeros(n, dtype=bool) if alias is None else alias
    formal = np.zeros(n, dtype=bool) if formal is None else formal
    decision = np.full(n, REVIEW, dtype=object)
    reason = np.full(n, "", dtype=object)
    has_rule = reasons != ""
    decision[score >= high] = MATCH
    reason[score >= high] = "high score"
    decision[score <= low] = DISTINCT
    reason[score <= low] = "low score"
    reason[decision == REVIEW] = "uncertain score"
    upgrade = corroborated_pair & ~has_rule & (decision != MATCH)
    decision[upgrade] = MATCH
    reason[upgrade] = "title, first author, journal and volume agree"
    treaty = formal & ~has_rule & (decision != MATCH)
    decision[treaty] = MATCH
    reason[treaty] = "same title and places once state names are shortened"
    several, decisive, unlinkable = (np.zeros(n, dtype=bool) for _ in range(3))
    ruled = np.flatnonzero(has_rule)
    if len(ruled):  # most pairs break no rule: look only at those that do
        text = pd.Series(reasons[ruled], dtype=object)
        several[ruled] = text.str.contains(";", regex=False).to_numpy(bool)
        decisive[ruled] = text.str.contains("|".join(DECISIVE), regex=True).to_numpy(bool)
        unlinkable[ruled] = text.str.contains("|".join(DECISIVE[:2]),
                                              regex=True).to_numpy(bool)
    conflict = has_rule & ~several & ~decisive & (score >= high)
    conflict |= alias
    decision[has_rule] = DISTINCT
    decision[conflict] = REVIEW
    reason[has_rule] = reasons[has_rule]
    reason[conflict] = "high score but " + reasons[conflict]
    reason[alias] = ("different DOIs but title, first author, journal, volume, pages and "
                     "year agree")
    same_study = np.zeros(n, dtype=bool)
    for hit, label, how in [(kind != "", kind, mode), (notice, NOTICE_KIND, notices)]:
        # a review number names the review whatever its title became
        hit = hit & (~unlinkable | (label == VERSION_KINDS[2]))
        if not hit.any():
            continue
        text = label[hit] if isinstance(label, np.ndarray) else label
        if how == "merge":
            decision[hit] = MATCH
            reason[hit] = text + " (merged)"
        else:
            decision[hit] = DISTINCT
            reason[hit] = text + (" (linked as one study)" if how == "link"
                                  else " (kept separate)")
            same_study[hit] = how == "link"
    return decision, reason, same_study
