"""The evidence table: one validated row per estimate, plus one per study.

:class:`EvidenceTable` holds study rows (``evidence-study.schema.json``) and estimate rows
(``evidence-row.schema.json``: study x intervention x comparison x outcome x timepoint x
subgroup). Every write validates the new rows against the packaged schemas and checks the
table across rows (unique ids, known studies, framework nodes and codebook codes of the
form, stored inputs that agree with the reported statistics); all problems are collected
and raised together as one :class:`~evidence_synth.errors.ExtractionError` whose
``problems`` DataFrame names each row and field by JSON path (``rows[3].effect_class``).
"""

from __future__ import annotations

import copy
import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..effects.compute import compute_effect, recompute
from ..errors import EffectSizeError, ExtractionError, StoreError, os_error_text
from ..schema_validation import load_schema
from ..spreadsheet import restore_frame, write_csv
from .double_extraction import discrepancies
from .form import LEVELS, ExtractionForm
from .table_rows import (
    PROBLEM_COLUMNS,
    _canonical,
    _for_csv,
    _frame,
    _nest,
    _problem,
    _problems_frame,
    _raise,
    _row_problems,
    _unflatten,
    normalise_study,
)
from .template import read_workbook, write_template

if TYPE_CHECKING:
    from ..io import EvidenceMap
    from ..store import Review


__all__ = ["PROBLEM_COLUMNS", "EvidenceTable", "discrepancies", "read_extraction_workbook"]

_CONSENSUS = "consensus"


# --------------------------------------------------------------------------- the table


