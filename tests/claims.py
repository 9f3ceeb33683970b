"""Prose that cannot drift: read a lesson's stored outputs and its prose, find the sentences that claim a result.

Shared by `tests/test_claims_lNN.py` (one file per lesson: the checks, and the lesson's `NOT_MEASURED` dict)
and `tests/test_claims_registry.py` (the gate). Not collected by pytest (no `test_` prefix).

How it fits together (CONTRIBUTING.md, "Claims in the prose"):
- `sentences(nb)` splits every markdown cell and every `kdcourse.instructor_note(...)` into sentences,
  bullet items and table rows, whitespace normalised;
- `is_claim(text)` flags a sentence that looks like it states or compares a measured result (a number with a
  unit of measure, or a comparison word). It over-flags on purpose: a reviewer decides, the registry records;
- a flagged sentence must be registered, exactly as printed by the gate's failure message, either
  with `@claim("NN", "<sentence>")` on the test that holds it against the stored numbers, or in the lesson
  file's `NOT_MEASURED = {"<sentence>": "<kind>: <why>"}` when it states no measured result.

Lessons run in the `smoke` profile in CI, but the stored outputs come from a `cpu` run: that is what a student
reads, so that is what the checks read.
"""

import json
import re
from pathlib import Path
from typing import NamedTuple

import pytest

LESSONS = Path(__file__).resolve().parents[1] / "lessons"
NAMES = {p.name[:2]: p.name for p in sorted(LESSONS.glob("[0-9][0-9]_*.ipynb"))}
L00, L01, L02, L03 = (NAMES[n] for n in ("00", "01", "02", "03"))
L04, L05, L06, L07 = (NAMES[n] for n in ("04", "05", "06", "07"))


# --- reading the stored outputs ---------------------------------------------------------------------------


def notebook(name: str) -> dict:
    return json.loads((LESSONS / name).read_text(encoding="utf-8"))


def _text(out: dict) -> str:
    text = out.get("text") or out.get("data", {}).get("text/plain", "")
    return "".join(text) if isinstance(text, list) else text


def _cell_text(cell: dict) -> str:
    """A code cell's stored text outputs, as Jupyter shows them: a stream's consecutive chunks run on (where
    the kernel flushed mid-print is chance), other outputs one per line."""
    parts: list[str] = []
    stream = None
    for out in cell.get("outputs", []):
        name = out.get("name") if out.get("output_type") == "stream" else None
        if name is not None and name == stream:
            parts[-1] += _text(out)
        else:
            parts.append(_text(out))
        stream = name
    return "\n".join(parts)


def cell_outputs(name: str) -> list[str]:
    """The stored text outputs of each code cell of a lesson, one string per cell."""
    return [_cell_text(cell) for cell in notebook(name)["cells"] if cell["cell_type"] == "code"]


def outputs(name: str) -> str:
    """Every stored text output of a lesson's code cells, in order."""
    return "\n".join(_cell_text(cell) for cell in notebook(name)["cells"] if cell["cell_type"] == "code")


