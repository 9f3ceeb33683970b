"""Static figures of lessons 00-05: pure functions that take numbers and return a matplotlib Figure."""
from __future__ import annotations

import matplotlib.pyplot as plt

PALETTE = {"teacher": "#4C72B0", "student": "#DD8452", "distilled": "#55A868", "baseline": "#8C8C8C"}


def label_balance_figure(counts: dict[str, dict[str, int]]):
    """Stacked bars of label counts per split, with the majority share written on each bar."""
    fig, ax = plt.subplots(figsize=(6, 3))
    splits = list(counts)
    labels = sorted({label for c in counts.values() for label in c})
    bottoms = [0] * len(splits)
    for label, colour in zip(labels, ("#C44E52", "#55A868", "#4C72B0")):
        heights = [counts[s].get(label, 0) for s in splits]
        ax.bar(splits, heights, bottom=bottoms, label=label, color=colour)
        bottoms = [b + h for b, h in zip(bottoms, heights)]
    for i, split in enumerate(splits):
        share = max(counts[split].values()) / sum(counts[split].values())
        ax.text(i, bottoms[i], f"majority {share:.1%}", ha="center", va="bottom", fontsize=9)
    ax.set_ylabel("snippets")
    ax.set_ylim(0, max(bottoms) * 1.15)
    ax.legend(frameon=False, loc="upper right")
    ax.set_title("Labels per split (split by movie)")
    fig.tight_layout()
    return fig


def length_histogram(lengths: list[int], max_length: int | None = None):
    """Histogram of token lengths, with the profile's max_length marked."""
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist(lengths, bins=40, color=PALETTE["teacher"])
    if max_length is not None:
        cut = sum(n > max_length for n in lengths) / len(lengths)
        ax.axvline(max_length, color="black", linestyle="--",
                   label=f"max_length {max_length} ({cut:.1%} truncated)")
        ax.legend(frameon=False)
    ax.set_xlabel("tokens per snippet (WordPiece, with [CLS] and [SEP])")
    ax.set_ylabel("snippets")
    fig.tight_layout()
    return fig


# --- Benchmarks (lesson 01 on; rows from kdcourse.benchmark.benchmark_table) -----------------

def _row_colour(name: str) -> str:
    """A palette colour for a model named like a palette key (teacher, student, ...), else grey."""
    lowered = name.lower()
    return next((c for key, c in PALETTE.items() if key in lowered), PALETTE["baseline"])


def latency_bars(rows: list[dict], title: str = "Median latency per batch (lower is faster)"):
    """Horizontal bars of each row's latency_ms, labelled with ms and speed-up."""
    if not rows:
        raise ValueError("rows is empty; pass the list from benchmark.benchmark_table(...)")
    names = [r["name"] for r in rows]
    values = [r["latency_ms"] for r in rows]
    fig, ax = plt.subplots(figsize=(6, 0.6 * len(rows) + 1.2))
    ax.barh(names, values, color=[_row_colour(n) for n in names])
    for i, row in enumerate(rows):
        extra = f"  (x{row['speedup']:.2f})" if row.get("speedup") is not None else ""
        ax.text(row["latency_ms"], i, f" {row['latency_ms']:.1f} ms{extra}", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(values) * 1.35)
    ax.set_xlabel("milliseconds per batch (median)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def bubble_plot(rows: list[dict], x: str = "latency_ms", y: str = "accuracy", size: str = "size_mb",
                title: str | None = None):
    """Scatter of rows (x vs y) with bubble area proportional to `size`, each bubble named."""
    if not rows:
        raise ValueError("rows is empty; pass the list from benchmark.benchmark_table(...)")
    for key in (x, y, size):
        missing = [r.get("name", "?") for r in rows if r.get(key) is None]
        if missing:
            raise ValueError(f"rows {missing} have no value for {key!r}; pass accuracy=... to "
                             "benchmark_table, or choose another column")
    biggest = max(r[size] for r in rows)
    fig, ax = plt.subplots(figsize=(6, 4))
    for row in rows:
        area = 2000 * row[size] / biggest if biggest else 100
        ax.scatter(row[x], row[y], s=area, alpha=0.55, color=_row_colour(row["name"]),
                   edgecolors="black", linewidths=0.5)
        ax.annotate(f"{row['name']}\n{row[size]:.1f} {size.replace('_', ' ')}", (row[x], row[y]),
                    ha="center", va="center", fontsize=8)
    xs, ys = [r[x] for r in rows], [r[y] for r in rows]
    pad_x = (max(xs) - min(xs)) * 0.25 or abs(max(xs)) * 0.25 or 1
    pad_y = (max(ys) - min(ys)) * 0.25 or abs(max(ys)) * 0.05 or 1
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
    ax.set_ylim(min(ys) - pad_y, max(ys) + pad_y)
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y.replace("_", " "))
    ax.set_title(title or f"{y} vs {x} (bubble area: {size})")
    fig.tight_layout()
    return fig


