"""escalc() against published metafor values (each block names its source)."""

from __future__ import annotations

from math import exp, gamma, lgamma, sqrt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evidence_synth.effects import measures, registry
from evidence_synth.effects.measure import Measure
from evidence_synth.errors import EffectSizeError
from evidence_synth.extract import MEASURES, escalc
from evidence_synth.schema_validation import load_schema

# dat.bcg (Colditz et al. 1994), as printed in metafor's README and ?dat.bcg
BCG = {
    "ai": [4, 6, 3, 62, 33, 180, 8, 505, 29, 17, 186, 5, 27],
    "bi": [119, 300, 228, 13536, 5036, 1361, 2537, 87886, 7470, 1699, 50448, 2493, 16886],
    "ci": [11, 29, 11, 248, 47, 372, 10, 499, 45, 65, 141, 3, 29],
    "di": [128, 274, 209, 12619, 5761, 1079, 619, 87892, 7232, 1600, 27197, 2338, 17825],
}

# dat.normand1999 (Normand 1999, Table VIII), first four studies and all nine for MD
NORMAND = {
    "n1i": [155, 31, 75, 18, 8, 57, 34, 110, 60],
    "m1i": [55, 27, 64, 66, 14, 19, 52, 21, 30],
    "sd1i": [47, 7, 17, 20, 8, 7, 45, 16, 27],
    "n2i": [156, 32, 71, 18, 13, 52, 33, 183, 52],
    "m2i": [75, 29, 119, 137, 18, 18, 41, 31, 23],
    "sd2i": [64, 4, 29, 48, 11, 4, 34, 27, 20],
}

# Handbook of Research Synthesis and Meta-Analysis, Table 13.4 (via metafor test_misc_escalc)
HANDBOOK = {"ai": 135, "bi": 15, "ci": 40, "di": 10}


def _r4(values) -> list[float]:
    return [round(float(v), 4) for v in np.atleast_1d(values)]


def test_rr_bcg_matches_metafor_readme():
    # metafor README: escalc(measure="RR", ai=tpos, bi=tneg, ci=cpos, di=cneg, data=dat.bcg)
    dat = escalc("RR", **BCG)
    assert _r4(dat["yi"]) == [
        -0.8893, -1.5854, -1.3481, -1.4416, -0.2175, -0.7861, -1.6209,
        0.0120, -0.4694, -1.3713, -0.3394, 0.4459, -0.0173,
    ]  # fmt: skip
    assert _r4(dat["vi"]) == [
        0.3256, 0.1946, 0.4154, 0.0200, 0.0512, 0.0069, 0.2230,
        0.0040, 0.0564, 0.0730, 0.0124, 0.5325, 0.0714,
    ]  # fmt: skip
    assert list(dat.columns) == ["yi", "vi", "measure"]
    assert (dat["measure"] == "RR").all()


def test_or_bcg_first_row_matches_metafor_summary():
    # metafor test_misc_escalc: summary(escalc("OR", dat.bcg)) row 1: zi -1.5708, sei 0.5976
    dat = escalc("OR", **BCG)
    yi, vi = dat["yi"].iloc[0], dat["vi"].iloc[0]
    assert round(yi / np.sqrt(vi), 4) == -1.5708
    assert round(np.sqrt(vi), 4) == 0.5976
    assert round(dat["yi"].iloc[3], 4) == -1.4564  # same test, 'include' block


@pytest.mark.parametrize(
    ("measure", "yi", "sei"),
    [
        ("PHI", 0.1309, 0.0789),
        ("YUQ", 0.3846, 0.1901),
        ("YUY", 0.2000, 0.1071),
        ("PBIT", 0.4399, 0.2456),
        ("OR2D", 0.4471, 0.2460),
        ("OR2DL", 0.4471, 0.2460),
        ("OR2DN", 0.4915, 0.2704),
    ],
)
def test_2x2_measures_handbook_table_13_4(measure, yi, sei):
    dat = escalc(measure, **HANDBOOK)
    assert round(dat["yi"].iloc[0], 4) == yi
    assert round(np.sqrt(dat["vi"].iloc[0]), 4) == sei


def test_tetrachoric_handbook_table_13_4():
    # metafor reports yi 0.2603 (Nelder-Mead); the exact ML root is 0.26024 (effects.tetrachoric)
    dat = escalc("RTET", **HANDBOOK)
    assert abs(dat["yi"].iloc[0] - 0.2603) < 1e-4
    assert round(np.sqrt(dat["vi"].iloc[0]), 4) == 0.1423


