"""Lesson 01 (what is distillation): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("01", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import re

from claims import L01, claim, lesson_fixture, number, numbers, prose, row
from lesson_time import check_time_line, time_sentences

LESSON = "01"

lesson01 = lesson_fixture("01")
lesson03 = lesson_fixture("03")

# Flagged sentences of lesson 01 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {
    "A big model that works well is often too slow or too large for where it has to run.": (
        "general fact: why compression exists"
    ),
    "count and time BERT-base against DistilBERT, and the course's teacher against a half-depth student;": (
        "course design: an objective of the lesson"
    ),
    "**Prerequisites:** lesson 00; reading a few lines of PyTorch helps.": "course design: the prerequisites",
    "the **student**: a smaller model — fewer layers, narrower layers, or a different architecture.": (
        "definition: the student"
    ),
    "When it works, the student keeps most of the teacher's accuracy at a fraction of its size and cost: a form of "
    "**model compression**.": (
        "cited: Hinton, Vinyals & Dean 2015; Sanh et al. 2019 (the conditional 'when it works' is the claim; lessons "
        "03-04 measure it)"
    ),
    "Because a model's size turns into three costs, every time it is used:": (
        "general fact: introduces the list of inference costs"
    ),
    "**latency** — each prediction runs every layer; fewer layers answer sooner;": (
        "general fact: a forward pass runs every layer (this lesson then measures it)"
    ),
    "**money and energy** — a cloud service pays per machine-hour; a model twice as fast serves twice the requests "
    "on the same hardware.": "general fact: throughput arithmetic, not a measurement",
    "A student that costs a little accuracy but halves every inference is often the better deal.": (
        "general fact: a trade-off stated as a judgement, no number of this run"
    ),
    "**Build a student**: a smaller network.": "definition: step 2 of the recipe",
    "Often the teacher's own architecture with fewer layers (and then its weights can start from the teacher's), "
    "sometimes another design entirely.": (
        "general fact: how students are usually built (lessons 04 and 07 build both kinds)"
    ),
    '**Train the student on two signals**: the true, **hard labels** ("this review is *fresh*"), and the teacher\'s '
    '**soft outputs** — its full probability distribution ("fresh, 0.83; rotten, 0.17").': (
        "illustration: 0.83 / 0.17 is a made-up example of a soft output, in quotes as one"
    ),
    "Sanh, Debut, Chaumond & Wolf (2019) distilled BERT-base (12 layers) into **DistilBERT** (6 layers of the same "
    "width).": "cited: Sanh et al. 2019, arXiv:1910.01108",
    "The paper reports a student **40% smaller**, **60% faster**, that keeps **97% of BERT's language "
    "understanding**, measured as its score on the GLUE benchmark.": (
        "cited: Sanh et al. 2019, arXiv:1910.01108 (the 40% is also measured here: "
        "test_01_distilbert_has_about_40_percent_fewer_parameters)"
    ),
    "The student started from one teacher layer in two, and was trained on BERT's pretraining text with three "
    "losses: match the teacher's soft outputs, predict masked words, and align its hidden states with the teacher's.": (
        "cited: Sanh et al. 2019, arXiv:1910.01108"
    ),
    "`students.describe_student` splits a model into its embeddings (one vector per word piece of a 30,522-entry "
    "vocabulary, plus positions), its transformer layers, and the rest (BERT's pooler):": (
        "definition: what describe_student reports; 30,522 is BertConfig's default vocabulary size"
    ),
    "The embedding table is the same size in both: removing layers cannot shrink it.": (
        "general fact: the architecture (both configs share vocabulary and width); the figure above draws it"
    ),
    "Which **two rows** make a fair comparison of DistilBERT with BERT-base, the same measurement with only the "
    "model changed?": "instruction: exercise 01.1's question (l01.check_fair_comparison computes the answer)",
    "`kdcourse.benchmark.benchmark_table` runs each model on the same batch — `profile.bench_batch` sequences of "
    "`profile.max_length` random token ids — in inference mode with `profile.bench_threads` CPU threads, warms up, "
    "then reports the **median** of `profile.bench_repeats` timed runs.": (
        "definition: how benchmark_table times (the printed header gives this run's settings)"
    ),
    "The paper's 60% was measured differently (the whole STS-B development set — a GLUE task — one sentence at a "
    "time, on their CPU), so expect a speed-up of the same kind, not the same number.": (
        "cited: Sanh et al. 2019, arXiv:1910.01108 (how their speed-up was measured)"
    ),
    "Run the cell again and watch which moves more, the milliseconds or the ratio.": (
        "instruction: an experiment for the reader"
    ),
    "On a shared or busy machine timings drift; `benchmark_table` interleaves the models to keep the *ratio* fair.": (
        "general fact: why benchmark_table interleaves rounds"
    ),
    "The course's teacher, and a half-depth student": "course design: a heading",
    "It is itself a product of distillation: MiniLM (Wang et al., 2020) was distilled from a larger Transformer, the "
    "6-layer version keeps every second layer of the 12-layer MiniLM — DistilBERT's trick — and it was then trained "
    "further on sentence pairs.": "cited: Wang et al. 2020, arXiv:2002.10957, and the all-MiniLM-L6-v2 model card",
    "A student in the DistilBERT style keeps the teacher's width and every second layer.": (
        "definition: a DistilBERT-style student"
    ),
    "It is fast because it skips half the computation — so its outputs are not the teacher's.": (
        "general fact: three of six layers are skipped (the timing above measures the speed)"
    ),
    "For this lesson we use a quicker, honest stand-in, a **linear probe**:": (
        "course design: which teacher lesson 01 uses"
    ),
    "a logistic-regression layer (one `nn.Linear` from that vector to 2 scores, trained with torch) learns "
    "rotten/fresh from `profile.probe_size` training snippets;": "definition: the probe",
    "its accuracy is measured on validation snippets it never saw.": "course design: how kdcourse.probe evaluates",
    "Now ask it about validation snippets and keep its full probability distribution, not just its answer.": (
        "instruction: introduces the next cell"
    ),
    'With two classes, all of it is "how sure": a student that matches these numbers learns the teacher\'s doubts '
    "along with its answers.": "general fact: with two classes the distribution is one number",
    "Is that doubt informative, or noise?": (
        "instruction: a question the next cell answers (test_01_the_teacher_is_less_sure_where_it_is_wrong holds the "
        "answer)"
    ),
    "Here is the teacher's most confident snippet at four temperatures, with `kdcourse.losses.soft_targets`:": (
        "printed by code: cell 28 prints that snippet at T = 1, 2, 4, 8"
    ),
    "the teacher predicts the batch, under `torch.no_grad()` (it never learns);": "definition: step 1 of the loop",
    "the student predicts the same batch;": "definition: step 2 of the loop",
    "In distillation a *different*, smaller model learns from another model's outputs (usually alongside the "
    "labels).": "definition: distillation vs fine-tuning",
    "Distillation changes the *architecture* (fewer or smaller layers).": "definition: what distillation changes",
    "**Quantization** changes how each weight is *stored* (8-bit integers instead of 32-bit floats: each weight "
    "about 4× smaller; lesson 05 measures the whole model).": (
        "general fact: 8 bits vs 32 bits per weight; lesson 05 measures whole models"
    ),
    "For generative LLMs the same idea needs new losses: MiniLLM (Gu et al., 2024) uses the *reverse* KL, GKD "
    "(Agarwal et al., 2024) trains on the student's own generations.": (
        "cited: Gu et al. 2024, arXiv:2306.08543; Agarwal et al. 2024, arXiv:2306.13649"
    ),
    "**Most of the accuracy kept** when distillation works (DistilBERT kept 97% of BERT's GLUE score); whether it "
    "beats training the small model on labels alone is what lessons 03 and 04 put to the test.": (
        "cited: Sanh et al. 2019 (97% of BERT's GLUE score); the comparison with labels alone is left to lessons 03 "
        "and 04"
    ),
    "**Cloud serving**: more requests per GPU, lower bills and energy per request.": "general fact: a use case",
    "The payoff is latency, memory and cost at inference; the price is some accuracy and one training run.": (
        "general fact: the trade-off in general (this lesson measures the payoff side)"
    ),
    "**01.2** From `rows` (the BERT-base vs DistilBERT benchmark), compute how many times faster DistilBERT ran than "
    "BERT-base, using the two `latency_ms` values.": "instruction: an exercise",
    "**01.3** Of the snippets shown in the bar chart (`shown_probs`, one row per snippet), which one has the most "
    "probability mass *off* the teacher's top answer?": "instruction: an exercise",
    "Further learning": "course design: a heading",
    "*DistilBERT, a distilled version of BERT: smaller, faster, cheaper and lighter.* arXiv:1910.01108.": (
        "cited: the title of Sanh et al. 2019"
    ),
}


@claim(
    "01",
    "Half the layers, but only about 40% fewer parameters.",
)
def test_01_distilbert_has_about_40_percent_fewer_parameters(lesson01):
    """Cells 5-6: 'Half the layers, but only about 40% fewer parameters'; the printed share follows the counts."""
    bert = number(r"BERT-base : 12 layers x 768 wide, ([\d,]+) parameters", lesson01)
    distil = number(r"DistilBERT:  6 layers x 768 wide, ([\d,]+) parameters", lesson01)
    printed = number(r"DistilBERT has ([\d.]+)% fewer parameters", lesson01)
    assert abs(printed - 100 * (1 - distil / bert)) < 0.06
    assert 35 <= printed <= 45, f"{printed}% fewer parameters is not 'about 40%'"


@claim(
    "01",
    "Compute grows with the number of layers, so halving them roughly halves the time; the embedding lookup is "
    "nearly free in time even though it is large in memory.",
    "Parameter count and speed are different things: the student lost under a quarter of the parameters, but its "
    "time fell roughly in proportion to the layers removed.",
    "Halving the layers halves the compute but not the parameters: the embedding table stays.",
)
def test_01_halving_the_layers_roughly_halves_the_time(lesson01):
    """Cell 11: 'halving them roughly halves the time'; cell 18: the 3-layer student's 'time fell roughly in
    proportion to the layers removed'. Both printed speed-ups follow their latency tables and are near 2x."""
    bert, distil = (row(lesson01, name)[2] for name in ("BERT-base", "DistilBERT"))
    teacher = row(lesson01, "teacher (MiniLM, 6 layers)")[2]
    student = row(lesson01, "student (3 copied layers)")[2]
    distil_speedup = number(r"measured: DistilBERT runs ([\d.]+)x as fast as BERT-base", lesson01)
    student_speedup = number(r"measured: the student runs ([\d.]+)x as fast as the teacher", lesson01)
    assert abs(distil_speedup - bert / distil) < 0.01 and abs(student_speedup - teacher / student) < 0.01
    for speedup in (distil_speedup, student_speedup):
        assert 1.6 <= speedup <= 2.4, f"{speedup}x is not 'roughly halves the time'"


