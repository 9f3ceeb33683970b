"""Size and speed of models, measured the same way everywhere: parameters, MB on disk, latency.

Speed is noisy. `measure_latency` runs in inference mode with a fixed number of CPU threads,
discards warm-up runs and reports the median; `benchmark_table` interleaves the models round by
round, so a slow patch of the machine hits every model alike. Compare ratios from one run only,
and from one kind of CPU: `cpu_record` / `cpu_summary` say which CPU a timing came from (int8
speed-ups depend on its instruction sets), and `results_for` reads a stored benchmark's entry for it.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of (unique) parameters of a model; tied weights count once."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def size_on_disk_mb(model: nn.Module) -> float:
    """Size of `torch.save(model.state_dict())` in megabytes (MB = 10**6 bytes, not MiB)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    fd, path = tempfile.mkstemp(suffix=".pt")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(model.state_dict(), f)
        return os.path.getsize(path) / 1e6
    finally:
        os.remove(path)


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def dummy_batch(vocab_size: int, batch_size: int, seq_len: int, seed: int = 0) -> dict:
    """A seeded batch of random token ids (every token real): dict(input_ids, attention_mask)."""
    for name, value in (("vocab_size", vocab_size), ("batch_size", batch_size), ("seq_len", seq_len)):
        _positive_int(name, value)
    generator = torch.Generator().manual_seed(seed)
    input_ids = torch.randint(0, vocab_size, (batch_size, seq_len), generator=generator)
    return {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids)}


def _as_dict(batch) -> dict:
    """A batch as keyword arguments: a dict (or BatchEncoding) as is, a tensor as input_ids."""
    if isinstance(batch, torch.Tensor):
        return {"input_ids": batch}
    if hasattr(batch, "keys") and hasattr(batch, "__getitem__"):
        batch = {k: batch[k] for k in batch.keys()}
        if not batch:
            raise ValueError("batch is an empty dict; pass e.g. dummy_batch(vocab, 8, 64)")
        return batch
    raise TypeError(
        f"batch must be a dict of tensors (e.g. from dummy_batch or a tokenizer) or a "
        f"tensor of input ids, got {type(batch).__name__}"
    )


def _batch_shape(batch: dict) -> tuple[int, int]:
    first = batch.get("input_ids", next(iter(batch.values())))
    if first.dim() == 1:
        return 1, int(first.shape[0])
    return int(first.shape[0]), int(first.shape[1])


def _device_of(model: nn.Module) -> torch.device:
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


@contextmanager
def _fixed_threads(threads: int | None):
    """Run the block with `threads` intra-op CPU threads, restoring the previous count after."""
    before = torch.get_num_threads()
    use = before if threads is None else _positive_int("threads", threads)
    torch.set_num_threads(use)
    try:
        yield use
    finally:
        torch.set_num_threads(before)


def _timed_call(model: nn.Module, inputs: dict) -> float:
    """Milliseconds for one forward pass (synchronising CUDA so the clock sees the work)."""
    cuda = _device_of(model).type == "cuda"
    if cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    model(**inputs)
    if cuda:
        torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1e3


def _prepare(model: nn.Module, batch) -> dict:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    device = _device_of(model)
    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in _as_dict(batch).items()}


def _check_counts(repeats, warmup) -> None:
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be an int >= 1, got {repeats!r}")
    if isinstance(warmup, bool) or not isinstance(warmup, int) or warmup < 0:
        raise ValueError(f"warmup must be an int >= 0, got {warmup!r}")


def _run_rounds(
    models: dict[str, nn.Module], batch, repeats: int, warmup: int, threads: int | None
) -> tuple[dict[str, list[float]], int]:
    """Warm up every model, then time them round-robin; return name -> times_ms, threads used."""
    _check_counts(repeats, warmup)
    inputs = {name: _prepare(model, batch) for name, model in models.items()}
    modes = {name: model.training for name, model in models.items()}
    times: dict[str, list[float]] = {name: [] for name in models}
    try:
        with _fixed_threads(threads) as used, torch.inference_mode():
            for name, model in models.items():
                model.eval()
                for _ in range(warmup):
                    _timed_call(model, inputs[name])
            for _ in range(repeats):
                for name, model in models.items():
                    times[name].append(_timed_call(model, inputs[name]))
    finally:
        for name, model in models.items():
            model.train(modes[name])
    return times, used


