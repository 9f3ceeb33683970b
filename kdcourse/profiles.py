"""Profiles: every size, step count and asset choice a lesson uses, in one object.

Lessons never branch on the profile's name; they read sizes from the `Profile` they get
from `kdcourse.setup()` (or `get_profile()`).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
import re
from dataclasses import dataclass

ENV_VAR = "KDCOURSE_PROFILE"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # a profile name becomes part of cache folder names


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
    # A student trained from random weights (lesson 04's baseline) needs a from-scratch rate and more steps.
    scratch_learning_rate: float = 1e-3
    scratch_epochs: float = 4.0
    seeds: tuple[int, ...] = (0, 1, 2)
    cnn_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # lesson 07's CNN trains in a minute or two: more paired seeds
    route_seeds: tuple[int, ...] = (0, 1, 2)  # lesson 07's routes past the frontier: slower runs, three seeds
    playground_steps: int = 60  # one run of the lesson-03 playground widget
    search_trials: int = 20  # lesson 03's Optuna search of T and alpha: trials, each one playground run
    search_seeds: tuple[int, ...] = (0, 1, 2, 3, 4)  # paired seeds confirming the search's best on the test split
    # Quick frozen-encoder probe used in lesson 01 for the teacher's soft outputs.
    probe_size: int = 2000
    # Benchmarks: batch x max_length inputs, warm-up then the median of `bench_repeats`.
    bench_batch: int = 32
    bench_repeats: int = 10
    bench_threads: int = 2
    deploy_requests: int = 200  # single real snippets timed one at a time (batch-1 latency, lesson 07)
    # Causal LM lesson.
    llm_drop_layers: int = 6  # decoder blocks the healed student drops (of the teacher's 30)
    llm_curve: tuple[int, ...] = (3, 6, 9, 12)  # blocks dropped at each point of the trade-off curve
    llm_curve_steps: int = 20  # healing steps at each point of the curve
    llm_train_texts: int | None = 2200  # review snippets packed into healing text (None: all)
    llm_batch_size: int = 8  # rows of llm_seq_len tokens per step
    llm_seq_len: int = 64
    llm_train_steps: int = 50  # healing steps of the lesson's student (more lowered perplexity, but looped more)
    llm_lr: float = 2e-4
    llm_prompts: int = 384  # teacher continuations: healing text and sequence-level KD
    llm_new_tokens: int = 48
    llm_compare_steps: int = 25  # steps per loss when comparing losses on teacher samples
    llm_onpolicy_steps: int = 30
    llm_eval_texts: int = 200
    llm_shortlist: int = 3  # spans closest in angle whose greedy text is checked before one is cut
    llm_tail_steps: int = 50  # healing steps of each student comparing two readings of the top-k cache
    llm_text_openings: int = 256  # held-out openings whose greedy text is judged, in sets of 32 (llm.TEXT_SET)

    def replace(self, **changes) -> Profile:
        """A copy with some fields changed (sizes checked again)."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"Profile has no field {unknown[0]!r}; its fields are: {', '.join(sorted(known))}")
        return dataclasses.replace(self, **changes)

    def __post_init__(self):
        _check_fields(self)


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_COUNTS = (  # fields that must be positive ints
    "max_length",
    "batch_size",
    "eval_batch_size",
    "bench_batch",
    "bench_repeats",
    "bench_threads",
    "playground_steps",
    "search_trials",
    "probe_size",
    "deploy_requests",
    "llm_drop_layers",
    "llm_curve_steps",
    "llm_batch_size",
    "llm_seq_len",
    "llm_train_steps",
    "llm_prompts",
    "llm_new_tokens",
    "llm_compare_steps",
    "llm_onpolicy_steps",
    "llm_eval_texts",
    "llm_shortlist",
    "llm_tail_steps",
    "llm_text_openings",
)
_RATES = (  # fields that must be finite numbers > 0
    "teacher_epochs",
    "student_epochs",
    "learning_rate",
    "scratch_learning_rate",
    "scratch_epochs",
    "label_fraction",
)


