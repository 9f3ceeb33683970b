"""kdcourse.training on real text and the real tokenizer, with tiny random BERTs so each test takes seconds."""

import math
import os

import pytest
import torch
import torch.nn.functional as F
from helpers import tiny_bert as bert
from transformers import (
    get_linear_schedule_with_warmup,
)

from kdcourse import assets, corpus, get_profile, training
from kdcourse_solutions import SOLUTIONS


@pytest.fixture(scope="module")
def tok():
    return assets.load_tokenizer("minilm")


@pytest.fixture(scope="module")
def profile():
    return get_profile("smoke").replace(
        train_size=48, eval_size=24, test_size=24, batch_size=8, eval_batch_size=16, max_length=32, learning_rate=1e-3
    )


@pytest.fixture(scope="module")
def data(tok, profile):
    return training.tokenize_splits(corpus.load_task_data(profile), tok, profile.max_length)


def tiny_bert(tok, seed):
    return bert(2, 32, tok.vocab_size, positions=64, seed=seed)


def test_tokenize_splits_keeps_only_model_columns_unpadded(data, profile):
    assert set(data["train"].column_names) == {"label", "input_ids", "token_type_ids", "attention_mask"}
    lengths = [len(ids) for ids in data["train"]["input_ids"]]
    assert max(lengths) <= profile.max_length and len(set(lengths)) > 1  # no padding yet


def test_loader_pads_each_batch_to_its_longest(data, tok):
    loader = training.make_loader(data["train"], tok, batch_size=8, shuffle=False)
    batch = next(iter(loader))
    lengths = [len(ids) for ids in data["train"]["input_ids"][:8]]
    assert batch["input_ids"].shape == (8, max(lengths))
    assert batch["attention_mask"].sum(1).tolist() == lengths
    assert (batch["input_ids"][batch["attention_mask"] == 0] == tok.pad_token_id).all()
    assert batch["labels"].tolist() == list(data["train"]["label"][:8])


def test_shuffled_loader_is_seeded(data, tok):
    def order(seed):
        return [b["input_ids"][:, 1].tolist() for b in training.make_loader(data["train"], tok, 8, True, seed)]

    assert order(0) == order(0) and order(0) != order(1)


def test_one_step_changes_only_the_student(data, tok, profile):
    teacher, student = tiny_bert(tok, 0), tiny_bert(tok, 1)
    teacher.train()  # distill must put it in eval mode itself
    before_t = {k: v.clone() for k, v in teacher.state_dict().items()}
    before_s = {k: v.clone() for k, v in student.state_dict().items()}
    training.distill(student, data["train"], tok, profile, teacher=teacher, max_steps=1, progress=False)
    assert not teacher.training
    assert all(torch.equal(v, before_t[k]) for k, v in teacher.state_dict().items())
    assert all(p.grad is None for p in teacher.parameters())
    changed = [k for k, v in student.state_dict().items() if not torch.equal(v, before_s[k])]
    assert any("encoder.layer.0" in k for k in changed) and any("classifier" in k for k in changed)


def test_alpha_zero_is_plain_cross_entropy_training(data, tok, profile):
    student = tiny_bert(tok, 1)
    history = training.distill(student, data["train"], tok, profile, alpha=0.0, epochs=1, progress=False)
    # The same training written out with plain cross-entropy and no teacher at all.
    plain = tiny_bert(tok, 1)
    loader = training.make_loader(data["train"], tok, profile.batch_size, shuffle=True, seed=0)
    steps = len(loader)
    optimizer = torch.optim.AdamW(plain.parameters(), lr=profile.learning_rate)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps), steps)
    torch.manual_seed(0)
    plain.train()
    losses = []
    for batch in loader:
        labels = batch.pop("labels")
        loss = F.cross_entropy(plain(**batch).logits, labels)
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert history["loss"] == pytest.approx(losses, abs=1e-5)


