"""Structure every lesson must have, and hygiene of the stored outputs students read on GitHub."""

import json
import math
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

import kdcourse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import lesson_table  # noqa: E402

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
    """README.md's lesson table is what tools/lesson_table.py computes from the lessons as stored."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert lesson_table.readme_with_table(readme) == readme, (
        "README.md's lesson table is out of date: run `python tools/lesson_table.py --write` (`make readme`)"
    )


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_time_line_is_the_tools(path):
    """The **Time:** line and metadata.kdcourse.minutes are one number, the tool's, from the stored cpu run."""
    problems = lesson_table.lesson_problems(path)
    if not problems and path.name[:2] in lesson_table.NOT_YET:
        pytest.skip(f"lesson {path.name[:2]} not measured yet: {lesson_table.NOT_YET[path.name[:2]]}")
    assert not problems, "\n".join(
        [*problems, "fix: `python tools/lesson_table.py --write` after the lesson's last re-execution"]
    )


def test_the_check_mode_names_what_is_out_of_date(tmp_path):
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "lesson_table.py"), "--check"], capture_output=True, text=True
    )
    stale = [p for p in LESSONS if lesson_table.lesson_problems(p)]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert done.returncode == (1 if stale or lesson_table.readme_with_table(readme) != readme else 0), done.stdout
    for path in stale:
        assert path.name in done.stdout


def _cell(kind, text, seconds=None):
    cell = {"cell_type": kind, "metadata": {}, "source": text.splitlines(keepends=True)}
    if kind == "code":
        cell["outputs"] = []
        if seconds is not None:
            start = datetime(2026, 1, 1, tzinfo=timezone.utc)
            stamp = {"iopub.execute_input": start, "shell.execute_reply": start + timedelta(seconds=seconds)}
            cell["metadata"]["execution"] = {k: v.isoformat().replace("+00:00", "Z") for k, v in stamp.items()}
    return cell


def _toy_lesson(n_words=1300, timed=(30.0, 100.0)):
    """A lesson 03 of known size: n_words words of prose, two timed code cells, two exercises (one check each)."""
    cells = [
        _cell("markdown", "# 03 · Toy\n\n**Time:** about 1 minute.\n**Prerequisites:** none."),
        _cell("code", "print('| profile cpu: laptop')", timed[0]),
        _cell("markdown", " ".join(["word"] * (n_words - 12))),
        _cell("markdown", "## Exercises\n\n**03.1** Do it."),
        _cell("code", "l03.check_it(answer)", timed[1]),
    ]
    cells[1]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["| profile cpu: laptop\n"]}]
    return {"cells": cells, "metadata": {}}


def test_the_formula_on_a_lesson_of_known_size():
    """reading = words / 130 (the Time line itself not counted), running = summed cell timings + what the first
    run's cache builds add (cold less warm seconds), exercises = 5 minutes per exercise cell; each part rounded up,
    the total their sum."""
    nb = _toy_lesson()
    words = lesson_table.words(nb)
    caches = {"03": ["_teacher"]}
    builds = {"_teacher": {"seconds": 345.0, "warm seconds": 15.0}}  # a rerun still pays the 15 s (loading)
    t = lesson_table.estimate(nb, caches, builds)
    assert t["words"] == words and t["read"] == math.ceil(words / 130)
    assert t["run_seconds"] == pytest.approx(130.0) and t["run"] == 3
    assert t["build"] == 6 and t["exercise_cells"] == 1 and t["exercises"] == 5
    assert t["total"] == t["read"] + 3 + 6 + 5
    text = lesson_table.time_text(t)
    assert text.startswith(f"**Time:** about {t['total']} minutes on a first run: reading {t['read']} (")
    assert "plus 6 that a first run spends building the caches" in text and "1 auto-checked, 5 minutes each" in text
    assert text.endswith(
        f"On a rerun, or after `python -m kdcourse prepare --lessons 03`, about {t['total'] - 6} minutes."
    )
    written = lesson_table.with_time(nb, text)
    assert lesson_table.header_time(written) == text and written["metadata"]["kdcourse"]["minutes"] == t["total"]
    assert lesson_table.estimate(written, caches, builds) == t, "writing changed the time"
    assert lesson_table.with_time(written, text) == written, "writing twice changes nothing"


def test_an_unmeasured_lesson_gets_no_time():
    nb = _toy_lesson()
    nb["cells"][4]["metadata"] = {}  # a cell that the stored run did not time
    t = lesson_table.estimate(nb, {"03": ["_teacher"]}, {})
    assert t["total"] is None and len(t["problems"]) == 2
    with pytest.raises(ValueError, match="no nbclient timings"):
        lesson_table.time_text(t)
    assert lesson_table.time_cell(t).startswith("not measured: ")