def _check_fields(p: Profile) -> None:
    """Types and ranges of every field, checked once when a Profile is made (and by `replace`)."""
    if not isinstance(p.name, str) or not _NAME.fullmatch(p.name):
        raise ValueError(
            f"profile name must be letters, digits, '-', '_' or '.' (it names cache "
            f"folders), got {p.name!r}; e.g. name='my-cpu'"
        )
    for field in ("summary", "device", "teacher", "dataset", "causal_lm"):
        if not isinstance(getattr(p, field), str) or not getattr(p, field):
            raise TypeError(f"{field} must be a non-empty str, got {getattr(p, field)!r}")
    if p.reference_student is not None and not isinstance(p.reference_student, str):
        raise TypeError(
            f"reference_student must be a str (asset, folder or hub id) or None, got {p.reference_student!r}"
        )
    for field in ("train_size", "eval_size", "test_size", "distil_train_size"):
        value = getattr(p, field)
        if value is not None and (not _is_int(value) or value <= 0):
            raise ValueError(f"{field} must be a positive int or None (whole split), got {value!r}")
    for field in _COUNTS:
        value = getattr(p, field)
        if not _is_int(value) or value <= 0:
            raise ValueError(f"{field} must be a positive int, got {value!r}")
    for field in _RATES:
        value = getattr(p, field)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
            raise ValueError(f"{field} must be a number > 0, got {value!r}")
    for field in ("seeds", "cnn_seeds", "search_seeds", "route_seeds"):
        seeds = getattr(p, field)
        if not isinstance(seeds, tuple) or not seeds or not all(_is_int(s) and s >= 0 for s in seeds):
            raise ValueError(f"{field} must be a non-empty tuple of ints >= 0, got {seeds!r}; e.g. {field}=(0, 1, 2)")
    _check_llm_and_rest(p)


def _check_llm_and_rest(p: Profile) -> None:
    """The fields with rules of their own: lesson 06's LM settings, the label fraction, the device."""
    if p.llm_seq_len < 2:  # a next-token loss needs a token and the one after it
        raise ValueError(f"llm_seq_len must be at least 2, got {p.llm_seq_len!r}")
    if p.llm_train_texts is not None and (not _is_int(p.llm_train_texts) or p.llm_train_texts <= 0):
        raise ValueError(f"llm_train_texts must be a positive int or None (all), got {p.llm_train_texts!r}")
    if not isinstance(p.llm_curve, tuple) or not p.llm_curve or any(not _is_int(d) or d < 0 for d in p.llm_curve):
        raise ValueError(f"llm_curve must be a non-empty tuple of ints >= 0, got {p.llm_curve!r}")
    if p.llm_text_openings % 32 or p.llm_text_openings < 64:  # sets of llm.TEXT_SET; two for an interval
        raise ValueError(f"llm_text_openings must be a multiple of 32, at least 64, got {p.llm_text_openings!r}")
    if (
        isinstance(p.llm_lr, bool)
        or not isinstance(p.llm_lr, numbers.Real)
        or not math.isfinite(p.llm_lr)
        or not p.llm_lr > 0
    ):
        raise ValueError(f"llm_lr must be a finite number > 0, got {p.llm_lr!r}; e.g. llm_lr=2e-4")
    if not 0 < p.label_fraction <= 1:
        raise ValueError(f"label_fraction must be in (0, 1], got {p.label_fraction}")
    if p.device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {p.device!r}")


def check_device(device: str) -> str:
    """`device` if this machine can use it; a clear error when CUDA is asked for and not there."""
    if not isinstance(device, str) or device.split(":")[0] not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            why = "this torch build has no CUDA support" if torch.version.cuda is None else "no CUDA device is visible"
            raise ValueError(
                f"device {device!r} was asked for, but {why} (torch {torch.__version__}); "
                f"use the cpu profile ({ENV_VAR}=cpu, or profile.replace(device='cpu')), or "
                "run on a machine with a GPU and a CUDA build of torch"
            )
    return device


