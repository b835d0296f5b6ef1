"""Deduplication benchmark: labelled sets (leave-one-set-out), bib-dedupe, synthetic scale.

Run from the repository root (not part of the test suite)::

    python benchmarks/bench_dedup.py                       # everything
    python benchmarks/bench_dedup.py --sets cardiac,neuroimaging --no-peer --scale 0

For each labelled set in ``../shared/data/dedup`` the pair classifier is trained on the
*other* sets (leave-one-set-out; the honest figure) and evaluated with the scorers of the
sets' ``load.py``: pairwise precision/recall/F1, records removed / wrongly removed, wall
time, review-queue size, and F1 once the queue is answered from the labels;
``--versions-merge`` sets are scored a second time with ``versions="merge"`` (versions of
one Cochrane review merged, the sets' own convention; the default links them). The shipped
model (trained on all sets, so in-sample) is reported alongside. bib-dedupe runs as a
subprocess from its own virtual environment (``--peer-python``). ``--scale N`` times
``find_duplicates`` on N synthetic records built from the real ones (see
``synthetic_records``: spliced distinct works plus 35% duplicates with database variants),
in a child process, reporting wall time, peak memory (max RSS) and pairwise precision,
recall and F1 against the known truth of the synthetic set. ``--hard`` evaluates the
synthetic hard-case sets of ``benchmarks/hard_cases.py`` (``hard-tuning``: half 0, seed 1,
used while choosing the rules; ``hard-report``: half 1, seed 2, held out in round one;
``hard-fresh``: half 1, seed 3, built once at the end of round three; ``hard-fresh4``:
half 1, seed 4, built once at the end of round four) with the shipped
model, under both conventions for errata and comments (``notices="link"``: counted with
their article's study; ``"separate"``), with bib-dedupe on the same records, and prints
what became of each case's true pairs and hard negatives (merged, queued, held back).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from evidence_synth.dedup import find_duplicates  # noqa: E402
from evidence_synth.dedup._labelled import DEFAULT_DIR, SETS, labelled_records, load_module  # noqa: E402
from evidence_synth.dedup._model import PairModel  # noqa: E402
from evidence_synth.dedup._train import cap_rows, fit_model, training_pairs  # noqa: E402


def _answer_queue(result, records: pd.DataFrame) -> pd.DataFrame:
    truth = dict(zip(records["record_id"], records["true_group"], strict=True))
    q = result.review_queue()
    return pd.DataFrame({
        "record_id_1": q["record_id_1"], "record_id_2": q["record_id_2"],
        "decision": ["match" if truth[a] == truth[b] else "distinct"
                     for a, b in zip(q["record_id_1"], q["record_id_2"], strict=True)],
    })


def _evaluate(L, name: str, records: pd.DataFrame, model, label: str, *,
              versions: str = "link") -> dict:
    t, c = time.perf_counter(), time.process_time()
    res = find_duplicates(records, model=model, versions=versions)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    truth = records["true_group"].to_numpy()
    pred = res.groups["group_id"].to_numpy()
    p, r, f = L.pairwise_scores(truth, pred)
    rs = L.record_scores(truth, pred)
    sp, sr, sf = L.pairwise_scores(truth, res.groups["study_id"].to_numpy())
    answers = _answer_queue(res, records)
    res2 = find_duplicates(records, model=model, versions=versions, manual_decisions=answers)
    p2, _, f2 = L.pairwise_scores(truth, res2.groups["group_id"].to_numpy())
    return {"set": name, "tool": label, "records": len(records), "precision": p, "recall": r,
            "f1": f, "removed": rs["removed"], "wrongly_removed": rs["wrongly_removed"],
            "seconds": seconds, "cpu_seconds": cpu, "queue": len(answers),
            "queue_share": len(answers) / len(records), "f1_after_review": f2,
            "precision_after_review": p2, "study_precision": sp, "study_recall": sr,
            "study_f1": sf}


def _peer(L, name: str, records: pd.DataFrame, python: str, data_dir: str,
          timeout: int) -> dict:
    row = {"set": name, "tool": "bib-dedupe", "records": len(records)}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        cmd = [python, str(ROOT / "benchmarks" / "_run_bibdedupe.py"), data_dir, name, str(out),
               "2"]
        t = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            row["error"] = f"timeout after {timeout}s"
            return row
        wall = time.perf_counter() - t
        if proc.returncode != 0 or not out.exists():
            row["error"] = (proc.stderr.strip().splitlines() or ["failed"])[-1][:120]
            return row
        data = json.loads(out.read_text())
    pred = pd.Series(data["group"], index=data["record_id"]).reindex(records["record_id"])
    truth = records["true_group"].to_numpy()
    p, r, f = L.pairwise_scores(truth, pred.to_numpy())
    rs = L.record_scores(truth, pred.to_numpy())
    row.update({"precision": p, "recall": r, "f1": f, "removed": rs["removed"],
                "wrongly_removed": rs["wrongly_removed"], "seconds": data["seconds"],
                "cpu_seconds": data.get("cpu_seconds"), "queue": data.get("maybe_pairs"),
                "wall_incl_load": wall})
    return row


# ----------------------------------------------------------------------------- hard cases
HARD_SETS = {"hard-tuning": (0, 1), "hard-report": (1, 2), "hard-fresh": (1, 3),
             "hard-fresh4": (1, 4)}


def _hard(L, name: str, python: str | None, timeout: int) -> tuple[list[dict], pd.DataFrame]:
    """Our rows (default options, and notices kept separate) and bib-dedupe's on one
    synthetic hard-case set, plus the per-case pair outcomes of our default run."""
    from hard_cases import hard_cases, pair_outcomes

    half, seed = HARD_SETS[name]
    rec = hard_cases(half=half, seed=seed)
    truth = rec["true_group"].to_numpy()
    records = rec.drop(columns=["case", "true_group", "true_study"])
    own_study = np.where(rec["case"].to_numpy() == "notice", truth, rec["true_study"])
    rows, outcomes = [], None
    for notices in ("link", "separate"):
        t, c = time.perf_counter(), time.process_time()
        res = find_duplicates(records, notices=notices)
        seconds, cpu = time.perf_counter() - t, time.process_time() - c
        pred = res.groups["group_id"].to_numpy()
        p, r, f = L.pairwise_scores(truth, pred)
        study = res.groups["study_id"].to_numpy()
        rows.append({"set": name, "tool": f"evidence_synth (notices={notices})",
                     "records": len(rec), "precision": p, "recall": r, "f1": f,
                     "removed": L.record_scores(truth, pred)["removed"],
                     "wrongly_removed": L.record_scores(truth, pred)["wrongly_removed"],
                     "seconds": seconds, "cpu_seconds": cpu,
                     "queue": len(res.review_queue()),
                     "queue_share": len(res.review_queue()) / len(rec),
                     "study_f1_linked": L.pairwise_scores(rec["true_study"], study)[2],
                     "study_f1_separate": L.pairwise_scores(own_study, study)[2]})
        if notices == "link":
            outcomes = pair_outcomes(rec, res).assign(set=name)
    if python:
        with tempfile.TemporaryDirectory() as tmp:
            csv = Path(tmp) / f"{name}.csv"
            _bibdedupe_csv(records).to_csv(csv, index=False)
            out = Path(tmp) / "out.json"
            cmd = [python, str(ROOT / "benchmarks" / "_run_bibdedupe.py"), "-", str(csv),
                   str(out), "2"]
            row = {"set": name, "tool": "bib-dedupe", "records": len(rec)}
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
                data = json.loads(out.read_text())
                pred = pd.Series(data["group"], index=data["record_id"]).reindex(
                    records["record_id"]).to_numpy()
                p, r, f = L.pairwise_scores(truth, pred)
                rs = L.record_scores(truth, pred)
                row.update({"precision": p, "recall": r, "f1": f, "removed": rs["removed"],
                            "wrongly_removed": rs["wrongly_removed"],
                            "seconds": data["seconds"], "cpu_seconds": data.get("cpu_seconds")})
            except (subprocess.TimeoutExpired, OSError, ValueError) as exc:
                row["error"] = (proc.stderr.strip().splitlines() or [str(exc)])[-1][:160] \
                    if "proc" in locals() else str(exc)[:160]
            rows.append(row)
    return rows, outcomes


def _bibdedupe_csv(rec: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "ID": rec["record_id"], "ENTRYTYPE": "article",
        "author": rec["authors"].map(lambda a: " and ".join(a)),
        "title": rec["title"].fillna(""), "year": rec["year"].astype("string").fillna(""),
        "journal": rec["journal"].fillna(""), "volume": rec["volume"].fillna(""),
        "number": rec["issue"].fillna(""), "pages": rec["pages"].fillna(""),
        "doi": rec["doi"].fillna(""), "abstract": rec["abstract"].fillna(""),
    })


# ----------------------------------------------------------------------------- scale
DUPLICATE_SHARE = 0.35


def synthetic_records(n: int, data_dir: str, seed: int = 0) -> pd.DataFrame:
    """``n`` records like a large multi-database search, with a ``true_group`` column.

    The 68k real records of the labelled sets (with their own duplicates) are the start.
    Further distinct works are spliced from real ones (first half of one title, second
    half of another, authors, journal, year and pages of others, a unique DOI), so they
    look real and share words with real records without being duplicates. Then 35% of
    the records are copies of a work, or of a copy, with the variants databases produce:
    lower case, changed punctuation, missing DOI, abstract or pages, abbreviated journal.
    """
    rng = np.random.default_rng(seed)
    base = pd.concat([labelled_records(s, data_dir).assign(
        true_group=lambda d, s=s: s + ":" + d["true_group"].astype(str)) for s in SETS],
        ignore_index=True)
    base["record_id"] = [f"r{k}" for k in range(len(base))]
    if n <= len(base):
        return base.iloc[np.sort(rng.choice(len(base), n, replace=False))].reset_index(drop=True)
    n_copies = int(n * DUPLICATE_SHARE)
    n_works = max(0, n - n_copies - len(base))
    pool = pd.concat([base, _spliced_works(base, n_works, rng)], ignore_index=True)
    return pd.concat([pool, _variants(pool, n - len(pool), rng)], ignore_index=True)


def _spliced_works(base: pd.DataFrame, m: int, rng: np.random.Generator) -> pd.DataFrame:
    if m == 0:
        return base.iloc[:0]
    pick = [rng.integers(0, len(base), m) for _ in range(4)]
    words_a = base["title"].fillna("").to_numpy()[pick[0]]
    words_b = base["title"].fillna("").to_numpy()[pick[1]]
    titles = []
    for a, b in zip(words_a, words_b, strict=True):
        a, b = a.split(), b.split()
        titles.append(" ".join(a[:max(1, len(a) // 2)] + b[len(b) // 2:]))
    works = base.iloc[pick[2]].reset_index(drop=True).copy()
    works["title"] = pd.array(titles, dtype="string")
    source = base.iloc[pick[3]].reset_index(drop=True)
    for col in ("journal", "volume", "issue", "pages"):
        works[col] = source[col].to_numpy()
    works["year"] = rng.integers(1960, 2025, m).astype(float)
    works["abstract"] = (works["abstract"].fillna("").str.slice(0, 400) + " "
                         + source["abstract"].fillna("").str.slice(400))
    works["doi"] = pd.array([f"10.99999/synthetic.{k}" for k in range(m)], dtype="string")
    works["record_id"] = [f"w{k}" for k in range(m)]
    works["true_group"] = [f"work:{k}" for k in range(m)]
    return works


def _variants(pool: pd.DataFrame, m: int, rng: np.random.Generator) -> pd.DataFrame:
    picks = rng.integers(0, len(pool), m)
    again = rng.random(m) < 0.1  # a copy of an earlier copy
    picks[again] = rng.integers(0, len(pool), again.sum())
    copies = pool.iloc[picks].copy().reset_index(drop=True)
    copies["record_id"] = [f"v{k}" for k in range(m)]
    title = copies["title"].astype("object")
    lower = rng.random(m) < 0.3
    title[lower] = title[lower].str.lower()
    punct = rng.random(m) < 0.3
    title[punct] = title[punct].str.replace(":", " -", regex=False).str.rstrip(".") + "."
    copies["title"] = pd.array(title, dtype="string")
    for col, share in (("doi", 0.3), ("abstract", 0.3), ("pages", 0.2)):
        copies.loc[rng.random(m) < share, col] = pd.NA
    abbrev = rng.random(m) < 0.4
    copies.loc[abbrev, "journal"] = copies.loc[abbrev, "journal"].map(
        lambda j: " ".join(w[:4] for w in str(j).split() if w.lower() not in ("of", "and")),
        na_action="ignore")
    return copies


def _scale_child(n: int, data_dir: str) -> None:
    records = synthetic_records(n, data_dir)
    truth = records.pop("true_group").to_numpy()
    t = time.perf_counter()
    res = find_duplicates(records)
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    s = res.counts()["value"]
    p, r, f = load_module(data_dir).pairwise_scores(truth, res.groups["group_id"].to_numpy())
    print(json.dumps({"records": n, "seconds": seconds, "peak_mb": peak,
                      "pairs": int(s["pairs compared"]), "groups": int(s["groups"]),
                      "review": int(s["pairs to review"]), "precision": p, "recall": r,
                      "f1": f, "stages": res.params["timings"]}))


def _scale(n: int, data_dir: str, python: str | None, timeout: int, *,
           ours: bool = True) -> list[dict]:
    rows = []
    if ours:
        proc = subprocess.run([sys.executable, __file__, "--scale-child", str(n), "--data",
                               data_dir], capture_output=True, text=True)
        if proc.returncode == 0:
            rows.append({"tool": "evidence_synth",
                         **json.loads(proc.stdout.strip().splitlines()[-1])})
        else:
            rows.append({"tool": "evidence_synth", "records": n,
                         "error": proc.stderr.strip().splitlines()[-1][:200]})
    if python:
        with tempfile.TemporaryDirectory() as tmp:
            rec = synthetic_records(n, data_dir)
            csv = Path(tmp) / "synthetic.csv"
            _bibdedupe_csv(rec).to_csv(csv, index=False)
            out = Path(tmp) / "out.json"
            cmd = ["/usr/bin/time", "-f", "%M", python,
                   str(ROOT / "benchmarks" / "_run_bibdedupe.py"), data_dir, str(csv), str(out)]
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
                data = json.loads(out.read_text())
                peak = float(proc.stderr.strip().splitlines()[-1]) / 1024
                rows.append({"tool": "bib-dedupe", "records": n, "seconds": data["seconds"],
                             "peak_mb": peak})
            except subprocess.TimeoutExpired:
                rows.append({"tool": "bib-dedupe", "records": n,
                             "error": f"timeout after {timeout}s"})
            except (OSError, ValueError) as exc:
                rows.append({"tool": "bib-dedupe", "records": n, "error": str(exc)[:200]})
    return rows


def _report(rows: list[dict], scale_rows: list[dict]) -> None:
    if rows:
        _report_sets(rows)
    if scale_rows:
        print("\n## Scale\n")
        print(pd.DataFrame(scale_rows).to_string(index=False))


def _report_sets(rows: list[dict]) -> None:
    table = pd.DataFrame(rows)
    fmt = {"precision": "{:.4f}", "recall": "{:.4f}", "f1": "{:.4f}", "seconds": "{:.1f}",
           "study_f1_linked": "{:.4f}", "study_f1_separate": "{:.4f}",
           "queue_share": "{:.2%}", "f1_after_review": "{:.4f}",
           "precision_after_review": "{:.4f}", "wall_incl_load": "{:.1f}",
           "study_precision": "{:.4f}", "study_recall": "{:.4f}", "study_f1": "{:.4f}",
           "cpu_seconds": "{:.1f}", "ratio": "{:.3f}", "cpu_ratio": "{:.3f}"}
    peer = table[table["tool"] == "bib-dedupe"].set_index("set")
    for col, out in (("seconds", "ratio"), ("cpu_seconds", "cpu_ratio")):
        if col in table and col in peer:
            table[out] = [r[col] / peer[col].get(r["set"], np.nan)
                          if r["tool"] != "bib-dedupe" else np.nan for _, r in table.iterrows()]
    shown = table.copy()
    for col, f in fmt.items():
        if col in shown:
            shown[col] = shown[col].map(lambda v, f=f: "" if pd.isna(v) else f.format(v))
    shown = shown.sort_values(["set", "tool"], kind="mergesort")
    print("\n## Labelled sets\n")
    print(shown.to_markdown(index=False) if _has_tabulate() else shown.to_string(index=False))
    if "f1" in table:
        means = table.groupby("tool")[["precision", "recall", "f1"]].mean()
        print("\nMean over sets:\n" + means.to_string(float_format=lambda v: f"{v:.4f}"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(DEFAULT_DIR))
    ap.add_argument("--sets", default=",".join(SETS))
    ap.add_argument("--peer-python", default="/work/venvs/bibdedupe/bin/python")
    ap.add_argument("--no-peer", action="store_true", help="do not run bib-dedupe")
    ap.add_argument("--peer-only", action="store_true", help="run only bib-dedupe")
    ap.add_argument("--no-insample", action="store_true",
                    help="skip the shipped (in-sample) model's rows on the labelled sets")
    ap.add_argument("--peer-timeout", type=int, default=1200)
    ap.add_argument("--peer-scale", action="store_true",
                    help="also time bib-dedupe on the synthetic scale set")
    ap.add_argument("--peer-sets", default="", help="run bib-dedupe only on these sets")
    ap.add_argument("--scale", default="100000", help="comma-separated sizes; 0 = none")
    ap.add_argument("--hard", default=",".join(HARD_SETS),
                    help="synthetic hard-case sets to evaluate (benchmarks/hard_cases.py); "
                         "'' = none")
    ap.add_argument("--versions-merge", default="cardiac,neuroimaging,srsr",
                    help="labelled sets also scored with versions='merge' (the sets' own "
                         "convention for versions of one Cochrane review); '' = none")
    ap.add_argument("--write-model", action="store_true",
                    help="fit the model on all sets and write it as the shipped model first")
    ap.add_argument("--model-dir", default="",
                    help="save leave-one-set-out models here, and reuse them when present")
    ap.add_argument("--scale-child", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--out", default="", help="also write the tables as JSON here")
    ap.add_argument("--combine", nargs="*", default=None,
                    help="print one table from earlier --out JSON files and exit")
    args = ap.parse_args(argv)
    if args.scale_child:
        _scale_child(args.scale_child, args.data)
        return 0
    if args.combine is not None:
        parts = [json.loads(Path(f).read_text()) for f in args.combine]
        _report([r for p in parts for r in p["sets"]], [r for p in parts for r in p["scale"]])
        return 0
    L = load_module(args.data)
    names = [s for s in args.sets.split(",") if s]
    peer = None if args.no_peer or not Path(args.peer_python).exists() else args.peer_python
    records = {n: labelled_records(n, args.data) for n in names}
    rows: list[dict] = []
    scale_rows: list[dict] = []
    case_rows: list[pd.DataFrame] = []
    sizes = [int(s) for s in args.scale.split(",") if int(s)]
    if args.peer_only:
        for name in names:
            rows.append(_peer(L, name, records[name], peer, args.data, args.peer_timeout))
            print(rows[-1], flush=True)
        for size in sizes:
            scale_rows += _scale(size, args.data, peer, args.peer_timeout, ours=False)
    else:
        cached_all = args.model_dir and all(
            (Path(args.model_dir) / f"without_{n}.json").exists() for n in names)
        train = {} if cached_all and not args.write_model else {
            n: cap_rows(*training_pairs(records[n])) for n in SETS if n in records}
        if args.write_model:
            from evidence_synth.dedup._model import MODEL_PATH

            t = time.perf_counter()
            model = fit_model(*_stack(train, list(train)),
                              info={"name": "shipped", "trained_on": list(train)})
            model.save(MODEL_PATH)
            from evidence_synth.dedup._model import load_model

            load_model.cache_clear()
            print(f"shipped model fitted on {list(train)} in {time.perf_counter() - t:.0f}s",
                  flush=True)
        for name in names:
            others = [s for s in SETS if s != name and s in records]
            t = time.perf_counter()
            cached = Path(args.model_dir) / f"without_{name}.json" if args.model_dir else None
            if cached is not None and cached.exists():
                model = PairModel(json.loads(cached.read_text()))
            else:
                model = fit_model(*_stack(train, others),
                                  info={"name": f"without {name}", "trained_on": others})
                if cached is not None:
                    cached.parent.mkdir(parents=True, exist_ok=True)
                    model.save(cached)
            print(f"[{name}] leave-one-set-out model fitted in {time.perf_counter() - t:.0f}s "
                  f"on {others}", flush=True)
            rows.append(_evaluate(L, name, records[name], model, "evidence_synth (LOSO)"))
            if name in args.versions_merge.split(","):
                rows.append(_evaluate(L, name, records[name], model,
                                      "evidence_synth (LOSO, versions=merge)",
                                      versions="merge"))
            if not args.no_insample:
                rows.append(_evaluate(L, name, records[name], None,
                                      "evidence_synth (shipped, in-sample)"))
            if peer and (not args.peer_sets or name in args.peer_sets.split(",")):
                rows.append(_peer(L, name, records[name], peer, args.data, args.peer_timeout))
            print(pd.DataFrame(rows[-3:]).to_string(index=False), flush=True)
        for name in [h for h in args.hard.split(",") if h]:
            hard_rows, outcomes = _hard(L, name, peer, args.peer_timeout)
            rows += hard_rows
            case_rows.append(outcomes)
            print(pd.DataFrame(hard_rows).to_string(index=False), flush=True)
        for size in sizes:
            scale_rows += _scale(size, args.data, peer if args.peer_scale else None,
                                 args.peer_timeout)
    if case_rows:
        cases = pd.concat(case_rows, ignore_index=True)
        print("\n## Hard cases: what became of each case's pairs (default options)\n")
        print(cases.to_string(index=False))
    if args.out:
        Path(args.out).write_text(json.dumps(
            {"sets": rows, "scale": scale_rows,
             "cases": pd.concat(case_rows).to_dict("records") if case_rows else []},
            indent=1, default=float))
    _report(rows, scale_rows)
    return 0


def _stack(train: dict, names: list[str]):
    X = pd.concat([train[s][0] for s in names], ignore_index=True)
    y = np.concatenate([train[s][1] for s in names])
    w = np.concatenate([train[s][2] for s in names])
    return X, y, w


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    raise SystemExit(main())
