"""The records contract: the columns every stage exchanges (DESIGN §3).

One row per imported record. Text columns use pandas' ``string`` dtype with ``<NA>`` for
a missing value (never ``""``); ``authors`` and ``keywords`` are always lists; ``raw``
holds every original tag or column with its values, untouched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from .errors import ContractError

RECORD_ID = "record_id"
SOURCE_ID = "source_id"
SOURCE_ROW = "source_row"
TITLE = "title"
ABSTRACT = "abstract"
JOURNAL = "journal"
AUTHORS = "authors"
KEYWORDS = "keywords"
YEAR = "year"
VOLUME = "volume"
ISSUE = "issue"
PAGES = "pages"
PUBLISHER = "publisher"
ISBN = "isbn"
ISSN = "issn"
LANGUAGE = "language"
PUB_TYPE = "pub_type"
DOI = "doi"
PMID = "pmid"
ACCESSION = "accession"
RAW = "raw"

#: Text columns: pandas ``string`` dtype, ``<NA>`` when missing.
STRING_COLUMNS: tuple[str, ...] = (
    RECORD_ID, SOURCE_ID, TITLE, ABSTRACT, JOURNAL, VOLUME, ISSUE, PAGES, PUBLISHER,
    ISBN, ISSN, LANGUAGE, PUB_TYPE, DOI, PMID, ACCESSION,
)
#: Nullable integer columns.
INT_COLUMNS: tuple[str, ...] = (SOURCE_ROW, YEAR)
#: Columns holding a Python list of strings in every row.
LIST_COLUMNS: tuple[str, ...] = (AUTHORS, KEYWORDS)
#: Column holding a dict ``tag -> list of values`` in every row.
DICT_COLUMNS: tuple[str, ...] = (RAW,)

#: All contract columns, in their canonical order.
RECORD_COLUMNS: tuple[str, ...] = (
    RECORD_ID, SOURCE_ID, SOURCE_ROW, TITLE, ABSTRACT, JOURNAL, AUTHORS, KEYWORDS, YEAR,
    VOLUME, ISSUE, PAGES, PUBLISHER, ISBN, ISSN, LANGUAGE, PUB_TYPE, DOI, PMID, ACCESSION,
    RAW,
)

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", re.IGNORECASE)


def records_from_dicts(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Build a contract-conforming records frame from dicts.

    Missing keys become ``<NA>`` (or ``[]``/``{}`` for list and dict columns); ``""`` and
    whitespace-only strings become ``<NA>``. Keys outside the contract are kept as extra
    columns after the contract ones.

    Parameters
    ----------
    rows : iterable of mapping
        One mapping per record.

    Returns
    -------
    pandas.DataFrame
        Columns ``RECORD_COLUMNS`` (plus any extra keys), with contract dtypes.
    """
    frame = pd.DataFrame(list(rows))
    return coerce_records(frame)