def test_rd_rothman_table_15_1():
    # Rothman et al. (2008) Table 15-1 via metafor test_analysis_example_rothman2008
    dat = escalc("RD", ai=[8, 22], bi=[98, 76], ci=[5, 16], di=[115, 69])
    assert _r4(dat["yi"]) == [0.0338, 0.0363]
    assert _r4(dat["vi"]) == [0.0010, 0.0036]
    rr = escalc("RR", ai=[8, 22], bi=[98, 76], ci=[5, 16], di=[115, 69])
    assert _r4(np.exp(rr["yi"])) == [1.8113, 1.1926]


def test_md_normand_table_viii():
    # Normand (1999, Table VIII) via metafor test_analysis_example_normand1999
    n = NORMAND
    n1, n2 = np.array(n["n1i"]), np.array(n["n2i"])
    s1, s2 = np.array(n["sd1i"]), np.array(n["sd2i"])
    sdp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    dat = escalc("MD", m1i=n["m1i"], sd1i=sdp, n1i=n1, m2i=n["m2i"], sd2i=sdp, n2i=n2)
    assert _r4(dat["yi"]) == [-20, -2, -55, -71, -4, 1, 11, -10, 7]
    assert _r4(dat["vi"]) == [
        40.5863, 2.0468, 15.2809, 150.2222, 20.1923, 1.2235, 95.3756, 8.0321, 20.6936,
    ]  # fmt: skip
    ho = escalc("MD", vtype="HO", **n)
    assert np.allclose(ho["vi"], dat["vi"])


@pytest.mark.parametrize(
    ("measure", "yi", "vi"),
    [
        # metafor test_misc_escalc, dat.normand1999 rows 1-4 (SMD: all versions; SMDH and
        # ROM: metafor 5.1 as quoted in issue 21; ROM correct=False: metafor 3.8 and 4.x)
        ("SMD", [-0.3552, -0.3479, -2.3176, -1.8880], [0.0131, 0.0645, 0.0458, 0.1606]),
        ("SMDH", [-0.3553, -0.3465, -2.3018, -1.8880], [0.0132, 0.0674, 0.0515, 0.1961]),
        ("ROM", [-0.3101, -0.0707, -0.6202, -0.7312], [0.0094, 0.0028, 0.0018, 0.0119]),
        ("ROM-uncorrected", [-0.3102, -0.0715, -0.6202, -0.7303],
         [0.0094, 0.0028, 0.0018, 0.0119]),
    ],
)
def test_two_group_measures_normand(measure, yi, vi):
    first4 = {k: v[:4] for k, v in NORMAND.items()}
    code, _, variant = measure.partition("-")
    dat = escalc(code, correct=variant != "uncorrected", **first4)
    assert _r4(dat["yi"]) == yi
    assert _r4(dat["vi"]) == vi


def test_smd_exact_correction_and_vtypes():
    n = {k: v[:1] for k, v in NORMAND.items()}
    d = escalc("SMD", correct=False, **n)["yi"].iloc[0]
    g = escalc("SMD", **n)["yi"].iloc[0]
    m = 155 + 156 - 2
    # Hedges (1981): c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)); approximation 1 - 3/(4m-1)
    exact = exp(lgamma(m / 2) - lgamma((m - 1) / 2)) / sqrt(m / 2)
    assert g == pytest.approx(exact * d, rel=1e-12)
    assert g != pytest.approx((1 - 3 / (4 * m - 1)) * d, rel=1e-9)
    small = escalc("SMD", m1i=1, m2i=0, sd1i=1, sd2i=1, n1i=3, n2i=3)
    assert small["yi"].iloc[0] == pytest.approx(gamma(2) / (sqrt(2) * gamma(1.5)))
    ls2 = escalc("SMD", vtype="LS2", **n)["vi"].iloc[0]
    c = exact
    assert ls2 == pytest.approx(c**2 * (1 / 155 + 1 / 156 + d**2 / (2 * 311)))
    ub = escalc("SMD", vtype="UB", **n)["vi"].iloc[0]
    assert ub == pytest.approx(1 / 155 + 1 / 156 + (1 - (m - 2) / (m * c**2)) * g**2)


def test_smd_from_t_p_and_d_agree_with_means():
    from_means = escalc("SMD", m1i=10.0, m2i=8.0, sd1i=2.0, sd2i=2.0, n1i=20, n2i=20)
    d = 1.0
    t = d / np.sqrt(1 / 20 + 1 / 20)
    from_t = escalc("SMD", ti=t, n1i=20, n2i=20)
    from_d = escalc("SMD", di=d, n1i=20, n2i=20)
    p = 2 * stats.t.sf(t, 38)
    from_p = escalc("SMD", pi=p, n1i=20, n2i=20)
    from_neg_p = escalc("SMD", pi=-p, n1i=20, n2i=20)
    for other in (from_t, from_d, from_p):
        assert other["yi"].iloc[0] == pytest.approx(from_means["yi"].iloc[0], rel=1e-10)
        assert other["vi"].iloc[0] == pytest.approx(from_means["vi"].iloc[0], rel=1e-10)
    assert from_neg_p["yi"].iloc[0] == pytest.approx(-from_means["yi"].iloc[0], rel=1e-10)


