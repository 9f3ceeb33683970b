"""kdcourse.benchmark on tiny random BERTs: sane numbers, restored state, clear errors (no speed ratios)."""

import os
import tempfile

import matplotlib.figure
import pytest
import torch
from conftest import tiny_bert as bert
from transformers import BertModel

from kdcourse import benchmark
from kdcourse.viz import plots

VOCAB = 100


def tiny_bert(layers: int = 2, hidden: int = 32) -> BertModel:
    return bert(layers, hidden, VOCAB, positions=32, head=False)


@pytest.fixture(scope="module")
def models():
    return {"teacher": tiny_bert(layers=2), "student": tiny_bert(layers=1)}


def test_count_parameters_matches_by_hand(models):
    model = models["teacher"]
    assert benchmark.count_parameters(model) == sum(p.numel() for p in model.parameters())
    # A one-layer student has exactly one encoder layer fewer.
    layer = sum(p.numel() for p in model.encoder.layer[0].parameters())
    assert benchmark.count_parameters(models["student"]) == benchmark.count_parameters(model) - layer
    model.embeddings.word_embeddings.weight.requires_grad_(False)
    try:
        frozen = model.embeddings.word_embeddings.weight.numel()
        assert benchmark.count_parameters(model, trainable_only=True) == benchmark.count_parameters(model) - frozen
    finally:
        model.embeddings.word_embeddings.weight.requires_grad_(True)


def test_size_on_disk_is_about_four_bytes_per_float(models):
    model = models["teacher"]
    size = benchmark.size_on_disk_mb(model)
    floats = sum(t.numel() * t.element_size() for t in model.state_dict().values()) / 1e6
    assert floats <= size < floats + 0.1  # pickle overhead only
    assert benchmark.size_on_disk_mb(models["student"]) < size


def test_size_on_disk_leaves_no_temp_file(models):
    before = set(os.listdir(tempfile.gettempdir()))
    benchmark.size_on_disk_mb(models["student"])
    assert {f for f in set(os.listdir(tempfile.gettempdir())) - before if f.endswith(".pt")} == set()


def test_dummy_batch_is_seeded_and_in_range():
    a = benchmark.dummy_batch(VOCAB, 3, 7, seed=1)
    b = benchmark.dummy_batch(VOCAB, 3, 7, seed=1)
    c = benchmark.dummy_batch(VOCAB, 3, 7, seed=2)
    assert a["input_ids"].shape == (3, 7) and a["attention_mask"].shape == (3, 7)
    assert torch.equal(a["input_ids"], b["input_ids"]) and not torch.equal(a["input_ids"], c["input_ids"])
    assert int(a["input_ids"].min()) >= 0 and int(a["input_ids"].max()) < VOCAB
    assert bool((a["attention_mask"] == 1).all())


def test_measure_latency_reports_sane_numbers(models):
    model = models["teacher"].train()
    before = torch.get_num_threads()
    result = benchmark.measure_latency(model, benchmark.dummy_batch(VOCAB, 4, 16), repeats=5, warmup=1, threads=1)
    assert torch.get_num_threads() == before, "thread count restored"
    assert model.training, "train/eval mode restored"
    assert result["threads"] == 1 and result["batch_size"] == 4 and result["seq_len"] == 16
    assert len(result["times_ms"]) == 5 and all(t > 0 for t in result["times_ms"])
    assert result["median_ms"] == sorted(result["times_ms"])[2]


def test_measure_latency_restores_threads_on_error(models):
    before = torch.get_num_threads()
    with pytest.raises((IndexError, RuntimeError)):  # the model's own error for a too-long input
        benchmark.measure_latency(
            models["teacher"], {"input_ids": torch.zeros(2, 99, dtype=torch.long)}, repeats=1, threads=1
        )  # 99 > max_position_embeddings
    assert torch.get_num_threads() == before


