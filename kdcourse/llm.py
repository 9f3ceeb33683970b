"""Distilling a causal LM: a depth-pruned student, teacher samples, cached top-k logits, metrics, a KD loop.

The student keeps some of the teacher's decoder layers with their weights (DistilBERT's initialisation,
and the first step of Minitron / Sheared-LLaMA); data are the teacher's own samples (sequence-level KD)
and its next-token distributions, cached as top-k log-probabilities (token-level KD).
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import tempfile
from functools import partial
from unittest import mock

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .assets import cache_dir, load_causal_lm
from .losses import IGNORE_INDEX, token_kd_loss

LOSSES = ("ce", "forward", "reverse", "jsd")  # "ce": plain next-token cross-entropy on the text


def load_teacher(source: str = "smollm2", device: str = "cpu"):
    """(model, tokenizer) of the teacher LM in eval mode on `device`; a pad token is set if it has none."""
    import transformers.modeling_gguf_pytorch_utils as gguf

    # transformers draws its own tqdm bar while dequantising a GGUF file (not switched off by
    # transformers' disable_progress_bar); 272 ticks in a few seconds tell a student nothing.
    with mock.patch.object(gguf, "tqdm", partial(tqdm, disable=True)):
        model, tokenizer = load_causal_lm(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer


def decoder_layers(model) -> nn.ModuleList:
    """The list of decoder blocks of a causal LM (e.g. model.model.layers for Llama)."""
    base = getattr(model, getattr(model, "base_model_prefix", ""), model)
    layers = getattr(base, "layers", None)
    if not isinstance(layers, nn.ModuleList):
        raise TypeError(f"{type(model).__name__} has no decoder layer list at .{model.base_model_prefix}"
                        ".layers; prune_layers supports Llama-style causal LMs (Llama, Mistral, Qwen2)")
    return layers


def evenly_spaced(n_layers: int, keep: int) -> list[int]:
    """`keep` of `n_layers` layer indices, evenly spread, always with the first and the last."""
    if not isinstance(keep, int) or not 1 <= keep <= n_layers:
        raise ValueError(f"keep must be an int in [1, {n_layers}], got {keep!r}")
    if keep == 1:
        return [0]
    return sorted({round(i * (n_layers - 1) / (keep - 1)) for i in range(keep)})


def prune_layers(model, keep):
    """A new, shallower copy of a decoder LM: embeddings, the kept layers, final norm and lm_head copied."""
    n = len(decoder_layers(model))
    if isinstance(keep, int):
        keep = evenly_spaced(n, keep)
    keep = list(keep)
    if not keep or any(not isinstance(i, int) or not 0 <= i < n for i in keep) \
            or keep != sorted(set(keep)):
        raise ValueError(f"keep must be an int or a sorted list of distinct layer indices in "
                         f"[0, {n}), got {keep!r}")
    config = model.config.__class__.from_dict(model.config.to_dict())
    config.num_hidden_layers = len(keep)
    if isinstance(getattr(config, "layer_types", None), list):  # per-layer attention types
        config.layer_types = [config.layer_types[i] for i in keep]
    if hasattr(config, "quantization_config"):  # the student is a plain float model
        del config.quantization_config
    student = type(model)(config).to(dtype=model.dtype, device=model.device)
    rename = {f"layers.{old}.": f"layers.{new}." for new, old in enumerate(keep)}
    state = {}
    for name, tensor in model.state_dict().items():
        if ".layers." not in name:
            state[name] = tensor
            continue
        head, rest = name.split(".layers.", 1)
        old = "layers." + rest.split(".", 1)[0] + "."
        if old in rename:
            state[head + "." + rename[old] + rest.split(".", 1)[1]] = tensor
    student.load_state_dict(state, strict=True)  # copies: the student owns its tensors
    for new, layer in enumerate(decoder_layers(student)):  # the KV cache indexes layers by layer_idx
        for module in layer.modules():
            if hasattr(module, "layer_idx"):
                module.layer_idx = new
    student.generation_config = copy.deepcopy(model.generation_config)
    return student.train(model.training)


# --- Data: teacher samples (sequence-level KD) and batches -------------------------------------

def review_prompts(texts, words: int = 6) -> list[str]:
    """The first `words` words of each text: openings for the teacher to continue."""
    return [" ".join(str(t).split()[:words]) for t in texts]


def _fingerprint(model) -> str:
    emb = model.get_input_embeddings().weight
    parts = [model.config.to_json_string(), str(sum(p.numel() for p in model.parameters())),
             f"{float(emb[:64].double().sum()):.6e}"]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@torch.no_grad()
def teacher_samples(model, tokenizer, prompts, max_new_tokens: int, seed: int = 0,
                    batch_size: int = 32, temperature: float = 1.0, cache: bool = True) -> list[str]:
    """Prompt + sampled continuation for every prompt, cached atomically under cache_dir()/llm_samples."""
    prompts = [str(p) for p in prompts]
    if not prompts or max_new_tokens <= 0:
        raise ValueError(f"need at least one prompt and max_new_tokens > 0, got {len(prompts)} "
                         f"prompts and max_new_tokens={max_new_tokens}")
    # Sampling on a GPU draws other random numbers than on a CPU: the device is part of the key.
    key = json.dumps([_fingerprint(model), model.device.type, prompts, max_new_tokens, seed, batch_size,
                      temperature])
    path = cache_dir() / "llm_samples" / (hashlib.sha256(key.encode()).hexdigest()[:20] + ".json")
    if cache and path.is_file():
        return json.loads(path.read_text())
    texts = []
    torch.manual_seed(seed)
    for start in tqdm(range(0, len(prompts), batch_size), desc="teacher samples"):
        enc = tokenizer(prompts[start:start + batch_size], return_tensors="pt", padding=True,
                        padding_side="left").to(model.device)
        out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=True,
                             temperature=temperature, top_k=0, top_p=1.0,
                             pad_token_id=tokenizer.pad_token_id)
        texts += tokenizer.batch_decode(out, skip_special_tokens=True)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(texts, f)
        os.replace(tmp, path)  # atomic: readers see the whole file or none
    return texts


def make_batches(tokenizer, texts, batch_size: int = 8, max_length: int = 64) -> list[dict]:
    """Right-padded batches (input_ids, attention_mask) of the texts, in order."""
    texts = [str(t) for t in texts]
    return [dict(tokenizer(texts[i:i + batch_size], return_tensors="pt", padding=True,
                           padding_side="right", truncation=True, max_length=max_length))
            for i in range(0, len(texts), batch_size)]


# --- Teacher logits: top-k instead of the whole vocabulary -------------------------------------

@torch.no_grad()
def teacher_topk(model, batches, k: int = 64) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per batch, the teacher's k most likely next tokens: (log-probs float32, ids int32), (B, L, k)."""
    cached = []
    for batch in tqdm(batches, desc=f"teacher top-{k}"):
        logits = model(**{n: t.to(model.device) for n, t in batch.items()}).logits
        logp = F.log_softmax(logits.float(), -1)
        values, ids = logp.topk(k, dim=-1)
        cached.append((values.cpu(), ids.int().cpu()))
    return cached


