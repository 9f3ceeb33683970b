"""Lesson 04's experiment helpers on a tiny teacher, the demo, and the lesson's exercise checks."""

import dataclasses
import textwrap

import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset, DatasetDict
from helpers import tiny_bert

from kdcourse import losses, students
from kdcourse.kd_trainer import teacher_cache
from kdcourse.lessons import l04
from kdcourse.profiles import PROFILES

TEXTS = [
    "a quietly devastating film",
    "dull",
    "the best thing this year, by far",
    "a mess",
    "sharp and funny",
    "never finds its footing",
    "gorgeous",
    "two hours I will not get back",
    "warm",
    "tedious and long",
]


@pytest.fixture(scope="module")
def setup():
    from kdcourse import assets, training

    tokenizer = assets.load_tokenizer("minilm")
    teacher = tiny_bert(4, 16, tokenizer.vocab_size, positions=32).eval()
    raw = DatasetDict(
        {split: Dataset.from_dict({"text": TEXTS, "label": [i % 2 for i in range(10)]}) for split in ("train", "test")}
    )
    data = training.tokenize_splits(raw, tokenizer, 16)
    profile = PROFILES["smoke"].replace(batch_size=4, student_epochs=1.0, label_fraction=0.3)
    cache = teacher_cache(teacher, data["train"], tokenizer)
    return l04.Setup(profile, teacher, tokenizer, raw, data, data["train"], cache, 0.5, "tiny")


def test_layer_choices():
    assert l04.layer_choices(6) == {"spread": [0, 2, 4], "bottom": [0, 1, 2], "top": [3, 4, 5]}
    assert l04.layer_choices(12)["spread"] == [0, 2, 4, 7, 9, 11]
    assert l04.layer_choices(4) == {"spread": [0, 3], "bottom": [0, 1], "top": [2, 3]}


def test_labelled_rows_are_seeded_and_paired():
    a, b = l04.labelled_rows(100, 0.2, 0), l04.labelled_rows(100, 0.2, 0)
    assert a == b and len(a) == 20 and a == sorted(a)
    assert l04.labelled_rows(100, 0.2, 1) != a


@pytest.mark.parametrize("labels,examples,steps", [("all", 10, 3), ("fraction", 3, 1), ("transfer", 10, 3)])
def test_run_modes(setup, labels, examples, steps):
    out = l04.run(setup, seed=0, labels=labels)
    assert out["examples"] == examples and out["steps"] == steps
    assert 0 <= out["accuracy"] <= 1 and students.num_layers(out["student"]) == 2
    assert not out["student"].training
    from kdcourse import training

    assert out["correct"].dtype == torch.bool and len(out["correct"]) == len(setup.data["test"])
    assert (
        out["accuracy"]
        == training.evaluate(out["student"], setup.data["test"], setup.tokenizer, setup.profile)["accuracy"]
    )


def test_run_is_deterministic_and_random_init_differs(setup):
    a = l04.run(setup, seed=1)["student"]
    b = l04.run(setup, seed=1)["student"]
    c = l04.run(setup, seed=1, init="random")["student"]
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.bert.encoder.layer[0].output.dense.weight, c.bert.encoder.layer[0].output.dense.weight)
    with pytest.raises(ValueError, match="labels must be 'all', 'fraction' or 'transfer'"):
        l04.run(setup, labels="some")
    with pytest.raises(ValueError, match="init must be 'copy'"):
        l04.make_student(setup.teacher, init="zeros")
    with pytest.raises(ValueError, match="one of spread, bottom, top"):
        l04.make_student(setup.teacher, layers="middle")


def test_reference_run_with_a_local_folder(setup, tmp_path):
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    torch.manual_seed(0)
    DistilBertForSequenceClassification(
        DistilBertConfig(
            vocab_size=setup.tokenizer.vocab_size,
            dim=16,
            n_layers=2,
            n_heads=2,
            hidden_dim=32,
            max_position_embeddings=32,
        )
    ).save_pretrained(tmp_path)
    setup.tokenizer.save_pretrained(tmp_path)
    out = l04.reference_run(setup, str(tmp_path))
    assert 0 <= out["accuracy"] <= 1 and out["params"] > 0


