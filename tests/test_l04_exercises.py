"""Lesson 04's auto-checked exercises: each solution runs with the lesson's names and passes its checker;
the classic wrong answers are refused with a reason; placeholders say "Not yet"."""

import math

import pytest
import torch
import torch.nn.functional as F
from helpers import tiny_bert

from kdcourse import losses, students
from kdcourse.lessons import l04
from kdcourse_solutions import SOLUTIONS

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: tiny models, one thread


@pytest.fixture(scope="module")
def lesson():
    """The names lesson 04 defines before its exercises, with a tiny 6-layer teacher (the lesson's depth)."""
    teacher = tiny_bert(6, 16, 80, positions=24).eval()
    layers = l04.layer_choices(students.num_layers(teacher))["spread"]
    return {
        "torch": torch,
        "F": F,
        "students": students,
        "l04": l04,
        "teacher": teacher,
        "layers": layers,
        "student": students.student_from_teacher(teacher, layers),
    }


def solved(name, lesson):
    namespace = dict(lesson)
    exec(SOLUTIONS[name], namespace)
    return namespace


def test_first_last_student(lesson, capsys):
    teacher = lesson["teacher"]
    assert l04.check_first_last_student(solved("first_last_student", lesson)["answer"], teacher)
    assert "Right!" in capsys.readouterr().out
    assert not l04.check_first_last_student(students.student_from_teacher(teacher, [0, 1]), teacher)
    assert "copies teacher layers [0, 1]; take the first and the last: [0, 5]" in capsys.readouterr().out
    assert not l04.check_first_last_student(lesson["student"], teacher)  # the lesson's [0, 2, 4]
    assert "3 layers; keep exactly two" in capsys.readouterr().out
    assert not l04.check_first_last_student(students.random_student(teacher, 2, seed=1), teacher)
    assert "match no pair of teacher layers" in capsys.readouterr().out
    assert not l04.check_first_last_student([0, 5], teacher)  # the layer list, not a model
    assert "give a model built from the teacher" in capsys.readouterr().out
    assert not l04.check_first_last_student(None, teacher)
    assert "Not yet" in capsys.readouterr().out


def test_masked_cosine(lesson, capsys):
    assert l04.check_masked_cosine(solved("masked_cosine", lesson)["masked_cosine"])
    assert "Right!" in capsys.readouterr().out
    assert l04.check_masked_cosine(losses.hidden_cosine_loss)
    wrong = {
        "padding positions are averaged in": lambda s, t, m: (1 - F.cosine_similarity(s, t, dim=-1)).mean(),
        "the mean cosine similarity": lambda s, t, m: F.cosine_similarity(s, t, dim=-1)[m.bool()].mean(),
        "over the sequence axis": lambda s, t, m: (1 - F.cosine_similarity(s, t, dim=1)).mean(),
        "index with attention_mask.bool()": lambda s, t, m: (1 - F.cosine_similarity(s, t, dim=-1))[m].mean(),
        "raised RuntimeError": lambda s, t, m: (1 - F.cosine_similarity(s, t, dim=-1)) @ m,
        "returns None": lambda s, t, m: None,
    }
    for hint, fn in wrong.items():
        assert not l04.check_masked_cosine(fn), hint
        assert hint in capsys.readouterr().out
    assert not l04.check_masked_cosine(None)
    assert "Not yet" in capsys.readouterr().out


def _regimes(without, with_):
    return {"all labels": {"without teacher": list(without), "with teacher": list(with_)}}


def test_seeds_to_decide(lesson, capsys):
    """Differences +0.2, +0.8, +0.53 points (mean 0.51, sd 0.3005): the t half-width 4.303·0.3005/√3 = 0.75 at 3
    seeds, 3.182·0.3005/2 = 0.478 at 4 (< 0.51): 4 seeds; with 1.96 in place of t, 2 would seem enough."""
    without = [0.80, 0.81, 0.805]
    regimes = _regimes(without, [w + d / 100 for w, d in zip(without, (0.2, 0.8, 0.53))])
    answer = solved("seeds_to_decide", {**lesson, "regimes": regimes})["answer"]
    assert answer == 4
    plan = l04.seeds_to_decide([0.2, 0.8, 0.53])
    assert (plan["n"], plan["n_normal"]) == (4, 2) and plan["n_power"] >= plan["n"]
    assert l04.check_seeds_to_decide(answer, regimes)
    out = capsys.readouterr().out
    assert "Right! 4 seeds, 1 more than this run's 3" in out and "3 would not (+0.51 ± 0.75)" in out
    assert f"plan {plan['n_power']} seeds" in out
    for wrong, hint in [
        (3, "the budget this run had"),
        (2, "uses the normal 1.96"),
        (9, "give the smallest"),
        (1, "needs 2 or more"),
        (3.5, "whole number"),
        ("4", "whole number"),
    ]:
        assert not l04.check_seeds_to_decide(wrong, regimes), wrong
        assert hint in capsys.readouterr().out, wrong
    assert not l04.check_seeds_to_decide(None, regimes)
    assert "Not yet" in capsys.readouterr().out


def test_seeds_to_decide_when_the_run_already_decides_or_cannot_plan(capsys):
    without = [0.80, 0.81, 0.805]
    decided = _regimes(without, [w + d / 100 for w, d in zip(without, (3.0, 2.8, 3.03))])
    assert l04.check_seeds_to_decide(2, decided)
    assert "this run's 3 already decide it" in capsys.readouterr().out
    assert not l04.check_seeds_to_decide(2, _regimes([0.8], [0.81]))
    assert "1 seed, so the spread of the differences is unknown" in capsys.readouterr().out
    tiny = _regimes(without, [w + d / 100 for w, d in zip(without, (0.001, -0.5, 0.501))])  # mean 0.0007, sd 0.5
    with pytest.raises(ValueError, match="would need more than 100,000 seeds"):
        l04.seeds_to_decide([0.001, -0.5, 0.501])
    assert not l04.check_seeds_to_decide(5, tiny)
    assert "answer math.inf" in capsys.readouterr().out
    assert l04.check_seeds_to_decide(math.inf, tiny)
    assert "no practical budget decides it" in capsys.readouterr().out
    with pytest.raises(ValueError, match="mean difference is 0"):
        l04.seeds_to_decide([0.5, -0.5])
    with pytest.raises(ValueError, match="at least 2 seeds"):
        l04.seeds_to_decide([0.5])
    with pytest.raises(ValueError, match="no regime 'few'"):
        l04.check_seeds_to_decide(2, decided, regime="few")
