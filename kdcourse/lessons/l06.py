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
    seconds: dict[str, float] = {}

    def timed(name, fn):
        start = time.perf_counter()
        out = fn()
        seconds[name] = round(time.perf_counter() - start, 1)
        log(f"lesson 06: {name} ({seconds[name]} s)")
        return out

    if teacher is None:
        teacher, tokenizer = timed("load teacher", lambda: llm.load_teacher(profile.causal_lm, profile.device))
    _check_depth(profile, teacher.config.num_hidden_layers)
    r = _Run(profile, teacher, tokenizer, timed)
    pruning = r.measure_blocks()  # sections 2-3: perplexity, block importance, the curve, the cut
    r.teacher_text()  # section 5: the teacher's text and its top-k
    healing = r.heal()  # section 7, and the curve's cuts healed
    text = r.greedy_text()  # section 8
    tails = r.tails()  # section 8: the two readings of the top-k cache
    compare = r.compare_losses()  # section 10
    on_policy = r.on_policy()  # section 11
    for row in [*compare["compare"], *tails["tails"].values()]:  # per-text lists: used above, not reported
        row.pop("predictions", None)
        row.pop("per_text", None)
    return {"profile": profile.name, **pruning, **healing, **text, **tails, **compare, **on_policy, "seconds": seconds}


def _check_depth(profile, n_layers: int) -> None:
    """Refuse cuts as deep as the teacher before minutes of work, not at the cut."""
    too_deep = {
        f: d
        for f, d in (("llm_drop_layers", profile.llm_drop_layers), ("llm_curve", max(profile.llm_curve)))
        if d >= n_layers
    }
    if too_deep:
        raise ValueError(
            f"{', '.join(f'{f} drops {d}' for f, d in too_deep.items())} blocks, but the teacher has "
            f"{n_layers}: drop at most {n_layers - 1} (profile.replace(...))"
        )


