"""Quantization: affine int8 by hand, dynamic int8 for CPU inference, saving/reloading, the cached student.

Dynamic quantization stores each nn.Linear weight as int8 (with a scale, per output channel or per
tensor) and quantizes the activations on the fly, so the matmul runs in int8 with int32 accumulation.
torch.ao's version, used here, runs on the CPU only (fbgemm/x86/qnnpack kernels); torchao's int8 runs on
GPUs too. On a GPU the course uses bf16 or 8/4-bit weight loading.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from . import benchmark, cache

_QCONFIGS = {
    "per_channel": "per_channel_dynamic_qconfig",
    "per_tensor": "default_dynamic_qconfig",
    "embedding": "float_qparams_weight_only_qconfig",
}


# --- By hand: affine (scale, zero-point) quantization ----------------------------------------


def int_range(bits: int = 8, symmetric: bool = False) -> tuple[int, int]:
    """Integer range: signed [-2^(b-1), 2^(b-1)-1] when symmetric, unsigned [0, 2^b-1] otherwise."""
    if isinstance(bits, bool) or not isinstance(bits, int) or not 2 <= bits <= 16:
        raise ValueError(f"bits must be an int between 2 and 16, got {bits!r}")
    return (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if symmetric else (0, 2**bits - 1)


def affine_qparams(x: torch.Tensor, bits: int = 8, symmetric: bool = False, dim: int | None = None):
    """(scale, zero_point) mapping x's range (zero included) onto the integer range; per row of `dim` if given.

    Same formulas as PyTorch's MinMaxObserver: asymmetric scale = (max - min) / (qmax - qmin),
    zero_point = qmin - round(min / scale); symmetric scale = max|x| / ((qmax - qmin) / 2), zero_point 0.
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise TypeError(f"x must be a floating-point tensor, got {type(x).__name__}")
    qmin, qmax = int_range(bits, symmetric)
    if x.numel() == 0:
        raise ValueError(f"x is empty (shape {tuple(x.shape)}); there is no range to quantize")
    bad = ~torch.isfinite(x)
    if bad.any():
        raise ValueError(
            f"x contains {int(bad.sum())} NaN or inf values (of {x.numel()}); a scale "
            "and zero-point need a finite range: fix the values first (e.g. "
            "torch.nan_to_num(x)) or find where they came from"
        )
    if dim is not None and not -x.dim() <= dim < x.dim():
        raise ValueError(f"dim must be in [-{x.dim()}, {x.dim() - 1}] for a {x.dim()}-d tensor, got {dim}")
    others = None if dim is None else [d for d in range(x.dim()) if d != dim % x.dim()]
    if dim is None:
        lo, hi = x.min(), x.max()
    else:  # (amin over an empty list of dims would reduce over all of them)
        lo, hi = (x.amin(others, keepdim=True), x.amax(others, keepdim=True)) if others else (x, x)
    lo, hi = lo.float().clamp(max=0), hi.float().clamp(min=0)  # zero must be exactly representable
    eps = torch.finfo(torch.float32).eps
    if symmetric:
        scale = (torch.maximum(-lo, hi) / ((qmax - qmin) / 2)).clamp(min=eps)
        return scale, torch.zeros_like(scale, dtype=torch.int64)
    scale = ((hi - lo) / (qmax - qmin)).clamp(min=eps)
    zero_point = (qmin - torch.round(lo / scale)).clamp(qmin, qmax).to(torch.int64)
    return scale, zero_point


