"""Distilling a causal LM: a depth-pruned student, teacher samples, cached top-k logits, metrics, a KD loop.

The student keeps some of the teacher's decoder layers with their weights (DistilBERT's initialisation;
Minitron, NVIDIA 2024, also prunes a trained model and then distils it, choosing what to cut by measured
importance). Sheared-LLaMA (Xia et al., 2024) is a different route to a smaller LLM: it *learns* pruning
masks that reach a target shape (targeted structured pruning), then continues pre-training on ordinary
text with dynamic batch loading; it neither copies layers by a rule nor distils. Data here are the
teacher's own samples (sequence-level KD) and its next-token distributions, cached as top-k
log-probabilities (token-level KD). Text quality is judged on sets of `TEXT_SET` openings, with a 95%
interval over the sets (`quality_by_set`, `paired_interval`, `fluency`).
"""

from __future__ import annotations

import copy
import json
import math
import time

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import checks
from .assets import load_causal_lm
from .cache import (
    atomic_save,
    atomic_write_json,
    batches_fingerprint,
    cache_dir,
    file_ready,
    fingerprint,
    key,
    load_cached,
    loaded_model_fingerprint,
    once,
    weights_fingerprint,
)
from .losses import IGNORE_INDEX, token_kd_loss
from .stats import LEVEL, mean_interval

LOSSES = ("ce", "forward", "reverse", "jsd")  # "ce": plain next-token cross-entropy on the text


def load_teacher(source: str = "smollm2", device: str = "cpu"):
    """(model, tokenizer) of the teacher LM in eval mode on `device`; a pad token is set if it has none."""
    model, tokenizer = load_causal_lm(source)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device).eval(), tokenizer


def decoder_layers(model) -> nn.ModuleList:
    """The list of decoder blocks of a causal LM (e.g. model.model.layers for Llama)."""
    base = getattr(model, getattr(model, "base_model_prefix", ""), model)
    layers = getattr(base, "layers", None)
    if not isinstance(layers, nn.ModuleList):
        raise TypeError(
            f"{type(model).__name__} has no decoder layer list at .{model.base_model_prefix}"
            ".layers; prune_layers supports Llama-style causal LMs (Llama, Mistral, Qwen2)"
        )
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
    if not keep or any(not isinstance(i, int) or not 0 <= i < n for i in keep) or keep != sorted(set(keep)):
        raise ValueError(f"keep must be an int or a sorted list of distinct layer indices in [0, {n}), got {keep!r}")
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


# --- Which layers to drop: measured, not guessed ------------------------------------------------


# How far apart two hidden states point, from their cosine similarity, per token:
# "angle": the angular distance arccos(cos)/pi (0 same direction, 1 opposite), Gromov et al.'s measure;
# "1-cos": one minus the cosine similarity, ShortGPT's Block Influence when taken across one block.
MEASURES = {"angle": lambda cos: torch.arccos(cos) / math.pi, "1-cos": lambda cos: 1 - cos}


@torch.no_grad()
def layer_angles(model, batches, measure: str = "angle") -> torch.Tensor:
    """angles[i, j]: mean angle (0 to 1, in units of pi) between the hidden states entering block i and
    entering block j (j = number of blocks: leaving the last one), over the real tokens of `batches`.

    measure="1-cos" averages 1 - cos instead (0 to 2): across one block, [i, i + 1], that is ShortGPT's
    Block Influence. Both are monotone in the cosine token by token, but their means can rank two blocks
    differently."""
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    distance = MEASURES[measure]
    layers, states = decoder_layers(model), {}
    n = len(layers)

    def entering(index):
        def record(module, args, kwargs):
            states[index] = (args[0] if args else kwargs["hidden_states"]).float()

        return record

    def leaving(module, args, kwargs, output):
        states[n] = (output[0] if isinstance(output, tuple) else output).float()

    handles = [layer.register_forward_pre_hook(entering(i), with_kwargs=True) for i, layer in enumerate(layers)]
    handles.append(layers[-1].register_forward_hook(leaving, with_kwargs=True))
    totals, tokens = torch.zeros(n + 1, n + 1, dtype=torch.float64), 0
    model.eval()
    try:
        for batch in batches:
            real = batch["attention_mask"].bool().to(model.device)
            model(**{name: t.to(model.device) for name, t in batch.items()})
            unit = torch.stack([F.normalize(states[i][real], dim=-1) for i in range(n + 1)])  # (n+1, T, d)
            cos = torch.einsum("itd,jtd->ijt", unit, unit).clamp(-1, 1)
            totals += distance(cos).sum(-1).double().cpu()
            tokens += int(real.sum())
    finally:
        for handle in handles:
            handle.remove()
    if tokens == 0:
        raise ValueError("layer_angles needs at least one real token (attention_mask == 1) in batches")
    return totals / tokens


