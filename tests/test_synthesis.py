"""rma() against published metafor output (each test names its source)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from evidence_synth.errors import DataQualityWarning, EffectSizeError, EvidenceSynthError
from evidence_synth.extract import escalc
from evidence_synth.synthesis import MetaResult, rma

TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
ABLAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]


@pytest.fixture(scope="module")
def bcg() -> pd.DataFrame:
    dat = escalc("RR", ai=TPOS, bi=TNEG, ci=CPOS, di=CNEG)
    dat["ablat"] = ABLAT
    return dat


def r4(x) -> float:
    return round(float(np.asarray(x).ravel()[0]), 4)


def test_reml_bcg_matches_metafor(bcg):
    # metafor README / ?rma.uni: rma(yi, vi, data=dat) for dat.bcg log risk ratios
    res = rma(bcg["yi"], bcg["vi"])
    assert isinstance(res, MetaResult)
    assert r4(res.beta) == -0.7145
    assert r4(res.se) == 0.1798
    assert r4(res.zval) == -3.9744
    assert (r4(res.ci_lb), r4(res.ci_ub)) == (-1.0669, -0.3622)
    assert round(res.tau2, 4) == 0.3132
    assert round(res.se_tau2, 4) == 0.1664
    assert round(res.tau, 4) == 0.5597
    assert round(res.I2, 2) == 92.22
    assert round(res.H2, 2) == 12.86
    assert round(res.QE, 4) == 152.2330
    assert res.QEp < 1e-4
    assert (res.k, res.p) == (13, 1)


def test_dl_tau2_bcg(bcg):
    # DL tau^2 0.3088 for dat.bcg log RR (DESIGN.md section 7; metafor rma(method="DL"))
    res = rma(bcg["yi"], bcg["vi"], method="DL")
    assert round(res.tau2, 4) == 0.3088


def test_knapp_hartung_bcg_matches_metafor_readme(bcg):
    # metafor README: rma(yi, vi, data=dat, test="knha"): se 0.1808, t -3.9522, df 12,
    # p 0.0019, CI -1.1084 to -0.3206; predict(transf=exp): 0.49 [0.33, 0.73], PI [0.14, 1.76]
    res = rma(bcg["yi"], bcg["vi"], test="knha")
    assert r4(res.beta) == -0.7145
    assert r4(res.se) == 0.1808
    assert r4(res.tval) == -3.9522
    assert r4(res.pval) == 0.0019
    assert (r4(res.ci_lb), r4(res.ci_ub)) == (-1.1084, -0.3206)
    assert res.ddf == 12
    pred = res.predict(transf=np.exp).round(2).iloc[0]
    assert pred.to_dict() == {"pred": 0.49, "ci_lb": 0.33, "ci_ub": 0.73, "pi_lb": 0.14,
                              "pi_ub": 1.76}  # fmt: skip
    # test="t" uses the t-distribution without the Knapp-Hartung scale factor
    t_only = rma(bcg["yi"], bcg["vi"], test="t")
    assert r4(t_only.se) == 0.1798


def test_meta_regression_ablat_matches_metafor(bcg):
    # metafor README / ?rma.uni: rma(yi, vi, mods = ~ ablat, data=dat)
    res = rma("yi", "vi", mods=["ablat"], data=bcg)
    assert res.coef_names == ("intrcpt", "ablat")
    assert [round(b, 4) for b in res.beta] == [0.2515, -0.0291]
    assert [round(s, 4) for s in res.se] == [0.2491, 0.0072]
    assert round(res.tau2, 4) == 0.0764
    assert round(res.se_tau2, 4) == 0.0591
    assert round(res.I2, 2) == 68.39
    assert round(res.H2, 2) == 3.16
    # metafor >= 3.0 prints R^2 = 75.62% (older documentation: 75.63%)
    assert round(res.R2, 2) == 75.62
    assert round(res.QE, 4) == 30.7331
    assert round(res.QEp, 4) == 0.0012
    assert round(res.QM, 4) == 16.3571


def test_meta_regression_knha_matches_metafor_readme(bcg):
    # metafor README: rma(yi, vi, mods = ~ ablat, data=dat, test="knha")
    res = rma(bcg["yi"], bcg["vi"], mods=bcg[["ablat"]], test="knha")
    assert [round(s, 4) for s in res.se] == [0.2839, 0.0082]
    assert [round(t, 4) for t in res.tval] == [0.8857, -3.5483]
    assert [round(p, 4) for p in res.pval] == [0.3948, 0.0046]
    assert [round(x, 4) for x in res.ci_lb] == [-0.3735, -0.0472]
    assert [round(x, 4) for x in res.ci_ub] == [0.8764, -0.0111]
    assert round(res.QM, 4) == 12.5905
    assert round(res.QMp, 4) == 0.0046
    assert res.QMdf == (1, 11.0)
    # metafor test_misc_list_rma: predict(res) of the z-test model, first rows
    pred = rma(bcg["yi"], bcg["vi"], mods=np.array(ABLAT)).predict()
    assert [round(x, 4) for x in pred["pred"][:3]] == [-1.0290, -1.3491, -0.9708]
    assert [round(x, 4) for x in pred["se"][:3]] == [0.1404, 0.2011, 0.1315]


# Viechtbauer (2005), examples 1 and 2, pp. 271-272
# (metafor test_analysis_example_viechtbauer2005)
VIECHTBAUER_1 = (
    [-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232],
    [0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040],
)
VIECHTBAUER_2 = (
    [0.100, -0.162, -0.090, -0.049, -0.046, -0.010, -0.431, -0.261, 0.134, 0.019, 0.175, 0.056,
     0.045, 0.103, 0.121, -0.482, 0.290, 0.342],
    [0.016, 0.015, 0.050, 0.050, 0.032, 0.052, 0.036, 0.024, 0.034, 0.033, 0.031, 0.034, 0.039,
     0.167, 0.134, 0.096, 0.016, 0.035],
)  # fmt: skip
METHODS = ["HS", "HE", "DL", "ML", "REML", "EB", "SJ"]


@pytest.mark.parametrize(
    ("data", "tau2", "i2", "h2", "se_tau2"),
    [
        (
            VIECHTBAUER_1,
            [0.2282, 0.1484, 0.2768, 0.1967, 0.2232, 0.192, 0.1992],
            [77.2284, 68.7988, 80.4447, 74.5098, 76.8399, 74.0511, 74.7545],
            [4.3914, 3.205, 5.1137, 3.9231, 4.3178, 3.8537, 3.9611],
            [0.1328, 0.1234, 0.1841, 0.1255, 0.1464, 0.133, 0.0979],
        ),
        (
            VIECHTBAUER_2,
            [0.0099, 0, 0.0126, 0.0132, 0.0157, 0.0104, 0.0248],
            [22.9266, 0, 27.5275, 28.4505, 32.0203, 23.7198, 42.6734],
            [1.2975, 1, 1.3798, 1.3976, 1.471, 1.311, 1.7444],
            [0.0138, 0.0217, 0.0159, 0.0151, 0.0167, 0.0156, 0.0118],
        ),
    ],
)
def test_tau2_estimators_viechtbauer_2005(data, tau2, i2, h2, se_tau2):
    yi, vi = data
    for j, method in enumerate(METHODS):
        res = rma(yi, vi, method=method)
        assert round(res.tau2, 4) == pytest.approx(tau2[j], abs=1e-9), method
        assert abs(res.I2 - i2[j]) < 5e-4, method
        assert abs(res.H2 - h2[j]) < 5e-4, method
        assert round(res.se_tau2, 4) == pytest.approx(se_tau2[j], abs=1e-9), method


def test_normand_table_ix_md(tmp_path):
    # Normand (1999, Table IX) via metafor test_analysis_example_normand1999
    n1 = np.array([155, 31, 75, 18, 8, 57, 34, 110, 60])
    m1 = np.array([55, 27, 64, 66, 14, 19, 52, 21, 30])
    s1 = np.array([47, 7, 17, 20, 8, 7, 45, 16, 27])
    n2 = np.array([156, 32, 71, 18, 13, 52, 33, 183, 52])
    m2 = np.array([75, 29, 119, 137, 18, 18, 41, 31, 23])
    s2 = np.array([64, 4, 29, 48, 11, 4, 34, 27, 20])
    sdp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    dat = escalc("MD", m1i=m1, sd1i=sdp, n1i=n1, m2i=m2, sd2i=sdp, n2i=n2)
    ee = rma(dat["yi"], dat["vi"], method="EE")
    assert (r4(ee.beta), r4(ee.ci_lb), r4(ee.ci_ub)) == (-3.4939, -5.0265, -1.9613)
    dl = rma(dat["yi"], dat["vi"], method="DL")
    assert (r4(dl.beta), r4(dl.ci_lb), r4(dl.ci_ub)) == (-14.0972, -24.4454, -3.7490)
    assert round(dl.tau2, 4) == 218.7216
    reml = rma(dat["yi"], dat["vi"])
    assert (r4(reml.beta), r4(reml.ci_lb), r4(reml.ci_ub)) == (-15.1217, -32.6716, 2.4282)
    assert round(reml.tau2, 4) == 685.1965


def test_other_estimators_run_and_agree_where_theory_says(bcg):
    pm = rma(bcg["yi"], bcg["vi"], method="PM")
    dlit = rma(bcg["yi"], bcg["vi"], method="DLIT")
    # iterated DL converges to the Paule-Mandel estimate (DerSimonian & Kacker 2007)
    assert dlit.tau2 == pytest.approx(pm.tau2, abs=1e-4)
    # PM solves Q(tau2) = k - 1
    w = 1 / (bcg["vi"] + pm.tau2)
    mu = np.sum(w * bcg["yi"]) / np.sum(w)
    assert np.sum(w * (bcg["yi"] - mu) ** 2) == pytest.approx(12, abs=1e-8)
    hsk = rma(bcg["yi"], bcg["vi"], method="HSk")
    hs = rma(bcg["yi"], bcg["vi"], method="HS")
    assert hsk.tau2 > hs.tau2
    genq = rma(bcg["yi"], bcg["vi"], method="GENQ", weights=1 / bcg["vi"])
    dl = rma(bcg["yi"], bcg["vi"], method="DL")
    assert genq.tau2 == pytest.approx(dl.tau2)  # GENQ with inverse-variance weights is DL
    fixed = rma(bcg["yi"], bcg["vi"], tau2=0.1)
    assert fixed.tau2 == 0.1 and np.isnan(fixed.se_tau2)


def test_equal_effects_model_bcg(bcg):
    res = rma(bcg["yi"], bcg["vi"], method="EE")
    w = 1 / bcg["vi"]
    assert res.beta[0] == pytest.approx(np.sum(w * bcg["yi"]) / np.sum(w))
    assert res.tau2 == 0
    assert abs(res.I2 - 100 * (res.QE - 12) / res.QE) < 1e-9
    assert "Equal-Effects Model" in res.summary()


def test_summary_html_frame_and_sei(bcg):
    res = rma(bcg["yi"], sei=np.sqrt(bcg["vi"]))
    text = res.summary()
    assert "Random-Effects Model (k = 13; tau^2 estimator: REML)" in text
    assert "0.3132 (SE = 0.1664)" in text
    assert "Q(df = 12) = 152.2330" in text
    frame = res.to_frame()
    assert list(frame.columns) == ["estimate", "se", "zval", "pval", "ci_lb", "ci_ub"]
    assert frame.index.tolist() == ["intrcpt"]
    assert "<table>" in res._repr_html_()
    assert set(res.fit_stats.index) == {"ll", "dev", "AIC", "BIC", "AICc"}


def test_missing_rows_dropped_with_warning(bcg):
    yi = bcg["yi"].copy()
    yi.iloc[0] = np.nan
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = rma(yi, bcg["vi"])
    assert res.k == 12
    assert any("rows 0" in str(w.message) for w in caught)


def test_rma_bad_inputs():
    with pytest.raises(EffectSizeError, match="row 1, argument 'vi'"):
        rma([0.1, 0.2, 0.3], [0.01, -0.02, 0.03])
    with pytest.raises(EffectSizeError, match="method"):
        rma([0.1, 0.2], [0.01, 0.02], method="XX")
    with pytest.raises(EffectSizeError, match="vi"):
        rma([0.1, 0.2, 0.3])
    with pytest.raises(EffectSizeError, match="length 3"):
        rma([0.1, 0.2, 0.3], [0.01, 0.02])
    with pytest.raises(EffectSizeError, match="control"):
        rma([0.1, 0.2, 0.3], [0.01, 0.02, 0.03], control={"bogus": 1})
    # as metafor: the moderator beyond k is dropped with a warning, then REML needs
    # p + 1 = 3 parameters from k = 2 studies
    with pytest.warns(DataQualityWarning, match="redundant predictors dropped: mods2"), \
            pytest.raises(EvidenceSynthError, match="3 parameters to estimate"):
        rma([0.1, 0.2], [0.01, 0.02], mods=np.array([[1, 2], [3, 4]]))
