"""Lesson 00 (setup): its auto-checked exercises (worked solutions: kdcourse_solutions)."""

from __future__ import annotations

import math

from .exercises import is_number, report, unanswered


def check_majority_baseline(answer, data) -> bool:
    """Exercise 00.1: the test split's majority-class accuracy, as a fraction in [0, 1]."""
    if unanswered(answer):
        return False
    labels = data["test"]["label"]
    truth = max(labels.count(0), labels.count(1)) / len(labels)
    if not is_number(answer):
        return report(False, "", f"give a number, got {type(answer).__name__}")
    if answer > 1:
        return report(False, "", f"{answer} is above 1: give a fraction (0.57), not a percentage")
    if math.isclose(answer, 1 - truth, abs_tol=1e-6):
        return report(
            False, "", "that is the minority class's share; the baseline always guesses the most frequent label"
        )
    return report(
        math.isclose(answer, truth, abs_tol=1e-6),
        f"always answering the majority label scores {truth:.3f}; every accuracy in the "
        "course is read against this number.",
        f"{answer} differs from the share of the most frequent label in the test split",
    )


Z95 = 1.96  # a 95% normal interval is the estimate +/- 1.96 standard errors


def interval_half_width(accuracy: float, n: int) -> float:
    """Half-width of the 95% interval of an accuracy measured on `n` snippets: 1.96 * sqrt(p(1-p)/n)."""
    return Z95 * math.sqrt(accuracy * (1 - accuracy) / n)


def check_profile_choice(
    answer, profiles, reviews, accuracy: float = 0.8, margin: float = 0.02, gpu: bool = False
) -> bool:
    """Exercise 00.2: the profile that runs on this machine (`gpu`: it has CUDA) and measures an accuracy near
    `accuracy` on its test split to within +/- `margin` (95% interval); a `test_size` of None is the whole split."""
    if unanswered(answer):
        return False
    if not isinstance(answer, str):
        return report(
            False, "", f'give the profile\'s name as a string ("smoke", "cpu" or "gpu"), got {type(answer).__name__}'
        )
    if answer not in profiles:
        return report(False, "", f"{answer!r} is not a profile; choose one of {', '.join(profiles)}")
    n = {name: p.test_size or len(reviews["test"]) for name, p in profiles.items()}
    width = {name: interval_half_width(accuracy, n[name]) for name in profiles}
    runs = {name: gpu or p.device != "cuda" for name, p in profiles.items()}
    if not any(runs[name] and width[name] <= margin for name in profiles):
        raise ValueError(f"no profile runs here and measures to +/- {margin}: half-widths {width}")
    if not runs[answer]:
        return report(
            False,
            "",
            f"{answer} runs on device {profiles[answer].device!r}: it needs a CUDA GPU, "
            f"and this laptop has none (get_profile({answer!r}) refuses without one)",
        )
    if width[answer] > margin:
        return report(
            False,
            "",
            f"{answer} tests on {n[answer]:,} snippets, so an accuracy near {accuracy} "
            f"is known to +/- {width[answer]:.3f} there, wider than +/- {margin}: two "
            "students 3 points apart could swap places. It is for checking that code runs",
        )
    others = ", ".join(f"{name} +/- {width[name]:.3f}" for name in profiles if name != answer and runs[name])
    return report(
        True,
        f"{answer} tests on {n[answer]:,} snippets: +/- {width[answer]:.3f} at {accuracy} "
        f"({others}). The interval shrinks like 1/sqrt(n): 4x the snippets, half the width.",
        "",
    )
