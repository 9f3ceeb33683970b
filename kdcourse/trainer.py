"""DistilBERT's triple loss and a `transformers.Trainer` that distils with it.

The loss is alpha · kd_loss (soft targets at temperature T) + (1 - alpha) · cross-entropy on the hard
labels + cosine_weight · (1 - cos) between the student's and the teacher's last hidden states (padding
masked). The parts it reports are already weighted, so they add up to the loss. DistilBERT used an MLM loss where we use the task's labels; see lesson 04.
"""
from __future__ import annotations

import math
import tempfile

import torch
import torch.nn.functional as F
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

from . import losses

# Columns the Trainer may feed the model (plus cached teacher logits, read by compute_loss).
MODEL_COLUMNS = ("input_ids", "attention_mask", "token_type_ids", "labels", "label", "teacher_logits")


def _check_weights(temperature, alpha, cosine_weight) -> None:
    losses._check_temperature(temperature)
    losses._check_unit("alpha", alpha)
    if isinstance(cosine_weight, bool) or not isinstance(cosine_weight, (int, float)) \
            or not math.isfinite(cosine_weight) or cosine_weight < 0:
        raise ValueError(f"cosine_weight must be a number >= 0 (0 switches the hidden-state "
                         f"cosine loss off), got {cosine_weight!r}")


def triple_loss(student_logits, labels, teacher_logits=None, student_hidden=None,
                teacher_hidden=None, attention_mask=None, temperature: float = 2.0,
                alpha: float = 0.5, cosine_weight: float = 0.0) -> dict:
    """DistilBERT-style loss; returns dict(loss, soft, hard, cosine), each a mean over the batch.

    Unlabelled examples (label -100, the transfer set) get the soft term at full weight, as in
    `training.distill`: per example alpha·kd + (1-alpha)·CE if labelled, kd alone if not.
    """
    _check_weights(temperature, alpha, cosine_weight)
    n = student_logits.shape[0]
    known = torch.ones(n, dtype=torch.bool, device=student_logits.device) if labels is None \
        else labels != losses.IGNORE_INDEX
    if alpha == 0 and not known.all():
        raise ValueError("alpha=0 (hard labels only) cannot use unlabelled examples (label -100); "
                         "drop them, or use alpha > 0 so they get the teacher's soft targets")
    zero = student_logits.new_zeros(())
    soft = hard = cosine = zero
    if alpha > 0:
        if teacher_logits is None:
            raise ValueError(f"alpha={alpha} needs teacher_logits; pass them, or use alpha=0 "
                             "(plain fine-tuning)")
        weight = torch.where(known, alpha, 1.0).to(student_logits.dtype)  # kd weight per example
        for group in (known, ~known):
            if group.any():
                kd = losses.kd_loss(student_logits[group], teacher_logits[group], temperature)
                soft = soft + kd * weight[group][0] * group.sum() / n
    if alpha < 1 and known.any():
        if labels is None:
            raise ValueError(f"alpha={alpha} < 1 needs labels; pass them, or use alpha=1")
        ce = F.cross_entropy(student_logits[known], labels[known])
        hard = (1 - alpha) * ce * known.sum() / n
    if cosine_weight > 0:
        if student_hidden is None or teacher_hidden is None:
            raise ValueError(f"cosine_weight={cosine_weight} needs student_hidden and "
                             "teacher_hidden; pass them, or use cosine_weight=0")
        cosine = cosine_weight * losses.hidden_cosine_loss(student_hidden, teacher_hidden,
                                                           attention_mask)
    loss = soft + hard + cosine
    return {"loss": loss, "soft": soft.detach(), "hard": hard.detach(), "cosine": cosine.detach()}


