"""Adapter from the labelled sets' loader (``../shared/data/dedup/load.py``) to the contract.

Used by the training script and the benchmark only; nothing here runs at import time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd

from ..columns import records_from_dicts

DEFAULT_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "dedup"
SETS = ("cardiac", "neuroimaging", "srsr", "ejis")


def load_module(data_dir: Path | str = DEFAULT_DIR) -> ModuleType:
    """Import ``load.py`` of the labelled sets by path."""
    path = Path(data_dir) / "load.py"
    spec = importlib.util.spec_from_file_location("_dedup_sets_load", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"expected the labelled sets' loader at {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def to_contract(df: pd.DataFrame) -> pd.DataFrame:
    """Records contract frame from ``load(name)`` output (keeps ``true_group``).

    Authors become a list: "and"-separated BibTeX names are split, the run-together
    strings of the CSV sets ("Przyklenk K.Kloner R. A.") stay one element.
    """
    rows = []
    for rec in df.to_dict("records"):
        authors = rec["authors"]
        names = [a.strip() for a in authors.split(" and ")] if " and " in authors else [authors]
        rows.append({
            "record_id": rec["record_id"], "title": rec["title"], "abstract": rec["abstract"],
            "journal": rec["journal"], "authors": [a for a in names if a],
            "year": pd.to_numeric(rec["year"], errors="coerce"), "volume": rec["volume"],
            "issue": rec["issue"], "pages": rec["pages"], "doi": rec["doi"],
            "isbn": rec["isbn"], "true_group": rec["true_group"],
        })
    return records_from_dicts(rows)


def labelled_records(name: str, data_dir: Path | str = DEFAULT_DIR) -> pd.DataFrame:
    """Load one labelled set as a contract frame with a ``true_group`` column."""
    return to_contract(load_module(data_dir).load(name))
