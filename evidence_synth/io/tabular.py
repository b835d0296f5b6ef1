"""CSV/TSV/XLSX exports: Scopus, Embase, Lens, 3ie DEP and generic tables.

Columns are matched to contract fields through :data:`COLUMN_MAP` (header names compared
case-insensitively, first match wins); pass ``columns={"title": "My title col", ...}`` to
override. ``raw`` holds every column of the row (``[cell]``; empty cells are kept).
The 3ie DEP export spreads one study over several rows sharing ``id``: those rows are
merged into one record whose ``raw`` lists every row's non-empty cells.
A CSV/TSV cell starting with ``'`` and then a formula character (``'=...``) loses that
quote, which our writers add (:mod:`evidence_synth.spreadsheet`) and other tools' exports
add by the same OWASP rule.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from .. import limits
from ..errors import DataQualityWarning, LimitError, ParseError
from ..spreadsheet import restore_cell
from . import _fields as f
from ._parsed import Parsed, Source
from ._registry import ImportFormat
from .sniff import Sample

#: Contract field -> candidate column names (lower case), in order of preference.
COLUMN_MAP: dict[str, tuple[str, ...]] = {
    "title": ("title", "article title", "document title", "primary title", "ti", "t1",
              "display_name", "item title"),
    "abstract": ("abstract", "ab", "abstract note"),
    "journal": ("source title", "journal", "journal title", "publication title", "journal/book",
                "secondary title", "so", "source_title", "publication",
                "primary_location.source.display_name", "host_venue.display_name"),
    "authors": ("author full names", "authors", "author names", "author/s", "author", "au",
                "af", "a1", "authorships.author.display_name", "author(s)"),
    "keywords": ("author keywords", "keywords", "index keywords", "mesh terms", "kw", "de",
                 "manual tags", "automatic tags", "emtree medical index terms"),
    "year": ("year", "publication year", "year_of_publication", "published year", "pubyear",
             "publication_year", "py", "date published", "publication date", "date"),
    "volume": ("volume", "vl", "journal volume"),
    "issue": ("issue", "issue number", "number", "is", "journal issue"),
    "pages": ("pages", "page range", "pp"),
    "publisher": ("publisher", "pu"),
    "isbn": ("isbn", "isbns", "bn"),
    "issn": ("issn", "issns", "sn", "primary_location.source.issn_l", "host_venue.issn_l"),
    "language": ("language of original document", "language", "la"),
    "pub_type": ("pub_type", "document type", "publication type", "publication_type", "item type",
                 "type", "dt", "pt", "content type"),
    "doi": ("doi", "di", "item doi"),
    "pmid": ("pubmed id", "pmid", "ids.pmid"),
    "accession": ("eid", "lens id", "accession number", "accession", "ut",
                  "publication id", "covidence #", "key", "item id", "eppi id", "central id",
                  "id"),
}
_START_END = (("page start", "page end"), ("start page", "end page"), ("bp", "ep"))
_MISSING = frozenset({"not specified", "not applicable", "n/a", "na", "nan", "none"})
_YEAR_IN_PARENS = re.compile(r"\((?P<year>\d{4})\)")
_EMBASE_AFTER_YEAR = re.compile(
    r"\s*(?P<volume>[^:\s(]+)?(?::(?P<issue>[^\s(]+))?(?:\s*\((?P<pages>[^)]*)\))?")
_SURNAME_INITIALS = re.compile(r"^[^\d,;]+ (?:[A-Z]{1,3}|(?:[A-Z]\.-?){1,4})$")
DEP_KEYS = frozenset({"id", "title", "authors", "intervention", "outcome"})


def read_table(text: str | None, *, path: Any, delimiter: str | None = None,
               xlsx: bool = False, xls: bool = False, skipped: list[tuple[int, str]] | None = None,
               header_row: int | None = None, columns: Mapping[str, str] | None = None,
               info: dict[str, Any] | None = None,
               ) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and 1-based line numbers of a CSV/TSV text or an XLSX file.

    The header is row ``header_row`` (1-based, counted as a spreadsheet counts rows) when
    given; else the first of the first 10 non-empty rows naming a title column (or every
    column ``columns`` names); else the first non-empty row as wide as the table, so that
    a banner or title row above the header is passed over. Rows above the header go to
    ``skipped``; ``info`` receives ``header_row`` and, for a table read leniently, a
    warning.
    """
    if xlsx:
        rows, lines = _read_xlsx(path)
    elif xls:
        rows, lines = _read_xls(path)
    else:
        assert text is not None
        if delimiter is None:
            delimiter = sniff_delimiter(text)
        rows, lines = _read_delimited(text, delimiter, path=path, info=info)
    return _header_first(rows, lines, path=path, skipped=skipped, header_row=header_row,
                         columns=columns, info=info)


