"""Lesson 07 (another architecture, deployment, the frontier): its experiments as functions, then its
auto-checked exercises and their worked solutions.

Three students of lesson 03's teacher: lesson 04's layer-copy student, a narrower transformer (hidden-state
loss through a learned projection) and a convolutional network (`students.WordCNN`) taught on a transfer
set the teacher labels (Tang et al. 2019). Then every model is exported to ONNX, run by ONNX Runtime in
float32 and int8, timed at batch 1 and batch 32, and read off one accuracy-latency frontier.
"""

from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F

from .. import benchmark, cache, deploy, kd_trainer, losses, quantize, stats, students, training
from ..session import seed_everything
from . import l04, l05
from .exercises import is_number, report, unanswered

if TYPE_CHECKING:
    from datasets import Dataset

# The convolutional student (Kim 2014) and how it trains: a from-scratch rate, like lesson 04's random init.
CNN: dict[str, Any] = {"widths": (3, 4, 5), "filters": 100, "dropout": 0.5}
# Its embedding table (96% of its parameters) stays frozen, as in Kim's CNN-static: only filters and head train.
CNN_TRAINING: dict[str, Any] = {
    "learning_rate": 1e-3,
    "temperature": losses.TEMPERATURE,
    "alpha": 0.5,
    "embeddings": "frozen",
}
# Tang et al.'s transfer set: copies of each training snippet with words masked or cut to an n-gram.
AUGMENT: dict[str, Any] = {"copies": 3, "mask_p": 0.1, "ngram_p": 0.25, "max_n": 5}
# The narrow transformer: half the teacher's width, three blocks; its hidden-state loss weight.
NARROW: dict[str, Any] = {"hidden_size": 192, "n_layers": 3, "hidden_weight": 1.0}


@dataclass
class Setup:
    """Lesson 04's setup (teacher, tokenizer, splits) plus the whole training split and its teacher logits."""

    base: l04.Setup
    train: Dataset  # every training snippet (lesson 04 trains on a subset)
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
    dataset,
    tokenizer,
    copies: int = 3,
    mask_p: float = 0.1,
    ngram_p: float = 0.25,
    max_n: int = 5,
    seed: int = 0,
    keep_labels: bool = False,
):
    """`copies` new snippets per snippet: words masked with mask_p, or cut to an n-gram.

    Tang et al. 2019's recipe without the part-of-speech swaps. The copies are unlabelled (-100), for the
    teacher to label; keep_labels=True gives each copy its source snippet's label instead (the control).
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
    rows: dict[str, list] = {"input_ids": [], "label": []}
    for _ in range(copies):
        for ids, label in zip(dataset["input_ids"], dataset["label"]):
            body = [tokenizer.mask_token_id if t not in special and rng.random() < mask_p else t for t in ids[1:-1]]
            if len(body) > 1 and rng.random() < ngram_p:
                n = rng.randint(1, min(max_n, len(body)))
                start = rng.randint(0, len(body) - n)
                body = body[start : start + n]
            rows["input_ids"].append([ids[0], *body, ids[-1]])
            rows["label"].append(int(label) if keep_labels else losses.IGNORE_INDEX)
    rows["attention_mask"] = [[1] * len(ids) for ids in rows["input_ids"]]
    if "token_type_ids" in dataset.column_names:
        rows["token_type_ids"] = [[0] * len(ids) for ids in rows["input_ids"]]
    return Dataset.from_dict(rows)


def transfer_set(setup: Setup, seed: int = 0, copies: int | None = None):
    """(dataset, teacher logits): the labelled training split + its augmented copies (AUGMENT's, or `copies`
    per snippet), teacher-labelled, cached."""
    from datasets import concatenate_datasets

    recipe = AUGMENT if copies is None else {**AUGMENT, "copies": copies}
    extra = augment(setup.train, setup.tokenizer, seed=seed, **recipe)
    extra = extra.cast(setup.train.select_columns(extra.column_names).features)
    both = concatenate_datasets([setup.train.select_columns(extra.column_names), extra])
    key = f"{training.teacher_dir(setup.profile).name}-transfer-{cache.key(recipe)}-{seed}"
    logits = training.teacher_logits(setup.teacher, both, setup.tokenizer, setup.profile, cache_key=key)
    return both, logits


def labelled_copies(setup: Setup, seed: int = 0):
    """The transfer set's very snippets (same copies as `transfer_set(setup, seed)`), each copy labelled with
    its source snippet's label: the control that has the copies but not the teacher."""
    from datasets import concatenate_datasets

    extra = augment(setup.train, setup.tokenizer, seed=seed, keep_labels=True, **AUGMENT)
    extra = extra.cast(setup.train.select_columns(extra.column_names).features)
    return concatenate_datasets([setup.train.select_columns(extra.column_names), extra])


