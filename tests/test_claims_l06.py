"""Lesson 06 (LLM distillation): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("06", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").

Verdicts in lesson 06 come with intervals ('met', 'missed', 'not decided'; 'more', 'less', 'not decided'): the
checks recompute each verdict from the printed interval and assert that the prose says no more than it.
"""

import re

import pytest
from claims import L06, block, claim, lesson_fixture, notebook, number, numbers, sentences
from lesson_time import check_time_line, time_sentences

LESSON = "06"

lesson06 = lesson_fixture("06")

# Flagged sentences of lesson 06 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {
    "06 · Distilling a causal LLM — prune, heal, compare": "definition: the lesson's title",
    "decide **which layers to remove by measurement** (how little each block changes its input) and see the "
    "trade-off curve: layers removed against perplexity, before and after healing;": "course design: what the "
    "lesson covers",
    "write out the **token-level distillation step** by hand (about twenty lines), then heal a pruned student with "
    "it on real text, using cached **top-k** teacher logits, and judge the text it writes with an interval;": "course "
    "design: what the lesson covers (the by-hand step is cell 22's loop)",
    "compare **sequence-level** KD (train on the teacher's text) with token-level KD, and forward KL with reverse KL "
    "and JSD, on the same data;": "course design: what the lesson covers",
    "run a small **on-policy** distillation (the student writes, the teacher grades), the idea behind GKD and "
    "MiniLLM.": "cited: Agarwal et al. 2024 (GKD), Gu et al. 2024 (MiniLLM)",
    "The course ships it as a **GGUF** file — the single-file model format of the llama.cpp project — in **Q4_1**, "
    "a 4-bit format (each group of 32 weights stores 4-bit integers plus one scale and one offset). transformers "
    "reads the file and turns the weights back into float32, so the numbers we compute with carry that rounding: "
    "this teacher can differ slightly from the original checkpoint.": "definition: what GGUF and Q4_1 are "
    "(llama.cpp's format), and what dequantising implies",
    "A language model is scored on text it has never seen by how surprised it is by each real next token.": (
        "definition: what perplexity measures"
    ),
    "Lower is better.": "definition: of perplexity",
    "Our held-out text is `profile.llm_eval_texts` review snippets from the *test* split (films never seen in "
    "training).": "course design: corpus.load_reviews splits the snippets by movie",
    "DistilBERT kept every other layer.": "cited: Sanh et al. 2019 (DistilBERT)",
    "A decoder block adds its output to the residual stream; if what leaves a block points in almost the same "
    "direction as what entered it, the block changes little and is a candidate to remove.": "general fact: the "
    "residual stream of a pre-norm decoder; the reasoning behind the rules",
    "**ShortGPT** (Men et al., 2024) scores each block on its own and removes the lowest-scoring ones, wherever they "
    "are.": "cited: Men et al. 2024 (ShortGPT)",
    "Its score, the **Block Influence**, is BI = 1 − cos: one minus the cosine similarity between a block's input "
    "and output, averaged over tokens — not the angle.": "cited: Men et al. 2024 (ShortGPT), Block Influence",
    "Token by token both grow as the cosine falls, but their averages can rank two blocks differently.": "general "
    "fact: arccos(c)/pi and 1 - c are both decreasing in c, and the mean of a non-linear map is not the map of the "
    "mean",
    "Removing a span then joins two states that already point the same way.": "general fact: what the span rule "
    "does, by definition",
    "Now the test that matters: cut the same number of blocks three ways — every other (evenly spaced, DistilBERT's "
    "rule), ShortGPT's smallest single blocks, and the most similar span — and measure perplexity **before any "
    "healing**, for several sizes of cut (`profile.llm_curve`).": "instruction: what the next cell measures",
    "`llm.prune_layers` builds each student: a fresh model with fewer blocks, the kept blocks' weights copied in and "
    "renumbered (each attention layer knows its index, which is where it keeps its keys and values while generating; "
    "the unit tests show that a student with stale indices breaks).": "general fact: "
    "tests/test_llm.py::test_pruned_student_computes_what_the_kept_layers_compute shows the IndexError",
    "**One more measurement before cutting.**": "instruction: a heading",
    "The student keeps `profile.llm_drop_layers` fewer blocks, chosen above, with everything else copied: "
    "embeddings, final norm, output layer.": "printed by code: cell 15 asserts every kept block is an exact copy",
    "(In a 7B model the embedding is a few percent.)": "general fact: Llama-2-7B's 32,000 x 4,096 embedding is "
    "about 2% of its 6.7B parameters (4% with the untied output layer)",
    "Token-level distillation compares the teacher's and the student's probability for **the same token at the same "
    "position**.": "definition: of token-level KD",
    "That needs the same tokenizer (the same text split into the same positions, id *i* meaning the same token for "
    "both) and logits of the same width.": "general fact: what position-by-position KL needs",
    "Families often pad `vocab_size` above `len(tokenizer)` for speed; those extra columns are never a real token "
    "and must be sliced off before a softmax.": "general fact: padded embedding matrices (e.g. Qwen2, Phi)",
    "With the course's encoder tokenizer (WordPiece, 30,522 tokens) the ids and positions mean different things, so "
    "a per-position KL would compare unrelated numbers.": "printed by code: cell 18 prints the tokenizer sizes and "
    "0 of 49,152 ids in common",
    "The ways out, in order of effort: pick a student from the teacher's family (what we do); **sequence-level KD**, "
    "which needs only the teacher's *text* (section 10); or a loss built to compare distributions across tokenizers "
    "(for example by comparing sorted probability vectors; see Further learning).": "cited: Kim & Rush 2016; "
    "Boizard et al. 2024 (ULD)",
    "Healing data: real text, the teacher's own text, and its top-k": "instruction: a heading",
    "Healing means training the pruned student to match the teacher again.": "definition: of healing",
    "Snippets are short, but the student will have to write longer text; the teacher's continuations show it what "
    "the teacher does there.": "course design: why the teacher's continuations are in the healing text",
    "We sample them with **nucleus sampling** (top-p = 0.9: each next token is drawn from the smallest set of "
    "tokens holding 90% of the probability).": "definition: nucleus sampling, and the course's setting (l06.TOP_P)",
    "Running the teacher inside every student step would add a 30-block forward pass to each step (and keep the "
    "teacher in memory), although the teacher's answer for a given text never changes; so we run it **once** and "
    "cache its output.": "general fact: a frozen teacher's output on fixed text is fixed",
    "The lesson heals with the buckets; section 8 measures what the even spread does to the text.": "course design: "
    "which reading heals the lesson's student",
    "Reading the memory bill: on one device you hold the teacher, the student, the student's optimizer state (AdamW "
    "keeps two numbers per parameter) and activations.": "general fact: AdamW's two moments",
    "The price is the tail mass printed above: how the teacher shares it among the other tokens is lost.": "printed "
    "by code: cell 20 prints the tail mass",
    "We run it for a few steps, then run `llm.train_lm_student` — the function the rest of the lesson uses — on an "
    "identical copy with the same settings: the losses agree.": "printed by code: cell 22 prints both losses and "
    "'same losses: True'",
    "(`train_lm_student` also shuffles the batches, warms the learning rate up over the first tenth of the steps "
    "and then decays it linearly; we do the same here.)": "definition: what train_lm_student does (its code)",
    "Heal the student": "instruction: a heading",
    "The same step, `profile.llm_train_steps` times, at learning rate `profile.llm_lr`.": "course design: the "
    "profile's sizes",
    "How much does each extra block removed cost once healed?": "instruction: the question the curve answers",
    "A curve that healed only one of them could not say which to prefer once healed, so every point below heals "
    "both cuts the same short way (`profile.llm_curve_steps` steps, cached like the student above): the span "
    "closest in angle (no text check, to keep it cheap) and the smallest single blocks.": "course design: what the "
    "curve trains",
    "That doubles the curve's cost: one more training per cut size when the caches are cold, one more load and "
    "evaluation when they are warm.": "course design: two trainings per cut size instead of one",
    "The star is that student: its span was chosen by the text check, not by angle alone, and it trained "
    "`profile.llm_train_steps` steps, so read it against the curve's level rather than against the point at the "
    "same size (a span that loops can still score a good perplexity).": "instruction: how to read the star",
    "Greedy continuations (always the most likely next token) of held-out openings, and two numbers: "
    "**distinct-2**, the share of word pairs that are unique (low means the text repeats itself), and the "
    "**repetition rate**, the share of three-word sequences that already occurred earlier in the same continuation "
    '(high means loops like "and and and").': "definition: the two text measures",
    "Both are read on a **set of 32 continuations** (the course's bar for fluent text, below, is defined on 32), and "
    "one set is a small sample: another 32 openings give other values.": "course design: the bar's definition "
    "(llm.TEXT_SET, llm.FLUENCY_BAR)",
    "So the lesson continues `profile.llm_text_openings` held-out openings, scores each disjoint set of 32 "
    "(`llm.quality_by_set`), and reports the mean over the sets with a 95% interval (Student's t over the sets).": (
        "definition: how the interval is computed (kdcourse.stats.mean_interval)"
    ),
    "Distinct-2 counts a word pair once across a whole set, so it is not an average over openings that could be "
    "resampled one by one; whole sets keep it as defined.": "definition: of distinct-2 (llm.distinct_n), and why the "
    "interval is over sets",
    "Two models are compared set by set on the same openings, and a comparison is decided only when its whole "
    'interval lies on one side of the line it is compared with; otherwise the verdict is "not decided".': "definition: "
    "llm.bar_verdict and llm.change_verdict",
    "**Why healing need not cure loops.**": "instruction: a heading",
    "The last line above says what healing did to the text: perplexity on one side, repetition and distinct-2 on "
    "the same openings on the other, each with its interval.": "printed by code: cell 28's last line",
    "Perplexity and greedy text need not move together.": "general fact: perplexity scores given text, greedy "
    "decoding the model's own",
    "Healing trained the student to match the teacher's next-token distribution, by forward KL, at every position of "
    "text it was *given* (real reviews and the teacher's samples); perplexity and agreement measure exactly that.": (
        "general fact: the healing loss (cell 22) and what perplexity and agreement average"
    ),
    "Greedy decoding feeds the student its own previous tokens — states the training text never showed it — and "
    "takes the single most likely token every time, so a student that is closer to the teacher on average can "
    "still give a phrase it has just written slightly too much probability, and greedy decoding turns that small "
    "excess into a loop.": "general fact: exposure bias and greedy decoding",
    "Token-level KD is not a repetition objective: it can lower perplexity while repetition stays where it was, or "
    "rises.": "general fact: the loss has no term on generated text",
    "Measured: two students from the same pruned start, on the same batches with the same settings, "
    '`profile.llm_tail_steps` steps each (cached); one reads the top-k cache as k + 1 outcomes (`tail="buckets"`, '
    'what healed our student), the other as full distributions with the leftover spread evenly (`tail="even"`, '
    "`llm.expand_topk`).": "course design: the two runs of cell 30",
    "Have the class read the three columns before showing the numbers, and ask which model they think loops most.": (
        "instruction: for the instructor"
    ),
    "Do not promise that healing removes loops: section 8 prints, with an interval, what healing did to repetition "
    "here, and the text after it says why token-level KD need not lower it.": "instruction: for the instructor",
    "Ask which blocks they would have dropped by intuition, then point at the importance bars.": "instruction: for "
    "the instructor",
    "Before running the tail comparison, ask which of the two readings of the cache they expect to write better, "
    "and why.": "instruction: for the instructor",
    "Drag **λ** to mix the objective from pure forward KL (λ = 0) to pure reverse KL (λ = 1), and move the modes "
    "apart.": "instruction: the widget",
    "For an LLM, mode-covering means the student spreads probability over every continuation the teacher allows, "
    "including ones it cannot model well; mode-seeking means it commits to the teacher's likeliest continuations "
    "(more precise, less diverse).": "general fact: forward vs reverse KL",
    "Which is better depends on the student and the use — so we measure.": "general fact: no divergence is best "
    "for every student",
    "They generated it with beam search, which looks for the teacher's single most likely output; we decode "
    "greedily (a beam of width one, cheaper) from the same openings as in section 5.": "cited: Kim & Rush 2016",
    "It needs only the teacher's text — no logits, and it works across tokenizers.": "general fact: sequence-level "
    "KD trains on text",
    "Which is worth more, on the same text?": "instruction: the question of section 10",
    "Four students start from the same pruned copy and see the same batches of this greedy text for "
    "`profile.llm_compare_steps` steps, differing only in the loss: **cross-entropy** (the student sees only the "
    "token the teacher *picked*), and **forward KL**, **reverse KL** and **JSD (β = 0.5)** on the teacher's cached "
    "top-k (it sees the teacher's alternatives too).": "course design: the four runs of cell 39",
    "The loss curves are in different units (nats of cross-entropy, nats of divergence), so compare their shapes, "
    "not their heights.": "instruction: how to read the loss curves",
    "At generation time, though, it continues *its own* text, and a small early mistake takes it to places the "
    "training data never visited.": "general fact: exposure bias",
    "**On-policy** distillation trains on the student's own samples: the student continues a prompt, the teacher "
    "scores every token of that continuation, and the student moves towards the teacher's distribution *there*.": (
        "definition: on-policy distillation"
    ),
    "It needs the teacher live (its targets depend on what the student writes), so each step costs a generation plus "
    "two forward passes.": "general fact: llm.train_on_policy's step",
    "We start from the healed student and run `profile.llm_onpolicy_steps` steps, 8 continuations of 48 tokens each "
    "— a taste, not a full training run.": "course design: l06.ON_POLICY",
    "Watch the repetition rate: the student's own loops are exactly the states that off-policy data never showed "
    "it.": "instruction: what to read in the next cell's output",
    "In published work on-policy distillation runs for thousands of steps and pays off most where the student's "
    "errors compound (long answers, reasoning).": "cited: Agarwal et al. 2024 (GKD); Gu et al. 2024 (MiniLLM)",
    "The whole lesson in one run: measured block importance -> prune -> heal with forward KL on cached top-k -> "
    "compare losses -> on-policy.": "instruction: for the instructor",
    "Every training is cached (`llm.train_cached`), so a live demo never waits; run `python -m kdcourse prepare "
    "--lessons 06` before class.": "course design: the caches, warmed by prepare",
    "For a longer discussion, ask why on-policy training needs the teacher in memory while off-policy training does "
    "not.": "instruction: for the instructor",
    "**06.4** A model's mean NLL on some text is 5.0 nats per token.": "illustration: the exercise's made-up value",
    "The numbers behind these points are the ones printed above; this cell prints what they show.": "instruction: "
    "the next cell prints the key points",
    "A causal LM is distilled **per position**: the student matches the teacher's next-token distribution "
    "(token-level KD), or trains on the teacher's generated text (sequence-level KD, which needs no logits and works "
    "across tokenizers).": "definition: token- and sequence-level KD",
    "Token-level KD needs **the same vocabulary**: check tokenizers and `vocab_size` first "
    "(`kdcourse.vocab.check_vocab_compatibility`).": "instruction: check the vocabulary",
    "Further learning": "instruction: a heading",
    "*ShortGPT: Layers in Large Language Models are More Redundant Than You Expect.* arXiv:2403.03853.": "cited: "
    "Men et al. 2024, the paper's title",
    "Further afield: pruning *width* as well as depth (Minitron).": "cited: Muralidharan et al. 2024 (Minitron)",
}


