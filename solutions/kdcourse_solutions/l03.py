"""Lesson 03's worked solutions, one per exercise (the code a student would write)."""

SOLUTIONS = {
    "distill_step": """
def distill_step(student, teacher, batch, optimizer, temperature, alpha):
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    teacher.eval()                                   # no dropout in the teacher
    with torch.no_grad():                            # no graph, no gradients for the teacher
        teacher_logits = teacher(**inputs).logits
    student_logits = student(**inputs).logits
    T = temperature
    soft = F.kl_div(F.log_softmax(student_logits / T, dim=-1), F.softmax(teacher_logits / T, dim=-1),
                    reduction="batchmean") * T**2
    hard = F.cross_entropy(student_logits, batch["labels"])
    loss = alpha * soft + (1 - alpha) * hard         # alpha weighs the teacher
    loss.backward()
    optimizer.step()                                 # the optimizer holds only the student's parameters
    optimizer.zero_grad()
    return loss.item()
""",
    "standard_error": """
p, n = results["student, distilled"]["accuracy"], n_test
answer = (p * (1 - p) / n) ** 0.5
""",
    "important_knob": """
shares = l03.importances(study)  # the numbers behind the plot's bars: each knob's share
answer = max(shares, key=shares.get)
""",
}
