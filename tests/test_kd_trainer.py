"""DistillationTrainer: one step changes only the student; its loss equals the hand-computed one."""

import tempfile

import pytest
import torch
import torch.nn.functional as F
from datasets import Dataset
from helpers import tiny_bert
from transformers import (
    DataCollatorWithPadding,
)

from kdcourse import losses, students
from kdcourse.kd_trainer import (
    DistillationTrainer,
    teacher_cache,
    train_student,
    training_arguments,
    triple_loss,
)

PROFILE_SIZES = dict(batch_size=4, learning_rate=1e-3, student_epochs=1.0)


def tiny_teacher(seed=0):
    return tiny_bert(4, 16, 30522, positions=32, seed=seed).eval()


@pytest.fixture(scope="module")
def tokenizer():
    from kdcourse import assets

    return assets.load_tokenizer("minilm")


TEXTS = [
    "a quietly devastating film",
    "dull",
    "the best thing this year, by far",
    "a mess",
    "sharp and funny",
    "never finds its footing",
    "gorgeous",
    "two hours I will not get back",
]


def tiny_data(tokenizer, n=8):
    data = Dataset.from_dict({"text": TEXTS[:n], "label": [i % 2 for i in range(n)]})
    return data.map(lambda b: tokenizer(b["text"], truncation=True, max_length=16), batched=True)


def one_batch(data, tokenizer):
    collate = DataCollatorWithPadding(tokenizer)
    return dict(collate([{k: r[k] for k in ("input_ids", "attention_mask", "label")} for r in data]))


@pytest.fixture
def profile():
    from kdcourse.profiles import get_profile

    return get_profile("smoke").replace(**PROFILE_SIZES)


def test_trainer_loss_equals_manual_loop(profile, tokenizer):
    teacher = tiny_teacher()
    student = students.student_from_teacher(teacher, [0, 2]).eval()
    batch = one_batch(tiny_data(tokenizer), tokenizer)
    with tempfile.TemporaryDirectory() as tmp:
        trainer = DistillationTrainer(
            model=student,
            args=training_arguments(tmp, profile, 1.0),
            teacher=teacher,
            temperature=3.0,
            alpha=0.7,
            cosine_weight=2.0,
        )
        got = trainer.compute_loss(student, batch)
    # the same loss as lesson 03's loop would compute it, from kdcourse.losses
    model_in = {k: v for k, v in batch.items() if k != "labels"}
    s = student(**model_in, output_hidden_states=True)
    with torch.no_grad():
        t = teacher(**model_in, output_hidden_states=True)
    want = losses.distillation_loss(
        s.logits, t.logits, batch["labels"], temperature=3.0, alpha=0.7
    ) + 2.0 * losses.hidden_cosine_loss(s.hidden_states[-1], t.hidden_states[-1], batch["attention_mask"])
    assert torch.allclose(got, want, atol=1e-6), (got, want)
    assert set(trainer.last_losses) == {"loss", "soft", "hard", "cosine"}
    assert trainer.teacher.training is False
    assert not any(p.requires_grad for p in trainer.teacher.parameters())


@pytest.mark.parametrize("cosine_weight", [0.0, 1.5])
def test_cached_teacher_gives_the_same_loss(profile, tokenizer, cosine_weight):
    teacher = tiny_teacher()
    student = students.student_from_teacher(teacher, [1, 3]).eval()
    data = tiny_data(tokenizer)
    cache = teacher_cache(teacher, data, tokenizer, batch_size=3)
    assert cache["logits"].shape == (8, 2) and len(cache["hidden"]) == 8
    assert cache["hidden"][2].shape == (len(data[2]["input_ids"]), 16)
    batch = one_batch(data, tokenizer)
    with tempfile.TemporaryDirectory() as tmp:
        live = DistillationTrainer(
            model=student,
            args=training_arguments(tmp, profile, 1.0),
            teacher=teacher,
            alpha=0.5,
            cosine_weight=cosine_weight,
        )
        offline = DistillationTrainer(
            model=student,
            args=training_arguments(tmp, profile, 1.0),
            cache=cache,
            alpha=0.5,
            cosine_weight=cosine_weight,
        )
        a = live.compute_loss(student, dict(batch))
        b = offline.compute_loss(student, {**batch, "_index": torch.arange(8)})
    assert torch.allclose(a, b, atol=1e-6), (a, b)
    half = teacher_cache(teacher, data, tokenizer, dtype=torch.float16)
    assert half["hidden"][0].dtype == torch.float16