# --- helpers: the verdicts as the lesson prints them ----------------------------------------------------------

NUM = r"[+-]?[\d,]*\.?\d+"


def _f(text: str) -> float:
    return float(text.replace(",", ""))


def interval_verdict(low: float, high: float) -> str:
    """'up' / 'down' / 'not decided' for a printed difference interval (what llm.change_verdict says)."""
    return "up" if low > 0 else "down" if high < 0 else "not decided"


def healed_minus_unhealed(text: str) -> dict:
    """Cell 28's last line: {metric: (mean, low, high, verdict)}."""
    line = re.search(
        r"healing took perplexity from ([\d,.]+) to ([\d,.]+); on the same openings, healed minus "
        rf"unhealed: repetition ({NUM}) points \(({NUM}) to ({NUM})\) -> (up|down|not decided), "
        rf"distinct-2 ({NUM}) \(({NUM}) to ({NUM})\) -> (up|down|not decided)",
        text,
    )
    assert line, "section 8 prints what healing did to the text"
    g = line.groups()
    return {
        "perplexity": (_f(g[0]), _f(g[1])),
        "repetition": (_f(g[2]), _f(g[3]), _f(g[4]), g[5]),
        "distinct_2": (_f(g[6]), _f(g[7]), _f(g[8]), g[9]),
    }