def _read_delimited(text: str, delimiter: str, *, path: Any, info: dict[str, Any] | None
                    ) -> tuple[list[list[str]], list[int]]:
    """Rows and their first lines; strict CSV quoting first, then one checked repair.

    A quote that breaks the CSV rules fails the strict read: a quote inside a quoted
    field not doubled (``"the "new" deal"``, common in hand-edited exports) or spaces after
    a closing quote. The table is then read again taking a quote inside a quoted field as
    closing it only when the delimiter or the line end follows (spaces aside), else as a
    literal quote. The repaired read is kept only when every row from the header on has
    the same number of fields, with a ``DataQualityWarning`` naming the line; otherwise
    the strict read's error stands (an unclosed quote, say).
    """
    old_limit = csv.field_size_limit()
    csv.field_size_limit(limits.current().max_cell_chars)
    try:
        try:
            return _rows(text, delimiter, path=path)
        except csv.Error as exc:
            start = getattr(exc, "line_start", 1)
            if "field larger than field limit" in str(exc):
                raise limits.exceeded(
                    "max_cell_chars", where=f"{path}, line {start}",
                    found="a field holds more characters") from None
            error = ParseError(
                f"expected a well-formed delimited table (quote opened at or after line "
                f"{start} is not closed, or a stray quote): {exc}",
                path=path, line=start, record=getattr(exc, "rows_read", 0))
        try:
            rows, lines = _rows(_literal_inner_quotes(text, delimiter), delimiter, path=path)
        except csv.Error:
            raise error from None
    finally:
        csv.field_size_limit(old_limit)
    filled = [r for r in rows if any(c.strip() for c in r)]
    if not filled:
        raise error
    width = Counter(len(r) for r in filled).most_common(1)[0][0]
    body = filled[next(i for i, r in enumerate(filled) if len(r) == width):]
    if any(len(r) != width and not (len(r) == width + 1 and not r[-1].strip()) for r in body):
        raise error
    message = (f"{path}, line {error.line}: a quote breaks the CSV rules "
               f"({str(error).rsplit(': ', 1)[-1]}); read taking quotes inside quoted fields "
               "as literal unless a delimiter or the line end follows")
    warnings.warn(message, DataQualityWarning, stacklevel=6)
    if info is not None:
        info.setdefault("warnings", []).append(message)
    return rows, lines


def _literal_inner_quotes(text: str, delimiter: str) -> str:
    """``text`` with every quote inside a quoted field that is not followed by the
    delimiter or a line end (spaces aside) doubled, and spaces after a closing quote
    dropped; one linear pass."""
    out: list[str] = []
    quoted = False
    at_start = True
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if quoted:
            if c != '"':
                out.append(c)
            elif i + 1 < n and text[i + 1] == '"':
                out.append('""')
                i += 1
            else:
                j = i + 1
                while j < n and text[j] in " \t":
                    j += 1
                if j >= n or text[j] in (delimiter, "\r", "\n"):
                    out.append('"')
                    quoted, i = False, j - 1
                else:
                    out.append('""')
        else:
            if c == '"' and at_start:
                quoted = True
            out.append(c)
            at_start = c in (delimiter, "\r", "\n")
        i += 1
    return "".join(out)


