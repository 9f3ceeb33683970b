"""One measured time per lesson, written into the lesson's **Time:** line, its metadata and the README's table.

    time = reading + running + exercises, in whole minutes, each part rounded up:
    - reading:   every word of the lesson's markdown and code cells (code is read too) / 130 words a minute;
                 the **Time:** line itself is not counted, so writing it does not change it;
    - running:   the stored `cpu` run, made with the caches warm (`make notebooks` runs `kdcourse prepare`
                 first): the sum over code cells of nbclient's cell timings (metadata.execution,
                 iopub.execute_input -> shell.execute_reply), plus what a first run adds by building the caches
                 the lesson reads: for each cache build that kdcourse/lessons/warm.py lists for the lesson, its
                 seconds from an empty cache less its seconds once cached, as lessons/first_run.json records them
                 (`python tools/first_run.py` measures both with `kdcourse prepare`'s own code);
    - exercises: 5 minutes for each exercise cell (a code cell after "## Exercises" that calls a `.check_...`).

`python tools/lesson_table.py` prints the README table; `--write` writes the README table and every lesson's
**Time:** line and `metadata.kdcourse.minutes` (`--lessons 00 01` limits the lessons written); `--check` exits 1
naming each lesson whose line or metadata, and the README, differ from what the stored outputs give (the tests
run it). Writing twice changes nothing.
"""

from __future__ import annotations

import argparse
import ast
import json
import math
import re
import sys
import textwrap
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
README = ROOT / "README.md"
FIRST_RUN = LESSONS / "first_run.json"
WARM = ROOT / "kdcourse" / "lessons" / "warm.py"

START, END = "<!-- lessons:start -->", "<!-- lessons:end -->"
# Lessons whose first-run cache builds are not in lessons/first_run.json yet, and why: their **Time:** line stays
# as written (held by their claims file) and the README says "not measured yet". The tests fail once a lesson here
# has every build measured, so this list only shrinks.
NOT_YET: dict[str, str] = {}  # lesson -> why its time is not measured yet (a list that only shrinks)
WORDS_PER_MINUTE = 130
MINUTES_PER_EXERCISE = 5
PROFILE = "cpu"  # the profile whose stored run is timed
# The span of the first cell that this tool owns: from **Time:** up to **Prerequisites:** (both required).
TIME_SPAN = re.compile(r"\*\*Time:\*\*.*?(?=\*\*Prerequisites:\*\*)", re.S)
WRAP = 100  # the header's lines are wrapped like the rest of the lessons' markdown


def lesson_paths() -> list[Path]:
    return sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def dump(nb: dict) -> str:
    """The notebook as nbformat writes it (sorted keys, indent 1, UTF-8, final newline)."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def lesson_number(nb: dict) -> str:
    """'03' from the title '# 03 · ...'."""
    found = re.match(r"#\s*(\d\d)\b", _source(nb["cells"][0]))
    if not found:
        raise ValueError("the first cell's title does not start with the lesson's number ('# 03 · ...')")
    return found.group(1)


def header_time(nb: dict) -> str | None:
    """The **Time:** text of the first cell as written (whitespace normalised), None if it has none."""
    found = TIME_SPAN.search(_source(nb["cells"][0]))
    return " ".join(found.group(0).split()) if found else None


# --- the three parts ----------------------------------------------------------------------------------------


def words(nb: dict) -> int:
    """Words of every markdown and code cell, the **Time:** line left out."""
    texts = [_source(c) for c in nb["cells"] if c["cell_type"] in ("markdown", "code")]
    texts[0] = TIME_SPAN.sub("", texts[0])
    return sum(len(t.split()) for t in texts)


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def cell_seconds(nb: dict) -> tuple[float, list[int]]:
    """Sum of the code cells' execution times in the stored run, and the indices of code cells without timings."""
    total, untimed = 0.0, []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        stamps = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in stamps and "shell.execute_reply" in stamps:
            total += (_stamp(stamps["shell.execute_reply"]) - _stamp(stamps["iopub.execute_input"])).total_seconds()
        else:
            untimed.append(i)
    return total, untimed


