"""Layer-copy students (DistilBERT initialisation) and random students, on tiny configs."""

import pytest
import torch
from helpers import tiny_bert as bert
from transformers import (
    BertConfig,
    DistilBertConfig,
    DistilBertForSequenceClassification,
    RobertaConfig,
    RobertaForSequenceClassification,
)

from kdcourse import students


def tiny_bert(n_layers, head=True, seed=0):
    return bert(n_layers, 16, 99, positions=40, head=head, seed=seed).eval()


def batch(vocab=99, n=3, length=7):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, vocab, (n, length), generator=g)
    mask = torch.ones_like(ids)
    mask[0, 4:] = 0
    return {"input_ids": ids, "attention_mask": mask}


@pytest.mark.parametrize("depth,layers", [(2, [1]), (4, [0, 3]), (6, [0, 2, 4]), (12, [0, 2, 4, 7, 9, 11])])
@pytest.mark.parametrize("head", [True, False])
def test_layers_copied_exactly(depth, layers, head):
    teacher = tiny_bert(depth, head)
    student = students.student_from_teacher(teacher, layers)
    assert type(student) is type(teacher)
    assert students.num_layers(student) == len(layers) == student.config.num_hidden_layers
    assert teacher.config.num_hidden_layers == depth  # the teacher's config is untouched
    t_layers = teacher.get_submodule(students.layer_path(teacher))
    s_layers = student.get_submodule(students.layer_path(student))
    for i, j in enumerate(layers):
        for (name, p_s), (_, p_t) in zip(s_layers[i].named_parameters(), t_layers[j].named_parameters()):
            assert torch.equal(p_s, p_t), (i, j, name)
            assert p_s.data_ptr() != p_t.data_ptr()  # a copy, not shared storage
    assert torch.equal(
        student.base_model.embeddings.word_embeddings.weight, teacher.base_model.embeddings.word_embeddings.weight
    )
    check = students.copied_weights_equal(student, teacher, layers)
    assert check["differ"] == [] and check["identical"] == check["tensors"] == len(student.state_dict())
    out = student(**batch())
    if head:
        assert out.logits.shape == (3, 2)
        assert torch.equal(student.classifier.weight, teacher.classifier.weight)
        assert torch.equal(student.bert.pooler.dense.weight, teacher.bert.pooler.dense.weight)
    else:
        assert out.last_hidden_state.shape == (3, 7, 16)


def test_all_layers_reproduces_the_teacher():
    teacher = tiny_bert(4)
    student = students.student_from_teacher(teacher, [0, 1, 2, 3]).eval()
    with torch.no_grad():
        assert torch.allclose(student(**batch()).logits, teacher(**batch()).logits)


def test_student_weights_are_independent_of_teacher():
    teacher = tiny_bert(4)
    student = students.student_from_teacher(teacher, [0, 2])
    with torch.no_grad():
        student.bert.encoder.layer[0].output.dense.weight.add_(1.0)
    assert not torch.equal(
        student.bert.encoder.layer[0].output.dense.weight, teacher.bert.encoder.layer[0].output.dense.weight
    )
    assert students.copied_weights_equal(student, teacher, [0, 2])["differ"] == [
        "bert.encoder.layer.0.output.dense.weight"
    ]


def test_distilbert_and_roberta():
    torch.manual_seed(0)
    d = DistilBertForSequenceClassification(
        DistilBertConfig(vocab_size=99, dim=16, n_layers=4, n_heads=2, hidden_dim=32, max_position_embeddings=40)
    )
    s = students.student_from_teacher(d, [1, 3])
    assert s.config.n_layers == 2 and students.layer_path(s) == "distilbert.transformer.layer"
    assert students.copied_weights_equal(s, d, [1, 3])["differ"] == []
    assert torch.equal(s.pre_classifier.weight, d.pre_classifier.weight)
    r = RobertaForSequenceClassification(
        RobertaConfig(
            vocab_size=99,
            hidden_size=16,
            num_hidden_layers=6,
            num_attention_heads=2,
            intermediate_size=32,
            max_position_embeddings=40,
        )
    )
    s = students.student_from_teacher(r, [0, 5])
    assert students.copied_weights_equal(s, r, [0, 5])["differ"] == []
    assert s(**batch()).logits.shape == (3, 2)


@pytest.mark.parametrize(
    "layers,error,match",
    [
        ([], ValueError, r"at least one"),
        ([0, 6], ValueError, r"layer 6 is out of range.*0 to 5"),
        ([-1, 2], ValueError, r"layer -1 is out of range"),
        ([0, 2, 2], ValueError, r"layer 2 appears twice.*\[0, 2\]"),
        ([4, 2, 0], ValueError, r"increasing order.*\[0, 2, 4\]"),
        ([0, 1.0], TypeError, r"ints"),
        ("024", TypeError, r"list of teacher layer indices"),
    ],
)
def test_invalid_layers_refused(layers, error, match):
    with pytest.raises(error, match=match):
        students.student_from_teacher(tiny_bert(6), layers)


def test_mismatched_config_refused():
    teacher = tiny_bert(4)
    wide = BertConfig(**{**teacher.config.to_dict(), "hidden_size": 32})
    with pytest.raises(ValueError, match=r"config.hidden_size is 32 but the teacher's is 16"):
        students.student_from_teacher(teacher, [0, 1], config=wide)
    calm = BertConfig(**{**teacher.config.to_dict(), "hidden_dropout_prob": 0.0})
    s = students.student_from_teacher(teacher, [0, 1], config=calm)
    assert s.config.hidden_dropout_prob == 0.0 and s.config.num_hidden_layers == 2
    with pytest.raises(TypeError, match="PreTrainedModel"):
        students.student_from_teacher(torch.nn.Linear(2, 2), [0])


def test_random_student_is_random_and_seeded():
    teacher = tiny_bert(6)
    a = students.random_student(teacher, 3, seed=1)
    b = students.random_student(teacher, 3, seed=1)
    c = students.random_student(teacher, 3, seed=2)
    assert students.num_layers(a) == 3 and type(a) is type(teacher)
    assert torch.equal(a.bert.encoder.layer[0].output.dense.weight, b.bert.encoder.layer[0].output.dense.weight)
    assert not torch.equal(a.bert.encoder.layer[0].output.dense.weight, c.bert.encoder.layer[0].output.dense.weight)
    assert not torch.equal(a.bert.embeddings.word_embeddings.weight, teacher.bert.embeddings.word_embeddings.weight)
    with pytest.raises(ValueError, match="n_layers must be a positive int, got 0"):
        students.random_student(teacher, 0)


def test_every_other_layer_and_describe():
    assert students.every_other_layer(12, 6) == [0, 2, 4, 7, 9, 11]  # DistilBERT's choice
    assert students.every_other_layer(6, 3) == [0, 2, 4]
    assert students.every_other_layer(6, 2) == [0, 5]
    assert students.every_other_layer(6, 1) == [0]
    with pytest.raises(ValueError, match="n_student"):
        students.every_other_layer(6, 7)
    teacher, student = tiny_bert(6), students.student_from_teacher(tiny_bert(6), [0, 2, 4])
    dt, ds = students.describe_student(teacher), students.describe_student(student)
    assert dt["embeddings"] == ds["embeddings"] and dt["head"] == ds["head"]
    assert dt["transformer_layers"] == 2 * ds["transformer_layers"]
    assert dt["params"] == sum(p.numel() for p in teacher.parameters())