def test_hub_fallback_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    profile, note = l04.hub_fallback(PROFILES["gpu"])
    assert profile.teacher == "minilm" and profile.dataset == "rotten_tomatoes"
    assert profile.reference_student is None and "unreachable" in note
    same, _ = l04.hub_fallback(PROFILES["cpu"])
    assert same == PROFILES["cpu"]


def test_mean_std():
    assert l04.mean_std([0.5]) == (0.5, 0.0)
    mean, std = l04.mean_std([1.0, 3.0])
    assert mean == 2.0 and abs(std - 2**0.5) < 1e-12


def _correct(n: int, right: int, offset: int = 0) -> list[bool]:
    """n snippets, `right` of them answered correctly, starting at `offset` (wrapping round)."""
    return [(i - offset) % n < right for i in range(n)]


def test_demo_sentences_are_worded_from_the_numbers():
    from kdcourse import stats

    # all labels: 1,000 snippets, 794 vs 796 right; the distilled student disagrees on 10 (6 vs 4): no decision
    hard, kd = _correct(1000, 794), _correct(1000, 796, offset=4)
    # few labels: 780 vs 818 right, 50 disagreements split 44 vs 6: decided
    few_hard, few_kd = _correct(1000, 780), _correct(1000, 818, offset=6)
    every, few = l04.demo_sentences((hard, kd), (few_hard, few_kd), 2000, 400)
    test = stats.mcnemar(hard, kd, names=("hard labels only", "distilled"))
    assert "+0.2 points (0.794 -> 0.796)" in every and str(test) in every
    assert "McNemar exact test" in every and "p = " in every and "not decided at this budget" in every
    assert "lesson 04 pairs several seeds" in every and "cannot tell the two students apart" in every
    few_test = stats.mcnemar(few_hard, few_kd, names=("hard labels only", "distilled"))
    assert few_test.decided and str(few_test) in few and "distilled ahead of hard labels only" in few
    assert "+3.8 points (0.780 -> 0.818)" in few and "1,600 unlabelled" in few
    assert "cannot tell" not in few
    assert "optimistic" in few and "fine-tuned on the very labels hidden from the student" in few
    worse, same = l04.demo_sentences((_correct(100, 80), _correct(100, 70)), (_correct(100, 70),) * 2, 100, 20)
    assert "-10.0 points" in worse and "hard labels only ahead of distilled" in worse
    assert "cannot tell" not in worse
    assert "+0.0 points" in same and "not decided at this budget" in same and "0 vs 0 of 100 snippets" in same
    with pytest.raises(ValueError, match="one bool per test snippet"):
        l04.demo_sentences((_correct(10, 5), _correct(9, 5)), (_correct(10, 5),) * 2, 10, 3)


def test_run_demo_pairs_four_students(setup, tmp_path, capsys):
    small = dataclasses.replace(setup, profile=setup.profile.replace(max_length=16, bench_batch=2, bench_repeats=1))
    out = l04.run_demo(None, plot_path=tmp_path / "demo.png", setup=small)
    rows = out["rows"]
    assert [r["name"] for r in rows] == [
        "teacher",
        "student: all labels, hard only",
        "student: all labels, distilled",
        "student: 30% labels, hard only",
        "student: 30% labels + transfer set",
    ]
    assert (out["train"], out["labelled"], out["test"]) == (10, 3, 10)
    teacher = rows[0]
    assert teacher["speedup"] == 1.0 and teacher["accuracy"] == 0.5
    for r in rows[1:]:
        assert r["params"] < teacher["params"] and 0 <= r["accuracy"] <= 1
        assert r["retention"] == pytest.approx(r["accuracy"] / 0.5)
    assert out["sentences"] == l04.demo_sentences(*out["correct"], 10, 3)
    assert [len(c) for pair in out["correct"] for c in pair] == [10] * 4
    assert [sum(c) / 10 for pair in out["correct"] for c in pair] == pytest.approx([r["accuracy"] for r in rows[1:]])
    assert all("McNemar exact test" in s for s in out["sentences"])
    printed = capsys.readouterr().out
    assert all(textwrap.fill(s, 100) in printed for s in out["sentences"])
    assert all(r["name"] in printed for r in rows) and (tmp_path / "demo.png").stat().st_size > 0


