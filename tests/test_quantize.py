"""kdcourse.quantize: by-hand affine quantization vs PyTorch's, dynamic int8, save/reload, errors, exercises."""

import types

import pytest
import torch
from helpers import tiny_bert as bert

from kdcourse import assets, benchmark, corpus, get_profile, quantize, training
from kdcourse.lessons import l04, l05

# torch.ao.quantization's deprecation notices (kdcourse.setup() silences them; lesson 05 explains them).
pytestmark = [
    pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor, torch.quantize_per_channel:UserWarning"),
    pytest.mark.filterwarnings("ignore:TypedStorage is deprecated:UserWarning"),
]


def tiny_bert(seed=0, vocab=30522):
    return bert(2, 32, vocab, positions=64, seed=seed).eval()


@pytest.fixture(scope="module")
def tok():
    return assets.load_tokenizer("minilm")


@pytest.fixture(scope="module")
def review_split(tok):
    profile = get_profile("smoke").replace(train_size=16, eval_size=16, test_size=40, max_length=24)
    return training.tokenize_splits(corpus.load_task_data(profile), tok, profile.max_length)["test"]


def batch(n=3, length=11):
    return benchmark.dummy_batch(30522, n, length, seed=1)


# --- By hand ---------------------------------------------------------------------------------


@pytest.mark.parametrize("symmetric", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("seed", range(4))
def test_round_trip_error_is_at_most_half_a_step(symmetric, dim, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(37, 19, generator=g) * (seed + 1) + (0.5 if seed % 2 else 0.0)
    r = quantize.round_trip(x, symmetric=symmetric, dim=dim)
    bound = r["scale"] / 2 + 2 * torch.finfo(torch.float32).eps * x.abs()  # + float32 rounding of x - x_hat
    assert ((x - r["x_hat"]).abs() <= bound).all()
    qmin, qmax = quantize.int_range(8, symmetric)
    assert r["q"].min() >= qmin and r["q"].max() <= qmax


def test_fewer_bits_mean_bigger_errors_and_values_outside_the_range_are_clamped():
    x = torch.linspace(-1, 1, 101)
    errors = [quantize.round_trip(x, bits=b)["max_error"] for b in (2, 4, 8)]
    assert errors[0] > errors[1] > errors[2]
    s, z = quantize.affine_qparams(x)
    far = torch.tensor([5.0, -5.0])
    back = quantize.dequantize_affine(quantize.quantize_affine(far, s, z), s, z)
    assert back[0] <= 1 + s and back[1] >= -1 - s  # clamped to the range's ends


def test_zero_is_exact_and_a_constant_tensor_works():
    x = torch.tensor([0.3, 0.7, 1.9])  # all positive: the range is stretched down to 0
    s, z = quantize.affine_qparams(x)
    assert quantize.dequantize_affine(quantize.quantize_affine(torch.zeros(1), s, z), s, z).item() == 0.0
    r = quantize.round_trip(torch.zeros(5))
    assert r["max_error"] == 0.0 and (r["scale"] > 0).all()


@pytest.mark.parametrize("symmetric", [False, True])
def test_qparams_match_pytorch_observers(symmetric):
    from torch.ao.quantization.observer import MinMaxObserver, PerChannelMinMaxObserver

    x = torch.randn(24, 10, generator=torch.Generator().manual_seed(3))
    dtype = torch.qint8 if symmetric else torch.quint8
    tensor_scheme = torch.per_tensor_symmetric if symmetric else torch.per_tensor_affine
    channel_scheme = torch.per_channel_symmetric if symmetric else torch.per_channel_affine
    obs = MinMaxObserver(dtype=dtype, qscheme=tensor_scheme)
    obs(x)
    s_t, z_t = obs.calculate_qparams()
    s, z = quantize.affine_qparams(x, symmetric=symmetric)
    assert torch.allclose(s, s_t) and z.item() == z_t.item()
    obs = PerChannelMinMaxObserver(ch_axis=0, dtype=dtype, qscheme=channel_scheme)
    obs(x)
    s_t, z_t = obs.calculate_qparams()
    s, z = quantize.affine_qparams(x, symmetric=symmetric, dim=0)
    assert torch.allclose(s.flatten(), s_t) and torch.equal(z.flatten(), z_t.long())


def test_per_channel_int8_weights_equal_the_ones_torch_stores():
    model = tiny_bert()
    q = quantize.quantize_dynamic_int8(model)
    for name in quantize.linear_names(model):
        w = model.get_submodule(name).weight.detach()
        s, z = quantize.affine_qparams(w, symmetric=True, dim=0)
        stored = q.get_submodule(name).weight()
        assert torch.equal(stored.int_repr().long(), quantize.quantize_affine(w, s, z, symmetric=True)), name


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: quantize.int_range(1), "bits must be an int between 2 and 16"),
        (lambda: quantize.affine_qparams(torch.arange(3)), "floating-point tensor"),
        (lambda: quantize.affine_qparams(torch.ones(2, 2), dim=2), "dim must be in"),
        (lambda: quantize.quantize_affine(torch.ones(2), 0.0, 0), "scale must be finite and > 0"),
    ],
)
def test_by_hand_errors(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


# --- Dynamic int8 ------------------------------------------------------------------------------


def test_quantize_dynamic_int8_converts_linears_only_and_leaves_the_input_alone():
    model = tiny_bert()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    q = quantize.quantize_dynamic_int8(model)
    assert set(quantize.layout(q)) == set(quantize.linear_names(model))
    assert set(quantize.layout(q).values()) == {"per_channel"}
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # a copy was quantized
    assert quantize.count_weights(q) == benchmark.count_parameters(model)
    assert benchmark.size_on_disk_mb(q) < benchmark.size_on_disk_mb(model)
    with torch.inference_mode():
        a, b = model(**batch()).logits, q(**batch()).logits
    assert (a - b).abs().max() < 0.05 and not torch.equal(a, b)


def test_include_keep_fp32_per_tensor_and_embeddings():
    model = tiny_bert()
    q = quantize.quantize_dynamic_int8(
        model, include=["bert.encoder.layer.1"], keep_fp32=["bert.encoder.layer.1.output"], per_channel=False
    )
    names = set(quantize.layout(q))
    assert names and all(n.startswith("bert.encoder.layer.1.") for n in names)
    assert "bert.encoder.layer.1.output.dense" not in names
    assert set(quantize.layout(q).values()) == {"per_tensor"}
    e = quantize.quantize_dynamic_int8(model, embeddings=True)
    assert quantize.layout(e)["bert.embeddings.word_embeddings"] == "embedding"
    assert benchmark.size_on_disk_mb(e) < benchmark.size_on_disk_mb(quantize.quantize_dynamic_int8(model))
    with torch.inference_mode():
        e(**batch())


@pytest.mark.parametrize(
    "kwargs", [{}, {"per_channel": False}, {"embeddings": True}, {"keep_fp32": ["classifier", "bert.encoder.layer.0"]}]
)
def test_save_and_reload_give_the_same_predictions(tmp_path, kwargs):
    q = quantize.quantize_dynamic_int8(tiny_bert(seed=2), **kwargs)
    path = quantize.save_quantized(q, tmp_path / "sub" / "model.pt")
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.pt", "model.pt.sha256"]  # no temp file left
    again = quantize.load_quantized(path)
    assert quantize.layout(again) == quantize.layout(q)
    with torch.inference_mode():
        assert torch.equal(again(**batch()).logits, q(**batch()).logits)


def test_dynamic_int8_errors(tmp_path):
    model = tiny_bert()
    with pytest.raises(TypeError, match="torch.nn.Module"):
        quantize.quantize_dynamic_int8("model")
    with pytest.raises(ValueError, match=r"CPU only.*model.to\('cpu'\)"):
        quantize.quantize_dynamic_int8(tiny_bert().to("meta"))
    with pytest.raises(ValueError, match=r"float32 weights.*model.float\(\)"):
        quantize.quantize_dynamic_int8(tiny_bert().to(torch.bfloat16))
    with pytest.raises(ValueError, match="no nn.Linear layer"):
        quantize.quantize_dynamic_int8(torch.nn.Sequential(torch.nn.Embedding(4, 2)))
    with pytest.raises(ValueError, match="'bert.embeddings' names no nn.Linear"):
        quantize.quantize_dynamic_int8(model, include=["bert.embeddings"])
    with pytest.raises(TypeError, match="lists of module names"):
        quantize.quantize_dynamic_int8(model, keep_fp32="classifier")
    with pytest.raises(ValueError, match="leave no nn.Linear"):
        quantize.quantize_dynamic_int8(model, include=["classifier"], keep_fp32=["classifier"])
    with pytest.raises(ValueError, match="already quantized"):
        quantize.quantize_dynamic_int8(quantize.quantize_dynamic_int8(model))
    with pytest.raises(ValueError, match="embeddings=True needs"):
        quantize.quantize_dynamic_int8(torch.nn.Sequential(torch.nn.Linear(2, 2)), embeddings=True)
    with pytest.raises(ValueError, match="quantize it first"):
        quantize.save_quantized(model, tmp_path / "x.pt")
    with pytest.raises(FileNotFoundError, match="save_quantized"):
        quantize.load_quantized(tmp_path / "missing.pt")


def test_kbit_loading_says_why_not():
    ok, why = quantize.kbit_loading_available()
    assert isinstance(ok, bool) and why
    if not torch.cuda.is_available():
        assert not ok and "CUDA" in why


# --- Sensitivity ---------------------------------------------------------------------------------


def test_layer_groups_and_sensitivity(tok, review_split):
    model = tiny_bert(seed=4)
    groups = quantize.layer_groups(model)
    assert list(groups)[:2] == ["block 0", "block 1"]
    assert sorted(sum(groups.values(), [])) == sorted(
        ["bert.encoder.layer.0", "bert.encoder.layer.1", "bert.pooler.dense", "classifier"]
    )
    sens = quantize.sensitivity(model, review_split, tok, groups, batch_size=16)
    assert set(sens) == set(groups)
    for row in sens.values():
        assert 0 <= row["flips"] <= len(review_split) and row["logit_change"] > 0
    with pytest.raises(ValueError, match="base_logits has 3 rows"):
        quantize.sensitivity(model, review_split, tok, groups, base_logits=torch.zeros(3, 2))


# --- The cached distilled student ---------------------------------------------------------------


def test_distilled_student_is_loaded_from_the_cache_without_training(tmp_path, monkeypatch):

    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    setup = types.SimpleNamespace(profile=get_profile("smoke"), train=list(range(10)))
    folder = l05.student_dir(setup, seed=0)
    assert folder == l05.student_dir(setup, seed=0) != l05.student_dir(setup, seed=1)
    trained = tiny_bert(seed=5)
    calls = []

    def fake_run(s, seed=0, progress=False):
        calls.append(seed)
        return {"student": trained}

    monkeypatch.setattr(l04, "run", fake_run)
    first = l05.distilled_student(setup)
    second = l05.distilled_student(setup)
    assert calls == [0]  # trained once, then read from the cache
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # atomic: no temp folder left
    with torch.inference_mode():
        assert torch.equal(first(**batch()).logits, trained(**batch()).logits)
        assert torch.equal(second(**batch()).logits, trained(**batch()).logits)


# --- Exercises -----------------------------------------------------------------------------------


def test_exercise_checks(capsys):
    x = torch.tensor([-0.62, -0.10, 0.00, 0.35, 1.08])
    scale = (1.08 + 0.62) / 255
    assert l05.check_scale_zero_point((scale, round(0.62 / scale)), x)
    assert not l05.check_scale_zero_point(((1.08 + 0.62) / 256, 93), x)
    assert not l05.check_scale_zero_point((scale, 0), x)
    assert not l05.check_scale_zero_point(None, x)
    layer = torch.nn.Linear(384, 1536)
    assert l05.check_int8_linear_bytes(384 * 1536 + 4 * 1536, layer)
    assert not l05.check_int8_linear_bytes(4 * 384 * 1536 + 4 * 1536, layer)
    assert not l05.check_int8_linear_bytes(384 * 1536, layer)
    sens = {
        "block 0": {"flips": 3, "delta": -0.1},
        "block 1": {"flips": 7, "delta": 0.2},
        "head": {"flips": 7, "delta": -0.4},
    }
    assert l05.most_sensitive(sens) == "head"
    assert l05.check_keep_fp32("head", sens)
    assert not l05.check_keep_fp32("block 1", sens)
    assert not l05.check_keep_fp32("block 9", sens)
    out = capsys.readouterr().out
    assert "divide the range by 255" in out and "float32 size" in out