def measure_latency(model: nn.Module, batch, repeats: int = 10, warmup: int = 2, threads: int | None = None) -> dict:
    """Median forward-pass time of `model` on `batch` (eval, inference mode, fixed CPU threads)."""
    times, used = _run_rounds({"model": model}, batch, repeats, warmup, threads)
    batch_size, seq_len = _batch_shape(_as_dict(batch))
    return {
        "median_ms": statistics.median(times["model"]),
        "times_ms": times["model"],
        "threads": used,
        "batch_size": batch_size,
        "seq_len": seq_len,
    }


def benchmark_table(
    models: dict[str, nn.Module],
    batch,
    repeats: int = 10,
    accuracy: dict[str, float] | None = None,
    reference: str | None = None,
    warmup: int = 2,
    threads: int | None = None,
) -> list[dict]:
    """One row per model: params, size_mb, median latency_ms, speedup and accuracy retention vs `reference`."""
    if not isinstance(models, dict):
        raise TypeError(f"models must be a dict of name -> nn.Module, got {type(models).__name__}")
    if not models:
        raise ValueError("models is empty; pass e.g. {'teacher': teacher, 'student': student}")
    reference = next(iter(models)) if reference is None else reference
    if reference not in models:
        raise ValueError(f"unknown reference {reference!r}; choose one of: {', '.join(models)}")
    accuracy = dict(accuracy or {})
    unknown = set(accuracy) - set(models)
    if unknown:
        raise ValueError(
            f"accuracy names models that are not benchmarked: {sorted(unknown)}; models are: {', '.join(models)}"
        )
    times, _ = _run_rounds(models, batch, repeats, warmup, threads)
    latency = {name: statistics.median(t) for name, t in times.items()}
    ref_acc = accuracy.get(reference)
    rows = []
    for name, model in models.items():
        acc = accuracy.get(name)
        rows.append(
            {
                "name": name,
                "params": count_parameters(model),
                "size_mb": size_on_disk_mb(model),
                "latency_ms": latency[name],
                "speedup": latency[reference] / latency[name],
                "accuracy": acc,
                "retention": acc / ref_acc if acc is not None and ref_acc else None,
            }
        )
    return rows


def time_calls(calls: dict, rounds: int, warmup: int = 2, threads: int | None = None) -> dict[str, list[float]]:
    """Milliseconds of each `call(i)`, round-robin for i in range(rounds), after `warmup` calls of each.

    Any callables (a PyTorch model on a batch, an ONNX Runtime session, ...): round i calls every one in
    turn with the same i (e.g. the i-th request), so a slow moment of the machine hits them all alike.
    """
    if not isinstance(calls, dict) or not calls or not all(callable(f) for f in calls.values()):
        raise TypeError("calls must be a non-empty dict of name -> callable(i), e.g. {'teacher': lambda i: ...}")
    _check_counts(rounds, warmup)
    times: dict[str, list[float]] = {name: [] for name in calls}
    with _fixed_threads(threads), torch.inference_mode():
        for call in calls.values():
            for i in range(warmup):
                call(i % rounds)
        for i in range(rounds):
            for name, call in calls.items():
                start = time.perf_counter()
                call(i)
                times[name].append((time.perf_counter() - start) * 1e3)
    return times


def percentile(times: list[float], q: float) -> float:
    """The q-th percentile (0-100) of a list of times, linearly interpolated (numpy's default)."""
    if not times:
        raise ValueError("percentile of an empty list of times is undefined; time at least one call")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be in [0, 100], got {q!r}; e.g. q=95 for the p95 latency")
    ordered = sorted(times)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- Which CPU a timing came from ------------------------------------------------------------------
