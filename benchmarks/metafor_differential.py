"""Differential comparison of evidence_synth's ``escalc``, ``rma``, ``rma_mh`` and
``rma_peto`` with R's metafor on seeded random data sets, edge cases included.

All cases are generated here, written as CSV files, computed by *one* ``Rscript``
process (``metafor_differential.R`` beside this file), read back and compared value by
value with this library's results. Differences between the metafor the machine has
(Debian's 3.8) and metafor 5.x, which this library follows, are listed in
:data:`EXPECTED`: for each, the comparison checks that the 3.8 formula reproduces R's
value exactly, so the difference is the known one and nothing else. The same R process
times metafor's REML fits of the intercept-only data sets, and this process times ours
on the same data sets.

Run: ``python benchmarks/metafor_differential.py [--seed 2025] [--datasets 240]``
prints the table of cases and largest deviations, and the REML timing. The test
``tests/test_metafor_differential.py`` (marker ``differential``) runs it.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from evidence_synth.effects import escalc
from evidence_synth.errors import EvidenceSynthError
from evidence_synth.synthesis import rma, rma_mh, rma_peto

R_SCRIPT = Path(__file__).with_suffix(".R")
#: Agreement: |ours - metafor| / max(1, |metafor|) at most this (both NaN also agree).
TOLERANCE = 1e-8
ARGS = ("ai", "bi", "ci", "di", "n1i", "n2i", "x1i", "x2i", "t1i", "t2i", "m1i", "m2i",
        "sd1i", "sd2i", "xi", "mi", "ri", "ti", "sdi", "r2i", "ni")

# ------------------------------------------------------------------ known differences


def _cm(m: np.ndarray) -> np.ndarray:
    return np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2)) - special.gammaln((m - 1) / 2))


def _rom_38(a: dict, ours: pd.DataFrame, vtype: str) -> tuple[np.ndarray, np.ndarray]:
    old = escalc("ROM", vtype=vtype, correct=False, **a)
    return old["yi"].to_numpy(), old["vi"].to_numpy()


def _smdh_38(a: dict, ours: pd.DataFrame, vtype: str) -> tuple[np.ndarray, np.ndarray]:
    s1, s2, n1, n2 = (np.asarray(a[k], float) for k in ("sd1i", "sd2i", "n1i", "n2i"))
    yi = ours["yi"].to_numpy()
    if vtype == "LS":
        return yi, _cm(n1 + n2 - 2) ** 2 * ours["vi"].to_numpy()
    s = s1**2 + s2**2
    vi = yi**2 * s1**2 / (2 * n1 * s**2) + yi**2 * s2**2 / (2 * n2 * s**2) \
        + 2 * s1**2 / (n1 * s) + 2 * s2**2 / (n2 * s)
    return yi, vi


def _smd1h_38(a: dict, ours: pd.DataFrame, vtype: str) -> tuple[np.ndarray, np.ndarray]:
    s1, s2, n1, n2 = (np.asarray(a[k], float) for k in ("sd1i", "sd2i", "n1i", "n2i"))
    yi = ours["yi"].to_numpy()
    return yi, (s1**2 / s2**2) / n1 + 1 / n2 + yi**2 / (2 * n2)


def _smcrh_38(a: dict, ours: pd.DataFrame, vtype: str) -> tuple[np.ndarray, np.ndarray]:
    return ours["yi"].to_numpy(), _cm(np.asarray(a["ni"], float) - 1) ** 2 * ours["vi"].to_numpy()


def _pcor_38(a: dict, ours: pd.DataFrame, vtype: str) -> tuple[np.ndarray, np.ndarray]:
    n, m = np.asarray(a["ni"], float), np.asarray(a["mi"], float)
    return ours["yi"].to_numpy(), ours["vi"].to_numpy() * (n - m) / (n - m - 1)


def _zpcor_38(a: dict, ours: pd.DataFrame, vtype: str) -> tuple[np.ndarray, np.ndarray]:
    n, m = np.asarray(a["ni"], float), np.asarray(a["mi"], float)
    return ours["yi"].to_numpy(), 1 / (n - m - 1)


@dataclass(frozen=True)
class Expected:
    """A known difference: why, and how metafor 3.8 computes the value instead."""

    reason: str
    quantities: tuple[str, ...]
    old: Callable[[dict, pd.DataFrame, str], tuple[np.ndarray, np.ndarray]] | None = None
    tolerance: float = TOLERANCE


#: Differences between Debian's metafor 3.8 and this library, by escalc measure.
EXPECTED: dict[str, Expected] = {
    "ROM": Expected("5.x default correct=TRUE adds the Lajeunesse (2015, eq. 8) bias "
                    "correction to yi; correct=False reproduces 3.8", ("yi",), _rom_38),
    "SMDH": Expected("5.x (>= 4.6) drops the factor c(m)^2 from the LS variance; 3.8's LS2 "
                     "has sd^2 where 5.x has sd^4", ("vi",), _smdh_38),
    "SMD1H": Expected("5.x (>= 4.6) divides by n1i - 1, n2i - 1 (Bonett 2008a, eq. 12); 3.8 "
                      "by n1i, n2i", ("vi",), _smd1h_38),
    "SMCRH": Expected("5.x (>= 4.6) drops the factor c(m)^2 from the LS variance",
                      ("vi",), _smcrh_38),
    "PCOR": Expected("metafor 5.x: vi = (1 - r^2)^2 / (ni - mi); 3.8 divided by "
                     "ni - mi - 1", ("vi",), _pcor_38),
    "ZPCOR": Expected("metafor 5.x: vi = 1 / (ni - mi - 2); 3.8 used 1 / (ni - mi - 1)",
                      ("vi",), _zpcor_38),
    "RTET": Expected("exact root of the saturated likelihood here; metafor's Nelder-Mead and "
                     "finite-difference Hessian agree to about 1e-4 (yi) and 1e-3 (vi)",
                     ("yi", "vi"), None, 2e-3),
}
#: rma methods whose tau^2 metafor finds with uniroot; with metafor's default tolerance
#: (eps^0.25) its root is up to ~1e-4 away from the exact one found here.
UNIROOT = ("PM", "MP", "PMM")
DLIT_38 = ("metafor 5.x iterates the generalised-Q moment equation (fixed point = PM; "
           "0.3181 on dat.bcg in its tests); 3.8 iterated (Q - (k - p)) / tr(P), which "
           "converges slowly or not at all (its tests: 0.1576 after 500 iterations)")
BD_NOISE = ("tables with an empty group, or an MH odds ratio of 1 up to rounding: metafor's "
            "Breslow-Day/Tarone expected counts come from cancellation noise; here such "
            "tables are left out and the expected counts are computed stably")
_BD = ("BD", "BDp", "TA", "TAp")
FIXED_TAU2 = ("tau2 fixed by the user: se.tau2 is NaN here (nothing estimated); metafor "
              "evaluates the estimator's SE formula at the fixed value")


def dlit_38(y: np.ndarray, v: np.ndarray, X: np.ndarray, maxiter: int = 100) -> float | None:
    """metafor 3.8's iterated DerSimonian-Laird estimator, or None where it stops with
    'did not converge'."""
    k, p = X.shape
    y = y - y.mean()
    tau2, change, it = 0.0, 1.0, 0
    while change > 1e-5:
        it += 1
        w = 1 / (v + tau2)
        WX = w[:, None] * X
        P = np.diag(w) - WX @ np.linalg.solve(X.T @ WX, WX.T)
        new = max(0.0, (float(y @ P @ y) - (k - p)) / float(np.trace(P)))
        change, tau2 = abs(new - tau2), new
        if it > maxiter:
            return None
    return tau2


def _design(c: dict[str, Any], data: pd.DataFrame) -> np.ndarray:
    cols = [np.ones(len(data))] if c["intercept"] or not c["nmods"] else []
    cols += [data[f"x{j + 1}"].to_numpy() for j in range(c["nmods"])]
    keep: list[np.ndarray] = []
    for col in cols:
        if np.linalg.matrix_rank(np.column_stack([*keep, col])) > len(keep):
            keep.append(col)
    return np.column_stack(keep)

# ------------------------------------------------------------------ case generation

#: Shared measures and the variance types metafor 3.8 accepts for them.
VTYPES_38: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("RR", "OR", "AS", "PETO", "YUQ", "YUY", "RTET", "PBIT", "OR2D", "OR2DN",
                     "OR2DL"), ("LS",)),
    "RD": ("LS", "UB", "AV"), "PHI": ("LS", "ST", "CS"),
    **dict.fromkeys(("MPRD", "MPRR", "MPOR", "MPORC", "MPPETO", "MPORM"), ("LS",)),
    **dict.fromkeys(("IRR", "IRD", "IRSD", "IR", "IRLN", "IRS", "IRFT"), ("LS",)),
    "MD": ("LS", "UB", "HO"), "SMD": ("LS", "LS2", "UB", "AV"), "SMD1": ("LS", "LS2", "UB", "AV"),
    "SMDH": ("LS", "LS2"), "SMD1H": ("LS",), "ROM": ("LS", "HO", "AV", "AVHO"),
    "CVR": ("LS",), "VR": ("LS",), "RPB": ("LS", "ST", "CS"), "RBIS": ("LS",),
    **dict.fromkeys(("D2OR", "D2ORN", "D2ORL"), ("LS",)),
    "COR": ("LS", "AV"), "UCOR": ("LS", "UB", "AV"), "ZCOR": ("LS",),
    "PCOR": ("LS", "AV"), "ZPCOR": ("LS",), "SPCOR": ("LS", "AV"),
    "PR": ("LS", "UB", "AV"), "PLN": ("LS", "AV"), "PLO": ("LS", "AV"), "PAS": ("LS",),
    "PFT": ("LS",), "MN": ("LS",), "MNLN": ("LS",), "CVLN": ("LS",), "SDLN": ("LS",),
    "SMN": ("LS",), "ARAW": ("LS",), "AHW": ("LS",), "ABT": ("LS",),
    "MC": ("LS",), "SMCC": ("LS", "LS2"), "SMCR": ("LS", "LS2"), "SMCRH": ("LS",),
    "ROMC": ("LS",), "CVRC": ("LS",), "VRC": ("LS",),
}
_TABLE = ("RR", "OR", "RD", "AS", "PETO", "PHI", "YUQ", "YUY", "RTET", "PBIT", "OR2D",
          "OR2DN", "OR2DL")
_PAIRS = ("MPRD", "MPRR", "MPOR", "MPORC", "MPPETO", "MPORM")
_COUNTS_ADD0 = ("AS", "PHI", "RTET", "IRSD", "PAS", "PFT", "IRS", "IRFT")
RMA_METHODS = ("EE", "FE", "DL", "HE", "HS", "HSk", "SJ", "SJIT", "ML", "REML", "EB", "PM",
               "MP", "PMM", "DLIT", "GENQ")
TESTS = ("z", "knha", "adhoc", "t")


def _counts(rng: np.random.Generator, k: int, zeros: bool) -> np.ndarray:
    x = rng.integers(1, 60, size=k).astype(float)
    if zeros:
        x[rng.random(k) < 0.3] = 0
    return x


def _escalc_args(measure: str, rng: np.random.Generator, k: int) -> dict[str, np.ndarray]:
    """Random valid arguments for ``measure``, with edge cases in some rows."""
    u = rng.uniform
    if measure in _TABLE or measure in _PAIRS:
        zeros = measure not in ("RTET", "PHI")  # see EXPECTED["RTET"]; PHI with 0 margins
        args = {n: _counts(rng, k, zeros) for n in ("ai", "bi", "ci", "di")}
        if zeros and k > 3:
            args["ai"][0] = args["ci"][0] = 0  # no events in either group (drop00)
        if measure == "MPORM":
            args["ri"] = u(-0.5, 0.9, k)
        return args
    if measure in ("IRR", "IRD", "IRSD"):
        args = {"x1i": _counts(rng, k, True), "x2i": _counts(rng, k, True),
                "t1i": u(5, 5000, k), "t2i": u(5, 5000, k)}
        args["x1i"][0] = args["x2i"][0] = 0
        return args
    if measure in ("IR", "IRLN", "IRS", "IRFT"):
        return {"xi": _counts(rng, k, True), "ti": u(1, 2000, k)}
    if measure in ("PR", "PLN", "PLO", "PAS", "PFT"):
        ni = rng.integers(2, 400, size=k).astype(float)
        xi = np.floor(ni * u(0, 1, k))
        xi[0], xi[-1] = 0, ni[-1]
        return {"xi": xi, "ni": ni}
    if measure in ("MN", "MNLN", "CVLN", "SDLN", "SMN"):
        return {"mi": u(0.5, 80, k), "sdi": u(0.1, 30, k), "ni": rng.integers(2, 300, k)}
    if measure in ("ARAW", "AHW", "ABT"):
        return {"ai": u(-0.3, 0.98, k), "mi": rng.integers(2, 40, k), "ni": rng.integers(3, 900, k)}
    if measure in ("COR", "UCOR", "ZCOR"):
        ni = rng.choice([4, 5, 6, 12, 40, 150, 800, 5000, 60000], size=k).astype(float)
        return {"ri": u(-0.99, 0.99, k), "ni": ni}
    if measure in ("PCOR", "ZPCOR", "SPCOR"):
        mi = rng.integers(1, 12, k).astype(float)
        args = {"ti": rng.normal(0, 4, k), "mi": mi, "ni": mi + rng.integers(4, 500, k)}
        if measure == "SPCOR":
            args["r2i"] = u(0.05, 0.95, k)
        return args
    if measure in ("MC", "SMCC", "SMCR", "SMCRH", "ROMC", "CVRC", "VRC"):
        return {"m1i": u(1, 60, k), "m2i": u(1, 60, k), "sd1i": u(0.2, 20, k),
                "sd2i": u(0.2, 20, k), "ni": rng.integers(2, 300, k).astype(float),
                "ri": u(-0.8, 0.95, k)}
    args = {"m1i": u(1, 60, k), "m2i": u(1, 60, k), "sd1i": u(0.2, 25, k),
            "sd2i": u(0.2, 25, k), "n1i": rng.integers(2, 400, k).astype(float),
            "n2i": rng.integers(2, 400, k).astype(float)}
    if measure == "SMD1":
        del args["sd1i"]
    if measure == "VR":
        del args["m1i"], args["m2i"]
    return args


@dataclass
class Cases:
    escalc: list[dict[str, Any]] = field(default_factory=list)
    rma_data: dict[int, pd.DataFrame] = field(default_factory=dict)
    rma: list[dict[str, Any]] = field(default_factory=list)
    mh_data: dict[int, pd.DataFrame] = field(default_factory=dict)
    mh: list[dict[str, Any]] = field(default_factory=list)
    timing_sets: list[int] = field(default_factory=list)


_RMA_KINDS = ("plain", "plain", "plain", "k2", "identical", "tiny", "huge", "mixed", "mods",
              "mods", "mods2", "redundant", "kp", "dummy")


def _rma_dataset(rng: np.random.Generator, kind: str) -> tuple[pd.DataFrame, int]:
    k = {"k2": 2, "kp": 3}.get(kind, int(rng.choice([3, 4, 5, 6, 8, 12, 20, 40])))
    lo, hi = {"tiny": (1e-8, 1e-6), "huge": (1e4, 1e6), "mixed": (1e-4, 1e3)}.get(
        kind, (0.005, 0.5))
    vi = np.exp(rng.uniform(np.log(lo), np.log(hi), k))
    tau = math.sqrt(hi) * rng.choice([0.0, 0.3, 1.0, 3.0])
    x = rng.normal(0, 1, (k, 3))
    nmods = {"mods": 1, "mods2": 2, "redundant": 2, "kp": 2, "dummy": 1}.get(kind, 0)
    if kind == "redundant":
        x[:, 1] = 2 * x[:, 0] - 1
    if kind == "dummy":
        x[:, 0] = rng.integers(0, 2, k)
    yi = 0.3 + 0.5 * x[:, 0] + rng.normal(0, 1, k) * np.sqrt(vi + tau**2)
    if kind == "identical":
        yi = np.full(k, 0.25)
    w = (1 / vi) * rng.uniform(0.5, 2, k)
    data = pd.DataFrame({"yi": yi, "vi": vi, "w": w, "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2]})
    return data, nmods


def _mh_dataset(rng: np.random.Generator, kind: str) -> pd.DataFrame:
    k = int(rng.integers(2, 11))
    data = {n: _counts(rng, k, kind != "plain") for n in ("ai", "bi", "ci", "di")}
    data.update(x1i=_counts(rng, k, kind != "plain"), x2i=_counts(rng, k, kind != "plain"),
                t1i=rng.uniform(10, 3000, k), t2i=rng.uniform(10, 3000, k))
    if kind == "noevents_arm":  # no events in group 1 of any table: MH OR/RR undefined
        data["ai"][:] = 0
        data["x1i"][:] = 0
    if kind == "noevents":
        data["ai"][:] = data["ci"][:] = 0
        data["x1i"][:] = data["x2i"][:] = 0
    if kind == "balanced":  # sum(O - E) close to 0: continuity correction beyond |dev|
        data["ci"], data["di"] = data["ai"].copy(), data["bi"].copy()
    return pd.DataFrame(data)


def generate(seed: int = 2025, datasets: int = 240) -> Cases:
    """Seeded cases: escalc for every shared measure and variance type, ``datasets``
    meta-analysis data sets (a few methods and tests each), and 2x2 / person-time sets."""
    rng = np.random.default_rng(seed)
    cases = Cases()
    n_escalc = max(2, datasets // 60)
    for measure, vtypes in VTYPES_38.items():
        repeats = 1 if measure == "RTET" else n_escalc
        for rep in range(repeats):
            args = _escalc_args(measure, rng, int(rng.integers(3, 9)))
            counts = measure in _TABLE or measure in _PAIRS or measure.startswith(("IR", "P"))
            to = str(rng.choice(["only0", "all", "if0all", "none"])) if counts else "only0"
            add = float(rng.choice([0.5, 1.0])) if counts and rng.random() < 0.3 else math.nan
            drop00 = bool(counts and rng.random() < 0.3)
            cases.escalc.append({"case": len(cases.escalc), "measure": measure,
                                 "vtype": vtypes[rep % len(vtypes)], "add": add, "to": to,
                                 "drop00": drop00, "args": args})
    for d in range(datasets):
        kind = _RMA_KINDS[d % len(_RMA_KINDS)]
        data, nmods = _rma_dataset(rng, kind)
        cases.rma_data[d] = data
        if kind == "plain" and nmods == 0:
            cases.timing_sets.append(d)
        methods = ["EE"] if kind == "kp" else list(rng.choice(RMA_METHODS, 5, replace=False))
        for method in methods:
            test = str(rng.choice(TESTS))
            uniroot = method in UNIROOT
            cases.rma.append({
                "case": len(cases.rma), "dataset": d, "method": method, "test": test,
                "nmods": nmods, "intercept": not (nmods and rng.random() < 0.15),
                "weighted": method == "GENQ" or (method in ("EE", "DL") and rng.random() < 0.2),
                "tau2": 0.1 if method in ("REML", "DL") and rng.random() < 0.1 else math.nan,
                "tol": 1e-12 if uniroot and rng.random() < 0.8 else math.nan,
            })
    for d in range(max(20, datasets // 2)):
        kind = ("plain", "zeros", "zeros", "balanced", "noevents_arm", "noevents")[d % 6]
        cases.mh_data[d] = _mh_dataset(rng, kind)
        for fn, measure in (("mh", "OR"), ("mh", "RR"), ("mh", "RD"), ("mh", "IRR"),
                            ("mh", "IRD"), ("peto", "PETO")):
            cases.mh.append({"case": len(cases.mh), "dataset": d, "fn": fn, "measure": measure,
                             "correct": bool(rng.random() < 0.7)})
    return cases


# ------------------------------------------------------------------ running both sides


def find_r() -> str | None:
    """Path of ``Rscript`` when it exists and loads metafor, else None."""
    path = shutil.which("Rscript")
    if path is None:
        return None
    try:
        done = subprocess.run([path, "-e", "suppressMessages(library(metafor))"],
                              capture_output=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if done.returncode == 0 else None


def _write_inputs(cases: Cases, folder: Path, reps: int) -> None:
    rows, meta = [], []
    for c in cases.escalc:
        k = len(next(iter(c["args"].values())))
        for i in range(k):
            rows.append({"case": c["case"], "row": i,
                         **{a: c["args"][a][i] if a in c["args"] else math.nan for a in ARGS}})
        meta.append({"case": c["case"], "measure": c["measure"], "vtype": c["vtype"],
                     "add": c["add"], "to": c["to"], "drop00": str(c["drop00"]).upper(),
                     "args": " ".join(c["args"])})
    pd.DataFrame(rows).to_csv(folder / "escalc_args.csv", index=False, float_format="%.17g")
    pd.DataFrame(meta).to_csv(folder / "escalc_cases.csv", index=False)
    data = pd.concat([d.assign(dataset=i) for i, d in cases.rma_data.items()])
    data.to_csv(folder / "rma_data.csv", index=False, float_format="%.17g")
    frame = pd.DataFrame(cases.rma)
    for col in ("intercept", "weighted"):
        frame[col] = frame[col].map(lambda b: str(b).upper())
    frame.to_csv(folder / "rma_cases.csv", index=False, float_format="%.17g")
    mh = pd.concat([d.assign(dataset=i) for i, d in cases.mh_data.items()])
    mh.to_csv(folder / "mh_data.csv", index=False, float_format="%.17g")
    mcases = pd.DataFrame(cases.mh)
    mcases["correct"] = mcases["correct"].map(lambda b: str(b).upper())
    mcases.to_csv(folder / "mh_cases.csv", index=False)
    pd.DataFrame({"dataset": cases.timing_sets, "reps": reps}).to_csv(
        folder / "timing_sets.csv", index=False)


def run_r(cases: Cases, rscript: str, *, reps: int = 5, timeout: float = 900) -> dict[str, Any]:
    """Compute every case in one Rscript process; returns its outputs as DataFrames."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _write_inputs(cases, folder, reps)
        done = subprocess.run([rscript, str(R_SCRIPT), str(folder)], capture_output=True,
                              text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"Rscript failed ({done.returncode}): {done.stderr[-2000:]}")
        read = {name: pd.read_csv(folder / f"{name}_out.csv", keep_default_na=False,
                                  dtype=str) for name in ("escalc", "rma", "mh", "timing",
                                                          "version")}
    return read


