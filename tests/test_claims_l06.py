"""Lesson 06 (LLM distillation): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("06", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import json
import re

from claims import (
    L06,
    LESSONS,
    claim,
    lesson_fixture,
    notebook,
    number,
    numbers,
    sentences,
)

LESSON = "06"

lesson06 = lesson_fixture("06")

# Flagged sentences of lesson 06 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {}


@claim(
    "06",
    "**Which** layers you remove matters: measure how much each block changes its input (above, the measured rules "
    "beat every-other-block at every cut size), shortlist the quietest spans, check what each cut does to the text, "
    "then heal with distillation — the recipe of ShortGPT-style pruning and of Minitron (NVIDIA, 2024), which prunes "
    "and then distils.",
)
def test_06_the_measured_rule_wins_at_every_cut(lesson06):
    won = re.search(
        r"the measured rules \(span or single blocks\) beat every-other-block at (\d+) of (\d+) cut", lesson06
    )
    assert won and won.group(1) == won.group(2), "key points: 'which layers you remove matters'"


@claim(
    "06",
    "Read the bars and the line above them: the first block (which turns raw token embeddings into something the "
    "rest can use) and the last (which turns the stream into next-token predictions) change their input the most; "
    "many blocks in between barely turn the vector at all.",
)
def test_06_first_and_last_blocks_change_their_input_most(lesson06):
    largest = re.search(r"largest change: blocks \[([\d, ]+)\]", lesson06)
    assert largest, "section 3 prints the blocks with the largest change"
    assert {0, 29} <= {int(i) for i in largest.group(1).split(",")}


@claim(
    "06",
    "This lesson ends with a real small LLM — the teacher with a fifth of its blocks cut out, healed by distillation "
    "— measured three ways: perplexity, agreement with the teacher, and the text it writes.",
)
def test_06_a_fifth_is_cut_and_the_target_verdict_follows_the_numbers(lesson06):
    """Cell 0: 'the teacher with a fifth of its blocks cut out': the printed share removed is 20%. The course
    target's printed verdict ('met' or not) follows the numbers beside it, whichever way it went."""
    kept, total, removed = numbers(r"student: (\d+) of (\d+) blocks \((\d+)% removed\)", lesson06)
    assert removed == round(100 * (1 - kept / total)) == 20, f"{kept:.0f} of {total:.0f} blocks kept: not a fifth cut"
    line = re.search(
        r"course target .*>= (\d+)% .* at most ([\d.]+)x .*-> (met|NOT met) \((\d+)% removed, ([\d.]+)x\)", lesson06
    )
    assert line, "section 4 prints the course target's verdict"
    least, most, verdict, cut, ratio = line.groups()
    assert float(ratio) == number(r"after healing [\d,.]+ \(([\d.]+)x the teacher\)", lesson06)
    met = int(cut) >= int(least) and float(ratio) <= float(most)
    assert verdict == ("met" if met else "NOT met"), line.group(0)


def test_06_text_quality_is_reported_as_measured(lesson06):
    """The verdict on greedy text follows its numbers, and no prose calls the student fluent unless it is:
    distinct-2 within 0.15 of the teacher's and repetition within 15 points."""
    quality = {
        m.group(1).strip(): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r"^\s*([\w ,+-]+?): distinct-2 ([\d.]+) \| repetition ([\d.]+)%", lesson06, re.M)
    }
    teacher, healed = quality["teacher"], quality["healed student"]
    verdict = re.search(r"greedy text repeats itself (more|no more) than the teacher's", lesson06)
    assert verdict and verdict.group(1) == ("more" if healed[1] > teacher[1] else "no more")
    fluent = healed[0] >= teacher[0] - 0.15 and healed[1] <= teacher[1] + 15
    nb = json.loads((LESSONS / "06_llm_distillation.ipynb").read_text(encoding="utf-8"))
    prose = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert fluent or not re.search(r"\bfluent", prose), (
        "the prose calls something fluent while the healed student's greedy text is not"
    )


def test_06_the_prose_says_what_the_fluency_verdict_says(lesson06):
    """Section 8 prints a verdict on the healed student's greedy text ('course bar for fluent greedy text ...: met'
    or 'NOT met'); it must follow the numbers beside it (distinct-2 at most 0.15 below the teacher's, repetition at
    most 15 points above), and every sentence of the prose that speaks of fluency must say the same thing: none
    denies it when the bar is met, none claims it when it is not. Whichever way the run went."""
    quality = {
        m.group(1).strip(): (float(m.group(2)), float(m.group(3)))
        for m in re.finditer(r"^\s*([\w ,+-]+?): distinct-2 ([\d.]+) \| repetition ([\d.]+)%", lesson06, re.M)
    }
    teacher, healed = quality["teacher"], quality["healed student"]
    verdict = re.search(r"course bar for fluent greedy text .*: (met|NOT met)", lesson06)
    assert verdict, "section 8 prints the fluency verdict"
    fluent = healed[0] >= teacher[0] - 0.15 and healed[1] <= teacher[1] + 15
    assert verdict.group(1) == ("met" if fluent else "NOT met")
    denies = re.compile(r"\b(?:not|no longer|never|fails?|failed|miss(?:es|ed)?|short of|falls? short|NOT met)\b")
    about_fluency = [s.text for s in sentences(notebook(L06)) if re.search(r"\bfluen", s.text, re.I)]
    disagree = [t for t in about_fluency if bool(denies.search(t)) == fluent]
    assert not disagree, f"the fluency bar was {verdict.group(1)}, but the prose says otherwise: {disagree}"


@claim(
    "06",
    "The teacher's logits are huge: run it once and cache the **top-k**, know how much mass the cut leaves out, and "
    "compare on k + 1 outcomes rather than inventing how the rest is shared.",
)
def test_06_the_even_tail_repeats_more_as_the_prose_says(lesson06):
    """Section 5 calls spreading the leftover mass evenly 'a poor guess'; section 8 measures it."""
    line = re.search(
        r"spreading the tail evenly: repetition (\d+)% vs (\d+)% with buckets \((more|not more)\)", lesson06
    )
    assert line, "section 8 prints the tail comparison"
    even, buckets = int(line.group(1)), int(line.group(2))
    assert line.group(3) == ("more" if even > buckets else "not more")
    assert even > buckets, "the measured tail comparison no longer supports section 5's prose"


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
