"""Lesson 06 headless: the same calls, settings and caches as the notebook, returning its numbers.

`prepare --lessons 06` runs it to warm every cache the lesson reads; benchmarks/llm.py runs it to
record the lesson's results and timings. The notebook itself spells each step out for teaching.
"""
from __future__ import annotations

import copy
import time

from . import corpus, llm

K = 64  # teacher top-k kept in the caches
EVAL_MAX_LENGTH = 96
PROBE_TEXTS = 32  # training snippets on which block importance is measured
TARGET_RATIO = 1.5  # healed perplexity / teacher perplexity, for >= 20% of the blocks removed
COMPARE = {"cross-entropy (sequence-level KD)": "ce", "forward KL": "forward", "reverse KL": "reverse",
           "JSD β=0.5": "jsd"}
ON_POLICY = dict(batch_size=8, max_new_tokens=48, lr=5e-5, divergence="jsd", beta=0.5, seed=0)
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
    reviews = corpus.load_reviews(seed=0)
    train_texts = reviews["train"].shuffle(seed=0)["text"]
    held_out = reviews["test"].shuffle(seed=0)["text"][:profile.llm_eval_texts]
    eval_batches = llm.make_batches(tokenizer, held_out, batch_size=16, max_length=EVAL_MAX_LENGTH)
    reference = timed("teacher eval", lambda: llm.evaluate_lm(teacher, eval_batches))
    predictions = reference["predictions"]
    probe = llm.make_batches(tokenizer, train_texts[:PROBE_TEXTS], batch_size=8, max_length=64)
    angles = timed("layer angles", lambda: llm.layer_angles(teacher, probe))
    scores = [float(angles[i, i + 1]) for i in range(n_layers)]
    drop = profile.llm_drop_layers
    keep = llm.contiguous_cut(angles, drop)

    curve = []
    for d in profile.llm_curve:
        row = {"drop": d}
        for rule, kept in (("span", llm.contiguous_cut(angles, d)), ("single", llm.keep_most_important(scores, d)),
                           ("even", llm.evenly_spaced(n_layers, n_layers - d))):
            row[rule] = llm.evaluate_lm(llm.prune_layers(teacher, kept), eval_batches)["perplexity"]
        curve.append(row)
    log("lesson 06: curve before healing done")

    prompts = llm.review_prompts(train_texts[:profile.llm_prompts], words=6)
    samples = timed("teacher samples (top-p)", lambda: llm.teacher_samples(
        teacher, tokenizer, prompts, max_new_tokens=profile.llm_new_tokens, top_p=TOP_P, seed=0))
    review_batches = llm.pack_texts(tokenizer, train_texts[PROBE_TEXTS:][:profile.llm_train_texts],
                                    profile.llm_batch_size, profile.llm_seq_len)
    sample_batches = llm.pack_texts(tokenizer, samples, profile.llm_batch_size, profile.llm_seq_len)
    train_batches = review_batches + sample_batches
    topk = timed("teacher top-k", lambda: llm.teacher_topk(teacher, train_batches, K, cache=True))

    student_init = llm.prune_layers(teacher, keep)
    before = llm.evaluate_lm(student_init, eval_batches, predictions)
    student = llm.prune_layers(teacher, keep)
    healing_run = timed("heal student", lambda: llm.train_cached(
        student, train_batches, "forward", topk, steps=profile.llm_train_steps, lr=profile.llm_lr, seed=0,
        desc="healing (forward KL)"))
    healed = llm.evaluate_lm(student, eval_batches, predictions)

    for row in curve:
        pruned = llm.prune_layers(teacher, llm.contiguous_cut(angles, row["drop"]))
        timed(f"curve: heal {row['drop']} removed", lambda: llm.train_cached(
            pruned, train_batches, "forward", topk, steps=profile.llm_curve_steps, lr=profile.llm_lr, seed=0,
            desc=f"{row['drop']} removed"))
        row["healed"] = llm.evaluate_lm(pruned, eval_batches)["perplexity"]

    show = llm.review_prompts(held_out[:32], words=6)
    texts = {"teacher": llm.greedy_continuations(teacher, tokenizer, show, profile.llm_new_tokens),
             "pruned, before healing": llm.greedy_continuations(student_init, tokenizer, show,
                                                                profile.llm_new_tokens),
             "healed student": llm.greedy_continuations(student, tokenizer, show, profile.llm_new_tokens)}

    greedy = timed("teacher greedy text", lambda: llm.teacher_samples(
        teacher, tokenizer, prompts, max_new_tokens=profile.llm_new_tokens, do_sample=False))
    greedy_batches = llm.pack_texts(tokenizer, greedy, profile.llm_batch_size, profile.llm_seq_len)
    greedy_topk = timed("teacher top-k, greedy text", lambda: llm.teacher_topk(teacher, greedy_batches, K,
                                                                               cache=True))
    compare = [{"student": "before training", **before}]
    for name, loss in COMPARE.items():
        s = llm.prune_layers(teacher, keep)
        result = timed(f"compare: {name}", lambda: llm.train_cached(
            s, greedy_batches, loss, greedy_topk, steps=profile.llm_compare_steps, lr=profile.llm_lr, seed=0,
            desc=name))
        compare.append({"student": name, **llm.evaluate_lm(s, eval_batches, predictions),
                        "train_s": result["seconds"]})

    on_policy = copy.deepcopy(student)
    op_prompts = llm.review_prompts(train_texts[-ON_POLICY["batch_size"] * profile.llm_onpolicy_steps:], words=6)
    op_run = timed("on-policy", lambda: llm.on_policy_cached(on_policy, teacher, tokenizer, op_prompts,
                                                             steps=profile.llm_onpolicy_steps, **ON_POLICY))
    after = llm.evaluate_lm(on_policy, eval_batches, predictions)
    texts["healed + on-policy"] = llm.greedy_continuations(on_policy, tokenizer, show, profile.llm_new_tokens)

    for row in [reference, before, healed, after, *compare]:
        row.pop("predictions", None)
    ratio = healed["perplexity"] / reference["perplexity"]
    ce, fkl = compare[1], compare[2]
    return {
        "profile": profile.name, "teacher": reference, "block_importance": scores,
        "span_angles": [float(angles[i, i + drop]) for i in range(n_layers - drop + 1)], "dropped": drop,
        "kept_layers": keep, "removed_fraction": drop / n_layers, "curve": curve,
        "curve_steps": profile.llm_curve_steps, "before_healing": before, "healed": healed,
        "healing": {"steps": profile.llm_train_steps, "lr": profile.llm_lr,
                    "tokens_per_step": profile.llm_batch_size * profile.llm_seq_len,
                    "train_seconds": healing_run["seconds"], "review_batches": len(review_batches),
                    "teacher_text_batches": len(sample_batches)},
        "perplexity_ratio": ratio,
        "target": {"ratio_at_most": TARGET_RATIO, "removed_at_least": 0.2,
                   "met": ratio <= TARGET_RATIO and drop / n_layers >= 0.2},
        "text_quality": {name: llm.text_quality(t) for name, t in texts.items()},
        "examples": {name: t[:3] for name, t in texts.items()}, "prompts": show[:3],
        "compare_steps": profile.llm_compare_steps, "compare": compare,
        "forward_kl_beats_ce": fkl["perplexity"] < ce["perplexity"] and fkl["agreement"] > ce["agreement"],
        "on_policy": {"steps": profile.llm_onpolicy_steps, **ON_POLICY, "train_seconds": op_run["seconds"],
                      **after},
        "seconds": seconds,
    }
