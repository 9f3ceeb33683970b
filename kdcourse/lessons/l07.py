"""Lesson 07 (another architecture, deployment, the frontier): its experiments as functions, then its
auto-checked exercises and their worked solutions.

Three students of lesson 03's teacher: lesson 04's layer-copy student, a narrower transformer (hidden-state
loss through a learned projection) and a convolutional network (`students.WordCNN`) taught on a transfer
set the teacher labels (Tang et al. 2019). Then every model is exported to ONNX, run by ONNX Runtime in
float32 and int8, timed at batch 1 and batch 32, and read off one accuracy-latency frontier.
"""

from __future__ import annotations

import copy
import random
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .. import benchmark, cache, corpus, deploy, kd_trainer, losses, quantize, students, training
from ..session import seed_everything
from . import l04, l05
from .exercises import SOLUTIONS, _report, _unanswered

# The convolutional student (Kim 2014) and how it trains: a from-scratch rate, like lesson 04's random init.
CNN = {"widths": (3, 4, 5), "filters": 100, "dropout": 0.5}
CNN_TRAINING = {"learning_rate": 1e-3, "temperature": 2.0, "alpha": 0.5}
# Tang et al.'s transfer set: copies of each training snippet with words masked or cut to an n-gram.
AUGMENT = {"copies": 3, "mask_p": 0.1, "ngram_p": 0.25, "max_n": 5}
# The narrow transformer: half the teacher's width, three blocks; its hidden-state loss weight.
NARROW = {"hidden_size": 192, "n_layers": 3, "hidden_weight": 1.0}


@dataclass
class Setup:
    """Lesson 04's setup (teacher, tokenizer, splits) plus the whole training split and its teacher logits."""

    base: l04.Setup
    train: object  # every training snippet (lesson 04 trains on a subset)
    train_logits: torch.Tensor
    _hidden: dict | None = None

    @property
    def profile(self):
        return self.base.profile

    @property
    def teacher(self):
        return self.base.teacher

    @property
    def tokenizer(self):
        return self.base.tokenizer

    @property
    def test(self):
        return self.base.data["test"]

    def hidden_cache(self) -> dict:
        """The teacher's logits and last hidden states on every training snippet (computed on first use)."""
        if self._hidden is None:
            self._hidden = kd_trainer.teacher_cache(
                self.teacher, self.train, self.tokenizer, self.profile.eval_batch_size
            )
        return self._hidden


def prepare(profile, seed: int = 0, progress: bool = True) -> Setup:
    """Lesson 04's setup, and the teacher's logits on every training snippet (lesson 03's cache file).

    Lesson 04's teacher pass over its training subset waits until lesson 04's student is trained here.
    """
    base = l04.prepare(profile, seed=seed, progress=progress, cache_teacher=False)
    train = base.data["train"]
    logits = training.teacher_logits(
        base.teacher, train, base.tokenizer, base.profile, cache_key=training.teacher_dir(base.profile, seed).name
    )
    return Setup(base, train, logits)


# --- The transfer set ---------------------------------------------------------------------------------


