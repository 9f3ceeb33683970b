"""Lesson 05 (quantization): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("05", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import re

from claims import L05, block, claim, lesson_fixture, number, numbers, prose, row
from lesson_time import check_time_line, time_sentences

LESSON = "05"

lesson04 = lesson_fixture("04")
lesson05 = lesson_fixture("05")

# Flagged sentences of lesson 05 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {
    "save and reload a quantized model, and find which layers are sensitive to int8;": (
        "course design: what the lesson does"
    ),
    "The dynamic int8 of `torch.ao.quantization`, which this lesson works with, runs on the CPU only (torchao's "
    "int8, met in section 4, runs on GPUs too), so we work on CPU copies.": (
        "general fact: where each library's int8 kernels run (quantize_dynamic_int8 refuses a GPU model, cell 44)"
    ),
    "**Affine quantization** maps a float range $[\\min, \\max]$ onto the integers $[q_{min}, q_{max}]$ with two "
    "numbers, a **scale** $s$ (the float width of one integer step) and a **zero-point** $z$ (the integer that "
    "stands for 0.0):": "definition: affine quantization",
    "Keep that in mind for the per-channel scales below.": "instruction: a pointer to section 2's table",
    "`quantize.affine_qparams` / `quantize_affine` / `dequantize_affine` are the same formulas (PyTorch's own "
    "min/max observer's); `quantize.round_trip` runs all three.": (
        "course design: what the helpers compute (tests/test_quantize.py; cell 8 checks them against cell 5)"
    ),
    "They agree with the lines above:": "printed by code: cell 8, checked by NBVAL_CHECK_OUTPUT",
    "On the left, the float weights and the 8-bit version lie on top of each other (log scale: most weights are "
    "small, a few are large).": "instruction: how to read the figure",
    "Weights are centred on zero, so int8 weights are usually **symmetric**: $z = 0$, $s = \\max|x| / 127.5$ "
    "(PyTorch's choice), which makes the integer arithmetic simpler.": (
        "general fact: symmetric quantization and PyTorch's observer (cell 13 shows torch's integers equal ours)"
    ),
    "One scale for the whole matrix (**per tensor**) must cover its largest weight; one scale **per output "
    "channel** (each row) fits each row's own range, so rows of small weights get finer steps.": (
        "definition: per-tensor and per-channel scales"
    ),
    "Compare the four schemes on the same matrix:": "instruction: what the next cell shows",
    "In **dynamic** int8 quantization the weights are quantized once, ahead of time; the activations are quantized "
    '**on the fly**, batch by batch, from their actual range (hence "dynamic": no calibration data needed).': (
        "definition: dynamic quantization"
    ),
    "**4× fewer bytes per weight** to fetch from memory;": "general fact: 8 bits instead of 32",
    "**more multiply-adds per instruction**, on a CPU built for int8 (next paragraph).": (
        "general fact: int8 SIMD lanes hold four times as many values as float32 ones"
    ),
    "Why the speed-up depends on the CPU: int8 matrix products are fast on CPUs with instructions made for them — "
    "*VNNI* (Vector Neural Network Instructions: AVX-512 VNNI or AVX-VNNI), where one instruction multiplies four "
    "pairs of 8-bit numbers and adds them into a 32-bit sum, or Intel's *AMX* tiles, which multiply whole blocks of "
    "int8 (or bf16) matrices at once.": "general fact: what VNNI and AMX do (Intel's instruction set reference)",
    "Without them the CPU needs several older vector instructions for each such step, and int8's gains over "
    "float32 shrink.": "general fact: the pre-VNNI int8 sequence (vpmaddubsw, vpmaddwd, vpaddd) vs one vpdpbusd",
    "It also costs something: finding each batch's range, quantizing the activations, rescaling the output.": (
        "general fact: the steps dynamic quantization adds"
    ),
    "`torch.ao.quantization` is **deprecated**: PyTorch moved quantization into the separate `torchao` package, and "
    "`torch.ao.quantization` prints a deprecation warning (the course silences it in `kdcourse.setup()`, because "
    "this lesson explains it). torchao's equivalent is `quantize_(model, Int8DynamicActivationInt8WeightConfig())`.": (
        "general fact: PyTorch's deprecation of torch.ao.quantization (kdcourse.session silences the warning)"
    ),
    "`torch.ao` needs no compiler, works for every shape and on any CPU (Apple silicon included), and lets us "
    "inspect and pick layers, so this lesson does its hands-on work with it — and measures torchao + "
    "`torch.compile` live at the end of this section.": "course design: why the lesson uses torch.ao",
    "`benchmarks/quantize.py --torchao --compile` measures all three on the same batch; its last run on this kind "
    "of CPU (else its latest run):": "printed by code: cell 23 prints which run and which CPU",
    "Latency on a shared or busy machine is noisy and the speed-ups shrink (all the float32 glue — LayerNorm, GELU, "
    "attention — slows down as much as the matmuls).": "general fact: timing under load; not measured here",
    "The int8 speed-up depends on the CPU: VNNI/AMX chips gain most; Apple silicon uses the `qnnpack` engine.": (
        "general fact: int8 kernels per CPU (section 3's paragraph)"
    ),
    "A good question for the class: which buys more speed here, halving the depth or int8 — and which buys more "
    "bytes?": "instruction: a discussion prompt (cell 29 prints the answer's numbers)",
    "For a fixed input shape — a server that pads every request batch to `bench_batch` × `max_length` — compiling "
    "pays off. torchao quantizes the Linear weights to int8 (per channel) and the activations to int8 **per "
    "token**; `torch.compile` with inductor's `freezing` treats the weights as constants and fuses each int8 "
    "matmul with its scaling into one oneDNN kernel.": (
        "general fact: what torchao and inductor do; cell 33 measures the compiled model"
    ),
    "The cell runs when torchao is installed (`pip install torchao`: the course's `int8` extra); it "
    "compiles for one shape, so it times that shape, and it scores accuracy with the same int8 model uncompiled, "
    "which takes any shape.": "course design: what cell 33 does",
    "The two hold the same int8 weights, but their kernels do not round alike: the compiled graph fuses and "
    "reorders the quantize, int8 matmul and rescale steps (and results can shift with the thread count).": (
        "general fact: fused kernels round differently (cell 33 prints the largest difference)"
    ),
    "So their logits agree within a tolerance, not exactly — the cell prints the largest difference — and the "
    "uncompiled accuracy stands for the compiled model's except, possibly, on snippets whose two class logits are "
    "closer than that difference.": "printed by code: cell 33 prints the difference; the rest follows from it",
    "Read the speed-ups from this one run, on this machine's CPU.": "instruction: how to read cell 33",
    "Where the compiled path wins, it wins only for the shape it was compiled for, and after the compile; "
    "`torch.ao` gives its speed-up on every shape, at once.": "general fact: a static-shape compile",
    "5 · Save, reload, same predictions": "course design: a heading (cell 35 checks it)",
    "`quantize.save_quantized` stores the config, which layers are int8 and how, and the state dict in one file; "
    "`quantize.load_quantized` rebuilds the float model from the config, quantizes the same layers the same way, "
    "and loads the int8 weights.": "course design: what the helpers do (tests/test_quantize.py)",
    "Quantize one group of layers alone, keep the rest in float32, and compare with the float32 student on the "
    "test split: the accuracy change, and — a finer signal than accuracy — how many predictions **flip**.": (
        "course design: what quantize.sensitivity measures"
    ),
    "A forward hook records the largest |input| each kind of `Linear` sees on 64 test snippets (all blocks "
    "together):": "course design: what cell 40 measures",
    "Now whole configurations, each against the float32 student: every Linear in int8 with one scale per tensor or "
    "per channel, everything but the most sensitive group, only the feed-forward output layers (`output.dense`, fed "
    "by the GELU; their input range is in the list above), and int8 word embeddings on top.": (
        "course design: what cell 42 compares"
    ),
    "The cell below runs on the profile's device — a GPU in the `gpu` profile, the CPU here, where bf16 speed "
    "depends on the chip (AVX-512-BF16/AMX help; older CPUs emulate it and get slower).": (
        "general fact: bf16 support per CPU; cell 46 measures this machine's"
    ),
    "On a GPU, bf16 is the easy win.": "general fact: tensor cores run bf16 natively; not measured here (no GPU)",
    "On a CPU it depends on the chip, as int8 does: CPUs with bf16 instructions (AVX-512-BF16, or AMX tiles) run "
    "bf16 matrix products natively — with AMX, bf16 can match or beat dynamic int8 — while CPUs without them convert "
    "to float32 and back and can end up slower than float32.": (
        "general fact: bf16 per CPU; this machine's is printed by cell 46"
    ),
    "Which precision is fastest is a property of the hardware: measure it.": "instruction: measure on your hardware",
    "For models too large for the GPU's memory, `bitsandbytes` loads the Linear weights in **8-bit** (LLM.int8: "
    "outlier features kept in float16) or **4-bit** straight from a checkpoint, via `transformers`' "
    "`BitsAndBytesConfig`.": "general fact: what bitsandbytes does (Dettmers et al. 2022)",
    "It saves memory; it is not always faster.": "general fact: bitsandbytes' k-bit kernels; not measured here",
    "Dynamic int8 quantizes Linear weights ahead of time and activations per batch; the matmul runs in int8 with "
    "int32 accumulation — 4× fewer weight bytes, more multiply-adds per instruction where the CPU has int8 "
    "instructions (VNNI, AMX).": "definition: dynamic int8, as in section 3",
    "Int8 speed-ups are a property of the CPU as much as of the model: quote them with the CPU they were measured "
    "on.": "instruction: how to quote a speed-up",
    "**05.3** From the sensitivity table (`sens`), which one layer group would you keep in float32?": (
        "instruction: an exercise"
    ),
    "Next: **06 · Distilling a causal LLM** — the same ideas on a decoder that writes text.": (
        "course design: what lesson 06 covers"
    ),
}


@claim(
    "05",
    "`l04.prepare` loads lesson 03's fine-tuned teacher from the cache; `l05.distilled_student` returns lesson 04's "
    "student — teacher layers [0, 2, 4], trained with the DistilBERT recipe (`l04.run`) on the same "
    "`profile.distil_train_size` snippets, epochs and seed as lesson 04's section 5, so it is the very student "
    "lesson 04 printed — trained once and then cached.",
    "Distillation made the model **shallower**: fewer layers, same width.",
)
def test_05_the_models_are_lesson_04s(lesson04, lesson05):
    """Cells 0-3: lesson 05 works on lesson 03's teacher and 'lesson 04's student ... trained with the DistilBERT
    recipe': the same test accuracies; the student has fewer layers ('shallower')."""
    teacher_layers, student_layers = numbers(r"teacher (\d+) layers, student (\d+) layers", lesson05)
    assert student_layers < teacher_layers
    accuracy = {
        m.group(1): float(m.group(2)) for m in re.finditer(r"^(teacher fp32|student fp32)\s+([\d.]+)$", lesson05, re.M)
    }
    assert accuracy["teacher fp32"] == row(lesson04, "teacher")[4]
    assert accuracy["student fp32"] == row(lesson04, "student, distilled (recipe)")[4]


