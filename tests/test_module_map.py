"""CONTRIBUTING.md's module map names every module of the package, and nothing that is not there."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_module_map_matches_the_tree():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s*\| `(kdcourse/[\w/]+\.py)` \|", text, flags=re.M))
    present = {p.relative_to(ROOT).as_posix() for p in (ROOT / "kdcourse").rglob("*.py")}
    assert not present - listed, f"CONTRIBUTING.md's module map misses {sorted(present - listed)}"
    assert not listed - present, f"CONTRIBUTING.md's module map names absent {sorted(listed - present)}"


def test_no_function_in_the_package_is_over_60_lines():
    """A function a reader can hold (CONTRIBUTING.md): longer ones are split by step. Before: l06.run had 270
    lines, training.distill 97."""
    import ast

    long = []
    for path in sorted((ROOT / "kdcourse").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1})")
    assert not long, f"functions over 60 lines: {long}"
