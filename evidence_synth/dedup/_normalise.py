"""Normalisation of bibliographic fields for comparison (one pass over the records)."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import numpy as np
import pandas as pd

from ._gazetteer import title_entities

_MOJIBAKE = re.compile(r"[\xc2-\xf4][\x80-\xbf]{1,3}")
_TAGS = re.compile(r"<[^>]{1,40}>")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_LATEX_ACCENT = re.compile(r"\\[\"'`^~=.uvHcdbk]\s*\{?([A-Za-z])\}?")
_LATEX_CMD = re.compile(r"\\[A-Za-z]+\*?")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an|le|la|les|der|die|das|el|los|las)\s+")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6, "vii": 7, "viii": 8, "ix": 9,
          "x": 10}
_ROMAN_CONTEXT = {"part", "phase", "type", "stage", "grade", "class", "study", "trial", "section",
                  "volume", "vol", "chapter", "series", "level"}
_NUMBER_WORDS = dict.fromkeys(("one", "first"), 1) | dict.fromkeys(("two", "second"), 2) | {
    "three": 3, "third": 3, "four": 4, "fourth": 4, "five": 5, "fifth": 5, "six": 6,
    "sixth": 6, "seven": 7, "seventh": 7, "eight": 8, "eighth": 8, "nine": 9, "ninth": 9,
    "ten": 10, "tenth": 10, "eleven": 11, "twelve": 12}
_NUMBER_CONTEXT = {"no", "number", "issue", "edition", "wave", "round", "cohort", "year",
                   "week", "day", "report", "protocol", "version", "step", "figure", "table",
                   "article", "annex", "appendix", "session", "group", "arm", "module"}
_FOOTNOTE = re.compile(r"(?:(?<=[a-z]{3})|(?<=\s))[1-9]$")
_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l",
                          "Ł": "L", "đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "ı": "i",
                          "‐": "-", "‑": "-", "–": "-", "—": "-", "’": "'", "‘": "'"})
_MONTHS = {"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8,
           "sep": 9, "oct": 10, "nov": 11, "dec": 12}
_PAGE_DATE = re.compile(r"^\s*(\d{1,2})-([A-Za-z]{3})\s*$|^\s*([A-Za-z]{3})-(\d{1,2})\s*$")
_PAGES = re.compile(r"^\s*([A-Za-z]?\d+)\s*(?:[-‐–—]+|\s+to\s+)\s*([A-Za-z]?\d+)")
_FIRST_TOKEN = re.compile(r"[A-Za-z]*\d+[A-Za-z]*")
_NOT_LETTER = re.compile(r"[^a-z]+")
_SUPPLEMENT_NUMBER = re.compile(r"\bsuppl(?:ement)?\.?\s*(\d+)", re.IGNORECASE)
_SUPPLEMENT_SERIES = re.compile(r"\bsuppl(?:ement)?\.?\s*$", re.IGNORECASE)
#: "S4-76-S4-101": pages 76-101 of supplement 4, numbered with the supplement's number
_SUPPLEMENT_PAGES = re.compile(r"^\s*([A-Za-z])(\d+)-(\d+)\s*[-‐–—]+\s*\1\2-(\d+)\s*$")
_INT = re.compile(r"\d+")
_PART_PREFIX = re.compile(r"^\s*(?:part|pt)\.?\s*[A-Za-z]?\.?\s*", re.IGNORECASE)
_DOI_PREFIX = re.compile(r"^(?:https?://)?(?:dx\.)?(?:doi\.org/|doi:\s*)", re.IGNORECASE)
_DOI_CORE = re.compile(r"10\.\d{4,9}/\S+")
#: A Cochrane review's DOI: review number ("cd001869") and version (".pub3"; none = 1).
_COCHRANE_DOI = re.compile(r"^10\.1002/14651858\.((?:cd|mr)\d{6})(?:\.pub(\d{1,2}))?$")
_COCHRANE_PAGES = re.compile(r"^\s*((?:cd|mr)\d{6})\b", re.IGNORECASE)
_BROKEN_VOLUME = re.compile(r"^[^(]*\)\s*$")
_RUN_TOGETHER = re.compile(r"(?<=\.)(?=[A-Z][^\s.])")
_CAMEL = re.compile(r"(?<=[a-z])(?<!Mc)(?<!Mac)(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_CAPS_INITIALS = re.compile(r"^[A-Z]{1,3}\.?$")
_PARTICLES = {"van", "von", "der", "den", "de", "da", "di", "del", "della", "du", "le", "la",
              "ten", "ter", "dos", "das", "el", "al", "bin", "st"}
_INITIALS = re.compile(r"^(?:[A-Z]\.?-?){1,3}$")
_JOURNAL_STOP = {"of", "and", "the", "for", "in", "on", "de", "la", "der", "und", "et", "des",
                 "du", "a"}

_ERRATUM = re.compile(r"^corrections?\b|\b(?:errat(?:um|a)|corrigend(?:um|a)|"
                      r"correction(?:s)? (?:to|for|of)|"
                      r"publisher'?s? note|notice of correction|author correction|"
                      r"vol \d+ pg \d+)\b")
_COMMENT = re.compile(r"\b(?:comment(?:ary)? on|reply to|response to|in reply|in response|"
                      r"letter to the editor|re:|author(?:s)?'? reply|editorial comment)")
_RETRACTION = re.compile(r"\b(?:retract(?:ion|ed)|expression of concern|withdrawn)\b")
_PREPRINT_JOURNAL = re.compile(r"\b(?:arxiv|biorxiv|medrxiv|ssrn|research square|preprint|"
                               r"working paper|discussion paper|nber|osf preprints|"
                               r"psyarxiv|socarxiv|econstor)\b")
_PREPRINT_DOI = ("10.1101/", "10.2139/", "10.48550/", "10.21203/", "10.3386/", "10.31234/",
                 "10.31235/", "10.31219/", "10.20944/")
_VENUE_CONFERENCE = re.compile(r"\b(?:congress|conference|meeting|symposium|proceedings|"
                               r"workshop|colloquium|convention|annual sessions)\b")
_NOTICE_PREFIX = re.compile(
    r"^(?:(?:erratum|errata|corrigendum|corrigenda|correction|retraction|retracted|"
    r"retraction note|notice of retraction|expression of concern|withdrawn|comment|commentary|"
    r"reply|response|author s reply|authors reply|letter|publisher s note|author correction|"
    r"editorial comment|in reply|in response)(?: notice)?(?: (?:to|on|for|of|regarding|re))?"
    r"(?: the article| article)?\s+)+")
_NOTICE_STARTS = {"erra", "corr", "retr", "noti", "expr", "with", "comm", "repl", "resp",
                  "auth", "lett", "publ", "edit", "in r"}  # first letters of the prefixes
#: Titles that journals reuse for different items: section headings, notices and reports.
#: Matched against the whole normalised title once numbers and "volume/issue" are removed.
_RECURRING = re.compile(
    r"^(?:(?:guest |invited |special issue |the )?editorials?(?: (?:comments?|notes?|"
    r"introduction|board|statement|policy))?|editor s (?:comments?|notes?|introduction|"
    r"preface|remarks|letter|choice|corner|page)|(?:remarks|notes?|comments?|message|letter|"
    r"words?) (?:from|of|by) the (?:editors?|editor in chief|chair|president)|"
    r"from the (?:editors?|editor s desk|editor in chief|guest editors?)|"
    r"(?:letters?|correspondence|reply|response|comments?) to the editors?|letters?|"
    r"correspondence|in reply|reply|authors? reply|response|rejoinder|comments?|commentary|"
    r"discussion|corrigend(?:um|a)|errat(?:um|a)|corrections?|retraction(?: notice)?|"
    r"expression of concern|(?:annual|biennial|quarterly|progress|activity) report|"
    r"report of the [a-z ]{3,60}|(?:introduction|preface|foreword|prologue|epilogue|overview)"
    r"(?: to (?:the|this)(?: special| focus)?(?: (?:issue|section|volume|supplement))?)?|"
    r"in this issue|issues and opinions|news(?: and views)?|book reviews?|obituary|"
    r"in memoriam|acknowledg(?:e)?ments?(?: (?:to|of) (?:the )?(?:reviewers|referees))?|"
    r"(?:thanks to|list of) (?:our )?(?:reviewers|referees)|reviewers|referees|"
    r"editorial board|masthead|(?:table of )?contents|(?:author|subject|cumulative) index|"
    r"index|call for papers|announcements?|abstracts|conference report|meeting report|"
    r"highlights|research highlights|front matter|back matter|cover|notes on contributors|"
    r"about the authors?|special(?: issue)?|"
    r"memorandum of understanding|(?:framework |bilateral |readmission )?agreement|"
    r"joint (?:declaration|statement|communique)|declaration|protocol|treaty|convention|"
    r"exchange of (?:letters|notes))$")
_ISSUE_WORDS = re.compile(r"\b(?:volume|vol|issue|no|number|part|supplement|suppl)\b")
_CONFERENCE = re.compile(r"\b(?:congress|conference|meeting|symposium|proceedings|abstracts?|"
                         r"annual scientific|suppl(?:ement)?)\b")


def fix_mojibake(text: str) -> str:
    """Repair UTF-8 text that was decoded as Latin-1 (``"KÃ¶nig"`` -> ``"König"``)."""

    def repair(match: re.Match[str]) -> str:
        chunk = match.group(0)
        try:
            return chunk.encode("latin-1").decode("utf-8")
        except UnicodeError:
            return chunk

    return _MOJIBAKE.sub(repair, text)


def fold(text: Any) -> str:
    """Return ``text`` repaired, accent-free and lower-cased, with HTML and LaTeX removed."""
    if text is None or text is pd.NA or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = str(text)
    if "&" in s:
        s = html.unescape(s)
    if "<" in s:
        s = _TAGS.sub(" ", s)
    if "\\" in s:
        s = _LATEX_CMD.sub(" ", _LATEX_ACCENT.sub(r"\1", s))
    if not s.isascii():
        s = fix_mojibake(s).translate(_SPECIAL)
        s = _COMBINING.sub("", unicodedata.normalize("NFKD", s))
    return s.lower()


def norm_text(text: Any) -> str:
    """Folded text with punctuation replaced by single spaces."""
    return _NON_ALNUM.sub(" ", fold(text)).strip()  # runs of anything else: one space


def norm_title(text: Any) -> str:
    """Normalised title without a leading article."""
    return _LEADING_ARTICLE.sub("", norm_text(text))


def number_signature(title: str) -> str:
    """Numbers in a normalised title: digits, number words ("two", "second") and roman
    numerals after part/phase/...; "one" and "1" give the same signature."""
    tokens = title.split()
    nums = [str(int(d)) for d in _INT.findall(title)]
    for k, tok in enumerate(tokens):
        if tok in _NUMBER_WORDS:
            nums.append(str(_NUMBER_WORDS[tok]))
        elif tok in _ROMAN and k > 0 and tokens[k - 1] in _ROMAN_CONTEXT:
            nums.append(str(_ROMAN[tok]))
    return " ".join(sorted(nums))


def footnote_signature(title: str) -> str:
    """:func:`number_signature` without a footnote digit PDF extraction left at the end.

    A single digit glued to the last word ("... reperfusion1") or standing after a word
    that does not announce a number ("... Ciborra 1", not "Part 1") is taken for a
    footnote mark; the signature is unchanged when there is none.
    """
    m = _FOOTNOTE.search(title) if title[-1:].isdigit() else None
    if not m:
        return number_signature(title)
    head = title[:m.start()].rstrip()
    words = head.split()
    if not words or words[-1] in _ROMAN_CONTEXT or words[-1] in _NUMBER_CONTEXT:
        return number_signature(title)
    return number_signature(head)


def strip_numbers(title: str) -> str:
    """A normalised title without the numbers of its :func:`number_signature`."""
    tokens = _INT.sub(" ", title).split()
    keep = [tok for k, tok in enumerate(tokens)
            if tok not in _NUMBER_WORDS
            and not (tok in _ROMAN and k > 0 and tokens[k - 1] in _ROMAN_CONTEXT)]
    return " ".join(keep)


def norm_doi(value: Any) -> str:
    """DOI in lower case without resolver prefixes or trailing punctuation ("" if none, or
    if nothing after the slash is a digit: a DOI cut off after its journal stem)."""
    s = fold(value).strip()
    if not s:
        return ""
    if "%" in s:
        s = unquote(s)
    s = s.replace(" ", "")
    s = _DOI_PREFIX.sub("", s)
    m = _DOI_CORE.search(s)
    if not m:
        return ""
    doi = m.group(0).rstrip(".,;)")
    # "10.1057/palgrave": a DOI cut off after its journal stem names no article
    return doi if any(c.isdigit() for c in doi.split("/", 1)[1]) else ""


def cochrane_review(doi: str, pages: Any, journal_text: str) -> tuple[str, int]:
    """Review number and version of a Cochrane review ("cd001869", 3), or ("", 0).

    Taken from the DOI (``10.1002/14651858.CD001869.pub3``; no ``.pubN`` suffix is the
    first version) or, for a record of the Cochrane Database of Systematic Reviews without
    a DOI, from the article number in its pages field ("CD001869"; version unknown, 0).
    """
    m = _COCHRANE_DOI.match(doi)
    if m:
        return m.group(1), int(m.group(2) or 1)
    if isinstance(pages, str) and "cochrane" in journal_text:
        m = _COCHRANE_PAGES.match(pages)
        if m:
            return m.group(1).lower(), 0
    return "", 0


def _cochrane_issue(volume: str) -> str:
    """The issue number a Cochrane record's volume field holds ("8", "2014 (12)")."""
    m = re.search(r"\((\d{1,2})\)", volume)
    if m:
        return str(int(m.group(1)))
    m = re.fullmatch(r"\s*(\d{1,2})\s*", volume)
    return str(int(m.group(1))) if m else ""


