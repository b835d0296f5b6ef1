"""The Excel extraction template, generated from a form, and its importer.

:func:`write_template` writes a workbook with a README sheet, one sheet per level
(``studies``, ``estimates``) whose columns follow the form (row 1 column group, row 2
label with the help as a comment, row 3 the field name the importer reads, data from row
4), dropdowns (data validation lists) from the schema, the framework and the codebook, a
``framework`` and a ``codebook`` sheet for reference, and a hidden ``lists`` sheet.

:func:`read_workbook` reads a filled workbook back into plain rows, collecting every
problem with its sheet, row and column letter, and keeps where each row and column came
from so that problems found later (by the table's schema checks or the recomputation of
effect sizes) are reported at their cells too.
:func:`~evidence_synth.extract.table.read_extraction_workbook` turns that into a validated
:class:`~evidence_synth.extract.table.EvidenceTable`.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import posixpath
import warnings
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .. import limits
from .._version import __version__
from ..errors import DataQualityWarning, ExtractionError
from ..spreadsheet import append_row, put_cell
from .form import LEVELS, ExtractionForm, FormField, default_form
from .table_rows import _flatten, column_kind, convert_cell, flat_columns

if TYPE_CHECKING:
    from .table import EvidenceTable

__all__ = ["FIRST_DATA_ROW", "HEADER_ROW", "FilledWorkbook", "read_workbook", "write_template"]

#: Row holding the field names the importer reads; data start on the next row.
HEADER_ROW = 3
FIRST_DATA_ROW = 4
_VALIDATED_ROWS = 2000
_LISTS = "lists"
_TEMPLATE_FORMAT = "1"
_PROBLEM_COLUMNS = ["sheet", "row", "column", "field", "problem", "path"]
_PALETTE = ("DCE6F1", "E2EFDA", "FCE4D6", "FFF2CC", "EDE1F5", "DDEBF7", "F2F2F2", "E7E6E6",
            "D9F0F2", "FBE5E5")
_COMPUTED_FILL = PatternFill("solid", fgColor="BFBFBF")
_BOOLEAN = ("yes", "no")


# --------------------------------------------------------------------------- writing


def write_template(
    path: str | Path,
    *,
    form: ExtractionForm | None = None,
    table: EvidenceTable | None = None,
) -> Path:
    """Write the extraction workbook for a form (empty, or filled with a table's rows).

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file to write.
    form : ExtractionForm, optional
        The review's form (default: :func:`default_form`, every schema field).
    table : EvidenceTable, optional
        Rows to fill in (as :meth:`EvidenceTable.to_xlsx`).

    Returns
    -------
    Path
    """
    form = form or default_form()
    path = Path(path)
    wb = Workbook()
    readme = wb.active
    readme.title = "README"
    lists = wb.create_sheet(_LISTS)
    list_ranges = _write_lists(lists, form)
    for level in LEVELS:
        ws = wb.create_sheet(form.sheets[level], index=len(wb.sheetnames) - 1)
        _write_level(ws, form, level, list_ranges)
        if table is not None:
            rows = table.studies if level == "study" else table.rows
            _write_rows(ws, form, level, rows)
    _write_framework(wb.create_sheet("framework", index=len(wb.sheetnames) - 1), form)
    if form.codebook is not None:
        _write_codebook(wb.create_sheet("codebook", index=len(wb.sheetnames) - 1), form)
    _write_readme(readme, form)
    lists.sheet_state = "hidden"
    wb.properties.title = form.title
    wb.properties.creator = f"evidence_synth {__version__}"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _write_lists(ws: Worksheet, form: ExtractionForm) -> dict[tuple[str, str], str]:
    append_row(ws, ["meta", "value"])
    meta = [("template_format", _TEMPLATE_FORMAT), ("form_id", form.id),
            ("form_version", form.version or ""), ("evidence_synth", __version__)]
    for key, value in meta:
        append_row(ws, [key, value])
    ranges: dict[tuple[str, str], str] = {}
    col = 3
    for level in LEVELS:
        for item in form.fields[level]:
            values = list(item.choices) or (list(_BOOLEAN) if item.kind == "boolean" else [])
            if not values:
                continue
            letter = get_column_letter(col)
            put_cell(ws, 1, col, f"{level}:{item.name}")
            for i, value in enumerate(values, start=2):
                put_cell(ws, i, col, value)
            ranges[(level, item.name)] = f"{_LISTS}!${letter}$2:${letter}${len(values) + 1}"
            col += 1
    return ranges


def _write_level(ws: Worksheet, form: ExtractionForm, level: str,
                 list_ranges: Mapping[tuple[str, str], str]) -> None:
    groups: dict[str, PatternFill] = {}
    previous = None
    for col, item in enumerate(form.fields[level], start=1):
        letter = get_column_letter(col)
        fill = groups.setdefault(item.group,
                                 PatternFill("solid", fgColor=_PALETTE[len(groups) % 10]))
        top = put_cell(ws, 1, col, item.group if item.group != previous else None)
        previous = item.group
        top.font = Font(bold=True)
        top.fill = fill
        label = put_cell(ws, 2, col, item.label + (" *" if item.required else ""))
        label.font = Font(bold=True)
        label.alignment = Alignment(wrap_text=True, vertical="top")
        label.fill = _COMPUTED_FILL if item.computed else fill
        label.comment = Comment(_help_text(item), "evidence_synth", width=320, height=160)
        name = put_cell(ws, HEADER_ROW, col, item.name)
        name.font = Font(italic=True, color="7F7F7F", size=9)
        ws.column_dimensions[letter].width = item.width or max(12, min(40, len(item.label) + 4))
        if item.kind in ("string", "list"):
            ws.column_dimensions[letter].number_format = "@"
        _validation(ws, item, letter, list_ranges.get((level, item.name)))
    ws.row_dimensions[2].height = 45
    ws.freeze_panes = ws.cell(row=FIRST_DATA_ROW, column=3)


def _help_text(item: FormField) -> str:
    parts = [item.help or item.label]
    if item.computed:
        parts.append("Filled in by evidence_synth on import; leave empty.")
    elif item.kind == "list":
        parts.append("Several values: separate with ';'.")
    if item.choices and item.vocabulary != "countries":
        shown = ", ".join(map(str, item.choices[:25]))
        parts.append(f"Allowed: {shown}{', ...' if len(item.choices) > 25 else ''}")
    if item.required:
        parts.append("Required.")
    return "\n".join(parts)


def _validation(ws: Worksheet, item: FormField, letter: str, source: str | None) -> None:
    cells = f"{letter}{FIRST_DATA_ROW}:{letter}{FIRST_DATA_ROW + _VALIDATED_ROWS - 1}"
    if source is not None and item.kind != "list":
        dv = DataValidation(type="list", formula1=f"={source}", allow_blank=True)
        dv.error = f"Choose a value from the list ({item.name})."
    elif item.kind in ("number", "integer") and not item.computed:
        dv = DataValidation(type="decimal" if item.kind == "number" else "whole",
                            operator="between", formula1="-1E+300", formula2="1E+300",
                            allow_blank=True)
        dv.error = f"{item.name} must be a number."
    else:
        return
    dv.errorTitle = item.label[:32]
    dv.showErrorMessage = True
    dv.prompt = (item.help or item.label)[:250]
    dv.showInputMessage = bool(item.help)
    dv.add(cells)
    ws.add_data_validation(dv)


def _cell_value(item: FormField, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, list):
        return "; ".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def _write_rows(ws: Worksheet, form: ExtractionForm, level: str,
                rows: list[dict[str, Any]]) -> None:
    for r, row in enumerate(rows, start=FIRST_DATA_ROW):
        flat = _flatten(row)
        for col, item in enumerate(form.fields[level], start=1):
            value = _cell_value(item, flat.get(item.name))
            if value is not None:
                put_cell(ws, r, col, value)


def _write_framework(ws: Worksheet, form: ExtractionForm) -> None:
    append_row(ws, ["kind", "id", "label", "parent", "definition"])
    for kind, nodes in (("intervention", form.interventions), ("outcome", form.outcomes)):
        for node in nodes:
            append_row(ws, [kind, node["id"], node["label"], node.get("parent"),
                       node.get("definition")])
    _header(ws, (14, 32, 50, 30, 80))


def _write_codebook(ws: Worksheet, form: ExtractionForm) -> None:
    frame = form.codebook.to_frame() if form.codebook is not None else pd.DataFrame()
    append_row(ws, list(frame.columns))
    for record in frame.astype(object).where(frame.notna(), None).itertuples(index=False):
        append_row(ws, list(record))
    _header(ws, (24, 34, 20, 34, 30, 30, 70, 70, 40, 40))
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _header(ws: Worksheet, widths: tuple[int, ...]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.cell(row=1, column=col).font = Font(bold=True)
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"


def _write_readme(ws: Worksheet, form: ExtractionForm) -> None:
    lines = [
        (form.title, Font(bold=True, size=14)),
        (f"Form {form.id}" + (f", version {form.version}" if form.version else "")
         + f"; template made by evidence_synth {__version__}.", None),
        ("", None),
        ("How to fill in this workbook", Font(bold=True)),
        (f"Sheet '{form.sheets['study']}': one row per study. Sheet '{form.sheets['estimate']}':"
         " one row per study x intervention x comparison x outcome x timepoint x subgroup.", None),
        (f"Rows 1-3 are headers (group, label, field name): type data from row {FIRST_DATA_ROW}"
         "; do not rename, move or delete the field names in row 3.", None),
        ("Columns marked * are required. Hover over a label for its instructions; pick coded "
         "values from the dropdowns. Separate several values (countries, who is affected) "
         "with ';'.", None),
        ("Copy numbers exactly as reported. Leave the grey 'Computed' columns (yi, vi, formula,"
         " inputs) empty: they are computed on import, with the formula and inputs recorded.",
         None),
        ("Code every estimate's effect class; unintended effects also get a codebook code "
         "(sheet 'codebook'), who is affected, the direction, and a verbatim quote with its "
         "page; adverse ones a harm category.", None),
        ("Import: evidence-synth extract import THIS.xlsx --review REVIEW --extractor NAME",
         Font(name="Consolas")),
        ("", None),
    ]
    if form.description:
        lines.insert(3, (form.description, None))
    for level in LEVELS:
        if form.instructions.get(level):
            lines.append((f"{form.sheets[level]}: {form.instructions[level]}", None))
    for text, font in lines:
        append_row(ws, [text])
        if font is not None:
            ws.cell(row=ws.max_row, column=1).font = font
        ws.cell(row=ws.max_row, column=1).alignment = Alignment(wrap_text=True)
    append_row(ws, [])
    append_row(ws, ["sheet", "column", "field", "label", "required", "instructions"])
    head = ws.max_row
    for level in LEVELS:
        for col, item in enumerate(form.fields[level], start=1):
            append_row(ws, [form.sheets[level], get_column_letter(col), item.name, item.label,
                       "yes" if item.required else "", _help_text(item)])
    for col in range(1, 7):
        ws.cell(row=head, column=col).font = Font(bold=True)
    for letter, width in zip("ABCDEF", (100, 8, 26, 30, 9, 90), strict=True):
        ws.column_dimensions[letter].width = width


# --------------------------------------------------------------------------- reading


@dataclass
class FilledWorkbook:
    """The rows of a filled extraction workbook and where each came from.

    Attributes
    ----------
    path : Path
        The workbook.
    rows : dict
        ``{"study": [...], "estimate": [...]}``: one flat mapping per non-blank row
        (column name -> converted cell value).
    problems : list of dict
        Problems found while reading cells, as :meth:`cell_problem` makes them.
    """

    path: Path
    rows: dict[str, list[dict[str, Any]]]
    problems: list[dict[str, Any]]
    sheets: dict[str, str] = field(repr=False)
    excel_rows: dict[str, list[int]] = field(repr=False)
    columns: dict[str, dict[str, str]] = field(repr=False)

    def locate(self, problems: pd.DataFrame | None) -> list[dict[str, Any]]:
        """Place an :class:`ExtractionError`'s problems (``table, index, field, problem,
        path``) at the sheet, row and column they came from."""
        out = []
        if problems is None:
            return out
        for p in problems.to_dict("records"):
            level = "study" if p["table"] == "studies" else "estimate"
            index = int(p["index"])
            rows = self.excel_rows[level]
            row = rows[index] if index < len(rows) else FIRST_DATA_ROW
            name = p["field"] or ""
            letter = _column_for(name, self.columns[level])
            problem = p["problem"]
            if letter is None:
                letter = "A"
                problem += f" (the sheet has no {name} column)"
            out.append(_cell_problem(self.sheets[level], row, letter, name or None, problem,
                                     path=p["path"]))
        return out

    def estimate_cell(self, index: int, name: str, problem: str) -> dict[str, Any]:
        """A problem at estimate row ``index`` (0-based), column ``name``."""
        return _cell_problem(self.sheets["estimate"], self.excel_rows["estimate"][index],
                             self.columns["estimate"].get(name, "A"), name, problem)

    def fail(self, problems: list[dict[str, Any]]) -> None:
        """Raise one :class:`ExtractionError` listing every problem by sheet, row, column.

        Raises
        ------
        ExtractionError
            ``.problems`` has columns ``sheet, row, column, field, problem, path``.
        """
        problems = sorted(problems, key=lambda p: (p["sheet"], p["row"], len(p["column"]),
                                                   p["column"]))
        lines = [f"  sheet '{p['sheet']}', row {p['row']}, column {p['column']}"
                 + (f" ({p['field']})" if p["field"] else "") + f": {p['problem']}"
                 for p in problems[:80]]
        if len(problems) > 80:
            lines.append(f"  ... and {len(problems) - 80} more (see .problems)")
        n = len(problems)
        raise ExtractionError(
            f"{self.path}: {n} problem{'s' if n != 1 else ''} in the extraction workbook:\n"
            + "\n".join(lines),
            problems=pd.DataFrame(problems, columns=_PROBLEM_COLUMNS),
        )


def read_workbook(path: str | Path, *, form: ExtractionForm | None = None) -> FilledWorkbook:
    """Read the rows of a filled extraction workbook, checking each cell.

    Parameters
    ----------
    path : str or Path
        A workbook made by :func:`write_template`.
    form : ExtractionForm, optional
        The review's form. Without it the values of coded columns are checked against the
        workbook's own dropdown lists.

    Returns
    -------
    FilledWorkbook
        The rows and the problems found in their cells (not raised yet).

    Raises
    ------
    ExtractionError
        When the file is not an Excel workbook.
    """
    path = Path(path)
    limits.check_zip(path)
    structure = form or default_form()
    wanted = {structure.sheets[level].lower() for level in LEVELS} | {_LISTS}
    try:
        wb = load_workbook(_only_sheets(path, wanted), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise ExtractionError(f"{path}: cannot read as an Excel workbook (.xlsx): {exc}") from exc
    try:
        return _read_workbook(wb, path, form)
    finally:
        wb.close()


#: What a worksheet the importer does not read is replaced with.
_EMPTY_SHEET = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<dimension ref="A1"/><sheetData/></worksheet>')
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"


def _only_sheets(path: Path, wanted: set[str]) -> Path | io.BytesIO:
    """The workbook with every worksheet whose name (compared as :func:`_find_sheet` does)
    is not in ``wanted`` emptied, so that a bloated README or an extra sheet is never
    parsed (openpyxl scans a whole sheet for its dimension when it opens a workbook, even
    read-only). ``path`` itself when the file is not a readable workbook (openpyxl then
    says why)."""
    try:
        with zipfile.ZipFile(path) as archive:
            book = ET.fromstring(archive.read("xl/workbook.xml"))
            rels = ET.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
            targets = {rel.get("Id"): rel.get("Target") or "" for rel in rels}
            unread = set()
            for sheet in book.iter(f"{_MAIN}sheet"):
                target = targets.get(sheet.get(f"{_REL}id"), "")
                if (sheet.get("name") or "").strip().lower() not in wanted and target:
                    unread.add(target[1:] if target.startswith("/") else
                               posixpath.normpath(f"xl/{target}"))
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
                for member in archive.infolist():
                    copy.writestr(member.filename, _EMPTY_SHEET if member.filename in unread
                                  else archive.read(member))
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError, ET.ParseError):
        return path
    out.seek(0)
    return out


def _read_workbook(wb: Any, path: Path, form: ExtractionForm | None) -> FilledWorkbook:
    structure = form or default_form()
    lists = _read_lists(wb)
    made_for = _meta(wb).get("form_id")
    if form is not None and made_for and made_for != form.id:
        warnings.warn(f"{path}: the workbook was made for form {made_for!r}, read with form "
                      f"{form.id!r}", DataQualityWarning, stacklevel=4)
    found = FilledWorkbook(path, {}, [], sheets={}, excel_rows={}, columns={})
    for level in LEVELS:
        sheet = _find_sheet(wb, structure, level)
        found.sheets[level] = sheet or structure.sheets[level]
        if sheet is None:
            found.problems.append(_cell_problem(
                found.sheets[level], 1, "A", None,
                f"sheet {found.sheets[level]!r} is missing (sheets found: "
                f"{', '.join(wb.sheetnames)})"))
            found.rows[level], found.excel_rows[level], found.columns[level] = [], [], {}
            continue
        rows, numbers, letters = _read_level(wb[sheet], structure, level, lists,
                                             checked=form is None, problems=found.problems)
        found.rows[level], found.excel_rows[level], found.columns[level] = rows, numbers, letters
    return found


def _meta(wb: Any) -> dict[str, str]:
    if _LISTS not in wb.sheetnames:
        return {}
    ws = wb[_LISTS]
    ws.reset_dimensions()
    return {str(k): str(v) for k, v in ws.iter_rows(min_row=2, max_col=2, values_only=True)
            if k is not None and v is not None}


def _read_lists(wb: Any) -> dict[str, tuple[str, ...]]:
    if _LISTS not in wb.sheetnames:
        return {}
    ws = wb[_LISTS]
    ws.reset_dimensions()
    rows = iter(ws.iter_rows(values_only=True))
    names = next(rows, ())[2:]
    values: list[list[str]] = [[] for _ in names]
    for row in rows:
        for i, v in enumerate(row[2:2 + len(names)]):
            if v is not None:
                values[i].append(str(v))
    return {str(name): tuple(vs) for name, vs in zip(names, values, strict=True) if name}


def _find_sheet(wb: Any, form: ExtractionForm, level: str) -> str | None:
    wanted = form.sheets[level]
    for name in wb.sheetnames:
        if name.strip().lower() == wanted.lower():
            return name
    return None


def _read_level(
    ws: Worksheet,
    form: ExtractionForm,
    level: str,
    lists: Mapping[str, tuple[str, ...]],
    *,
    checked: bool,
    problems: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[int], dict[str, str]]:
    sheet = ws.title
    ws.reset_dimensions()  # rows as wide as their cells, whatever the sheet claims
    known = {f.name: f for f in form.fields[level]}
    header: dict[int, str] = {}
    letters: dict[str, str] = {}
    for cell in ws[HEADER_ROW]:
        if cell.value is None or not str(cell.value).strip():
            continue
        name = str(cell.value).strip()
        if name in header.values():
            problems.append(_cell_problem(sheet, HEADER_ROW, cell.column_letter, name,
                                          f"column {name!r} appears twice"))
            continue
        if name not in known and name not in flat_columns(level):
            problems.append(_cell_problem(
                sheet, HEADER_ROW, cell.column_letter, name,
                f"unknown field {name!r} in the field-name row {HEADER_ROW}; expected one of "
                f"the form's fields ({', '.join(list(known)[:8])}, ...)"))
            continue
        header[cell.column - 1] = name
        letters[name] = cell.column_letter
    for item in form.fields[level]:
        if item.required and not item.computed and item.name not in letters:
            after = get_column_letter(max(header, default=-1) + 2)
            problems.append(_cell_problem(sheet, HEADER_ROW, after, item.name,
                                          f"required column {item.name!r} is missing"))
    rows, numbers = [], []
    for excel_row, values in enumerate(ws.iter_rows(min_row=FIRST_DATA_ROW, values_only=True),
                                       start=FIRST_DATA_ROW):
        cells = {header[i]: v for i, v in enumerate(values) if i in header}
        if all(_blank(v) for v in cells.values()):
            continue
        flat: dict[str, Any] = {}
        for name, value in cells.items():
            item = known.get(name)
            kind = item.kind if item is not None else column_kind(level, name)
            if isinstance(value, dt.datetime | dt.date) and kind == "string":
                value = value.date().isoformat() if isinstance(value, dt.datetime) \
                    else value.isoformat()
            try:
                converted = convert_cell(kind, value)
            except ValueError as exc:
                problems.append(_cell_problem(sheet, excel_row, letters[name], name, str(exc)))
                continue
            from_schema = item is not None and item.choices
            allowed = lists.get(f"{level}:{name}") if checked and not from_schema else None
            if converted is not None and allowed and kind != "boolean":
                for v in converted if isinstance(converted, list) else [converted]:
                    if str(v) not in allowed:
                        shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
                        problems.append(_cell_problem(
                            sheet, excel_row, letters[name], name,
                            f"expected one of {shown}, found {v!r}"))
            flat[name] = converted
        rows.append(flat)
        numbers.append(excel_row)
    return rows, numbers, letters


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _column_for(field: str, letters: Mapping[str, str]) -> str | None:
    parts = field.split(".")
    for n in range(len(parts), 0, -1):
        candidate = ".".join(parts[:n])
        if candidate in letters:
            return letters[candidate]
    if field == "reported":
        return next((v for k, v in letters.items() if k.startswith("reported.")), None)
    return None


def _cell_problem(sheet: str, row: int, column: str, field: str | None, problem: str,
                  *, path: str | None = None) -> dict[str, Any]:
    return {"sheet": sheet, "row": row, "column": column, "field": field, "problem": problem,
            "path": path}
