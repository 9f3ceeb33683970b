"""Lesson 06's figures for distilling a causal LM: students' perplexity and agreement, loss curves, memory.

Pure functions that take numbers and return a matplotlib Figure, in the palette of kdcourse.plots.
"""
from __future__ import annotations

import matplotlib.pyplot as plt

from .plots import PALETTE


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
