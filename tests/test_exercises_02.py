"""Lesson 02's auto-checked exercises: right answers pass, typical wrong ones are named, solutions run."""
import math

import pytest
import torch
import torch.nn.functional as F

from kdcourse import exercises, losses


def test_check_soft_targets(capsys):
    assert not exercises.check_soft_targets(None)
    assert exercises.check_soft_targets(lambda z, T: torch.softmax(z / T, -1))
    naive = lambda z, T: torch.exp(z / T) / torch.exp(z / T).sum(-1, keepdim=True)  # noqa: E731
    assert not exercises.check_soft_targets(naive)
    assert "subtract each row's max" in capsys.readouterr().out
    assert not exercises.check_soft_targets(lambda z, T: torch.softmax(z * T, -1))
    assert "multiplied by T" in capsys.readouterr().out
    assert not exercises.check_soft_targets(lambda z, T: torch.softmax(z, -1))
    assert not exercises.check_soft_targets(lambda z, T: torch.softmax(z / T, 0))
    namespace = {"torch": torch}
    exec(exercises.SOLUTIONS["soft_targets"], namespace)
    assert exercises.check_soft_targets(namespace["my_soft_targets"])


def test_check_temperature_for_top(capsys):
    row = torch.tensor([1.2, -0.8])
    threshold = exercises.temperature_threshold(row, 0.6)
    assert threshold == pytest.approx(2.0 / math.log(1.5), rel=1e-6)  # two classes: closed form
    assert not exercises.check_temperature_for_top(None, row)
    assert not exercises.check_temperature_for_top(threshold * 0.9, row)
    assert exercises.check_temperature_for_top(threshold * 1.1, row)
    assert not exercises.check_temperature_for_top(-2, row)
    with pytest.raises(ValueError, match=r"limit must be in \(1/3, 1\)"):
        exercises.temperature_threshold(torch.tensor([1.0, 0.0, 0.0]), 0.3)
    namespace = {"sure_logits": row, "math": math, "losses": losses}
    exec(exercises.SOLUTIONS["temperature_for_top"], namespace)
    assert exercises.check_temperature_for_top(namespace["answer"], row)


def test_fix_kd_loss_solution_passes(capsys):
    namespace = {"F": F, "losses": losses}
    exec(exercises.SOLUTIONS["fix_kd_loss"], namespace)
    assert losses.check_kd_loss(namespace["fixed_loss"])
