"""Print the import graph between the subpackages of evidence_synth, and any cycle in it.

Run from the repository root: ``python scripts/import_graph.py [PACKAGE_DIR]`` (default:
this checkout's ``evidence_synth/``). Every ``import`` and
``from ... import`` in every module counts, including the lazy ones inside functions and
those under ``if TYPE_CHECKING:`` (reported apart, since they never run). A top-level module
(``protocol.py``, ``errors.py``, ...) is its own node. ``tests/test_import_graph.py`` keeps the
graph acyclic.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from functools import cache
from pathlib import Path

PACKAGE = "evidence_synth"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


def node_of(module: str) -> str:
    """``evidence_synth.extract.table`` -> ``extract``; ``evidence_synth.errors`` -> ``errors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "(root)"


def _module_name(path: Path, root: Path) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _statements(body: list[ast.stmt], typing_only: bool = False):
    """Yield (statement, under ``if TYPE_CHECKING:``) for every statement, nested ones too.

    Imports are statements, so only statement lists are visited (not expressions).
    """
    for stmt in body:
        yield stmt, typing_only
        checking = isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test)
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(stmt, name, ()):
                inner = [child] if isinstance(child, ast.stmt) else getattr(child, "body", [])
                under = typing_only or (checking and name == "body")
                yield from _statements(inner, under)


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level == 0:
        base = node.module or ""
    else:
        anchor = module.split(".")
        if not is_package:
            anchor = anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join(anchor + ([node.module] if node.module else []))
    if node.module is None:  # ``from . import x``: x may be a module
        return [f"{base}.{alias.name}" for alias in node.names]
    return [base]


@cache
def _existing_module(name: str, root: Path) -> str:
    """``pkg.mod.func`` -> ``pkg.mod``: the longest prefix that is a module of the package."""
    parts = name.split(".")
    while len(parts) > 1:
        path = root.parent.joinpath(*parts)
        if path.with_suffix(".py").is_file() or (path / "__init__.py").is_file():
            return ".".join(parts)
        parts = parts[:-1]
    return name


@cache
def _module_imports(root: Path = ROOT) -> tuple[tuple[str, str, bool], ...]:
    """Every import of a module of the package: (importer, imported, TYPE_CHECKING only)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node, typing_only in _statements(tree.body):
            for target in _targets(node, module, path.name == "__init__.py"):
                if target.startswith(PACKAGE + "."):
                    found.append((module, _existing_module(target, root), typing_only))
    return tuple(found)


def edges(root: Path = ROOT, *, key=node_of) -> tuple[Counter, Counter]:
    """(runtime, type-checking-only) import counts, keyed by (key(importer), key(imported))."""
    runtime: Counter = Counter()
    typing_only: Counter = Counter()
    for module, target, only_typing in _module_imports(root):
        src, dst = key(module), key(target)
        if src != dst:
            (typing_only if only_typing else runtime)[(src, dst)] += 1
    return runtime, typing_only


def cycles(graph: Counter) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    succ: dict[str, set[str]] = {}
    for src, dst in graph:
        succ.setdefault(src, set()).add(dst)
        succ.setdefault(dst, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[0]).resolve() if argv else ROOT
    runtime, typing_only = edges(root)
    print("package -> package  imports (runtime, incl. lazy)  [+ TYPE_CHECKING only]")
    for src, dst in sorted(set(runtime) | set(typing_only)):
        extra = f"  [+{typing_only[(src, dst)]}]" if typing_only[(src, dst)] else ""
        print(f"  {src:>17} -> {dst:<17} {runtime[(src, dst)]:>3}{extra}")
    found = cycles(runtime)
    for component in found:
        print("CYCLE:", " <-> ".join(component))
    if not found:
        print("no cycle between packages")
    module_cycles = cycles(edges(root, key=lambda name: name)[0])
    for component in module_cycles:
        print("MODULE CYCLE:", " <-> ".join(component))
    if not module_cycles:
        print("no cycle between modules")
    return 1 if found or module_cycles else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
