"""Lesson 03 (the distillation loop): its auto-checked exercises (worked solutions: kdcourse_solutions)."""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from ..losses import TEMPERATURE
from .exercises import is_number, report, unanswered


def _reference_losses(student, teacher, batch, temperature, alpha):
    """The right loss and the usual wrong ones, on the same dropout draw as the learner's step."""
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    with torch.no_grad():
        t_logits = teacher.eval()(**inputs).logits
    torch.manual_seed(0)
    s_logits = student(**inputs).logits
    T = temperature
    kl = F.kl_div(F.log_softmax(s_logits / T, -1), F.softmax(t_logits / T, -1), reduction="batchmean")
    hard = F.cross_entropy(s_logits, batch["labels"])
    loss = alpha * kl * T * T + (1 - alpha) * hard
    wrong = {"swapped": (1 - alpha) * kl * T * T + alpha * hard, "no_T2": alpha * kl + (1 - alpha) * hard}
    return loss, {k: v.item() for k, v in wrong.items()}


def check_distill_step(
    distill_step, student, teacher, batch, temperature: float = TEMPERATURE, alpha: float = 0.5
) -> bool:
    """Exercise 03.1: one distillation step `distill_step(student, teacher, batch, optimizer, T, alpha)`."""
    if unanswered(distill_step):
        return False
    if not callable(distill_step):
        return report(False, "", f"give a function, got {type(distill_step).__name__}")
    mine_s, mine_t = copy.deepcopy(student).train(), copy.deepcopy(teacher).train()
    ref_s, ref_t = copy.deepcopy(student).train(), copy.deepcopy(teacher)
    before_t = {k: v.clone() for k, v in mine_t.state_dict().items()}
    optimizer = torch.optim.SGD(mine_s.parameters(), lr=0.1)
    torch.manual_seed(0)
    got = distill_step(mine_s, mine_t, dict(batch), optimizer, temperature, alpha)
    if got is None:
        print("Not yet: distill_step returned None; write the step and return its loss.")
        return False
    got = got.item() if isinstance(got, torch.Tensor) else got
    loss, wrong = _reference_losses(ref_s, ref_t, batch, temperature, alpha)
    loss.backward()
    torch.optim.SGD(ref_s.parameters(), lr=0.1).step()
    if not all(torch.equal(v, before_t[k]) for k, v in mine_t.state_dict().items()):
        return report(
            False,
            "",
            "the teacher's weights changed: only the student may step (build "
            "the optimizer from student.parameters() only)",
        )
    if any(p.grad is not None for p in mine_t.parameters()):
        return report(False, "", "the teacher got gradients: compute its logits under torch.no_grad()")
    if mine_t.training:
        return report(False, "", "the teacher is still in training mode (dropout on): call teacher.eval()")
    if not is_number(got):
        return report(False, "", f"return the loss (a number or a 0-d tensor), got {type(got).__name__}")
    for name, value in wrong.items():
        if not math.isclose(got, loss.item(), rel_tol=1e-4) and math.isclose(got, value, rel_tol=1e-4):
            hint = {
                "swapped": "alpha weighs the teacher (soft) term here, 1 - alpha the hard labels",
                "no_T2": "multiply the KL term by T**2 so its gradients keep their size as T grows",
            }
            return report(False, "", hint[name])
    if not math.isclose(got, loss.item(), rel_tol=1e-4, abs_tol=1e-6):
        return report(
            False, "", f"your loss {got:.5f} differs from alpha * T² * KL + (1 - alpha) * CE = {loss.item():.5f}"
        )
    stepped = all(torch.allclose(a, b, atol=1e-5) for a, b in zip(mine_s.parameters(), ref_s.parameters()))
    return report(
        stepped,
        f"loss {got:.4f}; the student stepped and the teacher did not move — this is the whole distillation loop.",
        "the loss is right but the student's weights are not where one optimizer step "
        "takes them: call loss.backward() and optimizer.step() once",
    )


def check_standard_error(answer, accuracy: float, n: int) -> bool:
    """Exercise 03.2: the standard error sqrt(p(1-p)/n) of an accuracy p measured on n test examples."""
    if unanswered(answer):
        return False
    if not is_number(answer):
        return report(False, "", f"give a number, got {type(answer).__name__}")
    truth = math.sqrt(accuracy * (1 - accuracy) / n)
    if math.isclose(answer, truth * 100, rel_tol=1e-3):
        return report(False, "", "that is in percentage points; give a fraction like the accuracies")
    if math.isclose(answer, truth**2, rel_tol=1e-3):
        return report(False, "", "that is the variance p(1-p)/n; take its square root")
    return report(
        math.isclose(answer, truth, rel_tol=1e-3),
        f"±{truth:.4f}: the accuracy on endlessly many snippets like these lies within about "
        f"2 × {truth:.4f} = {2 * truth:.3f} of this one (a 95% confidence interval). Two models scored "
        "on the same snippets are compared with a paired test (McNemar's, section 5), not by setting "
        "their errors side by side.",
        f"{answer} differs from sqrt(p(1-p)/n) with p={accuracy:.4f}, n={n}",
    )
