"""Lesson 07 (deploy and frontier): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("07", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import math
import re

from claims import L07, block, claim, lesson_fixture, notebook, number, numbers, row
from lesson_time import check_time_line, time_sentences
from verdicts import check_verdict, comparison

from kdcourse import benchmark, stats
from kdcourse.lessons import l07

LESSON = "07"

lesson07 = lesson_fixture("07")

# Flagged sentences of lesson 07 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {
    "Its results file keeps one entry per kind of CPU measured, because a target met on one CPU can be missed on "
    "another:": (
        "cited: issue 27's run of benchmarks/deploy.py on an AVX-512 VNNI EPYC (layer-copy onnx int8 4.45x against "
        "the 6x target met at 7.16x on the stored CPU); the file's per-CPU entries are printed below"
    ),
    "Lesson 01 promised that a teacher can be distilled into *other* architectures, not only into smaller copies of "
    "itself, and that distilled models are what gets deployed.": ("course design: what lesson 01 set out, retold"),
    "This capstone keeps both promises.": ("course design: the lesson's plan"),
    "slide **filters** over windows of 3, 4 and 5 tokens (`Conv1d`), one score per window and filter;": (
        "definition: the CNN's layers (l07.CNN widths 3, 4, 5)"
    ),
    "keep each filter's **largest** score over the snippet (max over time) — *is this pattern anywhere?*;": (
        "definition: max over time"
    ),
    "a **linear** layer turns the pooled scores into two logits.": ("definition: the CNN's head"),
    "By hand, in full (padding is masked so that a window of padding alone never wins the max):": (
        "definition: how the hand-written CNN masks padding"
    ),
    "`students.WordCNN` is the same network (plus dropout before the head, for training) with the output wrapped "
    "like a `transformers` classifier's (`.logits`), so the course's loop (`training.distill`) and evaluation train "
    "and score it unchanged.": (
        "definition: what students.WordCNN is; the cell below checks it equals the hand-written CNN"
    ),
    "Given the same weights, the two agree:": ("printed by code: the cell below prints whether the logits agree"),
    "That only works with the teacher's own tokenizer — the rows are looked up by token id.": (
        "general fact: the table is indexed by token id; the cell below shows the refusal"
    ),
    "Tang et al.'s answer: make **more text** and let the **teacher label it**.": (
        "cited: Tang et al. 2019, Distilling Task-Specific Knowledge from BERT into Simple Neural Networks"
    ),
    "A gain over hard labels could come from any of them.": (
        "general fact: the runs differ in three things, so a difference has three candidate causes"
    ),
    "hard labels on the copies | snippets + their copies | hard: each copy keeps its source snippet's label | as "
    "many as the taught run": ("course design: a row of the table of runs (l07.CNN_RUNS)"),
    "Neighbouring rows differ in one thing, so each difference has one cause, and a paired t-test over the seeds "
    "(`kdcourse.stats.paired_seeds`) says whether it moved accuracy at this budget.": (
        "course design: how the runs are compared; the verdicts are printed by code"
    ),
    "The last comparison is the one that isolates the teacher: the same copies, the same number of steps, and only "
    "the labels differ.": ("course design: which runs the comparison sets side by side (l07.cnn_comparisons)"),
    "The two above it say what the extra text and the extra steps buy *without* a teacher; the verdicts printed "
    'above are the answer, and "not decided at this budget" is an answer too (more seeds would be the next step).': (
        "printed by code: the verdicts are printed above; the sentence says how to read them"
    ),
    "The same taught student with a random embedding table in place of the teacher's (frozen too, so only the "
    "table's values differ), one seed; the two students are scored on the same test snippets, so McNemar's test on "
    "the snippets where they disagree says whether the difference is real:": (
        "course design: the comparison and its test; the result is printed by code"
    ),
    "At deployment $W$ is dropped: it only shapes training.": (
        "general fact: the projection is used only in training (l07.train_narrow); the exported student has none"
    ),
    "ONNX Runtime *can* quantize convolutions (`ConvInteger`), but an int8 kernel is only a gain where the runtime "
    "has a fast one for your CPU.": (
        "general fact: an int8 kernel's speed depends on the runtime's kernels for the CPU; the next cell measures it"
    ),
    "The cell below times the CNN three ways at batch 32 in one interleaved run: float32, int8 with the convolutions "
    "quantized too, and int8 with the embedding table and head quantized but the convolutions kept float32 "
    "(`l07.CNN_ONNX_INT8_OPS`) — the version the rest of the lesson calls `onnx int8 (convs fp32)`.": (
        "course design: what the cell below times; its numbers are printed by code"
    ),
    "Quantize only the operators that gain, and measure to know which they are.": (
        "general fact: advice; the cell above measures the case at hand"
    ),
    "A service sees **one request at a time** (batch 1) — a user waits for each, so the median *and* the tail (p95: "
    "19 requests in 20 are at least this fast) matter.": ("definition: batch-1 latency, median and p95"),
    "We time both, every model in turn in each round (a slow moment of the machine hits all alike), with "
    "`profile.bench_threads` threads for PyTorch and for each ONNX Runtime session — whose threads are told not to "
    "*spin* between runs, or they would keep a core busy and steal it from the next model timed.": (
        "course design: how the timing is done (l07.latency, deploy.session)"
    ),
    "A model is on the **Pareto front** when no other model is both faster *and* more accurate; everything else is "
    "dominated — never the right choice, whatever the budget.": ("definition: the Pareto front"),
    "Speed-ups depend on the processor: int8 matrix products run fast only where the CPU has instructions for them — "
    "VNNI dot products (AVX-512 VNNI, AVX-VNNI) or Intel's AMX tile units — and on which kernels each runtime ships "
    "for them, so the same models can rank differently on another CPU.": (
        "general fact: int8 speed depends on VNNI / AMX and the runtime's kernels (issue 27's measurements on two CPUs)"
    ),
    "Three patterns to look for, each checked on this run by the cell below: int8 ONNX beside float32 ONNX for each "
    "transformer; the CNN against everything else; and whether the float32 PyTorch teacher is dominated.": (
        "printed by code: the cell below checks each pattern on this run and prints whether it holds"
    ),
    "Live, ask the class to guess where each model lands on the frontier before showing it, and which model they "
    "would ship under a 10 ms per-request budget.": ("instruction: for the instructor"),
    "Then ask what the taught CNN's gain over hard labels is made of, before showing section 3's control runs: on "
    "this run the teacher's labels alone (same copies, same steps) moved accuracy by {teacher_share.difference:+.2f} "
    "points ({teacher_share.p_text}: {teacher_share.verdict}).": (
        "printed by code: an f-string of section 3's paired t-test, filled in when the cell runs"
    ),
    "Timings depend on the CPU: compare ratios within one run, never numbers across machines.": (
        "instruction: how to compare timings"
    ),
    "The taught CNN differs from a hard-label CNN in its labels, its text and its steps; only runs that change one "
    "of them at a time, over paired seeds with a paired test, say what each one buys (section 3).": (
        "course design: the lesson's method (section 3)"
    ),
    "Reusing the teacher's word-piece embeddings gives a different architecture the teacher's input knowledge, as "
    "long as it uses the teacher's tokenizer.": (
        "general fact: a lookup table is indexed by token id, so it needs the same tokenizer"
    ),
    'The Pareto front answers "which model to ship": the most accurate model within the budget; a dominated model is '
    "never the answer.": ("definition: the Pareto front and the recommendation"),
    "Two models scored on the same snippets are compared with McNemar's test: when it cannot tell them apart, ship "
    "the faster.": ("course design: how l07.recommend breaks ties (McNemar)"),
    "Speed-ups belong to a CPU: int8 gains depend on its instructions (VNNI, AMX) and the runtime's kernels.": (
        "general fact: int8 gains depend on the CPU's instructions and the runtime's kernels"
    ),
    "**07.1** Write `my_pareto_front(points)`: given `name -> (latency, accuracy)`, return the names no other model "
    "beats on both (at least as fast and at least as accurate, and strictly better on one), fastest first.": (
        "instruction: exercise 07.1"
    ),
    "What is their p95, in milliseconds?": ("instruction: exercise 07.2"),
    "A colleague writes: *\"the taught CNN beats the hard-label CNN, so the teacher's labels are worth the whole "
    'gain."*': ("instruction: exercise 07.3, a claim for the student to examine"),
    "Their two runs differ in three ways.": ("instruction: exercise 07.3"),
    "(2019) distilled BERT into a one-layer BiLSTM and matched ELMo with 100 times fewer parameters.": (
        "cited: Tang et al. 2019, Distilling Task-Specific Knowledge from BERT into Simple Neural Networks"
    ),
    "Float32 ONNX logits should match to rounding (the tolerance below is 10⁻⁴ on logits of size ~1); int8 ones will "
    "not, so for int8 the test is accuracy, and how many predictions flip.": (
        "printed by code: the cell below prints each model's largest logit difference against the tolerance"
    ),
    "try routes to a student that keeps 97% of the teacher's accuracy at 10x its speed, each route one change from "
    "the one before, judged over paired seeds;": ("course design: the lesson's plan (section 6)"),
    "The cheapest student of all does not: it keeps **one fixed vector per token**, averages the vectors of a "
    "snippet's tokens, and puts a linear head on the average.": ("definition: students.StaticStudent"),
    "**model2vec** distils a sentence encoder into such a table: it runs each token of the vocabulary through the "
    "encoder *alone*, takes the mean of the encoder's output as that token's vector, shrinks the table with PCA "
    "(to 256 dimensions here, `l07.STATIC`) and scales down the vectors of frequent tokens.": (
        "cited: model2vec's distill_from_model (its docstring and source: one forward pass per vocabulary token, "
        "mean pooling, PCA, SIF weighting); l07.STATIC's pca_dims is 256"
    ),
    "This student is distilled twice: its table by model2vec from the teacher's encoder, its head by the course's "
    "loss from the teacher's labels.": ("course design: l07.static_model and l07.train_static"),
    "`l07.static_model` runs `model2vec`'s `distill_from_model` once and caches the table; "
    "`students.StaticStudent.from_model2vec` lays the table out by the teacher's token ids, so this student reads "
    "the same input as every other model in the lesson.": (
        "definition: what the two helpers do (tests/test_static_student.py checks the id layout)"
    ),
    "By hand, the student's input is a few lines of torch: look up each token's row, drop the special tokens and "
    "the padding, average, and scale to length 1 (model2vec's `encode` does that last step, its config says "
    "`normalize`).": ("printed by code: the cell below checks the hand-made mean against encode and the student"),
    "Its head is trained like the CNN's last two runs in section 3: on the same snippets and copies, once with "
    "hard labels (each copy keeps its source snippet's label) and once taught by the teacher, over the same paired "
    "seeds.": ("course design: l07.STATIC_RUNS and l07.train_static (transfer_set / labelled_copies, cnn_seeds)"),
    "Only the labels differ, so the paired t-test says what the teacher's labels buy this student.": (
        "course design: the control; the verdict is printed by code"
    ),
    'Negation, contrast ("good but long") and anything else carried by order are beyond this student; what it '
    "keeps is which words occur, weighted by the teacher's view of each word alone.": (
        "general fact: a mean of per-token vectors is the same for any order of the tokens (the cell above shows it)"
    ),
    "6 · Past the frontier: 97% of the teacher at 10x its speed": ("course design: the section's target"),
    "Another route is one more entry of `l07.ROUTES` away, and every cell below reads the dict: for instance "
    '`{"embeddings": "trained", "copies": 20, "filters": 200}` (twice the copies again).': (
        "instruction: how to try another route (tests/test_l07_routes.py checks l07 accepts such a change)"
    ),
    "+ 10 copies | ten teacher-labelled copies per snippet instead of three (the same epochs over a bigger set: "
    "more steps too)": ("definition: l07.ROUTES['+ 10 copies'] (section 6 prints each route's steps)"),
    "+ 200 filters | twice the filters per width": ("definition: l07.ROUTES['+ 200 filters'] (l07.CNN has 100)"),
    "A common mark for a distilled encoder is TinyBERT-4: 96.8% of BERT-base's accuracy at 9.4x its speed.": (
        "cited: Jiao et al. 2020, TinyBERT: Distilling BERT for Natural Language Understanding (abstract)"
    ),
    "Can a student here keep **97%** of the teacher's test accuracy at **10x** its speed — at batch 32 *and* at "
    "the batch-1 p95 (`l07.SHARE`, `l07.SPEED_UP`)?": ("course design: the question; section 9 prints the answer"),
    "Each route trains at `profile.route_seeds`, paired with the others, and is judged twice with a paired t-test: "
    "against the route above it, and against the 97% line (97% of the teacher's accuracy, the same for every "
    "seed).": ("course design: l07.route_comparisons"),
    'A route "ahead" of the one above it bought something at this budget; "not decided" means the seeds cannot tell.': (
        "general fact: how to read a paired test's verdict"
    ),
    'Against the 97% line the same holds: a mean above the line with a "not decided" verdict has not shown that it '
    "keeps 97%.": ("general fact: how to read a paired test's verdict"),
    "Section 6's target, on this run: the best route's accuracy is its mean over the route seeds; its speed is its "
    "faster float32 deployment (PyTorch or ONNX Runtime: both compute the trained model, so both score that "
    "accuracy), against the float32 PyTorch teacher, at batch 32 and at the batch-1 p95.": (
        "course design: how the cell below judges the target (float32 ONNX matches PyTorch: a test checks the "
        "printed logit differences)"
    ),
    "A static-embedding student is distilled twice, its table from the teacher's encoder (model2vec) and its head "
    "from the teacher's labels, and it cannot see word order: a snippet and its words reordered get one "
    "prediction.": ("general fact: section 5's design, and the order check it prints"),
    "A target such as 97% of the teacher at 10x its speed is met by a mean over paired seeds, tested against the "
    "line, with speed measured in the same run; when it is not met, say by how much.": (
        "course design: how section 9 judges the target"
    ),
}


MODELS = (
    "teacher",
    "layer-copy student",
    "narrow student",  # the transformers: MODELS[:3]
    "CNN student (taught)",
    "static student (taught)",
    "route CNN student (best)",
)
KINDS = {
    m: (
        "torch fp32",
        "torch int8 (head only)" if m not in MODELS[:3] else "torch int8",
        "onnx fp32",
        "onnx int8 (convs fp32)" if "CNN" in m else "onnx int8",
    )
    for m in MODELS
}
ACC, B1_MEDIAN, B1_P95, BATCH = range(4)


def timing_table(text: str) -> dict[str, list[float]]:
    """Lesson 07's latency table: name -> [accuracy, batch-1 median, batch-1 p95, batch ms, speed-ups]."""
    table = block(L07, "single requests; batch")
    names = [f"{m} · {k}" for m in MODELS for k in KINDS[m]]
    names += [n for n in ("layer-copy student · torchao int8 (compiled)",) if n in table]  # batch only
    return {n: row(table, n) for n in names}


