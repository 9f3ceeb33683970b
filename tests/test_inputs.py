"""Bad inputs to the LLM, loss, quantization and deployment helpers get one clear error naming the value and the
fix (issue 22, "Inputs checked"); before, each returned a wrong number, NaN, an empty list, or hung."""

import math
from pathlib import Path

import pytest
import torch

from kdcourse import llm, losses, quantize, students
from kdcourse.profiles import PROFILES


def _batch(mask_rows):
    mask = torch.tensor(mask_rows)
    return {"input_ids": torch.arange(mask.numel()).reshape(mask.shape) % 7, "attention_mask": mask}


LOGITS = torch.randn(2, 4, 7)


@pytest.mark.parametrize(
    "alpha, message",
    [(-0.5, r"alpha must be in \[0, 1\], got -0.5"), (1.5, "got 1.5"), (math.nan, "got nan"), ("0.5", "a number")],
)
def test_lm_loss_refuses_alpha_outside_0_1(alpha, message):
    """Before: -0.27, 4.3 and nan came back as losses."""
    teacher = torch.randn(2, 4, 7)
    with pytest.raises((ValueError, TypeError), match=message):
        llm.lm_loss(LOGITS, _batch([[1, 1, 1, 1], [1, 1, 1, 0]]), "forward", teacher, alpha=alpha)


def test_lm_loss_refuses_a_batch_with_no_next_token():
    """Before: nan (a mean over no tokens)."""
    with pytest.raises(ValueError, match="no next token to predict"):
        llm.lm_loss(LOGITS, _batch([[1, 0, 0, 0], [1, 0, 0, 0]]))
    assert torch.isfinite(llm.lm_loss(LOGITS, _batch([[1, 1, 0, 0], [1, 0, 0, 0]])))  # one target is enough


