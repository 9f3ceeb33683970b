"""Figures the widgets redraw: lesson 02's temperature and loss panels, lesson 03's playground curves
and lesson 06's KL-direction panels.

The lesson 02 and 06 panels work in place: with fig=None they build a new figure; given the figure they
returned earlier, they only update its artists (bar heights, labels, marker line). animated=True marks
the changing artists so a widget can blit them over a cached background (fig._kd_artists["animated"]):
cheap redraws. Each one is also a static figure a lesson can show on its own.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt

from .plots import PALETTE


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
    """A figure with two side-by-side axes, the right one a little wider: every panel's layout."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), gridspec_kw={"width_ratios": [1, 1.3]})
    return fig, axes


# --- Lesson 02: soft labels and the distillation loss ---------------------------------------------


def _temperature_artists(probs, probs_at_1, class_names, grid, entropies, temperature, animated):
    """temperature_panels' figure drawn once; its bars, texts, lines and marker kept on `fig._kd_artists`."""
    import math

    names, width = list(probs), 0.8 / max(1, len(probs))
    fig, (bars, curve) = _two_panels()
    art: dict[str, Any] = {"bars": {}, "texts": {}, "lines": {}}
    for k, name in enumerate(names):
        xs = [c + (k - (len(names) - 1) / 2) * width for c in range(len(class_names))]
        colour = PALETTE.get(name, "#8172B3")
        art["bars"][name] = bars.bar(xs, probs[name], width * 0.95, color=colour, label=name)
        art["bars"][name + "@1"] = bars.bar(
            xs,
            probs_at_1[name],
            width * 0.95,
            fill=False,
            edgecolor="black",
            linewidth=0.8,
            linestyle="--",
            label="at T=1" if k == 0 else None,
        )
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
    bars.set_title(" \n ", fontsize=8)  # two lines reserved: T on the first, the snippet below
    art["title"] = bars.title
    fig.tight_layout()
    _animate(art, animated)
    fig._kd_artists = art
    return fig


def temperature_panels(
    probs: dict,
    probs_at_1: dict,
    class_names,
    grid,
    entropies: dict,
    temperature: float,
    title: str = "",
    fig=None,
    animated: bool = False,
):
    """Left: softened class probabilities per model at T (T=1 dashed); right: entropy vs T, T marked."""
    if fig is None or not hasattr(fig, "_kd_artists"):
        fig = _temperature_artists(probs, probs_at_1, class_names, grid, entropies, temperature, animated)
    art = fig._kd_artists
    for name in probs:
        for rect, p in zip(art["bars"][name], probs[name]):
            rect.set_height(p)
        for rect, p in zip(art["bars"][name + "@1"], probs_at_1[name]):
            rect.set_height(p)
        for text, p in zip(art["texts"][name], probs[name]):
            text.set_y(p + 0.02)
            text.set_text(f"{p:.2f}")
        art["lines"][name].set_ydata(entropies[name])
    art["marker"].set_xdata([temperature, temperature])
    art["title"].set_text(f"T={temperature:.2g} (dashed: T=1)\n{title}")
    return fig


def loss_panels(
    terms: dict,
    temperature: float,
    alpha: float,
    grid,
    grad_norms: dict,
    fig=None,
    ymax: float | None = None,
    animated: bool = False,
):
    """Left: soft, hard and total loss at (T, alpha); right: gradient norms vs T (log-log), T marked."""
    names = list(terms)
    if fig is None or not hasattr(fig, "_kd_artists"):
        fig, (bars, curve) = _two_panels()
        colours = [PALETTE["teacher"], PALETTE["baseline"], PALETTE["distilled"]]
        art = {
            "bars": bars.bar(names, [0.0] * len(names), color=colours[: len(names)]),
            "texts": [bars.text(i, 0, "", ha="center", fontsize=8) for i in range(len(names))],
        }
        bars.set_ylabel("loss")
        styles = {"with T²": "-", "without T²": "--", "hard term": ":"}
        for name, values in grad_norms.items():
            curve.plot(
                grid,
                values,
                styles.get(name, "-"),
                label=name,
                color={"hard term": PALETTE["baseline"]}.get(name, PALETTE["teacher"]),
            )
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
    art["title"].set_text(f"T={temperature:.2g}, alpha={alpha:.2f}: total = {alpha:.2f}·soft + {1 - alpha:.2f}·hard")
    art["marker"].set_xdata([temperature, temperature])
    return fig


# --- Lesson 03: the distillation playground ------------------------------------------------------


def playground_curves(
    baseline: dict | None, history: dict | None, title: str = "Distillation playground: validation curves"
):
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


# --- Lesson 06: forward vs reverse KL on a two-mode teacher --------------------------------------


def kl_direction_panels(x, teacher, student, mixes, mus, sigmas, mix: float, title: str = "", fig=None):
    """Left: two-mode teacher and the one-Gaussian student fitted at `mix`; right: the fit vs the mix."""
    if fig is None or not hasattr(fig, "_kd_artists"):
        fig, (dist, curve) = _two_panels()
        art = {
            "teacher": dist.fill_between(
                x, teacher, color=PALETTE["teacher"], alpha=0.35, label="teacher p (two modes)"
            ),
            "student": dist.plot(x, student, color=PALETTE["student"], linewidth=2, label="student q (one Gaussian)")[
                0
            ],
            "teacher_y": teacher,
        }
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