@claim(
    "05",
    "Rounding moves each value by at most half a step, so inside the range $|x - \\hat x| \\le s/2$.",
    "Affine quantization: $q = \\mathrm{round}(x/s) + z$, $\\hat x = (q - z)s$; inside the range the error is at most "
    "$s/2$.",
    "Look at how few of the 256 integers the matrix uses: a handful of large weights stretch the range, and most "
    "weights crowd into the few levels around the zero-point that the last line counts.",
)
def test_05_the_round_trip_error_is_at_most_half_a_step(lesson05):
    """Cells 4-6 and 10: 'inside the range |x − x̂| <= s/2'; the matrix uses few of the 256 integers."""
    error, half = numbers(r"max \|w - w_hat\| = ([\d.e+-]+) <= scale/2 = ([\d.e+-]+)", lesson05)
    assert error <= half * (1 + 1e-3)
    used = number(r"integers used: (\d+) of 256", lesson05)
    assert used < 128, f"the matrix uses {used} of the 256 integers"
    table = block(L05, "max error <= scale/2")
    for scheme in (
        "asymmetric, per tensor",
        "symmetric, per tensor",
        "asymmetric, per channel",
        "symmetric, per channel",
    ):
        assert re.search(rf"^{scheme}\s+True\s*$", table, re.M), f"{scheme}: an error above scale/2"


