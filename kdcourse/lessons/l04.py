"""Lesson 04 (the DistilBERT recipe): its experiments as functions (recipe in miniature, baselines,
ablations, the demo), then its auto-checked exercises (worked solutions: kdcourse_solutions).

One code path for every profile: the teacher, data and sizes come from the `Profile`; the layer
choices follow the teacher's depth (6 -> [0, 2, 4], 12 -> [0, 2, 4, 7, 9, 11]).
"""

from __future__ import annotations

import math
import os
import statistics
import textwrap
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from .. import assets, benchmark, corpus, losses, stats, students, training
from ..kd_trainer import teacher_cache, train_student
from ..session import seed_everything
from ..viz.plots import bubble_plot
from .exercises import is_number, report, unanswered

if TYPE_CHECKING:
    from datasets import Dataset, DatasetDict
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from ..profiles import Profile

# Task distillation with DistilBERT's three terms: soft targets (alpha, T), hard labels, hidden cosine.
RECIPE = {"temperature": losses.TEMPERATURE, "alpha": 0.5, "cosine_weight": 1.0}
# Each ablation changes one thing relative to the recipe (layer-copy init, spread-out layers).
ABLATIONS = {
    "recipe": {},
    "without soft targets": {"alpha": 0.0},
    "without hard labels": {"alpha": 1.0},
    "without cosine": {"cosine_weight": 0.0},
    "random init": {"init": "random"},
    "bottom layers": {"layers": "bottom"},
    "top layers": {"layers": "top"},
}
# Published figures (Sanh et al. 2019, arXiv:1910.01108): SST-2 dev accuracy (Table 1) and the
# change of the GLUE macro-score when one ingredient is removed (Table 4).
PUBLISHED = {
    "sst2_accuracy": {"BERT-base (teacher)": 92.7, "DistilBERT (6 layers)": 91.3},
    "ablation_glue_delta": {
        "without soft targets": -2.96,
        "without cosine": -1.46,
        "without MLM (our hard labels)": -0.31,
        "random init": -3.69,
    },
    "summary": "40% fewer parameters, 60% faster, 97% of BERT's GLUE score",
}