def stored_profile(nb: dict) -> str | None:
    """The profile named in the setup cell's stored output: which run produced the stored outputs."""
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
            found = re.search(r"\| profile (\w+):", text)
            return found.group(1) if found else None
    return None


def exercise_cells(nb: dict) -> list[int]:
    """Code cells after the '## Exercises' heading that call a `.check_...(`: one exercise each."""
    start = next(
        (
            i
            for i, c in enumerate(nb["cells"])
            if c["cell_type"] == "markdown" and re.search(r"^## Exercises", _source(c), re.M)
        ),
        None,
    )
    if start is None:
        return []
    return [
        i
        for i, c in enumerate(nb["cells"][start:], start)
        if c["cell_type"] == "code" and re.search(r"\.check_\w+\(", _source(c))
    ]


def lesson_caches(path: Path = WARM) -> dict[str, list[str]]:
    """kdcourse/lessons/warm.py's LESSON_CACHES as {lesson: [cache build function names]} (read, not imported)."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = [node.target] if isinstance(node, ast.AnnAssign) else getattr(node, "targets", [])
        if any(isinstance(t, ast.Name) and t.id == "LESSON_CACHES" for t in targets):
            return {
                ast.literal_eval(key): [step.id for step in steps.elts]
                for key, steps in zip(node.value.keys, node.value.values)
            }
    raise ValueError(f"{path} defines no LESSON_CACHES")


def first_run_builds(path: Path = FIRST_RUN) -> dict[str, dict]:
    """lessons/first_run.json's builds: {cache build function name: {"seconds": ..., ...}}."""
    return json.loads(path.read_text(encoding="utf-8"))["builds"] if path.exists() else {}


def build_seconds(lesson: str, caches: dict | None = None, builds: dict | None = None) -> float | None:
    """Seconds a first run of `lesson` adds by building the caches it reads: for each build, its time from an empty
    cache less its time once cached (what a rerun still pays, e.g. loading). 0 if none; None if not measured."""
    caches = lesson_caches() if caches is None else caches
    builds = first_run_builds() if builds is None else builds
    steps = caches.get(lesson, [])
    if any(step not in builds or "warm seconds" not in builds[step] for step in steps):
        return None
    return sum(max(0.0, builds[step]["seconds"] - builds[step]["warm seconds"]) for step in steps)


# --- the estimate -------------------------------------------------------------------------------------------


def _up(minutes: float) -> int:
    return math.ceil(round(minutes, 6))


def estimate(nb: dict, caches: dict | None = None, builds: dict | None = None) -> dict:
    """The lesson's time in whole minutes and its parts; `problems` says why a part could not be measured."""
    lesson = lesson_number(nb)
    caches = lesson_caches() if caches is None else caches
    builds = first_run_builds() if builds is None else builds
    n_words = words(nb)
    seconds, untimed = cell_seconds(nb)
    build = build_seconds(lesson, caches, builds)
    n_exercises = len(exercise_cells(nb))
    problems = []
    if stored_profile(nb) != PROFILE:
        problems.append(
            f"its stored outputs are not from a `{PROFILE}` run (profile: {stored_profile(nb)}; re-execute it with "
            f"KDCOURSE_PROFILE={PROFILE})"
        )
    if untimed:
        problems.append(
            f"code cells {untimed} carry no nbclient timings (re-executed only in part? run it top to bottom)"
        )
    if build is None:
        missing = [s for s in caches.get(lesson, []) if s not in builds or "warm seconds" not in builds[s]]
        problems.append(
            f"lessons/first_run.json lacks the cache builds it reads ({', '.join(missing)}; measure them with "
            f"`python tools/first_run.py --lessons {lesson} --cache <a new, empty folder>`)"
        )
    parts = {
        "lesson": lesson,
        "words": n_words,
        "read": _up(n_words / WORDS_PER_MINUTE),
        "run_seconds": seconds,
        "run": _up(seconds / 60),
        "build_seconds": build,
        "build": _up(build / 60) if build else 0,
        "exercise_cells": n_exercises,
        "exercises": n_exercises * MINUTES_PER_EXERCISE,
        "problems": problems,
    }
    parts["total"] = None if problems else parts["read"] + parts["run"] + parts["build"] + parts["exercises"]
    return parts