def fluency_lines(text: str) -> dict:
    """Cell 28's fluency bar: {metric: (mean, low, high, side, bar, verdict)} and the overall verdict."""
    parts = {}
    for name, key in (("distinct-2", "distinct_2"), ("repetition", "repetition")):
        m = re.search(
            rf"^  {name}: ({NUM})(?: points)? \(({NUM}) to ({NUM})\); bar: (at least|at most) ({NUM})"
            r"(?: points)? -> (met|missed|not decided)$",
            text,
            re.M,
        )
        assert m, f"section 8 prints the {name} part of the fluency bar"
        parts[key] = (_f(m[1]), _f(m[2]), _f(m[3]), m[4], _f(m[5]), m[6])
    overall = re.search(r"^course bar for fluent greedy text: (met|missed|not decided)", text, re.M)
    assert overall, "section 8 prints the fluency verdict"
    parts["verdict"] = overall[1]
    return parts


# --- section 3: which blocks -------------------------------------------------------------------------------------


@claim(
    "06",
    "**Which** layers you remove matters: measure how much each block changes its input (above, the measured rules "
    "beat every-other-block at every cut size), shortlist the quietest spans, check what each cut does to the text, "
    "then heal with distillation.",
    "For a deep LLM there is a better rule: look at what each block *does*.",
)
def test_06_the_measured_rule_wins_at_every_cut(lesson06):
    won = re.search(
        r"the measured rules \(span or single blocks\) beat every-other-block at (\d+) of (\d+) cut", lesson06
    )
    assert won and won.group(1) == won.group(2), "key points: 'which layers you remove matters'"
    rows = re.findall(
        r"^\s*(\d+) of 30 blocks removed, perplexity before healing: most similar span ([\d,.]+) \| "
        r"smallest single blocks ([\d,.]+) \| every other block ([\d,.]+)$",
        lesson06,
        re.M,
    )
    assert rows and all(min(_f(s), _f(o)) < _f(e) for _, s, o, e in rows)


