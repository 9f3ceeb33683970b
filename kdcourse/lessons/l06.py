"""Lesson 06 (distilling a causal LM): the lesson run headless (`run`, for cache warming and
benchmarks/llm.py), its auto-checked exercises (worked solutions: kdcourse_solutions)."""

from __future__ import annotations

import copy
import math
import time
from typing import Any

import torch

from .. import corpus, llm, losses
from .exercises import is_number, report, unanswered


def _number(answer):
    """A plain number from an answer (a 0-d tensor is unwrapped); None, after saying so, if it is not one."""
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    if not is_number(answer):
        report(False, "", f"give a number, got {type(answer).__name__}")
        return None
    return answer


def check_reverse_kl(fn) -> bool:
    """Exercise 06.1: fn(student_logits, teacher_logits) -> KL(student ‖ teacher) per position."""
    if unanswered(fn):
        return False
    gen = torch.Generator().manual_seed(6)
    probes = [
        (torch.randn(*shape, generator=gen) * 3, torch.randn(*shape, generator=gen) * 3)
        for shape in ((2, 5, 11), (7, 4), (3,))
    ]
    if not callable(fn):
        return report(False, "", f"pass your function itself (reverse_kl_by_hand), got {type(fn).__name__}")
    try:
        got = [fn(s.clone(), t.clone()) for s, t in probes]
    except Exception as err:  # the learner's code: report instead of crashing
        return report(False, "", f"your function raised {type(err).__name__}: {err}")
    if any(g is None for g in got):  # the placeholder body still returns None
        return not unanswered(None)
    for (s, _t), g in zip(probes, got):
        if not isinstance(g, torch.Tensor) or tuple(g.shape) != tuple(s.shape[:-1]):
            return report(
                False,
                "",
                f"for logits of shape {tuple(s.shape)} return one value per "
                f"position, shape {tuple(s.shape[:-1])}; got "
                f"{tuple(g.shape) if isinstance(g, torch.Tensor) else type(g).__name__}",
            )

    def same(reference):
        return all(torch.allclose(g.float(), reference(s, t), atol=1e-5, rtol=1e-4) for (s, t), g in zip(probes, got))

    if same(lambda s, t: losses.forward_kl(s, t)):
        return report(
            False,
            "",
            "that is the forward KL(teacher ‖ student): weight by the *student's* probabilities, sum q·(log q - log p)",
        )
    if same(lambda s, t: losses.reverse_kl(s, t) / s.shape[-1]):
        return report(False, "", "you averaged over the vocabulary; KL sums over it (.sum(-1))")
    return report(
        same(lambda s, t: losses.reverse_kl(s, t)),
        "KL(student ‖ teacher) is large where the student puts mass the teacher does not: "
        "the student is pushed onto the teacher's modes (mode-seeking).",
        "the values differ from KL(student ‖ teacher); use F.log_softmax on both logits",
    )


def check_topk_mass(answer, cache, batches) -> bool:
    """Exercise 06.2: mean top-k probability mass over real (attention_mask == 1) positions."""
    if unanswered(answer):
        return False
    answer = _number(answer)
    if answer is None:
        return False
    real = torch.cat([v.exp().sum(-1)[b["attention_mask"].bool()] for (v, _), b in zip(cache, batches)])
    every = torch.cat([v.exp().sum(-1).flatten() for v, _ in cache])
    truth, k = float(real.mean()), cache[0][0].shape[-1]
    if answer > 1:
        return report(False, "", f"{answer} is above 1: give a fraction, not a percentage")
    if math.isclose(answer, float(every.mean()), abs_tol=1e-6) and not math.isclose(answer, truth, abs_tol=1e-6):
        return report(False, "", "you counted padding positions too; keep attention_mask == 1 only")
    return report(
        math.isclose(answer, truth, abs_tol=1e-4),
        f"the top-{k} tokens hold {truth:.1%} of the teacher's probability on average; "
        f"the worst position keeps {float(real.min()):.1%}. The rest ({1 - truth:.1%} on "
        "average) is what expand_topk spreads evenly: the price of the cache.",
        f"{answer:.4f} differs from the mean of values.exp().sum(-1) over real positions",
    )


