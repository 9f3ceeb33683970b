"""Median redraw time of the lesson-02 widgets, on the lesson's real teacher/student logits.

One redraw = what a slider move costs: `set(...)` (recompute the numbers) + `render_png()` (blit the
changed artists, encode the PNG the widget shows). For comparison it also times drawing a whole new
static figure. Writes this CPU kind's entry of benchmarks/results/widgets.json and .md (other CPUs'
are kept; --out for another folder).

    KDCOURSE_CACHE=... python benchmarks/widgets.py [--profile smoke] [--changes 40] [--out DIR]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402
from common import header, write_results  # noqa: E402  benchmarks/common.py (the script's folder is on sys.path)

import kdcourse  # noqa: E402
from kdcourse import corpus, probe, students  # noqa: E402
from kdcourse.viz import explorers  # noqa: E402

OUT = Path(__file__).resolve().parent / "results"


def lesson_inputs(profile, reviews: int = 8, batch: int = 64):
    """The lesson's inputs: probe-teacher and layer-copy-student logits on real validation snippets."""
    data = corpus.load_task_data(profile, seed=0)
    teacher = probe.fit_probe(profile, seed=0, data=data)
    student = students.student_from_teacher(teacher.encoder, [0, 2, 4])
    rows = data["validation"].select(range(min(batch, len(data["validation"]))))
    t_logits = teacher.logits(rows["text"])
    s_logits = teacher.head(probe.embed(rows["text"], student, teacher.tokenizer, profile.max_length)).detach()
    return rows["text"], t_logits, s_logits, torch.tensor(rows["label"]), reviews


def _times(fn, changes) -> list[float]:
    out = []
    for change in changes:
        start = time.perf_counter()
        fn(change)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _summary(ms: list[float]) -> dict:
    ms = sorted(ms)
    return {
        "median_ms": round(statistics.median(ms), 1),
        "p90_ms": round(ms[int(0.9 * (len(ms) - 1))], 1),
        "max_ms": round(ms[-1], 1),
        "n": len(ms),
    }


def _static(widget, change):
    fig = widget.figure(**change)
    fig.savefig(io.BytesIO(), format="png")
    plt.close(fig)


def markdown(report: dict) -> str:
    """The result as a short Markdown report."""
    lines = [
        f"# Lesson 02 widgets: ms per slider change ({report['profile']} profile)",
        "",
        f"{report['what']}; target: median at most {report['target_ms']} ms. Load average "
        f"{report['machine']['loadavg_before']} -> {report['machine']['loadavg_after']}.",
        "",
        "| widget | median ms | p90 ms | max ms | first draw ms | whole new figure, median ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in report["widgets"].items():
        d = r["redraw"]
        lines.append(
            f"| {name} | {d['median_ms']} | {d['p90_ms']} | {d['max_ms']} | {r['first_draw_ms']} | "
            f"{r['full_static_figure']['median_ms']} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=os.environ.get("KDCOURSE_PROFILE", "smoke"))
    parser.add_argument("--changes", type=int, default=40, help="slider moves timed per widget")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for widgets.json and .md (default: %(default)s)")
    args = parser.parse_args(argv)
    profile = kdcourse.setup(seed=0, profile=args.profile, verbose=False)
    cpu = header()
    texts, t_logits, s_logits, labels, k = lesson_inputs(profile)
    load_before = os.getloadavg()
    lesson02 = {
        "temperature_explorer": (
            explorers.TemperatureExplorer(texts[:k], t_logits[:k], s_logits[:k], labels[:k].tolist()),
            [
                {"temperature": round(0.1 + (i * 0.7) % 9.9, 1)} if i % 3 else {"index": i % k}
                for i in range(args.changes)
            ],
        ),
        "loss_explorer": (
            explorers.LossExplorer(s_logits, t_logits, labels),
            [
                {"temperature": round(0.5 + (i * 0.7) % 9.5, 1)} if i % 2 else {"alpha": round((i * 0.15) % 1.0, 2)}
                for i in range(args.changes)
            ],
        ),
    }
    results = {}
    for name, (widget, changes) in lesson02.items():
        start = time.perf_counter()
        widget.render_png()  # first draw: builds the figure and caches its static background
        first = (time.perf_counter() - start) * 1000
        redraw = _times(lambda c, w=widget: (w.set(**c), w.render_png()), changes)
        full = _times(lambda c, w=widget: _static(w, c), changes[: max(5, len(changes) // 4)])
        results[name] = {
            "redraw": _summary(redraw),
            "first_draw_ms": round(first, 1),
            "full_static_figure": _summary(full),
        }
    target_ms = 150
    report = {
        "what": "lesson-02 widgets: median ms per slider change (set + blitted PNG render)",
        "target_ms": target_ms,
        "profile": profile.name,
        "widgets": results,
        "targets": {
            f"{name} redraw, median ms": {
                "wanted": f"<= {target_ms}",
                "measured": r["redraw"]["median_ms"],
                "met": r["redraw"]["median_ms"] <= target_ms,
            }
            for name, r in results.items()
        },
        "cpu": cpu,
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "torch": torch.__version__,
            "matplotlib": matplotlib.__version__,
            "platform": platform.platform(),
        },
    }
    folder, name = (args.out.parent, args.out.stem) if args.out.suffix == ".json" else (args.out, "widgets")
    write_results(report, folder, name, markdown(report))
    for name, r in results.items():
        print(
            f"{name}: median {r['redraw']['median_ms']} ms per change (p90 {r['redraw']['p90_ms']}), "
            f"whole new figure {r['full_static_figure']['median_ms']} ms; load {report['machine']['loadavg_before']}"
        )
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
