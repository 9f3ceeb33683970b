"""Distillation losses: soft targets, the KD loss with T², alpha mixing, hidden-state and token-level losses.

Conventions (the whole course): `kd_loss` is T² · KL(teacher_T ‖ student_T) with reduction
"batchmean"; `alpha` weighs the soft (teacher) term and `1 - alpha` the hard-label cross-entropy.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from . import checks

IGNORE_INDEX = -100  # label value of positions that no loss should see (padding, prompt tokens)
DIVERGENCES = ("forward", "reverse", "jsd")
# Temperatures outside this range make logits / T or the T² factor over- or underflow in float32.
TEMPERATURE = 2.0  # the course's default distillation temperature, for every function that takes one


# --- Input checks ------------------------------------------------------------------------------


def _check_logits(name: str, logits, min_dim: int = 1) -> torch.Tensor:
    if not isinstance(logits, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(logits).__name__}; wrap it with torch.tensor(...)")
    if not logits.is_floating_point():
        raise TypeError(f"{name} must be a float tensor, got dtype {logits.dtype}; use .float()")
    if logits.dim() < min_dim:
        raise ValueError(f"{name} must have at least {min_dim} dims, got shape {tuple(logits.shape)}")
    if logits.shape[-1] == 0:
        raise ValueError(
            f"{name} has shape {tuple(logits.shape)}: its last dimension (classes, "
            "vocabulary or hidden size) is empty; give at least one class"
        )
    bad = ~torch.isfinite(logits)
    if bad.any():
        raise ValueError(
            f"{name} contains {int(bad.sum())} NaN or inf values; check the model's "
            "outputs (a too-high learning rate or fp16 overflow are common causes)"
        )
    return logits


def _check_pair(student_logits, teacher_logits, min_dim: int = 1) -> None:
    _check_logits("student_logits", student_logits, min_dim)
    _check_logits("teacher_logits", teacher_logits, min_dim)
    s, t = tuple(student_logits.shape), tuple(teacher_logits.shape)
    if s[-1] != t[-1]:
        raise ValueError(
            f"class count differs: student_logits has {s[-1]} classes {s}, "
            f"teacher_logits has {t[-1]} {t}; both must score the same classes/vocabulary"
        )
    if s != t:
        raise ValueError(
            f"shape mismatch: student_logits {s} vs teacher_logits {t}; "
            "they must score the same examples (same batch, same positions)"
        )


# --- Soft targets and the classic KD loss -------------------------------------------------------


def soft_targets(logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Softmax of logits / T over the last dim: T>1 flattens the distribution, T<1 sharpens it."""
    T = checks.temperature(temperature)
    return F.softmax(_check_logits("logits", logits) / T, dim=-1)


def kd_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = TEMPERATURE
) -> torch.Tensor:
    """T² · KL(teacher_T ‖ student_T) for (batch, classes) logits, averaged over the batch."""
    T = checks.temperature(temperature)
    _check_pair(student_logits, teacher_logits)
    if student_logits.dim() != 2:
        raise ValueError(
            f"kd_loss expects (batch, classes) logits, got shape "
            f"{tuple(student_logits.shape)}; for sequences use token_kd_loss"
        )
    if student_logits.shape[0] == 0:
        raise ValueError(
            f"kd_loss got an empty batch, shape {tuple(student_logits.shape)}: a mean over "
            "0 examples is undefined; give at least one example (check the dataset or "
            "the mask that selected these rows)"
        )
    log_student = F.log_softmax(student_logits / T, dim=-1)
    log_teacher = F.log_softmax(teacher_logits.detach() / T, dim=-1)
    kl = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
    return kl * T * T