def number(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    assert found, f"stored outputs no longer print {pattern!r}"
    return float(found.group(1).replace(",", ""))


def numbers(pattern: str, text: str) -> tuple[float, ...]:
    """Every group of the first match of `pattern`, as floats (commas dropped)."""
    found = re.search(pattern, text)
    assert found, f"stored outputs no longer print {pattern!r}"
    return tuple(float(g.replace(",", "")) for g in found.groups())


def block(name: str, marker: str) -> str:
    """The stored outputs of the first code cell whose outputs contain `marker`."""
    found = [text for text in cell_outputs(name) if marker in text]
    assert found, f"no stored output of {name} contains {marker!r}"
    return found[0]


def prose(name: str) -> str:
    """Every markdown cell of a lesson, joined."""
    return " ".join("".join(c["source"]) for c in notebook(name)["cells"] if c["cell_type"] == "markdown")


def _cell_value(token: str) -> float:
    if token in ("NaN", "<NA>", "nan"):
        return float("nan")
    return float(token.replace(",", "").rstrip("x%"))


def row(text: str, label: str) -> list[float]:
    """The numbers of a printed pandas row, over every line the frame was wrapped into.

    A line counts when it starts with `label` (the index) and the rest is numbers only (`1,234`, `2.05x`,
    `96.4%`, `NaN`, `<NA>`); the wrapped parts are concatenated in column order."""
    values = []
    for line in text.splitlines():
        if not line.startswith(label + " "):
            continue
        tokens = line[len(label) :].replace("\\", " ").split()
        try:
            values += [_cell_value(t) for t in tokens]
        except ValueError:
            continue
    assert values, f"no printed row {label!r}"
    return values


def cpu_lesson(name: str) -> str:
    text = outputs(name)
    if "| profile cpu:" not in text:
        pytest.skip(f"{name}'s stored outputs are not from a cpu run")
    return text


def lesson_fixture(lesson: str):
    """A module-scoped fixture `lessonNN`: the lesson's stored outputs (skips unless they are a cpu run).

    In a test file: `lesson03 = lesson_fixture("03")`."""

    @pytest.fixture(scope="module", name=f"lesson{lesson}")
    def stored():
        return cpu_lesson(NAMES[lesson])

    return stored


# --- the prose, sentence by sentence ----------------------------------------------------------------------


class Sentence(NamedTuple):
    cell: int  # the notebook cell's index (0-based, every cell counted)
    text: str  # whitespace normalised; markdown kept as written


_NOTE = re.compile(r'kdcourse\.instructor_note\(\s*(?:r|f)?"""(.*?)"""', re.S)
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")  # a bullet or numbered item starts a unit
_MATH = re.compile(r"\$\$.*?\$\$", re.S)  # display formulas end a unit and are not sentences
# A sentence ends at . ! ? (after any closing bracket, quote or markup) followed by space and a capital, a
# digit or markup. "e.g. x", "et al. called", "vs. the" do not split: a lower-case word follows them.
_END = re.compile(r"(?<=[.!?])(?<!\be\.g\.)(?<!\bi\.e\.)([*_)\]\"'”]*)\s+(?=[A-Z0-9*_`$(\[\"“])")


def _units(markdown: str) -> list[str]:
    """Paragraphs, list items, table rows and headings of a markdown text, whitespace normalised."""
    units, current = [], []

    def flush():
        if current:
            units.append(" ".join(current))
            current.clear()

    for piece in _MATH.split(markdown):
        flush()
        for line in piece.splitlines():
            line = re.sub(r"^\s*>\s?", "", line)  # a block quote reads as the text it quotes
            stripped = line.strip()
            if not stripped:
                flush()
            elif stripped.startswith("|"):
                flush()
                if not re.fullmatch(r"\|[\s|:-]+\|?", stripped):  # not the |---|---| rule
                    units.append(stripped.strip("|").strip())
            elif stripped.startswith("#"):
                flush()
                units.append(stripped.lstrip("#").strip())
            elif _ITEM.match(line):
                flush()
                current.append(_ITEM.sub("", line, count=1).strip())
            else:
                current.append(stripped)
        flush()
    return [" ".join(u.split()) for u in units if u.strip()]


def split_sentences(markdown: str) -> list[str]:
    """The sentences of a markdown text: each unit of `_units` cut after . ! ? where a new sentence starts."""
    found = []
    for unit in _units(markdown):
        pieces = _END.split(unit)  # [text, closing, text, closing, ...]: the closing marks stay with their sentence
        texts = pieces[0::2]
        closings = [*pieces[1::2], ""]
        found += [(t + c).strip() for t, c in zip(texts, closings) if (t + c).strip()]
    return found


def prose_cells(nb: dict) -> list[tuple[int, str]]:
    """(cell index, markdown text) of every markdown cell and every instructor note of a notebook."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            found.append((i, source))
        elif cell["cell_type"] == "code":
            found += [(i, note) for note in _NOTE.findall(source)]
    return found


def sentences(nb: dict) -> list[Sentence]:
    """Every sentence of a notebook's prose, in order, with its cell index."""
    return [Sentence(i, s) for i, text in prose_cells(nb) for s in split_sentences(text)]


# --- the detector -----------------------------------------------------------------------------------------

_UNIT = (
    r"(?:%|x\b|×|\s?(?:ms|µs|s|sec|seconds?|min|minutes?|h|hours?|points?|pp|MB|GB|KB|kB|M|B|k)\b"
    r"|\s(?:times|fold)\b)"
)
_NUMBER = re.compile(
    r"(?<![\w.])(?:"
    r"\d+\.\d+(?![\w.]*\d)"  # a decimal: 0.829, 1.95 (not a version 3.10.1 or an arXiv id inside a word)
    rf"|\d+(?:\.\d+)?(?:\s?[–-]\s?\d+(?:\.\d+)?)?{_UNIT}"  # 40%, 7.2x, 15–20 s, 30 ms, 3 points, 22.7M, 173 MB
    r"|\d{1,3}(?:,\d{3})+"  # a count with thousands separators: 12,752
    r"|\d+ (?:of|out of) \d+"  # 3 of 4
    r")"
)
_WORDS = re.compile(
    r"\b(?:"
    r"beats?|beaten|beating|ahead|behind|better|worse|best|worst|outperform\w*|underperform\w*|wins?|won|winner"
    r"|loses|lost|losing|heal\w*|collaps\w*|recover\w*|match(?:es|ed)?|surpass\w*|exceed\w*|dominat\w*|passe[sd]"
    r"|more|less|fewer|higher|lower|faster|slower|larger|smaller|bigger|cheaper|quicker|shorter|longer"
    r"|greater|closer|further|sooner|most|least|fastest|slowest|smallest|largest|highest|lowest"
    r"|than|always|never|every time|improv\w*|gains?|gained|drops?|dropped|keeps?|kept|retain\w*"
    r"|costs?|saves?|saved|halv\w*|halves|doubles?|doubled|twice|quarter|half"
    r"|noise|noisy|significant\w*|helps?|helped|hurts?|pays? off|paid off|fluent\w*|works|fails?|failed"
    r"|scores?|scored|reach(?:es|ed)|in (?:seconds|minutes|hours|milliseconds)|shrinks?|shrank|grows?|grew"
    r"|rises?|rose|falls?|fell|speed-?ups?|slow-?downs?|moves?|moved|agrees?|agreed|differ\w*|same|identical"
    r")\b",
    re.I,
)


def _detectable(text: str) -> str:
    """The sentence with links, URLs and inline code taken out: their digits and words are not claims."""
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"https?://\S+|arXiv:\S+", " ", text)
    text = re.sub(r"(?:[≥≤<>=~^]=?\s?|\bv|\bPython )\d+(?:\.\d+)+", " ", text)  # versions: >= 3.10, v0.2.0
    text = re.sub(r"\*\*\d\d\.\d\*\*", " ", text)  # exercise numbers: **01.2**
    return re.sub(r"`[^`]*`", "CODE", text)