@claim(
    "05",
    "Per channel cuts the mean error by a large factor (compare the rows) for the cost of 1,536 scales instead of "
    "one; the maximum error barely moves, because the row holding the largest weight keeps its coarse step.",
)
def test_05_per_channel_cuts_the_mean_error_not_the_max(lesson05):
    """Cell 12: 'Per channel cuts the mean error by a large factor ... the maximum error barely moves'."""
    table = block(L05, "max error <= scale/2")
    errors = {}
    for kind in ("asymmetric", "symmetric"):
        for scope in ("per tensor", "per channel"):
            errors[kind, scope] = numbers(rf"(?m)^{kind}, {scope}\s+\d+\s+[\d.e+-]+\s+([\d.e+-]+)\s+([\d.e+-]+)", table)
    for kind in ("asymmetric", "symmetric"):
        (mean_t, max_t), (mean_c, max_c) = errors[kind, "per tensor"], errors[kind, "per channel"]
        assert mean_t / mean_c >= 3, f"{kind}: per channel cuts the mean error only {mean_t / mean_c:.1f}x"
        assert abs(max_c / max_t - 1) <= 0.05, f"{kind}: max error {max_t} -> {max_c}"


def test_05_torch_stores_exactly_our_symmetric_per_channel_integers(lesson05):
    """Cells 7, 12 and 21: our formulas agree with PyTorch's: same qparams, the same int8 weights and scales,
    and `quantize_dynamic_int8` gives the same logits as `torch.ao.quantization.quantize_dynamic`."""
    for line in (
        "same scale and zero-point: True",
        "same integers (up to exact ties): True",
        "identical int8 weights: True",
        "identical scales: True",
        "same logits as torch.ao.quantization.quantize_dynamic: True",
    ):
        assert line in lesson05, line