def _ours_escalc(c: dict[str, Any], correct: bool = True) -> pd.DataFrame:
    add = None if math.isnan(c["add"]) else c["add"]
    return escalc(c["measure"], vtype=c["vtype"], add=add, to=c["to"], drop00=c["drop00"],
                  correct=correct, **c["args"])


def _rma_values(res: Any) -> dict[str, float]:
    out = {"k": res.k, "p": res.p, "tau2": res.tau2, "se.tau2": res.se_tau2, "I2": res.I2,
           "H2": res.H2, "QE": res.QE, "QEp": res.QEp, "QM": res.QM, "QMp": res.QMp,
           "R2": math.nan if res.R2 is None else res.R2}
    for j in range(res.p):
        for name, arr in (("beta", res.beta), ("se", res.se), ("zval", res.zval),
                          ("pval", res.pval), ("ci.lb", res.ci_lb), ("ci.ub", res.ci_ub)):
            out[f"{name}{j + 1}"] = float(arr[j])
    if res.fit_stats is not None:
        for stat in res.fit_stats.index:
            for fit in res.fit_stats.columns:
                out[f"{stat}.{fit}"] = float(res.fit_stats.loc[stat, fit])
    for name, value in res.tests.items():
        out[name] = value
    return out


def _ours_rma(c: dict[str, Any], data: pd.DataFrame) -> dict[str, float] | None:
    mods = data[[f"x{j + 1}" for j in range(c["nmods"])]].to_numpy() if c["nmods"] else None
    try:
        res = rma(data["yi"].to_numpy(), data["vi"].to_numpy(), method=c["method"],
                  test=c["test"], mods=mods, intercept=c["intercept"],
                  weights=data["w"].to_numpy() if c["weighted"] else None,
                  tau2=None if math.isnan(c["tau2"]) else c["tau2"])
    except EvidenceSynthError:
        return None
    return _rma_values(res)