def is_claim(text: str) -> bool:
    """True when a sentence looks like it states a measured number or compares results (over-flags on purpose)."""
    text = _detectable(text)
    return bool(_NUMBER.search(text) or _WORDS.search(text))


def flagged(nb: dict) -> list[Sentence]:
    return [s for s in sentences(nb) if is_claim(s.text)]


# --- the registry -----------------------------------------------------------------------------------------

# The kinds a NOT_MEASURED reason may start with; "cited" must name its source ("cited: Sanh et al. 2019").
KINDS = (
    "definition",  # what a word or a formula means
    "cited",  # a published number or result, with its source
    "instruction",  # what the reader should do, or what a cell/widget shows when they do it
    "general fact",  # true of the method or the maths, not of this run (and not contradicted by it)
    "printed by code",  # the numbers of the claim are printed by the code cell named in the reason
    "illustration",  # a made-up example value, presented as one
    "course design",  # how the course or a profile is built (sizes, settings, what a lesson covers)
)


def claim(lesson: str, *texts: str):
    """Register the sentences a check holds: `@claim("03", "<sentence as the gate prints it>")` above the test.

    The gate (tests/test_claims_registry.py) fails when a registered sentence is no longer in the lesson's
    prose, so a sentence cannot be reworded without its check being looked at again."""
    assert re.fullmatch(r"\d\d", lesson), f"claim(lesson, ...): lesson is 'NN', got {lesson!r}"
    assert texts, "claim() needs the sentence(s) the check holds"

    def register(test):
        test.__claims__ = [*getattr(test, "__claims__", []), *((lesson, " ".join(t.split())) for t in texts)]
        return test

    return register


