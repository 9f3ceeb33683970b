"""Lesson 04's claims at full size: the DistilBERT recipe in miniature, over seeds, on the test split.

Measures, for each seed of the profile (paired: same seed, same labelled rows for both methods):
  - all labels: student (teacher layers [0, 2, 4]) on hard labels only vs the recipe (soft + hard + cosine);
  - transfer set: `label_fraction` of the labels, hard only, vs the same labels + the teacher's soft
    targets on every training snippet;
and the fp32 latency of teacher vs student (median after warm-up, fixed threads, stated batch).
Nothing is tuned on test: every setting is fixed in kdcourse.lessons.l04.RECIPE and the profile.
Each paired difference is tested over the seeds (kdcourse.stats.paired_seeds: paired t-test, 95% interval,
verdict, 'not decided at this budget' included); the report computes the tests from the stored per-seed runs.
Writes this CPU kind's entry of benchmarks/results/distilbert.json and .md (other CPUs' are kept; --out
for another folder). Run it on a quiet machine:

    KDCOURSE_CACHE=... python benchmarks/distilbert.py [--profile cpu] [--train-size N] [--seeds 0 1 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from pathlib import Path

from common import header, load_average, write_results  # benchmarks/common.py (the script's folder is on sys.path)

import kdcourse
from kdcourse import benchmark, stats
from kdcourse.lessons import l04

OUT = Path(__file__).resolve().parent / "results"
TARGETS = {"retention": 0.99, "transfer_gain_points": 1.5, "speedup": 1.9}
# Each paired difference: (name, the method without the teacher, the method with it).
PAIRS = (
    ("recipe - hard (all labels)", "all labels, hard only", "all labels, recipe"),
    ("transfer - hard (fraction)", "fraction of labels, hard only", "fraction of labels + transfer set"),
)


def paired_tests(runs: dict) -> dict:
    """Each pair of PAIRS as stored in the results: per-seed differences, mean and std, and the paired t-test
    over the seeds (difference in points, 95% interval, p-value, verdict) from `runs` (method -> per-seed rows)."""
    out = {}
    for name, a, b in PAIRS:
        if [r["seed"] for r in runs[a]] != [r["seed"] for r in runs[b]]:
            raise ValueError(f"{a!r} and {b!r} ran different seeds; the paired test pairs them by seed")
        acc_a, acc_b = ([r["accuracy"] for r in runs[m]] for m in (a, b))
        diffs = [y - x for x, y in zip(acc_a, acc_b)]
        test = stats.paired_seeds(acc_a, acc_b, names=(a, b))
        mean, std = l04.mean_std(diffs)
        out[name] = {
            "per_seed": diffs,
            "mean": mean,
            "std": std,
            "test": {
                "name": test.test,
                "difference_points": test.difference,
                "ci95_points": [test.low, test.high],
                "p_value": test.p_value,
                "verdict": test.verdict,
                "text": str(test),
            },
        }
    return out


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
    paired = paired_tests(runs)
    retention = summary["all labels, recipe"]["mean"] / setup.teacher_accuracy
    gain = 100 * paired["transfer - hard (fraction)"]["mean"]
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
        "paired_differences": paired,
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
    lines += [
        "",
        "| paired difference | mean ± std | per seed | paired t-test over seeds (points, 95% CI, p) | verdict |",
        "|---|---|---|---|---|",
    ]
    for name, d in paired_tests(result["runs"]).items():  # computed from the stored runs: older files have no tests
        per = ", ".join(f"{v:+.4f}" for v in d["per_seed"])
        t = d["test"]
        low, high = t["ci95_points"]
        interval = "no interval" if math.isnan(low) else f"{low:+.2f} to {high:+.2f}"
        p = "no test" if math.isnan(t["p_value"]) else f"p = {t['p_value']:.2g}"
        lines.append(
            f"| {name} | {d['mean']:+.4f} ± {d['std']:.4f} | {per} | {t['difference_points']:+.2f}, {interval}, {p} "
            f"| {t['verdict']} |"
        )
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
