"""A classroom release of the course, built with otter-grader (CONTRIBUTING says why otter).

    python tools/classroom.py build OUT [--lessons 00 02]
        OUT/student/     each lesson with its exercises' stubs, no worked solutions, no instructor notes,
                         no stored outputs; its install cell installs kdcourse without kdcourse-solutions
        OUT/instructor/  the lessons as they are in the repository (notes, solutions, stored outputs)
        OUT/autograder/NN/  otter's autograder for lesson NN: autograder.zip (also Gradescope's format)
                         and the reference notebook, each exercise answered by its worked solution
        OUT/points.json  points per question and per lesson
    python tools/classroom.py grade OUT/autograder/NN/autograder.zip SUBMISSION.ipynb ... [-o RESULTS]
        runs each submission with `otter run` (here, no Docker) and writes one row per submission and
        question to RESULTS/grades.csv, with each failed question's feedback (the checker's hint).

One source: the repository's lessons. Each exercise cell becomes an otter question whose stub (the
`None` placeholder, or the function to fill in) is the student's prompt and whose worked solution
(kdcourse_solutions) is the reference; its test is the cell's own `check_...` call, run by
`kdcourse.lessons.exercises.passes` right after the cell, worth the exercise's points; a function
exercise also has a hidden test (kdcourse_solutions.hidden: inputs the public check never shows), worth one
of its points, which the student copy does not hold.
"""

from __future__ import annotations

import argparse
import ast
import copy
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from kdcourse.version import REF, REPO  # noqa: E402
from kdcourse_solutions import EXERCISES, SOLUTIONS  # noqa: E402
from kdcourse_solutions.hidden import HIDDEN  # noqa: E402

# prose that points at the worked solutions, and what a classroom copy says instead
SOLUTION_PROSE = re.compile(r"`solution\([^`]*\)` (?:prints|shows) a worked (?:solution|answer)")
CLASSROOM_PROSE = '`grader.check("name")` runs the test your answer is graded by (no worked solutions in this copy)'
PLACEHOLDER = re.compile(r"#\s*your (code|answer) here")
# the Colab install cell's worked-solutions requirement, which a student copy trades for otter-grader
SOLUTIONS_REQUIREMENT = re.compile(r' "kdcourse-solutions @ [^"]+"')
GRADER_REQUIREMENT = ' "otter-grader>=7.0"'
CONFIG = """# ASSIGNMENT CONFIG
name: kdcourse-{lesson}
init_cell: false  # the install cell imports otter, after installing it on Colab
check_all_cell: false
export_cell: false
run_tests: false
solutions_pdf: false
generate:
  pdf: false
  show_stdout: true
requirements: requirements.txt
tests:
  files: false
  ok_format: false
"""


def lesson_paths(lessons: list[str] | None = None) -> list[Path]:
    """The repository's lesson notebooks, all or those numbered in `lessons` (e.g. ["00", "02"])."""
    paths = sorted((ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))
    if lessons:
        unknown = set(lessons) - {p.name[:2] for p in paths}
        if unknown:
            raise ValueError(
                f"no lesson {', '.join(sorted(unknown))}; lessons are {', '.join(p.name[:2] for p in paths)}"
            )
        paths = [p for p in paths if p.name[:2] in lessons]
    return paths


def exercise_cells(nb, lesson: str) -> dict[int, str]:
    """Cell index -> exercise name: the code cell holding the placeholder and calling the exercise's checker."""
    found = {}
    for name, ex in EXERCISES.items():
        if ex.lesson != lesson:
            continue
        hits = [
            i
            for i, c in enumerate(nb.cells)
            if c.cell_type == "code"
            and PLACEHOLDER.search(c.source)
            and re.search(rf"\bl{lesson}\.{ex.checker}\(", c.source)
        ]
        if len(hits) != 1:
            raise ValueError(
                f"exercise {name!r}: {len(hits)} cells of lesson {lesson} hold a placeholder and "
                f"call l{lesson}.{ex.checker}(); want exactly one"
            )
        found[hits[0]] = name
    return found


def stub_lines(lines: list[str]) -> tuple[int, int]:
    """(first, end) of the stub in an exercise cell: the placeholder line, or the whole function it sits in."""
    p = next(i for i, line in enumerate(lines) if PLACEHOLDER.search(line))
    if not lines[p][:1].isspace():
        return p, p + 1
    first = max(i for i in range(p) if lines[i].startswith("def "))
    end = next((i for i in range(p + 1, len(lines)) if lines[i].strip() and not lines[i][:1].isspace()), len(lines))
    while end > p + 1 and not lines[end - 1].strip():
        end -= 1
    return first, end


def parse(source: str) -> ast.Module:
    """A code cell's syntax tree, its IPython magics (`%pip ...`) read as the calls they stand for."""
    from IPython.core.inputtransformer2 import TransformerManager

    return ast.parse(TransformerManager().transform_cell(source))