def _cached(student, path, train) -> dict:
    """Load `student`'s weights and training record from `path`; or run `train()` (it returns the record)
    and save both, atomically, for the next run."""

    def load():
        saved = cache.load_cached(path) if path.is_file() else None
        if isinstance(saved, dict) and "state" in saved:
            student.load_state_dict(saved["state"])
            return saved["record"]
        return None

    return cache.once(
        path, load, train, lambda record: cache.atomic_save({"state": student.state_dict(), "record": record}, path)
    )


# --- The convolutional student ------------------------------------------------------------------------


# The CNN runs of one seed. Each changes one thing from the run above it, so each difference has one cause:
# "own" steps are the profile's epochs over the run's data; "taught" steps are as many as the taught run takes.
CNN_RUNS = {
    "hard labels": {"copies": False, "labels": "hard", "steps": "own"},
    "hard labels, as many steps": {"copies": False, "labels": "hard", "steps": "taught"},
    "hard labels on the copies": {"copies": True, "labels": "hard", "steps": "own"},
    "taught (transfer set)": {"copies": True, "labels": "teacher", "steps": "own"},
}
HARD, LONG, COPIES, TAUGHT = CNN_RUNS


def taught_steps(setup: Setup) -> int:
    """Optimizer steps of a run over the transfer set (the labelled snippets + AUGMENT['copies'] copies each)."""
    rows = len(setup.train) * (1 + AUGMENT["copies"])
    return max(1, math.ceil(setup.profile.student_epochs * math.ceil(rows / setup.profile.batch_size)))


def _recipe(route: dict | None) -> tuple[dict, dict, dict]:
    """(CNN, CNN_TRAINING, AUGMENT) with a route's changes (ROUTES) applied; unchanged for None or {}."""
    route = route or {}
    unknown = sorted(set(route) - {"filters", "embeddings", "copies"})
    if unknown:
        raise ValueError(f"a route may change filters, embeddings or copies, got {unknown}")
    cnn = {**CNN, **({"filters": route["filters"]} if "filters" in route else {})}
    train = {**CNN_TRAINING, **({"embeddings": route["embeddings"]} if "embeddings" in route else {})}
    if train["embeddings"] not in ("frozen", "trained"):
        raise ValueError(f"a route's embeddings must be 'frozen' or 'trained', got {train['embeddings']!r}")
    return cnn, train, {**AUGMENT, **({"copies": route["copies"]} if "copies" in route else {})}


def _cnn_dir(setup: Setup, seed: int, run: str, embeddings: str, route: dict | None = None):
    spec = CNN_RUNS[run]
    cnn, train, recipe = _recipe(route)
    settings = {
        "teacher": training.teacher_dir(setup.profile).name,
        "cnn": cnn,
        "training": train,
        "augment": recipe if spec["copies"] else None,
        "embeddings": embeddings,
        "seed": seed,
        "epochs": setup.profile.student_epochs,
        "train": len(setup.train),
    }
    if spec["copies"] and spec["labels"] == "hard":
        settings["copies_labelled"] = "source label"
    if spec["steps"] == "taught":
        settings["max_steps"] = taught_steps(setup)
    return cache.cache_path("students", f"{setup.profile.name}-cnn-{cache.key(settings)}.pt")


