"""Reliability probes of issue 15, each a test: unsafe loads, bad input, unclear errors, consistency,
the command line, the Makefile, cache keys, killed fetches, read-only caches. Tiny tensors and models."""

import os
import re
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from datasets import Dataset, DatasetDict
from helpers import tiny_bert as bert

from kdcourse import __main__ as cli
from kdcourse import assets, cache, probe, profiles, quantize, students, training
from kdcourse import losses as L
from kdcourse.kd_trainer import teacher_cache, triple_loss
from kdcourse.lessons import l04, l05
from kdcourse.profiles import PROFILES, Profile, get_profile

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tok():
    return assets.load_tokenizer("minilm")


@pytest.fixture(scope="module")
def profile():
    return get_profile("smoke").replace(batch_size=4, eval_batch_size=4, max_length=16)


def tiny_bert(seed=0, vocab=30522):
    return bert(2, 16, vocab, positions=32, seed=seed)


def tokenized(n=6, label=True):
    rows = {"input_ids": [[101] + [2000 + i] * (1 + i % 3) + [102] for i in range(n)]}
    rows["attention_mask"] = [[1] * len(ids) for ids in rows["input_ids"]]
    if label:
        rows["label"] = [i % 2 for i in range(n)]
    return Dataset.from_dict(rows)


# --- 1. Unsafe load ---------------------------------------------------------------------------


def test_every_torch_load_in_the_package_is_weights_only():
    for path in (ROOT / "kdcourse").glob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "torch.load(" in line:
                assert "weights_only=True" in line, f"{path.name}:{number}: {line.strip()}"


