"""Labelled screening sets for the benchmarks, read in place from ../shared/data.

- ``cohen(name)``: one of the 12 Cohen et al. (2006) sets (``label_included``), through
  the loader in ``../shared/data/screening``.
- ``migration()``: the labelled title/abstract sets of ``../shared/data/migration``
  (humanitarian and development reviews of one EPPI-Reviewer author, and one refugee
  health review), each as ``record_id, title, abstract, label``:

  ============== ============================================================== =====
  name           records and label                                              texts
  ============== ============================================================== =====
  mhpss          MHPSS rapid review, decided rows (INCLUDE = 1)                 T+A
  mhaa           girl-effect review, sheet "3rd trial n=462" (INCLUDE = 1)      T+A
  graduation_s14 graduation review sample s14 (Included/Maybe = 1)              T
  graduation_s20 graduation review sample s20 (Included/Maybe = 1; blank rows   T
                 dropped)
  graduation_ft  graduation review full text: included 1, excluded 0            T
  eiset          Eiset & Wejse (2017) refugee infectious disease review,        aim +
                 ``inc.screen``                                                 results
  ============== ============================================================== =====

  Sample s3 (no includes) cannot be simulated and is left out.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SCREENING = SHARED / "screening"
MIGRATION = SHARED / "migration"


def cohen_module():
    spec = importlib.util.spec_from_file_location("screening_data", SCREENING / "load.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cohen(name: str, module=None) -> pd.DataFrame:
    """A Cohen set with a ``label`` column (``label_included``)."""
    df = (module or cohen_module()).load(name)
    return df.assign(label=df["label_included"].astype(int))


def _frame(ids, titles, abstracts, labels) -> pd.DataFrame:
    return pd.DataFrame({
        # source ids repeat in places (duplicate records): keep the row number with them
        "record_id": [f"{i}#{n}" for n, i in enumerate(ids)],
        "title": pd.Series(titles).fillna("").astype(str).to_numpy(),
        "abstract": pd.Series(abstracts).fillna("").astype(str).to_numpy(),
        "label": pd.Series(labels).astype(int).to_numpy(),
    })


def _graduation(file: str, labels: dict[str, int]) -> pd.DataFrame:
    df = pd.read_excel(MIGRATION / file)
    df = df[df["include"].isin(labels)]
    return _frame(df["ID"], df["Title"], [""] * len(df), df["include"].map(labels))


def migration() -> dict[str, pd.DataFrame]:
    """The labelled migration/humanitarian sets (empty when ../shared is absent)."""
    if not MIGRATION.exists():
        return {}
    out = {}
    mh = pd.read_csv(MIGRATION / "mhpss_ta_screening_groundtruth__mhaa_screening.csv",
                     encoding="utf-8-sig")
    mh = mh[mh["TAS Human Coding"].str.startswith(("INCLUDE", "EXCLUDE"), na=False)]
    out["mhpss"] = _frame(mh["Item ID"], mh["Title"], mh["Abstract"],
                          mh["TAS Human Coding"].str.startswith("INCLUDE"))
    aa = pd.read_excel(MIGRATION / "mhaa_ta_screening_ground_truth__mhaa_screening.xlsx",
                       sheet_name="3rd trial n=462", header=1)
    aa = aa[aa["EPPI TAS decision"].notna()]
    out["mhaa"] = _frame(aa["EPPI ID"], aa["T1"], aa["AB"],
                         aa["EPPI TAS decision"].astype(str).str.upper().str.startswith(
                             "INCLUDE"))
    ta = {"Excluded": 0, "Included (TA)": 1, "Maybe (TA)": 1, "Included (FT)": 1}
    out["graduation_s14"] = _graduation("graduation_s14above__paper-screening-pipeline.xlsx",
                                        ta)
    out["graduation_s20"] = _graduation("graduation_s20above__paper-screening-pipeline.xlsx",
                                        ta)
    inc = pd.read_excel(MIGRATION /
                        "graduation_full_text_marl_constanza_included__paper-screening-pipeline.xlsx")
    exc = pd.read_excel(MIGRATION /
                        "graduation_full_text_marl_constanza_excluded__paper-screening-pipeline.xlsx")
    ft = pd.concat([inc.assign(label=1), exc.assign(label=0)], ignore_index=True)
    ft = ft.drop_duplicates("ID")
    out["graduation_ft"] = _frame(ft["ID"], ft["Title"], [""] * len(ft), ft["label"])
    ei = pd.read_csv(MIGRATION / "refugee_infectious_disease_review_screening__eiset.csv")
    ei = ei[ei["inc.screen"].isin([0, 1])]
    out["eiset"] = _frame(ei["id"], ei["aim"], ei["results"], ei["inc.screen"])
    return out
