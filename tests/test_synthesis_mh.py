"""Mantel-Haenszel and Peto against published metafor values."""

from __future__ import annotations

import numpy as np
import pytest

from evidence_synth.errors import EffectSizeError
from evidence_synth.extract import escalc
from evidence_synth.synthesis import rma_mh, rma_peto

TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]

# Rothman, Greenland & Lash (2008), Table 15-1 (metafor test_analysis_example_rothman2008)
T15_1 = {"ai": [8, 22], "bi": [98, 76], "ci": [5, 16], "di": [115, 69]}
# Table 15-5 of the same chapter
T15_5 = {"ai": [3, 1], "bi": [9, 3], "ci": [104, 5], "di": [1059, 86]}


def r4(x) -> float:
    return round(float(np.asarray(x).ravel()[0]), 4)


def test_mh_risk_difference_rothman():
    res = rma_mh(**T15_1, measure="RD", level=90)
    assert (r4(res.beta), r4(res.ci_lb), r4(res.ci_ub)) == (0.0349, -0.0176, 0.0874)
    assert round(res.QE, 4) == 0.0017
    assert round(res.QEp, 4) == 0.9669


def test_mh_risk_ratio_rothman():
    res = rma_mh(**T15_1, measure="RR", level=90)
    assert (r4(res.beta), r4(res.ci_lb), r4(res.ci_ub)) == (0.2818, -0.1442, 0.7078)
    assert (round(res.QE, 4), round(res.QEp, 4)) == (0.4472, 0.5037)
    ratios = res.predict(transf=np.exp).iloc[0]
    assert [round(ratios[c], 4) for c in ("pred", "ci_lb", "ci_ub")] == [1.3256, 0.8658, 2.0296]


def test_mh_odds_ratio_rothman_15_1():
    res = rma_mh(**T15_1, measure="OR", correct=False, level=90)
    assert (r4(res.beta), r4(res.ci_lb), r4(res.ci_ub)) == (0.3387, -0.1731, 0.8505)
    assert (round(res.QE, 4), round(res.QEp, 4)) == (0.3474, 0.5556)
    t = {k: round(v, 4) for k, v in res.tests.items()}
    # Breslow-Day BD 0.3490 (p 0.5547) from metafor 3.8 (not in the published table)
    assert t == {"CO": 1.1976, "COp": 0.2738, "MH": 1.1914, "MHp": 0.2750,
                 "BD": 0.3490, "BDp": 0.5547, "TA": 0.3489, "TAp": 0.5547}  # fmt: skip


def test_mh_odds_ratio_rothman_15_5():
    res = rma_mh(**T15_5, measure="OR", correct=False, level=90)
    assert (r4(res.beta), r4(res.ci_lb), r4(res.ci_ub)) == (1.3300, 0.3579, 2.3021)
    assert (round(res.QE, 4), round(res.QEp, 4)) == (0.1378, 0.7105)
    t = {k: round(v, 4) for k, v in res.tests.items()}
    assert t == {"CO": 5.8248, "COp": 0.0158, "MH": 5.8092, "MHp": 0.0159,
                 "BD": 0.1391, "BDp": 0.7092, "TA": 0.1391, "TAp": 0.7092}  # fmt: skip
    ors = res.predict(transf=np.exp).iloc[0]
    assert [round(ors[c], 4) for c in ("pred", "ci_lb", "ci_ub")] == [3.7812, 1.4304, 9.9954]


def test_mh_continuity_corrected_test_is_smaller():
    plain = rma_mh(**T15_5, correct=False)
    corrected = rma_mh(**T15_5)
    assert corrected.tests["MH"] < plain.tests["MH"]


def test_peto_bcg_matches_metan():
    # metafor test "Comparing rma.peto() against metan with 'dat.bcg'" (Stata metan, peto)
    res = rma_peto(TPOS, TNEG, CPOS, CNEG)
    assert round(res.beta[0], 3) == -0.474
    assert (round(res.ci_lb[0], 3), round(res.ci_ub[0], 3)) == (-0.554, -0.395)
    assert round(res.zval[0], 2) == -11.67
    assert round(res.QE, 2) == 167.73
    pred = res.predict(transf=np.exp).iloc[0]
    assert [round(pred[c], 3) for c in ("pred", "ci_lb", "ci_ub")] == [0.622, 0.575, 0.674]
    assert res.model == "rma_peto"


def test_peto_leave_first_out_bcg():
    # metafor test_misc_leave1out: leave1out(rma.peto(dat.bcg))[1]:
    # estimate -0.4722, se 0.0408, z -11.5791, CI -0.5521 to -0.3923, Q 167.2005
    res = rma_peto(TPOS[1:], TNEG[1:], CPOS[1:], CNEG[1:])
    assert (r4(res.beta), r4(res.se), r4(res.zval)) == (-0.4722, 0.0408, -11.5791)
    assert (r4(res.ci_lb), r4(res.ci_ub)) == (-0.5521, -0.3923)
    assert round(res.QE, 4) == 167.2005


def test_mh_weights_and_per_study_estimates_bcg():
    res = rma_mh(TPOS, TNEG, CPOS, CNEG, measure="RR")
    es = escalc("RR", ai=TPOS, bi=TNEG, ci=CPOS, di=CNEG)
    assert np.allclose(res.yi, es["yi"])
    assert res.weights.sum() == pytest.approx(100)
    # the MH log RR is the weighted mean of the study risk ratios with weights ci*n1i/ni
    assert np.exp(res.beta[0]) == pytest.approx(np.sum(np.exp(res.yi) * res.weights / 100))


def test_mh_bad_inputs():
    with pytest.raises(EffectSizeError, match="measure"):
        rma_mh(**T15_1, measure="SMD")
    with pytest.raises(EffectSizeError, match="row 1, argument 'bi'"):
        rma_mh(ai=[1, 2], bi=[3, -4], ci=[1, 1], di=[2, 2])
    with pytest.raises(EffectSizeError, match="'di'"):
        rma_peto(ai=[1], bi=[2], ci=[3])
