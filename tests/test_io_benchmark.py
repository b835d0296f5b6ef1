"""Speed paths: the streamed RIS reader agrees with the whole-text reader; the benchmark
against rispy (excluded by default; run with ``pytest -m benchmark``)."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pandas as pd
import pytest

from evidence_synth.io import read_records, readers, ris

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_read_ris.py"
EXPORTS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "exports"

QUIRKY = (
    "TY  - JOUR\r\nTI  - One\r\nAU  - Doe, J\r\nAB  - First line\r\n   second line\r\n\r\n"
    "KW  - a\r\nb\r\nER  - \r\n\r\n  TY  - BOOK\r\nT1  - Two  \r\nSN  - 978-3-16\r\nER  -\r\n"
    "TY - JOUR\r\nTI  - Thr\u00e9e \u2013 \u201cq\u201d\r\nER  - \r\n"
)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 64, 1000])
def test_chunked_parse_equals_whole_text_parse(size):
    whole = ris.parse(QUIRKY)
    pieces = [QUIRKY[i:i + size] for i in range(0, len(QUIRKY), size)]
    streamed = ris.parse_chunks(iter(pieces))
    assert streamed is not None
    assert streamed.records == whole.records
    assert streamed.lines == whole.lines == [1, 11, 15]
    assert streamed.records[0]["AB"] == ["First line\nsecond line"]
    assert streamed.records[0]["KW"] == ["a\nb"]


@pytest.mark.parametrize(("text", "why"), [
    ("Provider: X\nTY  - JOUR\nER  - \n", "text before the first TY"),
    ("TY  - JOUR\nTY  - JOUR\nER  - \n", "TY before ER"),
    ("TY  - JOUR\nER  - \nstray\nTY  - JOUR\nER  - \n", "text after ER"),
    ("TY  - JOUR\nTI  - cut", "truncated"),
    ("no records at all\n", "no TY"),
])
def test_chunked_parse_leaves_anomalies_to_the_whole_text_path(text, why):
    assert ris.parse_chunks(iter([text[:7], text[7:]])) is None, why


def test_streamed_read_falls_back_for_anomalies_with_the_same_messages(tmp_path):
    path = tmp_path / "pre.ris"
    path.write_text("Record #1 of 1\nTY  - JOUR\nTI  - T\nER  - \n", encoding="utf-8")
    df = read_records(path)
    assert df.attrs["skipped"] == [{"line": 1, "text": "Record #1 of 1"}]
    assert df.attrs["record_lines"] == [2]
    bad = tmp_path / "latin.ris"
    bad.write_bytes(b"TY  - JOUR\nTI  - caf\xe9\nER  - \n")
    with pytest.warns(Warning, match="not valid UTF-8"):
        assert read_records(bad)["title"].iloc[0] == "café"


def test_column_path_equals_per_record_path_on_edge_values(tmp_path):
    """PY 9999 is not a year and JO's second value beats T2 (as ``ris.to_record`` says)."""
    path = tmp_path / "edge.ris"
    path.write_text("TY  - JOUR\nTI  - T\nPY  - 9999\nY1  - 2001//\nJO  - \nJO  - Journal\n"
                    "T2  - Other\nDA  - 2019\nER  - \n", encoding="utf-8")
    fast = read_records(path)
    assert fast["year"].iloc[0] == 2001
    assert fast["journal"].iloc[0] == "Journal"
    slow = readers._rows_frame(ris.parse(path.read_text()), ris.to_record, path=path,
                               sid="edge", record_id=None)
    pd.testing.assert_frame_equal(fast, slow, check_like=False)


def test_streamed_read_of_a_real_export_at_tiny_chunks(monkeypatch):
    if not EXPORTS.is_dir():
        pytest.skip("../shared/data not present")
    name = EXPORTS / "ieee-xplore__litstudy.ris"
    reference = read_records(name)
    original = readers._text.iter_decoded
    monkeypatch.setattr(readers._text, "iter_decoded",
                        lambda *a, **k: original(*a, **{**k, "chunk_bytes": 97}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        streamed = read_records(name)
    pd.testing.assert_frame_equal(streamed, reference)
    assert streamed.attrs == reference.attrs


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
    # streamed reading: peak memory stays within 1.6x rispy's (it was 2.2x holding the
    # whole text, its decoded copy and the records at once)
    assert figures["peak_rss_ratio_ours_vs_rispy"] < 1.6
