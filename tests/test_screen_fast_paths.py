"""The ranker's fast paths give scikit-learn's numbers bit for bit, and simulations the
orders of the code before them (tests/fixtures/screen/simulation_orders.json)."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from evidence_synth.screen import _linear_svc
from evidence_synth.screen._linear_svc import fit_linear_svc
from evidence_synth.screen._tfidf import fit_word_tfidf
from evidence_synth.screen.ranking import ScreeningRanker, record_text
from evidence_synth.screen.simulate import simulate

FIXTURES = Path(__file__).parent / "fixtures" / "screen"
TITLE_SETS = ("tagger_fresh_labels.csv", "tagger_fresh3_labels.csv",
              "tagger_fresh4_labels.csv", "tagger_fresh5_labels.csv")
# tokens that sort around each other: prefixes, digits, underscores, case, accents
ODD = ["ab abc ab_c", "abc ab", "Ab ÄB äb ab1 ab-c", "", "x y", "ab abc abc ab",
       "éa ea Ea zz_ z9 9z", "ab", "the the the", "ab ab ab abc", "straße STRASSE ǅemal"]


GOLDEN = json.loads((FIXTURES / "simulation_orders.json").read_text())


def corpus() -> tuple[pd.DataFrame, np.ndarray]:
    """1,106 records: the tagger sample (titles and abstracts, 14 not in English) and
    the four fresh sets' titles; labels (border_management as it was when the orders
    were pinned, 382 relevant) from simulation_orders.json, so a later relabelling of
    the tagger fixtures does not move them."""
    sample = pd.read_csv(FIXTURES / "tagger_sample.csv")
    cols = ["record_id", "title", "abstract"]
    parts = [sample.assign(record_id=sample.sample_id)[cols]]
    for name in TITLE_SETS:
        titles = pd.read_csv(FIXTURES / name)
        parts.append(titles.assign(record_id=titles.sample_id, abstract="")[cols])
    df = pd.concat(parts, ignore_index=True)
    texts = "\n".join(df.record_id + "\t" + df.title.fillna("") + "\t" + df.abstract.fillna(""))
    assert hashlib.sha256(texts.encode()).hexdigest() == GOLDEN["texts_sha256"], (
        "the screen fixtures' texts changed: the pinned orders no longer apply")
    return df, np.array([int(c) for c in GOLDEN["labels"]])


def assert_same_matrix(a, b):
    assert type(a) is type(b) and a.shape == b.shape
    for part in ("indptr", "indices", "data"):
        x, y = getattr(a, part), getattr(b, part)
        assert x.dtype == y.dtype
        assert np.array_equal(x.view(np.int64) if part == "data" else x,
                              y.view(np.int64) if part == "data" else y), part


@pytest.mark.parametrize(("ngram_range", "min_df", "max_df"), [
    ((1, 2), 1, 0.95), ((1, 1), 1, 0.95), ((1, 3), 1, 1.0), ((2, 3), 1, 1.0),
    ((1, 2), 2, 0.5), ((1, 2), 0.002, 40), ((3, 3), 1, 1.0),
])
def test_word_tfidf_is_scikit_learns_matrix(ngram_range, min_df, max_df):
    df, _ = corpus()
    texts = record_text(df) + ODD
    reference = TfidfVectorizer(ngram_range=ngram_range, sublinear_tf=True, min_df=min_df,
                                max_df=max_df)
    expected = reference.fit_transform(texts)
    vectorizer, X = fit_word_tfidf(texts, ngram_range=ngram_range, min_df=min_df,
                                   max_df=max_df)
    assert_same_matrix(X, expected)
    assert vectorizer.vocabulary_ == reference.vocabulary_
    assert np.array_equal(vectorizer.idf_, reference.idf_)
    assert list(vectorizer.get_feature_names_out()) == list(reference.get_feature_names_out())
    new = ["Frontex border interceptions at sea", "straße ab abc", ""]
    assert_same_matrix(vectorizer.transform(new), reference.transform(new))


@pytest.mark.parametrize("texts", [["", "a"], ["same text"] * 3, ["x", "y z"]])
def test_word_tfidf_leaves_corner_cases_to_scikit_learn(texts):
    # no term of two characters, every term pruned by max_df: scikit-learn's errors
    with pytest.raises(ValueError) as expected:
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_df=0.95).fit_transform(texts)
    with pytest.raises(ValueError, match=str(expected.value)[:20]):
        fit_word_tfidf(texts, ngram_range=(1, 2), min_df=1, max_df=0.95)


def test_ranker_on_a_textless_pool_still_ranks():
    ranker = ScreeningRanker().fit(["", "", ""], [1, 0, -1])
    assert ranker.decision_function([""]).shape == (1,)


def svm_problem():
    df, y = corpus()
    X = ScreeningRanker()._fit_features(record_text(df))
    rows = np.r_[np.flatnonzero(y == 1)[:40], np.flatnonzero(y == 0)[:300]]
    yy = y[rows]
    w = np.where(yy == 1, 1.0, yy.sum() / (9.8 * (len(yy) - yy.sum())))
    return X[rows], yy, w * len(yy) / w.sum()


@pytest.mark.parametrize(("tol", "random_state"), [(1e-4, 0), (1e-2, 0), (1e-2, 7)])
def test_linear_svc_fit_is_linearsvcs(tol, random_state):
    X, y, w = svm_problem()
    svm = LinearSVC(C=0.11, tol=tol, random_state=random_state).fit(X, y, sample_weight=w)
    coef, intercept = fit_linear_svc(X, y, w, C=0.11, tol=tol, random_state=random_state)
    assert _linear_svc._direct_ok()
    assert np.array_equal(coef, svm.coef_.ravel())
    assert intercept == float(svm.intercept_[0])


def test_linear_svc_falls_back_to_linearsvc(monkeypatch):
    X, y, w = svm_problem()
    direct = fit_linear_svc(X, y, w, C=0.11, tol=1e-2, random_state=1)
    monkeypatch.setattr(_linear_svc, "_direct_ok", lambda: False)
    coef, intercept = fit_linear_svc(X, y, w, C=0.11, tol=1e-2, random_state=1)
    assert np.array_equal(coef, direct[0]) and intercept == direct[1]
    # matrices the direct call does not take go to LinearSVC (which converts or refuses)
    wide = X.copy()
    wide.indices, wide.indptr = X.indices.astype(np.int64), X.indptr.astype(np.int64)
    assert _linear_svc._direct_input(X)
    assert not _linear_svc._direct_input(wide)
    assert not _linear_svc._direct_input(X.astype(np.float32))
    assert not _linear_svc._direct_input(X.toarray())


@pytest.mark.parametrize("tol", [1e-2, 1e-4])
def test_ranker_is_the_scikit_learn_pipeline_bit_for_bit(tol):
    df, y = corpus()
    known = np.zeros(len(y), dtype=bool)
    known[np.random.default_rng(0).choice(len(y), 400, replace=False)] = True
    labels = np.where(known, y, -1)
    ranker = ScreeningRanker(tol=tol, random_state=3).fit(df, labels)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_df=0.95)
    X = vectorizer.fit_transform(record_text(df))
    yk = y[known]
    w = np.where(yk == 1, 1.0, yk.sum() / (9.8 * (len(yk) - yk.sum())))
    svm = LinearSVC(C=0.11, tol=tol, random_state=3).fit(X[np.flatnonzero(known)], yk,
                                                        sample_weight=w * len(yk) / w.sum())
    assert np.array_equal(ranker.coef_, svm.coef_.ravel())
    assert ranker.intercept_ == float(svm.intercept_[0])
    # rank() scores the fitted matrix; decision_function re-reads the text (transform)
    scores = ranker._queue_scores(ranker._X_fit)
    assert np.array_equal(scores, X @ svm.coef_.ravel() + svm.intercept_[0])
    assert np.array_equal(ranker.decision_function(df[:50]),
                          svm.decision_function(vectorizer.transform(record_text(df[:50]))))
    # the simulator scores every row and keeps the pool's: a row's score is its own sum
    pool = np.flatnonzero(~known)
    assert np.array_equal(scores[pool], X[pool] @ ranker.coef_ + ranker.intercept_)


@pytest.mark.parametrize("run", GOLDEN["runs"],
                         ids=lambda r: f"n/{r['batch_divisor']}-tol{r['tol']}-seed{r['seed']}")
def test_simulation_orders_are_those_before_the_fast_paths(run):
    df, y = corpus()
    assert (len(df), int(y.sum())) == (GOLDEN["records"], GOLDEN["relevant"])
    ranker = ScreeningRanker(tol=run["tol"], random_state=run["seed"])
    res = simulate(df, y, ranker=ranker, batch_divisor=run["batch_divisor"],
                   random_state=run["seed"])
    assert res.order[:10] == run["first_10"]
    assert hashlib.sha256("\n".join(res.order).encode()).hexdigest() == run["order_sha256"]
    assert (res.stopped_at, res.n_fits) == (run["stopped_at"], run["n_fits"])
    assert round(res.metrics()["wss_95"], 6) == run["wss_95"]


def test_default_is_batches_of_n_50_with_tolerance_1e_2():
    df, y = corpus()
    run = next(r for r in GOLDEN["runs"] if r["batch_divisor"] == 50 and r["seed"] == 1)
    res = simulate(df, y, random_state=1)
    assert hashlib.sha256("\n".join(res.order).encode()).hexdigest() == run["order_sha256"]
    assert ScreeningRanker().tol == 1e-2