def test_correlations_mcdaniel1994_rows():
    # metafor test_misc_escalc with dat.mcdaniel1994 rows 1, 13, 33, 102
    # (ri, ni) = (0, 123), (.62, 15), (.99, 6), (-.13, 41)
    ri, ni = [0.0, 0.62, 0.99, -0.13], [123, 15, 6, 41]
    cor = escalc("COR", ri=ri, ni=ni)
    assert _r4(cor["vi"]) == [0.0082, 0.0271, 0.0001, 0.0242]
    ucor = escalc("UCOR", ri=ri, ni=ni)
    assert _r4(ucor["yi"]) == [0.0000, 0.6363, 0.9925, -0.1317]
    assert _r4(ucor["vi"]) == [0.0082, 0.0253, 0.0000, 0.0241]
    assert _r4(escalc("UCOR", ri=ri, ni=ni, vtype="UB")["vi"]) == [0.0084, 0.0283, 0.0, 0.0261]
    assert _r4(escalc("ZCOR", ri=ri, ni=ni)["yi"]) == [0.0000, 0.7250, 2.6467, -0.1307]


def test_partial_correlations_aloe_thompson_2013():
    # Aloe & Thompson (2013) data in metafor test_misc_escalc, first study
    args = {"ti": [4.61, 6.19, 4.07, -0.77, 1.16], "ni": [218, 232, 156, 382, 259],
            "mi": [4, 7, 6, 19, 15]}  # fmt: skip
    pcor = escalc("PCOR", **args)
    assert (round(pcor["yi"][0], 4), round(pcor["vi"][0], 4)) == (0.3012, 0.0039)
    zpcor = escalc("ZPCOR", **args)
    assert (round(zpcor["yi"][0], 4), round(zpcor["vi"][0], 4)) == (0.3108, 0.0047)
    spcor = escalc("SPCOR", r2i=[0.240, 0.455, 0.500, 0.327, 0.117], **args)
    assert (round(spcor["yi"][0], 4), round(spcor["vi"][0], 4)) == (0.2754, 0.0033)
    zsp = escalc("ZSPCOR", r2i=[0.240, 0.455, 0.500, 0.327, 0.117], **args)
    assert zsp["yi"][0] == pytest.approx(np.arctanh(spcor["yi"][0]))
    assert zsp["vi"][0] == pytest.approx(spcor["vi"][0] / (1 - spcor["yi"][0] ** 2) ** 2)


def test_change_measures_metafor_examples():
    # metafor test_misc_escalc: m1i=26, m2i=22, sd1i=sqrt(30), sd2i=sqrt(20), ni=60, ri=.7
    args = {"m1i": 26, "m2i": 22, "sd1i": np.sqrt(30), "sd2i": np.sqrt(20), "ni": 60, "ri": 0.7}
    mc = escalc("MC", **args)
    assert (round(mc["yi"][0], 4), round(mc["vi"][0], 4)) == (4.0, 0.2618)
    smcrh = escalc("SMCRH", **args)
    # metafor 5.1 (issue 21): 0.0133; metafor <= 4.4 multiplied by c(m)^2 and gave 0.0129
    assert (round(smcrh["yi"][0], 4), round(smcrh["vi"][0], 4)) == (0.7210, 0.0133)
    smcr = escalc("SMCR", **{k: v for k, v in args.items() if k != "sd2i"})
    assert smcr["yi"][0] == pytest.approx(smcrh["yi"][0])
    assert smcr["vi"][0] == pytest.approx(2 * 0.3 / 60 + smcr["yi"][0] ** 2 / 120)


