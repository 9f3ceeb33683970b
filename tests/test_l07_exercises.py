"""Lesson 07's auto-checked exercises: each solution runs with the lesson's names and passes its checker;
the classic wrong answers are refused with a reason; placeholders say "Not yet"."""

import statistics

import numpy as np
import pytest

from kdcourse import benchmark
from kdcourse.lessons import l07
from kdcourse_solutions import SOLUTIONS


@pytest.fixture(scope="module")
def lesson():
    """The names lesson 07 defines before its exercises (batch-1 times in ms, as the timing cell returns)."""
    rng = np.random.default_rng(0)
    return {"benchmark": benchmark, "l07": l07, "batch1_times": list(rng.gamma(4.0, 0.5, size=200))}


def solved(name, lesson, result="answer"):
    namespace = dict(lesson)
    exec(SOLUTIONS[name], namespace)
    return namespace[result]


def test_pareto_front(lesson, capsys):
    assert l07.check_pareto_front(solved("pareto_front", lesson, "my_pareto_front"))
    assert "Right!" in capsys.readouterr().out
    assert not l07.check_pareto_front(lambda points: list(points))  # every model: dominated ones too
    assert "dominated" in capsys.readouterr().out
    assert not l07.check_pareto_front(lambda points: sorted(l07.pareto_front(points), reverse=True))
    assert "wrong order" in capsys.readouterr().out
    assert not l07.check_pareto_front(lambda points: None)
    assert "returns None" in capsys.readouterr().out
    assert not l07.check_pareto_front(lambda points: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out
    assert not l07.check_pareto_front(None)
    assert "Not yet" in capsys.readouterr().out


def test_p95(lesson, capsys):
    times = lesson["batch1_times"]
    answer = solved("p95", lesson)
    assert answer == pytest.approx(np.percentile(times, 95))
    assert l07.check_p95(answer, times)
    assert "Right!" in capsys.readouterr().out
    assert not l07.check_p95(statistics.median(times), times)
    assert "median" in capsys.readouterr().out
    assert not l07.check_p95(max(times), times)
    assert "slowest" in capsys.readouterr().out
    assert not l07.check_p95(np.percentile(times, 90), times)
    assert "p95 of these times" in capsys.readouterr().out
    assert not l07.check_p95("fast", times)
    assert not l07.check_p95(None, times)
    assert "Not yet" in capsys.readouterr().out


def test_control(lesson, capsys):
    assert l07.check_control(solved("control", lesson, "control"))
    assert "Right!" in capsys.readouterr().out
    right = {"data": "snippets + copies", "labels": "hard", "steps": "taught run's"}
    assert not l07.check_control({**right, "labels": "teacher"})  # the taught run itself
    assert "IS the taught run" in capsys.readouterr().out
    assert not l07.check_control({**right, "data": "snippets"})  # data differs too
    assert "data as well as the labels" in capsys.readouterr().out
    assert not l07.check_control({**right, "steps": "hard run's"})  # steps differ too
    assert "steps differ too" in capsys.readouterr().out
    assert not l07.check_control({**right, "labels": "soft"})
    assert "labels must be one of" in capsys.readouterr().out
    assert not l07.check_control(["snippets + copies", "hard"])
    assert "give a dict" in capsys.readouterr().out
    assert not l07.check_control(None)
    assert "Not yet" in capsys.readouterr().out
    assert right == solved("control", lesson, "control")
    assert l07.CNN_RUNS["hard labels on the copies"] == {"copies": True, "labels": "hard", "steps": "own"}


def test_pareto_front_and_recommend():
    points = {"slow good": (10.0, 0.83), "fast ok": (1.0, 0.79), "dominated": (12.0, 0.80), "mid": (3.0, 0.82)}
    assert l07.pareto_front(points) == ["fast ok", "mid", "slow good"]
    assert l07.recommend(points, 100) == "slow good"
    assert l07.recommend(points, 5) == "mid"
    assert l07.recommend(points, 0.5) is None
    ties = {"a": (2.0, 0.8), "b": (1.0, 0.8)}
    assert l07.pareto_front(ties) == ["b"] and l07.recommend(ties, 5) == "b"


def test_recommend_ships_the_faster_of_two_models_no_test_can_tell_apart():
    import torch

    n = 2485
    slow = torch.zeros(n, dtype=torch.bool)
    slow[:2061] = True  # 0.829
    fast = slow.clone()
    fast[2060] = False  # one snippet fewer: 0.8290 vs 0.8286
    points = {
        "teacher · onnx fp32": (120.0, slow.float().mean().item()),
        "teacher · onnx int8": (60.0, fast.float().mean().item()),
    }
    correct = {"teacher · onnx fp32": slow, "teacher · onnx int8": fast}
    assert l07.recommend(points, 200) == "teacher · onnx fp32"  # by accuracy alone
    assert l07.recommend(points, 200, correct) == "teacher · onnx int8"  # tied by McNemar: the faster ships
    far = slow.clone()
    far[1800:2061] = False  # 261 snippets fewer: a real difference
    points["student"] = (10.0, far.float().mean().item())
    correct["student"] = far
    assert l07.recommend(points, 200, correct) == "teacher · onnx int8"
    assert l07.recommend(points, 30, correct) == "student"
    with pytest.raises(ValueError, match="no per-snippet results"):
        l07.recommend(points, 200, {"student": far})


def test_percentile_matches_numpy():
    rng = np.random.default_rng(1)
    for n in (1, 2, 7, 200):
        times = list(rng.gamma(3.0, 1.0, size=n))
        for q in (0, 50, 95, 100):
            assert benchmark.percentile(times, q) == pytest.approx(np.percentile(times, q))
    with pytest.raises(ValueError, match="q must be in"):
        benchmark.percentile([1.0], 101)
    with pytest.raises(ValueError, match="empty"):
        benchmark.percentile([], 50)
