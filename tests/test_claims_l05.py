"""Lesson 05 (quantization): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("05", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import re

from claims import L05, block, claim, lesson_fixture, number, numbers, prose, row

LESSON = "05"

lesson04 = lesson_fixture("04")
lesson05 = lesson_fixture("05")

# Flagged sentences of lesson 05 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {}


@claim(
    "05",
    "`l04.prepare` loads lesson 03's fine-tuned teacher from the cache; `l05.distilled_student` returns lesson 04's "
    "student — teacher layers [0, 2, 4], trained with the DistilBERT recipe (`l04.run`) on the same "
    "`profile.distil_train_size` snippets, epochs and seed as lesson 04's section 5, so it is the very student "
    "lesson 04 printed — trained once and then cached.",
)
def test_05_the_models_are_lesson_04s(lesson04, lesson05):
    """Cell 2: lesson 05 works on lesson 03's teacher and 'lesson 04's student ... trained with the DistilBERT
    recipe': the same test accuracies."""
    accuracy = {
        m.group(1): float(m.group(2)) for m in re.finditer(r"^(teacher fp32|student fp32)\s+([\d.]+)$", lesson05, re.M)
    }
    assert accuracy["teacher fp32"] == row(lesson04, "teacher")[4]
    assert accuracy["student fp32"] == row(lesson04, "student, distilled (recipe)")[4]


@claim(
    "05",
    "Rounding moves each value by at most half a step, so inside the range $|x - \\hat x| \\le s/2$.",
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
    "What is left depends on the CPU (VNNI, AMX or neither) and on the shapes: from barely faster to several times "
    "faster than float32, sometimes beyond the 4× of the bytes alone when the CPU has int8 units the float path "
    "cannot use.",
)
def test_05_an_int8_layer_is_faster(lesson05):
    """Cell 14: int8 is faster on this machine, 'from barely faster to several times faster than float32'
    depending on the CPU; the printed speed-up is the ratio of the printed times."""
    assert "well under 4×" not in prose(L05), "cell 15 measured 6.5x on one layer: the old claim did not hold"
    fp32 = number(r"float32:\s+([\d.]+) ms", lesson05)
    int8 = number(r"int8 \(dynamic\):\s+([\d.]+) ms", lesson05)
    speedup = number(r"int8 speed-up on this layer: ([\d.]+)x", lesson05)
    assert abs(speedup - fp32 / int8) <= 0.005 * speedup + 0.01  # the times are printed rounded to 0.01 ms
    assert speedup > 1, f"int8 speed-up on one layer: {speedup}x"


@claim(
    "05",
    "So int8 Linear layers shrink this student far less than 4×.",
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
        r"distillation \+ int8: ([\d.]+)x fewer bytes, ([\d.]+)x faster, accuracy ([+-][\d.]+) points vs the "
        r"teacher, ([+-][\d.]+) vs the fp32 student",
        lesson05,
    )
    assert abs(size - t[1] / s[1]) <= 0.02 and speed == s[3]
    assert abs(vs_teacher - 100 * (s[4] - t[4])) <= 0.11 and abs(vs_fp32 - 100 * (s[4] - f[4])) <= 0.11
    assert abs(number(r"\+ int8 word embeddings: ([\d.]+)x fewer bytes", lesson05) - t[1] / e[1]) <= 0.03


@claim(
    "05",
    "Compiled with `torch.compile` (inductor, with `freezing`), its int8 matmuls become fused oneDNN kernels and it "
    "gets faster than eager — for the one input shape it was compiled for, after a one-off compile (its time is "
    "printed below); each new batch shape means another compile (or a slower dynamic-shape build).",
    "The fastest int8 path we measured: torchao + `torch.compile`",
)
def test_05_torchao_is_fast_only_when_compiled(lesson05):
    """Cells 22 and 32: torchao eager runs int8 'unfused'; compiled, 'it gets faster than eager' — 'The fastest
    int8 path we measured' — in the benchmark and in the live cell."""
    bench = {
        name.strip(): float(x)
        for name, x in re.findall(
            r"^  (student [\w ,().]+?)\s+[\d.]+ ms\s+\(([\d.]+)x vs student fp32\)", lesson05, re.M
        )
    }
    assert bench["student int8 (torchao, compiled)"] > bench["student int8 (torchao, eager)"], f"torchao: {bench}"
    assert bench["student int8 (torchao, compiled)"] > max(bench["student int8"], 1), f"benchmark: {bench}"
    if "torchao is not installed here" in lesson05:
        return
    ao = number(r"student int8 \(torch.ao\)\s+[\d.]+ ms\s+([\d.]+)x vs teacher fp32", lesson05)
    compiled = number(r"student int8 \(torchao \+ compile\)\s+[\d.]+ ms\s+([\d.]+)x vs teacher fp32", lesson05)
    assert compiled > ao, f"live: torchao + compile {compiled}x, torch.ao {ao}x"


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
