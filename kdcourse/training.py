"""Training: tokenize, batch, fine-tune and cache the teacher, cache its logits, and the distillation loop.

Datasets passed to `evaluate`, `teacher_logits` and `distill` are *tokenized* splits, the output of
`tokenize_splits` (columns input_ids, attention_mask, label; no padding, the collator pads per batch).
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, RandomSampler, Sampler, SequentialSampler
from tqdm.auto import tqdm
from transformers import DataCollatorWithPadding, get_linear_schedule_with_warmup
from transformers.trainer_pt_utils import LengthGroupedSampler

from . import assets, cache, checks, corpus, losses
from .losses import TEMPERATURE
from .profiles import Profile, check_device
from .session import seed_everything

TEACHER_RECIPE = 1  # bump when the fine-tuning recipe changes, so cached teachers are retrained
INDEX = "_index"  # column holding each example's row, to look its cached teacher outputs up


def _check_dataset(dataset, what: str = "dataset") -> None:
    if len(dataset) == 0:
        raise ValueError(
            f"{what} is empty (0 examples); check the split or the size that selected it (e.g. profile.train_size)"
        )


def tokenize_splits(data, tokenizer, max_length: int):
    """Tokenize every split (truncate to max_length, no padding); keep input_ids, attention_mask, label."""
    if not isinstance(max_length, int) or max_length <= 0:
        raise ValueError(f"max_length must be a positive int, got {max_length!r}")
    columns = data.column_names
    first = next(iter(columns.values())) if isinstance(columns, dict) else columns
    if "text" not in first or "label" not in first:
        raise ValueError(f"data needs 'text' and 'label' columns, got {first}")

    def encode(batch):
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    return data.map(encode, batched=True, remove_columns=[c for c in first if c != "label"])


def make_loader(
    dataset, tokenizer, batch_size: int, shuffle: bool, seed: int = 0, group_by_length: bool = True
) -> DataLoader:
    """Batches padded per batch (DataCollatorWithPadding); shuffled ones group similar lengths."""
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if "input_ids" not in dataset.column_names:
        raise ValueError("make_loader needs a tokenized dataset (input_ids); run tokenize_splits first")
    sampler: Sampler
    if shuffle:
        generator = torch.Generator().manual_seed(seed)
        if group_by_length:
            lengths = [len(ids) for ids in dataset["input_ids"]]
            sampler = LengthGroupedSampler(batch_size, lengths=lengths, generator=generator)
        else:
            sampler = RandomSampler(dataset, generator=generator)
    else:
        sampler = SequentialSampler(dataset)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        collate_fn=DataCollatorWithPadding(tokenizer, return_tensors="pt"),
    )


def _to(batch: dict, device) -> dict:
    return {k: v.to(device) for k, v in batch.items()}


def by_length(dataset, tokenizer, batch_size: int) -> tuple[list[int], DataLoader]:
    """(order, loader): the examples sorted by length (little padding per batch), unshuffled; row i of
    the sorted predictions belongs to example order[i]."""
    lengths = [len(ids) for ids in dataset["input_ids"]]
    order = sorted(range(len(dataset)), key=lengths.__getitem__)
    return order, make_loader(dataset.select(order), tokenizer, batch_size, shuffle=False)


def predict_logits(model: nn.Module, dataset, tokenizer, batch_size: int = 128) -> torch.Tensor:
    """Logits [N, num_labels] in dataset order, in eval mode under inference_mode (batched by length)."""
    _check_dataset(dataset)
    order, loader = by_length(dataset, tokenizer, batch_size)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))  # none: a runtime (ONNX)
    was_training = model.training
    model.eval()
    parts = []
    with torch.inference_mode():
        for batch in loader:
            batch.pop("labels", None)
            parts.append(model(**_to(batch, device)).logits.float().cpu())
    model.train(was_training)
    sorted_logits = torch.cat(parts)
    logits = torch.empty_like(sorted_logits)
    logits[torch.tensor(order)] = sorted_logits
    return logits


def evaluate(model: nn.Module, dataset, tokenizer, profile: Profile) -> dict:
    """Accuracy and mean cross-entropy of `model` on a tokenized split; `n` examples."""
    logits = predict_logits(model, dataset, tokenizer, profile.eval_batch_size)
    labels = torch.tensor(list(dataset["label"]))
    return {
        "accuracy": (logits.argmax(-1) == labels).float().mean().item(),
        "loss": F.cross_entropy(logits, labels).item(),
        "n": len(labels),
    }


def _saved_logits(path: Path, dataset):
    """The cached logits at `path` if they are intact and fit `dataset` (one finite row per example), else None."""
    if not cache.file_ready(_record(path)):  # a file whose cost record is missing or damaged is rebuilt with it
        return None
    saved = cache.load_cached(path)  # weights_only: a planted pickle is refused, not run
    if (
        isinstance(saved, torch.Tensor)
        and saved.is_floating_point()
        and saved.dim() == 2
        and len(saved) == len(dataset)
        and bool(torch.isfinite(saved).all())
    ):
        return saved
    if saved is not None:
        print(
            f"kdcourse: cache file {path} does not hold {len(dataset)} finite logit rows; rebuilding it",
            file=sys.stderr,
            flush=True,
        )
    return None


def teacher_logits(teacher: nn.Module, dataset, tokenizer, profile: Profile, cache_key: str | None = None):
    """The teacher's logits on every example, computed once; cached on disk when cache_key is given."""
    if cache_key is None:
        return predict_logits(teacher, dataset, tokenizer, profile.eval_batch_size)
    if not isinstance(cache_key, str) or not cache_key or "/" in cache_key:
        raise ValueError(f"cache_key must be a non-empty name without '/', got {cache_key!r}")
    path = cache.cache_path("logits", f"{cache_key}-{cache.token_ids_fingerprint(dataset)}.pt")

    def build():
        start = time.perf_counter()
        logits = predict_logits(teacher, dataset, tokenizer, profile.eval_batch_size)
        return logits, time.perf_counter() - start

    def save(built):
        logits, seconds = built
        cache.atomic_write_json({"rows": len(dataset), "teacher_pass_seconds": round(seconds, 2)}, _record(path))
        cache.atomic_save(logits, path)

    found = cache.once(path, lambda: _saved_logits(path, dataset), build, save)
    return found[0] if isinstance(found, tuple) else found


