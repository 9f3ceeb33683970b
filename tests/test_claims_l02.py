"""Lesson 02 (soft labels and the loss): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("02", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import math
import re

from claims import L02, block, claim, lesson_fixture, number, numbers
from lesson_time import check_time_line, time_sentences

LESSON = "02"

lesson02 = lesson_fixture("02")

# Flagged sentences of lesson 02 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {
    "A teacher's probabilities say more than its answer: *how* sure it is, and which wrong answer it finds "
    "plausible.": "general fact: what soft labels carry (lesson 01 measures it on the probe)",
    "This lesson builds the loss that passes that knowledge to a student, one piece at a time.": (
        "course design: what the lesson does"
    ),
    "Subtracting $z_{\\max}$ before `exp` changes nothing mathematically and keeps `exp` from overflowing.": (
        "general fact: softmax is shift-invariant"
    ),
    "We compute both models' logits once on a batch of validation snippets; the widgets below never run a model, "
    "they only re-use these numbers.": "course design: how the widgets are built",
    "Pick a review and move T.": "instruction: how to use the widget",
    'The same view at fixed values, for readers of a static copy (the surest "rotten" review, T = 4):': (
        "course design: the static figure after a widget"
    ),
    "The student should match the teacher's softened distribution $p^T = \\mathrm{softmax}(z_t/T)$ with its own $q^T "
    "= \\mathrm{softmax}(z_s/T)$.": "definition: the soft targets",
    "Move T and alpha: left, the soft term, the hard term and their mix; right, the soft term's gradient norm with "
    "and without T² (and the hard term's, which does not depend on T), your T marked.": (
        "instruction: how to read the widget"
    ),
    "At which temperature does its top class drop below 60%?": "instruction: an exercise",
    "Fix it (keep the signature), then let `check_kd_loss` confirm.": "instruction: an exercise",
    "Next: **03 · The distillation loop** — train a student with this loss and compare it with plain fine-tuning on "
    "the same data and seed.": "course design: what lesson 03 does",
}


@claim(
    "02",
    "It rises with T from one limit to the other:",
)
def test_02_entropy_rises_with_temperature_from_one_hot_to_uniform(lesson02):
    """Cells 2-4: T -> 0 gives the argmax, T -> inf the uniform distribution; 'It rises with T from one limit
    to the other'."""
    entropy = [float(e) for e in re.findall(r"^T=\s*[\d.]+\s+p = \[.*\]\s+entropy ([\d.]+) bits", lesson02, re.M)]
    assert len(entropy) == 6
    assert all(a < b for a, b in zip(entropy, entropy[1:])), f"entropy does not rise with T: {entropy}"
    top = number(r"max possible entropy with 3 classes: log2\(3\) = ([\d.]+) bits", lesson02)
    assert entropy[0] == 0.0 and abs(entropy[-1] - top) <= 0.002


@claim(
    "02",
    "The course fine-tunes a proper teacher in lesson 03; here we use the same quick, honest stand-in as lesson 01, "
    "a **linear probe**: the pretrained all-MiniLM-L6-v2 encoder is kept frozen, each snippet becomes the mean of "
    "its token vectors, and a logistic-regression layer (`nn.Linear(384, 2)`, trained with torch, full batch) learns "
    "rotten/fresh from `profile.probe_size` training snippets.",
)
def test_02_the_probe_teacher_beats_the_majority_baseline(lesson02):
    """Cell 6-7: the probe is an 'honest stand-in' teacher: clearly above the majority baseline."""
    acc, majority = numbers(r"validation snippets: ([\d.]+) \(majority baseline ([\d.]+)\)", lesson02)
    assert acc > majority + 0.1


@claim(
    "02",
    "Watch a confident teacher's 0.9 / 0.1 become 0.7 / 0.3 at T ≈ 2–4: the relative preference survives, but now it "
    "is large enough to learn from.",
)
def test_02_a_confident_teachers_0_9_becomes_0_7_at_t_2_to_4(lesson02):
    """Cell 10: 'Watch a confident teacher's 0.9 / 0.1 become 0.7 / 0.3 at T ≈ 2–4', on the surest review
    (picks[0], whose logits exercise 02.2 prints)."""
    z0, z1 = numbers(r"teacher logits of that review: \[(-?[\d.]+), (-?[\d.]+)\]", lesson02)
    shown = number(r"teacher p\(fresh\) = ([\d.]+)", lesson02)  # the first pick: the surest 'rotten'

    def top(t):
        return 1 / (1 + math.exp(-abs(z0 - z1) / t))

    assert abs((1 - top(1)) - shown) <= 0.006, "the printed logits are not the surest review's"
    assert top(1) >= 0.85, f"the surest review is {top(1):.2f} sure at T = 1, not about 0.9"
    assert top(2) >= 0.7 >= top(4), f"top class {top(2):.2f} at T = 2 and {top(4):.2f} at T = 4"


