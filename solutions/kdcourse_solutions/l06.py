"""Lesson 06's worked solutions, one per exercise (the code a student would write)."""

SOLUTIONS = {
    "reverse_kl": """
def reverse_kl_by_hand(student_logits, teacher_logits):
    log_s = F.log_softmax(student_logits, dim=-1)
    log_t = F.log_softmax(teacher_logits, dim=-1)
    return (log_s.exp() * (log_s - log_t)).sum(-1)   # KL(student || teacher): weighted by the student
""",
    "topk_mass": """
masses = [values.exp().sum(-1)[batch["attention_mask"].bool()] for (values, ids), batch
          in zip(sample_topk, sample_batches)]
answer = torch.cat(masses).mean().item()
""",
    "full_logits_mb": """
answer = sum(b["input_ids"].numel() for b in sample_batches) * vocab * 4 / 1e6
""",
    "perplexity": """
answer = math.exp(5.0)
""",
}
