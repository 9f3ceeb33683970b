"""A quick real teacher: a logistic-regression head on frozen, mean-pooled encoder embeddings.

Lessons 01-02 need a teacher's soft outputs before any fine-tuning is taught. `fit_probe` trains a
linear head (torch, full batch) on `profile.probe_size` training snippets embedded by the frozen
pretrained encoder, and caches the head under cache_dir()/probe-<profile>-<seed>-<key>.pt, the key a
hash of every setting (and of the snippets) that changes the head.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from . import assets, cache, corpus
from .profiles import check_device

PROBE_STEPS = 300  # full-batch Adam steps; the loss is convex, this converges on every profile
PROBE_LR = 0.05
PROBE_L2 = 0.01  # L2 penalty on the weights: keeps the probe's probabilities calibrated, not 0/1
EVAL_CAP = 500  # validation snippets used to report the probe's accuracy
PROBE_RECIPE = 2  # bump when the probe's training changes, so cached heads are retrained


@dataclass
class Probe:
    """Frozen encoder + trained linear head (+ its tokenizer and the max_length it embeds at)."""

    encoder: nn.Module
    head: nn.Linear
    tokenizer: object
    max_length: int
    info: dict = field(default_factory=dict)

    def logits(self, texts, batch_size: int = 128) -> torch.Tensor:
        """(len(texts), 2) logits of the probe (rotten, fresh) for raw review texts."""
        return probe_logits(self, texts, batch_size=batch_size)


@torch.no_grad()
def embed(texts, encoder, tokenizer, max_length: int = 64, batch_size: int = 128) -> torch.Tensor:
    """Mean-pooled last hidden states over real tokens (padding masked), (len(texts), hidden)."""
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, got one string; wrap it: [text]")
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty; give at least one review")
    encoder.eval()
    device = next(encoder.parameters()).device
    out = []
    for i in range(0, len(texts), batch_size):
        batch = tokenizer(
            texts[i : i + batch_size], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
        ).to(device)
        hidden = encoder(**batch).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
        out.append(((hidden * mask).sum(1) / mask.sum(1)).float().cpu())
    return torch.cat(out)


def train_head(
    features: torch.Tensor,
    labels: torch.Tensor,
    steps: int = PROBE_STEPS,
    lr: float = PROBE_LR,
    l2: float = PROBE_L2,
    num_labels: int = 2,
) -> nn.Linear:
    """L2-regularised logistic regression (zero-initialised nn.Linear), full-batch Adam; deterministic."""
    head = nn.Linear(features.shape[1], num_labels)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    opt = torch.optim.Adam(head.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (F.cross_entropy(head(features), labels) + l2 * head.weight.pow(2).sum()).backward()
        opt.step()
    return head.eval()


def probe_path(profile, seed: int = 0, data=None):
    """Where the probe head is cached: keyed on every setting that changes it (and on `data`, if given)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    settings = {
        "teacher": profile.teacher,
        "dataset": profile.dataset,
        "probe_size": profile.probe_size,
        "max_length": profile.max_length,
        "train_size": profile.train_size,
        "eval_size": profile.eval_size,
        "seed": seed,
        "steps": PROBE_STEPS,
        "lr": PROBE_LR,
        "l2": PROBE_L2,
        "eval_cap": EVAL_CAP,
        "recipe": PROBE_RECIPE,
    }
    if data is not None:  # the exact snippets and labels the head is trained and scored on
        rows = [
            data[split].select(range(min(n, len(data[split]))))
            for split, n in (("train", profile.probe_size), ("validation", EVAL_CAP))
        ]
        settings["data"] = cache.rows_fingerprint(*([list(r["text"]), list(r["label"])] for r in rows))
    return cache.cache_path(f"probe-{profile.name}-{seed}-{cache.key(settings)}.pt")


def fit_probe(profile, seed: int = 0, data=None, verbose: bool = False) -> Probe:
    """Frozen profile.teacher encoder + a head trained on profile.probe_size train snippets (cached)."""
    encoder = assets.load_encoder(profile.teacher).to(check_device(profile.device))
    tokenizer = assets.load_tokenizer(profile.teacher)
    data = data if data is not None else corpus.load_task_data(profile, seed=seed)
    path = probe_path(profile, seed, data)
    if path.is_file():
        saved = cache.load_cached(path)  # weights_only; None (rebuilt below) if damaged
        try:
            head = nn.Linear(*saved["shape"])
            head.load_state_dict(saved["state_dict"])
            return Probe(encoder, head.eval(), tokenizer, profile.max_length, dict(saved["meta"]))
        except (TypeError, KeyError, ValueError, RuntimeError) as err:
            if saved is not None:
                print(
                    f"kdcourse: cache file {path} is not a probe head ({type(err).__name__}); rebuilding it",
                    file=sys.stderr,
                    flush=True,
                )
    cache.check_writable(path.parent)
    train = data["train"].select(range(min(profile.probe_size, len(data["train"]))))
    val = data["validation"].select(range(min(EVAL_CAP, len(data["validation"]))))
    if verbose:
        print(f"embedding {len(train)} + {len(val)} snippets with the frozen {profile.teacher} ...")
    x_train = embed(train["text"], encoder, tokenizer, profile.max_length)
    head = train_head(x_train, torch.tensor(train["label"]))
    with torch.no_grad():
        x_val = embed(val["text"], encoder, tokenizer, profile.max_length)
        val_acc = (head(x_val).argmax(-1) == torch.tensor(val["label"])).float().mean().item()
        train_acc = (head(x_train).argmax(-1) == torch.tensor(train["label"])).float().mean().item()
    info = {
        "teacher": profile.teacher,
        "max_length": profile.max_length,
        "train_size": len(train),
        "eval_size": len(val),
        "eval_accuracy": val_acc,
        "train_accuracy": train_acc,
        "steps": PROBE_STEPS,
        "l2": PROBE_L2,
    }
    cache.atomic_save(
        {"shape": (head.in_features, head.out_features), "state_dict": head.state_dict(), "meta": info}, path
    )
    return Probe(encoder, head, tokenizer, profile.max_length, info)


@torch.no_grad()
def probe_logits(probe: Probe, texts, batch_size: int = 128) -> torch.Tensor:
    """The probe teacher's (len(texts), 2) logits for raw texts (rotten, fresh)."""
    features = embed(texts, probe.encoder, probe.tokenizer, probe.max_length, batch_size)
    return probe.head(features.to(probe.head.weight.device))
