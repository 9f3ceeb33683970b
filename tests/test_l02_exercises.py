"""Lesson 02's auto-checked exercises: right answers pass, typical wrong ones are named, solutions run."""

import math

import pytest
import torch
import torch.nn.functional as F

from kdcourse import losses
from kdcourse.lessons import l02
from kdcourse_solutions import SOLUTIONS


def test_check_soft_targets(capsys):
    assert not l02.check_soft_targets(None)
    assert l02.check_soft_targets(lambda z, T: torch.softmax(z / T, -1))
    naive = lambda z, T: torch.exp(z / T) / torch.exp(z / T).sum(-1, keepdim=True)  # noqa: E731
    assert not l02.check_soft_targets(naive)
    assert "subtract each row's max" in capsys.readouterr().out
    assert not l02.check_soft_targets(lambda z, T: torch.softmax(z * T, -1))
    assert "multiplied by T" in capsys.readouterr().out
    assert not l02.check_soft_targets(lambda z, T: torch.softmax(z, -1))
    assert not l02.check_soft_targets(lambda z, T: torch.softmax(z / T, 0))
    namespace = {"torch": torch}
    exec(SOLUTIONS["soft_targets"], namespace)
    assert l02.check_soft_targets(namespace["my_soft_targets"])


def test_check_temperature_for_top(capsys):
    row = torch.tensor([1.2, -0.8])
    threshold = l02.temperature_threshold(row, 0.6)
    assert threshold == pytest.approx(2.0 / math.log(1.5), rel=1e-6)  # two classes: closed form
    assert not l02.check_temperature_for_top(None, row)
    assert not l02.check_temperature_for_top(threshold * 0.9, row)
    assert l02.check_temperature_for_top(threshold * 1.1, row)
    assert not l02.check_temperature_for_top(-2, row)
    with pytest.raises(ValueError, match=r"limit must be in \(1/3, 1\)"):
        l02.temperature_threshold(torch.tensor([1.0, 0.0, 0.0]), 0.3)
    namespace = {"sure_logits": row, "math": math, "losses": losses}
    exec(SOLUTIONS["temperature_for_top"], namespace)
    assert l02.check_temperature_for_top(namespace["answer"], row)


def test_fix_kd_loss_solution_passes(capsys):
    namespace = {"F": F, "losses": losses, "l02": l02}
    exec(SOLUTIONS["fix_kd_loss"], namespace)
    assert l02.check_kd_loss(namespace["fixed_loss"])


# --- check_kd_loss: each classic bug, written the way a student would ---------------------------


def right(s, t, y, temperature, alpha):
    T = temperature
    kd = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean") * T * T
    return alpha * kd + (1 - alpha) * F.cross_entropy(s, y)


def bug_softmax(s, t, y, temperature, alpha):
    T = temperature
    kd = F.kl_div(F.softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean") * T * T
    return alpha * kd + (1 - alpha) * F.cross_entropy(s, y)


def bug_swapped(s, t, y, temperature, alpha):
    T = temperature
    kd = F.kl_div(F.log_softmax(t / T, -1), F.softmax(s / T, -1), reduction="batchmean") * T * T
    return alpha * kd + (1 - alpha) * F.cross_entropy(s, y)


def bug_mean(s, t, y, temperature, alpha):
    T = temperature
    kd = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="mean") * T * T
    return alpha * kd + (1 - alpha) * F.cross_entropy(s, y)


def bug_no_t2(s, t, y, temperature, alpha):
    T = temperature
    kd = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean")
    return alpha * kd + (1 - alpha) * F.cross_entropy(s, y)


def bug_student_only(s, t, y, temperature, alpha):
    T = temperature
    kd = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t, -1), reduction="batchmean") * T * T
    return alpha * kd + (1 - alpha) * F.cross_entropy(s, y)


def bug_teacher_only(s, t, y, temperature, alpha):
    T = temperature
    kd = F.kl_div(F.log_softmax(s, -1), F.softmax(t / T, -1), reduction="batchmean") * T * T
    return alpha * kd + (1 - alpha) * F.cross_entropy(s, y)


def bug_weights(s, t, y, temperature, alpha):
    T = temperature
    kd = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean") * T * T
    return (1 - alpha) * kd + alpha * F.cross_entropy(s, y)


def bug_hard_softened(s, t, y, temperature, alpha):
    T = temperature
    kd = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean") * T * T
    return alpha * kd + (1 - alpha) * F.cross_entropy(s / T, y)


def bug_two(s, t, y, temperature, alpha):
    T = temperature  # two bugs at once: no T², weights swapped
    kd = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean")
    return (1 - alpha) * kd + alpha * F.cross_entropy(s, y)


@pytest.mark.parametrize(
    "fn, bugs",
    [
        (bug_softmax, ("input_softmax",)),
        (bug_swapped, ("swapped",)),
        (bug_mean, ("mean_reduction",)),
        (bug_no_t2, ("no_t2",)),
        (bug_student_only, ("t_student_only",)),
        (bug_teacher_only, ("t_teacher_only",)),
        (bug_weights, ("weights_swapped",)),
        (bug_hard_softened, ("hard_softened",)),
        (bug_two, ("no_t2", "weights_swapped")),
    ],
)
def test_check_kd_loss_names_each_bug(fn, bugs, capsys):
    result = l02.check_kd_loss(fn)
    assert not result and result.bugs == bugs
    out = capsys.readouterr().out
    assert out.startswith("Not yet: ") and "Warning" not in out


@pytest.mark.parametrize("fn", [right, losses.distillation_loss])
def test_check_kd_loss_passes_right_losses(fn, capsys):
    assert l02.check_kd_loss(fn)
    assert capsys.readouterr().out.startswith("Right! ")


def test_check_kd_loss_unknown_and_raising(capsys):
    assert l02.check_kd_loss(lambda s, t, y, temperature, alpha: s.sum() * 0 + 1.0).bugs == ("unknown",)
    result = l02.check_kd_loss(lambda s, t, y, temperature, alpha: 1 / 0)
    assert result.bugs == ("raised",) and "ZeroDivisionError" in result.message
