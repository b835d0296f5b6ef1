"""Screening benchmark: our default ranker vs ASReview LAB's default, and stopping rules.

Runs over the labelled Cohen et al. (2006) sets in ../shared/data/screening/ (relevance =
``label_included``) and, with ``--migration``, the labelled migration/humanitarian sets of
../shared/data/migration (``benchmarks/_screening_sets.py``), several seeds, with the same
prior records for both tools (passed to ``simulate(..., prior_ids=...)``):

    python benchmarks/bench_screening.py                 # all Cohen sets, 3 seeds
    python benchmarks/bench_screening.py --sets Cohen_2006_Triptans --seeds 0
    ... --migration --asreview-python VENV/bin/python --asreview-sets 4 --asreview-seeds 1

ASReview runs in its own virtual environment (``pip install asreview`` there, never in
the project's), one subprocess per simulation (``benchmarks/_asreview_runner.py``);
``--asreview-cache DIR`` keeps its orders so a rerun does not repeat them. Metrics follow
asreview-insights with priors excluded. Stopping rules are replayed on our ranked order
(the random-sampling rule draws the unscreened records in random order after its trigger).
The default stopping rule's parameters (the calibrated Poisson quantile) were chosen on
the four ``TUNING_SETS`` only; the stopping table reports them apart from the other sets.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import _screening_sets as sets  # noqa: E402

from evidence_synth.screen.metrics import screening_metrics  # noqa: E402
from evidence_synth.screen.simulate import simulate  # noqa: E402
from evidence_synth.screen.stopping import (  # noqa: E402
    HypergeometricStop,
    KneeStop,
    NIrrelevantInARow,
    replay_stopping,
)
from evidence_synth.screen.stopping_methods import (  # noqa: E402
    default_stopping_rule,
    stopping_rule,
)
from evidence_synth.screen.stopping_poisson import PoissonProcessStop  # noqa: E402

DATA = sets.SCREENING
RUNNER = Path(__file__).resolve().parent / "_asreview_runner.py"
#: The sets the default stopping rule was chosen on; the others are held out from it.
TUNING_SETS = ("Cohen_2006_ACEInhibitors", "Cohen_2006_Antihistamines",
               "Cohen_2006_CalciumChannelBlockers", "Cohen_2006_Opiods")


def stopping_rules() -> dict:
    return {
        "default: poisson_power at quantile 0.8 (calibrated)": default_stopping_rule(),
        "previous default: poisson_power | hypergeom": stopping_rule(
            "sneyd_stevenson_or_callaghan_muller_hansen"),
        "hypergeom_quasi (CMH 2020)": HypergeometricStop(0.95, 0.95),
        "hypergeom_random_after_50": HypergeometricStop(0.95, 0.95, sample_after=50),
        "poisson_power (SS 2021)": PoissonProcessStop(rate="power"),
        "poisson_exponential (SS 2019)": PoissonProcessStop(rate="exponential"),
        "knee (CG 2016)": KneeStop(),
        "50_in_a_row": NIrrelevantInARow(50),
        "100_in_a_row": NIrrelevantInARow(100),
    }


def _load_module():
    return sets.cohen_module()


def _asreview(python: str, df: pd.DataFrame, priors: list[int], seed: int, cache: Path | None,
              name: str, cache_only: bool = False) -> dict | None:
    key = None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
        key = cache / f"{name}_seed{seed}_priors{'-'.join(map(str, priors))}.json"
        if key.exists():
            return json.loads(key.read_text())
    if cache_only:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "data.csv"
        df.assign(included=df["label"])[["title", "abstract", "included"]].to_csv(
            csv, index=False
        )
        job = json.dumps({"csv": str(csv), "priors": priors, "seed": seed})
        start = time.perf_counter()
        out = subprocess.run([python, str(RUNNER)], input=job, capture_output=True, text=True,
                             check=True)
        wall = time.perf_counter() - start
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["wall_seconds"] = wall
    if key is not None:
        key.write_text(json.dumps(res))
    return res


def _priors(y: np.ndarray, seed: int) -> list[int]:
    """Row indices of the priors that simulate() draws for this seed (1 + 1)."""
    rng = np.random.default_rng(seed)
    inc = rng.choice(np.flatnonzero(y == 1), 1, replace=False)
    exc = rng.choice(np.flatnonzero(y == 0), 1, replace=False)
    return [int(inc[0]), int(exc[0])]


def _asreview_row(args, name: str, df: pd.DataFrame, seed: int) -> dict | None:
    y = df["label"].to_numpy()
    priors = _priors(y, seed)
    try:
        a = _asreview(args.asreview_python, df, priors, seed, args.asreview_cache, name,
                      args.asreview_cache_only)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(f"ASReview failed on {name} seed {seed}: {exc}", file=sys.stderr)
        return None
    if a is None:
        return None
    lab = y[a["order"][len(priors):]]
    lab = np.concatenate([lab, np.zeros(len(df) - len(a["order"]), int)])
    am = screening_metrics(lab)
    return {"dataset": name, "seed": seed, "tool": "asreview_elas_u4", "records": len(df),
            **{k: am[k] for k in ("wss_95", "wss_100", "recall_at_10", "recall_at_25",
                                  "erf_10")},
            "seconds": a["seconds"], "cpu_seconds": a.get("cpu_seconds", np.nan)}


def reload(args) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Our results from an earlier run's CSVs, with ASReview rows from the cache."""
    data = _datasets(args)
    results = pd.read_csv(f"{args.load}_ranking.csv")
    stops = pd.read_csv(f"{args.load}_stopping.csv")
    ours = results[results.tool == "evidence_synth"]
    rows = ours.to_dict("records")
    for name in ours.dataset.unique():
        df = data[name]()
        for seed in sorted(ours[ours.dataset == name].seed.unique()):
            if seed in args.asreview_seeds:
                row = _asreview_row(args, name, df, int(seed))
                if row is not None:
                    rows.append(row)
    return pd.DataFrame(rows), stops


