"""Conventions every result object follows (DESIGN.md section 3)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "evidence_synth"


def test_every_summary_method_returns_text():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef) and item.name == "summary":
                        returns = ast.unparse(item.returns) if item.returns else None
                        found[f"{path.relative_to(PACKAGE)}:{node.name}"] = returns
    assert len(found) >= 19
    assert {where: r for where, r in found.items() if r != "str"} == {}
