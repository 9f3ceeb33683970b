"""DistilBERT's triple loss and a `transformers.Trainer` that distils with it.

The loss is alpha · kd_loss (soft targets at temperature T) + (1 - alpha) · cross-entropy on the hard
labels + cosine_weight · (1 - cos) between the student's and the teacher's last hidden states (padding
masked). The parts it reports are already weighted, so they add up to the loss. DistilBERT used an MLM
loss where we use the task's labels; see lesson 04.
"""

from __future__ import annotations

import math
import tempfile

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pad_sequence
from transformers import (
    DataCollatorWithPadding,
    PrinterCallback,
    ProgressCallback,
    Trainer,
    TrainingArguments,
)

from . import checks, losses
from .losses import TEMPERATURE
from .training import INDEX, by_length

# Columns the Trainer may feed the model (plus the cache index, read by compute_loss).
MODEL_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "labels", "label", INDEX)


def _check_weights(temperature, alpha, cosine_weight) -> None:
    checks.temperature(temperature)
    checks.unit("alpha", alpha)
    if not math.isfinite(checks.real("cosine_weight", cosine_weight)) or cosine_weight < 0:
        raise ValueError(
            f"cosine_weight must be a number >= 0 (0 switches the hidden-state cosine loss off), got {cosine_weight!r}"
        )


def triple_loss(
    student_logits,
    labels,
    teacher_logits=None,
    student_hidden=None,
    teacher_hidden=None,
    attention_mask=None,
    temperature: float = TEMPERATURE,
    alpha: float = 0.5,
    cosine_weight: float = 0.0,
) -> dict:
    """DistilBERT-style loss; returns dict(loss, soft, hard, cosine), each a mean over the batch.

    Unlabelled examples (label -100, the transfer set) get the soft term at full weight, as in
    `training.distill`: per example alpha·kd + (1-alpha)·CE if labelled, kd alone if not.
    """
    _check_weights(temperature, alpha, cosine_weight)
    if not isinstance(student_logits, torch.Tensor) or student_logits.dim() != 2:
        raise TypeError(
            f"student_logits must be a (batch, classes) torch.Tensor, got "
            f"{getattr(student_logits, 'shape', type(student_logits).__name__)}"
        )
    n = student_logits.shape[0]
    if n == 0:
        raise ValueError(
            f"triple_loss got an empty batch, student_logits shape "
            f"{tuple(student_logits.shape)}: a mean over 0 examples is undefined; give "
            "at least one example"
        )
    if labels is None:
        if alpha < 1:
            raise ValueError(f"alpha={alpha} < 1 needs labels; pass them, or use alpha=1")
        labels = torch.zeros(n, dtype=torch.long, device=student_logits.device)  # unused: alpha=1
    soft, hard = losses.transfer_set_loss(student_logits, teacher_logits, labels, temperature, alpha)
    cosine = student_logits.new_zeros(())
    if cosine_weight > 0:
        if student_hidden is None or teacher_hidden is None:
            raise ValueError(
                f"cosine_weight={cosine_weight} needs student_hidden and "
                "teacher_hidden; pass them, or use cosine_weight=0"
            )
        cosine = cosine_weight * losses.hidden_cosine_loss(student_hidden, teacher_hidden, attention_mask)
    loss = soft + hard + cosine
    return {"loss": loss, "soft": soft.detach(), "hard": hard.detach(), "cosine": cosine.detach()}


def teacher_cache(teacher, dataset, tokenizer, batch_size: int = 128, hidden: bool = True, dtype=torch.float32) -> dict:
    """The frozen teacher's outputs on every example, once: logits [N, C], last hidden states [L_i, H].

    The teacher is deterministic in eval mode, so a cached run trains exactly like a live one, minus
    one teacher forward pass per step. Hidden states are stored unpadded, in `dtype` (float16 halves
    the memory, at a small difference from the live loss).
    """
    device = next(teacher.parameters()).device
    dataset = model_columns(dataset)
    if len(dataset) == 0:
        raise ValueError(
            "teacher_cache got an empty dataset (0 examples); check the split or the "
            "size that selected it (e.g. profile.train_size)"
        )
    order, loader = by_length(dataset, tokenizer, batch_size)
    logits: list = [None] * len(dataset)  # filled in dataset order, one row per example
    states: list = [None] * len(dataset)
    was_training, position = teacher.training, 0
    teacher.eval()
    with torch.inference_mode():
        for batch in loader:
            batch = {k: v.to(device) for k, v in batch.items() if k not in ("labels", INDEX)}
            out = teacher(**batch, output_hidden_states=hidden)
            lengths = batch["attention_mask"].sum(-1).tolist()
            for row in range(len(lengths)):
                i = order[position + row]
                logits[i] = out.logits[row].float().cpu()
                if hidden:
                    states[i] = out.hidden_states[-1][row, : lengths[row]].to(dtype).cpu()
            position += len(lengths)
    teacher.train(was_training)
    return {"logits": torch.stack(logits), "hidden": states if hidden else None, "n": len(dataset)}


