"""Lesson 05's claims: dynamic int8 on the CPU, for the fine-tuned teacher and lesson 04's distilled student.

Measures, on the test split and on one batch of `bench_batch` x `max_length` tokens (median of
`--repeats` after warm-up, fixed threads, models timed round-robin so load hits all alike):
teacher fp32 / int8, distilled student fp32 / int8, student int8 + int8 word embeddings — accuracy,
parameters, MB on disk, latency, speed-up vs the fp32 teacher. Targets: the int8 student >= 4x the
fp32 teacher's throughput, within 1 accuracy point of the fp32 student. `--torchao` adds torchao's
`quantize_(Int8DynamicActivationInt8WeightConfig())` on the student (eager; `--compile` also compiled
with inductor freezing for this one input shape, cold cache),
so lesson 05 can quote how it compares. Writes this CPU kind's entry of benchmarks/results/quantize.json
and .md (other CPUs' are kept; --out for another folder). Timings are only meaningful on a quiet machine;
the load average is recorded with them:

    KDCOURSE_CACHE=... python benchmarks/quantize.py [--profile cpu] [--repeats 20] [--torchao [--compile]] [--out DIR]
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch
from common import header, load_average, write_results  # benchmarks/common.py (the script's folder is on sys.path)

import kdcourse
from kdcourse import benchmark, quantize, training
from kdcourse.lessons import l04, l05

OUT = Path(__file__).resolve().parent / "results"
TARGETS = {"speedup_vs_teacher": 4.0, "accuracy_drop_points": 1.0}
COMPARE = [("Speed-up vs the fp32 teacher", "rows", "speedup")]  # set side by side across CPUs in quantize.md


def _torchao_models(student, batch, compiled: bool) -> tuple[dict, dict]:
    """torchao's int8 dynamic-activation/int8-weight student, eager (and compiled), if torchao imports."""
    try:
        import torchao
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError as err:
        print(f"torchao not importable ({err}); pip install torchao to compare", file=sys.stderr)
        return {}, {}
    eager = copy.deepcopy(student)
    quantize_(eager, Int8DynamicActivationInt8WeightConfig())
    models, info = {"student int8 (torchao, eager)": eager}, {"version": torchao.__version__}
    if compiled:  # inductor's freezing folds the int8 weights into fused oneDNN kernels (static shapes)
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = tempfile.mkdtemp(prefix="inductor-")  # a cold compile
        start = time.perf_counter()
        # Set for the whole run (not a patch() around the first call): a call made later under other
        # settings can be recompiled without freezing, and that is the version the timing would see.
        torch._inductor.config.freezing = True
        fast = torch.compile(copy.deepcopy(eager), dynamic=False)
        with torch.inference_mode():
            fast(**batch)
        info["compile_seconds"] = round(time.perf_counter() - start, 1)
        info["compiled_with"] = "torch.compile(dynamic=False), inductor freezing=True, cold cache"
        models["student int8 (torchao, compiled)"] = fast
    return models, info