def _record(path: Path) -> Path:
    return path.with_name(path.stem + ".json")


def logits_record(dataset, cache_key: str) -> dict | None:
    """How long the teacher pass that built `teacher_logits`'s cache file took, or None if not recorded."""
    path = _record(cache.cache_path("logits", f"{cache_key}-{cache.token_ids_fingerprint(dataset)}.pt"))
    if not cache.file_ready(path):  # absent, or damaged (then removed, with a notice; teacher_logits rebuilds it)
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):  # unreadable although recorded (a record written by hand?): as if absent
        return None


def _optimizer(params, lr: float):
    """AdamW, fused where this torch build supports it on the parameters' device, else foreach."""
    params = list(params)
    try:
        return torch.optim.AdamW(params, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.AdamW(params, lr=lr, foreach=True)


def _check_distill_types(profile, seed, teacher_logits) -> None:
    """distill's profile, seed and cached logits are of the kinds it needs (errors name the value and the fix)."""
    if not isinstance(profile, Profile):
        raise TypeError(
            f"profile must be a Profile, got {type(profile).__name__} {profile!r}; pass kdcourse.setup()'s result "
            "or kdcourse.get_profile('smoke')"
        )
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, got {seed!r}; e.g. seed=0")
    if teacher_logits is not None and not isinstance(teacher_logits, torch.Tensor):
        raise TypeError(
            f"teacher_logits must be a torch.Tensor (one row per example), got {type(teacher_logits).__name__}; "
            "use training.teacher_logits(...) or wrap it with torch.tensor(...)"
        )


def _check_distill_inputs(
    student, train_dataset, teacher_logits, teacher, temperature, alpha, epochs, max_steps, learning_rate
) -> tuple:
    """distill's arguments checked, each error naming the value and the fix; returns (alpha, temperature)."""
    checked = checks.unit("alpha", alpha)  # [0, 1]: the weight of the teacher term
    alpha = alpha if type(alpha) in (int, float) else checked
    checked = checks.temperature(temperature)
    temperature = temperature if type(temperature) in (int, float) else checked
    if epochs is not None:
        checks.positive("epochs", epochs)
    if max_steps is not None:
        checks.positive("max_steps", max_steps, integer=True)
    if learning_rate is not None:
        checks.positive("learning_rate", learning_rate)
    _check_dataset(train_dataset, "train_dataset")
    if "label" not in train_dataset.column_names:
        raise ValueError(
            f"train_dataset has no 'label' column (columns: {train_dataset.column_names}); "
            "distill needs one label per example (-100 for unlabelled ones): tokenize "
            "a split that has labels with tokenize_splits"
        )
    if alpha > 0 and teacher_logits is None and teacher is None:
        raise ValueError(
            f"alpha={alpha} needs the teacher: pass teacher_logits=... (cached) or "
            "teacher=...; or use alpha=0 for plain fine-tuning"
        )
    if teacher_logits is not None and len(teacher_logits) != len(train_dataset):
        raise ValueError(
            f"teacher_logits has {len(teacher_logits)} rows but train_dataset has "
            f"{len(train_dataset)} examples; compute them on this same dataset"
        )
    if alpha == 0 and -100 in set(train_dataset["label"]):
        raise ValueError(
            "alpha=0 (hard labels only) cannot use unlabelled examples (label -100); "
            "drop them, or use alpha > 0 so they get the teacher's soft targets"
        )
    if teacher is not None and teacher is student:
        raise ValueError("teacher and student are the same model; pass a separate student")
    return alpha, temperature


def _batches(loader, device):
    """The loader's batches on `device`, epoch after epoch (the sampler's generator reshuffles each epoch)."""
    while True:
        for batch in loader:
            yield _to(batch, device)


def _batch_loss(student, batch: dict, teacher, cached, temperature: float, alpha: float) -> torch.Tensor:
    """One batch's loss: the student predicts; the teacher's logits come from the cache or a no-grad pass."""
    index, labels = batch.pop(INDEX), batch.pop("labels")
    student_logits = student(**batch).logits
    if alpha == 0:
        return F.cross_entropy(student_logits, labels)
    if cached is not None:
        t_logits = cached[index]
    else:
        with torch.no_grad():
            t_logits = teacher(**batch).logits
    soft, hard = losses.transfer_set_loss(student_logits, t_logits, labels, temperature, alpha)
    return soft + hard


def distill(
    student: nn.Module,
    train_dataset,
    tokenizer,
    profile: Profile,
    teacher_logits=None,
    teacher=None,
    temperature: float = TEMPERATURE,
    alpha: float = 0.5,
    epochs: float | None = None,
    seed: int = 0,
    eval_dataset=None,
    eval_every: int | None = None,
    progress: bool = True,
    max_steps: int | None = None,
    learning_rate: float | None = None,
) -> dict:
    """Train `student` on hard labels (1 - alpha) + the teacher's soft targets (alpha); return its history.

    Per batch: the teacher predicts in eval mode under no_grad (or its cached logits are looked up
    by example index), the student predicts, `losses.transfer_set_loss` combines both, and only the
    student's parameters step. alpha=0 is plain fine-tuning (no teacher needed).
    """
    _check_distill_types(profile, seed, teacher_logits)
    alpha, temperature = _check_distill_inputs(
        student, train_dataset, teacher_logits, teacher, temperature, alpha, epochs, max_steps, learning_rate
    )
    epochs = profile.student_epochs if epochs is None else epochs
    lr = profile.learning_rate if learning_rate is None else learning_rate
    device = torch.device(check_device(profile.device))
    indexed = train_dataset.add_column(INDEX, list(range(len(train_dataset))))
    loader = make_loader(indexed, tokenizer, profile.batch_size, shuffle=True, seed=seed)
    steps = max_steps if max_steps is not None else max(1, math.ceil(epochs * len(loader)))

    torch.manual_seed(seed)  # dropout masks
    cached = _placed(student, teacher, teacher_logits, device)
    history: dict[str, Any] = {key: [] for key in ("step", "loss", "eval_step", "eval_accuracy", "eval_loss")}
    history.update(alpha=alpha, temperature=temperature, seed=seed, steps=steps)

    def run_eval(step):
        scores = evaluate(student, eval_dataset, tokenizer, profile)
        history["eval_step"].append(step)
        history["eval_accuracy"].append(scores["accuracy"])
        history["eval_loss"].append(scores["loss"])

    if eval_dataset is not None and eval_every:
        run_eval(0)
    start = time.perf_counter()

    def step_loss(batch):
        return _batch_loss(student, batch, teacher, cached, temperature, alpha)

    between = run_eval if eval_dataset is not None and eval_every else None
    desc = f"training (alpha={alpha}, T={temperature})"
    _optimise(student, step_loss, _batches(loader, device), steps, lr, history, desc, progress, between, eval_every)
    history["train_seconds"] = time.perf_counter() - start
    if eval_dataset is not None:
        run_eval(steps)
    student.eval()
    return history


def _placed(student, teacher, teacher_logits, device):
    """Student (train mode) and teacher (eval mode) moved to `device`; returns the cached logits there, if any."""
    student.to(device).train()
    if teacher is not None:
        teacher.to(device).eval()
    return None if teacher_logits is None else teacher_logits.to(device)


def _optimise(student, step_loss, batches, steps, lr, history, desc, progress, between=None, every=None) -> None:
    """`steps` AdamW steps (10% warm-up, linear decay) on the student's trainable parameters with the loss
    `step_loss(batch)`; each loss in `history`; `between(step)` every `every` steps."""
    optimizer = _optimizer((p for p in student.parameters() if p.requires_grad), lr)
    schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps), steps)
    bar = tqdm(zip(range(1, steps + 1), batches), total=steps, desc=desc, disable=not progress, leave=True)
    for step, batch in bar:
        loss = step_loss(batch)
        loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        history["step"].append(step)
        history["loss"].append(loss.item())
        if progress and step % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if between is not None and every and step % every == 0 and step != steps:
            between(step)