# A speed-up is a property of the CPU as much as of the model: int8 matrix products run on VNNI
# dot-product instructions (AVX-512 VNNI, AVX-VNNI) or AMX tile units where the CPU has them, and each
# runtime ships its own kernels for each instruction set. Every benchmark records the CPU beside its
# numbers, and results accumulate per CPU kind (benchmarks/common.py, results_for below).

CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")  # x86: what int8/fp32 kernels dispatch on
ARM_FLAGS = ("asimddp", "i8mm", "sve", "bf16")  # Arm: int8 dot product, int8 matrix multiply, SVE, bf16
UNRECORDED = "unrecorded (before CPU records)"
_FLAG_NAMES = {
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_vnni": "AVX-512 VNNI",
    "avx_vnni": "AVX-VNNI",
    "amx_int8": "AMX",
    "asimddp": "dot product",
    "i8mm": "i8mm",
    "sve": "SVE",
    "bf16": "bf16",
}


def parse_cpuinfo(text: str) -> dict:
    """The CPU as Linux's /proc/cpuinfo describes it: model name, vendor, family/model, flags (of the
    first processor), logical CPUs listed and physical cores (distinct physical id + core id pairs;
    None where the file does not say). Works on x86 (`flags`) and Arm (`Features`) files."""
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    processors = []
    for block in blocks:
        fields: dict[str, str] = {}
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields.setdefault(key.strip().lower(), value.strip())
        processors.append(fields)
    first = next((p for p in processors if "processor" in p), processors[0] if processors else {})
    flag_line = first.get("flags", first.get("features", ""))
    model = first.get("model name") or first.get("hardware") or first.get("cpu model") or None
    if model is None and "cpu part" in first:  # Arm without a model name: implementer + part numbers
        model = f"Arm CPU (implementer {first.get('cpu implementer', '?')}, part {first['cpu part']})"
    cores = {(p.get("physical id"), p.get("core id")) for p in processors if "core id" in p}
    return {
        "model": " ".join(model.split()) if model else None,
        "vendor": first.get("vendor_id") or first.get("cpu implementer"),
        "family": first.get("cpu family"),
        "model_number": first.get("model") if "model name" in first else None,
        "flags": set(flag_line.split()),
        "flag_field": "flags" if "flags" in first else "Features" if "features" in first else None,
        "logical": sum("processor" in p for p in processors) or None,
        "physical_cores": len(cores) or None,
    }


def _kind(model: str, family, model_number, flags: dict | None, capability: str | None) -> str:
    """A short key stable across runs on the same kind of CPU: model name (+ family/model numbers,
    which tell generations apart where a hypervisor masks the name to e.g. 'AMD EPYC') and the int8
    instruction sets it has (or its widest SIMD)."""
    name = model + (f" (family {family} model {model_number})" if family and model_number else "")
    if flags is None:
        return f"{name} · {capability or 'instruction set unknown'}"
    present = [f for f, on in flags.items() if on]
    int8 = [f for f in ("amx_int8", "avx512_vnni", "avx_vnni", "asimddp", "i8mm") if f in present]
    widest = [f for f in ("avx512f", "avx2", "sve") if f in present][:1]
    return f"{name} · {' '.join(int8 or widest) or 'no avx2'}"


def _onnxruntime_version() -> str | None:
    """ONNX Runtime's version when installed, without importing it (importing it is slow)."""
    from importlib import metadata

    for dist in ("onnxruntime", "onnxruntime-gpu", "onnxruntime-openvino"):
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return None


def gpu_record() -> dict | None:
    """The CUDA device torch uses (name, compute capability, memory, CUDA version), or None without one."""
    if not torch.cuda.is_available():
        return None
    props = torch.cuda.get_device_properties(0)
    return {
        "name": props.name,
        "capability": f"sm_{props.major}{props.minor}",
        "memory_gb": round(props.total_memory / 1e9, 1),
        "count": torch.cuda.device_count(),
        "cuda": torch.version.cuda,
    }