class _Planted:
    """Unpickling this would create a file: the proof that a cache file ran code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_planted_pickle_in_the_logit_cache_is_refused_and_rebuilt(tok, profile, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    teacher, data = tiny_bert(), tokenized()
    first = training.teacher_logits(teacher, data, tok, profile, cache_key="t")
    [path] = (tmp_path / "cache" / "logits").glob("*.pt")
    marker = tmp_path / "ran-code"
    torch.save(_Planted(marker), path)
    again = training.teacher_logits(teacher, data, tok, profile, cache_key="t")
    assert not marker.exists()  # refused by weights_only=True, never executed
    assert torch.equal(again, first)  # rebuilt from the teacher
    err = capsys.readouterr().err
    assert str(path) in err and "rebuilding it" in err
    assert torch.equal(torch.load(path, weights_only=True), first)  # the file is good again
    path.write_bytes(path.read_bytes()[:40])  # truncated: also rebuilt, with the notice
    assert torch.equal(training.teacher_logits(teacher, data, tok, profile, cache_key="t"), first)
    assert "damaged" in capsys.readouterr().err


def test_damaged_quantized_file_names_the_file_and_the_fix(tmp_path):
    bad = tmp_path / "model.pt"
    torch.save(_Planted(tmp_path / "ran-code"), bad)
    with pytest.raises(ValueError, match=r"model.pt is damaged .*save_quantized\(model, path\)"):
        quantize.load_quantized(bad)
    assert not (tmp_path / "ran-code").exists()


# --- 2. Silent wrong results on bad input -----------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: L.kd_loss(torch.zeros(0, 3), torch.zeros(0, 3)), r"empty batch, shape \(0, 3\)"),
        (
            lambda: L.distillation_loss(torch.zeros(0, 3), torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)),
            r"empty batch",
        ),
        (lambda: L.kd_loss(torch.zeros(4, 0), torch.zeros(4, 0)), r"shape \(4, 0\).*empty"),
        (
            lambda: L.distillation_loss(torch.zeros(4, 0), torch.zeros(4, 0), torch.zeros(4, dtype=torch.long)),
            r"shape \(4, 0\)",
        ),
        (lambda: L.kd_loss(torch.zeros(2, 3), torch.zeros(2, 3), 1e-45), r"between 0.0001 and 10000, got 1e-45"),
        (lambda: L.soft_targets(torch.zeros(2, 3), 1e9), r"between 0.0001 and 10000"),
        (lambda: L.token_kd_loss(torch.zeros(1, 2, 3), torch.zeros(1, 2, 3), temperature=1e-45), r"between"),
        (lambda: quantize.affine_qparams(torch.tensor([1.0, float("nan")])), r"1 NaN or inf"),
        (lambda: quantize.affine_qparams(torch.tensor([[1.0, float("inf")]]), dim=0), r"NaN or inf"),
        (lambda: quantize.affine_qparams(torch.zeros(0)), r"x is empty"),
        (
            lambda: triple_loss(torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), torch.zeros(0, 2)),
            r"triple_loss got an empty batch",
        ),
    ],
)
def test_bad_input_is_refused_instead_of_nan(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epochs=0), r"epochs must be a number > 0, got 0"),
        (dict(epochs=-1.5), r"epochs must be a number > 0, got -1.5"),
        (dict(max_steps=0), r"max_steps must be a positive int, got 0"),
        (dict(max_steps=2.5), r"max_steps must be a positive int, got 2.5"),
        (dict(learning_rate=-1), r"learning_rate must be a number > 0, got -1"),
    ],
)
def test_distill_refuses_non_positive_epochs_and_steps(profile, kwargs, message):
    with pytest.raises(ValueError, match=message):
        training.distill(tiny_bert(), tokenized(), None, profile, alpha=0.0, progress=False, **kwargs)


@pytest.mark.parametrize(
    "changes, message",
    [
        (dict(learning_rate=-1), r"learning_rate must be a number > 0, got -1"),
        (dict(teacher_epochs=-2), r"teacher_epochs must be a number > 0, got -2"),
        (dict(student_epochs=float("nan")), r"student_epochs must be a number > 0"),
        (dict(train_size=1.5), r"train_size must be a positive int or None .*got 1.5"),
        (dict(distil_train_size=True), r"distil_train_size must be a positive int"),
        (dict(batch_size=2.0), r"batch_size must be a positive int, got 2.0"),
        (dict(probe_size=0), r"probe_size must be a positive int, got 0"),
        (dict(seeds=()), r"seeds must be a non-empty tuple"),
        (dict(seeds=(0, -1)), r"seeds must be a non-empty tuple of ints >= 0"),
        (dict(label_fraction="0.2"), r"label_fraction must be a number > 0"),
        (dict(name="../../x"), r"profile name must be letters.*got '../../x'"),
        (dict(name="a/b"), r"profile name"),
    ],
)
def test_profile_fields_are_validated(changes, message):
    with pytest.raises(ValueError, match=message):
        PROFILES["smoke"].replace(**changes)


def test_profile_names_cannot_leave_the_cache(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="profile name"):
        Profile(name="../../x", summary="built directly")
    with pytest.raises(TypeError, match=r"no field 'bogus'"):
        PROFILES["smoke"].replace(bogus=1)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    for bad in ("..", "../x", "a/b", ""):
        with pytest.raises(ValueError, match="would leave the cache folder"):
            cache.cache_path("teachers", bad)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        training.teacher_dir(PROFILES["smoke"], seed="../x")
    ok = Profile(name="my-cpu.v2", summary="fine")
    assert training.teacher_dir(ok, 0).parent == tmp_path / "teachers"
    assert probe.probe_path(ok, 0).parent == tmp_path


# --- 3. Unclear errors -------------------------------------------------------------------------


def test_empty_datasets_get_a_clear_message(tok, profile):
    empty = tokenized(0)
    with pytest.raises(ValueError, match=r"dataset is empty \(0 examples\)"):
        training.predict_logits(tiny_bert(), empty, tok)
    with pytest.raises(ValueError, match=r"train_dataset is empty"):
        training.distill(tiny_bert(), empty, tok, profile, alpha=0.0, progress=False)
    with pytest.raises(ValueError, match=r"teacher_cache got an empty dataset"):
        teacher_cache(tiny_bert(), empty, tok)


def test_distill_names_missing_labels_and_bad_alpha(tok, profile):
    with pytest.raises(ValueError, match=r"train_dataset has no 'label' column"):
        training.distill(tiny_bert(), tokenized(label=False), tok, profile, alpha=0.0, progress=False)
    with pytest.raises(TypeError, match=r"alpha must be a number, got str '0.5'"):
        training.distill(tiny_bert(), tokenized(), tok, profile, alpha="0.5", progress=False)
    with pytest.raises(TypeError, match=r"temperature must be a number"):
        training.distill(tiny_bert(), tokenized(), tok, profile, temperature="2", progress=False)


def test_layer_counts_and_profile_names_of_the_wrong_type():
    with pytest.raises(TypeError, match=r"n_student must be an int, got float 2.5"):
        students.every_other_layer(6, 2.5)
    with pytest.raises(TypeError, match=r"profile must be a name \(smoke, cpu, gpu\) or a Profile, got int 3"):
        get_profile(3)


def test_cuda_on_a_cpu_only_torch_is_refused_clearly(profile, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match=r"device 'cuda' was asked for, but .*KDCOURSE_PROFILE=cpu"):
        profiles.check_device("cuda")
    on_gpu = profile.replace(device="cuda")
    with pytest.raises(ValueError, match=r"profile 'smoke' needs a CUDA device"):
        get_profile(on_gpu)
    with pytest.raises(ValueError, match=r"device 'cuda' was asked for"):
        training.distill(tiny_bert(), tokenized(), None, on_gpu, alpha=0.0, progress=False)
    assert profiles.check_device("cpu") == "cpu"


# --- 4. Consistency ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "loss",
    [
        lambda s, t: L.forward_kl(s, t, 2.0).sum(),
        lambda s, t: L.reverse_kl(s, t, 2.0).sum(),
        lambda s, t: L.generalized_jsd(s, t, 0.3, 2.0).sum(),
        lambda s, t: L.kd_loss(s, t, 2.0),
        lambda s, t: L.token_kd_loss(s.unsqueeze(0), t.unsqueeze(0), divergence="reverse"),
    ],
)
def test_no_gradient_reaches_the_teacher(loss):
    torch.manual_seed(0)
    s = torch.randn(3, 5, requires_grad=True)
    t = torch.randn(3, 5, requires_grad=True)
    loss(s, t).backward()
    assert t.grad is None and s.grad is not None and s.grad.abs().sum() > 0


@pytest.mark.parametrize("T", [np.float32(2.0), np.float64(2.0), 2, torch.tensor(2.0), np.array(2.0)])
def test_temperatures_of_any_real_type_are_accepted(T):
    torch.manual_seed(0)
    s, t = torch.randn(4, 3), torch.randn(4, 3)
    assert torch.allclose(L.kd_loss(s, t, T), L.kd_loss(s, t, 2.0))
    assert torch.allclose(L.soft_targets(s, T), L.soft_targets(s, 2.0))
    y = torch.tensor([0, 1, 2, 0])
    assert torch.allclose(L.distillation_loss(s, t, y, T, np.float32(0.5)), L.distillation_loss(s, t, y, 2.0, 0.5))


@pytest.mark.parametrize("T", [True, "2", None, torch.tensor([2.0, 3.0])])
def test_non_numbers_are_still_refused_as_temperatures(T):
    with pytest.raises(TypeError, match="temperature must be a number"):
        L.kd_loss(torch.zeros(1, 2), torch.zeros(1, 2), T)


@pytest.mark.parametrize(
    "layers",
    [[0, 2, 4], (0, 2, 4), np.array([0, 2, 4]), torch.tensor([0, 2, 4]), [np.int64(0), np.int32(2), 4], range(0, 5, 2)],
)
def test_integer_layer_lists_of_any_common_type_are_accepted(layers):
    assert students.check_layers(layers, 6) == [0, 2, 4]
    assert all(type(i) is int for i in students.check_layers(layers, 6))
    assert students.every_other_layer(np.int64(6), np.int64(3)) == students.every_other_layer(6, 3)


@pytest.mark.parametrize(
    "layers",
    [
        np.array([0.0, 2.0]),
        torch.tensor([0.0, 2.0]),
        [0, 2.0],
        np.array([True, False]),
        np.array([[0, 2]]),
        torch.tensor(2),
    ],
)
def test_non_integer_layer_lists_are_refused(layers):
    with pytest.raises(TypeError, match=r"layers must"):
        students.check_layers(layers, 6)


# --- 5. Command line -----------------------------------------------------------------------------


def test_version_flag_prints_the_installed_version(capsys):
    from importlib import metadata

    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"kdcourse {metadata.version('kdcourse')}"


@pytest.mark.parametrize(
    "argv, env, message",
    [
        (["demo", "--profile", "bogus"], None, r"invalid choice: 'bogus' \(choose from 'smoke', 'cpu', 'gpu'\)"),
        (["prepare", "--profile", "bogus"], None, r"invalid choice: 'bogus'"),
        (["prepare", "--lessons", "99"], None, r"unknown lesson '99' \(choose from 00, 01, 02"),
        (["check"], "bogus", r"KDCOURSE_PROFILE='bogus' is not a profile \(choose from smoke, cpu, gpu\)"),
    ],
)
def test_bad_choices_are_usage_errors(argv, env, message, capsys, monkeypatch):
    if env is not None:
        monkeypatch.setenv(profiles.ENV_VAR, env)
    with pytest.raises(SystemExit) as done:
        cli.main(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "Traceback" not in err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1


def test_command_line_in_a_real_process():
    env = {**os.environ, profiles.ENV_VAR: "bogus"}
    done = subprocess.run(
        [sys.executable, "-m", "kdcourse", "check"], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "choose from smoke, cpu, gpu" in done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "kdcourse", "--version"], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0 and done.stdout.startswith("kdcourse ")


def test_profiles_fit_in_100_columns(capsys):
    assert cli.main(["profiles"]) == 0
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "learning_rate" in out and "bert-base-uncased" in out and "smoke:" in out


# --- 6. Makefile -----------------------------------------------------------------------------------


def test_every_phony_target_has_a_recipe_and_new_ones_are_documented():
    makefile = (ROOT / "Makefile").read_text()
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split()
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, re.M))
    assert set(phony) <= targets, sorted(set(phony) - targets)
    assert {"test-unit", "test-lessons", "bench"} <= set(phony)
    lessons = re.search(r"^test-lessons:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "pytest lessons" in lessons and "$(NBVAL_ARGS)" in lessons and "tests" not in lessons.split()
    assert "$(NBVAL_ARGS)" in re.search(r"^test:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    bench = re.search(r"^bench:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "benchmarks/*.py" in bench
    other = (ROOT / "README.md").read_text().split("## Other commands", 1)[1]
    for target in ("test-unit", "test-lessons", "bench"):
        assert f"`make {target}`" in other


# --- 7. Probe cache key ----------------------------------------------------------------------------


def test_probe_key_covers_every_setting_that_changes_the_head(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    base = PROFILES["smoke"]
    path = probe.probe_path(base, 0)
    assert probe.probe_path(base, 0) == path  # stable
    for changes in (
        dict(probe_size=128),
        dict(max_length=32),
        dict(teacher="other"),
        dict(dataset="glue/sst2"),
        dict(train_size=100),
        dict(eval_size=64),
    ):
        assert probe.probe_path(base.replace(**changes), 0) != path, changes
    assert probe.probe_path(base, 1) != path

    def data(labels):
        split = Dataset.from_dict({"text": ["good", "bad", "fine"], "label": labels})
        return DatasetDict({"train": split, "validation": split})

    assert probe.probe_path(base, 0, data([1, 0, 1])) == probe.probe_path(base, 0, data([1, 0, 1]))
    assert probe.probe_path(base, 0, data([1, 0, 1])) != probe.probe_path(base, 0, data([1, 0, 0]))


# --- 8. Killed fetch ---------------------------------------------------------------------------------


def test_fetch_removes_temp_folders_of_killed_fetches(tmp_path, monkeypatch):
    import hashlib
    import zipfile

    asset = assets.ASSETS["rotten_tomatoes"]

    def fake_wheel(a, dest):
        wheel = dest / a.filename
        with zipfile.ZipFile(wheel, "w") as zf:
            zf.writestr(zipfile.ZipInfo(a.member, date_time=(2020, 1, 1, 0, 0, 0)), b"x\n")
        return wheel

    reference = fake_wheel(asset, tmp_path).read_bytes()
    (tmp_path / asset.filename).unlink()
    root = tmp_path / "cache"
    root.mkdir()
    monkeypatch.setenv(cache.CACHE_ENV, str(root))
    monkeypatch.setitem(
        assets.ASSETS,
        "rotten_tomatoes",
        assets.Asset(**{**asset.__dict__, "sha256": hashlib.sha256(reference).hexdigest()}),
    )
    monkeypatch.setattr(assets, "_download_wheel", fake_wheel)
    old = time.time() - 2 * assets.STALE_TEMP_SECONDS

    def plant(name, owner=None, age=None):
        folder = root / name
        (folder / "files").mkdir(parents=True)
        (folder / "files" / "half.bin").write_bytes(b"0" * 100)
        if owner is not None:
            (folder / "kdcourse-owner").write_text(owner)
        if age is not None:
            for p in [folder / "files" / "half.bin", folder / "files", folder / "kdcourse-owner", folder]:
                if p.exists():
                    os.utime(p, (age, age))
        return folder

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    import socket

    stale = plant(".minilm-stale", age=old)  # killed long ago, owner unknown
    dead = plant(".smollm2-dead", owner=f"{socket.gethostname()} {gone.pid}")  # its process is gone
    fresh = plant(".minilm-fresh")  # owner unknown, but recent: maybe a fetch running right now
    running = plant(".rotten_tomatoes-live", owner=f"{socket.gethostname()} {os.getpid()}", age=old)
    other = plant(".not-ours", age=old)  # not a fetch folder: left alone
    assets.fetch("rotten_tomatoes", verbose=False)
    assert not stale.exists() and not dead.exists()
    assert fresh.exists() and running.exists() and other.exists()
    assert assets.clean_stale_temp(root, older_than=-1) == [fresh]  # owner unknown, over the limit


# --- 9. Read-only cache ------------------------------------------------------------------------------


@pytest.fixture
def unwritable_cache(tmp_path, monkeypatch):
    """A cache path that cannot be created (a regular file sits where a folder must be; works as root)."""
    (tmp_path / "file").write_text("not a folder")
    folder = tmp_path / "file" / "cache"
    monkeypatch.setenv(cache.CACHE_ENV, str(folder))
    return folder


def test_check_writable_names_the_folder_and_the_env_var(unwritable_cache, tmp_path):
    with pytest.raises(PermissionError, match=rf"{re.escape(str(unwritable_cache))}.* not writable.*KDCOURSE_CACHE"):
        cache.check_writable(unwritable_cache)
    assert cache.check_writable(tmp_path / "fine") == tmp_path / "fine"


def test_long_work_checks_the_cache_before_it_starts(unwritable_cache, tok, profile, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("long work started although its result could not be saved")

    monkeypatch.setattr(training, "distill", never)
    with pytest.raises(PermissionError, match="KDCOURSE_CACHE"):
        training.load_teacher(profile, seed=0, progress=False)
    monkeypatch.setattr(training, "predict_logits", never)
    with pytest.raises(PermissionError, match="KDCOURSE_CACHE"):
        training.teacher_logits(tiny_bert(), tokenized(), tok, profile, cache_key="k")

    monkeypatch.setattr(l04, "run", never)
    with pytest.raises(PermissionError, match="KDCOURSE_CACHE"):
        l05.distilled_student(types.SimpleNamespace(profile=profile, train=[0, 1]), seed=0)


def test_nan_temperature_of_any_type_is_refused():
    with pytest.raises(ValueError, match="temperature must be > 0, got nan"):
        L.kd_loss(torch.zeros(1, 2), torch.zeros(1, 2), np.float32("nan"))


# --- 10. Corruption: checksums recorded on write, checked on load ---------------------------------


def _flip_bit(path, at=None):
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if at is None else at
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_flipped_bit_in_cached_logits_is_caught_and_rebuilt(tok, profile, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    teacher, data = tiny_bert(), tokenized()
    first = training.teacher_logits(teacher, data, tok, profile, cache_key="t")
    [path] = (tmp_path / "cache" / "logits").glob("*.pt")
    assert path.with_name(path.name + ".sha256").is_file(), "the checksum is recorded when the file is written"
    raw = path.read_bytes()
    tensor_at = raw.index(first.numpy().tobytes()[:8])  # a byte inside the stored logits themselves
    _flip_bit(path, tensor_at + 3)
    assert not torch.equal(torch.load(path, weights_only=True), first), "torch alone loads the damage silently"
    again = training.teacher_logits(teacher, data, tok, profile, cache_key="t")
    assert torch.equal(again, first)  # rebuilt from the teacher, not the damaged numbers
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(path) in err[0] and "changed since it was written" in err[0] and "rebuilding" in err[0]
    assert cache.file_problem(path) is None  # the rebuilt file is recorded again


def test_a_truncated_cache_file_is_named_not_a_library_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    path = cache.atomic_save({"w": torch.arange(1000.0)}, tmp_path / "x.pt")
    path.write_bytes(path.read_bytes()[:-100])
    assert cache.load_cached(path) is None and not path.exists()  # removed, so the caller rebuilds it
    err = capsys.readouterr().err
    assert f"{path} is damaged" in err and "bytes" in err and "were written" in err


def test_a_cache_file_without_its_record_fails_closed(tmp_path, monkeypatch, capsys):
    """Issue 22: a missing record is not a pass (a copy without its .sha256 could hold anything)."""
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    path = tmp_path / "old.pt"
    torch.save({"w": torch.ones(3)}, path)  # no record: copied without it, or written by an older kdcourse
    assert cache.load_cached(path) is None and not path.exists()  # removed, so the caller rebuilds (and records) it
    err = capsys.readouterr().err
    assert f"{path} is damaged (it has no checksum record (old.pt.sha256 is missing" in err and "rebuilding" in err
    path = cache.atomic_save({"w": torch.ones(3)}, path)
    path.with_name("old.pt.sha256").unlink()  # a record deleted after the fact: the same
    assert not cache.file_ready(path) and not path.exists()
    outside = tmp_path.parent / f"{tmp_path.name}-mine.pt"  # a student's own file outside the cache: not checked
    torch.save({"w": torch.ones(3)}, outside)
    assert cache.file_problem(outside) is None
    outside.unlink()


def test_a_cache_folder_without_its_manifest_fails_closed(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    folder = tmp_path / "teachers" / "t"
    with cache.atomic_folder(folder) as tmp:
        (tmp / "config.json").write_text("{}")
    (folder / cache.MANIFEST).unlink()  # e.g. `cp dir/*` or a sync that skips hidden files
    assert not cache.folder_ready(folder) and not folder.exists()
    assert "has no checksum record" in capsys.readouterr().err


def test_concurrent_writers_and_a_reader_never_see_a_false_damage(tmp_path, monkeypatch):
    """Issue 22: two processes publishing the same entry (different bytes each time, as torch.save gives) and a
    third checking it: no 'damaged' notice, and the reader never removes what a writer is publishing."""
    code = (
        "import sys, time; from pathlib import Path; from kdcourse import cache\n"
        "path, who = Path(sys.argv[1]), sys.argv[2]\n"
        "if who == 'reader':\n"
        "    end = time.time() + 4\n"
        "    while time.time() < end:\n"
        "        if path.is_file() and not cache.file_ready(path): print('removed', flush=True)\n"
        "else:\n"
        "    for i in range(150):\n"
        "        with cache.atomic_file(path, suffix='.bin') as tmp: tmp.write_bytes(f'{who} {i}'.encode() * 5000)\n"
    )
    path = tmp_path / "entry.bin"
    env = {**os.environ, cache.CACHE_ENV: str(tmp_path)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path), who],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("reader", "a", "b")
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert not any("damaged" in err or "removed" in out for out, err in outs), outs
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    assert cache.file_ready(path)  # the last publish, whole and recorded
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(cache.TEMP_PREFIX)]


def test_a_second_process_waits_for_the_first_build_then_loads_it(tmp_path):
    """Issue 22: two kernels asking for the same uncached entry build it once; the second waits (and says so),
    then loads what the first published. The first one's build holds until the second is seen waiting."""
    go = tmp_path / "go"
    code = (
        "import sys, time; from pathlib import Path; from kdcourse import llm\n"
        "def generate():\n"
        "    print('generated', flush=True)\n"
        "    end = time.time() + 120\n"
        "    while not Path(sys.argv[1]).exists() and time.time() < end: time.sleep(0.05)\n"
        "    return ['a text']\n"
        "print(llm._texts_cached({'same': 'settings'}, generate))\n"
    )
    cache_dir = tmp_path / "cache"
    env = {**os.environ, cache.CACHE_ENV: str(cache_dir)}
    logs = [tmp_path / "first.err", tmp_path / "second.err"]
    procs = []
    for log in logs:
        with open(log, "w") as err:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", code, str(go)], env=env, stdout=subprocess.PIPE, stderr=err, text=True
                )
            )
        if not procs[1:]:  # the first holds the lock (its lock file exists) before the second starts
            deadline = time.time() + 120
            while not list(cache_dir.glob(f"{cache.LOCKS}/*.lock")) and time.time() < deadline:
                time.sleep(0.05)
    deadline = time.time() + 120
    while "another process is building" not in logs[1].read_text() and time.time() < deadline:
        time.sleep(0.05)
    go.touch()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [log.read_text()[-800:] for log in logs]
    assert sum(out.count("generated") for out in outs) == 1, outs
    assert all("['a text']" in out for out in outs)
    assert "another process is building" in logs[1].read_text()