def _fit(student, data, logits, setup: Setup, recipe: dict, seed: int, progress: bool, max_steps=None) -> dict:
    """training.distill at the recipe's rate, T and alpha (alpha 0 without teacher logits); the run's record."""
    history = training.distill(
        student,
        data,
        setup.tokenizer,
        setup.profile.replace(learning_rate=recipe["learning_rate"]),
        teacher_logits=logits,
        temperature=recipe["temperature"],
        alpha=recipe["alpha"] if logits is not None else 0.0,
        seed=seed,
        progress=progress,
        max_steps=max_steps,
    )
    return {"seconds": round(history["train_seconds"], 1), "steps": history["steps"]}


def train_cnn(
    setup: Setup,
    seed: int = 0,
    run: str = TAUGHT,
    embeddings: str = "teacher",
    progress: bool = False,
    route: dict | None = None,
) -> dict:
    """A WordCNN trained as one of CNN_RUNS (hard labels; the same for as many steps as the taught run; hard
    labels on the transfer set's copies; taught by the teacher on the transfer set); cached.

    embeddings='teacher' uses the teacher's word-piece table, 'random' a random one (frozen, as
    CNN_TRAINING['embeddings'] says, unless a route trains them). `route` (one of ROUTES' values) changes the
    recipe: more filters, trained embeddings, more copies. Returns
    dict(student, accuracy, correct (per test snippet), seconds (of training, when it ran), steps).
    """
    if run not in CNN_RUNS:
        raise ValueError(f"run must be one of {list(CNN_RUNS)}, got {run!r}")
    if embeddings not in ("teacher", "random"):
        raise ValueError(f"embeddings must be 'teacher' or 'random', got {embeddings!r}")
    profile, tokenizer, spec = setup.profile, setup.tokenizer, CNN_RUNS[run]
    cnn, recipe, augmented = _recipe(route)
    if route and run != TAUGHT:
        raise ValueError(f"a route changes the taught run only, got run={run!r}")
    seed_everything(seed)
    if embeddings == "teacher":
        student = students.WordCNN.from_teacher(setup.teacher, tokenizer, **cnn)
    else:
        student = students.WordCNN(
            len(tokenizer), setup.teacher.config.hidden_size, pad_id=tokenizer.pad_token_id, **cnn
        )
    student.embeddings.weight.requires_grad_(recipe["embeddings"] != "frozen")

    def train() -> dict:
        data, logits = setup.train, None
        if spec["copies"] and spec["labels"] == "teacher":
            data, logits = transfer_set(setup, seed=seed, copies=augmented["copies"] if route else None)
        elif spec["copies"]:
            data = labelled_copies(setup, seed=seed)
        max_steps = taught_steps(setup) if spec["steps"] == "taught" else None
        return _fit(student, data, logits, setup, recipe, seed, progress, max_steps)

    record = _cached(student, _cnn_dir(setup, seed, run, embeddings, route), train)
    student.to(profile.device).eval()
    correct = test_correct(student, setup)
    return {"student": student, "accuracy": correct.float().mean().item(), "correct": correct, **record}


def cnn_students(setup: Setup, progress: bool = False) -> dict[str, list[dict]]:
    """Every run of CNN_RUNS at each of the profile's seeds (cached): run -> its results, one per seed."""
    from tqdm.auto import tqdm

    seeds = setup.profile.cnn_seeds
    runs: dict[str, list[dict]] = {run: [] for run in CNN_RUNS}
    with tqdm(total=len(seeds) * len(CNN_RUNS), desc="CNN students (seeds x runs)", disable=not progress) as bar:
        for seed in seeds:
            for run in CNN_RUNS:
                runs[run].append(train_cnn(setup, seed=seed, run=run))
                bar.update()
    return runs