def measure(profile, repeats: int, threads: int, torchao: bool, compiled: bool) -> dict:
    """Every model's accuracy and size, one interleaved latency table, the targets' verdicts."""
    start, load_before = time.perf_counter(), load_average()
    setup = l04.prepare(profile, seed=0)
    cpu = {"teacher fp32": setup.teacher.to("cpu"), "student fp32": l05.distilled_student(setup).to("cpu")}
    models = {
        "teacher fp32": cpu["teacher fp32"],
        "teacher int8": quantize.quantize_dynamic_int8(cpu["teacher fp32"]),
        "student fp32": cpu["student fp32"],
        "student int8": quantize.quantize_dynamic_int8(cpu["student fp32"]),
        "student int8 + int8 embeddings": quantize.quantize_dynamic_int8(cpu["student fp32"], embeddings=True),
    }
    test = setup.data["test"]
    accuracy = {name: training.evaluate(m, test, setup.tokenizer, profile)["accuracy"] for name, m in models.items()}
    batch = benchmark.dummy_batch(setup.teacher.config.vocab_size, profile.bench_batch, profile.max_length)
    extra, torchao_info = _torchao_models(cpu["student fp32"], batch, compiled) if torchao else ({}, {})
    if extra:  # scored uncompiled (any batch shape); the compiled model runs the same int8 weights
        ao_acc = training.evaluate(extra["student int8 (torchao, eager)"], test, setup.tokenizer, profile)
        accuracy.update({name: ao_acc["accuracy"] for name in extra})
    rows = benchmark.benchmark_table(
        {**models, **extra}, batch, repeats=repeats, accuracy=accuracy, reference="teacher fp32", threads=threads
    )
    for row in rows:  # int8 weights are not nn.Parameters: count them too
        row["params"] = quantize.count_weights({**models, **extra}[row["name"]])
    by = {r["name"]: r for r in rows}
    int8 = [n for n in by if n.startswith("student int8") and "embeddings" not in n]
    best = max(int8, key=lambda n: by[n]["speedup"])  # torch.ao, or torchao compiled when measured
    speedup = by[best]["speedup"]
    drop = 100 * (accuracy["student fp32"] - accuracy[best])
    return {
        "profile": profile.name,
        "note": setup.note,
        "test_examples": len(test),
        "batch": [profile.bench_batch, profile.max_length],
        "repeats": repeats,
        "threads": threads,
        "quantized_engine": torch.backends.quantized.engine,
        "rows": rows,
        "torchao": torchao_info,
        "targets": {
            "model": best,
            "speedup_vs_teacher": {
                "target": TARGETS["speedup_vs_teacher"],
                "measured": speedup,
                "met": speedup >= TARGETS["speedup_vs_teacher"],
            },
            "accuracy_drop_points": {
                "target": TARGETS["accuracy_drop_points"],
                "measured": drop,
                "met": abs(drop) <= TARGETS["accuracy_drop_points"],
            },
            "per_int8_student": {
                n: {
                    "speedup_vs_teacher": by[n]["speedup"],
                    "accuracy_drop_points": 100 * (accuracy["student fp32"] - accuracy[n]),
                }
                for n in int8
            },
        },
        "compression_vs_teacher": {
            name: {
                "params": by["teacher fp32"]["params"] / by[name]["params"],
                "bytes": by["teacher fp32"]["size_mb"] / by[name]["size_mb"],
            }
            for name in by
        },
        "machine": {
            "cores": os.cpu_count(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "load_before": load_before,
            "load_after": load_average(),
        },
        "seconds": round(time.perf_counter() - start, 1),
    }


def markdown(result: dict) -> str:
    """The results as a Markdown report."""
    m = result["machine"]
    lines = [
        f"# Quantization benchmark (profile {result['profile']})",
        "",
        f"Test split: {result['test_examples']} snippets. Latency: median of {result['repeats']} "
        f"after warm-up, batch {result['batch'][0]} x {result['batch'][1]} tokens, "
        f"{result['threads']} threads, engine {result['quantized_engine']}, models interleaved.",
        f"Load average before {m['load_before']}, after {m['load_after']} (timings under load are inflated); "
        "the CPU: this section's title.",
        *(
            [
                f"torchao {result['torchao']['version']}"
                + (
                    f"; torch.compile of its int8 student took {result['torchao']['compile_seconds']} s"
                    if "compile_seconds" in result["torchao"]
                    else ""
                )
                + "."
            ]
            if result["torchao"]
            else []
        ),
        "",
        "| model | params | MB on disk | ms / batch | speed-up vs teacher | accuracy |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in result["rows"]:
        acc = f"{r['accuracy']:.4f}" if r["accuracy"] is not None else "—"
        lines.append(
            f"| {r['name']} | {r['params']:,} | {r['size_mb']:.1f} | {r['latency_ms']:.1f} | "
            f"{r['speedup']:.2f}x | {acc} |"
        )
    t = result["targets"]
    lines += [
        "",
        f"Targets, for the fastest int8 student ({t['model']}; torchao's accuracy is its uncompiled "
        "model's, same int8 weights):",
        "",
        "| target | wanted | measured | met |",
        "|---|---:|---:|---|",
    ]
    lines.append(
        f"| int8 student speed-up vs fp32 teacher | >= {t['speedup_vs_teacher']['target']}x | "
        f"{t['speedup_vs_teacher']['measured']:.2f}x | {t['speedup_vs_teacher']['met']} |"
    )
    lines.append(
        f"| accuracy drop int8 vs fp32 student | <= {t['accuracy_drop_points']['target']} points | "
        f"{t['accuracy_drop_points']['measured']:+.2f} | {t['accuracy_drop_points']['met']} |"
    )
    lines += [
        "",
        "Every int8 student: "
        + "; ".join(
            f"{n}: {v['speedup_vs_teacher']:.2f}x, {v['accuracy_drop_points']:+.2f} points"
            for n, v in t["per_int8_student"].items()
        ),
    ]
    lines += [
        "",
        "Compression vs the fp32 teacher: "
        + "; ".join(
            f"{name}: {c['params']:.2f}x params, {c['bytes']:.2f}x bytes"
            for name, c in result["compression_vs_teacher"].items()
            if name != "teacher fp32"
        ),
        "",
    ]
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--repeats", type=int, default=None, help="default: the profile's bench_repeats")
    parser.add_argument("--threads", type=int, default=None, help="default: the profile's bench_threads")
    parser.add_argument("--torchao", action="store_true", help="also time torchao's int8 (eager)")
    parser.add_argument("--compile", action="store_true", help="with --torchao: also torch.compile it")
    parser.add_argument("--out", default=str(OUT), help="folder for quantize.json and .md (default: %(default)s)")
    args = parser.parse_args(argv)
    profile = kdcourse.setup(seed=0, profile=args.profile)
    threads = args.threads or profile.bench_threads
    cpu = header(threads)
    result = measure(profile, args.repeats or profile.bench_repeats, threads, args.torchao, args.compile)
    result["cpu"] = cpu
    write_results(result, args.out, "quantize", markdown(result), compare=COMPARE)
    return result


if __name__ == "__main__":
    main()
