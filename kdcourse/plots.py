"""Figures the lessons show: pure functions that take numbers and return a matplotlib Figure."""
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


def playground_curves(baseline: dict | None, history: dict | None,
                      title: str = "Distillation playground: validation curves"):
    """Validation accuracy and loss per step of a distilled run next to the hard-label baseline."""
    if baseline is None and history is None:
        raise ValueError("nothing to plot yet: train a run first (press Train or call .train())")
    fig, (acc_ax, loss_ax) = plt.subplots(1, 2, figsize=(10, 3.4))
    runs = [("hard labels only (alpha=0)", baseline, PALETTE["baseline"], "--")]
    if history is not None:
        name = f"distilled (T={history['temperature']:g}, alpha={history['alpha']:g})"
        runs.append((name, history, PALETTE["distilled"], "-"))
    for name, run, colour, style in runs:
        if run is None:
            continue
        acc_ax.plot(run["eval_step"], run["eval_accuracy"], style, marker="o", color=colour, label=name)
        loss_ax.plot(run["eval_step"], run["eval_loss"], style, marker="o", color=colour, label=name)
    acc_ax.set_ylabel("validation accuracy")
    loss_ax.set_ylabel("validation cross-entropy")
    for ax in (acc_ax, loss_ax):
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    acc_ax.legend(frameon=False, fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# --- Lesson 02: soft labels and the distillation loss (engineer "losses") ----------------------
# With fig=None these build a new figure; given the figure they returned earlier, they only update
# its artists (bar heights, labels, marker line). animated=True marks the changing artists so a
# widget can blit them over a cached background (fig._kd_artists["animated"]): cheap redraws.


def _animate(art: dict, animated: bool) -> None:
    """Collect the artists an update changes; with animated=True, mark them for blitting."""
    def flat(value):  # dicts, lists and BarContainers (tuples of bars) down to single artists
        items = value.values() if isinstance(value, dict) else value
        if isinstance(items, (list, tuple)) or isinstance(value, dict):
            return [a for item in items for a in flat(item)]
        return [value]

    art["animated"] = flat(art) if animated else []
    for artist in art["animated"]:
        artist.set_animated(True)


def _two_panels():
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 1.3]})
    return fig, axes


def temperature_panels(probs: dict, probs_at_1: dict, class_names, grid, entropies: dict,
                       temperature: float, title: str = "", fig=None, animated: bool = False):
    """Left: softened class probabilities per model at T (T=1 dashed); right: entropy vs T, T marked."""
    import math

    names, width = list(probs), 0.8 / max(1, len(probs))
    if fig is None or not hasattr(fig, "_kd_artists"):
        fig, (bars, curve) = _two_panels()
        art = {"bars": {}, "texts": {}, "lines": {}}
        for k, name in enumerate(names):
            xs = [c + (k - (len(names) - 1) / 2) * width for c in range(len(class_names))]
            colour = PALETTE.get(name, "#8172B3")
            art["bars"][name] = bars.bar(xs, probs[name], width * 0.95, color=colour, label=name)
            art["bars"][name + "@1"] = bars.bar(xs, probs_at_1[name], width * 0.95, fill=False,
                                                edgecolor="black", linewidth=0.8, linestyle="--",
                                                label="at T=1" if k == 0 else None)
            art["texts"][name] = [bars.text(x, 0, "", ha="center", fontsize=8) for x in xs]
            art["lines"][name] = curve.plot(grid, entropies[name], color=colour, label=name)[0]
        bars.set_xticks(range(len(class_names)), class_names)
        bars.set_ylim(0, 1.12)
        bars.set_ylabel("probability")
        bars.legend(frameon=False, fontsize=7, loc="upper left", ncol=3)
        curve.axhline(math.log2(len(class_names)), color="grey", linestyle=":", label="uniform (max)")
        art["marker"] = curve.axvline(temperature, color="black", linewidth=0.8)
        curve.set_xscale("log")
        curve.set_ylim(0, math.log2(len(class_names)) * 1.08)
        curve.set_xlabel("temperature T (log scale)")
        curve.set_ylabel("entropy (bits)")
        curve.legend(frameon=False, fontsize=7, loc="lower right")
        curve.set_title("T → 0: one-hot (0 bits); T → ∞: uniform (max)", fontsize=9)
        bars.set_title(" ", fontsize=8)
        art["title"] = bars.title
        fig.tight_layout()
        _animate(art, animated)
        fig._kd_artists = art
    art = fig._kd_artists
    for name in names:
        for rect, p in zip(art["bars"][name], probs[name]):
            rect.set_height(p)
        for rect, p in zip(art["bars"][name + "@1"], probs_at_1[name]):
            rect.set_height(p)
        for text, p in zip(art["texts"][name], probs[name]):
            text.set_y(p + 0.02)
            text.set_text(f"{p:.2f}")
        art["lines"][name].set_ydata(entropies[name])
    art["marker"].set_xdata([temperature, temperature])
    art["title"].set_text(f"T={temperature:.2g} (dashed: T=1) | {title}")
    return fig