@claim(
    "01",
    "Far fewer than half the parameters go this time: in a model this narrow, the embedding table is half the model.",
    "Parameter count and speed are different things: the student lost under a quarter of the parameters, but its "
    "time fell roughly in proportion to the layers removed.",
    "Halving the layers halves the compute but not the parameters: the embedding table stays.",
)
def test_01_the_half_depth_student_loses_under_a_quarter_of_the_parameters(lesson01):
    """Cell 15: 'Far fewer than half the parameters go ... the embedding table is half the model'; cell 18:
    'the student lost under a quarter of the parameters'."""
    teacher = number(r"teacher: 6 layers, ([\d,]+) parameters \(pretrained\)", lesson01)
    student = number(r"student: 3 layers, ([\d,]+) parameters", lesson01)
    fewer = number(r"copied\), ([\d.]+)% fewer", lesson01)
    assert abs(fewer - 100 * (1 - student / teacher)) < 0.06
    assert fewer < 25, f"the student lost {fewer}% of the parameters, not under a quarter"
    per_layer = (teacher - student) / 3  # three of six identical layers were removed
    outside_layers = (teacher - 6 * per_layer) / teacher  # embeddings (and the pooler)
    assert 0.4 <= outside_layers <= 0.6, f"the embeddings are {outside_layers:.0%} of MiniLM, not about half"


