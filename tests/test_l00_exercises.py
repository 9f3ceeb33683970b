"""Lesson 00's auto-checked exercises: each solution runs with the lesson's names and passes its checker;
the classic wrong answers are refused with a reason; placeholders say "Not yet"."""

import pytest
import torch
from transformers import BertConfig, BertModel

from kdcourse import corpus, lessons
from kdcourse.lessons import l00


@pytest.fixture(scope="module")
def lesson():
    """The names lesson 00 defines before its exercises: the real review splits, a tiny BERT as `teacher`."""
    torch.manual_seed(0)
    teacher = BertModel(
        BertConfig(
            vocab_size=60,
            hidden_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=24,
        )
    )
    return {"reviews": corpus.load_reviews(seed=0), "corpus": corpus, "teacher": teacher, "l00": l00}


def solved(name, lesson):
    namespace = dict(lesson)
    exec(lessons.SOLUTIONS[name], namespace)
    return namespace["answer"]


def test_majority_baseline(lesson, capsys):
    reviews = lesson["reviews"]
    answer = solved("majority_baseline", lesson)
    labels = list(reviews["test"]["label"])
    assert answer == max(labels.count(0), labels.count(1)) / len(labels) and 0.5 < answer < 1
    assert l00.check_majority_baseline(answer, reviews)
    assert "Right!" in capsys.readouterr().out
    assert not l00.check_majority_baseline(1 - answer, reviews)
    assert "minority class's share" in capsys.readouterr().out
    assert not l00.check_majority_baseline(100 * answer, reviews)
    assert "not a percentage" in capsys.readouterr().out
    assert not l00.check_majority_baseline(str(answer), reviews)
    assert "give a number" in capsys.readouterr().out
    assert not l00.check_majority_baseline(None, reviews)
    assert "Not yet: replace the `None`" in capsys.readouterr().out


def test_embedding_params(lesson, capsys):
    teacher = lesson["teacher"]
    answer = solved("embedding_params", lesson)
    assert l00.check_embedding_params(answer, teacher)
    assert "Right!" in capsys.readouterr().out
    assert not l00.check_embedding_params(teacher.embeddings.word_embeddings.weight.numel(), teacher)
    assert "only the word embeddings" in capsys.readouterr().out
    assert not l00.check_embedding_params(sum(p.numel() for p in teacher.parameters()), teacher)
    assert "the whole model" in capsys.readouterr().out
    assert not l00.check_embedding_params(answer + 1, teacher)
    assert "is not the number of parameters" in capsys.readouterr().out
    assert not l00.check_embedding_params(None, teacher)
