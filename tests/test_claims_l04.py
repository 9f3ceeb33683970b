"""Lesson 04 (the DistilBERT reproduction): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("04", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import math
import re
import statistics

from claims import L04, block, claim, lesson_fixture, number, numbers, row

LESSON = "04"

lesson03 = lesson_fixture("03")
lesson04 = lesson_fixture("04")

# Flagged sentences of lesson 04 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {}


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
)
def test_04_the_layer_copy_is_exact_and_keeps_three_quarters(lesson04):
    """Cells 10-13: every copied tensor is identical; 'the student keeps about three quarters of the parameters'
    because the embeddings stay whole."""
    same, total = numbers(r"(\d+) of (\d+) tensors identical to the teacher's", lesson04)
    assert same == total and "same as the hand-built copy: True" in lesson04
    pattern = r"{}: (\d) layers, ([\d,]+) parameters \(embeddings ([\d,]+),"
    _, teacher, t_emb = numbers(pattern.format("teacher"), lesson04)
    _, student, s_emb = numbers(pattern.format("student"), lesson04)
    assert t_emb == s_emb
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
    """Cell 26: 'All three students have the same architecture, so they share one size and (up to timing noise)
    one latency'; retention is accuracy as a share of the teacher's."""
    names = (
        "student, fine-tuned without teacher",
        "student, distilled (recipe)",
        "student, random init (from scratch)",
    )
    teacher = row(lesson04, "teacher")  # params, size_mb, latency_ms, speedup, accuracy, retention
    students = [row(lesson04, name) for name in names]
    assert len({s[0] for s in students}) == 1 and len({s[1] for s in students}) == 1
    latencies = [s[2] for s in students]
    assert max(latencies) / min(latencies) <= 1.1, f"student latencies {latencies}"
    for s in [teacher, *students]:
        assert abs(s[5] - 100 * s[4] / teacher[4]) <= 0.2


@claim(
    "04",
    "At the fine-tuning settings (`profile.learning_rate`, `profile.student_epochs` epochs) a random student can "
    "*collapse*: it answers the majority class for every snippet and scores exactly the majority baseline.",
)
def test_04_a_collapse_is_called_a_collapse(lesson03, lesson04):
    """Cells 24-25: a random student at fine-tuning settings 'can collapse: it answers the majority class for
    every snippet and scores exactly the majority baseline'; the cell says which students collapsed."""
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


def test_04_the_verdicts_on_the_three_students_follow_the_table(lesson04):
    """Cells 27-28: retention, distilled vs fine-tuned, layer copy vs random init, each printed from the table."""
    teacher, distilled = row(lesson04, "teacher"), row(lesson04, "student, distilled (recipe)")
    hard, scratch = (
        row(lesson04, "student, fine-tuned without teacher"),
        row(lesson04, "student, random init (from scratch)"),
    )
    keeps, speed = numbers(r"keeps ([\d.]+)% of the teacher's accuracy at ([\d.]+)x its speed", lesson04)
    assert abs(keeps - distilled[5]) <= 0.1 and speed == distilled[3]
    gap = number(r"distilled vs fine-tuned without a teacher: ([+-][\d.]+) points", lesson04)
    assert abs(gap - 100 * (distilled[4] - hard[4])) <= 0.11
    copy_gain, share = numbers(
        r"layer copy vs random init \(from scratch\): ([+-][\d.]+) points, .*; that is (\d+)%", lesson04
    )
    assert abs(copy_gain - 100 * (distilled[4] - scratch[4])) <= 0.11
    majority = number(r"majority baseline\s+accuracy ([\d.]+)", lesson04)
    assert abs(share - 100 * (distilled[4] - scratch[4]) / (distilled[4] - majority)) <= 1
    assert teacher[3] == 1.0


