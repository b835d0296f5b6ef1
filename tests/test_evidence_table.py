"""EvidenceTable: schema validation, computed effects, files, pooling, store, double extraction."""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence_synth.errors import ContractError, DataQualityWarning, ExtractionError, StoreError
from evidence_synth.extract.form import load_form
from evidence_synth.extract.table import EvidenceTable, discrepancies
from evidence_synth.store import open_review
from evidence_synth.synthesis import pool, rma

EXTRACTION = Path(__file__).resolve().parents[1] / "extraction"
EXAMPLE = resources.files("evidence_synth.datasets") / "extraction_example.csv"

STUDY = {"study_id": "S1", "citation": "Bah et al. (2023)", "design": "cluster_rct",
         "countries": ["GMB"], "confidence": "medium"}
ROW = {"study_id": "S1", "estimate_id": "T2.c1",
       "intervention": "3ie:orderly_and_safe_migration_management",
       "outcome": "3ie:any_migration", "outcome_wording": "Left irregularly (yes/no)",
       "effect_class": "intended", "reported": {"ai": 30, "bi": 470, "ci": 45, "di": 455}}
ADVERSE = {"study_id": "S1", "estimate_id": "T4.c1", "intervention": "ext:border_management",
           "outcome": "ext:unintended_outcome.smuggling_market",
           "outcome_wording": "Price per crossing (USD)",
           "effect_class": "unintended_adverse", "harm_category": "economic",
           "unintended_code": "SMUGGLING_PRICE", "affected": ["migrants"], "direction": "adverse",
           "prespecified": False, "quote": "Prices rose.", "page": "18",
           "reported": {"m1i": 620, "sd1i": 180, "n1i": 48, "m2i": 410, "sd2i": 150, "n2i": 52}}


@pytest.fixture(scope="module")
def form():
    return load_form(EXTRACTION / "form.yaml")


@pytest.fixture(scope="module")
def example():
    return EvidenceTable.from_csv(EXAMPLE).compute()


def _hedges_g(m1, m2, s1, s2, n1, n2):
    """Hedges' g with the exact correction, written out (Hedges 1981)."""
    sp = math.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    m = n1 + n2 - 2
    c = math.exp(math.lgamma(m / 2) - 0.5 * math.log(m / 2) - math.lgamma((m - 1) / 2))
    g = c * (m1 - m2) / sp
    return g, 1 / n1 + 1 / n2 + g**2 / (2 * (n1 + n2))


# -- schema validation ---------------------------------------------------------------------


def test_valid_rows_are_stored_as_given():
    table = EvidenceTable([ROW], studies=[STUDY])
    assert len(table) == 1
    assert table.rows == [ROW]
    assert table.studies == [STUDY]


def test_add_study_validates_and_then_accepts_its_estimates():
    table = EvidenceTable([ROW], studies=[STUDY])
    second = dict(STUDY, study_id="S2", citation="Diallo (2021)", countries=["SEN"])
    assert table.add_study(second) is table
    assert [s["study_id"] for s in table.studies] == ["S1", "S2"]
    table.append(dict(ROW, study_id="S2"))
    assert [(r["study_id"], r["estimate_id"]) for r in table.rows] == [("S1", "T2.c1"),
                                                                         ("S2", "T2.c1")]
    with pytest.raises(ExtractionError, match=r"study 'S3' is not on the studies sheet/list"):
        table.append(dict(ROW, study_id="S3"))


def test_add_study_refuses_duplicates_and_invalid_studies_and_adds_nothing():
    table = EvidenceTable([ROW], studies=[STUDY])
    with pytest.raises(ExtractionError, match=r"duplicate study_id 'S1' \(first at studies\[0\]\)"):
        table.add_study(dict(STUDY, citation="Another citation"))
    with pytest.raises(ExtractionError) as info:
        table.add_study({"study_id": "S2", "citation": "Diallo (2021)", "design": "anecdote",
                         "countries": ["XXX"]})
    assert sorted(info.value.problems["path"]) == ["studies[1].countries[0]",
                                                   "studies[1].design"]
    assert table.studies == [STUDY]


