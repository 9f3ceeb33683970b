"""Students: smaller copies of a teacher encoder — DistilBERT's layer-copy initialisation, or random.

DistilBERT built its 6-layer student from BERT-base (12 layers) by keeping the same width and copying
one layer in two ([0, 2, 4, 7, 9, 11]), plus the embeddings. `student_from_teacher` does exactly that
for any BERT-family encoder (BERT, RoBERTa, DistilBERT; bare or with a classification head).

Layer lists must be non-empty, in range, without duplicates and **sorted**: each layer was trained on
the output of the layers below it, so reordering them gives a student that starts from a broken
network; we refuse that rather than guess.
"""

from __future__ import annotations

import copy
import numbers
import re

import torch
from torch import nn

from . import checks

# Where the list of transformer blocks lives, relative to the base model (BERT/RoBERTa, DistilBERT).
_LAYER_PATHS = ("encoder.layer", "transformer.layer")
# Config fields that fix the width: a student must share them with its teacher to copy weights.
WIDTH_FIELDS = (
    "model_type",
    "vocab_size",
    "hidden_size",
    "dim",
    "intermediate_size",
    "hidden_dim",
    "num_attention_heads",
    "n_heads",
    "max_position_embeddings",
    "type_vocab_size",
    "num_labels",
)


def _check_model(model, what: str = "teacher") -> None:
    from transformers import PreTrainedModel

    if not isinstance(model, PreTrainedModel):
        raise TypeError(
            f"{what} must be a transformers PreTrainedModel (e.g. BertModel or "
            f"BertForSequenceClassification), got {type(model).__name__}"
        )


def layer_path(model) -> str:
    """Dotted name of the model's list of transformer blocks, e.g. 'bert.encoder.layer'."""
    _check_model(model, "model")
    prefixes = [model.base_model_prefix + ".", ""]
    for prefix in prefixes:
        for path in _LAYER_PATHS:
            try:
                found = model.get_submodule(prefix + path)
            except AttributeError:
                continue
            if isinstance(found, nn.ModuleList):
                return prefix + path
    raise TypeError(
        f"{type(model).__name__} has no BERT-style list of layers (looked for "
        f"{', '.join(_LAYER_PATHS)}); student_from_teacher supports BERT, RoBERTa and "
        "DistilBERT encoders"
    )


def num_layers(model) -> int:
    """How many transformer blocks the model has."""
    path = layer_path(model)  # first: a TypeError naming the problem when `model` is not a model
    return len(model.get_submodule(path))


def check_layers(layers, n_teacher: int) -> list[int]:
    """Validate a teacher-layer list (non-empty, ints, in range, unique, sorted); return it as a list.

    Any sequence of integers works: a list, a tuple, a NumPy array or a 1-d integer tensor.
    """
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__") or getattr(layers, "ndim", 1) != 1:
        raise TypeError(f"layers must be a list of teacher layer indices, e.g. [0, 2, 4], got {layers!r}")
    n_teacher = checks.integer("n_teacher", n_teacher)
    layers = layers.tolist() if hasattr(layers, "tolist") else list(layers)
    if not layers:
        raise ValueError("layers must name at least one teacher layer, got []; e.g. layers=[0, 2, 4]")
    for i in layers:
        if isinstance(i, bool) or not isinstance(i, numbers.Integral):
            raise TypeError(f"layers must hold ints, got {i!r} in {layers}; e.g. layers=[0, 2, 4]")
    layers = [int(i) for i in layers]
    bad = [i for i in layers if not 0 <= i < n_teacher]
    if bad:
        raise ValueError(
            f"layer {bad[0]} is out of range: the teacher has {n_teacher} layers, so "
            f"indices run from 0 to {n_teacher - 1}; got layers={layers}"
        )
    if len(set(layers)) != len(layers):
        dup = next(i for i in layers if layers.count(i) > 1)
        raise ValueError(
            f"layer {dup} appears twice in layers={layers}; each teacher layer can be "
            f"copied once, e.g. layers={sorted(set(layers))}"
        )
    if layers != sorted(layers):
        raise ValueError(
            f"layers must be in increasing order, got {layers}; each layer expects the "
            f"output of the ones below it: use layers={sorted(layers)}"
        )
    return layers