def teacher_dir(profile: Profile, seed: int = 0) -> Path:
    """Cache folder of the fine-tuned teacher for these settings (it may not exist yet)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    settings = {
        "teacher": profile.teacher,
        "dataset": profile.dataset,
        "train": profile.train_size,
        "epochs": profile.teacher_epochs,
        "lr": profile.learning_rate,
        "batch": profile.batch_size,
        "max_length": profile.max_length,
        "seed": seed,
        "recipe": TEACHER_RECIPE,
    }
    return cache.cache_path("teachers", f"{profile.name}-{seed}-{cache.key(settings)}")


FINE_TUNE_RECORD = "kdcourse-fine-tune.json"  # what the fine-tune cost, written next to the weights


def fine_tune_teacher(profile: Profile, seed: int = 0, progress: bool = True) -> tuple[nn.Module, object, dict]:
    """(model, tokenizer, record): the pretrained encoder + a fresh head, fine-tuned on the training split.

    Fine-tuning is the distillation loop with alpha=0 (hard labels only, no teacher): `distill`.
    """
    seed_everything(seed)
    model = assets.load_classifier(profile.teacher)
    tokenizer = assets.load_tokenizer(profile.teacher)
    data = tokenize_splits(corpus.load_task_data(profile), tokenizer, profile.max_length)
    history = distill(
        model, data["train"], tokenizer, profile, alpha=0.0, epochs=profile.teacher_epochs, seed=seed, progress=progress
    )
    record = {
        "epochs": profile.teacher_epochs,
        "steps": history["steps"],
        "train_examples": len(data["train"]),
        "seconds": round(history["train_seconds"], 1),
        "device": profile.device,
    }
    return model, tokenizer, record


def teacher_record(profile: Profile, seed: int = 0) -> dict | None:
    """What the cached teacher's fine-tune cost (epochs, steps, seconds), or None if it was not recorded."""
    path = teacher_dir(profile, seed) / FINE_TUNE_RECORD
    return json.loads(path.read_text()) if path.is_file() else None


def load_teacher(profile: Profile, seed: int = 0, progress: bool = True):
    """(model, tokenizer): `fine_tune_teacher`'s result, computed on the first call and cached.

    `seed` drives the head's init and the batch order; the data split is always the course's (seed 0).
    """
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = teacher_dir(profile, seed)
    check_device(profile.device)

    def save(trained):
        model, tokenizer, record = trained
        with cache.atomic_folder(folder) as tmp:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (Path(tmp) / FINE_TUNE_RECORD).write_text(json.dumps(record, indent=1) + "\n")

    # absent, or damaged (then removed, with a notice): train it once
    cache.once(
        folder,
        lambda: folder if cache.folder_ready(folder) else None,
        lambda: fine_tune_teacher(profile, seed, progress),
        save,
    )
    model = AutoModelForSequenceClassification.from_pretrained(folder).to(profile.device).eval()
    return model, AutoTokenizer.from_pretrained(folder)
