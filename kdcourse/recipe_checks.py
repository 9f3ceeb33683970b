"""Auto-checked exercises of lesson 04 (the DistilBERT recipe); solutions go to exercises.SOLUTIONS."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import losses, students
from .exercises import SOLUTIONS, _report, _unanswered

SOLUTIONS["first_last_student"] = """
n = students.num_layers(teacher)
answer = students.student_from_teacher(teacher, [0, n - 1])
"""


def check_first_last_student(answer, teacher) -> bool:
    """Exercise 04.1: a 2-layer student holding exact copies of the teacher's first and last layers."""
    if _unanswered(answer):
        return False
    try:
        depth = students.num_layers(answer)
    except TypeError as err:
        return _report(False, "", f"give a model built from the teacher ({err})")
    n = students.num_layers(teacher)
    if depth != 2:
        return _report(False, "", f"your student has {depth} layers; keep exactly two: the first "
                                  f"(0) and the last ({n - 1})")
    for layers in ([0, n - 1], [0, 1], [n - 2, n - 1]):
        check = students.copied_weights_equal(answer, teacher, layers)
        if not check["differ"]:
            break
    else:
        return _report(False, "", "its weights match no pair of teacher layers; copy them "
                                  "(students.student_from_teacher does) instead of initialising anew")
    if layers != [0, n - 1]:
        return _report(False, "", f"that student copies teacher layers {layers}; take the first "
                                  f"and the last: [0, {n - 1}]")
    return _report(True, f"all {check['tensors']} tensors are exact copies of teacher layers "
                         f"[0, {n - 1}], its embeddings and head.", "")


SOLUTIONS["masked_cosine"] = """
def masked_cosine(student_hidden, teacher_hidden, attention_mask):
    cos = F.cosine_similarity(student_hidden, teacher_hidden, dim=-1)   # (batch, seq)
    real = attention_mask.bool()                                       # padding is False
    return (1 - cos)[real].mean()                                      # mean over real tokens only
"""


def _cosine_probes():
    gen = torch.Generator().manual_seed(404)
    probes = []
    for batch, seq, hidden in ((3, 6, 8), (2, 9, 4)):
        s = torch.randn(batch, seq, hidden, generator=gen)
        t = s + 0.8 * torch.randn(batch, seq, hidden, generator=gen)
        mask = torch.ones(batch, seq, dtype=torch.long)
        mask[0, seq // 2:] = 0
        mask[-1, seq - 2:] = 0
        t[mask == 0] = -5 * s[mask == 0]  # padding positions disagree loudly: counting them shows
        probes.append((s, t, mask))
    return probes


def check_masked_cosine(fn) -> bool:
    """Exercise 04.2: fn(student_hidden, teacher_hidden, attention_mask) = mean of 1 - cos over real tokens."""
    if _unanswered(fn):
        return False
    probes = _cosine_probes()
    try:
        results = [fn(s.clone(), t.clone(), m.clone()) for s, t, m in probes]
        if any(r is None for r in results):
            return _report(False, "", "your function returns None; return the loss (a 0-dim tensor)")
        got = [float(r) for r in results]
    except Exception as err:  # the learner's code: report any failure
        return _report(False, "", f"your function raised {type(err).__name__}: {err}")
    want = [float(losses.hidden_cosine_loss(s, t, m)) for s, t, m in probes]

    def same(values):
        return all(math.isclose(g, w, rel_tol=1e-4, abs_tol=1e-6) for g, w in zip(got, values))

    if same(want):
        return _report(True, "your loss matches kdcourse.losses.hidden_cosine_loss on padded batches.", "")
    unmasked = [float((1 - F.cosine_similarity(s, t, dim=-1)).mean()) for s, t, _ in probes]
    wrong_dim = [float((1 - F.cosine_similarity(s, t, dim=1)).mean()) for s, t, _ in probes]
    int_index = [float((1 - F.cosine_similarity(s, t, dim=-1))[m].mean()) for s, t, m in probes]
    plain_cos = [1 - w for w in want]
    if same(unmasked):
        return _report(False, "", "padding positions are averaged in; keep only attention_mask == 1")
    if same(plain_cos):
        return _report(False, "", "that is the mean cosine similarity; the loss is 1 - cos "
                                  "(0 when the directions agree)")
    if same(wrong_dim):
        return _report(False, "", "the cosine runs over the sequence axis; use dim=-1 (hidden size)")
    if same(int_index):
        return _report(False, "", "indexing with the integer mask picks rows 0 and 1 instead of masking; "
                                  "index with attention_mask.bool()")
    rows = ", ".join(f"got {g:.4f}, expected {w:.4f}" for g, w in zip(got, want))
    return _report(False, "", f"the values differ ({rows})")


SOLUTIONS["embedding_share"] = """
info = students.describe_student(student)
answer = info["embeddings"] / info["params"]
"""


def check_embedding_share(answer, student) -> bool:
    """Exercise 04.3: the fraction of the student's parameters that sit in its embedding block."""
    if _unanswered(answer):
        return False
    info = students.describe_student(student)
    truth = info["embeddings"] / info["params"]
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return _report(False, "", f"give a number, got {type(answer).__name__}")
    if answer > 1:
        return _report(False, "", f"{answer} is above 1: give a fraction, not a percentage")
    return _report(math.isclose(answer, truth, abs_tol=5e-3),
                   f"{truth:.1%} of the student is embeddings: dropping layers cannot shrink those, "
                   "which is why halving the depth removed far less than half the parameters.",
                   f"{answer} differs from embeddings / all parameters of the student")