def quantize_affine(x: torch.Tensor, scale, zero_point, bits: int = 8, symmetric: bool = False):
    """Integers q = clamp(round(x / scale) + zero_point, qmin, qmax), as int64."""
    qmin, qmax = int_range(bits, symmetric)
    scale = torch.as_tensor(scale, dtype=torch.float32)
    if not torch.isfinite(scale).all() or (scale <= 0).any():
        bad = scale[~torch.isfinite(scale) | (scale <= 0)].flatten()[0].item()
        raise ValueError(f"scale must be finite and > 0, got {bad}; affine_qparams(x) computes one from the data")
    zp = torch.as_tensor(zero_point)
    if zp.is_floating_point() and not torch.isfinite(zp).all():
        raise ValueError(f"zero_point must be finite, got {zp.flatten()[~torch.isfinite(zp.flatten())][0].item()}")
    if ((zp < qmin) | (zp > qmax)).any():
        raise ValueError(
            f"zero_point must lie in the integer range [{qmin}, {qmax}] of {bits}-bit "
            f"{'symmetric' if symmetric else 'asymmetric'} quantization, got "
            f"{zp.item() if zp.numel() == 1 else (zp.min().item(), zp.max().item())}"
        )
    # Multiply by 1/scale as PyTorch's kernels do (x / scale can round the other way at exact ties).
    return (torch.round(x.float() * (1.0 / scale)) + torch.as_tensor(zero_point)).clamp(qmin, qmax).to(torch.int64)


def dequantize_affine(q: torch.Tensor, scale, zero_point) -> torch.Tensor:
    """Back to floats: (q - zero_point) * scale."""
    return (q - torch.as_tensor(zero_point)).float() * torch.as_tensor(scale, dtype=torch.float32)


def round_trip(x: torch.Tensor, bits: int = 8, symmetric: bool = False, dim: int | None = None) -> dict:
    """Quantize and dequantize x: dict(q, scale, zero_point, x_hat, max_error, mean_error)."""
    scale, zero_point = affine_qparams(x, bits, symmetric, dim)
    q = quantize_affine(x, scale, zero_point, bits, symmetric)
    x_hat = dequantize_affine(q, scale, zero_point)
    error = (x.float() - x_hat).abs()
    return {
        "q": q,
        "scale": scale,
        "zero_point": zero_point,
        "x_hat": x_hat,
        "max_error": error.max().item(),
        "mean_error": error.mean().item(),
    }


# --- Dynamic int8 for CPU inference -----------------------------------------------------------


