"""Auto-checked exercises: each `check_...` computes the right answer itself and says what is off."""

from __future__ import annotations

import contextlib
import io

from ..version import REF, REPO

SOLUTIONS_PACKAGE = f"kdcourse-solutions @ git+https://github.com/{REPO}@{REF}#subdirectory=solutions"


def report(ok: bool, good: str, bad: str) -> bool:
    """Print "Right! <good>" or "Not yet: <bad>" and return ok: every checker's last line."""
    print(("Right! " + good) if ok else ("Not yet: " + bad))
    return ok


def unanswered(answer) -> bool:
    """True (after saying so) while the exercise cell still holds its `None` placeholder."""
    if answer is None:
        print("Not yet: replace the `None` placeholder with your answer, then run the cell again.")
        return True
    return False


def is_number(answer) -> bool:
    """A Python int or float, not a bool (True would pass as 1)."""
    return isinstance(answer, (int, float)) and not isinstance(answer, bool)


def passes(env: dict, call: str) -> None:
    """An autograder test (tools/classroom.py): run a checker call such as
    'l00.check_majority_baseline(answer, reviews)' in a notebook's globals; silent when it says right,
    else AssertionError carrying what the checker printed (its hint)."""
    said = io.StringIO()
    with contextlib.redirect_stdout(said):
        ok = eval(call, env)  # the lesson's own checker call, taken from its exercise cell
    if not ok:  # a checker returns a bool, or a result that is truthy when right (check_kd_loss)
        raise AssertionError(said.getvalue().strip() or f"{call} returned {ok!r}")


def solutions() -> dict[str, str]:
    """Every worked solution by exercise name, from the separate `kdcourse-solutions` package."""
    try:
        from kdcourse_solutions import SOLUTIONS
    except ModuleNotFoundError:
        raise LookupError(
            "the worked solutions are not installed here (a classroom copy leaves them out: ask your "
            f'instructor); to install them: pip install "{SOLUTIONS_PACKAGE}"'
        ) from None
    return SOLUTIONS


def solution(name: str) -> None:
    """Print the worked solution of an exercise (e.g. `solution("majority_baseline")`)."""
    known = solutions()
    if name not in known:
        raise KeyError(f"no exercise {name!r}; known: {', '.join(sorted(known))}")
    print(f"# solution: {name}\n{known[name].strip()}\n")
