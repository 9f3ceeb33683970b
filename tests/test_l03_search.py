"""Lesson 03's search of T and alpha (Optuna TPE on validation) and its confirmation on the test split:
the default is tried first, trials are scored on validation only, both are cached and deterministic, and
the confirmation pairs the same seeds."""

import copy

import pytest
from helpers import tiny_bert

from kdcourse import assets, cache, corpus, get_profile, training
from kdcourse.lessons import l03

pytestmark = pytest.mark.usefixtures("one_thread")  # conftest.py: tiny models, one thread


@pytest.fixture(scope="module")
def parts():
    tok = assets.load_tokenizer("minilm")
    profile = get_profile("smoke").replace(
        train_size=24, eval_size=12, test_size=12, max_length=24, batch_size=8, playground_steps=2,
        search_trials=4, search_seeds=(0, 1),
    )  # fmt: skip
    data = training.tokenize_splits(corpus.load_task_data(profile, seed=0), tok, profile.max_length)
    teacher = tiny_bert(4, 16, tok.vocab_size, positions=32, seed=0)
    logits = training.predict_logits(teacher, data["train"], tok, 8)
    init = tiny_bert(2, 16, tok.vocab_size, positions=32, seed=1)
    return {"tok": tok, "profile": profile, "data": data, "logits": logits, "make": lambda: copy.deepcopy(init)}


def _search(parts):
    d = parts["data"]
    return l03.search(parts["make"], d["train"], parts["logits"], d["validation"], parts["tok"], parts["profile"],
                      progress=False)  # fmt: skip


def test_search_tries_the_default_first_scores_on_validation_and_is_cached(parts, tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    scored_on = []
    real = l03._short_run

    def spy(*args):
        scored_on.append(len(args[-1]))
        return real(*args)

    monkeypatch.setattr(l03, "_short_run", spy)
    study = _search(parts)
    assert len(study.trials) == parts["profile"].search_trials
    assert study.trials[0].params == l03.DEFAULT
    assert scored_on == [len(parts["data"]["validation"])] * len(study.trials)  # never the test split
    low, high = l03.SPACE["temperature"]
    assert all(low <= t.params["temperature"] <= high and 0 <= t.params["alpha"] <= 1 for t in study.trials)
    again = _search(parts)  # from the cache: no trial trains
    assert len(scored_on) == len(study.trials)
    assert [(t.params, t.value) for t in again.trials] == [(t.params, t.value) for t in study.trials]
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "fresh"))
    fresh = _search(parts)  # trained again, in another cache: the same trials (seeded TPE, seeded runs)
    assert [(t.params, t.value) for t in fresh.trials] == [(t.params, t.value) for t in study.trials]


def test_confirm_pairs_the_seeds_on_the_test_split(parts, tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    d, best = parts["data"], {"temperature": 4.0, "alpha": 0.9}
    comparison, runs = l03.confirm(best, parts["make"], d["train"], parts["logits"], d["test"], parts["tok"],
                                   parts["profile"], progress=False)  # fmt: skip
    seeds = parts["profile"].search_seeds
    assert len(runs["default"]) == len(runs["best"]) == len(seeds)
    for seed, a, b in zip(seeds, runs["default"], runs["best"]):
        assert a == l03._short_run(parts["make"], d["train"], parts["logits"], parts["tok"], parts["profile"],
                                   2.0, 0.5, seed, d["test"])  # fmt: skip
        assert b == l03._short_run(parts["make"], d["train"], parts["logits"], parts["tok"], parts["profile"],
                                   4.0, 0.9, seed, d["test"])  # fmt: skip
    assert comparison.difference == pytest.approx(100 * sum(b - a for a, b in zip(runs["default"], runs["best"])) / 2)
    assert "default (T=2, α=0.5)" in str(comparison) and "searched (T=4.00, α=0.90)" in str(comparison)
