"""Kappa, PABAK and Gwet's AC1 against published worked examples."""

import numpy as np
import pandas as pd
import pytest

from evidence_synth.errors import EvidenceSynthError
from evidence_synth.screen.agreement import agreement, agreement_table, screening_agreement

# Gwet KL (2014). Handbook of Inter-Rater Reliability, 4th ed.: 100 pregnant women
# classified by two abstractors as Ectopic / AIU / NIU. Reference values as published
# with that example in Gwet's irrCAC package (R and Python, `cont3x3abstractors`):
# kappa 0.796 (95% CI 0.680 to 0.913); AC1 0.84933 (0.76358 to 0.93508), se 0.04322,
# pa 0.89, pe 0.26992; Brennan-Prediger (= PABAK for q categories) 0.835.
ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]


def test_gwet_handbook_abstractors_kappa():
    res = agreement_table(ABSTRACTORS)
    assert res.n == 100
    assert res.observed == pytest.approx(0.89)
    assert res.kappa == pytest.approx(0.796, abs=5e-4)
    assert res.kappa_ci[0] == pytest.approx(0.680, abs=5e-4)
    assert res.kappa_ci[1] == pytest.approx(0.913, abs=5e-4)


def test_gwet_handbook_abstractors_ac1():
    res = agreement_table(ABSTRACTORS)
    assert res.ac1 == pytest.approx(0.84933, abs=5e-6)
    assert res.ac1_se == pytest.approx(0.04322, abs=5e-6)
    assert res.ac1_ci[0] == pytest.approx(0.76358, abs=5e-6)
    assert res.ac1_ci[1] == pytest.approx(0.93508, abs=5e-6)


def test_pabak_multi_category_is_brennan_prediger():
    assert agreement_table(ABSTRACTORS).pabak == pytest.approx(0.835, abs=5e-4)


def test_binary_table_by_hand():
    # po = 0.7; pe = 0.5 * 0.6 + 0.5 * 0.4 = 0.5; kappa = 0.2 / 0.5 = 0.4
    # PABAK = 2 * 0.7 - 1 = 0.4; pi = (0.55, 0.45), pe_AC1 = 2 * 0.55 * 0.45 = 0.495,
    # AC1 = (0.7 - 0.495) / 0.505
    res = agreement_table([[20, 5], [10, 15]])
    assert res.kappa == pytest.approx(0.4)
    assert res.pabak == pytest.approx(0.4)
    assert res.ac1 == pytest.approx(0.205 / 0.505)


def test_pabak_ci_from_exact_binomial_ci_of_po():
    # 90 agreements in 100: Clopper-Pearson 95% CI of po is 0.8238 to 0.9510,
    # so PABAK = 2 po - 1 = 0.8 with CI 0.6476 to 0.9020.
    res = agreement_table([[40, 5], [5, 50]])
    assert res.pabak == pytest.approx(0.8)
    assert res.pabak_ci[0] == pytest.approx(0.6476, abs=2e-4)
    assert res.pabak_ci[1] == pytest.approx(0.9020, abs=2e-4)


def test_agreement_from_paired_decisions_matches_table():
    a = ["include"] * 20 + ["include"] * 5 + ["exclude"] * 10 + ["exclude"] * 15
    b = ["include"] * 20 + ["exclude"] * 5 + ["include"] * 10 + ["exclude"] * 15
    res = agreement(a, b, categories=["include", "exclude"])
    assert res.table.tolist() == [[20, 5], [10, 15]]
    assert res.kappa == pytest.approx(0.4)


def test_agreement_rejects_unequal_lengths():
    with pytest.raises(EvidenceSynthError, match="equal length"):
        agreement([1, 0], [1])


def test_screening_agreement_per_stage_and_pair():
    rows = []
    truth = [1, 1, 0, 0, 0, 1, 0, 0]
    for i, t in enumerate(truth):
        rid = f"r{i}"
        rows.append((rid, "ana", "include" if t else "exclude", "title_abstract"))
        # ben disagrees on r2 only
        rows.append((rid, "ben", "include" if (t or i == 2) else "exclude", "title_abstract"))
        if i < 4:
            rows.append((rid, "ana", "include" if t else "exclude", "full_text"))
            rows.append((rid, "cy", "include" if t else "exclude", "full_text"))
    # a changed mind: the last decision counts
    rows.append(("r3", "cy", "include", "full_text"))
    rows.append(("r3", "cy", "exclude", "full_text"))
    df = pd.DataFrame(rows, columns=["record_id", "reviewer", "decision", "stage"])
    before = df.copy()
    out = screening_agreement(df)
    pd.testing.assert_frame_equal(df, before)
    assert list(out[["stage", "reviewer_a", "reviewer_b", "n"]].itertuples(index=False)) == [
        ("full_text", "ana", "cy", 4),
        ("title_abstract", "ana", "ben", 8),
    ]
    ta = out.set_index("stage").loc["title_abstract"]
    assert ta["observed"] == pytest.approx(7 / 8)
    # table (exclude, include) x (exclude, include) = [[4, 1], [0, 3]]
    expected = agreement_table([[4, 1], [0, 3]])
    assert ta["kappa"] == pytest.approx(expected.kappa)
    assert ta["ac1"] == pytest.approx(expected.ac1)
    assert out.set_index("stage").loc["full_text", "kappa"] == pytest.approx(1.0)


def test_screening_agreement_requires_columns():
    with pytest.raises(EvidenceSynthError, match="stage"):
        screening_agreement(pd.DataFrame({"record_id": [1], "reviewer": ["a"], "decision": [1]}))


def test_single_category_kappa_is_nan_but_pabak_defined():
    res = agreement(["x"] * 5, ["x"] * 5)
    assert np.isnan(res.kappa)
    assert res.pabak == pytest.approx(1.0)


def test_intervals_are_truncated_to_minus_one_one():
    res = agreement(["i", "i", "e"], ["i", "e", "e"])
    assert res.kappa == pytest.approx(0.4)
    assert res.kappa_ci == (-1.0, 1.0)
    assert res.ac1_ci == (-1.0, 1.0)
