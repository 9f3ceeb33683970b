"""Lesson 00's worked solutions, one per exercise (the code a student would write)."""

SOLUTIONS = {
    "majority_baseline": """
labels = list(reviews["test"]["label"])
answer = max(labels.count(0), labels.count(1)) / len(labels)
""",
    "profile_choice": """
import math

p = 0.8
for name, prof in kdcourse.PROFILES.items():
    n = prof.test_size or len(reviews["test"])  # None: the whole test split
    print(f"{name}: device {prof.device}, {n} test snippets, +/- {1.96 * math.sqrt(p * (1 - p) / n):.3f}")
answer = "cpu"  # smoke's 256 snippets give +/- 0.049; gpu needs a CUDA GPU
""",
}
