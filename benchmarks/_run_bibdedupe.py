"""Run bib-dedupe on one labelled set or a CSV; executed with the bib-dedupe venv's Python.

    /work/venv-bibdedupe/bin/python benchmarks/_run_bibdedupe.py DATA_DIR NAME OUT_JSON [CPU]

NAME is a labelled set (loaded with DATA_DIR/load.py) or a path to a CSV in bib-dedupe's
format. Writes ``{"record_id": [...], "group": [...], "seconds": t}``; ``seconds`` covers
prep, block, match and cluster (not loading); ``cpu_seconds`` is the CPU time of the same
steps in this process and its worker processes, which the load of a shared machine moves
less than wall time.
"""

import importlib.util
import json
import resource
import sys
import time
from pathlib import Path

import pandas as pd


def main() -> None:
    data_dir, name, out = sys.argv[1], sys.argv[2], sys.argv[3]
    cpu = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    if name.endswith(".csv"):
        df = pd.read_csv(name, dtype=str, keep_default_na=False)
    else:
        spec = importlib.util.spec_from_file_location("load", Path(data_dir) / "load.py")
        load = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(load)
        src = load.load(name)
        df = pd.DataFrame({
            "ID": src["record_id"], "ENTRYTYPE": "article", "author": src["authors"],
            "title": src["title"], "year": src["year"], "journal": src["journal"],
            "volume": src["volume"], "number": src["issue"], "pages": src["pages"],
            "doi": src["doi"], "abstract": src["abstract"],
        })
    import bib_dedupe.bib_dedupe as bd

    t, c, kids = time.perf_counter(), time.process_time(), _children_cpu()
    prepped = bd.prep(df, verbosity_level=0, cpu=cpu)
    blocked = bd.block(prepped, verbosity_level=0, cpu=cpu)
    matched = bd.match(blocked, verbosity_level=0, cpu=cpu)
    sets = bd.cluster(matched, verbosity_level=0)
    seconds = time.perf_counter() - t
    cpu_seconds = time.process_time() - c + _children_cpu() - kids
    group = {rid: rid for rid in df["ID"]}
    for k, members in enumerate(sets):
        for rid in members:
            group[rid] = f"bd{k}"
    n_maybe = int((matched.get("duplicate_label", pd.Series(dtype=str)) == "maybe").sum())
    Path(out).write_text(json.dumps({"record_id": list(df["ID"]),
                                     "group": [group[r] for r in df["ID"]],
                                     "seconds": seconds, "cpu_seconds": cpu_seconds,
                                     "maybe_pairs": n_maybe}))


def _children_cpu() -> float:
    """CPU seconds of finished worker processes (bib-dedupe's pools)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


if __name__ == "__main__":
    main()