def test_countries_become_iso_codes_and_unknown_ones_are_refused():
    table = EvidenceTable([ROW], studies=[dict(STUDY, countries=[
        "The Gambia", "sn", "Côte d'Ivoire", "GMB", "Congo, The Democratic Republic of the"])])
    assert table.studies[0]["countries"] == ["GMB", "SEN", "CIV", "COD"]
    with pytest.raises(ExtractionError) as info:
        EvidenceTable([ROW], studies=[dict(STUDY, countries=["Ghana", "Atlantis", "ZZZ"])])
    problems = info.value.problems.sort_values("path")
    assert problems["path"].tolist() == ["studies[0].countries[1]", "studies[0].countries[2]"]
    assert problems["problem"].str.contains("ISO 3166-1 alpha-3 code or a country name").all()


def test_rename_studies_keeps_the_old_id_as_an_alias():
    table = EvidenceTable([ROW], studies=[STUDY]).rename_studies({"S1": "S000042"})
    assert table.studies[0]["study_id"] == "S000042"
    assert table.studies[0]["aliases"] == ["S1"]
    assert table.rows[0]["study_id"] == "S000042"
    two = EvidenceTable([ROW, dict(ROW, study_id="S2")], studies=[
        STUDY, dict(STUDY, study_id="S2", citation="Diallo (2021)")])
    with pytest.raises(ExtractionError, match="duplicate study_id 'S9'"):
        two.rename_studies({"S1": "S9", "S2": "S9"})


def test_wrong_row_names_its_row_and_field():
    bad = dict(ROW, estimate_id="T2.c2", effect_class="harmful")
    with pytest.raises(ExtractionError) as info:
        EvidenceTable([ROW, bad], studies=[STUDY])
    problems = info.value.problems
    assert list(problems["path"]) == ["rows[1].effect_class"]
    assert list(problems["field"]) == ["effect_class"]
    assert "rows[1].effect_class (study S1, estimate T2.c2): expected one of intended, " \
           "unintended_beneficial, unintended_adverse, unclear, found 'harmful'" in str(info.value)


def test_all_problems_are_collected_and_nothing_is_written():
    table = EvidenceTable([ROW], studies=[STUDY])
    rows = [
        dict(ROW, estimate_id="x 1", reported={"m1i": "ten", "sd1i": -1}),
        {k: v for k, v in ADVERSE.items() if k not in ("harm_category", "page")},
        dict(ROW, estimate_id="T9", study_id="S9", colour="red"),
    ]
    with pytest.raises(ExtractionError) as info:
        table.extend(rows)
    got = sorted(zip(info.value.problems["path"], info.value.problems["problem"], strict=True))
    assert got == [
        ("rows[1].estimate_id", "expected an id of letters, digits, '_', '.', ':' or '-' "
                                "(no spaces), found 'x 1'"),
        ("rows[1].reported.m1i", "expected number, found 'ten'"),
        ("rows[1].reported.sd1i", "expected a value >= 0, found -1"),
        ("rows[2].harm_category", "is required when effect_class is unintended_adverse"),
        ("rows[2].page", "is required when quote is given"),
        ("rows[3].colour", "unknown field"),
        ("rows[3].study_id", "study 'S9' is not on the studies sheet/list"),
    ]
    assert len(table) == 1  # all or none


def test_cross_row_checks_duplicates_and_form_vocabularies(form):
    rows = [ROW, dict(ROW), dict(ADVERSE, intervention="3ie:teleportation"),
            dict(ADVERSE, estimate_id="T4.c2", unintended_code="CAPACITY_BUILDING")]
    with pytest.raises(ExtractionError) as info:
        EvidenceTable(rows, studies=[STUDY, dict(STUDY)], form=form)
    got = {(p, m.split(" (")[0] if m.startswith("expected an") else m)
           for p, m in zip(info.value.problems["path"], info.value.problems["problem"],
                           strict=True)}
    assert got == {
        ("studies[1].study_id", "duplicate study_id 'S1' (first at studies[0])"),
        ("rows[1].estimate_id", "duplicate estimate 'T2.c1' of study 'S1' (first at rows[0])"),
        ("rows[2].intervention", "expected an intervention node of form 'migration-egm-update'"),
        ("rows[3].effect_class",
         "code CAPACITY_BUILDING is unintended_beneficial but the row is unintended_adverse"),
    }


def test_computed_effect_needs_its_formula_and_inputs_that_match_reported():
    row = dict(ROW, yi=0.1)
    with pytest.raises(ExtractionError) as info:
        EvidenceTable([row])
    assert sorted(info.value.problems["path"]) == [
        "rows[0].formula", "rows[0].inputs", "rows[0].measure", "rows[0].vi"]
    wrong = dict(ROW, measure="OR", yi=-0.4, vi=0.06, formula="escalc:OR",
                 inputs={"ai": 31, "bi": 470, "ci": 45, "di": 455})
    with pytest.raises(ExtractionError, match=r"rows\[0\]\.inputs\.ai .*differs from "
                                              r"reported\.ai \(30\), found 31"):
        EvidenceTable([wrong])