def block_importance(model, batches, measure: str = "angle") -> list[float]:
    """Per decoder block, the mean angle (0 to 1, in units of pi) between its input and output hidden states;
    measure="1-cos": ShortGPT's Block Influence, the mean of 1 - cos between them."""
    angles = layer_angles(model, batches, measure)
    return [float(angles[i, i + 1]) for i in range(len(angles) - 1)]


def contiguous_cut(angles: torch.Tensor, drop: int) -> list[int]:
    """The layers left after removing the `drop` consecutive blocks whose input and output (the hidden
    states entering the first and leaving the last) are closest in angle: the rule of Gromov et al. 2024."""
    return closest_spans(angles, drop, 1)[0]


def closest_spans(angles: torch.Tensor, drop: int, count: int) -> list[list[int]]:
    """The layers left by each of the `count` spans of `drop` consecutive blocks closest in angle, closest first."""
    n = len(angles) - 1
    if isinstance(drop, bool) or not isinstance(drop, int) or not 0 <= drop < n:
        raise ValueError(f"drop must be an int in [0, {n - 1}] for {n} layers, got {drop!r}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive int, got {count!r}")
    if drop == 0:
        return [list(range(n))]
    starts = sorted(range(n - drop + 1), key=lambda i: (float(angles[i, i + drop]), i))[:count]
    return [[i for i in range(n) if not start <= i < start + drop] for start in starts]


def keep_most_important(scores, drop: int) -> list[int]:
    """The layer indices left after dropping the `drop` blocks with the smallest scores (ShortGPT's rule;
    ShortGPT's score is the Block Influence, block_importance(..., measure="1-cos"))."""
    n = len(scores)
    if isinstance(drop, bool) or not isinstance(drop, int) or not 0 <= drop < n:
        raise ValueError(f"drop must be an int in [0, {n - 1}] for {n} layers, got {drop!r}")
    dropped = sorted(range(n), key=lambda i: (scores[i], i))[:drop]
    return [i for i in range(n) if i not in dropped]


# --- Data: teacher samples (sequence-level KD) and batches -------------------------------------


def review_prompts(texts, words: int = 6) -> list[str]:
    """The first `words` words of each text: openings for the teacher to continue."""
    return [" ".join(str(t).split()[:words]) for t in texts]


@torch.no_grad()
def teacher_samples(
    model,
    tokenizer,
    prompts,
    max_new_tokens: int,
    seed: int = 0,
    batch_size: int = 32,
    temperature: float = 1.0,
    top_p: float = 1.0,
    do_sample: bool = True,
    cache: bool = True,
) -> list[str]:
    """Prompt + continuation (sampled, nucleus with top_p < 1, or greedy with do_sample=False), cached atomically."""
    prompts = [str(p) for p in prompts]
    if not prompts or max_new_tokens <= 0:
        raise ValueError(
            f"need at least one prompt and max_new_tokens > 0, got {len(prompts)} "
            f"prompts and max_new_tokens={max_new_tokens}"
        )
    # Sampling on a GPU draws other random numbers than on a CPU: the device is part of the key.
    settings = [
        loaded_model_fingerprint(model),
        model.device.type,
        prompts,
        max_new_tokens,
        seed,
        batch_size,
        temperature,
    ]
    if not do_sample:
        settings.append("greedy")
    elif top_p != 1.0:
        settings.append({"top_p": top_p})
    sampling = (
        dict(do_sample=True, temperature=temperature, top_k=0, top_p=top_p) if do_sample else dict(do_sample=False)
    )

    def generate():
        texts = []
        torch.manual_seed(seed)
        for start in tqdm(range(0, len(prompts), batch_size), desc="teacher samples"):
            enc = tokenizer(prompts[start : start + batch_size], return_tensors="pt", padding=True, padding_side="left")
            enc = enc.to(model.device)
            out = model.generate(**enc, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **sampling)
            texts += tokenizer.batch_decode(out, skip_special_tokens=True)
        return texts

    return _texts_cached(settings, generate, cache)


