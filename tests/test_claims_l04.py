"""Lesson 04 (the DistilBERT reproduction): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("04", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import re
import statistics

from claims import L04, block, claim, lesson_fixture, number, numbers, row
from lesson_time import check_time_line, time_sentences
from verdicts import after, check_verdict, comparison

LESSON = "04"

lesson03 = lesson_fixture("03")
lesson04 = lesson_fixture("04")
lesson05 = lesson_fixture("05")

# The size/speed/accuracy table of section 6 (cell 27), in column order.
PARAMS, SIZE_MB, LATENCY_MS, SPEEDUP, ACCURACY, RETENTION = range(6)
REGIMES = ("all labels", "few labels + transfer set")

# Flagged sentences of lesson 04 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {
    "If no number below 100,000 would, answer `math.inf`.": (
        "instruction: how exercise 04.3 takes a gain no practical budget decides (l04.seeds_to_decide's limit)"
    ),
    "That comparison changes two things at once — more text, and the teacher's labels for it — so it cannot say "
    "whether the targets' *softness* matters: that needs the control that trains on the teacher's argmax labels "
    "for the same snippets, for the same steps.": (
        "general fact: what the few-labels comparison does not control (the lesson runs no argmax-label arm, and "
        "says so)"
    ),
    "Section 7 tested the all-labels gain with a paired t-test over the seeds of `profile.seeds`.": (
        "course design: what section 7 does (exercise 04.3's setting; its checker reads the measured differences)"
    ),
    'Suppose more seeds kept the mean and the spread of the per-seed differences you measured there (`regimes["all '
    'labels"]`): what is the **smallest number of seeds** whose 95% paired t-interval would exclude zero?': (
        "instruction: exercise 04.3's question; l04.check_seeds_to_decide computes the answer from the run"
    ),
    "The interval is mean ± t · sd / √n, where t is `scipy.stats.t.ppf(0.975, n - 1)`; think about why that is not "
    "1.96 here.": "general fact: the paired t-interval's half-width",
    "DistilBERT (Sanh et al., 2019) made BERT 40% smaller and 60% faster while keeping 97% of its GLUE score.": (
        "cited: Sanh et al. 2019, arXiv:1910.01108, abstract"
    ),
    "build a half-depth student by copying every other teacher layer, and check the copy is exact;": (
        "course design: what the lesson builds (cell 11 checks the copy)"
    ),
    "— soft targets over the 30,522-word vocabulary at every real (non-padding) token, the usual MLM loss on the "
    "masked words, and a cosine loss pulling the student's last hidden states towards the teacher's.": (
        "cited: Sanh et al. 2019 and the released distiller.py (transformers, examples/research_projects/distillation)"
    ),
    "The triple loss keeps its shape, with the **hard task labels in place of the MLM term**:": (
        "course design: the lesson's loss"
    ),
    "Everything else is DistilBERT's: same width, half the depth, layers copied from the teacher.": (
        "course design: the lesson's student (cell 11 prints its shape)"
    ),
    "3 · The student: same width, every other layer": "course design: a heading",
    "DistilBERT kept BERT's width (hidden size 768) and took **one layer in two**: layers [0, 2, 4, 7, 9, 11] of "
    "12.": "cited: Sanh et al. 2019, section 3 (student initialisation)",
    "Same width means every weight matrix of a kept layer fits the student unchanged, so the student starts as a "
    "working — if shallower — network instead of random noise.": "general fact: the shapes of a layer copy",
    "Our teacher has 6 layers, so the rule keeps [0, 2, 4].": (
        "course design: students.every_other_layer (cell 7 prints it, checked by NBVAL_CHECK_OUTPUT)"
    ),
    "First by hand: a fresh 3-layer model of the same class, then copy the embeddings, the chosen layers in order, "
    "the pooler and the classification head.": "instruction: what the next cell does",
    "`students.student_from_teacher(teacher, layers)` does the same for any BERT-family encoder (BERT, RoBERTa, "
    "DistilBERT; bare or with a head).": "course design: what the helper supports (tests/test_students.py)",
    "The teacher is frozen (`requires_grad=False`), in eval mode (no dropout) and moved to the student's device.": (
        "course design: what DistillationTrainer does (tests/test_kd_trainer.py)"
    ),
    "Because the frozen teacher gives the same outputs every epoch, we pass the cached outputs from section 2 "
    "(`cache=`) instead of running it each step — the unit tests check that cached and live training give the same "
    "weights.": "course design: the cache, held by tests/test_kd_trainer.py",
    "Training arguments are kept quiet: no logging, no checkpoints, no reporting, and the output folder is a "
    "temporary directory.": "course design: kd_trainer.training_arguments",
    "the effective batch is `per_device_train_batch_size` × processes (× gradient-accumulation steps): keep the "
    "recipe by scaling the per-device batch or the learning rate;": "general fact: data-parallel training",
    "gradients are averaged across processes, so all of them end with the same student; the Trainer saves it from "
    "the main process only.": "general fact: data-parallel training (tests/test_multiprocess.py)",
    "`tests/test_multiprocess.py` runs exactly this on two CPU processes (the gloo backend) and checks that the "
    "loss falls, that both processes end with identical weights, and that the teacher stays frozen and in eval "
    "mode on each process's device.": "course design: what that test checks",
    "Two more students, with the same seed, for comparison (`l04.run` wraps what the cell above spelled out):": (
        "instruction: what the next cell trains"
    ),
    "**fine-tuned without a teacher**: same layer-copy initialisation, hard labels only (α = 0, no cosine);": (
        "course design: the baseline's settings"
    ),
    "A network that starts from nothing needs a larger learning rate and more steps than a fine-tune.": (
        "general fact: training from scratch vs fine-tuning (cell 25 shows the collapse at fine-tuning settings)"
    ),
    "The cell checks each student for a collapse.": "instruction: what the next cell prints",
    "7 · When does the teacher help?": "course design: a heading (a question)",
    "We repeat over `profile.seeds`, **paired**: for a given seed both methods get the same initial weights, the "
    "same batches in the same order and the same labelled rows; only the loss differs.": (
        "course design: how the runs are paired (l04.run, l04.labelled_rows; tests/test_l04_pipeline.py)"
    ),
    "**a few labels + a transfer set**: only `profile.label_fraction` of the snippets keep their label.": (
        "course design: the regime's settings (cell 32 prints the count)"
    ),
    "The lines above test each regime over the paired seeds (a paired t-test on the per-seed differences, with its "
    "95% interval).": "printed by code: cell 34 (test_04_the_paired_verdicts_follow_the_per_seed_numbers)",
    "With a few seeds a small gain can stay *not decided at this budget*: that is then the result — say so, and "
    "add seeds if it matters.": "instruction: how to word an undecided test",
    "The few-labels gain above is optimistic, though: the teacher was fine-tuned (lesson 03) on every training "
    'label, including the ones hidden from the student here, so its soft targets on the "unlabelled" snippets '
    "carry those very labels back in; a teacher that never saw them (trained on the few labels you have, or "
    "elsewhere) would likely give a smaller gain.": (
        "general fact: how the teacher was trained makes the gain optimistic; the smaller gain is not measured"
    ),
    "The same comparison at full size — every training snippet, `profile.seeds`, on a quiet machine — is `python "
    "benchmarks/distilbert.py`; when its results file is there, here it is, with the same paired test:": (
        "course design: where the full-size numbers come from (cell 36 prints them)"
    ),
    "We do the same on seed 0, one run per variant, and compare each variant with the recipe by McNemar's test on "
    "the test snippets (printed below the table).": (
        "printed by code: cell 42 (test_04_each_ablation_is_tested_against_the_recipe)"
    ),
    "One seed says whether these two models differ, not whether another seed would repeat the difference — compare "
    "with the seed-to-seed spread above.": "general fact: what a one-seed test can say",
    "The variants: drop the soft targets (α = 0), the hard labels (α = 1), the cosine term, the layer copy (random "
    "init), or keep a different half of the teacher: the **bottom** or the **top** layers instead of every other "
    "one.": "course design: l04.ABLATIONS",
    "The paper's Table 4 (GLUE macro-score change, pre-training distillation of BERT-base), for comparison of the "
    "*pattern* — not the numbers, which measure a different task, data and scale:": (
        "cited: Sanh et al. 2019, Table 4"
    ),
    "The lines above give our order and, for each ablation, whether the test decides its difference from the "
    "recipe; where it says *not decided at this budget*, this run cannot tell that ingredient's removal from no "
    "change, let alone rank it.": "printed by code: cell 42's lines; the rest defines an undecided test",
    "The random-init rows measure different things: the paper's random student was distilled on the whole "
    "pretraining corpus, ours on a few thousand snippets, so our gap is mostly what pretraining is worth when the "
    "data is small.": "general fact: what the two random-init rows measure (cell 5 prints the snippets: 2,000)",
    "The `gpu` profile runs this same notebook with `bert-base-uncased` fine-tuned on SST-2 as the teacher and a "
    "6-layer student from layers [0, 2, 4, 7, 9, 11], and also fine-tunes `profile.reference_student` "
    "(`distilbert-base-uncased`, the real DistilBERT) the same way, for comparison with the published figures:": (
        "course design: the gpu profile (kdcourse/profiles.py)"
    ),
    "Good discussion prompt: the random-init student has the same architecture, the same data and the same loss as "
    "the distilled one; what is left?": "instruction: a discussion prompt",
    "Test before claiming a gain: a paired t-test over seeds, or McNemar's test for two models on the same "
    "snippets; *not decided at this budget* is an honest verdict.": "instruction: how to claim a gain",
}


@claim(
    "04",
    "`l04.prepare` loads the fine-tuned teacher from the cache (or fine-tunes it once, as in lesson 03), tokenizes "
    "the reviews, takes `profile.distil_train_size` training snippets for the student runs (this lesson trains many "
    "students; the full-size numbers come from `benchmarks/distilbert.py`), caches the teacher's logits and last "
    "hidden states on them, and scores the teacher on the test split.",
)
def test_04_the_teacher_is_lesson_03s(lesson03, lesson04):
    """Cell 4: `l04.prepare` 'loads the fine-tuned teacher from the cache' of lesson 03: same test accuracy."""
    assert number(r"teacher test accuracy: ([\d.]+)", lesson04) == number(
        r"teacher \(fine-tuned MiniLM\): accuracy ([\d.]+)", lesson03
    )


@claim(
    "04",
    "Half the layers is **not** half the model: the 30,522 × 384 word-embedding table stays whole, so the student "
    "keeps about three quarters of the parameters.",
    "A DistilBERT student keeps the teacher's width and copies every other layer; the copy is exact "
    "(`students.copied_weights_equal`), and the embeddings — a large share of a small model — stay whole.",
)
def test_04_the_layer_copy_is_exact_and_keeps_three_quarters(lesson04):
    """Cells 10-13 and key points: every copied tensor is identical; 'the student keeps about three quarters of the
    parameters' (70-80%) because the embeddings ('a large share', over half) stay whole."""
    same, total = numbers(r"(\d+) of (\d+) tensors identical to the teacher's", lesson04)
    assert same == total and "same as the hand-built copy: True" in lesson04
    pattern = r"{}: (\d) layers, ([\d,]+) parameters \(embeddings ([\d,]+),"
    _, teacher, t_emb = numbers(pattern.format("teacher"), lesson04)
    _, student, s_emb = numbers(pattern.format("student"), lesson04)
    assert t_emb == s_emb and s_emb / student > 0.5
    assert 0.7 <= student / teacher <= 0.8, f"the student keeps {student / teacher:.0%} of the parameters"


