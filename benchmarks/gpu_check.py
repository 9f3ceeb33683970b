"""The `gpu` profile's code paths on a real CUDA device, in one short run (lessons 03–06).

What a Colab GPU session runs, step by step, at the gpu profile's sizes: the teacher fine-tune and
the DistillationTrainer students on CUDA (lessons 03–04), the latency table on the GPU, bf16
inference and the 8/4-bit check (lesson 05), and the causal-LM teacher, samples, top-k cache and
KD/CE students on CUDA (lesson 06). Without the hub the gpu profile falls back to the offline
MiniLM + reviews path and says so; this check records that note. Each step is timed and a failing
step is recorded with its error, so one run shows every path. Writes the entry of this machine (CPU
kind and GPU) in gpu_check.json and .md, keeping other machines':

    KDCOURSE_PROFILE=gpu python benchmarks/gpu_check.py [--out DIR]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
import traceback
from pathlib import Path

import torch
from common import header, write_results  # benchmarks/common.py (the script's folder is on sys.path)

import kdcourse
from kdcourse import quantize, training
from kdcourse.lessons import l04

OUT = Path(__file__).resolve().parent / "results"


def encoder_steps(profile, record) -> None:
    """Lessons 03–05 on the profile's device: teacher, two students, latency, bf16."""
    setup = record(
        "lesson 03-04: teacher fine-tune (or cache) + test accuracy",
        lambda: l04.prepare(profile, seed=0, progress=False),
        lambda s: {
            "note": s.note,
            "teacher_accuracy": s.teacher_accuracy,
            "train": len(s.train),
            "test": len(s.data["test"]),
            "teacher_device": str(next(s.teacher.parameters()).device),
        },
    )
    if setup is None:
        return
    runs = {}
    for name, kwargs in {"hard labels only": dict(alpha=0.0, cosine_weight=0.0), "recipe": {}}.items():
        runs[name] = record(
            f"lesson 04: DistillationTrainer student, {name}",
            lambda kwargs=kwargs: l04.run(setup, seed=0, **kwargs),
            lambda r: {
                "accuracy": r["accuracy"],
                "steps": r["steps"],
                "device": str(next(r["student"].parameters()).device),
            },
        )
    students = {n: r["student"] for n, r in runs.items() if r}
    acc = {"teacher": setup.teacher_accuracy, **{n: r["accuracy"] for n, r in runs.items() if r}}
    record(
        "lesson 04: latency table on the device",
        lambda: l04.results_table(setup, {"teacher": setup.teacher, **students}, acc),
        lambda rows: {
            "rows": [{k: r[k] for k in ("name", "params", "latency_ms", "speedup", "accuracy")} for r in rows]
        },
    )
    if "recipe" in students:
        bf16 = copy.deepcopy(students["recipe"]).to(torch.bfloat16)
        record(
            "lesson 05: bf16 student accuracy",
            lambda: training.evaluate(bf16, setup.data["test"], setup.tokenizer, profile),
            lambda s: {"accuracy": s["accuracy"], "fp32_accuracy": acc["recipe"]},
        )
        record(
            "lesson 05: int8 (CPU technique) refuses a CUDA model with a reason",
            lambda: _expect_value_error(lambda: quantize.quantize_dynamic_int8(students["recipe"])),
            lambda msg: {"message": msg},
        )
    record(
        "lesson 05: 8/4-bit loading available?",
        quantize.kbit_loading_available,
        lambda r: {"available": r[0], "why": r[1]},
    )


def _expect_value_error(fn) -> str:
    try:
        fn()
    except ValueError as err:
        return str(err)
    raise AssertionError("expected a ValueError")


def llm_steps(profile, record) -> None:
    """Lesson 06 on the profile's device: the whole pipeline (prune by measurement, heal, compare, on-policy)."""
    from kdcourse.lessons import l06

    record(
        "lesson 06: l06.run (load, importance, curve, heal, four losses, on-policy)",
        lambda: l06.run(profile, log=lambda line: print(line, flush=True)),
        lambda r: {
            "teacher_ppl": r["teacher"]["perplexity"],
            "healed_ppl": r["healed"]["perplexity"],
            "ratio": r["perplexity_ratio"],
            "removed": r["removed_fraction"],
            "target_met": r["target"]["met"],
            "forward_kl_beats_ce": r["forward_kl_beats_ce"],
            "distinct_2": r["text_quality"]["healed student"]["distinct_2"],
            "seconds": r["seconds"],
        },
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(OUT), help="folder for gpu_check.json and .md")
    args = parser.parse_args(argv)
    profile = kdcourse.setup(seed=0, profile="gpu")
    cpu = header(gpu=True)  # the CPU record with the CUDA device (`gpu`), its name in the kind
    result = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "profile": profile.name,
        "steps": [],
        "cpu": cpu,
    }

    def record(name, fn, summary):
        start = time.perf_counter()
        try:
            value = fn()
            row = {"step": name, "ok": True, **summary(value)}
        except Exception as err:  # record and go on: one run should show every path
            value, row = (
                None,
                {
                    "step": name,
                    "ok": False,
                    "error": f"{type(err).__name__}: {err}",
                    "trace": traceback.format_exc()[-1500:],
                },
            )
        row["seconds"] = round(time.perf_counter() - start, 1)
        result["steps"].append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "trace"}), flush=True)
        return value

    start = time.perf_counter()
    llm_steps(profile, record)
    encoder_steps(profile, record)
    result["seconds"] = round(time.perf_counter() - start, 1)
    write_results(result, Path(args.out), "gpu_check", markdown(result))
    return 0 if all(r["ok"] for r in result["steps"]) else 1


def markdown(result: dict) -> str:
    """The steps as a Markdown table."""
    lines = [
        f"# gpu profile check on {result['device']} (torch {result['torch']})",
        "",
        "| step | ok | seconds | details |",
        "|---|---|---|---|",
    ]
    for row in result["steps"]:
        details = {k: v for k, v in row.items() if k not in ("step", "ok", "seconds", "trace")}
        lines.append(
            f"| {row['step']} | {'yes' if row['ok'] else 'NO'} | {row['seconds']} | "
            f"{json.dumps(details, default=str)[:300]} |"
        )
    return "\n".join(lines) + f"\n\nTotal {result['seconds']} s.\n"


if __name__ == "__main__":
    sys.exit(main())