# -- computed effects ----------------------------------------------------------------------


def test_compute_records_formula_and_inputs_and_matches_hand_formulas():
    table = EvidenceTable([ROW, ADVERSE], studies=[STUDY]).compute()
    odds, smd = table.rows
    assert odds["formula"] == "escalc:OR" and odds["measure"] == "OR"
    assert odds["inputs"] == {"ai": 30, "bi": 470, "ci": 45, "di": 455}
    assert odds["yi"] == pytest.approx(math.log(30 * 455 / (470 * 45)), rel=1e-12)
    assert odds["vi"] == pytest.approx(1 / 30 + 1 / 470 + 1 / 45 + 1 / 455, rel=1e-12)
    g, v = _hedges_g(620, 410, 180, 150, 48, 52)
    assert smd["formula"] == "escalc:SMD"
    assert (smd["yi"], smd["vi"]) == (pytest.approx(g, rel=1e-10), pytest.approx(v, rel=1e-10))
    assert table.verify().empty


def test_compute_reports_invalid_statistics_by_row_and_argument():
    bad = dict(ADVERSE, reported=dict(ADVERSE["reported"], sd1i=0))
    with pytest.raises(ExtractionError) as info:
        EvidenceTable([bad]).compute()
    assert list(info.value.problems["path"]) == ["rows[0].reported.sd1i"]


def test_verify_catches_a_tampered_yi(tmp_path):
    table = EvidenceTable([ROW, ADVERSE], studies=[STUDY]).compute()
    doc = json.loads(table.to_json())
    true_yi = doc["rows"][1]["yi"]
    doc["rows"][1]["yi"] = round(true_yi, 2)
    path = tmp_path / "tampered.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ExtractionError, match=r"rows\[1\]\.yi .*escalc:SMD gives"):
        EvidenceTable.from_json(path)
    report = EvidenceTable.from_json(path, verify=False).verify()
    assert len(report) == 1
    found = report.iloc[0]
    assert (found["index"], found["estimate_id"], found["field"]) == (1, "T4.c1", "yi")
    assert found["stored"] == round(true_yi, 2)
    assert found["recomputed"] == pytest.approx(true_yi, rel=1e-12)


def test_example_dataset_computes_every_kind_of_statistic(example):
    frame = example.to_frame()
    formulas = set(frame["formula"].dropna())
    assert formulas == {"escalc:OR", "escalc:SMD", "escalc:SMD+cluster_hedges2007",
                        "b_sdy:SMD", "dppc2:SMD", "pvalue:SMD", "chisq:SMD", "reported:SMD"}
    assert int(frame["yi"].notna().sum()) == 17
    row = frame.set_index(["study_id", "estimate_id"]).loc[("demo-04", "F3")]
    assert row["yi"] == -0.62
    assert row["vi"] == pytest.approx(((-0.26 + 0.98) / (2 * 1.959963984540054)) ** 2)
    assert example.verify().empty


# -- files and frames ----------------------------------------------------------------------


def test_csv_and_json_round_trips_are_equal(example, tmp_path):
    rows_path, studies_path = example.to_csv(tmp_path / "table.csv")
    assert studies_path.name == "table-studies.csv"
    assert EvidenceTable.from_csv(rows_path) == example
    example.to_json(tmp_path / "table.json")
    assert EvidenceTable.from_json(tmp_path / "table.json") == example


def test_to_frame_columns_and_types(example):
    frame = example.to_frame()
    assert list(frame.columns[:3]) == ["study_id", "estimate_id", "intervention"]
    assert "reported.m1i" in frame.columns and "effect_class" in frame.columns
    assert frame["yi"].dtype == np.float64
    assert str(frame["effect_class"].dtype) == "string"
    assert str(frame["prespecified"].dtype) == "boolean"
    with_study = example.to_frame(with_study=True)
    assert with_study.loc[0, "countries"] == ["SEN", "GIN"]
    assert with_study.loc[0, "design"] == "cluster_rct"


