"""Benchmark against rispy (excluded by default; run with ``pytest -m benchmark``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_read_ris.py"


@pytest.mark.benchmark
def test_read_ris_benchmark_against_rispy():
    pytest.importorskip("rispy")
    spec = importlib.util.spec_from_file_location("bench_read_ris", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    figures = bench.run(n_records=20_000)
    print({k: round(v, 2) for k, v in figures.items()})
    assert figures["evidence_synth_count"] == 20_000
    assert figures["rispy_count"] == 20_000
    assert figures["evidence_synth_records_per_s"] > 1_000