def registry_modules():
    """The per-lesson claim files (`test_claims_lNN.py`), imported."""
    import importlib

    here = Path(__file__).resolve().parent
    return [importlib.import_module(p.stem) for p in sorted(here.glob("test_claims_l[0-9][0-9].py"))]


def registered(lesson: str) -> tuple[dict[str, list[str]], dict[str, str]]:
    """What holds lesson `lesson`'s sentences: {sentence: [check names]} and its NOT_MEASURED {sentence: reason}."""
    checks, not_measured = {}, {}
    for module in registry_modules():
        for name, obj in vars(module).items():
            for nn, text in getattr(obj, "__claims__", []):
                if nn == lesson:
                    checks.setdefault(text, []).append(f"{module.__name__}.py::{name}")
        if getattr(module, "LESSON", None) == lesson:
            not_measured.update({" ".join(k.split()): v for k, v in getattr(module, "NOT_MEASURED", {}).items()})
    return checks, not_measured


def unregistered(nb: dict, checks: dict, not_measured: dict) -> list[Sentence]:
    """Flagged sentences that no check and no NOT_MEASURED entry holds."""
    return [s for s in flagged(nb) if s.text not in checks and s.text not in not_measured]


def stale(nb: dict, checks: dict, not_measured: dict) -> list[tuple[str, str]]:
    """Registered sentences the notebook no longer contains: (sentence, what registered it)."""
    present = {s.text for s in sentences(nb)}
    found = [(t, ", ".join(names)) for t, names in checks.items() if t not in present]
    return found + [(t, "NOT_MEASURED") for t in not_measured if t not in present]


def bad_reasons(not_measured: dict) -> list[tuple[str, str]]:
    """NOT_MEASURED entries whose reason is not one of KINDS (a cited one must name its source)."""
    bad = []
    for text, reason in not_measured.items():
        kind, _, detail = str(reason).partition(":")
        if kind.strip() not in KINDS or (kind.strip() == "cited" and not detail.strip()):
            bad.append((text, reason))
    return bad


def run_seconds(name: str) -> float:
    """Wall time of the lesson's stored run: first cell's start to last cell's reply (nbclient's cell timings)."""
    from datetime import datetime

    stamps = [
        datetime.fromisoformat(cell["metadata"]["execution"][key].replace("Z", "+00:00"))
        for cell in notebook(name)["cells"]
        if "execution" in cell.get("metadata", {})
        for key in ("iopub.execute_input", "shell.execute_reply")
    ]
    assert stamps, f"{name} stores no cell timings (run it with nbconvert --execute)"
    return (max(stamps) - min(stamps)).total_seconds()


def python_literal(text: str, indent: int = 4, width: int = 118) -> str:
    """`text` as a Python string literal wrapped into implicitly joined pieces that fit `width` (ready to paste)."""
    pad, pieces, current = " " * indent, [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if current and indent + len(repr(candidate + " ")) > width:
            pieces.append(current + " ")
            current = word
        else:
            current = candidate
    pieces.append(current)
    return "\n".join(pad + _quote(p) for p in pieces)


def _quote(piece: str) -> str:
    if '"' in piece and "'" not in piece:
        return "'" + piece.replace("\\", "\\\\") + "'"
    return '"' + piece.replace("\\", "\\\\").replace('"', '\\"') + '"'