# --- Lesson 01: where the parameters are, and a teacher's soft outputs -----------------------

def param_breakdown_bars(breakdowns: dict[str, dict[str, int]],
                         parts: tuple[str, ...] = ("embeddings", "transformer_layers", "head")):
    """Stacked bars of parameters (millions) per model, split into parts (e.g. describe_student rows)."""
    if not breakdowns:
        raise ValueError("breakdowns is empty; pass {name: students.describe_student(model)}")
    fig, ax = plt.subplots(figsize=(6, 0.7 * len(breakdowns) + 1.4))
    names = list(breakdowns)
    lefts = [0.0] * len(names)
    for part, colour in zip(parts, ("#8172B3", PALETTE["teacher"], PALETTE["baseline"])):
        widths = [breakdowns[n].get(part, 0) / 1e6 for n in names]
        ax.barh(names, widths, left=lefts, color=colour, label=part.replace("_", " "))
        lefts = [a + b for a, b in zip(lefts, widths)]
    for i, total in enumerate(lefts):
        ax.text(total, i, f" {total:.1f}M", va="center", fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, max(lefts) * 1.2)
    ax.set_xlabel("parameters (millions)")
    ax.legend(frameon=False, loc="lower right", fontsize=8)
    fig.tight_layout()
    return fig


def soft_label_bars(probs, row_labels: list[str], class_names=("rotten", "fresh"),
                    title: str = "Teacher's probabilities", wrap: int = 60):
    """Stacked horizontal bars, one per row of `probs` (rows sum to 1), each class share written in."""
    import textwrap

    probs = [[float(p) for p in row] for row in probs]
    if len(probs) != len(row_labels):
        raise ValueError(f"probs has {len(probs)} rows but row_labels has {len(row_labels)}")
    colours = ("#C44E52", "#55A868", "#4C72B0", "#8172B3", "#CCB974")
    labels = [textwrap.shorten(str(t), width=wrap, placeholder=" …") for t in row_labels]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(probs) + 1.3))
    lefts = [0.0] * len(probs)
    for c, name in enumerate(class_names):
        widths = [row[c] for row in probs]
        ax.barh(range(len(probs)), widths, left=lefts, color=colours[c % len(colours)], label=name)
        for i, (left, w) in enumerate(zip(lefts, widths)):
            if w >= 0.06:
                ax.text(left + w / 2, i, f"{w:.2f}", ha="center", va="center", fontsize=8, color="white")
        lefts = [a + b for a, b in zip(lefts, widths)]
    ax.set_yticks(range(len(probs)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    ax.set_title(title)
    ax.legend(frameon=False, ncol=len(class_names), loc="lower center", bbox_to_anchor=(0.5, 1.08),
              fontsize=8)
    fig.tight_layout()
    return fig


def uncertainty_histogram(groups: dict[str, list[float]], bins: int = 20,
                          xlabel: str = "probability mass off the teacher's top answer"):
    """Overlaid, normalised histograms of one quantity for several groups (e.g. right vs wrong)."""
    if not groups:
        raise ValueError("groups is empty; pass e.g. {'right': [...], 'wrong': [...]}")
    fig, ax = plt.subplots(figsize=(6, 3))
    colours = (PALETTE["distilled"], "#C44E52", PALETTE["teacher"], PALETTE["baseline"])
    for (name, values), colour in zip(groups.items(), colours):
        values = [float(v) for v in values]
        if not values:
            continue
        mean = sum(values) / len(values)
        ax.hist(values, bins=bins, range=(0, 0.5), density=True, alpha=0.55, color=colour,
                label=f"{name} (n={len(values)}, mean {mean:.2f})")
        ax.axvline(mean, color=colour, linestyle="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


# --- Lesson 03: the distillation loop -------------------------------------------------------

def accuracy_bars(accuracy: dict[str, float], n: int, majority: float | None = None,
                  title: str = "Test accuracy (error bars: ±1 standard error)"):
    """Bars of accuracies with ±1 standard error sqrt(p(1-p)/n) and the majority baseline as a line."""
    if not accuracy or n <= 0:
        raise ValueError(f"need at least one accuracy and n > 0, got {len(accuracy)} bars and n={n}")
    names, values = list(accuracy), list(accuracy.values())
    errors = [(p * (1 - p) / n) ** 0.5 for p in values]
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(names) + 1.4))
    def colour(name):
        lowered = name.lower()
        for key, part in (("distilled", "distil"), ("distilled", "transfer"), ("baseline", "before"),
                          ("teacher", "teacher"), ("student", "student")):
            if part in lowered:
                return PALETTE[key]
        return PALETTE["baseline"]

    ax.barh(names, values, xerr=errors, capsize=4, color=[colour(name) for name in names])
    for i, (p, e) in enumerate(zip(values, errors)):
        ax.text(p + e + 0.005, i, f"{p:.3f} ± {e:.3f}", va="center", fontsize=9)
    low = min(values + ([majority] if majority is not None else []))
    if majority is not None:
        ax.axvline(majority, color="black", linestyle="--", label=f"majority baseline {majority:.3f}")
        ax.legend(frameon=False, loc="lower right", fontsize=8)
    ax.set_xlim(max(0.0, low - 0.05), min(1.0, max(values) + 0.08))
    ax.invert_yaxis()
    ax.set_xlabel(f"accuracy on {n} test snippets")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def seconds_bars(seconds: dict[str, float], title: str = "Training time per epoch (lower is faster)"):
    """Horizontal bars of seconds per named variant, the first one as the 1.00x reference."""
    if not seconds:
        raise ValueError("seconds is empty; pass e.g. {'live teacher': 12.3, 'cached logits': 7.1}")
    names, values = list(seconds), list(seconds.values())
    fig, ax = plt.subplots(figsize=(6, 0.55 * len(names) + 1.2))
    ax.barh(names, values, color=[PALETTE["teacher"], PALETTE["distilled"], PALETTE["baseline"]][:len(names)])
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.1f} s ({values[0] / v:.2f}x)", va="center", fontsize=9)
    ax.set_xlim(0, max(values) * 1.35)
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# --- Lesson 04: paired seeds and ablations ----------------------------------------------------