def _rows(text: str, delimiter: str, *, path: Any) -> tuple[list[list[str]], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    lim = limits.current()
    try:
        for row in reader:
            if len(row) > lim.max_columns and _width(row) > lim.max_columns:
                raise limits.exceeded("max_columns", where=f"{path}, line {start}",
                                      found=f"a row has {_width(row):,} fields up to its last "
                                            "non-empty one")
            if len(rows) == lim.max_rows:
                raise limits.exceeded("max_rows", where=f"{path}, line {start}",
                                      found=f"more than {lim.max_rows:,} rows")
            rows.append([restore_cell(cell) for cell in row])  # a formula-neutralising quote
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        exc.line_start, exc.rows_read = start, len(rows)  # type: ignore[attr-defined]
        raise
    return rows, lines


def _width(row: Sequence[Any]) -> int:
    """The number of cells up to the last one that is not empty (``""`` or ``None``)."""
    width = len(row)
    while width and (row[width - 1] is None or row[width - 1] == ""):
        width -= 1
    return width


def _is_header(row: list[str]) -> bool:
    return any(c.strip().strip('"').strip().lower() in COLUMN_MAP["title"] for c in row)


def _names_all(row: list[str], names: set[str]) -> bool:
    return names <= {c.strip().lstrip("\ufeff") for c in row}


def _header_first(rows: list[list[str]], lines: list[int], *, path: Any,
                  skipped: list[tuple[int, str]] | None, header_row: int | None = None,
                  columns: Mapping[str, str] | None = None,
                  info: dict[str, Any] | None = None,
                  ) -> tuple[list[str], list[list[str]], list[int]]:
    filled = [i for i, row in enumerate(rows) if any(c.strip() for c in row)]
    if not filled:
        raise ParseError("expected a header row, found an empty table", path=path, line=1)
    if header_row is not None:
        if not 1 <= header_row <= len(rows) or not any(c.strip() for c in rows[header_row - 1]):
            raise ParseError(
                f"header_row={header_row}: expected a non-empty row between 1 and {len(rows)}",
                path=path, line=lines[header_row - 1] if 1 <= header_row <= len(rows) else 1)
        at = header_row - 1
    else:
        at = _find_header(rows, filled, set((columns or {}).values()))
    if skipped is not None:
        skipped.extend((lines[i], ",".join(rows[i])) for i in filled if i < at)
    if info is not None:
        info["header_row"] = at + 1
    return rows[at], rows[at + 1:], lines[at + 1:]


def _find_header(rows: list[list[str]], filled: list[int], names: set[str]) -> int:
    """Index of the header row (see :func:`read_table`)."""
    first = filled[:10]
    if names:
        named = next((i for i in first if _names_all(rows[i], names)), None)
        if named is not None:
            return named
    titled = next((i for i in first if _is_header(rows[i])), None)
    if titled is not None:
        return titled
    counts = [sum(1 for c in rows[i] if c.strip()) for i in filled[:50]]
    width = max(counts)
    return next(i for i, n in zip(first, counts, strict=False) if 2 * n >= width)


def _read_xls(path: Any) -> tuple[list[list[str]], list[int]]:
    try:
        import xlrd
    except ImportError as exc:
        raise ParseError(
            "found a legacy Excel .xls workbook (e.g. a Web of Science 'Excel' export); reading "
            "it needs the optional package xlrd (pip install xlrd), or save it as .xlsx/CSV",
            path=path, line=1) from exc
    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:
        raise ParseError(f"expected an Excel .xls workbook: {exc}", path=path, line=1) from exc
    sheet = book.sheet_by_index(0)
    rows = []
    for r in range(sheet.nrows):
        row = []
        for value in sheet.row_values(r):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            row.append("" if value is None else str(value))
        rows.append(row)
    book.release_resources()
    return rows, list(range(1, len(rows) + 1))


def _read_xlsx(path: Any) -> tuple[list[list[str]], list[int]]:
    """Rows of the first sheet, read cell by cell as the file stores them.

    The sheet's claimed dimension (``<dimension ref="A1:XFD1048576"/>``) is ignored, each
    row is cut after its last non-empty cell and trailing empty rows are dropped, so that
    memory follows the cells actually present. The archive's declared sizes, the number
    of rows and columns and the length of a cell are checked against
    :mod:`evidence_synth.limits`.
    """
    try:
        from openpyxl import load_workbook
    except ImportError as exc:  # pragma: no cover - declared dependency
        raise ParseError("reading .xlsx needs openpyxl", path=path) from exc
    limits.check_zip(path)
    try:
        book = load_workbook(Path(path), read_only=True, data_only=True)
    except Exception as exc:
        raise ParseError(f"expected an Excel .xlsx workbook: {exc}", path=path) from exc
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()
        rows = _sheet_rows(sheet.iter_rows(values_only=True), where=f"{path}, sheet "
                           f"{sheet.title!r}")
    except LimitError:
        raise
    except Exception as exc:
        raise ParseError(f"expected an Excel .xlsx workbook, the first sheet cannot be read: "
                         f"{exc}", path=path) from exc
    finally:
        book.close()
    return rows, list(range(1, len(rows) + 1))


_NO_CELLS: list[str] = []


def _sheet_rows(values: Any, *, where: str) -> list[list[str]]:
    """Rows of cell values as text, each cut after its last non-empty cell (empty rows as
    one shared empty list), without trailing empty rows; refuses a sheet beyond the row,
    column or cell-length limits."""
    from openpyxl.utils import get_column_letter

    lim = limits.current()
    rows: list[list[str]] = []
    for number, row in enumerate(values, 1):
        if number > lim.max_rows:
            raise limits.exceeded("max_rows", where=where,
                                  found=f"more than {lim.max_rows:,} rows")
        if not row:  # a row missing from the file (openpyxl yields ())
            continue
        width = _width(row)
        if width > lim.max_columns:
            raise limits.exceeded(
                "max_columns", where=where,
                found=f"row {number} has a value in column {get_column_letter(width)} "
                      f"(column {width:,})")
        if not width:
            continue
        cells = ["" if c is None else str(c) for c in row[:width]]
        longest = max(cells, key=len)
        if len(longest) > lim.max_cell_chars:
            column = get_column_letter(cells.index(longest) + 1)
            raise limits.exceeded("max_cell_chars", where=where,
                                  found=f"cell {column}{number} holds {len(longest):,} characters")
        rows.extend([_NO_CELLS] * (number - 1 - len(rows)))  # empty rows above
        rows.append(cells)
    return rows


def sniff_delimiter(text: str) -> str:
    """Tab, comma or semicolon: whichever the header line holds most of."""
    candidates = [line for line in text[:200_000].splitlines()[:40] if line.strip()][:10]
    head = next((line for line in candidates
                 for d in ("\t", ",", ";") if _is_header(line.split(d))),
                candidates[0] if candidates else "")
    counts = {d: head.count(d) for d in ("\t", ",", ";")}
    return max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","


def parse(text: str | None, *, path: Any = None, xlsx: bool = False, xls: bool = False,
          delimiter: str | None = None, header_row: int | None = None,
          columns: Mapping[str, str] | None = None) -> Parsed:
    """Rows of a table as raw records (column -> [cell]) and its ``header``; empty rows are
    skipped. ``header_row`` and ``columns`` choose the header (see :func:`read_table`)."""
    out = Parsed()
    info: dict[str, Any] = {"warnings": out.warnings}
    header, rows, lines = read_table(text, path=path, delimiter=delimiter, xlsx=xlsx, xls=xls,
                                     skipped=out.skipped, header_row=header_row,
                                     columns=columns, info=info)
    out.header_row = info.get("header_row")
    header = [h.strip().lstrip("\ufeff") for h in header]
    width = len(header)
    for row, line in zip(rows, lines, strict=True):
        if not any(c.strip() for c in row):
            continue
        if len(row) > width and any(c.strip() for c in row[width:]):
            raise ParseError(
                f"expected at most {width} fields as in the header, found {len(row)}",
                path=path,
                line=line,
            )
        out.records.append({h: [row[i] if i < len(row) else ""] for i, h in enumerate(header)})
        out.lines.append(line)
    out.header = header
    if not is_dep(header):
        return out
    message = (f"{path}: this looks like a 3ie DEP evidence-map export (columns "
               f"{', '.join(sorted(DEP_KEYS))}): its studies are read as records, but not its "
               "intervention and outcome codes; to import it as a map (framework, codes, the "
               "previous version of the review) use `evidence-synth import REVIEW FILE --map` "
               "or Review.import_map")
    out.warnings.append(message)
    warnings.warn(message, DataQualityWarning, stacklevel=2)
    return merge_dep(out)


def is_dep(header: list[str]) -> bool:
    """Whether the header is a 3ie Development Evidence Portal export."""
    return {h.lower() for h in header} >= DEP_KEYS


def merge_dep(parsed: Parsed) -> Parsed:
    """Merge the rows of each DEP study (same ``id``) into one raw record."""
    out = Parsed(skipped=parsed.skipped, warnings=parsed.warnings, header=parsed.header,
                 header_row=parsed.header_row)
    by_id: dict[str, dict[str, list[str]]] = {}
    for raw, line in zip(parsed.records, parsed.lines, strict=True):
        key = raw.get("id", [""])[0].strip()
        target = by_id.get(key)
        if target is None:
            target = by_id[key] = {k: [v for v in vs if v.strip()] for k, vs in raw.items()}
            out.records.append(target)
            out.lines.append(line)
            continue
        for k, vs in raw.items():
            if k == "id":
                continue
            target.setdefault(k, []).extend(v for v in vs if v.strip())
    return out


def resolve_columns(header: list[str], override: Mapping[str, str] | None = None) -> dict[str, str]:
    """Contract field -> column name used, from :data:`COLUMN_MAP` and ``override``."""
    by_lower = {}
    for h in header:
        by_lower.setdefault(h.lower(), h)
    chosen = {}
    for field_name, candidates in COLUMN_MAP.items():
        for cand in candidates:
            if cand in by_lower:
                chosen[field_name] = by_lower[cand]
                break
    if "embase" in _flavour(by_lower):
        chosen.pop("journal", None)
    if "central id" in by_lower and "source" in by_lower:
        chosen.setdefault("journal", by_lower["source"])  # Cochrane CENTRAL: the journal
    for field_name, column in (override or {}).items():
        if field_name not in COLUMN_MAP:
            raise ParseError(f"columns= names {field_name!r}, not a contract field; expected "
                             f"one of {', '.join(COLUMN_MAP)}")
        if column not in header:
            raise ParseError(f"columns= names {column!r} for {field_name!r}, not in the header "
                             f"{header[:8]}...")
        chosen[field_name] = column
    return chosen


def _flavour(by_lower: Mapping[str, str]) -> set[str]:
    flavours = set()
    if "author names" in by_lower and any(k.startswith("emtree") for k in by_lower):
        flavours.add("embase")
    if "author full names" in by_lower or "eid" in by_lower:
        flavours.add("scopus")
    return flavours


def _cell(raw: Mapping[str, list[str]], column: str | None) -> str | None:
    if column is None:
        return None
    for value in raw.get(column, ()):
        text = value.strip()
        if text and text.lower() not in _MISSING:
            return text
    return None


def _pmid(value: str) -> str | None:
    """A PubMed id cell: digits, or OpenAlex's ``https://pubmed.ncbi.nlm.nih.gov/123``;
    ``0`` (abstrackr's "none") is missing."""
    value = value.strip().rstrip("/")
    if value.lower().startswith(("http://", "https://")) and "pubmed" in value.lower():
        value = value.rsplit("/", 1)[-1]
    elif value[:6].upper() == "PUBMED":  # Cochrane CENTRAL: "PUBMED 21314913"
        value = f.marked_pmid(value) or value[6:].lstrip(" :")
    return value if value.strip("0") else None


def split_cell(value: str, embase: bool = False) -> list[str]:
    """Items of a multi-valued cell, as :func:`read_records` splits them."""
    return _multi({"cell": [value]}, "cell", embase=embase)


def _multi(raw: Mapping[str, list[str]], column: str | None, embase: bool = False) -> list[str]:
    if column is None:
        return []
    items = []
    for value in raw.get(column, ()):
        if " | " in value:
            parts = value.split(" | ")
        elif "|" in value:
            parts = value.split("|")  # OpenAlex: "Massimo Aria|Corrado Cuccurullo"
        elif ";" in value:
            parts = value.split(";")
        elif embase:
            parts = _split_commas_outside_parens(value)
        elif "," in value and all(_SURNAME_INITIALS.match(p.strip())
                                  for p in value.split(",") if p.strip()):
            if value.endswith(".") and value.count(".") == 1:
                value = value[:-1]  # PubMed's "Smith J, Doe AB." ends the list with a dot
            parts = value.split(",")
        elif " and " in value and all("," in p for p in value.split(" and ")):
            parts = value.split(" and ")  # Rayyan/BibTeX style "Doe, J. and Roe, R."
        else:
            parts = [value]
        items.extend(p.strip() for p in parts if p.strip() and p.strip().lower() not in _MISSING)
    return items


# The three helpers below use string methods or anchored regexes only: linear in the cell
# whatever it holds (a regex searched with a leading \s* or a lookahead over the rest of
# the cell is quadratic on a long run of spaces or commas).

def _drop_scopus_id(name: str) -> str:
    """``name`` without a final Scopus author id ``(12345)`` and the spaces before it."""
    text = name.rstrip()
    start = text.rfind("(")
    if not text.endswith(")") or start < 0 or not text[start + 1:-1].isdecimal():
        return name
    return text[:start].rstrip()


def _embase_source(source: str) -> dict[str, str | None] | None:
    """Journal, year, volume, issue and pages of an Embase ``Source`` cell,
    ``"Journal (2020) 12:3 (45-67)"``; ``None`` without a ``(year)`` on its first line."""
    year = _YEAR_IN_PARENS.search(source)
    if year is None:
        return None
    journal = source[:year.start()].rstrip()
    if "\n" in journal:
        return None
    rest = _EMBASE_AFTER_YEAR.match(source, year.end())
    assert rest is not None  # every part is optional
    return {"journal": journal, "year": year.group("year"), **rest.groupdict()}


def _split_commas_outside_parens(value: str) -> list[str]:
    """``value`` split at each comma (and the spaces after it) not inside parentheses, as
    Embase separates authors: ``"Doe J. (Univ, Dept), Roe R."``; a comma counts as inside
    when the next parenthesis after it is a closing one."""
    if ")" not in value:
        return re.split(r",\s*", value)
    cuts = []
    next_paren = ""
    for i in range(len(value) - 1, -1, -1):
        c = value[i]
        if c == "(" or c == ")":
            next_paren = c
        elif c == "," and next_paren != ")":
            cuts.append(i)
    parts, start = [], 0
    for cut in reversed(cuts):
        parts.append(value[start:cut])
        start = cut + 1
        while start < len(value) and value[start].isspace():
            start += 1
    parts.append(value[start:])
    return parts


def to_record(raw: Mapping[str, list[str]], columns: Mapping[str, str]) -> dict[str, Any]:
    """Contract fields of one table row, using the resolved ``columns``."""
    lower = {k.lower(): k for k in raw}
    embase = "embase" in _flavour(lower)
    out: dict[str, Any] = {
        name: _cell(raw, columns.get(name))
        for name in ("title", "abstract", "journal", "volume", "issue", "pages", "publisher",
                     "isbn", "issn", "language", "pub_type", "pmid", "accession")
    }
    out["title"] = f.one_line(out["title"])
    out["journal"] = f.one_line(out["journal"])
    if out["pmid"] is not None:
        out["pmid"] = _pmid(out["pmid"])
    if out["issn"] is not None:
        out["issn"] = f.issns(out["issn"])
    authors = _multi(raw, columns.get("authors"), embase=embase)
    out["authors"] = f.people(_drop_scopus_id(a) for a in authors)
    out["keywords"] = _multi(raw, columns.get("keywords"), embase=embase)
    out["year"] = f.parse_year(_cell(raw, columns.get("year")))
    doi = _cell(raw, columns.get("doi"))
    out["doi"] = f.find_doi(doi) or doi
    out["pages"] = f.pages(out["pages"], None)
    if out["pages"] is None:
        for start, end in _START_END:
            if start in lower:
                out["pages"] = f.pages(_cell(raw, lower[start]), _cell(raw, lower.get(end, "")))
                break
    if embase:
        source = _cell(raw, lower.get("source"))
        m = _embase_source(source) if source else None
        if m:
            out["journal"] = out["journal"] or m["journal"]
            out["year"] = out["year"] or int(m["year"])
            out["volume"] = out["volume"] or m["volume"]
            out["issue"] = out["issue"] or m["issue"]
            out["pages"] = out["pages"] or m["pages"]
        if out["doi"] is None:
            for value in raw.values():
                doi = f.find_doi(unquote(value[0])) if value and "doi" in value[0] else None
                if doi:
                    out["doi"] = doi
                    break
    return out


def _header_delimiter(sample: Sample) -> str | None:
    """Delimiter of the first of the first ten non-blank lines that is a header naming a
    title column when split on its most frequent delimiter (tab, comma, semicolon)."""
    for candidate in [line for line in sample.lines[:40] if line.strip()][:10]:
        delimiter = max(("\t", ",", ";"), key=candidate.count)
        if candidate.count(delimiter) >= 1 and _is_header(candidate.split(delimiter)):
            return delimiter
    return None


def _options(source: Source) -> dict[str, Any]:
    return {"header_row": source.header_row, "columns": source.columns}


def _columns_context(parsed: Parsed, source: Source) -> dict[str, Any]:
    return {"columns": resolve_columns(parsed.header, source.columns)}


_TABLE: dict[str, Any] = {"to_record": to_record, "context": _columns_context}
_TABLE_HINT = "a table with a title column"

FORMATS = (
    ImportFormat(
        name="csv", description="CSV (Scopus, Embase, Lens, 3ie DEP, generic)", suffixes=".csv",
        signature="header with a title column", hint=_TABLE_HINT, priority=90,
        sniff=lambda sample: _header_delimiter(sample) in (",", ";"),
        parse=lambda source: parse(source.text, path=source.path, **_options(source)), **_TABLE,
    ),
    ImportFormat(
        name="tsv", description="TSV (generic)", suffixes=".tsv .txt",
        signature="tab-separated header with a title column", hint=_TABLE_HINT, priority=90,
        sniff=lambda sample: _header_delimiter(sample) == "\t",
        parse=lambda source: parse(source.text, path=source.path, delimiter="\t",
                                   **_options(source)), **_TABLE,
    ),
    ImportFormat(
        name="xlsx", description="Excel workbook, first sheet (same column mapping as CSV)",
        suffixes=".xlsx", signature="ZIP/OOXML", priority=0,
        sniff=lambda sample: sample.data.startswith(b"PK\x03\x04"),
        parse=lambda source: parse(None, path=source.path, xlsx=True, **_options(source)),
        **_TABLE,
    ),
    ImportFormat(
        name="xls",
        description="Legacy Excel workbook, e.g. Web of Science 'Excel' export (needs xlrd)",
        suffixes=".xls", signature="OLE2 compound file", priority=0,
        sniff=lambda sample: sample.data.startswith(b"\xd0\xcf\x11\xe0"),
        parse=lambda source: parse(None, path=source.path, xls=True, **_options(source)),
        **_TABLE,
    ),
)