class _Run:
    """Lesson 06's sections as steps over one shared state, in the notebook's order (for `run`)."""

    def __init__(self, profile, teacher, tokenizer, timed):
        self.profile, self.teacher, self.tokenizer, self.timed = profile, teacher, tokenizer, timed
        self.n_layers = teacher.config.num_hidden_layers
        self.drop = profile.llm_drop_layers
        self.reviews = corpus.load_reviews(seed=0)
        self.train_texts = self.reviews["train"].shuffle(seed=0)["text"]
        held_out = self.reviews["test"].shuffle(seed=0)["text"][: profile.llm_eval_texts]
        self.eval_batches = llm.make_batches(tokenizer, held_out, batch_size=16, max_length=EVAL_MAX_LENGTH)

    def train(self, model, batches, loss, topk, steps, desc, **options):
        """One cached training of `model` at the profile's learning rate, seed 0."""
        return llm.train_cached(
            model, batches, loss, topk, steps=steps, lr=self.profile.llm_lr, seed=0, desc=desc, **options
        )

    def greedy(self, model, prompts):
        """The model's greedy continuations of `prompts` at the profile's length."""
        return llm.greedy_continuations(model, self.tokenizer, prompts, self.profile.llm_new_tokens)

    def measure_blocks(self) -> dict:
        """The teacher's perplexity, block importance, the cut curve before healing and the chosen cut."""
        p, teacher, n_layers, timed = self.profile, self.teacher, self.n_layers, self.timed
        self.reference = timed("teacher eval", lambda: llm.evaluate_lm(teacher, self.eval_batches))
        self.predictions = self.reference["predictions"]
        probe = llm.make_batches(self.tokenizer, self.train_texts[:PROBE_TEXTS], batch_size=8, max_length=64)
        self.angles = angles = timed("layer angles", lambda: llm.layer_angles(teacher, probe))
        self.scores = [float(angles[i, i + 1]) for i in range(n_layers)]
        influence = timed("ShortGPT's block influence", lambda: llm.block_importance(teacher, probe, measure="1-cos"))
        self.curve = timed("curve before healing", self._curve_before)
        shortlist = timed("shortlist text check", self._shortlist)
        self.keep = min(shortlist, key=lambda row: row["repetition"])["keep"]  # ties: the smaller angle (first)
        return {
            "teacher": self.reference,
            "block_importance": self.scores,
            "span_angles": [float(angles[i, i + self.drop]) for i in range(n_layers - self.drop + 1)],
            "dropped": self.drop,
            "shortlist": [{k: v for k, v in row.items() if k != "keep"} for row in shortlist],
            "kept_layers": self.keep,
            "removed_fraction": self.drop / n_layers,
            "curve": self.curve,
            "curve_steps": p.llm_curve_steps,
            "block_influence": influence,
        }

    def _cuts(self, d: int) -> dict:
        """The blocks each rule keeps when `d` are removed."""
        return {
            "span": llm.contiguous_cut(self.angles, d),
            "single": llm.keep_most_important(self.scores, d),
            "even": llm.evenly_spaced(self.n_layers, self.n_layers - d),
        }

    def _curve_before(self) -> list[dict]:
        rows = []
        for d in self.profile.llm_curve:
            row: dict[str, Any] = {"drop": d}
            for rule, kept in self._cuts(d).items():
                row[rule] = llm.evaluate_lm(llm.prune_layers(self.teacher, kept), self.eval_batches)["perplexity"]
            rows.append(row)
        return rows

    def _shortlist(self) -> list[dict]:
        check_prompts = llm.review_prompts(self.train_texts[:PROBE_TEXTS], words=6)  # training openings only
        rows = []
        for kept in llm.closest_spans(self.angles, self.drop, self.profile.llm_shortlist):
            removed = sorted(set(range(self.n_layers)) - set(kept))
            texts = self.greedy(llm.prune_layers(self.teacher, kept), check_prompts)
            angle = float(self.angles[removed[0], removed[-1] + 1])
            rows.append({"removed": removed, "angle": angle, "keep": kept, **llm.text_quality(texts)})
        return rows

    def teacher_text(self) -> None:
        """The teacher's nucleus samples, the training batches and the teacher's top-k on them."""
        p, tokenizer = self.profile, self.tokenizer
        self.prompts = llm.review_prompts(self.train_texts[: p.llm_prompts], words=6)
        samples = self.timed(
            "teacher samples (top-p)",
            lambda: llm.teacher_samples(
                self.teacher, tokenizer, self.prompts, max_new_tokens=p.llm_new_tokens, top_p=TOP_P, seed=0
            ),
        )
        reviews = self.train_texts[PROBE_TEXTS:][: p.llm_train_texts]
        self.review_batches = llm.pack_texts(tokenizer, reviews, p.llm_batch_size, p.llm_seq_len)
        self.sample_batches = llm.pack_texts(tokenizer, samples, p.llm_batch_size, p.llm_seq_len)
        self.train_batches = self.review_batches + self.sample_batches
        self.topk = self.timed(
            "teacher top-k", lambda: llm.teacher_topk(self.teacher, self.train_batches, K, cache=True)
        )

    def heal(self) -> dict:
        """Heal the chosen cut with forward KL; heal both measured rules along the curve the short way."""
        p = self.profile
        self.student_init = llm.prune_layers(self.teacher, self.keep)
        self.before = llm.evaluate_lm(self.student_init, self.eval_batches, self.predictions)
        self.student = llm.prune_layers(self.teacher, self.keep)
        healing_run = self.timed(
            "heal student",
            lambda: self.train(
                self.student, self.train_batches, "forward", self.topk, p.llm_train_steps, "healing (forward KL)"
            ),
        )
        self.healed = llm.evaluate_lm(self.student, self.eval_batches, self.predictions)
        for row in self.curve:
            evals = {}
            cuts = self._cuts(row["drop"])
            for rule in ("span", "single"):
                pruned = llm.prune_layers(self.teacher, cuts[rule])
                self.timed(
                    f"curve: heal {row['drop']} removed ({rule})",
                    lambda: self.train(
                        pruned,
                        self.train_batches,
                        "forward",
                        self.topk,
                        p.llm_curve_steps,
                        f"{row['drop']} removed, {rule}",
                    ),
                )
                evals[rule] = llm.evaluate_lm(pruned, self.eval_batches)
                row[f"{rule}_healed"] = evals[rule]["perplexity"]
            row["single_over_span_healed"] = llm.compare_perplexity(evals["span"], evals["single"])
        ratio = self.healed["perplexity"] / self.reference["perplexity"]
        removed = self.drop / self.n_layers
        return {
            "before_healing": self.before,
            "healed": self.healed,
            "healing": {
                "steps": p.llm_train_steps,
                "lr": p.llm_lr,
                "tokens_per_step": p.llm_batch_size * p.llm_seq_len,
                "train_seconds": healing_run["seconds"],
                "review_batches": len(self.review_batches),
                "teacher_text_batches": len(self.sample_batches),
            },
            "perplexity_ratio": ratio,
            "target": {
                "ratio_at_most": TARGET_RATIO,
                "removed_at_least": 0.2,
                "met": ratio <= TARGET_RATIO and removed >= 0.2,
            },
        }

    def greedy_text(self) -> dict:
        """Greedy text of the teacher, the pruned and the healed student on held-out openings."""
        test_texts = self.reviews["test"].shuffle(seed=0)["text"][: self.profile.llm_text_openings]
        self.openings = openings = llm.review_prompts(test_texts, words=6)
        models = {"teacher": self.teacher, "pruned, before healing": self.student_init, "healed student": self.student}
        texts = self.timed(
            f"greedy text (3 models, {len(openings)} openings)",
            lambda: {name: self.greedy(model, openings) for name, model in models.items()},
        )
        self.sets = sets = {name: llm.quality_by_set(t) for name, t in texts.items()}
        return {
            "text_openings": len(openings),
            "text_set": llm.TEXT_SET,
            "fluency": llm.fluency(sets["healed student"], sets["teacher"]),
            "healing_text_change": {
                m: llm.paired_interval(sets["pruned, before healing"], sets["healed student"], m)
                for m in ("distinct_2", "repetition")
            },
            "examples": {name: t[:3] for name, t in texts.items()},
            "prompts": openings[:3],
        }

    def tails(self) -> dict:
        """The two readings of the top-k cache's leftover probability, each a short healing."""
        tails, tail_sets = {}, {}
        for tail in llm.TAILS:
            s = llm.prune_layers(self.teacher, self.keep)
            self.timed(
                f"tail: {tail}",
                lambda: self.train(
                    s, self.train_batches, "forward", self.topk, self.profile.llm_tail_steps, f"tail={tail}", tail=tail
                ),
            )
            tail_sets[tail] = llm.quality_by_set(self.greedy(s, self.openings))
            tails[tail] = {
                **llm.evaluate_lm(s, self.eval_batches, self.predictions),
                "text": llm.mean_quality(tail_sets[tail]),
            }
        return {
            "tail_steps": self.profile.llm_tail_steps,
            "tails": tails,
            "tail_repetition_even_minus_buckets": llm.paired_interval(
                tail_sets["buckets"], tail_sets["even"], "repetition"
            ),
        }

    def compare_losses(self) -> dict:
        """Cross-entropy and three divergences, each training the same cut on the teacher's greedy text."""
        p, tokenizer = self.profile, self.tokenizer
        greedy = self.timed(
            "teacher greedy text",
            lambda: llm.teacher_samples(
                self.teacher, tokenizer, self.prompts, max_new_tokens=p.llm_new_tokens, do_sample=False
            ),
        )
        batches = llm.pack_texts(tokenizer, greedy, p.llm_batch_size, p.llm_seq_len)
        topk = self.timed("teacher top-k, greedy text", lambda: llm.teacher_topk(self.teacher, batches, K, cache=True))
        compare = [{"student": "before training", **self.before}]
        for name, loss in COMPARE.items():
            s = llm.prune_layers(self.teacher, self.keep)
            result = self.timed(
                f"compare: {name}", lambda: self.train(s, batches, loss, topk, p.llm_compare_steps, name)
            )
            compare.append(
                {
                    "student": name,
                    **llm.evaluate_lm(s, self.eval_batches, self.predictions),
                    "train_s": result["seconds"],
                }
            )
        ce, fkl = compare[1], compare[2]
        fkl_vs_ce = {"perplexity": llm.compare_perplexity(ce, fkl), "agreement": llm.compare_agreement(ce, fkl)}
        return {
            "compare_steps": p.llm_compare_steps,
            "compare": compare,
            "forward_kl_vs_ce": fkl_vs_ce,
            "forward_kl_beats_ce": (
                fkl_vs_ce["perplexity"]["verdict"] == "lower" and fkl_vs_ce["agreement"]["verdict"] == "higher"
            ),
        }

    def on_policy(self) -> dict:
        """The healed student trained further on its own text, judged by the teacher."""
        p = self.profile
        on_policy = copy.deepcopy(self.student)
        op_prompts = llm.review_prompts(self.train_texts[-ON_POLICY["batch_size"] * p.llm_onpolicy_steps :], words=6)
        op_run = self.timed(
            "on-policy",
            lambda: llm.on_policy_cached(
                on_policy, self.teacher, self.tokenizer, op_prompts, steps=p.llm_onpolicy_steps, **ON_POLICY
            ),
        )
        after = llm.evaluate_lm(on_policy, self.eval_batches, self.predictions)
        sets = self.sets
        sets["healed + on-policy"] = self.timed(
            "greedy text (on-policy student)", lambda: llm.quality_by_set(self.greedy(on_policy, self.openings))
        )
        change = {
            "perplexity": llm.compare_perplexity(self.healed, after),
            "repetition": llm.paired_interval(sets["healed student"], sets["healed + on-policy"], "repetition"),
        }
        for row in (after, self.reference, self.before, self.healed):  # per-text lists: used, not reported
            row.pop("predictions", None)
            row.pop("per_text", None)
        return {
            "text_quality": {name: llm.mean_quality(q) for name, q in sets.items()},
            "on_policy": {
                "steps": p.llm_onpolicy_steps,
                **ON_POLICY,
                "train_seconds": op_run["seconds"],
                **after,
                "change": change,
            },
        }
