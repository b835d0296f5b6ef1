"""Tagger quality on real records labelled by reading, held out from the rules.

The sample (584 records: the GAPs cooperation instruments and return programmes, and
off-topic records with and without trap words from the refugee, MHPSS, MHAA and
graduation screening files) was drawn and labelled by another person, who did not see the
rules, while the rules were written; see docs/screening.md, "Held-out tagger sample".
``tests/fixtures/screen/tagger_heldout_labels.csv`` holds keys and labels only; the texts
are read from ``../shared/data/migration`` at run time (the test skips when it is absent).

Split A was used once to look at errors and revise the rules once; split B was evaluated
once, after that. Run ``python tests/test_screen_tagger_heldout.py`` for the table.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidence_synth.screen import apply_rules, load_rules

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "tests" / "fixtures" / "screen" / "tagger_heldout_labels.csv"
MIGRATION = ROOT.parent / "shared" / "data" / "migration"
TAGS = ("border_management", "partnership_diplomacy")

GAPS_IC = "gaps_international_cooperation__gap-project.json"
GAPS_RI = "gaps_return_infrastructure__gap-project.json"
EISET = "refugee_infectious_disease_review_screening__eiset.csv"
MHPSS = "mhpss_ta_screening_groundtruth__mhaa_screening.csv"
MHAA = "mhaa_ta_screening_ground_truth__mhaa_screening.xlsx"
GRAD_CSV = "graduation_included_studies_n114__OM_QEX.csv"


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value).strip()
    return "" if text.lower() == "nan" else text


def _key(*parts: str, title: str) -> str:
    return "|".join([*parts, hashlib.sha1(title.encode("utf-8")).hexdigest()[:8]])


def _gaps(file: str, abstract) -> list[tuple[str, str, str, str]]:
    out = []
    for country in json.loads((MIGRATION / file).read_text(encoding="utf-8")):
        for i, policy in enumerate(country["policies"]):
            title = _text(policy.get("policyName"))
            key = _key(country["countryName"], str(i), title=title)
            out.append((file, key, title, abstract(policy)))
    return out


def _instrument(policy: dict) -> str:
    kind, note = _text(policy.get("typeOfBiletralAgreement")), _text(policy.get("note"))
    return kind + (". " + note if note else "")


def _programme(policy: dict) -> str:
    parts = [_text(policy.get("summary"))]
    for label, name in (("Actors", "actorsInvolved"), ("Target group", "targetGroup")):
        if _text(policy.get(name)):
            parts.append(f"{label}: {_text(policy.get(name))}")
    return "\n".join(p for p in parts if p)


def _table(file: str, df: pd.DataFrame, key: str, title: str, abstract: str | None):
    rows = []
    for _, row in df.iterrows():
        text = _text(row[title])
        if text:
            rows.append((file, _key(_text(row[key]), title=text), text,
                         _text(row[abstract]) if abstract else ""))
    return rows


def sample_records() -> pd.DataFrame:
    """The labelled sample with its texts (``sample_id, split, title, abstract`` + labels)."""
    rows = _gaps(GAPS_IC, _instrument) + _gaps(GAPS_RI, _programme)
    eiset = pd.read_csv(MIGRATION / EISET, dtype=str, keep_default_na=False)
    rows += [(EISET, _key(_text(x["id"]), f"row{r}", title=_text(x["aim"])), _text(x["aim"]),
              _text(x["results"])) for r, x in eiset.iterrows()]
    rows += _table(MHPSS, pd.read_csv(MIGRATION / MHPSS, dtype=str, keep_default_na=False,
                                      encoding="utf-8-sig"), "Item ID", "Title", "Abstract")
    rows += _table(MHAA, pd.read_excel(MIGRATION / MHAA, sheet_name="3rd trial n=462",
                                       header=1, dtype=str), "EPPI ID", "T1", "AB")
    for file in sorted(p.name for p in MIGRATION.glob("graduation_*.xlsx")):
        rows += _table(file, pd.read_excel(MIGRATION / file, dtype=str), "ID", "Title", None)
    rows += _table(GRAD_CSV, pd.read_csv(MIGRATION / GRAD_CSV, dtype=str,
                                         keep_default_na=False, encoding="utf-8-sig"),
                   "ID", "Title", None)
    texts = pd.DataFrame(rows, columns=["source_file", "source_key", "title", "abstract"])
    labels = pd.read_csv(LABELS, dtype={"source_key": str})
    merged = labels.merge(texts, on=["source_file", "source_key"], how="left",
                          validate="many_to_many", indicator=True)
    counts = merged.groupby("sample_id").size()
    if (merged["_merge"] != "both").any() or (counts != 1).any():
        bad = sorted(set(merged.sample_id[merged["_merge"] != "both"]) |
                     set(counts[counts != 1].index))
        raise KeyError(f"labelled records not found once in {MIGRATION}: {bad[:10]}")
    return merged.drop(columns="_merge")


def wilson(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default)."""
    if n == 0:
        return (math.nan, math.nan)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (max(0.0, centre - half), min(1.0, centre + half))