def _ours_mh(c: dict[str, Any], d: pd.DataFrame) -> dict[str, float] | None:
    try:
        if c["fn"] == "peto":
            res = rma_peto(d["ai"], d["bi"], d["ci"], d["di"])
        elif c["measure"] in ("IRR", "IRD"):
            res = rma_mh(x1i=d["x1i"], x2i=d["x2i"], t1i=d["t1i"], t2i=d["t2i"],
                         measure=c["measure"], correct=c["correct"])
        else:
            res = rma_mh(d["ai"], d["bi"], d["ci"], d["di"], measure=c["measure"],
                         correct=c["correct"])
    except EvidenceSynthError:
        return None
    values = _rma_values(res)
    return {k: v for k, v in values.items() if not k.startswith(("ll.", "dev.", "AIC", "BIC"))
            and k not in ("k", "p", "tau2", "se.tau2", "QM", "QMp", "R2")}


def _float(text: str) -> float:
    return math.nan if text in ("NA", "", "NaN") else float(text)


def _deviation(ours: np.ndarray, theirs: np.ndarray) -> np.ndarray:
    """|ours - theirs| / max(1, |theirs|); 0 where both are NaN, inf where only one is."""
    ours, theirs = np.asarray(ours, float), np.asarray(theirs, float)
    both = np.isnan(ours) & np.isnan(theirs)
    one = np.isnan(ours) ^ np.isnan(theirs)
    with np.errstate(invalid="ignore"):
        dev = np.abs(ours - theirs) / np.maximum(1.0, np.abs(theirs))
        inf = np.isinf(ours) & np.isinf(theirs) & (np.sign(ours) == np.sign(theirs))
    dev = np.where(both | inf, 0.0, dev)
    return np.where(one, np.inf, dev)