@claim(
    "06",
    "Read the bars and the line above them: the first block (which turns raw token embeddings into something the "
    "rest can use) and the last (which turns the stream into next-token predictions) change their input the most; "
    "the median block turns it far less (its angle is printed above, in degrees too).",
)
def test_06_first_and_last_blocks_change_their_input_most(lesson06):
    largest = re.search(
        r"largest change: blocks \[(\d+), (\d+), \d+\] \(([\d.]+), ([\d.]+), [\d.]+\); median block "
        r"([\d.]+) \(an angle of (\d+)°\)",
        lesson06,
    )
    assert largest, "section 3 prints the blocks with the largest change and the median"
    first, second, a, b, median, degrees = largest.groups()
    assert {int(first), int(second)} == {0, 29}, "the two largest are the first and the last block"
    assert float(median) < 0.5 * min(float(a), float(b)), "the median block's angle is not 'far less'"
    assert abs(180 * float(median) - int(degrees)) <= 1


@claim(
    "06",
    "The course measures direction with the **angular distance** arccos(cos)/π between hidden states (0: same "
    "direction, 1: opposite), averaged over the real tokens of 32 training snippets — one forward pass, timed below.",
    "The course ranks blocks by the angle, so that one measure serves both rules, and the cell below also computes "
    "BI and prints whether it would remove the same blocks.",
    '"Smallest single blocks" below is ShortGPT\'s rule with the angle as its score.',
)
def test_06_the_angle_is_measured_on_32_snippets_and_bi_is_printed(lesson06):
    by_hand, library, snippets, seconds = numbers(
        r"block \d+: by hand ([\d.]+) \| llm\.layer_angles ([\d.]+) \(llm\.layer_angles: one pass over (\d+) "
        r"snippets, ([\d.]+) s\)",
        lesson06,
    )
    assert by_hand == library and snippets == 32 and seconds > 0
    same, sizes = numbers(
        r"ShortGPT's own score \(Block Influence, the mean of 1 - cos\) removes the same single "
        r"blocks as the angle at (\d+) of (\d+) cut sizes",
        lesson06,
    )
    assert 0 <= same <= sizes