@claim(
    "05",
    "What is left depends on the CPU and on the shapes: from barely faster to several times faster than float32, "
    "sometimes beyond the 4× of the bytes alone when the CPU has int8 units the float path cannot use.",
    "The speed-ups are this machine's CPU's (section 3 printed it): another CPU, with or without VNNI or AMX, gives "
    "other ratios.",
)
def test_05_an_int8_layer_is_faster_on_the_cpu_printed(lesson05):
    """Cells 14-15 and 30: the timing cell prints this machine's CPU (with its int8 instruction sets) before the
    times; int8 is faster on it ('from barely faster to several times faster'), and the printed speed-up is the
    ratio of the printed times."""
    timing = block(L05, "int8 speed-up on this layer")
    assert re.search(r"^CPU: .+ \(.*threads.*(VNNI|AMX|AVX2|AVX-512).*\)", timing, re.M), timing
    fp32 = number(r"float32:\s+([\d.]+) ms", timing)
    int8 = number(r"int8 \(dynamic\):\s+([\d.]+) ms", timing)
    speedup = number(r"int8 speed-up on this layer, on this machine's CPU: ([\d.]+)x", timing)
    assert abs(speedup - fp32 / int8) <= 0.005 * speedup + 0.01  # the times are printed rounded to 0.01 ms
    assert speedup > 1, f"int8 speed-up on one layer: {speedup}x"


