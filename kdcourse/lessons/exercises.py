"""Auto-checked exercises: each `check_...` computes the right answer itself and says what is off."""

from __future__ import annotations

SOLUTIONS: dict[str, str] = {}


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


def solution(name: str) -> None:
    """Print the worked solution of an exercise (e.g. `solution("majority_baseline")`)."""
    if name not in SOLUTIONS:
        raise KeyError(f"no exercise {name!r}; known: {', '.join(sorted(SOLUTIONS))}")
    print(f"# solution: {name}\n{SOLUTIONS[name].strip()}\n")