class _BarOnly(ProgressCallback):
    """Trainer's progress bar without the metrics dict it prints when training ends."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        pass


class DistillationTrainer(Trainer):
    """A Trainer whose loss is `triple_loss` against a frozen teacher (eval mode, student's device).

    Give `teacher` (run live, each step) or `cache` (from `teacher_cache`, rows looked up through the
    dataset's `_index` column) or both; alpha=0 and cosine_weight=0 need neither (plain fine-tuning).
    The teacher is frozen in place: the model you pass keeps requires_grad=False after training (call
    `teacher.requires_grad_(True)` to train it again) and is moved to the student's device.
    """

    def __init__(
        self,
        *args,
        teacher=None,
        cache: dict | None = None,
        temperature: float = TEMPERATURE,
        alpha: float = 0.5,
        cosine_weight: float = 0.0,
        **kwargs,
    ):
        _check_weights(temperature, alpha, cosine_weight)
        if teacher is None and cosine_weight > 0 and (cache is None or cache["hidden"] is None):
            raise ValueError(
                f"cosine_weight={cosine_weight} needs a teacher's hidden states; pass "
                "teacher=... (or cache=teacher_cache(...)), or set cosine_weight=0"
            )
        super().__init__(*args, **kwargs)
        # Our loss is a per-batch mean: with k accumulation steps it must be divided by k exactly once.
        # Some transformers versions (5.2) leave that to accelerate (its gradient_accumulation_steps is k),
        # later ones do it in the Trainer (accelerate's is 1) unless told the loss is already scaled.
        # The Trainer reads loss_is_scaled_for_ga from 5.19 on, model_accepts_loss_kwargs before;
        # tests/test_kd_trainer.py checks 2 x 4 accumulated = one batch of 8 on each tested version.
        scaled = self.accelerator.gradient_accumulation_steps > 1
        self.loss_is_scaled_for_ga = self.model_accepts_loss_kwargs = scaled
        # Both print the final metrics dict even with logging off; keep only the bar (if asked for).
        self.remove_callback(PrinterCallback)
        if self.pop_callback(ProgressCallback) is not None:
            self.add_callback(_BarOnly)
        self.temperature, self.alpha, self.cosine_weight = temperature, alpha, cosine_weight
        self.teacher, self.cache = teacher, cache
        if teacher is not None:
            teacher.requires_grad_(False)
            self.teacher = teacher.to(self.args.device).eval()
        self.last_losses: dict[str, float] = {}

    def _teacher_outputs(self, inputs: dict, index):
        """(teacher logits, last hidden state or None), from the cache when it can, else live."""
        need_hidden = self.cosine_weight > 0
        device = inputs["input_ids"].device
        if self.cache is not None and index is not None and (not need_hidden or self.cache["hidden"] is not None):
            rows = index.tolist()
            logits = self.cache["logits"][index.cpu()].to(device)
            if not need_hidden:
                return logits, None
            hidden = pad_sequence([self.cache["hidden"][i] for i in rows], batch_first=True)
            width = inputs["input_ids"].shape[1]  # the collator may pad further than the longest
            hidden = F.pad(hidden, (0, 0, 0, width - hidden.shape[1]))
            return logits, hidden.to(device=device, dtype=torch.float32)
        if self.teacher is None:
            raise ValueError(
                f"alpha={self.alpha} needs a teacher: pass teacher=... or "
                "cache=teacher_cache(...) with a dataset that has an '_index' column"
            )
        self.teacher.eval()  # Trainer.train() only switches the student to train mode
        with torch.no_grad():
            out = self.teacher(**inputs, output_hidden_states=need_hidden)
        return out.logits, (out.hidden_states[-1] if need_hidden else None)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """Student forward, teacher outputs (cached or no-grad forward), then the triple loss."""
        inputs = dict(inputs)
        labels = inputs.pop("labels", None)
        index = inputs.pop(INDEX, None)
        need_hidden = self.cosine_weight > 0
        outputs = model(**inputs, output_hidden_states=need_hidden)
        teacher_logits = teacher_hidden = None
        if self.alpha > 0 or need_hidden:
            teacher_logits, teacher_hidden = self._teacher_outputs(inputs, index)
        parts = triple_loss(
            outputs.logits,
            labels,
            teacher_logits,
            outputs.hidden_states[-1] if need_hidden else None,
            teacher_hidden,
            inputs.get("attention_mask"),
            self.temperature,
            self.alpha,
            self.cosine_weight,
        )
        self.last_losses = {k: float(v.detach()) for k, v in parts.items()}
        return (parts["loss"], outputs) if return_outputs else parts["loss"]


def model_columns(dataset):
    """Only the columns a student needs (token ids, mask, labels, cache index)."""
    keep = [c for c in dataset.column_names if c in MODEL_COLUMNS]
    if "input_ids" not in keep:
        raise ValueError(
            f"dataset has no 'input_ids' column (columns: {dataset.column_names}); "
            "tokenize it first (kdcourse.training.tokenize_splits)"
        )
    return dataset.select_columns(keep)


def training_arguments(
    output_dir: str, profile, epochs: float, seed: int = 0, learning_rate: float | None = None, progress: bool = False
) -> TrainingArguments:
    """Quiet TrainingArguments from the profile: no logging, saving, evaluation or reporting.

    Same recipe as `training.distill`: AdamW (weight decay 0.01), linear decay after 10% warm-up,
    batches of similar lengths.
    """
    if learning_rate is not None:  # None: the profile's rate
        checks.positive("learning_rate", learning_rate)
    return TrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=profile.batch_size,
        num_train_epochs=epochs,
        learning_rate=profile.learning_rate if learning_rate is None else learning_rate,
        warmup_steps=0.1,
        weight_decay=0.01,
        train_sampling_strategy="group_by_length",
        seed=seed,
        data_seed=seed,
        report_to="none",
        disable_tqdm=not progress,
        logging_strategy="no",
        save_strategy="no",
        eval_strategy="no",
        use_cpu=profile.device == "cpu",
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )


def train_student(
    student,
    train_dataset,
    tokenizer,
    profile,
    teacher=None,
    cache: dict | None = None,
    temperature: float = TEMPERATURE,
    alpha: float = 0.5,
    cosine_weight: float = 0.0,
    epochs: float | None = None,
    seed: int = 0,
    learning_rate: float | None = None,
    progress: bool = False,
) -> dict:
    """Train `student` in place with DistillationTrainer (alpha=0, cosine_weight=0: plain fine-tuning).

    `cache` (from `teacher_cache` on this same `train_dataset`) replaces the teacher's forward passes.
    """
    epochs = checks.positive("epochs", profile.student_epochs if epochs is None else epochs)
    if learning_rate is not None:
        checks.positive("learning_rate", learning_rate)
    if len(train_dataset) == 0:
        raise ValueError(
            "train_dataset is empty (0 examples); there is nothing to train on: check "
            "the split or the size that selected it (e.g. profile.train_size)"
        )
    if cache is not None:
        if cache["n"] != len(train_dataset):
            raise ValueError(
                f"cache holds {cache['n']} examples but train_dataset has "
                f"{len(train_dataset)}; compute teacher_cache on this same dataset"
            )
        train_dataset = train_dataset.add_column(INDEX, list(range(len(train_dataset))))
    with tempfile.TemporaryDirectory(prefix="kdcourse-trainer-") as tmp:
        trainer = DistillationTrainer(
            model=student,
            args=training_arguments(tmp, profile, epochs, seed, learning_rate, progress),
            train_dataset=model_columns(train_dataset),
            data_collator=DataCollatorWithPadding(tokenizer),
            teacher=teacher,
            cache=cache,
            temperature=temperature,
            alpha=alpha,
            cosine_weight=cosine_weight,
        )
        result = trainer.train()
    student.eval()
    return {"train_loss": result.training_loss, "steps": result.global_step}
