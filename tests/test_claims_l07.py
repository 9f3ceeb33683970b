"""Lesson 07 (deploy and frontier): the checks that hold its prose's claims against its stored outputs.

Each check registers the sentence(s) it holds with `@claim("07", ...)`; flagged sentences that state no
measured result are listed in NOT_MEASURED with the reason. tests/test_claims_registry.py fails on a flagged
sentence held by neither (CONTRIBUTING.md, "Claims in the prose").
"""

import json
import math
import re
import statistics

from claims import (
    L07,
    LESSONS,
    block,
    claim,
    lesson_fixture,
    row,
)

LESSON = "07"

lesson07 = lesson_fixture("07")

# Flagged sentences of lesson 07 that state no measured result: {sentence: "<kind>: <why>"} (kinds: claims.KINDS).
NOT_MEASURED = {}


TRANSFORMERS = ("teacher", "layer-copy student", "narrow student")
KINDS = ("torch fp32", "torch int8", "onnx fp32", "onnx int8")


def timing_table(text: str) -> dict[str, list[float]]:
    """Lesson 07's latency table: name -> [accuracy, batch-1 median, batch-1 p95, batch ms, speed-ups]."""
    table = block(L07, "single requests; batch")
    names = [f"{m} · {k}" for m in (*TRANSFORMERS, "CNN student (taught)") for k in KINDS]
    names += [n for n in ("layer-copy student · torchao int8 (compiled)",) if n in table]  # batch only
    return {n: row(table, n) for n in names}


def test_07_the_cnn_verdict_follows_the_paired_seeds(lesson07):
    """Section 3: the taught CNN vs hard labels, paired; the printed mean and verdict follow the seeds."""
    per_seed = {}
    for name in ("hard labels only", "taught (transfer set)"):
        found = re.search(
            rf"^{re.escape(name)}\s+([\d.]+) ± [\d.]+\s+\(seeds \[[\d, ]+\]: ([\d., ]+)\); ([\d.]+)% "
            r"of the teacher",
            lesson07,
            re.M,
        )
        assert found, name
        per_seed[name] = [float(v) for v in found.group(2).split(",")]
        assert abs(float(found.group(1)) - statistics.mean(per_seed[name])) <= 0.0011
    mean, std, seeds, verdict = re.search(
        r"taught − hard labels: ([+-][\d.]+) ± ([\d.]+) points \(paired; per seed ([^)]+)\) -> (.+)$", lesson07, re.M
    ).groups()
    diffs = [100 * (b - a) for a, b in zip(per_seed["hard labels only"], per_seed["taught (transfer set)"])]
    assert abs(float(mean) - statistics.mean(diffs)) <= 0.11
    if len(diffs) > 1:
        noise = 2 * statistics.stdev(diffs) / math.sqrt(len(diffs))
        expected = (
            "within seed-to-seed noise"
            if abs(statistics.mean(diffs)) <= noise
            else "the teacher helped"
            if statistics.mean(diffs) > 0
            else "the teacher hurt"
        )
        assert verdict.strip() == expected


def test_07_exported_models_compute_what_pytorch_computes(lesson07):
    """Section 5: float32 ONNX logits match PyTorch's within the stated tolerance, for every model."""
    lines = re.findall(r"onnx fp32 vs torch: max \|Δ logit\| ([\d.e+-]+) \((within|OVER) ([\d.e+-]+)\)", lesson07)
    assert len(lines) == 4 and all(kind == "within" and float(d) <= float(t) for d, kind, t in lines), lines


def test_07_the_frontier_shows_the_three_patterns_the_prose_names(lesson07):
    """Section 7: 'the int8 ONNX versions of the transformers sit left of their float32 versions at (almost) the
    same height; the CNN sits furthest to the left, a few points below the teacher; and the teacher in float32
    PyTorch is dominated'; instructor note: the CNN keeps most of the teacher's accuracy 'at a fraction of its
    cost'."""
    t = timing_table(lesson07)
    for model in TRANSFORMERS:
        fp32, int8 = t[f"{model} · onnx fp32"], t[f"{model} · onnx int8"]
        assert int8[3] < fp32[3], f"{model}: onnx int8 {int8[3]} ms vs fp32 {fp32[3]} ms per batch"
        assert abs(int8[0] - fp32[0]) <= 0.01, f"{model}: onnx int8 accuracy {int8[0]} vs fp32 {fp32[0]}"
    cnn = min((v for k, v in t.items() if k.startswith("CNN")), key=lambda v: v[3])
    fastest_transformer = min(v[3] for k, v in t.items() if not k.startswith("CNN"))
    assert cnn[3] < fastest_transformer, (cnn, fastest_transformer)
    teacher = t["teacher · torch fp32"]
    gap = teacher[0] - t["CNN student (taught) · torch fp32"][0]
    assert 0.01 <= gap <= 0.1, f"the CNN is {100 * gap:+.1f} points below the teacher, not 'a few'"
    assert t["CNN student (taught) · torch fp32"][0] > 0.9 * teacher[0] and cnn[3] < 0.2 * teacher[3]
    front = re.search(r"^batch \d+: on the front, fastest first: (.+)$", lesson07, re.M).group(1)
    assert "teacher · torch fp32" not in front, front


@claim(
    "07",
    "`l07.pareto_front` finds the front and `l07.recommend` answers the deployment question: *the most accurate "
    "model within a latency budget* — where a faster model's accuracy cannot be told apart from the most accurate "
    "one's by McNemar's test on the same test snippets, the two are tied and the faster one ships (a snippet or two "
    "that no test can confirm is not worth twice the latency).",
)
def test_07_each_recommendation_is_the_most_accurate_model_within_its_budget(lesson07):
    """Section 7: `l07.recommend` answers 'the most accurate model within a latency budget'; check each line."""
    t = timing_table(lesson07)
    sections = re.split(r"^(batch \d+|batch 1, p95): on the front", lesson07, flags=re.M)
    checked = 0
    for title, body in zip(sections[1::2], sections[2::2]):
        column = 2 if "p95" in title else 3
        for budget, pick in re.findall(r"budget\s+([\d.]+) ms \([^)]*\): ship (.+?) \([\d.]+, [\d.]+ ms\)", body):
            budget = float(budget)  # the table's times are rounded to 0.01 ms (or 0.1): allow that much
            assert t[pick][column] <= budget + 0.05, (title, budget, pick, t[pick])
            surely_fit = [v[0] for v in t.values() if v[column] < budget - 0.05]
            assert all(t[pick][0] >= a for a in surely_fit), (title, budget, pick, max(surely_fit))
            checked += 1
    assert checked >= 4


def test_07_the_printed_targets_follow_the_benchmark_file(lesson07):
    """Section 7 prints benchmarks/results/deploy.json's targets; each verdict follows measured vs wanted."""
    results = json.loads((LESSONS.parent / "benchmarks" / "results" / "deploy.json").read_text())
    printed = {
        name.strip(): (float(measured), verdict)
        for name, measured, verdict in re.findall(
            r"^  (.+?)\s+wanted [<>]= ?[\d.]+\s+measured ([-\d.]+)\s+(met|NOT met)$", lesson07, re.M
        )
    }
    assert set(printed) == set(results["targets"]), printed
    for name, target in results["targets"].items():
        op, value = target["wanted"].split()
        ok = target["measured"] <= float(value) if op == "<=" else target["measured"] >= float(value)
        assert ok == target["met"], (name, target)
        assert printed[name] == (target["measured"], "met" if ok else "NOT met"), (name, printed[name])