def test_continuity_correction_options():
    # one table with a zero cell, one without
    args = {"ai": [0, 10], "bi": [20, 10], "ci": [5, 5], "di": [15, 15]}
    only0 = escalc("OR", **args)
    assert only0["yi"][0] == pytest.approx(np.log((0.5 / 20.5) / (5.5 / 15.5)))
    assert only0["yi"][1] == pytest.approx(np.log((10 / 10) / (5 / 15)))
    every = escalc("OR", to="all", **args)
    assert every["yi"][1] == pytest.approx(np.log((10.5 / 10.5) / (5.5 / 15.5)))
    if0all = escalc("OR", to="if0all", **args)
    assert if0all["yi"][1] == pytest.approx(every["yi"][1])
    none = escalc("OR", to="none", **args)
    assert np.isnan(none["yi"][0]) and np.isnan(none["vi"][0])
    add1 = escalc("OR", add=1, **args)
    assert add1["yi"][0] == pytest.approx(np.log((1 / 21) / (6 / 16)))
    dropped = escalc("RR", ai=[0, 3], bi=[10, 7], ci=[0, 2], di=[10, 8], drop00=True)
    assert np.isnan(dropped["yi"][0]) and not np.isnan(dropped["yi"][1])
    # PHI defaults to add=0 like metafor: no correction, NaN from the zero margin only
    assert escalc("PHI", ai=[0], bi=[10], ci=[5], di=[5])["yi"][0] == pytest.approx(
        (0 * 5 - 10 * 5) / np.sqrt(10 * 10 * 5 * 15)
    )


def test_n1i_n2i_instead_of_bi_di_and_scalar_broadcast():
    a = escalc("RR", ai=[4, 6], n1i=[123, 306], ci=[11, 29], n2i=[139, 303])
    b = escalc("RR", ai=[4, 6], bi=[119, 300], ci=[11, 29], di=[128, 274])
    pd.testing.assert_frame_equal(a, b)
    c = escalc("SMD", m1i=[1.0, 2.0], m2i=0.0, sd1i=1.0, sd2i=1.0, n1i=10, n2i=10)
    assert len(c) == 2


_FAMILY_ARGS = {
    "table": {"ai": [10, 3], "bi": [20, 7], "ci": [5, 4], "di": [25, 9]},
    "two_group": {"m1i": [10.0, 5.0], "m2i": [8.0, 4.0], "sd1i": [2.0, 1.0], "sd2i": [2.5, 1.5],
                  "n1i": [20, 15], "n2i": [22, 14]},
    "change": {"m1i": [10.0, 5.0], "m2i": [8.0, 4.0], "sd1i": [2.0, 1.0], "sd2i": [2.5, 1.5],
               "ni": [20, 15], "ri": [0.5, 0.6]},
    "correlation": {"ri": [0.3, -0.2], "ni": [50, 30]},
    "partial": {"ti": [2.0, -1.0], "ni": [50, 30], "mi": [2, 3]},
    "semipartial": {"ti": [2.0, -1.0], "ni": [50, 30], "mi": [2, 3], "r2i": [0.2, 0.3]},
    "r_squared": {"r2i": [0.2, 0.35], "mi": [3, 2], "ni": [50, 30]},
    "paired_table": {"ai": [10, 3], "bi": [20, 7], "ci": [5, 4], "di": [25, 9]},
    "marginal_table": {"ai": [10, 3], "bi": [20, 7], "ci": [5, 4], "di": [25, 6],
                       "ri": [0.3, 0.5]},
    "two_rates": {"x1i": [10, 3], "x2i": [5, 4], "t1i": [100.0, 80.0], "t2i": [120.0, 60.0]},
    "rate": {"xi": [10, 3], "ti": [100.0, 80.0]},
    "proportion": {"xi": [10, 3], "ni": [40, 30]},
    "single_group": {"mi": [10.0, 5.0], "sdi": [2.0, 1.5], "ni": [20, 15]},
    "alpha": {"ai": [0.8, 0.7], "mi": [10, 5], "ni": [100, 50]},
}  # fmt: skip


def test_every_measure_runs_with_every_vtype():
    for measure in MEASURES:
        spec = registry.get(measure)
        for vtype in spec.vtypes:
            dat = escalc(measure, **_FAMILY_ARGS[spec.family.name], vtype=vtype)
            assert dat["yi"].notna().all(), (measure, vtype)
            assert (dat["vi"] > 0).all(), (measure, vtype)


def test_schema_measure_list_is_the_library_catalogue():
    schema = load_schema("evidence-row.schema.json")
    assert schema["$defs"]["measure"]["enum"] == [*MEASURES, "GEN"]
    reported = schema["properties"]["reported"]["properties"]["es_reported_measure"]
    assert schema["properties"]["measure"]["$ref"] == reported["$ref"] == "#/$defs/measure"


