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