def every_other_layer(n_teacher: int, n_student: int) -> list[int]:
    """DistilBERT's choice, generalised: n_student layers spread evenly, first and last kept."""
    n_teacher, n_student = checks.integer("n_teacher", n_teacher), checks.integer("n_student", n_student)
    if not 1 <= n_student <= n_teacher:
        raise ValueError(f"n_student must be between 1 and the teacher's {n_teacher} layers, got {n_student}")
    if n_student == 1:
        return [0]
    if 2 * n_student == n_teacher:  # exactly "one layer in two", as in the paper: 12 -> 6
        half = n_teacher // 2
        return list(range(0, half, 2)) + list(range(half + 1, n_teacher, 2))
    step = (n_teacher - 1) / (n_student - 1)
    return sorted({round(i * step) for i in range(n_student)})


def _student_config(teacher, n_layers: int, config=None):
    """The teacher's config with `n_layers` blocks; a given config must match the teacher's width."""
    if config is None:
        config = copy.deepcopy(teacher.config)
    else:
        config = copy.deepcopy(config)
        for field in WIDTH_FIELDS:
            want, got = getattr(teacher.config, field, None), getattr(config, field, None)
            if want != got:
                raise ValueError(
                    f"config.{field} is {got!r} but the teacher's is {want!r}; a "
                    "layer-copy student keeps the teacher's width: change only the "
                    "depth and dropout, or use config=None"
                )
    config.num_hidden_layers = n_layers  # DistilBertConfig maps this name to n_layers
    return config


def weight_map(student, teacher, layers) -> dict[str, str]:
    """Student state_dict key -> teacher key it is copied from (layer i <- teacher layer layers[i])."""
    path = layer_path(teacher)
    if layer_path(student) != path:
        raise TypeError(
            f"student ({type(student).__name__}) and teacher ({type(teacher).__name__}) "
            "differ in architecture; build the student with student_from_teacher"
        )
    pattern = re.compile(re.escape(path) + r"\.(\d+)\.")
    mapping = {}
    for key in student.state_dict():
        match = pattern.match(key)
        if match:
            i = int(match.group(1))
            key_t = f"{path}.{layers[i]}.{key[match.end() :]}"
        else:
            key_t = key
        mapping[key] = key_t
    return mapping


def student_from_teacher(teacher, layers, config=None):
    """A student with the teacher's width and only `layers` (sorted teacher indices), weights copied."""
    _check_model(teacher)
    layers = check_layers(layers, num_layers(teacher))
    student_config = _student_config(teacher, len(layers), config)
    student = type(teacher)(student_config)
    teacher_state = teacher.state_dict()
    mapping = weight_map(student, teacher, layers)
    missing = sorted(k for k, k_t in mapping.items() if k_t not in teacher_state)
    if missing:
        raise ValueError(
            f"the teacher has no weights for {missing[:3]}: student and teacher "
            "configs differ; pass config=None to copy the teacher's"
        )
    student.load_state_dict({k: teacher_state[k_t].clone() for k, k_t in mapping.items()}, strict=True)
    param = next(teacher.parameters())
    return student.to(device=param.device, dtype=param.dtype).train(teacher.training)


def copied_weights_equal(student, teacher, layers) -> dict:
    """Check every student tensor equals the teacher tensor it was copied from (torch.equal)."""
    teacher_state, student_state = teacher.state_dict(), student.state_dict()
    mapping = weight_map(student, teacher, check_layers(layers, num_layers(teacher)))
    differ = [k for k, k_t in mapping.items() if not torch.equal(student_state[k].cpu(), teacher_state[k_t].cpu())]
    return {"tensors": len(mapping), "identical": len(mapping) - len(differ), "differ": differ}


def random_student(teacher, n_layers: int, seed: int = 0):
    """The same architecture with `n_layers` blocks and RANDOM weights: a from-scratch baseline."""
    _check_model(teacher)
    if isinstance(n_layers, bool) or not isinstance(n_layers, numbers.Integral) or n_layers < 1:
        raise ValueError(f"n_layers must be a positive int, got {n_layers!r}")
    n_layers = int(n_layers)
    config = _student_config(teacher, n_layers)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        student = type(teacher)(config)
    param = next(teacher.parameters())
    return student.to(device=param.device, dtype=param.dtype)