def test_killed_writes_leave_temporaries_that_the_sweep_removes(tmp_path, monkeypatch):
    """Issue 22: temporaries are named after their process; one sweep over the cache removes those of a
    process that is gone (and unowned ones past the limit), and keeps a live writer's."""
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    mine = cache.temp_prefix()
    dead = mine.replace(f"-{os.getpid()}-", f"-{gone.pid}-")
    (tmp_path / "students").mkdir()
    dead_file = tmp_path / "students" / f"{dead}abc.pt"
    dead_file.write_bytes(b"0" * 100)
    dead_folder = tmp_path / f"{dead}xyz"
    (dead_folder / "inner").mkdir(parents=True)
    live = tmp_path / "students" / f"{mine}live.pt"
    live.write_bytes(b"1")
    old_unowned = tmp_path / f"{cache.TEMP_PREFIX}q1w2e3.onnx"  # the older naming: owner unknown
    old_unowned.write_bytes(b"2")
    old = time.time() - 2 * cache.STALE_SECONDS
    os.utime(old_unowned, (old, old))
    fresh_unowned = tmp_path / f"{cache.TEMP_PREFIX}r4t5y6.onnx"
    fresh_unowned.write_bytes(b"3")
    keep = tmp_path / "students" / "real.pt"
    keep.write_bytes(b"4")
    removed = cache.sweep_temporaries()
    assert sorted(removed) == sorted([dead_file, dead_folder, old_unowned])
    assert live.exists() and fresh_unowned.exists() and keep.exists()