class EvidenceTable:
    """Study and estimate rows, validated against the packaged schemas on every write.

    Parameters
    ----------
    rows : iterable of mapping
        Estimate rows (``evidence-row.schema.json``); reported statistics nested under
        ``reported`` (flat ``reported.<x>`` keys are nested for you).
    studies : iterable of mapping, optional
        Study rows (``evidence-study.schema.json``). When any are given, every estimate's
        ``study_id`` must be one of them.
    form : ExtractionForm, optional
        Also check framework nodes, codebook codes, ``extra.*`` fields and the form's
        required fields.

    Raises
    ------
    ExtractionError
        With every problem; ``.problems`` has columns :data:`PROBLEM_COLUMNS`.

    Attributes
    ----------
    versions_ : dict
        Store version of each row loaded by :meth:`from_review` (for edit conflicts).
    """

    def __init__(
        self,
        rows: Iterable[Mapping[str, Any]] = (),
        *,
        studies: Iterable[Mapping[str, Any]] = (),
        form: ExtractionForm | None = None,
    ) -> None:
        self.form = form
        self._studies: list[dict[str, Any]] = []
        self._rows: list[dict[str, Any]] = []
        self.versions_: dict[str, int] = {}
        self.extend(rows, studies=studies)

    # -- access ----------------------------------------------------------------------
    @property
    def rows(self) -> list[dict[str, Any]]:
        """Copies of the estimate rows."""
        return copy.deepcopy(self._rows)

    @property
    def studies(self) -> list[dict[str, Any]]:
        """Copies of the study rows."""
        return copy.deepcopy(self._studies)

    def __len__(self) -> int:
        return len(self._rows)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, EvidenceTable):
            return NotImplemented
        return (_canonical(self._rows), _canonical(self._studies)) == (
            _canonical(other._rows), _canonical(other._studies))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        with_yi = sum("yi" in r for r in self._rows)
        return (f"EvidenceTable({len(self._studies)} studies, {len(self._rows)} estimates, "
                f"{with_yi} with yi)")

    # -- writes ----------------------------------------------------------------------
    def extend(
        self,
        rows: Iterable[Mapping[str, Any]] = (),
        *,
        studies: Iterable[Mapping[str, Any]] = (),
    ) -> EvidenceTable:
        """Add rows (and studies); all or none: nothing is added if any row is invalid.

        Returns
        -------
        EvidenceTable
            ``self``.
        """
        new_studies = [normalise_study(_nest(s)) for s in studies]
        new_rows = [_nest(r) for r in rows]
        problems = self._check(new_studies, new_rows)
        _raise(problems)
        self._studies += new_studies
        self._rows += new_rows
        return self

    def append(self, row: Mapping[str, Any]) -> EvidenceTable:
        """Add one estimate row (validated)."""
        return self.extend([row])

    def add_study(self, study: Mapping[str, Any]) -> EvidenceTable:
        """Add one study row (validated)."""
        return self.extend(studies=[study])

    def update(self, row: Mapping[str, Any]) -> EvidenceTable:
        """Replace the estimate with the same ``study_id`` and ``estimate_id`` (validated)."""
        new = _nest(row)
        key = (new.get("study_id"), new.get("estimate_id"))
        positions = [i for i, r in enumerate(self._rows)
                     if (r["study_id"], r["estimate_id"]) == key]
        if not positions:
            raise ExtractionError(f"no estimate {key[1]!r} of study {key[0]!r} to update")
        i = positions[0]
        problems = _row_problems("estimate", i, new, self.form)
        _raise(problems)
        self._rows[i] = new
        return self

    def _check(self, new_studies: list[dict], new_rows: list[dict]) -> list[dict[str, Any]]:
        problems: list[dict[str, Any]] = []
        s0, r0 = len(self._studies), len(self._rows)
        for i, study in enumerate(new_studies):
            problems += _row_problems("study", s0 + i, study, self.form)
        for i, row in enumerate(new_rows):
            problems += _row_problems("estimate", r0 + i, row, self.form)
        seen: dict[Any, int] = {s.get("study_id"): i for i, s in enumerate(self._studies)}
        for i, study in enumerate(new_studies, start=s0):
            sid = study.get("study_id")
            if sid in seen:
                problems.append(_problem("study", i, study, ["study_id"],
                                         f"duplicate study_id {sid!r} "
                                         f"(first at studies[{seen[sid]}])"))
            seen.setdefault(sid, i)
        keys = {(r.get("study_id"), r.get("estimate_id")): i for i, r in enumerate(self._rows)}
        for i, row in enumerate(new_rows, start=r0):
            key = (row.get("study_id"), row.get("estimate_id"))
            if key in keys:
                problems.append(_problem("estimate", i, row, ["estimate_id"],
                                         f"duplicate estimate {key[1]!r} of study {key[0]!r} "
                                         f"(first at rows[{keys[key]}])"))
            keys.setdefault(key, i)
            if seen and row.get("study_id") not in seen:
                problems.append(_problem("estimate", i, row, ["study_id"],
                                         f"study {row.get('study_id')!r} is not on the studies "
                                         "sheet/list"))
        return sorted(problems, key=lambda p: (p["table"] != "studies", p["index"]))

    def validate(self) -> pd.DataFrame:
        """Check every row again (e.g. against a changed form) without raising.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`PROBLEM_COLUMNS`; empty when the table is valid.
        """
        fresh = EvidenceTable.__new__(EvidenceTable)
        fresh.form, fresh._studies, fresh._rows, fresh.versions_ = self.form, [], [], {}
        return _problems_frame(fresh._check(self._studies, self._rows))

    # -- effect sizes ----------------------------------------------------------------
    def compute(self, *, overwrite: bool = False) -> EvidenceTable:
        """Compute ``yi``/``vi`` from the reported statistics of rows that have none.

        Parameters
        ----------
        overwrite : bool, default False
            Recompute rows that already have ``yi`` too.

        Returns
        -------
        EvidenceTable
            A new table; rows whose statistics allow no formula keep no ``yi``.

        Raises
        ------
        ExtractionError
            Every row whose statistics a formula rejects, with the argument named.
        """
        rows, problems, changed = [], [], []
        for i, row in enumerate(self._rows):
            row = copy.deepcopy(row)
            if overwrite or "yi" not in row:
                changed.append(i)
                try:
                    result = compute_effect(row.get("reported", {}), measure=row.get("measure"))
                except EffectSizeError as exc:
                    arg = None
                    if exc.problems is not None and len(exc.problems):
                        arg = exc.problems["argument"].iloc[0]
                    parts = ["reported", arg] if arg in row.get("reported", {}) else ["reported"]
                    problems.append(_problem("estimate", i, row, parts, str(exc)))
                    result = None
                if result is not None:
                    row.update(result)
            rows.append(row)
        _raise(problems)
        return self._like(rows, changed)

    def verify(self, *, rtol: float = 1e-9) -> pd.DataFrame:
        """Recompute every computed ``yi``/``vi`` from its stored formula and inputs.

        Returns
        -------
        pandas.DataFrame
            One row per mismatch or failure, columns ``index, study_id, estimate_id,
            formula, field, stored, recomputed, problem``; empty when all agree.
        """
        return self._recompute_all(rtol)[0]

    def _recompute_all(self, rtol: float) -> tuple[pd.DataFrame, dict[int, tuple[float, float]]]:
        cols = ["index", "study_id", "estimate_id", "formula", "field", "stored",
                "recomputed", "problem"]
        out, values = [], {}
        for i, row in enumerate(self._rows):
            if "yi" not in row:
                continue
            base = {"index": i, "study_id": row["study_id"], "estimate_id": row["estimate_id"],
                    "formula": row.get("formula")}
            try:
                again = recompute(row["formula"], row["inputs"])
            except (EffectSizeError, KeyError) as exc:
                out.append({**base, "field": "formula", "stored": None, "recomputed": None,
                            "problem": f"cannot recompute: {exc}"})
                continue
            values[i] = again
            for name, value in zip(("yi", "vi"), again, strict=True):
                if not math.isclose(row[name], value, rel_tol=rtol, abs_tol=1e-12):
                    out.append({**base, "field": name, "stored": row[name], "recomputed": value,
                                "problem": f"rows[{i}].{name} = {row[name]!r} but "
                                           f"{row['formula']} gives {value!r}"})
        return pd.DataFrame(out, columns=cols), values

    def _verified(self, *, locate: Any = None) -> EvidenceTable:
        """Raise on any recomputation mismatch; else store the exact recomputed values.

        Spreadsheets keep about 15 significant digits; storing the recomputation restores
        the exact values so that tables read back compare equal.
        """
        bad, values = self._recompute_all(1e-9)
        if len(bad):
            if locate is not None:
                locate(bad)
            problems = [_problem("estimate", int(b["index"]), self._rows[int(b["index"])],
                                 [b["field"]], b["problem"]) for b in bad.to_dict("records")]
            _raise(problems, where="evidence table (recomputation)")
        for i, (yi, vi) in values.items():
            self._rows[i]["yi"], self._rows[i]["vi"] = yi, vi
        return self

    def reported_differences(self) -> pd.DataFrame:
        """Computed effects beside the same study's effect as reported, where a row has both.

        A row whose ``yi`` was computed from its statistics (not taken as reported) and
        whose ``reported`` also holds ``es_reported``/``se_reported`` on the same measure
        (``es_reported_measure``), e.g. EPPI-Reviewer's own SMD beside metafor's
        (:meth:`from_eppi_outcomes`).

        Returns
        -------
        pandas.DataFrame
            Columns ``study_id, estimate_id, measure, formula, yi, es_reported, diff``
            (``yi - es_reported``), ``se`` (``sqrt(vi)``), ``se_reported``, ``diff_se``.
        """
        cols = ["study_id", "estimate_id", "measure", "formula", "yi", "es_reported", "diff",
                "se", "se_reported", "diff_se"]
        out = []
        for row in self._rows:
            rep = row.get("reported", {})
            if "yi" not in row or str(row.get("formula", "")).startswith("reported") or \
                    rep.get("es_reported") is None or \
                    rep.get("es_reported_measure") != row.get("measure"):
                continue
            se = math.sqrt(row["vi"])
            se_rep = rep.get("se_reported")
            out.append([row["study_id"], row["estimate_id"], row["measure"], row["formula"],
                        row["yi"], rep["es_reported"], row["yi"] - rep["es_reported"], se,
                        se_rep, None if se_rep is None else se - se_rep])
        frame = pd.DataFrame(out, columns=cols)
        for c in ("yi", "es_reported", "diff", "se", "se_reported", "diff_se"):
            frame[c] = frame[c].astype("float64")
        return frame

    def rma_input(self, *, measure: str | None = None, columns: Sequence[str] = ()
                  ) -> pd.DataFrame:
        """Rows with an effect size, ready for :func:`evidence_synth.synthesis.rma` and
        :func:`evidence_synth.synthesis.pool`.

        Parameters
        ----------
        measure : str, optional
            Keep only this measure (rows on different scales must not be pooled).
        columns : sequence of str, optional
            Further columns of :meth:`to_frame` (``with_study=True``) to carry along, for
            grouping or filtering (e.g. ``["design"]``).

        Returns
        -------
        pandas.DataFrame
            Columns ``study_id, estimate_id, slab, intervention, outcome, measure,
            effect_class, yi, vi``, then ``columns`` not among them.

        Raises
        ------
        ExtractionError
            When a name in ``columns`` is not a column of the table.
        """
        frame = self.to_frame(with_study=True)
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise ExtractionError(
                f"rma_input: no column {', '.join(map(repr, unknown))} in the evidence "
                f"table; columns are {', '.join(frame.columns)}")
        frame = frame[frame["yi"].notna()]
        if measure is not None:
            frame = frame[frame["measure"] == measure]
        label = frame["citation"].fillna(frame["study_id"]) if "citation" in frame else \
            frame["study_id"]
        frame = frame.assign(slab=label.astype("string") + " " + frame["estimate_id"])
        cols = ["study_id", "estimate_id", "slab", "intervention", "outcome", "measure",
                "effect_class", "yi", "vi"]
        cols += [c for c in dict.fromkeys(columns) if c not in cols]
        return frame[cols].reset_index(drop=True)

    # -- frames ----------------------------------------------------------------------
    def to_frame(self, *, with_study: bool = False) -> pd.DataFrame:
        """Estimate rows as a flat DataFrame.

        Parameters
        ----------
        with_study : bool, default False
            Add the study columns (``citation, design, countries, confidence, ...``).

        Returns
        -------
        pandas.DataFrame
            One row per estimate; columns are the estimate schema's properties in schema
            order with reported statistics as ``reported.<name>`` (``study_id,
            estimate_id, intervention, ..., reported.n1i, ..., measure, yi, vi, formula,
            inputs, effect_class, harm_category, unintended_code, affected, prespecified,
            direction, quote, page, notes``), then ``extra.<name>`` columns. Lists stay
            lists, ``inputs`` a dict; numbers are float64 (NaN when missing), text
            ``string`` dtype, ``prespecified`` ``boolean``.
        """
        frame = _frame("estimate", self._rows)
        if with_study:
            studies = self.studies_frame().drop(columns=["notes"], errors="ignore")
            frame = frame.merge(studies, on="study_id", how="left", suffixes=("", "_study"))
        return frame

    def studies_frame(self) -> pd.DataFrame:
        """Study rows as a flat DataFrame (study schema properties in schema order)."""
        return _frame("study", self._studies)

    @classmethod
    def from_frame(
        cls,
        rows: pd.DataFrame,
        studies: pd.DataFrame | None = None,
        *,
        form: ExtractionForm | None = None,
        verify: bool = True,
    ) -> EvidenceTable:
        """Build a table from flat frames (as :meth:`to_frame` / :meth:`studies_frame`).

        Text cells of list columns are split on ``;``, ``inputs`` may be JSON text and
        booleans may be ``true``/``false``/``yes``/``no``. With ``verify`` every stored
        ``yi``/``vi`` is recomputed and a mismatch raises :class:`ExtractionError`.
        """
        problems: list[dict[str, Any]] = []
        srows = [] if studies is None else _unflatten(studies, "study", problems)
        erows = _unflatten(rows, "estimate", problems)
        _raise(problems)
        table = cls(erows, studies=srows, form=form)
        return table._verified() if verify else table

    @classmethod
    def from_eppi_outcomes(
        cls,
        emap: EvidenceMap,
        *,
        effect_class: str = "unclear",
        skip_uncoded: bool = False,
        form: ExtractionForm | None = None,
    ) -> EvidenceTable:
        """Estimate rows from the outcomes of an EPPI-Reviewer report (``emap.outcomes``).

        One row per outcome: ``study_id`` is the map's record id, ``estimate_id``
        ``eppi-outcome-<OutcomeId>``, ``intervention``/``outcome`` the outcome's
        intervention and outcome codes, ``comparison_detail`` its control, the time point
        and the data entered in ``reported`` (metafor's names), ``yi``/``vi`` recomputed
        with :func:`~evidence_synth.effects.escalc` from the group data where the outcome
        has them, else EPPI-Reviewer's effect as reported. EPPI-Reviewer's own effect size
        stays in ``reported.es_reported``/``se_reported``: :meth:`reported_differences`
        compares the two. The conversion per outcome type is described in
        :mod:`evidence_synth.extract.eppi`.

        Parameters
        ----------
        emap : EvidenceMap
            From :func:`~evidence_synth.io.read_egm` of an EPPI-Reviewer JSON report.
        effect_class : str, default "unclear"
            Every row's ``effect_class`` (EPPI-Reviewer does not code whether an effect
            was intended); recode rows afterwards with :meth:`update`.
        skip_uncoded : bool, default False
            Leave out outcomes without an intervention or outcome code, with a
            ``DataQualityWarning`` naming them; by default they raise.
        form : ExtractionForm, optional
            Checked as by the constructor.

        Raises
        ------
        ExtractionError
            The map has no outcomes, an outcome has no intervention or outcome code (unless
            ``skip_uncoded``), or a row fails the schema.
        """
        import warnings

        from ..errors import DataQualityWarning
        from .eppi import estimate_rows

        if emap.outcomes is None or emap.outcomes.empty:
            raise ExtractionError(f"{emap.meta.get('path', 'the map')}: no EPPI-Reviewer "
                                  "outcomes to convert (read an EPPI-Reviewer JSON report "
                                  "whose References carry Outcomes)")
        rows, uncoded = estimate_rows(emap.outcomes, effect_class=effect_class)
        if uncoded and not skip_uncoded:
            raise ExtractionError(f"{len(uncoded)} outcome(s) cannot be placed on the "
                                  f"framework: {'; '.join(uncoded[:5])}; pass "
                                  "skip_uncoded=True to leave them out")
        if uncoded:
            warnings.warn(f"{len(uncoded)} outcome(s) left out: {'; '.join(uncoded[:5])}",
                          DataQualityWarning, stacklevel=2)
        return cls(rows, form=form)

    # -- files -----------------------------------------------------------------------
    def to_csv(self, path: str | Path) -> tuple[Path, Path]:
        """Write estimates to ``path`` and studies to ``<stem>-studies.csv`` beside it.

        Lists are joined with ``"; "`` and ``inputs`` written as JSON, so
        :meth:`from_csv` reads the files back to an equal table. Text a spreadsheet would
        run as a formula gets a ``'`` prefix, which :meth:`from_csv` removes.

        Returns
        -------
        tuple of Path
            The estimates file and the studies file.
        """
        path = Path(path)
        studies_path = path.with_name(f"{path.stem}-studies{path.suffix or '.csv'}")
        write_csv(_for_csv(self.to_frame()), path)
        write_csv(_for_csv(self.studies_frame()), studies_path)
        return path, studies_path

    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        studies: str | Path | None = None,
        *,
        form: ExtractionForm | None = None,
        verify: bool = True,
    ) -> EvidenceTable:
        """Read estimates (and studies: ``studies`` or ``<stem>-studies.csv`` if present)."""
        path = Path(path)
        guess = path.with_name(f"{path.stem}-studies{path.suffix}")
        studies_path = Path(studies) if studies is not None else (guess if guess.exists()
                                                                  else None)
        read = {"dtype": str, "keep_default_na": False, "encoding": "utf-8-sig"}
        rows = restore_frame(pd.read_csv(path, **read))
        srows = None if studies_path is None else restore_frame(pd.read_csv(studies_path,
                                                                            **read))
        try:
            return cls.from_frame(rows, srows, form=form, verify=verify)
        except ExtractionError as exc:
            files = str(path) + ("" if studies_path is None else f" and {studies_path}")
            raise ExtractionError(f"{files} (rows[i] and studies[i] are data line i + 2): "
                                  f"{exc}", problems=exc.problems) from None

    def to_json(self, path: str | Path | None = None) -> str:
        """The table as JSON (``{"studies": [...], "rows": [...]}``); written if ``path``."""
        doc = {"format": "evidence_synth evidence table",
               "schemas": {lv: load_schema(name)["$id"] for lv, name in LEVELS.items()},
               "form": None if self.form is None else self.form.id,
               "studies": self._studies, "rows": self._rows}
        text = json.dumps(doc, indent=2, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text + "\n", encoding="utf-8")
        return text

    @classmethod
    def from_json(
        cls,
        source: str | Path,
        *,
        form: ExtractionForm | None = None,
        verify: bool = True,
    ) -> EvidenceTable:
        """Read :meth:`to_json` output from a path or a JSON string."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            try:
                text = Path(source).read_text(encoding="utf-8")
            except OSError as exc:
                raise ExtractionError(f"{source}: {os_error_text(exc)}") from exc
            except UnicodeDecodeError as exc:
                raise ExtractionError(f"{source}: expected UTF-8 JSON: {exc}") from exc
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExtractionError(f"{source}: not JSON: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("rows"), list):
            raise ExtractionError(f"{source}: expected an object with 'rows' and 'studies'")
        table = cls(doc["rows"], studies=doc.get("studies") or (), form=form)
        return table._verified() if verify else table

    def to_xlsx(self, path: str | Path, *, form: ExtractionForm | None = None) -> Path:
        """Write the table into an extraction workbook (the template, filled in)."""
        return write_template(path, form=form or self.form, table=self)

    @classmethod
    def from_xlsx(cls, path: str | Path, *, form: ExtractionForm | None = None,
                  compute: bool = True) -> EvidenceTable:
        """Read an extraction workbook (see :func:`read_extraction_workbook`)."""
        return read_extraction_workbook(path, form=form, compute=compute)

    # -- review store ----------------------------------------------------------------
    def save(
        self,
        review: Review,
        *,
        extractor: str,
        consensus: bool = False,
        update: bool = False,
    ) -> pd.DataFrame:
        """Store the rows in the review store under this extractor's name.

        Each extractor's version of a row has its own store row: ``<study_id>@<who>`` for
        studies and ``<study_id>/<estimate_id>@<who>`` for estimates, where ``who`` is the
        extractor, or ``consensus`` for the adjudicated version (``consensus=True``; the
        store still records ``extractor`` as who wrote it).

        Parameters
        ----------
        review : Review
        extractor : str
            Who extracted (or adjudicated) the rows.
        consensus : bool, default False
            Store as the consensus version.
        update : bool, default False
            Overwrite stored rows of the same name that this table was not loaded from.
            Rows loaded with :meth:`from_review` are always updated with their loaded
            version, so a row someone else changed meanwhile raises :class:`StoreError`.

        Returns
        -------
        pandas.DataFrame
            Columns ``row_id, level, action`` (inserted, updated, unchanged) and
            ``version``.

        Raises
        ------
        StoreError
            A stored row exists and ``update`` is False, or an edit conflict. Every row is
            checked before anything is written.
        """
        if not isinstance(extractor, str) or "@" in extractor or not extractor.strip():
            raise StoreError(f"extractor name must be non-empty without '@', got {extractor!r}")
        if extractor == _CONSENSUS and not consensus:
            raise StoreError("'consensus' is reserved for the adjudicated version: pass "
                             "consensus=True and the adjudicator's name as extractor")
        who = _CONSENSUS if consensus else extractor
        items = [(f"{s['study_id']}@{who}", "study", s["study_id"], s) for s in self._studies]
        items += [(f"{r['study_id']}/{r['estimate_id']}@{who}", "estimate", r["study_id"], r)
                  for r in self._rows]
        stored = review.extraction_rows()
        current = {rid: (int(v), d) for rid, v, d in zip(
            stored["row_id"], stored["version"], stored["data"], strict=True)}
        plan, conflicts = [], []
        for row_id, level, study_id, row in items:
            data = {"level": level, "form": None if self.form is None else self.form.id,
                    "row": row}
            if row_id not in current:
                plan.append((row_id, level, study_id, data, None))
                continue
            version, old = current[row_id]
            if old.get("row") == row:
                plan.append((row_id, level, study_id, None, version))
            elif row_id in self.versions_ or update:
                plan.append((row_id, level, study_id, data,
                             self.versions_.get(row_id, version)))
            else:
                conflicts.append(row_id)
        if conflicts:
            raise StoreError(
                f"{len(conflicts)} extraction row(s) already stored for {who!r} "
                f"({', '.join(conflicts[:5])}{', ...' if len(conflicts) > 5 else ''}); load "
                "them with EvidenceTable.from_review to edit, or pass update=True to overwrite"
            )
        out = []
        for row_id, level, study_id, data, expected in plan:
            if data is None:
                out.append((row_id, level, "unchanged", expected))
                continue
            version = review.save_extraction_row(row_id, data, study_id=study_id,
                                                 extractor=extractor,
                                                 expected_version=expected)
            self.versions_[row_id] = version
            out.append((row_id, level, "inserted" if expected is None else "updated", version))
        return pd.DataFrame(out, columns=["row_id", "level", "action", "version"])

    @classmethod
    def from_review(
        cls,
        review: Review,
        *,
        extractor: str | None = None,
        form: ExtractionForm | None = None,
    ) -> EvidenceTable:
        """Load one extractor's rows (or the consensus) from the review store.

        Parameters
        ----------
        review : Review
        extractor : str, optional
            Whose rows: an extractor name or ``"consensus"``. By default the consensus if
            any is stored, else the only extractor's rows.
        form : ExtractionForm, optional

        Raises
        ------
        ExtractionError
            No rows, or several extractors and no consensus (name one).
        """
        stored = review.extraction_rows()
        who = [rid.rsplit("@", 1)[1] if "@" in rid else "" for rid in stored["row_id"]]
        stored = stored.assign(who=who)
        names = sorted(set(who) - {""})
        if extractor is None:
            if _CONSENSUS in names:
                extractor = _CONSENSUS
            elif len(names) == 1:
                extractor = names[0]
            else:
                raise ExtractionError(
                    "the review store has extraction rows of "
                    + (f"{len(names)} extractors ({', '.join(names)}) and no consensus; "
                       "pass extractor=" if names else "nobody; nothing to load")
                )
        mine = stored[stored["who"] == extractor]
        if not len(mine):
            raise ExtractionError(f"no extraction rows of {extractor!r} in the review store "
                                  f"(found: {', '.join(names) or 'none'})")
        studies = [d["row"] for d in mine["data"] if d.get("level") == "study"]
        rows = [d["row"] for d in mine["data"] if d.get("level") == "estimate"]
        table = cls(rows, studies=studies, form=form)
        table.versions_ = dict(zip(mine["row_id"], (int(v) for v in mine["version"]),
                                   strict=True))
        return table

    def compare(self, other: EvidenceTable, *, names: tuple[str, str] = ("a", "b")
                ) -> pd.DataFrame:
        """Discrepancies with another extractor's table (see :func:`discrepancies`)."""
        return discrepancies(self, other, names=names)

    # -- display ---------------------------------------------------------------------
    def counts(self) -> pd.DataFrame:
        """Counts per intervention: studies, estimates, with ``yi``, and per effect class.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``intervention``; columns ``studies, estimates, with_yi, intended,
            unintended_beneficial, unintended_adverse, unclear``, and a ``total`` row.
        """
        classes = ["intended", "unintended_beneficial", "unintended_adverse", "unclear"]
        cols = ["studies", "estimates", "with_yi", *classes]
        frame = self.to_frame()
        if not len(frame):
            return pd.DataFrame(columns=cols, index=pd.Index([], name="intervention"))
        grouped = frame.groupby("intervention")
        out = pd.DataFrame({
            "studies": grouped["study_id"].nunique(),
            "estimates": grouped.size(),
            "with_yi": grouped["yi"].count(),
        })
        counts = pd.crosstab(frame["intervention"], frame["effect_class"])
        out = out.join(counts.reindex(columns=classes, fill_value=0)).fillna(0).astype(int)
        total = out.sum()
        total["studies"] = frame["study_id"].nunique()
        out.loc["total"] = total
        out.index.name = "intervention"
        return out[cols]

    def summary(self) -> str:
        """``repr`` of the table, then the :meth:`counts` per intervention as text."""
        counts = self.counts()
        return repr(self) + ("\n" + counts.to_string() if len(counts) else "")

    def _repr_html_(self) -> str:
        form = "" if self.form is None else f", form {html.escape(self.form.id)}"
        head = f"<p><b>{html.escape(repr(self))}</b>{form}</p>"
        show = ["study_id", "estimate_id", "intervention", "outcome", "effect_class",
                "measure", "yi", "vi"]
        return head + self.counts().to_html() + self.to_frame()[show].head(20).to_html(
            index=False, na_rep="")

    def rename_studies(self, mapping: Mapping[str, str]) -> EvidenceTable:
        """A copy in which studies carry new ids (e.g. the review's study ids).

        A renamed study keeps its former id in ``aliases`` and its estimates follow it;
        ids not in ``mapping`` stay as they are.

        Raises
        ------
        ExtractionError
            When two studies would end up with the same id.
        """
        studies, rows = self.studies, self.rows
        for study in studies:
            new = mapping.get(study["study_id"])
            if new and new != study["study_id"]:
                study["aliases"] = sorted({*study.get("aliases", []), study["study_id"]})
                study["study_id"] = new
        for row in rows:
            row["study_id"] = mapping.get(row["study_id"]) or row["study_id"]
        return EvidenceTable(rows, studies=studies, form=self.form)

    def _like(self, rows: list[dict[str, Any]], changed: Iterable[int]) -> EvidenceTable:
        """A copy with new rows whose keys are unchanged; only ``changed`` are re-validated."""
        problems = [p for i in changed for p in _row_problems("estimate", i, rows[i], self.form)]
        _raise(problems)
        table = EvidenceTable.__new__(EvidenceTable)
        table.form, table._studies, table._rows = self.form, self.studies, rows
        table.versions_ = dict(self.versions_)
        return table