@claim(
    "05",
    "But the embeddings hold most of a small BERT's bytes — the word table alone is 30,522 × hidden size.",
    "So int8 Linear layers shrink this student far less than 4×.",
    "Embeddings are lookups, not matmuls: they stay float32 and then dominate a small model's size; they can still "
    "be *stored* in int8.",
    "Int8 keeps every parameter but stores Linear weights in a quarter of the bytes and multiplies faster; the "
    "embeddings, still float32, now dominate the size.",
)
def test_05_the_embeddings_hold_most_bytes_so_int8_linear_shrinks_little(lesson05):
    """Cells 18-20 and 30: 'the embeddings hold most of a small BERT's bytes'; 'int8 Linear layers shrink this
    student far less than 4×'; after int8 'the embeddings, still float32, now dominate the size'."""
    total, embeddings = numbers(r"student: ([\d,]+) parameters; embeddings (\d+)%", lesson05)
    assert embeddings > 50
    table = block(L05, "speed-up and retention")
    fp32, int8 = row(table, "student fp32")[1], row(table, "student int8")[1]
    assert fp32 / int8 < 2, f"int8 Linear layers shrink the student {fp32 / int8:.2f}x"
    assert embeddings / 100 * total * 4 / 1e6 > 0.5 * int8


@claim(
    "05",
    "Weights that are only **looked up** can still be *stored* in int8: `quantize_dynamic_int8(..., "
    "embeddings=True)` keeps the word table in 8 bits with one scale per row and dequantizes the rows it looks up — "
    "smaller on disk, not faster.",
)
def test_05_int8_embeddings_are_smaller_not_faster(lesson05):
    """Cell 20: int8 word embeddings are 'smaller on disk, not faster'."""
    table = block(L05, "speed-up and retention")
    int8, emb = row(table, "student int8"), row(table, "student int8 + int8 embeddings")
    assert emb[1] < int8[1]
    assert emb[2] >= 0.9 * int8[2], f"int8 embeddings ran in {emb[2]} ms vs {int8[2]} ms"


@claim(
    "05",
    "Int8 keeps every parameter but stores Linear weights in a quarter of the bytes and multiplies faster; the "
    "embeddings, still float32, now dominate the size.",
    "Distillation removes layers — fewer parameters *and* less compute.",
)
def test_05_int8_keeps_every_parameter_and_runs_faster(lesson05):
    """Cell 30: 'Int8 keeps every parameter but stores Linear weights in a quarter of the bytes and multiplies
    faster'; 'Distillation removes layers — fewer parameters and less compute'."""
    table = block(L05, "speed-up and retention")
    rows = {name: row(table, name) for name in ("teacher fp32", "teacher int8", "student fp32", "student int8")}
    for model in ("teacher", "student"):
        fp32, int8 = rows[f"{model} fp32"], rows[f"{model} int8"]
        assert fp32[0] == int8[0] and int8[1] < fp32[1] and int8[2] < fp32[2], f"{model}: {fp32} vs {int8}"
    assert rows["student fp32"][0] < rows["teacher fp32"][0] and rows["student fp32"][2] < rows["teacher fp32"][2]


@claim(
    "05",
    "Distillation (fewer layers) and quantization (fewer bits) stack: measure size, speed and accuracy of all four "
    "combinations in one run.",
)
def test_05_distillation_and_int8_stack(lesson05):
    """Key points: 'Distillation (fewer layers) and quantization (fewer bits) stack': the int8 student is smaller
    and faster than both the fp32 student and the int8 teacher; with int8 embeddings 'a fraction of the
    teacher's bytes'."""
    table = block(L05, "speed-up and retention")
    rows = {
        name: row(table, name)
        for name in ("teacher fp32", "teacher int8", "student fp32", "student int8", "student int8 + int8 embeddings")
    }
    best = rows["student int8"]
    for other in ("student fp32", "teacher int8"):
        assert best[1] < rows[other][1] and best[2] < rows[other][2], f"student int8 {best} vs {other} {rows[other]}"
    assert rows["teacher fp32"][1] / rows["student int8 + int8 embeddings"][1] > 3


