"""The classroom release (tools/classroom.py, on otter-grader): student copies without solutions that
run top to bottom, the reference copies get full marks, untouched student copies get none, a classic
wrong answer loses its points with the checker's hint as feedback, and no solution text reaches a student."""

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

otter = pytest.importorskip("otter", reason="the classroom release needs otter-grader (the dev extra)")
from kdcourse_solutions import EXERCISES, SOLUTIONS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import classroom  # noqa: E402

LESSONS = [p.name for p in classroom.lesson_paths()]


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    out = tmp_path_factory.mktemp("classroom")
    classroom.build(out)
    return out


def elsewhere() -> str:
    """The text a student may see legitimately: the package's sources (a checker computes the right
    answer itself, often with a solution's own expression) and the lessons less their solutions cells."""
    text = [p.read_text() for p in (ROOT / "kdcourse").rglob("*.py")]
    for path in classroom.lesson_paths():
        nb = nbformat.read(path, as_version=4)
        text += [c.source for c in nb.cells if not classroom.is_solutions_cell(c)]
    return "\n".join(text)


def distinctive(code: str, seen: str) -> str:
    """A solution's longest code line that appears nowhere in `seen`: text only the solution holds."""
    lines = [line.split("  #")[0].strip() for line in code.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#") and line not in seen]
    assert lines, f"every line of this solution is in the package or the lessons:\n{code}"
    return max(lines, key=len)


DISTINCTIVE = {name: distinctive(code, elsewhere()) for name, code in SOLUTIONS.items()}


def with_answers(notebook: Path, answers: dict[str, str], out: Path) -> Path:
    """A copy of a student notebook whose exercises `answers` names hold that code in place of the stub."""
    nb = nbformat.read(notebook, as_version=4)
    cells = [c for c in nb.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
    for name, code in answers.items():
        checker = EXERCISES[name].checker
        (cell,) = [c for c in cells if f".{checker}(" in c.source]
        lines = cell.source.splitlines()
        first, end = classroom.stub_lines(lines)
        cell.source = "\n".join([*lines[:first], code.strip("\n"), *lines[end:]])
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out)
    return out


def test_every_exercise_is_a_question_with_points(release):
    points = json.loads((release / "points.json").read_text())
    assert points == {
        ex.lesson: {n: e.points for n, e in EXERCISES.items() if e.lesson == ex.lesson} for ex in EXERCISES.values()
    }
    for name in LESSONS:
        lesson = name[:2]
        with zipfile.ZipFile(release / "autograder" / lesson / "autograder.zip") as z:
            tests = {Path(n).stem for n in z.namelist() if n.startswith("tests/")}
        assert tests == set(points[lesson])


@pytest.mark.parametrize("name", LESSONS)
def test_student_copy_has_stubs_and_no_solutions_notes_or_outputs(release, name):
    student = (release / "student" / name).read_text()
    nb = nbformat.reads(student, as_version=4)
    for exercise, ex in EXERCISES.items():
        line = DISTINCTIVE[exercise]
        assert line not in student, f"lesson {name}: the solution of {exercise} shows in the student copy: {line}"
        if ex.lesson == name[:2]:
            assert f".{ex.checker}(" in student
    assert "instructor_note" not in student and "kdcourse-solutions" not in student
    assert "otter-grader>=7.0" in student  # its first cell imports otter for grader.check()
    assert "worked solutions (" not in student  # the repository's install comment, reworded
    assert not re.search(r"\bsolution\(", student)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    assert (release / "instructor" / name).read_bytes() == (ROOT / "lessons" / name).read_bytes()


def names(notebook) -> tuple[set[str], set[str]]:
    """(bound, read): the names a notebook's code cells bind (assign, def, import, loop) and those they read."""
    bound, read = set(), set()
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(classroom.parse(cell.source)):
            if isinstance(node, ast.Name):
                (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                bound.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return bound, read


@pytest.mark.parametrize("name", LESSONS)
def test_what_the_student_copy_leaves_out_binds_nothing_it_reads(release, name):
    """The cells and statements the release strips (worked solutions, instructor notes) define nothing a cell
    of the student copy reads: the copy runs where the lesson runs (nbval runs the lesson, stubs and all)."""
    lesson_bound, _ = names(nbformat.read(ROOT / "lessons" / name, as_version=4))
    student_bound, student_read = names(nbformat.read(release / "student" / name, as_version=4))
    only_stripped = lesson_bound - student_bound
    assert not only_stripped & student_read, f"{name}: the student copy reads {only_stripped & student_read}"


def test_solutions_are_not_in_the_package_a_student_installs(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
    )
    (wheel,) = tmp_path.glob("kdcourse-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        text = "\n".join(z.read(n).decode("utf-8", "replace") for n in names)
    assert "kdcourse/lessons/l00.py" in names and not any(n.startswith("kdcourse_solutions") for n in names)
    for exercise in SOLUTIONS:
        assert DISTINCTIVE[exercise] not in text, f"the solution of {exercise} ships in the kdcourse wheel"


def test_solution_without_the_solutions_package_says_how_to_get_them(monkeypatch):
    from kdcourse.lessons import solution

    monkeypatch.setitem(sys.modules, "kdcourse_solutions", None)  # as in a classroom install
    with pytest.raises(LookupError, match="not installed here.*pip install"):
        solution("majority_baseline")


# Questions no answer can pass in the smoke profile, and the hint their checker gives instead: 04.3 plans
# from the spread of the paired differences over seeds, and smoke runs one seed. A class graded in the cpu
# profile (3 seeds) gets these points; the exercise tests check the worked solution passes there.
NEEDS_CPU = {"seeds_to_decide": "run the lesson in the cpu profile (3 seeds)"}


# Lessons whose untouched student copy is graded end to end too. Every lesson's copy is the lesson less what
# test_what_the_student_copy_leaves_out_binds_nothing_it_reads shows binds nothing it reads, and nbval runs each
# lesson with its stubs untouched; these two (the cheapest, one with function stubs and hidden tests) show that
# otter turns untouched stubs into zeros with the checkers' hints. Both copies of all eight took 13 of the main
# suite's 29 minutes on CI (2026-12-03).
UNTOUCHED_END_TO_END = ("00_setup.ipynb", "02_soft_labels_and_loss.ipynb")


@pytest.mark.parametrize("name", LESSONS)
def test_reference_full_marks_untouched_student_zero(release, name, tmp_path):
    """Each lesson graded as a grader would (`otter run`, smoke profile): the reference copy (every exercise
    answered by its worked solution) gets full marks; in UNTOUCHED_END_TO_END, the untouched student copy runs
    to the end with 0 (graded alongside, two at a time on the 2 cores)."""
    lesson = name[:2]
    reference = release / "autograder" / lesson / name
    student = tmp_path / "student" / name
    student.parent.mkdir()
    student.write_bytes((release / "student" / name).read_bytes())
    submissions = [reference, student] if name in UNTOUCHED_END_TO_END else [reference]
    rows = classroom.grade(
        release / "autograder" / lesson / "autograder.zip", submissions, tmp_path, jobs=len(submissions)
    )
    graded: dict[str, list] = {str(s): [] for s in submissions}
    for row in rows:
        graded[row["submission"]].append(row)
    for row in graded[str(reference)]:
        if row["question"] in NEEDS_CPU:  # its checker says the smoke run cannot decide it, and why
            assert row["score"] == 0 and NEEDS_CPU[row["question"]] in row["feedback"], row
        else:
            assert row["score"] == row["max_score"], row
    for rows in graded.values():
        assert {r["question"] for r in rows} == {n for n, ex in EXERCISES.items() if ex.lesson == lesson}
    if name in UNTOUCHED_END_TO_END:
        assert all(r["score"] == 0 for r in graded[str(student)]), graded[str(student)]
        assert all(
            "replace the `None` placeholder" in r["feedback"] or "Not yet" in r["feedback"]
            for r in graded[str(student)]
        )


# Classic wrong answers (as in tests/test_l00_exercises.py and test_l02_exercises.py), and the hint each earns.
WRONG = {
    "00_setup.ipynb": {
        "majority_baseline": (
            'labels = list(reviews["test"]["label"])\nanswer = min(labels.count(0), labels.count(1)) / len(labels)',
            "minority class's share",
        ),
        "profile_choice": ('answer = "smoke"', "It is for checking that code runs"),
    },
    "02_soft_labels_and_loss.ipynb": {
        "soft_targets": (
            "def my_soft_targets(logits, T):\n    return torch.softmax(logits * T, dim=-1)",
            "you multiplied by T",
        ),
        "temperature_for_top": ("answer = 0.5", "raise T"),
        "fix_kd_loss": (
            "def fixed_loss(student_logits, teacher_logits, labels, temperature=2.0, alpha=0.5):\n"
            "    T = temperature\n"
            "    soft = F.kl_div(F.log_softmax(student_logits / T, -1), F.softmax(teacher_logits / T, -1),\n"
            '                    reduction="batchmean")\n'
            "    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)",
            "T² factor is missing",
        ),
    },
}


@pytest.mark.parametrize("name", sorted(WRONG))
def test_a_classic_wrong_answer_loses_its_points_with_the_checkers_hint(release, name, tmp_path):
    wrong = WRONG[name]
    submission = with_answers(
        release / "student" / name, {q: code for q, (code, _) in wrong.items()}, tmp_path / "wrong" / f"alice_{name}"
    )  # renamed, as a learning platform does: it is graded under the lesson's name
    rows = classroom.grade(release / "autograder" / name[:2] / "autograder.zip", [submission], tmp_path / "grades")
    for row in rows:
        assert row["score"] == 0, row
        assert wrong[row["question"]][1] in row["feedback"], row


def test_passes_is_silent_when_right_and_carries_the_hint_when_not(capsys):
    import math

    from kdcourse.lessons import l06
    from kdcourse.lessons.exercises import passes

    passes({"l06": l06, "answer": math.exp(5.0)}, "l06.check_perplexity(answer, 5.0)")
    assert capsys.readouterr().out == ""
    with pytest.raises(AssertionError, match="Not yet"):
        passes({"l06": l06, "answer": 5.0}, "l06.check_perplexity(answer, 5.0)")


def test_a_hidden_test_takes_the_point_a_public_check_cannot(release, tmp_path):
    """A softmax over dim 1 passes lesson 02's public check (2-D probes, where dim 1 is the last) and loses the
    hidden test's point on 3-D logits; the hidden probes never reach the student copy."""
    for path in (release / "student").glob("*.ipynb"):
        student = path.read_text()
        assert "20261203" not in student and "_hidden(env)" not in student  # the probes' seed, the test
    fits_the_probes = "def my_soft_targets(logits, T):\n    return torch.softmax(logits / T, dim=1)"
    submission = with_answers(
        release / "student" / "02_soft_labels_and_loss.ipynb", {"soft_targets": fits_the_probes}, tmp_path / "02.ipynb"
    )
    rows = classroom.grade(release / "autograder" / "02" / "autograder.zip", [submission], tmp_path / "grades")
    (row,) = [r for r in rows if r["question"] == "soft_targets"]
    assert (row["score"], row["max_score"]) == (1, 2), row
    assert "over the last dim" in row["feedback"], row