def test_cached_teacher_logits_equal_recomputed(data, tok, profile, tmp_path, monkeypatch):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    teacher = tiny_bert(tok, 0)
    first = training.teacher_logits(teacher, data["train"], tok, profile, cache_key="tiny")
    files = sorted(f.name for f in (tmp_path / "logits").iterdir())
    assert [f.rsplit(".", 1)[1] for f in files] == ["json", "sha256", "pt", "sha256"] and not any(
        f.startswith(".tmp") for f in files
    )
    record = training.logits_record(data["train"], "tiny")  # the cost of the pass that built the file
    assert record["rows"] == len(data["train"]) and record["teacher_pass_seconds"] > 0
    again = training.teacher_logits(teacher, data["train"], tok, profile, cache_key="tiny")
    assert torch.equal(first, again)
    (tmp_path / "logits" / files[0]).unlink()  # a file without its record is rebuilt, and recorded again
    assert torch.equal(training.teacher_logits(teacher, data["train"], tok, profile, cache_key="tiny"), first)
    assert training.logits_record(data["train"], "tiny")["rows"] == len(data["train"])
    teacher.eval()
    batch = next(iter(training.make_loader(data["train"].select(range(5)), tok, 5, shuffle=False)))
    batch.pop("labels")
    with torch.no_grad():
        direct = teacher(**batch).logits
    assert torch.allclose(first[:5], direct, atol=1e-5)  # same rows, same order
    # Distilling from the cache or from the live teacher is the same training.
    live = training.distill(
        tiny_bert(tok, 1), data["train"], tok, profile, teacher=teacher, max_steps=4, progress=False
    )
    cached = training.distill(
        tiny_bert(tok, 1), data["train"], tok, profile, teacher_logits=first, max_steps=4, progress=False
    )
    assert cached["loss"] == pytest.approx(live["loss"], abs=1e-5)


def test_distill_is_deterministic(data, tok, profile):
    def run(seed):
        return training.distill(
            tiny_bert(tok, 1),
            data["train"],
            tok,
            profile,
            teacher=tiny_bert(tok, 0),
            max_steps=5,
            seed=seed,
            eval_dataset=data["validation"],
            eval_every=2,
            progress=False,
        )

    a, b, c = run(0), run(0), run(1)
    assert a["loss"] == b["loss"] and a["eval_accuracy"] == b["eval_accuracy"]
    assert a["loss"] != c["loss"]
    assert a["eval_step"] == [0, 2, 4, 5]


def test_unlabelled_examples_get_only_the_soft_term(data, tok, profile):
    from kdcourse.losses import kd_loss

    teacher = tiny_bert(tok, 0)
    unlabelled = data["train"].map(lambda ex: {"label": -100})
    logits = training.teacher_logits(teacher, unlabelled, tok, profile)
    history = training.distill(
        tiny_bert(tok, 1), unlabelled, tok, profile, teacher_logits=logits, alpha=0.5, max_steps=1, progress=False
    )
    student = tiny_bert(tok, 1).train()
    indexed = unlabelled.add_column("i", list(range(len(unlabelled))))
    loader = training.make_loader(indexed, tok, profile.batch_size, shuffle=True, seed=0)
    torch.manual_seed(0)  # as distill does: seed, start the loader, then the first forward pass
    batch = next(iter(loader))
    index, _ = batch.pop("i"), batch.pop("labels")
    expected = kd_loss(student(**batch).logits, logits[index], 2.0).item()
    assert history["loss"][0] == pytest.approx(expected, abs=1e-5)


def test_bad_settings_are_refused_clearly(data, tok, profile):
    student = tiny_bert(tok, 1)
    with pytest.raises(ValueError, match="alpha must be in"):
        training.distill(student, data["train"], tok, profile, teacher=student, alpha=1.5)
    with pytest.raises(ValueError, match="needs the teacher"):
        training.distill(student, data["train"], tok, profile, alpha=0.5)
    with pytest.raises(ValueError, match="rows but train_dataset has"):
        training.distill(student, data["train"], tok, profile, teacher_logits=torch.zeros(3, 2))
    with pytest.raises(ValueError, match="temperature must be > 0, got -1"):
        training.distill(student, data["train"], tok, profile, teacher=tiny_bert(tok, 0), temperature=-1)


