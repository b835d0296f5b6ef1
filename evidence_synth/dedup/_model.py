"""The shipped pair classifier: gradient-boosted trees plus isotonic calibration, as JSON.

The model is trained by ``evidence_synth/dedup/_train.py`` with scikit-learn's
``HistGradientBoostingClassifier`` inside ``CalibratedClassifierCV(method="isotonic",
ensemble=False)`` and exported to plain JSON (tree nodes and calibration knots), so loading
it needs neither pickle nor a particular scikit-learn version.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import EvidenceSynthError

MODEL_PATH = Path(__file__).resolve().parent / "models" / "pair_classifier.json"


class PairModel:
    """Calibrated pair classifier evaluated from its JSON export.

    Parameters
    ----------
    spec : dict
        ``features`` (names), ``baseline`` (raw score offset), ``trees`` (list of node
        tables), ``calibration`` (``x`` and ``y`` knots of the isotonic map).
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.features: list[str] = list(spec["features"])
        self._baseline = float(spec["baseline"])
        self._trees = [
            {k: np.asarray(v) for k, v in tree.items()} for tree in spec["trees"]
        ]
        self._cal_x = np.asarray(spec["calibration"]["x"], dtype=float)
        self._cal_y = np.asarray(spec["calibration"]["y"], dtype=float)

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Raw boosted score (log-odds before calibration)."""
        step = 200_000
        return np.concatenate([self._raw(X.iloc[k:k + step])
                               for k in range(0, len(X), step)] or [np.zeros(0)])

    def _raw(self, X: pd.DataFrame) -> np.ndarray:
        data = X[self.features].to_numpy(dtype=float)
        raw = np.full(len(data), self._baseline)
        rows = np.arange(len(data))
        for tree in self._trees:
            node = np.zeros(len(data), dtype=np.int64)
            leaf = tree["is_leaf"].astype(bool)
            active = ~leaf[node]
            while active.any():
                cur = node[active]
                feat = tree["feature"][cur]
                value = data[rows[active], feat]
                nan = np.isnan(value)
                go_left = np.where(nan, tree["missing_left"][cur].astype(bool),
                                   value <= tree["threshold"][cur])
                node[active] = np.where(go_left, tree["left"][cur], tree["right"][cur])
                active = ~leaf[node]
            raw += tree["value"][node]
        return raw

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that each pair is a duplicate."""
        return np.clip(np.interp(self.decision_function(X), self._cal_x, self._cal_y), 0, 1)

    def save(self, path: Path | str) -> None:
        Path(path).write_text(json.dumps(self.spec, separators=(",", ":")))


def export_calibrated(calibrated: Any, features: list[str], info: dict[str, Any]) -> PairModel:
    """Export a fitted ``CalibratedClassifierCV(HistGradientBoostingClassifier, ensemble=False,
    method="isotonic")`` to a :class:`PairModel`."""
    cc = calibrated.calibrated_classifiers_[0]
    hgb = cc.estimator
    iso = cc.calibrators[0]
    trees = []
    for predictors in hgb._predictors:
        nodes = predictors[0].nodes
        if hasattr(predictors[0], "binned_left_cat_bitsets") and nodes["is_categorical"].any():
            raise EvidenceSynthError("categorical splits are not supported in the export")
        trees.append({
            "value": nodes["value"].tolist(),
            "feature": nodes["feature_idx"].tolist(),
            "threshold": nodes["num_threshold"].tolist(),
            "missing_left": nodes["missing_go_to_left"].astype(int).tolist(),
            "left": nodes["left"].tolist(),
            "right": nodes["right"].tolist(),
            "is_leaf": nodes["is_leaf"].astype(int).tolist(),
        })
    spec = {
        "features": list(features),
        "baseline": float(np.ravel(hgb._baseline_prediction)[0]),
        "trees": trees,
        "calibration": {"x": iso.X_thresholds_.round(8).tolist(),
                        "y": iso.y_thresholds_.round(8).tolist()},
        "info": info,
    }
    return PairModel(spec)


@lru_cache(maxsize=2)
def load_model(path: str | None = None) -> PairModel:
    """The shipped model (or the JSON file at ``path``)."""
    target = Path(path) if path else MODEL_PATH
    if not target.exists():
        raise EvidenceSynthError(f"expected a pair-classifier model at {target}; "
                                 "run `python -m evidence_synth.dedup._train` to build it")
    return PairModel(json.loads(target.read_text()))