def paired_seed_plot(pairs: dict[str, tuple[list[float], list[float]]],
                     labels: tuple[str, str] = ("without teacher", "with teacher"),
                     title: str = "Paired seeds: each line is one seed"):
    """One panel per regime: accuracy without vs with the teacher, a line per seed, mean difference."""
    if not pairs:
        raise ValueError("pairs is empty; pass {regime: (accuracies_without, accuracies_with)}")
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.6 * len(pairs), 3.4), squeeze=False)
    for ax, (regime, (before, after)) in zip(axes[0], pairs.items()):
        if len(before) != len(after) or not before:
            raise ValueError(f"{regime}: need as many accuracies with as without the teacher, got "
                             f"{len(before)} and {len(after)}")
        for a, b in zip(before, after):
            ax.plot([0, 1], [a, b], marker="o", color=PALETTE["distilled"] if b > a else "#C44E52")
        diff = sum(b - a for a, b in zip(before, after)) / len(before)
        ax.set_xticks([0, 1], labels)
        ax.set_xlim(-0.3, 1.3)
        ax.set_title(f"{regime}\nmean difference {100 * diff:+.2f} points", fontsize=10)
        ax.set_ylabel("test accuracy")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def ablation_bars(deltas: dict[str, float], reference: str = "recipe",
                  title: str = "Ablations: change in test accuracy vs the recipe"):
    """Horizontal bars of each variant's accuracy change (points) relative to `reference`."""
    if not deltas:
        raise ValueError("deltas is empty; pass {variant: accuracy change in points}")
    names, values = list(deltas), list(deltas.values())
    fig, ax = plt.subplots(figsize=(6.5, 0.5 * len(names) + 1.4))
    ax.barh(names, values, color=[PALETTE["distilled"] if v >= 0 else "#C44E52" for v in values])
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:+.2f} ", va="center", ha="left" if v >= 0 else "right", fontsize=9)
    span = max(abs(v) for v in values) or 1.0
    ax.set_xlim(-1.35 * span, 1.35 * span)
    ax.axvline(0, color="black", linewidth=0.8)
    ax.invert_yaxis()
    ax.set_xlabel(f"accuracy change vs {reference} (points)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# --- Lesson 05: quantization -------------------------------------------------------------------

def quantization_histogram(x, x_hat, scale: float, bins: int = 120,
                           title: str = "One weight matrix, float32 vs int8 (dequantized)"):
    """Left: histogram of the weights before and after int8 round trip; right: the error, within ±scale/2."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64).ravel()
    x_hat = np.asarray(x_hat, dtype=np.float64).ravel()
    if x.shape != x_hat.shape or not x.size:
        raise ValueError(f"x and x_hat must have the same non-zero size, got {x.size} and {x_hat.size}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    edges = np.linspace(x.min(), x.max(), bins + 1)
    left.hist(x, bins=edges, color=PALETTE["teacher"], alpha=0.6, label="float32")
    left.hist(x_hat, bins=edges, color=PALETTE["student"], alpha=0.6, histtype="step", linewidth=1.2,
              label="int8, dequantized")
    left.set_yscale("log")
    left.set_xlabel("weight value")
    left.set_ylabel("count (log)")
    left.legend(fontsize=8)
    left.set_title(title, fontsize=10)
    right.hist(x - x_hat, bins=60, color=PALETTE["distilled"])
    for edge in (-scale / 2, scale / 2):
        right.axvline(edge, color="black", linestyle="--", linewidth=0.8)
    right.set_xlabel("error x - deq(q(x)); dashed: ±scale/2")
    right.set_title(f"round-trip error (scale = {scale:.2e})", fontsize=10)
    fig.tight_layout()
    return fig
