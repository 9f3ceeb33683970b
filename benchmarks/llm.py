"""Lesson 06's results and timings, headless: kdcourse.lessons.l06.run (the notebook's steps and caches).

Reports the teacher's held-out perplexity, block importance (the angle, and ShortGPT's Block Influence),
the layers-removed curve before and after healing (both measured rules healed), the healed student
against the course's targets (>= 20% of the blocks removed, perplexity at most 1.5x the teacher's,
greedy text within the fluency bar beside the teacher's: met, missed or not decided by a 95% interval
over sets of 32 held-out openings), the shortlisted cuts, the two readings of the top-k cache, forward
KL vs cross-entropy on teacher text, the on-policy run, and seconds per phase (0 where a cache was warm).
Writes this CPU kind's entry of benchmarks/results/llm.json and .md (other CPUs' are kept; --out for
another folder). Run it on a quiet machine:

    KDCOURSE_CACHE=... python benchmarks/llm.py [--profile cpu] [--threads 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

from common import header, write_results  # benchmarks/common.py (the script's folder is on sys.path)

import kdcourse

OUT = Path(__file__).resolve().parent / "results"


def measure(profile, threads: int | None = None) -> dict:
    """Run lesson 06's pipeline; return its numbers with the machine, load and wall time."""
    import torch

    from kdcourse.lessons import l06

    if threads:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    result = l06.run(profile, log=lambda line: print(line, flush=True))
    return {
        **result,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "load_average": list(os.getloadavg()),
        "wall_seconds": round(time.perf_counter() - start, 1),
    }


def _ci(e: dict, scale: float = 1.0, digits: int = 3) -> str:
    """A mean with its interval: '+0.012 (-0.004 to +0.028)'."""
    return f"{scale * e['mean']:+.{digits}f} ({scale * e['low']:+.{digits}f} to {scale * e['high']:+.{digits}f})"


def _ratio(c: dict) -> str:
    return f"{c['ratio']:.3f} ({c['low']:.3f} to {c['high']:.3f}) -> {c['verdict']}"