def test_05_the_summary_lines_follow_the_table(lesson05):
    """Cell 29's printed summary (fewer parameters, bytes, speed-up, accuracy points) follows the table."""
    table = block(L05, "speed-up and retention")
    t, f, s, e = (
        row(table, n) for n in ("teacher fp32", "student fp32", "student int8", "student int8 + int8 embeddings")
    )
    params, size, speed = numbers(
        r"distillation alone: ([\d.]+)x fewer parameters, ([\d.]+)x fewer bytes, "
        r"([\d.]+)x faster",
        lesson05,
    )
    assert abs(params - t[0] / f[0]) <= 0.01 and abs(size - t[1] / f[1]) <= 0.02 and speed == f[3]
    size, speed, vs_teacher, vs_fp32 = numbers(
        r"distillation \+ int8: ([\d.]+)x fewer bytes, ([\d.]+)x faster on this machine's CPU, accuracy "
        r"([+-][\d.]+) points vs the teacher, ([+-][\d.]+) vs the fp32 student",
        lesson05,
    )
    assert abs(size - t[1] / s[1]) <= 0.02 and speed == s[3]
    assert abs(vs_teacher - 100 * (s[4] - t[4])) <= 0.11 and abs(vs_fp32 - 100 * (s[4] - f[4])) <= 0.11
    assert abs(number(r"\+ int8 word embeddings: ([\d.]+)x fewer bytes", lesson05) - t[1] / e[1]) <= 0.03


def _benchmark_ratios(lesson05: str) -> dict[str, float]:
    """Cell 23: benchmarks/quantize.py's stored ratios, name -> speed-up vs the fp32 student."""
    stored = block(L05, "benchmarks/quantize.py, profile")
    return {
        name.strip(): float(x)
        for name, x in re.findall(r"^  (student [\w ,().]+?)\s+[\d.]+ ms\s+\(([\d.]+)x vs student fp32\)", stored, re.M)
    }


def _live_times(lesson05: str) -> dict[str, float]:
    """Cell 33: the live timings on this machine's CPU, name -> ms."""
    live = block(L05, "compiled for one shape in")
    assert "on this machine's CPU, batch" in live
    return {
        name.strip(): float(ms) for name, ms in re.findall(r"^(\w[\w ,().+]+?)\s+([\d.]+) ms\s+[\d.]+x vs", live, re.M)
    }


@claim(
    "05",
    "Compiled with `torch.compile` (inductor, with `freezing`), its int8 matmuls become fused oneDNN kernels and it "
    "gets faster than eager — for the one input shape it was compiled for, after a one-off compile (its time is "
    "printed below); each new batch shape means another compile (or a slower dynamic-shape build).",
    "The fastest int8 path we measured: torchao + `torch.compile`",
    "`torch.ao.quantization` is deprecated in favour of torchao, yet it is the simple, shape-agnostic fast path for "
    "CPU inference here.",
    "On this machine's CPU, torchao's int8 was faster than float32 in eager mode too, and faster still compiled with "
    "`torch.compile`, for the one input shape it was compiled for (section 4 prints each ratio).",
)
def test_05_torchao_eager_is_faster_than_fp32_and_compiled_is_fastest(lesson05):
    """Cells 22, 23, 32-33 and key points, in the stored benchmark and in the live cell (this machine's CPU): torchao
    eager is faster than the fp32 student ('faster than float32 in eager mode too'); compiled it is faster than
    eager ('gets faster than eager', 'faster still compiled') and than torch.ao ('The fastest int8 path we
    measured'); torch.ao is faster than fp32 ('fast path')."""
    bench = _benchmark_ratios(lesson05)
    assert bench["student int8 (torchao, eager)"] > 1, f"benchmark: {bench}"
    assert bench["student int8 (torchao, compiled)"] > bench["student int8 (torchao, eager)"], f"benchmark: {bench}"
    assert bench["student int8 (torchao, compiled)"] > max(bench["student int8"], 1), f"benchmark: {bench}"
    if "torchao is not installed here" in lesson05:
        return
    live = _live_times(lesson05)
    fp32, ao = live["student fp32"], live["student int8 (torch.ao)"]
    eager, compiled = live["student int8 (torchao, eager)"], live["student int8 (torchao + compile)"]
    assert eager < fp32, f"live: torchao eager {eager} ms, fp32 student {fp32} ms"
    assert compiled < eager and compiled < ao, f"live: compiled {compiled} ms, eager {eager} ms, torch.ao {ao} ms"
    assert ao < fp32