def test_first_run_log_names_each_build_by_its_function():
    """tools/first_run.py reads `kdcourse prepare`'s lines in warm()'s order: a build an earlier lesson ran is not
    printed again."""
    import first_run

    caches = lesson_table.lesson_caches()
    log = (
        "progress\rbar\nlesson 03: fine-tuned teacher ready (328.4 s)\nlesson 03: search ready (60.0 s)\n"
        "lesson 04: lesson 04 setup ready (19.9 s)\n"
        "lesson 05: distilled student ready (78.8 s)\nlesson 01: probe ready (40.0 s)\n"
    )
    rows = first_run.steps_from_log(log, caches)
    assert [(r["step"], r["seconds"]) for r in rows] == [
        ("_teacher_and_logits", 328.4),
        ("_t_alpha_search", 60.0),
        ("_recipe_setup", 19.9),
        ("_distilled_student", 78.8),
        ("_probe", 40.0),
    ]
    with pytest.raises(ValueError, match="more builds for lesson 03"):
        first_run.steps_from_log(log + "lesson 03: again ready (1.0 s)\n", caches)
    again = first_run.steps_from_log(log.replace("328.4", "2.0").replace("(19.9", "(16.0"), caches)
    warm = first_run.with_warm(rows, again)
    assert [(r["seconds"], r["warm"]) for r in warm[:3]] == [(328.4, 2.0), (60.0, 60.0), (19.9, 16.0)]
    with pytest.raises(ValueError, match="no line for"):
        first_run.with_warm(rows, again[:3])
    assert [r["step"] for r in first_run.only(warm, ["_recipe_setup"])] == ["_recipe_setup"]
    with pytest.raises(ValueError, match="no build _deploy; it has _teacher_and_logits"):
        first_run.only(warm, ["_deploy"])
    builds = {r["step"]: {"seconds": r["seconds"], "warm seconds": r["warm"]} for r in warm}
    assert lesson_table.build_seconds("04", caches, builds) == pytest.approx(328.4 - 2.0 + 19.9 - 16.0)
    del builds["_recipe_setup"]["warm seconds"]
    assert lesson_table.build_seconds("04", caches, builds) is None
    assert lesson_table.build_seconds("00", caches, builds) == 0


def test_readme_starts_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "make demo    # sets everything up" in readme.split("## ")[0]
    assert "make test    # sets everything up" in readme.split("## ")[0]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_a_lesson_waiting_for_its_measurement_leaves_the_list_once_measured(monkeypatch):
    """NOT_YET only shrinks: a listed lesson whose builds are all measured is a problem, not a pass."""
    nb = _toy_lesson()
    monkeypatch.setattr(lesson_table, "NOT_YET", {"03": "toy"})
    monkeypatch.setattr(lesson_table, "load", lambda path: nb)
    caches = {"03": ["_teacher"]}
    assert lesson_table.lesson_problems(Path("03_toy.ipynb"), caches, {}) == []
    assert lesson_table.time_cell(lesson_table.estimate(nb, caches, {})).startswith("not measured yet")
    measured = {"_teacher": {"seconds": 345.0, "warm seconds": 15.0}}
    assert "remove it from NOT_YET" in lesson_table.lesson_problems(Path("03_toy.ipynb"), caches, measured)[0]


def test_lesson_06_takes_its_settings_from_l06_and_retypes_none():
    """Lesson 06 is written once: the notebook and its headless run (l06.run, which warms the caches and
    feeds benchmarks/llm.py) share every setting that picks a cache or a reported number. Before: the
    notebook retyped 96, 32, 0.9, 64, 1.5, the four losses and the on-policy settings."""
    from kdcourse.lessons import l06

    nb = json.loads((ROOT / "lessons" / "06_llm_distillation.ipynb").read_text())
    code = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "code")
    shared = ("EVAL_MAX_LENGTH", "PROBE_TEXTS", "TOP_P", "K", "TARGET_RATIO", "COMPARE", "ON_POLICY")
    assert [name for name in shared if not re.search(rf"\bl06\.{name}\b", code)] == []
    retyped = {
        "max_length=96": "EVAL_MAX_LENGTH",
        "train_texts[:32]": "PROBE_TEXTS",
        "top_p=0.9": "TOP_P",
        "K = 64": "K",
        "TARGET = 1.5": "TARGET_RATIO",
        '"JSD β=0.5": "jsd"': "COMPARE",
        "max_new_tokens=48": "ON_POLICY",
    }
    assert [text for text in retyped if text in code] == []
    assert (l06.EVAL_MAX_LENGTH, l06.PROBE_TEXTS, l06.TOP_P, l06.K) == (96, 32, 0.9, 64)  # the retyped values


def test_lesson_07_builds_its_models_with_the_helpers_warm_and_the_benchmark_call():
    """Lesson 07 is written once: its students and ONNX files come from the l07 functions that `warm` and
    benchmarks/deploy.py call (before: the notebook looped over train_cnn, train_narrow and onnx_pair itself,
    retyping the file-name rule); its by-hand hidden-state check runs on the teacher's device (before: a
    student and projection on the CPU beside a GPU teacher under the gpu profile)."""
    nb = json.loads((ROOT / "lessons" / "07_deploy_and_frontier.ipynb").read_text())
    code = "\n".join(_source(c) for c in nb["cells"] if c["cell_type"] == "code")
    for call in ("l07.cnn_students(", "l07.narrow_students(", "l07.deploy_models(", "l07.onnx_pairs("):
        assert call in code, call
    assert "l07.onnx_pair(model" not in code and 'replace(" ", "-")' not in code  # the file-name rule, retyped
    check = next(_source(c) for c in nb["cells"] if c["cell_type"] == "code" and "l07.hidden_mse(" in _source(c))
    assert "device = teacher.device" in check
    for made in ("narrow_student(", "nn.Linear(", "batch[k]"):
        line = next(line for line in check.splitlines() if made in line)
        assert ".to(device)" in line, line
