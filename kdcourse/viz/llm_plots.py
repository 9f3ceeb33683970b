"""Lesson 06's figures for distilling a causal LM: students' perplexity and agreement, loss curves, memory.

Pure functions that take numbers and return a matplotlib Figure, in the palette of kdcourse.viz.plots.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from .plots import PALETTE


def lm_student_bars(
    rows: list[dict], teacher: dict | None = None, title: str = "Pruned students after the same steps on the same data"
):
    """Held-out perplexity (log scale, lower is better) and agreement with the teacher, one bar per student."""
    names = [r["student"] for r in rows]
    fig, (ppl, agree) = plt.subplots(1, 2, figsize=(10, 0.45 * len(rows) + 1.6), sharey=True)
    colours = [
        PALETTE["baseline"] if "before" in n else PALETTE["student"] if n.startswith("cross") else PALETTE["distilled"]
        for n in names
    ]
    for ax, key, label in (
        (ppl, "perplexity", "held-out perplexity (log scale, lower is better)"),
        (agree, "agreement", "agreement with the teacher's top-1 (higher is better)"),
    ):
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


def loss_curves(
    histories: dict[str, list[float]], smooth: int = 5, title: str = "Training loss per step (each in its own units)"
):
    """One panel per run: the training loss per step and its running mean over `smooth` steps."""
    fig, axes = plt.subplots(1, len(histories), figsize=(2.6 * len(histories), 2.6), squeeze=False)
    for ax, (name, values) in zip(axes[0], histories.items()):
        ax.plot(range(1, len(values) + 1), values, color=PALETTE["baseline"], linewidth=0.8)
        k = max(1, min(smooth, len(values)))
        mean = [
            sum(values[max(0, i - k + 1) : i + 1]) / len(values[max(0, i - k + 1) : i + 1]) for i in range(len(values))
        ]
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


def cut_search(scores, span_angles, drop: int, title: str = "Which blocks change the hidden state least?"):
    """Left: each block's own angle (input vs output). Right: for every start, the angle across `drop`
    consecutive blocks; the smallest is the span removed (marked on both panels)."""
    start = min(range(len(span_angles)), key=lambda i: (span_angles[i], i))
    dropped = set(range(start, start + drop))
    fig, (one, span) = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [3, 2]})
    one.bar(
        range(len(scores)),
        scores,
        color=[PALETTE["baseline"] if i in dropped else PALETTE["teacher"] for i in range(len(scores))],
    )
    one.set_xlabel("decoder block (grey: the span removed)")
    one.set_ylabel("angle(input, output) / π")
    one.set_title("each block on its own", fontsize=9)
    span.plot(range(len(span_angles)), span_angles, marker="o", markersize=3, color=PALETTE["teacher"])
    span.plot(
        [start],
        [span_angles[start]],
        marker="*",
        markersize=14,
        color=PALETTE["baseline"],
        linestyle="none",
        label=f"smallest: blocks {start}-{start + drop - 1}",
    )
    span.set_xlabel(f"first block of a span of {drop}")
    span.set_ylabel("angle across the span / π")
    span.set_title(f"{drop} consecutive blocks", fontsize=9)
    span.legend(frameon=False, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def pruning_curve(
    rows: list[dict],
    teacher_perplexity: float,
    healed: dict | None = None,
    title: str = "Layers removed vs held-out perplexity (log scale)",
):
    """Perplexity against blocks removed: each rule before healing ("even", "single", "span"), and the
    measured rules after the same short healing ("single_healed", "span_healed"), where the rows have them."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    drops = [r["drop"] for r in rows]
    styles = {
        "every other block, before healing": ("even", PALETTE["baseline"], "s", ":"),
        "smallest single blocks (ShortGPT), before healing": ("single", PALETTE["student"], "^", ":"),
        "most similar span (Gromov et al.), before healing": ("span", PALETTE["student"], "o", "--"),
        "smallest single blocks, after healing": ("single_healed", PALETTE["distilled"], "^", "-."),
        "most similar span, after healing": ("span_healed", PALETTE["distilled"], "o", "-"),
    }
    for label, (key, colour, marker, line) in styles.items():
        if all(key in r for r in rows):
            ax.plot(drops, [r[key] for r in rows], marker=marker, linestyle=line, color=colour, label=label)
    if healed is not None:
        ax.plot(
            [healed["drop"]],
            [healed["perplexity"]],
            marker="*",
            markersize=14,
            linestyle="none",
            color=PALETTE["distilled"],
            label=healed["label"],
        )
    ax.axhline(
        teacher_perplexity,
        color=PALETTE["teacher"],
        linestyle="--",
        linewidth=1,
        label=f"teacher ({teacher_perplexity:,.0f})",
    )
    ax.set_yscale("log")
    ax.set_xticks(drops)
    ax.set_xlabel("decoder blocks removed")
    ax.set_ylabel("held-out perplexity")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def quality_bars(
    quality: dict[str, dict],
    reference: str | None = "teacher",
    title: str = "Greedy text: distinct-2 (higher: more varied) and repetition (lower: fewer loops)",
):
    """Distinct-2 and 3-gram repetition per model, the `reference` row dashed.

    A row is llm.text_quality (one value per metric) or llm.mean_quality (a mean over sets of openings
    with its interval, drawn as an error bar)."""
    if not quality:
        raise ValueError("quality is empty; pass {name: llm.text_quality(texts), ...}")

    def mean(value):
        return value["mean"] if isinstance(value, dict) else value

    errors = {
        n: {k: (v["mean"] - v["low"], v["high"] - v["mean"]) for k, v in q.items() if isinstance(v, dict)}
        for n, q in quality.items()
    }
    quality = {n: {k: mean(v) for k, v in q.items()} for n, q in quality.items()}
    names = list(quality)
    fig, (dist, rep) = plt.subplots(1, 2, figsize=(10, 0.45 * len(names) + 1.6), sharey=True)
    colours = [PALETTE["teacher"] if n == reference else PALETTE["distilled"] for n in names]
    for ax, key, label in (
        (dist, "distinct_2", "distinct-2 (share of unique word pairs)"),
        (rep, "repetition", "repetition (share of 3-grams seen before)"),
    ):
        values = [quality[n][key] for n in names]
        spread = [errors[n].get(key, (0.0, 0.0)) for n in names]
        drawn = [not any(map(math.isnan, e)) and any(e) for e in spread]
        ax.barh(names, values, color=colours)
        if any(drawn):
            ends = [(lo, hi) if ok else (0.0, 0.0) for (lo, hi), ok in zip(spread, drawn)]
            ax.errorbar(
                values, range(len(names)), xerr=list(zip(*ends)), fmt="none", ecolor="black", elinewidth=0.8, capsize=3
            )
        for i, v in enumerate(values):
            ax.text(
                v + (spread[i][1] if drawn[i] else 0),
                i,
                f" {v:.2f}" if key == "distinct_2" else f" {v:.0%}",
                va="center",
                fontsize=8,
            )
        if reference in quality:
            ax.axvline(quality[reference][key], color=PALETTE["teacher"], linestyle="--", linewidth=0.8)
        ax.set_xlim(0, 1)
        ax.set_xlabel(label, fontsize=9)
    dist.invert_yaxis()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
