"""The gate on the lessons' prose: every sentence that looks like a measured result is held by a check or
declared not measured, and every registered sentence is still in the lesson word for word.

The detector and the registry live in tests/claims.py; each lesson's checks and its NOT_MEASURED dict in
tests/test_claims_lNN.py. CONTRIBUTING.md ("Claims in the prose") says how to register a sentence.
"""

import copy
import re

import pytest
from claims import (
    KINDS,
    NAMES,
    bad_reasons,
    cell_outputs,
    flagged,
    is_claim,
    notebook,
    python_literal,
    registered,
    sentences,
    split_sentences,
    stale,
    unregistered,
)
from claims import (
    cpu_lesson as cpu_outputs,
)

HOW = (
    "Register each in tests/test_claims_l{nn}.py, exactly as quoted above (ready to paste): either put "
    '@claim("{nn}", "<sentence>") on the test that checks it against the stored outputs (write one if none '
    'does), or, if it states no measured result, add "<sentence>": "<kind>: <why>" to NOT_MEASURED '
    "(kinds: {kinds}). Or print the number from code instead of writing it in prose."
)


@pytest.mark.parametrize("lesson", sorted(NAMES))
def test_every_claim_in_the_prose_is_registered(lesson):
    """(a) A flagged sentence that no check and no NOT_MEASURED entry holds fails, quoted with its cell."""
    nb = notebook(NAMES[lesson])
    checks, not_measured = registered(lesson)
    missing = unregistered(nb, checks, not_measured)
    how = HOW.format(nn=lesson, kinds=", ".join(KINDS))
    listing = "\n".join(f"  cell {s.cell}:\n{python_literal(s.text, 6)}," for s in missing)
    assert not missing, f"{NAMES[lesson]}: {len(missing)} sentence(s) state a result nothing holds:\n{listing}\n{how}"


@pytest.mark.parametrize("lesson", sorted(NAMES))
def test_every_registered_sentence_is_still_in_the_lesson(lesson):
    """(b) A registered sentence whose text changed (or went) fails: its check must be looked at again."""
    nb = notebook(NAMES[lesson])
    checks, not_measured = registered(lesson)
    gone = stale(nb, checks, not_measured)
    listing = "\n".join(f"  {text!r}\n    registered by {by}" for text, by in gone)
    assert not gone, (
        f"{NAMES[lesson]}: {len(gone)} registered sentence(s) are no longer in the prose word for word:\n{listing}\n"
        "Reworded? Re-read the check against the new sentence, then register the new text (the failure of "
        "test_every_claim_in_the_prose_is_registered quotes it); removed? drop the registration."
    )


@pytest.mark.parametrize("lesson", sorted(NAMES))
def test_not_measured_reasons_name_their_kind(lesson):
    """Each NOT_MEASURED reason starts with one of claims.KINDS; a cited number names its source."""
    _, not_measured = registered(lesson)
    bad = bad_reasons(not_measured)
    assert not bad, f"lesson {lesson}: reasons must start with one of {KINDS} ('cited: <source>'): {bad}"


# --- the gate can fail ------------------------------------------------------------------------------------

REVIEWER_PLANTS = (
    "Hard labels beat distillation here.",
    "The student runs 10x faster than the teacher.",
    "The int8 model scores 0.91.",
    "The taught CNN is more accurate than the teacher.",
    "Distillation always helps.",
)


@pytest.mark.parametrize("text", REVIEWER_PLANTS)
def test_the_detector_flags_what_a_reviewer_might_plant(text):
    assert is_claim(text)


def _stored_numbers(name: str) -> list[str]:
    """Numbers as the lesson's stored outputs print them: decimals, percentages, 'x' ratios."""
    text = "\n".join(cell_outputs(name))
    found = re.findall(r"(?<![\w.])(\d+\.\d+(?:x|%)?|\d+%)(?![\w.]*\d)", text)
    return list(dict.fromkeys(found))  # in order, once each


