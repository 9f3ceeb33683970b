"""Deployment: a classifier exported to ONNX, run by ONNX Runtime in float32 or dynamic int8, and timed.

`export_onnx` writes one self-contained .onnx file (inputs `input_ids` and `attention_mask`, output
`logits`, batch and length dynamic); `quantize_onnx` stores its weights as int8 (activations are
quantized on the fly, like torch.ao's dynamic int8, lesson 05); `session` opens it with a fixed number
of threads that do not spin between runs, so models timed in turn do not steal each other's CPU.
ONNX Runtime and the exporter are the course's `deploy` extra: `pip install onnxruntime onnx onnxscript`.
"""

from __future__ import annotations

import copy
import importlib.util
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import cache, checks
from .version import REF, REPO

INPUTS = ("input_ids", "attention_mask")
NEEDS = {"onnxruntime": "onnxruntime", "onnx": "onnx", "onnxscript": "onnxscript"}  # module -> pip name
# kdcourse is on no package index before its first release: the extra is named with the git URL at the tag.
INSTALL = (
    f'pip install onnxruntime onnx onnxscript  (or the course with its extra: pip install "kdcourse[deploy] @ '
    f'git+https://github.com/{REPO}@{REF}")'
)


def available() -> tuple[bool, str]:
    """(True, '') when ONNX Runtime and the exporter are installed, else (False, what is missing and the fix)."""
    missing = [pip for module, pip in NEEDS.items() if importlib.util.find_spec(module) is None]
    if missing:
        return False, f"missing {', '.join(missing)}; install with: {INSTALL}"
    return True, ""


def _require() -> None:
    ok, why = available()
    if not ok:
        raise ImportError(f"ONNX deployment needs ONNX Runtime and the exporter: {why}")


class _LogitsOnly(nn.Module):
    """(input_ids, attention_mask) -> logits: the two inputs a tokenizer gives and the one output we serve."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


def _check_classifier(model) -> None:
    """A sequence classifier: called on ids and a mask, it returns `.logits` of shape (batch, classes)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module sequence classifier, got {type(model).__name__}")
    ids = torch.ones(2, 5, dtype=torch.long, device=next(model.parameters()).device)
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            out = model(input_ids=ids, attention_mask=torch.ones_like(ids))
    except TypeError as err:
        raise TypeError(
            f"{type(model).__name__} does not take (input_ids, attention_mask): export a sequence "
            "classifier, e.g. AutoModelForSequenceClassification or students.WordCNN"
        ) from err
    finally:
        model.train(was_training)
    logits = getattr(out, "logits", None)
    if not isinstance(logits, torch.Tensor) or logits.dim() != 2:
        raise TypeError(
            f"{type(model).__name__} is not a sequence classifier: its output has no (batch, classes) "
            f".logits (got {type(out).__name__}); export e.g. AutoModelForSequenceClassification"
        )


def export_onnx(model: nn.Module, path, opset: int = 17) -> Path:
    """Write `model` (a sequence classifier, on the CPU, float32) to one .onnx file, atomically; return the path."""
    _require()
    _check_classifier(model)
    path = Path(path)
    model = copy.deepcopy(model).cpu().float().eval()  # the caller's model keeps its device, dtype and mode
    vocab = next((m.num_embeddings for m in model.modules() if isinstance(m, nn.Embedding)), 2)
    ids = torch.randint(1, vocab, (2, 16), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}, "logits": {0: "batch"}}
    with cache.atomic_file(path, suffix=".onnx") as tmp, warnings.catch_warnings():
        # The TorchScript exporter: its BERT graphs are the ones ONNX Runtime's optimizer knows how to fuse.
        warnings.simplefilter("ignore", (DeprecationWarning, FutureWarning, torch.jit.TracerWarning))
        # "aten::index ... if indices include negative values": ours never do (checked: ONNX logits = PyTorch's)
        warnings.filterwarnings("ignore", message="Exporting aten::index operator")
        # the CNN's masking slices with a step: the exporter keeps that op instead of folding it (no effect)
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1")
        torch.onnx.export(
            _LogitsOnly(model).eval(),  # the exporter restores the wrapper's mode after tracing: eval, not train
            (ids, mask),
            str(tmp),
            input_names=list(INPUTS),
            output_names=["logits"],
            dynamic_axes=axes,
            opset_version=opset,
            dynamo=False,
        )
    return path


