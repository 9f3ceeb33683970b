"""kdcourse.losses against independent computations (plain math), properties, errors, self-check."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from kdcourse import losses as L

finite = st.floats(-20, 20, allow_nan=False, allow_infinity=False, width=32)
temps = st.floats(0.25, 10.0)
fast = settings(max_examples=40, deadline=None)  # no deadline: the test machines are shared


def logit_pairs(max_rows=5, max_classes=6):
    """Two (rows, classes) logit tables of the same shape, as nested lists."""
    return st.integers(1, max_rows).flatmap(
        lambda n: st.integers(2, max_classes).flatmap(
            lambda c: st.tuples(*[st.lists(st.lists(finite, min_size=c, max_size=c), min_size=n, max_size=n)] * 2)
        )
    )


def _softmax(row, T):
    m = max(x / T for x in row)
    exps = [math.exp(x / T - m) for x in row]
    return [e / sum(exps) for e in exps]


def _kl(p, q):
    return sum(pi * (math.log(pi) - math.log(qi)) for pi, qi in zip(p, q) if pi > 0)


def _ref_kd(s_rows, t_rows, T):
    """T² · mean over rows of Σ_c p_t (log p_t − log p_s), written out with math."""
    return T * T * sum(_kl(_softmax(t, T), _softmax(s, T)) for s, t in zip(s_rows, t_rows)) / len(s_rows)


def _ref_ce(s_rows, labels):
    return sum(-math.log(_softmax(s, 1.0)[y]) for s, y in zip(s_rows, labels)) / len(s_rows)


# --- soft targets -----------------------------------------------------------------------------


def test_soft_targets_temperature_limits():
    logits = torch.tensor([[3.0, 1.0, 0.2]])
    assert torch.allclose(L.soft_targets(logits, 1.0), torch.softmax(logits, -1))
    assert torch.allclose(L.soft_targets(logits, 1e4), torch.full((1, 3), 1 / 3), atol=1e-3)
    assert torch.allclose(L.soft_targets(logits, 1e-3), torch.tensor([[1.0, 0.0, 0.0]]))


@fast
@given(logit_pairs(), temps)
def test_soft_targets_match_math(pair, T):
    rows = pair[0]
    got = L.soft_targets(torch.tensor(rows), T).double()
    want = torch.tensor([_softmax(r, T) for r in rows], dtype=torch.float64)
    assert torch.allclose(got, want, atol=1e-5)


# --- kd_loss and distillation_loss -------------------------------------------------------------


@fast
@given(logit_pairs(), temps)
def test_kd_loss_matches_explicit_sum_and_is_nonnegative(pair, T):
    s, t = pair
    got = L.kd_loss(torch.tensor(s, dtype=torch.float64), torch.tensor(t, dtype=torch.float64), T).item()
    want = _ref_kd(s, t, T)
    assert got >= -1e-9
    assert math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9)


@fast
@given(logit_pairs(), temps, st.floats(-5, 5))
def test_kd_loss_zero_iff_same_distribution(pair, T, shift):
    s = torch.tensor(pair[0], dtype=torch.float64)
    # Adding a constant to every logit of a row leaves the softmax unchanged: still zero.
    assert abs(L.kd_loss(s, s + shift, T).item()) < 1e-9
    t = torch.tensor(pair[1], dtype=torch.float64)
    p_s, p_t = L.soft_targets(s, T), L.soft_targets(t, T)
    if (p_s - p_t).abs().max() > 1e-3:
        assert L.kd_loss(s, t, T).item() > 0


@fast
@given(logit_pairs(), temps)
def test_kd_gradient_is_T_times_prob_difference(pair, T):
    """d(T²·KL)/d(student logits) = T · (p_student_T − p_teacher_T) / batch: the T² keeps gradients O(1)."""
    s = torch.tensor(pair[0], dtype=torch.float64, requires_grad=True)
    t = torch.tensor(pair[1], dtype=torch.float64, requires_grad=True)
    L.kd_loss(s, t, T).backward()
    want = T * (torch.softmax(s.detach() / T, -1) - torch.softmax(t.detach() / T, -1)) / s.shape[0]
    assert torch.allclose(s.grad, want, atol=1e-9)
    assert t.grad is None or not t.grad.any(), "the teacher must receive no gradient"


def test_kd_loss_scales_with_T_squared():
    s, t = torch.tensor([[2.0, -1.0, 0.5]]), torch.tensor([[0.0, 1.0, 3.0]])
    for T in (1.0, 2.0, 5.0):
        kl = F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean")
        assert torch.allclose(L.kd_loss(s, t, T), kl * T**2)


@fast
@given(logit_pairs(), temps, st.floats(0, 1), st.data())
def test_distillation_loss_mixes_by_alpha(pair, T, alpha, data):
    s, t = pair
    labels = [data.draw(st.integers(0, len(s[0]) - 1)) for _ in s]
    S, Tt, y = torch.tensor(s, dtype=torch.float64), torch.tensor(t, dtype=torch.float64), torch.tensor(labels)
    got = L.distillation_loss(S, Tt, y, T, alpha).item()
    assert math.isclose(got, alpha * _ref_kd(s, t, T) + (1 - alpha) * _ref_ce(s, labels), rel_tol=1e-6, abs_tol=1e-9)
    assert math.isclose(L.distillation_loss(S, Tt, y, T, 0.0).item(), _ref_ce(s, labels), rel_tol=1e-6, abs_tol=1e-12)
    assert math.isclose(
        L.distillation_loss(S, Tt, y, T, 1.0).item(), L.kd_loss(S, Tt, T).item(), rel_tol=1e-9, abs_tol=1e-12
    )


# --- hidden states ---------------------------------------------------------------------------


def test_hidden_cosine_loss_values_and_padding():
    torch.manual_seed(0)
    h = torch.randn(2, 4, 8)
    mask = torch.tensor([[1, 1, 1, 0], [1, 1, 0, 0]])
    assert L.hidden_cosine_loss(h, h, mask).abs() < 1e-6
    assert torch.isclose(L.hidden_cosine_loss(-h, h, mask), torch.tensor(2.0))
    assert torch.isclose(L.hidden_cosine_loss(3 * h, h, mask), torch.tensor(0.0), atol=1e-6)
    other = h.clone()
    other[0, 3] = torch.randn(8)  # padding: must not change the loss
    other[1, 2:] = -h[1, 2:]
    assert torch.isclose(L.hidden_cosine_loss(other, h, mask), torch.tensor(0.0), atol=1e-6)
    cos = F.cosine_similarity(h[0, 0], -h[0, 0] + 0.1, dim=0)
    s = h.clone()
    s[0, 0] = -h[0, 0] + 0.1
    assert torch.isclose(L.hidden_cosine_loss(s, h, mask), (1 - cos) / 5, atol=1e-6)


# --- token level -----------------------------------------------------------------------------


def _token_setup():
    g = torch.Generator().manual_seed(0)
    s, t = (
        torch.randn(2, 5, 7, generator=g, dtype=torch.float64),
        torch.randn(2, 5, 7, generator=g, dtype=torch.float64),
    )
    labels = torch.randint(0, 7, (2, 5), generator=g)
    labels[0, :2] = L.IGNORE_INDEX
    mask = torch.ones(2, 5, dtype=torch.long)
    mask[1, 3:] = 0
    return s, t, labels, mask


def _ref_token(s, t, valid, T, kind, beta=0.5):
    vals = []
    for b, i in valid:
        p_s, p_t = _softmax(s[b, i].tolist(), T), _softmax(t[b, i].tolist(), T)
        if kind == "forward":
            vals.append(_kl(p_t, p_s))
        elif kind == "reverse":
            vals.append(_kl(p_s, p_t))
        else:
            m = [beta * a + (1 - beta) * c for a, c in zip(p_t, p_s)]
            vals.append(beta * _kl(p_t, m) + (1 - beta) * _kl(p_s, m))
    return T * T * sum(vals) / len(vals)


@pytest.mark.parametrize("kind", L.DIVERGENCES)
@pytest.mark.parametrize("T", [1.0, 2.5])
def test_token_kd_loss_matches_math_and_masks(kind, T):
    s, t, labels, mask = _token_setup()
    valid = [(b, i) for b in range(2) for i in range(5) if labels[b, i] != -100 and mask[b, i] == 1]
    got = L.token_kd_loss(s, t, labels, mask, temperature=T, divergence=kind, beta=0.3 if kind == "jsd" else 0.5)
    assert math.isclose(got.item(), _ref_token(s, t, valid, T, kind, 0.3), rel_tol=1e-9)
    s2 = s.clone()
    s2[0, :2] += 50.0  # ignored by labels
    s2[1, 3:] -= 50.0  # padding
    assert torch.isclose(L.token_kd_loss(s2, t, labels, mask, T, kind, 0.3), got)
    every = [(b, i) for b in range(2) for i in range(5)]
    assert math.isclose(
        L.token_kd_loss(s, t, temperature=T, divergence=kind, beta=0.3).item(),
        _ref_token(s, t, every, T, kind, 0.3),
        rel_tol=1e-9,
    )


def test_divergence_relations():
    s, t, _, _ = _token_setup()
    assert torch.allclose(L.reverse_kl(s, t), L.forward_kl(t, s))
    assert torch.allclose(L.generalized_jsd(s, t, 0.5), L.generalized_jsd(t, s, 0.5))
    assert (L.generalized_jsd(s, t, 0.5) <= math.log(2) + 1e-12).all()
    assert L.generalized_jsd(s, s, 0.2).abs().max() < 1e-12


def test_all_masked_is_refused():
    s, t, labels, mask = _token_setup()
    with pytest.raises(ValueError, match="no position left"):
        L.token_kd_loss(s, t, torch.full_like(labels, -100))


# --- errors ------------------------------------------------------------------------------------


def _x(*shape):
    return torch.zeros(*shape)


@pytest.mark.parametrize(
    "call, exc, message",
    [
        (lambda: L.kd_loss(_x(2, 3), _x(2, 3), -1), ValueError, r"temperature must be > 0, got -1"),
        (lambda: L.soft_targets(_x(2, 3), 0), ValueError, r"temperature must be > 0, got 0"),
        (lambda: L.kd_loss(_x(2, 3), _x(2, 3), float("nan")), ValueError, r"temperature must be > 0, got nan"),
        (lambda: L.kd_loss(_x(2, 3), _x(2, 3), "2"), TypeError, r"temperature must be a number"),
        (
            lambda: L.distillation_loss(_x(2, 3), _x(2, 3), torch.tensor([0, 1]), alpha=1.5),
            ValueError,
            r"alpha must be in \[0, 1\], got 1.5",
        ),
        (
            lambda: L.distillation_loss(_x(2, 3), _x(2, 3), torch.tensor([0, 1]), alpha=-0.1),
            ValueError,
            r"alpha must be in \[0, 1\], got -0.1",
        ),
        (lambda: L.kd_loss(_x(2, 3), _x(2, 4)), ValueError, r"class count differs: student_logits has 3"),
        (lambda: L.kd_loss(_x(2, 3), _x(4, 3)), ValueError, r"shape mismatch: student_logits \(2, 3\)"),
        (
            lambda: L.kd_loss(_x(2, 3), torch.tensor([[0.0, float("nan"), 0.0], [0.0, 0.0, 0.0]])),
            ValueError,
            r"teacher_logits contains 1 NaN or inf",
        ),
        (
            lambda: L.kd_loss(torch.tensor([[float("inf"), 0.0]]), _x(1, 2)),
            ValueError,
            r"student_logits contains 1 NaN",
        ),
        (lambda: L.kd_loss([[0.0, 1.0]], _x(1, 2)), TypeError, r"must be a torch.Tensor, got list"),
        (lambda: L.kd_loss(torch.zeros(2, 3, dtype=torch.long), _x(2, 3)), TypeError, r"float tensor"),
        (lambda: L.kd_loss(_x(2, 3, 4), _x(2, 3, 4)), ValueError, r"use token_kd_loss"),
        (lambda: L.distillation_loss(_x(2, 3), _x(2, 3), torch.tensor([0, 3])), ValueError, r"in \[0, 3\)"),
        (lambda: L.distillation_loss(_x(2, 3), _x(2, 3), torch.tensor([0.0, 1.0])), TypeError, r"integer"),
        (lambda: L.distillation_loss(_x(2, 3), _x(2, 3), torch.tensor([0, 1, 1])), ValueError, r"one label"),
        (lambda: L.hidden_cosine_loss(_x(1, 2, 4), _x(1, 2, 8)), ValueError, r"nn.Linear projection"),
        (
            lambda: L.hidden_cosine_loss(_x(1, 2, 4), _x(1, 2, 4), torch.ones(1, 3)),
            ValueError,
            r"attention_mask has shape \(1, 3\)",
        ),
        (
            lambda: L.token_kd_loss(_x(1, 2, 4), _x(1, 2, 4), divergence="kl"),
            ValueError,
            r"divergence must be one of forward, reverse, jsd, got 'kl'",
        ),
        (lambda: L.generalized_jsd(_x(1, 4), _x(1, 4), beta=1), ValueError, r"use forward_kl / reverse_kl"),
        (lambda: L.generalized_jsd(_x(1, 4), _x(1, 4), beta=1.5), ValueError, r"beta must be in \(0, 1\)"),
    ],
)
def test_clear_errors(call, exc, message):
    with pytest.raises(exc, match=message):
        call()