def plants(name: str) -> list[str]:
    """False sentences built from the lesson's own stored numbers, each contradicting or misquoting them."""
    values = _stored_numbers(name)
    assert len(values) >= 3, f"{name} prints too few numbers to plant sentences from"
    first, middle, last = values[0], values[len(values) // 2], values[-1]
    shifted = f"{float(first.rstrip('x%')) * 1.5 + 0.13:.3f}"  # a number the run did not print
    return [
        f"The distilled student scores {shifted} on the test split.",
        f"The student reaches {middle} while the teacher stays at {first}.",
        f"Compared with the teacher the student runs {last} faster.",
        "Hard labels beat distillation here.",
        "The student is more accurate than the teacher on every split.",
        "Distillation always helps, whatever the seed.",
        "With the cache the epoch takes 3 s instead of 40 s.",
    ]


@pytest.mark.parametrize("lesson", sorted(NAMES))
def test_planted_false_sentences_are_caught(lesson):
    """Insert false sentences built from the lesson's stored numbers into its prose (in memory): the gate must
    report every one as held by nothing, in any markdown cell, alone or inside a paragraph."""
    nb = notebook(NAMES[lesson])
    checks, not_measured = registered(lesson)
    markdown = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"]
    for k, text in enumerate(plants(NAMES[lesson])):
        planted = copy.deepcopy(nb)
        cell = planted["cells"][markdown[(k * 7) % len(markdown)]]
        source = "".join(cell["source"])
        start = re.search(r"(?:^|\n\n)(?=[A-Z])", source)  # before a paragraph's first sentence, else at the end
        source = source[: start.end()] + text + " " + source[start.end() :] if start else source + "\n\n" + text
        cell["source"] = source
        assert text in [s.text for s in sentences(planted)], f"the splitter mangles {text!r}"
        caught = [s.text for s in unregistered(planted, checks, not_measured)]
        assert text in caught, f"{NAMES[lesson]}: planted {text!r} passed the gate"


def test_a_changed_sentence_is_stale():
    """Rewording a registered sentence by one number makes it stale, and the new text unregistered."""
    lesson = "00"
    nb = notebook(NAMES[lesson])
    checks, not_measured = registered(lesson)
    held = next(s for s in flagged(nb) if s.text in checks and re.search(r"\d\.\d", s.text))
    changed = copy.deepcopy(nb)
    cell = changed["cells"][held.cell]
    decimal = re.search(r"\d+\.\d+", held.text).group()
    cell["source"] = "".join(cell["source"]).replace(decimal, decimal + "9", 1)
    assert any(text == held.text for text, _ in stale(changed, checks, not_measured))
    assert [s for s in unregistered(changed, checks, not_measured) if s.cell == held.cell]


def test_the_splitter_keeps_abbreviations_and_splits_items():
    text = "Hinton et al. called it dark knowledge (e.g. a 2 like a 3). It works.\n\n- one item;\n- two **items**."
    assert split_sentences(text) == [
        "Hinton et al. called it dark knowledge (e.g. a 2 like a 3).",
        "It works.",
        "one item;",
        "two **items**.",
    ]


@pytest.mark.parametrize(
    ("module", "check", "printed", "altered"),
    [
        ("test_claims_l00", "test_00_the_majority_baseline_is_about_0_57", "'test': 0.574}", "'test': 0.624}"),
        ("test_claims_l01", "test_01_the_teacher_is_less_sure_where_it_is_wrong", "wrong 0.373", "wrong 0.173"),
        (
            "test_claims_l02",
            "test_02_t_squared_keeps_the_soft_gradient_scale",
            "0.03958     0.00062",
            "0.03958     0.0062",
        ),
    ],
)
def test_a_check_fails_when_its_numbers_stop_supporting_its_sentence(module, check, printed, altered):
    """(c) The checks read the numbers: change one stored number against the prose and the check fails."""
    import importlib

    lesson = module[-2:]
    stored = cpu_outputs(NAMES[lesson])
    assert printed in stored, f"{NAMES[lesson]} no longer prints {printed!r}: pick another number for this test"
    getattr(importlib.import_module(module), check)(stored)  # passes on the stored outputs
    with pytest.raises(AssertionError):
        getattr(importlib.import_module(module), check)(stored.replace(printed, altered))