def quantize_onnx(fp32_path, int8_path, op_types: tuple[str, ...] | None = None) -> Path:
    """Dynamic int8 of an exported model: weights stored in int8, activations quantized per batch.

    op_types: the ONNX operators to quantize (None: every kind ONNX Runtime can, convolutions included).
    """
    _require()
    from onnxruntime.quantization import QuantType, quantize_dynamic

    fp32_path, int8_path = Path(fp32_path), Path(int8_path)
    if not fp32_path.is_file():
        raise FileNotFoundError(f"no ONNX model at {fp32_path}; export one first with deploy.export_onnx")
    from onnxruntime.quantization.shape_inference import quant_pre_process

    int8_path.parent.mkdir(parents=True, exist_ok=True)
    # One publish: the int8 graph is renamed onto int8_path with its record; the preprocessed graph is a
    # scratch file in a temporary folder beside it, removed whatever happens (never renamed anywhere).
    with (
        tempfile.TemporaryDirectory(prefix=cache.temp_prefix(), dir=int8_path.parent) as scratch,
        cache.atomic_file(int8_path, suffix=".onnx") as tmp,
    ):
        pre = Path(scratch) / "pre.onnx"
        # graph simplified and shapes inferred, as ORT advises (its symbolic pass cannot follow a BERT mask)
        quant_pre_process(str(fp32_path), str(pre), skip_symbolic_shape=True)
        quantize_dynamic(
            str(pre), str(tmp), weight_type=QuantType.QInt8, op_types_to_quantize=list(op_types) if op_types else None
        )
    return int8_path


def session(path, threads: int = 2):
    """An ONNX Runtime CPU session with `threads` intra-op threads that sleep, not spin, between runs."""
    checks.count("threads", threads)
    _require()
    import onnxruntime as ort

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no ONNX model at {path}; export one first with deploy.export_onnx")
    problem = cache.file_problem(path)  # size and sha256, where they were recorded when it was written
    if problem:
        raise ValueError(
            f"{path} is damaged ({problem}); delete it and export it again with deploy.export_onnx "
            "(or deploy.quantize_onnx for an int8 file)"
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: the optimizer's notes are not for students
    try:
        sess = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as err:  # ORT's own errors (INVALID_PROTOBUF, ...) name neither the file nor the fix
        reason = (str(err).strip().splitlines() or [""])[0][:160]
        raise ValueError(
            f"{path} is not a model ONNX Runtime can load ({type(err).__name__}: {reason}); delete it "
            "and export it again with deploy.export_onnx"
        ) from None
    names = sorted(i.name for i in sess.get_inputs())
    if names != sorted(INPUTS):
        raise ValueError(
            f"{path.name} takes inputs {names}, but a tokenizer gives {list(INPUTS)}; export the model "
            "with deploy.export_onnx so its inputs match"
        )
    return sess


def onnx_logits(sess, batch) -> torch.Tensor:
    """Logits of an ONNX Runtime session on a tokenized batch (a dict with input_ids and attention_mask)."""
    feeds = {name: np.asarray(batch[name].cpu().numpy(), dtype=np.int64) for name in INPUTS}
    return torch.from_numpy(sess.run(["logits"], feeds)[0])


class OnnxClassifier(nn.Module):
    """An ONNX Runtime session called like a transformers classifier, `model(**batch).logits` (no parameters:
    the weights live in the session)."""

    def __init__(self, sess):
        super().__init__()
        self.session = sess

    def forward(self, input_ids, attention_mask=None, **unused):
        from transformers.modeling_outputs import SequenceClassifierOutput

        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        return SequenceClassifierOutput(logits=onnx_logits(self.session, feeds))


def file_mb(path) -> float:
    """Size of a file on disk, in MB."""
    return Path(path).stat().st_size / 1e6