@claim(
    "06",
    "So the angle draws up a shortlist — the `profile.llm_shortlist` spans closest in angle — and a direct check "
    "decides: cut each, let the pruned model continue 32 **training** openings greedily, and keep the span whose "
    "text repeats itself least (a tie goes to the smaller angle).",
)
def test_06_the_cut_is_the_shortlisted_span_that_repeats_least(lesson06):
    rows = [
        (int(a), int(b), int(rep))
        for a, b, rep in re.findall(
            r"remove blocks\s+(\d+)-(\d+)\s+angle [\d.]+ \| greedy text on training openings: distinct-2 [\d.]+, "
            r"repetition (\d+)%",
            lesson06,
        )
    ]
    cut = re.search(r"cut: blocks (\d+)-(\d+)", lesson06)
    assert rows and cut, "section 3 prints the shortlist and the cut"
    best = min(rows, key=lambda r: r[2])
    assert (best[0], best[1]) == (int(cut.group(1)), int(cut.group(2)))


# --- sections 1, 4, 5: the teacher, the student, the cache ---------------------------------------------------------


@claim(
    "06",
    "This lesson ends with a real small LLM — the teacher with `profile.llm_drop_layers` of its 30 blocks cut out, "
    "healed by distillation — measured three ways: perplexity, agreement with the teacher, and the text it writes.",
    "The teacher is **SmolLM2-135M-Instruct**, a Llama-architecture model: 30 decoder blocks, width 576, a "
    "49,152-token vocabulary.",
    "Much of a *small* LLM is its vocabulary: 49,152 × 576 ≈ 28M parameters sit in the embedding matrix, which a "
    "depth-pruned student keeps whole.",
    "The full logits are large (49,152 floats per token), so we keep only the **top-k** log-probabilities and token "
    "ids.",
    "`llm.expand_topk` rebuilds a full distribution: exact on the k tokens, the leftover mass spread **evenly** over "
    "the other 49,088.",
)
def test_06_the_teacher_is_as_described(lesson06):
    blocks, width, vocab, params = numbers(
        r"LlamaForCausalLM: (\d+) decoder blocks, width (\d+), vocabulary ([\d,]+), ([\d,]+) parameters", lesson06
    )
    assert (blocks, width, vocab) == (30, 576, 49152)
    assert round(vocab * width / 1e6) == 28 and vocab * width / params > 0.15, "the embedding is 'much' of the model"
    assert vocab - 64 == 49088 and "top-64" in lesson06
    kept, total, removed = numbers(r"student: (\d+) of (\d+) blocks \((\d+)% removed\)", lesson06)
    assert total == 30 and removed == round(100 * (1 - kept / total))


def test_06_the_target_verdict_follows_the_numbers(lesson06):
    """The course target's printed verdict ('met' or not) follows the numbers beside it, whichever way it went."""
    line = re.search(
        r"course target .*>= (\d+)% .* at most ([\d.]+)x .*-> (met|NOT met) \((\d+)% removed, ([\d.]+)x\)", lesson06
    )
    assert line, "section 4 prints the course target's verdict"
    least, most, verdict, cut, ratio = line.groups()
    assert float(ratio) == number(r"after healing [\d,.]+ \(([\d.]+)x the teacher\)", lesson06)
    met = int(cut) >= int(least) and float(ratio) <= float(most)
    assert verdict == ("met" if met else "NOT met"), line.group(0)