def doi_key(doi: str) -> str:
    """Letters and digits of a normalised DOI.

    PDF extraction writes "10.1057/ejis200849" for "10.1057/ejis.2008.49"; both keep the
    same letters and digits.
    """
    return _NON_ALNUM.sub("", doi)


@lru_cache(maxsize=100_000)
def parse_pages(value: Any) -> tuple[str, str]:
    """First and last page as strings; repairs spreadsheet dates (``"06-Oct"`` = 6-10) and
    reads pages numbered with their supplement's number (``"S4-76-S4-101"`` = S76-S101)."""
    s = "" if value is None or value is pd.NA else str(value).strip()
    if not s:
        return "", ""
    m = _PAGE_DATE.match(s)
    if m:
        if m.group(1):
            a, b = int(m.group(1)), _MONTHS.get(m.group(2).lower())
        else:
            a, b = _MONTHS.get(m.group(3).lower()), int(m.group(4))
        if a is not None and b is not None:
            return str(a), str(b)
    m = _SUPPLEMENT_PAGES.match(s)
    if m:
        prefix = m.group(1).lower()
        return prefix + m.group(3).lstrip("0"), prefix + m.group(4).lstrip("0")
    m = _PAGES.match(s)
    if m:
        first, last = m.group(1).lower(), m.group(2).lower()
        prefix = first[0] if first[0].isalpha() else ""
        head, tail = first[len(prefix):], last[1:] if last[0].isalpha() else last
        if len(tail) < len(head):
            tail = head[: len(head) - len(tail)] + tail
        return prefix + (head.lstrip("0") or "0"), prefix + (tail.lstrip("0") or "0")
    m = _FIRST_TOKEN.search(s)
    if m:
        tok = m.group(0).lower()
        return (tok.lstrip("0") or "0"), ""
    return "", ""


