"""Stopping rules on constructed screening orders where the answer is known."""

import numpy as np
import pytest

from evidence_synth.errors import EvidenceSynthError
from evidence_synth.screen.stopping import (
    AllOf,
    AnyOf,
    HypergeometricStop,
    KneeStop,
    NIrrelevantInARow,
    ScreeningState,
    StoppingRule,
    replay_stopping,
)
from evidence_synth.screen.stopping_methods import default_stopping_rule


def state(labels, n_records=None, n_prior=0, random_from=None):
    labels = np.asarray(labels)
    return ScreeningState(labels, n_records or len(labels), n_prior, random_from)


def test_rules_follow_the_protocol():
    for rule in (HypergeometricStop(), KneeStop(), NIrrelevantInARow(5), AnyOf(KneeStop())):
        assert isinstance(rule, StoppingRule)


def test_n_irrelevant_in_a_row():
    s = state([1, 1, 0, 1, 0, 0, 0], n_records=100)
    assert NIrrelevantInARow(3).check(s).stop
    assert not NIrrelevantInARow(4).check(s).stop
    assert NIrrelevantInARow(4).check(s).estimated_recall is None


def test_n_irrelevant_in_a_row_ignores_priors():
    # the prior irrelevant record does not count towards the run
    s = state([1, 0, 0, 0], n_records=100, n_prior=2)
    assert not NIrrelevantInARow(3).check(s).stop
    assert NIrrelevantInARow(2).check(s).stop


def test_random_sample_p_value_by_hand():
    # N = 1000. Ranked phase: 100 records, 19 relevant. Then a random sample of the 900
    # unscreened records with no relevant one. Target 0.95: K = floor(19/0.95 - 19 + 1)
    # = 2 relevant would have to be left in the urn of 900.
    # n = 300: p = P(X = 0) = (600 * 599) / (900 * 899) = 0.44420
    # n = 800: p = (100 * 99) / (900 * 899) = 0.012236
    ranked = [1] * 19 + [0] * 81
    rule = HypergeometricStop(0.95, 0.95, sample_after=50)
    d = rule.check(state(ranked + [0] * 300, 1000, random_from=100))
    assert d.p_value == pytest.approx(600 * 599 / (900 * 899))
    assert not d.stop
    d = rule.check(state(ranked + [0] * 800, 1000, random_from=100))
    assert d.p_value == pytest.approx(100 * 99 / (900 * 899))
    assert d.stop
    assert d.estimated_recall >= 0.95
    assert d.confidence == 0.95


def test_random_phase_waits_for_trigger_and_asks_for_sampling():
    rule = HypergeometricStop(sample_after=NIrrelevantInARow(3))
    s = state([1, 0, 0], 50)
    assert not rule.sampling(s)
    assert not rule.check(s).stop
    assert rule.sampling(state([1, 0, 0, 0], 50))
    assert rule.sampling(state([1, 0, 0, 0, 1], 50, random_from=4))


def test_quasi_sampling_all_relevant_found_early():
    # 100 relevant records first, then n irrelevant, N = 1000. Best urn starts after the
    # last relevant record: r_al = 100, K = floor(100/0.95 - 100 + 1) = 6, urn 900.
    # p = prod_{i<6} (900 - n - i) / (900 - i)
    def p_hand(n):
        return float(np.prod([(900 - n - i) / (900 - i) for i in range(6)]))

    rule = HypergeometricStop(0.95, 0.95)
    d300 = rule.check(state([1] * 100 + [0] * 300, 1000))
    assert d300.p_value == pytest.approx(p_hand(300))
    assert not d300.stop and d300.estimated_recall < 0.95
    assert 0.5 < HypergeometricStop().recall_bound(state([1] * 100 + [0] * 300, 1000)) < 0.95
    d400 = rule.check(state([1] * 100 + [0] * 400, 1000))
    assert d400.p_value == pytest.approx(p_hand(400))
    assert p_hand(400) < 0.05
    assert d400.stop
    assert 0.95 <= d400.estimated_recall <= 1.0


def test_quasi_sampling_not_fooled_by_few_finds():
    # 10 relevant early, 500 irrelevant since: K = 1 in an urn of 990,
    # p = 490 / 990 -- far from a stop
    d = HypergeometricStop().check(state([1] * 10 + [0] * 500, 1000))
    assert d.p_value == pytest.approx(490 / 990)
    assert not d.stop


def test_everything_screened_stops():
    d = default_stopping_rule().check(state([1, 0, 1, 0], 4))
    assert d.stop and d.estimated_recall == 1.0


def test_knee_rule():
    # 50 relevant in the first 99, then 401 irrelevant: knee at 99 (farthest from the
    # line 500 * found(i) - 50 * i), rho = (50/99) / ((50 - 50 + 1)/401) = 202.5 >= 156 - 50
    labels = [1, 0] * 50 + [0] * 400
    rho, knee = KneeStop.slope_ratio(labels)
    assert knee == 99
    assert rho == pytest.approx(50 / 99 * 401)
    assert KneeStop().check(state(labels, 2000)).stop
    # below min_screened nothing stops
    assert not KneeStop(min_screened=1000).check(state(labels, 2000)).stop
    # a steady one-in-ten gain curve has no knee
    steady = ([1] + [0] * 9) * 50
    assert not KneeStop().check(state(steady, 2000)).stop


