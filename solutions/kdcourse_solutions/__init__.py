"""The course's worked solutions, kept out of the `kdcourse` package a student installs.

A self-learner installs both (the lessons' Colab cell does); a classroom release leaves this one out
(`python tools/classroom.py build OUT`), so `solution(name)` has nothing to print there.
`EXERCISES` says where each exercise stands and what it is worth when graded.
"""

from __future__ import annotations

from typing import NamedTuple

from . import l00, l01, l02, l03, l04, l05, l06, l07

__version__ = "0.2.0"


class Exercise(NamedTuple):
    """One auto-checked exercise: its lesson, the checker its cell calls, and its points when graded."""

    lesson: str
    checker: str
    points: int


# solution name -> where it stands; points: 1 for a value to compute, 2 for a function to write, 3 for
# the one training step
EXERCISES: dict[str, Exercise] = {
    "majority_baseline": Exercise("00", "check_majority_baseline", 1),
    "profile_choice": Exercise("00", "check_profile_choice", 1),
    "fair_comparison": Exercise("01", "check_fair_comparison", 1),
    "measured_speedup": Exercise("01", "check_measured_speedup", 1),
    "most_uncertain_snippet": Exercise("01", "check_most_uncertain_snippet", 1),
    "soft_targets": Exercise("02", "check_soft_targets", 2),
    "temperature_for_top": Exercise("02", "check_temperature_for_top", 1),
    "fix_kd_loss": Exercise("02", "check_kd_loss", 2),
    "distill_step": Exercise("03", "check_distill_step", 3),
    "standard_error": Exercise("03", "check_standard_error", 1),
    "important_knob": Exercise("03", "check_important_knob", 1),
    "first_last_student": Exercise("04", "check_first_last_student", 1),
    "masked_cosine": Exercise("04", "check_masked_cosine", 2),
    "seeds_to_decide": Exercise("04", "check_seeds_to_decide", 1),
    "scale_zero_point": Exercise("05", "check_scale_zero_point", 1),
    "int8_linear_bytes": Exercise("05", "check_int8_linear_bytes", 1),
    "keep_fp32": Exercise("05", "check_keep_fp32", 1),
    "reverse_kl": Exercise("06", "check_reverse_kl", 2),
    "topk_mass": Exercise("06", "check_topk_mass", 1),
    "full_logits_mb": Exercise("06", "check_full_logits_mb", 1),
    "perplexity": Exercise("06", "check_perplexity", 1),
    "pareto_front": Exercise("07", "check_pareto_front", 2),
    "p95": Exercise("07", "check_p95", 1),
    "control": Exercise("07", "check_control", 1),
}

SOLUTIONS: dict[str, str] = {}
for _module in (l00, l01, l02, l03, l04, l05, l06, l07):
    SOLUTIONS.update(_module.SOLUTIONS)

__all__ = ["EXERCISES", "Exercise", "SOLUTIONS"]
