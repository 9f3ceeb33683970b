"""Lesson 07's deployment path: export to ONNX, run with ONNX Runtime (fp32 and int8), and the clear errors;
the CNN and narrow students it deploys."""

import pytest
import torch
from helpers import tiny_bert

from kdcourse import benchmark, deploy, students, training

pytest.importorskip("onnxruntime", reason="ONNX Runtime is the deploy extra: pip install onnxruntime onnx onnxscript")


def small_bert(seed=0):
    return tiny_bert(vocab=99, seed=seed)


def batch(vocab=99, rows=3, tokens=11, pad_from=7):
    ids = torch.randint(1, vocab, (rows, tokens), generator=torch.Generator().manual_seed(1))
    mask = torch.ones_like(ids)
    mask[-1, pad_from:] = 0
    return {"input_ids": ids, "attention_mask": mask}


@pytest.mark.parametrize("make", [small_bert, lambda: students.WordCNN(99, 16, widths=(2, 3), filters=4)])
def test_exported_logits_match_pytorch_at_other_shapes_and_int8_runs(make, tmp_path, one_thread):
    model = make().eval()
    path = deploy.export_onnx(model, tmp_path / "m.onnx")
    assert model.training is False and not any(p.name.startswith(".tmp") for p in tmp_path.iterdir())
    sess = deploy.session(path, threads=1)
    for rows, tokens in ((1, 5), (3, 11), (4, 30)):  # batch and length differ from the export's (2, 16)
        inputs = batch(rows=rows, tokens=tokens, pad_from=tokens - 2)
        with torch.no_grad():
            want = model(**inputs).logits
        assert torch.allclose(deploy.onnx_logits(sess, inputs), want, atol=1e-4)
    int8 = deploy.quantize_onnx(path, tmp_path / "m-int8.onnx")
    assert deploy.file_mb(int8) < deploy.file_mb(path)
    out = deploy.OnnxClassifier(deploy.session(int8, threads=1))(**batch()).logits
    assert out.shape == (3, 2) and torch.isfinite(out).all()


def test_export_leaves_the_callers_model_as_it_was(tmp_path, one_thread):
    model = small_bert().train()
    deploy.export_onnx(model, tmp_path / "m.onnx")
    assert model.training is True  # exported in eval mode, on a copy


def test_export_refuses_a_model_that_is_not_a_sequence_classifier(tmp_path):
    with pytest.raises(TypeError, match="not a sequence classifier"):
        deploy.export_onnx(tiny_bert(head=False), tmp_path / "m.onnx")  # a bare encoder: no .logits
    with pytest.raises(TypeError, match="does not take \\(input_ids, attention_mask\\)"):
        deploy.export_onnx(torch.nn.Linear(3, 2), tmp_path / "m.onnx")


def test_a_session_refuses_a_file_whose_inputs_do_not_match_the_tokenizer(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["pixels"], ["logits"])],
        "image",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 2])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "image.onnx")
    with pytest.raises(ValueError, match="takes inputs \\['pixels'\\], but a tokenizer gives"):
        deploy.session(tmp_path / "image.onnx")
    with pytest.raises(FileNotFoundError, match="export one first"):
        deploy.session(tmp_path / "missing.onnx")


def test_an_onnx_classifier_is_scored_like_a_pytorch_model(tmp_path, one_thread):
    from datasets import Dataset

    from kdcourse import assets

    tokenizer = assets.load_tokenizer("minilm")
    model = tiny_bert(vocab=len(tokenizer)).eval()
    wrapped = deploy.OnnxClassifier(deploy.session(deploy.export_onnx(model, tmp_path / "m.onnx"), threads=1))
    texts = ["A quietly devastating film.", "Dull.", "Funny, sharp and far too short for its own good."]
    data = Dataset.from_dict({**tokenizer(texts), "label": [1, 0, 1]})
    assert list(wrapped.parameters()) == []  # the weights live in the session
    got = training.predict_logits(wrapped, data, tokenizer, batch_size=2)  # batched by length, padded
    assert torch.allclose(got, training.predict_logits(model, data, tokenizer, batch_size=2), atol=1e-4)


def test_cnn_student_ignores_padding_and_reuses_the_teachers_embeddings():
    cnn = students.WordCNN(99, 16, widths=(2, 3), filters=4).eval()
    short = {"input_ids": torch.tensor([[5, 6, 7]]), "attention_mask": torch.tensor([[1, 1, 1]])}
    padded = {"input_ids": torch.tensor([[5, 6, 7, 0, 0, 0]]), "attention_mask": torch.tensor([[1, 1, 1, 0, 0, 0]])}
    with torch.no_grad():
        assert torch.allclose(cnn(**short).logits, cnn(**padded).logits, atol=1e-6)
    teacher = tiny_bert(vocab=99)

    class Tok:
        pad_token_id = 0

        def __init__(self, n):
            self.n = n

        def __len__(self):
            return self.n

    student = students.WordCNN.from_teacher(teacher, Tok(99), widths=(2,), filters=3)
    assert torch.equal(student.embeddings.weight, teacher.get_input_embeddings().weight)
    with pytest.raises(ValueError, match="the tokenizer has 120 tokens but the teacher's embedding table has 99"):
        students.WordCNN.from_teacher(teacher, Tok(120))
    with pytest.raises(ValueError, match="widths must be a non-empty"):
        students.WordCNN(99, 16, widths=())


def test_narrow_student_is_narrower_and_starts_from_projected_embeddings():
    teacher = tiny_bert(hidden=128, vocab=99)
    narrow = students.narrow_student(teacher, 64, 1, seed=0)
    assert narrow.config.hidden_size == 64 and narrow.config.num_hidden_layers == 1
    assert narrow.config.num_attention_heads == 1 and narrow.config.intermediate_size == 256
    words = teacher.get_input_embeddings().weight
    centred = words - words.mean(0)
    kept = narrow.get_input_embeddings().weight.pow(2).sum() / centred.pow(2).sum()
    assert 0.5 < kept.item() <= 1.0 + 1e-5  # the top half of the directions hold most of the variance
    for bad, match in ((128, "below the teacher's 128"), (96, "multiple of 64"), (32, "at least 64")):
        with pytest.raises(ValueError, match=match):
            students.narrow_student(teacher, bad, 1)


def test_time_calls_interleaves_and_counts():
    order = []
    times = benchmark.time_calls(
        {"a": lambda i: order.append(("a", i)), "b": lambda i: order.append(("b", i))}, rounds=3, warmup=1
    )
    assert [len(t) for t in times.values()] == [3, 3]
    assert order[2:] == [("a", 0), ("b", 0), ("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    with pytest.raises(TypeError, match="non-empty dict of name -> callable"):
        benchmark.time_calls({}, rounds=1)
