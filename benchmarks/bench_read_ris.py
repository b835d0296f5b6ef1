"""Benchmark: read a 100,000-record RIS file with evidence_synth and with rispy.

Builds the file in a temporary directory by replicating real records from
``../shared/data/exports`` (ids varied so every record is distinct), then times
``evidence_synth.io.read_records`` and ``rispy.load`` in the same run, each in a fresh
process, alternating, and reports median seconds, records/s, the speed ratio
(``rispy seconds / ours``: above 1 means we are faster), and peak memory (peak RSS of the
process, with the RSS before reading for reference) with the load average.

Run: ``python benchmarks/bench_read_ris.py [--records 100000] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "exports"
SOURCES = (
    "scopus__revtools.ris",
    "dimensions__citesource.ris",
    "wos-ris-bom__citesource.ris",
    "ebsco-environment-index__citesource.ris",
)


def _records_from(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    blocks, current = [], []
    for line in text.split("\n"):
        if line.startswith("TY  -") and current:
            current = []
        current.append(line)
        if line.startswith("ER  -"):
            blocks.append("\n".join(current).strip("\n"))
            current = []
    return blocks


def build_file(target: Path, n_records: int) -> Path:
    """Write ``n_records`` realistic RIS records (replicated corpus records) to ``target``."""
    pool: list[str] = []
    for name in SOURCES:
        if (SHARED / name).exists():
            pool.extend(_records_from(SHARED / name))
    if not pool:
        pool = ["TY  - JOUR\nTI  - A title\nAU  - Doe, Jane\nPY  - 2020\nER  - "]
    with target.open("w", encoding="utf-8", newline="\n") as out:
        for i in range(n_records):
            block = pool[i % len(pool)]
            out.write(block.replace("ER  - ", f"ID  - bench-{i}\nER  - ", 1))
            out.write("\n\n")
    return target


def _worker(reader: str, path: str) -> None:
    """Run one reader in this process; print seconds, count, peak RSS (MB)."""
    import resource

    import rispy

    from evidence_synth.io import read_records

    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if reader == "evidence_synth":
        count = len(read_records(path, format="ris"))
    elif reader == "rispy":
        with open(path, encoding="utf-8") as fh:
            count = len(rispy.load(fh))
    else:
        raise SystemExit(f"unknown reader {reader!r}: expected evidence_synth or rispy")
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": elapsed, "count": count, "peak_mb": peak,
                      "baseline_mb": baseline}))


def _run_worker(reader: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", reader, str(path)],
        check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1],
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(n_records: int = 100_000, repeat: int = 1) -> dict[str, float]:
    """Time both readers, each in a fresh process (peak RSS is per process).

    The two readers alternate, ``repeat`` times each, so both see the same machine load;
    figures are medians over the repetitions (``*_min_seconds``/``*_max_seconds`` give the
    spread) and ``load_before``/``load_after`` the 1-minute load average.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = build_file(Path(tmp) / "bench.ris", n_records)
        figures: dict[str, float] = {"records": n_records,
                                     "file_mb": path.stat().st_size / 1e6,
                                     "repeat": repeat,
                                     "load_before": os.getloadavg()[0]}
        runs: dict[str, list[dict[str, float]]] = {"evidence_synth": [], "rispy": []}
        for _ in range(repeat):
            for name, results in runs.items():
                results.append(_run_worker(name, path))
        figures["load_after"] = os.getloadavg()[0]
        for name, results in runs.items():
            seconds = [r["seconds"] for r in results]
            figures[f"{name}_seconds"] = statistics.median(seconds)
            figures[f"{name}_min_seconds"] = min(seconds)
            figures[f"{name}_max_seconds"] = max(seconds)
            figures[f"{name}_records_per_s"] = results[0]["count"] / statistics.median(seconds)
            figures[f"{name}_count"] = results[0]["count"]
            figures[f"{name}_peak_rss_mb"] = statistics.median(r["peak_mb"] for r in results)
            figures[f"{name}_rss_before_read_mb"] = statistics.median(
                r["baseline_mb"] for r in results)
        figures["speed_ratio_ours_vs_rispy"] = (figures["rispy_seconds"]
                                                / figures["evidence_synth_seconds"])
        figures["peak_rss_ratio_ours_vs_rispy"] = (figures["evidence_synth_peak_rss_mb"]
                                                   / figures["rispy_peak_rss_mb"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--worker", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(*args.worker)
        return
    figures = run(args.records, args.repeat)
    for key, value in figures.items():
        print(f"{key:36s} {value:,.2f}")


if __name__ == "__main__":
    main()