def supplement_number(volume: Any, issue: Any, journal: Any) -> str:
    """Number of the supplement a record names: "Suppl 51" in its volume or issue field, or
    its issue when the journal is a supplement series ("Scand J Gastroenterol Suppl").

    Databases number a supplement's items either by the journal's volume and the
    supplement ("25", "SUPPL. 51") or by the supplement series' own volume ("51").
    """
    for value in (issue, volume):
        if isinstance(value, str):
            m = _SUPPLEMENT_NUMBER.search(value)
            if m:
                return str(int(m.group(1)))
    if isinstance(journal, str) and _SUPPLEMENT_SERIES.search(journal):
        return norm_number(issue)
    return ""


def norm_number(value: Any) -> str:
    """First integer of a volume or issue field, ignoring a "Part B" prefix.

    A value that closes a parenthesis it never opened ("2)", "10S)") is the tail of a
    supplement number an export cut off ("62 (Suppl 2)"), not a volume: it counts as
    missing.
    """
    s = "" if value is None or value is pd.NA else str(value)
    if ")" in s and _BROKEN_VOLUME.match(s):
        return ""
    s = _PART_PREFIX.sub("", s)
    m = _INT.search(s)
    return str(int(m.group(0))) if m else ""


def split_authors(authors: Any) -> list[str]:
    """Author names from a contract list, also splitting run-together strings and "and"."""
    if authors is None or authors is pd.NA:
        return []
    if isinstance(authors, str):
        authors = [authors]
    names: list[str] = []
    for item in authors:
        if not isinstance(item, str):
            continue
        item = fix_mojibake(item) if not item.isascii() else item
        parts = re.split(r"\s+and\s+|;\s*", item) if (" and " in item or ";" in item) else [item]
        for part in parts:
            if "," in part:
                if part.strip():
                    names.append(part)
                continue
            for piece in _RUN_TOGETHER.split(part):
                names.extend(p for p in _CAMEL.split(piece) if p.strip())
    return names