def test_exercise_checks(setup, capsys):
    teacher = setup.teacher
    assert not l04.check_first_last_student(None, teacher)
    assert l04.check_first_last_student(students.student_from_teacher(teacher, [0, 3]), teacher)
    assert not l04.check_first_last_student(students.student_from_teacher(teacher, [0, 1]), teacher)
    assert "[0, 3]" in capsys.readouterr().out
    assert not l04.check_first_last_student(students.student_from_teacher(teacher, [0, 2, 3]), teacher)

    assert l04.check_masked_cosine(losses.hidden_cosine_loss)
    assert not l04.check_masked_cosine(lambda s, t, m: (1 - F.cosine_similarity(s, t, dim=-1)).mean())
    assert "padding positions" in capsys.readouterr().out
    assert not l04.check_masked_cosine(lambda s, t, m: None)


def test_the_teacher_cache_can_wait_until_a_run_needs_it(setup, monkeypatch):
    """l04.prepare(cache_teacher=False) (lesson 07) leaves the teacher pass for the first run that needs it."""
    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return teacher_cache(*args, **kwargs)

    monkeypatch.setattr(l04, "teacher_cache", counted)
    lazy = l04.Setup(setup.profile, setup.teacher, setup.tokenizer, setup.raw, setup.data, setup.train, None, 0.5, "")
    assert calls == []
    assert torch.equal(lazy.cache["logits"], setup.cache["logits"]) and calls == [1]
    lazy.cache  # noqa: B018 - a second read computes nothing
    assert calls == [1]


def test_the_distilbert_benchmark_tests_each_paired_difference(monkeypatch):
    """benchmarks/distilbert.py: each paired difference carries the paired t-test over the seeds, and its report
    prints the test from the stored runs (files from before the tests existed included)."""
    import importlib.util
    import sys
    from pathlib import Path

    from kdcourse import stats

    folder = Path(__file__).resolve().parents[1] / "benchmarks"
    monkeypatch.syspath_prepend(str(folder))  # the script imports its sibling `common`
    spec = importlib.util.spec_from_file_location("benchmarks_distilbert", folder / "distilbert.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.delitem(sys.modules, "common", raising=False)

    def rows(accuracies):
        return [{"seed": s, "accuracy": a} for s, a in enumerate(accuracies)]

    runs = {
        "all labels, hard only": rows([0.80, 0.81, 0.82]),
        "all labels, recipe": rows([0.81, 0.81, 0.83]),
        "fraction of labels, hard only": rows([0.70, 0.71, 0.72]),
        "fraction of labels + transfer set": rows([0.75, 0.77, 0.76]),
    }
    tests = module.paired_tests(runs)
    want = stats.paired_seeds([0.70, 0.71, 0.72], [0.75, 0.77, 0.76])
    few = tests["transfer - hard (fraction)"]
    assert few["mean"] == pytest.approx(0.05) and few["per_seed"] == pytest.approx([0.05, 0.06, 0.04])
    assert few["test"]["p_value"] == pytest.approx(want.p_value) and few["test"]["difference_points"] == pytest.approx(
        5
    )
    assert few["test"]["verdict"] == "fraction of labels + transfer set ahead of fraction of labels, hard only"
    assert "paired t-test over 3 seeds" in few["test"]["text"]
    shuffled = {**runs, "all labels, recipe": list(reversed(runs["all labels, recipe"]))}
    with pytest.raises(ValueError, match="ran different seeds"):
        module.paired_tests(shuffled)
