"""Lesson 01's claims: how much smaller and faster a half-depth student is, on this machine.

Two comparisons, each timed round-robin on one batch of `bench_batch` x `max_length` tokens (median of
`--repeats` after warm-up, fixed threads, inference mode):
- BERT-base vs DistilBERT, default transformers configs with RANDOM weights (architecture only);
  published (Sanh et al., 2019): 40% fewer parameters, 60% faster;
- the course teacher (all-MiniLM-L6-v2, real weights) vs a copy of its layers [0, 2, 4], on real
  test snippets.
Writes this CPU kind's entry of benchmarks/results/architectures.json and .md (other CPUs' are kept;
--out for another folder). Timings mean something only on a quiet machine; the load average is
recorded with them:

    KDCOURSE_CACHE=... python benchmarks/architectures.py [--profile cpu] [--repeats 20] [--threads 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
from pathlib import Path

import torch
from common import header, load_average, write_results  # benchmarks/common.py (the script's folder is on sys.path)
from transformers import BertConfig, BertModel, DistilBertConfig, DistilBertModel

import kdcourse
from kdcourse import assets, benchmark, corpus, students

OUT = Path(__file__).resolve().parent / "results"
COMPARE = [  # the speed-up columns set side by side across CPUs in architectures.md
    ("Speed-up, BERT-base vs DistilBERT", "bert_vs_distilbert", "speedup"),
    ("Speed-up, MiniLM teacher vs its half-depth student", "minilm_vs_half", "speedup"),
]


def measure(profile, repeats: int, threads: int) -> dict:
    """Both comparisons' rows (params, MB, median ms, speed-up), with the settings and machine load."""
    torch.manual_seed(0)
    bert, distilbert = BertModel(BertConfig()), DistilBertModel(DistilBertConfig())
    batch = benchmark.dummy_batch(bert.config.vocab_size, profile.bench_batch, profile.max_length)
    load_before = load_average()
    bert_rows = benchmark.benchmark_table(
        {"BERT-base (random weights)": bert, "DistilBERT (random weights)": distilbert},
        batch,
        repeats=repeats,
        threads=threads,
    )
    del bert, distilbert
    teacher = assets.load_encoder("minilm")
    tokenizer = assets.load_tokenizer("minilm")
    student = students.student_from_teacher(teacher, [0, 2, 4])
    texts = corpus.load_task_data(profile, seed=0)["test"][: profile.bench_batch]["text"]
    real = tokenizer(texts, padding="max_length", truncation=True, max_length=profile.max_length, return_tensors="pt")
    minilm_rows = benchmark.benchmark_table(
        {"MiniLM teacher (6 layers)": teacher, "student (layers 0, 2, 4)": student},
        real,
        repeats=repeats,
        threads=threads,
    )
    return {
        "profile": profile.name,
        "batch": profile.bench_batch,
        "seq_len": profile.max_length,
        "repeats": repeats,
        "threads": threads,
        "load_avg_before": load_before,
        "load_avg_after": load_average(),
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "torch": torch.__version__,
        "published_distilbert": {"fewer_params": 0.40, "faster": 0.60},
        "bert_vs_distilbert": bert_rows,
        "minilm_vs_half": minilm_rows,
    }


def markdown(result: dict) -> str:
    """The result as a Markdown table with its settings."""
    lines = [
        f"# Lesson 01 architectures ({result['profile']} profile)",
        "",
        f"batch {result['batch']} x {result['seq_len']} tokens, {result['threads']} threads, median "
        f"of {result['repeats']} runs, {result['cpus']} CPUs, load average "
        f"{result['load_avg_before']} -> {result['load_avg_after']}",
        "",
        "| model | params | MB on disk | median ms | speed-up |",
        "|---|---:|---:|---:|---:|",
    ]
    for key in ("bert_vs_distilbert", "minilm_vs_half"):
        for r in result[key]:
            lines.append(
                f"| {r['name']} | {r['params']:,} | {r['size_mb']:.1f} | {r['latency_ms']:.1f} | {r['speedup']:.2f}x |"
            )
    lines += ["", "Published for DistilBERT (Sanh et al., 2019): 40% fewer parameters, 60% faster."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default=None, help="smoke, cpu or gpu (default: detected)")
    parser.add_argument("--repeats", type=int, default=None, help="default: profile.bench_repeats")
    parser.add_argument("--threads", type=int, default=None, help="default: profile.bench_threads")
    parser.add_argument("--out", default=str(OUT), help="folder for architectures.json and .md (default: %(default)s)")
    args = parser.parse_args(argv)
    profile = kdcourse.setup(seed=0, profile=args.profile, verbose=False)
    threads = args.threads or profile.bench_threads
    cpu = header(threads)
    result = {**measure(profile, args.repeats or profile.bench_repeats, threads), "cpu": cpu}
    write_results(result, args.out, "architectures", markdown(result), compare=COMPARE)


if __name__ == "__main__":
    main()