def test_summary_counts_effect_classes(example):
    counts = example.counts()
    assert counts.loc["total"].to_dict() == {
        "studies": 6, "estimates": 20, "with_yi": 17, "intended": 9,
        "unintended_beneficial": 2, "unintended_adverse": 9, "unclear": 0}
    assert counts.loc["ext:border_management", "unintended_adverse"] == 4
    summary = example.summary()
    assert summary.splitlines()[0] == "EvidenceTable(6 studies, 20 estimates, 17 with yi)"
    assert "ext:border_management" in summary and summary.splitlines()[-1].startswith("total")
    assert EvidenceTable([]).summary() == "EvidenceTable(0 studies, 0 estimates, 0 with yi)"
    assert "EvidenceTable(6 studies, 20 estimates, 17 with yi)" in example._repr_html_()


def test_pool_matches_rma_on_the_same_rows(example):
    pooled = pool(example, by="outcome", effect_class="intended")
    row = pooled[(pooled["outcome"] == "3ie:international_migration_flow") &
                 (pooled["measure"] == "SMD")].iloc[0]
    data = example.rma_input(measure="SMD")
    data = data[(data["outcome"] == "3ie:international_migration_flow") &
                (data["effect_class"] == "intended")]
    assert list(data["study_id"]) == ["demo-26", "demo-04", "demo-05"]
    direct = rma(data["yi"].to_numpy(), data["vi"].to_numpy(), method="REML")
    assert row["k"] == 3
    assert row["estimate"] == pytest.approx(float(direct.beta[0]), rel=1e-12)
    assert row["tau2"] == pytest.approx(direct.tau2, rel=1e-12)
    assert pooled.attrs["results"][("3ie:international_migration_flow", "SMD")].k == 3
    small = pooled[pooled["outcome"] == "3ie:knowledge_perceptions_attitudes_and_expectations"]
    small = small.iloc[0]
    assert small["k"] == 1 and np.isnan(small["estimate"])


def test_pool_warns_when_a_study_contributes_twice(example):
    with pytest.warns(DataQualityWarning, match="ext:border_management"):
        pooled = pool(example, by="intervention", effect_class="unintended_adverse")
    row = pooled[pooled["intervention"] == "ext:border_management"].iloc[0]
    assert (row["k"], row["studies"]) == (3, 1)


def test_pool_on_rma_input_frame_and_extra_columns(example):
    from_table = pool(example, by=["outcome", "design"], effect_class="intended")
    frame = example.rma_input(columns=["design", "effect_class", "design"])
    assert list(frame.columns)[-1] == "design" and list(frame.columns).count("design") == 1
    from_frame = pool(frame, by=["outcome", "design"], effect_class="intended")
    pd.testing.assert_frame_equal(from_table, from_frame)
    assert from_table["design"].notna().all()
    with pytest.raises(ExtractionError, match="no column 'nope' in the evidence table"):
        example.rma_input(columns=["nope"])
    with pytest.raises(ContractError, match="no column 'design'"):
        pool(example.rma_input(), by="design")


# -- double extraction and the store -------------------------------------------------------


def test_discrepancies_name_fields_and_missing_rows():
    a = EvidenceTable([ROW, ADVERSE], studies=[STUDY])
    b_row = dict(ROW, reported=dict(ROW["reported"], ai=31), effect_class="unclear")
    b = EvidenceTable([b_row], studies=[dict(STUDY, countries=["GMB"])])
    report = discrepancies(a, b, names=("ana", "bob"))
    got = [tuple(r) for r in report[["level", "estimate_id", "field", "kind", "value_ana",
                                      "value_bob"]].head(2).itertuples(index=False)]
    assert got == [
        ("estimate", "T2.c1", "effect_class", "differs", "intended", "unclear"),
        ("estimate", "T2.c1", "reported.ai", "differs", 30, 31),
    ]
    assert len(report) == 3
    assert report.loc[2, ["estimate_id", "kind"]].tolist() == ["T4.c1", "only_ana"]
    assert report.loc[2, "field"] is pd.NA
    agreement = report.attrs["agreement"].set_index(["level", "field"])
    assert agreement.loc[("estimate", "reported.ai"), "percent"] == 0.0
    assert agreement.loc[("study", "countries"), "percent"] == 100.0
    assert discrepancies(a, a).empty