@lru_cache(maxsize=200_000)
def surname(name: str) -> str:
    """Folded surname key of one author name ("Surname, Given" or "Surname Given/Initials")."""
    if "," in name:
        head = name.split(",", 1)[0]
        words = norm_text(head.replace("-", "")).split()
        kept = [w for w in words if w not in _PARTICLES] or words
        return kept[0] if kept else ""
    raw_words = name.replace(".", ". ").split()
    words = [w for w in raw_words if not _INITIALS.match(w) and w.lower() not in _PARTICLES]
    words = words or raw_words
    return norm_text(words[0]).replace(" ", "") if words else ""


@lru_cache(maxsize=200_000)
def name_tokens(name: str) -> frozenset[str]:
    """Folded words of one author name, initials left out (surnames and given names)."""
    words = [w for w in name.replace(".", ". ").split() if not _CAPS_INITIALS.match(w)]
    return frozenset(w for w in norm_text(" ".join(words)).split()
                     if len(w) > 1 and w not in _PARTICLES)


def journal_words(value: Any) -> tuple[str, ...]:
    """Normalised journal title words without stop words."""
    if isinstance(value, str):
        return _journal_words_cached(value)
    return tuple(w for w in norm_text(value).split() if w not in _JOURNAL_STOP)


@lru_cache(maxsize=50_000)
def _journal_words_cached(value: str) -> tuple[str, ...]:
    return tuple(w for w in norm_text(value).split() if w not in _JOURNAL_STOP)


