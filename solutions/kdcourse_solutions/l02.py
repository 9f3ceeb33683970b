"""Lesson 02's worked solutions, one per exercise (the code a student would write)."""

SOLUTIONS = {
    "soft_targets": """
def my_soft_targets(logits, T):
    z = logits / T
    z = z - z.max(dim=-1, keepdim=True).values   # subtracting the max avoids exp() overflow
    e = torch.exp(z)
    return e / e.sum(dim=-1, keepdim=True)
# (or simply: torch.softmax(logits / T, dim=-1))
""",
    "temperature_for_top": """
# Two classes: p_top = 1 / (1 + exp(-gap / T)) < 0.6  <=>  T > gap / log(0.6 / 0.4)
gap = (sure_logits.max() - sure_logits.min()).item()
answer = 1.01 * gap / math.log(0.6 / 0.4)   # any T above the threshold works
# Any number of classes: search, since the top probability falls as T grows
lo, hi = 1e-3, 1e3
for _ in range(60):
    mid = (lo * hi) ** 0.5
    lo, hi = (mid, hi) if losses.soft_targets(sure_logits[None], mid).max() >= 0.6 else (lo, mid)
print(f"threshold by formula {gap / math.log(1.5):.4f}, by search {hi:.4f}")
""",
    "fix_kd_loss": """
def fixed_loss(student_logits, teacher_logits, labels, temperature=2.0, alpha=0.5):
    T = temperature
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=-1),   # log-probs for the student
                    F.softmax(teacher_logits / T, dim=-1),       # probs for the teacher
                    reduction="batchmean") * T**2                # batchmean and T²
    hard = F.cross_entropy(student_logits, labels)
    return alpha * soft + (1 - alpha) * hard
l02.check_kd_loss(fixed_loss)
""",
}