PROFILES: dict[str, Profile] = {
    "smoke": Profile(
        name="smoke",
        summary="CI: every lesson end to end in seconds, tiny subsets (numbers are not meaningful)",
        train_size=512,
        eval_size=128,
        test_size=256,
        max_length=48,
        batch_size=32,
        teacher_epochs=1.0,
        student_epochs=1.0,
        learning_rate=2e-4,
        scratch_epochs=1.0,
        seeds=(0,),
        cnn_seeds=(0, 1),
        route_seeds=(0, 1),
        playground_steps=8,
        search_trials=3,
        search_seeds=(0, 1),
        probe_size=256,
        bench_batch=8,
        bench_repeats=3,
        deploy_requests=10,
        distil_train_size=192,
        llm_drop_layers=6,
        llm_curve=(6,),
        llm_curve_steps=1,
        llm_train_texts=48,
        llm_batch_size=2,
        llm_train_steps=2,
        llm_prompts=16,
        llm_new_tokens=8,
        llm_compare_steps=1,
        llm_onpolicy_steps=1,
        llm_eval_texts=8,
        llm_shortlist=2,
        llm_tail_steps=1,
        llm_text_openings=64,
    ),
    "cpu": Profile(
        name="cpu",
        summary="laptop CPU: real results on real data; each lesson's header says how long it takes",
        train_size=None,
        eval_size=None,
        test_size=None,
        max_length=64,
        batch_size=32,
        teacher_epochs=2.0,  # at least the students' budget: a teacher trained less is no fair bar
        student_epochs=2.0,
        learning_rate=1e-4,
        seeds=(0, 1, 2),
        playground_steps=50,
        probe_size=2000,
        bench_batch=32,
        bench_repeats=10,
        distil_train_size=2000,
    ),
    "gpu": Profile(
        name="gpu",
        summary="CUDA GPU (e.g. Colab): full data; hub models (BERT-base, SST-2) when the hub is reachable",
        device="cuda",
        teacher="bert-base-uncased",
        dataset="glue/sst2",
        reference_student="distilbert-base-uncased",
        train_size=None,
        eval_size=None,
        test_size=None,
        max_length=128,
        batch_size=64,
        eval_batch_size=256,
        teacher_epochs=3.0,
        student_epochs=3.0,
        learning_rate=5e-5,
        scratch_learning_rate=5e-4,  # not measured at this scale: BERT-size models from scratch want less than 1e-3
        scratch_epochs=6.0,
        seeds=(0, 1, 2),
        playground_steps=200,
        probe_size=8000,
        bench_batch=32,
        bench_repeats=50,
        llm_drop_layers=12,
        llm_curve=(6, 9, 12, 15),
        llm_curve_steps=300,
        llm_train_texts=None,
        llm_batch_size=16,
        llm_train_steps=1500,
        llm_prompts=1024,
        llm_new_tokens=64,
        llm_compare_steps=400,
        llm_onpolicy_steps=100,
        llm_eval_texts=1000,
        llm_tail_steps=300,
        llm_text_openings=1024,
    ),
}


def detect_profile_name() -> str:
    """The profile to use when none is named: $KDCOURSE_PROFILE, else gpu with CUDA, else cpu."""
    name = os.environ.get(ENV_VAR, "").strip()
    if name:
        return name
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def get_profile(name: str | Profile | None = None) -> Profile:
    """Return the named profile (default: `detect_profile_name()`); unknown names are refused."""
    valid = ", ".join(PROFILES)
    if isinstance(name, Profile):
        profile = name
    else:
        if name is not None and not isinstance(name, str):
            raise TypeError(
                f"profile must be a name ({valid}) or a Profile, got "
                f"{type(name).__name__} {name!r}; e.g. get_profile('cpu')"
            )
        name = name or detect_profile_name()
        key = name.strip().lower()
        if key not in PROFILES:
            raise ValueError(f"unknown profile {name!r}; choose one of: {valid} (set {ENV_VAR} or pass profile=...)")
        profile = PROFILES[key]
    if profile.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ValueError(
                f"profile {profile.name!r} needs a CUDA device, but "
                "torch.cuda.is_available() is False; use "
                f"{ENV_VAR}=cpu (or smoke) on this machine"
            )
    return profile
