"""kdcourse.benchmark on tiny random BERTs: sane numbers, restored state, clear errors (no speed ratios)."""

import os
import tempfile

import matplotlib.figure
import pytest
import torch
from helpers import tiny_bert as bert
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


# --- Which CPU a timing came from, and results kept per CPU kind ---------------------------------------

EPYC = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
physical id\t: 0
core id\t\t: 0
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx_vnni avx512_vnni avx512_bf16

processor\t: 1
vendor_id\t: AuthenticAMD
cpu family\t: 26
model\t\t: 2
model name\t: AMD EPYC
physical id\t: 0
core id\t\t: 1
flags\t\t: fpu sse2 avx avx2 avx512f avx512bw avx_vnni avx512_vnni avx512_bf16
"""
# Two hyperthreads per core: 4 logical CPUs, 2 physical cores.
SAPPHIRE = "\n\n".join(
    f"processor\t: {i}\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel\t\t: 143\n"
    f"model name\t: Intel(R) Xeon(R) Platinum 8480+\nphysical id\t: 0\ncore id\t\t: {i // 2}\n"
    "flags\t\t: avx2 avx512f avx512_vnni avx_vnni amx_bf16 amx_tile amx_int8"
    for i in range(4)
)
SKYLAKE = "processor\t: 0\nmodel name\t: Intel(R) Core(TM) i7-6700 CPU @ 3.40GHz\nflags\t\t: sse4_2 avx avx2\n"
GRAVITON = "processor\t: 0\nBogoMIPS\t: 243.75\nFeatures\t: fp asimd asimddp i8mm bf16 sve\nCPU part\t: 0xd4f\n"


def test_parse_cpuinfo_reads_model_flags_and_cores():
    info = benchmark.parse_cpuinfo(EPYC)
    assert info["model"] == "AMD EPYC" and info["family"] == "26" and info["model_number"] == "2"
    assert {"avx512_vnni", "avx_vnni", "avx2"} <= info["flags"] and "amx_int8" not in info["flags"]
    assert info["logical"] == 2 and info["physical_cores"] == 2
    intel = benchmark.parse_cpuinfo(SAPPHIRE)
    assert intel["logical"] == 4 and intel["physical_cores"] == 2, "hyperthreads share a core"
    assert intel["model"] == "Intel(R) Xeon(R) Platinum 8480+" and "amx_int8" in intel["flags"]
    arm = benchmark.parse_cpuinfo(GRAVITON)
    assert arm["flag_field"] == "Features" and {"asimddp", "i8mm"} <= arm["flags"]
    assert arm["model"].startswith("Arm CPU") and arm["physical_cores"] is None
    assert benchmark.parse_cpuinfo("")["model"] is None


def test_cpu_record_flags_kind_and_software():
    record = benchmark.cpu_record(threads=2, cpuinfo=EPYC)
    assert record["flags"] == {
        "avx2": True,
        "avx512f": True,
        "avx512_vnni": True,
        "avx_vnni": True,
        "amx_int8": False,
    }
    assert record["kind"] == "AMD EPYC (family 26 model 2) · avx512_vnni avx_vnni"
    assert record["kind"] == benchmark.cpu_record(threads=8, cpuinfo=EPYC)["kind"], "threads are not the kind"
    assert record["torch_threads"] == 2 and record["physical_cores"] == 2
    assert record["torch"] == torch.__version__ and record["quantized_engine"] == torch.backends.quantized.engine
    assert record["torch_cpu_capability"] == torch.backends.cpu.get_cpu_capability()
    kinds = {benchmark.cpu_record(cpuinfo=text)["kind"] for text in (EPYC, SAPPHIRE, SKYLAKE, GRAVITON)}
    assert len(kinds) == 4
    assert benchmark.cpu_record(cpuinfo=SAPPHIRE)["kind"].endswith("· amx_int8 avx512_vnni avx_vnni")
    assert benchmark.cpu_record(cpuinfo=SKYLAKE)["kind"] == "Intel(R) Core(TM) i7-6700 CPU @ 3.40GHz · avx2"
    arm = benchmark.cpu_record(cpuinfo=GRAVITON)
    assert arm["flags"] == {"asimddp": True, "i8mm": True, "sve": True, "bf16": True}
    assert arm["kind"].endswith("· asimddp i8mm")
    here = benchmark.cpu_record()  # this machine: whatever it is, a record with a kind
    assert here["kind"] and here["logical_cpus"] == os.cpu_count()


def test_cpu_record_without_proc_cpuinfo(monkeypatch):
    monkeypatch.setattr(benchmark.os.path, "isfile", lambda path: False)
    record = benchmark.cpu_record(threads=1)
    assert record["flags"] is None and record["flags_from"] is None and record["model"]
    assert record["kind"].endswith(f"· {torch.backends.cpu.get_cpu_capability()}")
    assert benchmark.cpu_summary(record).startswith(f"CPU: {record['model']} (1 threads) · torch")


def test_cpu_summary_says_which_int8_instructions():
    line = benchmark.cpu_summary(benchmark.cpu_record(threads=2, cpuinfo=EPYC))
    version = torch.__version__.split("+")[0]
    assert line.startswith(f"CPU: AMD EPYC (2 cores, 2 threads; AVX-512 VNNI, AVX-VNNI, no AMX) · torch {version} (")
    assert f"quantized engine {torch.backends.quantized.engine}" in line
    assert "AVX-512 VNNI, AVX-VNNI, AMX)" in benchmark.cpu_summary(benchmark.cpu_record(cpuinfo=SAPPHIRE))
    assert "; AVX2, no VNNI, no AMX)" in benchmark.cpu_summary(benchmark.cpu_record(cpuinfo=SKYLAKE))
    assert benchmark.cpu_summary({"kind": benchmark.UNRECORDED}) == f"CPU: {benchmark.UNRECORDED}"
    ort = benchmark.cpu_record()["onnxruntime"]
    assert (f" · onnxruntime {ort}" in benchmark.cpu_summary()) == (ort is not None)


@pytest.fixture(scope="module")
def common():
    """benchmarks/common.py, which the benchmark scripts import as a sibling module."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "common.py"
    spec = importlib.util.spec_from_file_location("benchmarks_common", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _result(speedup: float, threads: int = 2) -> dict:
    return {
        "profile": "cpu",
        "threads": threads,
        "rows": [{"name": "teacher", "speedup": 1.0}, {"name": "student int8", "speedup": speedup}],
        "targets": {"speed-up": {"wanted": ">= 4", "measured": speedup, "met": speedup >= 4}},
    }


def test_write_results_keeps_one_entry_per_cpu_kind(common, tmp_path, capsys):
    import json

    legacy = {**_result(7.0), "machine": {"cpu": "x86_64", "cores": 2}}
    (tmp_path / "bench.json").write_text(json.dumps(legacy))
    (tmp_path / "bench.md").write_text("# Old report\n\nMachine: x86_64, 2 cores.\n")
    compare = [("Speed-up vs the teacher", "rows", "speedup")]
    epyc, intel = benchmark.cpu_record(2, EPYC), benchmark.cpu_record(2, SAPPHIRE)
    common.write_results({**_result(4.5), "cpu": epyc}, tmp_path, "bench", "# Report\n\nrows\n", compare)
    assert "CPU: AMD EPYC" in capsys.readouterr().out, "the report printed names the CPU"
    common.write_results({**_result(3.5), "cpu": intel}, tmp_path, "bench", "# Report\n\nrows\n", compare)
    common.write_results({**_result(3.0), "cpu": epyc}, tmp_path, "bench", "# Report\n\nnew rows\n", compare)

    stored = json.loads((tmp_path / "bench.json").read_text())
    assert stored["layout"] == benchmark.RESULTS_LAYOUT and stored["latest"] == epyc["kind"]
    assert list(stored["by_cpu"]) == [benchmark.UNRECORDED, intel["kind"], epyc["kind"]], "newest write last"
    old = stored["by_cpu"][benchmark.UNRECORDED]
    assert old["rows"] == legacy["rows"] and old["machine"] == legacy["machine"] and old["date"] is None
    assert "x86_64" in old["cpu"]["note"] and "unknown" in old["cpu"]["note"], "an honest note, no invented model"
    mine = stored["by_cpu"][epyc["kind"]]
    assert mine["rows"][1]["speedup"] == 3.0, "the same CPU kind's entry is replaced"
    assert mine["cpu"] == epyc and mine["date"] and mine["targets"]["speed-up"]["met"] is False
    assert {k: stored[k] for k in mine} == mine, "top level: the latest entry, for readers from before"

    md = (tmp_path / "bench.md").read_text()
    assert md.count("<!-- cpu-section:") == 3 and "Machine: x86_64, 2 cores." in md and "new rows" in md
    assert "\n### Old report" in md and "\n### Report" in md, "each script report is a section"
    assert "| student int8 | 7.00x | 3.50x | 3.00x | 3.00–7.00x (2.33) |" in md
    assert f"- speed-up: met on {benchmark.UNRECORDED}; NOT met on {intel['kind']}, {epyc['kind']}." in md

    # results_for: this CPU's entry when measured here, else the latest; a named kind; no file -> None
    assert benchmark.results_for("bench", kind=intel["kind"], folder=tmp_path)["rows"][1]["speedup"] == 3.5
    here = benchmark.cpu_record()["kind"]
    expected = here if here in stored["by_cpu"] else epyc["kind"]
    assert benchmark.results_for("bench", folder=tmp_path)["cpu"]["kind"] == expected
    assert list(benchmark.results_by_cpu("bench", folder=tmp_path)) == list(stored["by_cpu"])
    with pytest.raises(KeyError, match="no entry for CPU kind 'M1'"):
        benchmark.results_for("bench", kind="M1", folder=tmp_path)
    assert benchmark.results_for("absent", folder=tmp_path) is None
    assert benchmark.results_by_cpu("absent", folder=tmp_path) == {}


def test_results_for_reads_a_file_from_before_cpu_records(tmp_path):
    import json

    (tmp_path / "old.json").write_text(json.dumps(_result(6.0)))
    entry = benchmark.results_for("old", folder=tmp_path)
    assert entry["cpu"]["kind"] == benchmark.UNRECORDED and entry["rows"][1]["speedup"] == 6.0


def test_write_results_refuses_the_files_own_keys(common, tmp_path):
    with pytest.raises(ValueError, match="by_cpu"):
        common.write_results({**_result(5.0), "by_cpu": {}}, tmp_path, "bench", "# r\n")


ESTIMATES = {"gpu_estimate"}


def test_stored_results_are_kept_per_cpu_and_read_as_before():
    """benchmarks/results/*.json: per-CPU layout, and the top level repeats the latest entry, so cells that
    read the file directly (lessons 04, 05, 07) see the same fields as before."""
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
    # gpu_estimate.json is computed from the other records (benchmarks/gpu_estimate.py), not measured on a CPU;
    # tests/test_gpu_estimate.py holds it. Every other results file is a measurement and keeps the layout.
    files = sorted(f for f in folder.glob("*.json") if f.stem not in ESTIMATES)
    assert {f.stem for f in files} >= {"deploy", "quantize", "distilbert", "gpu_check"}
    for file in files:
        stored = json.loads(file.read_text())
        assert stored["layout"] == benchmark.RESULTS_LAYOUT, file.name
        latest = stored["by_cpu"][stored["latest"]]
        assert {k: stored[k] for k in latest} == latest, file.name
        assert all(e["cpu"]["kind"] == kind for kind, e in stored["by_cpu"].items()), file.name
        assert benchmark.results_for(file.stem, folder=folder)["cpu"]["kind"] in stored["by_cpu"]
    deploy = benchmark.results_for("deploy", folder=folder)
    assert {"profile", "threads", "targets", "rows"} <= set(deploy)