@claim(
    "01",
    "Not a great teacher — lesson 03's fine-tuned one does better — but a real one: its outputs come from pretrained "
    "weights and real reviews.",
)
def test_01_the_probe_is_a_real_teacher_and_lesson_03s_is_better(lesson01, lesson03):
    """Cell 20: the probe is 'Not a great teacher — lesson 03's fine-tuned one does better — but a real one':
    it beats the majority baseline, and lesson 03's teacher beats it."""
    probe, majority = numbers(
        r"validation snippets: ([\d.]+) \(always guessing the majority label: about ([\d.]+)\)", lesson01
    )
    assert probe > majority + 0.1, f"the probe ({probe}) is barely above the majority baseline ({majority})"
    fine_tuned = number(r"teacher \(fine-tuned MiniLM\): accuracy ([\d.]+)", lesson03)
    assert fine_tuned > probe, f"lesson 03's teacher ({fine_tuned}) does not beat the probe ({probe})"


@claim(
    "01",
    "The teacher is less sure exactly where it tends to be wrong.",
)
def test_01_the_teacher_is_less_sure_where_it_is_wrong(lesson01):
    """Cell 27: 'The teacher is less sure exactly where it tends to be wrong.'"""
    right, wrong = numbers(r"mean mass off the top answer: right ([\d.]+) .*, wrong ([\d.]+)", lesson01)
    assert wrong > right, f"mass off the top answer: right {right}, wrong {wrong}"