def journal_head(words: tuple[str, ...]) -> tuple[str, ...]:
    """Journal words before a meeting word ("circulation conference aha ..." -> circulation)."""
    for k, word in enumerate(words):
        if _VENUE_CONFERENCE.match(word):
            return words[:k]
    return words


@lru_cache(maxsize=200_000)
def journal_compatible(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """1.0 when one journal title abbreviates the other (word-prefix matching), else 0.0."""
    if not a or not b:
        return float("nan")
    if a == b:
        return 1.0
    short, long_ = (a, b) if sum(map(len, a)) <= sum(map(len, b)) else (b, a)
    j = 0
    skipped = 0
    for word in short:
        while j < len(long_) and not long_[j].startswith(word[: max(1, min(len(word), 12))]):
            j += 1
            skipped += 1
        if j == len(long_):
            return 0.0
        j += 1
    skipped += len(long_) - j
    return 1.0 if skipped <= 1 else 0.0


def _flags(title: str, journal: str, pub_type: str, doi: str, volume: str) -> dict[str, bool]:
    head = title[:80]
    pt = pub_type
    return {
        "venue_conference": bool(_VENUE_CONFERENCE.search(journal)) or "conference" in pt
        or "proceeding" in pt,
        "erratum": bool(_ERRATUM.search(head)) or "errat" in pt or "correction" in pt,
        "comment": bool(_COMMENT.search(head)) or "comment" in pt or "letter" in pt,
        "retraction": bool(_RETRACTION.search(head)) or "retract" in pt,
        "preprint": bool(_PREPRINT_JOURNAL.search(journal)) or doi.startswith(_PREPRINT_DOI)
        or "preprint" in pt or "working" in pt,
        "conference": bool(_CONFERENCE.search(journal)) or "suppl" in volume or "conference" in pt,
    }


_FORMAL = frozenset(("the", "of", "republic", "federal", "kingdom", "state", "principality",
                     "grand", "duchy", "government", "governments", "democratic", "islamic",
                     "socialist", "hashemite", "plurinational", "bolivarian", "people", "s"))


def formal_key(title: str) -> str:
    """A title without the formal words of state names ("the Government of the Federal
    Republic of Germany" -> "germany"), for titles that name a state."""
    return " ".join(w for w in title.split() if w not in _FORMAL)


def notice_core(title: str) -> str:
    """A normalised title without a leading notice phrase ("erratum to", "reply to", ...)."""
    if title[:4] not in _NOTICE_STARTS:
        return title
    return _NOTICE_PREFIX.sub("", title)


def is_recurring_title(title: str) -> bool:
    """True for titles journals give to many different items ("Editorial", "Reply"), and
    for titles of one or two short words, which do not name a work on their own."""
    if len(title) > 90:
        return False
    bare = _SPACES.sub(" ", _ISSUE_WORDS.sub(" ", _INT.sub(" ", title))).strip()
    if len(bare) <= 12 and bare.count(" ") <= 1:
        return bool(title)  # one or two short words ("EJIS 121P") do not name a work
    return bool(_RECURRING.match(bare))


def _page_digits(page: str) -> str:
    digits = "".join(c for c in page if c.isdigit()).lstrip("0")
    return digits or ("0" if page else "")


def _year(value: Any) -> float:
    if value is None or value is pd.NA or value == "":
        return np.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        m = _INT.search(str(value))
        return float(m.group(0)) if m else np.nan


def _col(records: pd.DataFrame, name: str) -> list[Any]:
    if name not in records.columns:
        return [None] * len(records)
    return records[name].tolist()


def normalise_records(records: pd.DataFrame) -> pd.DataFrame:
    """One row per record with the normalised fields used by blocking and comparison.

    Returns
    -------
    pandas.DataFrame
        Columns ``title``, ``title_key``, ``numbers``, ``numbers_footnote`` (numbers without
        a footnote digit), ``entities`` (gazetteer codes of places, peoples and languages
        named), ``notice_core`` (title without an "erratum to"/"reply to" prefix),
        ``formal_key`` (for a title naming a place, the title without the formal words of
        state names, :func:`formal_key`; "" otherwise),
        ``recurring`` (a title journals reuse, or one found here with three or more years),
        ``title_nonum`` (title without numbers), ``authors`` (tuple of surname keys),
        ``author_text``, ``author_letters`` (the author names' letters only),
        ``first_author``, ``year`` (float, NaN when missing), ``journal`` (tuple of words),
        ``volume``, ``issue``, ``supplement`` (:func:`supplement_number`), ``page_first``,
        ``page_prefixed`` (the first page has a letter: "e4", "S12"), ``page_last``, ``doi``,
        ``doi_key`` (its letters and digits), ``review_number`` and ``review_version``
        (of a Cochrane review, :func:`cochrane_review`), ``abstract`` and boolean flags ``erratum``,
        ``comment``, ``retraction``, ``preprint``, ``conference`` and ``venue_conference``
        (published in proceedings or a meeting's book of abstracts).
    """
    rows = []
    titles = _col(records, "title")
    abstracts = _col(records, "abstract")
    journals = _col(records, "journal")
    authors = _col(records, "authors")
    years = _col(records, "year")
    volumes = _col(records, "volume")
    issues = _col(records, "issue")
    pages = _col(records, "pages")
    dois = _col(records, "doi")
    pub_types = _col(records, "pub_type")
    entity_cache: dict[str, frozenset[str]] = {}

    def _entities(title: str) -> frozenset[str]:
        found = entity_cache.get(title)
        if found is None:
            found = entity_cache[title] = title_entities(title)
        return found

    for k in range(len(records)):
        title = norm_title(titles[k])
        numbers = number_signature(title)
        names = split_authors(authors[k])
        keys = tuple(s for s in (surname(n) for n in names[:15]) if s)
        tokens = frozenset().union(*(name_tokens(n) for n in names[:15])) if names else frozenset()
        journal_text = " ".join(journal_words(journals[k]))
        doi = norm_doi(dois[k])
        volume_raw = fold(volumes[k])
        first, last = parse_pages(pages[k]) if isinstance(pages[k], str) else ("", "")
        year_f = _year(years[k])
        raw_abstract = abstracts[k]
        abstract = norm_text(raw_abstract[:450] if isinstance(raw_abstract, str) else raw_abstract)
        row = {
            "title": title,
            "title_key": title.replace(" ", ""),
            "numbers": numbers,
            "numbers_footnote": footnote_signature(title) if title[-1:].isdigit() else numbers,
            "entities": _entities(title),
            "notice_core": notice_core(title),
            "formal_key": "",
            "recurring": is_recurring_title(title),
            "title_nonum": strip_numbers(title),
            "authors": keys,
            "author_tokens": tokens,
            "author_text": " ".join(keys),
            "author_letters": _NOT_LETTER.sub("", fold(" ".join(names))),
            "first_author": keys[0] if keys else "",
            "year": year_f,
            "journal": journal_words(journals[k]),
            "volume": norm_number(volumes[k]),
            "issue": norm_number(issues[k]),
            "supplement": supplement_number(volumes[k], issues[k], journals[k]),
            "page_first": _page_digits(first),
            "page_prefixed": first[:1].isalpha(),
            "page_last": _page_digits(last),
            "doi": doi,
            "doi_key": doi_key(doi),
            "abstract": abstract[:400],
        }
        if row["entities"]:
            row["formal_key"] = formal_key(title)
        row["review_number"], row["review_version"] = cochrane_review(doi, pages[k],
                                                                      journal_text)
        if row["review_number"]:
            # the Cochrane Database has issues, not volumes; exports put the issue, or the
            # year with the issue in parentheses ("2014 (12) (no pagination)"), in volume
            row["issue"] = row["issue"] or _cochrane_issue(volume_raw)
            row["volume"] = ""
        row.update(_flags(title, journal_text, fold(pub_types[k]), doi, volume_raw))
        rows.append(row)
    out = pd.DataFrame(rows, columns=[
        "title", "title_key", "numbers", "numbers_footnote", "entities", "notice_core",
        "formal_key", "recurring", "title_nonum", "authors", "author_tokens", "author_text",
        "author_letters", "first_author",
        "year", "journal", "volume", "issue", "supplement", "page_first", "page_prefixed",
        "page_last", "doi",
        "doi_key", "review_number", "review_version", "abstract", "erratum", "comment",
        "retraction", "preprint", "conference",
        "venue_conference"])
    out["recurring"] |= _reused_titles(out)
    return out


def _reused_titles(norm: pd.DataFrame) -> np.ndarray:
    """Titles found in this run with three or more different years (a column's heading)."""
    known = norm[(norm["title_key"] != "") & norm["year"].notna()]
    if not len(known):
        return np.zeros(len(norm), dtype=bool)
    years = known.groupby("title_key")["year"].nunique()
    reused = years.index[years >= 3]
    return norm["title_key"].isin(reused).to_numpy()