def check_call(source: str) -> str:
    """The exercise cell's checker call, as an expression (e.g. 'l00.check_majority_baseline(answer, reviews)')."""
    calls = [
        n.value
        for n in ast.parse(source).body
        if isinstance(n, ast.Expr)
        and isinstance(n.value, ast.Call)
        and isinstance(n.value.func, ast.Attribute)
        and n.value.func.attr.startswith("check_")
    ]
    return ast.get_source_segment(source, calls[-1])


def without_instructor_notes(source: str) -> str:
    """The cell's code less every `kdcourse.instructor_note(...)` statement."""
    lines = source.splitlines()
    for node in reversed(parse(source).body):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and "instructor_note" in ast.unparse(node.value.func)
        ):
            del lines[node.lineno - 1 : node.end_lineno]
    return "\n".join(lines).strip("\n")


def is_solutions_cell(cell) -> bool:
    """A cell that prints worked solutions (`solution("...")`), or the 'Solutions ...' line above one."""
    if cell.cell_type == "markdown":
        return cell.source.lstrip().startswith("Solutions")
    return cell.cell_type == "code" and any(
        isinstance(n, ast.Call) and getattr(n.func, "id", None) == "solution" for n in ast.walk(parse(cell.source))
    )


def raw(text: str):
    return nbformat.v4.new_raw_cell(text)


def question(name: str, source: str) -> list:
    """An otter question: the exercise cell with prompt and solution blocks, and its test."""
    lines = source.splitlines()
    first, end = stub_lines(lines)
    cell = "\n".join(
        [
            *lines[:first],
            '""" # BEGIN PROMPT',
            *lines[first:end],
            '""" # END PROMPT',
            "# BEGIN SOLUTION NO PROMPT",
            SOLUTIONS[name].strip("\n"),
            "# END SOLUTION",
            *lines[end:],
        ]
    )
    hidden = HIDDEN.get(name)
    public_points = EXERCISES[name].points - (1 if hidden else 0)  # a hidden test is worth one of the points
    test = "\n".join(
        [
            '""" # BEGIN TEST CONFIG',
            f"points: {public_points}",
            '""" # END TEST CONFIG',
            f"def test_{name}(env):",
            "    from kdcourse.lessons.exercises import passes",
            "",
            f"    passes(env, {check_call(source)!r})",
            "",
            "",
            f"test_{name}(globals())",
        ]
    )
    tests = [nbformat.v4.new_code_cell(test)]
    if hidden:
        body = "\n".join("    " + line if line else "" for line in hidden.strip("\n").splitlines())
        tests.append(
            nbformat.v4.new_code_cell(
                '""" # BEGIN TEST CONFIG\npoints: 1\nhidden: true\n""" # END TEST CONFIG\n'
                f"def test_{name}_hidden(env):\n{body}\n\n\ntest_{name}_hidden(globals())"
            )
        )
    return [
        raw(f"# BEGIN QUESTION\nname: {name}\npoints: {EXERCISES[name].points}"),
        raw("# BEGIN SOLUTION"),
        nbformat.v4.new_code_cell(cell),
        raw("# END SOLUTION"),
        raw("# BEGIN TESTS"),
        *tests,
        raw("# END TESTS"),
        raw("# END QUESTION"),
    ]


def master_notebook(path: Path):
    """Lesson `path` in otter assign's format: config, questions, no solutions cells, notes, or outputs."""
    nb = nbformat.read(path, as_version=4)
    lesson = path.name[:2]
    exercises = exercise_cells(nb, lesson)
    cells = [raw(CONFIG.format(lesson=lesson))]
    for i, cell in enumerate(nb.cells):
        if is_solutions_cell(cell):
            continue
        if i in exercises:
            cells += question(exercises[i], cell.source)
            continue
        cell = copy.deepcopy(cell)
        if cell.cell_type == "markdown":
            cell.source = SOLUTION_PROSE.sub(CLASSROOM_PROSE, cell.source)
        if cell.cell_type == "code":
            cell.source = without_instructor_notes(cell.source)
            if SOLUTIONS_REQUIREMENT.search(cell.source):
                cell.source = SOLUTIONS_REQUIREMENT.sub(GRADER_REQUIREMENT, cell.source).replace(
                    "helper package and its worked solutions", "helper package and otter-grader's client"
                )
                cell.source += '\n\nimport otter  # grader.check("name") runs an exercise\'s test, as the grader will\n'
                cell.source += f'grader = otter.Notebook("{path.name}")'

            if not cell.source.strip():
                continue
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