def narrow_student(teacher, hidden_size: int, n_layers: int, seed: int = 0):
    """A thinner BERT-family student (`hidden_size` < the teacher's): random blocks, projected embeddings.

    No teacher layer fits a narrower model, so the blocks start random; the word and position tables
    start as the teacher's, projected onto their `hidden_size` main directions (PCA of the word table).
    """
    _check_model(teacher)
    width = teacher.config.hidden_size
    hidden_size, n_layers = checks.integer("hidden_size", hidden_size), checks.integer("n_layers", n_layers)
    if not 64 <= hidden_size < width or hidden_size % 64:
        raise ValueError(
            f"hidden_size must be a multiple of 64 (one attention head each), at least 64 and below the "
            f"teacher's {width}, got {hidden_size}; e.g. hidden_size={width // 2}"
        )
    if n_layers < 1:
        raise ValueError(f"n_layers must be a positive int, got {n_layers}")
    config = copy.deepcopy(teacher.config)
    config.hidden_size, config.num_hidden_layers = hidden_size, n_layers
    config.num_attention_heads, config.intermediate_size = hidden_size // 64, 4 * hidden_size
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        student = type(teacher)(config)
    source, target = teacher.base_model.embeddings, student.base_model.embeddings
    with torch.no_grad():
        words = source.word_embeddings.weight.float()
        mean = words.mean(0)
        directions = torch.linalg.svd(words - mean, full_matrices=False).Vh[:hidden_size].T  # (width, hidden)
        # word + position + type embeddings are summed, so one projection serves all three (centred once)
        target.word_embeddings.weight.copy_((words - mean) @ directions)
        target.position_embeddings.weight.copy_(source.position_embeddings.weight.float() @ directions)
        if hasattr(source, "token_type_embeddings"):
            target.token_type_embeddings.weight.copy_(source.token_type_embeddings.weight.float() @ directions)
    param = next(teacher.parameters())
    return student.to(device=param.device, dtype=param.dtype)


def describe_student(model) -> dict:
    """Parameter counts of a model by block: embeddings, transformer layers, the rest (pooler/head)."""
    _check_model(model, "model")
    total = sum(p.numel() for p in model.parameters())
    embeddings = sum(p.numel() for p in model.base_model.embeddings.parameters())
    blocks = model.get_submodule(layer_path(model))
    in_layers = sum(p.numel() for p in blocks.parameters())
    return {
        "layers": len(blocks),
        "hidden_size": model.config.hidden_size,
        "params": total,
        "embeddings": embeddings,
        "transformer_layers": in_layers,
        "head": total - embeddings - in_layers,
    }


# --- Students of another architecture (lesson 07) ------------------------------------------------


class WordCNN(nn.Module):
    """A convolutional text classifier (Kim 2014): embeddings, 1-D convolutions, max over time, a linear head.

    It takes the teacher's token ids and returns `.logits` like a transformers classifier, so the course's
    loops train it unchanged; `embeddings` may start from the teacher's word-piece table (`from_teacher`).
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 384,
        widths=(3, 4, 5),
        filters: int = 128,
        num_labels: int = 2,
        dropout: float = 0.5,
        pad_id: int = 0,
    ):
        super().__init__()
        for name, value in (
            ("vocab_size", vocab_size),
            ("embed_dim", embed_dim),
            ("filters", filters),
            ("num_labels", num_labels),
        ):
            checks.integer(name, value)
            if value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not widths or any(checks.integer("width", w) < 1 for w in widths):
            raise ValueError(f"widths must be a non-empty sequence of positive ints, got {widths!r}; e.g. (3, 4, 5)")
        if checks.integer("pad_id", pad_id) < 0 or pad_id >= vocab_size:
            raise ValueError(
                f"pad_id must be a token id in [0, {vocab_size}) (vocab_size {vocab_size}), got {pad_id!r}; "
                "use the tokenizer's pad_token_id"
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}; e.g. 0.5")
        self.widths = tuple(int(w) for w in widths)
        self.embeddings = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, filters, w, padding=w - 1) for w in self.widths)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(filters * len(self.widths), num_labels)

    @classmethod
    def from_teacher(cls, teacher, tokenizer, **kwargs) -> WordCNN:
        """A WordCNN whose embedding table is a copy of the teacher's word-piece embeddings (same vocabulary)."""
        _check_model(teacher)
        table = teacher.get_input_embeddings().weight
        if len(tokenizer) != table.shape[0]:
            raise ValueError(
                f"the tokenizer has {len(tokenizer)} tokens but the teacher's embedding table has "
                f"{table.shape[0]} rows: reuse the teacher's embeddings only with the teacher's own tokenizer"
            )
        student = cls(table.shape[0], table.shape[1], pad_id=tokenizer.pad_token_id or 0, **kwargs)
        with torch.no_grad():
            student.embeddings.weight.copy_(table)
        return student

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        """Logits (batch, num_labels), wrapped like a transformers classifier's output."""
        from transformers.modeling_outputs import SequenceClassifierOutput

        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        mask = attention_mask.to(self.embeddings.weight.dtype)
        x = (self.embeddings(input_ids) * mask[..., None]).transpose(1, 2)  # (batch, embed, tokens); padding 0
        pooled = []
        for conv, width in zip(self.convs, self.widths):
            h = torch.relu(conv(x))  # (batch, filters, tokens + width - 1): every window that touches the text
            # a window over padding alone must not win the max: 1 where the window holds a real token
            real = nn.functional.max_pool1d(nn.functional.pad(mask, (width - 1, width - 1))[:, None, :], width, 1)
            pooled.append(h.masked_fill(real == 0, 0.0).amax(dim=-1))
        logits = self.classifier(self.dropout(torch.cat(pooled, dim=-1)))
        return SequenceClassifierOutput(logits=logits)


