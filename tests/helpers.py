"""Helpers the test files import (`from helpers import tiny_bert`); fixtures live in conftest.py.

Not collected by pytest (no `test_` prefix).
"""


def tiny_bert(layers=2, hidden=16, vocab=99, positions=64, head=True, seed=0, sure=1.0):
    """A tiny random BERT for fast tests: a 2-label classifier (head=True) or the bare encoder; `sure`
    scales the classifier so a teacher can be confident. Test files import it (`from helpers import
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
