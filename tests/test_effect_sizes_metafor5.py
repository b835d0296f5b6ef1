"""escalc measures added for metafor 5.x parity (issue 21), each pinned to a published or
metafor-computed value; the source is named on each block."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import gammaln

from evidence_synth.effects import escalc
from evidence_synth.errors import EffectSizeError


def r4(values) -> list[float]:
    return [round(float(v), 4) for v in np.atleast_1d(values)]


NORMAND4 = {"n1i": [155, 31, 75, 18], "m1i": [55, 27, 64, 66], "sd1i": [47, 7, 17, 20],
            "n2i": [156, 32, 71, 18], "m2i": [75, 29, 119, 137], "sd2i": [64, 4, 29, 48]}
PREPOST = {"m1i": 26, "m2i": 22, "sd1i": np.sqrt(30), "sd2i": np.sqrt(20), "ni": 60, "ri": 0.7}


# ---------------------------------------------------------------- values quoted in issue 21


def test_issue_21_reference_values_of_metafor_5_1():
    # dat.normand1999 rows 1-4 (metafor 5.1): ROM with the Lajeunesse (2015) correction
    rom = escalc("ROM", **NORMAND4)
    assert r4(rom["yi"]) == [-0.3101, -0.0707, -0.6202, -0.7312]
    assert r4(escalc("ROM", correct=False, **NORMAND4)["yi"]) == [-0.3102, -0.0715, -0.6202,
                                                                   -0.7303]
    assert r4(escalc("SMDH", **NORMAND4)["vi"]) == [0.0132, 0.0674, 0.0515, 0.1961]
    assert r4(escalc("SMCRH", **PREPOST)["vi"]) == [0.0133]
    # signed two-sided p-value of a paired t-test
    assert r4(escalc("SMCC", pi=-0.018, ni=50)["yi"]) == [-0.3408]


def test_d_t_and_p_give_the_same_standardised_change():
    d = escalc("SMCC", di=0.5, ni=30)
    t = escalc("SMCC", ti=0.5 * np.sqrt(30), ni=30)
    p = escalc("SMCC", pi=2 * stats.t.sf(0.5 * np.sqrt(30), 29), ni=30)
    for other in (t, p):
        assert other["yi"][0] == pytest.approx(d["yi"][0], rel=1e-10)
        assert other["vi"][0] == pytest.approx(d["vi"][0], rel=1e-10)


# ---------------------------------------------------------------- metafor's own tests


def test_variability_and_cv_ratios_normand():
    # metafor test_misc_escalc, dat.normand1999 row 1
    row = {k: v[:1] for k, v in NORMAND4.items()}
    cvr = escalc("CVR", **row)
    assert (r4(cvr["yi"]), r4(cvr["vi"])) == ([0.0014], [0.0159])
    vr = escalc("VR", sd1i=row["sd1i"], sd2i=row["sd2i"], n1i=row["n1i"], n2i=row["n2i"])
    assert (r4(vr["yi"]), r4(vr["vi"])) == ([-0.3087], [0.0065])


def test_point_biserial_and_biserial_correlations():
    # metafor test_misc_escalc: y split at the median of x
    x = np.array([20, 31, 18, 22, 30, 16, 28, 24, 23, 27, 1, 4, 8, 15, 9, 11, 11, 6, 8, 4])
    y = np.array([3, 3, 4, 5, 6, 4, 7, 6, 5, 4, 3, 5, 1, 5, 2, 4, 6, 4, 2, 4])
    hi = x > np.median(x)
    g = {"m1i": y[hi].mean(), "sd1i": y[hi].std(ddof=1), "n1i": hi.sum(),
         "m2i": y[~hi].mean(), "sd2i": y[~hi].std(ddof=1), "n2i": (~hi).sum()}
    rpb, rbis = escalc("RPB", **g), escalc("RBIS", **g)
    assert (r4(rpb["yi"]), r4(rpb["vi"])) == ([0.3685], [0.0384])
    assert (r4(rbis["yi"]), r4(rbis["vi"])) == ([0.4619], [0.0570])
    # metafor 5.x's ZPB/ZBIS: Fisher z with the delta-method variance
    zpb, zbis = escalc("ZPB", **g), escalc("ZBIS", **g)
    assert zpb["yi"][0] == pytest.approx(np.arctanh(rpb["yi"][0]))
    assert zpb["vi"][0] == pytest.approx(rpb["vi"][0] / (1 - rpb["yi"][0] ** 2) ** 2)
    assert zbis["yi"][0] == pytest.approx(np.arctanh(rbis["yi"][0]))
    # and from Cohen's d (metafor >= 4.0)
    d = (g["m1i"] - g["m2i"]) / np.sqrt(((g["n1i"] - 1) * g["sd1i"] ** 2
                                         + (g["n2i"] - 1) * g["sd2i"] ** 2) / 18)
    from_d = escalc("RPB", di=d, n1i=g["n1i"], n2i=g["n2i"])
    assert from_d["yi"][0] == pytest.approx(rpb["yi"][0], rel=1e-12)


def test_single_group_and_change_measures_metafor_tests():
    # metafor test_misc_escalc
    assert (r4(escalc("PAS", xi=10, ni=20)["yi"]), r4(escalc("PAS", xi=10, ni=20)["vi"])) == (
        [0.7854], [0.0125])
    for measure, yi in (("IRS", 0.7071), ("IRFT", 0.7244)):
        out = escalc(measure, xi=10, ti=20)
        assert (r4(out["yi"]), r4(out["vi"])) == ([yi], [0.0125])
    romc = escalc("ROMC", **PREPOST)
    assert (r4(romc["yi"]), r4(romc["vi"])) == ([0.1671], [0.0004])
    irsd = escalc("IRSD", x1i=10, x2i=6, t1i=20, t2i=20)
    assert (r4(irsd["yi"]), r4(irsd["vi"])) == ([0.1594], [0.0250])
    for measure, yi, vi in (("MNLN", 2.3026, 0.0020), ("CVLN", -1.5831, 0.0283)):
        out = escalc(measure, mi=10, sdi=2, ni=20)
        assert (r4(out["yi"]), r4(out["vi"])) == ([yi], [vi])
    sdln = escalc("SDLN", sdi=2, ni=20)
    assert (r4(sdln["yi"]), r4(sdln["vi"])) == ([0.7195], [0.0263])


@pytest.mark.parametrize(("measure", "yi", "vi"), [
    # metafor test_misc_escalc: ai=20, bi=10, ci=5, di=20
    ("MPRD", 0.0909, 0.0048), ("MPRR", 0.1823, 0.0200), ("MPOR", 0.3646, 0.0782),
    ("MPORC", 0.6931, 0.3000), ("MPPETO", 0.6667, 0.2667),
])
def test_matched_pairs(measure, yi, vi):
    out = escalc(measure, ai=20, bi=10, ci=5, di=20)
    assert (r4(out["yi"]), r4(out["vi"])) == ([yi], [vi])


def test_freeman_tukey_miller_1978():
    # metafor test_analysis_example_miller1978: Miller (1978, p. 138), whose transformation
    # is twice metafor's
    out = escalc("PFT", xi=[3, 6, 10, 1], ni=[11, 17, 21, 6])
    assert r4(2 * out["yi"]) == [1.1391, 1.2888, 1.5253, 0.9515]
    assert r4(4 * out["vi"]) == [0.0870, 0.0571, 0.0465, 0.1538]


def test_person_time_rothman_table_15_2():
    # Rothman, Greenland & Lash (2008) Table 15-2 via metafor test_analysis_example_rothman2008
    x1i, x2i = [32, 104, 206, 186, 102], [2, 12, 28, 28, 31]
    t1i = np.array([52407, 43248, 28612, 12663, 5317]) / 10000
    t2i = np.array([18790, 10673, 5710, 2585, 1462]) / 10000
    ird = escalc("IRD", x1i=x1i, x2i=x2i, t1i=t1i, t2i=t2i)
    assert r4(ird["yi"]) == [5.0417, 12.8040, 22.9610, 38.5674, -20.2008]
    assert r4(ird["vi"]) == [1.7316, 16.0947, 111.0423, 535.0172, 1811.1307]
    irr = escalc("IRR", x1i=x1i, x2i=x2i, t1i=t1i, t2i=t2i)
    assert r4(np.exp(irr["yi"])) == [5.7366, 2.1388, 1.4682, 1.3561, 0.9047]
    lower = np.exp(irr["yi"] - stats.norm.isf(0.025) * np.sqrt(irr["vi"]))
    assert r4(lower) == [1.3748, 1.1767, 0.9894, 0.9115, 0.6053]


# ---------------------------------------------------------------- computed by metafor 3.8-1


def test_single_proportions_metafor_38():
    # metafor 3.8-1 (Debian r-cran-metafor), Miller (1978) counts
    xi, ni = [3, 6, 10, 1], [11, 17, 21, 6]
    assert r4(escalc("PR", xi=xi, ni=ni)["vi"]) == [0.0180, 0.0134, 0.0119, 0.0231]
    assert r4(escalc("PR", xi=xi, ni=ni, vtype="UB")["vi"]) == [0.0198, 0.0143, 0.0125, 0.0278]
    assert r4(escalc("PR", xi=xi, ni=ni, vtype="AV")["vi"]) == [0.0210, 0.0136, 0.0110, 0.0386]
    pln = escalc("PLN", xi=xi, ni=ni)
    assert r4(pln["yi"]) == [-1.2993, -1.0415, -0.7419, -1.7918]
    assert r4(pln["vi"]) == [0.2424, 0.1078, 0.0524, 0.8333]
    plo = escalc("PLO", xi=xi, mi=[8, 11, 11, 5])
    assert r4(plo["yi"]) == [-0.9808, -0.6061, -0.0953, -1.6094]
    assert r4(plo["vi"]) == [0.4583, 0.2576, 0.1909, 1.2000]
    assert r4(escalc("PLO", xi=xi, ni=ni, vtype="AV")["vi"]) == [0.3929, 0.2542, 0.2058, 0.7202]


def test_rates_means_alpha_and_pairs_metafor_38():
    # metafor 3.8-1; smokers of Rothman Table 15-2, dat.normand1999 rows 1-4
    t1i = np.array([52407, 43248, 28612, 12663, 5317]) / 10000
    ir = escalc("IR", xi=[32, 104, 206, 186, 102], ti=t1i)
    assert r4(ir["vi"]) == [1.1651, 5.5603, 25.1635, 115.9951, 360.8003]
    irln = escalc("IRLN", xi=[32, 104, 206, 186, 102], ti=t1i)
    assert r4(irln["yi"]) == [1.8093, 3.1800, 4.2766, 4.9896, 5.2566]
    n = NORMAND4
    mn = escalc("MN", mi=n["m1i"], sdi=n["sd1i"], ni=n["n1i"])
    assert r4(mn["vi"]) == [14.2516, 1.5806, 3.8533, 22.2222]
    smn = escalc("SMN", mi=n["m1i"], sdi=n["sd1i"], ni=n["n1i"])
    assert r4(smn["yi"]) == [1.1645, 3.7598, 3.7264, 3.1519]
    assert r4(smn["vi"]) == [0.0108, 0.2603, 0.1059, 0.3315]
    smd1 = escalc("SMD1", m1i=n["m1i"], m2i=n["m2i"], sd2i=n["sd2i"], n1i=n["n1i"],
                  n2i=n["n2i"])
    assert r4(smd1["yi"]) == [-0.3110, -0.4878, -1.8761, -1.4128]
    assert r4(smd1["vi"]) == [0.0132, 0.0672, 0.0522, 0.1666]
    alpha = {"ai": [0.8, 0.7, 0.9], "mi": [10, 5, 20], "ni": [100, 50, 200]}
    assert r4(escalc("ARAW", **alpha)["vi"]) == [0.0009, 0.0047, 0.0001]
    assert r4(escalc("AHW", **alpha)["yi"]) == [0.4152, 0.3306, 0.5358]
    assert r4(escalc("ABT", **alpha)["vi"]) == [0.0227, 0.0521, 0.0106]
    mporm = escalc("MPORM", ai=20, bi=10, ci=5, di=20, ri=0.5)
    assert (r4(mporm["yi"]), r4(mporm["vi"])) == ([2.0794], [0.2020])
    vrc = escalc("VRC", sd1i=np.sqrt(30), sd2i=np.sqrt(20), ni=60, ri=0.7)
    assert (r4(vrc["yi"]), r4(vrc["vi"])) == ([0.2027], [0.0086])
    cvrc = escalc("CVRC", **PREPOST)
    assert (r4(cvrc["yi"]), r4(cvrc["vi"])) == ([0.0357], [0.0091])


def test_ucor_large_samples_are_finite_and_match_metafor():
    # scipy's hyp2f1 is NaN here; metafor 3.8-1 (GSL) gives these values
    out = escalc("UCOR", ri=[0.3, 0.3, 0.3], ni=[1000, 5000, 100000], vtype="UB")
    assert out["yi"].to_numpy() == pytest.approx([0.300137054657, 0.300027322117,
                                                  0.300001365055], abs=1e-12)
    assert out["vi"].to_numpy() == pytest.approx([0.000831011843, 0.000165736174,
                                                  0.000008281290], abs=1e-12)


# ---------------------------------------------------------------- metafor 5.x only


def test_pooled_sd_standardised_change_follows_its_formulas():
    # Cousineau (2020, eq. 2) and Bonett (2008a, eq. 10) as metafor 5.x computes them
    sdp = np.sqrt((30 + 20) / 2)
    m = 2 * (60 - 1) / (1 + 0.7**2)
    c = np.exp(gammaln(m / 2) - np.log(np.sqrt(m / 2)) - gammaln((m - 1) / 2))  # Hedges' c(m)
    yi = c * 4 / sdp
    smcrp = escalc("SMCRP", **PREPOST)
    assert smcrp["yi"][0] == pytest.approx(yi)
    assert smcrp["vi"][0] == pytest.approx(2 * 0.3 / 60 + yi**2 * (1 + 0.49) / 240)
    smcrph = escalc("SMCRPH", **PREPOST)
    sddiff2 = 30 + 20 - 2 * 0.7 * np.sqrt(600)
    quartic = 30**2 + 20**2 + 2 * 0.49 * 600
    assert smcrph["vi"][0] == pytest.approx(sddiff2 / (sdp**2 * 59)
                                            + yi**2 * quartic / (8 * sdp**4 * 59))


def test_r_squared_from_r2_f_or_p():
    # R^2 = m F / (m F + n - m - 1); Kendall & Stuart's large-sample variance
    f, m, n = 6.0, 3, 50
    r2 = m * f / (m * f + n - m - 1)
    from_f = escalc("R2", fi=f, mi=m, ni=n)
    from_p = escalc("R2", pi=stats.f.sf(f, m, n - m - 1), mi=m, ni=n)
    direct = escalc("R2", r2i=r2, mi=m, ni=n)
    for out in (from_f, from_p):
        assert out["yi"][0] == pytest.approx(r2, rel=1e-10)
    assert direct["vi"][0] == pytest.approx(4 * r2 * (1 - r2) ** 2 / n)
    ls2 = escalc("R2", r2i=r2, mi=m, ni=n, vtype="LS2")["vi"][0]
    assert ls2 == pytest.approx(4 * r2 * (1 - r2) ** 2 * (n - m - 1) ** 2 / ((n**2 - 1) * (n + 3)))
    zr2 = escalc("ZR2", r2i=r2, mi=m, ni=n)
    assert (zr2["yi"][0], zr2["vi"][0]) == (pytest.approx(np.arctanh(np.sqrt(r2))), 1 / n)


def test_new_families_check_their_inputs_by_row():
    with pytest.raises(EffectSizeError, match="row 1, argument 'xi'"):
        escalc("PR", xi=[3, 12], ni=[10, 10])
    with pytest.raises(EffectSizeError, match="row 0, argument 't1i'"):
        escalc("IRR", x1i=[3], x2i=[4], t1i=[0], t2i=[10])
    with pytest.raises(EffectSizeError, match="row 0, argument 'mi'"):
        escalc("ARAW", ai=0.8, mi=1, ni=100)
    with pytest.raises(EffectSizeError, match="'ri'"):
        escalc("MPORM", ai=20, bi=10, ci=5, di=20)
    with pytest.raises(EffectSizeError, match="row 0, argument 'mi'"):
        escalc("PCOR", ti=2.0, ni=50, mi=0)
    with pytest.raises(EffectSizeError, match="'m1i'"):
        escalc("SMCC", ni=30, ri=0.5, sd1i=1, sd2i=1, m2i=0)


def test_zero_counts_get_the_continuity_correction_and_drop00():
    out = escalc("IRR", x1i=[0, 5], x2i=[3, 0], t1i=100, t2i=100)
    assert out["yi"].to_numpy() == pytest.approx([np.log(0.5 / 3.5), np.log(5.5 / 0.5)])
    none = escalc("IRR", x1i=[0, 5], x2i=[0, 2], t1i=100, t2i=100, drop00=True)
    assert np.isnan(none["yi"][0]) and not np.isnan(none["yi"][1])
    pr = escalc("PR", xi=[0, 5], ni=[10, 10])
    assert pr["yi"].to_numpy() == pytest.approx([0.5 / 11, 0.5])
    assert escalc("PAS", xi=0, ni=10)["yi"][0] == 0.0  # add = 0 by default