def test_a_damaged_logits_cost_record_rebuilds_instead_of_a_json_error(tok, profile, tmp_path, monkeypatch, capsys):
    """Issue 22: a truncated `.json` beside cached logits gave a JSONDecodeError in lesson 03."""
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    teacher, data = tiny_bert(), tokenized()
    first = training.teacher_logits(teacher, data, tok, profile, cache_key="t")
    record = next((tmp_path / "logits").glob("*.json"))
    record.write_text(record.read_text()[:5])
    assert training.logits_record(data, "t") is None  # damaged: removed (with a notice), not a crash
    assert "bytes" in capsys.readouterr().err
    assert torch.equal(training.teacher_logits(teacher, data, tok, profile, cache_key="t"), first)
    assert training.logits_record(data, "t")["rows"] == len(data)


def test_pip_is_told_to_give_up_on_a_hanging_index_within_a_minute(tmp_path, monkeypatch):
    seen = {}

    def fake_run(cmd, **kwargs):
        seen["cmd"] = cmd
        return types.SimpleNamespace(returncode=1, stderr="timed out", stdout="")

    monkeypatch.setattr(assets.subprocess, "run", fake_run)
    with pytest.raises(assets.AssetError, match="KDCOURSE_WHEELHOUSE"):
        assets._download_wheel(assets.ASSETS["minilm"], tmp_path)
    timeout = next(int(a.split("=")[1]) for a in seen["cmd"] if a.startswith("--timeout="))
    retries = next(int(a.split("=")[1]) for a in seen["cmd"] if a.startswith("--retries="))
    assert timeout * (retries + 1) < 60


