"""The Excel extraction template: generation, round trip, errors by cell, and the CLI."""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from evidence_synth.cli.extract import command
from evidence_synth.errors import ExtractionError
from evidence_synth.extract.form import load_form
from evidence_synth.extract.table import EvidenceTable, read_extraction_workbook
from evidence_synth.extract.template import write_template
from evidence_synth.store import open_review

EXTRACTION = Path(__file__).resolve().parents[1] / "extraction"
EXAMPLE = resources.files("evidence_synth.datasets") / "extraction_example.csv"

STUDY = {"study_id": "S1", "citation": "Bah et al. (2023)", "design": "cluster_rct",
         "countries": "GMB; SEN", "intervention_start": "2019-03", "confidence": "medium"}
INTENDED = {"study_id": "S1", "estimate_id": "T2.c1",
            "intervention": "3ie:orderly_and_safe_migration_management",
            "outcome": "3ie:any_migration", "outcome_wording": "Left irregularly (yes/no)",
            "effect_class": "intended", "reported.ai": 30, "reported.bi": 470,
            "reported.ci": 45, "reported.di": 455}
ADVERSE = {"study_id": "S1", "estimate_id": "T4.c1", "intervention": "ext:border_management",
           "outcome": "ext:unintended_outcome.smuggling_market",
           "outcome_wording": "Price per crossing (USD)",
           "effect_class": "unintended_adverse", "harm_category": "economic",
           "unintended_code": "SMUGGLING_PRICE", "affected": "migrants; smugglers_intermediaries",
           "direction": "adverse", "prespecified": "no", "quote": "Prices rose.", "page": 18,
           "reported.m1i": 620, "reported.sd1i": 180, "reported.n1i": 48,
           "reported.m2i": 410, "reported.sd2i": 150, "reported.n2i": 52}


@pytest.fixture(scope="module")
def form():
    return load_form(EXTRACTION / "form.yaml")


@pytest.fixture(scope="module")
def template(form, tmp_path_factory):
    return write_template(tmp_path_factory.mktemp("tpl") / "template.xlsx", form=form)


def _fill(path: Path, out: Path, sheets: dict[str, list[tuple[int, dict]]]) -> Path:
    wb = load_workbook(path)
    for sheet, rows in sheets.items():
        ws = wb[sheet]
        names = [c.value for c in ws[3]]
        for row, values in rows:
            for name, value in values.items():
                ws.cell(row=row, column=names.index(name) + 1, value=value)
    wb.save(out)
    return out