def coerce_records(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` with contract columns present and contract dtypes.

    Parameters
    ----------
    df : pandas.DataFrame
        Records, possibly with missing contract columns or loose dtypes.

    Returns
    -------
    pandas.DataFrame
        Contract columns first (``RECORD_COLUMNS``), then the other columns of ``df``.
    """
    out = pd.DataFrame(index=df.index)
    n = len(df)
    for col in RECORD_COLUMNS:
        values = df[col] if col in df.columns else pd.Series([None] * n, index=df.index)
        if col in STRING_COLUMNS:
            out[col] = _clean_strings(values)
        elif col in INT_COLUMNS:
            out[col] = pd.to_numeric(values, errors="coerce").astype("Int64")
        elif col in LIST_COLUMNS:
            out[col] = pd.Series([_as_list(v) for v in values], index=df.index, dtype=object)
        else:
            out[col] = pd.Series(
                [dict(v) if isinstance(v, Mapping) else {} for v in values],
                index=df.index,
                dtype=object,
            )
    if DOI in out.columns:
        out[DOI] = out[DOI].map(normalise_doi, na_action="ignore").astype("string")
    extra = [c for c in df.columns if c not in RECORD_COLUMNS]
    for col in extra:
        out[col] = df[col]
    return out.reset_index(drop=True)


def normalise_doi(value: Any) -> Any:
    """Return a DOI in lower case without ``https://doi.org/`` or ``doi:`` prefixes.

    Returns ``<NA>`` for values that are empty after cleaning.
    """
    if value is None or value is pd.NA:
        return pd.NA
    text = _DOI_PREFIX.sub("", str(value).strip()).strip().lower()
    return text or pd.NA


def validate_records(df: pd.DataFrame) -> pd.DataFrame:
    """Check ``df`` against the records contract, collecting every failure.

    Parameters
    ----------
    df : pandas.DataFrame
        Records to check.

    Returns
    -------
    pandas.DataFrame
        ``df`` itself, unchanged, when it conforms.

    Raises
    ------
    ContractError
        Listing every failure; ``error.problems`` is a DataFrame with columns
        ``column``, ``row`` (``<NA>`` for column-level failures) and ``problem``.
    """
    problems: list[tuple[str, Any, str]] = []
    missing = [c for c in RECORD_COLUMNS if c not in df.columns]
    problems += [(c, pd.NA, "column missing") for c in missing]
    present = [c for c in RECORD_COLUMNS if c in df.columns]
    for col in present:
        series = df[col]
        if col in STRING_COLUMNS:
            problems += _check_strings(col, series)
        elif col in INT_COLUMNS:
            if not isinstance(series.dtype, pd.Int64Dtype):
                problems.append((col, pd.NA, f"dtype is {series.dtype}, expected Int64"))
        elif col in LIST_COLUMNS:
            problems += [
                (col, i, f"expected a list of str, found {type(v).__name__}")
                for i, v in enumerate(series)
                if not (isinstance(v, list) and all(isinstance(x, str) for x in v))
            ]
        else:
            problems += [
                (col, i, f"expected a dict, found {type(v).__name__}")
                for i, v in enumerate(series)
                if not isinstance(v, dict)
            ]
    if RECORD_ID in df.columns:
        dup = df[RECORD_ID][df[RECORD_ID].duplicated(keep="first")]
        problems += [(RECORD_ID, i, f"duplicate record_id {v!r}") for i, v in dup.items()]
        problems += [(RECORD_ID, i, "record_id is missing") for i in df.index[df[RECORD_ID].isna()]]
    if DOI in df.columns and pd.api.types.is_string_dtype(df[DOI].dtype):
        doi = df[DOI].dropna()
        bad = doi[(doi != doi.str.lower()) | doi.str.contains(_DOI_PREFIX, regex=True)]
        problems += [(DOI, i, f"DOI not normalised: {v!r}") for i, v in bad.items()]
    if problems:
        table = pd.DataFrame(problems, columns=["column", "row", "problem"])
        head = "; ".join(
            f"{c}" + ("" if pd.isna(r) else f"[row {r}]") + f": {p}"
            for c, r, p in problems[:10]
        )
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ContractError(
            f"records do not satisfy the contract: {len(problems)} problem(s): {head}{more}",
            problems=table,
        )
    return df


def _check_strings(col: str, series: pd.Series) -> list[tuple[str, Any, str]]:
    if not (isinstance(series.dtype, pd.StringDtype) and series.dtype.na_value is pd.NA):
        return [(col, pd.NA, f"dtype is {series.dtype!r}, expected string with <NA>")]
    values = series.dropna()
    blank = values[values.str.strip() == ""]
    return [(col, i, "empty string; use <NA> for a missing value") for i in blank.index]


def _clean_strings(values: pd.Series) -> pd.Series:
    def clean(v: Any) -> Any:
        if v is None or (not isinstance(v, (list, dict)) and pd.isna(v)):
            return pd.NA
        text = str(v).strip()
        return text or pd.NA

    return pd.Series([clean(v) for v in values], index=values.index, dtype="string")


def _as_list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v is not None and str(v).strip()]
    if value is None or (not isinstance(value, dict) and pd.isna(value)):
        return []
    text = str(value).strip()
    return [text] if text else []
