"""The PRISMA 2020 boxes as data: one row per count, one per drawn box of the diagram.

:data:`BOXES` has one :class:`Box` per count of :class:`~evidence_synth.report.PrismaCounts`
(its key is the attribute, the :meth:`~evidence_synth.report.PrismaCounts.trace` key and,
where the PRISMA2020 R package has one, the ``data`` key of its template CSV).
:data:`PANELS` has one :class:`Panel` per box drawn in the flow diagram, named and ordered
as the ``box`` column of the package's template (``inst/extdata/PRISMA.csv``): the titles,
``box1`` ... ``box16`` and the stage labels. :data:`ROWS` is the diagram's grid of rows,
each in its PRISMA 2020 stage.

Everything else reads these tables: the counts' frame, summary and equations
(``prisma.py``), the PRISMA2020 CSV (``_prisma_csv.py``) and the diagram (``diagram.py``).
Rows are in reading order (previous version, identification, databases and registers,
other methods, included), which is the order of ``PrismaCounts.to_frame()``; a panel's
counts follow that order too.

Rules the consumers apply to a row (so that no label is written twice):

- ``label`` is the PRISMA 2020 wording as drawn; the CSV's ``boxtext`` unless ``boxtext``
  is given (the package's template says "Duplicate records").
- ``name``, the label in ``to_frame()`` and (first letter lower-cased) the box named by
  ``check()``, defaults to the label plus " (other methods)" in that branch; a box shown
  as a part of another one is named "<other's name> <label>"; an item of a box with
  ``items`` (a database, a reason) is named "<name up to its colon>: <item>".
- ``term``, the box in the arithmetic of ``equations()``, defaults to the label with its
  first letter lower-cased; an expression with other-methods boxes says "(other methods)"
  once, at its end, unless a term already says it.
- ``description`` (the CSV's own column) defaults to the label plus the branch, e.g.
  "Reports not retrieved (databases and registers)".
- ``like`` copies ``label``, ``term`` and ``items`` from the same box of the other branch.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

#: Branch -> the words that say it after a label.
QUALIFIER = {"dbr": " (databases and registers)", "other": " (other methods)"}
_IDENTIFIED_FROM = "Records identified from:"


@dataclass(frozen=True)
class Box:
    """One count of the PRISMA 2020 flow (a row of :data:`BOXES`).

    Attributes
    ----------
    key : str
        ``PrismaCounts`` attribute, ``trace()`` key, ``to_frame()`` box and PRISMA2020
        ``data`` key.
    label : str
        PRISMA 2020 wording, drawn in the diagram and written as the CSV's ``boxtext``.
    branch : str
        ``"previous"``, ``"dbr"`` (databases and registers), ``"other"`` (other methods)
        or ``""`` (both or none).
    panel : str or None
        The :class:`Panel` the count is drawn in and written under in the CSV (the CSV's
        ``box``). A box without a panel (a derived total, the included reports per branch)
        has no CSV row and is not drawn.
    node : str or None
        The CSV's ``node`` (``None`` is written ``NA``).
    description, boxtext : str
        The CSV's columns of that name (defaults: see the module's rules).
    name, term : str
        Label in ``to_frame()`` and ``check()``; name in the arithmetic of ``equations()``
        (defaults: see the module's rules).
    source_kind : str or None
        Identification: the records of sources of this ``kind`` (``sources`` table).
    items : {"sources", "reasons"} or None
        The count is a dict: per database or register name (its list is a separate CSV
        row, see ``lists``) or per exclusion reason (listed in its own CSV row, and after a
        colon in the diagram).
    lists : str or None
        This CSV row lists the items of that box (``database_specific_results``).
    part_of : str or None
        Drawn inside, and written in the CSV ``tooltips`` of, that box instead of a row of
        its own: as an indented line ("by humans (n = 3)") or, with ``aside``, in a
        parenthesis "(after removing 40 duplicates and ...)". When a CSV is read, the first
        box of a ``sum_of`` is the total minus the others.
    aside : str or None
        The words after the number in that parenthesis.
    equals : str
        The arithmetic the count must satisfy, in keys: ``"a - b - c"`` or ``"a + b"``.
    sum_of : tuple of str
        A derived total (``PrismaCounts`` property) and the boxes it adds up; its trace is
        theirs concatenated.
    like : str or None
        The same box of the other branch: ``label``, ``term`` and ``items`` default to
        its.
    frame : bool
        Whether ``to_frame()`` has a row for it.
    """

    key: str
    label: str = ""
    branch: str = ""
    panel: str | None = None
    node: str | None = None
    description: str = ""
    name: str = ""
    source_kind: str | None = None
    term: str = ""
    boxtext: str = ""
    items: str | None = None
    lists: str | None = None
    part_of: str | None = None
    aside: str | None = None
    equals: str = ""
    sum_of: tuple[str, ...] = ()
    like: str | None = None
    frame: bool = True

    @property
    def in_csv(self) -> bool:
        """Whether the PRISMA2020 CSV has a row for this box."""
        return self.panel is not None and self.part_of is None

    @property
    def csv_list(self) -> str | None:
        """The dict attribute whose items this CSV row holds as ``name, n; ...``."""
        return self.lists or (self.key if self.items == "reasons" else None)

    @property
    def terms(self) -> tuple[tuple[int, str], ...]:
        """``equals`` parsed into ``(sign, key)`` pairs."""
        tokens = ["+", *self.equals.split()] if self.equals else []
        if len(tokens) % 2 or not set(tokens[0::2]) <= {"+", "-"}:
            raise ValueError(f"{self.key}: expected equals like 'a - b + c', "
                             f"found {self.equals!r}")
        return tuple((1 if op == "+" else -1, key)
                     for op, key in zip(tokens[0::2], tokens[1::2], strict=True))


@dataclass(frozen=True)
class Panel:
    """One box drawn in the flow diagram and named in the CSV's ``box`` column.

    Attributes
    ----------
    name : str
        PRISMA2020 template ``box`` (``box1`` ... ``box16``, ``prevstud``, ...).
    kind : {"counts", "title", "stage"}
        Holds counts; titles a column; or labels a stage (the bars on the left).
    row, columns
        Slot in the diagram's grid (:data:`ROWS`, columns of ``diagram.py``); a title
        spans its columns. Stage panels span the rows of their stage instead.
    text : str
        A title's or stage's text; for counts, a heading above them (their lines are then
        indented).
    node, description
        The CSV row of a title or stage.
    blank_line : bool
        A blank line between its counts (the previous-version box of the template).
    """

    name: str
    kind: str = "counts"
    row: str = ""
    columns: tuple[str, ...] = ()
    text: str = ""
    node: str | None = None
    description: str = ""
    blank_line: bool = False


#: Diagram rows, top to bottom, with the PRISMA 2020 stage each belongs to.
ROWS: tuple[tuple[str, str | None], ...] = (
    ("head", None), ("ident", "identification"), ("screen", "screening"),
    ("sought", "screening"), ("assess", "screening"), ("new", "included"),
    ("total", "included"),
)

_BOXES: tuple[Box, ...] = (
    # previous version of the review
    Box("previous_studies", "Studies included in previous version of review",
        branch="previous", panel="box1", node="node5",
        description="Studies included in the previous version of the review"),
    Box("previous_reports", "Reports of studies included in previous version of review",
        branch="previous", panel="box1",
        description="Reports of the studies included in the previous version"),
    # identification
    Box("database_results", "Databases", branch="dbr", panel="box2", node="node7",
        items="sources", source_kind="database", name="Records identified: databases",
        description="Records identified from databases"),
    Box("database_specific_results", lists="database_results",
        description="Records identified per database (name, n; ...)"),
    Box("register_results", "Registers", branch="dbr", panel="box2", items="sources",
        source_kind="register", name="Records identified: registers",
        description="Records identified from registers"),
    Box("register_specific_results", lists="register_results",
        description="Records identified per register (name, n; ...)"),
    Box("website_results", "Websites", branch="other", panel="box11", node="node17",
        source_kind="grey_literature", name="Records identified: websites",
        description="Records identified from websites (grey literature sources)"),
    Box("organisation_results", "Organisations", branch="other", panel="box11", node="",
        source_kind="other", name="Records identified: organisations",
        description="Records identified from organisations (sources of kind other)"),
    Box("citations_results", "Citation searching", branch="other", panel="box11",
        source_kind="citation_search", name="Records identified: citation searching",
        description="Records identified by citation searching"),
    Box("identified", "Records identified", branch="dbr", frame=False,
        sum_of=("database_results", "register_results")),
    Box("other_identified", "Records identified via other methods", branch="other",
        frame=False, sum_of=("website_results", "organisation_results", "citations_results")),
    # removed before screening
    Box("duplicates", "Duplicate records removed", branch="dbr", panel="box3", node="node8",
        boxtext="Duplicate records", term="duplicates",
        description="Duplicate records removed before screening"),
    Box("excluded_automatic", "Records marked as ineligible by automation tools",
        branch="dbr", panel="box3", term="automation",
        description="Records excluded by automation tools before screening"),
    Box("excluded_other", "Records removed for other reasons", branch="dbr", panel="box3",
        term="other", description="Records removed before screening for other reasons"),
    # screening: databases and registers
    Box("records_screened", "Records screened", branch="dbr", panel="box4", node="node9",
        equals="identified - duplicates - excluded_automatic - excluded_other",
        description="Records screened on title and abstract (databases and registers)"),
    Box("records_excluded", "Records excluded", branch="dbr", panel="box5", node="node10",
        sum_of=("records_excluded_human", "records_excluded_automation"),
        description="Records excluded at title and abstract (databases and registers)"),
    Box("records_excluded_human", "by humans", branch="dbr", part_of="records_excluded"),
    Box("records_excluded_automation", "by automation tools", branch="dbr",
        part_of="records_excluded"),
    # retrieval and eligibility: databases and registers
    Box("dbr_sought_reports", "Reports sought for retrieval", branch="dbr", panel="box6",
        node="node11", term="reports sought", equals="records_screened - records_excluded"),
    Box("dbr_notretrieved_reports", "Reports not retrieved", branch="dbr", panel="box7",
        node="node12"),
    Box("dbr_assessed", "Reports assessed for eligibility", branch="dbr", panel="box8",
        node="node13", term="reports assessed",
        equals="dbr_sought_reports - dbr_notretrieved_reports"),
    Box("dbr_excluded", "Reports excluded", branch="dbr", panel="box9", node="node14",
        items="reasons", term="reports excluded with reasons",
        description="Reports excluded with reasons (databases and registers): reason, n; ..."),
    Box("dbr_included_reports", "Reports included (databases and registers)", branch="dbr",
        frame=False, equals="dbr_assessed - dbr_excluded"),
    # other methods
    Box("other_duplicates", like="duplicates", branch="other",
        part_of="other_sought_reports", aside="duplicates"),
    Box("other_records_excluded", "Records excluded at screening", branch="other",
        part_of="other_sought_reports", term="excluded at screening",
        aside="records excluded at screening"),
    Box("other_sought_reports", like="dbr_sought_reports", branch="other", panel="box12",
        node="node18",
        equals="other_identified - other_duplicates - other_records_excluded"),
    Box("other_notretrieved_reports", like="dbr_notretrieved_reports", branch="other",
        panel="box13", node="node19"),
    Box("other_assessed", like="dbr_assessed", branch="other", panel="box14", node="node20",
        equals="other_sought_reports - other_notretrieved_reports"),
    Box("other_excluded", like="dbr_excluded", branch="other", panel="box15", node="node21",
        description="Reports excluded with reasons (other methods): reason, n; ..."),
    Box("other_included_reports", "Reports included", branch="other", frame=False,
        equals="other_assessed - other_excluded"),
    # included
    Box("new_studies", "New studies included in review", panel="box10", node="node15",
        description="New studies included in the review"),
    Box("new_reports", "Reports of new included studies", panel="box10",
        equals="dbr_included_reports + other_included_reports",
        description="Reports of the new included studies"),
    Box("total_studies", "Total studies included in review", panel="box16", node="node22",
        sum_of=("previous_studies", "new_studies"),
        description="Studies included in the previous version plus new studies"),
    Box("total_reports", "Reports of total included studies", panel="box16",
        sum_of=("previous_reports", "new_reports"),
        description="Reports of all included studies"),
)

#: Diagram boxes in the order of the PRISMA2020 template's rows.
PANELS: tuple[Panel, ...] = (
    Panel("prevstud", "title", "head", ("prev",), "Previous studies", "node4",
          "Title of the previous-version column"),
    Panel("box1", row="ident", columns=("prev",), blank_line=True),
    Panel("newstud", "title", "head", ("main", "excl"),
          "Identification of new studies via databases and registers", "node6",
          "Title of the databases and registers column"),
    Panel("box2", row="ident", columns=("main",), text=_IDENTIFIED_FROM),
    Panel("othstud", "title", "head", ("other", "oexcl"),
          "Identification of new studies via other methods", "node16",
          "Title of the other-methods column"),
    Panel("box11", row="ident", columns=("other",), text=_IDENTIFIED_FROM),
    Panel("box3", row="ident", columns=("excl",), text="Records removed before screening:"),
    Panel("box4", row="screen", columns=("main",)),
    Panel("box5", row="screen", columns=("excl",)),
    Panel("box6", row="sought", columns=("main",)),
    Panel("box7", row="sought", columns=("excl",)),
    Panel("box12", row="sought", columns=("other",)),
    Panel("box13", row="sought", columns=("oexcl",)),
    Panel("box8", row="assess", columns=("main",)),
    Panel("box9", row="assess", columns=("excl",)),
    Panel("box14", row="assess", columns=("other",)),
    Panel("box15", row="assess", columns=("oexcl",)),
    Panel("box10", row="new", columns=("main",)),
    Panel("box16", row="total", columns=("main",)),
    Panel("identification", "stage", text="Identification", node="node1",
          description="Identification stage label"),
    Panel("screening", "stage", text="Screening", node="node2",
          description="Screening stage label"),
    Panel("included", "stage", text="Included", node="node3",
          description="Included stage label"),
)

#: ``PrismaCounts.summary()``: ``{key}`` is a box's count, ``{a+b}`` the sum of two.
SUMMARY = (
    "PRISMA 2020 (updated review): previous version {previous_studies} studies "
    "({previous_reports} reports)\n"
    "  identified {identified} (databases/registers) + {other_identified} (other methods); "
    "duplicates {duplicates}; automation {excluded_automatic}; other {excluded_other}\n"
    "  screened {records_screened}; excluded {records_excluded} ({records_excluded_human} "
    "by humans, {records_excluded_automation} by automation)\n"
    "  sought {dbr_sought_reports+other_sought_reports}; not retrieved "
    "{dbr_notretrieved_reports+other_notretrieved_reports}; assessed "
    "{dbr_assessed+other_assessed}; excluded with reasons {dbr_excluded+other_excluded}\n"
    "  new studies {new_studies} ({new_reports} reports); total studies {total_studies} "
    "({total_reports} reports)"
)
SUMMARY_FIELD = re.compile(r"\{([a-z_+]+)\}")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _own_name(row: Box) -> str:
    return row.name or row.label + (QUALIFIER["other"] if row.branch == "other" else "")


def _resolve(rows: tuple[Box, ...]) -> dict[str, Box]:
    """Fill each row's defaults (see the module's rules); rows keep their order."""
    out: dict[str, Box] = {}
    for row in rows:
        if row.like:
            model = out[row.like]
            row = replace(row, label=row.label or model.label, term=row.term or model.term,
                          items=row.items or model.items)
        if row.lists:
            listed = out[row.lists]
            row = replace(row, label=row.label or f"Specific {listed.label}",
                          panel=listed.panel, frame=False)
        out[row.key] = replace(
            row, term=row.term or _lower_first(row.label), boxtext=row.boxtext or row.label,
            description=row.description or row.label + QUALIFIER.get(row.branch, ""),
        )
    for key, row in list(out.items()):  # a part may come before the box it is part of
        whole = out[row.part_of] if row.part_of else None
        name = _own_name(row)
        if whole is not None and not row.aside:
            name = row.name or f"{_own_name(whole)} {row.label}"
        out[key] = replace(row, name=name, panel=whole.panel if whole else row.panel)
    return out


#: Every box by key, in reading order.
BOX: dict[str, Box] = _resolve(_BOXES)
BOXES: tuple[Box, ...] = tuple(BOX.values())
PANEL: dict[str, Panel] = {p.name: p for p in PANELS}


def in_panel(name: str) -> list[Box]:
    """The boxes drawn in a panel (parts included), in reading order."""
    return [b for b in BOXES if b.panel == name and not b.lists]


def parts(key: str) -> list[Box]:
    """The boxes shown as parts of (or asides to) a box."""
    return [b for b in BOXES if b.part_of == key]


def check_name(box: Box) -> str:
    """How ``check()`` names the box: its name, first letter lower-cased."""
    return _lower_first(box.name)


def expression(box: Box, say: Callable[[str], str] | None = None) -> str:
    """A box's ``equals`` in words ("records screened - records excluded"), or with ``say``
    turning each key into its value. Other-methods boxes say "(other methods)" once."""
    words = (say or (lambda key: BOX[key].term))
    text = "".join(("" if i == 0 else " + " if sign > 0 else " - ") + words(key)
                   for i, (sign, key) in enumerate(box.terms))
    other = any(BOX[key].branch == "other" for _, key in box.terms)
    if say is None and other and "other methods" not in text:
        text += QUALIFIER["other"]
    return text


def after_removing(counts: Any, key: str, *, thousands: bool = False) -> str:
    """"after removing 40 duplicates and 60 records excluded at screening": the asides
    of a box (``""`` when it has none)."""
    said = [f"{count(counts, b.key):{',' if thousands else ''}} {b.aside}"
            for b in parts(key) if b.aside]
    if not said:
        return ""
    return "after removing " + (said[0] if len(said) == 1 else
                                ", ".join(said[:-1]) + " and " + said[-1])


def stage_rows(stage: str) -> list[str]:
    """The diagram rows of a PRISMA 2020 stage, top to bottom."""
    return [row for row, row_stage in ROWS if row_stage == stage]


def count(counts: Any, key: str) -> int:
    """A box's number in ``counts``: its attribute, or the sum of its items."""
    value = getattr(counts, key)
    return sum(value.values()) if isinstance(value, dict) else int(value)


def expected(counts: Any, box: Box) -> int:
    """What a box's ``equals`` arithmetic gives in ``counts``."""
    return sum(sign * count(counts, key) for sign, key in box.terms)


def total(counts: Any, key: str) -> int:
    """A derived total in ``counts``: the sum of the boxes in its ``sum_of``."""
    return sum(count(counts, part) for part in BOX[key].sum_of)
