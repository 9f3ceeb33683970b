"""Static figures of lessons 00-05: pure functions that take numbers and return a matplotlib Figure."""

from __future__ import annotations

import math

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
        ax.axvline(max_length, color="black", linestyle="--", label=f"max_length {max_length} ({cut:.1%} truncated)")
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


def _method_colour(name: str) -> str:
    """Colour by method: distilled/transfer green, before grey, teacher blue, student orange."""
    lowered = name.lower()
    for key, part in (
        ("distilled", "distil"),
        ("distilled", "transfer"),
        ("baseline", "before"),
        ("teacher", "teacher"),
        ("student", "student"),
    ):
        if part in lowered:
            return PALETTE[key]
    return PALETTE["baseline"]


UNITS = {"size_mb": "MB", "latency_ms": "ms"}  # bubble labels: '69.6 MB', not '69.6 size mb'
AXES = {"latency_ms": "latency (ms per batch, median)", "accuracy": "test accuracy", "size_mb": "MB on disk"}


def _value_text(key: str, value: float) -> str:
    if key in UNITS:
        return f"{value:.1f} {UNITS[key]}"
    return f"{key.replace('_', ' ')} {value:.3f}" if abs(value) <= 1 else f"{key.replace('_', ' ')} {value:,.4g}"


def _label_points(ax, points, texts, radii, gap: float = 6.0) -> None:
    """Name each point beside its bubble (radii in points) with a leader line, each text moved up or
    down, or to the other side, until it overlaps no other text or bubble and stays inside the axes."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer() if hasattr(fig.canvas, "get_renderer") else fig._get_renderer()
    frame, px = ax.get_window_extent(renderer), fig.dpi / 72  # px: pixels per point
    centres = ax.transData.transform(points)
    taken = [(cx - r * px, cy - r * px, cx + r * px, cy + r * px) for (cx, cy), r in zip(centres, radii)]

    def box(i, side, dy, w, h):  # pixel box of text i, `side` of its bubble and dy pixels up
        (cx, cy), dx, pad = centres[i], (radii[i] + gap) * px, 3 * px
        x0 = cx + dx if side > 0 else cx - dx - w
        return (x0 - pad, cy + dy - h / 2 - pad, x0 + w + pad, cy + dy + h / 2 + pad)

    def free(b, own):
        inside = frame.x0 <= b[0] and b[2] <= frame.x1 and frame.y0 <= b[1] and b[3] <= frame.y1
        return inside and not any(
            j != own and b[0] < t[2] and t[0] < b[2] and b[1] < t[3] and t[1] < b[3] for j, t in enumerate(taken)
        )

    for i in sorted(range(len(points)), key=lambda i: -centres[i][1]):  # top down: lines rarely cross
        probe = fig.text(0, 0, texts[i], fontsize=8)
        w, h = probe.get_window_extent(renderer).size
        probe.remove()
        sides = (1, -1) if centres[i][0] < (frame.x0 + frame.x1) / 2 else (-1, 1)
        shifts = [0] + [s * k * 2 * px for k in range(1, int(frame.height / px)) for s in (1, -1)]
        side, dy = next(
            ((side, dy) for side in sides for dy in shifts if free(box(i, side, dy, w, h), i)), (sides[0], 0)
        )
        taken.append(box(i, side, dy, w, h))
        ax.annotate(
            texts[i],
            points[i],
            xytext=(side * (radii[i] + gap), dy / px),
            textcoords="offset points",
            ha="left" if side > 0 else "right",
            va="center",
            fontsize=8,
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.8", "alpha": 0.9},
            arrowprops={
                "arrowstyle": "-",
                "color": "0.35",
                "lw": 0.7,
                "shrinkA": 0,
                "shrinkB": 2,
                "relpos": (0 if side > 0 else 1, 0.5),
            },
        )


def bubble_plot(
    rows: list[dict], x: str = "latency_ms", y: str = "accuracy", size: str = "size_mb", title: str | None = None
):
    """Scatter of rows (x vs y), bubble area proportional to `size`, each named beside it (leader line)."""
    if not rows:
        raise ValueError("rows is empty; pass the list from benchmark.benchmark_table(...)")
    for key in (x, y, size):
        missing = [r.get("name", "?") for r in rows if r.get(key) is None]
        if missing:
            raise ValueError(
                f"rows {missing} have no value for {key!r}; pass accuracy=... to "
                "benchmark_table, or choose another column"
            )
    biggest = max(r[size] for r in rows)
    areas = [1200 * r[size] / biggest if biggest else 100 for r in rows]
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for row, area in zip(rows, areas):
        colour = _method_colour(row["name"])
        ax.scatter(row[x], row[y], s=area, alpha=0.25, color=colour, edgecolors=colour, linewidths=1)
        ax.scatter(row[x], row[y], s=14, color=colour, edgecolors="black", linewidths=0.5, zorder=3)
    xs, ys = [r[x] for r in rows], [r[y] for r in rows]
    pad_x = (max(xs) - min(xs)) * 0.35 or abs(max(xs)) * 0.25 or 1
    pad_y = (max(ys) - min(ys)) * 0.35 or abs(max(ys)) * 0.05 or 1
    ax.set_xlim(min(xs) - pad_x, max(xs) + pad_x)
    ax.set_ylim(min(ys) - pad_y, max(ys) + pad_y)
    ax.set_xlabel(AXES.get(x, x.replace("_", " ")))
    ax.set_ylabel(AXES.get(y, y.replace("_", " ")))
    ax.set_title(title or f"{y} vs {x} (bubble area: {size})")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    texts = [f"{r['name']}\n{_value_text(size, r[size])}, {_value_text(y, r[y])}" for r in rows]
    _label_points(ax, list(zip(xs, ys)), texts, [(a / math.pi) ** 0.5 for a in areas])
    return fig


# --- Lesson 01: where the parameters are, and a teacher's soft outputs -----------------------


def param_breakdown_bars(
    breakdowns: dict[str, dict[str, int]], parts: tuple[str, ...] = ("embeddings", "transformer_layers", "head")
):
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


def soft_label_bars(
    probs,
    row_labels: list[str],
    class_names=("rotten", "fresh"),
    title: str = "Teacher's probabilities",
    wrap: int = 60,
):
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
    ax.legend(frameon=False, ncol=len(class_names), loc="lower center", bbox_to_anchor=(0.5, 1.08), fontsize=8)
    fig.tight_layout()
    return fig


def uncertainty_histogram(
    groups: dict[str, list[float]], bins: int = 20, xlabel: str = "probability mass off the teacher's top answer"
):
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
        ax.hist(
            values,
            bins=bins,
            range=(0, 0.5),
            density=True,
            alpha=0.55,
            color=colour,
            label=f"{name} (n={len(values)}, mean {mean:.2f})",
        )
        ax.axvline(mean, color=colour, linestyle="--")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return fig


# --- Lesson 03: the distillation loop -------------------------------------------------------


def accuracy_bars(
    accuracy: dict[str, float],
    n: int,
    majority: float | None = None,
    title: str = "Test accuracy (error bars: ±1 standard error)",
):
    """Bars of accuracies with ±1 standard error sqrt(p(1-p)/n) and the majority baseline as a line."""
    if not accuracy or n <= 0:
        raise ValueError(f"need at least one accuracy and n > 0, got {len(accuracy)} bars and n={n}")
    names, values = list(accuracy), list(accuracy.values())
    errors = [(p * (1 - p) / n) ** 0.5 for p in values]
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(names) + 1.4))
    ax.barh(names, values, xerr=errors, capsize=4, color=[_method_colour(name) for name in names])
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
    ax.barh(names, values, color=[PALETTE["teacher"], PALETTE["distilled"], PALETTE["baseline"]][: len(names)])
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.1f} s ({values[0] / v:.2f}x)", va="center", fontsize=9)
    ax.set_xlim(0, max(values) * 1.35)
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# --- Lesson 04: paired seeds and ablations ----------------------------------------------------


def paired_seed_plot(
    pairs: dict[str, tuple[list[float], list[float]]],
    labels: tuple[str, str] | dict[str, tuple[str, str]] = ("without teacher", "with teacher"),
    title: str = "Paired seeds: each line is one seed",
):
    """One panel per regime: accuracy without vs with the teacher, a line per seed, mean difference.

    labels: the two x labels of every panel, or a dict giving each regime its own."""
    if not pairs:
        raise ValueError("pairs is empty; pass {regime: (accuracies_without, accuracies_with)}")
    fig, axes = plt.subplots(1, len(pairs), figsize=(3.6 * len(pairs), 3.4), squeeze=False)
    for ax, (regime, (before, after)) in zip(axes[0], pairs.items()):
        if len(before) != len(after) or not before:
            raise ValueError(
                f"{regime}: need as many accuracies with as without the teacher, got {len(before)} and {len(after)}"
            )
        for a, b in zip(before, after):
            ax.plot([0, 1], [a, b], marker="o", color=PALETTE["distilled"] if b > a else "#C44E52")
        diff = sum(b - a for a, b in zip(before, after)) / len(before)
        ax.set_xticks([0, 1], labels[regime] if isinstance(labels, dict) else labels)
        ax.set_xlim(-0.3, 1.3)
        ax.set_title(f"{regime}\nmean difference {100 * diff:+.2f} points", fontsize=10)
        ax.set_ylabel("test accuracy")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def ablation_bars(
    deltas: dict[str, float], reference: str = "recipe", title: str = "Ablations: change in test accuracy vs the recipe"
):
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


def route_plot(
    scores: dict[str, list[float]],
    line: float,
    line_label: str = "the target",
    title: str = "Routes: each dot one seed, the bar their mean",
):
    """Each route's accuracy per seed (dots, one colour per seed) and its mean (a bar), against a target line."""
    if not scores or any(not values for values in scores.values()):
        raise ValueError("scores needs at least one route, each with at least one accuracy")
    names = list(scores)
    fig, ax = plt.subplots(figsize=(7.5, 0.6 * len(names) + 1.6))
    for i, name in enumerate(names):
        values = scores[name]
        mean = sum(values) / len(values)
        ax.plot([mean, mean], [i - 0.3, i + 0.3], color="black", linewidth=2)
        ax.scatter(values, [i] * len(values), c=[f"C{k}" for k in range(len(values))], zorder=3, s=28)
        ax.text(max(values + [line]) + 0.002, i, f"mean {mean:.3f}", va="center", fontsize=9)
    ax.axvline(line, color="#C44E52", linestyle="--", label=f"{line_label} ({line:.3f})")
    low, high = min(min(v) for v in scores.values()), max(max(v) for v in scores.values())
    ax.set_xlim(min(low, line) - 0.01, max(high, line) + 0.02)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel("test accuracy")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    fig.tight_layout()
    return fig