class StaticStudent(nn.Module):
    """A static-embedding student: one fixed vector per token, their mean over the snippet, a linear head.

    The table usually comes from model2vec (`from_model2vec`), which distils a sentence encoder into one
    vector per vocabulary token. Word order is lost: "good, not bad" and "bad, not good" get one vector.
    Special tokens ([CLS], [SEP], padding) are left out of the mean, as model2vec leaves them out; with
    normalize=True the mean is scaled to unit length, as model2vec's `encode` does when its config says so.
    """

    def __init__(self, table: torch.Tensor, num_labels: int = 2, special_ids=(), normalize: bool = False):
        super().__init__()
        if not isinstance(table, torch.Tensor) or table.ndim != 2 or 0 in table.shape:
            got = tuple(table.shape) if isinstance(table, torch.Tensor) else type(table).__name__
            raise ValueError(f"table must be a 2-D tensor (vocab, dim), got {got}")
        if checks.integer("num_labels", num_labels) < 1:
            raise ValueError(f"num_labels must be a positive int, got {num_labels!r}")
        bad = [i for i in special_ids if not 0 <= checks.integer("special id", i) < table.shape[0]]
        if bad:
            raise ValueError(f"special_ids must be token ids in [0, {table.shape[0]}), got {bad}")
        self.embeddings = nn.Embedding.from_pretrained(table.detach().float().clone(), freeze=True)
        keep = torch.ones(table.shape[0])
        keep[list(special_ids)] = 0.0
        self.keep: torch.Tensor
        self.register_buffer("keep", keep)  # 1 for a token that counts in the mean
        self.normalize = bool(normalize)
        self.classifier = nn.Linear(table.shape[1], num_labels)

    @classmethod
    def from_model2vec(cls, static_model, tokenizer, **kwargs) -> StaticStudent:
        """A StaticStudent that reads `tokenizer`'s ids, each row the model2vec vector of the same token string."""
        vectors = torch.as_tensor(static_model.embedding).float()
        theirs = static_model.tokenizer.get_vocab()
        table = torch.zeros(len(tokenizer), vectors.shape[1])
        ours = tokenizer.get_vocab()
        found = [(i, theirs[token]) for token, i in ours.items() if token in theirs]
        if len(found) < 0.9 * len(ours):
            raise ValueError(
                f"the static model knows only {len(found)} of the tokenizer's {len(ours)} tokens: distil it "
                "from the teacher's own tokenizer (model2vec.distill on the teacher's checkpoint)"
            )
        rows, cols = zip(*found)
        table[list(rows)] = vectors[list(cols)]
        kwargs.setdefault("normalize", bool(getattr(static_model, "normalize", False)))
        return cls(table, special_ids=tokenizer.all_special_ids, **kwargs)

    def pooled(self, input_ids, attention_mask=None) -> torch.Tensor:
        """The mean of the snippet's token vectors (special tokens and padding left out): (batch, dim)."""
        weight = self.keep[input_ids]
        if attention_mask is not None:
            weight = weight * attention_mask.to(weight.dtype)
        mean = (self.embeddings(input_ids) * weight[..., None]).sum(dim=1) / weight.sum(dim=1, keepdim=True).clamp(
            min=1.0
        )
        return torch.nn.functional.normalize(mean, dim=-1) if self.normalize else mean

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None):
        """Logits (batch, num_labels), wrapped like a transformers classifier's output."""
        from transformers.modeling_outputs import SequenceClassifierOutput

        return SequenceClassifierOutput(logits=self.classifier(self.pooled(input_ids, attention_mask)))