def cnn_runs(text: str) -> dict[str, tuple[list[float], int, float]]:
    """Section 3's runs: name -> (per-seed accuracies, steps, printed share of the teacher in %)."""
    found = re.findall(
        r"^  (.+?)\s+mean ([\d.]+) \(([\d., ]+)\); ([\d,]+) steps; ([\d.]+)% of the teacher$",
        block(L07, "what moved accuracy, one change at a time"),
        re.M,
    )
    runs = {}
    for name, mean, seeds, steps, share in found:
        values = [float(v) for v in seeds.split(",")]
        assert abs(float(mean) - sum(values) / len(values)) <= 0.0011, name
        runs[name] = (values, int(steps.replace(",", "")), float(share))
    assert set(runs) == set(l07.CNN_RUNS), runs
    return runs


@claim(
    "07",
    "A small student trained on ~9,000 labelled snippets sees every word only a few times.",
    "The taught student differs from a plain hard-label student in **three** things at once: who labels the text "
    "(the teacher's soft targets), how much text there is (the noisy copies), and — because it sees four times as "
    "many snippets per epoch — how many optimizer steps it takes.",
)
def test_07_the_runs_are_the_sizes_the_prose_gives(lesson07):
    """Section 3: ~9,000 labelled snippets; the taught run (four times the snippets) takes about four times the
    steps of the hard-label run, and the control runs take as many as the taught one."""
    train = number(r"ready in \d+ s: ([\d,]+) training snippets", lesson07)
    assert abs(train - 9000) <= 500, train
    runs = cnn_runs(lesson07)
    hard, taught = runs[l07.HARD][1], runs[l07.TAUGHT][1]
    assert 3.9 <= taught / hard <= 4.1, (hard, taught)
    assert runs[l07.LONG][1] == runs[l07.COPIES][1] == taught, runs