@claim(
    "06",
    "Full logits grow by almost 200 kB per training token (a million tokens: about 200 GB); the top-k cache by 512 "
    "bytes.",
)
def test_06_the_memory_bill_per_token(lesson06):
    tokens = number(r"= ([\d,]+) training tokens", lesson06)
    full = number(r"all training logits, full \(float32\):\s+([\d,.]+) MB", lesson06)
    top = number(r"all training logits, top-64 \(values \+ ids\):\s+([\d,.]+) MB", lesson06)
    per_token = full * 1e6 / tokens
    assert 180e3 <= per_token < 200e3, per_token  # "almost 200 kB"
    assert 180e9 <= per_token * 1e6 <= 220e9  # "about 200 GB" for a million tokens
    assert abs(top * 1e6 / tokens - 512) < 1


@claim(
    "06",
    "That is a guess, and a poor one: the teacher's leftover is far from even (the cell below measures how much of "
    "it the next k tokens alone hold), yet the student is now taught that every unlisted token deserves the same "
    "small share.",
)
def test_06_the_leftover_is_far_from_even(lesson06):
    share, even = numbers(
        r"the next 64 tokens \(ranks 65-128\) hold ([\d.]+)% of the leftover on average; spread "
        r"evenly over the other [\d,]+ tokens they would get ([\d.]+)%",
        lesson06,
    )
    assert share > 10 * even, f"the next 64 tokens hold {share}% of the leftover, an even spread {even}%"


@claim(
    "06",
    "Pure sampling at temperature 1 also draws from the teacher's unreliable tail (emoji storms, broken words); "
    "greedy decoding — always the most likely token — tends to repeat itself with a model this small (section 10 "
    "measures the teacher's greedy text against these samples).",
)
def test_06_the_teachers_greedy_text_repeats_more_than_its_samples(lesson06):
    line = re.search(
        rf"greedy minus nucleus ({NUM}) points \(95% interval ({NUM}) to ({NUM})\) -> "
        r"(greedy repeats more|greedy repeats less|not decided)",
        lesson06,
    )
    assert line, "section 10 prints the teacher's greedy text against its nucleus samples"
    low, high = _f(line[2]), _f(line[3])
    printed = {"greedy repeats more": "up", "greedy repeats less": "down"}.get(line[4], "not decided")
    assert printed == interval_verdict(low, high)
    assert line[4] == "greedy repeats more", "the prose says greedy text tends to repeat itself: not measured here"


@claim(
    "06",
    "Training a 100M-parameter model on a laptop CPU takes minutes, so `llm.train_cached` stores the trained weights "
    "in the course cache: the first run trains (or `python -m kdcourse prepare --lessons 06` does it before class), "
    "later runs load the result and print how long the training took when it ran.",
)
def test_06_healing_takes_minutes(lesson06):
    params = number(r"every kept block copied exactly; ([\d,]+) parameters", lesson06)
    seconds = number(
        r"\d+ steps x \d+ tokens: (?:loaded from the cache; training took|trained now in) (\d+) s", lesson06
    )
    assert params >= 100e6 and seconds >= 60


# --- section 7: healing, and the curve ---------------------------------------------------------------------------


@claim(
    "06",
    "Healing by token-level KD lowers perplexity, but it is not a repetition objective: judge the text the student "
    "writes too, on enough openings to give an interval.",
)
def test_06_healing_lowered_perplexity(lesson06):
    teacher, before, after = numbers(
        r"held-out perplexity: teacher ([\d.]+) \| pruned student before healing "
        r"([\d,.]+) \| after healing ([\d,.]+)",
        lesson06,
    )
    assert after < before
    assert healed_minus_unhealed(lesson06)["perplexity"] == (before, after)


def curve_rows(text: str) -> list[dict]:
    rows = []
    for m in re.finditer(
        r"^\s*(\d+) blocks removed, perplexity before -> after (\d+) steps: most similar span "
        r"([\d,.]+) -> ([\d,.]+) \([\d.]+x the teacher\) \| smallest single blocks ([\d,.]+) -> "
        r"([\d,.]+) \([\d.]+x\)\n\s+after healing, single blocks / span = ([\d.]+) \(95% interval "
        r"([\d.]+) to ([\d.]+)\) -> (smallest single blocks lower|most similar span lower|not "
        r"decided)$",
        text,
        re.M,
    ):
        g = m.groups()
        rows.append(
            {
                "drop": int(g[0]),
                "span": _f(g[2]),
                "span_healed": _f(g[3]),
                "single": _f(g[4]),
                "single_healed": _f(g[5]),
                "ratio": _f(g[6]),
                "low": _f(g[7]),
                "high": _f(g[8]),
                "verdict": g[9],
            }
        )
    assert rows, "section 7 prints the curve, both rules before and after healing"
    return rows


