"""Lesson 01 (what distillation is): its auto-checked exercises and their worked solutions."""
from __future__ import annotations

import math

from .exercises import SOLUTIONS, _is_number, _report, _unanswered

SOLUTIONS["distilbert_embedding_share"] = """
embedding = sum(p.numel() for p in distilbert.embeddings.parameters())
answer = embedding / sum(p.numel() for p in distilbert.parameters())
"""


def check_distilbert_embedding_share(answer, distilbert) -> bool:
    """Exercise 01.1: the fraction of DistilBERT's parameters that sit in its embedding block."""
    if _unanswered(answer):
        return False
    if not _is_number(answer):
        return _report(False, "", f"give a number, got {type(answer).__name__}")
    embedding = sum(p.numel() for p in distilbert.embeddings.parameters())
    total = sum(p.numel() for p in distilbert.parameters())
    truth = embedding / total
    if answer > 1:
        return _report(False, "", f"{answer} is above 1: give a fraction (0.36), not a percentage "
                                  "or a count")
    if math.isclose(answer, 1 - truth, abs_tol=1e-4):
        return _report(False, "", "that is the share of everything *except* the embeddings")
    words = distilbert.embeddings.word_embeddings.weight.numel() / total
    if math.isclose(answer, words, abs_tol=1e-4):
        return _report(False, "", "that counts only the word embeddings; add the position "
                                  "embeddings and the LayerNorm")
    return _report(math.isclose(answer, truth, abs_tol=1e-3),
                   f"{truth:.1%} of DistilBERT ({embedding:,} of {total:,}) is one lookup table: "
                   "halving the layers cannot shrink it, which is why 50% fewer layers gives only "
                   "~40% fewer parameters.",
                   f"{answer:.4f} differs from embeddings / all parameters of the model")


SOLUTIONS["measured_speedup"] = """
latency = {row["name"]: row["latency_ms"] for row in rows}
answer = latency["BERT-base"] / latency["DistilBERT"]
"""


def check_measured_speedup(answer, rows, slow: str = "BERT-base", fast: str = "DistilBERT") -> bool:
    """Exercise 01.2: how many times faster `fast` ran than `slow`, from benchmark_table rows."""
    if _unanswered(answer):
        return False
    if not _is_number(answer):
        return _report(False, "", f"give a number, got {type(answer).__name__}")
    latency = {row["name"]: row["latency_ms"] for row in rows}
    for name in (slow, fast):
        if name not in latency:
            raise ValueError(f"no row named {name!r} in rows; rows are: {', '.join(latency)}")
    truth = latency[slow] / latency[fast]
    if math.isclose(answer, 1 / truth, rel_tol=1e-3):
        return _report(False, "", "that is the inverse: divide the slow model's latency by the fast "
                                  "model's, so that 'faster' gives a ratio above 1")
    if math.isclose(answer, truth - 1, rel_tol=1e-3):
        return _report(False, "", f"{answer:.2f} is how much faster ('{truth - 1:.0%} faster'); the "
                                  "speed-up ratio is one more than that")
    if math.isclose(answer, latency[slow] - latency[fast], rel_tol=1e-3):
        return _report(False, "", "that is a difference in milliseconds; take a ratio")
    return _report(math.isclose(answer, truth, rel_tol=1e-3),
                   f"{fast} ran {truth:.2f}x as fast as {slow} here, i.e. {truth - 1:.0%} faster. "
                   "Ratios from one run on one machine are what to compare, never raw "
                   "milliseconds across machines.",
                   f"{answer} differs from latency[{slow!r}] / latency[{fast!r}]")


SOLUTIONS["most_uncertain_snippet"] = """
off_top = 1 - shown_probs.max(dim=-1).values   # mass the teacher puts off its top answer
answer = int(off_top.argmax())
"""


def check_most_uncertain_snippet(answer, probs) -> bool:
    """Exercise 01.3: the row index of `probs` with the most probability mass off its top class."""
    if _unanswered(answer):
        return False
    import torch

    probs = torch.as_tensor(probs, dtype=torch.float32)
    if probs.dim() != 2:
        raise ValueError(f"probs must be (snippets, classes), got shape {tuple(probs.shape)}")
    if isinstance(answer, bool) or not isinstance(answer, int):
        return _report(False, "", f"give a row index (an int), got {type(answer).__name__}; "
                                  "int(tensor.argmax()) turns a tensor into one")
    if not 0 <= answer < len(probs):
        return _report(False, "", f"{answer} is not a row index; there are {len(probs)} rows "
                                  f"(0 to {len(probs) - 1})")
    off_top = 1 - probs.max(dim=-1).values
    truth = int(off_top.argmax())
    if off_top[answer] == off_top.min() and off_top[answer] != off_top[truth]:
        return _report(False, "", f"row {answer} is the teacher's *most* confident snippet; look "
                                  "for the most mass off the top answer")
    return _report(bool(off_top[answer] == off_top[truth]),
                   f"row {truth} puts {float(off_top[truth]):.2f} of its mass off the top answer: "
                   "that is the snippet the teacher finds most ambiguous, a fact a hard label "
                   "cannot carry.",
                   f"row {answer} has {float(off_top[answer]):.2f} off its top answer, but another "
                   f"row has more")