def test_measure_latency_accepts_a_tensor(models):
    result = benchmark.measure_latency(models["student"], torch.ones(2, 5, dtype=torch.long), repeats=1, warmup=0)
    assert result["batch_size"] == 2 and result["seq_len"] == 5
    assert result["threads"] == torch.get_num_threads()


def test_benchmark_table_rows(models):
    rows = benchmark.benchmark_table(
        models,
        benchmark.dummy_batch(VOCAB, 2, 8),
        repeats=3,
        warmup=1,
        accuracy={"teacher": 0.8, "student": 0.76},
        reference="teacher",
    )
    assert [r["name"] for r in rows] == ["teacher", "student"]
    teacher, student = rows
    assert set(teacher) == {"name", "params", "size_mb", "latency_ms", "speedup", "accuracy", "retention"}
    assert teacher["speedup"] == 1.0 and teacher["retention"] == 1.0
    assert student["retention"] == pytest.approx(0.95)
    assert student["speedup"] == pytest.approx(teacher["latency_ms"] / student["latency_ms"])
    assert student["params"] < teacher["params"] and student["size_mb"] < teacher["size_mb"]
    fig = plots.bubble_plot(rows)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert isinstance(plots.latency_bars(rows), matplotlib.figure.Figure)


def test_benchmark_table_without_accuracy_defaults_to_first_reference(models):
    rows = benchmark.benchmark_table(models, benchmark.dummy_batch(VOCAB, 2, 8), repeats=1, warmup=0)
    assert rows[0]["speedup"] == 1.0
    assert all(r["accuracy"] is None and r["retention"] is None for r in rows)
    with pytest.raises(ValueError, match="accuracy"):
        plots.bubble_plot(rows)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"repeats": 0}, "repeats must be an int >= 1, got 0"),
        ({"warmup": -1}, "warmup must be an int >= 0"),
        ({"threads": 0}, "threads must be a positive int"),
    ],
)
def test_measure_latency_errors(models, kwargs, message):
    with pytest.raises(ValueError, match=message):
        benchmark.measure_latency(models["student"], benchmark.dummy_batch(VOCAB, 1, 4), **kwargs)


def test_benchmark_table_errors(models):
    batch = benchmark.dummy_batch(VOCAB, 1, 4)
    with pytest.raises(ValueError, match="models is empty"):
        benchmark.benchmark_table({}, batch)
    with pytest.raises(ValueError, match="unknown reference 'bert'; choose one of: teacher, student"):
        benchmark.benchmark_table(models, batch, reference="bert")
    with pytest.raises(ValueError, match="not benchmarked"):
        benchmark.benchmark_table(models, batch, accuracy={"distilled": 0.5})
    with pytest.raises(TypeError, match="nn.Module"):
        benchmark.benchmark_table({"x": object()}, batch, repeats=1)
    with pytest.raises(ValueError, match="vocab_size must be a positive int"):
        benchmark.dummy_batch(0, 1, 1)
    with pytest.raises(TypeError, match="dict of tensors"):
        benchmark.measure_latency(models["student"], [1, 2, 3])


def test_bubble_plot_labels_never_overlap():
    """Four students at one latency and size (the demo's case): every label legible, units written."""
    rows = [{"name": "teacher", "size_mb": 90.9, "latency_ms": 194.3, "accuracy": 0.826}] + [
        {"name": f"student {i}", "size_mb": 69.6, "latency_ms": 98.1 + i / 10, "accuracy": acc}
        for i, acc in enumerate((0.794, 0.796, 0.781, 0.819))
    ]
    fig = plots.bubble_plot(rows)
    ax = fig.axes[0]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in ax.texts if "MB" in t.get_text()]
    assert len(texts) == 5 and "90.9 MB, accuracy 0.826" in texts[0].get_text()
    assert not any("size" in t.get_text() for t in texts)
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in texts]  # the white boxes
    frame = ax.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1 for b in boxes)
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
