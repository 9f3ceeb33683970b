"""Structure every lesson must have, and hygiene of the stored outputs students read on GitHub."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import kdcourse

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


def _source(cell) -> str:
    return "".join(cell["source"])


def test_there_are_lessons():
    assert LESSONS and LESSONS[0].name == "00_setup.ipynb"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_lesson_structure(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    intro = _source(cells[0])
    assert intro.startswith("# "), "first cell is the title"
    badge = f"https://colab.research.google.com/github/{kdcourse.REPO}/blob/{kdcourse.REF}/lessons/{path.name}"
    assert badge in intro, f"Colab badge pointing at this lesson at {kdcourse.REF} (tools/release.py --write)"
    for needed in ("**Time:**", "**Prerequisites:**", "**You will:**"):
        assert needed in intro, needed
    first_code = next(c for c in cells if c["cell_type"] == "code")
    assert '"google.colab" in sys.modules' in _source(first_code)
    assert f'kdcourse.setup(seed=0, lesson="{path.name[:2]}")' in _source(first_code), (
        "setup names its lesson, so instructor mode warms that lesson's caches"
    )
    text = "\n".join(_source(c) for c in cells)
    assert "## Key points" in text
    assert len(re.findall(r"exercises\.check_|\.check_\w+\(", text)) >= 2, "two auto-checked exercises"
    assert "solution(" in text
    assert any("# NBVAL_CHECK_OUTPUT" in _source(c) for c in cells if c["cell_type"] == "code")
    assert "Instructor note" not in "".join(_source(c) for c in cells if c["cell_type"] == "markdown"), (
        "instructor notes go in kdcourse.instructor_note cells (folded for students)"
    )
    assert any("kdcourse.instructor_note(" in _source(c) for c in cells if c["cell_type"] == "code")
    meta = nb["metadata"].get("kdcourse", {})
    assert meta.get("teaches")


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_stored_outputs_are_clean(path):
    nb = json.loads(path.read_text())
    counts = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell["execution_count"] is not None, f"cell {i} never ran: run `make notebooks`"
        counts.append(cell["execution_count"])
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"cell {i} stored an error"
            text = json.dumps(out.get("text", "")) + json.dumps(out.get("data", {}).get("text/plain", ""))
            assert not re.search(r"(/root/|/tmp/|/work/|/home/\w+|/Users/\w+)", text), f"cell {i}: path"
            assert not re.search(r" at 0x[0-9a-f]{6,}", text), f"cell {i}: memory address"
            assert "Warning" not in json.dumps(out.get("text", "")), f"cell {i}: a warning reached the student"
            assert "findfont:" not in json.dumps(out.get("text", "")), f"cell {i}: matplotlib lacks a font"
    assert counts == list(range(1, len(counts) + 1)), "outputs from one top-to-bottom run"


def test_readme_lesson_table_is_current():
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "lesson_table.py"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo    # sets everything up" in readme.split("## ")[0]
    assert "make test    # sets everything up" in readme.split("## ")[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