class DistillationTrainer(Trainer):
    """A Trainer whose loss is `triple_loss` against a frozen teacher (eval mode, student's device)."""

    loss_is_scaled_for_ga = False  # our loss is a per-batch mean: the Trainer divides for accumulation

    def __init__(self, *args, teacher=None, temperature: float = 2.0, alpha: float = 0.5,
                 cosine_weight: float = 0.0, **kwargs):
        _check_weights(temperature, alpha, cosine_weight)
        if teacher is None and cosine_weight > 0:
            raise ValueError(f"cosine_weight={cosine_weight} needs a teacher's hidden states; pass "
                             "teacher=... or set cosine_weight=0")
        super().__init__(*args, **kwargs)
        self.temperature, self.alpha, self.cosine_weight = temperature, alpha, cosine_weight
        self.teacher = teacher
        if teacher is not None:
            teacher.requires_grad_(False)
            self.teacher = teacher.to(self.args.device).eval()
        self.last_losses: dict[str, float] = {}

    def _teacher_outputs(self, inputs: dict, cached):
        """(teacher logits, last hidden state or None): cached logits when no hidden state is needed."""
        need_hidden = self.cosine_weight > 0
        if cached is not None and not need_hidden:
            return cached, None
        if self.teacher is None:
            raise ValueError(f"alpha={self.alpha} needs a teacher or a 'teacher_logits' column in "
                             "the training data (kdcourse.training.teacher_logits)")
        self.teacher.eval()  # Trainer.train() only switches the student to train mode
        with torch.no_grad():
            out = self.teacher(**inputs, output_hidden_states=need_hidden)
        return out.logits, (out.hidden_states[-1] if need_hidden else None)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        """Student forward, teacher forward (no grad), then the triple loss."""
        inputs = dict(inputs)
        labels = inputs.pop("labels", None)
        cached = inputs.pop("teacher_logits", None)
        need_hidden = self.cosine_weight > 0
        outputs = model(**inputs, output_hidden_states=need_hidden)
        teacher_logits = teacher_hidden = None
        if self.alpha > 0 or need_hidden:
            teacher_logits, teacher_hidden = self._teacher_outputs(inputs, cached)
        parts = triple_loss(outputs.logits, labels, teacher_logits,
                            outputs.hidden_states[-1] if need_hidden else None, teacher_hidden,
                            inputs.get("attention_mask"), self.temperature, self.alpha,
                            self.cosine_weight)
        self.last_losses = {k: float(v.detach()) for k, v in parts.items()}
        return (parts["loss"], outputs) if return_outputs else parts["loss"]


def model_columns(dataset):
    """Only the columns a student needs (token ids, mask, labels, cached teacher logits)."""
    keep = [c for c in dataset.column_names if c in MODEL_COLUMNS]
    if "input_ids" not in keep:
        raise ValueError(f"dataset has no 'input_ids' column (columns: {dataset.column_names}); "
                         "tokenize it first (kdcourse.training.tokenize_splits)")
    return dataset.select_columns(keep)


def training_arguments(output_dir: str, profile, epochs: float, seed: int = 0,
                       learning_rate: float | None = None, progress: bool = False) -> TrainingArguments:
    """Quiet TrainingArguments from the profile: no logging, saving, evaluation or reporting.

    Same recipe as `training.distill`: AdamW (weight decay 0.01), linear decay after 10% warm-up,
    batches of similar lengths.
    """
    return TrainingArguments(
        output_dir=output_dir, per_device_train_batch_size=profile.batch_size,
        num_train_epochs=epochs, learning_rate=learning_rate or profile.learning_rate,
        warmup_steps=0.1, weight_decay=0.01,
        train_sampling_strategy="group_by_length", seed=seed, data_seed=seed,
        report_to="none", disable_tqdm=not progress, logging_strategy="no", save_strategy="no",
        eval_strategy="no", use_cpu=profile.device == "cpu", dataloader_num_workers=0,
        remove_unused_columns=False)


def train_student(student, train_dataset, tokenizer, profile, teacher=None, temperature: float = 2.0,
                  alpha: float = 0.5, cosine_weight: float = 0.0, epochs: float | None = None,
                  seed: int = 0, learning_rate: float | None = None, progress: bool = False):
    """Train `student` in place with DistillationTrainer (alpha=0, cosine_weight=0: plain fine-tuning)."""
    epochs = profile.student_epochs if epochs is None else epochs
    with tempfile.TemporaryDirectory(prefix="kdcourse-trainer-") as tmp:
        trainer = DistillationTrainer(
            model=student, args=training_arguments(tmp, profile, epochs, seed, learning_rate, progress),
            train_dataset=model_columns(train_dataset),
            data_collator=DataCollatorWithPadding(tokenizer), teacher=teacher,
            temperature=temperature, alpha=alpha, cosine_weight=cosine_weight)
        result = trainer.train()
    student.eval()
    return {"train_loss": result.training_loss, "steps": result.global_step}