@claim(
    "04",
    "On fixed numbers, the parts the trainer logs (each already weighted, so they add up to the loss):",
)
def test_04_the_triple_loss_parts_add_up(lesson04):
    """Cells 16-17: by hand equals `triple_loss`; the logged parts are 'each already weighted, so they add up to
    the loss'."""
    by_hand, ours = numbers(r"by hand: ([\d.]+)\s+triple_loss: ([\d.]+)\s+agree: True", lesson04)
    assert by_hand == ours
    loss, soft, hard, cosine = numbers(
        r"\{'loss': ([\d.]+), 'soft': ([\d.]+), 'hard': ([\d.]+), 'cosine': ([\d.]+)\}", lesson04
    )
    assert abs(loss - (soft + hard + cosine)) <= 2e-4
    assert "teacher unchanged: True" in lesson04


@claim(
    "04",
    "All three students have the same architecture, so they share one size and (up to timing noise) one latency; "
    "they differ only in what they learned.",
)
def test_04_the_students_share_one_size_and_one_latency(lesson04):
    """Cell 29: 'All three students have the same architecture, so they share one size and (up to timing noise)
    one latency' (within 10%); retention is accuracy as a share of the teacher's."""
    names = (
        "student, fine-tuned without teacher",
        "student, distilled (recipe)",
        "student, random init (from scratch)",
    )
    teacher = row(lesson04, "teacher")
    students = [row(lesson04, name) for name in names]
    assert len({s[PARAMS] for s in students}) == 1 and len({s[SIZE_MB] for s in students}) == 1
    latencies = [s[LATENCY_MS] for s in students]
    assert max(latencies) / min(latencies) <= 1.1, f"student latencies {latencies}"
    for s in [teacher, *students]:
        assert abs(s[RETENTION] - 100 * s[ACCURACY] / teacher[ACCURACY]) <= 0.2