@claim(
    "07",
    "Each training snippet gets three noisy copies — every word piece masked with probability 0.1, or (with "
    "probability 0.25) the snippet cut down to an n-gram of up to five word pieces.",
)
def test_07_the_transfer_set_is_made_as_the_prose_says():
    assert l07.AUGMENT == {"copies": 3, "mask_p": 0.1, "ngram_p": 0.25, "max_n": 5}


def test_07_each_cause_is_judged_by_its_paired_test(lesson07):
    """Section 3: each printed difference and verdict follows the per-seed accuracies printed above it (the
    accuracies are printed to 3 decimals, so the recomputed test may differ a little near p = 0.05)."""
    runs = cnn_runs(lesson07)
    printed = dict(
        (cause, (float(diff), p, verdict.strip()))
        for cause, diff, p, verdict in re.findall(
            r"^  (.+?)\s+([+-][\d.]+) points(?:, 95% CI [+-][\d.]+ to [+-][\d.]+)?, "
            r"(p = [\d.e+-]+|p < 0\.001|no p-value) -> (.+)$",
            block(L07, "what moved accuracy, one change at a time"),
            re.M,
        )
    )
    pairs = {
        "more steps": (l07.HARD, l07.LONG),
        "the copies (hard labels)": (l07.LONG, l07.COPIES),
        "the teacher's labels": (l07.COPIES, l07.TAUGHT),
        "all three (taught vs hard labels)": (l07.HARD, l07.TAUGHT),
    }
    assert set(printed) == set(pairs), printed
    for cause, (a, b) in pairs.items():
        again = stats.paired_seeds(runs[a][0], runs[b][0], names=(a, b))
        diff, _, verdict = printed[cause]
        assert abs(diff - again.difference) <= 0.11, (cause, diff, again)
        if not 0.03 <= again.p_value <= 0.08:
            assert verdict == again.verdict, (cause, verdict, again)