def test_correct(model, setup: Setup) -> torch.Tensor:
    """One bool per test snippet: does `model` predict its label? (for accuracy and McNemar's test)"""
    logits = training.predict_logits(model, setup.test, setup.tokenizer, setup.profile.eval_batch_size)
    return logits.argmax(-1) == torch.tensor(setup.test["label"])


def cnn_comparisons(runs: dict[str, list[dict]]) -> dict[str, stats.Comparison]:
    """The paired t-tests over seeds that split the taught CNN's gain into its causes, each one change apart:
    the steps, the copies (with hard labels), and the teacher's labels; and the whole gain."""
    acc = {name: [r["accuracy"] for r in rs] for name, rs in runs.items()}
    pairs = {
        "more steps": (HARD, LONG),
        "the copies (hard labels)": (LONG, COPIES),
        "the teacher's labels": (COPIES, TAUGHT),
        "all three (taught vs hard labels)": (HARD, TAUGHT),
    }
    return {cause: stats.paired_seeds(acc[a], acc[b], names=(a, b)) for cause, (a, b) in pairs.items()}


# --- Routes past the frontier ---------------------------------------------------------------------------


# Routes to a student at 97% of the teacher's accuracy and 10x its speed: each route is the taught CNN with
# the changes of the route above it plus one more, so each step's gain has one recipe change behind it. A
# copies change brings more steps too (the profile's epochs over a bigger transfer set): "+ 10 copies" buys
# more text and more steps together.
ROUTES: dict[str, dict] = {
    TAUGHT: {},
    "+ embeddings trained": {"embeddings": "trained"},
    "+ 10 copies": {"embeddings": "trained", "copies": 10},
    "+ 200 filters": {"embeddings": "trained", "copies": 10, "filters": 200},
}
SHARE = 0.97  # the accuracy a frontier student must keep: this share of the teacher's
SPEED_UP = 10.0  # and this many times the teacher's speed, at batch 32 and at batch-1 p95


def route_students(setup: Setup, progress: bool = False) -> dict[str, list[dict]]:
    """Every route of ROUTES at each of the profile's route_seeds (cached): route -> its results, one per seed."""
    from tqdm.auto import tqdm

    seeds = setup.profile.route_seeds
    runs: dict[str, list[dict]] = {name: [] for name in ROUTES}
    with tqdm(total=len(seeds) * len(ROUTES), desc="CNN routes (seeds x routes)", disable=not progress) as bar:
        for seed in seeds:
            for name, route in ROUTES.items():
                runs[name].append(train_cnn(setup, seed=seed, route=route))
                bar.update()
    return runs


def route_comparisons(runs: dict[str, list[dict]], teacher_accuracy: float) -> dict[str, stats.Comparison]:
    """Each route against the one above it (paired t-test over seeds), and each against SHARE of the teacher."""
    acc = {name: [r["accuracy"] for r in rs] for name, rs in runs.items()}
    names = list(acc)
    line = SHARE * teacher_accuracy
    out = {f"{b} (vs {a})": stats.paired_seeds(acc[a], acc[b], names=(a, b)) for a, b in zip(names, names[1:])}
    for name in names:
        out[f"{name} vs {SHARE:.0%} of the teacher"] = stats.paired_seeds(
            [line] * len(acc[name]), acc[name], names=(f"{SHARE:.0%} of the teacher", name)
        )
    return out


def best_route(runs: dict[str, list[dict]]) -> str:
    """The route with the highest mean accuracy over its seeds."""
    return max(runs, key=lambda name: sum(r["accuracy"] for r in runs[name]) / len(runs[name]))


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


def narrow_students(setup: Setup, progress: bool = False) -> dict[float, dict]:
    """The narrow student without (weight 0.0) and with the hidden-state loss (NARROW's weight), seed 0; cached."""
    return {w: train_narrow(setup, hidden_weight=w, seed=0, progress=progress) for w in (0.0, NARROW["hidden_weight"])}


# --- The static-embedding student (model2vec) -----------------------------------------------------------


