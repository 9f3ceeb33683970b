"""Size and speed of models, measured the same way everywhere: parameters, MB on disk, latency.

Speed is noisy. `measure_latency` runs in inference mode with a fixed number of CPU threads,
discards warm-up runs and reports the median; `benchmark_table` interleaves the models round by
round, so a slow patch of the machine hits every model alike. Compare ratios from one run only.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from contextlib import contextmanager

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
    times = {name: [] for name in models}
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
    times = {name: [] for name in calls}
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