# --- Lesson 05: quantization -------------------------------------------------------------------


def quantization_histogram(
    x, x_hat, scale: float, bins: int = 120, title: str = "One weight matrix, float32 vs int8 (dequantized)"
):
    """Left: histogram of the weights before and after int8 round trip; right: the error, within ±scale/2."""
    import numpy as np

    x = np.asarray(x, dtype=np.float64).ravel()
    x_hat = np.asarray(x_hat, dtype=np.float64).ravel()
    if x.shape != x_hat.shape or not x.size:
        raise ValueError(f"x and x_hat must have the same non-zero size, got {x.size} and {x_hat.size}")
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    edges = np.linspace(x.min(), x.max(), bins + 1)
    left.hist(x, bins=edges, color=PALETTE["teacher"], alpha=0.6, label="float32")
    left.hist(
        x_hat,
        bins=edges,
        color=PALETTE["student"],
        alpha=0.6,
        histtype="step",
        linewidth=1.2,
        label="int8, dequantized",
    )
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


# --- Lesson 07: the accuracy-latency frontier ----------------------------------------------------


def frontier_plot(
    points: dict[str, tuple[float, float]],
    front: list[str],
    xlabel: str = "latency (ms, log scale)",
    title: str = "Accuracy vs latency: the frontier",
):
    """Every model as a point (log latency, accuracy), each named beside it; the Pareto front as a line."""
    if not points:
        raise ValueError("points is empty; pass name -> (latency_ms, accuracy)")
    unknown = [n for n in front if n not in points]
    if unknown:
        raise ValueError(f"front names models that are not in points: {unknown}")
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    names = list(points)
    xs, ys = [points[n][0] for n in names], [points[n][1] for n in names]
    for name, x, y in zip(names, xs, ys):
        on = name in front
        ax.scatter(
            x,
            y,
            s=40 if on else 22,
            color=_method_colour(name),
            edgecolors="black",
            linewidths=0.6,
            zorder=3,
            marker="o" if on else "s",
            alpha=1.0 if on else 0.6,
        )
    ax.step(
        [points[n][0] for n in front],
        [points[n][1] for n in front],
        where="post",
        color="black",
        linewidth=1.2,
        linestyle="--",
        label="Pareto front",
        zorder=2,
    )
    ax.set_xscale("log")
    span = max(xs) / min(xs)
    ax.set_xlim(min(xs) / span**0.25, max(xs) * span**0.25)
    pad = (max(ys) - min(ys)) * 0.25 or 0.01
    ax.set_ylim(min(ys) - pad, max(ys) + pad)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    _label_points(ax, list(zip(xs, ys)), names, [3.0] * len(names))
    return fig