def test_store_round_trip_versions_and_edit_conflict(tmp_path):
    table = EvidenceTable([ROW, ADVERSE], studies=[STUDY]).compute()
    with open_review(tmp_path / "review.db") as review:
        saved = table.save(review, extractor="ana")
        assert list(saved["row_id"]) == ["S1@ana", "S1/T2.c1@ana", "S1/T4.c1@ana"]
        assert set(saved["action"]) == {"inserted"}
        stored = review.extraction_rows().set_index("row_id")
        assert stored.loc["S1/T2.c1@ana", "extractor"] == "ana"
        assert stored.loc["S1/T2.c1@ana", "study_id"] == "S1"

        loaded = EvidenceTable.from_review(review)
        assert loaded == table
        assert set(table.save(review, extractor="ana")["action"]) == {"unchanged"}

        editor_1 = EvidenceTable.from_review(review, extractor="ana")
        editor_2 = EvidenceTable.from_review(review, extractor="ana")
        editor_1.update(dict(editor_1.rows[0], notes="checked against table 2"))
        saved = editor_1.save(review, extractor="ana")
        assert saved.set_index("row_id").loc["S1/T2.c1@ana", "action"] == "updated"
        assert saved.set_index("row_id").loc["S1/T2.c1@ana", "version"] == 2
        editor_2.update(dict(editor_2.rows[0], notes="something else"))
        with pytest.raises(StoreError, match=r"'S1/T2.c1@ana': edit conflict, expected "
                                             r"version 1, found version 2 by ana"):
            editor_2.save(review, extractor="ana")

        fresh = EvidenceTable([dict(ROW, notes="re-imported")], studies=[STUDY])
        with pytest.raises(StoreError, match="already stored for 'ana'"):
            fresh.save(review, extractor="ana")
        assert fresh.save(review, extractor="ana", update=True)["action"].tolist() == [
            "unchanged", "updated"]


def test_double_extraction_in_the_store_and_consensus(tmp_path):
    ana = EvidenceTable([ROW, ADVERSE], studies=[STUDY])
    bob = EvidenceTable([dict(ROW, effect_class="unclear"), ADVERSE], studies=[STUDY])
    with open_review(tmp_path / "review.db") as review:
        ana.save(review, extractor="ana")
        bob.save(review, extractor="bob")
        with pytest.raises(ExtractionError, match=r"2 extractors \(ana, bob\) and no consensus"):
            EvidenceTable.from_review(review)
        report = discrepancies(EvidenceTable.from_review(review, extractor="ana"),
                               EvidenceTable.from_review(review, extractor="bob"))
        assert report[["estimate_id", "field"]].values.tolist() == [["T2.c1", "effect_class"]]
        ana.save(review, extractor="carla", consensus=True)
        stored = review.extraction_rows().set_index("row_id")
        assert stored.loc["S1/T2.c1@consensus", "extractor"] == "carla"
        assert EvidenceTable.from_review(review) == ana


def test_extra_fields_are_checked_against_the_form(form):
    row = dict(ROW, extra={"coder_confidence": "high"})
    assert EvidenceTable([row]).rows[0]["extra"] == {"coder_confidence": "high"}
    with pytest.raises(ExtractionError) as info:
        EvidenceTable([row], form=form)
    assert list(info.value.problems["path"]) == ["rows[0].extra.coder_confidence"]
    assert info.value.problems["problem"].iloc[0] == (
        "unknown field (form 'migration-egm-update' has no extra.coder_confidence)")


def test_consensus_name_is_reserved(tmp_path):
    table = EvidenceTable([ROW], studies=[STUDY])
    with open_review(tmp_path / "review.db") as review:
        with pytest.raises(StoreError, match="'consensus' is reserved"):
            table.save(review, extractor="consensus")
        with pytest.raises(StoreError, match="without '@'"):
            table.save(review, extractor="ana@example.org")
        assert review.count("extraction_rows") == 0


def test_formula_keys_are_documented():
    from evidence_synth.effects.compute import formulas

    frame = formulas()
    assert list(frame["key"]) == ["escalc", "props", "pvalue", "b_sdy", "chisq", "dppc2",
                                  "reported", "cluster_hedges2007"]
    assert frame.set_index("key").loc["dppc2", "reference"].startswith("Morris (2008)")


def test_bad_csv_names_the_file_and_the_field(example, tmp_path):
    rows_path, _ = example.to_csv(tmp_path / "table.csv")
    text = rows_path.read_text(encoding="utf-8").replace(",intended,", ",intnded,", 1)
    rows_path.write_text(text, encoding="utf-8")
    with pytest.raises(ExtractionError) as info:
        EvidenceTable.from_csv(rows_path)
    assert str(info.value).startswith(f"{rows_path} and {tmp_path / 'table-studies.csv'}")
    assert list(info.value.problems["path"]) == ["rows[0].effect_class"]
