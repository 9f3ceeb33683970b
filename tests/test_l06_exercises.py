"""Lesson 06's auto-checked exercises: each solution runs with the lesson's names and passes its checker;
the classic wrong answers are refused with a reason; placeholders say "Not yet"."""

import math

import pytest
import torch
import torch.nn.functional as F
from test_llm import tiny_llama, tiny_tokenizer

from kdcourse import llm, losses
from kdcourse.lessons import l06
from kdcourse_solutions import SOLUTIONS


@pytest.fixture(scope="module")
def lesson():
    """The names lesson 06 defines before its exercises, on a tiny model: sample_batches, sample_topk, vocab."""
    tok = tiny_tokenizer()
    teacher = tiny_llama()
    sample_batches = llm.make_batches(
        tok,
        ["the film was good", "a dull long movie is bad", "great story", "the actor was funny"],
        batch_size=2,
        max_length=12,
    )
    return {
        "torch": torch,
        "F": F,
        "math": math,
        "sample_batches": sample_batches,
        "sample_topk": llm.teacher_topk(teacher, sample_batches, k=4),
        "vocab": teacher.config.vocab_size,
    }


def solved(name, lesson):
    namespace = dict(lesson)
    exec(SOLUTIONS[name], namespace)
    return namespace


def test_reverse_kl(lesson, capsys):
    def placeholder(student_logits, teacher_logits):
        return None

    assert not l06.check_reverse_kl(placeholder)
    assert "Not yet: replace the `None`" in capsys.readouterr().out
    assert not l06.check_reverse_kl(None)
    assert l06.check_reverse_kl(solved("reverse_kl", lesson)["reverse_kl_by_hand"])
    assert not l06.check_reverse_kl(lambda s, t: losses.forward_kl(s, t))
    assert "forward KL" in capsys.readouterr().out
    assert not l06.check_reverse_kl(lambda s, t: losses.reverse_kl(s, t) / s.shape[-1])
    assert "averaged over the vocabulary" in capsys.readouterr().out
    assert not l06.check_reverse_kl(lambda s, t: losses.reverse_kl(s, t).mean())
    assert "one value per position" in capsys.readouterr().out


def test_topk_mass(lesson, capsys):
    cache, batches = lesson["sample_topk"], lesson["sample_batches"]
    assert l06.check_topk_mass(solved("topk_mass", lesson)["answer"], cache, batches)
    every = torch.cat([v.exp().sum(-1).flatten() for v, _ in cache]).mean().item()
    assert not l06.check_topk_mass(every, cache, batches)
    assert "padding" in capsys.readouterr().out
    assert not l06.check_topk_mass(85.0, cache, batches)
    assert "percentage" in capsys.readouterr().out


def test_full_logits_mb(lesson, capsys):
    batches, vocab = lesson["sample_batches"], lesson["vocab"]
    answer = solved("full_logits_mb", lesson)["answer"]
    assert l06.check_full_logits_mb(answer, batches, vocab)
    assert not l06.check_full_logits_mb(answer / 4, batches, vocab)
    assert "4 bytes" in capsys.readouterr().out
    assert not l06.check_full_logits_mb(answer / 2, batches, vocab)
    assert "float16" in capsys.readouterr().out


def test_perplexity(lesson, capsys):
    assert l06.check_perplexity(solved("perplexity", lesson)["answer"], 5.0)
    assert not l06.check_perplexity(2**5.0, 5.0)
    assert "natural exponential" in capsys.readouterr().out
    assert not l06.check_perplexity(math.exp(-5.0), 5.0)
    assert not l06.check_perplexity(None, 5.0)
    assert not l06.check_perplexity("148", 5.0)
