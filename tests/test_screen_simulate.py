"""simulate(), SimulationResult and the screening metrics."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from evidence_synth.errors import EvidenceSynthError
from evidence_synth.screen.metrics import erf, recall_at, screening_metrics, wss
from evidence_synth.screen.simulate import simulate
from evidence_synth.screen.stopping import HypergeometricStop, NIrrelevantInARow

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

# Tiny order, priors excluded: N = 10, R = 3, relevant at positions 1, 3 and 10.
# found = 1 1 2 2 2 2 2 2 2 3; found_random = round(linspace(0, 3, 10)) = 0 0 1 1 1 2 2 2 3 3
# when(j) = 0, 2, 9; when_random(j) = 2, 5, 8; y_j = (2, 3, -1) / 10 at j/R = 1/3, 2/3, 1
TINY = [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]


def test_metrics_by_hand_on_a_tiny_order():
    assert recall_at(TINY, 0.10) == pytest.approx(1 / 3)  # k = 1
    assert recall_at(TINY, 0.25) == pytest.approx(1 / 3)  # k = 2
    assert recall_at(TINY, 0.30) == pytest.approx(2 / 3)  # k = 3
    assert recall_at(TINY, 0.05) == 0.0
    assert wss(TINY, 0.95) == pytest.approx(0.3)  # largest j with j/3 <= 0.95 is 2
    assert wss(TINY, 1.0) == pytest.approx(-0.1)
    assert erf(TINY, 0.10) == pytest.approx(1 / 3)  # (1 - 0) / 3
    m = screening_metrics(TINY, stopped_at=3)
    assert m["recall_at_stop"] == pytest.approx(2 / 3)
    assert m["work_saved"] == pytest.approx(0.7)


def test_metrics_need_a_relevant_record():
    with pytest.raises(EvidenceSynthError, match="relevant"):
        wss([0, 0, 0])


def corpus(n=240, seed=0):
    rng = np.random.default_rng(seed)
    rel = ["border", "fence", "coast", "guard", "interception", "frontex", "pushback"]
    irr = ["crop", "rainfall", "yield", "harvest", "soil", "irrigation", "seed"]
    filler = ["study", "effect", "data", "region", "policy", "analysis", "results", "model"]
    rows, labels = [], []
    for i in range(n):
        y = int(rng.random() < 0.08)
        k = rng.integers(1, 4)
        words = list(rng.choice(rel if y else irr, k)) + list(rng.choice(filler, 8))
        rng.shuffle(words)
        rows.append({"record_id": f"id{i}", "title": " ".join(words[:3]),
                     "abstract": " ".join(words[3:])})
        labels.append(y)
    labels[0] = 1
    return pd.DataFrame(rows), np.array(labels)


def test_simulation_order_priors_and_metrics():
    df, y = corpus()
    before = df.copy()
    res = simulate(df, y, random_state=0)
    pd.testing.assert_frame_equal(df, before)
    assert sorted(res.order) == sorted(df.record_id)
    assert res.n_prior == 2
    lab = dict(zip(df.record_id, y, strict=True))
    assert lab[res.order[0]] == 1 and lab[res.order[1]] == 0
    assert res.labels.tolist() == [lab[r] for r in res.order]
    m = res.metrics()
    assert m["wss_95"] > 0.6 and m["recall_at_10"] > 0.6  # an easy, separable corpus
    assert set(m) >= {"recall_at_10", "recall_at_25", "wss_95", "wss_100", "erf_10"}
    frame = res.to_frame()
    assert list(frame.columns) == ["position", "record_id", "label", "phase", "found",
                                   "before_stop"]
    assert frame.phase.tolist()[:3] == ["prior", "prior", "ranked"]
    assert "WSS@95" in res.summary() and "<table>" in res._repr_html_()


def test_simulation_is_deterministic_and_seed_dependent():
    df, y = corpus()
    a = simulate(df, y, random_state=4)
    b = simulate(df, y, random_state=4)
    c = simulate(df, y, random_state=5)
    assert a.order == b.order
    assert a.order[:2] != c.order[:2]


def fits_of_schedule(res, y, divisor):
    """Replay the schedule: a fit, then max(1, screened // divisor) records, until every
    relevant record is found (the rest keep the last order without a fit)."""
    found = np.cumsum(res.labels)
    screened, fits = res.n_prior, 0
    while screened < len(y) and found[screened - 1] < y.sum():
        fits += 1
        screened += max(1, screened // divisor)
    return fits


def test_default_retrains_after_batches_of_one_fiftieth_of_the_screened():
    df, y = corpus(n=600, seed=2)
    res = simulate(df, y, random_state=0, stopping=False)
    assert res.n_fits == fits_of_schedule(res, y, 50) and res.n_fits > 60
    assert res.settings["batch_divisor"] == 50
    previous = simulate(df, y, random_state=0, stopping=False, batch_divisor=20)
    assert previous.n_fits == fits_of_schedule(previous, y, 20) < res.n_fits
    fixed = simulate(df, y, random_state=0, stopping=False, batch_size=1)
    assert fixed.n_fits > res.n_fits
    with pytest.raises(EvidenceSynthError, match="batch_divisor"):
        simulate(df, y, batch_divisor=0)


def test_simulation_with_stopping_rule_reports_the_stop():
    df, y = corpus()
    res = simulate(df, y, stopping=NIrrelevantInARow(40), random_state=0)
    assert res.stopped_at is not None
    frame = res.to_frame()
    # the stop came after 40 irrelevant records in a row
    assert frame.label.iloc[res.stopped_at - 40: res.stopped_at].sum() == 0
    m = res.metrics()
    found = int(res.labels[2: res.stopped_at].sum())
    assert m["recall_at_stop"] == pytest.approx(found / res.labels[2:].sum())
    assert "STOP: NIrrelevantInARow(n=40)" in res.summary()


def test_simulation_random_sampling_phase():
    df, y = corpus()
    rule = HypergeometricStop(0.9, 0.9, sample_after=NIrrelevantInARow(20))
    res = simulate(df, y, stopping=rule, random_state=0)
    assert res.random_from is not None
    assert res.stopped_at is None or res.stopped_at > res.random_from
    assert sorted(res.order) == sorted(df.record_id)
    if res.stopped_at is not None:
        assert (res.to_frame().phase == "random").sum() == res.stopped_at - res.random_from


def test_cold_start_without_priors_uses_seed_scores():
    df, y = corpus()
    seed = np.where(y == 1, 1.0, 0.0)  # a perfect rule
    res = simulate(df, y, n_prior_included=0, n_prior_excluded=0, seed_scores=seed,
                   batch_size=5)
    assert res.n_prior == 0
    assert res.labels[:5].tolist() == [1] * 5


def test_any_sklearn_text_classifier_works_as_ranker():
    df, y = corpus(120)
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression(class_weight="balanced"))
    res = simulate(df, y, ranker=pipe, batch_size=10)
    assert sorted(res.order) == sorted(df.record_id)
    assert res.metrics()["wss_95"] > 0.3


def test_bad_input():
    df, y = corpus(30)
    with pytest.raises(EvidenceSynthError, match="labels"):
        simulate(df, y[:10])
    with pytest.raises(EvidenceSynthError, match="0/1"):
        simulate(df, np.full(30, 2))
    with pytest.raises(EvidenceSynthError, match="record_id"):
        simulate(df.drop(columns="record_id"), y)


@pytest.mark.slow
def test_cohen_triptans_default_ranker_and_stopping():
    path = SHARED / "screening" / "load.py"
    if not path.exists():
        pytest.skip("../shared/data not present")
    spec = importlib.util.spec_from_file_location("screening_data", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    df = mod.load("Cohen_2006_Triptans")
    res = simulate(df, df["label_included"], stopping=HypergeometricStop(), random_state=0)
    m = res.metrics()
    # measured 0.61 and 0.65 (seed 0); ASReview ELAS u4 is in the same range on this set
    assert m["wss_95"] > 0.5 and m["recall_at_10"] > 0.55
    assert m["recall_at_stop"] >= 0.95
    assert res.stop_decision.estimated_recall >= 0.95


@pytest.mark.benchmark
def test_2000_record_simulation_cpu_time():
    path = SHARED / "screening" / "load.py"
    if not path.exists():
        pytest.skip("../shared/data not present")
    spec = importlib.util.spec_from_file_location("screening_data", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    df = mod.load("Cohen_2006_BetaBlockers")  # 2,072 records
    res = simulate(df, df["label_included"], random_state=0)
    # target: <= 3 s per 2,000-record simulation (CPU time; wall time on a busy machine
    # is longer). ASReview LAB's default took 40-110 s wall on the same set here.
    assert res.cpu_seconds / len(df) * 2000 <= 3.0


def test_default_stopping_rule_applies_unless_false():
    from evidence_synth.screen.stopping_methods import default_stopping_rule

    df, y = corpus(n=400, seed=3)
    default = simulate(df, y, random_state=0)
    assert default.settings["stopping"] == repr(default_stopping_rule())
    assert default.stopped_at is not None and default.stop_decision.stop
    assert default.metrics()["recall_at_stop"] >= 0.95
    none = simulate(df, y, random_state=0, stopping=False)
    assert none.stopped_at is None and none.stop_decision is None
    assert none.order == default.order  # the rule never changes the ranked order
    with pytest.raises(EvidenceSynthError, match="stopping rule"):
        simulate(df, y, stopping=True)


def test_explicit_prior_ids():
    df, y = corpus()
    relevant = df.record_id[y == 1].tolist()
    irrelevant = df.record_id[y == 0].tolist()
    priors = [irrelevant[5], relevant[2], irrelevant[9]]
    res = simulate(df, y, prior_ids=priors, stopping=False, random_state=1)
    assert res.order[:3] == priors and res.n_prior == 3
    # the same priors give the same order whatever the seed of the prior draw would be
    again = simulate(df, y, prior_ids=priors, stopping=False, random_state=1)
    assert again.order == res.order
    with pytest.raises(EvidenceSynthError, match="not found"):
        simulate(df, y, prior_ids=["nope"])
    with pytest.raises(EvidenceSynthError, match="distinct"):
        simulate(df, y, prior_ids=[relevant[0], relevant[0]])
    with pytest.raises(EvidenceSynthError, match="not a prior"):
        simulate(df.iloc[:30], y[:30], prior_ids=df.record_id[:30][y[:30] == 1].tolist())


@pytest.mark.slow
def test_default_stop_on_held_out_sets():
    """The default rule on sets it was not tuned on (tuned on 4 other Cohen sets)."""
    path = SHARED / "screening" / "load.py"
    mhaa = SHARED / "migration" / "mhaa_ta_screening_ground_truth__mhaa_screening.xlsx"
    if not path.exists() or not mhaa.exists():
        pytest.skip("../shared/data not present")
    spec = importlib.util.spec_from_file_location("screening_data", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    beta = mod.load("Cohen_2006_BetaBlockers")
    girls = pd.read_excel(mhaa, sheet_name="3rd trial n=462", header=1)
    girls = girls[girls["EPPI TAS decision"].notna()]
    girls = pd.DataFrame({
        "record_id": [f"r{i}" for i in range(len(girls))],
        "title": girls["T1"].fillna("").astype(str).to_numpy(),
        "abstract": girls["AB"].fillna("").astype(str).to_numpy(),
        "label": girls["EPPI TAS decision"].astype(str).str.upper().str.startswith(
            "INCLUDE").astype(int).to_numpy()})
    # measured with the calibrated default (benchmark, seeds 0-2): BetaBlockers recall
    # 0.951, 47-51% screened (47-48% on the orders of batches of n/50); MHAA recall 1.0,
    # 84-87% screened (the previous default, which also asked the hypergeometric test,
    # stopped MHAA at 71-72%)
    for df, labels, most_work in ((beta, beta["label_included"], 0.55),
                                  (girls, girls["label"], 0.9)):
        m = simulate(df, labels, random_state=0).metrics()
        assert m["recall_at_stop"] >= 0.95
        assert 1 - m["work_saved"] <= most_work