def test_one_step_changes_only_the_student(profile, tokenizer):
    teacher = tiny_teacher()
    student = students.student_from_teacher(teacher, [0, 3])
    before_t = {k: v.clone() for k, v in teacher.state_dict().items()}
    before_s = {k: v.clone() for k, v in student.state_dict().items()}
    out = train_student(
        student,
        tiny_data(tokenizer, 8),
        tokenizer,
        profile.replace(batch_size=4),
        teacher=teacher,
        alpha=0.5,
        cosine_weight=1.0,
        epochs=1,
    )
    assert out["steps"] == 2 and out["train_loss"] > 0  # step 1 is warm-up (lr 0), step 2 moves
    assert all(torch.equal(v, teacher.state_dict()[k]) for k, v in before_t.items())
    changed = [k for k, v in student.state_dict().items() if not torch.equal(v, before_s[k])]
    assert "classifier.weight" in changed and "bert.encoder.layer.0.output.dense.weight" in changed
    assert teacher.training is False and student.training is False


def test_transfer_set_matches_the_manual_loop():
    from kdcourse.losses import distillation_loss, kd_loss, transfer_set_loss

    def by_rows(logits, teacher_logits, labels, T, alpha):  # each row on its own, then the mean
        rows = [
            kd_loss(logits[i : i + 1], teacher_logits[i : i + 1], T)
            if labels[i] == -100
            else distillation_loss(logits[i : i + 1], teacher_logits[i : i + 1], labels[i : i + 1], T, alpha)
            for i in range(len(labels))
        ]
        return torch.stack(rows).mean()

    g = torch.Generator().manual_seed(0)
    logits, teacher_logits = torch.randn(5, 2, generator=g), torch.randn(5, 2, generator=g)
    for labels in (torch.tensor([1, -100, -100, 0, 1]), torch.tensor([1, 0, 0, 0, 1]), torch.full((5,), -100)):
        parts = triple_loss(logits, labels, teacher_logits, alpha=0.3, temperature=2.0)
        want = by_rows(logits, teacher_logits, labels, 2.0, 0.3)
        assert torch.allclose(parts["loss"], want, atol=1e-6), labels
        assert torch.allclose(sum(transfer_set_loss(logits, teacher_logits, labels, 2.0, 0.3)), want, atol=1e-6)
        assert torch.allclose(parts["soft"] + parts["hard"], parts["loss"])
    labels = torch.tensor([1, 0, 0, 1, 1])
    plain = triple_loss(logits, labels, alpha=0.0)
    assert torch.allclose(plain["loss"], F.cross_entropy(logits, labels))
    with pytest.raises(ValueError, match="alpha=0 .* cannot use unlabelled"):
        triple_loss(logits, torch.tensor([1, -100, 0, 1, 1]), alpha=0.0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(alpha=1.5), r"alpha must be in \[0, 1\], got 1.5"),
        (dict(temperature=0), r"temperature must be > 0, got 0"),
        (dict(cosine_weight=-1), r"cosine_weight must be a number >= 0.*got -1"),
    ],
)
def test_bad_weights_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        triple_loss(torch.randn(2, 2), torch.tensor([0, 1]), torch.randn(2, 2), **kwargs)


def test_missing_teacher_is_explained(profile, tokenizer):
    student = tiny_teacher()
    batch = one_batch(tiny_data(tokenizer), tokenizer)
    with tempfile.TemporaryDirectory() as tmp:
        with pytest.raises(ValueError, match="needs a teacher's hidden states"):
            DistillationTrainer(model=student, args=training_arguments(tmp, profile, 1.0), cosine_weight=1.0)
        trainer = DistillationTrainer(model=student, args=training_arguments(tmp, profile, 1.0), alpha=0.5)
        with pytest.raises(ValueError, match="needs a teacher: pass teacher=... or cache="):
            trainer.compute_loss(student, batch)


