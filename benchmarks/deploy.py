"""Lesson 07's claims: students of other shapes, deployed with ONNX Runtime, on one accuracy-latency frontier.

Measures, in one run on the profile's data (models interleaved, fixed threads, ONNX Runtime threads not
spinning):
  - the CNN student (kdcourse.students.WordCNN, the teacher's embeddings, frozen) in lesson 07's four runs
    (l07.CNN_RUNS: hard labels; as many steps as the taught run; hard labels on the transfer set's copies;
    taught on the teacher-labelled transfer set), paired over the profile's cnn_seeds, each one change judged
    by a paired t-test (l07.cnn_comparisons);
  - the narrow transformer with and without the projected hidden-state loss (seed 0);
  - the static-embedding student (model2vec's table of the teacher), its head trained on hard labels and on the
    teacher's, paired over cnn_seeds;
  - the routes past the frontier (l07.ROUTES, each one change from the route above), paired over route_seeds,
    each judged against the route above and against 97% of the teacher's accuracy;
  - every model (teacher, lesson 04's layer-copy student, narrow, CNN, static, best route's CNN) in PyTorch
    fp32, torch.ao int8,
    ONNX Runtime fp32 and int8: test accuracy, batch-1 median and p95 over real single snippets, and
    batch (bench_batch x max_length) median;
and checks lesson 07's targets. Students and ONNX files come from the course cache (trained once).
Writes this CPU kind's entry of benchmarks/results/deploy.json and .md (other CPUs' are kept; --out
for another folder). Run it on a quiet machine:

    KDCOURSE_CACHE=... python benchmarks/deploy.py [--profile cpu] [--requests 200] [--threads 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import torch
from common import header, load_average, write_results  # benchmarks/common.py (the script's folder is on sys.path)

import kdcourse
from kdcourse import deploy, training
from kdcourse.lessons import l07

OUT = Path(__file__).resolve().parent / "results"
TARGETS = {
    "onnx int8 layer-copy speed-up, batch 32": 6.0,  # x the fp32 PyTorch teacher's throughput
    "onnx int8 layer-copy accuracy drop (points)": 1.0,  # vs the fp32 PyTorch layer-copy student, at most
    "CNN speed-up, batch 32": 20.0,
    "CNN speed-up, batch 1": 10.0,
    "CNN share of the teacher's accuracy": 0.93,
    # The frontier target (l07.SHARE, l07.SPEED_UP): the best route's CNN, in float32 (PyTorch or ONNX Runtime,
    # whichever is faster; both compute the trained model, so its accuracy is the mean over route_seeds).
    "best route's share of the teacher's accuracy (mean over seeds)": l07.SHARE,
    "best route's speed-up, batch 32": l07.SPEED_UP,
    "best route's speed-up, batch-1 p95": l07.SPEED_UP,
}
COMPARE = [  # the speed-up columns set side by side across CPUs in deploy.md
    ("Speed-up vs the fp32 PyTorch teacher, batch of the profile", "rows", "speedup_batch"),
    ("Speed-up vs the fp32 PyTorch teacher, batch 1", "rows", "speedup_batch1"),
]


def _comparison(c) -> dict:
    """A stats.Comparison as JSON."""
    return {
        "a": c.a,
        "b": c.b,
        "points": c.difference,
        "ci95": [c.low, c.high],
        "p": c.p_value,
        "test": c.test,
        "verdict": c.verdict,
    }


def measure(profile, requests: int, threads: int, progress: bool = True) -> dict:
    """Train (or load) every student, export, time, and check the targets."""
    ok, why = deploy.available()
    if not ok:
        raise SystemExit(f"benchmarks/deploy.py needs ONNX Runtime: {why}")
    start, load_before = time.perf_counter(), load_average()
    setup = l07.prepare(profile, seed=0, progress=progress)
    tokenizer, test = setup.tokenizer, setup.test
    cnn_runs = l07.cnn_students(setup, progress=progress)
    comparisons = l07.cnn_comparisons(cnn_runs)
    narrow_runs = l07.narrow_students(setup, progress=progress)
    static_runs = l07.static_students(setup, progress=progress)
    route_runs = l07.route_students(setup, progress=progress)
    models = l07.deploy_models(setup, cnn_runs, narrow_runs, static_runs, route_runs)
    variants = {}
    for name, files in l07.onnx_pairs(models, setup).items():
        model = models[name]
        variants[f"{name} · torch fp32"] = model
        variants[f"{name} · {l07.torch_int8_name(model)}"] = l07.torch_int8(model)
        variants[f"{name} · onnx fp32"] = deploy.OnnxClassifier(deploy.session(files["fp32"], threads))
        variants[f"{name} · {l07.onnx_int8_name(model)}"] = deploy.OnnxClassifier(
            deploy.session(files["int8"], threads)
        )
    labels = torch.tensor(test["label"])
    logits = {n: training.predict_logits(m, test, tokenizer, profile.eval_batch_size) for n, m in variants.items()}
    accuracy = {n: (out.argmax(-1) == labels).float().mean().item() for n, out in logits.items()}
    onnx_diff = {
        name: (logits[f"{name} · onnx fp32"] - logits[f"{name} · torch fp32"]).abs().max().item() for name in models
    }
    timed = l07.latency(variants, setup, l07.single_requests(setup, requests), profile.bench_repeats, threads)
    ref = timed["teacher · torch fp32"]
    rows = [
        {
            "name": n,
            "accuracy": accuracy[n],
            **{k: round(v, 3) for k, v in t.items()},
            "speedup_batch1": ref["batch1_median_ms"] / t["batch1_median_ms"],
            "speedup_batch": ref["batch_median_ms"] / t["batch_median_ms"],
        }
        for n, t in timed.items()
    ]
    by = {r["name"]: r for r in rows}
    cnn_names = [n for n in by if n.startswith("CNN student")]
    fastest_cnn = min(cnn_names, key=lambda n: by[n]["batch_median_ms"])
    fastest_cnn_1 = min(cnn_names, key=lambda n: by[n]["batch1_median_ms"])
    taught = [r["accuracy"] for r in cnn_runs[l07.TAUGHT]]
    teacher_acc = accuracy["teacher · torch fp32"]
    best = l07.best_route(route_runs)
    best_fp32 = [f"route CNN student (best) · {kind}" for kind in ("torch fp32", "onnx fp32")]
    best_batch = min(best_fp32, key=lambda n: by[n]["batch_median_ms"])
    best_p95 = min(best_fp32, key=lambda n: by[n]["batch1_p95_ms"])
    route_cmp = l07.route_comparisons(route_runs, teacher_acc)
    measured = {
        "onnx int8 layer-copy speed-up, batch 32": by["layer-copy student · onnx int8"]["speedup_batch"],
        "onnx int8 layer-copy accuracy drop (points)": 100
        * (accuracy["layer-copy student · torch fp32"] - accuracy["layer-copy student · onnx int8"]),
        "CNN speed-up, batch 32": by[fastest_cnn]["speedup_batch"],
        "CNN speed-up, batch 1": by[fastest_cnn_1]["speedup_batch1"],
        "CNN share of the teacher's accuracy": statistics.mean(taught) / teacher_acc,
        "best route's share of the teacher's accuracy (mean over seeds)": statistics.mean(
            r["accuracy"] for r in route_runs[best]
        )
        / teacher_acc,
        "best route's speed-up, batch 32": by[best_batch]["speedup_batch"],
        "best route's speed-up, batch-1 p95": by["teacher · torch fp32"]["batch1_p95_ms"]
        / by[best_p95]["batch1_p95_ms"],
    }
    at_most = {"onnx int8 layer-copy accuracy drop (points)"}
    targets = {
        name: {
            "wanted": f"{'<=' if name in at_most else '>='} {TARGETS[name]:g}",
            "measured": round(value, 4),
            "met": value <= TARGETS[name] if name in at_most else value >= TARGETS[name],
            "short_by": 0.0
            if (value <= TARGETS[name] if name in at_most else value >= TARGETS[name])
            else round(abs(value - TARGETS[name]), 4),
        }
        for name, value in measured.items()
    }
    batch_points = {n: (by[n]["batch_median_ms"], by[n]["accuracy"]) for n in by}
    one_points = {n: (by[n]["batch1_p95_ms"], by[n]["accuracy"]) for n in by}
    return {
        "profile": profile.name,
        "threads": threads,
        "requests": requests,
        "batch": [profile.bench_batch, profile.max_length],
        "repeats": profile.bench_repeats,
        "test_examples": len(test),
        "seeds": list(profile.cnn_seeds),
        "cnn": {
            "runs": {run: [r["accuracy"] for r in rs] for run, rs in cnn_runs.items()},
            "steps": {run: rs[0]["steps"] for run, rs in cnn_runs.items()},
            "comparisons": {cause: _comparison(c) for cause, c in comparisons.items()},
            "config": l07.CNN,
            "training": l07.CNN_TRAINING,
            "augment": l07.AUGMENT,
            "fastest_batch": fastest_cnn,
            "fastest_batch1": fastest_cnn_1,
        },
        "static": {
            "runs": {run: [r["accuracy"] for r in rs] for run, rs in static_runs.items()},
            "steps": {run: rs[0]["steps"] for run, rs in static_runs.items()},
            "comparison": _comparison(l07.static_comparison(static_runs)),
            "model2vec": l07.STATIC,
        },
        "routes": {
            "seeds": list(profile.route_seeds),
            "routes": l07.ROUTES,
            "runs": {name: [r["accuracy"] for r in rs] for name, rs in route_runs.items()},
            "steps": {name: rs[0]["steps"] for name, rs in route_runs.items()},
            "comparisons": {name: _comparison(c) for name, c in route_cmp.items()},
            "best": best,
            "fastest_batch": best_batch,
            "fastest_batch1_p95": best_p95,
        },
        "narrow": {
            str(w): {
                "accuracy": r["accuracy"],
                "steps": r["steps"],
                "seconds": r["seconds"],
                "projection_params": r["projection_params"],
            }
            for w, r in narrow_runs.items()
        },
        "onnx_fp32_max_logit_difference": onnx_diff,
        "rows": rows,
        "front_batch": l07.pareto_front(batch_points),
        "front_batch1_p95": l07.pareto_front(one_points),
        "targets": targets,
        "machine": {
            "cores": os.cpu_count(),
            "torch": torch.__version__.split("+")[0],
            "load_before": load_before,
            "load_after": load_average(),
        },
        "seconds": round(time.perf_counter() - start, 1),
    }


def _verdict_line(what: str, x: dict) -> str:
    return (
        f"{what}: {x['points']:+.2f} points, 95% CI {x['ci95'][0]:+.2f} to {x['ci95'][1]:+.2f}, "
        f"p = {x['p']:.2g} -> {x['verdict']}"
    )


def markdown(result: dict) -> str:
    """The results as a Markdown report."""
    m, c = result["machine"], result["cnn"]
    lines = [
        f"# Deployment benchmark (profile {result['profile']})",
        "",
        f"Test split: {result['test_examples']} snippets. Batch 1: {result['requests']} real single snippets, "
        f"median and p95. Batch: {result['batch'][0]} x {result['batch'][1]} tokens, median of "
        f"{result['repeats']}. {result['threads']} threads (PyTorch and each ONNX Runtime session, no spinning); "
        "models interleaved.",
        f"Load average before {m['load_before']}, after {m['load_after']} (the CPU: this section's title). "
        f"Whole run: {result['seconds']} s.",
        "",
        f"CNN student (teacher's embeddings, frozen), paired seeds {result['seeds']}:",
        "",
        *(
            f"- {run}: {', '.join(f'{a:.4f}' for a in accs)} ({c['steps'][run]} steps)"
            for run, accs in c["runs"].items()
        ),
        "",
        "One change at a time (paired t-test over the seeds):",
        "",
        *(f"- {_verdict_line(cause, x)}" for cause, x in c["comparisons"].items()),
        "",
        f"Static student (model2vec's table of the teacher, {result['static']['model2vec']}), paired seeds "
        f"{result['seeds']}: "
        + "; ".join(f"{run}: {', '.join(f'{a:.4f}' for a in accs)}" for run, accs in result["static"]["runs"].items())
        + ". "
        + _verdict_line("the teacher's labels", result["static"]["comparison"]),
        "",
        f"Routes past the frontier, paired seeds {result['routes']['seeds']} (each the route above plus one change):",
        "",
        *(
            f"- {name} {result['routes']['routes'][name]}: {', '.join(f'{a:.4f}' for a in accs)} "
            f"({result['routes']['steps'][name]} steps)"
            for name, accs in result["routes"]["runs"].items()
        ),
        "",
        *(f"- {_verdict_line(name, x)}" for name, x in result["routes"]["comparisons"].items()),
        "",
        "Narrow student (seed 0): "
        + "; ".join(
            f"hidden weight {w}: accuracy {r['accuracy']:.4f} ({r['steps']} steps, projection "
            f"{r['projection_params']:,} parameters)"
            for w, r in result["narrow"].items()
        ),
        "ONNX fp32 vs PyTorch, max |logit difference| on the test split: "
        + ", ".join(f"{n} {d:.1e}" for n, d in result["onnx_fp32_max_logit_difference"].items()),
        "",
        "| model | accuracy | batch 1 median ms | batch 1 p95 ms | batch ms | speed-up batch 1 | speed-up batch |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        lines.append(
            f"| {r['name']} | {r['accuracy']:.4f} | {r['batch1_median_ms']:.2f} | {r['batch1_p95_ms']:.2f} | "
            f"{r['batch_median_ms']:.1f} | {r['speedup_batch1']:.2f}x | {r['speedup_batch']:.2f}x |"
        )
    lines += [
        "",
        f"Pareto front, batch: {'; '.join(result['front_batch'])}.",
        f"Pareto front, batch 1 p95: {'; '.join(result['front_batch1_p95'])}.",
        "",
        f"Targets (the CNN's speed is its fastest deployment: batch {c['fastest_batch']}, batch 1 "
        f"{c['fastest_batch1']}; the best route, {result['routes']['best']}, in float32: batch "
        f"{result['routes']['fastest_batch']}, batch-1 p95 {result['routes']['fastest_batch1_p95']}):",
        "",
        "| target | wanted | measured | met | short by |",
        "|---|---|---:|---|---:|",
    ]
    for name, t in result["targets"].items():
        lines.append(
            f"| {name} | {t['wanted']} | {t['measured']} | {'yes' if t['met'] else 'no'} | "
            f"{t['short_by'] if not t['met'] else ''} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--requests", type=int, default=None, help="default: the profile's deploy_requests")
    parser.add_argument("--threads", type=int, default=None, help="default: the profile's bench_threads")
    parser.add_argument("--out", default=str(OUT), help="folder for deploy.json and .md (default: %(default)s)")
    args = parser.parse_args(argv)
    profile = kdcourse.setup(seed=0, profile=args.profile)
    threads = args.threads or profile.bench_threads
    cpu = header(threads)
    result = {**measure(profile, args.requests or profile.deploy_requests, threads), "cpu": cpu}
    write_results(result, args.out, "deploy", markdown(result), compare=COMPARE)
    return result


if __name__ == "__main__":
    main()