def time_text(t: dict) -> str:
    """The lesson's **Time:** line, saying what each part is."""
    if t["problems"]:
        raise ValueError(f"lesson {t['lesson']}: no time can be written: " + "; ".join(t["problems"]))
    if t["build_seconds"]:
        running = (
            f"running {t['run'] + t['build']} (the `{PROFILE}` profile: {t['run']} for the cells as timed in the "
            f"stored run, caches warm, plus {t['build']} that a first run spends building the caches they read, "
            "timed by `python -m kdcourse prepare`)"
        )
        first = " on a first run"
        rerun = (
            f" On a rerun, or after `python -m kdcourse prepare --lessons {t['lesson']}`, about "
            f"{t['total'] - t['build']} minutes."
        )
    else:
        running = f"running {t['run']} (the cells as timed in the stored `{PROFILE}` run; no cache to build)"
        first = rerun = ""
    return (
        f"**Time:** about {t['total']} minutes{first}: reading {t['read']} ({t['words']:,} words of text and code at "
        f"{WORDS_PER_MINUTE} a minute), {running} and exercises {t['exercises']} ({t['exercise_cells']} auto-checked, "
        f"{MINUTES_PER_EXERCISE} minutes each).{rerun}"
    )


def minutes(nb: dict) -> dict:
    """The estimate's parts and total (None where not measured); tools/site_index.py reads `total`."""
    return estimate(nb)


def with_time(nb: dict, text: str) -> dict:
    """A copy of `nb` whose **Time:** line is `text` (wrapped) and whose metadata.kdcourse.minutes is its total."""
    nb = json.loads(json.dumps(nb))
    source = _source(nb["cells"][0])
    if not TIME_SPAN.search(source):
        raise ValueError("the first cell has no **Time:** ... **Prerequisites:** span to write")
    wrapped = textwrap.fill(text, WRAP, break_long_words=False, break_on_hyphens=False) + "\n"
    source = TIME_SPAN.sub(lambda _: wrapped, source, count=1)
    nb["cells"][0]["source"] = source.splitlines(keepends=True)
    total = int(re.match(r"\*\*Time:\*\* about (\d+) minutes", text).group(1))
    nb["metadata"].setdefault("kdcourse", {})["minutes"] = total
    return nb


# --- the README table ---------------------------------------------------------------------------------------


def colab_url(path: str) -> str:
    from kdcourse import REF, REPO

    return f"https://colab.research.google.com/github/{REPO}/blob/{REF}/{path}"


def time_cell(t: dict) -> str:
    if t["lesson"] in NOT_YET:
        return "not measured yet (its first-run cache build; the lesson's header gives an estimate)"
    if t["problems"]:
        return "not measured: " + "; ".join(t["problems"]).replace("|", "/")
    build = f" + {t['build']} first-run cache build" if t["build_seconds"] else ""
    return f"{t['total']} min (read {t['read']}, run {t['run']}{build}, exercises {t['exercises']})"


NOTE = (
    "Times are written by `tools/lesson_table.py` into this table and each lesson's **Time:** line: reading at "
    f"{WORDS_PER_MINUTE} words a minute (markdown and code), running as timed in the stored `{PROFILE}` run "
    "(nbclient's cell timings; `make notebooks` warms the caches first) plus, on a first run, the cache builds "
    "`python -m kdcourse prepare` timed from an "
    f"empty cache (`lessons/first_run.json`), and {MINUTES_PER_EXERCISE} minutes per auto-checked exercise. "
    'Points: what the lesson\'s exercises are worth in a classroom release (`make classroom`; see "Teaching a class").'
)


def points(lesson: str) -> str:
    """The lesson's graded points in a classroom release (kdcourse_solutions.EXERCISES): '3 (3 questions)'."""
    from kdcourse_solutions import EXERCISES

    marks = [ex.points for ex in EXERCISES.values() if ex.lesson == lesson]
    return f"{sum(marks)} ({len(marks)} question{'s' * (len(marks) != 1)})"