@claim(
    "04",
    "At the fine-tuning settings (`profile.learning_rate`, `profile.student_epochs` epochs) a random student can "
    "*collapse*: it answers the majority class for every snippet and scores exactly the majority baseline.",
    "So we train it twice: at the fine-tuning settings, and at a from-scratch rate "
    "(`profile.scratch_learning_rate`) for `profile.scratch_epochs` epochs — more steps than the other students "
    "get, a head start in its favour.",
)
def test_04_a_collapse_is_called_a_collapse(lesson03, lesson04):
    """Cells 24-25: a random student at fine-tuning settings 'can collapse: it answers the majority class for
    every snippet and scores exactly the majority baseline'; the cell says which students collapsed; the
    from-scratch run takes more steps than the others."""
    majority = number(r"majority baseline\s+accuracy ([\d.]+)", lesson04)
    assert majority == number(r"majority baseline:\s+([\d.]+)", lesson03)
    lines = re.findall(
        r"^(.+?)\s+accuracy ([\d.]+) after (\d+) steps; answers '(\w+)' for (\d+)% of test snippets(.*)$",
        lesson04,
        re.M,
    )
    assert len(lines) == 3, lines
    for name, accuracy, _, _, share, verdict in lines:
        collapsed = "collapsed to one class" in verdict
        assert collapsed == (int(share) > 99), (name, share, verdict)
        if collapsed:
            assert abs(float(accuracy) - majority) <= 0.001, f"{name} collapsed but scores {accuracy}"
    steps = {name.strip(): int(n) for name, _, n, _, _, _ in lines}
    assert steps["random init, from-scratch settings"] > steps["hard labels only"], steps
    recipe_steps = number(r"(\d+) steps in \d+ s; last batch's loss parts", lesson04)
    assert steps["random init, from-scratch settings"] > recipe_steps


