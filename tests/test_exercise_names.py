"""Every worked solution uses only names its lesson defines before the exercise cell, so pasting it
where the exercise stands cannot raise NameError."""

from pathlib import Path

import pytest
from lesson_names import free_names, names_before_exercise

import kdcourse_solutions

ROOT = Path(__file__).resolve().parents[1]
# solution name -> (lesson notebook, the checker its exercise cell calls)
EXERCISES = {
    name: (next((ROOT / "lessons").glob(f"{ex.lesson}_*.ipynb")).name, ex.checker)
    for name, ex in kdcourse_solutions.EXERCISES.items()
}


def test_every_solution_is_listed():
    assert set(kdcourse_solutions.SOLUTIONS) == set(EXERCISES)


def test_every_checker_is_an_exercise():
    """Each lesson's `check_...` functions are the registry's checkers (a new exercise gets registered)."""
    from kdcourse import lessons

    checkers = {
        (f"{n:02d}", name) for n in range(8) for name in dir(getattr(lessons, f"l{n:02d}")) if name.startswith("check_")
    }
    assert checkers == {(ex.lesson, ex.checker) for ex in kdcourse_solutions.EXERCISES.values()}


def test_the_free_name_finder():
    code = "def f(a):\n    return a + b\nimport math as m\nc = [i for i in range(3)]\nprint(m.pi, c, d)"
    assert free_names(code) == {"b", "d"}


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_solution_uses_only_the_lesson_names(name):
    notebook, checker = EXERCISES[name]
    missing = free_names(kdcourse_solutions.SOLUTIONS[name]) - names_before_exercise(notebook, checker)
    assert not missing, (
        f"solution {name!r} reads {sorted(missing)}, which lessons/{notebook} does not define "
        f"before the cell that calls {checker}(): NameError when pasted there"
    )