def _check_labels(labels, logits: torch.Tensor) -> torch.Tensor:
    if not isinstance(labels, torch.Tensor) or labels.dtype not in (torch.int64, torch.int32):
        raise TypeError(
            "labels must be an integer torch.Tensor of class indices, got "
            f"{getattr(labels, 'dtype', type(labels).__name__)}"
        )
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"labels have shape {tuple(labels.shape)} but the logits score "
            f"{tuple(logits.shape[:-1])} examples; give one label per example"
        )
    n = logits.shape[-1]
    if labels.numel() and (labels.min() < 0 or labels.max() >= n):
        raise ValueError(
            f"labels must be class indices in [0, {n}), got values from {int(labels.min())} to {int(labels.max())}"
        )
    return labels.long()


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor,
    temperature: float = TEMPERATURE,
    alpha: float = 0.5,
) -> torch.Tensor:
    """alpha · kd_loss + (1 - alpha) · cross-entropy on hard labels (alpha=0 plain fine-tuning)."""
    alpha = checks.unit("alpha", alpha)
    soft = kd_loss(student_logits, teacher_logits, temperature)
    hard = F.cross_entropy(student_logits, _check_labels(labels, student_logits))
    return alpha * soft + (1 - alpha) * hard


def transfer_set_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    labels: torch.Tensor,
    temperature: float = TEMPERATURE,
    alpha: float = 0.5,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(soft, hard), weighted batch means: labelled rows alpha·kd + (1-alpha)·CE, unlabelled (-100) kd alone.

    Their sum is `distillation_loss` when every row is labelled; an unlabelled row (a transfer-set
    snippet) has no hard label, so its soft term keeps full weight. `training.distill` (lesson 03) and
    `kd_trainer.triple_loss` (lesson 04) both call this one function.
    """
    alpha = checks.unit("alpha", alpha)
    if alpha > 0 and teacher_logits is None:
        raise ValueError(f"alpha={alpha} needs teacher_logits; pass them, or use alpha=0 (plain fine-tuning)")
    student_logits = _check_logits("student_logits", student_logits, min_dim=2)
    n = student_logits.shape[0]
    if n == 0:
        raise ValueError("the batch is empty (0 rows of student_logits): a mean over no examples is undefined")
    if not isinstance(labels, torch.Tensor) or labels.dtype not in (torch.int64, torch.int32):
        raise TypeError(
            "labels must be an integer torch.Tensor (class indices, -100 for unlabelled), got "
            f"{getattr(labels, 'dtype', type(labels).__name__)}; wrap a list with torch.tensor(labels)"
        )
    if tuple(labels.shape) != (n,):
        raise ValueError(f"labels have shape {tuple(labels.shape)} but the batch has {n} rows: give one label per row")
    known = labels != IGNORE_INDEX
    if alpha == 0 and not known.all():
        raise ValueError(
            "alpha=0 (hard labels only) cannot use unlabelled examples (label -100); "
            "drop them, or use alpha > 0 so they get the teacher's soft targets"
        )
    soft = hard = student_logits.new_zeros(())
    if alpha > 0:
        assert teacher_logits is not None  # refused above; tells the type checker
        for group, weight in ((known, alpha), (~known, 1.0)):
            if group.any():
                soft = (
                    soft + weight * kd_loss(student_logits[group], teacher_logits[group], temperature) * group.sum() / n
                )
    if alpha < 1 and known.any():
        ce = F.cross_entropy(student_logits[known], _check_labels(labels[known], student_logits[known]))
        hard = (1 - alpha) * ce * known.sum() / n
    return soft, hard


# --- Hidden states ---------------------------------------------------------------------------


def _token_mask(shape, attention_mask=None, labels=None) -> torch.Tensor:
    mask = torch.ones(shape, dtype=torch.bool)
    for name, value in (("attention_mask", attention_mask), ("labels", labels)):
        if value is None:
            continue
        if tuple(value.shape) != tuple(shape):
            raise ValueError(f"{name} has shape {tuple(value.shape)}, expected {tuple(shape)} (one entry per position)")
        mask = mask.to(value.device) & (value.bool() if name == "attention_mask" else value != IGNORE_INDEX)
    if not mask.any():
        raise ValueError(
            "no position left to average over: every token is padding "
            f"(attention_mask == 0) or ignored (label {IGNORE_INDEX})"
        )
    return mask


def hidden_cosine_loss(
    student_hidden: torch.Tensor, teacher_hidden: torch.Tensor, attention_mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean of 1 - cos(student, teacher) over real (unpadded) tokens of (batch, seq, hidden) states."""
    _check_logits("student_hidden", student_hidden, 2)
    _check_logits("teacher_hidden", teacher_hidden, 2)
    if student_hidden.shape != teacher_hidden.shape:
        raise ValueError(
            f"shape mismatch: student_hidden {tuple(student_hidden.shape)} vs "
            f"teacher_hidden {tuple(teacher_hidden.shape)}; with different hidden sizes "
            "add a learned nn.Linear projection on the student side first"
        )
    cos = F.cosine_similarity(student_hidden, teacher_hidden.detach(), dim=-1)
    mask = _token_mask(cos.shape, attention_mask)
    return (1 - cos)[mask].mean()