def loss_panels(terms: dict, temperature: float, alpha: float, grid, grad_norms: dict, fig=None,
                ymax: float | None = None, animated: bool = False):
    """Left: soft, hard and total loss at (T, alpha); right: gradient norms vs T (log-log), T marked."""
    names = list(terms)
    if fig is None or not hasattr(fig, "_kd_artists"):
        fig, (bars, curve) = _two_panels()
        colours = [PALETTE["teacher"], PALETTE["baseline"], PALETTE["distilled"]]
        art = {"bars": bars.bar(names, [0.0] * len(names), color=colours[:len(names)]),
               "texts": [bars.text(i, 0, "", ha="center", fontsize=8) for i in range(len(names))]}
        bars.set_ylabel("loss")
        styles = {"with T²": "-", "without T²": "--", "hard term": ":"}
        for name, values in grad_norms.items():
            curve.plot(grid, values, styles.get(name, "-"), label=name,
                       color={"hard term": PALETTE["baseline"]}.get(name, PALETTE["teacher"]))
        art["marker"] = curve.axvline(temperature, color="black", linewidth=0.8)
        curve.set_xscale("log")
        curve.set_yscale("log")
        curve.set_xlabel("temperature T (log scale)")
        curve.set_ylabel("‖∂loss/∂student logits‖")
        curve.legend(frameon=False, fontsize=7)
        curve.set_title("soft-term gradient: T² keeps it O(1)", fontsize=9)
        if ymax is not None:  # a fixed scale: the axis does not jump while sliders move
            bars.set_ylim(0, ymax)
        bars.set_title(" ", fontsize=9)
        art["title"] = bars.title
        fig.tight_layout()
        _animate(art, animated)
        fig._kd_artists = art
    art = fig._kd_artists
    top = max(max(terms.values()), 1e-9)
    for rect, text, name in zip(art["bars"], art["texts"], names):
        rect.set_height(terms[name])
        text.set_position((rect.get_x() + rect.get_width() / 2, terms[name] + top * 0.02))
        text.set_text(f"{terms[name]:.3f}")
    if ymax is None:
        fig.axes[0].set_ylim(0, top * 1.18)
    art["title"].set_text(f"T={temperature:.2g}, alpha={alpha:.2f}: total = {alpha:.2f}·soft + "
                          f"{1 - alpha:.2f}·hard")
    art["marker"].set_xdata([temperature, temperature])
    return fig


# --- Lesson 06: forward vs reverse KL toy, causal-LM results (engineer "llm") ------------------