def test_a_damaged_cache_folder_is_removed_so_it_is_rebuilt(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    folder = tmp_path / "teachers" / "t"
    with cache.atomic_folder(folder) as tmp:
        (tmp / "config.json").write_text("{}")
        (tmp / "model.safetensors").write_bytes(bytes(range(256)) * 40)
    assert cache.folder_ready(folder)
    _flip_bit(folder / "model.safetensors")
    assert not cache.folder_ready(folder) and not folder.exists()
    err = capsys.readouterr().err
    assert "cache folder" in err and "model.safetensors changed since it was written" in err
    with cache.atomic_folder(folder) as tmp:
        (tmp / "config.json").write_text("{}")
    (folder / "extra").mkdir()
    assert cache.folder_ready(folder)  # files added later are not the ones written: not checked
    (folder / "config.json").unlink()
    assert not cache.folder_ready(folder)  # not published (or half removed): rebuilt


def test_a_damaged_asset_is_reported_by_check_and_fetched_again(tmp_path, monkeypatch, capsys):
    import hashlib
    import zipfile

    from kdcourse import environment

    asset = assets.ASSETS["rotten_tomatoes"]
    fake = tmp_path / "wheel" / asset.filename
    fake.parent.mkdir()
    with zipfile.ZipFile(fake, "w") as zf:
        zf.writestr(zipfile.ZipInfo(asset.member, date_time=(2020, 1, 1, 0, 0, 0)), b"text,label\n" * 50)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setenv(assets.WHEELHOUSE_ENV, str(fake.parent))
    monkeypatch.setitem(
        assets.ASSETS, "rotten_tomatoes", assets.Asset(**{**asset.__dict__, "sha256": assets.sha256_of(fake)})
    )
    folder = assets.fetch("rotten_tomatoes", verbose=False)
    [data] = [p for p in folder.rglob("*") if p.is_file() and p.name != cache.MANIFEST]
    good = data.read_bytes()
    _flip_bit(data)
    with pytest.raises(RuntimeError, match=r"asset 'rotten_tomatoes' damaged: .* changed since it was written"):
        environment.check_environment(fetch_assets=False)
    assert assets.fetch("rotten_tomatoes", verbose=False) == folder  # removed and extracted again
    assert data.read_bytes() == good
    assert "is damaged" in capsys.readouterr().err
    assert hashlib.sha256(good).hexdigest() == json_sums(folder)[data.name]["sha256"]


def json_sums(folder):
    import json

    return json.loads((folder / cache.MANIFEST).read_text())


def test_a_recorded_quantized_file_that_changed_is_refused(tmp_path):
    model = quantize.quantize_dynamic_int8(tiny_bert())
    path = quantize.save_quantized(model, tmp_path / "q.pt")
    assert (tmp_path / "q.pt.sha256").is_file()
    quantize.load_quantized(path)
    _flip_bit(path)
    with pytest.raises(ValueError, match=r"q.pt is damaged \(q.pt changed since it was written.*save_quantized"):
        quantize.load_quantized(path)


def test_a_font_cache_without_matplotlib_s_own_fonts_is_completed(monkeypatch):
    """A stale ~/.cache/matplotlib (written by a deleted env) lists only system fonts: setup adds them."""
    from matplotlib import font_manager

    from kdcourse import session

    manager = font_manager.fontManager
    system_only = [f for f in manager.ttflist if "mpl-data" not in f.fname]
    monkeypatch.setattr(manager, "ttflist", system_only)
    assert not any(f.name == "STIXGeneral" for f in manager.ttflist)
    session._bundled_fonts()
    assert any(f.name == "STIXGeneral" and os.path.exists(f.fname) for f in manager.ttflist)
    count = len(manager.ttflist)
    session._bundled_fonts()
    assert len(manager.ttflist) == count, "nothing added twice"
