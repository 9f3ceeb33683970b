"""Lesson 07's static-embedding student: model2vec's table read through the teacher's token ids."""

import types

import numpy as np
import pytest
import torch

from kdcourse import assets
from kdcourse.students import StaticStudent


@pytest.fixture(scope="module")
def tokenizer():
    return assets.load_tokenizer("minilm")


def fake_static(tokenizer, dim=8, drop=("[unused0]",), normalize=False):
    """A stand-in for model2vec.StaticModel: vectors in its own id order (the teacher's, shifted), its vocab."""
    tokens = [t for t, _ in sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1]) if t not in drop]
    vocab = {t: i for i, t in enumerate(tokens)}
    vectors = np.random.default_rng(0).standard_normal((len(tokens), dim)).astype(np.float16)
    inner = types.SimpleNamespace(get_vocab=lambda: vocab)
    return types.SimpleNamespace(embedding=vectors, tokenizer=inner, normalize=normalize), vocab


def test_each_teacher_id_reads_the_vector_of_the_same_token_string(tokenizer):
    static, vocab = fake_static(tokenizer)
    student = StaticStudent.from_model2vec(static, tokenizer)
    good = tokenizer.convert_tokens_to_ids("good")
    assert torch.equal(student.embeddings.weight[good], torch.tensor(static.embedding[vocab["good"]]).float())
    assert student.embeddings.weight[tokenizer.convert_tokens_to_ids("[unused0]")].abs().sum() == 0
    assert not student.embeddings.weight.requires_grad  # the table stays model2vec's: only the head trains


def test_the_mean_leaves_out_special_tokens_and_padding(tokenizer):
    static, _ = fake_static(tokenizer)
    student = StaticStudent.from_model2vec(static, tokenizer)
    batch = tokenizer(["a fine film", "a fine film indeed"], padding=True, return_tensors="pt")
    pooled = student.pooled(batch["input_ids"], batch["attention_mask"])
    words = tokenizer.convert_tokens_to_ids(["a", "fine", "film"])
    assert torch.allclose(pooled[0], student.embeddings.weight[words].mean(0))


def test_word_order_is_lost(tokenizer):
    static, _ = fake_static(tokenizer, normalize=True)
    student = StaticStudent.from_model2vec(static, tokenizer).eval()
    a = tokenizer(["the plot is good, not bad"], return_tensors="pt")
    b = tokenizer(["the plot is bad, not good"], return_tensors="pt")
    assert torch.equal(student(**a).logits, student(**b).logits)
    assert torch.allclose(student.pooled(a["input_ids"]).norm(dim=-1), torch.ones(1))


def test_a_static_model_of_another_vocabulary_is_refused(tokenizer):
    static, _ = fake_static(tokenizer)
    static.tokenizer = types.SimpleNamespace(get_vocab=lambda: {"hello": 0, "world": 1})
    static.embedding = static.embedding[:2]
    with pytest.raises(ValueError, match="knows only 2 of the tokenizer's 30522 tokens"):
        StaticStudent.from_model2vec(static, tokenizer)


@pytest.mark.parametrize(
    "table, kwargs, message",
    [
        (torch.zeros(3), {}, r"table must be a 2-D tensor \(vocab, dim\), got \(3,\)"),
        (torch.zeros(4, 2), {"num_labels": 0}, "num_labels must be a positive int, got 0"),
        (torch.zeros(4, 2), {"special_ids": [7]}, r"special_ids must be token ids in \[0, 4\), got \[7\]"),
    ],
)
def test_bad_input_names_the_value(table, kwargs, message):
    with pytest.raises(ValueError, match=message):
        StaticStudent(table, **kwargs)


def test_model2vec_s_own_encode_agrees_with_the_student_s_mean(tokenizer):
    pytest.importorskip("model2vec")
    from model2vec.distill import distill_from_model
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)  # a tiny random encoder: this checks the plumbing, not the vectors' quality
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32
    )
    static = distill_from_model(BertModel(config).eval(), tokenizer, pca_dims=8, device="cpu")
    student = StaticStudent.from_model2vec(static, tokenizer)
    texts = ["a gorgeous, witty film", "it is not good , just long"]
    batch = tokenizer(texts, padding=True, return_tensors="pt")
    ours = student.pooled(batch["input_ids"], batch["attention_mask"])
    assert torch.allclose(ours, torch.tensor(static.encode(texts)).float(), atol=1e-3)
