"""Lesson 03's auto-checked exercises: each solution runs with the lesson's names and passes its checker;
the classic wrong answers (written as a learner would, from the solution) are refused with a reason."""

import math

import pytest
import torch
import torch.nn.functional as F
from helpers import tiny_bert as bert

from kdcourse import assets, corpus, get_profile, training
from kdcourse.lessons import l03
from kdcourse_solutions import SOLUTIONS


def tiny_bert(vocab, seed, layers, sure=1.0):
    return bert(layers, 16, vocab, positions=40, seed=seed, sure=sure)


pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: tiny models, one thread


@pytest.fixture(scope="module")
def lesson():
    """The names lesson 03 defines before its exercises, on real snippets and tiny models."""
    tokenizer = assets.load_tokenizer("minilm")
    profile = get_profile("smoke").replace(train_size=16, eval_size=8, test_size=8, max_length=32)
    tokenized = training.tokenize_splits(corpus.load_task_data(profile, seed=0), tokenizer, profile.max_length)
    first_batch = next(iter(training.make_loader(tokenized["train"].select(range(8)), tokenizer, 8, shuffle=False)))
    results = {"student, hard labels only": {"accuracy": 0.829}, "student, distilled": {"accuracy": 0.827}}
    return {
        "torch": torch,
        "F": F,
        "math": math,
        "training": training,
        "l03": l03,
        "tokenizer": tokenizer,
        "tokenized": tokenized,
        "teacher": tiny_bert(tokenizer.vocab_size, 0, 4, sure=100.0),
        "student_init": tiny_bert(tokenizer.vocab_size, 1, 2),
        "first_batch": first_batch,
        "results": results,
        "n_test": 2485,
    }


def solved(name, lesson, replace=()):
    """Run the solution (edited by `replace`, pairs that must each match once) in the lesson's names."""
    code = SOLUTIONS[name]
    for old, new in replace:
        assert code.count(old) == 1, old
        code = code.replace(old, new)
    namespace = dict(lesson)
    exec(code, namespace)
    return namespace


def check_step(fn, lesson):
    return l03.check_distill_step(
        fn, lesson["student_init"], lesson["teacher"], lesson["first_batch"], temperature=2.0, alpha=0.3
    )


def test_distill_step(lesson, capsys):
    assert check_step(solved("distill_step", lesson)["distill_step"], lesson)
    assert "Right!" in capsys.readouterr().out
    wrong = {
        "alpha weighs the teacher": [
            ("loss = alpha * soft + (1 - alpha) * hard", "loss = (1 - alpha) * soft + alpha * hard")
        ],
        "multiply the KL term by T**2": [("* T**2", "")],
        "still in training mode": [("teacher.eval()", "pass")],
        "the teacher got gradients": [("with torch.no_grad():", "if True:")],
        "not where one optimizer step": [("optimizer.step()", "pass")],
    }
    for hint, replace in wrong.items():
        assert not check_step(solved("distill_step", lesson, replace)["distill_step"], lesson), hint
        assert hint in capsys.readouterr().out
    assert not check_step(lambda student, teacher, batch, optimizer, temperature, alpha: None, lesson)
    assert "returned None" in capsys.readouterr().out
    assert not l03.check_distill_step(None, lesson["student_init"], lesson["teacher"], lesson["first_batch"])
    assert "Not yet" in capsys.readouterr().out


def test_the_checker_leaves_the_lesson_models_alone(lesson):
    teacher, student = lesson["teacher"], lesson["student_init"]
    before = [p.clone() for p in (*teacher.parameters(), *student.parameters())]
    check_step(solved("distill_step", lesson)["distill_step"], lesson)
    assert all(torch.equal(a, b) for a, b in zip(before, (*teacher.parameters(), *student.parameters())))


def test_standard_error(lesson, capsys):
    accuracy, n = lesson["results"]["student, distilled"]["accuracy"], lesson["n_test"]
    answer = solved("standard_error", lesson)["answer"]
    assert answer == pytest.approx(math.sqrt(accuracy * (1 - accuracy) / n))
    assert l03.check_standard_error(answer, accuracy, n)
    assert "Right!" in capsys.readouterr().out
    assert not l03.check_standard_error(100 * answer, accuracy, n)
    assert "percentage points" in capsys.readouterr().out
    assert not l03.check_standard_error(answer**2, accuracy, n)
    assert "the variance" in capsys.readouterr().out
    assert not l03.check_standard_error(math.sqrt(accuracy * (1 - accuracy)), accuracy, n)
    assert "differs from sqrt(p(1-p)/n)" in capsys.readouterr().out
    assert not l03.check_standard_error("0.0076", accuracy, n)
    assert "give a number" in capsys.readouterr().out


def _study(accuracy):
    """A finished maximising study over lesson 03's space whose values come from `accuracy(T, alpha)`."""
    import optuna

    study = optuna.create_study(direction="maximize")
    for i in range(20):
        params = {"temperature": 1.0 + 9.0 * ((i * 7) % 20) / 19, "alpha": ((i * 11) % 20) / 19}
        value = accuracy(params["temperature"], params["alpha"])
        study.add_trial(optuna.trial.create_trial(params=params, distributions=l03._distributions(), value=value))
    return study


def test_important_knob(lesson, capsys):
    """The solution reads the same shares as the plot; the knob that drives accuracy is the right answer, the
    other is refused with both shares; a name not in the plot is refused; equal bars accept either."""
    by_alpha = _study(lambda T, alpha: 0.80 + 0.05 * alpha)  # only alpha moves accuracy
    shares = l03.importances(by_alpha)
    assert shares["alpha"] > shares["temperature"]
    answer = solved("important_knob", {**lesson, "study": by_alpha})["answer"]
    assert answer == "alpha" and l03.check_important_knob(answer, by_alpha)
    assert "Right!" in capsys.readouterr().out
    assert not l03.check_important_knob("temperature", by_alpha)
    assert "read the longer bar" in capsys.readouterr().out
    by_t = _study(lambda T, alpha: 0.80 - 0.01 * abs(T - 3.0))
    assert solved("important_knob", {**lesson, "study": by_t})["answer"] == "temperature"
    assert not l03.check_important_knob("T", by_t)
    assert "answer 'temperature' or 'alpha'" in capsys.readouterr().out
    assert not l03.check_important_knob(None, by_t)
    assert "Not yet" in capsys.readouterr().out