def test_teacher_is_fine_tuned_once_and_cached_atomically(tok, profile, tmp_path, monkeypatch):
    real_data = assets.asset_dir("rotten_tomatoes")
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    os.symlink(real_data, assets.asset_dir("rotten_tomatoes"))  # the real reviews, no download
    folder = tmp_path / "tiny"
    tiny_bert(tok, 0).save_pretrained(folder)
    tok.save_pretrained(folder)
    small = profile.replace(teacher=str(folder), train_size=16)
    model, tokenizer = training.load_teacher(small, seed=0, progress=False)
    assert not model.training and tokenizer.vocab_size == tok.vocab_size
    entries = [p.name for p in (tmp_path / "cache" / "teachers").iterdir()]
    assert entries == [training.teacher_dir(small, 0).name]  # no temp leftovers
    assert entries[0].startswith("smoke-0-")
    monkeypatch.setattr(training, "distill", lambda *a, **k: pytest.fail("retrained a cached teacher"))
    again, _ = training.load_teacher(small, seed=0, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert training.teacher_dir(small, 1) != training.teacher_dir(small, 0)
    assert training.teacher_dir(small.replace(learning_rate=5e-4), 0) != training.teacher_dir(small, 0)


def test_playground_trains_headless_and_exposes_its_state(data, tok, profile):
    from kdcourse.viz.playground import DistillationPlayground

    teacher = tiny_bert(tok, 0)
    logits = training.teacher_logits(teacher, data["train"], tok, profile)
    small = profile.replace(playground_steps=4)
    pg = DistillationPlayground(
        lambda: tiny_bert(tok, 1),
        data["train"],
        logits,
        data["validation"],
        tok,
        small,
        temperature=3.0,
        alpha=0.7,
        eval_examples=16,
        eval_points=2,
    )
    assert pg.state["history"] is None and pg.state["temperature"] == 3.0
    history = pg.train()
    assert (history["alpha"], history["temperature"], history["steps"]) == (0.7, 3.0, 4)
    assert pg.state["baseline"]["alpha"] == 0.0 and history["eval_step"] == [0, 2, 4]
    assert len(history["eval_accuracy"]) == 3 and pg.state["runs"] == 1
    box = pg.widget()
    pg.inputs["alpha"].value = 0.25  # moving a slider updates the state the Train button uses
    assert pg.state["alpha"] == 0.25 and box.children
    fig = pg.figure()
    assert len(fig.axes) == 2 and len(fig.axes[0].lines) == 2


def test_distill_step_exercise_accepts_the_solution_and_names_the_usual_bugs(data, tok, capsys):
    from kdcourse.lessons import l03

    namespace = {"torch": torch, "F": F}
    exec(SOLUTIONS["distill_step"], namespace)
    right = namespace["distill_step"]
    batch = next(iter(training.make_loader(data["train"].select(range(8)), tok, 8, shuffle=False)))
    student, teacher = tiny_bert(tok, 1), tiny_bert(tok, 0)
    assert l03.check_distill_step(right, student, teacher, batch)

    def no_eval(s, t, b, opt, T, a):
        return _step(s, t, b, opt, T, a, eval_teacher=False)

    def swapped(s, t, b, opt, T, a):
        return right(s, t, b, opt, T, 1 - a)

    for wrong, hint in ((no_eval, "training mode"), (swapped, "alpha weighs the teacher")):
        capsys.readouterr()
        assert not l03.check_distill_step(wrong, student, teacher, batch, alpha=0.3)
        assert hint in capsys.readouterr().out
    assert l03.check_standard_error(math.sqrt(0.8 * 0.2 / 100), 0.8, 100)
    assert not l03.check_standard_error(0.8 * 0.2 / 100, 0.8, 100)


def _step(student, teacher, batch, optimizer, T, alpha, eval_teacher=True):
    from kdcourse.losses import distillation_loss

    inputs = {k: v for k, v in batch.items() if k != "labels"}
    if eval_teacher:
        teacher.eval()
    with torch.no_grad():
        t_logits = teacher(**inputs).logits
    loss = distillation_loss(student(**inputs).logits, t_logits, batch["labels"], T, alpha)
    loss.backward()
    optimizer.step()
    optimizer.zero_grad()
    return loss


@pytest.mark.parametrize("threads", [1, 2])
def test_training_is_bitwise_repeatable_at_a_fixed_thread_count(data, tok, profile, threads):
    # README's determinism condition: same profile, seed AND thread count -> the same weights, bit for bit
    # (torch's CPU kernels split sums by thread, so another thread count may round differently).
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        weights = []
        for _ in range(2):
            student = tiny_bert(tok, 1)
            training.distill(
                student, data["train"], tok, profile, teacher=tiny_bert(tok, 0), max_steps=4, progress=False
            )
            weights.append(student.state_dict())
    finally:
        torch.set_num_threads(before)
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