def augment(
    dataset, tokenizer, copies: int = 3, mask_p: float = 0.1, ngram_p: float = 0.25, max_n: int = 5, seed: int = 0
):
    """`copies` new snippets per snippet, unlabelled (-100): words masked with mask_p, or cut to an n-gram.

    Tang et al. 2019's recipe without the part-of-speech swaps: the teacher labels these snippets
    (soft targets), which is what lets a small student learn more than the labelled data says.
    """
    from datasets import Dataset

    if not isinstance(copies, int) or copies < 1:
        raise ValueError(f"copies must be a positive int, got {copies!r}")
    for name, value in (("mask_p", mask_p), ("ngram_p", ngram_p)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    if tokenizer.mask_token_id is None:
        raise ValueError(f"{type(tokenizer).__name__} has no [MASK] token; augment needs one to mask words")
    rng, special = random.Random(seed), set(tokenizer.all_special_ids)
    rows = {"input_ids": [], "label": []}
    for _ in range(copies):
        for ids in dataset["input_ids"]:
            body = [tokenizer.mask_token_id if t not in special and rng.random() < mask_p else t for t in ids[1:-1]]
            if len(body) > 1 and rng.random() < ngram_p:
                n = rng.randint(1, min(max_n, len(body)))
                start = rng.randint(0, len(body) - n)
                body = body[start : start + n]
            rows["input_ids"].append([ids[0], *body, ids[-1]])
            rows["label"].append(losses.IGNORE_INDEX)
    rows["attention_mask"] = [[1] * len(ids) for ids in rows["input_ids"]]
    if "token_type_ids" in dataset.column_names:
        rows["token_type_ids"] = [[0] * len(ids) for ids in rows["input_ids"]]
    return Dataset.from_dict(rows)


def transfer_set(setup: Setup, seed: int = 0):
    """(dataset, teacher logits): the labelled training split + its augmented copies, teacher-labelled, cached."""
    from datasets import concatenate_datasets

    extra = augment(setup.train, setup.tokenizer, seed=seed, **AUGMENT)
    extra = extra.cast(setup.train.select_columns(extra.column_names).features)
    both = concatenate_datasets([setup.train.select_columns(extra.column_names), extra])
    key = f"{training.teacher_dir(setup.profile).name}-transfer-{cache.key(AUGMENT)}-{seed}"
    logits = training.teacher_logits(setup.teacher, both, setup.tokenizer, setup.profile, cache_key=key)
    return both, logits


def _cached(student, path, train) -> dict:
    """Load `student`'s weights and training record from `path`; or run `train()` (it returns the record)
    and save both, atomically, for the next run."""
    saved = cache.load_cached(path) if path.is_file() else None
    if isinstance(saved, dict) and "state" in saved:
        student.load_state_dict(saved["state"])
        return saved["record"]
    cache.check_writable(path.parent)  # before minutes of training, not after
    record = train()
    cache.atomic_save({"state": student.state_dict(), "record": record}, path)
    return record


# --- The convolutional student ------------------------------------------------------------------------


def _cnn_dir(setup: Setup, seed: int, taught: bool, embeddings: str):
    settings = {
        "teacher": training.teacher_dir(setup.profile).name,
        "cnn": CNN,
        "training": CNN_TRAINING,
        "augment": AUGMENT if taught else None,
        "embeddings": embeddings,
        "seed": seed,
        "epochs": setup.profile.student_epochs,
        "train": len(setup.train),
    }
    return cache.cache_path("students", f"{setup.profile.name}-cnn-{cache.key(settings)}.pt")


def train_cnn(
    setup: Setup, seed: int = 0, taught: bool = True, embeddings: str = "teacher", progress: bool = False
) -> dict:
    """A WordCNN trained on hard labels alone (taught=False) or on the teacher-labelled transfer set; cached.

    embeddings='teacher' starts from the teacher's word-piece table, 'random' from scratch. Returns
    dict(student, accuracy, seconds (of training, when it ran), steps).
    """
    if embeddings not in ("teacher", "random"):
        raise ValueError(f"embeddings must be 'teacher' or 'random', got {embeddings!r}")
    profile, tokenizer = setup.profile, setup.tokenizer
    seed_everything(seed)
    if embeddings == "teacher":
        student = students.WordCNN.from_teacher(setup.teacher, tokenizer, **CNN)
    else:
        student = students.WordCNN(
            len(tokenizer), setup.teacher.config.hidden_size, pad_id=tokenizer.pad_token_id, **CNN
        )

    def train() -> dict:
        data, logits = transfer_set(setup, seed=seed) if taught else (setup.train, None)
        history = training.distill(
            student,
            data,
            tokenizer,
            profile.replace(learning_rate=CNN_TRAINING["learning_rate"]),
            teacher_logits=logits,
            temperature=CNN_TRAINING["temperature"],
            alpha=CNN_TRAINING["alpha"] if taught else 0.0,
            seed=seed,
            progress=progress,
        )
        return {"seconds": round(history["train_seconds"], 1), "steps": history["steps"]}

    record = _cached(student, _cnn_dir(setup, seed, taught, embeddings), train)
    student.to(profile.device).eval()
    accuracy = training.evaluate(student, setup.test, tokenizer, profile)["accuracy"]
    return {"student": student, "accuracy": accuracy, **record}


# --- The narrow transformer -----------------------------------------------------------------------------


def hidden_mse(student_hidden, teacher_hidden, projection, attention_mask) -> torch.Tensor:
    """Mean squared error between projection(student hidden) and the teacher's hidden states, real tokens only."""
    if projection.in_features != student_hidden.shape[-1] or projection.out_features != teacher_hidden.shape[-1]:
        raise ValueError(
            f"projection maps {projection.in_features} -> {projection.out_features} but the student's hidden "
            f"size is {student_hidden.shape[-1]} and the teacher's {teacher_hidden.shape[-1]}; use "
            f"nn.Linear({student_hidden.shape[-1]}, {teacher_hidden.shape[-1]})"
        )
    real = attention_mask.bool()
    return F.mse_loss(projection(student_hidden)[real], teacher_hidden[real])


def _narrow_dir(setup: Setup, seed: int, hidden_weight: float):
    settings = {
        "teacher": training.teacher_dir(setup.profile).name,
        "narrow": NARROW,
        "weight": hidden_weight,
        "seed": seed,
        "lr": setup.profile.scratch_learning_rate,
        "epochs": setup.profile.scratch_epochs,
        "train": len(setup.train),
        "recipe": l04.RECIPE,
    }
    return cache.cache_path("students", f"{setup.profile.name}-narrow-{cache.key(settings)}.pt")


def train_narrow(setup: Setup, hidden_weight: float = 1.0, seed: int = 0, progress: bool = False) -> dict:
    """The narrow student distilled on soft + hard labels, plus hidden_weight x hidden_mse through a learned
    projection (0: no hidden-state loss, no projection); cached. Returns dict(student, accuracy, seconds,
    steps, projection_params)."""
    from torch.nn.utils.rnn import pad_sequence
    from tqdm.auto import tqdm
    from transformers import get_linear_schedule_with_warmup

    profile, tokenizer = setup.profile, setup.tokenizer
    student = students.narrow_student(setup.teacher, NARROW["hidden_size"], NARROW["n_layers"], seed=seed)
    projection = torch.nn.Linear(NARROW["hidden_size"], setup.teacher.config.hidden_size)

    def train() -> dict:
        teacher_out = setup.hidden_cache()  # the teacher's logits and last hidden states, once
        seed_everything(seed)
        indexed = setup.train.add_column(training.INDEX, list(range(len(setup.train))))
        loader = training.make_loader(indexed, tokenizer, profile.batch_size, shuffle=True, seed=seed)
        steps = max(1, round(profile.scratch_epochs * len(loader)))
        params = list(student.parameters()) + (list(projection.parameters()) if hidden_weight else [])
        optimizer = torch.optim.AdamW(params, lr=profile.scratch_learning_rate, weight_decay=0.01)
        schedule = get_linear_schedule_with_warmup(optimizer, int(0.1 * steps), steps)
        student.train()
        start, done = time.perf_counter(), 0
        bar = tqdm(total=steps, desc=f"narrow student (hidden weight {hidden_weight:g})", disable=not progress)
        while done < steps:
            for batch in loader:
                index, labels = batch.pop(training.INDEX), batch.pop("labels")
                out = student(**batch, output_hidden_states=bool(hidden_weight))
                soft, hard = losses.transfer_set_loss(
                    out.logits, teacher_out["logits"][index], labels, l04.RECIPE["temperature"], l04.RECIPE["alpha"]
                )
                loss = soft + hard
                if hidden_weight:
                    hidden = pad_sequence([teacher_out["hidden"][i] for i in index.tolist()], batch_first=True)
                    loss = loss + hidden_weight * hidden_mse(
                        out.hidden_states[-1], hidden, projection, batch["attention_mask"]
                    )
                loss.backward()
                optimizer.step()
                schedule.step()
                optimizer.zero_grad(set_to_none=True)
                done += 1
                bar.update()
                if done == steps:
                    break
        bar.close()
        return {
            "seconds": round(time.perf_counter() - start, 1),
            "steps": steps,
            "projection_params": sum(p.numel() for p in projection.parameters()) if hidden_weight else 0,
        }

    record = _cached(student, _narrow_dir(setup, seed, hidden_weight), train)
    student.to(profile.device).eval()
    accuracy = training.evaluate(student, setup.test, tokenizer, profile)["accuracy"]
    return {"student": student, "accuracy": accuracy, **record}


# --- Deployment -----------------------------------------------------------------------------------------


def weights_hash(model) -> str:
    """A short hash of every weight of a model: an exported file is reused only for these very weights."""
    import hashlib

    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:12]


