"""kdcourse.llm on a tiny random Llama (fast): pruning, top-k logits, losses with padding, metrics, loop;
lesson 06's vocabulary check (kdcourse.vocab) and KL-direction toy (kdcourse.kl_direction)."""

import copy
import json
import math

import pytest
import torch

from kdcourse import llm, losses

WORDS = "the a film movie is was good bad great dull story plot actor scene funny sad long short".split()


def tiny_tokenizer(words=WORDS, extra=()):
    """A word-level tokenizer built offline: [PAD]=0, [EOS]=1, [UNK]=2, then the words."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["[PAD]", "[EOS]", "[UNK]", *words, *extra])}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="[PAD]", eos_token="[EOS]", unk_token="[UNK]")


VOCAB = len(WORDS) + 3  # the words and [PAD], [EOS], [UNK]


def tiny_llama(layers=4, vocab=VOCAB, seed=0):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
        tie_word_embeddings=True,
        pad_token_id=0,
        eos_token_id=1,
        bos_token_id=None,
    )
    return LlamaForCausalLM(config).eval()


@pytest.fixture(scope="module")
def tok():
    return tiny_tokenizer()


@pytest.fixture(scope="module")
def batches(tok):
    texts = [
        "the film was good",
        "a dull long movie is bad",
        "great story",
        "the actor was funny and sad",
        "short plot",
        "the scene was long",
    ]
    return llm.make_batches(tok, texts, batch_size=3, max_length=16)


def test_evenly_spaced_keeps_first_and_last():
    assert llm.evenly_spaced(30, 10) == [0, 3, 6, 10, 13, 16, 19, 23, 26, 29]
    assert llm.evenly_spaced(4, 4) == [0, 1, 2, 3]
    assert llm.evenly_spaced(30, 1) == [0]
    with pytest.raises(ValueError, match="keep must be an int in"):
        llm.evenly_spaced(30, 31)


def test_prune_layers_shapes_and_copied_weights():
    teacher = tiny_llama(layers=4)
    student = llm.prune_layers(teacher, [0, 3])
    assert student.config.num_hidden_layers == 2 and teacher.config.num_hidden_layers == 4
    assert len(llm.decoder_layers(student)) == 2
    t_state, s_state = teacher.state_dict(), student.state_dict()
    for name, value in s_state.items():
        source = name.replace("layers.1.", "layers.3.")
        assert torch.equal(value, t_state[source]), name
    assert student.lm_head.weight is student.model.embed_tokens.weight  # still tied
    assert student.model.embed_tokens.weight.data_ptr() != teacher.model.embed_tokens.weight.data_ptr()
    with torch.no_grad():
        student.model.norm.weight.add_(1.0)
    assert not torch.equal(student.model.norm.weight, teacher.model.norm.weight)  # an own copy
    idx = [m.layer_idx for layer in llm.decoder_layers(student) for m in layer.modules() if hasattr(m, "layer_idx")]
    assert sorted(set(idx)) == [0, 1]


def test_pruned_student_computes_what_the_kept_layers_compute():
    teacher = tiny_llama(layers=4)
    ids = torch.randint(3, 20, (2, 7))
    by_hand = copy.deepcopy(teacher)  # the same network, built by slicing the module list directly
    by_hand.model.layers = torch.nn.ModuleList([by_hand.model.layers[i] for i in (1, 2)])
    by_hand.config.num_hidden_layers = 2
    student = llm.prune_layers(teacher, [1, 2])
    with torch.no_grad():
        # use_cache=False: the sliced copy still has layer_idx 1 and 2, which a KV cache would trip on
        torch.testing.assert_close(student(ids, use_cache=False).logits, by_hand(ids, use_cache=False).logits)
        with pytest.raises(IndexError):
            by_hand(ids, use_cache=True)  # why prune_layers renumbers layer_idx (next test)
        same = llm.prune_layers(teacher, 4)
        torch.testing.assert_close(same(ids).logits, teacher(ids).logits)


def test_pruned_student_generates_with_the_kv_cache():
    teacher = tiny_llama(layers=6)
    student = llm.prune_layers(teacher, 3)
    ids = torch.randint(3, 20, (1, 5))
    with torch.no_grad():
        cached = student.generate(ids, max_new_tokens=6, do_sample=False, use_cache=True, pad_token_id=0)
        uncached = student.generate(ids, max_new_tokens=6, do_sample=False, use_cache=False, pad_token_id=0)
    assert torch.equal(cached, uncached)


@pytest.mark.parametrize("keep", [[2, 1], [0, 0], [0, 4], [], "01"])
def test_prune_layers_refuses_bad_lists(keep):
    with pytest.raises(ValueError, match="keep must be"):
        llm.prune_layers(tiny_llama(layers=4), keep)


def test_expand_topk_is_exact_on_top_k_and_normalised():
    logp = torch.log_softmax(torch.randn(2, 3, 50), -1)
    values, ids = logp.topk(8, dim=-1)
    full = llm.expand_topk(values, ids.int(), 50)
    assert full.shape == (2, 3, 50)
    torch.testing.assert_close(full.gather(-1, ids), values)
    torch.testing.assert_close(full.exp().sum(-1), torch.ones(2, 3))
    exact = llm.expand_topk(*logp.topk(49, dim=-1), 50)  # one token left: its mass is exact too
    torch.testing.assert_close(exact, logp, atol=1e-5, rtol=1e-4)


def test_topk_buckets_are_distributions_and_never_exceed_the_full_kl():
    from kdcourse import losses

    gen = torch.Generator().manual_seed(0)
    s_logits, t_logits = torch.randn(2, 3, 50, generator=gen), 3 * torch.randn(2, 3, 50, generator=gen)
    values, ids = torch.log_softmax(t_logits, -1).topk(8, dim=-1)
    student, teacher = llm.topk_buckets(s_logits, values, ids.int())
    assert student.shape == teacher.shape == (2, 3, 9)
    torch.testing.assert_close(student.exp().sum(-1), torch.ones(2, 3))
    torch.testing.assert_close(teacher.exp().sum(-1), torch.ones(2, 3))
    torch.testing.assert_close(student[..., :8], torch.log_softmax(s_logits, -1).gather(-1, ids))
    # grouping outcomes can only lose information: KL over k+1 buckets <= KL over the vocabulary
    coarse = losses.forward_kl(student, teacher)
    full = losses.forward_kl(s_logits, t_logits)
    assert (coarse <= full + 1e-5).all() and (coarse > 0).all()
    same, ref = llm.topk_buckets(t_logits, values, ids)  # a student equal to the teacher: zero divergence
    torch.testing.assert_close(losses.forward_kl(same, ref), torch.zeros(2, 3), atol=1e-5, rtol=0)
    with pytest.raises(ValueError, match="must be"):
        llm.topk_buckets(s_logits, values, ids[..., :4])


def test_lm_loss_refuses_a_top_k_teacher_at_another_temperature(batches):
    batch = batches[0]
    logits = torch.randn(*batch["input_ids"].shape, 30)
    values, ids = torch.log_softmax(torch.randn(*batch["input_ids"].shape, 30), -1).topk(5, dim=-1)
    assert llm.lm_loss(logits, batch, "forward", (values, ids)) > 0
    with pytest.raises(ValueError, match="temperature 1"):
        llm.lm_loss(logits, batch, "forward", (values, ids), temperature=2.0)


def test_teacher_topk_shapes(batches):
    cache = llm.teacher_topk(tiny_llama(), batches, k=5)
    assert len(cache) == len(batches)
    for (values, ids), batch in zip(cache, batches):
        assert values.shape == (*batch["input_ids"].shape, 5) and ids.dtype == torch.int32
        assert (values.exp().sum(-1) <= 1 + 1e-5).all()


@pytest.mark.parametrize("loss", ["ce", "forward", "reverse", "jsd"])
def test_lm_loss_ignores_padding(batches, loss):
    batch = batches[0]
    assert (batch["attention_mask"] == 0).any(), "the fixture batch must contain padding"
    vocab = len(WORDS) + 3
    torch.manual_seed(0)
    student, teacher = torch.randn(*batch["input_ids"].shape, vocab), torch.randn(*batch["input_ids"].shape, vocab)
    value = llm.lm_loss(student, batch, loss, teacher)
    pad = batch["attention_mask"] == 0
    noisy_s, noisy_t, noisy_b = student.clone(), teacher.clone(), dict(batch)
    noisy_s[pad] += 100 * torch.randn_like(noisy_s[pad])
    noisy_t[pad] -= 50
    noisy_b["input_ids"] = batch["input_ids"].masked_fill(pad, 7)
    torch.testing.assert_close(llm.lm_loss(noisy_s, noisy_b, loss, noisy_t), value)
    # ... and equals the mean over each real position predicting the next real token
    rows = [(i, j) for i in range(pad.shape[0]) for j in range(pad.shape[1] - 1) if batch["attention_mask"][i, j + 1]]
    s = torch.stack([student[i, j] for i, j in rows])
    t = torch.stack([teacher[i, j] for i, j in rows])
    y = torch.stack([batch["input_ids"][i, j + 1] for i, j in rows])
    per = {
        "ce": lambda: torch.nn.functional.cross_entropy(s, y, reduction="none"),
        "forward": lambda: losses.forward_kl(s, t),
        "reverse": lambda: losses.reverse_kl(s, t),
        "jsd": lambda: losses.generalized_jsd(s, t, 0.5),
    }[loss]()
    torch.testing.assert_close(value, per.mean())


def test_lm_loss_checks_its_inputs(batches):
    logits = torch.randn(*batches[0]["input_ids"].shape, len(WORDS) + 3)
    with pytest.raises(ValueError, match="loss must be one of"):
        llm.lm_loss(logits, batches[0], "kl")
    with pytest.raises(ValueError, match="needs teacher_logits"):
        llm.lm_loss(logits, batches[0], "forward")


def test_evaluate_lm_perplexity_and_agreement(batches):
    model = tiny_llama()
    result = llm.evaluate_lm(model, batches)
    nll, n = 0.0, 0
    with torch.no_grad():
        for b in batches:
            logits = model(**b).logits[:, :-1]
            mask = b["attention_mask"][:, 1:].bool()
            nll += float(torch.nn.functional.cross_entropy(logits[mask], b["input_ids"][:, 1:][mask], reduction="sum"))
            n += int(mask.sum())
    assert result["tokens"] == n
    assert result["perplexity"] == pytest.approx(torch.tensor(nll / n).exp().item(), rel=1e-5)
    assert llm.evaluate_lm(model, batches, result["predictions"])["agreement"] == 1.0
    other = llm.evaluate_lm(tiny_llama(seed=1), batches, result["predictions"])["agreement"]
    assert 0 <= other < 1


def test_training_reduces_the_loss_and_is_deterministic(batches):
    teacher = tiny_llama(layers=4)
    cache = llm.teacher_topk(teacher, batches, k=8)
    runs = {}
    for loss in ("ce", "forward", "reverse", "jsd"):
        student = llm.prune_layers(teacher, 2)
        history = llm.train_lm_student(student, batches, loss, cache, steps=12, lr=3e-3, seed=0)
        assert len(history) == 12 and not student.training
        assert sum(history[-3:]) < sum(history[:3]), loss
        runs[loss] = history
    again = llm.train_lm_student(llm.prune_layers(teacher, 2), batches, "forward", cache, steps=12, lr=3e-3, seed=0)
    assert again == runs["forward"]
    with pytest.raises(ValueError, match="needs teacher_cache"):
        llm.train_lm_student(llm.prune_layers(teacher, 2), batches, "reverse", None, steps=1)
    even = llm.train_lm_student(
        llm.prune_layers(teacher, 2), batches, "forward", cache, steps=12, lr=3e-3, seed=0, tail="even"
    )
    assert sum(even[-3:]) < sum(even[:3]) and even != runs["forward"]  # another loss: the full-vocabulary KL
    with pytest.raises(ValueError, match="tail must be one of"):
        llm.train_lm_student(llm.prune_layers(teacher, 2), batches, "forward", cache, steps=1, tail="flat")


def test_teacher_samples_are_cached_atomically(tok, tmp_path, monkeypatch):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    model = tiny_llama()
    prompts = ["the film", "a movie was"]
    texts = llm.teacher_samples(model, tok, prompts, max_new_tokens=4, seed=0)
    assert len(texts) == 2 and all(t.startswith(p) for t, p in zip(texts, prompts))
    files = list((tmp_path / "llm_samples").glob("*.json"))  # each beside its .json.sha256 record
    assert len(files) == 1 and files[0].suffix == ".json" and json.loads(files[0].read_text()) == texts
    model.generate = lambda *a, **k: pytest.fail("generated again although the samples are cached")
    assert llm.teacher_samples(model, tok, prompts, max_new_tokens=4, seed=0) == texts  # from the cache
    del model.generate
    files[0].write_text(json.dumps(["edited", "by hand"]))  # not what was written: regenerated, not served
    assert llm.teacher_samples(model, tok, prompts, max_new_tokens=4, seed=0) == texts
    assert llm.teacher_samples(model, tok, prompts, max_new_tokens=4, seed=0, cache=False) == texts


def test_vocab_checker(tok):
    from kdcourse.vocab import check_vocab_compatibility

    model = tiny_llama()
    report = check_vocab_compatibility(tok, tok, model, llm.prune_layers(model, 2))
    assert report and not report.problems and "compatible" in str(report)
    other = tiny_tokenizer(words=list(reversed(WORDS)))
    bad = check_vocab_compatibility(tok, other)
    assert not bad and "tokenizers differ" in bad.problems[0] and "sequence-level KD" in bad.problems[0]
    padded = tiny_llama(vocab=len(tok) + 5)
    wide = check_vocab_compatibility(tok, tok, model, padded)
    assert not wide
    assert any(f"logits[..., :{len(tok)}]" in p for p in wide.problems)
    assert any("logit widths differ" in p for p in wide.problems)
    short = check_vocab_compatibility(tok, tok, tiny_llama(vocab=len(tok) - 2), model)
    assert any("resize_token_embeddings" in p for p in short.problems)


def test_gaussian_fits_cover_then_seek():
    from kdcourse.viz import kl_direction

    fits = kl_direction.gaussian_fits(separations=(6.0,), mixes=[0.0, 1.0])
    forward, reverse = fits["fits"][(6.0, 0.0)], fits["fits"][(6.0, 1.0)]
    mean = 0.6 * -3 + 0.4 * 3
    sd = (1 + 9 - mean**2) ** 0.5  # forward KL to a Gaussian matches the mixture's moments
    assert forward["mu"] == pytest.approx(mean, abs=0.1) and forward["sigma"] == pytest.approx(sd, rel=0.05)
    assert reverse["mu"] == pytest.approx(-3, abs=0.1) and reverse["sigma"] == pytest.approx(1, rel=0.05)
    assert reverse["reverse_kl"] < forward["reverse_kl"] and forward["forward_kl"] < reverse["forward_kl"]
    with pytest.raises(ValueError, match="objective"):
        kl_direction.gaussian_fits(objective="kl")


def test_kl_direction_explorer_headless():
    import matplotlib.pyplot as plt

    from kdcourse.viz import kl_direction

    explorer = kl_direction.KLDirectionExplorer(fits=kl_direction.gaussian_fits(separations=(2.0, 6.0)))
    assert explorer.state["mix"] == 0.0 and explorer.state["sigma"] > 2.5
    state = explorer.set(mix=1.0)
    assert state["mu"] == pytest.approx(-3, abs=0.1) and state["sigma"] < 1.2
    assert explorer.set(mix=0.52)["mix"] == 0.5  # snapped to the precomputed grid
    with pytest.raises(ValueError, match="mix must be in"):
        explorer.set(mix=1.5)
    with pytest.raises(TypeError, match="unknown value"):
        explorer.set(temperature=2)
    view = explorer.widget()
    assert explorer._image.value[:4] == b"\x89PNG"
    explorer.inputs["mix"].value = 1.0  # moving the slider updates the state and the readout
    assert explorer.state["mix"] == 1.0 and "μ=-3.00" in explorer._readout.value
    assert view is not None
    plt.close(explorer.figure(mix=0.0, separation=2.0))


# --- Lesson 06: measured layer choice, packing, caches, text metrics, on-policy --------------------


def _hand_block_score(model, batches, block: int, distance) -> float:
    """Mean `distance(cos)` between what enters and what leaves one block, over real tokens, by forward hook."""
    import torch.nn.functional as F

    seen, total, count = {}, 0.0, 0
    hook = model.model.layers[block].register_forward_hook(lambda m, args, out: seen.update(x=args[0], y=out))
    with torch.no_grad():
        for b in batches:
            model(**b)
            cos = F.cosine_similarity(seen["x"], seen["y"], dim=-1).clamp(-1, 1)
            real = b["attention_mask"].bool()
            total += float(distance(cos)[real].sum())
            count += int(real.sum())
    hook.remove()
    return total / count


def test_block_importance_matches_a_hand_computed_angle(batches):
    import math

    model = tiny_llama(layers=4)
    scores = llm.block_importance(model, batches)
    assert len(scores) == 4 and all(0 <= s <= 1 for s in scores)
    by_hand = _hand_block_score(model, batches, 2, lambda cos: torch.arccos(cos) / math.pi)
    assert scores[2] == pytest.approx(by_hand, rel=1e-5)
    assert not any(layer._forward_hooks or layer._forward_pre_hooks for layer in model.model.layers)
    with pytest.raises(ValueError, match="needs at least one real token"):
        llm.block_importance(model, [{**batches[0], "attention_mask": torch.zeros_like(batches[0]["attention_mask"])}])


def test_layer_angles_is_a_symmetric_table_of_hidden_state_angles(batches):
    angles = llm.layer_angles(tiny_llama(layers=4), batches)
    assert angles.shape == (5, 5)
    torch.testing.assert_close(angles, angles.T)
    assert float(angles.diagonal().abs().max()) < 1e-3 and float(angles.max()) <= 1


def test_contiguous_cut_removes_the_most_similar_span():
    angles = torch.full((7, 7), 0.5)  # 6 blocks; the states entering blocks 2 and 5 are the most alike
    angles[2, 5] = angles[5, 2] = 0.1
    assert llm.contiguous_cut(angles, 3) == [0, 1, 5]
    assert llm.contiguous_cut(angles, 0) == list(range(6))
    with pytest.raises(ValueError, match="drop must be an int"):
        llm.contiguous_cut(angles, 6)
    angles[1, 4] = angles[4, 1] = 0.2  # the runner-up span: blocks 1-3
    assert llm.closest_spans(angles, 3, 2) == [[0, 1, 5], [0, 4, 5]]
    assert len(llm.closest_spans(angles, 3, 10)) == 4  # only 4 spans of 3 fit in 6 blocks
    with pytest.raises(ValueError, match="count must be"):
        llm.closest_spans(angles, 3, 0)


def test_keep_most_important_drops_the_smallest_scores():
    scores = [0.5, 0.1, 0.3, 0.05, 0.2]
    assert llm.keep_most_important(scores, 2) == [0, 2, 4]
    assert llm.keep_most_important(scores, 0) == [0, 1, 2, 3, 4]
    for bad in (5, -1, 1.5, True):
        with pytest.raises(ValueError, match="drop must be an int"):
            llm.keep_most_important(scores, bad)


def test_pack_texts_fills_rows_without_padding(tok):
    texts = ["the film was good", "a dull long movie is bad", "great story"] * 4
    packed = llm.pack_texts(tok, texts, batch_size=2, seq_len=5)
    ids = [i for t in texts for i in tok(t, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]]
    flat = torch.cat([b["input_ids"] for b in packed]).flatten().tolist()
    assert flat == ids[: len(flat)] and len(ids) - len(flat) < 2 * 5
    assert all(b["input_ids"].shape == (2, 5) and bool(b["attention_mask"].all()) for b in packed)
    with pytest.raises(ValueError, match="need at least 8"):
        llm.pack_texts(tok, ["great story"], batch_size=8, seq_len=5)


def test_text_metrics():
    assert llm.distinct_n(["a b c d"], 2) == 1.0
    assert llm.distinct_n(["a a a a a"], 2) == 0.25
    assert llm.repetition_rate(["a b c d e"]) == 0.0
    assert llm.repetition_rate(["and and and and and"]) == pytest.approx(2 / 3)
    assert llm.text_quality(["a b c a b c"]) == {"distinct_2": pytest.approx(0.6), "repetition": 0.25}
    with pytest.raises(ValueError, match="no word 2-grams"):
        llm.distinct_n(["one"], 2)


def test_topk_and_trained_students_are_cached(batches, tmp_path, monkeypatch):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    teacher = tiny_llama(layers=4)
    cache = llm.teacher_topk(teacher, batches, k=8, cache=True)
    again = llm.teacher_topk(teacher, batches, k=8, cache=True)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(cache, again))
    assert len(list((tmp_path / "llm_topk").glob("*.pt"))) == 1
    first = llm.prune_layers(teacher, 2)
    run = llm.train_cached(first, batches, "forward", cache, steps=4, lr=3e-3, seed=0)
    assert not run["cached"] and len(run["history"]) == 4
    second = llm.prune_layers(teacher, 2)
    loaded = llm.train_cached(second, batches, "forward", cache, steps=4, lr=3e-3, seed=0)
    assert loaded["cached"] and loaded["history"] == run["history"]
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))
    # another setting or another starting point is another artefact
    assert not llm.train_cached(llm.prune_layers(teacher, 2), batches, "forward", cache, steps=4, lr=1e-3, seed=0)[
        "cached"
    ]
    assert not llm.train_cached(llm.prune_layers(teacher, [0, 1]), batches, "forward", cache, steps=4, lr=3e-3, seed=0)[
        "cached"
    ]
    assert not list(tmp_path.rglob("*.tmp*"))  # atomic writes leave nothing behind
    for saved in (tmp_path / "llm_students").glob("*.pt"):  # a damaged cache file is rebuilt, not served
        saved.write_bytes(saved.read_bytes()[:100])
    assert not llm.train_cached(llm.prune_layers(teacher, 2), batches, "forward", cache, steps=4, lr=3e-3, seed=0)[
        "cached"
    ]


def test_on_policy_batch_targets_only_generated_tokens(tok):
    model = tiny_llama()
    torch.manual_seed(0)
    batch = llm.on_policy_batch(model, tok, ["the film", "a long dull movie"], max_new_tokens=5)
    prompt_len = batch["input_ids"].shape[1] - 5
    assert not batch["target_mask"][:, :prompt_len].any()
    assert batch["target_mask"][:, prompt_len:].sum() >= 2  # at least the first generated token of each
    assert batch["attention_mask"][0, 0] == 0  # the shorter prompt is left-padded
    after_eos = (batch["input_ids"][:, prompt_len:] == tok.eos_token_id).int().cumsum(-1) > 1
    assert not batch["target_mask"][:, prompt_len:][after_eos].any()


def test_on_policy_training_moves_the_student_and_is_cached(tok, tmp_path, monkeypatch):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    teacher = tiny_llama(layers=4)
    prompts = ["the film", "a movie was", "great story", "the actor"]
    student = llm.prune_layers(teacher, 2)
    start = copy.deepcopy(student.state_dict())
    run = llm.on_policy_cached(student, teacher, tok, prompts, steps=2, batch_size=2, max_new_tokens=4, lr=1e-3, seed=0)
    assert not run["cached"] and len(run["history"]) == 2 and all(h >= 0 for h in run["history"])
    assert any(not torch.equal(start[n], t) for n, t in student.state_dict().items())
    again = llm.prune_layers(teacher, 2)
    assert llm.on_policy_cached(again, teacher, tok, prompts, steps=2, batch_size=2, max_new_tokens=4, lr=1e-3, seed=0)[
        "cached"
    ]
    with pytest.raises(ValueError, match="at least batch_size"):
        llm.train_on_policy(student, teacher, tok, prompts[:1], steps=1, batch_size=2)


def test_teacher_samples_greedy_is_its_own_cache_entry(tok, tmp_path, monkeypatch):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    model = tiny_llama()
    greedy = llm.teacher_samples(model, tok, ["the film", "a movie"], max_new_tokens=4, do_sample=False)
    assert greedy == llm.teacher_samples(
        model, tok, ["the film", "a movie"], max_new_tokens=4, do_sample=False, cache=False
    )
    llm.teacher_samples(model, tok, ["the film", "a movie"], max_new_tokens=4, seed=0)
    assert len(list((tmp_path / "llm_samples").glob("*.json"))) == 2


def test_shortgpt_block_influence_is_one_minus_the_cosine(batches):
    model = tiny_llama(layers=4)
    influence = llm.block_importance(model, batches, measure="1-cos")
    assert influence[1] == pytest.approx(_hand_block_score(model, batches, 1, lambda cos: 1 - cos), rel=1e-5)
    with pytest.raises(ValueError, match="measure must be one of"):
        llm.layer_angles(model, batches, measure="cosine")


def test_greedy_continuations_in_batches_match_one_batch(tok, tmp_path, monkeypatch):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    model = tiny_llama()
    prompts = ["the film", "a long dull movie", "great story", "the actor was", "short plot"]
    whole = llm.greedy_continuations(model, tok, prompts, max_new_tokens=4, batch_size=len(prompts))
    # left padding changes positions only through the mask, so each prompt's continuation is its own
    assert llm.greedy_continuations(model, tok, prompts, max_new_tokens=4, batch_size=2) == whole
    with pytest.raises(ValueError, match="batch_size must be"):
        llm.greedy_continuations(model, tok, prompts, max_new_tokens=4, batch_size=0)


def test_greedy_continuations_are_cached_by_weights(tok, tmp_path, monkeypatch):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    model = tiny_llama()
    prompts = ["the film", "a long dull movie"]
    first = llm.greedy_continuations(model, tok, prompts, max_new_tokens=4)
    real_generate = model.generate
    monkeypatch.setattr(model, "generate", lambda *a, **k: pytest.fail("generated again: the cache was not read"))
    assert llm.greedy_continuations(model, tok, prompts, max_new_tokens=4) == first
    with torch.no_grad():
        model.model.layers[0].mlp.down_proj.weight.add_(0.5)  # a trained student: other weights, other texts
    monkeypatch.setattr(model, "generate", real_generate)
    calls = []
    monkeypatch.setattr(model, "generate", lambda *a, **k: calls.append(1) or real_generate(*a, **k))
    llm.greedy_continuations(model, tok, prompts, max_new_tokens=4)
    assert calls, "a model with changed weights read another model's cached text"


def test_quality_by_set_keeps_distinct_2_as_defined_per_set():
    texts = ["a b c d", "a b c d", "e f g h", "i j k l"]
    sets = llm.quality_by_set(texts, set_size=2)
    assert sets == [llm.text_quality(texts[:2]), llm.text_quality(texts[2:])]
    assert sets[0]["distinct_2"] == 0.5 and sets[1]["distinct_2"] == 1.0  # pairs repeated across texts count
    with pytest.raises(ValueError, match="whole number of sets"):
        llm.quality_by_set(texts, set_size=3)


def test_verdicts_are_decided_only_by_the_whole_interval():
    def est(low, high):
        return {"mean": (low + high) / 2, "low": low, "high": high, "n": 8}

    assert llm.bar_verdict(est(-0.14, -0.10), "at least", -0.15) == "met"
    assert llm.bar_verdict(est(-0.20, -0.16), "at least", -0.15) == "missed"
    assert llm.bar_verdict(est(-0.17, -0.13), "at least", -0.15) == "not decided"
    assert llm.bar_verdict(est(0.02, 0.10), "at most", 0.15) == "met"
    assert llm.bar_verdict(est(0.16, 0.30), "at most", 0.15) == "missed"
    assert llm.bar_verdict(est(0.10, 0.20), "at most", 0.15) == "not decided"
    assert llm.bar_verdict({"mean": 0.0, "low": math.nan, "high": math.nan, "n": 1}, "at most", 0.15) == "not decided"
    assert llm.change_verdict(est(0.01, 0.05)) == "higher"
    assert llm.change_verdict(est(-0.05, -0.01)) == "lower"
    assert llm.change_verdict(est(-0.01, 0.05)) == "not decided"
    with pytest.raises(ValueError, match="side must be"):
        llm.bar_verdict(est(0, 1), "below", 0.0)


def test_fluency_reads_both_parts_of_the_bar_on_the_same_sets():
    teacher = [{"distinct_2": 0.72, "repetition": 0.14}, {"distinct_2": 0.70, "repetition": 0.12}] * 3
    close = [
        {"distinct_2": t["distinct_2"] - 0.05 - 0.01 * i, "repetition": t["repetition"] + 0.02}
        for i, t in enumerate(teacher)
    ]
    result = llm.fluency(close, teacher)
    assert result["distinct_2"]["verdict"] == "met" and result["repetition"]["verdict"] == "met"
    assert result["verdict"] == "met" and result["distinct_2"]["mean"] == pytest.approx(-0.075)
    loops = [{**s, "repetition": s["repetition"] + 0.3 + 0.01 * i} for i, s in enumerate(close)]
    assert llm.fluency(loops, teacher)["verdict"] == "missed"
    edge = [{**t, "distinct_2": t["distinct_2"] - 0.15 + (0.03 if i % 2 else -0.03)} for i, t in enumerate(teacher)]
    assert llm.fluency(edge, teacher)["verdict"] == "not decided"
    with pytest.raises(ValueError, match="pair up set by set"):
        llm.fluency(close[:2], teacher)
    means = llm.mean_quality(teacher)
    assert means["distinct_2"]["mean"] == pytest.approx(0.71) and means["repetition"]["n"] == 6


def test_evaluate_lm_per_text_sums_to_the_total(batches):
    model = tiny_llama()
    reference = llm.evaluate_lm(model, batches)
    result = llm.evaluate_lm(llm.prune_layers(model, 2), batches, reference["predictions"])
    per = result["per_text"]
    assert len(per["nll"]) == sum(len(b["input_ids"]) for b in batches)
    assert sum(per["tokens"]) == result["tokens"]
    assert math.exp(sum(per["nll"]) / sum(per["tokens"])) == pytest.approx(result["perplexity"], rel=1e-5)
    assert sum(per["agree"]) / result["tokens"] == pytest.approx(result["agreement"])


def test_compare_perplexity_bootstraps_over_texts():
    import random

    rng = random.Random(0)
    tokens = [rng.randint(5, 30) for _ in range(200)]
    nll_a = [n * rng.uniform(4.5, 5.5) for n in tokens]
    a = {"per_text": {"nll": nll_a, "tokens": tokens}}
    shifted = {"per_text": {"nll": [x - 0.1 * n for x, n in zip(nll_a, tokens)], "tokens": tokens}}
    out = llm.compare_perplexity(a, shifted)
    assert out["ratio"] == pytest.approx(math.exp(-0.1)) and out["texts"] == 200
    assert out["low"] == pytest.approx(math.exp(-0.1)) and out["high"] == pytest.approx(math.exp(-0.1))
    assert out["verdict"] == "lower"
    noisy = {"per_text": {"nll": [x + n * rng.gauss(0, 0.5) for x, n in zip(nll_a, tokens)], "tokens": tokens}}
    out = llm.compare_perplexity(a, noisy)
    assert out["low"] < out["ratio"] < out["high"] and out["verdict"] == "not decided"
    assert llm.compare_perplexity(a, noisy) == out  # seeded: the same interval every time
    assert llm.compare_perplexity(a, a)["verdict"] == "not decided"
    with pytest.raises(ValueError, match="same batches"):
        llm.compare_perplexity(a, {"per_text": {"nll": nll_a[:5], "tokens": tokens[:5]}})


def test_compare_agreement_in_points_over_texts(batches):
    model = tiny_llama()
    reference = llm.evaluate_lm(model, batches)
    same = llm.evaluate_lm(model, batches, reference["predictions"])
    pruned = llm.evaluate_lm(llm.prune_layers(model, 2), batches, reference["predictions"])
    out = llm.compare_agreement(pruned, same)
    assert out["difference"] == pytest.approx(100 * (same["agreement"] - pruned["agreement"]))
    assert out["low"] <= out["difference"] <= out["high"]
    with pytest.raises(ValueError, match="need per-text agree"):
        llm.compare_agreement(reference, same)  # evaluated without a reference: no agreement per text
