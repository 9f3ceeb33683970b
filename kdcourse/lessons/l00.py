"""Lesson 00 (setup): its auto-checked exercises and their worked solutions."""
from __future__ import annotations

import math

from .exercises import SOLUTIONS, _report, _unanswered

SOLUTIONS["majority_baseline"] = """
labels = list(reviews["test"]["label"])
answer = max(labels.count(0), labels.count(1)) / len(labels)
"""


def check_majority_baseline(answer, data) -> bool:
    """Exercise 00.1: the test split's majority-class accuracy, as a fraction in [0, 1]."""
    if _unanswered(answer):
        return False
    labels = data["test"]["label"]
    truth = max(labels.count(0), labels.count(1)) / len(labels)
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return _report(False, "", f"give a number, got {type(answer).__name__}")
    if answer > 1:
        return _report(False, "", f"{answer} is above 1: give a fraction (0.57), not a percentage")
    if math.isclose(answer, 1 - truth, abs_tol=1e-6):
        return _report(False, "", "that is the minority class's share; the baseline always guesses "
                                  "the most frequent label")
    return _report(math.isclose(answer, truth, abs_tol=1e-6),
                   f"always answering the majority label scores {truth:.3f}; every accuracy in the "
                   "course is read against this number.",
                   f"{answer} differs from the share of the most frequent label in the test split")


SOLUTIONS["embedding_params"] = """
answer = sum(p.numel() for p in teacher.embeddings.parameters())
"""


def check_embedding_params(answer, teacher) -> bool:
    """Exercise 00.2: how many of the teacher's parameters sit in its embedding block."""
    if _unanswered(answer):
        return False
    truth = sum(p.numel() for p in teacher.embeddings.parameters())
    words = teacher.embeddings.word_embeddings.weight.numel()
    total = sum(p.numel() for p in teacher.parameters())
    if answer == words:
        return _report(False, "", f"{answer} counts only the word embeddings; add the position and "
                                  "token-type embeddings and the LayerNorm")
    if answer == total:
        return _report(False, "", "that is the whole model; count teacher.embeddings only")
    return _report(answer == truth,
                   f"{truth:,} of {total:,} parameters ({truth / total:.0%}) are embeddings: "
                   "a student that only drops layers keeps all of them.",
                   f"{answer} is not the number of parameters in teacher.embeddings")