def onnx_pair(model, name: str, setup: Setup) -> dict:
    """(fp32, int8) ONNX files of `model`, exported and quantized once, cached under a hash of its weights."""
    stem = f"{setup.profile.name}-{name}-{weights_hash(model)}"
    fp32 = cache.cache_path("onnx", f"{stem}-fp32.onnx")
    int8 = cache.cache_path("onnx", f"{stem}-int8.onnx")
    if not cache.file_ready(fp32):  # absent, or damaged (then removed, with a notice)
        deploy.export_onnx(model, fp32)
    if not cache.file_ready(int8):
        deploy.quantize_onnx(fp32, int8)
    return {"fp32": fp32, "int8": int8}


def torch_int8(model):
    """torch.ao dynamic int8 of a transformer (lesson 05) or of the CNN (its Linear head only)."""
    return quantize.quantize_dynamic_int8(model.cpu())


def bench_batch(setup: Setup) -> dict:
    """The throughput batch: bench_batch x max_length random token ids, all real (no padding)."""
    profile = setup.profile
    batch = benchmark.dummy_batch(setup.teacher.config.vocab_size, profile.bench_batch, profile.max_length)
    return {k: batch[k] for k in deploy.INPUTS}


def torchao_int8(model, setup: Setup):
    """(eager, compiled, compile seconds): torchao's int8 of `model` (int8 weights and activations), compiled
    with inductor freezing for the throughput batch's shape (lesson 05); None when torchao is not installed."""
    import importlib.util

    if importlib.util.find_spec("torchao") is None:
        return None
    from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

    eager = copy.deepcopy(model).cpu().eval()
    quantize_(eager, Int8DynamicActivationInt8WeightConfig())
    torch.set_num_threads(setup.profile.bench_threads)  # compiled kernels keep the thread count they were built with
    torch._inductor.config.freezing = True  # for the whole session: a later call must not recompile without it
    start = time.perf_counter()
    compiled = torch.compile(eager, dynamic=False)
    with torch.inference_mode():
        compiled(**bench_batch(setup))  # the first call compiles, for this one shape
    return eager, compiled, time.perf_counter() - start