def _texts_cached(settings, generate, cache: bool = True) -> list[str]:
    """generate()'s texts, cached atomically under a key of `settings` (loaded when present and as written)."""
    path = cache_dir() / "llm_samples" / (key(settings, 20) + ".json")
    if not cache:
        return generate()

    def load():  # present and as written (a damaged file is removed and redone)
        return json.loads(path.read_text()) if file_ready(path) else None

    return once(path, load, generate, lambda texts: atomic_write_json(texts, path))  # atomic: all or nothing


def make_batches(tokenizer, texts, batch_size: int = 8, max_length: int = 64) -> list[dict]:
    """Right-padded batches (input_ids, attention_mask) of the texts, in order."""
    checks.count("batch_size", batch_size)
    checks.count("max_length", max_length, 2)  # a next-token loss needs at least two positions
    texts = [str(t) for t in texts]
    return [
        dict(
            tokenizer(
                texts[i : i + batch_size],
                return_tensors="pt",
                padding=True,
                padding_side="right",
                truncation=True,
                max_length=max_length,
            )
        )
        for i in range(0, len(texts), batch_size)
    ]


def pack_texts(tokenizer, texts, batch_size: int = 8, seq_len: int = 64) -> list[dict]:
    """Texts joined by EOS and cut into full rows of `seq_len` tokens (no padding), `batch_size` rows a batch."""
    if batch_size <= 0 or seq_len <= 1:
        raise ValueError(f"batch_size must be > 0 and seq_len > 1, got {batch_size} and {seq_len}")
    ids = []
    for text in texts:
        ids += tokenizer(str(text), add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    rows = len(ids) // seq_len
    if rows < batch_size:
        raise ValueError(
            f"{len(ids):,} tokens fill {rows} rows of {seq_len}; need at least {batch_size} "
            "(pass more texts or a smaller batch_size/seq_len)"
        )
    table = torch.tensor(ids[: rows * seq_len]).view(rows, seq_len)
    return [
        {"input_ids": table[i : i + batch_size], "attention_mask": torch.ones_like(table[i : i + batch_size])}
        for i in range(0, rows - batch_size + 1, batch_size)
    ]


# --- Teacher logits: top-k instead of the whole vocabulary -------------------------------------


@torch.no_grad()
def teacher_topk(model, batches, k: int = 64, cache: bool = False) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Per batch, the teacher's k most likely next tokens: (log-probs float32, ids int32), (B, L, k).

    With cache=True the result is stored under cache_dir()/llm_topk, keyed by the teacher and the batches.
    """
    checks.count("k", k)
    path = cache_dir() / "llm_topk" / f"{fingerprint(weights_fingerprint(model), batches_fingerprint(batches), k)}.pt"

    def load():  # None: absent or damaged -> rebuild
        saved = load_cached(path) if path.is_file() else None
        return None if saved is None else [tuple(pair) for pair in saved]

    def teacher_pass():
        out = []
        model.eval()
        for batch in tqdm(batches, desc=f"teacher top-{k}"):
            logits = model(**{n: t.to(model.device) for n, t in batch.items()}).logits
            logp = F.log_softmax(logits.float(), -1)
            values, ids = logp.topk(k, dim=-1)
            out.append((values.cpu(), ids.int().cpu()))
        return out

    if not cache:
        return teacher_pass()
    return once(path, load, teacher_pass, lambda out: atomic_save(out, path))


def expand_topk(values: torch.Tensor, ids: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """Full-vocabulary log-probs from top-k: exact on the k tokens, the rest of the mass spread evenly."""
    k = values.shape[-1]
    if vocab_size <= k:
        raise ValueError(f"vocab_size ({vocab_size}) must exceed k ({k})")
    rest = (1 - values.exp().sum(-1, keepdim=True)).clamp_min(1e-10) / (vocab_size - k)
    full = rest.log().expand(*values.shape[:-1], vocab_size).clone()
    return full.scatter_(-1, ids.long(), values)


def topk_buckets(student_logits: torch.Tensor, values: torch.Tensor, ids: torch.Tensor):
    """(student, teacher) log-probs over k+1 outcomes: the teacher's k cached tokens, then "any other token".

    Both sum to 1, so any divergence between them is exact; it asks the student for the right mass on
    the other tokens without saying how to share it (expand_topk would say: evenly, garbage included).
    """
    if values.shape != ids.shape or values.shape[:-1] != student_logits.shape[:-1]:
        raise ValueError(
            f"values {tuple(values.shape)} and ids {tuple(ids.shape)} must be (..., k) with the "
            f"student logits' leading shape {tuple(student_logits.shape[:-1])}"
        )
    listed = F.log_softmax(student_logits.float(), -1).gather(-1, ids.long())
    values = values.to(listed.device, torch.float32)

    def with_rest(logp):  # append log(1 - sum p), floored so a student sure of the k tokens stays finite
        rest = (1 - logp.exp().sum(-1, keepdim=True)).clamp_min(1e-6)
        return torch.cat([logp, rest.log()], -1)

    return with_rest(listed), with_rest(values)


# --- Metrics -----------------------------------------------------------------------------------


@torch.no_grad()
def evaluate_lm(model, batches, reference=None) -> dict:
    """Perplexity on the real next tokens; with `reference` (another model's predictions) top-1 agreement.

    "per_text" holds each text's summed NLL and token count (and agreeing tokens), in batch order: what
    `compare_perplexity` resamples."""
    if not len(batches):
        raise ValueError("batches is empty: evaluate_lm needs at least one batch (llm.make_batches(tokenizer, texts))")
    model.eval()
    nll, count, agree, predictions = 0.0, 0, 0, []
    per_text: dict[str, list] = {"nll": [], "tokens": [], "agree": []}
    for i, batch in enumerate(batches):
        ids, mask = batch["input_ids"].to(model.device), batch["attention_mask"].to(model.device)
        logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
        valid = mask[:, 1:].bool()
        nll += float(F.cross_entropy(logits[valid], ids[:, 1:][valid], reduction="sum"))
        count += int(valid.sum())
        each = F.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none") * valid
        per_text["nll"] += each.sum(-1).double().cpu().tolist()
        per_text["tokens"] += valid.sum(-1).cpu().tolist()
        pred = logits.argmax(-1).cpu()
        predictions.append(pred)
        if reference is not None:
            same = (pred == reference[i]) & valid.cpu()
            agree += int(same.sum())
            per_text["agree"] += same.sum(-1).tolist()
    return {
        "perplexity": math.exp(nll / count),
        "tokens": count,
        "agreement": agree / count if reference is not None else None,
        "predictions": predictions,
        "per_text": per_text,
    }


def _texts(a: dict, b: dict, keys: tuple[str, ...]):
    """Per-text arrays of two evaluate_lm results on the same texts (texts without a scored token left out)."""
    import numpy as np

    ta, tb = a["per_text"], b["per_text"]
    if ta["tokens"] != tb["tokens"] or not ta["tokens"]:
        raise ValueError("a and b must be evaluate_lm results on the same batches (per-text token counts differ)")
    if any(len(t.get(k, [])) != len(ta["tokens"]) for t in (ta, tb) for k in keys):
        raise ValueError(f"a and b need per-text {', '.join(keys)} (agreement: evaluate_lm with a reference)")
    tokens = np.asarray(ta["tokens"], dtype=float)
    keep = tokens > 0  # a text of one token has no next token to score
    return [np.asarray(t[k], dtype=float)[keep] for k in keys for t in (ta, tb)] + [tokens[keep]]


def _bootstrap(data, statistic, level: float, resamples: int, seed: int):
    """Point value and percentile bootstrap interval of `statistic` over texts (paired: one draw for all)."""
    import numpy as np
    from scipy import stats

    result = stats.bootstrap(
        data,
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        confidence_level=level,
        method="percentile",
        random_state=np.random.default_rng(seed),
    )
    return float(statistic(*data)), float(result.confidence_interval.low), float(result.confidence_interval.high)


def compare_perplexity(a: dict, b: dict, level: float = LEVEL, resamples: int = 4000, seed: int = 0) -> dict:
    """b's perplexity over a's on the same texts (two `evaluate_lm` results), with a bootstrap interval over
    the texts (paired: a resampled text counts for both). {"ratio", "low", "high", "texts", "verdict"}:
    verdict 'lower' / 'higher' (b's perplexity than a's) or 'not decided' when the interval holds 1.

    The interval is for the sampling of these texts only: it does not cover another training seed."""
    nll_a, nll_b, tokens = _texts(a, b, ("nll",))

    def log_ratio(x, y, n, axis=-1):  # difference of mean NLL per token = log of the perplexity ratio
        return (y.sum(axis) - x.sum(axis)) / n.sum(axis)

    point, low, high = (math.exp(v) for v in _bootstrap((nll_a, nll_b, tokens), log_ratio, level, resamples, seed))
    verdict = "lower" if high < 1 else "higher" if low > 1 else "not decided"
    return {"ratio": point, "low": low, "high": high, "texts": len(tokens), "verdict": verdict}


def compare_agreement(a: dict, b: dict, level: float = LEVEL, resamples: int = 4000, seed: int = 0) -> dict:
    """b's top-1 agreement with the reference minus a's, in points, with a bootstrap interval over the texts
    (like compare_perplexity). {"difference", "low", "high", "texts", "verdict"} ('higher'/'lower'/'not decided')."""
    agree_a, agree_b, tokens = _texts(a, b, ("agree",))

    def points(x, y, n, axis=-1):
        return 100 * (y.sum(axis) - x.sum(axis)) / n.sum(axis)

    point, low, high = _bootstrap((agree_a, agree_b, tokens), points, level, resamples, seed)
    verdict = change_verdict({"low": low, "high": high})
    return {"difference": point, "low": low, "high": high, "texts": len(tokens), "verdict": verdict}


def greedy_continuations(
    model, tokenizer, prompts, max_new_tokens: int, batch_size: int = 32, cache: bool = True
) -> list[str]:
    """The greedy continuation (without the prompt) of each prompt, generated `batch_size` prompts at a time;
    cached (same weights, prompts and settings: the texts are loaded, so a rerun does not wait for them)."""
    prompts = [str(p) for p in prompts]
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    # Every weight is in the key (a healed student differs from its pruned start only in trained weights); so are
    # the torch version and thread count, which can flip a near-tie between two tokens.
    settings = [
        weights_fingerprint(model),
        model.device.type,
        prompts,
        max_new_tokens,
        batch_size,
        "continuations",
        torch.__version__,
        torch.get_num_threads(),
    ]

    @torch.no_grad()
    def generate():
        model.eval()
        texts = []
        for start in range(0, len(prompts), batch_size):
            enc = tokenizer(prompts[start : start + batch_size], return_tensors="pt", padding=True, padding_side="left")
            enc = enc.to(model.device)
            out = model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.pad_token_id
            )
            new = out[:, enc["input_ids"].shape[1] :]
            texts += [t.strip() for t in tokenizer.batch_decode(new, skip_special_tokens=True)]
        return texts

    return _texts_cached(settings, generate, cache)


def distinct_n(texts, n: int = 2) -> float:
    """Distinct-n: unique word n-grams / all word n-grams over the texts (1 = never repeats, near 0 = loops)."""
    checks.count("n", n)
    grams = [
        tuple(words[i : i + n]) for text in texts for words in [str(text).split()] for i in range(len(words) - n + 1)
    ]
    if not grams:
        raise ValueError(f"the texts have no word {n}-grams (all shorter than {n} words)")
    return len(set(grams)) / len(grams)


def repetition_rate(texts, n: int = 3) -> float:
    """Share of word n-grams that repeat an earlier n-gram of the same text (0 = no loops)."""
    repeats = total = 0
    for text in texts:
        words, seen = str(text).split(), set()
        for i in range(len(words) - n + 1):
            gram = tuple(words[i : i + n])
            repeats += gram in seen
            seen.add(gram)
            total += 1
    if not total:
        raise ValueError(f"the texts have no word {n}-grams (all shorter than {n} words)")
    return repeats / total


def text_quality(texts) -> dict:
    """distinct-2 and the 3-gram repetition rate of a list of generated texts."""
    return {"distinct_2": distinct_n(texts, 2), "repetition": repetition_rate(texts, 3)}


# --- Text quality with an interval: sets of openings ----------------------------------------------

TEXT_SET = 32  # openings per set: the course's fluency bar is read on the text of 32 openings
# The course bar for fluent greedy text, student minus teacher on the same openings: distinct-2 at most
# 0.15 below the teacher's, repetition at most 15 points above.
FLUENCY_BAR = {"distinct_2": ("at least", -0.15), "repetition": ("at most", 0.15)}


def quality_by_set(texts, set_size: int = TEXT_SET) -> list[dict]:
    """text_quality of each consecutive set of `set_size` texts: [{"distinct_2", "repetition"}, ...].

    distinct-2 counts a word pair as unique across the whole set, so it is not an average over texts and
    a bootstrap that draws the same text twice would count its pairs as repeats; disjoint sets of a fixed
    size keep the measure as defined, and their spread gives the interval (`paired_interval`)."""
    texts = list(texts)
    if isinstance(set_size, bool) or not isinstance(set_size, int) or set_size < 1:
        raise ValueError(f"set_size must be a positive int, got {set_size!r}")
    if not texts or len(texts) % set_size:
        raise ValueError(f"need a whole number of sets of {set_size} texts, got {len(texts)} texts")
    return [text_quality(texts[i : i + set_size]) for i in range(0, len(texts), set_size)]


def paired_interval(a_sets: list[dict], b_sets: list[dict], metric: str, level: float = LEVEL) -> dict:
    """b minus a on `metric`, set by set (the same openings), with the t-interval over the sets."""
    if len(a_sets) != len(b_sets) or not a_sets:
        raise ValueError(f"a_sets and b_sets must pair up set by set: got {len(a_sets)} and {len(b_sets)} sets")
    return mean_interval([b[metric] - a[metric] for a, b in zip(a_sets, b_sets)], level)


def bar_verdict(estimate: dict, side: str, bar: float) -> str:
    """'met', 'missed' or 'not decided' for a difference that must be `side` ('at least'/'at most') `bar`:
    decided only when the whole interval lies on one side of the bar."""
    if side not in ("at least", "at most"):
        raise ValueError(f"side must be 'at least' or 'at most', got {side!r}")
    low, high = estimate["low"], estimate["high"]
    if math.isnan(low) or math.isnan(high):
        return "not decided"
    if side == "at most":
        low, high, bar = -high, -low, -bar
    return "met" if low >= bar else "missed" if high < bar else "not decided"


def change_verdict(estimate: dict) -> str:
    """'higher', 'lower' or 'not decided': whether the interval of a difference excludes 0."""
    low, high = estimate["low"], estimate["high"]
    if math.isnan(low) or math.isnan(high) or low <= 0 <= high:
        return "not decided"
    return "higher" if low > 0 else "lower"


def fluency(student_sets: list[dict], teacher_sets: list[dict], bar: dict | None = None) -> dict:
    """The course's fluency bar, student against teacher on the same sets of openings, with intervals.

    Returns {metric: {"mean", "low", "high", "n", "side", "bar", "verdict"}, ..., "verdict": overall}; the
    overall verdict is 'met' when every part is met, 'missed' when any part is missed, else 'not decided'."""
    out: dict = {}
    for metric, (side, limit) in (bar or FLUENCY_BAR).items():
        estimate = paired_interval(teacher_sets, student_sets, metric)
        out[metric] = {**estimate, "side": side, "bar": limit, "verdict": bar_verdict(estimate, side, limit)}
    parts = [v["verdict"] for v in out.values()]
    out["verdict"] = "missed" if "missed" in parts else "met" if all(p == "met" for p in parts) else "not decided"
    return out


def mean_quality(sets: list[dict]) -> dict:
    """Each metric's mean over the sets, with its interval: {metric: {"mean", "low", "high", "n"}}."""
    return {metric: mean_interval([s[metric] for s in sets]) for metric in sets[0]}


# --- Training ----------------------------------------------------------------------------------


def lm_loss(
    student_logits,
    batch,
    loss: str = "ce",
    teacher_logits=None,
    temperature: float = 1.0,
    beta: float = 0.5,
    alpha: float = 1.0,
) -> torch.Tensor:
    """Next-token loss of (unshifted) student logits: CE on the text, or alpha·KD + (1-alpha)·CE.

    `teacher_logits`: full logits, or a top-k pair (values, ids) compared on k+1 outcomes (topk_buckets).
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    alpha = checks.unit("alpha", alpha)  # NaN fails the range check too
    logits, target_mask = student_logits[:, :-1], batch["attention_mask"][:, 1:]
    if not target_mask.any():
        raise ValueError(
            "no next token to predict: every position after the first is padding (attention_mask == 0); "
            "give texts of at least two tokens"
        )
    labels = batch["input_ids"][:, 1:].masked_fill(target_mask == 0, IGNORE_INDEX)
    ce = F.cross_entropy(logits.flatten(0, 1), labels.flatten(), ignore_index=IGNORE_INDEX)
    if loss == "ce" or alpha == 0:
        return ce
    if teacher_logits is None:
        raise ValueError(f"loss={loss!r} needs teacher_logits (use loss='ce' for plain training)")
    if isinstance(teacher_logits, (tuple, list)):
        if temperature != 1:
            raise ValueError(
                f"a top-k teacher holds log-probs at temperature 1, so it is compared at 1; got "
                f"temperature={temperature} (pass full teacher logits to use another)"
            )
        values, ids = teacher_logits
        logits, teacher = topk_buckets(logits, values[:, :-1], ids[:, :-1])
    else:
        teacher = teacher_logits[:, :-1]
    kd = token_kd_loss(logits, teacher, attention_mask=target_mask, temperature=temperature, divergence=loss, beta=beta)
    return kd if alpha == 1 else alpha * kd + (1 - alpha) * ce


TAILS = ("buckets", "even")  # how a top-k cache stands for the teacher: topk_buckets or expand_topk


def train_lm_student(
    student,
    batches,
    loss: str = "ce",
    teacher_cache=None,
    steps: int = 60,
    lr: float = 1e-4,
    temperature: float = 1.0,
    beta: float = 0.5,
    alpha: float = 1.0,
    seed: int = 0,
    desc: str | None = None,
    tail: str = "buckets",
) -> list[float]:
    """Train `student` in place (AdamW, warm-up + linear decay) for `steps` batches; return the losses.

    With a top-k teacher cache, tail="buckets" compares k+1 outcomes (topk_buckets); tail="even"
    compares full distributions with the teacher's missing mass spread evenly (expand_topk).
    """
    from transformers import get_linear_schedule_with_warmup

    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    if tail not in TAILS:
        raise ValueError(f"tail must be one of {', '.join(TAILS)}, got {tail!r}")
    checks.count("steps", steps)
    if not len(batches):
        raise ValueError("batches is empty: nothing to train on (llm.make_batches(tokenizer, texts))")
    if loss != "ce" and (teacher_cache is None or len(teacher_cache) != len(batches)):
        raise ValueError(
            f"loss={loss!r} needs teacher_cache, one teacher_topk entry per batch "
            f"({len(batches)}); got {None if teacher_cache is None else len(teacher_cache)}"
        )
    gen = torch.Generator().manual_seed(seed)
    order: list[int] = []
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
            values, ids = (t.to(student.device) for t in teacher_cache[b])
            teacher = (values, ids) if tail == "buckets" else expand_topk(values, ids, vocab)
        value = lm_loss(student(**batch).logits, batch, loss, teacher, temperature, beta, alpha)
        value.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        history.append(float(value.detach()))
    student.eval()
    return history


def _trained(student, key_parts, run) -> dict:
    """Load the weights `run()` would train into `student` from the cache, or run it and cache them."""
    key = fingerprint(weights_fingerprint(student), *key_parts, torch.__version__, torch.get_num_threads())
    path = cache_dir() / "llm_students" / f"{key}.pt"

    def load():
        saved = load_cached(path) if path.is_file() else None  # None: absent or damaged -> train again
        if saved is None:
            return None
        student.load_state_dict(saved["state"])
        student.eval()
        return {"history": saved["history"], "seconds": saved["seconds"], "cached": True}

    def train():
        start = time.perf_counter()
        history = run()
        return {"history": history, "seconds": time.perf_counter() - start, "cached": False}

    def save(done):
        atomic_save({"state": student.state_dict(), "history": done["history"], "seconds": done["seconds"]}, path)

    return once(path, load, train, save)


def train_cached(
    student,
    batches,
    loss: str = "forward",
    teacher_cache=None,
    steps: int = 60,
    lr: float = 1e-4,
    temperature: float = 1.0,
    beta: float = 0.5,
    alpha: float = 1.0,
    seed: int = 0,
    desc: str | None = None,
    tail: str = "buckets",
) -> dict:
    """train_lm_student with the result cached (same student, data and settings: the weights are loaded).

    Returns {"history": losses, "seconds": training time when it ran, "cached": whether it was loaded}.
    """
    settings = dict(
        loss=loss, steps=steps, lr=lr, temperature=temperature, beta=beta, alpha=alpha, seed=seed, tail=tail
    )
    topk = [] if teacher_cache is None else [t for pair in teacher_cache for t in pair]
    return _trained(
        student,
        [batches_fingerprint(batches), fingerprint(*topk), settings],
        lambda: train_lm_student(
            student,
            batches,
            loss,
            teacher_cache,
            steps=steps,
            lr=lr,
            temperature=temperature,
            beta=beta,
            alpha=alpha,
            seed=seed,
            desc=desc,
            tail=tail,
        ),
    )


# --- On-policy distillation: the student writes, the teacher grades -----------------------------


def on_policy_batch(student, tokenizer, prompts, max_new_tokens: int, temperature: float = 1.0) -> dict:
    """The student's sampled continuations: input_ids, attention_mask, and `target_mask` on generated tokens."""
    enc = tokenizer(list(prompts), return_tensors="pt", padding=True, padding_side="left").to(student.device)
    student.eval()
    with torch.no_grad():
        out = student.generate(
            **enc,
            max_new_tokens=max_new_tokens,
            do_sample=True,
            temperature=temperature,
            top_k=0,
            top_p=1.0,
            pad_token_id=tokenizer.pad_token_id,
        )
    prompt_len = enc["input_ids"].shape[1]
    generated = out[:, prompt_len:]
    # A continuation ends at its first EOS (kept as a target); what generate pads after it is not text.
    ended = (generated == tokenizer.eos_token_id).int().cumsum(-1)
    real = (ended == 0) | ((ended == 1) & (generated == tokenizer.eos_token_id))
    attention = torch.cat([enc["attention_mask"], real.long()], dim=1)
    target = torch.zeros_like(attention)
    target[:, prompt_len:] = real.long()
    return {"input_ids": out, "attention_mask": attention, "target_mask": target}


def train_on_policy(
    student,
    teacher,
    tokenizer,
    prompts,
    steps: int = 20,
    batch_size: int = 8,
    max_new_tokens: int = 32,
    lr: float = 1e-5,
    divergence: str = "jsd",
    beta: float = 0.5,
    seed: int = 0,
    desc: str = "on-policy",
) -> list[float]:
    """GKD-style on-policy KD: each step the student samples continuations, the teacher scores every token,
    and the student moves towards the teacher's distribution on its own text. Returns the losses."""
    prompts = [str(p) for p in prompts]
    if len(prompts) < batch_size:
        raise ValueError(f"need at least batch_size={batch_size} prompts, got {len(prompts)}")
    torch.manual_seed(seed)
    optimizer = torch.optim.AdamW(student.parameters(), lr=lr, weight_decay=0.0)
    history = []
    for step in tqdm(range(steps), desc=desc):
        first = (step * batch_size) % (len(prompts) - batch_size + 1)
        batch = on_policy_batch(student, tokenizer, prompts[first : first + batch_size], max_new_tokens)
        inputs = {"input_ids": batch["input_ids"], "attention_mask": batch["attention_mask"]}
        with torch.no_grad():
            teacher_logits = teacher(**{n: t.to(teacher.device) for n, t in inputs.items()}).logits
        student.train()
        logits = student(**inputs).logits
        value = token_kd_loss(
            logits[:, :-1],
            teacher_logits[:, :-1].to(logits.device),
            attention_mask=batch["target_mask"][:, 1:],
            divergence=divergence,
            beta=beta,
        )
        value.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        history.append(float(value.detach()))
    student.eval()
    return history


def on_policy_cached(student, teacher, tokenizer, prompts, **settings) -> dict:
    """train_on_policy with the result cached, like train_cached."""
    return _trained(
        student,
        [weights_fingerprint(teacher), [str(p) for p in prompts], settings, "on-policy"],
        lambda: train_on_policy(student, teacher, tokenizer, prompts, **settings),
    )
