"""Hidden tests of the classroom autograder: the function exercises probed on inputs their public check never
shows (other shapes, seeds, temperatures, ties), against the course's own implementation.

Each entry is the body of a test `def test(env):` that otter runs after the public check; it is worth one of
the question's points and the student never sees it (it is in the autograder, not in the student copy).
A function that passes the public check only because it fits its probes (a softmax over dim 1 rather than the
last one, a mask ignored on the public lengths) loses that point here.
"""

HIDDEN: dict[str, str] = {
    "soft_targets": """
import torch
g = torch.Generator().manual_seed(20261203)
logits = torch.randn(2, 5, 7, generator=g) * 4  # (batch, tokens, classes): classes are the last dim
for T in (0.3, 3.0):
    got = env["my_soft_targets"](logits.clone(), T)
    assert torch.allclose(got, torch.softmax(logits / T, dim=-1), atol=1e-5), (
        f"on 3-D logits (batch, tokens, classes) at T={T} your probabilities differ from softmax(logits / T) "
        "over the last dim"
    )
""",
    "fix_kd_loss": """
import torch
from kdcourse.losses import distillation_loss
g = torch.Generator().manual_seed(20261203)
s, t = torch.randn(6, 5, generator=g) * 2, torch.randn(6, 5, generator=g) * 2
y = torch.randint(0, 5, (6,), generator=g)
for T, alpha in ((4.0, 0.3), (1.5, 0.9)):
    got = float(env["fixed_loss"](s.clone(), t.clone(), y.clone(), temperature=T, alpha=alpha))
    want = float(distillation_loss(s, t, y, T, alpha))
    assert abs(got - want) <= 1e-4 * abs(want), f"5 classes, T={T}, alpha={alpha}: got {got:.5f}, want {want:.5f}"
""",
    "masked_cosine": """
import torch
import torch.nn.functional as F
g = torch.Generator().manual_seed(20261203)
s, t = torch.randn(3, 6, 8, generator=g), torch.randn(3, 6, 8, generator=g)
mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0]])  # one row a single token
want = (1 - F.cosine_similarity(s, t, dim=-1))[mask.bool()].mean()
got = env["masked_cosine"](s.clone(), t.clone(), mask.clone())
assert torch.allclose(torch.as_tensor(got, dtype=want.dtype), want, atol=1e-5), (
    f"rows of 6, 1 and 3 real tokens: got {float(got):.5f}, want {float(want):.5f} (the mean over real tokens)"
)
""",
    "reverse_kl": """
import torch
import torch.nn.functional as F
g = torch.Generator().manual_seed(20261203)
s, t = torch.randn(2, 4, 11, generator=g) * 3, torch.randn(2, 4, 11, generator=g) * 3  # (batch, tokens, vocab)
log_s, log_t = F.log_softmax(s, -1), F.log_softmax(t, -1)
want = (log_s.exp() * (log_s - log_t)).sum(-1)
got = env["reverse_kl_by_hand"](s.clone(), t.clone())
assert isinstance(got, torch.Tensor) and got.shape == want.shape, (
    f"on (batch, tokens, vocab) logits return one value per position, shape {tuple(want.shape)}"
)
assert torch.allclose(got, want, atol=1e-5), "on (batch, tokens, vocab) logits your KL(student || teacher) differs"
""",
    "pareto_front": """
from kdcourse.lessons.l07 import pareto_front
cases = [
    {"x": (1.0, 0.50), "y": (0.5, 0.90), "z": (3.0, 0.95), "w": (3.0, 0.90)},  # w: as slow as z, less accurate
    {"a": (2.0, 0.80), "b": (2.0, 0.80), "c": (9.0, 0.81)},  # a and b tie: neither beats the other
]
for points in cases:
    got, want = env["my_pareto_front"](dict(points)), pareto_front(points)
    assert list(got) == want, f"on {points} got {list(got)}, want {want} (fastest first)"
""",
}