def single_requests(setup: Setup, n: int, seed: int = 0) -> list[dict]:
    """n test snippets, each tokenized alone (no padding): one real request each, for batch-1 latency."""
    rows = torch.randperm(len(setup.test), generator=torch.Generator().manual_seed(seed))[:n].tolist()
    return [
        {
            "input_ids": torch.tensor([setup.test[i]["input_ids"]]),
            "attention_mask": torch.tensor([setup.test[i]["attention_mask"]]),
        }
        for i in rows
    ]


def latency(
    models: dict, setup: Setup, requests: list[dict], batch_repeats: int, threads: int, batch_only: dict | None = None
) -> dict:
    """Per model: batch-1 median and p95 over the requests, and the batch (bench_batch x max_length) median.

    `batch_only` models (compiled for the batch's one shape) are timed at the batch only, in the same rounds.
    """
    import statistics

    batch = bench_batch(setup)
    one = benchmark.time_calls(
        {name: (lambda i, m=m: m(**requests[i])) for name, m in models.items()},
        rounds=len(requests),
        warmup=3,
        threads=threads,
    )
    everyone = {**models, **(batch_only or {})}
    many = benchmark.time_calls(
        {name: (lambda i, m=m: m(**batch)) for name, m in everyone.items()},
        rounds=batch_repeats,
        warmup=2,
        threads=threads,
    )
    nan = float("nan")
    return {
        name: {
            "batch1_median_ms": statistics.median(one[name]) if name in one else nan,
            "batch1_p95_ms": benchmark.percentile(one[name], 95) if name in one else nan,
            "batch_median_ms": statistics.median(many[name]),
        }
        for name in everyone
    }


def max_logit_difference(a, b, dataset, tokenizer, batch_size: int = 128) -> float:
    """Largest |logit difference| between two classifiers over a dataset (e.g. PyTorch vs ONNX Runtime)."""
    return (
        (
            training.predict_logits(a, dataset, tokenizer, batch_size)
            - training.predict_logits(b, dataset, tokenizer, batch_size)
        )
        .abs()
        .max()
        .item()
    )


# --- The frontier -----------------------------------------------------------------------------------------


def pareto_front(points: dict[str, tuple[float, float]]) -> list[str]:
    """Names on the accuracy-latency frontier: no other model is at least as fast AND at least as accurate
    (and better in one). points: name -> (latency, accuracy). Sorted from fastest to slowest."""
    front = []
    for name, (lat, acc) in points.items():
        dominated = any(
            (l2 <= lat and a2 >= acc) and (l2 < lat or a2 > acc) for other, (l2, a2) in points.items() if other != name
        )
        if not dominated:
            front.append(name)
    return sorted(front, key=lambda n: points[n][0])