def _datasets(args) -> dict:
    """Set name -> a function loading it (``record_id, title, abstract, label``)."""
    module = _load_module()
    out = {name: (lambda name=name: sets.cohen(name, module)) for name in module.DATASETS}
    if args.migration:
        migration = sets.migration()
        out.update({name: (lambda df=df: df) for name, df in migration.items()})
    return out


def run(args) -> tuple[pd.DataFrame, pd.DataFrame]:
    data = _datasets(args)
    names = args.sets or list(data)
    asr_names = names[: args.asreview_sets] if args.asreview_sets else names
    rows, stops = [], []
    for name in names:
        df = data[name]()
        y = df["label"].to_numpy()
        for seed in args.seeds:
            priors = df["record_id"].to_numpy()[_priors(y, seed)].tolist()
            res = simulate(df, y, prior_ids=priors, stopping=False, random_state=seed)
            m = res.metrics()
            rows.append({"dataset": name, "seed": seed, "tool": "evidence_synth",
                         "records": len(df), **{k: m[k] for k in
                         ("wss_95", "wss_100", "recall_at_10", "recall_at_25", "erf_10")},
                         "seconds": res.seconds, "cpu_seconds": res.cpu_seconds})
            n_non_prior = len(df) - res.n_prior
            r_non_prior = int(res.labels[res.n_prior:].sum())
            for rule_name, rule in stopping_rules().items():
                decision, screened = replay_stopping(res.labels, rule, n_prior=res.n_prior,
                                                     random_state=seed)
                k = decision.n_screened - res.n_prior
                found = int(screened[res.n_prior: decision.n_screened].sum())
                stops.append({"dataset": name, "seed": seed, "rule": rule_name,
                              "tuning": name in TUNING_SETS,
                              "stopped": decision.stop, "recall": found / r_non_prior,
                              "work_saved": 1 - k / n_non_prior,
                              "estimated_recall": decision.estimated_recall})
            oracle = int(np.flatnonzero(np.cumsum(res.labels[res.n_prior:])
                                        >= np.ceil(0.95 * r_non_prior))[0]) + 1
            stops.append({"dataset": name, "seed": seed, "rule": "oracle: stop at 95% recall",
                          "tuning": name in TUNING_SETS, "stopped": True,
                          "recall": np.ceil(0.95 * r_non_prior) / r_non_prior,
                          "work_saved": 1 - oracle / n_non_prior, "estimated_recall": None})
            if args.asreview_python and name in asr_names and seed in args.asreview_seeds:
                row = _asreview_row(args, name, df, seed)
                if row is not None:
                    rows.append(row)
            print(f"{name} seed {seed}: " + ", ".join(
                f"{r['tool']} WSS@95 {r['wss_95']:.3f} R@10 {r['recall_at_10']:.3f} "
                f"{r['seconds']:.1f}s" for r in rows if r["dataset"] == name
                and r["seed"] == seed), flush=True)
    return pd.DataFrame(rows), pd.DataFrame(stops)