@claim(
    "07",
    "Almost every parameter is the embedding table, and that table is the teacher's: `from_teacher` copies the "
    "teacher's word-piece embeddings (30,522 × 384), so the student starts knowing what the teacher's input layer "
    "knows about each word piece.",
    "We keep the table **frozen** (Kim's *CNN-static*): only the filters and the head learn, and no training step "
    "has to update, or keep optimizer state for, an 11.7-million-parameter table.",
)
def test_07_the_embedding_table_is_almost_every_parameter(lesson07):
    total, table, share, rest = numbers(
        r"parameters: ([\d,]+), of which the embedding table ([\d,]+) \((\d+)%\); filters and head ([\d,]+)", lesson07
    )
    assert table == 30522 * 384 and round(table / 1e6, 1) == 11.7 and total == table + rest
    assert share >= 90, f"the table is {share}% of the parameters: not 'almost every'"
    assert l07.CNN_TRAINING["embeddings"] == "frozen"


@claim(
    "07",
    "A student of hidden size 192 (half the width, 3 heads of 64) has no place for them:",
    "A student narrower than the teacher cannot copy its layers; a learned projection lets it still match the "
    "teacher's hidden states during training, and is dropped at deployment.",
)
def test_07_the_narrow_student_is_half_the_width_and_cannot_copy_a_layer(lesson07):
    narrow, teacher = numbers(r"config.hidden_size is (\d+) but the teacher's is (\d+)", lesson07)
    assert narrow == l07.NARROW["hidden_size"] == teacher / 2 and narrow // 64 == 3
    assert "the same loss as l07.hidden_mse: True" in lesson07