def _matches(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _check_cpu_float(model: nn.Module) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        if t.device.type != "cpu":
            raise ValueError(
                f"dynamic int8 quantization runs on the CPU only, but {name} is on "
                f"{t.device}; quantize a CPU copy (model.to('cpu')), or on a GPU use "
                "bf16 (model.to(torch.bfloat16)) or 8/4-bit weight loading instead"
            )
        if t.is_floating_point() and t.dtype != torch.float32:
            raise ValueError(
                f"dynamic int8 quantization needs float32 weights, but {name} is "
                f"{t.dtype}; convert first with model.float()"
            )


def linear_names(model: nn.Module) -> list[str]:
    """Names of the model's nn.Linear layers (the ones dynamic quantization converts)."""
    return [n for n, m in model.named_modules() if type(m) is nn.Linear]


def quantize_dynamic_int8(
    model: nn.Module, include=None, keep_fp32=(), per_channel: bool = True, embeddings: bool = False
) -> nn.Module:
    """An int8 copy of `model` for CPU inference: nn.Linear layers under `include` (default all), minus `keep_fp32`.

    embeddings=True also stores the word embeddings in int8 (weight-only, one scale per row): smaller
    on disk, no faster (a lookup has no matmul), dequantized row by row when looked up.
    """
    _check_cpu_float(model)
    if isinstance(include, str) or isinstance(keep_fp32, str):
        raise TypeError("include and keep_fp32 take lists of module names, e.g. ['bert.encoder.layer.0']")
    if layout(model):
        raise ValueError(f"model is already quantized ({next(iter(layout(model)))}); quantize the float32 model")
    linears = linear_names(model)
    if not linears:
        kinds = sorted({type(m).__name__ for m in model.modules()})[:6]
        raise ValueError(
            f"model has no nn.Linear layer (it has {', '.join(kinds)}); dynamic int8 "
            "quantization converts nn.Linear only"
        )
    for prefix in list(include or []) + list(keep_fp32):
        if not any(_matches(n, [prefix]) for n in linears):
            raise ValueError(
                f"{prefix!r} names no nn.Linear layer of the model (embeddings and "
                f"LayerNorms are not Linear; see embeddings=True); valid names look like "
                f"{linears[0]!r} or {linears[0].rsplit('.', 1)[0]!r}"
            )
    chosen = [n for n in linears if (include is None or _matches(n, include)) and not _matches(n, keep_fp32)]
    if not chosen:
        raise ValueError("include/keep_fp32 leave no nn.Linear layer to quantize")
    out = _convert(copy.deepcopy(model).eval(), chosen, "per_channel" if per_channel else "per_tensor")
    if embeddings:
        hf: Any = out  # a transformers model: its methods are not nn.Module's
        table = hf.get_input_embeddings() if hasattr(hf, "get_input_embeddings") else None
        if type(table) is not nn.Embedding:
            raise ValueError(
                "embeddings=True needs a transformers model whose get_input_embeddings() "
                "is an nn.Embedding; use embeddings=False"
            )
        _convert(out, [n for n, m in out.named_modules() if m is table], "embedding")
    return out


def _convert(model: nn.Module, names: list[str], scheme: str) -> nn.Module:
    """Swap the named layers for int8 ones in place (torch.ao dynamic / weight-only quantization)."""
    import torch.ao.quantization as tq

    qconfig = getattr(tq, _QCONFIGS[scheme])
    dtype = torch.quint8 if scheme == "embedding" else torch.qint8
    return tq.quantize_dynamic(model, {n: qconfig for n in names}, dtype=dtype, inplace=True)


def _is_int8(module: nn.Module) -> bool:
    return hasattr(module, "_packed_params") and callable(getattr(module, "weight", None))


def layout(model: nn.Module) -> dict[str, str]:
    """Which layers of a quantized model are int8, and how: name -> per_channel/per_tensor/embedding."""
    out = {}
    for name, m in model.named_modules():
        if _is_int8(m):
            scheme = m.weight().qscheme()
            out[name] = (
                "embedding"
                if scheme == torch.per_channel_affine_float_qparams
                else "per_channel"
                if scheme in (torch.per_channel_affine, torch.per_channel_symmetric)
                else "per_tensor"
            )
    return out


def count_weights(model: nn.Module) -> int:
    """Number of weights, int8-packed ones included (count_parameters sees only float nn.Parameters)."""
    total = benchmark.count_parameters(model)
    for m in model.modules():
        if _is_int8(m):
            packed: Any = m  # a packed int8 layer: weight() and bias() are methods
            bias = packed.bias() if callable(getattr(packed, "bias", None)) else None
            total += packed.weight().numel() + (bias.numel() if bias is not None else 0)
    return total


def save_quantized(model: nn.Module, path) -> Path:
    """Save a quantize_dynamic_int8 model (config + int8 layout + state dict) in one file, atomically."""
    scheme = layout(model)
    if not scheme:
        raise ValueError("model has no int8 layer; quantize it first with quantize_dynamic_int8(model)")
    if not hasattr(model, "config"):
        raise TypeError(f"save_quantized needs a transformers model (with .config), got {type(model).__name__}")
    payload = {
        "class": type(model).__name__,
        "config": cast(Any, model).config.to_dict(),
        "layout": scheme,
        "state_dict": model.state_dict(),
    }
    return cache.atomic_save(payload, path, record=True)  # size + sha256 beside it, checked by load_quantized


def load_quantized(path) -> nn.Module:
    """Rebuild the float model from its config, quantize the same layers the same way, load the int8 weights."""
    import transformers

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no quantized model at {path}; write one with save_quantized(model, path)")
    problem = cache.file_problem(path)  # size and sha256, where they were recorded when it was saved
    if problem:
        raise ValueError(f"{path} is damaged ({problem}); delete it and save the model again with save_quantized")
    try:
        with warnings.catch_warnings():  # torch's own unpickler of int8 tensors uses TypedStorage
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
            payload = torch.load(path, weights_only=True)  # a pickle that would run code is refused
        if not isinstance(payload, dict) or not {"class", "config", "layout", "state_dict"} <= set(payload):
            raise ValueError("not a dict with class, config, layout and state_dict")
    except Exception as err:  # damaged, truncated, unsafe or foreign: say which file and what to do
        reason = (str(err).strip().splitlines() or [""])[0][:160]
        raise ValueError(
            f"{path} is damaged or not a file written by save_quantized "
            f"({type(err).__name__}: {reason}); delete it and save the model again with "
            "save_quantized(model, path)"
        ) from None
    cls = getattr(transformers, payload["class"], None)
    if cls is None:
        raise ValueError(f"{payload['class']!r} is not a transformers model class")
    model = cls(cls.config_class.from_dict(payload["config"])).eval()
    for scheme in _QCONFIGS:
        names = [n for n, v in payload["layout"].items() if v == scheme]
        if names:
            _convert(model, names, scheme)
    model.load_state_dict(payload["state_dict"], strict=True)
    return model


# --- GPU side: bf16 needs nothing; 8/4-bit weight loading needs bitsandbytes ------------------


def kbit_loading_available() -> tuple[bool, str]:
    """(available, why not): 8/4-bit weight loading needs a CUDA GPU and the bitsandbytes package."""
    import importlib.util

    if not torch.cuda.is_available():
        return False, "no CUDA GPU here (bitsandbytes' 8/4-bit kernels run on the GPU)"
    if importlib.util.find_spec("bitsandbytes") is None:
        return False, "bitsandbytes is not installed (pip install bitsandbytes)"
    return True, "CUDA GPU and bitsandbytes found"


# --- Which layers can take int8? --------------------------------------------------------------


def layer_groups(model: nn.Module) -> dict[str, list[str]]:
    """Layer groups to quantize one at a time: each transformer block, then the Linear layers after them."""
    from .students import layer_path

    path = layer_path(model)
    blocks = {f"block {i}": [f"{path}.{i}"] for i in range(len(cast(nn.ModuleList, model.get_submodule(path))))}
    rest = [n for n in linear_names(model) if not _matches(n, [path])]
    if rest:
        prefix = getattr(model, "base_model_prefix", "") + "."
        blocks[" + ".join(n[len(prefix) :] if n.startswith(prefix) else n for n in rest)] = rest
    return blocks


def sensitivity(
    model: nn.Module,
    dataset,
    tokenizer,
    groups: dict[str, list[str]],
    batch_size: int = 128,
    per_channel: bool = True,
    base_logits=None,
) -> dict[str, dict]:
    """Quantize each group alone; per group: accuracy, delta (points vs fp32), flips (changed predictions)."""
    from .training import predict_logits

    labels = torch.tensor(list(dataset["label"]))
    base = predict_logits(model, dataset, tokenizer, batch_size) if base_logits is None else base_logits
    if base.shape[0] != len(labels):
        raise ValueError(
            f"base_logits has {base.shape[0]} rows but the dataset {len(labels)}; compute "
            "them on this dataset (training.predict_logits)"
        )
    base_acc = (base.argmax(-1) == labels).float().mean().item()
    out = {}
    for name, prefixes in groups.items():
        logits = predict_logits(
            quantize_dynamic_int8(model, include=prefixes, per_channel=per_channel), dataset, tokenizer, batch_size
        )
        acc = (logits.argmax(-1) == labels).float().mean().item()
        out[name] = {
            "accuracy": acc,
            "delta": 100 * (acc - base_acc),
            "flips": int((logits.argmax(-1) != base.argmax(-1)).sum()),
            "logit_change": (logits - base).abs().mean().item(),
        }
    return out
