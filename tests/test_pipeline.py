"""Lesson 04's experiment helpers on a tiny teacher, and the lesson's exercise checks."""
import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset, DatasetDict
from transformers import BertConfig, BertForSequenceClassification

from kdcourse import losses, pipeline, recipe_checks, students
from kdcourse.profiles import PROFILES
from kdcourse.trainer import teacher_cache

TEXTS = ["a quietly devastating film", "dull", "the best thing this year, by far", "a mess",
         "sharp and funny", "never finds its footing", "gorgeous", "two hours I will not get back",
         "warm", "tedious and long"]


@pytest.fixture(scope="module")
def setup():
    from kdcourse import assets, training

    tokenizer = assets.load_tokenizer("minilm")
    torch.manual_seed(0)
    teacher = BertForSequenceClassification(BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
        intermediate_size=32, max_position_embeddings=32, num_labels=2)).eval()
    raw = DatasetDict({split: Dataset.from_dict({"text": TEXTS, "label": [i % 2 for i in range(10)]})
                       for split in ("train", "test")})
    data = training.tokenize_splits(raw, tokenizer, 16)
    profile = PROFILES["smoke"].replace(batch_size=4, student_epochs=1.0, label_fraction=0.3)
    cache = teacher_cache(teacher, data["train"], tokenizer)
    return pipeline.Setup(profile, teacher, tokenizer, raw, data, data["train"], cache, 0.5, "tiny")


def test_layer_choices():
    assert pipeline.layer_choices(6) == {"spread": [0, 2, 4], "bottom": [0, 1, 2], "top": [3, 4, 5]}
    assert pipeline.layer_choices(12)["spread"] == [0, 2, 4, 7, 9, 11]
    assert pipeline.layer_choices(4) == {"spread": [0, 3], "bottom": [0, 1], "top": [2, 3]}


def test_labelled_rows_are_seeded_and_paired():
    a, b = pipeline.labelled_rows(100, 0.2, 0), pipeline.labelled_rows(100, 0.2, 0)
    assert a == b and len(a) == 20 and a == sorted(a)
    assert pipeline.labelled_rows(100, 0.2, 1) != a


@pytest.mark.parametrize("labels,examples,steps", [("all", 10, 3), ("fraction", 3, 1), ("transfer", 10, 3)])
def test_run_modes(setup, labels, examples, steps):
    out = pipeline.run(setup, seed=0, labels=labels)
    assert out["examples"] == examples and out["steps"] == steps
    assert 0 <= out["accuracy"] <= 1 and students.num_layers(out["student"]) == 2
    assert not out["student"].training


def test_run_is_deterministic_and_random_init_differs(setup):
    a = pipeline.run(setup, seed=1)["student"]
    b = pipeline.run(setup, seed=1)["student"]
    c = pipeline.run(setup, seed=1, init="random")["student"]
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.bert.encoder.layer[0].output.dense.weight, c.bert.encoder.layer[0].output.dense.weight)
    with pytest.raises(ValueError, match="labels must be 'all', 'fraction' or 'transfer'"):
        pipeline.run(setup, labels="some")
    with pytest.raises(ValueError, match="init must be 'copy'"):
        pipeline.make_student(setup.teacher, init="zeros")
    with pytest.raises(ValueError, match="one of spread, bottom, top"):
        pipeline.make_student(setup.teacher, layers="middle")


def test_reference_run_with_a_local_folder(setup, tmp_path):
    from transformers import DistilBertConfig, DistilBertForSequenceClassification

    torch.manual_seed(0)
    DistilBertForSequenceClassification(DistilBertConfig(
        vocab_size=setup.tokenizer.vocab_size, dim=16, n_layers=2, n_heads=2, hidden_dim=32,
        max_position_embeddings=32)).save_pretrained(tmp_path)
    setup.tokenizer.save_pretrained(tmp_path)
    out = pipeline.reference_run(setup, str(tmp_path))
    assert 0 <= out["accuracy"] <= 1 and out["params"] > 0


def test_hub_fallback_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    profile, note = pipeline.hub_fallback(PROFILES["gpu"])
    assert profile.teacher == "minilm" and profile.dataset == "rotten_tomatoes"
    assert profile.reference_student is None and "unreachable" in note
    same, _ = pipeline.hub_fallback(PROFILES["cpu"])
    assert same == PROFILES["cpu"]


def test_mean_std():
    assert pipeline.mean_std([0.5]) == (0.5, 0.0)
    mean, std = pipeline.mean_std([1.0, 3.0])
    assert mean == 2.0 and abs(std - 2 ** 0.5) < 1e-12


def test_exercise_checks(setup, capsys):
    teacher = setup.teacher
    assert not recipe_checks.check_first_last_student(None, teacher)
    assert recipe_checks.check_first_last_student(students.student_from_teacher(teacher, [0, 3]), teacher)
    assert not recipe_checks.check_first_last_student(students.student_from_teacher(teacher, [0, 1]), teacher)
    assert "[0, 3]" in capsys.readouterr().out
    assert not recipe_checks.check_first_last_student(students.student_from_teacher(teacher, [0, 2, 3]), teacher)

    assert recipe_checks.check_masked_cosine(losses.hidden_cosine_loss)
    assert not recipe_checks.check_masked_cosine(
        lambda s, t, m: (1 - F.cosine_similarity(s, t, dim=-1)).mean())
    assert "padding positions" in capsys.readouterr().out
    assert not recipe_checks.check_masked_cosine(lambda s, t, m: None)

    student = students.student_from_teacher(teacher, [0, 2])
    info = students.describe_student(student)
    assert recipe_checks.check_embedding_share(info["embeddings"] / info["params"], student)
    assert not recipe_checks.check_embedding_share(100 * info["embeddings"] / info["params"], student)