@dataclass
class Comparison:
    """Value-by-value comparison: one row per (area, name, quantity) with the number of
    values, the largest deviation, and for known differences the reason and the largest
    deviation of the metafor 3.8 formula."""

    rows: pd.DataFrame
    details: pd.DataFrame
    errors: pd.DataFrame
    timing: dict[str, float]
    version: str
    seconds: dict[str, float]

    def failures(self) -> pd.DataFrame:
        r = self.rows
        bad = (r["expected"] == "") & (r["max_dev"] > r["tolerance"])
        bad |= (r["expected"] != "") & (r["max_dev_38"] > r["tolerance"])
        return r[bad]

    def one_sided(self) -> pd.DataFrame:
        """Cases only one side refused, other than the known ones."""
        e = self.errors
        if e.empty:
            return e
        return e[(e["ours"].eq("") | e["metafor"].eq("")) & e["expected"].eq("")]

    def table(self) -> str:
        """Markdown: per area and quantity, the cases and the largest deviation; known
        differences on their own rows."""
        r = self.rows
        plain = r[r["expected"] == ""].groupby(["area", "quantity"], sort=False).agg(
            values=("values", "sum"), max_dev=("max_dev", "max"))
        lines = ["| area | quantity | values compared | max deviation |", "|---|---|---|---|"]
        for (area, quantity), row in plain.iterrows():
            lines.append(f"| {area} | {quantity} | {int(row['values'])} | "
                         f"{row['max_dev']:.1e} |")
        known = r[r["expected"] != ""]
        if len(known):
            lines += ["", "| expected difference | quantity | values | max deviation | "
                      "with the 3.8 formula | reason |", "|---|---|---|---|---|---|"]
            for _, row in known.iterrows():
                lines.append(f"| {row['area']} {row['name']} | {row['quantity']} | "
                             f"{int(row['values'])} | {row['max_dev']:.1e} | "
                             f"{row['max_dev_38']:.1e} | {row['expected']} |")
        return "\n".join(lines)


