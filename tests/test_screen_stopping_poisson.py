"""The Poisson-process stopping rule and choosing a rule from the protocol."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import poisson

from evidence_synth.errors import EvidenceSynthError
from evidence_synth.protocol import load_protocol
from evidence_synth.screen import (
    AnyOf,
    HypergeometricStop,
    KneeStop,
    PoissonProcessStop,
    ScreeningState,
    default_stopping_rule,
    replay_stopping,
    stopping_rule,
    stopping_rule_from_protocol,
)

ROOT = Path(__file__).resolve().parents[1]


def _decaying(n=2000, total=60, scale=150.0, seed=0):
    """A ranked order whose relevant records arrive at a falling exponential rate."""
    rng = np.random.default_rng(seed)
    ranks = np.minimum((rng.exponential(scale, total)).astype(int), n - 1)
    labels = np.zeros(n, dtype=int)
    for r in ranks:
        while labels[r]:
            r = (r + 1) % n
        labels[r] = 1
    return labels


def test_fit_recovers_an_exponential_rate():
    rule = PoissonProcessStop(rate="exponential", n_windows=10)
    x = np.arange(1, 1001)
    expected = 0.2 * np.exp(-0.004 * x)
    labels = (np.random.default_rng(1).random(1000) < expected).astype(int)
    a, k = rule.fit(labels)
    assert a == pytest.approx(0.2, rel=0.35) and k == pytest.approx(0.004, rel=0.35)
    assert rule.expected_relevant(a, k, 10**9) == pytest.approx(a / k)


def test_stop_follows_the_published_steps():
    labels = _decaying()
    rule = PoissonProcessStop(rate="power")
    n = 900
    state = ScreeningState(labels[:n], n_records=len(labels))
    decision = rule.check(state)
    a, k = rule.fit(labels[:n])
    mu = a / (k + 1) * (len(labels) ** (k + 1) - 1)
    r_max = int(poisson.ppf(0.95, mu))
    found = int(labels[:n].sum())
    on_curve = round(float((a * np.arange(1, n + 1) ** k).sum()))
    assert found >= 0.95 * on_curve  # the fit check passes here
    assert decision.stop == (found >= 0.95 * r_max)
    assert f"at most {r_max} at 95%" in decision.detail
    assert decision.estimated_recall == pytest.approx(min(1.0, found / r_max))


def test_replayed_stop_is_late_enough_on_decaying_orders():
    stops, recalls = [], []
    for seed in range(8):
        labels = _decaying(seed=seed)
        decision, _ = replay_stopping(labels, PoissonProcessStop(rate="power"))
        stops.append(decision.n_screened)
        recalls.append(labels[: decision.n_screened].sum() / labels.sum())
    assert min(recalls) >= 0.9 and np.mean(recalls) >= 0.95
    assert np.mean(stops) < 0.8 * 2000  # it does stop before the end


def test_waits_for_enough_relevant_records_and_screened_share():
    labels = np.r_[np.ones(10, int), np.zeros(990, int)]
    rule = PoissonProcessStop(min_relevant=20)
    decision = rule.check(ScreeningState(labels[:500], n_records=1000))
    assert not decision.stop and "waiting for" in decision.detail
    early = PoissonProcessStop(min_relevant=1, min_screened=0.3)
    assert not early.check(ScreeningState(labels[:200], n_records=1000)).stop
    assert early.check(ScreeningState(labels, n_records=1000)).stop  # all screened


def test_only_evaluated_on_the_step_grid():
    labels = _decaying()
    rule = PoissonProcessStop(rate="power", step=0.05)
    decision = rule.check(ScreeningState(labels[:901], n_records=2000))
    assert not decision.stop and "next at 1000" in decision.detail


def test_bad_parameters():
    for kwargs in ({"target_recall": 0}, {"confidence": 1}, {"rate": "linear"},
                   {"n_windows": 2}, {"min_relevant": -1}, {"step": 0}):
        with pytest.raises(EvidenceSynthError):
            PoissonProcessStop(**kwargs)


def test_diverging_rates_never_stop():
    rule = PoissonProcessStop(rate="power")
    assert math.isinf(rule.expected_relevant(0.1, 0.5, 1000))
    assert math.isinf(PoissonProcessStop().expected_relevant(0.1, -0.01, 1000))
    rising = np.r_[np.zeros(500, int), np.ones(100, int)]
    assert not rule.check(ScreeningState(rising, n_records=2000)).stop


def test_rules_from_protocol_methods():
    assert repr(stopping_rule("callaghan_muller_hansen", target_recall=0.9)) == repr(
        HypergeometricStop(0.9, 0.95))
    assert isinstance(stopping_rule("sneyd_stevenson"), PoissonProcessStop)
    assert isinstance(stopping_rule("knee"), KneeStop)
    assert stopping_rule("none") is None
    combined = stopping_rule("sneyd_stevenson_or_callaghan_muller_hansen")
    assert isinstance(combined, AnyOf)
    assert [type(r) for r in combined.rules] == [PoissonProcessStop, HypergeometricStop]
    default = default_stopping_rule()
    assert repr(default) == repr(PoissonProcessStop(0.95, 0.8, rate="power"))
    assert stopping_rule("sneyd_stevenson").confidence == 0.95
    assert stopping_rule("sneyd_stevenson_calibrated", confidence=0.9).confidence == 0.9
    with pytest.raises(EvidenceSynthError, match="stopping method"):
        stopping_rule("quantile")


def test_rule_from_the_review_protocol_and_mappings():
    protocol = load_protocol(ROOT / "protocols" / "irregular-migration-egm-update.yaml")
    spec = protocol.to_dict()["screening"]["stopping_rule"]
    rule = stopping_rule_from_protocol(protocol)
    assert repr(rule) == repr(stopping_rule(spec["method"],
                                            target_recall=spec["target_recall"],
                                            confidence=spec["confidence"],
                                            random_sample_after=spec["random_sample_after"]))
    assert stopping_rule_from_protocol({"method": "none"}) is None
    assert isinstance(stopping_rule_from_protocol(
        {"screening": {"stopping_rule": {"method": "sneyd_stevenson"}}}), PoissonProcessStop)
    assert repr(stopping_rule_from_protocol(None)) == repr(default_stopping_rule())
    assert repr(stopping_rule_from_protocol({"screening": {}})) == repr(
        default_stopping_rule())
    with pytest.raises(EvidenceSynthError, match="Protocol or a mapping"):
        stopping_rule_from_protocol(42)
    with pytest.raises(EvidenceSynthError, match="'method'"):
        stopping_rule_from_protocol({"screening": {"stopping_rule": {"target_recall": 0.9}}})


def test_combined_report_names_the_deciding_estimate():
    labels = _decaying()
    decision, _ = replay_stopping(labels,
                                  stopping_rule("sneyd_stevenson_or_callaghan_muller_hansen"))
    assert decision.stop and decision.confidence == 0.95
    assert decision.estimated_recall is not None and decision.estimated_recall > 0.8
    assert "estimated recall >=" in decision.report()