def markdown(r: dict) -> str:
    """The result as the Markdown table file benchmarks/results/llm.md."""
    t = r["teacher"]["perplexity"]
    q = r["text_quality"]
    agreement = r["forward_kl_vs_ce"]["agreement"]
    lines = [
        f"# Lesson 06 ({r['profile']} profile, {r['threads']} threads, load "
        f"{[round(x, 2) for x in r['load_average']]}, {r['wall_seconds']:.0f} s wall)",
        "",
        f"Teacher (SmolLM2-135M-Instruct, 30 blocks): held-out perplexity {t:.1f} on "
        f"{r['teacher']['tokens']:,} tokens.",
        "",
        "## Targets",
        "",
        "| target | measured | met |",
        "|---|---|---|",
        f"| >= 20% of the blocks removed | {r['dropped']} of 30 ({r['removed_fraction']:.0%}) | "
        f"{r['removed_fraction'] >= 0.2} |",
        f"| healed perplexity <= {r['target']['ratio_at_most']}x the teacher's | "
        f"{r['healed']['perplexity']:.1f} = {r['perplexity_ratio']:.2f}x | "
        f"{r['perplexity_ratio'] <= r['target']['ratio_at_most']} |",
        f"| forward KL beats cross-entropy on teacher greedy text (perplexity and agreement) | "
        f"{r['compare'][2]['perplexity']:,.1f} / {r['compare'][2]['agreement']:.1%} vs "
        f"{r['compare'][1]['perplexity']:,.1f} / {r['compare'][1]['agreement']:.1%}; ratio "
        f"{_ratio(r['forward_kl_vs_ce']['perplexity'])}, agreement "
        f"{_ci({'mean': agreement['difference'], **agreement}, 1, 1)} "
        f"points | {r['forward_kl_beats_ce']} (both decided by the interval) |",
        f"| healed student's greedy text fluent: distinct-2 at most 0.15 below the teacher's, repetition at most "
        f"15 points above (healed minus teacher, {r['fluency']['distinct_2']['n']} sets of {r['text_set']}) | "
        f"distinct-2 {_ci(r['fluency']['distinct_2'])}, repetition {_ci(r['fluency']['repetition'], 100, 1)} "
        f"points | {r['fluency']['verdict']} |",
        "",
        "## The cut: spans closest in angle, checked on greedy text of 32 training openings",
        "",
        "| blocks removed | angle | distinct-2 | repetition |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {c['removed'][0]}-{c['removed'][-1]} | {c['angle']:.3f} | {c['distinct_2']:.3f} | {c['repetition']:.1%} |"
        for c in r["shortlist"]
    ]
    lines += [
        "",
        f"Cut: the least repetitive; kept blocks {r['kept_layers']}.",
        "",
        f"## Greedy text on {r['text_openings']} held-out openings (mean over sets of {r['text_set']}, 95% interval)",
        "",
        "| model | distinct-2 | repetition (3-grams) |",
        "|---|---|---|",
    ]
    lines += [
        f"| {name} | {v['distinct_2']['mean']:.3f} ({v['distinct_2']['low']:.3f} to {v['distinct_2']['high']:.3f}) | "
        f"{v['repetition']['mean']:.1%} ({v['repetition']['low']:.1%} to {v['repetition']['high']:.1%}) |"
        for name, v in q.items()
    ]
    change = r["healing_text_change"]
    lines += [
        "",
        f"Healed minus unhealed, same sets: repetition {_ci(change['repetition'], 100, 1)} points, distinct-2 "
        f"{_ci(change['distinct_2'])}.",
        "",
        f"Healing: {r['healing']['steps']} steps x {r['healing']['tokens_per_step']} tokens of packed "
        f"review text and teacher continuations, lr {r['healing']['lr']}, forward KL on a cached top-64 "
        f"teacher read as 65 outcomes; {r['healing']['train_seconds']:.0f} s of training when it ran.",
        "",
        f"## Two readings of the top-64 cache ({r['tail_steps']} healing steps each, same start and batches)",
        "",
        "| tail | perplexity | distinct-2 | repetition |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {name} | {v['perplexity']:.1f} | {v['text']['distinct_2']['mean']:.3f} | "
        f"{v['text']['repetition']['mean']:.1%} |"
        for name, v in r["tails"].items()
    ]
    lines += [
        "",
        f"Repetition, even minus buckets: {_ci(r['tail_repetition_even_minus_buckets'], 100, 1)} points.",
        "",
        "## Blocks removed vs perplexity (both measured rules healed the same way)",
        "",
        "| removed | every other, before | smallest single blocks, before | most similar span, before | "
        f"single, after {r['curve_steps']} steps | span, after {r['curve_steps']} steps | single / span after |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {c['drop']} | {c['even']:,.1f} | {c['single']:,.1f} | {c['span']:,.1f} | {c['single_healed']:,.1f} | "
        f"{c['span_healed']:,.1f} | {_ratio(c['single_over_span_healed'])} |"
        for c in r["curve"]
    ]
    lines += [
        "",
        f"## Four losses on the teacher's greedy text ({r['compare_steps']} steps each, same batches)",
        "",
        "| student | perplexity | agreement |",
        "|---|---|---|",
    ]
    lines += [f"| {c['student']} | {c['perplexity']:,.1f} | {c['agreement']:.1%} |" for c in r["compare"]]
    op = r["on_policy"]
    lines += [
        "",
        f"On-policy (GKD-style, JSD β={op['beta']}, {op['steps']} steps from the healed student, "
        f"lr {op['lr']}): perplexity {op['perplexity']:.1f}, agreement {op['agreement']:.1%} "
        f"(healed: {r['healed']['perplexity']:.1f}, {r['healed']['agreement']:.1%}); over healed: perplexity "
        f"{_ratio(op['change']['perplexity'])}, repetition {_ci(op['change']['repetition'], 100, 1)} points.",
        "",
        "| phase | seconds |",
        "|---|---|",
    ]
    lines += [f"| {k} | {v} |" for k, v in r["seconds"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--out", default=str(OUT), help="folder for llm.json and .md (default: %(default)s)")
    args = parser.parse_args(argv)
    profile = kdcourse.setup(seed=0, profile=args.profile)
    cpu = header(args.threads)  # measure sets torch to args.threads, or keeps torch's count
    result = {**measure(profile, args.threads), "cpu": cpu}
    write_results(result, args.out, "llm", markdown(result))


if __name__ == "__main__":
    main()