def check_full_logits_mb(answer, batches, vocab_size: int) -> bool:
    """Exercise 06.3: MB (10⁶ bytes) to cache full float32 teacher logits for every padded position."""
    if unanswered(answer):
        return False
    if not is_number(answer):
        return report(False, "", f"give a number of MB, got {type(answer).__name__}")
    positions = sum(b["input_ids"].numel() for b in batches)
    truth = positions * vocab_size * 4 / 1e6
    if math.isclose(answer, truth * 1e6 / 2**20, rel_tol=1e-3):
        return report(True, f"{answer:,.1f} MiB = {truth:,.1f} MB: right, in binary megabytes.", "")
    if math.isclose(answer, truth / 4, rel_tol=1e-3):
        return report(False, "", "a float32 takes 4 bytes; multiply by 4")
    if math.isclose(answer, truth / 2, rel_tol=1e-3):
        return report(False, "", "that is float16; the question asks for float32 (4 bytes)")
    return report(
        math.isclose(answer, truth, rel_tol=1e-3),
        f"{positions:,} positions × {vocab_size:,} logits × 4 bytes = {truth:,.1f} MB, "
        "for a few dozen short texts; it grows with every token of data.",
        f"{answer:,.1f} MB is off; count batch × length positions of every batch",
    )


def check_perplexity(answer, mean_nll: float) -> bool:
    """Exercise 06.4: the perplexity of a model whose mean NLL is `mean_nll` nats per token."""
    if unanswered(answer):
        return False
    answer = _number(answer)
    if answer is None:
        return False
    truth = math.exp(mean_nll)
    if math.isclose(answer, 2**mean_nll, rel_tol=1e-3):
        return report(False, "", "NLL in nats goes with the natural exponential: e ** NLL, not 2 ** NLL")
    if math.isclose(answer, 10**mean_nll, rel_tol=1e-3):
        return report(False, "", "nats go with e, not 10: math.exp(NLL)")
    if math.isclose(answer, math.exp(-mean_nll), rel_tol=1e-3):
        return report(False, "", "the NLL is already negated: perplexity = exp(+mean NLL)")
    return report(
        math.isclose(answer, truth, rel_tol=1e-3),
        f"exp({mean_nll}) = {truth:.1f}: as unsure as a uniform choice among about {truth:.0f} tokens.",
        f"{answer} is not exp({mean_nll}) = perplexity",
    )


# --- The lesson headless: the same calls, settings and caches as the notebook ---------------------

K = 64  # teacher top-k kept in the caches
EVAL_MAX_LENGTH = 96
PROBE_TEXTS = 32  # training snippets on which block importance is measured
TARGET_RATIO = 1.5  # healed perplexity / teacher perplexity, for >= 20% of the blocks removed
COMPARE = {
    "cross-entropy (sequence-level KD)": "ce",
    "forward KL": "forward",
    "reverse KL": "reverse",
    "JSD β=0.5": "jsd",
}
ON_POLICY: dict[str, Any] = dict(batch_size=8, max_new_tokens=48, lr=5e-5, divergence="jsd", beta=0.5, seed=0)
TOP_P = 0.9  # nucleus sampling for the teacher's text