# model2vec's distillation of the fine-tuned teacher: one vector per token (the teacher's mean output over that
# token alone), PCA to `pca_dims`, SIF weighting by token frequency; model2vec's own defaults but the model.
STATIC: dict[str, Any] = {"pca_dims": 256, "sif_coefficient": 1e-4}
# The static student's runs of one seed: the same copies, the same steps, and only who labels them differs.
STATIC_RUNS = {
    "hard labels on the copies": {"labels": "hard"},
    "taught (transfer set)": {"labels": "teacher"},
}


def static_model(setup: Setup):
    """The teacher distilled by model2vec into a static token table (a `model2vec.StaticModel`), cached.

    Returns (model, seconds the distillation took, or None when it came from the cache).
    """
    try:
        from model2vec import StaticModel
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(
            "lesson 07's static student needs model2vec, skeletoken and scikit-learn: pip install model2vec "
            "skeletoken scikit-learn "
            '(or the course with its extra: pip install "kdcourse[static]")'
        ) from err

    folder = cache.cache_path("students", f"{setup.profile.name}-model2vec-{_static_key(setup)}")
    took: list[float] = []

    def load():
        return StaticModel.from_pretrained(str(folder)) if (folder / "config.json").is_file() else None

    def build():
        from model2vec.distill import distill_from_model

        start = time.perf_counter()
        made = distill_from_model(setup.teacher.base_model, setup.tokenizer, device=str(setup.teacher.device), **STATIC)
        took.append(time.perf_counter() - start)
        return made

    def save(made) -> None:
        with cache.atomic_folder(folder) as tmp:
            made.save_pretrained(str(tmp))

    model = cache.once(folder, load, build, save)
    return model, (round(took[0], 1) if took else None)


def _static_key(setup: Setup) -> str:
    return cache.key({"teacher": training.teacher_dir(setup.profile).name, "static": STATIC})


def train_static(setup: Setup, seed: int = 0, run: str = TAUGHT, progress: bool = False) -> dict:
    """A StaticStudent on model2vec's table of the teacher, its head trained as one of STATIC_RUNS on the
    transfer set's snippets (hard: each copy with its source's label; teacher: the teacher's labels); cached.

    Returns dict(student, accuracy, correct (per test snippet), seconds (of training, when it ran), steps).
    """
    if run not in STATIC_RUNS:
        raise ValueError(f"run must be one of {list(STATIC_RUNS)}, got {run!r}")
    profile, tokenizer = setup.profile, setup.tokenizer
    table, _ = static_model(setup)
    seed_everything(seed)
    student = students.StaticStudent.from_model2vec(table, tokenizer)
    taught = STATIC_RUNS[run]["labels"] == "teacher"

    def train() -> dict:
        data, logits = transfer_set(setup, seed=seed) if taught else (labelled_copies(setup, seed=seed), None)
        return _fit(student, data, logits, setup, CNN_TRAINING, seed, progress)

    settings = {"table": _static_key(setup), "run": STATIC_RUNS[run], "training": CNN_TRAINING, "seed": seed}
    settings |= {"augment": AUGMENT, "epochs": profile.student_epochs, "train": len(setup.train)}
    path = cache.cache_path("students", f"{profile.name}-static-{cache.key(settings)}.pt")
    record = _cached(student, path, train)
    student.to(profile.device).eval()
    correct = test_correct(student, setup)
    return {"student": student, "accuracy": correct.float().mean().item(), "correct": correct, **record}


def static_comparison(runs: dict[str, list[dict]]) -> stats.Comparison:
    """Paired t-test over seeds: the static student taught by the teacher against hard labels on the same copies."""
    (a, hard), (b, taught) = runs.items()
    return stats.paired_seeds([r["accuracy"] for r in hard], [r["accuracy"] for r in taught], names=(a, b))


def static_students(setup: Setup, progress: bool = False) -> dict[str, list[dict]]:
    """Both STATIC_RUNS at each of the profile's cnn_seeds (cached): run -> its results, one per seed."""
    return {
        run: [train_static(setup, seed=s, run=run, progress=progress) for s in setup.profile.cnn_seeds]
        for run in STATIC_RUNS
    }