def expand_topk(values: torch.Tensor, ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Full-vocabulary log-probs from top-k: exact on the k tokens, the rest of the mass spread evenly."""
    k = values.shape[-1]
    if vocab_size <= k:
        raise ValueError(f"vocab_size ({vocab_size}) must exceed k ({k})")
    rest = (1 - values.exp().sum(-1, keepdim=True)).clamp_min(1e-10) / (vocab_size - k)
    full = rest.log().expand(*values.shape[:-1], vocab_size).clone()
    return full.scatter_(-1, ids.long(), values)


# --- Metrics -----------------------------------------------------------------------------------

@torch.no_grad()
def evaluate_lm(model, batches, reference=None) -> dict:
    """Perplexity on the real next tokens; with `reference` (another model's predictions) top-1 agreement."""
    model.eval()
    nll, count, agree, predictions = 0.0, 0, 0, []
    for i, batch in enumerate(batches):
        ids, mask = batch["input_ids"].to(model.device), batch["attention_mask"].to(model.device)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        valid = mask[:, 1:].bool()
        nll += float(F.cross_entropy(logits[valid], ids[:, 1:][valid], reduction="sum"))
        count += int(valid.sum())
        pred = logits.argmax(-1).cpu()
        predictions.append(pred)
        if reference is not None:
            agree += int((pred == reference[i])[valid.cpu()].sum())
    return {"perplexity": math.exp(nll / count), "tokens": count,
            "agreement": agree / count if reference is not None else None, "predictions": predictions}


@torch.no_grad()
def greedy_continuations(model, tokenizer, prompts, max_new_tokens: int) -> list[str]:
    """The greedy continuation (without the prompt) of each prompt."""
    model.eval()
    enc = tokenizer(list(prompts), return_tensors="pt", padding=True, padding_side="left").to(model.device)
    out = model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                         pad_token_id=tokenizer.pad_token_id)
    return [t.strip() for t in tokenizer.batch_decode(out[:, enc["input_ids"].shape[1]:],
                                                      skip_special_tokens=True)]


# --- Training ----------------------------------------------------------------------------------

def lm_loss(student_logits, batch, loss: str = "ce", teacher_logits=None, temperature: float = 1.0,
            beta: float = 0.5, alpha: float = 1.0) -> torch.Tensor:
    """Next-token loss of (unshifted) student logits: CE on the text, or alpha·KD + (1-alpha)·CE."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    logits, target_mask = student_logits[:, :-1], batch["attention_mask"][:, 1:]
    labels = batch["input_ids"][:, 1:].masked_fill(target_mask == 0, IGNORE_INDEX)
    ce = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)
    if loss == "ce" or alpha == 0:
        return ce
    if teacher_logits is None:
        raise ValueError(f"loss={loss!r} needs teacher_logits (use loss='ce' for plain training)")
    kd = token_kd_loss(logits, teacher_logits[:, :-1], attention_mask=target_mask,
                       temperature=temperature, divergence=loss, beta=beta)
    return kd if alpha == 1 else alpha * kd + (1 - alpha) * ce


def train_lm_student(student, batches, loss: str = "ce", teacher_cache=None, steps: int = 60,
                     lr: float = 1e-4, temperature: float = 1.0, beta: float = 0.5, alpha: float = 1.0,
                     seed: int = 0, desc: str | None = None) -> list[float]:
    """Train `student` in place (AdamW, warm-up + linear decay) for `steps` batches; return the losses."""
    from transformers import get_linear_schedule_with_warmup

    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    if loss != "ce" and (teacher_cache is None or len(teacher_cache) != len(batches)):
        raise ValueError(f"loss={loss!r} needs teacher_cache, one teacher_topk entry per batch "
                         f"({len(batches)}); got {None if teacher_cache is None else len(teacher_cache)}")
    gen = torch.Generator().manual_seed(seed)
    order = []
    while len(order) < steps:  # every batch once per pass, passes reshuffled
        order += torch.randperm(len(batches), generator=gen).tolist()
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.0)
    schedule = get_linear_schedule_with_warmup(optimizer, max(1, steps // 10), steps)
    vocab = student.get_output_embeddings().out_features
    history = []
    student.train()
    for b in tqdm(order[:steps], desc=desc or f"student ({loss})"):
        batch = {n: t.to(student.device) for n, t in batches[b].items()}
        teacher = None
        if loss != "ce":
            values, ids = teacher_cache[b]
            teacher = expand_topk(values, ids, vocab).to(student.device)
        value = lm_loss(student(**batch).logits, batch, loss, teacher, temperature, beta, alpha)
        value.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        history.append(float(value.detach()))
    student.eval()
    return history