def test_train_lm_student_refuses_no_batches_and_no_steps():
    """Before: batches=[] hung forever (an endless shuffle of nothing); steps <= 0 returned []."""
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match="batches is empty"):
        llm.train_lm_student(model, [], steps=5)
    for steps, error in ((0, ValueError), (-3, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="steps must be"):
            llm.train_lm_student(model, [_batch([[1, 1]])], steps=steps)


@pytest.mark.parametrize("k", [0, -1, 2.0, None])
def test_teacher_topk_refuses_k_below_1(k):
    with pytest.raises((ValueError, TypeError), match="k must be"):
        llm.teacher_topk(torch.nn.Linear(2, 2), [], k=k)


def test_evaluate_lm_refuses_no_batches():
    """Before: ZeroDivisionError."""
    with pytest.raises(ValueError, match="batches is empty"):
        llm.evaluate_lm(torch.nn.Linear(2, 2), [])


@pytest.mark.parametrize("n", [0, -2, 1.5])
def test_distinct_n_refuses_n_below_1(n):
    with pytest.raises((ValueError, TypeError), match="n must be"):
        llm.distinct_n(["a b c d"], n=n)


@pytest.mark.parametrize("kwargs, message", [({"batch_size": 0}, "batch_size"), ({"max_length": 1}, "max_length")])
def test_make_batches_refuses_empty_batches(kwargs, message):
    with pytest.raises(ValueError, match=message):
        llm.make_batches(None, ["a text"], **kwargs)


def test_transfer_set_loss_refuses_an_empty_batch_and_bad_labels():
    """Before: an empty batch gave (0.0, 0.0); a list of labels or one of the wrong length gave a wrong loss or a
    deep indexing error."""
    s, t = torch.randn(3, 2), torch.randn(3, 2)
    with pytest.raises(ValueError, match="the batch is empty"):
        losses.transfer_set_loss(s[:0], t[:0], torch.tensor([], dtype=torch.long))
    with pytest.raises(TypeError, match=r"wrap a list with torch.tensor\(labels\)"):
        losses.transfer_set_loss(s, t, [0, 1, -100])
    with pytest.raises(ValueError, match=r"labels have shape \(2,\) but the batch has 3 rows"):
        losses.transfer_set_loss(s, t, torch.tensor([0, 1]))
    soft, hard = losses.transfer_set_loss(s, t, torch.tensor([0, 1, -100]))
    assert torch.isfinite(soft + hard)


@pytest.mark.parametrize(
    "scale, zero_point, message",
    [
        (math.nan, 0, "scale must be finite and > 0, got nan"),
        (math.inf, 0, "scale must be finite and > 0, got inf"),
        (0.0, 0, "got 0.0"),
        (0.1, 300, r"zero_point must lie in the integer range \[0, 255\] of 8-bit asymmetric quantization, got 300"),
        (0.1, math.nan, "zero_point must be finite"),
    ],
)
def test_quantize_affine_refuses_bad_scale_and_zero_point(scale, zero_point, message):
    """Before: NaN or inf scales and out-of-range zero points returned garbage integers."""
    with pytest.raises(ValueError, match=message):
        quantize.quantize_affine(torch.randn(4), scale, zero_point)


def test_quantize_affine_still_takes_per_channel_parameters():
    x = torch.randn(3, 4)
    scale, zero_point = quantize.affine_qparams(x, dim=0)
    q = quantize.quantize_affine(x, scale, zero_point)
    assert q.shape == x.shape


def test_training_arguments_refuses_a_zero_learning_rate(tmp_path):
    """Before: learning_rate=0 silently became the profile's rate (`learning_rate or profile.learning_rate`)."""
    from kdcourse import kd_trainer

    profile = PROFILES["smoke"]
    for lr in (0, -1e-5, math.nan, "1e-4"):
        with pytest.raises((TypeError, ValueError), match="learning_rate must be a number"):
            kd_trainer.training_arguments(str(tmp_path), profile, epochs=1, learning_rate=lr)
    args = kd_trainer.training_arguments(str(tmp_path), profile, epochs=1)
    assert args.learning_rate == profile.learning_rate


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"pad_id": 50}, r"pad_id must be a token id in \[0, 50\)"),
        ({"pad_id": -1}, "pad_id"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_word_cnn_refuses_a_pad_id_outside_the_vocabulary(kwargs, message):
    with pytest.raises(ValueError, match=message):
        students.WordCNN(50, embed_dim=8, filters=4, **kwargs)


@pytest.mark.parametrize("threads", ["2", 0, 1.5, True])
def test_onnx_session_refuses_bad_thread_counts(threads, tmp_path):
    from kdcourse import deploy

    with pytest.raises((TypeError, ValueError), match="threads must be (a whole number )?>= 1"):
        deploy.session(tmp_path / "model.onnx", threads=threads)


def test_vocab_check_names_a_missing_tokenizer():
    from kdcourse import vocab

    with pytest.raises(TypeError, match="teacher_tok must be a tokenizer"):
        vocab.check_vocab_compatibility(None, None)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"llm_seq_len": 1}, "llm_seq_len must be at least 2"),
        ({"llm_batch_size": True}, "llm_batch_size must be a positive int"),
        ({"llm_lr": math.inf}, "llm_lr must be a finite number > 0"),
        ({"llm_lr": True}, "llm_lr must be a finite number > 0"),
        ({"llm_curve": (3, True)}, "llm_curve must be a non-empty tuple"),
        ({"llm_curve": [3, 6]}, "llm_curve must be a non-empty tuple"),
        ({"llm_train_texts": False}, "llm_train_texts must be a positive int or None"),
    ],
)
def test_llm_profile_fields_are_validated(changes, message):
    """Before: inf, bools and a one-token sequence length were accepted."""
    with pytest.raises(ValueError, match=message):
        PROFILES["smoke"].replace(**changes)


def test_lesson_06_refuses_a_curve_deeper_than_the_teacher_before_any_work():
    from types import SimpleNamespace

    from kdcourse.lessons import l06

    teacher = SimpleNamespace(config=SimpleNamespace(num_hidden_layers=4))
    with pytest.raises(ValueError, match="llm_curve drops 6 blocks, but the teacher has 4: drop at most 3"):
        l06.run(PROFILES["smoke"].replace(llm_curve=(2, 6), llm_drop_layers=3), teacher=teacher, tokenizer=None)