def cpu_record(threads: int | None = None, cpuinfo: str | None = None, gpu: bool = False) -> dict:
    """The CPU (and software) a benchmark ran on: model, cores, threads, the instruction sets int8 and
    fp32 kernels dispatch on, torch's CPU capability and quantized engine, ONNX Runtime's version, and
    `kind`, the key under which results from the same kind of CPU accumulate.

    `threads`: the threads the benchmark used (default: torch's current count). `cpuinfo`: the text of
    /proc/cpuinfo (default: read on Linux; elsewhere the flags are None and the model comes from
    platform.processor()). `gpu=True` adds the CUDA device (`gpu_record`) and puts its name in the kind.
    """
    import platform

    if cpuinfo is None and os.path.isfile("/proc/cpuinfo"):
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                cpuinfo = f.read()
        except OSError:
            cpuinfo = None
    info = parse_cpuinfo(cpuinfo) if cpuinfo else None
    model = (info and info["model"]) or platform.processor() or platform.machine() or "unknown CPU"
    flags = None
    if info and info["flag_field"]:
        names = CPU_FLAGS if info["flag_field"] == "flags" else ARM_FLAGS
        flags = {f: f in info["flags"] for f in names}
    get_capability = getattr(getattr(torch.backends, "cpu", None), "get_cpu_capability", None)
    capability = get_capability() if get_capability else None
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 0
    record: dict = {
        "kind": _kind(model, info and info["family"], info and info["model_number"], flags, capability),
        "model": model,
        "vendor": info and info["vendor"],
        "family": info and info["family"],
        "model_number": info and info["model_number"],
        "machine": platform.machine(),
        "system": platform.system(),
        "physical_cores": info and info["physical_cores"],
        "logical_cpus": os.cpu_count(),
        "cpus_available": available,
        "torch_threads": torch.get_num_threads() if threads is None else threads,
        "flags": flags,
        "flags_from": "/proc/cpuinfo" if flags is not None else None,
        "torch": torch.__version__,
        "torch_cpu_capability": capability,
        "quantized_engine": torch.backends.quantized.engine,
        "onnxruntime": _onnxruntime_version(),
    }
    if gpu:
        record["gpu"] = gpu_record()
        if record["gpu"]:
            record["kind"] += f" · {record['gpu']['name']}"
    return record


def _features(flags: dict | None) -> str:
    """'AVX-512 VNNI, AVX-VNNI, no AMX': the instruction sets int8 speed depends on, in words."""
    if flags is None:
        return ""
    if "avx2" not in flags:  # Arm
        return ", ".join(_FLAG_NAMES[f] if on else f"no {_FLAG_NAMES[f]}" for f, on in flags.items())
    words = []
    if flags.get("avx512_vnni"):
        words.append("AVX-512 VNNI")
    elif flags.get("avx512f"):
        words.append("AVX-512")
    if flags.get("avx_vnni"):
        words.append("AVX-VNNI")
    if not flags.get("avx512f") and not flags.get("avx_vnni"):
        words.append("AVX2" if flags.get("avx2") else "no AVX2")
    if not (flags.get("avx512_vnni") or flags.get("avx_vnni")):
        words.append("no VNNI")
    words.append("AMX" if flags.get("amx_int8") else "no AMX")
    return ", ".join(words)


def cpu_summary(record: dict | None = None) -> str:
    """One line for a lesson or a benchmark to print: 'CPU: AMD EPYC (2 cores, 2 threads; AVX-512 VNNI,
    AVX-VNNI, no AMX) · torch 2.13.0 (AVX512, quantized engine x86) · onnxruntime 1.32.0'."""
    r = cpu_record() if record is None else record
    if r.get("kind") == UNRECORDED or "model" not in r:
        return f"CPU: {r.get('kind', 'unknown')}"
    cores = f"{r['physical_cores']} cores, " if r.get("physical_cores") else ""
    features = _features(r.get("flags"))
    line = f"CPU: {r['model']} ({cores}{r['torch_threads']} threads{'; ' + features if features else ''})"
    engine = ", ".join(x for x in (r.get("torch_cpu_capability"), f"quantized engine {r.get('quantized_engine')}") if x)
    line += f" · torch {str(r['torch']).split('+')[0]} ({engine})"
    if r.get("onnxruntime"):
        line += f" · onnxruntime {r['onnxruntime']}"
    if r.get("gpu"):
        line += f" · GPU: {r['gpu']['name']} ({r['gpu']['capability']}, CUDA {r['gpu']['cuda']})"
    return line