def test_measures_frame_lists_the_catalogue():
    frame = measures()
    assert list(frame["measure"]) == list(MEASURES)
    assert list(frame.columns) == ["measure", "family", "text", "arguments", "vtypes"]
    smd = frame.set_index("measure").loc["SMD"]
    assert smd["family"] == "two_group" and smd["vtypes"] == "LS, LS2, UB, AV"
    assert "or di, ti or a signed pi" in smd["arguments"]
    assert frame.set_index("measure").loc["MC", "arguments"] == "m1i, m2i, sd1i, sd2i, ri, ni"
    assert frame.set_index("measure").loc["SMCC", "arguments"].endswith("pi with ni")


def test_catalogue_refuses_a_measure_registered_twice(monkeypatch):
    family_module = SimpleNamespace(MEASURES=(registry.get("RR"),))
    monkeypatch.setattr(registry, "_FAMILY_MODULES", (family_module, family_module))
    with pytest.raises(EffectSizeError, match="'RR' is registered twice"):
        registry._catalogue()


def test_a_formula_must_take_only_what_its_family_provides():
    family = registry.get("RR").family

    def needs_means(ai, m1i):  # pragma: no cover - never called
        return ai, m1i

    with pytest.raises(EffectSizeError, match=r"'XX': formula needs_means takes m1i, which "
                                              r"family 'table' does not provide"):
        Measure("XX", family, needs_means, "test")


# ---------------------------------------------------------------- bad inputs


def test_bad_inputs_are_collected_with_row_and_argument():
    with pytest.raises(EffectSizeError) as info:
        escalc("SMD", m1i=[1, 2, 3], m2i=[0, 0, 0], sd1i=[1, -1, 1], sd2i=[1, 1, 0],
               n1i=[10, 10, 1], n2i=[10, 10, 10])  # fmt: skip
    err = info.value
    assert isinstance(err, ValueError)
    problems = err.problems
    assert set(zip(problems["row"], problems["argument"], strict=True)) == {
        (1, "sd1i"), (2, "sd2i"), (2, "n1i"),
    }  # fmt: skip
    assert "row 1, argument 'sd1i'" in str(err)


def test_bad_counts_p_values_and_lengths():
    with pytest.raises(EffectSizeError, match="row 0, argument 'ai'"):
        escalc("OR", ai=[-1, 2], bi=[3, 4], ci=[1, 1], di=[2, 2])
    with pytest.raises(EffectSizeError, match=r"argument 'ai'.*n1i"):
        escalc("RR", ai=[12], n1i=[10], ci=[1], n2i=[10])
    with pytest.raises(EffectSizeError, match="row 1, argument 'pi'"):
        escalc("SMD", pi=[0.04, 1.5], n1i=[10, 10], n2i=[10, 10])
    with pytest.raises(EffectSizeError, match="row 0, argument 'pi'"):
        escalc("COR", pi=[0.0], ni=[10])
    with pytest.raises(EffectSizeError, match=r"argument 'ci'.*length 3"):
        escalc("OR", ai=[1, 2, 3], bi=[1, 2, 3], ci=[1, 2], di=[1, 2, 3])
    with pytest.raises(EffectSizeError, match="row 0, argument 'ri'"):
        escalc("ZCOR", ri=[1.2], ni=[20])


def test_unknown_measure_vtype_and_missing_arguments():
    with pytest.raises(EffectSizeError, match="measure"):
        escalc("XYZ", ai=1, bi=1, ci=1, di=1)
    with pytest.raises(EffectSizeError, match="row 0, argument 'vtype'"):
        escalc("RR", ai=1, bi=1, ci=1, di=1, vtype="UB")
    with pytest.raises(EffectSizeError, match="'sd2i'"):
        escalc("MD", m1i=1, m2i=0, sd1i=1, n1i=10, n2i=10)
    with pytest.raises(EffectSizeError, match="'r2i'"):
        escalc("SPCOR", ti=2, ni=50, mi=2)
    with pytest.raises(EffectSizeError, match="'t2i'"):
        escalc("IRR", x1i=1, x2i=1, t1i=10)
    with pytest.raises(EffectSizeError, match="residual df"):
        escalc("PCOR", ti=2, ni=5, mi=4)


def test_missing_inputs_and_small_n_follow_metafor():
    # metafor sets vi to NA for ni <= 3 (COR, ZCOR) but keeps yi; NaN inputs give NaN rows
    cor = escalc("COR", ri=[0.5, 0.3], ni=[3, 30])
    assert cor["yi"][0] == 0.5 and np.isnan(cor["vi"][0])
    assert cor["vi"][1] == pytest.approx((1 - 0.09) ** 2 / 29)
    nan_row = escalc("OR", ai=[1, np.nan], bi=[3, 4], ci=[2, 2], di=[4, 4])
    assert np.isnan(nan_row["yi"][1]) and np.isnan(nan_row["vi"][1])
    assert not np.isnan(nan_row["yi"][0])
