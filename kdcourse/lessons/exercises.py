"""Auto-checked exercises: each `check_...` computes the right answer itself and says what is off."""

from __future__ import annotations

SOLUTIONS: dict[str, str] = {}


def _report(ok: bool, good: str, bad: str) -> bool:
    print(("Right! " + good) if ok else ("Not yet: " + bad))
    return ok


def _unanswered(answer) -> bool:
    if answer is None:
        print("Not yet: replace the `None` placeholder with your answer, then run the cell again.")
        return True
    return False


def _is_number(answer) -> bool:
    return isinstance(answer, (int, float)) and not isinstance(answer, bool)


def solution(name: str) -> None:
    """Print the worked solution of an exercise (e.g. `solution("majority_baseline")`)."""
    if name not in SOLUTIONS:
        raise KeyError(f"no exercise {name!r}; known: {', '.join(sorted(SOLUTIONS))}")
    print(f"# solution: {name}\n{SOLUTIONS[name].strip()}\n")