def table() -> str:
    caches, builds = lesson_caches(), first_run_builds()
    rows = ["| lesson | open | time | what it teaches | points | stored outputs |", "|---|---|---|---|---|---|"]
    for path in lesson_paths():
        nb = load(path)
        meta = nb["metadata"].get("kdcourse", {})
        title = re.sub(r"^#\s*", "", _source(nb["cells"][0]).splitlines()[0]).strip()
        rel = path.relative_to(ROOT).as_posix()
        badge = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(rel)})"
        profile = stored_profile(nb)
        rows.append(
            f"| [{title}]({rel}) | {badge} | {time_cell(estimate(nb, caches, builds))} | {meta.get('teaches', '')} | "
            f"{points(path.name[:2])} | {f'`{profile}`' if profile else 'not run'} |"
        )
    return "\n".join(rows) + "\n\n" + NOTE


def readme_with_table(text: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"README.md lacks the markers {START} ... {END}")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table()}\n{END}{tail}"


# --- check and write ----------------------------------------------------------------------------------------


def lesson_problems(path: Path, caches: dict | None = None, builds: dict | None = None) -> list[str]:
    """Why the lesson's **Time:** line or metadata is not the tool's (empty when it is)."""
    nb = load(path)
    t = estimate(nb, caches, builds)
    if t["lesson"] in NOT_YET:
        if build_seconds(t["lesson"], caches, builds) is not None:
            return [f"{path.name}: every cache build it reads is measured now: remove it from NOT_YET"]
        return []
    if t["problems"]:
        return [f"{path.name}: no measured time: " + "; ".join(t["problems"])]
    want = time_text(t)
    found = []
    if header_time(nb) != want:
        found.append(
            f"{path.name}: the **Time:** line says\n    {header_time(nb)!r}\n  the stored run gives\n    {want!r}"
        )
    if nb["metadata"].get("kdcourse", {}).get("minutes") != t["total"]:
        found.append(
            f"{path.name}: metadata kdcourse.minutes is {nb['metadata'].get('kdcourse', {}).get('minutes')!r}, "
            f"not {t['total']}"
        )
    return found


def write_lesson(path: Path, caches: dict | None = None, builds: dict | None = None) -> bool:
    """Write the lesson's **Time:** line and metadata; True if the file changed."""
    nb = load(path)
    if lesson_number(nb) in NOT_YET:
        return False
    new = dump(with_time(nb, time_text(estimate(nb, caches, builds))))
    if new == path.read_text(encoding="utf-8"):
        return False
    path.write_text(new, encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="write the README table and the lessons' Time lines")
    action.add_argument("--check", action="store_true", help="exit 1 if the README or a lesson is out of date")
    parser.add_argument("--lessons", nargs="+", metavar="NN", help="only these lessons' Time lines (default: all)")
    args = parser.parse_args(argv)
    paths = lesson_paths()
    if args.lessons:
        wanted = {n.zfill(2) for n in args.lessons}
        paths = [p for p in paths if p.name[:2] in wanted]
    caches, builds = lesson_caches(), first_run_builds()
    if args.write:
        failed = []
        for path in paths:
            try:
                changed = write_lesson(path, caches, builds)
                print(f"{path.name}: {'written' if changed else 'unchanged'}")
            except ValueError as err:
                failed.append(f"{path.name}: not written: {err}")
        text = README.read_text(encoding="utf-8")
        README.write_text(readme_with_table(text), encoding="utf-8")
        print("README.md: lesson table written")
        for line in failed:
            print(line, file=sys.stderr)
        return 1 if failed else 0
    if args.check:
        problems = [p for path in paths for p in lesson_problems(path, caches, builds)]
        if readme_with_table(README.read_text(encoding="utf-8")) != README.read_text(encoding="utf-8"):
            problems.append("README.md: the lesson table is out of date")
        for line in problems:
            print(line)
        if problems:
            print("fix: `python tools/lesson_table.py --write` (after the lessons' last re-execution)")
        return 1 if problems else 0
    print(table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