def kl_direction_panels(x, teacher, student, mixes, mus, sigmas, mix: float, title: str = "",
                        fig=None):
    """Left: two-mode teacher and the one-Gaussian student fitted at `mix`; right: the fit vs the mix."""
    if fig is None or not hasattr(fig, "_kd_artists"):
        fig, (dist, curve) = _two_panels()
        art = {"teacher": dist.fill_between(x, teacher, color=PALETTE["teacher"], alpha=0.35,
                                            label="teacher p (two modes)"),
               "student": dist.plot(x, student, color=PALETTE["student"], linewidth=2,
                                    label="student q (one Gaussian)")[0], "teacher_y": teacher}
        dist.set_xlabel("x (think: the next token, on a line)")
        dist.set_ylabel("probability per bin")
        dist.legend(frameon=False, fontsize=7, loc="upper right")
        curve.plot(mixes, mus, color=PALETTE["student"], label="student mean μ")
        curve.plot(mixes, sigmas, color=PALETTE["student"], linestyle="--", label="student width σ")
        art["marker"] = curve.axvline(mix, color="black", linewidth=0.8)
        curve.set_xlabel("mix λ: 0 = forward KL(p‖q), 1 = reverse KL(q‖p)")
        curve.set_ylabel("fitted value")
        curve.legend(frameon=False, fontsize=7)
        curve.set_title("covering (wide, between the modes) → seeking (narrow, on one)", fontsize=9)
        dist.set_title(" ", fontsize=9)
        art["title"] = dist.title
        art["curves"] = curve.lines[:2]
        fig.tight_layout()
        fig._kd_artists = art
    art = fig._kd_artists
    if art.get("teacher_y") is not teacher:  # a new teacher: refill its area
        art["teacher"].remove()
        art["teacher"] = fig.axes[0].fill_between(x, teacher, color=PALETTE["teacher"], alpha=0.35)
    art["teacher_y"] = teacher
    art["student"].set_ydata(student)
    fig.axes[0].set_ylim(0, max(max(teacher), max(student)) * 1.3)
    art["curves"][0].set_ydata(mus)
    art["curves"][1].set_ydata(sigmas)
    curve = fig.axes[1]
    curve.relim()
    curve.autoscale_view()
    art["marker"].set_xdata([mix, mix])
    art["title"].set_text(title)
    return fig


def lm_student_bars(rows: list[dict], teacher: dict | None = None,
                    title: str = "Pruned students after the same steps on the same data"):
    """Held-out perplexity (log scale, lower is better) and agreement with the teacher, one bar per student."""
    names = [r["student"] for r in rows]
    fig, (ppl, agree) = plt.subplots(1, 2, figsize=(10, 0.45 * len(rows) + 1.6), sharey=True)
    colours = [PALETTE["baseline"] if "before" in n else PALETTE["student"] if n.startswith("cross")
               else PALETTE["distilled"] for n in names]
    for ax, key, label in ((ppl, "perplexity", "held-out perplexity (log scale, lower is better)"),
                           (agree, "agreement", "agreement with the teacher's top-1 (higher is better)")):
        values = [r[key] for r in rows]
        ax.barh(names, values, color=colours)
        for i, v in enumerate(values):
            ax.text(v, i, f" {v:,.1f}" if key == "perplexity" else f" {v:.1%}", va="center", fontsize=8)
        if teacher is not None and teacher.get(key) is not None:
            ax.axvline(teacher[key], color=PALETTE["teacher"], linestyle="--", label="teacher")
            ax.legend(frameon=False, fontsize=8, loc="lower right")
        ax.set_xlabel(label, fontsize=9)
    ppl.set_xscale("log")
    ppl.set_xlim(right=max(r["perplexity"] for r in rows) * 8)
    agree.set_xlim(0, 1)
    ppl.invert_yaxis()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def loss_curves(histories: dict[str, list[float]], smooth: int = 5,
                title: str = "Training loss per step (each in its own units)"):
    """One panel per run: the training loss per step and its running mean over `smooth` steps."""
    fig, axes = plt.subplots(1, len(histories), figsize=(2.6 * len(histories), 2.6), squeeze=False)
    for ax, (name, values) in zip(axes[0], histories.items()):
        ax.plot(range(1, len(values) + 1), values, color=PALETTE["baseline"], linewidth=0.8)
        k = max(1, min(smooth, len(values)))
        mean = [sum(values[max(0, i - k + 1):i + 1]) / len(values[max(0, i - k + 1):i + 1])
                for i in range(len(values))]
        ax.plot(range(1, len(values) + 1), mean, color=PALETTE["distilled"])
        ax.set_title(name, fontsize=9)
        ax.set_xlabel("step")
    axes[0][0].set_ylabel("loss")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def memory_bars(items: dict[str, float], title: str = "Memory for LLM distillation (MB, log scale)"):
    """Horizontal bars of memory sizes in MB (log scale), each value written at the bar's end."""
    fig, ax = plt.subplots(figsize=(7, 0.4 * len(items) + 1.2))
    names = list(items)
    ax.barh(names, [items[n] for n in names], color=PALETTE["teacher"])
    for i, n in enumerate(names):
        ax.text(items[n], i, f" {items[n]:,.1f}", va="center", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlim(right=max(items.values()) * 10)
    ax.invert_yaxis()
    ax.set_xlabel("MB (log scale)")
    ax.set_title(title, fontsize=10)
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
