"""Lesson 06's vocabulary check: can token-level KD compare a teacher's and a student's logits as they are?

check_vocab_compatibility compares the two tokenizers (the same token at the same id, the special
tokens) and, given the models, their logit widths; its VocabReport is truthy when the logits can be
compared position by position, and otherwise names each problem with its fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class VocabReport:
    """Result of check_vocab_compatibility: truthy when token-level KD can compare the logits as they are."""

    ok: bool
    facts: dict
    problems: list = field(default_factory=list)

    def __bool__(self):
        return self.ok

    def __str__(self):
        lines = [f"{k}: {v}" for k, v in self.facts.items()]
        lines += (
            ["compatible: token-level KD can compare the logits position by position"]
            if self.ok
            else [f"PROBLEM {i + 1}: {p}" for i, p in enumerate(self.problems)]
        )
        return "\n".join(lines)


def check_vocab_compatibility(teacher_tok, student_tok, teacher_model=None, student_model=None) -> VocabReport:
    """Can token-level KD compare these two models' logits? Checks token ids, sizes; says what to do."""
    for name, tok in (("teacher_tok", teacher_tok), ("student_tok", student_tok)):
        if not callable(getattr(tok, "get_vocab", None)):
            raise TypeError(
                f"{name} must be a tokenizer (with get_vocab()), got {type(tok).__name__}; load one with "
                "kdcourse.assets.load_tokenizer or AutoTokenizer.from_pretrained"
            )
    t_vocab, s_vocab = teacher_tok.get_vocab(), student_tok.get_vocab()
    shared = sum(s_vocab.get(tok) == i for tok, i in t_vocab.items())
    facts = {
        "teacher tokenizer": f"{type(teacher_tok).__name__}, {len(teacher_tok):,} tokens",
        "student tokenizer": f"{type(student_tok).__name__}, {len(student_tok):,} tokens",
        "same token at the same id": f"{shared:,} of {len(t_vocab):,} teacher tokens",
    }
    problems = []
    if shared != len(t_vocab) or len(t_vocab) != len(s_vocab):
        problems.append(
            "the tokenizers differ, so logit i means a different token for each model: position-by-"
            "position KL is meaningless (and the two split a text into different positions). Use "
            "sequence-level KD (the student trains with its own tokenizer on the teacher's generated "
            "text), or a cross-tokenizer loss such as ULD (Boizard et al., 2024), or pick a student "
            "from the teacher's family"
        )
    for name, a, b in (
        ("pad", teacher_tok.pad_token_id, student_tok.pad_token_id),
        ("eos", teacher_tok.eos_token_id, student_tok.eos_token_id),
    ):
        if a != b:
            problems.append(
                f"{name} token ids differ (teacher {a}, student {b}): set the same special "
                "tokens on both tokenizers before building masks and labels"
            )
    widths = {}
    for who, model, tok in (("teacher", teacher_model, teacher_tok), ("student", student_model, student_tok)):
        if model is None:
            continue
        width = model.get_output_embeddings().out_features
        widths[who] = width
        facts[f"{who} logits width (config.vocab_size {model.config.vocab_size:,})"] = f"{width:,}"
        if width > len(tok):
            problems.append(
                f"the {who}'s logits have {width - len(tok):,} columns no token uses "
                f"(vocab_size {width:,} > len(tokenizer) {len(tok):,}, padding for speed): "
                f"slice logits[..., :{len(tok)}] before any softmax-based loss"
            )
        elif width < len(tok):
            problems.append(
                f"the {who}'s tokenizer has {len(tok) - width:,} tokens its model cannot "
                f"score (len(tokenizer) {len(tok):,} > vocab_size {width:,}): call "
                f"model.resize_token_embeddings({len(tok)}) and train the new rows"
            )
    if len(set(widths.values())) > 1:
        problems.append(
            f"logit widths differ ({widths['teacher']:,} vs {widths['student']:,}): the "
            "loss cannot compare them; slice both to the shared len(tokenizer)"
        )
    return VocabReport(not problems, facts, problems)