@claim(
    "02",
    "The teacher's entropy $H(p^T)$ does not depend on the student, so KL and the *soft cross-entropy* have the same "
    "gradients; KL is just shifted to be 0 at a perfect match.",
    'The distillation loss is T² · KL(teacher_T ‖ student_T) with `reduction="batchmean"`; it differs from the soft '
    "cross-entropy only by the teacher's entropy, a constant for the student.",
)
def test_02_kl_is_the_soft_cross_entropy_minus_the_teacher_entropy(lesson02):
    """Cell 14: 'KL and the soft cross-entropy have the same gradients; KL is just shifted'."""
    kl, ce, h = numbers(r"KL ([\d.]+) = soft CE ([\d.]+) - teacher entropy ([\d.]+)", lesson02)
    assert abs(kl - (ce - h)) <= 2e-5
    assert "same gradient w.r.t. the student's logits: True" in lesson02


@claim(
    "02",
    "`alpha = 0` is plain fine-tuning on labels, `alpha = 1` pure distillation.",
)
def test_02_the_loss_implementations_agree(lesson02):
    """Cells 17 and 21: by hand, `F.kl_div` and `kd_loss` agree; alpha = 0 is plain cross-entropy and
    alpha = 1 pure distillation."""
    by_hand = number(r"by hand\s+([\d.]+)", lesson02)
    assert by_hand == number(r"F.kl_div\s+([\d.]+)", lesson02) == number(r"kd_loss\s+([\d.]+)", lesson02)
    mixes = {
        float(a): (float(x), float(y))
        for a, x, y in re.findall(
            r"alpha=([\d.]+): by hand ([\d.]+) \| kdcourse.losses.distillation_loss ([\d.]+)", lesson02
        )
    }
    assert all(x == y for x, y in mixes.values())
    assert mixes[0.0][0] == number(r"alpha=0 is plain cross-entropy: ([\d.]+)", lesson02)
    assert mixes[1.0][0] == by_hand


@claim(
    "02",
    "For large T both distributions approach uniform and $q^T_i - p^T_i \\approx (z_{s,i} - z_{t,i}) / (C\\,T)$ "
    "(logits centred), so the gradient shrinks like $1/T^2$.",
    "Multiplying the loss by T² undoes that: the soft term keeps the same weight relative to the hard term whatever "
    "T you pick (Hinton et al., 2015).",
    "Without T², going from T = 1 to T = 8 divides the soft gradient by tens (T² = 64 is the limit for large T; the "
    "table above gives the measured norms); with T² it stays the same order.",
    'Ask the class to predict, before moving the slider, what happens to the "without T²" curve as T doubles (it '
    "drops about 4×).",
    "Without T² the soft gradients shrink like 1/T²; with it, alpha means the same at every T.",
)
def test_02_t_squared_keeps_the_soft_gradient_scale(lesson02):
    """Cell 20: 'Without T², going from T = 1 to T = 8 divides the soft gradient by tens (T² = 64 is the limit
    for large T)'; with T² it stays the same order; instructor note (cell 26): as T doubles the 'without T²'
    curve 'drops about 4×' (read as within a factor √2 of 4)."""
    grads = {
        float(t): (float(w), float(wo)) for t, w, wo in re.findall(r"^(\d\.0)\s+([\d.]+)\s+([\d.]+)$", lesson02, re.M)
    }
    assert sorted(grads) == [1.0, 2.0, 4.0, 8.0]
    for t, (with_t2, without) in grads.items():
        assert abs(without - with_t2 / t**2) <= 6e-6
    without = [grads[t][1] for t in sorted(grads)]
    overall = without[0] / without[-1]
    assert 10 <= overall <= 64, f"T = 1 -> 8 divides by {overall:.0f}: not 'tens', up to the T² = 64 limit"
    for a, b in zip(without, without[1:]):
        assert 4 / math.sqrt(2) <= a / b <= 4 * math.sqrt(2), f"a doubling divides by {a / b:.1f}, not about 4"
    with_t2 = [grads[t][0] for t in sorted(grads)]
    assert max(with_t2) / min(with_t2) < 10, "with T² the gradient no longer stays the same order"


@claim(
    "02",
    "Hand-written KD losses go wrong in a handful of classic ways, and most of them still run and train without "
    "raising an error.",
)
def test_02_check_kd_loss_names_every_classic_bug(lesson02):
    """Cell 27: `l02.check_kd_loss` 'names the bug it recognises' in each wrong version, and accepts the right one."""
    text = block(L02, "distillation_by_hand:")
    for name in ("softmax_input", "swapped", "mean_reduction", "no_t_squared", "t_on_student_only", "weights_swapped"):
        assert re.search(rf"^{name}:\n+Not yet: ", text, re.M), f"check_kd_loss did not flag {name}"
    assert re.search(r"^distillation_by_hand:\n+Right!", text, re.M)


@claim("02", *time_sentences("02"))
def test_02_the_time_line_is_the_tools():
    """Cell 0: the **Time:** line is tools/lesson_table.py's, computed from the stored cpu run and
    lessons/first_run.json (tests/lesson_time.py)."""
    check_time_line("02")
