"""A lesson's **Time:** line as tools/lesson_table.py computes it from the stored run, for the claims registry.

The line is written by the tool, so its numbers change whenever a lesson is re-executed. A lesson's claims file
holds it with the tool's own sentences instead of a copy of them:

    @claim("03", *time_sentences("03"))
    def test_03_the_time_line_is_the_tools():
        check_time_line("03")

Not collected by pytest (no `test_` prefix).
"""

import sys
from pathlib import Path

from claims import LESSONS, NAMES, notebook, split_sentences

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import lesson_table  # noqa: E402


def time_sentences(lesson: str) -> list[str]:
    """The sentences of the **Time:** line the tool computes for `lesson`. Where the lesson has no measured time
    (not re-executed in full, a cache build not in lessons/first_run.json), a sentence that is in no lesson, so
    the registry gate fails and check_time_line says why."""
    try:
        return split_sentences(lesson_table.time_text(lesson_table.estimate(notebook(NAMES[lesson]))))
    except ValueError as err:
        return [f"(no measured time for lesson {lesson}: {err})"]


def check_time_line(lesson: str) -> None:
    """The lesson's **Time:** line and metadata are the tool's, computed from its stored run."""
    problems = lesson_table.lesson_problems(LESSONS / NAMES[lesson])
    assert not problems, "\n".join([*problems, "fix: `python tools/lesson_table.py --write`"])
