"""Lesson 06's claims and timings, headless: the same pipeline as the notebook, phase by phase.

Loads the teacher once (timed), builds the depth-pruned student, samples teacher text (cached), caches
top-k teacher logits, trains one student per loss (same batches, steps, learning rate) and reports
held-out perplexity and top-1 agreement with the teacher, plus seconds per phase and per step.
Writes benchmarks/results/llm.json and .md. Run it on a quiet machine:

    KDCOURSE_CACHE=... python benchmarks/llm.py [--profile cpu] [--steps N] [--threads 2]
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import time
from pathlib import Path

import kdcourse

OUT = Path(__file__).resolve().parent / "results"
RUNS = {"cross-entropy": "ce", "forward KL": "forward", "reverse KL": "reverse", "JSD": "jsd"}
BATCH, MAX_LENGTH, K, T = 8, 96, 64, 1.0  # the lesson's constants


def measure(profile, threads: int | None = None) -> dict:
    """Run lesson 06's pipeline; return numbers, timings and the verdict (KD beats cross-entropy)."""
    import torch

    from kdcourse import corpus, llm

    if threads:
        torch.set_num_threads(threads)
    clock, seconds = time.perf_counter, {}
    start = clock()
    teacher, tok = llm.load_teacher(profile.causal_lm, device=profile.device)
    seconds["load teacher"] = clock() - start
    start = clock()
    student_init = llm.prune_layers(teacher, llm.evenly_spaced(30, profile.llm_keep_layers))
    seconds["prune"] = clock() - start
    reviews = corpus.load_reviews(seed=0)
    prompts = llm.review_prompts(reviews["train"].shuffle(seed=0)["text"][:profile.llm_prompts], 6)
    start = clock()
    samples = llm.teacher_samples(teacher, tok, prompts, profile.llm_new_tokens, seed=0)
    seconds["teacher samples (0 if cached)"] = clock() - start
    train = llm.make_batches(tok, samples, BATCH, MAX_LENGTH)
    held_out = llm.make_batches(tok, reviews["test"].shuffle(seed=0)["text"][:profile.llm_eval_texts],
                                16, MAX_LENGTH)
    start = clock()
    cache = llm.teacher_topk(teacher, train, K)
    seconds["teacher top-k"] = clock() - start
    start = clock()
    reference = llm.evaluate_lm(teacher, held_out)
    seconds["teacher eval"] = clock() - start
    rows = [{"student": "before training",
             **llm.evaluate_lm(student_init, held_out, reference["predictions"])}]
    for name, loss in RUNS.items():
        student = copy.deepcopy(student_init)
        start = clock()
        llm.train_lm_student(student, train, loss, cache, steps=profile.llm_train_steps,
                             lr=profile.learning_rate, temperature=T, seed=0, desc=name)
        seconds[f"train {name}"] = clock() - start
        rows.append({"student": name, **llm.evaluate_lm(student, held_out, reference["predictions"])})
    for row in rows:
        row.pop("predictions")
    ce, kd = rows[1], rows[2:]
    return {"profile": profile.name, "threads": torch.get_num_threads(), "machine": platform.processor()
            or platform.machine(), "cpus": os.cpu_count(), "load_average": list(os.getloadavg()),
            "teacher_perplexity": reference["perplexity"], "students": rows,
            "seconds": {k: round(v, 1) for k, v in seconds.items()},
            "seconds_per_step": {name: round(seconds[f"train {name}"] / profile.llm_train_steps, 2)
                                 for name in RUNS},
            "kd_beats_ce": any(r["perplexity"] < ce["perplexity"] or r["agreement"] > ce["agreement"]
                               for r in kd)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--steps", type=int, default=None, help="override profile.llm_train_steps")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    profile = kdcourse.setup(seed=0, profile=args.profile)
    if args.steps:
        profile = profile.replace(llm_train_steps=args.steps)
    result = measure(profile, args.threads)
    OUT.mkdir(exist_ok=True)
    (OUT / "llm.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"# Lesson 06 ({result['profile']} profile, {result['threads']} threads, load "
             f"{result['load_average']})", "", f"teacher perplexity {result['teacher_perplexity']:.1f}", "",
             "| student | perplexity | agreement |", "|---|---|---|"]
    lines += [f"| {r['student']} | {r['perplexity']:,.1f} | {r['agreement']:.1%} |" for r in result["students"]]
    lines += ["", "| phase | seconds |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in result["seconds"].items()]
    lines += ["", f"token-level KD beats cross-entropy: {result['kd_beats_ce']}"]
    (OUT / "llm.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
