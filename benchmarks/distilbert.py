"""Lesson 04's claims at full size: the DistilBERT recipe in miniature, over seeds, on the test split.

Measures, for each seed of the profile (paired: same seed, same labelled rows for both methods):
  - all labels: student (teacher layers [0, 2, 4]) on hard labels only vs the recipe (soft + hard + cosine);
  - transfer set: `label_fraction` of the labels, hard only, vs the same labels + the teacher's soft
    targets on every training snippet;
and the fp32 latency of teacher vs student (median after warm-up, fixed threads, stated batch).
Nothing is tuned on test: every setting is fixed in kdcourse.lessons.l04.RECIPE and the profile.
Writes this CPU kind's entry of benchmarks/results/distilbert.json and .md (other CPUs' are kept; --out
for another folder). Run it on a quiet machine:

    KDCOURSE_CACHE=... python benchmarks/distilbert.py [--profile cpu] [--train-size N] [--seeds 0 1 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

from common import header, load_average, write_results  # benchmarks/common.py (the script's folder is on sys.path)

import kdcourse
from kdcourse import benchmark
from kdcourse.lessons import l04

OUT = Path(__file__).resolve().parent / "results"
TARGETS = {"retention": 0.99, "transfer_gain_points": 1.5, "speedup": 1.9}
COMPARE = [("fp32 speed-up vs the teacher", "latency", "speedup")]  # set side by side across CPUs


def measure(profile, seeds, progress: bool = True) -> dict:
    """Run every (seed, method) pair and the latency table; return the numbers and the verdicts."""
    from tqdm.auto import tqdm

    start, load_before = time.perf_counter(), load_average()
    setup = l04.prepare(profile, seed=0, progress=progress)
    methods = {
        "all labels, hard only": dict(labels="all", alpha=0.0, cosine_weight=0.0),
        "all labels, recipe": dict(labels="all"),
        "fraction of labels, hard only": dict(labels="fraction"),
        "fraction of labels + transfer set": dict(labels="transfer"),
    }
    runs, keep = {name: [] for name in methods}, {}
    bar = tqdm(total=len(methods) * len(seeds), desc="student runs", disable=not progress)
    for seed in seeds:
        for name, kwargs in methods.items():
            out = l04.run(setup, seed=seed, **kwargs)
            runs[name].append(
                {
                    "seed": seed,
                    "accuracy": out["accuracy"],
                    "steps": out["steps"],
                    "examples": out["examples"],
                    "seconds": round(out["seconds"], 1),
                }
            )
            if seed == seeds[0] and name in ("all labels, hard only", "all labels, recipe"):
                keep[name] = out["student"]
            bar.update()
    bar.close()
    rows = l04.results_table(
        setup,
        {"teacher": setup.teacher, **keep},
        {"teacher": setup.teacher_accuracy, **{n: runs[n][0]["accuracy"] for n in keep}},
    )
    summary = {name: dict(zip(("mean", "std"), l04.mean_std(r["accuracy"] for r in rs))) for name, rs in runs.items()}
    paired = {
        "recipe - hard (all labels)": [
            b["accuracy"] - a["accuracy"] for a, b in zip(runs["all labels, hard only"], runs["all labels, recipe"])
        ],
        "transfer - hard (fraction)": [
            b["accuracy"] - a["accuracy"]
            for a, b in zip(runs["fraction of labels, hard only"], runs["fraction of labels + transfer set"])
        ],
    }
    retention = summary["all labels, recipe"]["mean"] / setup.teacher_accuracy
    gain = 100 * statistics.mean(paired["transfer - hard (fraction)"])
    speedup = rows[0]["latency_ms"] / rows[-1]["latency_ms"]
    return {
        "profile": profile.name,
        "note": setup.note,
        "seeds": list(seeds),
        "train_examples": len(setup.train),
        "test_examples": len(setup.data["test"]),
        "label_fraction": profile.label_fraction,
        "epochs": profile.student_epochs,
        "recipe": l04.RECIPE,
        "teacher_accuracy": setup.teacher_accuracy,
        "runs": runs,
        "summary": summary,
        "paired_differences": {
            k: {"per_seed": v, "mean": l04.mean_std(v)[0], "std": l04.mean_std(v)[1]} for k, v in paired.items()
        },
        "latency": [{k: v for k, v in r.items()} for r in rows],
        "latency_setup": {
            "batch": profile.bench_batch,
            "seq_len": profile.max_length,
            "threads": profile.bench_threads,
            "repeats": profile.bench_repeats,
            "dtype": "float32",
        },
        "targets": {
            "retention": {"value": retention, "target": TARGETS["retention"], "met": retention >= TARGETS["retention"]},
            "transfer_gain_points": {
                "value": gain,
                "target": TARGETS["transfer_gain_points"],
                "met": gain >= TARGETS["transfer_gain_points"],
            },
            "speedup": {"value": speedup, "target": TARGETS["speedup"], "met": speedup >= TARGETS["speedup"]},
        },
        "machine": {
            "platform": platform.platform(),
            "python": sys.version.split()[0],
            "cpus": os.cpu_count(),
            "load_before": load_before,
            "load_after": load_average(),
        },
        "seconds": round(time.perf_counter() - start, 1),
    }


def markdown(result: dict) -> str:
    """The result as a short Markdown report."""
    lines = [
        f"# Lesson 04 benchmark ({result['profile']} profile)",
        "",
        f"{result['note']}; {result['train_examples']} training snippets, test split "
        f"{result['test_examples']} (by movie); seeds {result['seeds']}; "
        f"{result['epochs']} epochs; recipe {result['recipe']}.",
        "",
        f"Teacher accuracy: {result['teacher_accuracy']:.4f}",
        "",
        "| method | accuracy (mean ± std) | per seed |",
        "|---|---|---|",
    ]
    for name, s in result["summary"].items():
        per = ", ".join(f"{r['accuracy']:.4f}" for r in result["runs"][name])
        lines.append(f"| {name} | {s['mean']:.4f} ± {s['std']:.4f} | {per} |")
    lines += ["", "| paired difference | mean ± std | per seed |", "|---|---|---|"]
    for name, d in result["paired_differences"].items():
        per = ", ".join(f"{v:+.4f}" for v in d["per_seed"])
        lines.append(f"| {name} | {d['mean']:+.4f} ± {d['std']:.4f} | {per} |")
    ls = result["latency_setup"]
    lines += [
        "",
        f"Latency: fp32, batch {ls['batch']} x {ls['seq_len']} tokens, {ls['threads']} "
        f"threads, median of {ls['repeats']} after warm-up.",
        "",
        "| model | params | MB | ms | speed-up |",
        "|---|---|---|---|---|",
    ]
    for r in result["latency"]:
        lines.append(
            f"| {r['name']} | {r['params']:,} | {r['size_mb']:.1f} | {r['latency_ms']:.1f} | {r['speedup']:.2f}x |"
        )
    lines += ["", "| target | value | wanted | met |", "|---|---|---|---|"]
    for name, t in result["targets"].items():
        lines.append(f"| {name} | {t['value']:.4f} | ≥ {t['target']} | {'yes' if t['met'] else 'NO'} |")
    m = result["machine"]
    lines += [
        "",
        *([benchmark.cpu_summary(result["cpu"]) + "."] if "cpu" in result else []),
        f"Machine: {m['platform']}, {m['cpus']} CPUs, load average {m['load_before']} before, "
        f"{m['load_after']} after (timings on a busy machine are inflated). Total "
        f"{result['seconds']:.0f} s.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument(
        "--train-size", type=int, default=None, help="training snippets per run (default: the whole training split)"
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=None)
    parser.add_argument("--out", default=str(OUT), help="folder for distilbert.json and .md")
    args = parser.parse_args(argv)
    profile = kdcourse.setup(seed=0, profile=args.profile)
    profile = profile.replace(distil_train_size=args.train_size)
    seeds = tuple(args.seeds) if args.seeds else profile.seeds
    cpu = header(profile.bench_threads)
    result = {**measure(profile, seeds), "cpu": cpu}
    write_results(result, Path(args.out), "distilbert", markdown(result), compare=COMPARE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
