"""Lesson 05 (quantization): lesson 04's distilled student, cached, and the lesson's auto-checked exercises."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn

from .. import cache, quantize, training
from ..benchmark import size_on_disk_mb
from . import l04
from .exercises import is_number, report, unanswered

# --- The distilled student of lesson 04, cached -----------------------------------------------


def student_dir(setup: l04.Setup, seed: int = 0) -> Path:
    """Cache folder of lesson 04's distilled student (recipe, layers [0, 2, 4]) for these settings."""
    p = setup.profile
    settings = {
        "teacher": training.teacher_dir(p).name,
        "recipe": l04.RECIPE,
        "seed": seed,
        "train": len(setup.train),
        "epochs": p.student_epochs,
        "lr": p.learning_rate,
        "batch": p.batch_size,
        "max_length": p.max_length,
    }
    return cache.cache_path("students", f"{p.name}-{seed}-{cache.key(settings)}")


def distilled_student(setup: l04.Setup, seed: int = 0, progress: bool = False) -> nn.Module:
    """Lesson 04's recipe student (l04.run), trained once, then loaded from the cache."""
    from transformers import AutoModelForSequenceClassification

    folder = student_dir(setup, seed)

    def save(student):
        with cache.atomic_folder(folder) as tmp:
            student.save_pretrained(tmp)

    # absent, or damaged (then removed, with a notice): train it once
    cache.once(
        folder,
        lambda: folder if cache.folder_ready(folder) else None,
        lambda: l04.run(setup, seed=seed, progress=progress)["student"],
        save,
    )
    return AutoModelForSequenceClassification.from_pretrained(folder).to(setup.profile.device).eval()


# --- Exercises ---------------------------------------------------------------------------------


def check_scale_zero_point(answer, x) -> bool:
    """Exercise 05.1: (scale, zero_point) of asymmetric uint8 quantization of tensor x (per tensor)."""
    if unanswered(answer):
        return False
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        return report(False, "", f"give a pair (scale, zero_point), got {answer!r}")
    scale, zero_point = answer
    want_scale, want_zp = (t.item() for t in quantize.affine_qparams(x, bits=8, symmetric=False))
    if not is_number(scale):
        return report(False, "", f"scale must be a number, got {type(scale).__name__}")
    if math.isclose(scale, (x.max() - x.min()).item() / 256, rel_tol=1e-4):
        return report(False, "", "256 values make 255 steps: divide the range by 255, not 256")
    if not math.isclose(scale, want_scale, rel_tol=1e-4):
        return report(
            False,
            "",
            f"scale {scale:.6g} is off; it is (max - min) / (qmax - qmin), with the range stretched to include 0",
        )
    if zero_point != want_zp:
        return report(
            False,
            "",
            f"zero_point {zero_point!r} is off; it is the integer that 0.0 maps to: qmin - round(min / scale)",
        )
    q = quantize.quantize_affine(x, want_scale, want_zp)
    err = (quantize.dequantize_affine(q, want_scale, want_zp) - x).abs().max().item()
    return report(
        True,
        f"scale {want_scale:.6g}, zero-point {want_zp}; the round trip is off by at "
        f"most {err:.2e} ≤ scale/2 = {want_scale / 2:.2e}.",
        "",
    )


def check_int8_linear_bytes(answer, layer) -> bool:
    """Exercise 05.2: bytes of an int8 nn.Linear's weights (1 byte each) plus its float32 bias."""
    if unanswered(answer):
        return False
    if not isinstance(layer, torch.nn.Linear):
        raise TypeError(f"layer must be a float nn.Linear, got {type(layer).__name__}")
    if not is_number(answer):
        return report(False, "", f"give a number of bytes, got {type(answer).__name__}")
    weights = layer.in_features * layer.out_features
    bias = layer.out_features * 4 if layer.bias is not None else 0
    truth = weights + bias
    if answer == 4 * weights + bias:
        return report(False, "", "that is the float32 size: int8 stores one byte per weight")
    if answer == weights:
        return report(False, "", "add the bias: it stays float32 (4 bytes per output)")
    if math.isclose(answer, truth / 1e6, rel_tol=1e-3):
        return report(False, "", "give bytes, not megabytes")
    int8 = quantize.quantize_dynamic_int8(torch.nn.Sequential(layer))
    saved = size_on_disk_mb(int8) * 1e6
    return report(
        answer == truth,
        f"{truth:,} bytes vs {4 * weights + bias:,} in float32 ({(4 * weights + bias) / truth:.2f}x "
        f"smaller); saved with its scales and pickle overhead it takes {saved:,.0f} bytes.",
        f"{answer} is not in_features x out_features x 1 byte + out_features x 4 bytes",
    )


def most_sensitive(sensitivity: dict) -> str:
    """Name of the layer group whose int8 version flips the most predictions (ties: larger accuracy drop)."""
    if not sensitivity:
        raise ValueError("sensitivity is empty; pass {group: {'flips': int, 'delta': points}}")
    return max(sensitivity, key=lambda name: (sensitivity[name]["flips"], -sensitivity[name]["delta"]))


def check_keep_fp32(answer, sensitivity: dict) -> bool:
    """Exercise 05.3: which one layer group to keep in fp32 (the most sensitive one, measured)."""
    if unanswered(answer):
        return False
    if answer not in sensitivity:
        return report(False, "", f"{answer!r} is not one of the measured groups: {', '.join(sensitivity)}")
    truth = most_sensitive(sensitivity)
    row = sensitivity[truth]
    return report(
        answer == truth,
        f"quantizing {truth!r} alone flipped {row['flips']} predictions "
        f"({row['delta']:+.2f} points): keeping it in fp32 buys back the most for the least size.",
        f"{answer!r} flipped {sensitivity[answer]['flips']} predictions; another group flipped more",
    )