def test_07_exported_models_compute_what_pytorch_computes(lesson07):
    """Section 5: float32 ONNX logits match PyTorch's within the stated tolerance, for every model."""
    lines = re.findall(r"onnx fp32 vs torch: max \|Δ logit\| ([\d.e+-]+) \((within|OVER) ([\d.e+-]+)\)", lesson07)
    models = re.search(r"^models: (.+)$", lesson07, re.M).group(1).split(", ")
    assert len(lines) == len(models) == 6, (lines, models)
    assert all(kind == "within" and float(d) <= float(t) for d, kind, t in lines), lines


def test_07_the_verdicts_printed_by_mcnemar_follow_their_counts(lesson07):
    """Sections 3 and 4: the embeddings and the narrow student's hidden loss, one seed each, McNemar's test."""
    text = lesson07.replace(" (one seed)", "")  # the narrow student's line names its single seed after the verdict
    for b, a in (("teacher's embeddings", "random embeddings"), ("with it", "without the hidden-state loss")):
        check_verdict(comparison(text, b, a))


@claim(
    "07",
    "Three patterns to look for, each checked on this run by the cell below: int8 ONNX beside float32 ONNX for each "
    "transformer; the CNN against everything else; and whether the float32 PyTorch teacher is dominated.",
)
def test_07_the_printed_patterns_follow_the_timing_table(lesson07):
    """Section 7 prints whether each pattern holds; recomputed here from the table (its rounding allowed)."""
    t = timing_table(lesson07)
    printed = dict(
        (text, holds == "holds")
        for holds, text in re.findall(r"^(holds|does NOT hold) on this run: (.+)$", lesson07, re.M)
    )
    assert len(printed) == 3, printed
    cnn_first = all(
        v[BATCH] < w[BATCH]
        for k, v in t.items()
        if k.startswith("CNN")
        for j, w in t.items()
        if j.startswith(MODELS[:3])
    )
    key = "the CNN (every runtime) is faster at batch 32 than every transformer variant"
    assert printed[key] == cnn_first
    front = re.search(r"^batch \d+: on the front, fastest first: (.+)$", lesson07, re.M).group(1)
    key = "the float32 PyTorch teacher is dominated at batch 32 (something is faster and at least as accurate)"
    assert printed[key] == ("teacher · torch fp32" not in front)
    int8_wins = all(
        t[f"{m} · onnx int8"][BATCH] < t[f"{m} · onnx fp32"][BATCH]
        and abs(t[f"{m} · onnx int8"][ACC] - t[f"{m} · onnx fp32"][ACC]) <= 0.01
        for m in MODELS[:3]
    )
    key = "each transformer's onnx int8 is faster at batch 32 than its onnx fp32, within 1 point of accuracy"
    assert printed[key] == int8_wins