@pytest.mark.parametrize("cosine_weight,atol", [(0.0, 1e-6), (1.0, 1e-5)])
def test_cached_and_live_training_agree(profile, tokenizer, cosine_weight, atol):
    teacher = tiny_teacher()
    data = tiny_data(tokenizer, 8)
    data = data.map(lambda row, i: {"label": row["label"] if i < 3 else -100}, with_indices=True)
    trained = []
    for kwargs in (dict(teacher=teacher), dict(cache=teacher_cache(teacher, data, tokenizer))):
        student = students.student_from_teacher(teacher, [0, 2])
        train_student(
            student,
            data,
            tokenizer,
            profile.replace(batch_size=4),
            alpha=0.5,
            cosine_weight=cosine_weight,
            epochs=2,
            seed=3,
            **kwargs,
        )
        trained.append(student.state_dict())
    for key, value in trained[0].items():
        assert torch.allclose(value, trained[1][key], atol=atol), (key, (value - trained[1][key]).abs().max())
    with pytest.raises(ValueError, match="cache holds 8 examples but train_dataset has 4"):
        train_student(
            students.student_from_teacher(teacher, [0]),
            data.select(range(4)),
            tokenizer,
            profile,
            cache=teacher_cache(teacher, data, tokenizer),
        )


def _one_sgd_step(student, teacher, data, tokenizer, batch, accumulate, loss_kwargs):
    """The student after one optimizer step of plain SGD over all 8 examples: batch x accumulate = 8."""
    from transformers import TrainingArguments

    student.accepts_loss_kwargs = loss_kwargs  # as a causal LM says (transformers then skips the division)
    for module in student.modules():  # no dropout: the two ways see the same numbers
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=tmp,
            per_device_train_batch_size=batch,
            gradient_accumulation_steps=accumulate,
            max_steps=1,
            optim="sgd",  # SGD, not AdamW: Adam's first step hides a gradient that is k times too large
            learning_rate=1.0,
            lr_scheduler_type="constant",
            max_grad_norm=0.0,  # no clipping, which would hide it too
            report_to="none",
            disable_tqdm=True,
            logging_strategy="no",
            save_strategy="no",
            use_cpu=True,
            remove_unused_columns=False,
        )
        DistillationTrainer(
            model=student,
            args=args,
            train_dataset=data.select_columns(["input_ids", "attention_mask", "label"]),
            data_collator=DataCollatorWithPadding(tokenizer),
            teacher=teacher,
            alpha=0.5,
        ).train()
    return {k: v.detach().clone() for k, v in student.state_dict().items()}


@pytest.mark.parametrize("loss_kwargs", [False, True])
def test_gradient_accumulation_matches_one_big_batch(tokenizer, loss_kwargs):
    """2 x 4 accumulated = one batch of 8, on every allowed transformers (5.2-5.18 scale the loss
    differently from 5.19 on, unless the trainer says its loss is a per-batch mean)."""
    teacher, data = tiny_teacher(), tiny_data(tokenizer, 8)
    start = students.student_from_teacher(teacher, [0, 3]).state_dict()
    results = []
    for batch, accumulate in [(8, 1), (4, 2)]:
        student = students.student_from_teacher(teacher, [0, 3])
        student.load_state_dict(start)
        results.append(_one_sgd_step(student, teacher, data, tokenizer, batch, accumulate, loss_kwargs))
    big, accumulated = ([r[k] - start[k] for k in start] for r in results)  # each way's update
    size = torch.cat([d.flatten() for d in big]).norm()
    gap = torch.cat([(a - b).flatten() for a, b in zip(accumulated, big)]).norm()
    assert size > 0, "the step moved the student"
    assert gap / size < 1e-3, f"accumulated update differs from one batch's by {gap / size:.1%} of its size"
