"""Conversions of reported statistics, pinned to esc / metafor / Morris (2008) examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evidence_synth.errors import EffectSizeError
from evidence_synth.extract import (
    cluster_d,
    d_from_b,
    d_from_chisq,
    d_from_p,
    d_from_t,
    d_to_logor,
    d_to_r,
    dppc2,
    escalc,
    logor_to_d,
    partial_r_from_t,
    r_to_d,
    semipartial_r_from_t,
    wwc_cluster_correction,
)


def test_d_from_t_esc_example():
    # esc::esc_t(t = 3.3, grp1n = 100, grp2n = 150): d 0.4260, SE 0.1305, var 0.0170
    res = d_from_t(3.3, 100, 150)
    assert round(res.yi, 4) == 0.4260
    assert round(res.sei, 4) == 0.1305
    assert round(res.vi, 4) == 0.0170
    assert res.measure == "SMD"
    assert res.formula.startswith("d_from_t")
    assert res.inputs == {"t": 3.3, "n1": 100, "n2": 150, "correct": False}


def test_d_from_p_esc_example():
    # esc::esc_t(p = 0.03, grp1n = 100, grp2n = 150): d 0.2818, SE 0.1297
    res = d_from_p(0.03, 100, 150)
    assert round(res.yi, 4) == 0.2818
    assert round(res.sei, 4) == 0.1297
    neg = d_from_p(0.03, 100, 150, direction="negative")
    assert neg.yi == pytest.approx(-res.yi)
    assert neg.extra["t"] < 0


def test_d_from_b_esc_example():
    # esc::esc_B(3.3, 5, 100, 150): d 0.6962, SE 0.1328, var 0.0176
    res = d_from_b(3.3, 5, 100, 150)
    assert round(res.yi, 4) == 0.6962
    assert round(res.sei, 4) == 0.1328
    assert round(res.vi, 4) == 0.0176


def test_d_from_chisq_esc_example():
    # esc::esc_chisq(chisq = 9.9, totaln = 100): d 0.6630, SE 0.2107, var 0.0444
    res = d_from_chisq(9.9, 100)
    assert round(res.yi, 4) == 0.6630
    assert round(res.sei, 4) == 0.2107
    assert round(res.vi, 4) == 0.0444


def test_corrected_d_from_t_equals_escalc_smd_ls2():
    res = d_from_t(2.0, 12, 15, correct=True)
    smd = escalc("SMD", ti=2.0, n1i=12, n2i=15, vtype="LS2")
    assert res.yi == pytest.approx(smd["yi"][0])
    assert res.vi == pytest.approx(smd["vi"][0])


def test_partial_and_semipartial_match_escalc():
    # Aloe & Thompson (2013) first study as in metafor's tests: PCOR 0.3012 (0.0039), SPCOR 0.2754
    pr = partial_r_from_t(4.61, 218, 4)
    assert (round(pr.yi, 4), round(pr.vi, 4)) == (0.3012, 0.0039)
    sp = semipartial_r_from_t(4.61, 218, 4, 0.240)
    assert (round(sp.yi, 4), round(sp.vi, 4)) == (0.2754, 0.0033)
    assert pr.measure == "PCOR" and sp.measure == "SPCOR"


MORRIS_T = {
    "m_pre_t": [30.6, 23.5, 0.5, 53.4, 35.6],
    "m_post_t": [38.5, 26.8, 0.7, 75.9, 36.0],
    "sd_pre_t": [15.0, 3.1, 0.1, 14.5, 4.7],
    "n_t": [20, 50, 9, 10, 14],
}
MORRIS_C = {
    "m_pre_c": [23.1, 24.9, 0.6, 55.7, 34.8],
    "m_post_c": [19.7, 25.3, 0.6, 60.7, 33.4],
    "sd_pre_c": [13.8, 4.1, 0.2, 17.3, 3.1],
    "n_c": [20, 42, 9, 11, 14],
}
MORRIS_R = [0.47, 0.64, 0.77, 0.89, 0.44]


def test_dppc2_morris_2008_table_5():
    # Data: Morris (2008, Table 2; Carlson & Schmidt 1999) as given on metafor's
    # analyses:morris2008 page, which states that the pooled-SD estimates equal Morris'
    # Table 5 d_ppc2 column; the page prints study 5 as 0.44.
    res = dppc2(**MORRIS_T, **MORRIS_C, r=MORRIS_R)
    assert round(float(res.yi[4]), 2) == 0.44
    assert res.yi.shape == (5,)
    assert np.all(res.vi > 0)
    # variance formula (Morris 2008, eq. 25) evaluated directly for study 1
    nt = nc = 20
    d = res.yi[0]
    cp = 1 - 3 / (4 * (nt + nc - 2) - 1)
    h = (nt + nc) / (nt * nc)
    v = 2 * cp**2 * (1 - 0.47) * h * (38 / 36) * (1 + d**2 / (2 * (1 - 0.47) * h)) - d**2
    assert res.vi[0] == pytest.approx(v)


def test_cluster_d_reduces_to_ordinary_d_without_clustering():
    base = d_from_t(2.5, 40, 40)
    res = cluster_d(base.yi, 40, 40, cluster_size=10, icc=0.0)
    assert res.yi == pytest.approx(base.yi)
    # with rho = 0, Hedges' (2007) variance is 1/n1 + 1/n2 + d^2 / (2 (N - 2))
    assert res.vi == pytest.approx(1 / 40 + 1 / 40 + base.yi**2 / (2 * 78))
    single = cluster_d(base.yi, 40, 40, cluster_size=1, icc=0.3)
    assert single.yi == pytest.approx(base.yi)


def test_cluster_d_hedges_2007_formula():
    # Hedges (2007, eqs. 16 and 18) for N = 100, n = 10, rho = 0.2, d = 0.5
    res = cluster_d(0.5, 50, 50, cluster_size=10, icc=0.2)
    n_tot, n, rho = 100, 10, 0.2
    dt = 0.5 * math.sqrt(1 - 2 * (n - 1) * rho / (n_tot - 2))
    num = (n_tot - 2) * (1 - rho) ** 2 + n * (n_tot - 2 * n) * rho**2
    num += 2 * (n_tot - 2 * n) * rho * (1 - rho)
    v = (100 / 2500) * (1 + (n - 1) * rho) + dt**2 * num / (
        2 * (n_tot - 2) * ((n_tot - 2) - 2 * (n - 1) * rho)
    )
    assert res.yi == pytest.approx(dt)
    assert res.vi == pytest.approx(v)
    assert res.vi > d_from_t(0.5 / math.sqrt(1 / 50 + 1 / 50), 50, 50).vi


def test_wwc_cluster_correction_shrinks_significance():
    res = wwc_cluster_correction(0.5, 50, 50, n_clusters=10, icc=0.2, t=2.5)
    assert res.extra["cluster_size"] == pytest.approx(10)
    assert abs(res.extra["t_adjusted"]) < 2.5
    assert res.extra["p_adjusted"] > 0.05
    no_icc = wwc_cluster_correction(0.5, 50, 50, n_clusters=10, icc=0.0, t=2.5)
    assert no_icc.extra["t_adjusted"] == pytest.approx(2.5)
    assert no_icc.extra["df"] == pytest.approx(98)
    from_p = wwc_cluster_correction(0.5, 50, 50, n_clusters=10, icc=0.2, p=0.0140)
    assert from_p.extra["t_adjusted"] > 0


def test_d_logor_r_round_trips():
    lor = d_to_logor(0.5, 0.0205)
    assert lor.yi == pytest.approx(0.5 * math.pi / math.sqrt(3))
    assert lor.vi == pytest.approx(0.0205 * math.pi**2 / 3)
    back = logor_to_d(lor.yi, lor.vi)
    assert back.yi == pytest.approx(0.5) and back.vi == pytest.approx(0.0205)
    # escalc's D2ORL/OR2DL use the same factor
    assert escalc("OR2DL", ai=135, bi=15, ci=40, di=10)["yi"][0] == pytest.approx(
        logor_to_d(escalc("OR", ai=135, bi=15, ci=40, di=10)["yi"][0], 1.0).yi
    )
    r = d_to_r(0.5, 0.0205)
    assert r.yi == pytest.approx(0.5 / math.sqrt(0.25 + 4))
    d = r_to_d(r.yi, r.vi)
    assert d.yi == pytest.approx(0.5) and d.vi == pytest.approx(0.0205)
    unequal = d_to_r(0.5, 0.0205, 30, 70)
    a = 100**2 / (30 * 70)
    assert unequal.yi == pytest.approx(0.5 / math.sqrt(0.25 + a))
    assert unequal.vi == pytest.approx(a**2 * 0.0205 / (0.25 + a) ** 3)


def test_arrays_and_to_frame():
    res = d_from_t([1.0, 2.0, 3.0], 20, [20, 25, 30])
    frame = res.to_frame()
    assert list(frame.columns) == ["yi", "vi", "measure", "formula"]
    assert len(frame) == 3
    assert isinstance(res.yi, np.ndarray)


def test_conversion_bad_inputs_collected():
    with pytest.raises(EffectSizeError) as info:
        d_from_t([1, 2, 3], [10, 1, 5], [10, 10, -1])
    problems = info.value.problems
    assert list(zip(problems["row"], problems["argument"], strict=True)) == [
        (1, "n1"), (2, "n2"),
    ]  # fmt: skip
    with pytest.raises(EffectSizeError, match="row 0, argument 'p'"):
        d_from_p([0.0, 0.5], 10, 10)
    with pytest.raises(EffectSizeError, match="row 0, argument 'p'"):
        d_from_p(1.2, 10, 10)
    with pytest.raises(EffectSizeError, match=r"'n2'.*length"):
        d_from_t([1, 2, 3], [10, 10, 10], [10, 10])
    with pytest.raises(EffectSizeError, match="argument 'direction'"):
        d_from_p(0.04, 10, 10, direction="up")
    with pytest.raises(EffectSizeError, match="argument 'sdy'"):
        d_from_b(1.0, 0.0, 10, 10)
    with pytest.raises(EffectSizeError, match="argument 'icc'"):
        cluster_d(0.3, 20, 20, cluster_size=5, icc=1.2)
    with pytest.raises(EffectSizeError, match="argument 'r'"):
        r_to_d(1.0, 0.01)
    with pytest.raises(EffectSizeError, match="argument 'sd_pre_t'"):
        dppc2(1, 2, -1, 10, 1, 2, 1, 10, r=0.5)