@claim(
    "07",
    "`l07.pareto_front` finds the front and `l07.recommend` answers the deployment question: *the most accurate "
    "model within a latency budget* — where a faster model's accuracy cannot be told apart from the most accurate "
    "one's by McNemar's test on the same test snippets, the two are tied and the faster one ships (a snippet or two "
    "that no test can confirm is not worth twice the latency).",
)
def test_07_each_recommendation_fits_and_is_the_best_or_tied_with_it(lesson07):
    """Section 7: every pick fits its budget; it is the most accurate model that surely fits, or the line below
    it names that model and McNemar's test finds no difference (p >= 0.05)."""
    t = timing_table(lesson07)
    sections = re.split(r"^(batch \d+|batch 1, p95): on the front", lesson07, flags=re.M)
    checked = 0
    for title, body in zip(sections[1::2], sections[2::2]):
        column = B1_P95 if "p95" in title else BATCH
        lines = body.splitlines()
        for i, line in enumerate(lines):
            found = re.search(r"budget\s+([\d.]+) ms \([^)]*\): ship (.+?) \([\d.]+, [\d.]+ ms\)$", line)
            if not found:
                continue
            budget, pick = float(found.group(1)), found.group(2)
            assert t[pick][column] <= budget + 0.05, (title, budget, pick, t[pick])
            tie = (
                re.search(
                    r"tied with the most accurate, (.+?) \(([\d.]+), [\d.]+ ms\): [+-][\d.]+ points, "
                    r"McNemar exact test, \d+ vs \d+ of [\d,]+ snippets, (p = [\d.e+-]+|p < 0\.001)",
                    lines[i + 1],
                )
                if i + 1 < len(lines)
                else None
            )
            best = tie.group(1) if tie else pick
            if tie:
                assert tie.group(3) != "p < 0.001" and float(tie.group(3).split("= ")[1]) >= 0.05, lines[i + 1]
                assert t[pick][column] <= t[best][column], (pick, best)
            surely_fit = [v[ACC] for v in t.values() if v[column] < budget - 0.05]
            assert all(t[best][ACC] >= a for a in surely_fit), (title, budget, best, max(surely_fit))
            checked += 1
    assert checked >= 4


