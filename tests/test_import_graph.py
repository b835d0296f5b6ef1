"""The subpackages import each other without cycles (scripts/import_graph.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "import_graph.py"


def _graph_module():
    spec = importlib.util.spec_from_file_location("import_graph", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_cycle_between_packages_or_modules():
    graph = _graph_module()
    runtime, _ = graph.edges()
    assert graph.cycles(runtime) == []
    assert graph.cycles(graph.edges(key=lambda name: name)[0]) == []


def test_effect_sizes_sit_below_extraction_and_synthesis():
    graph = _graph_module()
    runtime, _ = graph.edges()
    assert runtime[("extract", "effects")] and runtime[("synthesis", "effects")]
    assert not any(src == "effects" and dst in ("extract", "synthesis") for src, dst in runtime)
    assert ("synthesis", "extract") not in runtime and ("extract", "synthesis") not in runtime


def test_cycles_are_found():
    graph = _graph_module()
    found = graph.cycles({("a", "b"): 1, ("b", "c"): 1, ("c", "a"): 1, ("c", "d"): 1})
    assert found == [["a", "b", "c"]]
