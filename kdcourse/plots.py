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