def layer_choices(n_teacher: int) -> dict[str, list[int]]:
    """Half the teacher's layers three ways: spread out (DistilBERT's choice), bottom half, top half."""
    half = max(1, n_teacher // 2)
    return {
        "spread": students.every_other_layer(n_teacher, half),
        "bottom": list(range(half)),
        "top": list(range(n_teacher - half, n_teacher)),
    }


def hub_fallback(profile):
    """(profile, note): hub assets when reachable; otherwise the offline MiniLM + reviews, said so."""
    teacher_here = (
        profile.teacher in assets.ASSETS
        or os.path.isdir(profile.teacher)
        or assets.hub_snapshot(profile.teacher) is not None
    )
    data_here = profile.dataset in assets.ASSETS or corpus.sst2_folder() is not None
    if teacher_here and data_here:
        return profile, f"teacher {profile.teacher}, data {profile.dataset}"
    note = (
        f"the Hugging Face hub is unreachable (and the Hugging Face cache lacks them), so {profile.teacher} "
        f"on {profile.dataset} cannot "
        "run here; using the offline path instead: teacher minilm, data rotten_tomatoes"
    )
    return profile.replace(teacher="minilm", dataset="rotten_tomatoes", reference_student=None), note


@dataclass
class Setup:
    """Everything the runs share: teacher, tokenizer, tokenized splits, training subset, teacher cache."""

    profile: Profile
    teacher: PreTrainedModel  # a fine-tuned sequence classifier, in eval mode
    tokenizer: PreTrainedTokenizerBase
    raw: DatasetDict  # the text splits
    data: DatasetDict  # the same splits tokenized
    train: Dataset  # the training subset the runs use
    _cache: dict | None  # `cache`; None: computed the first time a run needs it
    teacher_accuracy: float
    note: str

    @property
    def cache(self) -> dict:
        """The teacher's logits and last hidden states on `train` (kd_trainer.teacher_cache)."""
        if self._cache is None:
            self._cache = teacher_cache(self.teacher, self.train, self.tokenizer, self.profile.eval_batch_size)
        return self._cache


def prepare(profile, seed: int = 0, progress: bool = True, cache_teacher: bool = True) -> Setup:
    """Load (or fine-tune once) the teacher, tokenize the data, cut the training subset, cache the teacher.

    cache_teacher=False leaves the teacher's pass over the subset until a run needs it (lesson 07 may not).
    """
    profile, note = hub_fallback(profile)
    teacher, tokenizer = training.load_teacher(profile, seed=seed, progress=progress)
    raw = corpus.load_task_data(profile, seed=0)
    data = training.tokenize_splits(raw, tokenizer, profile.max_length)
    n = min(profile.distil_train_size or len(data["train"]), len(data["train"]))
    train = data["train"].select(range(n))  # load_task_data already shuffled (seeded)
    cache = teacher_cache(teacher, train, tokenizer, profile.eval_batch_size) if cache_teacher else None
    accuracy = training.evaluate(teacher, data["test"], tokenizer, profile)["accuracy"]
    return Setup(profile, teacher, tokenizer, raw, data, train, cache, accuracy, note)


def make_student(teacher, init: str = "copy", layers="spread", seed: int = 0):
    """A half-depth student: teacher layers copied (init='copy') or the same shape, random (init='random')."""
    if isinstance(layers, str):
        choices = layer_choices(students.num_layers(teacher))
        if layers not in choices:
            raise ValueError(f"layers must be a list of ints or one of {', '.join(choices)}, got {layers!r}")
        layers = choices[layers]
    if init == "copy":
        return students.student_from_teacher(teacher, layers)
    if init == "random":
        return students.random_student(teacher, len(layers), seed=seed)
    raise ValueError(f"init must be 'copy' (teacher layers) or 'random' (from scratch), got {init!r}")


def labelled_rows(n: int, fraction: float, seed: int) -> list[int]:
    """Which `fraction` of n training rows keep their labels, drawn with `seed` (paired across methods)."""
    k = max(1, round(fraction * n))
    return sorted(np.random.RandomState(seed).permutation(n)[:k].tolist())


def run(
    setup: Setup,
    init: str = "copy",
    layers="spread",
    seed: int = 0,
    labels: str = "all",
    progress: bool = False,
    **loss,
) -> dict:
    """Train one student and score it on the test split; labels: 'all', 'fraction' or 'transfer'.

    A random-init student trains at the profile's from-scratch rate for `scratch_epochs` (at the
    fine-tuning rate and budget it collapses to one class; lesson 04 shows both).
    """
    scratch: dict = {}
    if init == "random":
        scratch = {"learning_rate": setup.profile.scratch_learning_rate, "epochs": setup.profile.scratch_epochs}
    loss = {**RECIPE, **scratch, **loss}
    profile, train = setup.profile, setup.train
    cache: dict | None = setup.cache  # None: no teacher, hard labels only
    if labels in ("fraction", "transfer"):
        keep = labelled_rows(len(train), profile.label_fraction, seed)
        if labels == "fraction":  # the labelled part alone, hard labels only: nothing else is known
            train, cache, loss = train.select(keep), None, {**loss, "alpha": 0.0, "cosine_weight": 0.0}
        else:  # every snippet, soft targets everywhere, hard labels only on the labelled part
            kept = set(keep)
            train = train.map(lambda ex, i: {"label": ex["label"] if i in kept else -100}, with_indices=True)
    elif labels != "all":
        raise ValueError(f"labels must be 'all', 'fraction' or 'transfer', got {labels!r}")
    seed_everything(seed)
    student = make_student(setup.teacher, init, layers, seed).to(profile.device)
    start = time.perf_counter()
    out = train_student(student, train, setup.tokenizer, profile, cache=cache, seed=seed, progress=progress, **loss)
    seconds = time.perf_counter() - start
    correct = correct_on_test(student, setup)
    return {
        "accuracy": correct.float().mean().item(),
        "correct": correct,
        "steps": out["steps"],
        "seconds": seconds,
        "examples": len(train),
        "student": student,
    }


def correct_on_test(model, setup: Setup) -> torch.Tensor:
    """One bool per test snippet: does `model` predict its label? (What McNemar's test compares; the mean is
    the accuracy `training.evaluate` reports.)"""
    logits = training.predict_logits(model, setup.data["test"], setup.tokenizer, setup.profile.eval_batch_size)
    return logits.argmax(-1) == torch.tensor(list(setup.data["test"]["label"]))


def reference_run(setup: Setup, source: str, seed: int = 0) -> dict:
    """Fine-tune a published small model (e.g. distilbert-base-uncased) on the same snippets, hard labels."""
    from datasets import DatasetDict

    profile = setup.profile
    model = assets.load_classifier(source).to(profile.device)
    tokenizer = assets.load_tokenizer(source)
    raw = DatasetDict({"train": setup.raw["train"].select(range(len(setup.train))), "test": setup.raw["test"]})
    data = training.tokenize_splits(raw, tokenizer, profile.max_length)
    seed_everything(seed)
    train_student(model, data["train"], tokenizer, profile, alpha=0.0, cosine_weight=0.0, seed=seed)
    score = training.evaluate(model, data["test"], tokenizer, profile)
    return {"accuracy": score["accuracy"], "params": benchmark.count_parameters(model), "student": model}


def majority_prediction(model, setup: Setup) -> tuple[int, float]:
    """(class, share): the class `model` predicts most often on the test split, and for what share of it.

    A share near 1.0 means the model collapsed to answering one class whatever the text.
    """
    logits = training.predict_logits(model, setup.data["test"], setup.tokenizer, setup.profile.eval_batch_size)
    counts = torch.bincount(logits.argmax(-1), minlength=logits.shape[-1])
    return int(counts.argmax()), counts.max().item() / len(logits)


def majority_baseline(setup: Setup) -> float:
    """Accuracy of always answering the test split's most frequent label."""
    labels = torch.tensor(setup.data["test"]["label"])
    return torch.bincount(labels).max().item() / len(labels)


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (0.0 for a single value)."""
    values = list(values)
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def results_table(setup: Setup, models: dict, accuracy: dict) -> list[dict]:
    """benchmark_table on the profile's stated batch: a teacher row first, retention against it."""
    profile = setup.profile
    batch = benchmark.dummy_batch(setup.teacher.config.vocab_size, profile.bench_batch, profile.max_length)
    return benchmark.benchmark_table(
        models,
        batch,
        repeats=profile.bench_repeats,
        accuracy=accuracy,
        reference=next(iter(models)),
        threads=profile.bench_threads,
    )


def demo_sentences(all_labels: tuple, few_labels: tuple, n_train: int, n_labelled: int) -> list[str]:
    """The demo's two conclusions, worded from each regime's (hard labels, distilled) per-snippet correctness.

    all_labels, few_labels: (correct_hard, correct_distilled), one bool per test snippet each (the same
    snippets). Each verdict is McNemar's exact test on the snippets where the two students disagree.
    """
    sentences = []
    for regime, (hard, distilled) in (("all", all_labels), ("few", few_labels)):
        hard, distilled = [bool(x) for x in hard], [bool(x) for x in distilled]
        test = stats.mcnemar(hard, distilled, names=("hard labels only", "distilled"))
        acc_hard, acc_kd = sum(hard) / len(hard), sum(distilled) / len(distilled)
        change = f"{100 * (acc_kd - acc_hard):+.1f} points ({acc_hard:.3f} -> {acc_kd:.3f})"
        reading = ", so this test set cannot tell the two students apart" if not test.decided else ""
        if regime == "all":
            sentences.append(
                f"All labels ({n_train:,} labelled snippets): distillation changes accuracy by {change}. "
                f"Both students answered the same {len(hard):,} test snippets: {test}{reading}. One seed "
                "each: the test says whether these two models differ, not whether another seed would "
                "repeat it; lesson 04 pairs several seeds."
            )
        else:
            sentences.append(
                f"Few labels ({n_labelled:,} of {n_train:,} snippets labelled): the teacher's soft labels "
                f"on the {n_train - n_labelled:,} unlabelled ones change accuracy by {change}: {test}"
                f"{reading}. A gain here is optimistic: the teacher was fine-tuned on the very labels hidden "
                "from the student, so its soft labels carry them; a teacher trained on other data would "
                "give less."
            )
    return sentences


def demo_students(fraction: float) -> dict[str, dict]:
    """The demo's four students, paired (same seed, same snippets): name -> run() keywords."""
    few = f"{fraction:.0%} labels"
    return {
        "student: all labels, hard only": {"alpha": 0.0, "cosine_weight": 0.0},
        "student: all labels, distilled": {},
        f"student: {few}, hard only": {"labels": "fraction"},
        f"student: {few} + transfer set": {"labels": "transfer"},
    }


def _print_table(setup: Setup, rows: list[dict], n_labelled: int, seed: int) -> None:
    """The demo's data sizes, latency settings and results table, printed."""
    profile, n_train, n_test = setup.profile, len(setup.train), len(setup.data["test"])
    print(
        f"\n{n_train:,} training snippets, all labelled or {n_labelled:,} labelled (the transfer set "
        f"adds the teacher's soft labels on the other {n_train - n_labelled:,}); seed {seed}; test "
        f"{n_test:,}\nlatency: median of {profile.bench_repeats} after warm-up, batch "
        f"{profile.bench_batch} x {profile.max_length} tokens, {profile.bench_threads} threads"
    )
    width = max(len(r["name"]) for r in rows) + 2
    print(f"{'model':<{width}}{'params':>12}{'MB':>8}{'ms':>9}{'speed-up':>10}{'accuracy':>10}{'retention':>11}")
    for r in rows:
        print(
            f"{r['name']:<{width}}{r['params']:>12,}{r['size_mb']:>8.1f}{r['latency_ms']:>9.1f}"
            f"{r['speedup']:>9.2f}x{r['accuracy']:>10.3f}{r['retention']:>11.1%}"
        )


def run_demo(profile, plot_path=None, seed: int = 0, setup: Setup | None = None) -> dict:
    """The course's main job: teacher, four students in lesson 04's two regimes, table, sentences, plot.

    `setup` (optional) is an already prepared `Setup`, whose profile is used; returns dict(rows,
    sentences, train, labelled, test, correct), correct: each regime's (hard labels, distilled) per-snippet
    correctness, which the sentences' McNemar tests compare.
    """
    import matplotlib.pyplot as plt
    from tqdm.auto import tqdm

    specs = demo_students((setup.profile if setup else profile).label_fraction)
    steps = tqdm(total=len(specs) + 2, desc="demo", leave=True)
    steps.set_postfix_str("teacher (fine-tuned once, then cached)")
    if setup is None:
        setup = prepare(profile, seed=seed)
    profile = setup.profile
    print(setup.note)
    steps.update()
    models, accuracy = {"teacher": setup.teacher}, {"teacher": setup.teacher_accuracy}
    correct = {}
    for name, kwargs in specs.items():
        steps.set_postfix_str(name)
        out = run(setup, seed=seed, progress=True, **kwargs)
        models[name], accuracy[name], correct[name] = out["student"], out["accuracy"], out["correct"]
        steps.update()
    steps.set_postfix_str("benchmark")
    rows = results_table(setup, models, accuracy)
    steps.update()
    steps.close()
    n_train, n_test = len(setup.train), len(setup.data["test"])
    n_labelled = len(labelled_rows(n_train, profile.label_fraction, seed))
    _print_table(setup, rows, n_labelled, seed)
    names = list(specs)
    all_labels, few_labels = ((correct[names[i]].tolist(), correct[names[i + 1]].tolist()) for i in (0, 2))
    sentences = demo_sentences(all_labels, few_labels, n_train, n_labelled)
    print()
    for sentence in sentences:
        print(textwrap.fill(sentence, 100), end="\n\n")
    if plot_path is not None:
        fig = bubble_plot(rows, title="Accuracy vs latency (bubble area: MB on disk)")
        fig.savefig(plot_path, dpi=120, bbox_inches="tight")
        plt.close(fig)
        print(f"plot saved to {plot_path}")
    return {
        "rows": rows,
        "sentences": sentences,
        "train": n_train,
        "labelled": n_labelled,
        "test": n_test,
        "correct": (all_labels, few_labels),
    }


# --- Exercises ---------------------------------------------------------------------------------


def check_first_last_student(answer, teacher) -> bool:
    """Exercise 04.1: a 2-layer student holding exact copies of the teacher's first and last layers."""
    if unanswered(answer):
        return False
    try:
        depth = students.num_layers(answer)
    except TypeError as err:
        return report(False, "", f"give a model built from the teacher ({err})")
    n = students.num_layers(teacher)
    if depth != 2:
        return report(
            False, "", f"your student has {depth} layers; keep exactly two: the first (0) and the last ({n - 1})"
        )
    for layers in ([0, n - 1], [0, 1], [n - 2, n - 1]):
        check = students.copied_weights_equal(answer, teacher, layers)
        if not check["differ"]:
            break
    else:
        return report(
            False,
            "",
            "its weights match no pair of teacher layers; copy them "
            "(students.student_from_teacher does) instead of initialising anew",
        )
    if layers != [0, n - 1]:
        return report(
            False, "", f"that student copies teacher layers {layers}; take the first and the last: [0, {n - 1}]"
        )
    return report(
        True,
        f"all {check['tensors']} tensors are exact copies of teacher layers [0, {n - 1}], its embeddings and head.",
        "",
    )


def _cosine_probes():
    gen = torch.Generator().manual_seed(404)
    probes = []
    for batch, seq, hidden in ((3, 6, 8), (2, 9, 4)):
        s = torch.randn(batch, seq, hidden, generator=gen)
        t = s + 0.8 * torch.randn(batch, seq, hidden, generator=gen)
        mask = torch.ones(batch, seq, dtype=torch.long)
        mask[0, seq // 2 :] = 0
        mask[-1, seq - 2 :] = 0
        t[mask == 0] = -5 * s[mask == 0]  # padding positions disagree loudly: counting them shows
        probes.append((s, t, mask))
    return probes


def check_masked_cosine(fn) -> bool:
    """Exercise 04.2: fn(student_hidden, teacher_hidden, attention_mask) = mean of 1 - cos over real tokens."""
    if unanswered(fn):
        return False
    probes = _cosine_probes()
    try:
        results = [fn(s.clone(), t.clone(), m.clone()) for s, t, m in probes]
        if any(r is None for r in results):
            return report(False, "", "your function returns None; return the loss (a 0-dim tensor)")
        got = [float(r) for r in results]
    except Exception as err:  # the learner's code: report any failure
        return report(False, "", f"your function raised {type(err).__name__}: {err}")
    want = [float(losses.hidden_cosine_loss(s, t, m)) for s, t, m in probes]

    def same(values):
        return all(math.isclose(g, w, rel_tol=1e-4, abs_tol=1e-6) for g, w in zip(got, values))

    if same(want):
        return report(True, "your loss matches kdcourse.losses.hidden_cosine_loss on padded batches.", "")
    unmasked = [float((1 - F.cosine_similarity(s, t, dim=-1)).mean()) for s, t, _ in probes]
    wrong_dim = [float((1 - F.cosine_similarity(s, t, dim=1)).mean()) for s, t, _ in probes]
    int_index = [float((1 - F.cosine_similarity(s, t, dim=-1))[m].mean()) for s, t, m in probes]
    plain_cos = [1 - w for w in want]
    if same(unmasked):
        return report(False, "", "padding positions are averaged in; keep only attention_mask == 1")
    if same(plain_cos):
        return report(
            False, "", "that is the mean cosine similarity; the loss is 1 - cos (0 when the directions agree)"
        )
    if same(wrong_dim):
        return report(False, "", "the cosine runs over the sequence axis; use dim=-1 (hidden size)")
    if same(int_index):
        return report(
            False,
            "",
            "indexing with the integer mask picks rows 0 and 1 instead of masking; index with attention_mask.bool()",
        )
    rows = ", ".join(f"got {g:.4f}, expected {w:.4f}" for g, w in zip(got, want))
    return report(False, "", f"the values differ ({rows})")


def _half_width(n: int, sd: float, quantile=None) -> float:
    """Half-width of the 95% paired t-interval over n seeds whose differences have spread sd (z if quantile given)."""
    from scipy import stats as sps

    return (sps.t.ppf(0.975, n - 1) if quantile is None else quantile) * sd / math.sqrt(n)


def seeds_to_decide(differences, limit: int = 100_000) -> dict:
    """The smallest number of seeds whose 95% paired t-interval excludes zero, if the per-seed differences kept
    their mean and spread; also the count with the normal 1.96 in place of t, and the count for 80% power."""
    from scipy import stats as sps

    d = [float(x) for x in differences]
    if len(d) < 2:
        raise ValueError(
            f"need the differences of at least 2 seeds to know their spread, got {len(d)}; "
            "run the lesson in the cpu profile (3 seeds)"
        )
    mean, sd = statistics.fmean(d), statistics.stdev(d)
    if mean == 0:
        raise ValueError("the mean difference is 0: no number of seeds can decide it")
    if sd == 0:
        return {"mean": mean, "sd": sd, "n": 2, "n_normal": 2, "n_power": 2}
    if (1.959964 * sd / abs(mean)) ** 2 >= limit:  # even the normal interval needs `limit` seeds or more
        raise ValueError(
            f"a mean difference of {mean:+.3g} with a spread of {sd:.3g} would need more than {limit:,} "
            "seeds to decide: no practical budget decides it, so report it as not decided"
        )

    def first(decides):  # the smallest seed count in [2, limit) for which `decides` holds
        return next((k for k in range(2, limit) if decides(k)), None)

    n = first(lambda k: _half_width(k, sd) < abs(mean))
    n_normal = first(lambda k: _half_width(k, sd, 1.959964) < abs(mean))

    def power(k):  # P(the test decides) when the true mean and spread are the measured ones (noncentral t)
        crit, shift = sps.t.ppf(0.975, k - 1), abs(mean) / (sd / math.sqrt(k))
        return sps.nct.sf(crit, k - 1, shift) + sps.nct.cdf(-crit, k - 1, shift)

    n_power = first(lambda k: power(k) >= 0.8)
    if None in (n, n_normal, n_power):
        raise ValueError(
            f"a mean difference of {mean:+.3g} with a spread of {sd:.3g} would need more than {limit:,} "
            "seeds to decide (or to reach 80% power): report it as not decided"
        )
    return {"mean": mean, "sd": sd, "n": n, "n_normal": n_normal, "n_power": n_power}


def _seeds_right(plan: dict, ran: int, where: str) -> str:
    """Exercise 04.3's feedback for the right number of seeds, `plan["n"]`, after a run of `ran` seeds."""
    n = plan["n"]
    if n <= ran:
        fewer = (
            f"{n - 1} would not ({plan['mean']:+.2f} ± {_half_width(n - 1, plan['sd']):.2f})"
            if n > 2
            else "fewer than 2 give no interval"
        )
        told = f"{n} seeds: this run's {ran} already decide it (its interval excludes zero), and {fewer}"
    else:
        told = (
            f"{n} seeds, {n - ran} more than this run's {ran}: {where}, which excludes zero, and "
            f"{n - 1} would not ({plan['mean']:+.2f} ± {_half_width(n - 1, plan['sd']):.2f})"
        )
    return (
        f"{told}. A plan, not a promise: it takes the measured mean and spread of {ran} "
        f"seeds as the truth, and they are uncertain too. To decide with 80% probability "
        f"if they were the truth, plan {plan['n_power']} seeds (a power calculation)."
    )


def check_seeds_to_decide(answer, regimes, regime: str = "all labels") -> bool:
    """Exercise 04.3: how many paired seeds would make the 95% t-interval of `regime`'s gain exclude zero, if
    the per-seed differences kept the mean and spread measured in section 7."""
    if unanswered(answer):
        return False
    if regime not in regimes:
        raise ValueError(f"no regime {regime!r} in regimes; regimes are: {', '.join(regimes)}")
    sides = regimes[regime]
    d = [100 * (b - a) for a, b in zip(sides["without teacher"], sides["with teacher"])]
    if len(d) < 2:
        return report(
            False,
            "",
            f"this run has {len(d)} seed, so the spread of the differences is unknown and "
            "nothing can be planned from it: run the lesson in the cpu profile (3 seeds)",
        )
    try:
        plan = seeds_to_decide(d)
    except ValueError as why:  # a zero or tiny mean gain: no practical number of seeds decides it
        if answer == math.inf:
            return report(True, f"no practical budget decides it: {why}.", "")
        return report(False, "", f"{why}; answer math.inf")
    n, ran = plan["n"], len(d)
    if not is_number(answer) or not math.isfinite(answer) or answer != int(answer):
        return report(False, "", f"give a whole number of seeds, got {answer!r}")
    answer = int(answer)
    if answer < 2:
        return report(
            False, "", f"{answer} seed(s) give no spread and so no t-interval: a paired t-test needs 2 or more"
        )
    width = _half_width(answer, plan["sd"])
    where = (
        f"with {answer} seeds the interval would be {plan['mean']:+.2f} ± {width:.2f} points "
        f"(t = {width * math.sqrt(answer) / plan['sd']:.2f} times sd {plan['sd']:.2f} / sqrt({answer}))"
    )
    if answer == n:
        return report(True, _seeds_right(plan, ran, where), "")
    if answer == plan["n_normal"] and plan["n_normal"] != n:
        return report(
            False,
            "",
            f"{answer} uses the normal 1.96; with few seeds the t quantile "
            "(scipy.stats.t.ppf(0.975, n - 1)) is larger, and it changes with n",
        )
    if answer == ran and n > ran:
        return report(
            False,
            "",
            f"{ran} is the budget this run had, and its interval includes zero: "
            "that is why section 7 says 'not decided'",
        )
    if answer < n:
        return report(False, "", f"{where}, which still includes zero")
    return report(False, "", f"{where}: that excludes zero, but fewer seeds would too; give the smallest number")
