"""Lesson 01's auto-checked exercises: the worked solutions pass, typical mistakes get their hint."""

import pytest
import torch
from transformers import DistilBertConfig, DistilBertModel

from kdcourse import lessons
from kdcourse.lessons import l01


@pytest.fixture(scope="module")
def distilbert():
    torch.manual_seed(0)
    return DistilBertModel(
        DistilBertConfig(vocab_size=50, dim=16, n_layers=2, n_heads=2, hidden_dim=32, max_position_embeddings=20)
    )


def run_solution(name, **scope):
    exec(lessons.SOLUTIONS[name], {}, scope)
    return scope["answer"]


def test_embedding_share(distilbert, capsys):
    answer = run_solution("distilbert_embedding_share", distilbert=distilbert)
    assert l01.check_distilbert_embedding_share(answer, distilbert)
    assert not l01.check_distilbert_embedding_share(1 - answer, distilbert)
    assert "except" in capsys.readouterr().out
    assert not l01.check_distilbert_embedding_share(answer * 100, distilbert)
    assert "percentage" in capsys.readouterr().out
    assert not l01.check_distilbert_embedding_share(None, distilbert)
    assert not l01.check_distilbert_embedding_share("0.3", distilbert)


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