# --- Deployment -----------------------------------------------------------------------------------------


# ONNX Runtime's int8 convolution (ConvInteger) ran about 3x slower than its float32 Conv on the CPUs measured
# (lesson 07), so the CNN's int8 file quantizes its embedding table and head and keeps its convolutions float32.
CNN_ONNX_INT8_OPS = ("MatMul", "Gather")


def onnx_int8_name(model) -> str:
    """What `onnx_pair`'s int8 file holds, named: everything ONNX Runtime quantizes, or for the CNN all but its
    convolutions."""
    return "onnx int8 (convs fp32)" if isinstance(model, students.WordCNN) else "onnx int8"


def onnx_pair(model, name: str, setup: Setup, every_op: bool = False) -> dict:
    """(fp32, int8) ONNX files of `model`, exported and quantized once, cached under a hash of its weights.

    The CNN's int8 keeps its convolutions float32 (CNN_ONNX_INT8_OPS) unless every_op=True.
    """
    stem = f"{setup.profile.name}-{name}-{cache.exact_weights_fingerprint(model)}"
    ops = CNN_ONNX_INT8_OPS if isinstance(model, students.WordCNN) and not every_op else None
    fp32 = cache.cache_path("onnx", f"{stem}-fp32.onnx")
    int8 = cache.cache_path("onnx", f"{stem}-int8{'-' + '-'.join(ops) if ops else ''}.onnx")
    if not cache.file_ready(fp32):  # absent, or damaged (then removed, with a notice)
        deploy.export_onnx(model, fp32)
    if not cache.file_ready(int8):
        deploy.quantize_onnx(fp32, int8, op_types=ops)
    return {"fp32": fp32, "int8": int8}


def deploy_models(
    setup: Setup, cnn_runs: dict, narrow_runs: dict, static_runs: dict, route_runs: dict
) -> dict[str, torch.nn.Module]:
    """The models the lesson exports and times, by name: the teacher, the layer-copy, narrow and taught CNN
    students, the static student (taught) and the best route's CNN (each at its first seed)."""
    return {
        "teacher": setup.teacher,
        "layer-copy student": l05.distilled_student(setup.base, seed=0),
        "narrow student": narrow_runs[NARROW["hidden_weight"]]["student"],
        "CNN student (taught)": cnn_runs[TAUGHT][0]["student"],
        "static student (taught)": static_runs[TAUGHT][0]["student"],
        "route CNN student (best)": route_runs[best_route(route_runs)][0]["student"],
    }


def onnx_pairs(models: dict, setup: Setup) -> dict[str, dict]:
    """`onnx_pair` of each model, its file named after the model ("CNN student (taught)" -> "CNN-student")."""
    return {name: onnx_pair(model, name.split(" (")[0].replace(" ", "-"), setup) for name, model in models.items()}


def torch_int8(model):
    """torch.ao dynamic int8 of a transformer (lesson 05) or of the CNN (its Linear head only)."""
    return quantize.quantize_dynamic_int8(model.cpu())


def torch_int8_name(model) -> str:
    """What `torch_int8` makes of a model, named: torch.ao's dynamic int8 has no convolution, so for the CNN only
    the Linear head is int8 and its embeddings and convolutions stay float32."""
    return "torch int8 (head only)" if isinstance(model, (students.WordCNN, students.StaticStudent)) else "torch int8"


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


