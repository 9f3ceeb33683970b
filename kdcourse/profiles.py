"""Profiles: every size, step count and asset choice a lesson uses, in one object.

Lessons never branch on the profile's name; they read sizes from the `Profile` they get
from `kdcourse.setup()` (or `get_profile()`).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

ENV_VAR = "KDCOURSE_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Sizes and choices for one way of running the course (smoke / cpu / gpu)."""

    name: str
    summary: str
    device: str = "cpu"
    # Assets: a key of kdcourse.assets.ASSETS, a local folder, or a Hugging Face hub id.
    teacher: str = "minilm"
    dataset: str = "rotten_tomatoes"
    causal_lm: str = "smollm2"
    # Data: examples taken from each split (None = the whole split).
    train_size: int | None = None
    eval_size: int | None = None
    test_size: int | None = None
    label_fraction: float = 0.2  # labelled share in the "transfer set" regime (lesson 04)
    distil_train_size: int | None = None  # training snippets per lesson-04 student run (None: all)
    reference_student: str | None = None  # a published small model fine-tuned for comparison (lesson 04)
    max_length: int = 64
    batch_size: int = 32
    eval_batch_size: int = 128
    # Training.
    teacher_epochs: float = 1.0
    student_epochs: float = 1.0
    learning_rate: float = 1e-4
    seeds: tuple[int, ...] = (0, 1, 2)
    playground_steps: int = 60  # one run of the lesson-03 playground widget
    # Quick frozen-encoder probe used in lesson 01 for the teacher's soft outputs.
    probe_size: int = 2000
    # Benchmarks: batch x max_length inputs, warm-up then the median of `bench_repeats`.
    bench_batch: int = 32
    bench_repeats: int = 10
    bench_threads: int = 2
    # Causal LM lesson.
    llm_keep_layers: int = 10
    llm_prompts: int = 64
    llm_new_tokens: int = 32
    llm_train_steps: int = 60
    llm_eval_texts: int = 200

    def replace(self, **changes) -> "Profile":
        """A copy with some fields changed (sizes checked again)."""
        return dataclasses.replace(self, **changes)

    def __post_init__(self):
        for field in ("train_size", "eval_size", "test_size", "distil_train_size"):
            value = getattr(self, field)
            if value is not None and value <= 0:
                raise ValueError(f"{field} must be a positive int or None (whole split), got {value}")
        for field in ("max_length", "batch_size", "eval_batch_size", "bench_batch", "bench_repeats",
                      "bench_threads", "playground_steps", "probe_size", "llm_keep_layers",
                      "llm_prompts", "llm_new_tokens", "llm_train_steps", "llm_eval_texts"):
            value = getattr(self, field)
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"{field} must be a positive int, got {value!r}")
        if not 0 < self.label_fraction <= 1:
            raise ValueError(f"label_fraction must be in (0, 1], got {self.label_fraction}")
        if self.device not in ("cpu", "cuda"):
            raise ValueError(f"device must be 'cpu' or 'cuda', got {self.device!r}")


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        summary="CI: every lesson end to end in seconds, tiny subsets (numbers are not meaningful)",
        train_size=512, eval_size=128, test_size=256, max_length=48, batch_size=32,
        teacher_epochs=1.0, student_epochs=1.0, learning_rate=2e-4, seeds=(0,),
        playground_steps=8, probe_size=256, bench_batch=8, bench_repeats=3, distil_train_size=192,
        llm_keep_layers=6, llm_prompts=4, llm_new_tokens=8, llm_train_steps=3, llm_eval_texts=8,
    ),
    "cpu": Profile(
        name="cpu",
        summary="laptop CPU: real results on real data, each lesson in at most ~15 minutes",
        train_size=None, eval_size=None, test_size=None, max_length=64, batch_size=32,
        teacher_epochs=1.0, student_epochs=2.0, learning_rate=1e-4, seeds=(0, 1, 2),
        playground_steps=50, probe_size=2000, bench_batch=32, bench_repeats=10,
        distil_train_size=2000,
    ),
    "gpu": Profile(
        name="gpu",
        summary="CUDA GPU (e.g. Colab): full data; hub models (BERT-base, SST-2) when the hub is reachable",
        device="cuda", teacher="bert-base-uncased", dataset="glue/sst2",
        reference_student="distilbert-base-uncased",
        train_size=None, eval_size=None, test_size=None, max_length=128, batch_size=64,
        eval_batch_size=256, teacher_epochs=3.0, student_epochs=3.0, learning_rate=5e-5,
        seeds=(0, 1, 2), playground_steps=200, probe_size=8000, bench_batch=32, bench_repeats=50,
        llm_keep_layers=15, llm_prompts=512, llm_new_tokens=64, llm_train_steps=600,
        llm_eval_texts=1000,
    ),
}


def detect_profile_name() -> str:
    """The profile to use when none is named: $KDCOURSE_PROFILE, else gpu with CUDA, else cpu."""
    name = os.environ.get(ENV_VAR, "").strip()
    if name:
        return name
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def get_profile(name: str | None = None) -> Profile:
    """Return the named profile (default: `detect_profile_name()`); unknown names are refused."""
    if isinstance(name, Profile):
        return name
    name = name or detect_profile_name()
    key = name.strip().lower()
    if key not in PROFILES:
        valid = ", ".join(PROFILES)
        raise ValueError(f"unknown profile {name!r}; choose one of: {valid} "
                         f"(set {ENV_VAR} or pass profile=...)")
    profile = PROFILES[key]
    if profile.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ValueError("profile 'gpu' needs a CUDA device, but torch.cuda.is_available() is "
                             f"False; use {ENV_VAR}=cpu (or smoke) on this machine")
    return profile