def test_04_the_verdicts_on_the_three_students_follow_the_table(lesson04):
    """Cell 30: retention and speed from the table; distilled vs fine-tuned and layer copy vs random init are
    McNemar tests whose differences are the table's and whose verdicts their p-values give; the layer copy's
    share of the lead over the majority baseline follows the table."""
    teacher, distilled = row(lesson04, "teacher"), row(lesson04, "student, distilled (recipe)")
    hard = row(lesson04, "student, fine-tuned without teacher")
    scratch = row(lesson04, "student, random init (from scratch)")
    keeps, speed = numbers(r"keeps ([\d.]+)% of the teacher's accuracy at ([\d.]+)x its speed", lesson04)
    assert abs(keeps - distilled[RETENTION]) <= 0.1 and speed == distilled[SPEEDUP]
    n_test = number(r"(\d+) test snippets \(films unseen in training\)", lesson04)
    for c, other in (
        (comparison(lesson04, "distilled", "fine-tuned without a teacher"), hard),
        (comparison(lesson04, "layer copy (distilled)", "random init (from scratch)"), scratch),
    ):
        check_verdict(c)
        assert c.mcnemar_counts()[2] == n_test, c.line
        assert abs(c.difference - 100 * (distilled[ACCURACY] - other[ACCURACY])) <= 0.11, c.line
    copy_gain, share = numbers(
        r"the layer copy's ([+-][\d.]+) points are (\d+)% of the distilled student's lead", lesson04
    )
    majority = number(r"majority baseline\s+accuracy ([\d.]+)", lesson04)
    assert abs(copy_gain - 100 * (distilled[ACCURACY] - scratch[ACCURACY])) <= 0.11
    assert abs(share - 100 * (distilled[ACCURACY] - scratch[ACCURACY]) / (distilled[ACCURACY] - majority)) <= 1
    assert teacher[SPEEDUP] == 1.0