@claim("07", *time_sentences("07"))
def test_07_the_time_line_is_the_tools():
    """Cell 0: the **Time:** line is tools/lesson_table.py's, computed from the stored cpu run (caches warm) and
    lessons/first_run.json, where lesson 07's own build (21 CNNs, two narrow transformers, the ONNX files) is
    measured (tests/lesson_time.py)."""
    check_time_line("07")


def test_07_the_printed_targets_follow_the_benchmark_file_cpu_by_cpu(lesson07):
    """Section 7 prints deploy.json's targets for every CPU on record; each verdict follows measured vs wanted."""
    on_record = benchmark.results_by_cpu("deploy")
    blocks = re.split(r"^benchmarks/deploy\.py, ", lesson07, flags=re.M)[1:]
    assert len(blocks) == len(on_record), (len(blocks), list(on_record))
    verdicts = {}
    for text, (kind, entry) in zip(blocks, on_record.items()):
        printed = {
            name.strip(): (float(measured), verdict)
            for name, measured, verdict in re.findall(
                r"^  (.+?)\s+wanted [<>]= ?[\d.]+\s+measured ([-\d.e+]+)\s+(met|NOT met)$", text, re.M
            )
        }
        assert set(printed) == set(entry["targets"]), (kind, printed)
        for name, target in entry["targets"].items():
            op, value = target["wanted"].split()
            ok = target["measured"] <= float(value) if op == "<=" else target["measured"] >= float(value)
            assert ok == target["met"], (kind, name, target)
            assert math.isclose(printed[name][0], target["measured"], rel_tol=1e-3), (kind, name)
            assert printed[name][1] == ("met" if ok else "NOT met"), (kind, name)
            verdicts.setdefault(name, set()).add(ok)


def route_runs(text: str) -> dict[str, tuple[list[float], int]]:
    """Section 6's routes: name -> (per-seed accuracies, steps)."""
    found = re.findall(
        r"^  (.+?)\s+mean ([\d.]+) \(([\d., ]+)\); ([\d,]+) steps; ([\d.]+)% of the teacher$",
        block(L07, "each route against the one above it"),
        re.M,
    )
    runs = {
        name: ([float(v) for v in seeds.split(",")], int(steps.replace(",", ""))) for name, _, seeds, steps, _ in found
    }
    assert list(runs) == list(l07.ROUTES), runs
    return runs


def test_07_the_routes_are_the_table_each_one_change_from_the_one_above(lesson07):
    """Section 6's table is l07.ROUTES, each route the one above plus one change, and the stored run ran them all."""
    table = [c for c in notebook(L07)["cells"] if "| route | change |" in "".join(c["source"])]
    assert len(table) == 1
    rows = re.findall(r"^\| (.+?) \| .+ \|$", "".join(table[0]["source"]), re.M)[1:]
    assert rows == list(l07.ROUTES), rows
    routes = list(l07.ROUTES.values())
    for above, route in zip(routes, routes[1:]):
        assert set(above.items()) < set(route.items()) and len(route) == len(above) + 1, route
    assert list(route_runs(lesson07)) == list(l07.ROUTES)


