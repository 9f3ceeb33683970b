"""Lesson 06 (distilling a causal LM): its auto-checked exercises and their worked solutions."""
from __future__ import annotations

import math

import torch

from .. import losses
from .exercises import SOLUTIONS, _report, _unanswered


def _number(answer):
    """A plain number from an answer (a 0-d tensor is unwrapped); None, after saying so, if it is not one."""
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        _report(False, "", f"give a number, got {type(answer).__name__}")
        return None
    return answer


SOLUTIONS["reverse_kl"] = """
def reverse_kl_by_hand(student_logits, teacher_logits):
    log_s = F.log_softmax(student_logits, dim=-1)
    log_t = F.log_softmax(teacher_logits, dim=-1)
    return (log_s.exp() * (log_s - log_t)).sum(-1)   # KL(student || teacher): weighted by the student
"""


def check_reverse_kl(fn) -> bool:
    """Exercise 06.1: fn(student_logits, teacher_logits) -> KL(student ‖ teacher) per position."""
    if _unanswered(fn):
        return False
    gen = torch.Generator().manual_seed(6)
    probes = [(torch.randn(*shape, generator=gen) * 3, torch.randn(*shape, generator=gen) * 3)
              for shape in ((2, 5, 11), (7, 4), (3,))]
    if not callable(fn):
        return _report(False, "", f"pass your function itself (reverse_kl_by_hand), got {type(fn).__name__}")
    try:
        got = [fn(s.clone(), t.clone()) for s, t in probes]
    except Exception as err:  # the learner's code: report instead of crashing
        return _report(False, "", f"your function raised {type(err).__name__}: {err}")
    if any(g is None for g in got):  # the placeholder body still returns None
        return not _unanswered(None)
    for (s, t), g in zip(probes, got):
        if not isinstance(g, torch.Tensor) or tuple(g.shape) != tuple(s.shape[:-1]):
            return _report(False, "", f"for logits of shape {tuple(s.shape)} return one value per "
                                      f"position, shape {tuple(s.shape[:-1])}; got "
                                      f"{tuple(g.shape) if isinstance(g, torch.Tensor) else type(g).__name__}")

    def same(reference):
        return all(torch.allclose(g.float(), reference(s, t), atol=1e-5, rtol=1e-4)
                   for (s, t), g in zip(probes, got))

    if same(lambda s, t: losses.forward_kl(s, t)):
        return _report(False, "", "that is the forward KL(teacher ‖ student): weight by the *student's* "
                                  "probabilities, sum q·(log q - log p)")
    if same(lambda s, t: losses.reverse_kl(s, t) / s.shape[-1]):
        return _report(False, "", "you averaged over the vocabulary; KL sums over it (.sum(-1))")
    return _report(same(lambda s, t: losses.reverse_kl(s, t)),
                   "KL(student ‖ teacher) is large where the student puts mass the teacher does not: "
                   "the student is pushed onto the teacher's modes (mode-seeking).",
                   "the values differ from KL(student ‖ teacher); use F.log_softmax on both logits")


SOLUTIONS["topk_mass"] = """
masses = [values.exp().sum(-1)[batch["attention_mask"].bool()] for (values, ids), batch
          in zip(sample_topk, sample_batches)]
answer = torch.cat(masses).mean().item()
"""


def check_topk_mass(answer, cache, batches) -> bool:
    """Exercise 06.2: mean top-k probability mass over real (attention_mask == 1) positions."""
    if _unanswered(answer):
        return False
    answer = _number(answer)
    if answer is None:
        return False
    real = torch.cat([v.exp().sum(-1)[b["attention_mask"].bool()] for (v, _), b in zip(cache, batches)])
    every = torch.cat([v.exp().sum(-1).flatten() for v, _ in cache])
    truth, k = float(real.mean()), cache[0][0].shape[-1]
    if answer > 1:
        return _report(False, "", f"{answer} is above 1: give a fraction, not a percentage")
    if math.isclose(answer, float(every.mean()), abs_tol=1e-6) and not math.isclose(answer, truth, abs_tol=1e-6):
        return _report(False, "", "you counted padding positions too; keep attention_mask == 1 only")
    return _report(math.isclose(answer, truth, abs_tol=1e-4),
                   f"the top-{k} tokens hold {truth:.1%} of the teacher's probability on average; "
                   f"the worst position keeps {float(real.min()):.1%}. The rest ({1 - truth:.1%} on "
                   "average) is what expand_topk spreads evenly: the price of the cache.",
                   f"{answer:.4f} differs from the mean of values.exp().sum(-1) over real positions")


SOLUTIONS["full_logits_mb"] = """
answer = sum(b["input_ids"].numel() for b in sample_batches) * vocab * 4 / 1e6
"""


def check_full_logits_mb(answer, batches, vocab_size: int) -> bool:
    """Exercise 06.3: MB (10⁶ bytes) to cache full float32 teacher logits for every padded position."""
    if _unanswered(answer):
        return False
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return _report(False, "", f"give a number of MB, got {type(answer).__name__}")
    positions = sum(b["input_ids"].numel() for b in batches)
    truth = positions * vocab_size * 4 / 1e6
    if math.isclose(answer, truth * 1e6 / 2**20, rel_tol=1e-3):
        return _report(True, f"{answer:,.1f} MiB = {truth:,.1f} MB: right, in binary megabytes.", "")
    if math.isclose(answer, truth / 4, rel_tol=1e-3):
        return _report(False, "", "a float32 takes 4 bytes; multiply by 4")
    if math.isclose(answer, truth / 2, rel_tol=1e-3):
        return _report(False, "", "that is float16; the question asks for float32 (4 bytes)")
    return _report(math.isclose(answer, truth, rel_tol=1e-3),
                   f"{positions:,} positions × {vocab_size:,} logits × 4 bytes = {truth:,.1f} MB, "
                   "for a few dozen short texts; it grows with every token of data.",
                   f"{answer:,.1f} MB is off; count batch × length positions of every batch")


SOLUTIONS["perplexity"] = """
answer = math.exp(5.0)
"""


def check_perplexity(answer, mean_nll: float) -> bool:
    """Exercise 06.4: the perplexity of a model whose mean NLL is `mean_nll` nats per token."""
    if _unanswered(answer):
        return False
    answer = _number(answer)
    if answer is None:
        return False
    truth = math.exp(mean_nll)
    if math.isclose(answer, 2 ** mean_nll, rel_tol=1e-3):
        return _report(False, "", "NLL in nats goes with the natural exponential: e ** NLL, not 2 ** NLL")
    if math.isclose(answer, 10 ** mean_nll, rel_tol=1e-3):
        return _report(False, "", "nats go with e, not 10: math.exp(NLL)")
    if math.isclose(answer, math.exp(-mean_nll), rel_tol=1e-3):
        return _report(False, "", "the NLL is already negated: perplexity = exp(+mean NLL)")
    return _report(math.isclose(answer, truth, rel_tol=1e-3),
                   f"exp({mean_nll}) = {truth:.1f}: as unsure as a uniform choice among about "
                   f"{truth:.0f} tokens.",
                   f"{answer} is not exp({mean_nll}) = perplexity")