def _seed_rows(lesson04: str, regime: str) -> tuple[float, float, list[float]]:
    """The summary table's row of a regime: mean and std of the per-seed differences (points), and each seed's."""
    line = re.search(
        rf"^{re.escape(regime)}\s+[\d.]+ ± [\d.]+\s+[\d.]+ ± [\d.]+\s+([+-][\d.]+) ± ([\d.]+)", lesson04, re.M
    )
    assert line, f"the summary table has no row {regime!r}"
    seeds = re.search(rf"^{re.escape(regime)}\s+([+-][\d.]+(?:, [+-][\d.]+)*)\s*$", lesson04, re.M)
    return float(line.group(1)), float(line.group(2)), [float(d) for d in seeds.group(1).split(",")]


@claim(
    "04",
    "The lines above test each regime over the paired seeds (a paired t-test on the per-seed differences, with its "
    "95% interval).",
)
def test_04_the_paired_verdicts_follow_the_per_seed_numbers(lesson04):
    """Cells 32-34: each regime's line is a paired t-test over the seeds of the table (same count, same mean
    difference) whose verdict its p-value gives."""
    verdicts = block(L04, "few labels + transfer set: with teacher")
    for regime in REGIMES:
        mean, _, seeds = _seed_rows(lesson04, regime)
        assert abs(statistics.mean(seeds) - mean) <= 0.06
        c = comparison(after(verdicts, f"{regime}: "), "with teacher", "without teacher")
        check_verdict(c)
        assert f"paired t-test over {len(seeds)} seed" in c.test, c.line
        assert abs(c.difference - mean) <= 0.006, c.line


def _full_size(lesson04: str, regime: str):
    return comparison(after(block(L04, "benchmarks/distilbert.py, "), f"{regime}: "), "with teacher", "without teacher")


@claim(
    "04",
    "What to expect: with **all labels**, distillation buys little or nothing here — the student already starts from "
    "the teacher's layers and the labels carry most of what the teacher knows about this task.",
    "With **few labels and plenty of text**, the teacher's targets on the unlabelled snippets are signal the "
    "label-only student never gets, and the distilled student usually pulls ahead.",
    "With all labels, distillation may not help at all; with few labels and more text, the teacher's targets on "
    "the unlabelled text give the student signal it otherwise lacks (whether their softness matters needs an "
    "argmax-label control).",
)
def test_04_the_teacher_helps_little_with_all_labels_and_clearly_with_few(lesson04):
    """Cell 35 and key points: 'with all labels, distillation buys little or nothing' (under one point, here and at
    full size); 'with few labels ... the distilled student usually pulls ahead': ahead on every seed here and at
    full size, and a paired test that decides it in at least one of the two."""
    all_labels, _, _ = _seed_rows(lesson04, "all labels")
    few, _, seeds = _seed_rows(lesson04, "few labels + transfer set")
    assert abs(all_labels) < 1, f"with all labels the teacher gave {all_labels:+.2f} points, not 'little'"
    assert all(d > 0 for d in seeds), f"few labels: {few:+.2f} ({seeds})"
    full_all, full_few = (_full_size(lesson04, regime) for regime in REGIMES)
    for c in (full_all, full_few):
        check_verdict(c)
    assert abs(full_all.difference) < 1, f"full size, all labels: {full_all.line}"
    verdicts = block(L04, "few labels + transfer set: with teacher")
    here = comparison(after(verdicts, "few labels + transfer set: "), "with teacher", "without teacher")
    ahead = "with teacher ahead of without teacher"
    assert full_few.difference > 0 and ahead in (here.verdict, full_few.verdict), (here.line, full_few.line)