def test_07_each_route_is_judged_by_its_paired_test(lesson07):
    """Section 6: each printed difference and verdict follows the per-seed accuracies printed above it."""
    runs = route_runs(lesson07)
    text = block(L07, "each route against the one above it")
    teacher = number(r"test accuracy: teacher ([\d.]+)", lesson07)
    printed = {
        what: (float(diff), verdict.strip())
        for what, diff, verdict in re.findall(
            r"^  (.+?)\s+([+-][\d.]+) points(?:, 95% CI [+-][\d.]+ to [+-][\d.]+)?, "
            r"(?:p = [\d.e+-]+|p < 0\.001|no p-value) -> (.+)$",
            text,
            re.M,
        )
    }
    again = l07.route_comparisons({n: [{"accuracy": a} for a in runs[n][0]] for n in runs}, teacher)
    assert set(printed) == set(again), printed
    for what, result in again.items():
        diff, verdict = printed[what]
        assert abs(diff - result.difference) <= 0.15, (what, diff, result)
        if not 0.03 <= result.p_value <= 0.08:
            assert verdict == result.verdict, (what, verdict, result)


@claim("07", "The CNN is already fast enough (section 8 measures it); its accuracy is what falls short.")
def test_07_the_taught_cnn_is_fast_enough_and_short_of_97_percent(lesson07):
    """Section 8's table: the taught CNN's faster float32 runtime is >= 10x the teacher at batch 32 and at the
    batch-1 p95; section 3: its mean share of the teacher is under 97%."""
    t = timing_table(lesson07)
    teacher = t["teacher · torch fp32"]
    fp32 = [t[f"CNN student (taught) · {k}"] for k in ("torch fp32", "onnx fp32")]
    assert max(teacher[BATCH] / v[BATCH] for v in fp32) >= l07.SPEED_UP
    assert max(teacher[B1_P95] / v[B1_P95] for v in fp32) >= l07.SPEED_UP
    assert cnn_runs(lesson07)[l07.TAUGHT][2] < 100 * l07.SHARE


@claim(
    "07",
    "Two snippets with the same word pieces in another order get the same average, so the same prediction, "
    "whatever the head learned; the teacher reads the order:",
)
def test_07_the_static_student_cannot_see_order_and_the_teacher_can(lesson07):
    """Section 5's order check: the same word pieces, one static prediction, two teacher predictions."""
    text = block(L07, "same word pieces:")
    assert "same word pieces: True" in text and "the static student tells them apart: False" in text
    pairs = re.findall(r"P\(positive\): static student ([\d.]+), teacher ([\d.]+)", text)
    assert len(pairs) == 2 and pairs[0][0] == pairs[1][0] and pairs[0][1] != pairs[1][1], pairs


def test_07_the_target_lines_follow_the_timing_table_and_the_routes(lesson07):
    """Section 9: the printed share and speed-ups of the best route are recomputed from sections 6 and 8, and
    each says met or short by as its number gives."""
    t, runs = timing_table(lesson07), route_runs(lesson07)
    text = block(L07, "best route:")
    best = re.search(r"^best route: '(.+)'$", text, re.M).group(1)
    assert best == max(runs, key=lambda n: sum(runs[n][0]) / len(runs[n][0]))
    lines = re.findall(r"^  (.+?)\s+([\d.]+)   wanted >= ([\d.]+): (met|short by [\d.e+-]+)$", text, re.M)
    assert len(lines) == 3, lines
    teacher = number(r"test accuracy: teacher ([\d.]+)", lesson07)
    share = sum(runs[best][0]) / len(runs[best][0]) / teacher
    ref = t["teacher · torch fp32"]
    fp32 = [t[f"route CNN student (best) · {k}"] for k in ("torch fp32", "onnx fp32")]
    want = [share, max(ref[BATCH] / v[BATCH] for v in fp32), max(ref[B1_P95] / v[B1_P95] for v in fp32)]
    for (what, value, wanted, verdict), again in zip(lines, want):
        assert math.isclose(float(value), again, rel_tol=0.03), (what, value, again)
        assert (verdict == "met") == (float(value) >= float(wanted)), (what, value, verdict)
