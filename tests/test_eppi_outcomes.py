"""EPPI-Reviewer outcomes: study-level codes kept apart, one outcome row per effect, and
evidence rows recomputed with escalc beside EPPI-Reviewer's own effect sizes.

The fixture ``eppi_report_outcomes.json`` is hand-written on the structure of real
EPPI-Reviewer JSON reports (``References[].Outcomes`` with ``Data1..14``, their
descriptions, ``OutcomeCodes``); its effect sizes were filled in with EPPI-Reviewer's
formulas (its ``Outcome`` class), so they differ from metafor's where EPPI-Reviewer's do.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest
from scipy.special import gammaln

from evidence_synth.errors import DataQualityWarning, ExtractionError
from evidence_synth.extract import EvidenceTable
from evidence_synth.io import read_egm

FIXTURE = Path(__file__).parent / "fixtures" / "io" / "eppi_report_outcomes.json"


@pytest.fixture(scope="module")
def emap():
    return read_egm(FIXTURE)


def test_codes_are_the_study_level_codes_exactly_as_in_the_file(emap):
    assert list(zip(emap.codes["record_id"], emap.codes["node_id"], strict=True)) == [
        ("eppi:90001", "eppi:8101"), ("eppi:90001", "eppi:8201"), ("eppi:90001", "eppi:8301"),
        ("eppi:90001", "eppi:8302"), ("eppi:90002", "eppi:8102"), ("eppi:90002", "eppi:8202"),
        ("eppi:90002", "eppi:8303")]
    assert not emap.codes.duplicated(["record_id", "node_id"]).any()
    assert emap.codes["additional_text"].iloc[3] == "intention measured at endline"
    assert emap.counts()["outcomes"] == 5


def test_one_outcome_row_per_effect_with_its_codes_data_and_effect_sizes(emap):
    o = emap.outcomes
    assert list(o["outcome_id"]) == [74601, 74602, 74610, 74611, 74612]
    first = o.iloc[0]
    assert (first["record_id"], first["intervention_id"], first["control_id"],
            first["outcome_node_id"]) == ("eppi:90001", "eppi:8101", "eppi:8201", "eppi:8301")
    assert (first["intervention"], first["control"], first["outcome"]) == (
        "Cash transfer conditional on schooling", "Business as usual", "School enrolment")
    assert (first["timepoint"], first["timepoint_value"], first["timepoint_metric"]) == (
        "12 months", "12", "months")
    assert first["data_type"] == "Continuous: Ns, means, and SD"
    assert first["data"] == {"Group 1 N": 10.0, "Group 2 N": 9.0, "Group 1 mean": 8.0,
                             "Group 2 mean": 7.0, "Group 1 SD": 6.0, "Group 2 SD": 5.0}
    assert first["outcome_codes"] == ["eppi:8401", "eppi:8101", "eppi:8201"]
    assert first["outcome_code_labels"][0] == "Primary outcome"
    assert (first["smd"], first["se_smd"]) == (0.17205368889046432, 0.4605365663028017)
    manual = o.iloc[2]
    assert manual["data"]["SMD"] == -0.3303 and manual["data"]["SMD standard error"] == 0.2724
    assert "mean difference standard error" in manual["data"]
    uncoded = o.iloc[4]
    assert str(uncoded["intervention_id"]) == "<NA>" and str(uncoded["outcome_node_id"]) == "<NA>"
    assert uncoded["raw"]["ItemAttributeIdIntervention"] == 0


def test_matrix_counts_outcome_codes_only_when_asked(emap):
    rows, columns = ["eppi:8101", "eppi:8102"], ["eppi:8301", "eppi:8303", "eppi:8401"]
    study = emap.matrix(rows, columns)
    assert study.loc["eppi:8101"].tolist() == [1, 0, 0]
    with_outcomes = emap.matrix(rows, columns, outcome_codes=True)
    assert with_outcomes.loc["eppi:8101"].tolist() == [1, 0, 1]  # "Primary outcome"
    # an outcome's control code (Business as usual) never places a study by itself
    from dataclasses import replace
    no_study_control = replace(emap, codes=emap.codes[emap.codes["node_id"] != "eppi:8201"])
    assert no_study_control.matrix(["eppi:8201"], ["eppi:8401"],
                                   outcome_codes=True).iloc[0, 0] == 0


def _hedges_exact_smd(n1, n2, m1, m2, sd1, sd2):
    """metafor's SMD: Hedges' g with the exact correction (Hedges 1981), vtype LS."""
    df = n1 + n2 - 2
    sp = math.sqrt(((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2) / df)
    j = math.exp(gammaln(df / 2) - 0.5 * math.log(df / 2) - gammaln((df - 1) / 2))
    g = j * (m1 - m2) / sp
    return g, 1 / n1 + 1 / n2 + g ** 2 / (2 * (n1 + n2))


def test_evidence_rows_recompute_with_escalc_beside_eppi_values(emap):
    with pytest.raises(ExtractionError, match=r"1 outcome\(s\) cannot be placed.*74612"):
        EvidenceTable.from_eppi_outcomes(emap)
    with pytest.warns(DataQualityWarning, match="outcome 74612 of eppi:90002"):
        table = EvidenceTable.from_eppi_outcomes(emap, skip_uncoded=True)
    rows = {r["estimate_id"]: r for r in table.rows}
    assert list(rows) == ["eppi-outcome-74601", "eppi-outcome-74602", "eppi-outcome-74610",
                          "eppi-outcome-74611"]
    smd = rows["eppi-outcome-74601"]
    assert smd["reported"] == {"n1i": 10.0, "n2i": 9.0, "m1i": 8.0, "m2i": 7.0, "sd1i": 6.0,
                               "sd2i": 5.0, "es_reported": 0.17205368889046432,
                               "se_reported": 0.4605365663028017, "es_reported_measure": "SMD"}
    yi, vi = _hedges_exact_smd(10, 9, 8, 7, 6, 5)
    assert (smd["formula"], smd["measure"]) == ("escalc:SMD", "SMD")
    assert smd["yi"] == pytest.approx(yi, rel=1e-12) and smd["vi"] == pytest.approx(vi, rel=1e-12)
    assert (smd["intervention"], smd["outcome"], smd["comparison_detail"]) == (
        "eppi:8101", "eppi:8301", "Business as usual")
    assert (smd["timepoint"], smd["timepoint_months"], smd["effect_class"]) == (
        "12 months", 12.0, "unclear")
    binary = rows["eppi-outcome-74602"]
    assert {k: binary["reported"][k] for k in ("ai", "bi", "ci", "di")} == {
        "ai": 42.0, "bi": 158.0, "ci": 30.0, "di": 170.0}
    assert binary["yi"] == pytest.approx(math.log(42 * 170 / (158 * 30)), rel=1e-12)
    assert binary["timepoint_months"] == 24.0
    manual = rows["eppi-outcome-74610"]
    assert (manual["formula"], manual["yi"], manual["vi"]) == (
        "reported:SMD", -0.3303, pytest.approx(0.2724 ** 2))
    ci = rows["eppi-outcome-74611"]
    n1, n2 = 60, 58
    sd1 = (3.6 - 2.6) / (2 * 1.96) * math.sqrt(n1)
    sd2 = (4.1 - 3.1) / (2 * 1.96) * math.sqrt(n2)
    assert (ci["reported"]["sd1i"], ci["reported"]["sd2i"]) == (
        pytest.approx(sd1), pytest.approx(sd2))
    assert "CI upper - CI lower" in ci["notes"]
    diffs = table.reported_differences().set_index("estimate_id")
    assert list(diffs.index) == ["eppi-outcome-74601", "eppi-outcome-74602",
                                 "eppi-outcome-74611"]
    # Hedges' approximate vs exact correction: tiny; EPPI's SE uses n1+n2-3.94
    assert abs(diffs.loc["eppi-outcome-74601", "diff"]) < 1e-4
    assert diffs.loc["eppi-outcome-74601", "diff_se"] == pytest.approx(
        math.sqrt(vi) - 0.4605365663028017)
    assert abs(diffs.loc["eppi-outcome-74602", "diff"]) < 1e-12
    # EPPI-Reviewer derives group 2's SD from its CI with group 1's n: 2e-3 apart here
    assert 1e-3 < abs(diffs.loc["eppi-outcome-74611", "diff"]) < 5e-3


def test_no_outcomes_is_an_error():
    emap = read_egm(FIXTURE)
    emap.outcomes = emap.outcomes.iloc[0:0]
    with pytest.raises(ExtractionError, match="no EPPI-Reviewer outcomes"):
        EvidenceTable.from_eppi_outcomes(emap)


def test_import_map_keeps_outcomes_with_review_record_ids(tmp_path):
    from evidence_synth.store import open_review

    with open_review(tmp_path / "r.db") as review, warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        emap = review.import_map(FIXTURE, database="EPPI map")
        stored_ids = set(review.records()["record_id"])
    assert set(emap.outcomes["record_id"]) <= stored_ids
    assert len(emap.outcomes) == 5


# EPPI-Reviewer's own expected values for its outcome calculations (its client's outcome
# unit tests, EPPI-Centre/ER4): (type, Data1..Data10 entered, EPPI's ES, EPPI's SE).
# Types: 1 Ns/means/SDs, 2 2x2 table (OR, SE of log OR), 3 Ns/means/SEs, 4 Ns/means/CIs;
# Data9/Data10 are the unit-of-analysis correction's cluster size and ICC.
EPPI_SPEC = [
    (1, [10, 9, 8, 7, 6, 5], 0.172053688890464, 0.460536566302802),
    (2, [10, 9, 8, 7], 0.972222222222222, 0.692075323912256),
    (3, [10, 9, 8, 7, 6, 5], 0.054408153672788, 0.459575230936348),
    (4, [10, 9, 8, 7, 6, 5, 4, 3], 0.592053895061972, 0.471962732385845),
    (1, [10, 9, 8, 7, 6, 5, 0, 0, 4, 4], 0.172053688890464, 1.660488204030873),
]


def _spec_report(tmp_path):
    from evidence_synth.io._eppi_outcomes import DESCRIPTIONS

    outcomes = []
    for i, (tid, data, es, se) in enumerate(EPPI_SPEC, 1):
        o = {"OutcomeId": i, "OutcomeTypeId": tid, "ItemAttributeIdIntervention": 11,
             "ItemAttributeIdControl": 12, "ItemAttributeIdOutcome": 13, "Title": f"spec {i}",
             "ES": es, "SEES": se}
        if tid == 2:
            o.update(OddsRatio=es, SEOddsRatio=se)
        else:
            o.update(SMD=es, SESMD=se)
        for k in range(1, 15):
            o[f"Data{k}"] = data[k - 1] if k <= len(data) else 0
            names = DESCRIPTIONS[tid]
            o[f"Data{k}Desc"] = names[k - 1] if k <= len(names) else ""
        outcomes.append(o)
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"References": [{"ItemId": 1, "Title": "spec",
                                                "Outcomes": outcomes}]}), encoding="utf-8")
    return read_egm(path)


def test_recomputed_effects_against_eppi_reviewers_own_values(tmp_path):
    table = EvidenceTable.from_eppi_outcomes(_spec_report(tmp_path))
    rows = {int(r["estimate_id"].rsplit("-", 1)[1]): r for r in table.rows}
    diffs = table.reported_differences().set_index("estimate_id")
    # 1: EPPI's approximate Hedges correction and 3.94 in the SE: within 1e-4 / 3e-4
    assert abs(diffs.loc["eppi-outcome-1", "diff"]) < 1e-4
    assert abs(diffs.loc["eppi-outcome-1", "diff_se"]) < 3e-4
    # 2: the odds ratio and the SE of its log are the same formula
    assert math.exp(rows[2]["yi"]) == pytest.approx(0.972222222222222, abs=1e-12)
    assert math.sqrt(rows[2]["vi"]) == pytest.approx(0.692075323912256, abs=1e-12)
    # 3 and 4: EPPI-Reviewer derives group 2's SD from its SE or CI with group 1's n;
    # here each group's own n is used, metafor's SMD on those SDs
    yi3, _ = _hedges_exact_smd(10, 9, 8, 7, 6 * math.sqrt(10), 5 * math.sqrt(9))
    assert rows[3]["yi"] == pytest.approx(yi3, rel=1e-12)
    assert abs(rows[3]["yi"] - 0.054408153672788) > 1e-3
    sd = 2 / (2 * 1.96)
    yi4, _ = _hedges_exact_smd(10, 9, 8, 7, sd * math.sqrt(10), sd * math.sqrt(9))
    assert rows[4]["yi"] == pytest.approx(yi4, rel=1e-12)
    # 5: an ICC of 4 is no ICC: no clustering correction, said in the notes; EPPI-Reviewer
    # applied it to the SE only (1.66 against 0.46)
    assert (rows[5]["formula"], rows[5]["yi"]) == ("escalc:SMD", rows[1]["yi"])
    assert "ICC 4.0 out of range" in rows[5]["notes"]
    assert diffs.loc["eppi-outcome-5", "diff_se"] == pytest.approx(
        math.sqrt(rows[1]["vi"]) - 1.660488204030873)