def recommend(points: dict[str, tuple[float, float]], budget: float) -> str | None:
    """The most accurate model whose latency fits `budget` (ties: the faster one); None if none fits."""
    fits = [n for n, (lat, _) in points.items() if lat <= budget]
    if not fits:
        return None
    return max(fits, key=lambda n: (points[n][1], -points[n][0]))


# --- Exercises -------------------------------------------------------------------------------------------

SOLUTIONS["pareto_front"] = """
def my_pareto_front(points):
    front = []
    for name, (lat, acc) in points.items():
        beaten = any(l2 <= lat and a2 >= acc and (l2 < lat or a2 > acc)
                     for other, (l2, a2) in points.items() if other != name)
        if not beaten:
            front.append(name)
    return sorted(front, key=lambda n: points[n][0])
"""


def check_pareto_front(fn) -> bool:
    """Exercise 07.1: `fn(points)` returns the frontier's names, fastest first."""
    if _unanswered(fn):
        return False
    cases = [
        {"a": (1.0, 0.70), "b": (2.0, 0.80), "c": (3.0, 0.75), "d": (4.0, 0.85)},
        {"a": (1.0, 0.80), "b": (1.0, 0.70), "c": (5.0, 0.80)},
        {"x": (2.0, 0.9)},
    ]
    for points in cases:
        try:
            got = fn(dict(points))
        except Exception as err:  # noqa: BLE001 - a student's function may raise anything
            return _report(False, "", f"your function raised {type(err).__name__}: {err}")
        want = pareto_front(points)
        if got is None:
            return _report(False, "", "your function returns None; return the list of names on the front")
        if list(got) != want:
            if sorted(got) == sorted(want):
                return _report(False, "", f"right names, wrong order: sort them fastest first ({want})")
            if "c" in points and "c" in got and points is cases[0]:
                return _report(
                    False, "", "'c' is slower AND less accurate than 'b': a dominated model is not on the front"
                )
            return _report(False, "", f"on {points} the front is {want}, you gave {list(got)}")
    return _report(True, "a model is on the front when nothing is both faster and more accurate.", "")


SOLUTIONS["p95"] = """
times = sorted(batch1_times)
answer = benchmark.percentile(times, 95)   # or numpy.percentile(times, 95)
"""


def check_p95(answer, times) -> bool:
    """Exercise 07.2: the 95th percentile of a list of batch-1 times (ms)."""
    if _unanswered(answer):
        return False
    if not isinstance(answer, (int, float)) or isinstance(answer, bool):
        return _report(False, "", f"give a number of milliseconds, got {type(answer).__name__}")
    want = benchmark.percentile(list(times), 95)
    import statistics

    if abs(answer - statistics.median(times)) < 1e-9 and abs(want - statistics.median(times)) > 1e-9:
        return _report(False, "", "that is the median (p50); p95 is the time 95% of requests stay under")
    if abs(answer - max(times)) < 1e-9 and abs(want - max(times)) > 1e-9:
        return _report(False, "", "that is the slowest request (p100); p95 leaves out the slowest 5%")
    ok = abs(answer - want) <= max(0.01 * want, 1e-6)
    return _report(
        ok,
        f"p95 = {want:.3f} ms: 19 requests in 20 are at least this fast.",
        f"p95 of these times is {want:.3f} ms, you gave {answer:.3f}; sort them and take the value 95% "
        "of the way along (numpy.percentile(times, 95))",
    )


SOLUTIONS["projection_params"] = """
answer = 192 * 384 + 384   # nn.Linear(192, 384): a weight matrix and a bias
"""


def check_projection_params(answer, student_hidden: int, teacher_hidden: int) -> bool:
    """Exercise 07.3: parameters of the learned projection nn.Linear(student_hidden, teacher_hidden)."""
    if _unanswered(answer):
        return False
    want = student_hidden * teacher_hidden + teacher_hidden
    if answer == student_hidden * teacher_hidden:
        return _report(False, "", "count the bias too: one per output feature")
    if answer == student_hidden * teacher_hidden + student_hidden:
        return _report(False, "", "the bias has one entry per OUTPUT feature (the teacher's width)")
    return _report(
        answer == want,
        f"{want:,} parameters, used in training only and dropped at deployment.",
        f"nn.Linear({student_hidden}, {teacher_hidden}) holds {want:,} parameters, you gave {answer!r}",
    )


# Kept for the lesson's namespace: corpus labels and lesson 05's cached student.
LABELS = corpus.LABELS
distilled_student = l05.distilled_student