def run(profile, teacher=None, tokenizer=None, log=print) -> dict:
    """Every step of lesson 06 in order (cached trainings are loaded); the lesson's numbers and seconds."""
    clock, seconds = time.perf_counter, {}

    def timed(name, fn):
        start = clock()
        out = fn()
        seconds[name] = round(clock() - start, 1)
        log(f"lesson 06: {name} ({seconds[name]} s)")
        return out

    if teacher is None:
        teacher, tokenizer = timed("load teacher", lambda: llm.load_teacher(profile.causal_lm, profile.device))
    n_layers = teacher.config.num_hidden_layers
    too_deep = {
        f: d
        for f, d in (("llm_drop_layers", profile.llm_drop_layers), ("llm_curve", max(profile.llm_curve)))
        if d >= n_layers
    }
    if too_deep:  # checked before minutes of work, not at the cut
        raise ValueError(
            f"{', '.join(f'{f} drops {d}' for f, d in too_deep.items())} blocks, but the teacher has "
            f"{n_layers}: drop at most {n_layers - 1} (profile.replace(...))"
        )
    reviews = corpus.load_reviews(seed=0)
    train_texts = reviews["train"].shuffle(seed=0)["text"]
    held_out = reviews["test"].shuffle(seed=0)["text"][: profile.llm_eval_texts]
    eval_batches = llm.make_batches(tokenizer, held_out, batch_size=16, max_length=EVAL_MAX_LENGTH)
    reference = timed("teacher eval", lambda: llm.evaluate_lm(teacher, eval_batches))
    predictions = reference["predictions"]
    probe = llm.make_batches(tokenizer, train_texts[:PROBE_TEXTS], batch_size=8, max_length=64)
    angles = timed("layer angles", lambda: llm.layer_angles(teacher, probe))
    scores = [float(angles[i, i + 1]) for i in range(n_layers)]
    influence = timed("ShortGPT's block influence", lambda: llm.block_importance(teacher, probe, measure="1-cos"))
    drop = profile.llm_drop_layers

    def perplexities():
        rows = []
        for d in profile.llm_curve:
            row = {"drop": d}
            for rule, kept in (
                ("span", llm.contiguous_cut(angles, d)),
                ("single", llm.keep_most_important(scores, d)),
                ("even", llm.evenly_spaced(n_layers, n_layers - d)),
            ):
                row[rule] = llm.evaluate_lm(llm.prune_layers(teacher, kept), eval_batches)["perplexity"]
            rows.append(row)
        return rows

    curve = timed("curve before healing", perplexities)
    check_prompts = llm.review_prompts(train_texts[:PROBE_TEXTS], words=6)  # training openings only

    def text_check():
        rows = []
        for kept in llm.closest_spans(angles, drop, profile.llm_shortlist):
            removed = sorted(set(range(n_layers)) - set(kept))
            texts = llm.greedy_continuations(
                llm.prune_layers(teacher, kept), tokenizer, check_prompts, profile.llm_new_tokens
            )
            rows.append(
                {
                    "removed": removed,
                    "angle": float(angles[removed[0], removed[-1] + 1]),
                    "keep": kept,
                    **llm.text_quality(texts),
                }
            )
        return rows

    shortlist = timed("shortlist text check", text_check)
    keep = min(shortlist, key=lambda row: row["repetition"])["keep"]  # ties: the smaller angle (listed first)

    prompts = llm.review_prompts(train_texts[: profile.llm_prompts], words=6)
    samples = timed(
        "teacher samples (top-p)",
        lambda: llm.teacher_samples(
            teacher, tokenizer, prompts, max_new_tokens=profile.llm_new_tokens, top_p=TOP_P, seed=0
        ),
    )
    review_batches = llm.pack_texts(
        tokenizer, train_texts[PROBE_TEXTS:][: profile.llm_train_texts], profile.llm_batch_size, profile.llm_seq_len
    )
    sample_batches = llm.pack_texts(tokenizer, samples, profile.llm_batch_size, profile.llm_seq_len)
    train_batches = review_batches + sample_batches
    topk = timed("teacher top-k", lambda: llm.teacher_topk(teacher, train_batches, K, cache=True))

    student_init = llm.prune_layers(teacher, keep)
    before = llm.evaluate_lm(student_init, eval_batches, predictions)
    student = llm.prune_layers(teacher, keep)
    healing_run = timed(
        "heal student",
        lambda: llm.train_cached(
            student,
            train_batches,
            "forward",
            topk,
            steps=profile.llm_train_steps,
            lr=profile.llm_lr,
            seed=0,
            desc="healing (forward KL)",
        ),
    )
    healed = llm.evaluate_lm(student, eval_batches, predictions)

    for row in curve:  # both measured rules healed the same short way (the notebook's section 7)
        evals = {}
        for rule, kept in (
            ("span", llm.contiguous_cut(angles, row["drop"])),
            ("single", llm.keep_most_important(scores, row["drop"])),
        ):
            pruned = llm.prune_layers(teacher, kept)
            timed(
                f"curve: heal {row['drop']} removed ({rule})",
                lambda: llm.train_cached(
                    pruned,
                    train_batches,
                    "forward",
                    topk,
                    steps=profile.llm_curve_steps,
                    lr=profile.llm_lr,
                    seed=0,
                    desc=f"{row['drop']} removed, {rule}",
                ),
            )
            evals[rule] = llm.evaluate_lm(pruned, eval_batches)
            row[f"{rule}_healed"] = evals[rule]["perplexity"]
        row["single_over_span_healed"] = llm.compare_perplexity(evals["span"], evals["single"])

    openings = llm.review_prompts(reviews["test"].shuffle(seed=0)["text"][: profile.llm_text_openings], words=6)
    texts = timed(
        f"greedy text (3 models, {len(openings)} openings)",
        lambda: {
            "teacher": llm.greedy_continuations(teacher, tokenizer, openings, profile.llm_new_tokens),
            "pruned, before healing": llm.greedy_continuations(
                student_init, tokenizer, openings, profile.llm_new_tokens
            ),
            "healed student": llm.greedy_continuations(student, tokenizer, openings, profile.llm_new_tokens),
        },
    )
    sets = {name: llm.quality_by_set(t) for name, t in texts.items()}

    tails, tail_sets = {}, {}
    for tail in llm.TAILS:
        s = llm.prune_layers(teacher, keep)
        timed(
            f"tail: {tail}",
            lambda: llm.train_cached(
                s,
                train_batches,
                "forward",
                topk,
                steps=profile.llm_tail_steps,
                lr=profile.llm_lr,
                seed=0,
                desc=f"tail={tail}",
                tail=tail,
            ),
        )
        tail_sets[tail] = llm.quality_by_set(llm.greedy_continuations(s, tokenizer, openings, profile.llm_new_tokens))
        tails[tail] = {**llm.evaluate_lm(s, eval_batches, predictions), "text": llm.mean_quality(tail_sets[tail])}

    greedy = timed(
        "teacher greedy text",
        lambda: llm.teacher_samples(
            teacher, tokenizer, prompts, max_new_tokens=profile.llm_new_tokens, do_sample=False
        ),
    )
    greedy_batches = llm.pack_texts(tokenizer, greedy, profile.llm_batch_size, profile.llm_seq_len)
    greedy_topk = timed("teacher top-k, greedy text", lambda: llm.teacher_topk(teacher, greedy_batches, K, cache=True))
    compare = [{"student": "before training", **before}]
    for name, loss in COMPARE.items():
        s = llm.prune_layers(teacher, keep)
        result = timed(
            f"compare: {name}",
            lambda: llm.train_cached(
                s,
                greedy_batches,
                loss,
                greedy_topk,
                steps=profile.llm_compare_steps,
                lr=profile.llm_lr,
                seed=0,
                desc=name,
            ),
        )
        compare.append({"student": name, **llm.evaluate_lm(s, eval_batches, predictions), "train_s": result["seconds"]})

    on_policy = copy.deepcopy(student)
    op_prompts = llm.review_prompts(train_texts[-ON_POLICY["batch_size"] * profile.llm_onpolicy_steps :], words=6)
    op_run = timed(
        "on-policy",
        lambda: llm.on_policy_cached(
            on_policy, teacher, tokenizer, op_prompts, steps=profile.llm_onpolicy_steps, **ON_POLICY
        ),
    )
    after = llm.evaluate_lm(on_policy, eval_batches, predictions)
    sets["healed + on-policy"] = timed(
        "greedy text (on-policy student)",
        lambda: llm.quality_by_set(llm.greedy_continuations(on_policy, tokenizer, openings, profile.llm_new_tokens)),
    )

    ce, fkl = compare[1], compare[2]
    fkl_vs_ce = {"perplexity": llm.compare_perplexity(ce, fkl), "agreement": llm.compare_agreement(ce, fkl)}
    on_policy_change = {
        "perplexity": llm.compare_perplexity(healed, after),
        "repetition": llm.paired_interval(sets["healed student"], sets["healed + on-policy"], "repetition"),
    }
    for row in [reference, before, healed, after, *compare, *tails.values()]:
        row.pop("predictions", None)
        row.pop("per_text", None)
    ratio = healed["perplexity"] / reference["perplexity"]
    span_angles = [float(angles[i, i + drop]) for i in range(n_layers - drop + 1)]
    return {
        "profile": profile.name,
        "teacher": reference,
        "block_importance": scores,
        "span_angles": span_angles,
        "dropped": drop,
        "shortlist": [{k: v for k, v in row.items() if k != "keep"} for row in shortlist],
        "kept_layers": keep,
        "removed_fraction": drop / n_layers,
        "curve": curve,
        "curve_steps": profile.llm_curve_steps,
        "before_healing": before,
        "healed": healed,
        "healing": {
            "steps": profile.llm_train_steps,
            "lr": profile.llm_lr,
            "tokens_per_step": profile.llm_batch_size * profile.llm_seq_len,
            "train_seconds": healing_run["seconds"],
            "review_batches": len(review_batches),
            "teacher_text_batches": len(sample_batches),
        },
        "perplexity_ratio": ratio,
        "target": {
            "ratio_at_most": TARGET_RATIO,
            "removed_at_least": 0.2,
            "met": ratio <= TARGET_RATIO and drop / n_layers >= 0.2,
        },
        "block_influence": influence,
        "text_openings": len(openings),
        "text_set": llm.TEXT_SET,
        "text_quality": {name: llm.mean_quality(q) for name, q in sets.items()},
        "fluency": llm.fluency(sets["healed student"], sets["teacher"]),
        "healing_text_change": {
            m: llm.paired_interval(sets["pruned, before healing"], sets["healed student"], m)
            for m in ("distinct_2", "repetition")
        },
        "examples": {name: t[:3] for name, t in texts.items()},
        "prompts": openings[:3],
        "tail_steps": profile.llm_tail_steps,
        "tails": tails,
        "tail_repetition_even_minus_buckets": llm.paired_interval(
            tail_sets["buckets"], tail_sets["even"], "repetition"
        ),
        "compare_steps": profile.llm_compare_steps,
        "compare": compare,
        "forward_kl_vs_ce": fkl_vs_ce,
        "forward_kl_beats_ce": (
            fkl_vs_ce["perplexity"]["verdict"] == "lower" and fkl_vs_ce["agreement"]["verdict"] == "higher"
        ),
        "on_policy": {
            "steps": profile.llm_onpolicy_steps,
            **ON_POLICY,
            "train_seconds": op_run["seconds"],
            **after,
            "change": on_policy_change,
        },
        "seconds": seconds,
    }
