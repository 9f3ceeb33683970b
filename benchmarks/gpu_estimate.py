"""Each lesson's time and memory in the `gpu` profile on a Colab T4 and on an H200: an estimate, not a run.

No T4 is at hand and the H200 ran only `benchmarks/gpu_check.py` (results/gpu_check.json), so the
numbers are counted, then timed with a model of each device calibrated on that one run:

1. Work, counted from the `gpu` Profile and the lessons' code (hub path: bert-base-uncased on SST-2):
   optimizer steps, forward batches and decode steps per model; parameters counted on the meta device
   from each architecture's config (no weights needed).
2. Time per step = max(FLOPs / (fp32 peak x UTILIZATION), the per-step floor the H200 run measured for
   that kind of step). FLOPs: 6 x matmul parameters x tokens to train, 2 x to run forward. The lessons
   train in float32 without autocast or TF32, so fp32 peaks apply (T4 8.1 TFLOPS, H200 67). Floors are
   host-side time (Python, kernel launches, data) the H200 record shows: a step cannot be faster on a
   T4, so a floor is a lower bound there.
3. CPU parts (lessons 05 and 07 time int8 and ONNX Runtime on the CPU, 2 threads): FLOPs / the fp32 rate
   lesson 01 measured on this project's 2-core CPU (BERT-base, 32 x 64 tokens); a Colab VM's 2 vCPUs are
   of that class.
4. Memory: the trained model's weights, gradients and AdamW moments (16 bytes per parameter, fp32), the
   frozen models' weights (4), and activations at the largest training batch (fp32: 68 x batch x tokens
   x hidden + 10 x heads x batch x tokens^2 bytes per layer, Korthikanti et al.'s count doubled).

Token counts of SST-2 are assumed (the hub is unreachable here): train phrases ~13 BERT tokens, full
sentences ~28 (Rotten Tomatoes, which SST-2 was built from, pads to 27.7 per snippet in lesson 03).
Writes results/gpu_estimate.{json,md} and the table in README.md (a test fails when either drifts):

    python benchmarks/gpu_estimate.py
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, LlamaConfig, LlamaForCausalLM

from kdcourse.lessons import l07
from kdcourse.profiles import PROFILES

OUT = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parents[1] / "README.md"
MARKERS = ("<!-- gpu-estimate:start -->\n", "<!-- gpu-estimate:end -->")
GPUS = {  # fp32 peak (no tensor cores in fp32 on a T4; TF32 is off by default in torch), memory
    "T4": {"tflops": 8.1, "memory_gb": 15.0},
    "H200": {"tflops": 67.0, "memory_gb": 141.0},
}
UTILIZATION = 0.5  # share of the fp32 peak a large matmul-bound step reaches (assumed)
CPU_GFLOPS = 3.5e11 / 2.1 / 1e9  # lesson 01, cpu run: BERT-base 2 x 85.6M params x 32 x 64 tokens in 2.1 s
SST2_TRAIN_ROWS = 67_349  # GLUE SST-2's train split; kdcourse.corpus keeps 5% for validation
SST2_TEST = 872  # GLUE's validation split, the course's test split
TRAIN_TOKENS, SENTENCE_TOKENS = 13, 28  # padded BERT tokens per SST-2 phrase / full sentence (assumed)
LLM_EVAL_TOKENS = 24  # scored tokens per held-out review in evaluate_lm (est. from 24k per 1000)


def matmul_params(model) -> int:
    """Parameters that take part in matrix products (all but the embedding lookups)."""
    lookups = {id(m.weight) for m in model.modules() if isinstance(m, torch.nn.Embedding)}
    head = model.get_output_embeddings()  # a tied LM head is an embedding table used as a matmul
    tied = head is not None and id(head.weight) in lookups
    return sum(p.numel() for p in model.parameters() if id(p) not in lookups) + (head.weight.numel() if tied else 0)


def models() -> dict:
    """Parameter counts (total, matmul) and shapes of every model the gpu profile trains or runs."""
    out = {}
    with torch.device("meta"):
        for name, layers in (("bert-base", 12), ("6-layer student", 6), ("3-layer student", 3)):
            m = BertForSequenceClassification(BertConfig(num_hidden_layers=layers))  # BertConfig(): bert-base
            out[name] = {"params": sum(p.numel() for p in m.parameters()), "matmul": matmul_params(m)}
            out[name] |= {"layers": layers, "hidden": 768, "heads": 12}
        llama = dict(
            hidden_size=576,
            intermediate_size=1536,
            num_attention_heads=9,
            num_key_value_heads=3,
            vocab_size=49152,
            tie_word_embeddings=True,
        )  # SmolLM2-135M's config
        for name, layers in (("SmolLM2-135M", 30), ("18-block student", 30 - PROFILES["gpu"].llm_drop_layers)):
            m = LlamaForCausalLM(LlamaConfig(num_hidden_layers=layers, **llama))
            out[name] = {"params": sum(p.numel() for p in m.parameters()), "matmul": matmul_params(m)}
            out[name] |= {"layers": layers, "hidden": 576, "heads": 9, "vocab": 49152}
    return out


def floors(record: dict) -> dict:
    """Seconds per step of each kind, from the H200 run on record (its step, and the work it stands for)."""
    steps = {s["step"]: s for s in record["steps"]}
    encoder = steps["lesson 04: DistillationTrainer student, hard labels only"]["seconds"] / 423  # 141 x 3 epochs
    return {
        "encoder train step": encoder,
        "encoder forward batch": encoder,  # no run timed inference alone: a training step's floor, an upper bound
        "LLM train step": steps["lesson 06: student, ce, 600 steps"]["seconds"] / 600,
        "LLM forward batch": steps["lesson 06: teacher top-64 cache"]["seconds"] / 64,
        "decode step": steps["lesson 06: 512 teacher samples"]["seconds"] / (512 / 32 * 64),  # 16 calls x 64
    }


def work(p=PROFILES["gpu"], m=None) -> dict[str, list[tuple]]:
    """Per lesson: (what, kind, count, model, tokens per step) for every substantial GPU or CPU step."""
    m = m or models()
    val = math.ceil(SST2_TRAIN_ROWS * 0.05)
    train = SST2_TRAIN_ROWS - val
    per_epoch = math.ceil(train / p.batch_size)
    epochs = round(p.student_epochs * per_epoch)
    few = math.ceil(round(p.label_fraction * train) / p.batch_size) * round(p.student_epochs)
    fwd = lambda n: math.ceil(n / p.eval_batch_size)  # noqa: E731
    tb, tt = p.batch_size * TRAIN_TOKENS, p.eval_batch_size * TRAIN_TOKENS
    test = ("test predictions", "encoder forward", fwd(SST2_TEST), "bert-base", p.eval_batch_size * SENTENCE_TOKENS)
    llm_steps = p.llm_train_steps + len(p.llm_curve) * 2 * p.llm_curve_steps + 2 * p.llm_tail_steps
    llm_steps += 4 * p.llm_compare_steps
    llm_tokens = p.llm_batch_size * p.llm_seq_len
    generations = 8 * math.ceil(p.llm_prompts / 32) * p.llm_new_tokens + 3 * p.llm_new_tokens
    copies = round(p.student_epochs) * math.ceil(4 * train / p.batch_size)  # a CNN run on 4 copies of the data
    cnn_steps = len(p.cnn_seeds) * (epochs + 3 * copies) + copies  # hard, as many steps, copies, taught; + random
    n_copies = [1 + route.get("copies", l07.AUGMENT["copies"]) for route in l07.ROUTES.values()]
    new_sets = sorted({n for n in n_copies if n != 1 + l07.AUGMENT["copies"]})  # transfer sets routes add
    route_steps = len(p.route_seeds) * sum(
        round(p.student_epochs) * math.ceil(n * train / p.batch_size)
        for n in n_copies[1:]  # the first: section 3's
    )
    static_steps = len(l07.STATIC_RUNS) * len(p.cnn_seeds) * copies
    bench = p.bench_repeats + 2
    search_runs = p.search_trials + 2 * len(p.search_seeds)  # lesson 03: the trials, then default and pick per seed
    return {
        "00": [],
        "01": [
            ("probe: frozen BERT-base embeds", "encoder forward", fwd(p.probe_size + 500 + val), "bert-base", tt),
            ("a first loop: student steps", "encoder train", p.playground_steps, "6-layer student", tb),
            ("... with the teacher's forward", "encoder forward", p.playground_steps, "bert-base", tb),
        ],
        "02": [],
        "03": [
            ("teacher fine-tune", "encoder train", round(p.teacher_epochs * per_epoch), "bert-base", tb),
            ("teacher logits, cached", "encoder forward", fwd(train), "bert-base", tt),
            ("students: hard, distilled, transfer set", "encoder train", 3 * epochs, "3-layer student", tb),
            ("student on a fifth of the labels", "encoder train", few, "3-layer student", tb),
            ("timing + playground", "encoder train", 4 * 200 + 2 * p.playground_steps, "3-layer student", tb),
            ("... live teacher in the timing", "encoder forward", 2 * 200, "bert-base", tb),
            (
                "T and α search: trials, then default vs pick",
                "encoder train",
                search_runs * p.playground_steps,
                "3-layer student",
                tb,
            ),
            ("... trials scored on validation", "encoder forward", p.search_trials * fwd(val), "3-layer student", tt),
            (
                "... checks scored on the test split",
                "encoder forward",
                (search_runs - p.search_trials) * fwd(SST2_TEST),
                "3-layer student",
                p.eval_batch_size * SENTENCE_TOKENS,
            ),
            test,
        ],
        "04": [
            ("teacher pass with hidden states", "encoder forward", fwd(train), "bert-base", tt),
            (
                "recipe, hard labels, two from random, 3 paired seeds, 5 ablations, DistilBERT",
                "encoder train",
                16 * epochs + round(p.scratch_epochs * per_epoch) + 3 * few,
                "6-layer student",
                tb,
            ),
            test,
        ],
        "05": [
            ("teacher pass with hidden states", "encoder forward", fwd(train), "bert-base", tt),
            ("the distilled student (first run)", "encoder train", epochs, "6-layer student", tb),
            (
                "CPU: 5 models x (warm-up + repeats) at 32 x 128",
                "cpu forward",
                5 * bench,
                "bert-base*0.6",
                p.bench_batch * p.max_length,
            ),
            (
                "CPU: test predictions, 7 sensitivity groups + 3 configs",
                "cpu forward",
                15 * math.ceil(SST2_TEST / p.bench_batch),
                "bert-base*0.6",
                p.bench_batch * SENTENCE_TOKENS,
            ),
        ],
        "06": [
            (
                "healing, curve, tails, loss comparison (all cached)",
                "LLM train",
                llm_steps,
                "18-block student",
                llm_tokens,
            ),
            ("on-policy: student steps", "LLM train", p.llm_onpolicy_steps, "18-block student", 8 * 112),
            ("teacher top-k over the training text, cached", "LLM forward", 290, "SmolLM2-135M", llm_tokens),
            (
                "~30 evaluations on the held-out reviews",
                "LLM forward",
                30 * math.ceil(p.llm_eval_texts / 16),
                "SmolLM2-135M",
                16 * LLM_EVAL_TOKENS,
            ),
            ("generation: 8 runs of prompts + shortlist", "decode", generations, "SmolLM2-135M", 32),
            ("on-policy: student samples", "decode", p.llm_onpolicy_steps * 48, "18-block student", 8),
        ],
        "07": [
            (
                "teacher labels on the augmented transfer sets",
                "encoder forward",
                len(p.cnn_seeds) * fwd(4 * train),
                "bert-base",
                tt,
            ),
            ("CNN students (5 seeds x 4 runs + random-embedding run)", "encoder train", cnn_steps, "CNN", tb),
            (
                "teacher labels on the routes' bigger transfer sets",
                "encoder forward",
                len(p.route_seeds) * sum(fwd(n * train) for n in new_sets),
                "bert-base",
                tt,
            ),
            (
                f"CNN routes past the frontier ({len(p.route_seeds)} seeds x {len(n_copies) - 1} new routes)",
                "encoder train",
                route_steps,
                "CNN",
                tb,
            ),
            ("model2vec: each vocabulary token through the teacher", "encoder forward", fwd(30522), "bert-base", 3),
            ("static students' heads (5 seeds x 2 runs)", "encoder train", static_steps, "CNN", tb),
            ("teacher pass with hidden states (narrow students)", "encoder forward", fwd(train), "bert-base", tt),
            ("narrow students", "encoder train", 2 * round(6 * per_epoch), "3-layer student*0.2", tb),
            (
                "CPU: 25 models x (warm-up + repeats) at 32 x 128",
                "cpu forward",
                25 * bench,
                "bert-base*0.6",
                p.bench_batch * p.max_length,
            ),
            (
                "CPU: 24 models x single requests",
                "cpu forward",
                24 * (p.deploy_requests + 3),
                "bert-base*0.6",
                SENTENCE_TOKENS,
            ),
        ],
    }


def matmul(models_: dict, name: str) -> float:
    """Matmul parameters of `name`; 'model*f' is f of that model (a mix of int8 and smaller students;
    the CNN's convolutions, ~1M parameters on a frozen table, are counted as 1M)."""
    if name == "CNN":
        return 1e6
    base, _, f = name.partition("*")
    return models_[base]["matmul"] * (float(f) if f else 1.0)


def seconds(item: tuple, gpu: str, floor: dict, models_: dict) -> tuple[float, str]:
    """Seconds `item` takes on `gpu`, and what bounds it: 'flops', 'floor' (per-step host time) or 'cpu'."""
    what, kind, count, model, tokens = item
    n = matmul(models_, model)
    if kind == "cpu forward":
        return count * 2 * n * tokens / (CPU_GFLOPS * 1e9), "cpu"
    flops = (6 if kind.endswith("train") else 2) * n * tokens / (GPUS[gpu]["tflops"] * 1e12 * UTILIZATION)
    key = {
        "encoder train": "encoder train step",
        "encoder forward": "encoder forward batch",
        "LLM train": "LLM train step",
        "LLM forward": "LLM forward batch",
        "decode": "decode step",
    }[kind]
    return count * max(flops, floor[key]), "flops" if flops >= floor[key] else "floor"


def activations(model: dict, batch: int, tokens: int) -> float:
    """Bytes of activations a training step keeps for the backward pass (fp32)."""
    per_layer = 68 * batch * tokens * model["hidden"] + 10 * model["heads"] * batch * tokens**2
    logits = 4 * 4 * batch * tokens * model.get("vocab", 0)  # the LM's logits, log-softmax and their grads
    return model["layers"] * per_layer + logits


def memory(p=PROFILES["gpu"], m=None) -> dict[str, dict]:
    """Peak GPU memory per lesson (GB): what is trained, what sits beside it, activations at the largest batch."""
    m = m or models()
    longest = 66  # SST-2's longest training phrase in BERT tokens (est.): batches are padded to their longest
    gb = 1e9

    def peak(trained, frozen, batch, tokens):
        total = 16 * m[trained]["params"] + 4 * sum(m[f]["params"] for f in frozen)
        return {
            "trained": trained,
            "beside": frozen,
            "GB": round((total + activations(m[trained], batch, tokens)) / gb, 1),
        }

    encoder = peak("bert-base", [], p.batch_size, longest)  # the teacher fine-tune (lesson 03)
    return {
        "00": {"GB": 0.0},
        "01": peak("6-layer student", ["bert-base", "bert-base"], p.batch_size, longest),
        "02": {"GB": round(4 * (m["bert-base"]["params"] + m["3-layer student"]["params"]) / gb, 1)},
        "03": encoder,
        "04": peak("6-layer student", ["bert-base", "6-layer student"], p.batch_size, longest),
        "05": peak("6-layer student", ["bert-base"], p.batch_size, longest),
        "06": peak("18-block student", ["SmolLM2-135M"], p.llm_batch_size, p.llm_seq_len),
        "07": peak("6-layer student", ["bert-base"], p.batch_size, longest),
    }


def estimate(record: dict) -> dict:
    m, floor = models(), floors(record)
    assert m["SmolLM2-135M"]["params"] == record["steps"][0]["params"], "SmolLM2's config no longer matches the record"
    lessons, mem = {}, memory(m=m)
    for lesson, items in work(m=m).items():
        rows = []
        for it in items:
            row = {"what": it[0], "kind": it[1], "count": it[2], "model": it[3], "tokens per step": it[4]}
            for gpu in GPUS:
                took, bound = seconds(it, gpu, floor, m)
                row |= {gpu: round(took), f"{gpu} bound": bound}
            rows.append(row)
        lessons[lesson] = {
            "steps": rows,
            **{f"{gpu} minutes": round(sum(r[gpu] for r in rows) / 60, 1) for gpu in GPUS},
            "memory GB": mem[lesson]["GB"],
            "fits a T4": mem[lesson]["GB"] <= GPUS["T4"]["memory_gb"],
        }
    return {
        "gpus": GPUS,
        "utilization": UTILIZATION,
        "floors s": {k: round(v, 4) for k, v in floor.items()},
        "cpu gflops": round(CPU_GFLOPS),
        "models": m,
        "lessons": lessons,
    }


def minutes(x: float) -> str:
    return f"{x:.0f}" if x >= 1 else "<1"


def markdown(est: dict) -> str:
    """The per-lesson table, then what it says, written from its numbers."""
    lines = ["| lesson | T4 (min) | H200 (min) | peak GPU memory (GB; T4 has 15) |", "|---|---:|---:|---:|"]
    lessons = est["lessons"]
    for lesson, e in lessons.items():
        lines.append(f"| {lesson} | {minutes(e['T4 minutes'])} | {minutes(e['H200 minutes'])} | {e['memory GB']:.1f} |")
    top = max(lessons, key=lambda k: lessons[k]["memory GB"])
    big = [k for k, e in lessons.items() if not e["fits a T4"]]
    fits = (
        f"Every lesson fits a T4's {GPUS['T4']['memory_gb']:.0f} GB (the most: lesson {top}, "
        f"{lessons[top]['memory GB']:.1f} GB); the time is the constraint."
        if not big
        else f"Lesson(s) {', '.join(big)} need more than a T4's {GPUS['T4']['memory_gb']:.0f} GB."
    )

    def share(e, bound, gpu="T4"):
        return sum(r[gpu] for r in e["steps"] if r[f"{gpu} bound"] == bound) / max(1, sum(r[gpu] for r in e["steps"]))

    floor = [k for k, e in lessons.items() if share(e, "floor") > 0.5]
    cpu = [k for k, e in lessons.items() if share(e, "cpu") > 0.25]
    lines += [
        "",
        f"{fits} On a T4, most of the time of lesson(s) {', '.join(floor)} is bound by the per-step floor, "
        "not by FLOPs: many small steps, which a faster card does not shorten. "
        + " and ".join(f"{share(lessons[k], 'cpu'):.0%} of lesson {k}'s" for k in cpu)
        + " time is int8 and ONNX Runtime timing on the CPU, which no GPU speeds up. "
        f"The whole course: about {sum(e['T4 minutes'] for e in lessons.values()) / 60:.1f} hours on a T4, "
        f"{sum(e['H200 minutes'] for e in lessons.values()) / 60:.1f} on an H200.",
    ]
    return "\n".join(lines)


def main() -> None:
    record = json.loads((OUT / "gpu_check.json").read_text())
    est = estimate(record["by_cpu"][record["latest"]])
    (OUT / "gpu_estimate.json").write_text(json.dumps(est, indent=1) + "\n")
    lines = ["# gpu profile: estimated time and memory per lesson", "", __doc__.split("\n\n")[1], "", markdown(est), ""]
    for lesson, e in est["lessons"].items():
        lines += [
            f"## Lesson {lesson}",
            "",
            "| step | kind | count | model | T4 s | H200 s |",
            "|---|---|---:|---|---:|---:|",
        ]
        lines += [
            f"| {r['what']} | {r['kind']} | {r['count']:,} | {r['model']} | {r['T4']:,} | {r['H200']:,} |"
            for r in e["steps"]
        ]
        lines.append("")
    (OUT / "gpu_estimate.md").write_text("\n".join(lines))
    README.write_text(with_table(README.read_text(), markdown(est)))
    print(markdown(est))


def with_table(readme: str, table: str) -> str:
    """README.md's text with `table` between the gpu-estimate markers."""
    start, end = readme.index(MARKERS[0]) + len(MARKERS[0]), readme.index(MARKERS[1])
    return readme[:start] + table + "\n" + readme[end:]


if __name__ == "__main__":
    main()
