"""rma/rma_mh/rma_peto additions of issue 21: the tau^2 estimators PMM, MP, SJIT, GENQM,
test="adhoc", Mantel-Haenszel for person-time data, and degenerate inputs answered as
metafor answers them (NaN with a warning, se = 0) or with a clear error, never a
LinAlgError or ZeroDivisionError."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from evidence_synth.effects import escalc
from evidence_synth.errors import DataQualityWarning, EffectSizeError
from evidence_synth.synthesis import rma, rma_mh, rma_peto
from evidence_synth.synthesis.quadform import chi2_mixture_sf

BCG = escalc(
    "RR",
    ai=[4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
    bi=[119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
    ci=[11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
    di=[128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
)
ABLAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]

# Rothman, Greenland & Lash (2008) Table 15-2 (metafor test_analysis_example_rothman2008)
T15_2 = {"x1i": [32, 104, 206, 186, 102], "x2i": [2, 12, 28, 28, 31],
         "t1i": np.array([52407, 43248, 28612, 12663, 5317]) / 10000,
         "t2i": np.array([18790, 10673, 5710, 2585, 1462]) / 10000}


def r4(x) -> float:
    return round(float(np.asarray(x).ravel()[0]), 4)


# ---------------------------------------------------------------- estimators


def test_iterated_estimators_bcg_metafor_tests():
    # metafor test_misc_rma_uni (5.x): DLIT and SJIT give 0.3181 on dat.bcg
    for method in ("DLIT", "SJIT"):
        assert round(rma(BCG["yi"], BCG["vi"], method=method).tau2, 4) == 0.3181


def test_median_unbiased_and_mandel_paule_match_metafor():
    # metafor 3.8-1 with control=list(tol=1e-12): PMM 0.343388, MP (= PM) 0.318068
    pmm = rma(BCG["yi"], BCG["vi"], method="PMM").tau2
    mp = rma(BCG["yi"], BCG["vi"], method="MP").tau2
    assert (round(pmm, 6), round(mp, 6)) == (0.343388, 0.318068)
    assert mp == rma(BCG["yi"], BCG["vi"], method="PM").tau2
    # PMM sets Q to the median of chi2(k - 1), PM to its mean
    res = rma(BCG["yi"], BCG["vi"], method="PMM", tau2=pmm)
    w = 1 / (BCG["vi"] + pmm)
    mu = np.sum(w * BCG["yi"]) / w.sum()
    q = float(np.sum(w * (BCG["yi"] - mu) ** 2))
    assert q == pytest.approx(stats.chi2.median(12), rel=1e-9)
    assert res.k == 13


def test_mean_normand_reml_metafor_test():
    # metafor test_misc_rma_uni: rma(measure="MN", mi=m1i, sdi=sd1i, ni=n1i, dat.normand1999)
    dat = escalc("MN", mi=[55, 27, 64, 66, 14, 19, 52, 21, 30],
                 sdi=[47, 7, 17, 20, 8, 7, 45, 16, 27], ni=[155, 31, 75, 18, 8, 57, 34, 110, 60])
    assert round(rma(dat["yi"], dat["vi"]).tau2, 4) == 408.9277


def test_genqm_equals_pmm_with_equal_variances_and_weights():
    # with vi all equal and constant weights, Q / (v + tau2) ~ chi2(k - p): the median-
    # unbiased generalised Q estimator and PMM coincide with Q / median - v
    rng = np.random.default_rng(7)
    y = rng.normal(0, 1.2, 9)
    v = np.full(9, 0.3)
    genqm = rma(y, v, method="GENQM", weights=np.ones(9)).tau2
    pmm = rma(y, v, method="PMM").tau2
    closed = float(np.sum((y - y.mean()) ** 2)) / stats.chi2.median(8) - 0.3
    assert genqm == pytest.approx(closed, rel=1e-8)
    assert pmm == pytest.approx(closed, rel=1e-8)
    with pytest.raises(EffectSizeError, match="weights"):
        rma(y, v, method="GENQM")


def test_chi2_mixture_tail_exact_cases():
    for m in (1, 2, 5, 30):
        for q in (0.2, m, 3 * m + 4):
            assert chi2_mixture_sf(2.5 * q, np.full(m, 2.5)) == pytest.approx(
                stats.chi2.sf(q, m), abs=1e-12)
    # two unequal weights: P(3 X1 + 0.5 X2 > q) by one-dimensional integration
    q = 4.0
    exact, _ = integrate.quad(
        lambda x: stats.chi2.pdf(x / 3, 1) / 3 * stats.chi2.sf((q - x) / 0.5, 1), 0, q)
    exact += stats.chi2.sf(q / 3, 1)
    assert chi2_mixture_sf(q, np.array([3.0, 0.5])) == pytest.approx(exact, abs=1e-9)


def test_adhoc_never_narrows_the_knapp_hartung_interval():
    # BCG: s2w > 1, so adhoc = knha (metafor 3.8-1: se 0.1807917, p 0.001920015)
    adhoc = rma(BCG["yi"], BCG["vi"], test="adhoc")
    assert (round(float(adhoc.se[0]), 7), round(float(adhoc.pval[0]), 9)) == (0.1807917,
                                                                             0.001920015)
    # homogeneous data: s2w < 1, adhoc keeps the z-test variance with a t reference
    y = np.array([0.10, 0.12, 0.11, 0.09, 0.10])
    v = np.full(5, 0.04)
    z, knha, ad = (rma(y, v, method="DL", test=t) for t in ("z", "knha", "adhoc"))
    assert knha.se[0] < z.se[0]
    assert ad.se[0] == pytest.approx(z.se[0])
    assert ad.ci_ub[0] - ad.beta[0] == pytest.approx(stats.t.isf(0.025, 4) * z.se[0])


# ---------------------------------------------------------------- Mantel-Haenszel, person-time


def test_mh_rate_difference_and_ratio_rothman_table_15_2():
    # metafor test_analysis_example_rothman2008 (level 90)
    ird = rma_mh(**T15_2, measure="IRD", level=90)
    assert (r4(ird.beta), r4(ird.ci_lb), r4(ird.ci_ub)) == (11.4392, 6.3498, 16.5286)
    assert (round(ird.QE, 4), round(ird.QEp, 4)) == (26.8758, 0.0000)
    irr = rma_mh(**T15_2, measure="IRR", level=90)
    assert (r4(irr.beta), r4(irr.ci_lb), r4(irr.ci_ub)) == (0.3539, 0.1776, 0.5303)
    assert (round(irr.QE, 4), round(irr.QEp, 4)) == (10.4117, 0.0340)
    assert (round(irr.tests["MH"], 4), round(irr.tests["MHp"], 4)) == (10.7021, 0.0011)
    ratio = irr.predict(transf=np.exp).iloc[0]
    assert [round(ratio[c], 4) for c in ("pred", "ci_lb", "ci_ub")] == [1.4247, 1.1944, 1.6994]
    uncorrected = rma_mh(**T15_2, measure="IRR", correct=False)
    assert (round(uncorrected.tests["MH"], 4), round(uncorrected.tests["MHp"], 4)) == (
        11.0162, 0.0009)


def test_mh_tests_keep_the_continuity_correction_below_one_half():
    # sum(O - E) = 0: metafor (3.8 and 5.1) reports (|0| - 1/2)^2 / V, not 0
    tables = {"ai": [5, 5], "bi": [5, 5], "ci": [5, 5], "di": [5, 5]}
    res = rma_mh(**tables)
    n1 = n2 = m1 = m2 = 10
    n = 20
    v_bin = 2 * (n1 / n) * (n2 / n) * (m1 * (m2 / n))
    assert res.tests["CO"] == pytest.approx(0.25 / v_bin)
    assert res.tests["COp"] == pytest.approx(stats.chi2.sf(0.25 / v_bin, 1))
    assert res.tests["COp"] < 1


# ---------------------------------------------------------------- degenerate inputs


def test_knapp_hartung_with_identical_effects_gives_se_zero_and_qm_nan():
    y, v = np.full(6, 0.3), np.linspace(0.01, 0.06, 6)
    res = rma(y, v, test="knha")
    assert res.se[0] == 0 and res.beta[0] == pytest.approx(0.3)
    assert math.isnan(res.QM) and math.isnan(res.QMp)
    reg = rma(y, v, mods=np.arange(6.0), test="knha")
    assert np.all(reg.se == 0) and math.isnan(reg.QM)
    # equal-effects R^2 is 0 for identical effects (metafor), not rounding noise
    assert rma(y, v, mods=np.arange(6.0), method="EE").R2 == 0.0


def test_equal_effects_with_as_many_coefficients_as_studies():
    res = rma([0.1, 0.5, 0.3], [0.01, 0.02, 0.03], mods=np.array([[1, 0], [0, 1], [0, 0]]),
              method="EE")
    assert res.beta == pytest.approx([0.3, -0.2, 0.2])
    assert (res.QE, res.QEp, res.I2, res.H2) == (0.0, 1.0, 0.0, 1.0)
    assert res.fit_stats.loc["BIC", "REML"] == -math.inf


def test_more_moderators_than_studies_are_dropped_with_a_warning():
    # metafor keeps the first columns that are linearly independent (k = 3 of them)
    x = np.array([[1.0, 2.0, 3.0, 1.0], [2.0, 1.0, 0.0, 5.0], [0.0, 1.0, 4.0, 2.0]])
    with pytest.warns(DataQualityWarning, match="redundant predictors dropped: mods4"):
        res = rma([0.1, 0.5, 0.3], [0.01, 0.02, 0.03], mods=x, intercept=False, method="EE")
    assert res.coef_names == ("mods1", "mods2", "mods3")
    assert res.QE == 0.0
    with pytest.warns(DataQualityWarning, match="redundant"), \
            pytest.raises(EffectSizeError, match="parameters to estimate"):
        rma([0.1, 0.5, 0.3], [0.01, 0.02, 0.03], mods=x)


def test_degenerate_mh_tables_give_nan_with_a_warning():
    no_events_group1 = {"ai": [0, 0], "bi": [10, 12], "ci": [3, 4], "di": [7, 8]}
    for measure in ("OR", "RR"):
        with pytest.warns(DataQualityWarning, match="NaN"):
            res = rma_mh(**no_events_group1, measure=measure)
        assert math.isnan(res.beta[0]) and math.isnan(res.se[0]) and math.isnan(res.pval[0])
    with pytest.warns(DataQualityWarning, match="no participants"):
        res = rma_mh(ai=[0, 3], bi=[0, 7], ci=[0, 2], di=[0, 8], measure="RD")
    assert math.isnan(res.beta[0])
    with pytest.warns(DataQualityWarning, match="NaN"):
        rma_mh(x1i=[0, 0], x2i=[3, 2], t1i=[10, 10], t2i=[10, 10], measure="IRR")


def test_peto_without_information_is_a_clear_error():
    with pytest.raises(EffectSizeError, match="never occurs"):
        rma_peto(ai=[0, 0], bi=[10, 12], ci=[0, 0], di=[7, 8])
    with pytest.raises(EffectSizeError, match=r"rows 1\)"):
        rma_peto(ai=[3, 0], bi=[10, 0], ci=[2, 1], di=[7, 0])


def test_no_linalg_or_zero_division_errors_on_edge_cases():
    cases = [
        ([0.2, 0.2], [0.01, 0.01], None, "REML", "knha"),
        ([0.2, 0.4], [1e-9, 1e-9], None, "DL", "t"),
        ([0.2, 0.4, 0.3], [1e5, 2e5, 3e5], None, "PM", "z"),
        ([0.1, 0.3, 0.2, 0.5], [0.02, 0.01, 0.03, 0.02], [1, 1, 1, 1], "REML", "z"),
    ]
    for y, v, mods, method, test in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = rma(y, v, mods=mods, method=method, test=test)
        assert np.isfinite(res.beta).all()
