"""Forest plots: ratio measures on a log axis, weights, heterogeneity, prediction interval.

The printed numbers are pinned to metafor 3.8-1 (Debian r-cran-metafor) on the BCG data,
odds ratios, REML: ``rma(yi, vi, data=escalc("OR", ai=tpos, bi=tneg, ci=cpos, di=cneg,
data=dat.bcg))``: estimate exp(-0.7452) = 0.47 [0.33, 0.68], prediction interval
[0.14, 1.57], Q(df = 12) = 163.1649, I^2 = 92.07%, tau^2 = 0.3378, weights 4.98% (Aronson
1948) ... 10.13% (TPT Madras 1980); Aronson's OR 0.39 [0.12, 1.26]. ``forest(res,
atransf=exp, showweights=TRUE)`` prints the same numbers.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from evidence_synth.extract import escalc
from evidence_synth.synthesis import forest_plot, rma, rma_mh, rma_peto
from evidence_synth.synthesis.forest import axis_label, heterogeneity_text

TPOS = [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27]
TNEG = [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886]
CPOS = [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29]
CNEG = [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825]
AUTHORS = ["Aronson, 1948", "Ferguson & Simes, 1949", "Rosenthal et al, 1960",
           "Hart & Sutherland, 1977", "Frimodt-Moller et al, 1973", "Stein & Aronson, 1953",
           "Vandiviere et al, 1973", "TPT Madras, 1980", "Coetzee & Berjak, 1968",
           "Rosenthal et al, 1961", "Comstock et al, 1974", "Comstock & Webster, 1969",
           "Comstock et al, 1976"]


def _texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts] + [t.get_text()
                                                                  for t in fig.texts]


@pytest.fixture(scope="module")
def bcg_or():
    dat = escalc("OR", ai=TPOS, bi=TNEG, ci=CPOS, di=CNEG)
    return rma(dat["yi"], dat["vi"], method="REML", slab=AUTHORS)


def test_odds_ratios_on_a_log_axis_with_metafors_numbers(bcg_or, tmp_path):
    png = tmp_path / "forest.png"
    fig = forest_plot(bcg_or, measure="OR", title="BCG and tuberculosis", path=png)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Odds ratio (log scale)"
    ticks = {t.get_text(): x for t, x in zip(ax.get_xticklabels(), ax.get_xticks(),
                                             strict=True)}
    assert ticks["1"] == 0.0 and ticks["0.5"] == pytest.approx(np.log(0.5))  # log axis
    null = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
    assert [seg[0][0] for c in null for seg in c.get_segments()] == [0.0]  # null line at OR 1
    texts = _texts(fig)
    for expected in ("Study", "Weight", "OR [95% CI]", "Aronson, 1948", "5.0%",
                     "0.39 [0.12, 1.26]", "TPT Madras, 1980", "10.1%", "1.01 [0.89, 1.15]",
                     "Random-effects model (REML)", "100%", "0.47 [0.33, 0.68]",
                     "Prediction interval", "[0.14, 1.57]", "BCG and tuberculosis"):
        assert expected in texts, expected
    assert "Heterogeneity: Q = 163.16, df = 12, p < 0.001; I\u00b2 = 92.1%, " \
           "\u03c4\u00b2 = 0.3378 (REML)" in texts
    weights = [t for t in texts if t.endswith("%") and t != "100%"]
    assert len(weights) == 13 and sum(float(w[:-1]) for w in weights) == pytest.approx(
        100, abs=0.65)  # each rounded to 0.1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_measure_names_the_axis(bcg_or):
    assert axis_label("OR", ratio=True) == "Odds ratio"
    assert axis_label("OR", ratio=False) == "Log odds ratio"
    assert axis_label("RR", ratio=True) == "Risk ratio"
    assert axis_label("SMD", ratio=False) == "Standardised mean difference (Hedges' g)"
    assert axis_label(None, ratio=False) == "Observed outcome"
    smd = escalc("SMD", m1i=[1.0, 1.2, 0.8], m2i=[0.5, 0.7, 0.6], sd1i=[1, 1, 1],
                 sd2i=[1, 1, 1], n1i=[40, 50, 60], n2i=[40, 50, 60])
    fig = forest_plot(rma(smd["yi"], smd["vi"]), measure="SMD")
    assert fig.axes[0].get_xlabel() == "Standardised mean difference (Hedges' g)"
    assert "SMD [95% CI]" in _texts(fig)


def test_mantel_haenszel_and_peto_models(tmp_path):
    mh = rma_mh(ai=TPOS, bi=TNEG, ci=CPOS, di=CNEG, measure="RR")
    fig = forest_plot(mh, labels=AUTHORS)
    assert fig.axes[0].get_xlabel() == "Risk ratio (log scale)"  # the result's measure
    texts = _texts(fig)
    assert "Mantel-Haenszel model" in texts and "Prediction interval" not in texts
    assert any(t.startswith("Heterogeneity: Q = ") and "\u03c4" not in t for t in texts)
    svg = tmp_path / "peto.svg"
    forest_plot(rma_peto(TPOS, TNEG, CPOS, CNEG), path=svg)
    assert b"<svg" in svg.read_bytes()[:500]


def test_legacy_transf_and_meta_regression(bcg_or):
    fig = forest_plot(bcg_or, transf=np.exp, xlabel="Odds ratio")  # as in 0.1's docs
    assert fig.axes[0].get_xlabel() == "Odds ratio"
    assert "0.47 [0.33, 0.68]" in _texts(fig)
    dat = escalc("RR", ai=TPOS, bi=TNEG, ci=CPOS, di=CNEG)
    meta_reg = rma(dat["yi"], dat["vi"], mods=np.arange(13.0))
    texts = _texts(forest_plot(meta_reg))
    assert "Random-effects model (REML)" not in texts and "Study" in texts
    assert len([t for t in texts if " [" in t and t.endswith("]") and t[0] != "E"]) == 13


def test_heterogeneity_line_of_an_equal_effects_model(bcg_or):
    dat = escalc("OR", ai=TPOS, bi=TNEG, ci=CPOS, di=CNEG)
    ee = rma(dat["yi"], dat["vi"], method="EE")
    assert heterogeneity_text(ee).startswith("Heterogeneity: Q = 163.16, df = 12, p < 0.001")
    assert "\u03c4" not in heterogeneity_text(ee)
    fig = forest_plot(ee, measure="OR")
    assert "Equal-effects model" in _texts(fig) and "Prediction interval" not in _texts(fig)
    FigureCanvasAgg(fig).draw()  # lays out without error