@claim(
    "01",
    "Dividing the logits by $T > 1$ before the softmax flattens the distribution and lifts the small probabilities; "
    "lesson 02 explains why and by how much.",
)
def test_01_temperature_flattens_the_soft_output(lesson01):
    """Cell 27: 'Dividing the logits by T > 1 ... flattens the distribution and lifts the small probabilities.'"""
    rows = [
        (float(t), float(r), float(f))
        for t, r, f in re.findall(r"^T = (\d+): rotten ([\d.]+), fresh ([\d.]+)", lesson01, re.M)
    ]
    assert [t for t, _, _ in rows] == [1, 2, 4, 8]
    small = [min(r, f) for _, r, f in rows]
    assert all(a < b for a, b in zip(small, small[1:])), f"the small probability does not rise with T: {small}"
    assert all(s < 0.5 for s in small)


def test_01_the_loss_by_hand_agrees_with_kdcourse(lesson01):
    """Cell 30: the combined loss by hand and `losses.distillation_loss` 'must agree'."""
    by_hand, ours = numbers(r"by hand ([\d.]+) \| kdcourse.losses.distillation_loss ([\d.]+) \| agree: True", lesson01)
    assert by_hand == ours


@claim(
    "01",
    "A few dozen steps over a small slice of the data already move the student (the numbers above), but one short "
    "run on one seed proves little.",
)
def test_01_a_few_dozen_steps_already_move_the_student(lesson01):
    """Cell 33: 'A few dozen steps ... already move the student (the numbers above)': the accuracy changed, over
    two to five dozen steps (read as 'a few dozen')."""
    assert "move the student only a little" not in prose(L01), "cell 31 prints a clear move (0.677 -> 0.742)"
    before, after = numbers(r"\(student accuracy ([\d.]+) -> ([\d.]+)\)", lesson01)
    assert after != before
    steps = number(r"(?m)^(\d+) steps of \d+ snippets", lesson01)
    assert 24 <= steps <= 60, f"{steps:.0f} steps is not 'a few dozen' (read as two to five dozen)"


@claim(
    "01",
    "**Faster answers** at the same hardware cost, or the same speed on cheaper hardware.",
    "**Smaller models** that fit where the teacher cannot.",
)
def test_01_the_benefits_summary_matches_the_measurements(lesson01):
    """Cell 34-35, 'Measured in this lesson': faster answers and smaller models, as the tables above say."""
    for pattern, slow, fast in (
        (
            r"BERT-base -> DistilBERT \(architecture\): (\d+)% fewer parameters, ([\d.]+)x as fast, (\d+) MB",
            "BERT-base",
            "DistilBERT",
        ),
        (
            r"MiniLM teacher -> 3-layer student: (\d+)% fewer parameters, ([\d.]+)x as fast, (\d+) MB",
            "teacher (MiniLM, 6 layers)",
            "student (3 copied layers)",
        ),
    ):
        fewer, speedup, smaller = numbers(pattern, lesson01)
        big, small = row(lesson01, slow), row(lesson01, fast)  # params, size_mb, latency_ms, speedup
        assert fewer == round(100 * (1 - small[0] / big[0]))
        assert speedup == small[3] and speedup > 1
        assert smaller == round(big[1] - small[1]) and smaller > 0


@claim(
    "01",
    "The teacher's output says more: *fresh, surely* for a rave, *maybe fresh* for a mixed or sarcastic review.",
)
def test_01_the_shown_snippets_range_from_sure_to_unsure(lesson01):
    """Cell 23: the chart shows the teacher sure of some snippets and unsure of others: at least one shown snippet
    at 0.9 or more on its top answer, and at least one within 0.4-0.6."""
    shown = [
        max(float(r), float(f)) for r, f in re.findall(r"^\d\. rotten ([\d.]+) \| fresh ([\d.]+) \|", lesson01, re.M)
    ]
    assert shown, "cell 21 prints the shown snippets"
    assert max(shown) >= 0.9 and min(shown) <= 0.6, f"top-answer probabilities of the shown snippets: {shown}"


@claim(
    "01",
    "The student is the half-depth copy of that encoder, made with `students.student_from_teacher` and every second "
    "layer — in the `cpu` profile exactly the 3-layer model timed above — with a copy of the probe's linear layer on "
    "top.",
)
def test_01_the_loops_student_is_the_one_timed_above(lesson01):
    """Cell 29: the loop's student is 'exactly the 3-layer model timed above': both print layers [0, 2, 4]."""
    assert "student: 3 layers, " in lesson01 and "(teacher layers [0, 2, 4] copied)" in lesson01
    assert "student: layers [0, 2, 4] copied + a copy of the linear layer" in lesson01


@claim("01", *time_sentences("01"))
def test_01_the_time_line_is_the_tools():
    """Cell 0: the **Time:** line is tools/lesson_table.py's, computed from the stored cpu run and
    lessons/first_run.json (tests/lesson_time.py)."""
    check_time_line("01")
