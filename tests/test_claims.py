"""What the lessons' prose still claims, checked against the numbers stored beside it.

Sentences that compare results are printed by code from the numbers; where the prose itself makes a
claim (the student works, the measured rule beats the old one), this test reads the stored outputs and
fails when they no longer support it. Lessons run in the `smoke` profile in CI, but the stored
outputs come from a `cpu` run: that is what a student reads, so that is what is checked.
"""
import json
import re
from pathlib import Path

import pytest

LESSONS = Path(__file__).resolve().parents[1] / "lessons"


def outputs(name: str) -> str:
    """Every stored text output of a lesson's code cells, in order."""
    nb = json.loads((LESSONS / name).read_text(encoding="utf-8"))
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []) if cell["cell_type"] == "code" else []:
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)


def number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"stored outputs no longer print {pattern!r}"
    return float(found.group(1).replace(",", ""))


@pytest.fixture(scope="module")
def lesson06():
    text = outputs("06_llm_distillation.ipynb")
    if "| profile cpu:" not in text:
        pytest.skip("lesson 06's stored outputs are not from a cpu run")
    return text


def test_06_the_measured_rule_wins_at_every_cut(lesson06):
    won = re.search(r"the measured rules \(span or single blocks\) beat every-other-block at (\d+) of (\d+) cut",
                    lesson06)
    assert won and won.group(1) == won.group(2), "key points: 'which layers you remove matters'"


def test_06_first_and_last_blocks_change_their_input_most(lesson06):
    largest = re.search(r"largest change: blocks \[([\d, ]+)\]", lesson06)
    assert largest, "section 3 prints the blocks with the largest change"
    assert {0, 29} <= {int(i) for i in largest.group(1).split(",")}


def test_06_the_healed_student_meets_the_target(lesson06):
    assert re.search(r"course target .*-> met", lesson06), "the lesson presents a working student"
    ratio = number(r"after healing [\d,.]+ \(([\d.]+)x the teacher\)", lesson06)
    assert ratio <= 1.5
    removed = number(r"\((\d+)% removed", lesson06)
    assert removed >= 20


def test_06_text_quality_is_reported_as_measured(lesson06):
    """The verdict on greedy text follows its numbers, and no prose calls the student fluent unless it is:
    distinct-2 within 0.15 of the teacher's and repetition within 15 points."""
    quality = {m.group(1).strip(): (float(m.group(2)), float(m.group(3))) for m in
               re.finditer(r"^\s*([\w ,+-]+?): distinct-2 ([\d.]+) \| repetition ([\d.]+)%", lesson06, re.M)}
    teacher, healed = quality["teacher"], quality["healed student"]
    verdict = re.search(r"greedy text repeats itself (more|no more) than the teacher's", lesson06)
    assert verdict and verdict.group(1) == ("more" if healed[1] > teacher[1] else "no more")
    fluent = healed[0] >= teacher[0] - 0.15 and healed[1] <= teacher[1] + 15
    nb = json.loads((LESSONS / "06_llm_distillation.ipynb").read_text(encoding="utf-8"))
    prose = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert fluent or not re.search(r"\bfluent", prose), \
        "the prose calls something fluent while the healed student's greedy text is not"