def test_knee_ignores_priors():
    # a relevant prior at rank 1 followed by 200 irrelevant records is no knee
    s = state([1] + [0] * 200, 2000, n_prior=1)
    assert not KneeStop().check(s).stop
    assert KneeStop().check(state([1] + [0] * 200, 2000)).stop  # as a found record it is


def test_knee_slope_ratio_by_hand():
    # found = 2 at i = 2, then 8 irrelevant: s = 10, relret = 2, knee i = 2,
    # rho = (2/2) / ((2 - 2 + 1)/8) = 8
    rho, knee = KneeStop.slope_ratio([1, 1] + [0] * 8)
    assert knee == 2
    assert rho == pytest.approx(8.0)


def test_combinators():
    s = state([1, 1, 0, 0, 0], 100)
    three, ten = NIrrelevantInARow(3), NIrrelevantInARow(10)
    assert AnyOf(three, ten).check(s).stop
    assert not AllOf(three, ten).check(s).stop
    assert (three | ten).check(s).stop
    assert not (three & ten).check(s).stop
    combo = AnyOf(three, HypergeometricStop())
    d = combo.check(s)
    assert d.stop and len(d.parts) == 2


def test_recall_bound_matches_the_stop_estimate():
    s = state([1] * 100 + [0] * 400, 1000)
    rule = HypergeometricStop()
    assert rule.recall_bound(s) == pytest.approx(rule.check(s).estimated_recall)


def test_report_names_rule_screened_recall_and_work_saved():
    d = HypergeometricStop().check(state([1] * 100 + [0] * 400, 1000))
    text = d.report()
    assert "HypergeometricStop(target_recall=0.95, confidence=0.95)" in text
    assert "screened 500 of 1,000 records (50.0%)" in text
    assert "estimated recall >= " in text and "95% confidence" in text
    assert "work saved: 50.0% (500 records stay unscreened)" in text
    waiting = HypergeometricStop().check(state([1] * 100 + [0] * 300, 1000)).report()
    assert waiting.startswith("CONTINUE") and "not enough to stop yet" in waiting
    heuristic = NIrrelevantInARow(3).check(state([1, 0, 0, 0], 10)).report()
    assert "heuristic" in heuristic and "work saved: 60.0%" in heuristic


def test_replay_stopping_random_phase_is_deterministic():
    rng = np.random.default_rng(1)
    labels = np.r_[[1] * 30, rng.random(970) < 0.01].astype(int)
    rule = HypergeometricStop(sample_after=20)
    d1, order1 = replay_stopping(labels, rule, random_state=3)
    d2, order2 = replay_stopping(labels, rule, random_state=3)
    assert d1.stop and d1.n_screened == d2.n_screened
    assert np.array_equal(order1, order2)
    assert sorted(order1) == sorted(labels)


def test_invalid_parameters():
    with pytest.raises(EvidenceSynthError, match="target_recall"):
        HypergeometricStop(target_recall=1.5)
    with pytest.raises(EvidenceSynthError, match="confidence"):
        HypergeometricStop(confidence=1)
    with pytest.raises(EvidenceSynthError, match="n >= 1"):
        NIrrelevantInARow(0)


def test_fast_hypergeometric_cdf_equals_scipy():
    from scipy.stats import hypergeom

    from evidence_synth.screen.stopping import _hypergeom_cdf

    rng = np.random.default_rng(1)
    urn = rng.integers(1, 3000, 3000)
    marked = (rng.random(3000) * (urn + 1)).astype(int)
    drawn = (rng.random(3000) * (urn + 1)).astype(int)
    k = np.minimum(rng.integers(0, 80, 3000), drawn)
    np.testing.assert_allclose(_hypergeom_cdf(k, urn, marked, drawn),
                               hypergeom.cdf(k, urn, marked, drawn), atol=1e-9)


def test_protocol_random_sample_after_builds_the_two_phase_hypergeometric_rule():
    from evidence_synth.screen.stopping_methods import stopping_rule, stopping_rule_from_protocol

    spec = {"method": "callaghan_muller_hansen", "target_recall": 0.95,
            "random_sample_after": 3}
    rule = stopping_rule_from_protocol(spec)
    assert isinstance(rule, HypergeometricStop)
    # three irrelevant records in a row switch to random sampling; two do not
    assert rule.sampling(state([1, 1, 0, 0, 0], 100))
    assert not rule.sampling(state([1, 1, 0, 0], 100))
    assert stopping_rule_from_protocol({"method": "callaghan_muller_hansen"}).sampling(
        state([1, 1, 0, 0, 0], 100)) is False
    with pytest.raises(EvidenceSynthError, match="random_sample_after"):
        stopping_rule("sneyd_stevenson", random_sample_after=3)


def test_the_review_protocol_runs_the_two_phase_workflow_its_notes_describe():
    from pathlib import Path

    from evidence_synth.protocol import load_protocol
    from evidence_synth.screen.stopping_methods import stopping_rule_from_protocol

    repo = Path(__file__).resolve().parents[1]
    protocol = load_protocol(repo / "protocols" / "irregular-migration-egm-update.yaml")
    rule = stopping_rule_from_protocol(protocol)
    assert isinstance(rule, HypergeometricStop)
    assert rule.sampling(state([1] + [0] * 50, 1000))