@claim(
    "04",
    "In the paper the layer copy matters most (random init: −3.69), then the soft targets, then the cosine loss; the "
    "MLM term (our hard labels) least.",
)
def test_04_the_published_ablations_rank_as_the_prose_says(lesson04):
    """Cell 43: 'In the paper the layer copy matters most (random init: −3.69), then the soft targets, then the
    cosine loss; the MLM term (our hard labels) least.'"""
    published = {
        name.strip(): float(v)
        for name, v in re.findall(r"^([a-zA-Z ()]+?)\s+(-[\d.]+)$", block(L04, "published GLUE change"), re.M)
    }
    order = sorted(published, key=published.get)
    assert order == ["random init", "without soft targets", "without cosine", "without MLM (our hard labels)"]
    assert published["random init"] == -3.69


ABLATED = (
    "without soft targets",
    "without hard labels",
    "without cosine",
    "random init",
    "bottom layers",
    "top layers",
)


def _ablation_changes(lesson04: str) -> dict[str, float]:
    table = block(L04, "random weights (lr")  # what changes, accuracy, change (points)
    return {name: row(table, name)[-1] for name in ABLATED}


def test_04_each_ablation_is_tested_against_the_recipe(lesson04):
    """Cells 38 and 42: each ablation's line is a McNemar test against the recipe on the test snippets, its
    difference the table's change and its verdict the one its p-value gives; the printed order follows the table."""
    change = _ablation_changes(lesson04)
    for name in ABLATED:
        c = comparison(lesson04, name, "recipe")
        check_verdict(c)
        assert abs(c.difference - change[name]) <= 0.01, (c.line, change[name])
    order = re.search(r"our order, largest drop first: (.+)$", lesson04, re.M).group(1)
    printed = [re.match(r"(.+) [+-][\d.]+$", part).group(1) for part in order.split(", ")]
    assert printed == sorted(change, key=change.get), (printed, change)


@claim(
    "04",
    "Which *half* of the teacher you keep matters too.",
    "In our ablations, as in the paper, dropping the layer copy costs the most (section 8 prints the order).",
)
def test_04_dropping_the_layer_copy_costs_the_most_and_the_half_kept_matters(lesson04):
    """Key points: 'In our ablations, as in the paper, dropping the layer copy costs the most': the largest drop,
    and one McNemar's test decides; cell 43: 'Which half of the teacher you keep matters too': keeping the bottom or
    the top half instead of every other layer changes accuracy by a difference the test decides (one of them at
    least)."""
    change = _ablation_changes(lesson04)
    assert min(change, key=change.get) == "random init", f"ablation changes (points): {change}"
    assert comparison(lesson04, "random init", "recipe").verdict == "recipe ahead of random init"
    halves = [comparison(lesson04, name, "recipe") for name in ("bottom layers", "top layers")]
    assert any(c.decided for c in halves), [c.line for c in halves]


@claim(
    "04",
    "Next: **05 · Quantization** — make the distilled student smaller and faster again, with int8 weights.",
)
def test_04_lesson_05_makes_the_student_smaller_and_faster(lesson05):
    """Last cell: lesson 05 makes the distilled student 'smaller and faster again': its int8 student has fewer MB
    and a lower latency than the fp32 student in lesson 05's table."""
    table = block("05_quantization.ipynb", "speed-up and retention")
    fp32, int8 = row(table, "student fp32"), row(table, "student int8")
    assert int8[SIZE_MB] < fp32[SIZE_MB] and int8[LATENCY_MS] < fp32[LATENCY_MS], (fp32, int8)


@claim("04", *time_sentences("04"))
def test_04_the_time_line_is_the_tools():
    """Cell 0: the **Time:** line is tools/lesson_table.py's, computed from the stored cpu run and
    lessons/first_run.json (tests/lesson_time.py)."""
    check_time_line("04")
