"""ScreeningRanker: scikit-learn conventions, cold start, ranking and explanations."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from evidence_synth.errors import EvidenceSynthError
from evidence_synth.screen.ranking import ScreeningRanker, record_text


def corpus(n=120, seed=0):
    """Relevant records talk about border fences and coast guards, the rest about
    crops and rainfall; both share filler words."""
    rng = np.random.default_rng(seed)
    rel = ["border", "fence", "coast", "guard", "interception", "frontex"]
    irr = ["crop", "rainfall", "yield", "harvest", "soil", "irrigation"]
    filler = ["study", "effect", "data", "region", "policy", "analysis", "results"]
    rows, labels = [], []
    for i in range(n):
        y = int(i % 6 == 0)
        words = list(rng.choice(rel if y else irr, 4)) + list(rng.choice(filler, 6))
        rng.shuffle(words)
        rows.append({"record_id": f"r{i}", "title": " ".join(words[:3]),
                     "abstract": " ".join(words[3:])})
        labels.append(y)
    return pd.DataFrame(rows), np.array(labels)


def test_record_text_joins_title_and_abstract_and_skips_missing():
    df = pd.DataFrame({"title": ["A", None], "abstract": [pd.NA, "b c"]})
    assert record_text(df) == ["A", "b c"]
    with pytest.raises(EvidenceSynthError, match="title"):
        record_text(pd.DataFrame({"x": [1]}))


def test_get_params_clone_and_set_params():
    r = ScreeningRanker(C=0.5, random_state=3)
    params = r.get_params()
    assert params["C"] == 0.5 and params["random_state"] == 3 and params["model"] == "svm"
    c = clone(r)
    assert c.get_params() == params and c is not r
    c.set_params(model="ensemble")
    assert c.model == "ensemble" and r.model == "svm"


@pytest.mark.parametrize("model", ["ensemble", "svm", "logistic"])
def test_fit_predict_separates_the_topics(model):
    df, y = corpus()
    r = ScreeningRanker(model=model, random_state=0)
    assert r.fit(df, y) is r
    scores = r.decision_function(df)
    assert scores[y == 1].min() > scores[y == 0].max()
    if model != "svm":  # the heavily re-weighted SVM is a ranker: its 0 threshold is not
        assert (r.predict(df) == y).mean() > 0.95
    proba = r.predict_proba(df)
    assert proba.shape == (len(df), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(r.classes_) == [0, 1]


def test_random_state_determinism():
    df, y = corpus()
    a = ScreeningRanker(random_state=1).fit(df, y).decision_function(df)
    b = ScreeningRanker(random_state=1).fit(df, y).decision_function(df)
    np.testing.assert_array_equal(a, b)


def test_unlabelled_rows_enter_the_vocabulary_only():
    df, y = corpus()
    partial = np.where(np.arange(len(y)) < 60, y, -1)
    r = ScreeningRanker(random_state=0).fit(df, partial)
    assert "frontex" in set(r.feature_names_)
    s = r.decision_function(df)
    assert s[60:][y[60:] == 1].min() > s[60:][y[60:] == 0].max()


def test_rank_returns_unlabelled_best_first():
    df, _y = corpus()
    labelled = {"r0": 1, "r1": 0, "r6": 1, "r2": 0}
    out = ScreeningRanker(random_state=0).rank(df, labelled)
    assert list(out.columns) == ["record_id", "score", "rank", "source"]
    assert len(out) == len(df) - 4 and not set(labelled) & set(out.record_id)
    assert out["rank"].tolist() == list(range(1, len(out) + 1))
    assert (out.source == "model").all()
    top = out.record_id.head(18).str[1:].astype(int)
    assert (top % 6 == 0).sum() >= 16  # nearly all 18 remaining relevant records first


def test_textless_records_first_on_request():
    df, _y = corpus()
    df.loc[7, ["title", "abstract"]] = None
    labelled = {"r0": 1, "r1": 0}
    assert ScreeningRanker(textless="first").rank(df, labelled).record_id.iloc[0] == "r7"
    assert ScreeningRanker().rank(df, labelled).record_id.iloc[0] != "r7"


def test_cold_start_from_query_and_seed_scores():
    df, _y = corpus()
    out = ScreeningRanker(query="border fence frontex coast guard").rank(df)
    assert (out.source == "cold_start").all()
    assert (out.record_id.head(10).str[1:].astype(int) % 6 == 0).all()
    seed = np.zeros(len(df))
    seed[5] = 10.0  # a rule hit lifts an irrelevant-looking record to the top
    out = ScreeningRanker().rank(df, seed_scores=seed)
    assert out.record_id.iloc[0] == "r5"
    with pytest.raises(EvidenceSynthError, match="seed score"):
        ScreeningRanker().rank(df, seed_scores=[1.0])


def test_rank_rejects_unknown_record_ids():
    df, _ = corpus(12)
    with pytest.raises(EvidenceSynthError, match="unknown"):
        ScreeningRanker().rank(df, {"nope": 1})


def test_explain_terms_for_and_against():
    df, y = corpus()
    r = ScreeningRanker(model="svm", char_ngram_range=None, random_state=0).fit(df, y)
    ex = r.explain("frontex border patrol and crop harvest")
    assert list(ex.columns) == ["term", "direction", "contribution", "weight", "tfidf"]
    assert set(ex.loc[ex.direction == "for", "term"]) >= {"frontex", "border"}
    assert set(ex.loc[ex.direction == "against", "term"]) >= {"crop", "harvest"}
    assert (ex.loc[ex.direction == "for", "contribution"] > 0).all()


def test_bad_labels_and_model():
    df, y = corpus(12)
    with pytest.raises(EvidenceSynthError, match="0/1"):
        ScreeningRanker().fit(df, np.full(12, 2))
    with pytest.raises(EvidenceSynthError, match="one label per record"):
        ScreeningRanker().fit(df, y[:5])
    with pytest.raises(EvidenceSynthError, match="model"):
        ScreeningRanker(model="forest").fit(df, y)