def _collect(frame: pd.DataFrame) -> pd.DataFrame:
    keys = ["area", "name", "quantity", "expected", "tolerance"]
    return frame.groupby(keys, sort=False, dropna=False).agg(
        values=("dev", "size"), max_dev=("dev", "max"), max_dev_38=("dev38", "max")
    ).reset_index()


def compare(cases: Cases, r: dict[str, Any]) -> Comparison:
    """Run this library on every case and compare with metafor's output ``r``."""
    records: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    clock = {"escalc": 0.0, "rma": 0.0, "mh": 0.0}
    start = time.perf_counter()
    eout = r["escalc"]
    for c in cases.escalc:
        theirs = eout[eout["case"] == str(c["case"])]
        r_error = theirs["error"].iloc[0] != ""
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = _ours_escalc(c)
        except EvidenceSynthError as err:
            ours, our_error = None, str(err)
        else:
            our_error = ""
        if r_error or ours is None:
            errors.append({"area": "escalc", "name": c["measure"], "case": c["case"],
                           "ours": our_error, "metafor": theirs["error"].iloc[0],
                           "expected": ""})
            continue
        exp = EXPECTED.get(c["measure"])
        old = exp.old(c["args"], ours, c["vtype"]) if exp and exp.old else None
        for j, q in enumerate(("yi", "vi")):
            r_vals = np.array([_float(x) for x in theirs[q]])
            dev = _deviation(ours[q].to_numpy(), r_vals)
            known = exp is not None and q in exp.quantities
            dev38 = _deviation(old[j], r_vals) if known and old is not None else dev
            for i, (d, d38) in enumerate(zip(dev, dev38, strict=True)):
                records.append({"area": "escalc", "name": c["measure"], "quantity": q,
                                "expected": exp.reason if known else "",
                                "tolerance": exp.tolerance if known else TOLERANCE,
                                "dev": d, "dev38": d38, "case": f"{c['case']}/{i}",
                                "ours": float(ours[q].iloc[i]), "metafor": float(r_vals[i])})
    clock["escalc"] = time.perf_counter() - start
    for area, case_list, data, out, run in (
        ("rma", cases.rma, cases.rma_data, r["rma"], _ours_rma),
        ("rma_mh", cases.mh, cases.mh_data, r["mh"], _ours_mh),
    ):
        start = time.perf_counter()
        grouped = dict(list(out.groupby("case")))
        for c in case_list:
            theirs = dict(zip(grouped[str(c["case"])]["quantity"],
                              grouped[str(c["case"])]["value"], strict=True))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ours = run(c, data[c["dataset"]])
            name = c["method"] if area == "rma" else ("PETO" if c["fn"] == "peto"
                                                       else c["measure"])
            dlit = area == "rma" and c["method"] == "DLIT"
            old = None
            if dlit:
                d = data[c["dataset"]]
                old = dlit_38(d["yi"].to_numpy(), d["vi"].to_numpy(), _design(c, d))
            if theirs.get("error") == "1" or ours is None:
                known = dlit and old is None and ours is not None
                errors.append({"area": area, "name": name, "case": c["case"],
                               "ours": "error" if ours is None else "",
                               "metafor": theirs.get("message", ""),
                               "expected": DLIT_38 if known else ""})
                continue
            loose = area == "rma" and c["method"] in UNIROOT and math.isnan(c["tol"])
            fixed = area == "rma" and not math.isnan(c["tau2"])
            noisy = False
            if area == "rma_mh" and c["measure"] == "OR":
                d = data[c["dataset"]]
                empty_group = ((d["ai"] + d["bi"] == 0) | (d["ci"] + d["di"] == 0)).any()
                noisy = bool(empty_group) or abs(_float(theirs.get("beta1", "NA"))) < 1e-8
            for q, value in ours.items():
                if q not in theirs or ((dlit or loose) and q != "tau2"):
                    continue
                r_value = _float(theirs[q])
                dev = float(_deviation(np.array([value]), np.array([r_value]))[0])
                expected, dev38 = "", dev
                if loose:
                    expected = "metafor's uniroot stops at tol = eps^0.25 (default); solved " \
                               "to 1e-12 here"
                elif dlit:
                    expected = DLIT_38
                    dev38 = float(_deviation(np.array([old]), np.array([r_value]))[0])
                elif fixed and q == "se.tau2":
                    expected, dev38 = FIXED_TAU2, 0.0 if math.isnan(value) else math.inf
                elif noisy and q in _BD:
                    expected, dev38 = BD_NOISE, 0.0
                records.append({
                    "area": area, "name": name, "quantity": _family(q), "expected": expected,
                    "tolerance": 2e-4 if loose else TOLERANCE, "dev": dev, "dev38": dev38,
                    "case": str(c["case"]), "ours": value, "metafor": r_value})
        clock[area] = time.perf_counter() - start
    timing = _timing(cases, r["timing"])
    frame = pd.DataFrame(records)
    worst = frame[np.where(frame["expected"] == "", frame["dev"], frame["dev38"])
                  > frame["tolerance"]]
    return Comparison(_collect(frame), worst, pd.DataFrame(errors), timing,
                      r["version"]["version"].iloc[0], clock)


