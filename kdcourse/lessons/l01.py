"""Lesson 01 (what distillation is): its auto-checked exercises (worked solutions: kdcourse_solutions)."""

from __future__ import annotations

import math

from .exercises import is_number, report, unanswered

# Why a setting other than the model makes a timing comparison unfair (exercise 01.1's hints).
UNFAIR = {
    "batch": "{x} vs {y} sequences per call: a bigger batch takes longer whatever the model",
    "tokens": "{x} vs {y} tokens per sequence: longer sequences are more work for any model",
    "threads": "{x} vs {y} CPU threads: that changes the machine's share, not the model",
    "runs": "{x} vs {y} timed runs: a single timing can land on a busy moment of the machine, a median of "
    "several cannot so easily",
}


def _timing_rows(timings) -> dict:
    """{row label: {column: value}} from a DataFrame indexed by row label, or from such a dict."""
    if hasattr(timings, "to_dict") and hasattr(timings, "index"):
        return {label: dict(row) for label, row in timings.to_dict(orient="index").items()}
    return {label: dict(row) for label, row in dict(timings).items()}


def check_fair_comparison(answer, timings) -> bool:
    """Exercise 01.1: the two rows of `timings` (one per measurement: model, settings, latency_ms) that differ
    in the model and in nothing else, so that their ratio is a fair speed-up."""
    if unanswered(answer):
        return False
    rows = _timing_rows(timings)
    settings = [c for c in next(iter(rows.values())) if c not in ("model", "latency_ms")]
    fair = [
        (x, y)
        for x in rows
        for y in rows
        if str(x) < str(y) and rows[x]["model"] != rows[y]["model"] and all(rows[x][c] == rows[y][c] for c in settings)
    ]
    if not fair:
        raise ValueError("no two rows of timings differ in the model only")
    if isinstance(answer, str) or not hasattr(answer, "__len__") or len(answer) != 2:
        return report(
            False, "", f"give two row labels, e.g. ({', '.join(repr(r) for r in list(rows)[:2])}), got {answer!r}"
        )
    x, y = sorted(answer, key=str)
    unknown = [r for r in (x, y) if r not in rows]
    if unknown:
        return report(False, "", f"{unknown[0]!r} is not a row of timings; rows are {', '.join(map(str, rows))}")
    if x == y:
        return report(False, "", "that is one row twice; a comparison needs two measurements")
    if rows[x]["model"] == rows[y]["model"]:
        return report(
            False,
            "",
            f"rows {x} and {y} both time {rows[x]['model']}: a comparison of two models needs one row of each",
        )
    slow, fast = sorted((x, y), key=lambda r: -rows[r]["latency_ms"])
    ratio = rows[slow]["latency_ms"] / rows[fast]["latency_ms"]
    differ = [c for c in settings if rows[x][c] != rows[y][c]]
    if differ:
        reasons = "; ".join(UNFAIR.get(c, "{x} vs {y} " + c).format(x=rows[x][c], y=rows[y][c]) for c in differ)
        return report(
            False,
            "",
            f"rows {x} and {y} differ in {' and '.join(differ)} as well as the model, so "
            f"their {ratio:.1f}x is not the models' alone ({reasons}). Look for two rows "
            "that differ in the model only",
        )
    shape = (
        f" on {rows[x]['batch']} sequences of {rows[x]['tokens']} tokens"
        if {"batch", "tokens"} <= set(settings)
        else ""
    )
    return report(
        True,
        f"rows {x} and {y} differ in the model only: {rows[fast]['model']} ran {ratio:.2f}x as "
        f"fast as {rows[slow]['model']}{shape}. Every other pair of the two models mixes the "
        "model with a setting.",
        "",
    )


def check_measured_speedup(answer, rows, slow: str = "BERT-base", fast: str = "DistilBERT") -> bool:
    """Exercise 01.2: how many times faster `fast` ran than `slow`, from benchmark_table rows."""
    if unanswered(answer):
        return False
    if not is_number(answer):
        return report(False, "", f"give a number, got {type(answer).__name__}")
    latency = {row["name"]: row["latency_ms"] for row in rows}
    for name in (slow, fast):
        if name not in latency:
            raise ValueError(f"no row named {name!r} in rows; rows are: {', '.join(latency)}")
    truth = latency[slow] / latency[fast]
    if math.isclose(answer, 1 / truth, rel_tol=1e-3):
        return report(
            False,
            "",
            "that is the inverse: divide the slow model's latency by the fast "
            "model's, so that 'faster' gives a ratio above 1",
        )
    if math.isclose(answer, truth - 1, rel_tol=1e-3):
        return report(
            False,
            "",
            f"{answer:.2f} is how much faster ('{truth - 1:.0%} faster'); the speed-up ratio is one more than that",
        )
    if math.isclose(answer, latency[slow] - latency[fast], rel_tol=1e-3):
        return report(False, "", "that is a difference in milliseconds; take a ratio")
    return report(
        math.isclose(answer, truth, rel_tol=1e-3),
        f"{fast} ran {truth:.2f}x as fast as {slow} here, i.e. {truth - 1:.0%} faster. "
        "Ratios from one run on one machine are what to compare, never raw "
        "milliseconds across machines.",
        f"{answer} differs from latency[{slow!r}] / latency[{fast!r}]",
    )


def check_most_uncertain_snippet(answer, probs) -> bool:
    """Exercise 01.3: the row index of `probs` with the most probability mass off its top class."""
    if unanswered(answer):
        return False
    import torch

    probs = torch.as_tensor(probs, dtype=torch.float32)
    if probs.dim() != 2:
        raise ValueError(f"probs must be (snippets, classes), got shape {tuple(probs.shape)}")
    if isinstance(answer, bool) or not isinstance(answer, int):
        return report(
            False,
            "",
            f"give a row index (an int), got {type(answer).__name__}; int(tensor.argmax()) turns a tensor into one",
        )
    if not 0 <= answer < len(probs):
        return report(False, "", f"{answer} is not a row index; there are {len(probs)} rows (0 to {len(probs) - 1})")
    off_top = 1 - probs.max(dim=-1).values
    truth = int(off_top.argmax())
    if off_top[answer] == off_top.min() and off_top[answer] != off_top[truth]:
        return report(
            False,
            "",
            f"row {answer} is the teacher's *most* confident snippet; look for the most mass off the top answer",
        )
    return report(
        bool(off_top[answer] == off_top[truth]),
        f"row {truth} puts {float(off_top[truth]):.2f} of its mass off the top answer: "
        "that is the snippet the teacher finds most ambiguous, a fact a hard label "
        "cannot carry.",
        f"row {answer} has {float(off_top[answer]):.2f} off its top answer, but another row has more",
    )