@claim(
    "06",
    "Section 3 measured two rules before healing, and neither was lowest at every cut size (its line counts how "
    "often each was).",
    "The lesson's own student is a span: at its size the span was lower before healing, and the text check chose "
    "among spans.",
)
def test_06_why_the_curve_heals_both_rules(lesson06):
    span, single, even = numbers(
        r"lowest perplexity before healing, out of \d+ cut sizes: most similar span (\d+), "
        r"smallest single blocks (\d+), every other block (\d+)",
        lesson06,
    )
    assert span >= 1 and single >= 1, "one rule was lowest at every cut size: the reason given no longer holds"
    kept, total = numbers(r"student: (\d+) of (\d+) blocks", lesson06)
    at_size = next(r for r in curve_rows(lesson06) if r["drop"] == total - kept)
    assert at_size["span"] < at_size["single"]


def test_06_the_curve_verdicts_follow_their_intervals(lesson06):
    rows = curve_rows(lesson06)
    for r in rows:
        assert r["low"] <= r["ratio"] <= r["high"]
        expected = (
            "smallest single blocks lower"
            if r["high"] < 1
            else "most similar span lower"
            if r["low"] > 1
            else "not decided"
        )
        assert r["verdict"] == expected, r
    summary = re.search(
        r"most similar span at (\d+), smallest single blocks at (\d+), not decided at (\d+) of (\d+) "
        r"cut sizes; the rule that was lower before healing is still lower after it at (\d+) of",
        lesson06,
    )
    assert summary, "section 7 prints the curve's summary"
    span, single, undecided, total, kept = (int(g) for g in summary.groups())
    assert span == sum(r["verdict"] == "most similar span lower" for r in rows)
    assert single == sum(r["verdict"] == "smallest single blocks lower" for r in rows)
    assert span + single + undecided == total == len(rows)
    assert kept == sum((r["span"] < r["single"]) == (r["span_healed"] < r["single_healed"]) for r in rows)


# --- section 8: the text, with intervals ----------------------------------------------------------------------------


def test_06_the_fluency_verdict_follows_its_intervals(lesson06):
    """Each part of the fluency bar is decided only by its whole interval; the overall verdict combines them."""
    parts = fluency_lines(lesson06)
    verdicts = []
    for key in ("distinct_2", "repetition"):
        mean, low, high, side, bar, verdict = parts[key]
        assert low <= mean <= high
        if side == "at most":
            low, high, bar = -high, -low, -bar
        assert verdict == ("met" if low >= bar else "missed" if high < bar else "not decided"), (key, parts[key])
        verdicts.append(verdict)
    overall = "missed" if "missed" in verdicts else "met" if verdicts == ["met", "met"] else "not decided"
    assert parts["verdict"] == overall
    assert parts["distinct_2"][4] == -0.15 and parts["repetition"][4] == 15, "the course bar itself changed"


def test_06_the_prose_says_what_the_fluency_verdict_says(lesson06):
    """Section 8 prints the fluency verdict ('met', 'missed' or 'not decided'); the key points repeat it, and no
    sentence of the prose claims more: none calls the student fluent unless the bar is met, none says it is not
    unless the bar is missed. Whichever way the run went."""
    verdict = fluency_lines(lesson06)["verdict"]
    key_point = re.search(r"the course bar for fluent text is (met|missed|not decided)", lesson06)
    assert key_point and key_point[1] == verdict, "the key points repeat section 8's verdict"
    affirms = re.compile(
        r"\b(?:writes? fluently|is fluent|fluent student|meets the (?:fluency )?bar|bar is met)\b", re.I
    )
    denies = re.compile(
        r"\b(?:not fluent|no longer fluent|misses the (?:fluency )?bar|bar is missed|falls? short)\b", re.I
    )
    about = [s.text for s in sentences(notebook(L06)) if re.search(r"\bfluen", s.text, re.I)]
    if verdict != "met":
        assert not [t for t in about if affirms.search(t)], f"the bar is {verdict}, the prose says fluent: {about}"
    if verdict != "missed":
        assert not [t for t in about if denies.search(t)], f"the bar is {verdict}, the prose says not fluent: {about}"


def test_06_what_healing_did_to_the_text_is_printed_with_its_interval(lesson06):
    """Issue 21 §4: healing raised repetition on 32 openings while cutting perplexity; the lesson now prints the
    change on every set with an interval, and the verdict word follows the interval."""
    change = healed_minus_unhealed(lesson06)
    for key in ("repetition", "distinct_2"):
        mean, low, high, verdict = change[key]
        assert low <= mean <= high and verdict == interval_verdict(low, high), (key, change[key])


