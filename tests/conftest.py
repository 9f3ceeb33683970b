"""Shared test setup: the real asset cache, fetched once per session."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def course():
    """The smoke profile after kdcourse.setup() (seeded, quiet)."""
    import kdcourse

    return kdcourse.setup(seed=0, profile="smoke", verbose=False)


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models gain nothing from threads, and on a busy 2-core machine two threads make them far slower."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_bert(layers=2, hidden=16, vocab=99, positions=64, head=True, seed=0, sure=1.0):
    """A tiny random BERT for fast tests: a 2-label classifier (head=True) or the bare encoder; `sure`
    scales the classifier so a teacher can be confident. Test files import it (`from conftest import
    tiny_bert`) and fix their own sizes with a one-line preset."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=positions,
        num_labels=2,
    )
    model = (BertForSequenceClassification if head else BertModel)(config)
    if sure != 1.0:
        with torch.no_grad():
            model.classifier.weight.mul_(sure)
    return model