def test_distill_refuses_a_profile_name_a_bad_seed_and_listed_logits():
    """Before: profile='smoke' failed deep inside with AttributeError; seed='a' reached torch; a list of logits
    was indexed row by row into a wrong shape."""
    from datasets import Dataset
    from test_reliability import tiny_bert, tokenized

    from kdcourse import training

    profile, data = PROFILES["smoke"], tokenized()
    with pytest.raises(TypeError, match="profile must be a Profile, got str 'smoke'"):
        training.distill(tiny_bert(), data, None, "smoke", alpha=0.0, progress=False)
    with pytest.raises(ValueError, match="seed must be a whole number >= 0, got 'a'"):
        training.distill(tiny_bert(), data, None, profile, alpha=0.0, seed="a", progress=False)
    with pytest.raises(TypeError, match="teacher_logits must be a torch.Tensor"):
        training.distill(tiny_bert(), data, None, profile, teacher_logits=[[0.0, 1.0]] * len(data), progress=False)
    assert isinstance(data, Dataset)


def test_llm_generation_checks_the_cache_before_it_starts(tmp_path, monkeypatch):
    """Before: teacher_samples and teacher_topk ran their generation (minutes in cpu), then failed with
    OSError [Errno 30] on save."""
    from kdcourse import cache

    (tmp_path / "file").write_text("not a folder")  # a file where the cache folder must be: unwritable, even as root
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "file" / "cache"))

    def never():
        raise AssertionError("generation started although its result could not be saved")

    with pytest.raises(PermissionError, match="KDCOURSE_CACHE"):
        llm._texts_cached({"what": "a test"}, never)
    monkeypatch.setattr(llm, "weights_fingerprint", lambda model: "w")
    monkeypatch.setattr(llm, "tqdm", lambda *a, **k: never())
    with pytest.raises(PermissionError, match="KDCOURSE_CACHE"):
        llm.teacher_topk(torch.nn.Linear(2, 2), [_batch([[1, 1]])], k=2, cache=True)


def test_saving_onto_a_folder_names_it_and_leaves_nothing_behind(tmp_path):
    """Before: save_quantized(model, <an existing folder>) raised a bare IsADirectoryError and left a stray .sha256
    in the parent folder."""
    from kdcourse import cache

    folder = tmp_path / "student"
    folder.mkdir()
    with pytest.raises(IsADirectoryError, match=r"student is a folder; give a file name inside it, e.g. .*model\.pt"):
        cache.atomic_save({"w": torch.ones(1)}, folder, record=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"] and not any(folder.iterdir())


def test_a_killed_onnx_quantization_leaves_no_fp32_graph_under_the_int8_name(tmp_path, monkeypatch):
    """Before: the preprocessed fp32 graph was published onto the int8 path first (with a valid record), so a kill
    between the two publishes left float32 weights under the int8 name."""
    pytest.importorskip("onnxruntime")
    import onnxruntime.quantization as ortq
    import onnxruntime.quantization.shape_inference as shapes

    from kdcourse import cache, deploy

    fp32 = tmp_path / "m.onnx"
    fp32.write_bytes(b"fp32 graph")
    monkeypatch.setattr(shapes, "quant_pre_process", lambda src, dst, **k: Path(dst).write_bytes(b"pre graph"))

    def killed(src, dst, **kwargs):
        assert Path(src).read_bytes() == b"pre graph"
        raise KeyboardInterrupt  # the process dies while quantizing

    monkeypatch.setattr(ortq, "quantize_dynamic", killed)
    with pytest.raises(KeyboardInterrupt):
        deploy.quantize_onnx(fp32, tmp_path / "m-int8.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"], "a partial file or record was left behind"
    monkeypatch.setattr(ortq, "quantize_dynamic", lambda src, dst, **k: Path(dst).write_bytes(b"int8 graph"))
    out = deploy.quantize_onnx(fp32, tmp_path / "m-int8.onnx")
    assert out.read_bytes() == b"int8 graph" and cache.file_problem(out) is None


def test_cache_files_follow_the_users_umask(tmp_path):
    """Before: every cache file was 0600 and every folder 0700 (mkstemp's and mkdtemp's modes), so a cache one
    account warmed could not be shared with another on a classroom machine."""
    import os

    from kdcourse import cache

    old = os.umask(0o022)
    try:
        saved = cache.atomic_save({"w": torch.ones(1)}, tmp_path / "w.pt", record=True)
        with cache.atomic_folder(tmp_path / "model") as folder:
            (folder / "config.json").write_text("{}")
    finally:
        os.umask(old)
    assert saved.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "w.pt.sha256").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "model").stat().st_mode & 0o777 == 0o755