def recommend(points: dict[str, tuple[float, float]], budget: float, correct: dict | None = None) -> str | None:
    """The model to ship within `budget` (None if none fits): the most accurate that fits (ties: the faster).

    With `correct` (name -> one bool per test snippet), a model McNemar's test cannot tell apart from the most
    accurate one counts as a tie, and the fastest of those is shipped: a snippet or two of accuracy that no
    test can confirm is not worth twice the latency.
    """
    fits = [n for n, (lat, _) in points.items() if lat <= budget]
    if not fits:
        return None
    best = max(fits, key=lambda n: (points[n][1], -points[n][0]))
    if correct is None:
        return best
    missing = [n for n in fits if n not in correct]
    if missing:
        raise ValueError(f"correct has no per-snippet results for {missing}; pass one bool per test snippet for each")
    tied = [n for n in fits if n == best or not stats.mcnemar(correct[best], correct[n]).decided]
    return min(tied, key=lambda n: (points[n][0], -points[n][1]))


# --- Exercises -------------------------------------------------------------------------------------------


def check_pareto_front(fn) -> bool:
    """Exercise 07.1: `fn(points)` returns the frontier's names, fastest first."""
    if unanswered(fn):
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
            return report(False, "", f"your function raised {type(err).__name__}: {err}")
        want = pareto_front(points)
        if got is None:
            return report(False, "", "your function returns None; return the list of names on the front")
        if list(got) != want:
            if sorted(got) == sorted(want):
                return report(False, "", f"right names, wrong order: sort them fastest first ({want})")
            if "c" in points and "c" in got and points is cases[0]:
                return report(
                    False, "", "'c' is slower AND less accurate than 'b': a dominated model is not on the front"
                )
            return report(False, "", f"on {points} the front is {want}, you gave {list(got)}")
    return report(True, "a model is on the front when nothing is both faster and more accurate.", "")


def check_p95(answer, times) -> bool:
    """Exercise 07.2: the 95th percentile of a list of batch-1 times (ms)."""
    if unanswered(answer):
        return False
    if not is_number(answer):
        return report(False, "", f"give a number of milliseconds, got {type(answer).__name__}")
    want = benchmark.percentile(list(times), 95)
    import statistics

    if abs(answer - statistics.median(times)) < 1e-9 and abs(want - statistics.median(times)) > 1e-9:
        return report(False, "", "that is the median (p50); p95 is the time 95% of requests stay under")
    if abs(answer - max(times)) < 1e-9 and abs(want - max(times)) > 1e-9:
        return report(False, "", "that is the slowest request (p100); p95 leaves out the slowest 5%")
    ok = abs(answer - want) <= max(0.01 * want, 1e-6)
    return report(
        ok,
        f"p95 = {want:.3f} ms: 19 requests in 20 are at least this fast.",
        f"p95 of these times is {want:.3f} ms, you gave {answer:.3f}; sort them and take the value 95% "
        "of the way along (numpy.percentile(times, 95))",
    )


CONTROL_CHOICES = {
    "data": ("snippets", "snippets + copies"),
    "labels": ("hard", "teacher"),
    "steps": ("hard run's", "taught run's"),
}


def check_control(control) -> bool:
    """Exercise 07.3: the run that, set beside the taught CNN, changes only who labels the text."""
    if unanswered(control):
        return False
    if not isinstance(control, dict) or set(control) != set(CONTROL_CHOICES):
        return report(False, "", f"give a dict with the keys {list(CONTROL_CHOICES)}, e.g. {{'data': 'snippets', ...}}")
    for key, allowed in CONTROL_CHOICES.items():
        if control[key] not in allowed:
            return report(False, "", f"{key} must be one of {list(allowed)}, got {control[key]!r}")
    if control["labels"] == "teacher":
        return report(
            False, "", "with the teacher's labels the run IS the taught run: the control must not use the teacher"
        )
    if control["data"] == "snippets":
        return report(
            False,
            "",
            "without the copies this run differs from the taught one in the data as well as the labels: a gain "
            "could come from either. Keep the taught run's data",
        )
    if control["steps"] == "hard run's":
        return report(
            False, "", "the taught run takes 4x the steps of the hard-label run: with fewer steps, steps differ too"
        )
    return report(
        True,
        "same text, same steps, hard labels: only the labels differ, so taught − control is the teacher's share "
        "(section 3 trains it as 'hard labels on the copies').",
        "",
    )