def evaluate(sample: pd.DataFrame, rules=None) -> pd.DataFrame:
    """Precision and recall per tag with Wilson 95 % intervals, per split.

    Returns
    -------
    pandas.DataFrame
        Columns ``split, tag, positives, predicted, tp, precision, precision_low,
        precision_high, recall, recall_low, recall_high``.
    """
    rules = rules or load_rules(ROOT / "screening" / "rules.yaml")
    matrix = apply_rules(sample.assign(record_id=sample["sample_id"]), rules).tag_matrix()
    rows = []
    for split, part in sample.groupby("split"):
        for tag in TAGS:
            predicted = matrix.loc[part["sample_id"], f"ext:{tag}"].to_numpy()
            truth = part[tag].to_numpy() == 1
            tp = int((predicted & truth).sum())
            p_lo, p_hi = wilson(tp, int(predicted.sum()))
            r_lo, r_hi = wilson(tp, int(truth.sum()))
            rows.append({"split": split, "tag": tag, "positives": int(truth.sum()),
                         "predicted": int(predicted.sum()), "tp": tp,
                         "precision": tp / max(int(predicted.sum()), 1),
                         "precision_low": p_lo, "precision_high": p_hi,
                         "recall": tp / max(int(truth.sum()), 1),
                         "recall_low": r_lo, "recall_high": r_hi})
    return pd.DataFrame(rows)


def errors(sample: pd.DataFrame, split: str, rules=None) -> pd.DataFrame:
    """Misses and false hits of one split: ``sample_id, tag, kind, rules, title``."""
    rules = rules or load_rules(ROOT / "screening" / "rules.yaml")
    part = sample[sample["split"] == split]
    hits = apply_rules(part.assign(record_id=part["sample_id"]), rules)
    rows = []
    for _, row in part.iterrows():
        h = hits[row["sample_id"]]
        for tag in TAGS:
            predicted, truth = f"ext:{tag}" in h.tags, row[tag] == 1
            if predicted != truth:
                rows.append((row["sample_id"], tag, "miss" if truth else "false hit",
                             ", ".join(h.rules), row["title"][:100]))
    return pd.DataFrame(rows, columns=["sample_id", "tag", "kind", "rules", "title"])


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    if not MIGRATION.exists():
        pytest.skip("../shared/data/migration not present (texts are read from there)")
    return sample_records()


def test_labels_file_has_keys_and_labels_only():
    labels = pd.read_csv(LABELS)
    assert list(labels.columns) == ["sample_id", "source_file", "source_key", "split",
                                    *TAGS]
    assert labels["sample_id"].is_unique and len(labels) == 584
    assert set(labels["split"]) == {"A", "B"}


def test_every_labelled_record_is_found_once(sample):
    assert len(sample) == 584
    assert (sample.groupby("split")[list(TAGS)].sum().to_dict() ==
            {"border_management": {"A": 10, "B": 8},
             "partnership_diplomacy": {"A": 123, "B": 121}})


def test_tagger_precision_and_recall_on_held_out_records(sample):
    scores = evaluate(sample).set_index(["split", "tag"])
    # pinned at the measured values (docs/screening.md, "Tagger quality"); B was
    # evaluated once, after the one revision made on the errors of A
    floor = {("A", "border_management"): (PINNED["A_bm_p"], PINNED["A_bm_r"]),
             ("A", "partnership_diplomacy"): (PINNED["A_pd_p"], PINNED["A_pd_r"]),
             ("B", "border_management"): (PINNED["B_bm_p"], PINNED["B_bm_r"]),
             ("B", "partnership_diplomacy"): (PINNED["B_pd_p"], PINNED["B_pd_r"])}
    for key, (precision, recall) in floor.items():
        assert scores.loc[key, "precision"] >= precision - 1e-9, key
        assert scores.loc[key, "recall"] >= recall - 1e-9, key


def test_wilson_interval():
    assert all(math.isnan(v) for v in wilson(0, 0))  # nothing to estimate
    lo, hi = wilson(8, 10)
    assert (round(lo, 4), round(hi, 4)) == (0.4902, 0.9433)
    assert np.isclose(wilson(10, 10)[1], 1.0) and np.isclose(wilson(0, 10)[0], 0.0)


# measured with the rules of the first revision (A: 9/10 and 9/10, 122/123 and 122/123;
# B, evaluated once: 8/12 and 8/8, 120/122 and 120/121), then with the second round,
# written after studying the errors of both splits (so A and B are no longer held out;
# the fresh held-out set is tests/test_screen_tagger_fresh.py): A 9/9 and 9/10,
# 123/123 and 123/123; B 8/8 and 8/8, 121/121 and 121/121. Fourth round (the codebook,
# screening/README.md): a transfer-for-processing deal carries both tags (codebook rule 4),
# so the UK-Rwanda asylum partnership (A) and the UK-Rwanda Migration and Economic
# Development Partnership (B), labelled partnership only before the codebook, are now
# tagged border management too: A 9/10 and 9/10, B 8/9 and 8/8, partnership unchanged
PINNED = {"A_bm_p": 9 / 10, "A_bm_r": 9 / 10, "A_pd_p": 123 / 123, "A_pd_r": 123 / 123,
          "B_bm_p": 8 / 9, "B_bm_r": 8 / 8, "B_pd_p": 121 / 121, "B_pd_r": 121 / 121}


if __name__ == "__main__":  # pragma: no cover
    import sys

    data = sample_records()
    splits = sys.argv[1:] or ["A"]
    table = evaluate(data[data["split"].isin(splits)])
    print(table.round(3).to_string(index=False))