def _md(df: pd.DataFrame) -> str:
    """A DataFrame as a Markdown table (index included), without extra dependencies."""
    df = df.reset_index()
    cells = [[f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
             for row in df.itertuples(index=False)]
    head = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def tables(results: pd.DataFrame, stops: pd.DataFrame) -> str:
    out = []
    metrics = ["wss_95", "recall_at_10", "erf_10", "seconds", "cpu_seconds"]
    # only (set, seed) pairs that every tool ran, so the tools are compared like for like
    runs = results.groupby(["dataset", "seed"])["tool"].transform("nunique")
    paired = results[runs == results["tool"].nunique()]
    per_set = paired.groupby(["dataset", "tool"])[metrics].mean().unstack("tool")
    per_set.columns = [f"{m} {t}" for m, t in per_set.columns]
    n_pairs = paired.groupby(["dataset", "seed"]).ngroups
    out.append(f"## Ranking per set, mean over the {n_pairs} (set, seed) runs all tools ran\n")
    out.append(_md(per_set))
    means = paired.groupby("tool")[metrics].mean()
    out.append(f"\n\n## Mean over those {n_pairs} runs\n")
    out.append(_md(means))
    ours_all = results[results.tool == "evidence_synth"]
    out.append(f"\n\nevidence_synth over all {len(ours_all)} runs: WSS@95 "
               f"{ours_all.wss_95.mean():.3f}, recall@10% {ours_all.recall_at_10.mean():.3f}, "
               f"ERF@10% {ours_all.erf_10.mean():.3f}")
    for tool, part in paired.groupby("tool"):
        big = part[part.records >= 1500]
        out.append(f"\n\n{tool}: sets of 1,500+ records, mean wall {big.seconds.mean():.1f} s, "
                   f"CPU {big.cpu_seconds.mean():.1f} s per simulation "
                   f"({len(big)} runs, {big.records.mean():.0f} records on average)")
    stops = stops.assign(work=1 - stops["work_saved"],
                         group=np.where(stops["tuning"], "tuning sets",
                                        np.where(stops["dataset"].str.startswith("Cohen"),
                                                 "Cohen, held out", "migration, held out")))
    for group, part in [*stops.groupby("group"),
                        ("all held-out sets", stops[~stops["tuning"]])]:
        summary = part.groupby("rule").agg(
            runs=("recall", "size"),
            safe_runs=("recall", lambda r: int((r >= 0.95).sum())),
            share_safe=("recall", lambda r: float((r >= 0.95).mean())),
            work_mean=("work", "mean"),
            recall_median=("recall", "median"),
            recall_worst=("recall", "min"),
        )
        out.append(f"\n\n## Stopping rules on {group} (replayed on our ranked orders; "
                   "work = share of non-prior records screened at the stop)\n")
        out.append(_md(summary))
    return "\n".join(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sets", nargs="*", help="dataset names (default: all 12 Cohen sets)")
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument("--migration", action="store_true",
                   help="also the labelled migration/humanitarian sets of ../shared")
    p.add_argument("--asreview-python", default="",
                   help="interpreter of a venv with asreview; '' to skip ASReview")
    p.add_argument("--asreview-sets", type=int, default=0,
                   help="run ASReview on the first N sets only (0 = all)")
    p.add_argument("--asreview-seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument("--asreview-cache", type=Path, default=None)
    p.add_argument("--asreview-cache-only", action="store_true",
                   help="use cached ASReview runs only, never start new ones")
    p.add_argument("--out", type=Path, default=None, help="write CSVs with this prefix")
    p.add_argument("--load", default=None,
                   help="reuse our results from CSVs written with --out (this prefix) and "
                        "add the cached ASReview runs")
    args = p.parse_args(argv)
    if args.asreview_python and not Path(args.asreview_python).exists():
        print(f"{args.asreview_python} not found: ASReview skipped", file=sys.stderr)
        args.asreview_python = ""
    if not DATA.exists():
        print(f"{DATA} not present", file=sys.stderr)
        return 1
    results, stops = reload(args) if args.load else run(args)
    if args.out:
        results.to_csv(f"{args.out}_ranking.csv", index=False)
        stops.to_csv(f"{args.out}_stopping.csv", index=False)
    print(tables(results, stops))
    return 0


if __name__ == "__main__":
    sys.exit(main())
