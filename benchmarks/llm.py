"""Lesson 06's results and timings, headless: kdcourse.llm_pipeline.run (the notebook's steps and caches).

Reports the teacher's held-out perplexity, block importance, the layers-removed curve before and after
healing, the healed student against the course's targets (>= 20% of the blocks removed, perplexity at
most 1.5x the teacher's, distinct-2 and repetition beside the teacher's), forward KL vs cross-entropy
on teacher text, the on-policy run, and seconds per phase (0 where a cache was warm).
Writes benchmarks/results/llm.json and .md. Run it on a quiet machine:

    KDCOURSE_CACHE=... python benchmarks/llm.py [--profile cpu] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import kdcourse

OUT = Path(__file__).resolve().parent / "results"


def measure(profile, threads: int | None = None) -> dict:
    """Run lesson 06's pipeline; return its numbers with the machine, load and wall time."""
    import torch

    from kdcourse import llm_pipeline

    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    result = llm_pipeline.run(profile, log=lambda line: print(line, flush=True))
    return {**result, "threads": torch.get_num_threads(), "cpus": os.cpu_count(),
            "machine": platform.processor() or platform.machine(), "load_average": list(os.getloadavg()),
            "wall_seconds": round(time.perf_counter() - start, 1)}


def markdown(r: dict) -> str:
    """The result as the Markdown table file benchmarks/results/llm.md."""
    t = r["teacher"]["perplexity"]
    q = r["text_quality"]
    lines = [f"# Lesson 06 ({r['profile']} profile, {r['threads']} threads, load "
             f"{[round(x, 2) for x in r['load_average']]}, {r['wall_seconds']:.0f} s wall)", "",
             f"Teacher (SmolLM2-135M-Instruct, 30 blocks): held-out perplexity {t:.1f} on "
             f"{r['teacher']['tokens']:,} tokens.", "",
             "## Targets", "", "| target | measured | met |", "|---|---|---|",
             f"| >= 20% of the blocks removed | {r['dropped']} of 30 ({r['removed_fraction']:.0%}) | "
             f"{r['removed_fraction'] >= 0.2} |",
             f"| healed perplexity <= {r['target']['ratio_at_most']}x the teacher's | "
             f"{r['healed']['perplexity']:.1f} = {r['perplexity_ratio']:.2f}x | "
             f"{r['perplexity_ratio'] <= r['target']['ratio_at_most']} |",
             f"| forward KL beats cross-entropy on teacher greedy text (perplexity and agreement) | "
             f"{r['compare'][2]['perplexity']:,.1f} / {r['compare'][2]['agreement']:.1%} vs "
             f"{r['compare'][1]['perplexity']:,.1f} / {r['compare'][1]['agreement']:.1%} | "
             f"{r['forward_kl_beats_ce']} |", "",
             "## Greedy text on 32 held-out openings", "", "| model | distinct-2 | repetition (3-grams) |",
             "|---|---|---|"]
    lines += [f"| {name} | {v['distinct_2']:.3f} | {v['repetition']:.1%} |" for name, v in q.items()]
    lines += ["", f"Healing: {r['healing']['steps']} steps x {r['healing']['tokens_per_step']} tokens of packed "
              f"review text, lr {r['healing']['lr']}, forward KL on a cached top-64 teacher; "
              f"{r['healing']['train_seconds']:.0f} s of training when it ran. Kept blocks {r['kept_layers']}.",
              "", "## Blocks removed vs perplexity", "",
              "| removed | every other, before | smallest single blocks, before | most similar span, before | "
              f"span, after {r['curve_steps']} steps |", "|---|---|---|---|---|"]
    lines += [f"| {c['drop']} | {c['even']:,.1f} | {c['single']:,.1f} | {c['span']:,.1f} | {c['healed']:,.1f} |"
              for c in r["curve"]]
    lines += ["", f"## Four losses on the teacher's greedy text ({r['compare_steps']} steps each, same batches)", "",
              "| student | perplexity | agreement |", "|---|---|---|"]
    lines += [f"| {c['student']} | {c['perplexity']:,.1f} | {c['agreement']:.1%} |" for c in r["compare"]]
    op = r["on_policy"]
    lines += ["", f"On-policy (GKD-style, JSD β={op['beta']}, {op['steps']} steps from the healed student, "
              f"lr {op['lr']}): perplexity {op['perplexity']:.1f}, agreement {op['agreement']:.1%} "
              f"(healed: {r['healed']['perplexity']:.1f}, {r['healed']['agreement']:.1%}).", "",
              "| phase | seconds |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in r["seconds"].items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    profile = kdcourse.setup(seed=0, profile=args.profile)
    result = measure(profile, args.threads)
    OUT.mkdir(exist_ok=True)
    (OUT / "llm.json").write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    (OUT / "llm.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