def read_extraction_workbook(
    path: str | Path,
    *,
    form: ExtractionForm | None = None,
    compute: bool = True,
) -> EvidenceTable:
    """Read a filled extraction workbook into a validated :class:`EvidenceTable`.

    Parameters
    ----------
    path : str or Path
        A workbook made by :func:`~evidence_synth.extract.template.write_template` (or
        :meth:`EvidenceTable.to_xlsx`).
    form : ExtractionForm, optional
        The review's form; also checks framework nodes and codebook codes. Without it the
        values of coded columns are checked against the workbook's own dropdown lists.
    compute : bool, default True
        Compute ``yi``/``vi`` for rows with reported statistics and no effect size yet;
        rows that already have one are recomputed from their formula and inputs and must
        agree.

    Returns
    -------
    EvidenceTable

    Raises
    ------
    ExtractionError
        Every problem, each naming sheet, row and column letter (and the field);
        ``.problems`` has columns ``sheet, row, column, field, problem, path``.
    """
    book = read_workbook(path, form=form)
    try:
        table = EvidenceTable(book.rows["estimate"], studies=book.rows["study"], form=form)
    except ExtractionError as exc:
        book.fail(book.problems + book.locate(exc.problems))
    if book.problems:
        book.fail(book.problems)
    try:
        if compute:
            table = table.compute()
    except ExtractionError as exc:
        book.fail(book.locate(exc.problems))

    def _at_cells(bad: pd.DataFrame) -> None:
        book.fail([book.estimate_cell(int(b["index"]), b["field"], b["problem"])
                   for b in bad.to_dict("records")])

    return table._verified(locate=_at_cells)