@claim(
    "06",
    "The teacher's logits are huge: run it once and cache the **top-k**, know how much mass the cut leaves out, and "
    "compare on k + 1 outcomes rather than inventing how the rest is shared.",
)
def test_06_the_even_tail_repeats_more_as_the_prose_says(lesson06):
    """Section 5 calls spreading the leftover mass evenly 'a poor guess'; section 8 measures it, with an interval."""
    line = re.search(
        rf"spreading the tail evenly: repetition ([\d.]+)% vs ([\d.]+)% with buckets, ({NUM}) points "
        rf"\(95% interval ({NUM}) to ({NUM}), (\d+) sets\) -> (more|less|not decided)",
        lesson06,
    )
    assert line, "section 8 prints the tail comparison"
    even, buckets, gap, low, high = (_f(g) for g in line.groups()[:5])
    assert low <= gap <= high and abs(gap - (even - buckets)) < 0.15
    assert line[7] == {"up": "more", "down": "less"}.get(interval_verdict(low, high), "not decided")
    assert line[7] == "more", "the measured tail comparison no longer supports section 5's prose"


# --- sections 9-11 -------------------------------------------------------------------------------------------------


@claim("06", "The two KLs differ on the same logits: they are different objectives.")
def test_06_the_two_kls_differ(lesson06):
    forward = number(r"forward: by hand ([\d.]+)", lesson06)
    reverse = number(r"reverse: by hand ([\d.]+)", lesson06)
    assert abs(forward - reverse) > 0.1


@claim("06", "The fit does not slide as λ moves: it **jumps**, because the mixed objective has two local optima.")
def test_06_the_fit_jumps(lesson06):
    jump, others = numbers(
        r"the fitted μ moves by ([\d.]+) between λ=[\d.]+ and [\d.]+, and by at most ([\d.]+) in "
        r"any other step",
        lesson06,
    )
    assert jump > 5 * max(others, 0.05), f"μ moves {jump} in one step, up to {others} in the others: no jump"


@claim(
    "06",
    "The budget is shorter than the healing above, to keep four runs within the lesson's time; the comparison is the "
    "point.",
)
def test_06_the_comparison_budget_is_shorter(lesson06):
    healing = number(r"(\d+) steps x \d+ tokens: ", lesson06)
    compare = number(r"teacher: perplexity [\d.]+; (\d+) steps each", lesson06)
    assert compare < healing


def test_06_forward_kl_vs_cross_entropy_follows_its_intervals(lesson06):
    text = block(L06, "forward KL vs cross-entropy")
    ppl = re.search(
        r"perplexity [\d,.]+ vs [\d,.]+, ratio ([\d.]+) \(([\d.]+) to ([\d.]+)\) -> (lower|higher|not "
        r"decided)",
        text,
    )
    agr = re.search(
        rf"agreement [\d.]+% vs [\d.]+%, ({NUM}) points \(({NUM}) to ({NUM})\) -> (higher|lower|not "
        r"decided)",
        text,
    )
    wins = re.search(r"-> forward KL (wins on both|does not win on both)", text)
    assert ppl and agr and wins
    ratio, low, high = (_f(g) for g in ppl.groups()[:3])
    assert ppl[4] == ("lower" if high < 1 else "higher" if low > 1 else "not decided")
    diff, low, high = (_f(g) for g in agr.groups()[:3])
    assert agr[4] == ("higher" if low > 0 else "lower" if high < 0 else "not decided")
    assert wins[1] == ("wins on both" if ppl[4] == "lower" and agr[4] == "higher" else "does not win on both")
    key_point = re.search(r"\(forward KL (wins on both|does not win on both), with intervals", lesson06)
    assert key_point and key_point[1] == wins[1]


@claim(
    "06",
    "A run this short, on a small student sampling at temperature 1, can move its greedy text either way; the last "
    "line above says, with an interval, whether it moved it here.",
)
def test_06_the_on_policy_change_is_printed_with_its_interval(lesson06):
    line = re.search(
        rf"on-policy minus healed: held-out perplexity x([\d.]+) \(([\d.]+) to ([\d.]+)\) -> (lower|higher|"
        rf"not decided); repetition of greedy text ({NUM}) points \(({NUM}) to ({NUM})\) -> (up|down|not "
        r"decided)",
        lesson06,
    )
    assert line, "section 11 prints the on-policy change with intervals"
    low, high = _f(line[2]), _f(line[3])
    assert line[4] == ("lower" if high < 1 else "higher" if low > 1 else "not decided")
    assert line[8] == interval_verdict(_f(line[6]), _f(line[7]))


@pytest.mark.parametrize("phrase", ["word salad", "most people say"])
def test_06_the_prose_no_longer_claims_what_was_not_measured(phrase):
    """Issue 21 §4: the instructor note called the unhealed text 'word salad or a loop' (it repeated less than the
    healed student's) and claimed what most people say."""
    assert not [s.text for s in sentences(notebook(L06)) if phrase in s.text.lower()]


@claim("06", *time_sentences("06"))
def test_06_the_time_line_is_the_tools():
    """Cell 0: the **Time:** line is tools/lesson_table.py's, computed from the stored cpu run and
    lessons/first_run.json (tests/lesson_time.py)."""
    check_time_line("06")