@claim(
    "05",
    "Compiled with `torch.compile` (inductor, with `freezing`), its int8 matmuls become fused oneDNN kernels and it "
    "gets faster than eager — for the one input shape it was compiled for, after a one-off compile (its time is "
    "printed below); each new batch shape means another compile (or a slower dynamic-shape build).",
)
def test_05_the_torchao_compile_time_is_printed(lesson05):
    """Cell 22: compiled torchao int8 is faster 'after a one-off compile (its time is printed below)'."""
    assert "its time is printed below" in prose(L05)
    assert number(r"torch.compile of torchao's int8 student took (\d+) s", lesson05) > 0


def test_05_saved_and_reloaded_int8_model_predicts_the_same(lesson05):
    """Cell 34: save, reload, same predictions; the file is the size `size_on_disk_mb` reports."""
    assert "file size within 1% of size_on_disk_mb: True" in lesson05
    assert "identical logits on the test split after reloading: True" in lesson05


@claim(
    "05",
    "A layer group that flips many predictions is a candidate to keep in float32 (`keep_fp32=[...]`) — it costs a "
    "little size and speed.",
)
def test_05_keeping_the_most_sensitive_group_in_fp32_flips_fewer(lesson05):
    """Cells 39-41: the group that flips the most predictions is 'a candidate to keep in float32' — keeping it
    flips fewer predictions, and 'costs a little size'; one scale per channel flips fewer than per tensor."""
    sens = {
        m.group(1).strip(): int(m.group(2))
        for m in re.finditer(
            r"^(block \d+|pooler.dense \+ classifier)\s+[\d.]+\s+[+-][\d.]+\s+(\d+)\s+[\d.]+$", lesson05, re.M
        )
    }
    worst = max(sens, key=sens.get)
    table = block(L05, "all int8, per channel")
    configs = {
        name: row(table, name) for name in ("all int8, per channel", "all int8, per tensor", f"all int8 but {worst}")
    }  # accuracy, delta, flips, MB
    kept, everything = configs[f"all int8 but {worst}"], configs["all int8, per channel"]
    assert kept[2] < everything[2] and kept[3] > everything[3], f"{configs}"
    assert configs["all int8, per channel"][2] < configs["all int8, per tensor"][2], f"{configs}"


@claim(
    "05",
    "On a GPU the usual first step is **bf16**: half the bytes of float32, the same exponent range (no loss scaling, "
    "no overflow), and tensor cores run it far faster.",
)
def test_05_bf16_halves_the_bytes(lesson05):
    """Cell 43: bf16 is 'half the bytes of float32'."""
    table = block(L05, "MB in memory")
    fp32, bf16 = row(table, "student fp32"), row(table, "student bf16")
    assert abs(bf16[0] / fp32[0] - 0.5) <= 0.01 and abs(bf16[1] / fp32[1] - 0.5) <= 0.01


@claim(
    "05",
    "Read the flips more than the accuracy: on a few thousand snippets one point of accuracy is a few dozen "
    "predictions, and flips in both directions cancel in the accuracy.",
)
def test_05_flips_in_both_directions_cancel_in_the_accuracy(lesson05):
    """Cells 42-43: the test split is 'a few thousand snippets' (1,000 to 9,999), so one point is 'a few dozen
    predictions' (10 to 99); every configuration flips more predictions than its accuracy change accounts for,
    so flips in both directions cancelled."""
    n = number(r"ready in \d+ s; (\d+) test snippets", lesson05)
    assert 1_000 <= n <= 9_999 and 10 <= n / 100 <= 99, n
    table = block(L05, "all int8, per channel")  # accuracy, delta (points), flips, MB
    for name in ("all int8, per channel", "all int8, per tensor", "+ int8 word embeddings"):
        _, delta, flips, _ = row(table, name)
        assert flips > abs(delta) * n / 100 + 1, f"{name}: {flips} flips, accuracy change {delta:+.2f} points"


@claim("05", *time_sentences("05"))
def test_05_the_time_line_is_the_tools():
    """Cell 0: the **Time:** line is tools/lesson_table.py's, computed from the stored cpu run and
    lessons/first_run.json (tests/lesson_time.py)."""
    check_time_line("05")