def build(out: Path, lessons: list[str] | None = None) -> dict:
    """Write OUT/student, OUT/instructor, OUT/autograder/NN and OUT/points.json; return the points."""
    points, paths = {}, lesson_paths(lessons)
    for sub in ("student", "instructor", "autograder"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for path in paths:
        lesson = path.name[:2]
        shutil.copy(path, out / "instructor" / path.name)
        with tempfile.TemporaryDirectory() as tmp:
            master = Path(tmp) / path.name
            nbformat.write(master_notebook(path), master)
            (Path(tmp) / "requirements.txt").write_text(
                f"kdcourse[deploy,static] @ git+https://github.com/{REPO}@{REF}\n"
            )
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "otter",
                    "assign",
                    "--no-run-tests",
                    "--no-pdfs",
                    str(master),
                    str(Path(tmp) / "dist"),
                ],
                capture_output=True,
                text=True,
                cwd=tmp,
            )
            if done.returncode != 0:
                raise RuntimeError(f"otter assign failed on {path.name}:\n{done.stdout}\n{done.stderr}")
            shutil.copy(Path(tmp) / "dist" / "student" / path.name, out / "student" / path.name)
            target = out / "autograder" / lesson
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(Path(tmp) / "dist" / "autograder", target)
            zips = sorted(target.glob("*.zip"))
            zips[0].rename(target / "autograder.zip")
        points[lesson] = {name: ex.points for name, ex in EXERCISES.items() if ex.lesson == lesson}
    (out / "points.json").write_text(json.dumps(points, indent=1) + "\n")
    return points


def lesson_of(autograder: Path) -> Path:
    """The repository lesson an autograder.zip grades (its otter config names the assignment kdcourse-NN)."""
    try:
        with zipfile.ZipFile(autograder) as z:
            name = json.loads(z.read("otter_config.json"))["assignment_name"]
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as e:
        raise ValueError(f"{autograder} is not an autograder.zip written by `classroom.py build` ({e})") from e
    (path,) = lesson_paths([name.removeprefix("kdcourse-")])
    return path


def grade_one(autograder: Path, lesson: Path, submission: Path, threads: int) -> list[dict]:
    """One submission through `otter run`: a row per question with its score and feedback."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        # otter checks each question right after its cell only when the notebook has the name its
        # `otter.Notebook("NN_....ipynb")` gives (else it checks them all at the end, against the last
        # `answer`): a submission renamed by a student or an LMS is graded under the lesson's own name
        named = Path(tmp) / "submission" / lesson.name
        named.parent.mkdir()
        shutil.copy(submission, named)
        env = {**os.environ, "OMP_NUM_THREADS": str(threads)}  # torch reads it at start
        command = [sys.executable, "-m", "otter", "run", "--no-logo", "-a", str(autograder.resolve()), "-o", tmp]
        done = subprocess.run([*command, str(named)], capture_output=True, text=True, env=env)
        results = Path(tmp) / "results.json"
        if done.returncode != 0 or not results.exists():
            raise RuntimeError(f"otter run failed on {submission}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        seconds = round(time.perf_counter() - start, 1)
        return [
            {
                "submission": str(submission),
                "question": case["name"],
                "score": case["score"],
                "max_score": case["max_score"],
                "feedback": case.get("output", "").strip(),
                "seconds": seconds,
            }
            for case in json.loads(results.read_text())["tests"]
            if "score" in case  # not the "Public Tests" summary: the same tests, unscored
        ]


def grade(autograder: Path, submissions: list[Path], out: Path, jobs: int = 1) -> list[dict]:
    """Grade each submission with `otter run` (no container), `jobs` at a time; rows as `grade_one` gives."""
    if not autograder.is_file():
        raise ValueError(f"no autograder at {autograder}: build one with `python tools/classroom.py build OUT`")
    missing = [str(s) for s in submissions if not s.is_file()]
    if missing:
        raise ValueError(f"no submission at {', '.join(missing)}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a whole number >= 1, got {jobs!r}; e.g. --jobs 2 on 2 cores")
    out.mkdir(parents=True, exist_ok=True)
    lesson = lesson_of(autograder)
    threads = max(1, (os.cpu_count() or 1) // jobs)  # the cores shared out, not each run taking them all
    with ThreadPoolExecutor(jobs) as pool:
        graded = pool.map(lambda s: grade_one(autograder, lesson, s, threads), submissions)
        rows = [row for rows in graded for row in rows]
    with open(out / "grades.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["submission", "question", "score", "max_score", "feedback", "seconds"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write the student, instructor and autograder copies")
    b.add_argument("out", type=Path)
    b.add_argument("--lessons", nargs="+", help="lesson numbers (default: all)")
    g = sub.add_parser("grade", help="grade submissions of one lesson with its autograder.zip")
    g.add_argument("autograder", type=Path)
    g.add_argument("submissions", type=Path, nargs="+")
    g.add_argument("-o", "--out", type=Path, default=Path("grades"))
    g.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded at once (the cores are shared)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            points = build(args.out, args.lessons)
            for lesson, marks in points.items():
                print(f"lesson {lesson}: {len(marks)} questions, {sum(marks.values())} points")
            print(f"written to {args.out}/student, {args.out}/instructor, {args.out}/autograder")
        else:
            rows = grade(args.autograder, args.submissions, args.out, args.jobs)
            for name in dict.fromkeys(r["submission"] for r in rows):
                mine = [r for r in rows if r["submission"] == name]
                print(
                    f"{name}: {sum(r['score'] for r in mine):g} / {sum(r['max_score'] for r in mine):g} "
                    f"(graded in {mine[0]['seconds']:.0f} s)"
                )
            print(f"written to {args.out / 'grades.csv'}")
    except (ValueError, RuntimeError, OSError) as e:
        print(f"classroom: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