# --- Reading stored benchmark results (benchmarks/results/<name>.json) --------------------------------
RESULTS_LAYOUT = "per-cpu/1"  # the `layout` of a results file that keeps one entry per CPU kind


def _results_file(name: str, folder) -> Path | None:
    """benchmarks/results/<name>.json: in `folder`, else beside the lessons (run from lessons/ or the
    repository root), else in the checkout kdcourse was installed from; None where there is none."""
    file = name if name.endswith(".json") else f"{name}.json"
    if folder is not None:
        candidates = [Path(folder) / file]
    else:
        here = Path.cwd()
        candidates = [
            here.parent / "benchmarks" / "results" / file,
            here / "benchmarks" / "results" / file,
            Path(__file__).resolve().parents[1] / "benchmarks" / "results" / file,
        ]
    return next((c for c in candidates if c.is_file()), None)


def as_per_cpu(stored: dict) -> dict:
    """A results file's content in the per-CPU layout: {"layout", "latest", "by_cpu": {kind: entry}}.
    A file written before CPU records (one flat result) becomes one entry of kind UNRECORDED."""
    if stored.get("layout") == RESULTS_LAYOUT:
        return stored
    machine = stored.get("machine")  # what such a run noted: platform.processor() (e.g. 'x86_64'), cores
    then = (
        {k: v for k, v in machine.items() if k in ("cpu", "cores", "cpus", "platform")}
        if isinstance(machine, dict)
        else {k: stored[k] for k in ("machine", "cpus", "device") if k in stored}
    )
    cpu = {
        "kind": UNRECORDED,
        "note": "measured before the benchmarks recorded their CPU: its model and instruction sets are "
        "unknown (the run noted only "
        + (f"{then!r}" if then else "nothing about the machine")
        + "), and so is its date (the file's git history dates the commit); compare its numbers with "
        "other CPUs' knowing that",
    }
    entry = {"cpu": cpu, "date": None, **stored}
    return {"layout": RESULTS_LAYOUT, "latest": UNRECORDED, "by_cpu": {UNRECORDED: entry}}


def results_by_cpu(name: str, folder=None) -> dict[str, dict]:
    """Every CPU kind's entry of a stored benchmark (e.g. "deploy", "quantize"), oldest write first:
    kind -> entry (the script's result plus `cpu`, its cpu_record, and `date`). {} without a file."""
    path = _results_file(name, folder)
    if path is None:
        return {}
    import json

    return dict(as_per_cpu(json.loads(path.read_text()))["by_cpu"])


def results_for(name: str, kind: str | None = None, folder=None) -> dict | None:
    """One entry of a stored benchmark, e.g. results_for("deploy"): this CPU kind's when it was measured
    here, else the latest written (check entry["cpu"]["kind"], and print cpu_summary(entry["cpu"]));
    `kind` picks one (see results_by_cpu). None when there is no results file (e.g. on Colab)."""
    path = _results_file(name, folder)
    if path is None:
        return None
    import json

    stored = as_per_cpu(json.loads(path.read_text()))
    entries = stored["by_cpu"]
    if kind is not None:
        if kind not in entries:
            raise KeyError(f"{path.name} has no entry for CPU kind {kind!r}; it has: {', '.join(entries)}")
        return entries[kind]
    here = cpu_record()["kind"]
    return entries.get(here) or entries[stored.get("latest") or next(reversed(entries))]