_PER_COEFFICIENT = ("beta", "se", "zval", "pval", "ci.lb", "ci.ub")


def _family(quantity: str) -> str:
    """Quantity name without the coefficient number (beta1, beta2 -> beta)."""
    stem = quantity.rstrip("0123456789")
    return stem if stem in _PER_COEFFICIENT else quantity


def _timing(cases: Cases, r_timing: pd.DataFrame) -> dict[str, float]:
    sets = [cases.rma_data[d] for d in cases.timing_sets]
    reps = len(r_timing)
    ours = []
    for _ in range(reps):
        start = time.perf_counter()
        for d in sets:
            rma(d["yi"].to_numpy(), d["vi"].to_numpy(), method="REML")
        ours.append(time.perf_counter() - start)
    theirs = [float(x) for x in r_timing["seconds"]]
    fits = len(sets)
    med_ours, med_theirs = float(np.median(ours)), float(np.median(theirs))
    return {"fits": fits, "reps": reps, "ours_ms_per_fit": 1000 * med_ours / fits,
            "metafor_ms_per_fit": 1000 * med_theirs / fits, "ratio": med_theirs / med_ours}


def run(seed: int = 2025, datasets: int = 240, rscript: str | None = None) -> Comparison:
    """Generate, compute with R and with this library, compare."""
    rscript = rscript or find_r()
    if rscript is None:
        raise RuntimeError("Rscript with metafor is not available")
    cases = generate(seed, datasets)
    start = time.perf_counter()
    r = run_r(cases, rscript)
    r_seconds = time.perf_counter() - start
    comparison = compare(cases, r)
    comparison.seconds["Rscript"] = r_seconds
    return comparison


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--datasets", type=int, default=240)
    opts = parser.parse_args()
    comparison = run(opts.seed, opts.datasets)
    rows = comparison.rows
    print(f"metafor {comparison.version}; seed {opts.seed}; {len(rows)} (area, name, quantity) "
          f"groups; {int(rows['values'].sum())} values; "
          f"{len(comparison.errors)} cases where both sides refuse")
    print(comparison.table())
    t = comparison.timing
    print(f"\nREML, {t['fits']} intercept-only data sets x {t['reps']} repetitions, in-process "
          f"medians: metafor {t['metafor_ms_per_fit']:.2f} ms/fit, evidence_synth "
          f"{t['ours_ms_per_fit']:.2f} ms/fit, ratio metafor/ours {t['ratio']:.2f}")
    print("seconds:", {k: round(v, 1) for k, v in comparison.seconds.items()})
    failures = comparison.failures()
    if len(failures):
        print("\nFAILURES\n" + failures.to_string())
        print(comparison.details.sort_values("dev", ascending=False).head(60).to_string())
    mismatched = comparison.one_sided()
    if len(mismatched):
        print("\nONLY ONE SIDE REFUSED\n" + mismatched.to_string())


if __name__ == "__main__":
    main()
