"""Lesson 07 (deploy and frontier): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("07", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import math
import re

from claims import L07, block, claim, lesson_fixture, number, numbers, row
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
}


MODELS = ("teacher", "layer-copy student", "narrow student", "CNN student (taught)")
KINDS = {
    m: (
        "torch fp32",
        "torch int8 (head only)" if m.startswith("CNN") else "torch int8",
        "onnx fp32",
        "onnx int8 (convs fp32)" if m.startswith("CNN") else "onnx int8",
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
        r"^  (.+?)\s+mean ([\d.]+) \(([\d., ]+)\); ([\d,]+) steps; ([\d.]+)% of the teacher$", text, re.M
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
            lesson07,
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
    assert len(lines) == 4 and all(kind == "within" and float(d) <= float(t) for d, kind, t in lines), lines


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
        if not j.startswith("CNN")
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