# --- Token-level divergences (causal LMs) -----------------------------------------------------


def _log_probs(student_logits, teacher_logits, temperature):
    """Checked inputs -> (student, teacher) log-probabilities at temperature T over the last dim."""
    T = checks.temperature(temperature)
    _check_pair(student_logits, teacher_logits)
    # The teacher is a fixed target: no gradient reaches it (as in kd_loss and token_kd_loss).
    return F.log_softmax(student_logits / T, -1), F.log_softmax(teacher_logits.detach() / T, -1)


def forward_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Per-position KL(teacher_T ‖ student_T) (mean-seeking); shape = logits.shape[:-1]."""
    log_s, log_t = _log_probs(student_logits, teacher_logits, temperature)
    return F.kl_div(log_s, log_t, reduction="none", log_target=True).sum(-1)


def reverse_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Per-position KL(student_T ‖ teacher_T) (mode-seeking); shape = logits.shape[:-1]."""
    log_s, log_t = _log_probs(student_logits, teacher_logits, temperature)
    return F.kl_div(log_t, log_s, reduction="none", log_target=True).sum(-1)


def generalized_jsd(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, beta: float = 0.5, temperature: float = 1.0
) -> torch.Tensor:
    """Per-position β·KL(t ‖ m) + (1-β)·KL(s ‖ m), m = β·t + (1-β)·s (GKD, Agarwal et al. 2024)."""
    if checks.real("beta", beta) in (0.0, 1.0):
        raise ValueError(
            f"beta must be in (0, 1) (open), got {beta}: at beta=0 or 1 the mixture "
            "equals one side and the JSD is 0; use forward_kl / reverse_kl instead"
        )
    beta = checks.unit("beta", beta, closed=False)
    log_s, log_t = _log_probs(student_logits, teacher_logits, temperature)
    log_m = torch.logsumexp(torch.stack([log_t + math.log(beta), log_s + math.log(1 - beta)]), 0)
    kl_t = F.kl_div(log_m, log_t, reduction="none", log_target=True).sum(-1)
    kl_s = F.kl_div(log_m, log_s, reduction="none", log_target=True).sum(-1)
    return beta * kl_t + (1 - beta) * kl_s


def token_kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor | None = None,
    attention_mask: torch.Tensor | None = None,
    temperature: float = 1.0,
    divergence: str = "forward",
    beta: float = 0.5,
) -> torch.Tensor:
    """T² · mean divergence over valid positions (labels -100 and attention_mask 0 are skipped; no shift)."""
    if divergence not in DIVERGENCES:
        raise ValueError(f"divergence must be one of {', '.join(DIVERGENCES)}, got {divergence!r}")
    T = checks.temperature(temperature)
    teacher_logits = _check_logits("teacher_logits", teacher_logits).detach()
    if divergence == "forward":
        per_token = forward_kl(student_logits, teacher_logits, T)
    elif divergence == "reverse":
        per_token = reverse_kl(student_logits, teacher_logits, T)
    else:
        per_token = generalized_jsd(student_logits, teacher_logits, beta, T)
    mask = _token_mask(per_token.shape, attention_mask, labels)
    return per_token[mask].mean() * T * T
