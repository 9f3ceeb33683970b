"""Lesson 04's auto-checked exercises: each solution runs with the lesson's names and passes its checker;
the classic wrong answers are refused with a reason; placeholders say "Not yet"."""

import pytest
import torch
import torch.nn.functional as F
from conftest import tiny_bert

from kdcourse import lessons, losses, students
from kdcourse.lessons import l04

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
    exec(lessons.SOLUTIONS[name], namespace)
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


def test_embedding_share(lesson, capsys):
    student = lesson["student"]
    answer = solved("embedding_share", lesson)["answer"]
    embedding = sum(p.numel() for p in student.bert.embeddings.parameters())
    assert answer == pytest.approx(embedding / sum(p.numel() for p in student.parameters()))
    assert l04.check_embedding_share(answer, student)
    assert "Right!" in capsys.readouterr().out
    assert not l04.check_embedding_share(100 * answer, student)
    assert "not a percentage" in capsys.readouterr().out
    assert not l04.check_embedding_share(1 - answer, student)
    assert "differs from embeddings / all parameters" in capsys.readouterr().out
    assert not l04.check_embedding_share("0.68", student)
    assert "give a number" in capsys.readouterr().out
    assert not l04.check_embedding_share(None, student)
    assert "Not yet" in capsys.readouterr().out
