"""Live differential test against R's metafor (Debian's r-cran-metafor, 3.8).

``benchmarks/metafor_differential.py`` generates a few hundred seeded data sets (zero cells,
k = 2, identical effects, tiny and huge variances, redundant moderators, k = p, tables
without events...), computes them all in one Rscript process and here, and compares value
by value. Known differences between metafor 3.8 and metafor 5.x (which this library
follows) are expected; for each, the 3.8 formula must reproduce R's value. Skips when
Rscript or metafor is absent (``.ci/run`` installs them).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.differential

HARNESS = Path(__file__).resolve().parents[1] / "benchmarks" / "metafor_differential.py"


def _harness():
    spec = importlib.util.spec_from_file_location("metafor_differential", HARNESS)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def md():
    return _harness()


@pytest.fixture(scope="module")
def comparison(md):
    rscript = md.find_r()
    if rscript is None:
        pytest.skip("Rscript with the metafor package is not installed "
                    "(apt-get install r-base-core r-cran-metafor r-cran-gsl r-cran-mvtnorm)")
    return md.run(seed=2025, datasets=240, rscript=rscript)


def test_every_value_agrees_with_metafor_or_differs_as_known(comparison):
    failures = comparison.failures()
    assert failures.empty, (
        f"{comparison.table()}\n\nfailing groups:\n{failures.to_string()}\n\nworst values:\n"
        f"{comparison.details.sort_values('dev', ascending=False).head(30).to_string()}"
    )
    one_sided = comparison.one_sided()
    assert one_sided.empty, f"only one side refused:\n{one_sided.to_string()}"
    print(f"\nmetafor {comparison.version}, {int(comparison.rows['values'].sum())} values")
    print(comparison.table())
    t = comparison.timing
    print(f"REML: metafor {t['metafor_ms_per_fit']:.2f} ms/fit, evidence_synth "
          f"{t['ours_ms_per_fit']:.2f} ms/fit (ratio {t['ratio']:.2f}, in-process medians)")


def test_the_comparison_covers_every_shared_measure_method_and_test(md, comparison):
    rows = comparison.rows
    compared = set(zip(rows["area"], rows["name"], strict=True))
    refused = set(zip(comparison.errors.get("area", []), comparison.errors.get("name", []),
                      strict=True))
    for measure in md.VTYPES_38:
        assert ("escalc", measure) in compared, measure
    for method in md.RMA_METHODS:
        assert ("rma", method) in compared | refused, method
    for measure in ("OR", "RR", "RD", "IRR", "IRD", "PETO"):
        assert ("rma_mh", measure) in compared, measure
    # every known 3.8-vs-5.x difference was met (and reproduced by the 3.8 formula)
    expected = set(rows.loc[rows["expected"] != "", "name"])
    assert set(md.EXPECTED) <= expected
    assert {"DLIT", "PM", "PMM", "MP"} <= expected


def test_edge_cases_reached_metafor(comparison):
    errors = comparison.errors
    # both sides refuse some degenerate fits (more parameters than studies) ...
    assert (errors["area"] == "rma").any()
    # ... and the rest were computed: thousands of values
    assert comparison.rows["values"].sum() > 20_000
