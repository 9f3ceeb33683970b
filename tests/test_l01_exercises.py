"""Lesson 01's auto-checked exercises: the worked solutions pass, typical mistakes get their hint."""

import pandas as pd
import pytest
import torch

from kdcourse.lessons import l01
from kdcourse_solutions import SOLUTIONS


def run_solution(name, **scope):
    exec(SOLUTIONS[name], scope)  # one namespace, as in a notebook (comprehensions see its names)
    return scope["answer"]


def timing_table(**changes):
    """Six measurements shaped like the lesson's `timings` (row -> model, settings, latency): only a and d are
    a fair pair."""
    rows = {
        "a": ("BERT-base", 8, 64, 2, 10, 420.0),
        "b": ("BERT-base", 32, 64, 2, 1, 1900.0),
        "c": ("DistilBERT", 32, 64, 2, 10, 900.0),
        "d": ("DistilBERT", 8, 64, 2, 10, 210.0),
        "e": ("DistilBERT", 8, 16, 2, 10, 50.0),
        "f": ("DistilBERT", 8, 64, 1, 10, 400.0),
        **changes,
    }
    columns = ["model", "batch", "tokens", "threads", "runs", "latency_ms"]
    frame = pd.DataFrame([dict(zip(columns, v), row=k) for k, v in rows.items()]).set_index("row")
    return frame


def test_fair_comparison(capsys):
    timings = timing_table()
    answer = run_solution("fair_comparison", timings=timings)
    assert answer == ("a", "d")
    assert l01.check_fair_comparison(answer, timings)
    assert "2.00x" in capsys.readouterr().out
    assert l01.check_fair_comparison(["d", "a"], timings)  # order does not matter
    capsys.readouterr()
    assert not l01.check_fair_comparison(("b", "c"), timings)  # same batch as the lesson's table, one run only
    assert "runs" in (out := capsys.readouterr().out) and "busy moment" in out
    assert not l01.check_fair_comparison(("a", "c"), timings)
    assert "bigger batch" in capsys.readouterr().out
    assert not l01.check_fair_comparison(("a", "e"), timings)
    assert "longer sequences" in capsys.readouterr().out
    assert not l01.check_fair_comparison(("a", "f"), timings)
    assert "threads" in capsys.readouterr().out
    assert not l01.check_fair_comparison(("c", "d"), timings)
    assert "both time DistilBERT" in capsys.readouterr().out
    assert not l01.check_fair_comparison(("a", "a"), timings)
    assert "one row twice" in capsys.readouterr().out
    assert not l01.check_fair_comparison(("a", "z"), timings)
    assert "not a row" in capsys.readouterr().out
    assert not l01.check_fair_comparison("ad", timings)
    assert "two row labels" in capsys.readouterr().out
    assert not l01.check_fair_comparison(None, timings)


def test_fair_comparison_is_computed_from_the_table(capsys):
    """Change row b to the median of 10 runs: then b and c are the fair pair, and a and d still are."""
    timings = timing_table(b=("BERT-base", 32, 64, 2, 10, 1800.0))
    assert l01.check_fair_comparison(("b", "c"), timings)
    assert l01.check_fair_comparison(("a", "d"), timings)
    with pytest.raises(ValueError, match="no two rows"):
        l01.check_fair_comparison(("a", "d"), timing_table(d=("DistilBERT", 8, 64, 1, 10, 210.0)))


def test_measured_speedup(capsys):
    rows = [{"name": "BERT-base", "latency_ms": 300.0}, {"name": "DistilBERT", "latency_ms": 120.0}]
    answer = run_solution("measured_speedup", rows=rows)
    assert answer == pytest.approx(2.5)
    assert l01.check_measured_speedup(answer, rows)
    assert not l01.check_measured_speedup(0.4, rows)
    assert "inverse" in capsys.readouterr().out
    assert not l01.check_measured_speedup(1.5, rows)
    assert "one more" in capsys.readouterr().out
    assert not l01.check_measured_speedup(180.0, rows)
    assert "milliseconds" in capsys.readouterr().out
    with pytest.raises(ValueError, match="no row named 'BERT'"):
        l01.check_measured_speedup(2.5, rows, slow="BERT")


def test_most_uncertain_snippet(capsys):
    shown_probs = torch.tensor([[0.99, 0.01], [0.3, 0.7], [0.55, 0.45], [0.1, 0.9]])
    answer = run_solution("most_uncertain_snippet", shown_probs=shown_probs)
    assert answer == 2
    assert l01.check_most_uncertain_snippet(answer, shown_probs)
    assert not l01.check_most_uncertain_snippet(0, shown_probs)
    assert "most* confident" in capsys.readouterr().out
    assert not l01.check_most_uncertain_snippet(1, shown_probs)
    assert not l01.check_most_uncertain_snippet(7, shown_probs)
    assert "not a row index" in capsys.readouterr().out
    assert not l01.check_most_uncertain_snippet(torch.tensor(2), shown_probs)