def test_04_the_paired_verdicts_follow_the_per_seed_numbers(lesson04):
    """Cell 29: the verdict per regime is 'the teacher helped/hurt' unless |mean| <= 2 std / sqrt(n)."""
    for regime in ("all labels", "few labels + transfer set"):
        line = re.search(
            rf"^{re.escape(regime)}\s+[\d.]+ ± [\d.]+\s+[\d.]+ ± [\d.]+\s+([+-][\d.]+) ± ([\d.]+)", lesson04, re.M
        )
        assert line, f"the summary table has no row {regime!r}"
        mean, std = float(line.group(1)), float(line.group(2))
        seeds = [
            float(d)
            for d in re.search(rf"^{re.escape(regime)}\s+([+-][\d.]+(?:, [+-][\d.]+)*)\s*$", lesson04, re.M)
            .group(1)
            .split(",")
        ]
        assert abs(statistics.mean(seeds) - mean) <= 0.06
        verdict = re.search(rf"^{re.escape(regime)}: ([+-][\d.]+) points -> (.+)$", lesson04, re.M)
        assert verdict and float(verdict.group(1)) == mean
        expected = (
            "within seed-to-seed noise: the teacher did not measurably help"
            if abs(mean) <= 2 * std / math.sqrt(len(seeds))
            else "the teacher helped"
            if mean > 0
            else "the teacher hurt"
        )
        assert verdict.group(2).strip() == expected


@claim(
    "04",
    "What to expect: with **all labels**, distillation buys little or nothing here — the student already starts from "
    "the teacher's layers and the labels carry most of what the teacher knows about this task.",
    "With **few labels and plenty of text**, the soft targets on unlabelled snippets are real extra signal, and the "
    "distilled student usually pulls ahead.",
)
def test_04_the_teacher_helps_little_with_all_labels_and_clearly_with_few(lesson04):
    """Cell 30 and key points: 'with all labels, distillation buys little or nothing here'; 'With few labels and
    plenty of text ... the distilled student usually pulls ahead'. Here and in the full-size benchmark."""
    all_labels = number(r"(?m)^all labels\s+[\d.]+ ± [\d.]+\s+[\d.]+ ± [\d.]+\s+([+-][\d.]+) ±", lesson04)
    few = number(r"(?m)^few labels \+ transfer set\s+[\d.]+ ± [\d.]+\s+[\d.]+ ± [\d.]+\s+([+-][\d.]+) ±", lesson04)
    seeds = re.search(r"(?m)^few labels \+ transfer set\s+([+-][\d.]+(?:, [+-][\d.]+)*)\s*$", lesson04).group(1)
    assert abs(all_labels) < 1, f"with all labels the teacher gave {all_labels:+.2f} points, not 'little'"
    assert few > 2 and all(float(d) > 0 for d in seeds.split(",")), f"few labels: {few:+.2f} ({seeds})"
    full_all = number(r"recipe - hard \(all labels\)\s+([+-][\d.]+) ±", lesson04)
    full_few = number(r"transfer - hard \(fraction\)\s+([+-][\d.]+) ±", lesson04)
    assert abs(full_all) < 1 and full_few > 2, f"full size: all labels {full_all:+.2f}, few labels {full_few:+.2f}"


@claim(
    "04",
    "In the paper the layer copy matters most (random init: −3.69), then the soft targets, then the cosine loss; the "
    "MLM term (our hard labels) least.",
)
def test_04_the_published_ablations_rank_as_the_prose_says(lesson04):
    """Cell 37: 'In the paper the layer copy matters most (random init: −3.69), then the soft targets, then the
    cosine loss; the MLM term (our hard labels) least.'"""
    published = {
        name.strip(): float(v)
        for name, v in re.findall(r"^([a-zA-Z ()]+?)\s+(-[\d.]+)$", block(L04, "published GLUE change"), re.M)
    }
    order = sorted(published, key=published.get)
    assert order == ["random init", "without soft targets", "without cosine", "without MLM (our hard labels)"]
    assert published["random init"] == -3.69


@claim(
    "04",
    "In our ablations, as in the paper, dropping the layer copy costs the most (section 8 prints the order).",
    "Which *half* of the teacher you keep matters too.",
)
def test_04_dropping_the_layer_copy_costs_the_most_and_the_half_kept_matters(lesson04):
    """Key points: 'In our ablations, as in the paper, dropping the layer copy costs the most'; cell 43: 'Which
    half of the teacher you keep matters too' (beyond the 'point or so' of noise that cell 37 allows); the printed
    order follows the table."""
    table = block(L04, "random weights (lr")  # accuracy, change (points)
    change = {
        name: row(table, name)[-1]
        for name in (
            "without soft targets",
            "without hard labels",
            "without cosine",
            "random init",
            "bottom layers",
            "top layers",
        )
    }
    assert min(change, key=change.get) == "random init", f"ablation changes (points): {change}"
    assert change["bottom layers"] < -1 and change["top layers"] < -1, f"ablation changes (points): {change}"
    order = re.search(r"our order, largest drop first: (.+)$", lesson04, re.M).group(1)
    assert order.startswith("random init "), order