def _letter(form, level: str, name: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(form.names(level).index(name) + 1)


def test_template_sheets_headers_and_dropdowns(template, form):
    wb = load_workbook(template)
    assert wb.sheetnames == ["README", "studies", "estimates", "framework", "codebook", "lists"]
    assert wb["lists"].sheet_state == "hidden"
    ws = wb["estimates"]
    assert [c.value for c in ws[3]] == list(form.names("estimate"))
    assert ws["A1"].value == "Identification" and ws["A2"].value == "Study ID *"
    assert ws.freeze_panes == "C4"
    effect = _letter(form, "estimate", "effect_class")
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    source = lists[f"{effect}4:{effect}2003"]
    assert source.startswith("=lists!$")
    column = source.split("!")[1].split(":")[0].replace("$", "")[:-1]
    values = [c.value for c in wb["lists"][column]][1:]
    values = [v for v in values if v is not None]
    assert values == ["intended", "unintended_beneficial", "unintended_adverse", "unclear"]
    intervention = lists["D4:D2003"]
    col = intervention.split("!")[1].split(":")[0].replace("$", "")[:-1]
    assert "ext:partnership_diplomacy" in [c.value for c in wb["lists"][col]]
    readme = [r[0] for r in wb["README"].iter_rows(values_only=True) if r and r[0]]
    assert "How to fill in this workbook" in readme
    codes = [r[0] for r in wb["codebook"].iter_rows(min_row=2, values_only=True)]
    assert codes[0] == "ROUTE_DIVERSION" and len(codes) == 29


def test_round_trip_filled_template_equals_the_table(template, form, tmp_path):
    filled = _fill(template, tmp_path / "filled.xlsx", {
        "studies": [(4, STUDY)],
        "estimates": [(4, INTENDED), (6, ADVERSE)],  # row 5 left empty on purpose
    })
    table = read_extraction_workbook(filled, form=form)
    expected = EvidenceTable.from_frame(pd.DataFrame([INTENDED, ADVERSE]),
                                        pd.DataFrame([STUDY]), form=form).compute()
    assert table == expected
    assert table.rows[1]["affected"] == ["migrants", "smugglers_intermediaries"]
    assert table.rows[1]["prespecified"] is False and table.rows[1]["page"] == "18"
    assert table.studies[0]["countries"] == ["GMB", "SEN"]
    again = read_extraction_workbook(table.to_xlsx(tmp_path / "again.xlsx"), form=form)
    assert again == table


def test_from_xlsx_reads_a_filled_workbook_with_or_without_computing(template, form, tmp_path):
    filled = _fill(template, tmp_path / "filled.xlsx", {
        "studies": [(4, STUDY)], "estimates": [(4, INTENDED), (5, ADVERSE)]})
    table = EvidenceTable.from_xlsx(filled, form=form)
    assert table == read_extraction_workbook(filled, form=form)
    assert [r["formula"] for r in table.rows] == ["escalc:OR", "escalc:SMD"]
    assert table.rows[0]["yi"] == pytest.approx(math.log((30 / 470) / (45 / 455)), rel=1e-12)
    raw = EvidenceTable.from_xlsx(filled, form=form, compute=False)
    assert [r.get("yi") for r in raw.rows] == [None, None]
    assert raw.compute() == table
    assert EvidenceTable.from_xlsx(table.to_xlsx(tmp_path / "again.xlsx"), form=form) == table


def test_from_xlsx_names_the_cell_of_a_bad_value(template, form, tmp_path):
    filled = _fill(template, tmp_path / "bad.xlsx", {
        "studies": [(4, STUDY)], "estimates": [(7, dict(INTENDED, effect_class="harmful"))]})
    with pytest.raises(ExtractionError) as info:
        EvidenceTable.from_xlsx(filled, form=form)
    problem = info.value.problems.iloc[0]
    assert (problem["sheet"], problem["row"], problem["column"], problem["field"]) == (
        "estimates", 7, _letter(form, "estimate", "effect_class"), "effect_class")
    assert len(info.value.problems) == 1


def test_example_dataset_survives_xlsx(form, tmp_path):
    table = EvidenceTable.from_csv(EXAMPLE, form=form).compute()
    assert read_extraction_workbook(table.to_xlsx(tmp_path / "ex.xlsx", form=form)) == table


def test_bad_workbook_lists_every_problem_with_sheet_row_and_column(template, form, tmp_path):
    filled = _fill(template, tmp_path / "bad.xlsx", {
        "studies": [(4, dict(STUDY, countries="GMB; XXX", year="2023a"))],
        "estimates": [(4, INTENDED),
                      (5, dict(ADVERSE, estimate_id="T4 c1", effect_class="adverse",
                               **{"reported.sd1i": "n/a"}))],
    })
    with pytest.raises(ExtractionError) as info:
        read_extraction_workbook(filled, form=form)
    got = [tuple(r) for r in info.value.problems[["sheet", "row", "column", "field"]]
           .itertuples(index=False)]
    assert got == [
        ("estimates", 5, "B", "estimate_id"),
        ("estimates", 5, _letter(form, "estimate", "reported.sd1i"), "reported.sd1i"),
        ("estimates", 5, _letter(form, "estimate", "effect_class"), "effect_class"),
        ("studies", 4, "D", "year"),
        ("studies", 4, "H", "countries"),
    ]
    message = str(info.value)
    assert message.startswith(f"{filled}: 5 problems in the extraction workbook:")
    assert "sheet 'studies', row 4, column D (year): expected a number, found '2023a'" \
        in message
    assert "sheet 'studies', row 4, column H (countries): expected an ISO 3166-1 alpha-3 code " \
        "or a country name, found 'XXX', which is no ISO 3166 country" in message


def test_tampered_yi_in_a_workbook_is_caught_at_its_cell(form, tmp_path):
    table = EvidenceTable.from_csv(EXAMPLE, form=form).compute()
    path = table.to_xlsx(tmp_path / "ex.xlsx", form=form)
    wb = load_workbook(path)
    yi = _letter(form, "estimate", "yi")
    wb["estimates"][f"{yi}4"] = 0.5
    wb.save(path)
    with pytest.raises(ExtractionError) as info:
        read_extraction_workbook(path, form=form)
    problem = info.value.problems.iloc[0]
    assert (problem["sheet"], problem["row"], problem["column"]) == ("estimates", 4, yi)
    assert "escalc:OR gives" in problem["problem"]


def test_workbook_made_for_another_form_warns(form, tmp_path):
    from evidence_synth.errors import DataQualityWarning
    from evidence_synth.extract.form import default_form

    path = write_template(tmp_path / "default.xlsx", form=default_form())
    with pytest.warns(DataQualityWarning, match="made for form 'default'") as record:
        assert len(read_extraction_workbook(path, form=form)) == 0
    assert record[0].filename == __file__  # the warning points at the caller


def test_not_a_workbook_and_missing_sheet(template, tmp_path):
    text = tmp_path / "table.xlsx"
    text.write_text("study_id,estimate_id\n", encoding="utf-8")
    with pytest.raises(ExtractionError, match="cannot read as an Excel workbook"):
        read_extraction_workbook(text)
    wb = load_workbook(template)
    del wb["studies"]
    wb.save(tmp_path / "nostudies.xlsx")
    with pytest.raises(ExtractionError, match=r"sheet 'studies', row 1, column A: sheet "
                                              r"'studies' is missing"):
        read_extraction_workbook(tmp_path / "nostudies.xlsx")


def test_cli_template_import_compare_and_errors(template, form, tmp_path):
    runner = CliRunner()
    out = tmp_path / "t.xlsx"
    form_arg = ["--form", str(EXTRACTION / "form.yaml")]
    result = runner.invoke(command, ["template", "--out", str(out), *form_arg])
    assert result.exit_code == 0, result.output
    assert "26 study fields, 64 estimate fields" in result.output
    filled = _fill(out, tmp_path / "ana.xlsx", {"studies": [(4, STUDY)],
                                                 "estimates": [(4, INTENDED), (5, ADVERSE)]})
    review = str(tmp_path / "review.db")
    args = ["import", str(filled), "--review", review, *form_arg]
    result = runner.invoke(command, [*args, "--extractor", "ana"])
    assert result.exit_code == 1  # a typo'd store is not created (issue 16)
    assert "review.db: no review store here (no such file)" in result.output
    assert not Path(review).exists()
    open_review(review).close()
    result = runner.invoke(command, [*args, "--extractor", "ana"])
    assert result.exit_code == 0, result.output
    assert "stored as 'ana': 3 inserted" in result.output
    result = runner.invoke(command, [*args, "--extractor", "ana"])
    assert "3 unchanged" in result.output
    bob = _fill(out, tmp_path / "bob.xlsx", {
        "studies": [(4, STUDY)],
        "estimates": [(4, dict(INTENDED, effect_class="unclear")), (5, ADVERSE)]})
    runner.invoke(command, ["import", str(bob), "--review", review, "--extractor", "bob",
                            *form_arg])
    result = runner.invoke(command, ["compare", "ana", "bob", "--review", review])
    assert result.exit_code == 0
    assert result.output.startswith("1 discrepancies;")
    with open_review(review) as store:
        assert len(store.extraction_rows()) == 6
    result = runner.invoke(command, ["export", "--review", review, "--extractor", "bob",
                                     "--out", str(tmp_path / "bob.json")])
    assert result.exit_code == 0, result.output
    exported = EvidenceTable.from_json(tmp_path / "bob.json")
    assert exported.rows[0]["effect_class"] == "unclear" and len(exported) == 2
    result = runner.invoke(command, ["export", "--review", review, "--out",
                                     str(tmp_path / "x.json")])
    assert result.exit_code == 1
    assert "2 extractors (ana, bob) and no consensus" in result.output

    bad = _fill(out, tmp_path / "bad.xlsx", {"estimates": [(4, dict(INTENDED, outcome="x"))]})
    result = runner.invoke(command, ["import", str(bad), "--review", review, "--extractor",
                                     "ana", *form_arg])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    last = result.output.strip().splitlines()[-1]
    assert last == f"Error: {bad}: 2 problems in the extraction workbook:"
    assert "Traceback" not in result.output
